package media

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

func TestTargetsCheck(t *testing.T) {
	pool, err := NewPortPool(loopback, 20000, 20100)
	if err != nil {
		t.Fatal(err)
	}
	tg := NewTargets(pool)
	tg.AddOwn(netip.MustParseAddrPort("127.0.0.1:5060"))
	tg.AddOwn(netip.MustParseAddrPort("0.0.0.0:8080"))
	tests := []struct {
		name string
		addr string
		ok   bool
	}{
		{name: "peer on loopback", addr: "127.0.0.1:40000", ok: true},
		{name: "public peer", addr: "203.0.113.7:30000", ok: true},
		{name: "public peer on a port of our range", addr: "203.0.113.7:20002", ok: true},
		{name: "ipv6 peer", addr: "[2001:db8::1]:30000", ok: true},
		{name: "multicast", addr: "224.0.0.1:30000"},
		{name: "ipv6 multicast", addr: "[ff02::1]:30000"},
		{name: "limited broadcast", addr: "255.255.255.255:30000"},
		{name: "port 0", addr: "127.0.0.1:0"},
		{name: "unspecified", addr: "0.0.0.0:30000"},
		{name: "our rtp range", addr: "127.0.0.1:20000"},
		{name: "our rtcp port", addr: "127.0.0.1:20101"},
		{name: "our rtp range on another loopback address", addr: "127.0.0.2:20050"},
		{name: "our sip listener", addr: "127.0.0.1:5060"},
		{name: "our api on any address", addr: "127.0.0.1:8080"},
		{name: "v4-mapped own port", addr: "[::ffff:127.0.0.1]:20000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tg.Check(netip.MustParseAddrPort(tt.addr))
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrTarget) {
				t.Fatalf("err %v, want ErrTarget", err)
			}
		})
	}
	if err := tg.CheckSDP(netip.MustParseAddrPort("0.0.0.0:30000")); err != nil {
		t.Fatalf("an SDP hold address is not a target: %v", err)
	}
	var none *Targets
	if err := none.Check(netip.MustParseAddrPort("224.0.0.1:1")); !errors.Is(err, ErrTarget) {
		t.Fatalf("nil Targets: multicast %v", err)
	}
}

func TestBroadcastOf(t *testing.T) {
	for _, tt := range []struct{ prefix, want string }{
		{"192.168.1.20/24", "192.168.1.255"},
		{"10.1.2.3/8", "10.255.255.255"},
		{"172.16.5.4/20", "172.16.15.255"},
	} {
		got, ok := broadcastOf(netip.MustParsePrefix(tt.prefix))
		if !ok || got.String() != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.prefix, got, ok, tt.want)
		}
	}
	if _, ok := broadcastOf(netip.MustParsePrefix("10.0.0.1/32")); ok {
		t.Error("a /32 has no broadcast address")
	}
}

// An answered call whose ACK has not arrived sends nothing, so a forged
// INVITE cannot aim a stream at a third party; the prompt attached
// meanwhile starts from its first frame once the ACK confirms the remote.
func TestUnconfirmedEndpointSendsNothing(t *testing.T) {
	h := newHarness(t)
	victim, victimAddr := udpPeer(t)
	e := h.unconfirmedEndpoint(EndpointConfig{Remote: victimAddr})
	e.SetSource(NewPlayer(numbered(5), 1, nil))
	for range 10 {
		e.Tick(h.now)
	}
	if s := e.Stats(); s.TxPackets != 0 {
		t.Fatalf("sent %d packets before the ACK", s.TxPackets)
	}
	victim.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := victim.Read(make([]byte, 1500)); err == nil {
		t.Fatalf("the victim got %d bytes", n)
	}
	e.Confirm()
	p := readRTP(t, victim)
	if !p.Marker || frameOf(e.codec, p) != 1 {
		t.Fatalf("first packet after the ACK: %+v frame %d, want the prompt's first", p.Header, frameOf(e.codec, p))
	}
}

// A packet from the remote confirms it as well (the ACK was lost, or the
// peer sends first).
func TestPacketFromRemoteConfirms(t *testing.T) {
	for _, symmetric := range []bool{false, true} {
		h := newHarness(t)
		peer, peerAddr := udpPeer(t)
		e := h.unconfirmedEndpoint(EndpointConfig{Remote: peerAddr, Symmetric: symmetric})
		peer.WriteToUDPAddrPort(rtpPacket(0, 1, 160, 5, make([]byte, 160)), e.LocalAddr())
		waitFor(t, "packet", func() bool { return handled(e) == 1 })
		e.Tick(h.now)
		if p := readRTP(t, peer); p.PayloadType != 0 {
			t.Fatalf("symmetric %v: reply %+v", symmetric, p.Header)
		}
	}
}

