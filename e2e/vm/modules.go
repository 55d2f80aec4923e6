package vm

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultModules are the kernel modules every guest loads at boot: IPVS and
// its schedulers, conntrack and NAT, ipsets, the iptables (nft and legacy)
// and nftables pieces kube-proxy style rules use, and the links tests build
// (dummy, veth, bridge). Entries may be shell globs over module names.
// Dependencies are added from modules.dep.
var DefaultModules = []string{
	// libcrc32c asks the crypto API for crc32c when it loads: provide one.
	"crc32c_generic", "crc32c-intel",
	// IPVS.
	"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc",
	"ip_vs_lblcr", "ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_mh",
	"ip_vs_fo", "ip_vs_ovf",
	// Conntrack and NAT.
	"nf_conntrack", "nf_conntrack_netlink", "nf_nat", "nf_defrag_ipv4",
	"nf_defrag_ipv6", "libcrc32c",
	// Links.
	"dummy", "veth", "bridge", "br_netfilter", "stp", "llc",
	// ipset.
	"ip_set", "ip_set_*", "xt_set",
	// nftables, as iptables-nft drives it.
	"nfnetlink", "nf_tables", "nft_compat", "nft_chain_nat", "nft_nat",
	"nft_masq", "nft_redir", "nft_ct", "nft_limit", "nft_numgen", "nft_hash",
	"nft_fib", "nft_fib_ipv4", "nft_fib_ipv6", "nft_fib_inet", "nft_reject",
	"nft_reject_ipv4", "nft_reject_ipv6", "nft_reject_inet", "nft_log",
	// iptables (legacy tables too) and the matches/targets kube-proxy uses.
	"x_tables", "ip_tables", "iptable_filter", "iptable_nat", "iptable_mangle",
	"iptable_raw", "ip6_tables", "ip6table_filter", "ip6table_nat",
	"ip6table_mangle", "ip6table_raw", "xt_MASQUERADE", "xt_mark",
	"xt_comment", "xt_addrtype", "xt_conntrack", "xt_state", "xt_nat",
	"xt_tcpudp", "xt_statistic", "xt_recent", "xt_multiport", "xt_physdev",
	"xt_REDIRECT", "xt_CT", "xt_LOG", "xt_ipvs", "xt_NFLOG", "ipt_REJECT",
	"ip6t_REJECT", "nf_reject_ipv4", "nf_reject_ipv6",
	// The NIC QEMU's user network is attached to.
	"virtio_pci", "virtio_net",
}

// moduleDB is what modules.dep and modules.builtin say about a kernel.
type moduleDB struct {
	paths   map[string]string   // module name -> path relative to the modules dir
	deps    map[string][]string // module name -> names of the modules it needs
	builtin map[string]bool     // names of modules compiled into the kernel
}

// moduleName turns "kernel/net/x/ip_vs_rr.ko" into "ip_vs_rr"; dashes and
// underscores are the same to the kernel, so names use underscores.
func moduleName(p string) string {
	base := path.Base(p)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// loadModuleDB reads modules.dep and modules.builtin from dir, the
// lib/modules/<release> directory of a kernel.
func loadModuleDB(dir string) (*moduleDB, error) {
	db := &moduleDB{paths: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	err := eachLine(filepath.Join(dir, "modules.dep"), func(line string) {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			return
		}
		name := moduleName(mod)
		db.paths[name] = mod
		for _, d := range strings.Fields(deps) {
			db.deps[name] = append(db.deps[name], moduleName(d))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading modules.dep (run depmod, see hack/vm/install.sh): %w", err)
	}
	err = eachLine(filepath.Join(dir, "modules.builtin"), func(line string) {
		db.builtin[moduleName(line)] = true
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return db, nil
}

// eachLine calls fn with every non-empty line of a file.
func eachLine(file string, fn func(string)) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" {
			fn(line)
		}
	}
	return s.Err()
}

// resolve expands the wanted names and globs and returns the module names
// to load: in the wanted order, each preceded by its dependencies. Wanted
// modules built into the kernel are skipped; a name that matches nothing
// at all is an error.
func (db *moduleDB) resolve(wanted []string) ([]string, error) {
	var roots, missing []string
	for _, w := range wanted {
		w = strings.ReplaceAll(w, "-", "_")
		var names []string
		for name := range db.paths {
			if ok, _ := path.Match(w, name); ok {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		roots = append(roots, names...)
		if len(names) == 0 && !db.builtin[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("kernel modules not found (neither modules.dep nor modules.builtin): %s",
			strings.Join(missing, ", "))
	}
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		deps := append([]string(nil), db.deps[name]...)
		sort.Strings(deps)
		for _, d := range deps {
			visit(d)
		}
		order = append(order, name)
	}
	for _, r := range roots {
		visit(r)
	}
	return order, nil
}
