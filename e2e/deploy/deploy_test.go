package deploy

import (
	"context"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// wantObjects is what hack/deploy must hold, and nothing else.
var wantObjects = []string{
	"ClusterRole/system:kproxy",
	"ClusterRoleBinding/system:kproxy",
	"ConfigMap/kube-system/kproxy",
	"DaemonSet/kube-system/kproxy",
	"ServiceAccount/kube-system/kproxy",
}

// dryRun asks the API server to validate and admit without persisting.
var dryRun = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

// TestManifestsServerDryRun sends every object of hack/deploy to a real
// kube-apiserver with server-side dry run: each is validated against the real
// schema and admission, and nothing is stored.
func TestManifestsServerDryRun(t *testing.T) {
	cp := cluster(t)
	t.Logf("kcluster READY after %s", cp.ReadyAfter.Round(time.Millisecond))
	objs := loadManifests(t)
	var ids []string
	for _, m := range objs {
		ids = append(ids, m.ID())
	}
	slices.Sort(ids)
	if !slices.Equal(ids, wantObjects) {
		t.Errorf("hack/deploy holds %q, want %q", ids, wantObjects)
	}
	for _, m := range objs {
		t.Run(m.ID(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := create(ctx, cp.Kube, m.Obj, dryRun)
			if err != nil {
				t.Fatalf("%s: API server rejected it: %v", m.File, err)
			}
			if ds, ok := got.(*appsv1.DaemonSet); ok {
				checkDefaultedDaemonSet(t, m.Obj.(*appsv1.DaemonSet), ds)
			}
			if err := get(ctx, cp.Kube, m.Obj); !apierrors.IsNotFound(err) {
				t.Errorf("after a dry run, get = %v, want NotFound (dry run must store nothing)", err)
			}
		})
	}
}

// checkDefaultedDaemonSet checks that the dry run went through the server's
// defaulting and kept what the file says.
func checkDefaultedDaemonSet(t *testing.T, sent, got *appsv1.DaemonSet) {
	t.Helper()
	if got.Spec.RevisionHistoryLimit == nil {
		t.Errorf("dry-run DaemonSet has no revisionHistoryLimit: the server did not default it")
	}
	want := sent.Spec.Template.Spec.Containers[0].Command
	if cmd := got.Spec.Template.Spec.Containers[0].Command; !slices.Equal(cmd, want) {
		t.Errorf("dry-run DaemonSet command = %q, want %q", cmd, want)
	}
	if got.Spec.Template.Spec.ServiceAccountName != "kproxy" {
		t.Errorf("serviceAccountName = %q, want kproxy", got.Spec.Template.Spec.ServiceAccountName)
	}
}

// TestDryRunRejectsBrokenDaemonSet proves the dry run above is a real check:
// the same DaemonSet with one mistake is refused.
func TestDryRunRejectsBrokenDaemonSet(t *testing.T) {
	cp := cluster(t)
	var ds *appsv1.DaemonSet
	for _, m := range loadManifests(t) {
		if d, ok := m.Obj.(*appsv1.DaemonSet); ok {
			ds = d
		}
	}
	if ds == nil {
		t.Fatal("hack/deploy holds no DaemonSet")
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		want   func(error) bool
	}{
		{"selector does not match the pod labels", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Labels = map[string]string{"k8s-app": "other"}
		}, apierrors.IsInvalid},
		{"container without image", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Containers[0].Image = ""
		}, apierrors.IsInvalid},
		{"probe port out of range", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Containers[0].LivenessProbe.HTTPGet.Port.IntVal = 70000
		}, apierrors.IsInvalid},
		{"NODE_NAME from a field that does not exist", func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.FieldRef.FieldPath = "spec.nodeNam"
		}, apierrors.IsInvalid},
		{"unknown hostPath type", func(d *appsv1.DaemonSet) {
			bogus := corev1.HostPathType("Socketish")
			d.Spec.Template.Spec.Volumes[1].HostPath.Type = &bogus
		}, apierrors.IsInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := ds.DeepCopy()
			tt.mutate(broken)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := create(ctx, cp.Kube, broken, dryRun)
			if !tt.want(err) {
				t.Errorf("dry run of a broken DaemonSet: err = %v, want it refused", err)
			}
		})
	}
}
