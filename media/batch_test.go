package media

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/wasmvoice/mediaserver/media/dtmf"
)

// The poller reads a shard's sockets in batches (recvmmsg): these tests
// queue datagrams while the poller is held (its lock), so that they are
// read together, then check what each endpoint made of them.

// holdPoller keeps e's poller from reading until the returned func runs.
func holdPoller(e *Endpoint) func() {
	e.poller.mu.Lock()
	return e.poller.mu.Unlock
}

func audioPacket(seq uint16, ssrc uint32) []byte {
	return rtpPacket(0, seq, uint32(seq)*160, ssrc, bytes.Repeat([]byte{0xff}, 160))
}

func sendAll(t *testing.T, c *net.UDPConn, to netip.AddrPort, pkts ...[]byte) {
	t.Helper()
	for _, p := range pkts {
		if _, err := c.WriteToUDPAddrPort(p, to); err != nil {
			t.Fatal(err)
		}
	}
}

// More datagrams than one recvmmsg reads, and more than one wake-up's
// rounds for one socket, all queued at once: every one is handled, and
// another socket of the shard is not starved meanwhile.
func TestBatchBurstLargerThanABatch(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	a := h.endpoint(EndpointConfig{Remote: peerAddr})
	b := h.endpoint(EndpointConfig{Remote: peerAddr})
	if a.poller != b.poller {
		t.Fatal("one shard, one poller expected")
	}
	const burst = 3*rxBatch*rxRounds + 5
	release := holdPoller(a)
	for i := range burst {
		sendAll(t, peer, a.LocalAddr(), audioPacket(uint16(i), 1))
	}
	sendAll(t, peer, b.LocalAddr(), audioPacket(1, 2), audioPacket(2, 2), audioPacket(3, 2))
	release()
	waitFor(t, "the burst", func() bool { return handled(a) >= burst && handled(b) >= 3 })
	if s := a.Stats(); s.RxPackets != burst {
		t.Errorf("burst endpoint: %d packets accepted, want %d (%+v)", s.RxPackets, burst, s)
	}
	if s := b.Stats(); s.RxPackets != 3 {
		t.Errorf("other endpoint: %d packets accepted, want 3 (%+v)", s.RxPackets, s)
	}
}

// A malformed datagram between good ones is dropped and counted alone:
// the rest of the batch is handled.
func TestBatchMalformedInTheMiddle(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr})
	release := holdPoller(e)
	for i := range 4 {
		sendAll(t, peer, e.LocalAddr(), audioPacket(uint16(i), 7))
	}
	sendAll(t, peer, e.LocalAddr(),
		[]byte{0x80, 0, 1},                                // short
		rtpPacket(0, 9, 9*160, 7, nil)[:12],               // empty audio: bad size
		append([]byte{0x40}, make([]byte, 171)...),        // RTP version 1
		append(audioPacket(10, 7), make([]byte, 2000)...), // longer than a read: truncated
	)
	for i := 4; i < 8; i++ {
		sendAll(t, peer, e.LocalAddr(), audioPacket(uint16(i), 7))
	}
	release()
	waitFor(t, "the batch", func() bool { return handled(e) >= 12 })
	s := e.Stats()
	if s.RxPackets != 8 || s.RxMalformed != 3 || s.RxBadSize != 1 {
		t.Errorf("accepted %d malformed %d bad size %d, want 8, 3, 1 (%+v)", s.RxPackets, s.RxMalformed, s.RxBadSize, s)
	}
}

