package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// ToBeDeletedTaintKey is the taint the Cluster Autoscaler puts on a node it is about to
// delete. Like a deletion timestamp, it makes /healthz fail so load balancers drain
// the node first.
const ToBeDeletedTaintKey = "ToBeDeletedByClusterAutoscaler"

// HealthServer answers kube-proxy's /healthz and /livez (default port 10256). The proxy
// is healthy unless, for some IP family, an update was queued (QueuedUpdate) and not
// applied (Updated) for healthTimeout or longer. /livez reports exactly that; /healthz
// also fails while the node is being deleted, so external load balancers stop
// sending traffic to it. It is safe for concurrent use.
type HealthServer struct {
	addr    string
	timeout time.Duration
	clk     clock.PassiveClock
	metrics *Metrics

	mu           sync.Mutex
	lastUpdated  map[v1.IPFamily]time.Time
	oldestQueued map[v1.IPFamily]time.Time // only families with an update pending
	nodeEligible bool
}

// HealthReport is the JSON body of /healthz and /livez.
type HealthReport struct {
	// LastUpdated is the current time when healthy (kube-proxy's compatible meaning),
	// else the last successful update of any family.
	LastUpdated time.Time `json:"lastUpdated"`
	CurrentTime time.Time `json:"currentTime"`
	// NodeEligible is set on /healthz only: false while the node is being deleted.
	NodeEligible *bool `json:"nodeEligible,omitempty"`
	Healthy      bool  `json:"healthy"`
	// Status is the health of each IP family that has queued or applied an update.
	Status map[v1.IPFamily]FamilyHealth `json:"status,omitempty"`
}

// FamilyHealth is one IP family's part of a HealthReport.
type FamilyHealth struct {
	LastUpdated time.Time `json:"lastUpdated"`
	Healthy     bool      `json:"healthy"`
}

// NewHealthServer returns a HealthServer for addr ("" disables Run). healthTimeout is
// how long a queued update may wait (kube-proxy uses 2 × the sync period);
// m may be nil.
func NewHealthServer(addr string, healthTimeout time.Duration, clk clock.PassiveClock, m *Metrics) *HealthServer {
	return &HealthServer{
		addr:         addr,
		timeout:      healthTimeout,
		clk:          clk,
		metrics:      m,
		lastUpdated:  make(map[v1.IPFamily]time.Time),
		oldestQueued: make(map[v1.IPFamily]time.Time),
		nodeEligible: true, // until a Node event says otherwise
	}
}

// QueuedUpdate records that family has changes to apply. Only the oldest pending
// queue time counts: further calls before Updated change nothing.
func (hs *HealthServer) QueuedUpdate(family v1.IPFamily) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if _, ok := hs.oldestQueued[family]; !ok {
		hs.oldestQueued[family] = hs.clk.Now()
	}
}

// Updated records that family's rules now match everything queued so far.
func (hs *HealthServer) Updated(family v1.IPFamily) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	delete(hs.oldestQueued, family)
	hs.lastUpdated[family] = hs.clk.Now()
}

// SyncNode records the latest state of this node's Node object: nil (deleted), a
// deletion timestamp or the autoscaler's ToBeDeletedTaintKey make /healthz fail.
func (hs *HealthServer) SyncNode(node *v1.Node) {
	eligible := node != nil && node.DeletionTimestamp.IsZero()
	if eligible {
		for _, taint := range node.Spec.Taints {
			if taint.Key == ToBeDeletedTaintKey {
				eligible = false
			}
		}
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.nodeEligible = eligible
}

// Report returns the proxy's health now; node eligibility is left to the caller.
func (hs *HealthServer) Report() HealthReport {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	now := hs.clk.Now()
	r := HealthReport{CurrentTime: now, Healthy: true, Status: make(map[v1.IPFamily]FamilyHealth)}
	for family, t := range hs.lastUpdated {
		r.Status[family] = FamilyHealth{LastUpdated: t, Healthy: true}
		if t.After(r.LastUpdated) {
			r.LastUpdated = t
		}
	}
	// A family that queued an update but never applied one counts too.
	for family, queued := range hs.oldestQueued {
		if now.Sub(queued) < hs.timeout {
			if _, ok := r.Status[family]; !ok {
				r.Status[family] = FamilyHealth{Healthy: true}
			}
			continue
		}
		r.Healthy = false
		r.Status[family] = FamilyHealth{LastUpdated: hs.lastUpdated[family], Healthy: false}
	}
	return r
}

func (hs *HealthServer) isNodeEligible() bool {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.nodeEligible
}

// Handler returns the mux of the health listener: /healthz and /livez.
func (hs *HealthServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", hs.serveHealthz)
	mux.HandleFunc("/livez", hs.serveLivez)
	return mux
}

func (hs *HealthServer) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	r := hs.Report()
	eligible := hs.isNodeEligible()
	r.NodeEligible = &eligible
	r.Healthy = r.Healthy && eligible
	hs.metrics.ObserveHealthz(writeHealthReport(w, r))
}

func (hs *HealthServer) serveLivez(w http.ResponseWriter, _ *http.Request) {
	hs.metrics.ObserveLivez(writeHealthReport(w, hs.Report()))
}

// writeHealthReport writes r as JSON with 200 or 503 and returns the code used.
func writeHealthReport(w http.ResponseWriter, r HealthReport) int {
	code := http.StatusOK
	if r.Healthy {
		// kube-proxy always reported a fresh lastUpdated when healthy; keep that.
		r.LastUpdated = r.CurrentTime
	} else {
		code = http.StatusServiceUnavailable
	}
	body, err := json.Marshal(r)
	if err != nil { // cannot happen: plain fields only
		klog.ErrorS(err, "Encoding health report")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}

// Run serves Handler on addr until ctx is done. With an empty addr it only waits for
// ctx. It returns an error if it cannot listen or the server fails.
func (hs *HealthServer) Run(ctx context.Context) error {
	if hs.addr == "" {
		klog.V(2).InfoS("Health server disabled: no address")
		<-ctx.Done()
		return nil
	}
	klog.V(2).InfoS("Starting health server", "address", hs.addr)
	return Serve(ctx, hs.addr, hs.Handler())
}
