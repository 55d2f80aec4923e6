package framework

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The churn under load of issue 7, the same for every mode: a client makes
// ChurnRate connections per second while pods are replaced one by one; a
// new pod serves for ChurnSettle before the old one is marked terminating,
// which keeps serving for ChurnGrace before it is stopped and removed. Both
// cover kproxy's minimum sync period (1 s: the previous step's removal was
// just synced) and a sync on a busy machine, with room for the new pod to
// get a few connections.
const (
	ChurnRate   = 50
	ChurnSettle = 2 * time.Second
	ChurnGrace  = 2500 * time.Millisecond
)

// Replacement is one step of a rolling update behind a Service while a
// client loop runs: pod New took the place of pod Old.
type Replacement struct {
	Old, New string
	// Added is when New was listed ready (Old still ready), Terminated when
	// Old was marked terminating, Gone when Old was stopped and removed.
	Added, Terminated, Gone time.Time
	// Drained, when known, is when new connections could no longer reach
	// Old (e.g. its IPVS real server was seen at weight 0); zero otherwise.
	Drained time.Time
}

// Rollout says how RollingReplace replaces pods.
type Rollout struct {
	// Settle is how long a new pod serves next to the old one before the
	// old one is marked terminating; Grace how long the old one then keeps
	// serving before it is stopped and removed.
	Settle, Grace time.Duration
	// NewPod returns the spec of the i-th new pod (from 0).
	NewPod func(i int) PodSpec
}

// RollingReplace replaces the pods behind svc one by one, oldest first, as
// a rolling update does: the new pod is added ready, Settle later the old
// one is marked terminating (still serving), Grace later it is stopped and
// removed. It returns each step's times and the pods serving at the end.
func (c *Cluster) RollingReplace(t testing.TB, svc *corev1.Service, current []*Pod, o Rollout) ([]Replacement, []*Pod) {
	t.Helper()
	n := len(current)
	current = append([]*Pod(nil), current...)
	steps := make([]Replacement, 0, n)
	for i := range n {
		old := current[0]
		fresh := c.AddPod(t, o.NewPod(i))
		current = append(current[1:], fresh)
		// The old pod is still ready: it is this step's to terminate.
		c.SetEndpoints(t, svc, ReadyEndpoints(append([]*Pod{old}, current...)...)...)
		step := Replacement{Old: old.Name, New: fresh.Name, Added: time.Now()}
		time.Sleep(o.Settle)
		c.TerminatePod(t, old)
		step.Terminated = time.Now()
		time.Sleep(o.Grace)
		c.DeletePod(t, old)
		step.Gone = time.Now()
		steps = append(steps, step)
	}
	return steps, current
}

// CheckChurn checks a client loop's attempts across a rolling update: no
// connection failed; each new pod answered one before its predecessor was
// marked terminating; no old pod answered a connection started after it
// was removed, or after it was drained when that is known. It logs the
// tally (failures relative to start) and each step's timing.
func CheckChurn(t testing.TB, atts []Attempt, steps []Replacement, start time.Time) {
	t.Helper()
	all := TallyOf(atts, time.Time{}, time.Time{})
	t.Logf("client loop across %d replacements: %s", len(steps), all)
	if all.Failed > 0 {
		t.Errorf("want 0 failed connections, got %d; failures relative to the start: %s",
			all.Failed, DescribeSpans(FailureSpans(atts), start))
	}
	for _, s := range steps {
		first, last := FirstAnswerBy(atts, s.New), LastAnswerBy(atts, s.Old)
		t.Logf("%s -> %s: new pod's first connection %v after it was added; old pod's last %v after it was marked terminating (removed after %v)",
			s.Old, s.New, first.Sub(s.Added).Round(time.Millisecond), last.Sub(s.Terminated).Round(time.Millisecond),
			s.Gone.Sub(s.Terminated).Round(time.Millisecond))
		if first.IsZero() || first.After(s.Terminated) {
			t.Errorf("%s got no connection before %s was marked terminating", s.New, s.Old)
		}
		if last.After(s.Gone) {
			t.Errorf("%s answered a connection started after it was removed", s.Old)
		}
		if !s.Drained.IsZero() && last.After(s.Drained) {
			t.Errorf("%s answered a connection started %v after new connections to it were seen stopped",
				s.Old, last.Sub(s.Drained).Round(time.Millisecond))
		}
	}
}

// RunChurn replaces every pod of current behind svc (RollingReplace with
// ChurnSettle and ChurnGrace, new pods from newPod) while a client loop
// makes ChurnRate connections per second from from to addr, starting 1 s
// before the first step and ending 1 s after the last; it checks the loop
// with CheckChurn, after k.ExcuseNetworkLosses, and returns the pods
// serving at the end.
func (c *Cluster) RunChurn(t testing.TB, k *KProxy, from NetNSer, addr netip.AddrPort, svc *corev1.Service, current []*Pod, newPod func(i int) PodSpec) []*Pod {
	t.Helper()
	start := time.Now()
	loop := StartLoop(from, addr, ChurnRate)
	time.Sleep(time.Second)
	steps, final := c.RollingReplace(t, svc, current, Rollout{Settle: ChurnSettle, Grace: ChurnGrace, NewPod: newPod})
	time.Sleep(time.Second)
	atts := k.ExcuseNetworkLosses(t, loop.Stop())
	t.Logf("%d pods replaced in %v under %d conn/s", len(steps), time.Since(start).Round(100*time.Millisecond), ChurnRate)
	CheckChurn(t, atts, steps, start)
	return final
}
