package proxy

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"

	"github.com/kproxy/kproxy/endpoints"
)

// serviceAnnotationPrefix marks the Service annotations meant for service proxies;
// the others (kubectl's last-applied-configuration, often a copy of the whole
// object) are dropped from the cache.
const serviceAnnotationPrefix = "service.kubernetes.io/"

// trimObject is the informers' transform: it drops what kproxy never reads from
// Services, EndpointSlices and Nodes before they are cached, so 10,000 services do
// not keep 20,000 copies of managedFields and annotations in memory. It changes
// the object in place, as transforms may (the informer owns it).
func trimObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *v1.Service:
		o.ManagedFields = nil
		o.Annotations = keepAnnotations(o.Annotations, func(k string) bool { return strings.HasPrefix(k, serviceAnnotationPrefix) })
	case *discovery.EndpointSlice:
		o.ManagedFields = nil
		o.OwnerReferences = nil
		o.Annotations = keepAnnotations(o.Annotations, func(k string) bool { return k == endpoints.TriggerTimeAnnotation })
		for i := range o.Endpoints {
			// The pod each endpoint belongs to (seven strings) and its hostname.
			o.Endpoints[i].TargetRef = nil
			o.Endpoints[i].Hostname = nil
			o.Endpoints[i].DeprecatedTopology = nil
		}
	case *v1.Node:
		o.ManagedFields = nil
		o.Status.Images = nil
	}
	return obj, nil
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
