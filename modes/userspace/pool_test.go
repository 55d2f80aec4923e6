package userspace

import (
	"io"
	"net/netip"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var (
	epA = netip.MustParseAddrPort("10.0.0.1:80")
	epB = netip.MustParseAddrPort("10.0.0.2:80")
	epC = netip.MustParseAddrPort("10.0.0.3:80")
)

// poolStep is one operation on a pool: pick for a client (after failed dials
// to some endpoints), let time pass, or update the endpoints.
type poolStep struct {
	client  string           // pick for this client
	failed  []netip.AddrPort // the endpoints this connection failed to reach
	advance time.Duration
	update  []netip.AddrPort // update to these endpoints (with the case's timeout)
	want    netip.AddrPort   // the pick's result; the zero value means none
}

func TestPoolBalancing(t *testing.T) {
	abc := []netip.AddrPort{epA, epB, epC}
	cases := []struct {
		name     string
		eps      []netip.AddrPort
		affinity time.Duration
		steps    []poolStep
	}{
		{"round robin over every endpoint, whoever asks", abc, 0, []poolStep{
			{client: "1.1.1.1", want: epA}, {client: "1.1.1.1", want: epB}, {client: "2.2.2.2", want: epC},
			{client: "1.1.1.1", want: epA}, {client: "3.3.3.3", want: epB}, {client: "1.1.1.1", want: epC},
		}},
		{"no endpoints, no pick", nil, 0, []poolStep{{client: "1.1.1.1"}}},
		{"affinity keeps each client on its endpoint", abc, 10 * time.Second, []poolStep{
			{client: "1.1.1.1", want: epA}, {client: "2.2.2.2", want: epB},
			{client: "1.1.1.1", want: epA}, {advance: 9 * time.Second}, {client: "1.1.1.1", want: epA},
			{client: "2.2.2.2", want: epB}, {client: "3.3.3.3", want: epC},
		}},
		{"affinity expires after the timeout without use", abc, 10 * time.Second, []poolStep{
			{client: "1.1.1.1", want: epA}, {advance: 10 * time.Second}, {client: "1.1.1.1", want: epB},
			{client: "1.1.1.1", want: epB},
		}},
		{"each use renews the affinity", abc, 10 * time.Second, []poolStep{
			{client: "1.1.1.1", want: epA}, {advance: 6 * time.Second}, {client: "1.1.1.1", want: epA},
			{advance: 6 * time.Second}, {client: "1.1.1.1", want: epA},
		}},
		{"a failed dial drops the affinity and moves on", abc, 10 * time.Second, []poolStep{
			{client: "1.1.1.1", want: epA}, {client: "1.1.1.1", failed: []netip.AddrPort{epA}, want: epB},
			{client: "1.1.1.1", want: epB},
		}},
		{"a retry skips the endpoints that failed, though others moved the cursor", abc, 0, []poolStep{
			{client: "1.1.1.1", want: epA}, {client: "2.2.2.2", want: epB}, {client: "3.3.3.3", want: epC},
			{client: "1.1.1.1", failed: []netip.AddrPort{epA}, want: epB},
			{client: "2.2.2.2", want: epC}, {client: "3.3.3.3", want: epA},
			{client: "1.1.1.1", failed: []netip.AddrPort{epA, epB}, want: epC},
			{client: "2.2.2.2", want: epA},
		}},
		{"once every endpoint failed, plain round robin", abc, 0, []poolStep{
			{client: "1.1.1.1", want: epA},
			{client: "1.1.1.1", failed: []netip.AddrPort{epA, epB, epC}, want: epB},
			{client: "1.1.1.1", want: epC},
		}},
		{"an endpoint removed takes its affinities with it", abc, 10 * time.Second, []poolStep{
			{client: "1.1.1.1", want: epA}, {client: "2.2.2.2", want: epB},
			{update: []netip.AddrPort{epA, epC}},
			{client: "2.2.2.2", want: epA}, {client: "3.3.3.3", want: epC},
			{client: "2.2.2.2", want: epA}, {client: "1.1.1.1", want: epA},
		}},
		{"round robin carries on over a new set", abc, 0, []poolStep{
			{client: "1.1.1.1", want: epA}, {client: "1.1.1.1", want: epB},
			{update: []netip.AddrPort{epA, epB}},
			{client: "1.1.1.1", want: epA}, {client: "1.1.1.1", want: epB},
		}},
		{"all endpoints gone", abc, 0, []poolStep{
			{client: "1.1.1.1", want: epA}, {update: []netip.AddrPort{}}, {client: "1.1.1.1"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
			p := newPool(clk)
			p.update(tc.eps, tc.affinity)
			for i, s := range tc.steps {
				switch {
				case s.advance > 0:
					clk.Step(s.advance)
				case s.update != nil:
					p.update(s.update, tc.affinity)
				default:
					got, ok := p.pick(netip.MustParseAddr(s.client), s.failed)
					if ok != s.want.IsValid() || got != s.want {
						t.Fatalf("step %d: pick(%s, failed %v) = %v, %v; want %v", i, s.client, s.failed, got, ok, s.want)
					}
				}
			}
		})
	}
}

// fakeConn is a connection registered in a pool.
type fakeConn struct{ closed bool }

func (c *fakeConn) Close() error { c.closed = true; return nil }

func TestPoolTracksConnections(t *testing.T) {
	p := newPool(clocktesting.NewFakeClock(time.Unix(1000, 0)))
	p.update([]netip.AddrPort{epA, epB}, 0)
	toA, toB, late := &fakeConn{}, &fakeConn{}, &fakeConn{}
	if !p.track(epA, toA) || !p.track(epB, toB) {
		t.Fatal("track to a current endpoint refused")
	}
	gone := p.update([]netip.AddrPort{epB, epC}, 0)
	if len(gone) != 1 || gone[0] != io.Closer(toA) {
		t.Fatalf("update returned %v, want only the connection to the removed endpoint", gone)
	}
	if p.track(epA, late) {
		t.Error("track to a removed endpoint accepted: a dial racing the update would survive it")
	}
	if p.open() != 1 {
		t.Errorf("open() = %d, want 1", p.open())
	}
	p.untrack(epB, toB)
	p.untrack(epA, toA) // unknown now: no effect
	if p.open() != 0 {
		t.Errorf("open() after untrack = %d, want 0", p.open())
	}
	p.track(epC, late)
	if all := p.close(); len(all) != 1 || all[0] != io.Closer(late) {
		t.Errorf("close returned %v, want the one open connection", all)
	}
	if p.track(epC, &fakeConn{}) {
		t.Error("track after close accepted")
	}
}

func TestPoolSweepsExpiredAffinities(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	p := newPool(clk)
	p.update([]netip.AddrPort{epA}, time.Second)
	for i := range 1000 {
		p.pick(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), nil)
		clk.Step(10 * time.Millisecond)
	}
	// Only the clients seen in the last second can still be live; the table
	// is swept whenever it doubles, so it stays within twice that.
	if n := len(p.sticky); n > 2*100+minSweep {
		t.Errorf("affinity table holds %d entries, want at most %d", n, 2*100+minSweep)
	}
}
