package deploy

import (
	"context"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/kproxy/kproxy/e2e/framework"
)

// The ServiceAccount the manifests create.
const (
	saNamespace = "kube-system"
	saName      = "kproxy"
	saUser      = "system:serviceaccount:kube-system:kproxy"
)

// access is one request kproxy's ServiceAccount may or may not make.
type access struct {
	verb, group, resource, namespace string
	allowed                          bool
}

// kproxyAccess is what kproxy needs (its informers and its event recorder),
// and a sample of what it must not be able to do.
var kproxyAccess = []access{
	{"list", "", "services", "", true},
	{"watch", "", "services", "", true},
	{"list", "discovery.k8s.io", "endpointslices", "", true},
	{"watch", "discovery.k8s.io", "endpointslices", "", true},
	{"list", "", "nodes", "", true},
	{"watch", "", "nodes", "", true},
	{"create", "", "events", "default", true},
	{"patch", "", "events", "default", true},
	{"create", "events.k8s.io", "events", "default", true},
	{"patch", "events.k8s.io", "events", "default", true},

	{"get", "", "secrets", "kube-system", false},
	{"list", "", "secrets", "", false},
	{"list", "", "pods", "", false},
	{"create", "", "pods", "default", false},
	{"create", "", "services", "default", false},
	{"update", "", "services", "default", false},
	{"delete", "", "services", "default", false},
	{"update", "", "nodes", "", false},
	{"patch", "", "nodes", "", false},
	{"delete", "discovery.k8s.io", "endpointslices", "default", false},
	{"create", "discovery.k8s.io", "endpointslices", "default", false},
	{"list", "", "configmaps", "kube-system", false},
	{"list", "", "endpoints", "", false},
}

// TestServiceAccountRights creates the ServiceAccount, ClusterRole and binding
// of hack/deploy/rbac.yaml, gets a token for the account through the
// TokenRequest API (as the kubelet does for the DaemonSet's pods), and checks
// with that token what kproxy may and may not do.
func TestServiceAccountRights(t *testing.T) {
	cp := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createRBAC(ctx, t, cp)
	createFixtures(ctx, t, cp.Kube)
	sa := tokenClient(ctx, t, cp)

	whoami, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview with the token: %v", err)
	}
	if got := whoami.Status.UserInfo.Username; got != saUser {
		t.Fatalf("the token authenticates as %q, want %q", got, saUser)
	}
	waitAllowed(ctx, t, sa, kproxyAccess[0])
	for _, a := range kproxyAccess {
		name := a.verb + " " + a.resource
		if a.group != "" {
			name += "." + a.group
		}
		if a.namespace != "" {
			name += " in " + a.namespace
		}
		t.Run("access review/"+name, func(t *testing.T) {
			if got := allowed(ctx, t, sa, a); got != a.allowed {
				t.Errorf("SelfSubjectAccessReview: allowed = %v, want %v", got, a.allowed)
			}
		})
	}
	t.Run("reads", func(t *testing.T) { checkReads(ctx, t, sa) })
	t.Run("events", func(t *testing.T) { checkEventWrites(ctx, t, sa, cp.Kube) })
	t.Run("refused", func(t *testing.T) { checkRefused(ctx, t, sa) })
}

// createRBAC creates the objects of rbac.yaml for real and deletes them when
// the test ends.
func createRBAC(ctx context.Context, t *testing.T, cp *framework.KCluster) {
	t.Helper()
	for _, m := range loadManifests(t) {
		if m.File != "rbac.yaml" {
			continue
		}
		if _, err := create(ctx, cp.Kube, m.Obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", m.ID(), err)
		}
		t.Cleanup(func() {
			if err := remove(context.Background(), cp.Kube, m.Obj); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete %s: %v", m.ID(), err)
			}
		})
	}
}

// tokenClient returns a client authenticated with a fresh token of kproxy's
// ServiceAccount, trusting the cluster's CA but holding no admin credential.
func tokenClient(ctx context.Context, t *testing.T, cp *framework.KCluster) kubernetes.Interface {
	t.Helper()
	tr, err := cp.Kube.CoreV1().ServiceAccounts(saNamespace).CreateToken(ctx, saName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", saNamespace, saName, err)
	}
	if tr.Status.Token == "" {
		t.Fatal("TokenRequest returned an empty token")
	}
	cfg := rest.AnonymousClientConfig(cp.Config)
	cfg.BearerToken = tr.Status.Token
	cfg.UserAgent = "kproxy-e2e-deploy-sa"
	cfg.QPS, cfg.Burst = 100, 200
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// allowed runs one SelfSubjectAccessReview.
func allowed(ctx context.Context, t *testing.T, c kubernetes.Interface, a access) bool {
	t.Helper()
	r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.namespace,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview %+v: %v", a, err)
	}
	return r.Status.Allowed
}

// waitAllowed waits until the new binding reaches the RBAC authorizer's cache.
func waitAllowed(ctx context.Context, t *testing.T, c kubernetes.Interface, a access) {
	t.Helper()
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		return allowed(ctx, t, c, a), nil
	})
	if err != nil {
		t.Fatalf("%s %s still not allowed 10 s after the binding was created", a.verb, a.resource)
	}
	t.Logf("binding effective after %s", time.Since(start).Round(time.Millisecond))
}
