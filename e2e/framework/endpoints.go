package framework

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// State is an endpoint's lifecycle state, as EndpointSlice conditions tell it.
type State int

// The states an endpoint can be in.
const (
	// StateReady: ready, serving, not terminating.
	StateReady State = iota
	// StateNotReady: a running pod failing its readiness probe.
	StateNotReady
	// StateTerminating: being deleted but still serving.
	StateTerminating
	// StateTerminatingNotServing: being deleted and no longer serving.
	StateTerminatingNotServing
)

// conditions returns the EndpointSlice conditions of a state.
func (s State) conditions() discoveryv1.EndpointConditions {
	ready, serving, terminating := s == StateReady, s == StateReady || s == StateTerminating, s >= StateTerminating
	return discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating}
}

// Endpoint is a pod backing a service.
type Endpoint struct {
	// Pod provides the address, node and zone.
	Pod *Pod
	// State gives the conditions (default StateReady).
	State State
	// Hints, when set, are the zones the endpoint is hinted for.
	Hints []string
}

// ReadyEndpoints returns the pods as ready endpoints.
func ReadyEndpoints(pods ...*Pod) []Endpoint {
	eps := make([]Endpoint, len(pods))
	for i, p := range pods {
		eps[i] = Endpoint{Pod: p}
	}
	return eps
}

// SliceName is the name of the EndpointSlice the framework manages for a
// service.
func SliceName(service string) string {
	return service + "-kpe2e"
}

// renderSlice builds the IPv4 EndpointSlice of svc with eps, stamped with
// the endpoints.kubernetes.io/last-change-trigger-time annotation. Each
// service port maps to its numeric targetPort (the port itself when the
// target is unset or named).
func renderSlice(svc *corev1.Service, eps []Endpoint, now time.Time) *discoveryv1.EndpointSlice {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:        SliceName(svc.Name),
			Namespace:   svc.Namespace,
			Labels:      map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "kpe2e"},
			Annotations: map[string]string{corev1.EndpointsLastChangeTriggerTime: now.UTC().Format(time.RFC3339Nano)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	for _, sp := range svc.Spec.Ports {
		port := sp.Port
		if sp.TargetPort.IntVal != 0 {
			port = sp.TargetPort.IntVal
		}
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Protocol: ptr.To(sp.Protocol), Port: ptr.To(port)})
	}
	for _, ep := range eps {
		e := discoveryv1.Endpoint{
			Addresses:  []string{ep.Pod.IP.String()},
			Conditions: ep.State.conditions(),
			NodeName:   ptr.To(ep.Pod.Node.Name),
			Zone:       ptr.To(ep.Pod.Node.Zone),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ep.Pod.Namespace, Name: ep.Pod.Name},
		}
		if len(ep.Hints) > 0 {
			e.Hints = &discoveryv1.EndpointHints{}
			for _, z := range ep.Hints {
				e.Hints.ForZones = append(e.Hints.ForZones, discoveryv1.ForZone{Name: z})
			}
		}
		slice.Endpoints = append(slice.Endpoints, e)
	}
	return slice
}
