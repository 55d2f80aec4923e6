package proxy

import (
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// proxiedObjects selects the Services and EndpointSlices kube-proxy handles: not those
// another proxy owns, not headless ones.
const proxiedObjects = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"

// WatchHooks is how the watcher tells the rest of kproxy what happened.
type WatchHooks struct {
	// Changed is called after an event that left a change pending (request a sync).
	Changed func()
	// Node is called with kproxy's own Node on every event about it (nil when deleted).
	Node func(*v1.Node)
	// Invalid is called once per event with a part of an object kproxy cannot program.
	Invalid func(kind, object, problem string)
	// Event counts every Service or EndpointSlice event ("Service" or "EndpointSlice").
	Event func(kind string)
}

// Watcher feeds a Table from the API server with shared informers for Services,
// EndpointSlices and this node's Node object.
type Watcher struct {
	table    *Table
	hooks    WatchHooks
	factory  informers.SharedInformerFactory
	nodes    informers.SharedInformerFactory
	synced   []cache.InformerSynced
	nodeName string
}

// NewWatcher builds the informers; nothing runs before Start. resync is the informers'
// resync period (--config-sync-period).
func NewWatcher(client kubernetes.Interface, table *Table, nodeName string, resync time.Duration, hooks WatchHooks) *Watcher {
	w := &Watcher{table: table, hooks: hooks, nodeName: nodeName}
	trim := informers.WithTransform(newTrimmer().trim)
	w.factory = informers.NewSharedInformerFactoryWithOptions(client, resync, trim,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = proxiedObjects }))
	w.nodes = informers.NewSharedInformerFactoryWithOptions(client, resync, trim,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", nodeName).String()
		}))
	services := w.factory.Core().V1().Services().Informer()
	slices := w.factory.Discovery().V1().EndpointSlices().Informer()
	nodes := w.nodes.Core().V1().Nodes().Informer()
	// Wait on the handler registrations, not the informers: an informer has synced once
	// its initial list is in its store, before the handlers have seen every object, and a
	// sync then would program a partial table.
	svcReg, _ := services.AddEventHandler(handlerFor(w.onService))
	sliceReg, _ := slices.AddEventHandler(handlerFor(w.onSlice))
	_, _ = nodes.AddEventHandler(handlerFor(w.onNode))
	w.synced = []cache.InformerSynced{svcReg.HasSynced, sliceReg.HasSynced}
	return w
}

// Start runs the informers until stop closes.
func (w *Watcher) Start(stop <-chan struct{}) {
	w.factory.Start(stop)
	w.nodes.Start(stop)
}

// WaitForSync blocks until Services and EndpointSlices have been listed once; kproxy must
// not sync before that, or it would remove the rules of services it has not yet seen.
func (w *Watcher) WaitForSync(stop <-chan struct{}) bool {
	return cache.WaitForCacheSync(stop, w.synced...)
}

// handlerFor adapts one function of (old, new) to informer callbacks; old is nil on add,
// new is nil on delete.
func handlerFor[T any](fn func(old, cur *T)) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if cur, ok := obj.(*T); ok {
				fn(nil, cur)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			old, ok1 := oldObj.(*T)
			cur, ok2 := newObj.(*T)
			if ok1 && ok2 {
				fn(old, cur)
			}
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if old, ok := obj.(*T); ok {
				fn(old, nil)
			}
		},
	}
}

// onService records a Service event.
func (w *Watcher) onService(old, cur *v1.Service) {
	if resent(old, cur) {
		return
	}
	w.count("Service")
	pending, problems := w.table.Services.Update(old, cur)
	if cur != nil {
		w.report("Service", cur.Namespace+"/"+cur.Name, problems)
	}
	if pending {
		w.changed()
	}
}

// onSlice records an EndpointSlice event.
func (w *Watcher) onSlice(old, cur *discovery.EndpointSlice) {
	if resent(old, cur) {
		return
	}
	w.count("EndpointSlice")
	slice, deleted := cur, false
	if cur == nil {
		slice, deleted = old, true
	}
	_, ok, pending, problems := w.table.Endpoints.Update(slice, deleted)
	name := slice.Namespace + "/" + slice.Name
	if !ok && !deleted {
		problems = []string{"no kubernetes.io/service-name label"}
	}
	if !deleted {
		w.report("EndpointSlice", name, problems)
	}
	if pending {
		w.changed()
	}
}

// onNode records an event about kproxy's own Node.
func (w *Watcher) onNode(_, cur *v1.Node) {
	if cur != nil && cur.Name != w.nodeName {
		return
	}
	if w.hooks.Node != nil {
		w.hooks.Node(cur)
	}
	if w.table.Node.Update(cur) {
		w.changed()
	}
}

// resent reports an informer resync: the same object delivered again. Resyncs pass the
// cached object as both old and new; the resource version also tells, when set.
func resent[T any, P interface {
	*T
	metav1.Object
}](old, cur P) bool {
	if old == nil || cur == nil {
		return false
	}
	return old == cur || (old.GetResourceVersion() == cur.GetResourceVersion() && old.GetResourceVersion() != "")
}

// report logs and counts the parts of an object kproxy leaves out.
func (w *Watcher) report(kind, name string, problems []string) {
	for _, p := range problems {
		klog.InfoS("Ignoring part of object kproxy cannot program", "kind", kind, "object", name, "problem", p)
		if w.hooks.Invalid != nil {
			w.hooks.Invalid(kind, name, p)
		}
	}
}

// count reports one event of kind.
func (w *Watcher) count(kind string) {
	if w.hooks.Event != nil {
		w.hooks.Event(kind)
	}
}

// changed asks for a sync.
func (w *Watcher) changed() {
	if w.hooks.Changed != nil {
		w.hooks.Changed()
	}
}
