// Package app turns kproxy's command line and its optional KubeProxyConfiguration
// file into one resolved, validated Options value.
//
// It mirrors kube-proxy's flags and its kubeproxy.config.k8s.io/v1alpha1 config
// file. Precedence is: flags given explicitly on the command line, then the
// --config file, then kube-proxy's defaults. Nothing in this package touches the
// kernel; it only reads the config file and, for --write-config-to, writes one.
package app
