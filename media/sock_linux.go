//go:build linux

package media

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RTP sockets on Linux are plain non-blocking file descriptors that Go's
// network poller never sees. Each clock shard has a poller: one epoll
// instance holding its endpoints' sockets (level-triggered), itself
// registered with Go's poller, so one goroutine wake-up serves every packet
// that arrived in the meantime, on any socket of the shard. A ready socket
// is read with recvmmsg, a batch per system call. Sends are plain sendto,
// or sendmmsg when one tick sends several packets on one socket. Every
// call on these sockets is non-blocking, so they are made as raw system
// calls: without the scheduler's hand-off of a blocking one.

const (
	// rxBufSize is the largest datagram read whole; a longer one is
	// truncated and counted malformed.
	rxBufSize = 1500
	// pollEvents is how many ready sockets one epoll_wait returns.
	pollEvents = 128
)

// udpSock is an endpoint's socket.
type udpSock struct {
	fd     int
	family int
	local  netip.AddrPort

	// sendMu keeps a send off a descriptor being closed (it could be
	// reused by any file at once).
	sendMu sync.Mutex
	closed bool
	// The last destination as a raw sockaddr, rebuilt when it changes.
	// Guarded by sendMu.
	to    netip.AddrPort
	sa    unix.RawSockaddrInet6 // big enough for both families
	saLen uint32
	// A tick's packets beyond the first, for sendmmsg. Guarded by sendMu.
	mmsg []mmsghdr
	iov  []unix.Iovec
}

// mmsghdr is struct mmsghdr: a msghdr and the bytes moved.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// bindUDP binds a non-blocking UDP socket to addr (port 0: the kernel
// picks one).
func bindUDP(addr netip.AddrPort) (*udpSock, error) {
	ip := addr.Addr()
	family := unix.AF_INET
	if ip.Is6() && !ip.Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.Unmap().As4()}
	} else {
		if ip.IsUnspecified() {
			// Dual stack, as the net package does for "[::]".
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		}
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	s := &udpSock{fd: fd, family: family, local: addr}
	if addr.Port() == 0 {
		got, err := unix.Getsockname(fd)
		if err != nil {
			unix.Close(fd)
			return nil, os.NewSyscallError("getsockname", err)
		}
		switch a := got.(type) {
		case *unix.SockaddrInet4:
			s.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		case *unix.SockaddrInet6:
			s.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
		}
	}
	return s, nil
}

// setDest makes the cached sockaddr to's. Caller holds sendMu.
func (s *udpSock) setDest(to netip.AddrPort) bool {
	if to == s.to && s.saLen != 0 {
		return true
	}
	s.saLen = 0
	ip := to.Addr()
	b := (*[unsafe.Sizeof(s.sa)]byte)(unsafe.Pointer(&s.sa))
	clear(b[:])
	switch {
	case s.family == unix.AF_INET && ip.Unmap().Is4():
		s.sa.Family = unix.AF_INET
		binary.BigEndian.PutUint16(b[2:4], to.Port())
		a := ip.Unmap().As4()
		copy(b[4:8], a[:])
		s.saLen = unix.SizeofSockaddrInet4
	case s.family == unix.AF_INET6:
		s.sa.Family = unix.AF_INET6
		binary.BigEndian.PutUint16(b[2:4], to.Port())
		a := ip.As16() // a v4 address is mapped
		copy(b[8:24], a[:])
		s.saLen = unix.SizeofSockaddrInet6
	default:
		return false // an IPv6 peer for an IPv4 socket
	}
	s.to = to
	return true
}

// send sends the packets (usually one) to to: sendto for one, sendmmsg
// for more. It returns how many went out.
func (s *udpSock) send(pkts [][]byte, to netip.AddrPort) (int, error) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if !s.setDest(to) {
		return 0, fmt.Errorf("%w: %s from an IPv4 socket", ErrTarget, to)
	}
	if len(pkts) == 1 {
		p := pkts[0]
		for {
			_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
				0, uintptr(unsafe.Pointer(&s.sa)), uintptr(s.saLen))
			if errno == unix.EINTR {
				continue
			}
			if errno != 0 {
				return 0, errno
			}
			return 1, nil
		}
	}
	if cap(s.mmsg) < len(pkts) {
		s.mmsg = make([]mmsghdr, len(pkts))
		s.iov = make([]unix.Iovec, len(pkts))
	}
	m, iov := s.mmsg[:len(pkts)], s.iov[:len(pkts)]
	for i, p := range pkts {
		iov[i].Base = &p[0]
		iov[i].SetLen(len(p))
		m[i].hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.sa)), Namelen: s.saLen, Iov: &iov[i], Iovlen: 1}
	}
	sent := 0
	for sent < len(m) {
		n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&m[sent])), uintptr(len(m)-sent), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			clear(iov)
			return sent, errno
		}
		sent += int(n)
	}
	clear(iov) // no pointers into the caller's buffers kept
	return sent, nil
}

// markClosed stops sends; the descriptor itself is closed by the poller.
func (s *udpSock) markClosed() {
	s.sendMu.Lock()
	s.closed = true
	s.sendMu.Unlock()
}

