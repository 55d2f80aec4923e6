package ipvsmode

import (
	"errors"
	"fmt"
	"os"

	"github.com/moby/ipvs"
	"k8s.io/klog/v2"
)

// EnvFaults is a test-only environment variable: KPROXY_IPVS_FAULTS=<path>
// makes every IPVS write (NewService, UpdateService, DelService,
// NewDestination, UpdateDestination, DelDestination) and every netlink write
// (EnsureDummy, AddAddress, DelAddress; see NetlinkFaultsFromEnv) fail while
// the file at <path> exists, so that an end-to-end test can prove on a real
// kernel that failed syncs are logged, counted, retried and repaired
// (e2e/ipvs). Reads and SetConfig pass through. Never set it on a real node.
const EnvFaults = "KPROXY_IPVS_FAULTS"

// errInjected is the error of a write made to fail.
var errInjected = errors.New("injected failure (" + EnvFaults + ")")

// FaultsFromEnv returns h as is, or, when KPROXY_IPVS_FAULTS names a marker
// file, h wrapped so that its writes fail while that file exists.
func FaultsFromEnv(h Handle) Handle {
	marker := os.Getenv(EnvFaults)
	if marker == "" {
		return h
	}
	klog.InfoS("Test only: IPVS writes fail while the marker file exists", "env", EnvFaults, "marker", marker)
	return &markerFaults{Handle: h, marker: marker}
}

// markerFaults fails the writes of the Handle it wraps while its marker
// file exists.
type markerFaults struct {
	Handle
	marker string
}

var _ Handle = (*markerFaults)(nil)

// write runs a write call unless the marker exists, in which case it
// returns an injected error naming op.
func (f *markerFaults) write(op string, call func() error) error {
	if _, err := os.Stat(f.marker); err == nil {
		return fmt.Errorf("%s: %w", op, errInjected)
	}
	return call()
}

// NewService fails while the marker exists.
func (f *markerFaults) NewService(s *ipvs.Service) error {
	return f.write("NewService", func() error { return f.Handle.NewService(s) })
}

// UpdateService fails while the marker exists.
func (f *markerFaults) UpdateService(s *ipvs.Service) error {
	return f.write("UpdateService", func() error { return f.Handle.UpdateService(s) })
}

// DelService fails while the marker exists.
func (f *markerFaults) DelService(s *ipvs.Service) error {
	return f.write("DelService", func() error { return f.Handle.DelService(s) })
}

// NewDestination fails while the marker exists.
func (f *markerFaults) NewDestination(s *ipvs.Service, d *ipvs.Destination) error {
	return f.write("NewDestination", func() error { return f.Handle.NewDestination(s, d) })
}

// UpdateDestination fails while the marker exists.
func (f *markerFaults) UpdateDestination(s *ipvs.Service, d *ipvs.Destination) error {
	return f.write("UpdateDestination", func() error { return f.Handle.UpdateDestination(s, d) })
}

// DelDestination fails while the marker exists.
func (f *markerFaults) DelDestination(s *ipvs.Service, d *ipvs.Destination) error {
	return f.write("DelDestination", func() error { return f.Handle.DelDestination(s, d) })
}
