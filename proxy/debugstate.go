package proxy

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kproxy/kproxy/endpoints"
)

// DebugState serves /debug/state: every family's table as stable, sorted text, one
// service port per line followed by its endpoints and their conditions.
func (s *Syncer) DebugState() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		out := bufio.NewWriter(w)
		s.mu.Lock()
		for _, fb := range s.backends {
			WriteState(out, s.table.Snapshot(fb.Family))
		}
		s.mu.Unlock()
		_ = out.Flush()
	})
}

// WriteState prints one snapshot in /debug/state's format.
func WriteState(w *bufio.Writer, snap *Snapshot) {
	w.WriteString("family " + string(snap.Family) + " node " + snap.Node.Name)
	if snap.Node.Zone != "" {
		w.WriteString(" zone " + snap.Node.Zone)
	}
	for _, ip := range snap.Node.IPs {
		w.WriteString(" ip " + ip.String())
	}
	w.WriteByte('\n')
	for _, name := range snap.Sorted() {
		writeService(w, snap.Services[name])
	}
}

// writeService prints one service port and its endpoints.
func writeService(w *bufio.Writer, svc *Service) {
	w.WriteString("service " + svc.Name.String() + " " + string(svc.Protocol()) + " " + svc.ClusterIP.String() + ":" + strconv.Itoa(int(svc.Port)))
	if svc.NodePort != 0 {
		w.WriteString(" nodePort=" + strconv.Itoa(int(svc.NodePort)))
	}
	writeList(w, "externalIPs", svc.ExternalIPs)
	writeList(w, "loadBalancerIPs", svc.LoadBalancerIPs)
	writeList(w, "sourceRanges", svc.SourceRanges)
	if svc.AffinityTimeout > 0 {
		w.WriteString(" affinity=ClientIP/" + strconv.Itoa(int(svc.AffinityTimeout.Seconds())) + "s")
	}
	if svc.Policy.InternalLocal {
		w.WriteString(" internalTrafficPolicy=Local")
	}
	if svc.Policy.ExternalLocal {
		w.WriteString(" externalTrafficPolicy=Local")
	}
	if svc.HealthCheckNodePort != 0 {
		w.WriteString(" healthCheckNodePort=" + strconv.Itoa(int(svc.HealthCheckNodePort)))
	}
	w.WriteByte('\n')
	for _, ep := range svc.All {
		writeEndpoint(w, ep, svc.Endpoints)
	}
}

// writeEndpoint prints one endpoint with its conditions and where it was selected.
func writeEndpoint(w *bufio.Writer, ep endpoints.Endpoint, sel endpoints.Selection) {
	w.WriteString("  endpoint " + ep.String())
	for _, c := range []struct {
		on   bool
		name string
	}{{ep.Ready, "ready"}, {ep.Serving, "serving"}, {ep.Terminating, "terminating"}, {ep.Local, "local"}} {
		if c.on {
			w.WriteString(" " + c.name)
		}
	}
	if ep.NodeName != "" {
		w.WriteString(" node=" + ep.NodeName)
	}
	if len(ep.ZoneHints) > 0 {
		w.WriteString(" hints=" + strings.Join(ep.ZoneHints, ","))
	}
	var used []string
	same := func(e endpoints.Endpoint) bool { return e.AddrPort() == ep.AddrPort() }
	if slices.ContainsFunc(sel.Cluster, same) {
		used = append(used, "cluster")
	}
	if slices.ContainsFunc(sel.Local, same) {
		used = append(used, "local")
	}
	if len(used) > 0 {
		w.WriteString(" selected=" + strings.Join(used, ","))
	}
	w.WriteByte('\n')
}

// writeList prints " key=a,b" when items is not empty.
func writeList[T interface{ String() string }](w *bufio.Writer, key string, items []T) {
	if items == nil {
		return
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	w.WriteString(" " + key + "=" + strings.Join(parts, ","))
}
