package media

import (
	"fmt"
	"testing"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// levelFrame is frame n of the reference signal: a constant level that
// names it (1..25, spaced wider than µ-law's coarsest step), so a
// recording can be read back frame by frame.
func levelFrame(n int) []byte {
	pcm := make(codec.PCM16, codec.FrameSamples)
	for i := range pcm {
		pcm[i] = int16(1200 * (n%25 + 1))
	}
	enc := make([]byte, codec.FrameSamples)
	codec.PCMU.Encode(enc, pcm)
	return enc
}

// frameLevels reads back the frame numbers of a recording: 0 for
// silence, else the level's frame number (mod 25, 1-based).
func frameLevels(pcm codec.PCM16) []int {
	var out []int
	for i := 0; i+codec.FrameSamples <= len(pcm); i += codec.FrameSamples {
		v := int(pcm[i+codec.FrameSamples/2])
		out = append(out, (v+600)/1200)
	}
	return out
}

// A recording gets every frame the caller sent, in order, whatever the
// timing: a burst of packets while the clock stalls (then catches up),
// reordering within the jitter buffer, and a late clock. Only a packet
// that never arrives leaves a gap, of exactly one frame.
func TestRecordingHasNoGapButLoss(t *testing.T) {
	h := newHarness(t)
	peer, peerAddr := udpPeer(t)
	e := h.endpoint(EndpointConfig{Remote: peerAddr})
	var rec capture
	e.AddSink(&rec)
	sent := 0
	send := func(n int) {
		if _, err := peer.WriteToUDPAddrPort(rtpPacket(0, uint16(1000+n), uint32(160*n), 42, levelFrame(n)), e.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		sent++
		waitFor(t, fmt.Sprintf("packet %d", n), func() bool { return handled(e) == uint64(sent) })
	}
	tick := func() { e.Tick(h.now) }
	const lost = 30
	n := 1
	// Steady: one packet per tick.
	for ; n <= 10; n++ {
		send(n)
		tick()
	}
	// The clock stalls for 10 frames while the packets keep coming, then
	// catches up with 10 ticks in a row (media.Clock replays missed ticks).
	for ; n <= 20; n++ {
		send(n)
	}
	for range 10 {
		tick()
	}
	// Reordered pairs, within the buffer's depth.
	for ; n <= 28; n += 2 {
		send(n + 1)
		send(n)
		tick()
		tick()
	}
	// One packet never arrives.
	for ; n <= 40; n++ {
		if n != lost {
			send(n)
		}
		tick()
	}
	for range 6 {
		tick() // drain
	}
	levels := frameLevels(rec.samples())
	// Silence is allowed before the first frame (the buffer fills), right
	// after the loss (the buffer refills after the underrun it caused) and
	// at the end (the stream stopped); nowhere else, and no frame may be
	// missing or out of order.
	var got []int
	for i, l := range levels {
		if l != 0 {
			got = append(got, l)
			continue
		}
		if len(got) > 0 && len(got) < 30 {
			t.Fatalf("silence at frame %d of the recording, before the loss:\n%v", i, levels)
		}
	}
	var want []int
	for i := 1; i <= 40; i++ {
		if i == lost {
			want = append(want, (lost-1)%25+1) // concealed: the previous frame once
			continue
		}
		want = append(want, i%25+1)
	}
	if len(got) > len(want)+1 || fmt.Sprint(got[:min(len(got), len(want))]) != fmt.Sprint(want) {
		t.Fatalf("recorded frames\n got %v\nwant %v (then at most one concealed frame)", got, want)
	}
}
