package media

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// Targets decides which addresses media may be sent to. A peer chooses
// where we send through its SDP (or the source of its packets), so an
// address is refused when sending there would let one INVITE aim our
// stream at something that never asked for it: a multicast group, a
// broadcast address, port 0, or one of this server's own sockets (its RTP
// port range on any of its addresses, and the UDP sockets registered with
// AddOwn: SIP over UDP).
//
// The zero value applies only the rules that need no knowledge of the
// server. A nil *Targets is valid and allows every unicast address.
type Targets struct {
	mu      sync.RWMutex
	ownIPs  map[netip.Addr]bool
	bcast   map[netip.Addr]bool // broadcast addresses of the local IPv4 networks
	minPort int
	maxPort int
	own     map[netip.AddrPort]bool
	ownPort map[uint16]bool // own ports bound to the unspecified address
}

// NewTargets returns the policy for a server whose RTP sockets come from
// pool. The pool's IP, the loopback addresses and the addresses of the
// machine's interfaces count as the server's own.
func NewTargets(pool *PortPool) *Targets {
	t := &Targets{ownIPs: map[netip.Addr]bool{}, bcast: map[netip.Addr]bool{},
		own: map[netip.AddrPort]bool{}, ownPort: map[uint16]bool{}}
	if pool != nil {
		t.minPort, t.maxPort = pool.min, pool.max
		t.ownIPs[pool.ip.Unmap()] = true
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			t.ownIPs[p.Addr().Unmap()] = true
			if b, ok := broadcastOf(p); ok {
				t.bcast[b] = true
			}
		}
	}
	return t
}

// broadcastOf returns the broadcast address of an IPv4 network.
func broadcastOf(p netip.Prefix) (netip.Addr, bool) {
	if !p.Addr().Is4() || p.Bits() >= 31 {
		return netip.Addr{}, false
	}
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// AddOwn registers one of the server's own UDP sockets (a SIP listener
// over UDP): media, which is UDP, is never sent there. An unspecified IP
// stands for every local address.
func (t *Targets) AddOwn(a netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ip := a.Addr().Unmap()
	if ip.IsUnspecified() {
		t.ownPort[a.Port()] = true
		return
	}
	t.own[netip.AddrPortFrom(ip, a.Port())] = true
}

// Check returns nil when media may go to a, else an error wrapping
// ErrTarget that says why.
func (t *Targets) Check(a netip.AddrPort) error {
	ip := a.Addr().Unmap()
	switch {
	case !ip.IsValid() || ip.IsUnspecified():
		return fmt.Errorf("%w: no address", ErrTarget)
	case a.Port() == 0:
		return fmt.Errorf("%w: port 0", ErrTarget)
	case ip.IsMulticast():
		return fmt.Errorf("%w: %s is multicast", ErrTarget, ip)
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%w: %s is the broadcast address", ErrTarget, ip)
	}
	if t == nil {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	port := int(a.Port())
	ownIP := ip.IsLoopback() || t.ownIPs[ip]
	switch {
	case t.bcast[ip]:
		return fmt.Errorf("%w: %s is the broadcast address of a local network", ErrTarget, ip)
	case ownIP && t.maxPort > 0 && port >= t.minPort && port <= t.maxPort+1:
		return fmt.Errorf("%w: %s is one of this server's rtp ports", ErrTarget, a)
	case t.own[netip.AddrPortFrom(ip, a.Port())], ownIP && t.ownPort[a.Port()]:
		return fmt.Errorf("%w: %s is one of this server's own sockets", ErrTarget, a)
	}
	return nil
}

// CheckSDP is Check for an address read from an SDP, where the
// unspecified address (RFC 2543 hold) and an absent address are allowed:
// nothing is sent until a valid address is known.
func (t *Targets) CheckSDP(a netip.AddrPort) error {
	if !a.Addr().IsValid() || a.Addr().IsUnspecified() {
		return nil
	}
	return t.Check(a)
}
