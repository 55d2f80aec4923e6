package framework

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kproxy/kproxy/e2e/netns"
)

// controlPlaneTimeout bounds kcluster's start (etcd and kube-apiserver).
const controlPlaneTimeout = 2 * time.Minute

// startControlPlane starts kcluster in the fabric namespace, listening on
// 10.200.0.1:6443; connectControlPlane waits for it.
func (c *Cluster) startControlPlane() (*Process, error) {
	data := filepath.Join(c.WorkDir, "kcluster")
	c.Kubeconfig = filepath.Join(data, "admin.kubeconfig")
	p, err := startProcess("kcluster", c.FabricNS, filepath.Join(c.WorkDir, "kcluster.log"), "READY ", nil,
		c.kclusterBin,
		"--bind-address", FabricIP().String(),
		"--advertise-address", FabricIP().String(),
		"--secure-port", strconv.Itoa(APIServerPort),
		"--service-cluster-ip-range", ServiceCIDR,
		"--data-dir", data,
		"--kubeconfig", c.Kubeconfig,
	)
	if err != nil {
		return nil, err
	}
	c.track(p)
	return p, nil
}

// connectControlPlane waits for kcluster's READY line and builds the admin
// client, which dials from inside the fabric namespace.
func (c *Cluster) connectControlPlane(p *Process) error {
	line, err := p.WaitLine(controlPlaneTimeout)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(strings.TrimPrefix(line, "READY ")); got != c.Kubeconfig {
		return fmt.Errorf("kcluster wrote its kubeconfig to %s, not %s", got, c.Kubeconfig)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.Dial = netns.DialContext(c.FabricNS)
	cfg.QPS, cfg.Burst = 200, 400
	cfg.UserAgent = "kproxy-e2e"
	c.RESTConfig = cfg
	c.Kube, err = kubernetes.NewForConfig(cfg)
	return err
}

// writeNodeKubeconfig writes the kubeconfig kproxy uses on node n: the admin
// credentials, pointing at https://10.200.0.1:6443 over the fabric.
func (c *Cluster) writeNodeKubeconfig(n *Node) (string, error) {
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		return "", err
	}
	for _, cluster := range cfg.Clusters {
		cluster.Server = APIServerURL()
	}
	path := filepath.Join(n.Dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}
