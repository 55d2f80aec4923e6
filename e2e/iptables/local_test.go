package iptablese2e

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// externalLocal: with externalTrafficPolicy Local, a node port reaches only
// the endpoints on the node that received the traffic, and they see the
// client's own address. A node without a local endpoint drops the traffic.
// The health check node port tells load balancers which nodes have one.
func (s *suite) externalLocal(t *testing.T) {
	pods := s.podPerNode(t, "local")
	local := func(sp *corev1.ServiceSpec) {
		// LoadBalancer, not NodePort: only those get a health check node port.
		sp.Type = corev1.ServiceTypeLoadBalancer
		sp.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
	both := s.serve(t, tcpService("local", local), pods...)
	one := s.serve(t, tcpService("local-one", local), pods[0])
	client := s.c.Clients[0]
	for i, n := range s.c.Nodes {
		addr, want := nodePortAddr(n, both), pods[i]
		t.Run("node port on "+n.Name+" reaches its own endpoint, keeping the client address", func(t *testing.T) {
			s.waitAnswered(t, client, addr)
			r := s.c.Probe(t, client, tcp(addr, 30))
			if r.Pods[want.Name] != 30 || r.Clients[client.IP.String()] != 30 {
				t.Errorf("want 30 answers from %s seeing %s, got %s", want.Name, client.IP, r.String())
			}
		})
	}
	t.Run("a node without local endpoints drops", func(t *testing.T) {
		s.waitAnswered(t, client, nodePortAddr(s.c.Nodes[0], one))
		r := s.c.Probe(t, client, traffic.Probe{Protocol: traffic.TCP, Addr: nodePortAddr(s.c.Nodes[1], one), Count: 5, Timeout: 500 * time.Millisecond})
		if r.TimedOut != 5 {
			t.Errorf("want 5 connections to %s dropped (timed out), got %s", s.c.Nodes[1].Name, r.String())
		}
	})
	t.Run("health check node port", func(t *testing.T) {
		s.healthCheck(t, one, map[*framework.Node]int{s.c.Nodes[0]: http.StatusOK, s.c.Nodes[1]: http.StatusServiceUnavailable})
	})
}

// healthCheck fetches svc's health check node port on each node and wants
// the given status (kube-proxy: 200 with local endpoints, 503 without). It
// skips when nothing listens there: kproxy serves no health check node
// ports yet.
func (s *suite) healthCheck(t *testing.T, svc *corev1.Service, want map[*framework.Node]int) {
	if svc.Spec.HealthCheckNodePort == 0 {
		t.Fatalf("the apiserver allocated no health check node port to %s", svc.Name)
	}
	client := s.c.Clients[0]
	for n, code := range want {
		url := fmt.Sprintf("http://%s:%d/", n.IP, svc.Spec.HealthCheckNodePort)
		status, body, err := s.c.HTTPGet(client, url)
		if errors.Is(err, syscall.ECONNREFUSED) {
			t.Skipf("nothing serves the health check node port %d on %s (connection refused): kproxy has no health check server", svc.Spec.HealthCheckNodePort, n.Name)
		}
		if err != nil || status != code {
			t.Errorf("GET %s from outside: got %d %q (%v), want %d", url, status, body, err, code)
		}
	}
}
