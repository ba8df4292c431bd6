package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/media/wav"
)

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}
	b, _ := p.Marshal()
	return b
}

func TestHandlePacket(t *testing.T) {
	remote := netip.MustParseAddrPort("127.0.0.1:40000")
	other := netip.MustParseAddrPort("127.0.0.1:40002")
	frame := make([]byte, 160)
	tests := []struct {
		name string
		in   []byte
		from netip.AddrPort
		want Stats
	}{
		{name: "audio", in: rtpPacket(0, 1, 160, 9, frame), from: remote, want: Stats{RxPackets: 1}},
		{name: "4in6 source", in: rtpPacket(0, 1, 160, 9, frame), from: netip.MustParseAddrPort("[::ffff:127.0.0.1]:40000"), want: Stats{RxPackets: 1}},
		{name: "telephone-event", in: rtpPacket(101, 1, 160, 9, []byte{1, 0, 0, 160}), from: remote, want: Stats{RxPackets: 1}},
		{name: "short event", in: rtpPacket(101, 1, 160, 9, []byte{1, 0}), from: remote, want: Stats{RxMalformed: 1}},
		{name: "foreign", in: rtpPacket(0, 1, 160, 9, frame), from: other, want: Stats{RxForeign: 1}},
		{name: "empty", in: nil, from: remote, want: Stats{RxMalformed: 1}},
		{name: "short", in: []byte{0x80, 0, 0, 1}, from: remote, want: Stats{RxMalformed: 1}},
		{name: "version 1", in: append([]byte{0x40}, rtpPacket(0, 1, 1, 1, frame)[1:]...), from: remote, want: Stats{RxMalformed: 1}},
		{name: "csrc count beyond packet", in: []byte{0x8F, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, from: remote, want: Stats{RxMalformed: 1}},
		{name: "unknown pt", in: rtpPacket(18, 1, 160, 9, frame), from: remote, want: Stats{RxUnknownPT: 1}},
		{name: "pcma not negotiated", in: rtpPacket(8, 1, 160, 9, frame), from: remote, want: Stats{RxUnknownPT: 1}},
		{name: "10 ms frame", in: rtpPacket(0, 1, 160, 9, frame[:80]), from: remote, want: Stats{RxPackets: 1}},
		{name: "60 ms frame", in: rtpPacket(0, 1, 160, 9, make([]byte, 480)), from: remote, want: Stats{RxPackets: 1}},
		{name: "over 60 ms", in: rtpPacket(0, 1, 160, 9, make([]byte, 481)), from: remote, want: Stats{RxBadSize: 1}},
		{name: "empty audio", in: rtpPacket(0, 1, 160, 9, nil), from: remote, want: Stats{RxBadSize: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			e := h.endpoint(EndpointConfig{Remote: remote, TelephoneEvent: 101})
			e.handlePacket(tt.in, tt.from)
			got := e.Stats()
			got.Jitter, got.TxPackets, got.TxErrors = Stats{}.Jitter, 0, 0
			if got != tt.want {
				t.Fatalf("stats %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewEndpointErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name    string
		cfg     EndpointConfig
		wantErr error
	}{
		{name: "no clock", cfg: EndpointConfig{Ports: h.ports}, wantErr: ErrConfig},
		{name: "no ports", cfg: EndpointConfig{Clock: h.clock}, wantErr: ErrConfig},
		{name: "bad codec", cfg: EndpointConfig{Clock: h.clock, Ports: h.ports, Codec: 3}, wantErr: codec.ErrUnknownCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewEndpoint(tt.cfg); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// The headline test: A plays a prompt to B over loopback RTP, B records
// it; the recording must contain the prompt, not just have its length.
func TestEndToEndPlayRecord(t *testing.T) {
	for _, c := range []codec.Codec{codec.PCMU, codec.PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			h := newHarness(t)
			a := h.endpoint(EndpointConfig{Codec: c})
			b := h.endpoint(EndpointConfig{Codec: c, Remote: a.LocalAddr()})
			a.SetRemote(b.LocalAddr())

			ref := sweep(8000, 300, 3000, 9000) // 1 s
			done := make(chan PlayResult, 1)
			path := tempPath(t, "rec.wav")
			rec, err := NewRecorder(RecorderConfig{Path: path, Track: TrackIncoming})
			if err != nil {
				t.Fatal(err)
			}
			b.AddSink(rec)

			eps := []*Endpoint{b, a}
			for i := uint64(1); i <= 70; i++ {
				if i == 2 {
					// Between ticks, once the stream runs: the prompt's
					// first frame goes out at once, in tick 2's place.
					a.SetSource(NewPlayer(NewPrompt(ref), 1, func(r PlayResult) { done <- r }))
				}
				h.step(eps, []uint64{i, i})
			}
			rec.Stop()
			res := rec.Wait()
			if res.Err != nil || res.Reason != ReasonStopped || res.Duration != 70*codec.FrameDuration {
				t.Fatalf("record result %+v", res)
			}
			select {
			case r := <-done:
				if r.Reason != ReasonFinished || r.Played != time.Second {
					t.Fatalf("play result %+v", r)
				}
			default:
				t.Fatal("player did not finish")
			}
			got, _, err := wav.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			corr, lag := bestCorrelation(ref, got, 10*codec.FrameSamples)
			if corr < 0.97 {
				t.Fatalf("correlation %.3f at lag %d, want > 0.97", corr, lag)
			}
			if lag%codec.FrameSamples != 0 {
				t.Fatalf("lag %d is not whole frames", lag)
			}
			seg := got[lag : lag+len(ref)]
			if ratio := rms(seg) / rms(ref); ratio < 0.95 || ratio > 1.05 {
				t.Fatalf("energy ratio %.3f", ratio)
			}
			if s := b.Stats(); s.RxPackets != 70 || s.Jitter.Lost != 0 || s.RxForeign != 0 {
				t.Fatalf("b stats %+v", s)
			}
		})
	}
}

// RFC 4733 packets from a plain UDP socket become digits, once each.
func TestReceiveRFC4733FromSocket(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	var log digitLog
	e := h.endpoint(EndpointConfig{Remote: peerAddr, TelephoneEvent: 101, OnDigit: log.add})
	var seq uint16
	sent := uint64(0)
	send := func(b []byte) {
		if _, err := peer.WriteToUDPAddrPort(b, e.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		sent++
		h.step([]*Endpoint{e}, []uint64{sent})
	}
	for i, digit := range []byte("1#9") {
		code, _ := dtmf.Code(digit)
		ts := uint32(10000 + i*4000)
		for d := uint16(1); d <= 5; d++ {
			ev := dtmf.Event{Code: code, Volume: 10, Duration: d * 160, End: d == 5}
			var payload [4]byte
			ev.MarshalTo(payload[:])
			send(rtpPacket(101, seq, ts, 77, payload[:]))
			seq++
		}
		for r := 0; r < 2; r++ { // two more end packets
			ev := dtmf.Event{Code: code, Volume: 10, Duration: 800, End: true}
			var payload [4]byte
			ev.MarshalTo(payload[:])
			send(rtpPacket(101, seq, ts, 77, payload[:]))
			seq++
		}
	}
	h.clock.Tick(h.now)
	if log.String() != "1#9" {
		t.Fatalf("digits %q, want \"1#9\"", log.String())
	}
	for _, d := range log.digits {
		if d.Duration != 100*time.Millisecond || d.Source != dtmf.SourceRFC4733 {
			t.Fatalf("digit %+v", d)
		}
	}
}

// Packets from a third address are dropped while the call's audio goes on.
func TestForeignPacketsIgnored(t *testing.T) {
	h := newHarness(t)
	a := h.endpoint(EndpointConfig{})
	b := h.endpoint(EndpointConfig{Remote: a.LocalAddr()})
	a.SetRemote(b.LocalAddr())
	intruder, _ := udpPeer(t)
	ref := sweep(4000, 500, 2500, 8000)
	a.SetSource(NewPlayer(NewPrompt(ref), 1, nil))
	var got capture
	b.AddSink(&got)
	loud := make([]byte, 160) // 0x00 is full-scale negative in µ-law
	eps := []*Endpoint{b, a}
	for i := uint64(1); i <= 35; i++ {
		// The intruder uses the SSRC-agnostic attack: right PT, next seq.
		if _, err := intruder.WriteToUDPAddrPort(rtpPacket(0, uint16(i), uint32(i)*160, 1234, loud), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		h.step(eps, []uint64{2 * i, i})
	}
	s := b.Stats()
	if s.RxForeign != 35 || s.RxPackets != 35 {
		t.Fatalf("stats %+v, want 35 foreign and 35 accepted", s)
	}
	if corr, _ := bestCorrelation(ref, got.samples(), 5*codec.FrameSamples); corr < 0.97 {
		t.Fatalf("audio disturbed: correlation %.3f", corr)
	}
}

// With symmetric RTP the first packet's source becomes the remote; later
// packets from elsewhere are foreign and replies go to the latched address.
func TestSymmetricLatch(t *testing.T) {
	h := newHarness(t)
	e := h.endpoint(EndpointConfig{Symmetric: true, Remote: netip.MustParseAddrPort("127.0.0.1:9")})
	first, firstAddr := udpPeer(t)
	second, _ := udpPeer(t)
	frame := make([]byte, 160)
	first.WriteToUDPAddrPort(rtpPacket(0, 1, 160, 5, frame), e.LocalAddr())
	waitFor(t, "latch", func() bool { return handled(e) == 1 })
	second.WriteToUDPAddrPort(rtpPacket(0, 2, 320, 5, frame), e.LocalAddr())
	waitFor(t, "foreign", func() bool { return handled(e) == 2 })
	if s := e.Stats(); s.RxPackets != 1 || s.RxForeign != 1 || e.Remote() != firstAddr {
		t.Fatalf("stats %+v remote %v", s, e.Remote())
	}
	h.clock.Tick(h.now)
	buf := make([]byte, 1500)
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := first.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil || len(p.Payload) != 160 || !p.Marker || p.PayloadType != 0 {
		t.Fatalf("reply %+v err %v", p.Header, err)
	}
}

// SendDigits over RFC 4733 between two endpoints, and the wire format.
func TestSendDigitsRFC4733(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr, TelephoneEvent: 101})
	done := make(chan struct{}, 1)
	if err := e.SendDigits("5", 60*time.Millisecond, func() { done <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	if err := e.SendDigits("6", 0, nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("busy err %v", err)
	}
	// 3 tone packets, 2 end retransmits, 5 gap ticks of silence audio, then audio.
	type wire struct {
		pt     uint8
		marker bool
		ts     uint32
		seq    uint16
		ev     dtmf.Event
	}
	var pkts []wire
	buf := make([]byte, 1500)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < 11; i++ {
		h.clock.Tick(h.now)
		n, err := peer.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		w := wire{pt: p.PayloadType, marker: p.Marker, ts: p.Timestamp, seq: p.SequenceNumber}
		if p.PayloadType == 101 {
			w.ev.Unmarshal(p.Payload)
		}
		pkts = append(pkts, w)
	}
	for i, w := range pkts {
		if i > 0 && w.seq != pkts[i-1].seq+1 {
			t.Fatalf("packet %d seq %d after %d", i, w.seq, pkts[i-1].seq)
		}
		switch {
		case i < 5:
			wantDur := uint16(min(i+1, 3) * 160)
			if w.pt != 101 || w.ts != pkts[0].ts || w.marker != (i == 0) || w.ev.Code != 5 || w.ev.Duration != wantDur || w.ev.End != (i >= 2) {
				t.Fatalf("packet %d = %+v", i, w)
			}
		case i == 5:
			if w.pt != 0 || !w.marker || w.ts != pkts[0].ts+5*160 {
				t.Fatalf("first audio after event = %+v", w)
			}
		default:
			if w.pt != 0 || w.marker || w.ts != pkts[i-1].ts+160 {
				t.Fatalf("packet %d = %+v", i, w)
			}
		}
	}
	select {
	case <-done:
	default:
		t.Fatal("onDone not called")
	}
}

// Digits round trip between two endpoints, over RFC 4733 and in-band.
func TestDigitsBetweenEndpoints(t *testing.T) {
	tests := []struct {
		name   string
		tevent uint8
		source dtmf.Source
	}{
		{name: "rfc4733", tevent: 101, source: dtmf.SourceRFC4733},
		{name: "inband", tevent: 0, source: dtmf.SourceInband},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var log digitLog
			a := h.endpoint(EndpointConfig{TelephoneEvent: tt.tevent})
			b := h.endpoint(EndpointConfig{TelephoneEvent: tt.tevent, Remote: a.LocalAddr(), OnDigit: log.add})
			a.SetRemote(b.LocalAddr())
			if err := a.SendDigits("159#*D0", 0, nil); err != nil {
				t.Fatal(err)
			}
			eps := []*Endpoint{b, a}
			for i := uint64(1); i <= 150; i++ {
				h.step(eps, []uint64{i, i})
			}
			if log.String() != "159#*D0" {
				t.Fatalf("digits %q", log.String())
			}
			for _, d := range log.digits {
				if d.Source != tt.source || d.Duration < 220*time.Millisecond || d.Duration > 260*time.Millisecond {
					t.Fatalf("digit %+v", d)
				}
			}
		})
	}
}

func TestEndpointClose(t *testing.T) {
	h := newHarness(t)
	e := h.endpoint(EndpointConfig{})
	if h.clock.Len() != 1 {
		t.Fatalf("clock len %d", h.clock.Len())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close %v", err)
	}
	if err := e.SendDigits("1", 0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close %v", err)
	}
	if h.clock.Len() != 0 {
		t.Fatalf("clock len %d after close", h.clock.Len())
	}
	e.Tick(time.Now()) // harmless
}

func FuzzHandlePacket(f *testing.F) {
	f.Add(rtpPacket(0, 1, 160, 9, make([]byte, 160)))
	f.Add(rtpPacket(101, 1, 160, 9, []byte{5, 0x80, 0, 160}))
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x10, 0xFF, 0, 0})
	f.Add([]byte{0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF})
	ports, _ := NewPortPool(loopback, 0, 0)
	clock := NewClock(WithShards(1))
	remote := netip.MustParseAddrPort("127.0.0.1:40000")
	e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: remote, TelephoneEvent: 101})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		before := handled(e)
		e.handlePacket(b, remote)
		if handled(e) != before+1 {
			t.Fatal("packet not accounted for")
		}
		e.Tick(time.Time{})
	})
}

