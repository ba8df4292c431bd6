package media

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
)

// readRTP reads one packet from peer; the deadline only guards a hung test.
func readRTP(t *testing.T, peer *net.UDPConn) rtp.Packet {
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

// readAll reads every packet already sent to peer (after a final marker
// packet the test sends itself, so nothing is still in flight).
func drainRTP(t *testing.T, peer *net.UDPConn, want int) []rtp.Packet {
	t.Helper()
	pkts := make([]rtp.Packet, 0, want)
	for len(pkts) < want {
		pkts = append(pkts, readRTP(t, peer))
	}
	// Nothing more: a packet beyond want would be read by the next call.
	buf := make([]byte, 1500)
	peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := peer.Read(buf); err == nil {
		var p rtp.Packet
		_ = p.Unmarshal(buf[:n])
		t.Fatalf("an extra packet after %d: %+v", want, p.Header)
	}
	return pkts
}

// numbered is a prompt whose frame i is the constant i+1 (so each packet
// tells which frame it carries).
func numbered(frames int) *Prompt {
	pcm := make(codec.PCM16, 0, frames*codec.FrameSamples)
	for i := range frames {
		for range codec.FrameSamples {
			pcm = append(pcm, int16((i+1)*256))
		}
	}
	return NewPrompt(pcm)
}

func frameOf(c codec.Codec, p rtp.Packet) int {
	pcm := make(codec.PCM16, codec.FrameSamples)
	c.Decode(pcm, p.Payload[:codec.FrameSamples])
	return int(pcm[0]+128) / 256 // 0 = silence
}

// A prompt attached between two ticks is on the wire before the next
// tick, which then sends nothing: one packet per tick, sequence and
// timestamps continuous, the marker on the prompt's first packet.
func TestSetSourceSendsAtOnce(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr})
	for range 3 {
		e.Tick(h.now)
	}
	pkts := drainRTP(t, peer, 3)
	last := pkts[2]
	e.SetSource(NewPlayer(numbered(5), 1, nil))
	// No tick: the first frame is already sent.
	p := readRTP(t, peer)
	if !p.Marker || p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp != last.Timestamp+160 || frameOf(codec.PCMU, p) != 1 {
		t.Fatalf("early packet %+v frame %d, last before %+v", p.Header, frameOf(codec.PCMU, p), last.Header)
	}
	for range 6 {
		e.Tick(h.now) // the first sends nothing: its frame went out early
	}
	pkts = drainRTP(t, peer, 5)
	want := []int{2, 3, 4, 5, 0}
	for i, q := range pkts {
		if q.Marker || q.SequenceNumber != p.SequenceNumber+uint16(i+1) || q.Timestamp != p.Timestamp+uint32(160*(i+1)) || frameOf(codec.PCMU, q) != want[i] {
			t.Fatalf("packet %d: %+v frame %d, want frame %d after %+v", i, q.Header, frameOf(codec.PCMU, q), want[i], p.Header)
		}
	}
	if s := e.Stats(); s.TxPackets != 3+6 {
		t.Fatalf("sent %d packets in 9 ticks", s.TxPackets)
	}
}

