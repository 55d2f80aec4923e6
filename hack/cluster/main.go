// Command kcluster runs a local Kubernetes control plane for kproxy's tests
// and demo: an embedded etcd and a real kube-apiserver in one process, with
// credentials generated once and cached in a data directory.
//
// It prints "READY <kubeconfig>" on stdout once /readyz is ok and shuts
// down cleanly on SIGTERM or SIGINT (a second signal exits at once).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		klog.ErrorS(err, "kcluster failed")
		klog.Flush()
		os.Exit(1)
	}
}

// run starts etcd and the apiserver, reports readiness and blocks until a
// signal or an apiserver failure.
func run(args []string) error {
	start := time.Now()
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()

	p := newPKI(o.dataDir)
	if err := p.ensure(servingNames(o)); err != nil {
		return err
	}
	kubeconfig := adminKubeconfig(serverURL(o), p)
	if err := writeKubeconfig(o.kubeconfig, kubeconfig); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	etcd, err := startEtcd(ctx, o.dataDir, o.etcdPort, o.etcdLogLevel)
	if err != nil {
		return err
	}
	defer func() {
		etcd.Close() // etcd logs "use of closed network connection" here; harmless
		klog.InfoS("kcluster: stopped")
	}()
	klog.InfoS("kcluster: etcd ready", "url", etcdClientURL(o.etcdPort), "elapsed", time.Since(start).Round(time.Millisecond))

	return serveAPI(ctx, o, p, kubeconfig, start)
}

// serveAPI runs the apiserver, prints READY once /readyz is ok through the
// kubeconfig, and returns when ctx ends (after a graceful shutdown) or the
// apiserver stops on its own.
func serveAPI(ctx context.Context, o *options, p *pki, kubeconfig *clientcmdapi.Config, start time.Time) error {
	apiCtx, stopAPI := context.WithCancel(ctx)
	defer stopAPI()
	done := make(chan struct{})
	var apiErr error
	go func() {
		defer close(done)
		apiErr = runAPIServer(apiCtx, apiserverArgs(o, p))
	}()

	readyCtx, readyCancel := context.WithTimeout(ctx, o.readyTimeout)
	err := waitReady(readyCtx, kubeconfig, done)
	readyCancel()
	if err != nil {
		stopAPI()
		<-done
		return errors.Join(err, apiErr)
	}
	klog.InfoS("kcluster: apiserver ready", "url", serverURL(o), "elapsed", time.Since(start).Round(time.Millisecond))
	fmt.Printf("READY %s\n", o.kubeconfig)

	select {
	case <-ctx.Done():
		klog.InfoS("kcluster: shutting down")
	case <-done:
	}
	stopAPI()
	<-done
	return apiErr
}

// signalContext is cancelled by the first SIGTERM or SIGINT; a second one
// exits the process without waiting for the graceful shutdown.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		cancel()
		<-sigs
		klog.InfoS("kcluster: second signal, exiting now")
		klog.Flush()
		os.Exit(1)
	}()
	return ctx, cancel
}
