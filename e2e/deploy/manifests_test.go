package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kproxy/kproxy/e2e/framework"
)

// manifest is one object of hack/deploy, decoded into its typed struct.
type manifest struct {
	File string // base name, e.g. "rbac.yaml"
	Obj  runtime.Object
}

// ID names the object as kubectl does: kind/namespace/name.
func (m manifest) ID() string {
	acc, err := metaOf(m.Obj)
	if err != nil {
		return fmt.Sprintf("%T", m.Obj)
	}
	kind := m.Obj.GetObjectKind().GroupVersionKind().Kind
	if acc.GetNamespace() == "" {
		return kind + "/" + acc.GetName()
	}
	return kind + "/" + acc.GetNamespace() + "/" + acc.GetName()
}

// loadManifests decodes every document of hack/deploy/*.yaml, strictly: an
// unknown or duplicated field is an error rather than silently dropped, so
// what reaches the API server is what the files say.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "hack", "deploy", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s/hack/deploy (%v)", root, err)
	}
	sort.Strings(files)
	dec := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	var out []manifest
	for _, f := range files {
		docs, err := yamlDocuments(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, doc := range docs {
			obj, _, err := dec.Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s document %d: %v", filepath.Base(f), i+1, err)
			}
			out = append(out, manifest{File: filepath.Base(f), Obj: obj})
		}
	}
	return out
}

// yamlDocuments splits a multi-document YAML file, leaving out documents that
// hold only comments.
func yamlDocuments(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if hasContent(doc) {
			docs = append(docs, doc)
		}
	}
}

// hasContent reports whether a YAML document holds more than comments and blanks.
func hasContent(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return true
		}
	}
	return false
}

// metaOf returns an object's metadata.
func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return m, nil
}

// create creates obj with the typed client of its kind. Kinds the manifests
// do not use have no client here, so a new kind fails the tests until it is
// handled.
func create(ctx context.Context, c kubernetes.Interface, obj runtime.Object, opts metav1.CreateOptions) (runtime.Object, error) {
	switch o := obj.DeepCopyObject().(type) {
	case *corev1.ServiceAccount:
		return nilIfErr(c.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, opts))
	case *corev1.ConfigMap:
		return nilIfErr(c.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, opts))
	case *rbacv1.ClusterRole:
		return nilIfErr(c.RbacV1().ClusterRoles().Create(ctx, o, opts))
	case *rbacv1.ClusterRoleBinding:
		return nilIfErr(c.RbacV1().ClusterRoleBindings().Create(ctx, o, opts))
	case *appsv1.DaemonSet:
		return nilIfErr(c.AppsV1().DaemonSets(o.Namespace).Create(ctx, o, opts))
	default:
		return nil, fmt.Errorf("no client for %T in the test: handle the new kind in create and remove", obj)
	}
}

// get reads back the object of obj's kind, namespace and name.
func get(ctx context.Context, c kubernetes.Interface, obj runtime.Object) error {
	var err error
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		_, err = c.CoreV1().ServiceAccounts(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	case *corev1.ConfigMap:
		_, err = c.CoreV1().ConfigMaps(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	case *rbacv1.ClusterRole:
		_, err = c.RbacV1().ClusterRoles().Get(ctx, o.Name, metav1.GetOptions{})
	case *rbacv1.ClusterRoleBinding:
		_, err = c.RbacV1().ClusterRoleBindings().Get(ctx, o.Name, metav1.GetOptions{})
	case *appsv1.DaemonSet:
		_, err = c.AppsV1().DaemonSets(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	default:
		err = fmt.Errorf("no client for %T in the test", obj)
	}
	return err
}

// remove deletes the object of obj's kind, namespace and name.
func remove(ctx context.Context, c kubernetes.Interface, obj runtime.Object) error {
	var err error
	opts := metav1.DeleteOptions{}
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		err = c.CoreV1().ServiceAccounts(o.Namespace).Delete(ctx, o.Name, opts)
	case *corev1.ConfigMap:
		err = c.CoreV1().ConfigMaps(o.Namespace).Delete(ctx, o.Name, opts)
	case *rbacv1.ClusterRole:
		err = c.RbacV1().ClusterRoles().Delete(ctx, o.Name, opts)
	case *rbacv1.ClusterRoleBinding:
		err = c.RbacV1().ClusterRoleBindings().Delete(ctx, o.Name, opts)
	case *appsv1.DaemonSet:
		err = c.AppsV1().DaemonSets(o.Namespace).Delete(ctx, o.Name, opts)
	default:
		err = fmt.Errorf("no client for %T in the test", obj)
	}
	return err
}

// nilIfErr turns a typed client's (object, error) into (runtime.Object, error)
// without a typed nil pointer hiding in the interface on error.
func nilIfErr[T runtime.Object](obj T, err error) (runtime.Object, error) {
	if err != nil {
		return nil, err
	}
	return obj, nil
}