// Over a long run with prompts attached between ticks, in every state,
// the stream keeps one packet per packet time, continuous.
func TestEarlySourceKeepsCadence(t *testing.T) {
	type action int
	const (
		tick action = iota
		setSource
		setNil
		hold
		resume
		digits
	)
	tests := []struct {
		name    string
		ptime   time.Duration
		script  []action
		tx      []int // packets sent after each step of the script
		packets int   // audio packets in all
		markers int
	}{
		{name: "prompt between ticks", script: []action{tick, tick, setSource, tick, tick, tick}, tx: []int{1, 2, 3, 3, 4, 5}, packets: 5, markers: 2},
		// The second prompt's first frame goes out right after the skipped tick.
		{name: "two prompts between two ticks", script: []action{tick, setSource, setSource, tick, tick, tick}, tx: []int{1, 2, 2, 3, 3, 4}, packets: 4, markers: 3},
		{name: "prompt replaced before its next tick", script: []action{tick, setSource, tick, setSource, tick, tick}, tx: []int{1, 2, 2, 3, 3, 4}, packets: 4, markers: 3},
		{name: "prompt before the first tick", script: []action{setSource, tick, tick, tick}, tx: []int{1, 1, 2, 3}, packets: 3, markers: 1},
		{name: "silence is not sent early", script: []action{tick, setSource, tick, setNil, tick, tick}, tx: []int{1, 2, 2, 2, 3, 4}, packets: 4, markers: 2},
		{name: "not while on hold", script: []action{tick, hold, setSource, tick, resume, tick, tick}, tx: []int{1, 1, 1, 1, 1, 2, 3}, packets: 3, markers: 2},
		{name: "not while sending digits", script: []action{tick, digits, setSource, tick, tick}, tx: []int{1, 1, 1, 2, 3}, packets: 1, markers: 1},
		// The early frame joins the packet being gathered.
		{name: "ptime 40", ptime: 40 * time.Millisecond, script: []action{tick, tick, setSource, tick, tick, tick, tick, tick, tick}, tx: []int{0, 1, 1, 1, 2, 2, 3, 3, 4}, packets: 4, markers: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			peer, peerAddr := udpPeer(t)
			e := h.endpoint(EndpointConfig{Remote: peerAddr, PacketTime: tt.ptime, TelephoneEvent: 101})
			ticks := 0
			var tx []int
			for _, a := range tt.script {
				switch a {
				case tick:
					e.Tick(h.now)
					ticks++
				case setSource:
					e.SetSource(NewPlayer(numbered(50), 1, nil))
				case setNil:
					e.SetSource(nil)
				case hold:
					e.SetDirection(RecvOnly)
				case resume:
					e.SetDirection(SendRecv)
				case digits:
					if err := e.SendDigits("1", 0, nil); err != nil {
						t.Fatal(err)
					}
				}
				tx = append(tx, int(e.Stats().TxPackets))
			}
			if !slices.Equal(tx, tt.tx) {
				t.Fatalf("packets sent after each step %v, want %v", tx, tt.tx)
			}
			var audio []rtp.Packet
			markers := 0
			for _, p := range drainRTP(t, peer, int(e.Stats().TxPackets)) {
				if p.PayloadType == 0 {
					audio = append(audio, p)
					if p.Marker {
						markers++
					}
				}
			}
			if len(audio) != tt.packets || markers != tt.markers {
				t.Fatalf("%d audio packets with %d markers in %d ticks, want %d with %d", len(audio), markers, ticks, tt.packets, tt.markers)
			}
			ptime := uint32(160)
			if tt.ptime > 0 {
				ptime = uint32(tt.ptime / codec.FrameDuration * 160)
			}
			for i := 1; i < len(audio); i++ {
				p, q := audio[i-1], audio[i]
				if q.SequenceNumber != p.SequenceNumber+1 || (q.Timestamp-p.Timestamp)%ptime != 0 || q.Timestamp == p.Timestamp {
					t.Fatalf("packet %d: %+v after %+v", i, q.Header, p.Header)
				}
			}
			// Without hold, every tick's timestamp slot is sent exactly once.
			if tt.name != "not while on hold" && tt.name != "not while sending digits" {
				if span := audio[len(audio)-1].Timestamp - audio[0].Timestamp; span != uint32(len(audio)-1)*ptime {
					t.Fatalf("timestamps span %d for %d packets", span, len(audio))
				}
			}
		})
	}
}

// A bridged leg whose prompt takes priority sends its first frame at once too.
func TestBridgedPromptSendsAtOnce(t *testing.T) {
	h := newHarness(t)
	peerA, addrA := udpPeer(t)
	_, addrB := udpPeer(t)
	a := h.endpoint(EndpointConfig{Remote: addrA})
	b := h.endpoint(EndpointConfig{Remote: addrB})
	br, err := NewBridge(a, b, BridgeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	for range 2 {
		h.clock.Tick(h.now)
	}
	last := drainRTP(t, peerA, 2)[1]
	a.SetSource(NewPlayer(numbered(3), 1, nil))
	p := readRTP(t, peerA)
	if !p.Marker || p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp != last.Timestamp+160 || frameOf(codec.PCMU, p) != 1 {
		t.Fatalf("early packet %+v frame %d after %+v", p.Header, frameOf(codec.PCMU, p), last.Header)
	}
	for range 3 {
		h.clock.Tick(h.now)
	}
	for i, q := range drainRTP(t, peerA, 2) {
		if q.SequenceNumber != p.SequenceNumber+uint16(i+1) || q.Timestamp != p.Timestamp+uint32(160*(i+1)) || frameOf(codec.PCMU, q) != i+2 {
			t.Fatalf("packet %d: %+v frame %d after %+v", i, q.Header, frameOf(codec.PCMU, q), p.Header)
		}
	}
}

// SetSource racing a fast running clock: frames never interleave, the
// sequence has no gap or duplicate and timestamps step by 160 per packet.
func TestSetSourceRacesClock(t *testing.T) {
	ports, err := NewPortPool(loopback, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer, peerAddr := udpPeer(t)
	clock := NewClock(WithShards(1), WithInterval(time.Millisecond))
	e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: peerAddr})
	if err != nil {
		t.Fatal(err)
	}
	clock.Start()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			e.SetSource(NewPlayer(numbered(2), 1, nil))
			time.Sleep(300 * time.Microsecond)
		}
	}()
	wg.Wait()
	clock.Stop()
	sent := int(e.Stats().TxPackets)
	e.Close()
	pkts := drainRTP(t, peer, sent)
	for i := 1; i < len(pkts); i++ {
		p, q := pkts[i-1], pkts[i]
		if q.SequenceNumber != p.SequenceNumber+1 || q.Timestamp != p.Timestamp+160 {
			t.Fatalf("packet %d of %d: %+v after %+v", i, len(pkts), q.Header, p.Header)
		}
	}
}

