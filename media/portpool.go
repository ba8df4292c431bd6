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
//
// Ports may be taken for an owner (a tenant): with SetOwnerShare, one
// owner holds at most that share of the pool, so a tenant (or one caller
// of it) holding many calls cannot leave the others without ports.
type PortPool struct {
	ip       netip.Addr
	min, max int
	mu       sync.Mutex
	next     int
	used     map[int]string // port -> owner
	owners   map[string]int // ports held per owner
	share    int            // ports one owner may hold; 0 = all
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
	return &PortPool{ip: ip, min: min, max: max, next: min, used: make(map[int]string), owners: make(map[string]int)}, nil
}

// Size returns the number of RTP ports in the pool (0 for a kernel-chosen
// pool).
func (p *PortPool) Size() int {
	if p.max == 0 {
		return 0
	}
	return (p.max-p.min)/2 + 1
}

// SetOwnerShare limits each owner to fraction (0 < fraction <= 1) of the
// pool's ports, at least one; 0 or 1 lifts the limit.
func (p *PortPool) SetOwnerShare(fraction float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fraction <= 0 || fraction >= 1 || p.Size() == 0 {
		p.share = 0
		return
	}
	p.share = max(1, int(fraction*float64(p.Size())))
}

// IP returns the address the pool listens on.
func (p *PortPool) IP() netip.Addr { return p.ip }

// Listen binds the next free even port.
func (p *PortPool) Listen() (*net.UDPConn, error) { return p.ListenFor("") }

// ListenFor binds the next free even port for owner; ErrOwnerShare when
// the owner holds its share of the pool already.
func (p *PortPool) ListenFor(owner string) (*net.UDPConn, error) {
	if p.max == 0 {
		return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, 0)))
	}
	var conn *net.UDPConn
	err := p.take(owner, func(port int) (err error) {
		conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		return err
	})
	return conn, err
}

// bind is ListenFor for an endpoint's socket (see udpSock).
func (p *PortPool) bind(owner string) (*udpSock, error) {
	if p.max == 0 {
		return bindUDP(netip.AddrPortFrom(p.ip, 0))
	}
	var s *udpSock
	err := p.take(owner, func(port int) (err error) {
		s, err = bindUDP(netip.AddrPortFrom(p.ip, uint16(port)))
		return err
	})
	return s, err
}

// take finds the next free even port for owner that bind accepts and
// marks it used.
func (p *PortPool) take(owner string, bind func(port int) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if owner != "" && p.share > 0 && p.owners[owner] >= p.share {
		return fmt.Errorf("%w: %s holds %d of %d ports", ErrOwnerShare, owner, p.owners[owner], p.Size())
	}
	n := (p.max-p.min)/2 + 1
	var lastErr error
	for i := 0; i < n; i++ {
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		if _, taken := p.used[port]; taken {
			continue
		}
		if err := bind(port); err != nil {
			lastErr = err
			continue // taken by another process
		}
		p.used[port] = owner
		p.owners[owner]++
		return nil
	}
	if lastErr != nil {
		return errors.Join(ErrNoPorts, lastErr)
	}
	return ErrNoPorts
}

// Release returns a port to the pool; the caller closes the socket first.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	owner, ok := p.used[port]
	if !ok {
		return
	}
	delete(p.used, port)
	if p.owners[owner]--; p.owners[owner] <= 0 {
		delete(p.owners, owner)
	}
}

// InUseBy returns how many ports owner holds.
func (p *PortPool) InUseBy(owner string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.owners[owner]
}

// InUse returns how many ports are allocated.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}
