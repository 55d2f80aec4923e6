package ipvse2e

import "github.com/kproxy/kproxy/e2e/framework"

// startControlPlane starts kcluster with its data in dir and waits for its
// READY line. It binds 0.0.0.0 so that QEMU's relays reach it on
// 127.0.0.1, and advertises apiserverIP, which the guest connects to; its
// kubeconfig's server, https://10.0.2.100:6443, is valid on the host and in
// the guest alike.
func startControlPlane(dir string) (*framework.KCluster, error) {
	return framework.StartKCluster(framework.KClusterOptions{
		Dir:              dir,
		BindAddress:      "0.0.0.0",
		Port:             apiserverPort,
		AdvertiseAddress: apiserverIP,
		UserAgent:        "kproxy-e2e-ipvs",
		QPS:              1000,
		Burst:            2000,
	})
}
