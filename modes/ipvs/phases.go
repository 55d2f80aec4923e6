package ipvsmode

import (
	"time"

	"k8s.io/klog/v2"
)

// phase is one step of a sync, timed for the log at -v=4.
type phase uint8

const (
	phaseNodeAddrs phase = iota // listing the node's addresses
	phaseRead                   // full syncs: reading kube-ipvs0, the sets and IPVS
	phasePlan                   // planning the changed service ports
	phaseSets                   // the ipset batch
	phaseRules                  // rendering and iptables-restore
	phaseIPVS                   // virtual and real servers
	phaseBind                   // addresses of kube-ipvs0
	phaseTerm                   // finishing graceful terminations
	numPhases
)

var phaseNames = [numPhases]string{"nodeAddresses", "readKernel", "plan", "ipsets", "iptables", "ipvs", "kubeIPVS0", "terminations"}

// phaseClock adds up the wall time of each phase of one sync. It does nothing
// unless -v=4 is on.
type phaseClock struct {
	on    bool
	start time.Time
	last  time.Time
	took  [numPhases]time.Duration
}

// newPhaseClock starts timing when the log wants it.
func newPhaseClock() phaseClock {
	if !klog.V(4).Enabled() {
		return phaseClock{}
	}
	now := time.Now()
	return phaseClock{on: true, start: now, last: now}
}

// done charges the time since the previous mark to ph.
func (p *phaseClock) done(ph phase) {
	if !p.on {
		return
	}
	now := time.Now()
	p.took[ph] += now.Sub(p.last)
	p.last = now
}

// log writes the phases of a successful sync.
func (p *phaseClock) log(c *config, full bool) {
	if !p.on {
		return
	}
	kv := make([]any, 0, 6+2*numPhases)
	kv = append(kv, "family", c.family, "full", full, "took", time.Since(p.start))
	for ph, d := range p.took {
		kv = append(kv, phaseNames[ph], d)
	}
	klog.V(4).InfoS("IPVS sync phases", kv...)
}
