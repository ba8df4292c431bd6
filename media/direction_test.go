package media

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestParseDirection(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Direction
		answer  Direction
		wantErr error
	}{
		{name: "sendrecv", in: "sendrecv", want: SendRecv, answer: SendRecv},
		{name: "empty is sendrecv", in: "", want: SendRecv, answer: SendRecv},
		{name: "sendonly (remote holds us)", in: "sendonly", want: SendOnly, answer: RecvOnly},
		{name: "recvonly", in: "RecvOnly", want: RecvOnly, answer: SendOnly},
		{name: "inactive", in: " inactive ", want: Inactive, answer: Inactive},
		{name: "unknown", in: "sendsome", wantErr: ErrDirection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDirection(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got != tt.want || got.Answer() != tt.answer || got.String() != tt.want.String() {
				t.Fatalf("got %v answer %v, want %v answer %v", got, got.Answer(), tt.want, tt.answer)
			}
		})
	}
}

// Each direction between two endpoints playing to each other: who sends,
// who hears.
func TestSetDirection(t *testing.T) {
	tests := []struct {
		name              string
		dir               Direction
		aSends, aReceives bool
	}{
		{name: "sendrecv", dir: SendRecv, aSends: true, aReceives: true},
		{name: "sendonly", dir: SendOnly, aSends: true, aReceives: false},
		{name: "recvonly", dir: RecvOnly, aSends: false, aReceives: true},
		{name: "inactive", dir: Inactive, aSends: false, aReceives: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			a, b := h.pair(EndpointConfig{}, EndpointConfig{})
			// Direction first: a source attached while sending goes out
			// at once (SetSource's early frame).
			if err := a.SetDirection(tt.dir); err != nil {
				t.Fatal(err)
			}
			a.SetSource(loop(tone(800, 500, 8000)))
			b.SetSource(loop(tone(800, 1500, 8000)))
			var heardA, heardB capture
			a.AddSink(&heardA)
			b.AddSink(&heardB)
			if a.Direction() != tt.dir {
				t.Fatalf("direction %v", a.Direction())
			}
			h.run([]Stream{a, b}, []*Endpoint{a, b}, 25)
			if got := toneLevel(heardB.samples()[5*160:], 500) > 7000; got != tt.aSends {
				t.Fatalf("b hears a: %v, want %v", got, tt.aSends)
			}
			if got := toneLevel(heardA.samples()[5*160:], 1500) > 7000; got != tt.aReceives {
				t.Fatalf("a hears b: %v, want %v", got, tt.aReceives)
			}
			sa, sb := a.Stats(), b.Stats()
			if (sa.TxPackets == 25) != tt.aSends || (sa.TxPackets == 0) == tt.aSends {
				t.Fatalf("a sent %d packets", sa.TxPackets)
			}
			if (sa.RxInactive == 25) == tt.aReceives || sb.RxPackets != sa.TxPackets {
				t.Fatalf("a stats %+v b stats %+v", sa, sb)
			}
		})
	}
	if err := (&Endpoint{}).SetDirection(Direction(7)); !errors.Is(err, ErrDirection) {
		t.Fatalf("bad direction: %v", err)
	}
}

// Hold and resume on the wire: no packets while held, then the same SSRC
// with the next sequence number, a timestamp that kept running and the
// marker bit.
func TestHoldResumeWire(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr})
	e.SetSource(loop(tone(800, 500, 8000)))
	read := func() rtp.Packet {
		t.Helper()
		buf := make([]byte, 1500)
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := peer.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i := 0; i < 3; i++ {
		h.clock.Tick(h.now)
	}
	var last rtp.Packet
	for i := 0; i < 3; i++ {
		last = read()
	}
	e.SetDirection(RecvOnly) // the remote put us on hold (a=sendonly)
	for i := 0; i < 5; i++ {
		h.clock.Tick(h.now)
	}
	e.SetDirection(SendRecv)
	h.clock.Tick(h.now)
	p := read()
	if p.SSRC != last.SSRC || p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp != last.Timestamp+6*160 || !p.Marker {
		t.Fatalf("after resume: %+v, last before hold: %+v", p.Header, last.Header)
	}
	if s := e.Stats(); s.TxPackets != 4 {
		t.Fatalf("sent %d packets, want 4", s.TxPackets)
	}
}
