// Package connlimit bounds the connections a stream listener (SIP over
// TCP, the HTTP API) keeps open: in all, per source IP, and how long one
// may stay idle. A connection over a limit is closed at once, so a flood
// from one source cannot take the slots of every other client, and a
// client that connects and goes quiet is dropped.
package connlimit

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets the limits; zero values mean no limit.
type Config struct {
	MaxConns int // connections open at once
	MaxPerIP int // connections open at once from one source IP
	// Exempt source IPs (an SBC, a trunk) are not held to MaxPerIP.
	Exempt func(netip.Addr) bool
	// IdleTimeout closes a connection on which a Read waited that long
	// without data, unless KeepOpen says it must stay (a SIP connection
	// that carries a call in progress). Leave it zero for servers that set
	// their own read deadlines (net/http).
	IdleTimeout time.Duration
	KeepOpen    func(remote netip.AddrPort) bool
	// OnRefuse is told about each connection closed at accept (reason
	// "total" or "per-ip") and each closed idle ("idle"). It must not
	// block.
	OnRefuse func(remote netip.AddrPort, reason string)
}

// Listener wraps a net.Listener with Config's limits.
type Listener struct {
	net.Listener
	cfg Config

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

// Wrap returns l with the limits of cfg.
func Wrap(l net.Listener, cfg Config) *Listener {
	return &Listener{Listener: l, cfg: cfg, perIP: map[netip.Addr]int{}}
}

// Accept returns the next connection within the limits; connections over
// a limit are closed and never returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		remote := addrPort(c.RemoteAddr())
		ip := remote.Addr()
		l.mu.Lock()
		reason := ""
		switch {
		case l.cfg.MaxConns > 0 && l.total >= l.cfg.MaxConns:
			reason = "total"
		case l.cfg.MaxPerIP > 0 && l.perIP[ip] >= l.cfg.MaxPerIP && (l.cfg.Exempt == nil || !l.cfg.Exempt(ip)):
			reason = "per-ip"
		default:
			l.total++
			l.perIP[ip]++
		}
		l.mu.Unlock()
		if reason != "" {
			c.Close()
			if l.cfg.OnRefuse != nil {
				l.cfg.OnRefuse(remote, reason)
			}
			continue
		}
		return &conn{Conn: c, l: l, remote: remote}, nil
	}
}

// Open returns the connections open now, in all and from ip.
func (l *Listener) Open(ip netip.Addr) (total, fromIP int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.perIP[ip.Unmap()]
}

func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

type conn struct {
	net.Conn
	l      *Listener
	remote netip.AddrPort
	closed atomic.Bool
}

// Read applies the idle timeout: a read that waits IdleTimeout without
// data fails (and the server closes the connection), unless KeepOpen asks
// to keep waiting.
func (c *conn) Read(b []byte) (int, error) {
	idle := c.l.cfg.IdleTimeout
	if idle <= 0 {
		return c.Conn.Read(b)
	}
	for {
		if err := c.Conn.SetReadDeadline(time.Now().Add(idle)); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(b)
		if n > 0 || err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if c.l.cfg.KeepOpen != nil && c.l.cfg.KeepOpen(c.remote) {
			continue
		}
		if c.l.cfg.OnRefuse != nil {
			c.l.cfg.OnRefuse(c.remote, "idle")
		}
		return 0, err
	}
}

func (c *conn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.remote.Addr())
	}
	return c.Conn.Close()
}
