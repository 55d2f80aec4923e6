package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/kproxy/kproxy/endpoints"
)

// Names of the objects the RSS measurement creates.
const (
	benchNamespace = "bench"
	benchNode      = "bench-node"
	benchNodeIP    = "192.168.0.10"
)

// apiLoad creates the cluster of the kernel measurements in a real API server:
// services Services with one TCP port (one in ten a NodePort), each with an
// EndpointSlice of eps ready endpoints, one endpoint in a hundred on benchNode.
type apiLoad struct {
	client   kubernetes.Interface
	services int
	eps      int
	workers  int
}

// run creates the namespace, the node and every Service and EndpointSlice, workers
// at a time.
func (l *apiLoad) run(ctx context.Context) error {
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}
	if _, err := l.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace: %w", err)
	}
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: benchNode},
		Status: v1.NodeStatus{Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: benchNodeIP}}}}
	if _, err := l.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node: %w", err)
	}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	errs := make(chan error, l.workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range l.workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= l.services || ctx.Err() != nil {
					return
				}
				if err := l.create(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// create creates service i and its EndpointSlice, retrying what the API server
// refuses for a moment (it throttles a loaded control plane).
func (l *apiLoad) create(ctx context.Context, i int) error {
	svc, slice := l.service(i), l.slice(i)
	for attempt := 0; ; attempt++ {
		_, err := l.client.CoreV1().Services(benchNamespace).Create(ctx, svc, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			break
		}
		if attempt == 5 {
			return fmt.Errorf("create service %s: %w", svc.Name, err)
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	for attempt := 0; ; attempt++ {
		_, err := l.client.DiscoveryV1().EndpointSlices(benchNamespace).Create(ctx, slice, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if attempt == 5 {
			return fmt.Errorf("create endpointslice %s: %w", slice.Name, err)
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}

// service returns Service i as "kubectl apply" leaves it; the API server picks
// its cluster IP (and node port).
func (l *apiLoad) service(i int) *v1.Service {
	name := serviceName(i)
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace,
			Labels: map[string]string{"app": name},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": fmt.Sprintf(
				`{"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":%q},"name":%q,"namespace":%q},`+
					`"spec":{"ports":[{"name":"p","port":80,"protocol":"TCP","targetPort":8080}],"selector":{"app":%q}}}`,
				name, name, benchNamespace, name)}},
		Spec: v1.ServiceSpec{
			Type:     v1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": name},
			Ports:    []v1.ServicePort{{Name: "p", Protocol: v1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if i%10 == 0 {
		svc.Spec.Type = v1.ServiceTypeNodePort
	}
	return svc
}

// slice returns the EndpointSlice of service i with the endpoints of the kernel
// measurements' cluster, as the EndpointSlice controller writes it (owner,
// labels, trigger time, each endpoint's pod, node and zone).
func (l *apiLoad) slice(i int) *discovery.EndpointSlice {
	svc := serviceName(i)
	port, proto, ready, zone := int32(8080), v1.ProtocolTCP, true, "zone-a"
	portName := "p"
	s := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: svc + "-1", Namespace: benchNamespace,
			Labels: map[string]string{discovery.LabelServiceName: svc, discovery.LabelManagedBy: "endpointslice-controller.k8s.io"},
			Annotations: map[string]string{
				endpoints.TriggerTimeAnnotation: time.Now().UTC().Format(time.RFC3339),
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc,
				UID: types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))}},
		},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
	}
	for k := range l.eps {
		id := i*l.eps + k
		node := fmt.Sprintf("node-%03d", id%97)
		if id%100 == 0 {
			node = benchNode
		}
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{
			Addresses:  []string{endpointIP(id)},
			Conditions: discovery.EndpointConditions{Ready: &ready},
			NodeName:   &node,
			Zone:       &zone,
			TargetRef: &v1.ObjectReference{Kind: "Pod", Namespace: benchNamespace, Name: fmt.Sprintf("%s-%d", svc, k),
				UID: types.UID(fmt.Sprintf("00000000-0000-4000-9000-%012d", id))},
		})
	}
	return s
}
