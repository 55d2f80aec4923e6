package ipvse2e

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The guest as a Kubernetes node.
const (
	// nodeName is the guest's Node (kproxy's --hostname-override).
	nodeName = "kproxy-vm"
	// nodeIP is the guest's eth0 address on QEMU's user network.
	nodeIP = "10.0.2.15"
	// clusterCIDR is kproxy's --cluster-cidr.
	clusterCIDR = "10.244.0.0/16"
	// namespace holds every object the tests create.
	namespace = "default"
	// servicePort and targetPort are the same for every Service.
	servicePort = 80
	targetPort  = 8080
	// sliceLabel marks the EndpointSlices the tests manage.
	sliceLabel = "kproxy-ipvs-e2e"
)

// svcSpec is one Service and the endpoint addresses of its EndpointSlice.
type svcSpec struct {
	name      string
	clusterIP string
	nodePort  int32
	affinity  bool // sessionAffinity ClientIP (default timeout, 10800 s)
	endpoints []string
	// node is the endpoints' node; "" is the guest's (nodeName).
	node string
}

// vip is the service's cluster IP with its port, as ipvsadm names it.
func (s svcSpec) vip() string { return fmt.Sprintf("%s:%d", s.clusterIP, servicePort) }

// service renders the Service object.
func (s svcSpec) service() *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: namespace},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: s.clusterIP,
			Ports: []corev1.ServicePort{{
				Protocol: corev1.ProtocolTCP, Port: servicePort, TargetPort: intstr.FromInt32(targetPort),
			}},
		},
	}
	if s.nodePort != 0 {
		svc.Spec.Type = corev1.ServiceTypeNodePort
		svc.Spec.Ports[0].NodePort = s.nodePort
	}
	if s.affinity {
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	}
	return svc
}

// slice renders the EndpointSlice with addrs as ready endpoints on the
// guest's node, or on s.node.
func (s svcSpec) slice(addrs []string) *discoveryv1.EndpointSlice {
	node := nodeName
	if s.node != "" {
		node = s.node
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      s.name + "-e2e",
			Namespace: namespace,
			Labels:    map[string]string{discoveryv1.LabelServiceName: s.name, discoveryv1.LabelManagedBy: sliceLabel},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{
			Name: ptr.To(""), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(targetPort)),
		}},
		Endpoints: []discoveryv1.Endpoint{},
	}
	for _, a := range addrs {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{a},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			NodeName:   ptr.To(node),
		})
	}
	return es
}

// nodeObject is the guest's Node.
func nodeObject() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{corev1.LabelHostname: nodeName}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP},
			{Type: corev1.NodeHostName, Address: nodeName},
		}},
	}
}

// ensureNode creates the guest's Node unless it exists.
func ensureNode(ctx context.Context, kube kubernetes.Interface) error {
	_, err := kube.CoreV1().Nodes().Create(ctx, nodeObject(), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// createServices creates every Service and its EndpointSlice, with workers
// requests in flight, and stops at the first error.
func createServices(ctx context.Context, kube kubernetes.Interface, specs []svcSpec, workers int) error {
	return forEach(ctx, specs, workers, func(ctx context.Context, s svcSpec) error {
		if _, err := kube.CoreV1().Services(namespace).Create(ctx, s.service(), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Service %s: %w", s.name, err)
		}
		if _, err := kube.DiscoveryV1().EndpointSlices(namespace).Create(ctx, s.slice(s.endpoints), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating EndpointSlice of %s: %w", s.name, err)
		}
		return nil
	})
}

// deleteServices deletes the Services and their EndpointSlices; missing
// ones are fine.
func deleteServices(ctx context.Context, kube kubernetes.Interface, specs []svcSpec, workers int) error {
	return forEach(ctx, specs, workers, func(ctx context.Context, s svcSpec) error {
		err := kube.DiscoveryV1().EndpointSlices(namespace).Delete(ctx, s.name+"-e2e", metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		err = kube.CoreV1().Services(namespace).Delete(ctx, s.name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	})
}

// setEndpoints replaces the endpoints of a service's EndpointSlice.
func setEndpoints(ctx context.Context, kube kubernetes.Interface, s svcSpec, addrs []string) error {
	slices := kube.DiscoveryV1().EndpointSlices(namespace)
	cur, err := slices.Get(ctx, s.name+"-e2e", metav1.GetOptions{})
	if err != nil {
		return err
	}
	want := s.slice(addrs)
	want.ResourceVersion = cur.ResourceVersion
	_, err = slices.Update(ctx, want, metav1.UpdateOptions{})
	return err
}

// forEach runs fn on every item with at most workers at once and returns
// the first error; the others are then cancelled.
func forEach[T any](ctx context.Context, items []T, workers int, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan T)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range work {
				if err := fn(ctx, it); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// mustCreate creates the Node and the services or fails the test, and
// deletes the services when the test ends.
func mustCreate(t *testing.T, kube kubernetes.Interface, specs []svcSpec) {
	t.Helper()
	ctx := context.Background()
	if err := ensureNode(ctx, kube); err != nil {
		t.Fatalf("creating Node %s: %v", nodeName, err)
	}
	t.Cleanup(func() {
		if err := deleteServices(context.Background(), kube, specs, 8); err != nil {
			t.Errorf("deleting the test's Services: %v", err)
		}
	})
	if err := createServices(ctx, kube, specs, 8); err != nil {
		t.Fatal(err)
	}
}
