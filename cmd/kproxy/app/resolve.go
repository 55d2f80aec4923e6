package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	logsapi "k8s.io/component-base/logs/api/v1"
)

// resolve fills what depends on the merged flags and file: the effective
// mode, the node name, listen addresses given as bare IPs, and the log
// verbosity shared by -v and logging.verbosity.
func resolve(o *Options, fs *pflag.FlagSet, hostname func() (string, error)) error {
	if o.Config.Mode == "" {
		o.Config.Mode = ModeIPTables
	}
	o.Config.HealthzBindAddress = appendPortIfBareIP(o.Config.HealthzBindAddress, defaultHealthzPort)
	o.Config.MetricsBindAddress = appendPortIfBareIP(o.Config.MetricsBindAddress, defaultMetricsPort)
	if err := resolveVerbosity(o, fs); err != nil {
		return err
	}
	name, err := nodeName(o.Config.HostnameOverride, hostname)
	if err != nil {
		return err
	}
	o.NodeName = name
	return nil
}

// nodeName returns the node's name as kube-proxy picks it: the override if
// set, else the host name; trimmed and lowercased.
func nodeName(override string, hostname func() (string, error)) (string, error) {
	if override != "" {
		name := strings.ToLower(strings.TrimSpace(override))
		if name == "" {
			return "", fmt.Errorf("hostnameOverride (--hostname-override): %q is blank", override)
		}
		return name, nil
	}
	host, err := hostname()
	if err != nil {
		return "", fmt.Errorf("cannot get the host name (%v), set --hostname-override", err)
	}
	name := strings.ToLower(strings.TrimSpace(host))
	if name == "" {
		return "", fmt.Errorf("the host name is empty, set --hostname-override")
	}
	return name, nil
}

// resolveVerbosity makes -v and the config file's logging.verbosity agree:
// -v given on the command line wins; otherwise the file's value sets klog's.
func resolveVerbosity(o *Options, fs *pflag.FlagSet) error {
	v := fs.Lookup("v")
	if v == nil {
		return nil
	}
	if v.Changed {
		n, err := strconv.ParseUint(v.Value.String(), 10, 32)
		if err != nil {
			return fmt.Errorf("-v: %q is not a verbosity level", v.Value.String())
		}
		o.Config.Logging.Verbosity = logsapi.VerbosityLevel(n)
		return nil
	}
	if o.Config.Logging.Verbosity > 0 {
		return v.Value.Set(strconv.FormatUint(uint64(o.Config.Logging.Verbosity), 10))
	}
	return nil
}
