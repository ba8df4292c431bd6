package media

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/wasmvoice/mediaserver/media/codec"
)

func srtpKeys() (a, b []byte) {
	a = bytes.Repeat([]byte{0xA5}, srtpKeyLen)
	b = bytes.Repeat([]byte{0x3C}, srtpKeyLen)
	a[0], b[0] = 1, 2
	return a, b
}

// peerContext protects packets the way the peer holding key would.
func peerContext(t testing.TB, key []byte, profile srtp.ProtectionProfile) *srtp.Context {
	t.Helper()
	c, err := srtp.CreateContext(key[:16], key[16:], profile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSRTPEndpointsTalk: two SRTP endpoints with mirrored keys carry a
// sweep from one to the other intact, and what travels between them is
// not the plain G.711 payload.
func TestSRTPEndpointsTalk(t *testing.T) {
	for _, profile := range []SRTPProfile{AES128CMHMACSHA1_80, AES128CMHMACSHA1_32} {
		h := newHarness(t)
		ka, kb := srtpKeys()
		a := h.endpoint(EndpointConfig{SRTP: &SRTP{Profile: profile, Local: ka, Remote: kb}})
		b := h.endpoint(EndpointConfig{SRTP: &SRTP{Profile: profile, Local: kb, Remote: ka}})
		a.SetRemote(b.LocalAddr())
		b.SetRemote(a.LocalAddr())
		ref := sweep(8000, 300, 3000, 8000)
		a.SetSource(NewPlayer(NewPrompt(ref), 1, nil))
		var got capture
		b.AddSink(&got)
		for i := 1; i <= 50; i++ {
			h.step([]*Endpoint{b, a}, []uint64{uint64(i), 0})
		}
		if s := b.Stats(); s.RxPackets != 50 || s.RxSRTPAuth != 0 || s.RxSRTPReplay != 0 {
			t.Fatalf("profile %d: receiver stats %+v, want 50 packets accepted", profile, s)
		}
		if !a.SRTPOn() {
			t.Fatal("SRTPOn false")
		}
		// Let the jitter buffer play out, then compare.
		for range 10 {
			h.step([]*Endpoint{b, a}, []uint64{0, 0})
		}
		if c, _ := bestCorrelation(ref[:8000*3/4], got.samples(), 1600); c < 0.9 {
			t.Fatalf("profile %d: received audio correlates %.2f with the sweep, want >= 0.9", profile, c)
		}
	}
}

// TestSRTPOnTheWire: what an SRTP endpoint sends is the RTP header in
// clear, an encrypted payload and the authentication tag; a peer holding
// the key (pion/srtp directly) unprotects it to the plain G.711 frame.
func TestSRTPOnTheWire(t *testing.T) {
	h := newHarness(t)
	ka, kb := srtpKeys()
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr, SRTP: &SRTP{Profile: AES128CMHMACSHA1_80, Local: ka, Remote: kb}})
	tone := make(codec.PCM16, codec.FrameSamples)
	for i := range tone {
		tone[i] = int16(4000 * ((i / 4) % 2))
	}
	e.SetSource(NewPlayer(NewPrompt(tone), 1, nil))
	e.Tick(h.now)
	buf := make([]byte, 1500)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	pkt := append([]byte(nil), buf[:n]...)
	if n != 12+160+10 {
		t.Fatalf("packet of %d bytes, want header 12 + payload 160 + tag 10", n)
	}
	plainPayload := make([]byte, codec.FrameSamples)
	codec.PCMU.Encode(plainPayload, tone)
	if bytes.Equal(pkt[12:172], plainPayload) {
		t.Fatal("payload sent in clear")
	}
	var hdr rtp.Header
	plain, err := peerContext(t, ka, srtp.ProtectionProfileAes128CmHmacSha1_80).DecryptRTP(nil, pkt, &hdr)
	if err != nil {
		t.Fatalf("peer cannot unprotect: %v", err)
	}
	if !bytes.Equal(plain[12:], plainPayload) {
		t.Fatal("unprotected payload is not the frame sent")
	}
}

