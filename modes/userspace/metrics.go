package userspace

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of kubeproxy_userspace_bytes_total{direction}.
const (
	DirectionToEndpoint = "to_endpoint"
	DirectionToClient   = "to_client"
)

// metrics are the userspace proxy's collectors. Series are labelled by IP family
// and service port ("ns/name:port") and removed with the service port.
type metrics struct {
	family string
	active *prometheus.GaugeVec   // ip_family, service_port
	conns  *prometheus.CounterVec // ip_family, service_port
	bytes  *prometheus.CounterVec // ip_family, service_port, direction
	dials  *prometheus.CounterVec // ip_family, service_port
}

// newMetrics creates the collectors and registers them on reg (nil: nowhere). A
// collector already registered by another backend is shared.
func newMetrics(reg prometheus.Registerer, family string) *metrics {
	labels := []string{"ip_family", "service_port"}
	m := &metrics{
		family: family,
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubeproxy_userspace_active_connections",
			Help: "TCP connections and UDP sessions the userspace proxy relays, by service port.",
		}, labels),
		conns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeproxy_userspace_connections_total",
			Help: "TCP connections and UDP sessions the userspace proxy opened to an endpoint, by service port.",
		}, labels),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeproxy_userspace_bytes_total",
			Help: "Bytes relayed by the userspace proxy, by service port and direction, counted when a TCP connection or UDP session ends.",
		}, append(labels, "direction")),
		dials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeproxy_userspace_dial_failures_total",
			Help: "Failed or timed out attempts to reach an endpoint, by service port.",
		}, labels),
	}
	if reg != nil {
		m.active = register(reg, m.active)
		m.conns = register(reg, m.conns)
		m.bytes = register(reg, m.bytes)
		m.dials = register(reg, m.dials)
	}
	return m
}

// register registers c, or returns the equal collector registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if old, ok := are.ExistingCollector.(C); ok {
			return old
		}
	}
	if err != nil {
		panic(err) // a different metric under our name: a programming error
	}
	return c
}

// portMetrics are one service port's series, looked up once so that a connection
// costs a few atomic operations.
type portMetrics struct {
	active     prometheus.Gauge
	conns      prometheus.Counter
	toEndpoint prometheus.Counter
	toClient   prometheus.Counter
	dials      prometheus.Counter
}

// forPort returns the series of a service port.
func (m *metrics) forPort(port string) *portMetrics {
	return &portMetrics{
		active:     m.active.WithLabelValues(m.family, port),
		conns:      m.conns.WithLabelValues(m.family, port),
		toEndpoint: m.bytes.WithLabelValues(m.family, port, DirectionToEndpoint),
		toClient:   m.bytes.WithLabelValues(m.family, port, DirectionToClient),
		dials:      m.dials.WithLabelValues(m.family, port),
	}
}

// forget removes a service port's series.
func (m *metrics) forget(port string) {
	m.active.DeleteLabelValues(m.family, port)
	m.conns.DeleteLabelValues(m.family, port)
	m.bytes.DeleteLabelValues(m.family, port, DirectionToEndpoint)
	m.bytes.DeleteLabelValues(m.family, port, DirectionToClient)
	m.dials.DeleteLabelValues(m.family, port)
}

// opened counts a connection or session relayed to an endpoint.
func (pm *portMetrics) opened() {
	pm.active.Inc()
	pm.conns.Inc()
}

// ended counts the end of a connection or session and the bytes it relayed.
func (pm *portMetrics) ended(toEndpoint, toClient int64) {
	pm.active.Dec()
	if toEndpoint > 0 {
		pm.toEndpoint.Add(float64(toEndpoint))
	}
	if toClient > 0 {
		pm.toClient.Add(float64(toClient))
	}
}

// dialFailed counts a failed attempt to reach an endpoint.
func (pm *portMetrics) dialFailed() { pm.dials.Inc() }