// Packets from a foreign source inside a batch are dropped one by one;
// with symmetric RTP the SDP's own address still wins the latch over a
// stranger that sent first in the same batch, and the stranger's later
// packets are foreign.
func TestBatchForeignSource(t *testing.T) {
	h := newHarness(t)
	phone, phoneAddr := udpPeer(t)
	stranger, _ := udpPeer(t)

	fixed := h.endpoint(EndpointConfig{Remote: phoneAddr})
	release := holdPoller(fixed)
	sendAll(t, phone, fixed.LocalAddr(), audioPacket(1, 3))
	sendAll(t, stranger, fixed.LocalAddr(), audioPacket(2, 4))
	sendAll(t, phone, fixed.LocalAddr(), audioPacket(2, 3))
	sendAll(t, stranger, fixed.LocalAddr(), audioPacket(3, 4))
	sendAll(t, phone, fixed.LocalAddr(), audioPacket(3, 3))
	release()
	waitFor(t, "the batch", func() bool { return handled(fixed) >= 5 })
	if s := fixed.Stats(); s.RxPackets != 3 || s.RxForeign != 2 {
		t.Errorf("accepted %d foreign %d, want 3 and 2", s.RxPackets, s.RxForeign)
	}
	if got := fixed.Remote(); got != phoneAddr {
		t.Errorf("remote %s, want %s", got, phoneAddr)
	}

	sym := h.endpoint(EndpointConfig{Remote: phoneAddr, Symmetric: true})
	release = holdPoller(sym)
	sendAll(t, stranger, sym.LocalAddr(), audioPacket(1, 4)) // same IP, first: latches provisionally
	sendAll(t, phone, sym.LocalAddr(), audioPacket(1, 3))    // the SDP's address: latches for good
	sendAll(t, stranger, sym.LocalAddr(), audioPacket(2, 4)) // foreign now
	sendAll(t, phone, sym.LocalAddr(), audioPacket(2, 3))
	release()
	waitFor(t, "the batch", func() bool { return handled(sym) >= 4 })
	if got := sym.Remote(); got != phoneAddr {
		t.Errorf("symmetric remote %s after the batch, want the SDP's %s", got, phoneAddr)
	}
	if s := sym.Stats(); s.RxForeign != 1 || s.RxPackets != 3 {
		t.Errorf("symmetric: accepted %d foreign %d, want 3 and 1", s.RxPackets, s.RxForeign)
	}
}

// Endpoints closed while their datagrams wait in a batch: Close returns,
// the port goes back, nothing more is counted on them, the other sockets
// of the batch are read, and a socket opened at once (which may get the
// closed one's descriptor) sees only its own packets.
func TestBatchSocketClosedMidBatch(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	var eps []*Endpoint
	for range 6 {
		eps = append(eps, h.endpoint(EndpointConfig{Remote: peerAddr}))
	}
	release := holdPoller(eps[0])
	for _, e := range eps {
		for i := range 5 {
			sendAll(t, peer, e.LocalAddr(), audioPacket(uint16(i), 9))
		}
	}
	// Closes wait for the poller's lock: released with the batch pending,
	// they race the reads of their sockets.
	closed := make(chan error, 3)
	for _, e := range eps[:3] {
		go func() { closed <- e.Close() }()
	}
	release()
	for range 3 {
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	fresh := h.endpoint(EndpointConfig{Remote: peerAddr})
	for _, e := range eps[3:] {
		waitFor(t, "the open sockets' packets", func() bool { return handled(e) >= 5 })
		if s := e.Stats(); s.RxPackets != 5 {
			t.Errorf("open endpoint accepted %d, want 5", s.RxPackets)
		}
	}
	sendAll(t, peer, fresh.LocalAddr(), audioPacket(1, 5))
	waitFor(t, "the fresh socket's packet", func() bool { return handled(fresh) >= 1 })
	if s := fresh.Stats(); s.RxPackets != 1 {
		t.Errorf("fresh endpoint accepted %d, want its 1", s.RxPackets)
	}
	var before []uint64
	for _, e := range eps[:3] {
		before = append(before, handled(e))
		sendAll(t, peer, e.LocalAddr(), audioPacket(7, 9))
	}
	sendAll(t, peer, fresh.LocalAddr(), audioPacket(2, 5)) // read after the others were sent
	waitFor(t, "the fresh socket's second packet", func() bool { return handled(fresh) >= 2 })
	for i, e := range eps[:3] {
		if after := handled(e); after != before[i] {
			t.Errorf("closed endpoint counted %d packets after Close", after-before[i])
		}
		if err := e.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close: %v", err)
		}
	}
}

// An endpoint whose OnDigit closes it, on the poller's goroutine, while
// the rest of its burst is in the same batch: no deadlock, one report.
func TestBatchCloseFromOnDigit(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	var e *Endpoint
	var reports atomic.Int32
	closed := make(chan error, 1)
	e = h.endpoint(EndpointConfig{Remote: peerAddr, TelephoneEvent: 101, OnDigit: func(dtmf.Received) {
		if reports.Add(1) == 1 {
			closed <- e.Close()
		}
	}})
	release := holdPoller(e)
	end := []byte{5, 0x80 | 10, 0x03, 0x20} // digit 5, end, 800 samples
	for i := range 3 {
		sendAll(t, peer, e.LocalAddr(), rtpPacket(101, uint16(i), 1600, 11, end))
	}
	for i := 3; i < 20; i++ {
		sendAll(t, peer, e.LocalAddr(), audioPacket(uint16(i), 11))
	}
	release()
	if err := <-closed; err != nil {
		t.Errorf("Close from OnDigit: %v", err)
	}
	if n := reports.Load(); n != 1 {
		t.Errorf("%d digit reports, want 1", n)
	}
}
