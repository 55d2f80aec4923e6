package app

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The repository files the DaemonSet test reads, relative to this package.
const (
	deployDir  = "../../../hack/deploy"
	dockerfile = "../../../Dockerfile"
)

// kubeadmCommand is the kube-proxy container's command in kubeadm's DaemonSet
// (KubeProxyDaemonSet19 in kubeadm's phases/addons/proxy/manifests.go); the
// kproxy image answers it through its /usr/local/bin/kube-proxy link.
var kubeadmCommand = []string{"/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"}

// TestDaemonSetCommandLines parses the command of hack/deploy's DaemonSet and
// that of kubeadm's, each with its own ConfigMap's config.conf standing in for
// the mounted file, as the kubelet would start them on node "worker-1".
func TestDaemonSetCommandLines(t *testing.T) {
	ds := readDaemonSet(t)
	c := ds.Spec.Template.Spec.Containers[0]
	tests := []struct {
		name           string
		command        []string
		config         []byte
		wantKubeconfig string // "" is the in-cluster ServiceAccount
	}{
		{"hack/deploy", c.Command, configMapConfig(t, ds), ""},
		{"kubeadm", kubeadmCommand, readFile(t, kubeadmConfig), "/var/lib/kube-proxy/kubeconfig.conf"},
	}
	docker := string(readFile(t, dockerfile))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(docker, tt.command[0]) {
				t.Errorf("the image does not install %s (Dockerfile)", tt.command[0])
			}
			conf := filepath.Join(t.TempDir(), "config.conf")
			if err := os.WriteFile(conf, tt.config, 0o600); err != nil {
				t.Fatal(err)
			}
			o, err := Parse(kubeletArgs(t, tt.command[1:], conf, "worker-1"))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.command, err)
			}
			equal(t, "config file", o.ConfigFile, conf)
			equal(t, "node name", o.NodeName, "worker-1")
			equal(t, "mode", o.Config.Mode, ModeIPTables)
			equal(t, "clusterCIDR", o.Config.ClusterCIDR, "10.244.0.0/16")
			equal(t, "kubeconfig", o.Config.ClientConnection.Kubeconfig, tt.wantKubeconfig)
			equal(t, "healthz", o.Config.HealthzBindAddress, "0.0.0.0:10256")
			if got := UnsupportedFields(o); len(got) > 0 {
				t.Errorf("config fields kproxy ignores: %v", got)
			}
		})
	}
}

// TestDaemonSetWiring checks that the DaemonSet's command, volumes, probe and
// environment agree with each other and with the ConfigMap.
func TestDaemonSetWiring(t *testing.T) {
	ds := readDaemonSet(t)
	spec := ds.Spec.Template.Spec
	c := spec.Containers[0]
	configArg := flagValue(t, c.Command, "--config")
	mount := mountOf(t, c, path.Dir(configArg))
	vol := volumeOf(t, spec, mount.Name)
	if vol.ConfigMap == nil || vol.ConfigMap.Name != readConfigMap(t).Name {
		t.Fatalf("--config %s is on volume %q, which is not the ConfigMap %q", configArg, mount.Name, readConfigMap(t).Name)
	}
	if _, ok := readConfigMap(t).Data[path.Base(configArg)]; !ok {
		t.Errorf("--config reads %s, but the ConfigMap has no key %q", configArg, path.Base(configArg))
	}
	var nodeName *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == "NODE_NAME" {
			nodeName = &c.Env[i]
		}
	}
	if nodeName == nil || nodeName.ValueFrom == nil || nodeName.ValueFrom.FieldRef == nil || nodeName.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("$(NODE_NAME) in the command must come from env NODE_NAME = fieldRef spec.nodeName, got %+v", nodeName)
	}
	probe := c.LivenessProbe
	if probe == nil || probe.HTTPGet == nil {
		t.Fatal("the DaemonSet has no HTTP liveness probe")
	}
	o := mustParse(t, "--config="+writeConfig(t, string(configMapConfig(t, ds))), "--hostname-override=n")
	if want := "0.0.0.0:" + probe.HTTPGet.Port.String(); o.Config.HealthzBindAddress != want || probe.HTTPGet.Path != "/livez" {
		t.Errorf("liveness probe %s%s does not match healthzBindAddress %s", probe.HTTPGet.Port.String(), probe.HTTPGet.Path, o.Config.HealthzBindAddress)
	}
	if !spec.HostNetwork {
		t.Error("kproxy must run in the host network namespace")
	}
}

// kubeletArgs expands $(NODE_NAME) as the kubelet does and points --config at
// conf, the stand-in for the mounted ConfigMap.
func kubeletArgs(t *testing.T, args []string, conf, node string) []string {
	t.Helper()
	out := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "$(NODE_NAME)", node)
		if strings.HasPrefix(a, "--config=") {
			a = "--config=" + conf
		}
		out[i] = a
	}
	if strings.Contains(strings.Join(out, " "), "$(") {
		t.Fatalf("unexpanded variable in %q", out)
	}
	return out
}

// configMapConfig returns the config.conf the DaemonSet's --config reads.
func configMapConfig(t *testing.T, ds *appsv1.DaemonSet) []byte {
	t.Helper()
	key := path.Base(flagValue(t, ds.Spec.Template.Spec.Containers[0].Command, "--config"))
	data, ok := readConfigMap(t).Data[key]
	if !ok {
		t.Fatalf("configmap.yaml has no key %q", key)
	}
	return []byte(data)
}

// flagValue returns the value of --name=value in a command.
func flagValue(t *testing.T, command []string, name string) string {
	t.Helper()
	for _, a := range command {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	t.Fatalf("command %q has no %s=", command, name)
	return ""
}

// mountOf returns the container's volume mount at dir.
func mountOf(t *testing.T, c corev1.Container, dir string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == dir {
			return m
		}
	}
	t.Fatalf("nothing is mounted at %s", dir)
	return corev1.VolumeMount{}
}

// volumeOf returns the pod's volume called name.
func volumeOf(t *testing.T, spec corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q", name)
	return corev1.Volume{}
}

// readDaemonSet decodes hack/deploy/daemonset.yaml.
func readDaemonSet(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(deployDir, "daemonset.yaml")), &ds); err != nil {
		t.Fatalf("daemonset.yaml: %v", err)
	}
	if len(ds.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("daemonset.yaml has %d containers, want 1", len(ds.Spec.Template.Spec.Containers))
	}
	return &ds
}

// readConfigMap decodes hack/deploy/configmap.yaml.
func readConfigMap(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(deployDir, "configmap.yaml")), &cm); err != nil {
		t.Fatalf("configmap.yaml: %v", err)
	}
	return &cm
}

// readFile reads a file or fails the test.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