// Symmetric RTP prefers the SDP's port: another port of the same IP may
// latch only provisionally; the SDP's own address takes the stream back
// for good, after which the other port is foreign again.
func TestLatchPrefersSDPPort(t *testing.T) {
	h := newHarness(t)
	caller, callerAddr := udpPeer(t)
	intruder, intruderAddr := udpPeer(t) // same IP (loopback), another port
	e := h.endpoint(EndpointConfig{Symmetric: true, Remote: callerAddr})
	frame := make([]byte, 160)
	intruder.WriteToUDPAddrPort(rtpPacket(0, 1, 160, 7, frame), e.LocalAddr())
	waitFor(t, "provisional latch", func() bool { return e.Remote() == intruderAddr })
	caller.WriteToUDPAddrPort(rtpPacket(0, 1, 160, 5, frame), e.LocalAddr())
	waitFor(t, "latch to the SDP port", func() bool { return e.Remote() == callerAddr })
	intruder.WriteToUDPAddrPort(rtpPacket(0, 2, 320, 7, frame), e.LocalAddr())
	waitFor(t, "intruder dropped", func() bool { return handled(e) == 3 })
	if s := e.Stats(); s.RxForeign != 1 || e.Remote() != callerAddr {
		t.Fatalf("stats %+v remote %v", s, e.Remote())
	}
}

// An SDP address media may not go to is never used, and a source media
// may not go to never latches.
func TestRefusedRemote(t *testing.T) {
	h := newHarness(t)
	own := h.endpoint(EndpointConfig{})
	tg := NewTargets(h.ports)
	tg.AddOwn(own.LocalAddr())
	e := h.endpoint(EndpointConfig{Symmetric: true, Targets: tg})
	e.SetRemote(netip.MustParseAddrPort("224.0.0.1:30000"))
	if e.Remote().IsValid() {
		t.Fatalf("multicast remote kept: %v", e.Remote())
	}
	e.SetRemote(own.LocalAddr())
	if e.Remote().IsValid() {
		t.Fatalf("own socket kept as remote: %v", e.Remote())
	}
	// A packet whose source is one of our own sockets (spoofed, or a
	// loop) does not latch either.
	own.SetRemote(e.LocalAddr())
	own.SetSource(NewPlayer(numbered(3), 1, nil))
	own.Tick(h.now)
	waitFor(t, "spoofed packet", func() bool { return handled(e) == 1 })
	if s := e.Stats(); s.RxRefused != 1 || e.Remote().IsValid() {
		t.Fatalf("stats %+v remote %v", s, e.Remote())
	}
}

// A codec negotiated at a dynamic payload type is received and sent with
// it; its static number is then unknown.
func TestDynamicPayloadType(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr, PayloadType: 96, TelephoneEvent: 101})
	frame := make([]byte, 160)
	peer.WriteToUDPAddrPort(rtpPacket(96, 1, 160, 5, frame), e.LocalAddr())
	peer.WriteToUDPAddrPort(rtpPacket(0, 2, 320, 5, frame), e.LocalAddr())
	waitFor(t, "packets", func() bool { return handled(e) == 2 })
	if s := e.Stats(); s.RxPackets != 1 || s.RxUnknownPT != 1 {
		t.Fatalf("stats %+v: want PT 96 accepted and PT 0 unknown", s)
	}
	e.Tick(h.now)
	if p := readRTP(t, peer); p.PayloadType != 96 {
		t.Fatalf("sent with payload type %d, want 96", p.PayloadType)
	}
	// A re-INVITE may move it.
	if err := e.SetCodec(codec.PCMA, 110, 101); err != nil {
		t.Fatal(err)
	}
	e.Tick(h.now)
	if p := readRTP(t, peer); p.PayloadType != 110 {
		t.Fatalf("after SetCodec: payload type %d, want 110", p.PayloadType)
	}
	for _, tt := range []struct {
		c       codec.Codec
		pt, tev uint8
	}{{codec.PCMU, 8, 101}, {codec.PCMA, 0, 0} /* 0 = static: fine */, {codec.PCMU, 50, 0}, {codec.PCMU, 101, 101}, {codec.PCMU, 96, 13}} {
		err := e.SetCodec(tt.c, tt.pt, tt.tev)
		wantErr := !(tt.c == codec.PCMA && tt.pt == 0)
		if wantErr != errors.Is(err, ErrPayloadType) {
			t.Errorf("SetCodec(%v, %d, %d) = %v", tt.c, tt.pt, tt.tev, err)
		}
	}
}