// RFC 4733 digits reach OnDigit when their end packet arrives, without a
// tick, once per event and in order; a digit whose end was lost still
// comes from the tick after the timeout.
func TestDigitOnArrival(t *testing.T) {
	type pkt struct {
		digit byte
		ts    uint32
		end   bool
	}
	tests := []struct {
		name     string
		pkts     []pkt
		sentinel bool   // a final 'D' event: everything before it is delivered
		arrival  string // digits before any tick
		ticks    int
		want     string // after the ticks
	}{
		{name: "end packets", pkts: []pkt{{'1', 100, false}, {'1', 100, true}, {'1', 100, true}, {'1', 100, true}},
			sentinel: true, arrival: "1", ticks: 60, want: "1"},
		{name: "two events of one key", pkts: []pkt{{'5', 100, true}, {'5', 100, true}, {'5', 900, true}, {'5', 900, true}},
			sentinel: true, arrival: "55", ticks: 1, want: "55"},
		{name: "a new event ends one whose end was lost", pkts: []pkt{{'2', 100, false}, {'3', 900, false}, {'3', 900, true}},
			sentinel: true, arrival: "23", ticks: 1, want: "23"},
		{name: "lost end: not before the timeout", pkts: []pkt{{'4', 100, false}, {'4', 100, false}},
			arrival: "", ticks: 49, want: ""},
		{name: "lost end: from the tick after the timeout", pkts: []pkt{{'4', 100, false}, {'4', 100, false}},
			arrival: "", ticks: 50, want: "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			peer, peerAddr := udpPeer(t)
			var log digitLog
			e := h.endpoint(EndpointConfig{Remote: peerAddr, TelephoneEvent: 101, OnDigit: log.add})
			pkts := tt.pkts
			if tt.sentinel {
				pkts = append(pkts[:len(pkts):len(pkts)], pkt{'D', 50000, true})
			}
			for i, p := range pkts {
				code, _ := dtmf.Code(p.digit)
				var payload [4]byte
				dtmf.Event{Code: code, Volume: 10, Duration: 480, End: p.end}.MarshalTo(payload[:])
				if _, err := peer.WriteToUDPAddrPort(rtpPacket(101, uint16(i), p.ts, 7, payload[:]), e.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			if tt.sentinel {
				waitFor(t, "the sentinel digit", func() bool { s := log.String(); return len(s) > 0 && s[len(s)-1] == 'D' })
			} else {
				waitFor(t, "packets", func() bool { return handled(e) >= uint64(len(pkts)) })
			}
			got := log.String()
			if tt.sentinel {
				got = got[:len(got)-1]
			}
			if got != tt.arrival {
				t.Fatalf("digits on arrival %q, want %q", got, tt.arrival)
			}
			for range tt.ticks {
				e.Tick(h.now)
			}
			got = log.String()
			if tt.sentinel {
				got = got[:len(tt.arrival)] + got[len(tt.arrival)+1:]
			}
			if got != tt.want {
				t.Fatalf("digits after %d ticks %q, want %q", tt.ticks, got, tt.want)
			}
		})
	}
}

// OnDigit runs on the reader goroutine for RFC 4733 digits; closing the
// endpoint from it must not deadlock, and the port still comes back.
func TestCloseFromOnDigit(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	closed := make(chan error, 1)
	var e *Endpoint
	ready := make(chan struct{})
	e = h.endpoint(EndpointConfig{Remote: peerAddr, TelephoneEvent: 101, OnDigit: func(dtmf.Received) {
		<-ready
		closed <- e.Close()
	}})
	close(ready)
	var payload [4]byte
	dtmf.Event{Code: 1, Volume: 10, Duration: 480, End: true}.MarshalTo(payload[:])
	if _, err := peer.WriteToUDPAddrPort(rtpPacket(101, 1, 100, 7, payload[:]), e.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close from OnDigit: %v", err)
	}
	waitFor(t, "the port released", func() bool { return h.ports.InUse() == 0 })
}
