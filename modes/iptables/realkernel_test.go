package iptablesmode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// realVariants returns the iptables variants whose binaries this machine has.
func realVariants(tb testing.TB) []iptables.Variant {
	var out []iptables.Variant
	for _, v := range []iptables.Variant{iptables.VariantNFT, iptables.VariantLegacy} {
		if _, err := exec.LookPath(v.Binaries(iptables.IPv4).Restore); err == nil {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		tb.Skip("no iptables binaries")
	}
	return out
}

// realDump returns the kernel's filter, nat and mangle tables in the fake's Dump
// form, both canonicalised by canonical.
func realDump(t *testing.T, c *iptables.Client) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []iptables.Table{iptables.TableFilter, iptables.TableNAT, iptables.TableMangle} {
		out, err := c.Save(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(out)
	}
	return canonical(b.String())
}

var counters = regexp.MustCompile(`\[[0-9]+:[0-9]+\]`)

// canonical puts iptables-save text in one order whatever the variant printed:
// per table, chain declarations sorted, then each chain's rules in order, chains
// sorted; tables holding nothing but empty accepting built-in chains are left out.
func canonical(save string) string {
	type table struct {
		decls []string
		rules map[string][]string
	}
	var names []string
	tables := map[string]*table{}
	var cur *table
	sc := bufio.NewScanner(strings.NewReader(save))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line == "COMMIT":
		case line[0] == '*':
			cur = &table{rules: map[string][]string{}}
			names = append(names, line[1:])
			tables[line[1:]] = cur
		case line[0] == ':':
			cur.decls = append(cur.decls, counters.ReplaceAllString(line, "[0:0]"))
		case strings.HasPrefix(line, "-A "):
			chain, _, _ := strings.Cut(line[3:], " ")
			cur.rules[chain] = append(cur.rules[chain], line)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		t := tables[name]
		pristine := len(t.rules) == 0
		for _, d := range t.decls {
			pristine = pristine && strings.Contains(d, " ACCEPT ")
		}
		if pristine {
			continue
		}
		slices.Sort(t.decls)
		b.WriteString("*" + name + "\n" + strings.Join(t.decls, "\n") + "\n")
		chains := make([]string, 0, len(t.rules))
		for c := range t.rules {
			chains = append(chains, c)
		}
		slices.Sort(chains)
		for _, c := range chains {
			b.WriteString(strings.Join(t.rules[c], "\n") + "\n")
		}
	}
	return b.String()
}

// TestRealKernelMatchesFake programs the standard scenario into the kernel and into
// the fake, for each variant and family, then changes it with a partial sync: the
// kernel must accept every payload and end up holding what the fake holds.
// Cleanup must then leave the kernel's tables empty.
func TestRealKernelMatchesFake(t *testing.T) {
	requireNetns(t)
	ctx := context.Background()
	for _, variant := range realVariants(t) {
		for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
			t.Run(variant.String()+"/"+string(family), func(t *testing.T) {
				client := iptables.New(familyOf(family), variant)
				s := packetflow.Standard(family, false)
				real := newTestBackend(t, family, client, s.Settings)
				fake := newFake(family)
				faked := newTestBackend(t, family, fake, s.Settings)
				for _, be := range []*Backend{real, faked} {
					mustSync(t, be, s.Snapshot, full)
				}
				if got, want := realDump(t, client), canonical(fake.Dump()); got != want {
					t.Errorf("kernel after a full sync differs from the fake:\n%s", diff(got, want))
				}

				b := s.Builder
				b.DeleteService("ns2", "svc2")
				b.Slice(packetflow.NewSlice("ns1", "svc1", "svc1-1", family, "p", v1.ProtocolTCP, 8080,
					packetflow.Endpoint{IP: packetflow.Addresses{Family: family}.String("10.0.2.7"), Node: packetflow.OtherNode}))
				snap, changes := b.Snapshot(family)
				for _, be := range []*Backend{real, faked} {
					mustSync(t, be, snap, changes)
				}
				if got, want := realDump(t, client), canonical(fake.Dump()); got != want {
					t.Errorf("kernel after a partial sync differs from the fake:\n%s", diff(got, want))
				}

				if err := real.Cleanup(ctx); err != nil {
					t.Fatalf("Cleanup: %v", err)
				}
				if got := realDump(t, client); got != "" {
					t.Errorf("kernel rules left after Cleanup:\n%s", got)
				}
			})
		}
	}
}

// run runs a command and fails the test when it fails.
func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestRealKernelTraffic sends real connections through the rules: a process of
// the node connects to a cluster IP and to a node port and reaches the endpoint
// listening on this node; once the endpoint is gone the connection is refused at
// once.
func TestRealKernelTraffic(t *testing.T) {
	requireNetns(t)
	ctx := context.Background()
	run(t, "ip", "link", "set", "lo", "up")
	run(t, "ip", "link", "add", "kp0", "type", "veth", "peer", "name", "kp1")
	run(t, "ip", "addr", "add", "192.168.0.10/24", "dev", "kp0")
	run(t, "ip", "addr", "add", "10.0.1.1/32", "dev", "kp0")
	run(t, "ip", "link", "set", "kp0", "up")
	run(t, "ip", "link", "set", "kp1", "up")
	run(t, "ip", "route", "add", "default", "via", "192.168.0.1", "dev", "kp0")
	defer exec.Command("ip", "link", "del", "kp0").Run()

	ln, err := net.Listen("tcp", "10.0.1.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hello from %s\n", c.LocalAddr())
			c.Close()
		}
	}()

	for _, variant := range realVariants(t) {
		t.Run(variant.String(), func(t *testing.T) {
			client := iptables.New(iptables.IPv4, variant)
			settings := packetflow.Settings{ClusterCIDR: netipPrefix("10.0.0.0/16")}
			be := newTestBackend(t, v1.IPv4Protocol, client, settings)
			defer be.Cleanup(ctx)
			b := packetflow.NewBuilder(packetflow.ThisNode).Node("", "192.168.0.10")
			b.Service(packetflow.NewService("real", "echo", "172.30.0.41", packetflow.Port("http", v1.ProtocolTCP, 80, 30080)))
			slice := packetflow.NewSlice("real", "echo", "echo-1", v1.IPv4Protocol, "http", v1.ProtocolTCP, 8080,
				packetflow.Endpoint{IP: "10.0.1.1", Node: packetflow.ThisNode})
			b.Slice(slice)
			snap, _ := b.Snapshot(v1.IPv4Protocol)
			mustSync(t, be, snap, full)

			for _, addr := range []string{"172.30.0.41:80", "192.168.0.10:30080"} {
				if got, err := dialRead(addr); err != nil || got != "hello from 10.0.1.1:8080" {
					t.Errorf("connecting to %s: %q, %v; want the endpoint's greeting", addr, got, err)
				}
			}

			b.DeleteSlice(slice)
			snap, changes := b.Snapshot(v1.IPv4Protocol)
			mustSync(t, be, snap, changes)
			start := time.Now()
			_, err := dialRead("172.30.0.41:80")
			if err == nil || !strings.Contains(err.Error(), "refused") || time.Since(start) > time.Second {
				t.Errorf("connecting to a service without endpoints: %v after %v; want connection refused at once", err, time.Since(start))
			}
		})
	}
}

// dialRead connects to addr and returns the first line it sends.
func dialRead(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
