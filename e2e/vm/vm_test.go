package vm

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// requireVM skips the test when this machine cannot boot the VM.
func requireVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a VM; skipped with -short")
	}
	if err := Available(); err != nil {
		t.Skipf("cannot boot the test VM: %v", err)
	}
}

// echoServer builds the test backend/client for the guest.
func echoServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "echoserver")
	if err := BuildStatic(context.Background(), "./e2e/vm/testdata/echoserver", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// ipvsScript sets up an IPVS virtual server 10.96.0.10:80 (round robin,
// masquerading) in front of two backends, each in its own network
// namespace, and reports who answered six connections. It then checks the
// iptables and ipset tools kproxy drives.
const ipvsScript = `
set -eu
ip link add kipvs0 type dummy
ip link set kipvs0 up
ip addr add 10.96.0.10/32 dev kipvs0
for i in 1 2; do
	ip netns add ep$i
	ip link add veth$i type veth peer name eth0 netns ep$i
	ip addr add 10.244.$i.1/24 dev veth$i
	ip link set veth$i up
	ip -n ep$i link set lo up
	ip -n ep$i addr add 10.244.$i.2/24 dev eth0
	ip -n ep$i link set eth0 up
	ip -n ep$i route add default via 10.244.$i.1
	ip netns exec ep$i echoserver -listen :8080 -name ep$i &
done
for i in 1 2; do
	n=0
	until echoserver -dial 10.244.$i.2:8080 -timeout 1s >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -lt 100 ] || { echo "backend ep$i never came up"; exit 1; }
		sleep 0.1
	done
done
ipvsadm -A -t 10.96.0.10:80 -s rr
ipvsadm -a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m
ipvsadm -a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m
ipvsadm -Ln
echoserver -dial 10.96.0.10:80 -count 6 | sed 's/^/KPROXY-RESULT answer /'
ipvsadm -Ln | grep -q 'TCP  10.96.0.10:80 rr' && echo "KPROXY-RESULT ipvsadm ok"

ipset create KPROXY-TEST hash:ip,port
ipset add KPROXY-TEST 10.96.0.10,tcp:80
ipset list KPROXY-TEST | grep -q '10.96.0.10,tcp:80' && echo "KPROXY-RESULT ipset ok"
for ipt in iptables-nft iptables-legacy; do
	$ipt -t nat -N KPROXY-TEST
	$ipt -t nat -A KPROXY-TEST -m comment --comment "kproxy test" \
		-m set --match-set KPROXY-TEST dst,dst -j MASQUERADE
	$ipt -t nat -A KPROXY-TEST -p tcp -m statistic --mode random --probability 0.5 \
		-m conntrack --ctstate NEW -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.244.1.2:8080
	$ipt -t filter -A INPUT -p tcp --dport 9 -m multiport --sports 1:65535 -j REJECT
	$ipt -t mangle -A PREROUTING -j MARK --set-xmark 0x4000/0x4000
	$ipt -t nat -L -n >/dev/null && $ipt-save | grep -q 'kproxy test' && echo "KPROXY-RESULT $ipt ok"
done
`

// TestIPVSRoundRobin boots the VM and proves the guest has a working IPVS:
// six connections to a round-robin virtual server split 3/3 between two
// backends. It also checks that iptables (nft and legacy) and ipset work.
func TestIPVSRoundRobin(t *testing.T) {
	requireVM(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, err := Boot(ctx, Config{
		Name:   t.Name(),
		Files:  map[string]string{"/usr/local/bin/echoserver": echoServer(t)},
		Script: ipvsScript,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("booted in %v; logs in %s", v.BootTime, v.Dir)
	out, err := v.Wait()
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out)
	}
	answers := map[string]int{}
	ok := map[string]bool{}
	for _, r := range Results(out) {
		if name, found := strings.CutPrefix(r, "answer "); found {
			answers[name]++
		} else {
			ok[r] = true
		}
	}
	if answers["ep1"] != 3 || answers["ep2"] != 3 || len(answers) != 2 {
		t.Errorf("answers of 6 connections to the rr virtual server = %v, want ep1:3 ep2:3\noutput:\n%s", answers, out)
	}
	for _, want := range []string{"ipvsadm ok", "ipset ok", "iptables-nft ok", "iptables-legacy ok"} {
		if !ok[want] {
			t.Errorf("guest did not report %q\noutput:\n%s", want, out)
		}
	}
}

// hostGreeter listens on the host's loopback, greets every connection and
// counts them.
func hostGreeter(t *testing.T) (port int, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			fmt.Fprintln(c, "hello from the host")
			bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// TestHostForwardsOnly proves the guest reaches a forwarded host port, once
// per connection, and nothing else: the user network's alias for the host
// (10.0.2.2) leads nowhere.
func TestHostForwardsOnly(t *testing.T) {
	requireVM(t)
	port, accepted := hostGreeter(t)
	script := fmt.Sprintf(`
echoserver -dial 10.0.2.100:6443 -count 2 | sed 's/^/KPROXY-RESULT forward /'
echoserver -dial 10.0.2.2:%d -timeout 2s >/dev/null 2>&1 || echo "KPROXY-RESULT host alias unreachable"
ip route add default via 10.0.2.2
echoserver -dial 10.0.2.2:%d -timeout 2s >/dev/null 2>&1 || echo "KPROXY-RESULT host alias unreachable with a default route"
`, port, port)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := RunConfig(ctx, Config{
		Name:         t.Name(),
		Files:        map[string]string{"/usr/local/bin/echoserver": echoServer(t)},
		Script:       script,
		HostForwards: map[string]int{"10.0.2.100:6443": port},
	})
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out)
	}
	want := []string{
		"forward hello from the host",
		"forward hello from the host",
		"host alias unreachable",
		"host alias unreachable with a default route",
	}
	if got := Results(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("guest reported %q, want %q\noutput:\n%s", got, want, out)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("host listener accepted %d connections, want exactly the 2 forwarded ones", n)
	}
}

// TestBootTimeout checks that a VM outliving its timeout is killed and the
// error says so.
func TestBootTimeout(t *testing.T) {
	requireVM(t)
	start := time.Now()
	_, err := Boot(context.Background(), Config{Name: t.Name(), Script: "sleep 600", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Fatalf("Boot with a 1s timeout = %v, want a timeout error", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Boot took %v to give up after a 1s timeout", d)
	}
}
