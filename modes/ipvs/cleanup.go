package ipvsmode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Cleanup removes what IPVS mode installs in this family, from well-known names
// and without the state of a previous run: the virtual servers (but those in the
// excluded ranges), the jumps and chains, the ipsets and kube-ipvs0. It goes on
// after a failure and returns every error.
func (b *Backend) Cleanup(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st = nil
	b.term = terminations{}
	var errs []error
	errs = append(errs, b.cleanupServices())
	errs = append(errs, b.cleanupRules(ctx))
	errs = append(errs, b.cleanupSets(ctx)...)
	if err := b.opts.Netlink.DeleteDummy(DummyDevice); err != nil {
		errs = append(errs, fmt.Errorf("deleting %s: %w", DummyDevice, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ipvs %s cleanup: %w", b.c.family, err)
	}
	return nil
}

// cleanupServices deletes the virtual servers of the family outside the excluded
// ranges.
func (b *Backend) cleanupServices() error {
	svcs, err := b.opts.IPVS.GetServices()
	if err != nil {
		return fmt.Errorf("listing virtual servers: %w", err)
	}
	var errs []error
	for _, svc := range svcs {
		if key, ok := b.c.ownKey(svc); ok {
			if err := b.opts.IPVS.DelService(svc); err != nil {
				errs = append(errs, fmt.Errorf("deleting virtual server %s: %w", key, err))
			}
		}
	}
	return errors.Join(errs...)
}

// cleanupRules deletes the jumps, then every owned chain no foreign chain jumps to,
// in one iptables-restore. A chain still used (KUBE-MARK-MASQ by the iptables
// mode's chains) is left whole, for its owner's cleanup.
func (b *Backend) cleanupRules(ctx context.Context) error {
	ipt := b.opts.IPTables
	for _, j := range jumps {
		if err := ipt.DeleteRule(ctx, j.table, j.from, j.args()...); err != nil {
			return fmt.Errorf("deleting the jump from %s/%s: %w", j.table, j.from, err)
		}
	}
	b.payload.Reset()
	for _, t := range ownedChains {
		saved, err := ipt.Save(ctx, t.table)
		if err != nil {
			return fmt.Errorf("reading the %s table: %w", t.table, err)
		}
		exist, used := chainsIn(string(saved), t.chains)
		for _, ch := range t.chains {
			switch {
			case !exist[ch]:
			case used[ch]:
				klog.InfoS("Chain still used by a foreign chain, not deleting it", "table", t.table, "chain", ch)
			default:
				b.payload.DeleteChain(t.table, ch)
			}
		}
	}
	if b.payload.Empty() {
		return nil
	}
	payload, err := b.payload.Bytes()
	if err == nil {
		err = ipt.Restore(ctx, payload)
	}
	if err != nil {
		return fmt.Errorf("deleting chains: %w", err)
	}
	return nil
}

// chainsIn reads iptables-save text: which of owned exist, and which of them a
// chain outside owned and the built-in ones jumps to.
func chainsIn(saved string, owned []string) (exist, used map[string]bool) {
	exist, used = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(saved, "\n") {
		if name, ok := strings.CutPrefix(line, ":"); ok {
			exist[strings.Fields(name + " ")[0]] = true
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "-A" || slices.Contains(owned, fields[1]) || isBuiltin(fields[1]) {
			continue
		}
		for i := 2; i+1 < len(fields); i++ {
			if (fields[i] == "-j" || fields[i] == "-g") && slices.Contains(owned, fields[i+1]) {
				used[fields[i+1]] = true
			}
		}
	}
	return exist, used
}

func isBuiltin(chain string) bool {
	switch chain {
	case iptables.ChainPrerouting, iptables.ChainInput, iptables.ChainForward, iptables.ChainOutput, iptables.ChainPostrouting:
		return true
	}
	return false
}

// cleanupSets destroys the family's sets that exist, one batch each so a set still
// in use does not keep the others.
func (b *Backend) cleanupSets(ctx context.Context) []error {
	sets, err := b.opts.IPSet.List(ctx)
	if err != nil {
		return []error{fmt.Errorf("listing ipsets: %w", err)}
	}
	var errs []error
	for _, set := range sets {
		if !slices.ContainsFunc(b.c.sets[:], func(s ipset.Set) bool { return s.Name == set.Name }) {
			continue
		}
		b.batch.Reset()
		b.batch.Destroy(set.Name)
		if err := b.opts.IPSet.Apply(ctx, &b.batch); err != nil {
			errs = append(errs, fmt.Errorf("destroying ipset %s: %w", set.Name, err))
		}
	}
	return errs
}
