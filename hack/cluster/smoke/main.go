// Command smoke checks a running kcluster end to end with client-go: it
// creates a Service, an EndpointSlice and a Node, reads them back, checks
// what the apiserver filled in, and deletes them again.
//
//	go run ./smoke --kubeconfig ../../_output/cluster/admin.kubeconfig
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// name is used for every object the check creates.
const name = "kcluster-smoke"

func main() {
	kubeconfig := flag.String("kubeconfig", "", "admin kubeconfig written by kcluster")
	flag.Parse()
	if err := run(*kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "smoke: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("smoke: PASS")
}

// run creates, checks and deletes the objects.
func run(kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer cleanup(client)
	return errors.Join(checkService(ctx, client), checkSlice(ctx, client), checkNode(ctx, client))
}

// checkService creates a selector-less ClusterIP Service and checks that an
// address from the service range was allocated.
func checkService(ctx context.Context, c kubernetes.Interface) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP},
		}},
	}
	if _, err := c.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	got, err := c.CoreV1().Services("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get service: %w", err)
	}
	if got.Spec.ClusterIP == "" || got.Spec.Type != corev1.ServiceTypeClusterIP {
		return fmt.Errorf("service read back as type %q clusterIP %q", got.Spec.Type, got.Spec.ClusterIP)
	}
	fmt.Printf("service default/%s clusterIP %s\n", name, got.Spec.ClusterIP)
	return nil
}

// checkSlice creates an EndpointSlice for the Service and reads it back.
func checkSlice(ctx context.Context, c kubernetes.Interface) error {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: name},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.244.1.5"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To(name),
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if _, err := c.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create endpointslice: %w", err)
	}
	got, err := c.DiscoveryV1().EndpointSlices("default").Get(ctx, slice.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get endpointslice: %w", err)
	}
	if len(got.Endpoints) != 1 || got.Endpoints[0].Addresses[0] != "10.244.1.5" || got.Labels[discoveryv1.LabelServiceName] != name {
		return fmt.Errorf("endpointslice read back as %+v", got)
	}
	fmt.Printf("endpointslice default/%s endpoints %v\n", got.Name, got.Endpoints[0].Addresses)
	return nil
}

// checkNode creates a Node with an InternalIP and reads it back.
func checkNode(ctx context.Context, c kubernetes.Interface) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.NodeSpec{PodCIDR: "10.244.1.0/24"},
	}
	if _, err := c.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create node: %w", err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.200.0.11"}}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update node status: %w", err)
	}
	got, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get node: %w", err)
	}
	if len(got.Status.Addresses) != 1 || got.Status.Addresses[0].Address != "10.200.0.11" || got.Spec.PodCIDR != "10.244.1.0/24" {
		return fmt.Errorf("node read back as spec %+v status %+v", got.Spec, got.Status.Addresses)
	}
	fmt.Printf("node %s internalIP %s podCIDR %s\n", name, got.Status.Addresses[0].Address, got.Spec.PodCIDR)
	return nil
}

// cleanup deletes what the check created, ignoring what is already gone.
func cleanup(c kubernetes.Interface) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.CoreV1().Services("default").Delete(ctx, name, metav1.DeleteOptions{})
	_ = c.DiscoveryV1().EndpointSlices("default").Delete(ctx, name+"-1", metav1.DeleteOptions{})
	_ = c.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
}
