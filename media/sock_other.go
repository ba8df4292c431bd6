//go:build !linux

package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Elsewhere than Linux each endpoint's socket has a reader goroutine (one
// wake-up per packet) and sends one packet per system call.

type udpSock struct {
	conn  *net.UDPConn
	local netip.AddrPort
	done  chan struct{}
}

func bindUDP(addr netip.AddrPort) (*udpSock, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	la := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return &udpSock{conn: c, local: netip.AddrPortFrom(la.Addr().Unmap(), la.Port()), done: make(chan struct{})}, nil
}

func (s *udpSock) send(pkts [][]byte, to netip.AddrPort) (int, error) {
	for i, p := range pkts {
		if _, err := s.conn.WriteToUDPAddrPort(p, to); err != nil {
			return i, err
		}
	}
	return len(pkts), nil
}

type poller struct {
	mu sync.Mutex
}

func (p *poller) add(e *Endpoint) error {
	go func() {
		defer close(e.sock.done)
		buf := make([]byte, 1500)
		for {
			n, from, err := e.sock.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if e.handlePacket(buf[:n], from) {
				e.reportDigits()
			}
		}
	}()
	return nil
}

func (p *poller) remove(e *Endpoint) error {
	err := e.sock.conn.Close()
	if !e.inCallback.Load() {
		<-e.sock.done
	}
	return err
}
