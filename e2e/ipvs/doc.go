// Package ipvse2e holds the real-kernel end-to-end tests of kproxy's IPVS
// mode. The development machines' kernel has no IPVS, so kproxy runs inside
// the QEMU VM of e2e/vm, against a real kube-apiserver (kcluster) on the
// host; the tests change Services and EndpointSlices with client-go and the
// guest reports what IPVS did with its traffic.
//
// The tests skip unless they run as root with KPROXY_E2E=1 and the VM kernel
// is installed (hack/vm/install.sh):
//
//	sudo KPROXY_E2E=1 go test -count=1 -v ./e2e/ipvs/
//
// See README.md for the topology and the measurements.
package ipvse2e
