package userspace

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy"
)

// program makes one service port's listeners match svc: opens what is missing,
// updates endpoints and affinity, and retires an external listener no longer
// needed. SCTP ports are skipped: Go has no SCTP sockets.
func (b *Backend) program(name proxy.ServicePortName, svc *proxy.Service) error {
	sp := b.services[name]
	if sp == nil {
		if p := name.Protocol; p != v1.ProtocolTCP && p != v1.ProtocolUDP {
			klog.V(2).InfoS("Userspace mode does not proxy this protocol", "servicePort", name, "protocol", p)
			return nil
		}
		sp = &servicePort{name: name, label: name.String()}
		sp.m = b.metrics.forPort(sp.label)
		b.services[name] = sp
	}
	in, ext, split := trafficEndpoints(svc)
	if sp.internal == nil {
		l, err := b.open(sp)
		if err != nil {
			return fmt.Errorf("userspace %s: service port %s: %w", b.cfg.family, name, err)
		}
		sp.internal = l
	}
	sp.internal.update(in, svc.AffinityTimeout)
	sp.split = split
	if !split {
		if sp.external != nil {
			b.retiring = append(b.retiring, sp.external)
			sp.external = nil
		}
		return nil
	}
	if sp.external == nil {
		l, err := b.open(sp)
		if err != nil {
			return fmt.Errorf("userspace %s: service port %s, external traffic: %w", b.cfg.family, name, err)
		}
		sp.external = l
	}
	sp.external.update(ext, svc.AffinityTimeout)
	return nil
}

// prune retires the listeners of service ports snap no longer holds.
func (b *Backend) prune(snap *proxy.Snapshot) {
	for name, sp := range b.services {
		if _, ok := snap.Services[name]; ok {
			continue
		}
		delete(b.services, name)
		b.retiring = append(b.retiring, sp.listeners()...)
		b.metrics.forget(sp.label)
		klog.V(2).InfoS("Closing the listeners of a removed service port", "servicePort", sp.label)
	}
}

// open opens a listener for sp on a port from the range.
func (b *Backend) open(sp *servicePort) (listener, error) {
	var l listener
	_, err := b.ports.allocate(func(port int) (int, error) {
		var err error
		l, err = b.listen(sp, port)
		if err != nil {
			return 0, err
		}
		return l.port(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening a listener: %w", err)
	}
	klog.V(2).InfoS("Opened listener", "servicePort", sp.label, "address", b.cfg.listenOn, "port", l.port())
	return l, nil
}

// listen opens and starts a listener of sp's protocol on port (0: any).
func (b *Backend) listen(sp *servicePort, port int) (listener, error) {
	ctx, cancel := context.WithCancel(context.Background())
	base := relayBase{label: sp.label, pool: newPool(b.cfg.clock), m: sp.m, ctx: ctx, cancel: cancel, wg: &b.wg}
	if sp.name.Protocol == v1.ProtocolUDP {
		conn, got, err := listenUDP(b.network("udp"), b.cfg.listenOn, port, b.cfg.listenOn.IsUnspecified())
		if err != nil {
			cancel()
			return nil, err
		}
		base.portN, base.dialer = got, dialer{network: b.network("udp"), timeouts: b.cfg.dialTimeouts}
		l := &udpListener{relayBase: base, conn: conn, timeout: b.cfg.udpTimeout, clock: b.cfg.clock,
			pktinfo: b.cfg.listenOn.IsUnspecified(), bufs: b.bufs, sessions: map[netip.AddrPort]*udpSession{}}
		l.start()
		return l, nil
	}
	loops, err := b.relayLoops()
	if err != nil {
		cancel()
		return nil, err
	}
	fd, got, err := listenSocket(b.cfg.listenOn, port)
	if err != nil {
		cancel()
		return nil, err
	}
	base.portN, base.dialer = got, dialer{network: b.network("tcp"), timeouts: b.cfg.dialTimeouts}
	l := &tcpListener{relayBase: base, fd: fd, loops: loops}
	l.start()
	return l, nil
}

// relayLoops returns the loops that relay TCP connections, starting them on
// first use: one per CPU Go runs on. b.mu must be held.
func (b *Backend) relayLoops() ([]*loop, error) {
	if b.loops != nil {
		return b.loops, nil
	}
	loops := make([]*loop, runtime.GOMAXPROCS(0))
	for i := range loops {
		l, err := newLoop()
		if err != nil {
			for _, started := range loops[:i] {
				started.stop()
			}
			return nil, fmt.Errorf("starting a relay loop: %w", err)
		}
		loops[i] = l
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			l.run()
		}()
	}
	b.loops = loops
	return loops, nil
}

// network returns "tcp4", "udp6", ... for the backend's family.
func (b *Backend) network(proto string) string {
	if b.cfg.ipv6 {
		return proto + "6"
	}
	return proto + "4"
}
