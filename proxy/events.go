package proxy

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// failedSyncsBeforeEvent is how many syncs in a row must fail before kproxy records an
// event on its Node (once per streak).
const failedSyncsBeforeEvent = 3

// Event reasons kproxy records on its Node.
const (
	ReasonInvalidObject = "KproxyInvalidObject"
	ReasonSyncFailing   = "KproxySyncFailing"
)

// NodeEvents records Kubernetes events about this node's proxy on its Node object.
type NodeEvents struct {
	recorder record.EventRecorder
	node     *v1.ObjectReference
	stop     func()
}

// NewNodeEvents starts an event broadcaster writing to the API server.
func NewNodeEvents(client kubernetes.Interface, nodeName string) *NodeEvents {
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return &NodeEvents{
		recorder: broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kproxy", Host: nodeName}),
		node:     &v1.ObjectReference{Kind: "Node", Name: nodeName, UID: types.UID(nodeName)},
		stop:     broadcaster.Shutdown,
	}
}

// Invalid records that part of an object cannot be programmed.
func (e *NodeEvents) Invalid(kind, object, problem string) {
	e.recorder.Eventf(e.node, v1.EventTypeWarning, ReasonInvalidObject, "%s %s: %s", kind, object, problem)
}

// SyncFailing records that syncs keep failing.
func (e *NodeEvents) SyncFailing(failures int, err error) {
	e.recorder.Eventf(e.node, v1.EventTypeWarning, ReasonSyncFailing, "%d syncs in a row failed; last error: %v", failures, err)
}

// Stop flushes and stops the broadcaster.
func (e *NodeEvents) Stop() { e.stop() }
