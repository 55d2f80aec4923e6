// Package iptablesmode is kproxy's iptables mode, the default one: a drop-in for
// kube-proxy's iptables proxier. It renders each family's snapshot into
// iptables-restore input with the chains operators know (KUBE-SERVICES,
// KUBE-SVC-<hash>, KUBE-EXT-<hash>...) and applies it with one
// iptables-restore --noflush per sync.
//
// Rendering (render.go, endpoints.go, external.go, nodeports.go, full.go,
// partial.go) is a pure function of the snapshot writing into reused buffers;
// backend.go and apply.go run the result and keep what the kernel holds. README.md
// describes the rule layout.
package iptablesmode
