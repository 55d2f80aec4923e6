package framework

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// apiTimeout bounds one helper's API calls.
const apiTimeout = 10 * time.Second

// CreateService creates svc (namespace "default" when unset) and returns it
// as stored, with its ClusterIP.
func (c *Cluster) CreateService(t testing.TB, svc *corev1.Service) *corev1.Service {
	t.Helper()
	c.requireAPI(t)
	if svc.Namespace == "" {
		svc = svc.DeepCopy()
		svc.Namespace = "default"
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	got, err := c.Kube.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("e2e: create service %s/%s: %v", svc.Namespace, svc.Name, err)
	}
	return got
}

// DeleteService deletes the service and the framework's EndpointSlice for it.
func (c *Cluster) DeleteService(t testing.TB, svc *corev1.Service) {
	t.Helper()
	c.requireAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	err := c.Kube.CoreV1().Services(svc.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("e2e: delete service %s/%s: %v", svc.Namespace, svc.Name, err)
	}
	err = c.Kube.DiscoveryV1().EndpointSlices(svc.Namespace).Delete(ctx, SliceName(svc.Name), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("e2e: delete endpointslice of %s/%s: %v", svc.Namespace, svc.Name, err)
	}
	c.mu.Lock()
	delete(c.members, svc.Namespace+"/"+svc.Name)
	c.mu.Unlock()
}

// SetEndpoints makes eps the service's endpoints: it creates or replaces
// the EndpointSlice SliceName(svc.Name). RemovePod keeps it up to date.
func (c *Cluster) SetEndpoints(t testing.TB, svc *corev1.Service, eps ...Endpoint) {
	t.Helper()
	c.requireAPI(t)
	if err := c.setEndpoints(svc, eps); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}

// TrySetEndpoints is SetEndpoints returning the error instead of failing
// the test: for goroutines, and for writes expected to fail while the
// control plane is down.
func (c *Cluster) TrySetEndpoints(svc *corev1.Service, eps ...Endpoint) error {
	return c.setEndpoints(svc, eps)
}

// setEndpoints is SetEndpoints returning an error.
func (c *Cluster) setEndpoints(svc *corev1.Service, eps []Endpoint) error {
	c.mu.Lock()
	c.members[svc.Namespace+"/"+svc.Name] = slices.Clone(eps)
	c.mu.Unlock()
	want := renderSlice(svc, eps, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	api := c.Kube.DiscoveryV1().EndpointSlices(svc.Namespace)
	cur, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
	case err == nil:
		want.ResourceVersion = cur.ResourceVersion
		_, err = api.Update(ctx, want, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("endpointslice %s/%s: %w", svc.Namespace, want.Name, err)
	}
	return nil
}

// setPodState changes the pod's state in every service that has it.
func (c *Cluster) setPodState(p *Pod, s State) error {
	return c.editMembers(p, func(ep Endpoint) (Endpoint, bool) {
		ep.State = s
		return ep, true
	})
}

// dropPodEndpoints removes the pod from every service that has it.
func (c *Cluster) dropPodEndpoints(p *Pod) error {
	return c.editMembers(p, func(ep Endpoint) (Endpoint, bool) { return ep, false })
}

// editMembers rewrites, in every service that has pod p, p's endpoints with
// edit (keep=false drops them), and pushes the changed slices.
func (c *Cluster) editMembers(p *Pod, edit func(Endpoint) (Endpoint, bool)) error {
	if c.Kube == nil {
		return nil
	}
	changed := map[string][]Endpoint{}
	c.mu.Lock()
	for key, eps := range c.members {
		if !slices.ContainsFunc(eps, func(ep Endpoint) bool { return ep.Pod == p }) {
			continue
		}
		var out []Endpoint
		for _, ep := range eps {
			if ep.Pod == p {
				var keep bool
				if ep, keep = edit(ep); !keep {
					continue
				}
			}
			out = append(out, ep)
		}
		changed[key] = out
	}
	c.mu.Unlock()
	for key, eps := range changed {
		svc, err := c.service(key)
		if err != nil {
			return err
		}
		if err := c.setEndpoints(svc, eps); err != nil {
			return err
		}
	}
	return nil
}

// service reads a service by "<namespace>/<name>".
func (c *Cluster) service(key string) (*corev1.Service, error) {
	ns, name, _ := strings.Cut(key, "/")
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	return c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
}

// requireAPI fails the test when the cluster was built without a control
// plane.
func (c *Cluster) requireAPI(t testing.TB) {
	t.Helper()
	if c.Kube == nil {
		t.Fatal("e2e: this cluster has no control plane (Options.NoControlPlane)")
	}
}
