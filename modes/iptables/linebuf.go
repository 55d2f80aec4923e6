package iptablesmode

import (
	"bytes"
	"net/netip"
	"strconv"
)

// lineBuf is a reused buffer of iptables-restore lines that counts the lines it
// holds. Its writers append without building intermediate strings, so rendering
// 100,000 endpoints does not allocate per endpoint.
type lineBuf struct {
	bytes.Buffer
	lines int
	num   [48]byte // scratch for numbers and addresses
}

// reset empties the buffer, keeping its memory.
func (b *lineBuf) reset() {
	b.Reset()
	b.lines = 0
}

// chainLine declares chain, which creates it or, under --noflush, flushes it.
func (b *lineBuf) chainLine(chain string) {
	b.WriteByte(':')
	b.WriteString(chain)
	b.WriteString(" - [0:0]\n")
	b.lines++
}

// start begins a rule appended to chain: "-A chain".
func (b *lineBuf) start(chain string) {
	b.WriteString("-A ")
	b.WriteString(chain)
}

// op writes one line "op chain spec": -A, -D or -X (with an empty spec).
func (b *lineBuf) op(op, chain, spec string) {
	b.WriteString(op)
	b.WriteByte(' ')
	b.WriteString(chain)
	if spec != "" {
		b.WriteByte(' ')
		b.WriteString(spec)
	}
	b.end()
}

// insert writes "-I chain pos spec".
func (b *lineBuf) insert(chain string, pos int, spec string) {
	b.WriteString("-I ")
	b.WriteString(chain)
	b.WriteByte(' ')
	b.Write(strconv.AppendInt(b.num[:0], int64(pos), 10))
	b.WriteByte(' ')
	b.WriteString(spec)
	b.end()
}

// end finishes a line.
func (b *lineBuf) end() {
	b.WriteByte('\n')
	b.lines++
}

// comment writes ` -m comment --comment "text"`.
func (b *lineBuf) comment(text string) {
	b.WriteString(` -m comment --comment "`)
	b.WriteString(text)
	b.WriteByte('"')
}

// comment2 writes a comment made of two parts, such as "ns/svc:p" + " cluster IP".
func (b *lineBuf) comment2(a, c string) {
	b.WriteString(` -m comment --comment "`)
	b.WriteString(a)
	b.WriteString(c)
	b.WriteByte('"')
}

// comment3 writes a comment made of three parts.
func (b *lineBuf) comment3(a, c, d string) {
	b.WriteString(` -m comment --comment "`)
	b.WriteString(a)
	b.WriteString(c)
	b.WriteString(d)
	b.WriteByte('"')
}

// commentTo writes the comment of a rule sending a service to an endpoint:
// "ns/svc:p -> 10.0.0.1:80".
func (b *lineBuf) commentTo(name string, ep netip.AddrPort) {
	b.WriteString(` -m comment --comment "`)
	b.WriteString(name)
	b.WriteString(" -> ")
	b.addrPort(ep)
	b.WriteByte('"')
}

// proto writes ` -m tcp -p tcp` (or udp, sctp).
func (b *lineBuf) proto(p string) {
	b.WriteString(" -m ")
	b.WriteString(p)
	b.WriteString(" -p ")
	b.WriteString(p)
}

// host writes an address as a host prefix, "10.0.0.1/32" or "fd00::1/128", the form
// iptables-save prints.
func (b *lineBuf) host(ip netip.Addr) {
	b.Write(ip.AppendTo(b.num[:0]))
	if ip.Is4() {
		b.WriteString("/32")
	} else {
		b.WriteString("/128")
	}
}

// prefix writes a CIDR.
func (b *lineBuf) prefix(p netip.Prefix) {
	b.Write(p.AppendTo(b.num[:0]))
}

// addrPort writes "10.0.0.1:80" or "[fd00::1]:80".
func (b *lineBuf) addrPort(ap netip.AddrPort) {
	b.Write(ap.AppendTo(b.num[:0]))
}

// port writes a port number.
func (b *lineBuf) port(p uint16) {
	b.Write(strconv.AppendUint(b.num[:0], uint64(p), 10))
}

// dport writes ` --dport n`.
func (b *lineBuf) dport(p uint16) {
	b.WriteString(" --dport ")
	b.port(p)
}

// jump writes ` -j target`.
func (b *lineBuf) jump(target string) {
	b.WriteString(" -j ")
	b.WriteString(target)
}

// takeLine returns the buffer's text without its leading byte, as a string, and
// empties it. Specs are built with a leading space that the caller drops.
func (b *lineBuf) take() string {
	s := string(bytes.TrimPrefix(b.Bytes(), []byte{' '}))
	b.reset()
	return s
}
