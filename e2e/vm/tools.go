package vm

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// guestTool is a host program copied into the guest with its libraries.
type guestTool struct {
	host     string   // host path; a relative one is under the userland dir
	guest    string   // where the guest finds it
	links    []string // more names for it in the same guest directory
	optional bool     // skipped, not an error, when the host lacks it
}

// guestTools are the Debian programs kproxy drives or tests inspect.
// `iptables` is the nft variant, as on a default Debian host. /bin/sh is
// Debian's dash: busybox's shell runs its own applet for any name it knows
// (its `ip` has no `netns`) whatever PATH says; dash follows PATH.
var guestTools = []guestTool{
	{host: "/usr/bin/dash", guest: "/bin/dash", links: []string{"sh"}},
	{host: "/usr/sbin/xtables-nft-multi", guest: "/usr/sbin/xtables-nft-multi", links: []string{
		"iptables", "iptables-save", "iptables-restore",
		"ip6tables", "ip6tables-save", "ip6tables-restore",
		"iptables-nft", "iptables-nft-save", "iptables-nft-restore",
		"ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore",
	}},
	{host: "/usr/sbin/xtables-legacy-multi", guest: "/usr/sbin/xtables-legacy-multi", links: []string{
		"iptables-legacy", "iptables-legacy-save", "iptables-legacy-restore",
		"ip6tables-legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore",
	}},
	{host: "/usr/sbin/ipset", guest: "/usr/sbin/ipset"},
	{host: "/usr/bin/ip", guest: "/usr/sbin/ip"},
	{host: "sbin/ipvsadm", guest: "/usr/sbin/ipvsadm"},
	{host: "/usr/sbin/conntrack", guest: "/usr/sbin/conntrack", optional: true},
}

// xtablesDir holds iptables' extension plugins, on the host and the guest.
const xtablesDir = "/usr/lib/x86_64-linux-gnu/xtables"

// addTools copies guestTools and iptables' plugins with every library they
// load, and returns the command names they provide.
func addTools(t tree, libs libResolver, userland string) (map[string]bool, error) {
	names := map[string]bool{}
	var elves []string
	for _, tool := range guestTools {
		host := tool.host
		if !filepath.IsAbs(host) {
			host = filepath.Join(userland, host)
		}
		if _, err := os.Stat(host); err != nil {
			if tool.optional {
				continue
			}
			return nil, fmt.Errorf("guest tool missing (run hack/vm/install.sh): %w", err)
		}
		t.addFile(tool.guest, host, 0o755)
		names[path.Base(tool.guest)] = true
		for _, l := range tool.links {
			t.addLink(path.Join(path.Dir(tool.guest), l), path.Base(tool.guest))
			names[l] = true
		}
		elves = append(elves, host)
	}
	plugins, _ := filepath.Glob(filepath.Join(xtablesDir, "*.so"))
	for _, p := range plugins {
		t.addFile(p, p, 0o644)
	}
	elves = append(elves, plugins...)
	return names, libs.addLibraries(t, elves...)
}

// addBusybox adds busybox (static as a rule, but its libraries are copied
// if it is not) and a link for each of its applets, except those a Debian
// tool in the image already provides.
func addBusybox(t tree, libs libResolver, taken map[string]bool) error {
	out, err := exec.Command(busyboxBinary, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("listing busybox applets (is busybox-static installed?): %w", err)
	}
	t.addFile("/bin/busybox", busyboxBinary, 0o755)
	for _, applet := range strings.Fields(string(out)) {
		if taken[path.Base(applet)] || applet == "bin/busybox" {
			continue
		}
		t.addLink("/"+applet, "/bin/busybox")
	}
	return libs.addLibraries(t, busyboxBinary)
}
