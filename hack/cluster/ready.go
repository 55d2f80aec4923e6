package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// readyPollInterval is how often /readyz is asked while starting.
const readyPollInterval = 100 * time.Millisecond

// waitReady polls /readyz with the admin kubeconfig until it answers "ok",
// so that READY also proves the kubeconfig works. It gives up when ctx ends
// or when failed reports that the apiserver stopped.
func waitReady(ctx context.Context, cfg *clientcmdapi.Config, failed <-chan struct{}) error {
	restCfg, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		return err
	}
	restCfg.Timeout = 2 * time.Second
	client, err := rest.HTTPClientFor(restCfg)
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(restCfg.Host, "/") + "/readyz"
	last := "no answer yet"
	tick := time.NewTicker(readyPollInterval)
	defer tick.Stop()
	for {
		ok, status := probe(ctx, client, url)
		if ok {
			return nil
		}
		last = status
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %s", url, last)
		case <-failed:
			return fmt.Errorf("apiserver stopped before %s was ok", url)
		case <-tick.C:
		}
	}
}

// probe does one GET of url and reports whether it answered 200 "ok",
// and otherwise what it said.
func probe(ctx context.Context, client *http.Client, url string) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	text := strings.TrimSpace(string(body))
	return resp.StatusCode == http.StatusOK && text == "ok", fmt.Sprintf("%d %s", resp.StatusCode, text)
}
