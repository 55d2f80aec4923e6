package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"

	"go.etcd.io/etcd/server/v3/embed"
)

// etcdClientURL is where the embedded etcd serves clients. It is always
// 127.0.0.1 of the network namespace kcluster runs in: only the apiserver
// next to it talks to etcd.
func etcdClientURL(port int) string {
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// startEtcd starts a single-member etcd storing its data under dataDir and
// returns once it serves clients.
func startEtcd(ctx context.Context, dataDir string, port int, logLevel string) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "kcluster"
	cfg.Dir = filepath.Join(dataDir, "etcd")
	cfg.LogLevel = logLevel
	cfg.LogOutputs = []string{"stderr"}
	// A throwaway test store: losing it on a crash is fine, waiting for
	// fsync on every one of the apiserver's bootstrap writes is not.
	cfg.UnsafeNoFsync = true
	client, err := url.Parse(etcdClientURL(port))
	if err != nil {
		return nil, err
	}
	peer, err := url.Parse("http://127.0.0.1:" + strconv.Itoa(port+1))
	if err != nil {
		return nil, err
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
}
