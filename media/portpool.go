package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// PortPool hands out UDP sockets on even ports of [Min, Max] on one IP.
// RTP uses the even port; the odd port above it is reserved for RTCP by
// convention but left unbound (we neither send nor need RTCP yet), so a
// peer's RTCP is dropped by the kernel.
//
// A pool with Min = Max = 0 lets the kernel choose any free port (tests).
type PortPool struct {
	ip       netip.Addr
	min, max int
	mu       sync.Mutex
	next     int
	used     map[int]bool
}

// NewPortPool returns a pool for ip (loopback when invalid) and the range.
func NewPortPool(ip netip.Addr, min, max int) (*PortPool, error) {
	if !ip.IsValid() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if !(min == 0 && max == 0) && (min < 1024 || max > 65534 || min > max) {
		return nil, fmt.Errorf("%w: %d-%d", ErrPortRange, min, max)
	}
	min += min & 1 // first even port
	if min > max && max != 0 {
		return nil, fmt.Errorf("%w: no even port in range", ErrPortRange)
	}
	return &PortPool{ip: ip, min: min, max: max, next: min, used: make(map[int]bool)}, nil
}

// IP returns the address the pool listens on.
func (p *PortPool) IP() netip.Addr { return p.ip }

// Listen binds the next free even port.
func (p *PortPool) Listen() (*net.UDPConn, error) {
	if p.max == 0 {
		return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, 0)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	var lastErr error
	for i := 0; i < n; i++ {
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		if p.used[port] {
			continue
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err != nil {
			lastErr = err
			continue // taken by another process
		}
		p.used[port] = true
		return conn, nil
	}
	if lastErr != nil {
		return nil, errors.Join(ErrNoPorts, lastErr)
	}
	return nil, ErrNoPorts
}

// Release returns a port to the pool; the caller closes the socket first.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}

// InUse returns how many ports are allocated.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}
