package media

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// A phone sending 10 to 60 ms per packet (in order or with pairs swapped)
// is cut into the pipeline's 20 ms frames by timestamp.
func TestReceivePacketSizes(t *testing.T) {
	tests := []struct {
		name    string
		ms      int
		reorder bool
	}{
		{name: "10 ms", ms: 10},
		{name: "20 ms", ms: 20},
		{name: "30 ms", ms: 30},
		{name: "40 ms", ms: 40},
		{name: "60 ms", ms: 60},
		{name: "10 ms reordered", ms: 10, reorder: true},
		{name: "30 ms reordered", ms: 30, reorder: true},
		{name: "60 ms reordered", ms: 60, reorder: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			peer, peerAddr := udpPeer(t)
			e := h.endpoint(EndpointConfig{Remote: peerAddr})
			var got capture
			e.AddSink(&got)
			ref := sweep(7680, 300, 3000, 9000) // whole packets of every size
			enc := make([]byte, len(ref))
			codec.PCMU.Encode(enc, ref)
			n := tt.ms * 8
			var pkts [][]byte
			for i := 0; i+n <= len(enc); i += n {
				pkts = append(pkts, rtpPacket(0, uint16(65530+i/n), uint32(4294960000+i), 7, enc[i:i+n]))
			}
			sent, written := 0, uint64(0)
			var held []byte
			write := func(b []byte) {
				if _, err := peer.WriteToUDPAddrPort(b, e.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				written++
			}
			for k := 0; k < 60; k++ {
				// Send what the phone has recorded by now.
				for sent < len(pkts) && (sent+1)*n <= (k+1)*codec.FrameSamples {
					p := pkts[sent]
					sent++
					// Swap packets 3 and 4, 5 and 6...: the first packet
					// starts the stream, anything before it is late.
					if tt.reorder && held == nil && sent%2 == 0 && sent >= 4 && sent < len(pkts) {
						held = p
						continue
					}
					write(p)
					if held != nil {
						write(held)
						held = nil
					}
				}
				waitFor(t, "packets", func() bool { return handled(e) == written })
				h.now = h.now.Add(codec.FrameDuration)
				h.nowNS.Store(h.now.UnixNano())
				e.Tick(h.now)
			}
			pcm := got.samples()
			s := e.Stats()
			if s.RxPackets != uint64(len(pkts)) || s.Jitter.Played != 48 || s.Jitter.Late != 0 || s.Jitter.Duplicates != 0 || s.RxBadSize != 0 {
				t.Fatalf("not every frame played once: %+v", s)
			}
			if tt.reorder {
				// A late packet makes the buffer grow by a frame of
				// silence (which shifts the audio) and then play on: check
				// the part after it.
				tail := ref[len(ref)*2/3:]
				if corr, lag := bestCorrelation(tail, pcm, len(pcm)-len(tail)); corr < 0.97 {
					t.Fatalf("tail correlation %.3f at lag %d", corr, lag)
				}
				return
			}
			// In order: every frame on time, the only concealment is when
			// the phone stops sending.
			corr, lag := bestCorrelation(ref, pcm, 8*codec.FrameSamples)
			if corr < 0.97 || lag%codec.FrameSamples != 0 {
				t.Fatalf("correlation %.3f at lag %d %+v", corr, lag, s)
			}
			if r := rms(pcm[lag:lag+len(ref)]) / rms(ref); r < 0.95 || r > 1.05 {
				t.Fatalf("energy ratio %.3f", r)
			}
			if s.Jitter.Lost != 1 || s.Jitter.Underruns != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// With PacketTime set, an endpoint sends packets of that size with
// continuous sequence numbers and timestamps.
func TestSendPacketTime(t *testing.T) {
	for _, ms := range []int{10, 20, 30, 40, 60} {
		t.Run(time.Duration(ms*int(time.Millisecond)).String(), func(t *testing.T) {
			h := newHarness(t)
			peer, peerAddr := udpPeer(t)
			e := h.endpoint(EndpointConfig{Remote: peerAddr, Codec: codec.PCMA, PacketTime: time.Duration(ms) * time.Millisecond})
			ref := sweep(4800, 300, 3000, 9000)
			e.SetSource(NewPlayer(NewPrompt(ref), 1, nil))
			const ticks = 30
			for k := 0; k < ticks; k++ {
				h.clock.Tick(h.now)
			}
			n := ms * 8
			want := ticks * codec.FrameSamples / n
			got := make(codec.PCM16, ticks*codec.FrameSamples)
			buf := make([]byte, 1500)
			peer.SetReadDeadline(time.Now().Add(10 * time.Second))
			var first rtp.Header
			for i := 0; i < want; i++ {
				m, err := peer.Read(buf)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				var p rtp.Packet
				if err := p.Unmarshal(buf[:m]); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = p.Header
				}
				off := int(p.Timestamp - first.Timestamp)
				if p.PayloadType != 8 || len(p.Payload) != n || p.SequenceNumber != first.SequenceNumber+uint16(i) || off != i*n || p.Marker != (i == 0) {
					t.Fatalf("packet %d: pt %d len %d seq %d ts offset %d marker %v", i, p.PayloadType, len(p.Payload), p.SequenceNumber-first.SequenceNumber, off, p.Marker)
				}
				codec.PCMA.Decode(got[off:], p.Payload)
			}
			if corr, lag := bestCorrelation(ref, got, 0); corr < 0.99 {
				t.Fatalf("correlation %.3f at lag %d", corr, lag)
			}
			if s := e.Stats(); s.TxPackets != uint64(want) {
				t.Fatalf("sent %d packets, want %d", s.TxPackets, want)
			}
		})
	}
}

func TestPacketTimeErrors(t *testing.T) {
	tests := []struct {
		name    string
		ptime   time.Duration
		wantErr error
	}{
		{name: "default", ptime: 0},
		{name: "10 ms", ptime: 10 * time.Millisecond},
		{name: "60 ms", ptime: 60 * time.Millisecond},
		{name: "5 ms", ptime: 5 * time.Millisecond, wantErr: ErrPacketTime},
		{name: "25 ms", ptime: 25 * time.Millisecond, wantErr: ErrPacketTime},
		{name: "80 ms", ptime: 80 * time.Millisecond, wantErr: ErrPacketTime},
		{name: "negative", ptime: -20 * time.Millisecond, wantErr: ErrPacketTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := NewEndpoint(EndpointConfig{Clock: h.clock, Ports: h.ports, PacketTime: tt.ptime})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrConfig) {
				t.Fatalf("NewEndpoint err = %v, want %v", err, tt.wantErr)
			}
			e := h.endpoint(EndpointConfig{})
			if err := e.SetPacketTime(tt.ptime); !errors.Is(err, tt.wantErr) {
				t.Fatalf("SetPacketTime err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
