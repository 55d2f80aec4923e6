// Package deploy proves that kproxy's deployment manifests (hack/deploy) are
// accepted by a real kube-apiserver and that the ServiceAccount they create
// holds exactly the rights kproxy needs, as kube-proxy's does.
//
// The tests start kcluster (hack/cluster) inside a network namespace of
// their own, so nothing listens in the host namespace; they skip unless run
// as root with KPROXY_E2E=1.
package deploy
