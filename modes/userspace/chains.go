package userspace

import (
	"context"
	"errors"
	"fmt"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// The chains of the userspace mode, named as kube-proxy's userspace mode named
// them, so that --cleanup also removes what an old kube-proxy left.
const (
	// chainPortalsContainer (nat, from PREROUTING) sends traffic arriving from pods
	// and other hosts to cluster, external and load-balancer IPs to the listeners.
	chainPortalsContainer = "KUBE-PORTALS-CONTAINER"
	// chainPortalsHost (nat, from OUTPUT) does the same for the node's own traffic.
	chainPortalsHost = "KUBE-PORTALS-HOST"
	// chainNodePortContainer (nat, from PREROUTING for local destinations) sends
	// arriving node port traffic to the listeners.
	chainNodePortContainer = "KUBE-NODEPORT-CONTAINER"
	// chainNodePortHost (nat, from OUTPUT for local destinations) does the same for
	// the node's own traffic.
	chainNodePortHost = "KUBE-NODEPORT-HOST"
	// chainNodePortNonLocal (filter, from INPUT) accepts new node port connections
	// on their way to a listener, in spite of a default-deny INPUT.
	chainNodePortNonLocal = "KUBE-NODEPORT-NON-LOCAL"
)

// chain is one of the mode's chains.
type chain struct {
	table iptables.Table
	name  string
}

// chains lists the mode's chains in the order they are declared.
func chains() []chain {
	return []chain{
		{iptables.TableNAT, chainPortalsContainer},
		{iptables.TableNAT, chainPortalsHost},
		{iptables.TableNAT, chainNodePortContainer},
		{iptables.TableNAT, chainNodePortHost},
		{iptables.TableFilter, chainNodePortNonLocal},
	}
}

// jump is a rule in a built-in chain that sends packets into one of ours.
type jump struct {
	table iptables.Table
	chain string
	pos   iptables.Position
	args  []string
}

// Comments of the jumps, word for word kube-proxy's userspace mode's.
const (
	commentPortals  = "handle ClusterIPs; NOTE: this must be before the NodePort rules"
	commentNodePort = "handle service NodePorts; NOTE: this must be the last rule in the chain"
	commentNonLocal = "Ensure that non-local NodePort traffic can flow"
)

// jumps returns the jumps from built-in chains. Portals come first in PREROUTING
// and OUTPUT; node ports match any local destination with the port, so they come
// last, after the rules of other programs, and after the portals, which a
// load-balancer IP routed locally must reach first.
func jumps() []jump {
	portals := func(target string) []string {
		return []string{"-m", "comment", "--comment", commentPortals, "-j", target}
	}
	nodePorts := func(target string) []string {
		return []string{"-m", "addrtype", "--dst-type", "LOCAL", "-m", "comment", "--comment", commentNodePort, "-j", target}
	}
	return []jump{
		{iptables.TableNAT, iptables.ChainPrerouting, iptables.Prepend, portals(chainPortalsContainer)},
		{iptables.TableNAT, iptables.ChainOutput, iptables.Prepend, portals(chainPortalsHost)},
		{iptables.TableNAT, iptables.ChainPrerouting, iptables.Append, nodePorts(chainNodePortContainer)},
		{iptables.TableNAT, iptables.ChainOutput, iptables.Append, nodePorts(chainNodePortHost)},
		{iptables.TableFilter, iptables.ChainInput, iptables.Prepend,
			[]string{"-m", "comment", "--comment", commentNonLocal, "-j", chainNodePortNonLocal}},
	}
}

// ensureChains creates the chains, keeping the rules of existing ones.
func ensureChains(ctx context.Context, ipt iptables.Restorer) error {
	for _, c := range chains() {
		if _, err := ipt.EnsureChain(ctx, c.table, c.name); err != nil {
			return err
		}
	}
	return nil
}

// ensureJumps adds the jumps that are missing. The chains must exist.
func ensureJumps(ctx context.Context, ipt iptables.Restorer) error {
	for _, j := range jumps() {
		if _, err := ipt.EnsureRule(ctx, j.pos, j.table, j.chain, j.args...); err != nil {
			return fmt.Errorf("adding the jump from %s %s: %w", j.table, j.chain, err)
		}
	}
	return nil
}

// removeAll deletes the jumps and then the chains; what is already gone is not an
// error. It goes on after an error and returns them all.
func removeAll(ctx context.Context, ipt iptables.Restorer) error {
	var errs []error
	for _, j := range jumps() {
		if err := ipt.DeleteRule(ctx, j.table, j.chain, j.args...); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range chains() {
		if err := ipt.DeleteChain(ctx, c.table, c.name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
