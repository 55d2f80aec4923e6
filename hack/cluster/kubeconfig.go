package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// contextName names the cluster, user and context in the admin kubeconfig.
const contextName = "kcluster"

// serverURL is the apiserver address clients are given.
func serverURL(o *options) string {
	return "https://" + net.JoinHostPort(o.advertiseAddress.String(), strconv.Itoa(o.securePort))
}

// adminKubeconfig builds a kubeconfig that trusts the CA and authenticates
// with the admin token.
func adminKubeconfig(server string, p *pki) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{Token: p.adminToken}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	cfg.CurrentContext = contextName
	return cfg
}

// writeKubeconfig writes cfg to path (mode 0600), creating its directory.
func writeKubeconfig(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o600)
}