// TestSRTPDrops: a tampered packet, a replayed one, one under another key
// and a plain RTP packet are dropped and counted by reason; good packets
// before and after get through.
func TestSRTPDrops(t *testing.T) {
	h := newHarness(t)
	ka, kb := srtpKeys()
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr, SRTP: &SRTP{Profile: AES128CMHMACSHA1_80, Local: ka, Remote: kb}})
	tx := peerContext(t, kb, srtp.ProtectionProfileAes128CmHmacSha1_80)
	other := peerContext(t, bytes.Repeat([]byte{7}, srtpKeyLen), srtp.ProtectionProfileAes128CmHmacSha1_80)
	protect := func(c *srtp.Context, seq uint16) []byte {
		out, err := c.EncryptRTP(nil, rtpPacket(0, seq, uint32(seq)*160, 77, make([]byte, 160)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	send := func(b []byte, want func(Stats) bool, what string) {
		t.Helper()
		if _, err := peer.WriteToUDPAddrPort(b, e.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, what, func() bool { return want(e.Stats()) })
	}
	good := protect(tx, 1)
	send(good, func(s Stats) bool { return s.RxPackets == 1 }, "a good packet")
	tampered := protect(tx, 2)
	tampered[20] ^= 0x01
	send(tampered, func(s Stats) bool { return s.RxSRTPAuth == 1 }, "a tampered packet counted")
	send(good, func(s Stats) bool { return s.RxSRTPReplay == 1 }, "a replay counted")
	send(protect(other, 3), func(s Stats) bool { return s.RxSRTPAuth == 2 }, "another key counted")
	send(rtpPacket(0, 4, 640, 77, make([]byte, 160)), func(s Stats) bool { return s.RxSRTPAuth == 3 }, "plain rtp counted")
	// The tampered packet's sequence number is still unused: the real one
	// gets through (a forged packet must not burn its slot).
	send(protect(tx, 2), func(s Stats) bool { return s.RxPackets == 2 }, "the real packet 2")
	send(protect(tx, 5), func(s Stats) bool { return s.RxPackets == 3 }, "a later good packet")
	s := e.Stats()
	if s.RxSRTPAuth != 3 || s.RxSRTPReplay != 1 || s.RxMalformed != 0 || s.RxPackets != 3 {
		t.Fatalf("stats %+v", s)
	}

	// Rekeyed (a re-INVITE): the old key no longer works, the new one does.
	kc := bytes.Repeat([]byte{9}, srtpKeyLen)
	if err := e.SetSRTP(&SRTP{Profile: AES128CMHMACSHA1_80, Local: ka, Remote: kc}); err != nil {
		t.Fatal(err)
	}
	send(protect(tx, 6), func(s Stats) bool { return s.RxSRTPAuth == 4 }, "the old key refused")
	send(protect(peerContext(t, kc, srtp.ProtectionProfileAes128CmHmacSha1_80), 7), func(s Stats) bool { return s.RxPackets == 4 }, "the new key")
	// Off: plain RTP again.
	if err := e.SetSRTP(nil); err != nil {
		t.Fatal(err)
	}
	send(rtpPacket(0, 8, 8*160, 77, make([]byte, 160)), func(s Stats) bool { return s.RxPackets == 5 }, "plain rtp after SRTP off")
}

func TestSRTPConfigErrors(t *testing.T) {
	h := newHarness(t)
	ka, _ := srtpKeys()
	for _, s := range []*SRTP{
		{Profile: 0, Local: ka, Remote: ka},
		{Profile: AES128CMHMACSHA1_80, Local: ka[:16], Remote: ka},
	} {
		if _, err := NewEndpoint(EndpointConfig{Clock: h.clock, Ports: h.ports, SRTP: s}); err == nil {
			t.Errorf("SRTP %+v: no error", s)
		}
	}
	if h.ports.InUse() != 0 {
		t.Fatalf("%d ports left in use after failed endpoints", h.ports.InUse())
	}
	if _, err := ParseSRTPProfile("AES_256_CM_HMAC_SHA1_80"); err == nil {
		t.Error("ParseSRTPProfile accepted an unsupported suite")
	}
	if p, err := ParseSRTPProfile("AES_CM_128_HMAC_SHA1_32"); err != nil || p != AES128CMHMACSHA1_32 {
		t.Errorf("ParseSRTPProfile: %v %v", p, err)
	}
}

// BenchmarkSRTPPacket is the receive and send cost of one 20 ms G.711
// packet at an endpoint, plain RTP beside SRTP in the same run: receive
// is filter, unprotect, parse and jitter-buffer (no socket read); queue
// is protect and queue (no system call); send adds the sendto of that
// one packet to a loopback socket.
//
//	go test -run XXX -bench SRTPPacket ./media/
func BenchmarkSRTPPacket(b *testing.B) {
	ka, kb := srtpKeys()
	for _, mode := range []string{"rtp", "srtp"} {
		var cfg *SRTP
		if mode == "srtp" {
			cfg = &SRTP{Profile: AES128CMHMACSHA1_80, Local: ka, Remote: kb}
		}
		sink, sinkAddr := listenLoopback(b)
		ports, _ := NewPortPool(loopback, 0, 0)
		e, err := NewEndpoint(EndpointConfig{Clock: NewClock(WithShards(1)), Ports: ports, Confirmed: true, Remote: sinkAddr, SRTP: cfg})
		if err != nil {
			b.Fatal(err)
		}
		// 65536 packets, one sequence-number cycle, protected beforehand;
		// the receive context is renewed after each cycle (replays
		// otherwise).
		pkts := make([][]byte, 1<<16)
		tx := peerContext(b, kb, srtp.ProtectionProfileAes128CmHmacSha1_80)
		for i := range pkts {
			p := rtpPacket(0, uint16(i), uint32(i)*160, 42, make([]byte, 160))
			if cfg != nil {
				p, _ = tx.EncryptRTP(nil, p, nil)
			}
			pkts[i] = p
		}
		b.Run(mode+"/receive", func(b *testing.B) {
			b.ReportAllocs()
			i := len(pkts) // a fresh receive context first (-count > 1 reruns this)
			for b.Loop() {
				if i == len(pkts) {
					b.StopTimer()
					i = 0
					if cfg != nil {
						e.SetSRTP(cfg)
					}
					e.mu.Lock()
					e.jb.Reset()
					e.mu.Unlock()
					b.StartTimer()
				}
				e.handlePacket(pkts[i], sinkAddr)
				i++
			}
			if s := e.Stats(); s.RxSRTPAuth+s.RxSRTPReplay+s.RxMalformed > 0 {
				b.Fatalf("dropped: %+v", s)
			}
		})
		frame := rtpPacket(0, 0, 0, 42, make([]byte, 160))
		// queue: protect (or not) and queue, no system call; send: the
		// same plus the sendto.
		for _, flush := range []bool{false, true} {
			name := map[bool]string{false: "/queue", true: "/send"}[flush]
			b.Run(mode+name, func(b *testing.B) {
				b.ReportAllocs()
				var seq uint16
				for b.Loop() {
					putSeq(frame, seq)
					seq++
					e.tickMu.Lock()
					e.write(frame, sinkAddr)
					if flush {
						e.flushTx()
					} else {
						clear(e.txq)
						e.txq, e.txMem = e.txq[:0], e.txMem[:0]
					}
					e.tickMu.Unlock()
				}
			})
		}
		e.Close()
		sink.Close()
	}
}
