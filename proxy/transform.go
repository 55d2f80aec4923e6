package proxy

import (
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"

	"github.com/kproxy/kproxy/endpoints"
)

// serviceAnnotationPrefix marks the Service annotations meant for service proxies;
// the others (kubectl's last-applied-configuration, often a copy of the whole
// object) are dropped from the cache.
const serviceAnnotationPrefix = "service.kubernetes.io/"

// maxShared bounds the strings a trimmer shares, so node churn cannot grow it
// forever; when full it starts over.
const maxShared = 4096

// trimmer is the informers' transform: it drops what kproxy never reads from
// Services, EndpointSlices and Nodes before they are cached, so 10,000 services do
// not keep 20,000 copies of managedFields, annotations and pod references in
// memory, and makes endpoints on the same node (and zone) share one copy of its
// name. Objects are changed in place, as transforms may (the informer owns them,
// and no one writes to cached objects).
type trimmer struct {
	mu     sync.Mutex
	shared map[string]*string
}

// newTrimmer returns a trimmer; one serves every informer of a Watcher.
func newTrimmer() *trimmer { return &trimmer{shared: map[string]*string{}} }

// trim is the cache.TransformFunc.
func (t *trimmer) trim(obj any) (any, error) {
	switch o := obj.(type) {
	case *v1.Service:
		// kproxy reads the spec's addresses and ports and the load-balancer status;
		// which objects it watches is selected by labels on the server side.
		o.ManagedFields, o.Labels, o.Spec.Selector = nil, nil, nil
		o.Annotations = keepAnnotations(o.Annotations, func(k string) bool { return strings.HasPrefix(k, serviceAnnotationPrefix) })
	case *discovery.EndpointSlice:
		o.ManagedFields = nil
		o.OwnerReferences = nil
		o.Annotations = keepAnnotations(o.Annotations, func(k string) bool { return k == endpoints.TriggerTimeAnnotation })
		t.mu.Lock()
		defer t.mu.Unlock()
		for i := range o.Endpoints {
			ep := &o.Endpoints[i]
			// The pod each endpoint belongs to (seven strings) and its hostname.
			ep.TargetRef, ep.Hostname, ep.DeprecatedTopology = nil, nil, nil
			ep.NodeName, ep.Zone = t.share(ep.NodeName), t.share(ep.Zone)
		}
	case *v1.Node:
		o.ManagedFields = nil
		o.Status.Images = nil
	}
	return obj, nil
}

// share returns the first pointer seen to the same string as p. The caller holds
// t.mu.
func (t *trimmer) share(p *string) *string {
	if p == nil {
		return nil
	}
	if q, ok := t.shared[*p]; ok {
		return q
	}
	if len(t.shared) >= maxShared {
		clear(t.shared)
	}
	t.shared[*p] = p
	return p
}

// keepAnnotations returns the annotations keep accepts, nil when none.
func keepAnnotations(in map[string]string, keep func(string) bool) map[string]string {
	var out map[string]string
	for k, v := range in {
		if keep(k) {
			if out == nil {
				out = make(map[string]string, 1)
			}
			out[k] = v
		}
	}
	return out
}
