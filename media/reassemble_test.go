package media

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/jitter"
)

// Frames cut from packets of mixed sizes and alignments come out in
// timeline order with their samples in place.
func TestAssembler(t *testing.T) {
	type pkt struct {
		seq uint16
		ts  uint32 // RTP timestamp, offset from a base that wraps
		n   int
		at  int // where its samples belong on the played timeline
	}
	tests := []struct {
		name   string
		pkts   []pkt
		frames int // frames to pop
	}{
		{name: "20 ms", pkts: []pkt{{1, 0, 160, 0}, {2, 160, 160, 160}, {3, 320, 160, 320}}, frames: 3},
		{name: "10 ms", pkts: []pkt{{1, 0, 80, 0}, {2, 80, 80, 80}, {3, 160, 80, 160}, {4, 240, 80, 240}}, frames: 2},
		{name: "30 ms", pkts: []pkt{{1, 0, 240, 0}, {2, 240, 240, 240}}, frames: 3},
		{name: "60 ms", pkts: []pkt{{1, 0, 480, 0}}, frames: 3},
		{name: "ptime change 20 to 30 to 10", pkts: []pkt{{1, 0, 160, 0}, {2, 160, 240, 160}, {3, 400, 80, 400}, {4, 480, 160, 480}}, frames: 4},
		{name: "10 ms swapped", pkts: []pkt{{1, 0, 80, 0}, {2, 80, 80, 80}, {4, 240, 80, 240}, {3, 160, 80, 160}}, frames: 2},
		{name: "20 ms swapped", pkts: []pkt{{1, 0, 160, 0}, {3, 320, 160, 320}, {2, 160, 160, 160}}, frames: 3},
		{name: "timestamps restart", pkts: []pkt{{1, 5000, 160, 0}, {2, 0, 160, 160}, {3, 160, 160, 320}}, frames: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jb := jitter.New()
			var a assembler
			const base = 4294967000 // the timestamp wraps during the stream
			for _, p := range tt.pkts {
				payload := make([]byte, p.n)
				for i := range payload {
					payload[i] = byte((p.at + i) / 40) // 4 steps per frame
				}
				a.push(jb, 0xFF, 7, p.seq, base+p.ts, payload, time.Time{})
			}
			for f := 0; f < tt.frames; f++ {
				a.due(jb)
				got, st := jb.Pop()
				if st != jitter.OK || len(got) != 160 {
					t.Fatalf("frame %d: status %v, %d bytes", f, st, len(got))
				}
				for i, v := range got {
					if want := byte((f*160 + i) / 40); v != want {
						t.Fatalf("frame %d sample %d = %d, want %d", f, i, v, want)
					}
				}
			}
		})
	}
}

// FuzzAssembler feeds packets of arbitrary sizes and timestamps: nothing
// panics and every frame popped is 20 ms.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0, 0, 0, 160, 0, 160, 0, 80, 255, 255, 1, 224})
	f.Fuzz(func(t *testing.T, b []byte) {
		jb := jitter.New()
		var a assembler
		var ts uint32
		var seq uint16
		for len(b) >= 4 {
			ts += uint32(int16(binary.BigEndian.Uint16(b)))
			n := int(binary.BigEndian.Uint16(b[2:]))%MaxPacketSamples + 1
			b = b[4:]
			seq++
			a.push(jb, 0xFF, 1, seq, ts, make([]byte, n), time.Time{})
			a.due(jb)
			if p, _ := jb.Pop(); p != nil && len(p) != 160 {
				t.Fatalf("frame of %d bytes", len(p))
			}
		}
	})
}
