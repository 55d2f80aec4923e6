package iptablesmode

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// ownedChains are the fixed-name chains kproxy creates in each table; per-service
// nat chains are recognised by their prefixes (isServiceChain). KUBE-FIREWALL is not
// among them: kubelet writes the same chain.
var ownedChains = map[string][]string{
	"nat":    {chainServices, chainNodePorts, chainPostrouting, chainMarkMasq, chainCanary},
	"filter": {chainServices, chainExternalServices, chainForward, chainNodePorts, chainProxyFirewall, chainCanary},
	"mangle": {chainCanary},
}

// Cleanup removes every chain and rule kproxy (or kube-proxy's iptables mode) owns
// in this family: the jumps from built-in chains into them, then the chains. It
// reads the tables, so it works without the state of a previous run. A chain that
// some foreign chain still jumps to is emptied but kept (KUBE-MARK-MASQ is then left
// whole), and logged.
func (b *Backend) Cleanup(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.trusted = nil, false
	ipt, err := b.runner(ctx)
	if err != nil {
		return err
	}
	var payload lineBuf
	for _, table := range []string{"filter", "nat", "mangle"} {
		out, err := ipt.Save(ctx, iptables.Table(table))
		if err != nil {
			return fmt.Errorf("iptables %s: reading the %s table: %w", b.cfg.family, table, err)
		}
		cleanupTable(&payload, table, parseSave(out, table))
	}
	if payload.Len() == 0 {
		return nil
	}
	if err := ipt.Restore(ctx, payload.Bytes()); err != nil {
		return fmt.Errorf("iptables %s: cleaning up: %w", b.cfg.family, err)
	}
	return nil
}

// cleanupTable writes the section removing kproxy's chains from one saved table.
func cleanupTable(b *lineBuf, table string, saved savedTable) {
	owned := map[string]bool{}
	for _, c := range saved.chains {
		if slices.Contains(ownedChains[table], c) || (table == "nat" && isServiceChain(c)) {
			owned[c] = true
		}
	}
	if len(owned) == 0 {
		return
	}
	var deletes []savedRule
	pinned := map[string]bool{}
	for _, r := range saved.rules {
		if !owned[r.target] || owned[r.chain] {
			continue
		}
		if isBuiltin(r.chain) {
			deletes = append(deletes, r)
		} else {
			pinned[r.target] = true
			klog.InfoS("Chain still used by a foreign chain, not deleting it", "table", table, "chain", r.target, "usedBy", r.chain)
		}
	}
	b.WriteString("*" + table + "\n")
	for _, c := range saved.chains {
		if owned[c] && !(pinned[c] && c == chainMarkMasq) {
			b.chainLine(c)
		}
	}
	for _, r := range deletes {
		b.op("-D", r.chain, r.spec)
	}
	for _, c := range saved.chains {
		if owned[c] && !pinned[c] {
			b.op("-X", c, "")
		}
	}
	b.WriteString("COMMIT\n")
}

// isBuiltin reports whether chain is one of the kernel's built-in chains.
func isBuiltin(chain string) bool {
	switch chain {
	case "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING":
		return true
	}
	return false
}
