package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// disabledAdmission lists default admission plugins that wait for objects
// only kube-controller-manager creates (the ServiceAccount plugin rejects
// pods until the "default" account exists).
const disabledAdmission = "ServiceAccount"

// apiserverArgs renders kube-apiserver's command line. It is a pure function
// of the options and credential paths so it can be tested without starting
// anything.
func apiserverArgs(o *options, p *pki) []string {
	reconciler := "lease"
	if o.advertiseAddress.IsLoopback() {
		// The kubernetes Service's endpoints may not be loopback addresses.
		reconciler = "none"
	}
	args := []string{
		"--bind-address=" + o.bindAddress.String(),
		"--advertise-address=" + o.advertiseAddress.String(),
		"--secure-port=" + strconv.Itoa(o.securePort),
		"--tls-cert-file=" + p.serveCert,
		"--tls-private-key-file=" + p.serveKey,
		"--client-ca-file=" + p.caCert,
		"--cert-dir=" + p.dir,
		"--etcd-servers=" + etcdClientURL(o.etcdPort),
		"--service-cluster-ip-range=" + o.serviceCIDR.String(),
		"--token-auth-file=" + p.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saKey,
		"--service-account-signing-key-file=" + p.saKey,
		"--disable-admission-plugins=" + disabledAdmission,
		"--enable-priority-and-fairness=false",
		"--endpoint-reconciler-type=" + reconciler,
		"--allow-privileged=true",
		"--profiling=false",
	}
	return append(args, o.extraArgs...)
}

// runAPIServer runs kube-apiserver in this process until ctx is cancelled,
// doing what its cobra command does minus the signal handling, which stays
// with kcluster so that etcd outlives the apiserver's graceful shutdown.
func runAPIServer(ctx context.Context, args []string) error {
	s := apiserveroptions.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, set := range s.Flags().FlagSets {
		fs.AddFlagSet(set)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("kube-apiserver flags: %w", err)
	}
	registry := s.GenericServerRunOptions.ComponentGlobalsRegistry
	if err := registry.Set(); err != nil {
		return err
	}
	if err := logsapi.ValidateAndApply(s.Logs, registry.FeatureGateFor(basecompatibility.DefaultKubeComponent)); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	return app.Run(ctx, completed)
}

// servingNames lists what the serving certificate must be valid for:
// loopback, the listen and advertised addresses, and the kubernetes
// Service's ClusterIP and DNS names (reached through the proxy under test).
func servingNames(o *options) ([]net.IP, []string) {
	var ips []net.IP
	for _, ip := range []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, o.bindAddress, o.advertiseAddress, firstServiceIP(o.serviceCIDR)} {
		if !ip.IsUnspecified() && !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	return ips, dns
}

// firstServiceIP is the ClusterIP the apiserver gives the kubernetes Service.
func firstServiceIP(cidr *net.IPNet) net.IP {
	ip := make(net.IP, len(cidr.IP))
	copy(ip, cidr.IP)
	for i := len(ip) - 1; i >= 0; i-- {
		ip[i]++
		if ip[i] != 0 {
			break
		}
	}
	return ip
}
