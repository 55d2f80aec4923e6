package ipvsmode

import "github.com/kproxy/kproxy/proxy/iptables"

// The chains the mode owns, with upstream's names.
const (
	chainServices      = "KUBE-SERVICES"
	chainPostrouting   = "KUBE-POSTROUTING"
	chainNodePort      = "KUBE-NODE-PORT"
	chainLoadBalancer  = "KUBE-LOAD-BALANCER"
	chainMarkMasq      = "KUBE-MARK-MASQ"
	chainForward       = "KUBE-FORWARD"
	chainProxyFirewall = "KUBE-PROXY-FIREWALL"
	chainSourceRanges  = "KUBE-SOURCE-RANGES-FIREWALL"
	chainIPVSFilter    = "KUBE-IPVS-FILTER"
	chainIPVSOutFilter = "KUBE-IPVS-OUT-FILTER"
)

// ownedChains are the chains of each table, written whole at every rules update.
var ownedChains = []struct {
	table  iptables.Table
	chains []string
}{
	{iptables.TableNAT, []string{chainServices, chainPostrouting, chainNodePort, chainLoadBalancer, chainMarkMasq}},
	{iptables.TableFilter, []string{chainForward, chainNodePort, chainProxyFirewall, chainSourceRanges, chainIPVSFilter, chainIPVSOutFilter}},
}

// jump is a rule in a built-in chain sending packets into one of the mode's.
type jump struct {
	table    iptables.Table
	from, to string
	comment  string
}

// jumps are upstream's, with its comments word for word so either can clean up
// after the other. Each is inserted at the top of its chain; the later ones end
// up first.
var jumps = []jump{
	{iptables.TableNAT, iptables.ChainOutput, chainServices, "kubernetes service portals"},
	{iptables.TableNAT, iptables.ChainPrerouting, chainServices, "kubernetes service portals"},
	{iptables.TableNAT, iptables.ChainPostrouting, chainPostrouting, "kubernetes postrouting rules"},
	{iptables.TableFilter, iptables.ChainForward, chainForward, "kubernetes forwarding rules"},
	{iptables.TableFilter, iptables.ChainInput, chainNodePort, "kubernetes health check rules"},
	{iptables.TableFilter, iptables.ChainInput, chainProxyFirewall, "kube-proxy firewall rules"},
	{iptables.TableFilter, iptables.ChainForward, chainProxyFirewall, "kube-proxy firewall rules"},
	{iptables.TableFilter, iptables.ChainInput, chainIPVSFilter, "kubernetes ipvs access filter"},
	{iptables.TableFilter, iptables.ChainOutput, chainIPVSOutFilter, "kubernetes ipvs access filter"},
}

// args returns the jump's rule as iptables arguments after the chain name.
func (j jump) args() []string { return []string{"-m", "comment", "--comment", j.comment, "-j", j.to} }
