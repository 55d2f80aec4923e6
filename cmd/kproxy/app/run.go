package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy"
)

// Run runs kproxy with validated options until ctx is done: --cleanup removes every rule
// the chosen mode owns and returns; otherwise it checks the node can run the mode, then
// watches the API server and syncs.
func Run(ctx context.Context, o *Options) error {
	reg := prometheus.NewRegistry()
	metrics := proxy.NewMetrics(reg)
	backends, err := newBackends(o, reg, metrics)
	if err != nil {
		return err
	}
	if o.Cleanup {
		return cleanup(ctx, backends)
	}
	WarnUnsupportedFields(o)
	defer closeBackends(backends)
	if backends, err = setupBackends(ctx, string(o.Config.Mode), backends); err != nil {
		return err
	}
	client, err := newClient(o)
	if err != nil {
		return err
	}
	minSync, maxSync := o.SyncPeriods()
	server := proxy.NewServer(proxy.Config{
		Client:           client,
		NodeName:         o.NodeName,
		Backends:         backends,
		MinSyncPeriod:    minSync,
		SyncPeriod:       maxSync,
		ConfigSyncPeriod: o.Config.ConfigSyncPeriod.Duration,
		MetricsAddr:      o.Config.MetricsBindAddress,
		HealthzAddr:      o.Config.HealthzBindAddress,
		Registry:         reg,
		Metrics:          metrics,
		Canary:           canaryOf(backends),
	})
	klog.InfoS("Starting kproxy", "mode", o.Config.Mode, "node", o.NodeName, "families", len(backends))
	return server.Run(ctx)
}

// cleanup removes the rules of every family and reports every failure.
func cleanup(ctx context.Context, backends []proxy.FamilyBackend) error {
	var errs []error
	for _, fb := range backends {
		if err := fb.Backend.Cleanup(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cleanup (%s): %w", fb.Family, err))
		}
	}
	return errors.Join(errs...)
}

// newClient connects to the API server from --kubeconfig and --master, or in-cluster
// when neither is set.
func newClient(o *Options) (kubernetes.Interface, error) {
	cc := o.Config.ClientConnection
	cfg, err := clientcmd.BuildConfigFromFlags(o.Master, cc.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("API server connection: %w", err)
	}
	cfg.AcceptContentTypes = cc.AcceptContentTypes
	cfg.ContentType = cc.ContentType
	cfg.QPS = cc.QPS
	cfg.Burst = int(cc.Burst)
	cfg.UserAgent = "kproxy"
	cfg.Wrap(wrapRetryUnreachable)
	return kubernetes.NewForConfig(cfg)
}