// poller reads the sockets of one clock shard. It runs (a goroutine and an
// epoll descriptor) only while it holds sockets.
type poller struct {
	mu    sync.Mutex
	file  *os.File // the epoll descriptor, in Go's network poller
	epfd  int
	socks map[int32]*Endpoint
}

// add registers e's socket; the poller starts with its first socket.
func (p *poller) add(e *Endpoint) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file == nil {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return os.NewSyscallError("epoll_create1", err)
		}
		// Non-blocking, so that os.NewFile hands it to Go's poller.
		if err := unix.SetNonblock(epfd, true); err != nil {
			unix.Close(epfd)
			return os.NewSyscallError("fcntl", err)
		}
		p.file = os.NewFile(uintptr(epfd), "rtp-epoll")
		p.epfd = epfd
		p.socks = make(map[int32]*Endpoint)
		go p.run(p.file)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(e.sock.fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, e.sock.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	p.socks[int32(e.sock.fd)] = e
	return nil
}

// remove unregisters and closes e's socket; the poller stops with its
// last socket. A batch being read holds p.mu, so the descriptor is never
// closed (and reused) under it.
func (p *poller) remove(e *Endpoint) error {
	e.sock.markClosed()
	p.mu.Lock()
	defer p.mu.Unlock()
	fd := int32(e.sock.fd)
	if p.socks[fd] == e {
		delete(p.socks, fd)
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	}
	err := unix.Close(int(fd))
	if len(p.socks) == 0 && p.file != nil {
		// The goroutine is never inside the file's Read while it runs a
		// callback, so this does not wait for it.
		p.file.Close()
		p.file = nil
		p.socks = nil
	}
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// pollState is one poller goroutine's memory.
type pollState struct {
	events [pollEvents]unix.EpollEvent
	msgs   [rxBatch]mmsghdr
	iov    [rxBatch]unix.Iovec
	names  [rxBatch]unix.RawSockaddrInet6
	bufs   [rxBatch][rxBufSize]byte
	digits []*Endpoint // endpoints with digits to report after the batch
}

func (p *poller) run(f *os.File) {
	st := new(pollState)
	for i := range st.msgs {
		st.iov[i].Base = &st.bufs[i][0]
		st.iov[i].SetLen(rxBufSize)
		st.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&st.names[i]))
		st.msgs[i].hdr.Iov = &st.iov[i]
		st.msgs[i].hdr.Iovlen = 1
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	for {
		n := 0
		err := rc.Read(func(fd uintptr) bool {
			for {
				var errno syscall.Errno
				n, errno = epollWait(int(fd), st.events[:])
				if errno != unix.EINTR {
					return n > 0
				}
			}
		})
		if err != nil {
			return // closed: the poller has no socket left
		}
		p.process(st, st.events[:n])
	}
}

func epollWait(epfd int, events []unix.EpollEvent) (int, syscall.Errno) {
	r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return int(r), errno
}

// process reads every ready socket and hands its datagrams to the
// endpoint, then reports the digits found, outside p.mu (OnDigit may close
// an endpoint).
func (p *poller) process(st *pollState, events []unix.EpollEvent) {
	p.mu.Lock()
	for _, ev := range events {
		e := p.socks[ev.Fd]
		if e == nil {
			continue // closed since epoll_wait
		}
		if p.drain(st, e) {
			st.digits = append(st.digits, e)
		}
	}
	p.mu.Unlock()
	for i, e := range st.digits {
		e.reportDigits()
		st.digits[i] = nil
	}
	st.digits = st.digits[:0]
}

// drain reads up to rxRounds batches from e's socket and reports whether
// a digit ended in one of them. Caller holds p.mu.
func (p *poller) drain(st *pollState, e *Endpoint) (digit bool) {
	for range rxRounds {
		for i := range st.msgs {
			st.msgs[i].hdr.Namelen = unix.SizeofSockaddrInet6
			st.msgs[i].hdr.Flags = 0
		}
		r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(e.sock.fd), uintptr(unsafe.Pointer(&st.msgs[0])), rxBatch,
			unix.MSG_DONTWAIT, 0, 0)
		if errno != 0 {
			if errno != unix.EAGAIN && errno != unix.EINTR {
				e.log.Debug("rtp read", "err", errno)
			}
			return digit
		}
		n := int(r)
		for i := range n {
			m := &st.msgs[i]
			from := sockaddrPort(&st.names[i], m.hdr.Namelen)
			if m.hdr.Flags&unix.MSG_TRUNC != 0 || !from.IsValid() {
				e.rxMalformed.Add(1)
				continue
			}
			if e.handlePacket(st.bufs[i][:m.n], from) {
				digit = true
			}
		}
		if n < rxBatch {
			return digit
		}
	}
	return digit
}

// sockaddrPort reads a raw sockaddr_in or sockaddr_in6.
func sockaddrPort(sa *unix.RawSockaddrInet6, n uint32) netip.AddrPort {
	b := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(sa))
	port := binary.BigEndian.Uint16(b[2:4])
	switch {
	case sa.Family == unix.AF_INET && n >= unix.SizeofSockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case sa.Family == unix.AF_INET6 && n >= unix.SizeofSockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])).Unmap(), port)
	}
	return netip.AddrPort{}
}