// helper for benchmarks: a valid audio packet with the given sequence.
func putSeq(b []byte, seq uint16) {
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*160)
}

// Symmetric RTP must not let a stranger who sends first take the stream:
// only the SDP's IP may latch (a NAT may rewrite the port), and only with a
// packet of a negotiated payload type.
func TestSymmetricLatchRefusesStrangers(t *testing.T) {
	h := newHarness(t)
	e := h.endpoint(EndpointConfig{Symmetric: true, Remote: netip.MustParseAddrPort("127.0.0.1:9")})
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	phone, phoneAddr := udpPeer(t)
	frame := make([]byte, 160)
	stranger.WriteToUDPAddrPort(rtpPacket(0, 1, 160, 7, frame), e.LocalAddr())
	waitFor(t, "stranger counted", func() bool { return handled(e) == 1 })
	phone.WriteToUDPAddrPort(rtpPacket(34, 1, 160, 5, frame), e.LocalAddr()) // H.263: not negotiated
	waitFor(t, "unknown payload type counted", func() bool { return handled(e) == 2 })
	if e.Remote() != netip.MustParseAddrPort("127.0.0.1:9") {
		t.Fatalf("remote moved to %v before a valid packet from the SDP's IP", e.Remote())
	}
	phone.WriteToUDPAddrPort(rtpPacket(0, 2, 320, 5, frame), e.LocalAddr())
	waitFor(t, "phone latched", func() bool { return handled(e) == 3 })
	s := e.Stats()
	if e.Remote() != phoneAddr || s.RxForeign != 1 || s.RxUnknownPT != 1 || s.RxPackets != 1 {
		t.Fatalf("remote %v, stats %+v; want the phone %v latched, 1 foreign, 1 unknown PT", e.Remote(), s, phoneAddr)
	}
}

func TestBehindNAT(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.10", true},
		{"100.64.0.1", true},
		{"169.254.1.1", true},
		{"fd00::1", true},
		{"127.0.0.1", false},
		{"192.0.2.1", false},
		{"2001:db8::1", false},
	}
	for _, tt := range tests {
		if got := behindNAT(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("behindNAT(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
