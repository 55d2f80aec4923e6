package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// productModule is the module line that marks kproxy's repository root.
const productModule = "module github.com/kproxy/kproxy"

// options is kcluster's command line after defaulting.
type options struct {
	bindAddress      net.IP
	advertiseAddress net.IP
	securePort       int
	etcdPort         int
	dataDir          string
	kubeconfig       string
	serviceCIDR      *net.IPNet
	readyTimeout     time.Duration
	etcdLogLevel     string
	// extraArgs are appended verbatim to kube-apiserver's arguments.
	extraArgs []string
}

// parseOptions reads kcluster's flags; everything after "--" is kept as
// extra kube-apiserver arguments.
func parseOptions(args []string) (*options, error) {
	fs := pflag.NewFlagSet("kcluster", pflag.ContinueOnError)
	bind := fs.String("bind-address", "127.0.0.1", "address the apiserver listens on")
	advertise := fs.String("advertise-address", "", "address written to the kubeconfig and the kubernetes Service (default: --bind-address)")
	port := fs.Int("secure-port", 6443, "apiserver HTTPS port")
	etcdPort := fs.Int("etcd-port", 2379, "etcd client port on 127.0.0.1 (peer port is etcd-port+1)")
	dataDir := fs.String("data-dir", "", "state directory: pki, etcd data, kubeconfig (default: <repo>/_output/cluster)")
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig to write (default: <data-dir>/admin.kubeconfig)")
	cidr := fs.String("service-cluster-ip-range", "10.96.0.0/16", "Service ClusterIP range")
	timeout := fs.Duration("ready-timeout", 2*time.Minute, "give up if /readyz is not ok by then")
	etcdLog := fs.String("etcd-log-level", "error", "embedded etcd log level")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: kcluster [flags] [-- extra kube-apiserver flags]\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o := &options{securePort: *port, etcdPort: *etcdPort, readyTimeout: *timeout, etcdLogLevel: *etcdLog, extraArgs: fs.Args()}
	var err error
	if o.bindAddress, err = parseIP("--bind-address", *bind); err != nil {
		return nil, err
	}
	if err := o.defaultAdvertise(*advertise); err != nil {
		return nil, err
	}
	if _, o.serviceCIDR, err = net.ParseCIDR(*cidr); err != nil {
		return nil, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	if err := o.defaultPaths(*dataDir, *kubeconfig); err != nil {
		return nil, err
	}
	return o, nil
}

// defaultAdvertise sets the advertise address, which must be a concrete
// address: an apiserver on a host without a default route cannot guess one.
func (o *options) defaultAdvertise(flag string) error {
	if flag != "" {
		ip, err := parseIP("--advertise-address", flag)
		if err != nil {
			return err
		}
		if ip.IsUnspecified() {
			return errors.New("--advertise-address must not be unspecified")
		}
		o.advertiseAddress = ip
		return nil
	}
	if o.bindAddress.IsUnspecified() {
		return fmt.Errorf("--advertise-address is required when --bind-address is %s", o.bindAddress)
	}
	o.advertiseAddress = o.bindAddress
	return nil
}

// defaultPaths resolves the data directory and kubeconfig to absolute paths.
func (o *options) defaultPaths(dataDir, kubeconfig string) error {
	if dataDir == "" {
		root, err := repoRoot()
		if err != nil {
			return fmt.Errorf("no --data-dir given and %w", err)
		}
		dataDir = filepath.Join(root, "_output", "cluster")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	o.dataDir = abs
	if kubeconfig == "" {
		kubeconfig = filepath.Join(o.dataDir, "admin.kubeconfig")
	}
	o.kubeconfig, err = filepath.Abs(kubeconfig)
	return err
}

// parseIP parses an address flag.
func parseIP(flag, value string) (net.IP, error) {
	ip := net.ParseIP(value)
	if ip == nil {
		return nil, fmt.Errorf("%s: %q is not an IP address", flag, value)
	}
	return ip, nil
}

// repoRoot walks up from the working directory to kproxy's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isProductRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the kproxy repository")
		}
		dir = parent
	}
}

// isProductRoot reports whether path is a go.mod declaring kproxy's module.
func isProductRoot(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == productModule {
			return true
		}
	}
	return false
}
