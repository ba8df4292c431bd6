package media

import (
	"math/bits"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/jitter"
)

// MaxPacketSamples is the largest audio payload accepted: 60 ms of G.711.
const MaxPacketSamples = 480

// partials is how many incomplete frames the assembler keeps.
const partials = 4

// assembler cuts incoming audio of any packet size (10, 30, 40, 60 ms...)
// into the pipeline's 20 ms frames, placed by RTP timestamp. Each frame
// is pushed into the jitter buffer with a sequence number derived from its
// timestamp, so the buffer orders by time: silence suppression (timestamp
// gaps) and ptime changes land in the right place.
//
// Packets aligned on 20 ms boundaries go straight through without a copy.
// A frame split across packets waits in a partial slot. If it is still
// incomplete when due for play-out, the jitter buffer first grows by a
// frame (the missing part is probably late: adapt as an underrun would);
// if it is still incomplete the next time, it is played with the gap
// filled by silence (the part was lost).
type assembler struct {
	started bool
	ssrc    uint32
	lastTS  uint32
	lastSeq uint16
	lastPos int64 // timeline position (samples) of lastTS
	lastLen int
	minTgt  int
	parts   [partials]partial
}

type partial struct {
	used   bool
	waited bool // due once already: the jitter buffer grew for it
	frame  int64
	mask   [3]uint64 // which of the 160 samples are filled
	buf    [codec.FrameSamples]byte
}

func (a *assembler) reset() { *a = assembler{} }

func floorDiv(x, y int64) int64 {
	q := x / y
	if x%y != 0 && (x < 0) != (y < 0) {
		q--
	}
	return q
}

// push places one audio payload (1..MaxPacketSamples bytes).
func (a *assembler) push(jb *jitter.Buffer, silence byte, ssrc uint32, seq uint16, ts uint32, payload []byte, arrival time.Time) {
	n := len(payload)
	var pos int64
	if !a.started || ssrc != a.ssrc {
		a.reset()
		a.started = true
		a.ssrc = ssrc
		a.lastTS, a.lastSeq, a.lastLen = ts, seq, n
	} else {
		d := int64(int32(ts - a.lastTS))
		if d <= 0 && seq == a.lastSeq+1 {
			// The next packet by sequence but not by time: the sender
			// restarted its timestamps (a B2BUA switching sources).
			// Continue the timeline instead of dropping it as late.
			d = int64(a.lastLen)
		}
		pos = a.lastPos + d
		if d > 0 {
			a.lastTS, a.lastSeq, a.lastPos, a.lastLen = ts, seq, pos, n
		}
	}
	if want := (n + codec.FrameSamples - 1) / codec.FrameSamples; want != a.minTgt {
		a.minTgt = want
		jb.SetMinTarget(want)
	}
	for off := 0; off < n; {
		p := pos + int64(off)
		f := floorDiv(p, codec.FrameSamples)
		in := int(p - f*codec.FrameSamples)
		k := min(codec.FrameSamples-in, n-off)
		if in == 0 && k == codec.FrameSamples {
			a.discard(f)
			jb.Push(ssrc, uint16(f), ts, payload[off:off+k], arrival)
		} else {
			a.fill(jb, silence, f, in, payload[off:off+k], ts, arrival)
		}
		off += k
	}
}

// due pushes the partial frames whose play-out time has come, just
// before the jitter buffer's Pop.
func (a *assembler) due(jb *jitter.Buffer) {
	next, playing := jb.Next()
	if !playing {
		return
	}
	for i := range a.parts {
		pt := &a.parts[i]
		if !pt.used || int16(uint16(pt.frame)-next) > 0 {
			continue
		}
		if !pt.waited && uint16(pt.frame) == next {
			pt.waited = true
			jb.Grow()
			continue
		}
		a.flush(jb, pt, 0, time.Time{})
	}
}

func (a *assembler) discard(f int64) {
	if pt := &a.parts[uint64(f)%partials]; pt.used && pt.frame == f {
		pt.used = false
	}
}

func (a *assembler) fill(jb *jitter.Buffer, silence byte, f int64, in int, b []byte, ts uint32, arrival time.Time) {
	pt := &a.parts[uint64(f)%partials]
	if pt.used && pt.frame != f {
		a.flush(jb, pt, ts, arrival)
	}
	if !pt.used {
		pt.used = true
		pt.waited = false
		pt.frame = f
		pt.mask = [3]uint64{}
		for i := range pt.buf {
			pt.buf[i] = silence
		}
	}
	copy(pt.buf[in:], b)
	for i := in; i < in+len(b); i++ {
		pt.mask[i/64] |= 1 << (i % 64)
	}
	if bits.OnesCount64(pt.mask[0])+bits.OnesCount64(pt.mask[1])+bits.OnesCount64(pt.mask[2]) == codec.FrameSamples {
		a.flush(jb, pt, ts, arrival)
	}
}

// flush pushes a frame, complete or not (missing samples are silence).
func (a *assembler) flush(jb *jitter.Buffer, pt *partial, ts uint32, arrival time.Time) {
	pt.used = false
	jb.Push(a.ssrc, uint16(pt.frame), ts, pt.buf[:], arrival)
}
