// Package jitter is a small adaptive RTP jitter buffer for 20 ms frames.
//
// The reader goroutine Pushes packets as they arrive; the media clock Pops
// one frame per tick. The buffer reorders by sequence number (16-bit wrap
// aware), drops duplicates and late packets, conceals a lost frame by
// repeating the last one once (then silence), and keeps a target depth of
// 1–3 frames that grows with the measured interarrival jitter (up to Max).
// An SSRC change or a large sequence jump resynchronises it.
//
// Unlike pion's interceptor jitter buffer it starts playing after the
// first target-depth frames, not after 50 packets.
//
// A Buffer is not safe for concurrent use; the owner serialises access.
package jitter

import "time"

// Sizes of the buffer, in frames.
const (
	// Slots is the ring size: the furthest ahead a packet may be stored.
	Slots = 16
	// DefaultMax is the largest target depth.
	DefaultMax = 8
	// maxPayload is the largest payload kept (a 1500-byte datagram).
	maxPayload = 1500
	// frameTS is one 20 ms frame in 8 kHz timestamp units.
	frameTS = 160
	// resyncBehind is how far back a packet may be before it is treated as a
	// restart rather than as late.
	resyncBehind = 100
)

// Status says what Pop returned.
type Status uint8

// Pop results.
const (
	// Empty: nothing to play yet (before the first packet or while filling).
	Empty Status = iota
	// OK: a received frame.
	OK
	// Concealed: a frame was lost; the payload is the previous frame
	// repeated, or nil when the caller should play silence.
	Concealed
)

// Stats counts what the buffer did with its input.
type Stats struct {
	Pushed     uint64
	Played     uint64
	Lost       uint64 // frames concealed
	Late       uint64 // packets that arrived after their play-out time
	Duplicates uint64
	Overflow   uint64 // frames dropped to cut latency or too far ahead
	Resyncs    uint64
	Underruns  uint64
	Target     int     // current target depth in frames
	JitterMS   float64 // RFC 3550 interarrival jitter estimate
}

type slot struct {
	valid   bool
	seq     uint16
	payload []byte
}

// Buffer is an adaptive jitter buffer. The zero value is not usable; call New.
type Buffer struct {
	slots   [Slots]slot
	max     int
	min     int // smallest target: frames that arrive together in one packet
	started bool
	filling bool
	ssrc    uint32
	next    uint16 // sequence number of the next frame to play
	count   int    // valid slots

	keepAll bool // never drop a frame to cut latency (a recording listens)

	last      []byte // last played payload, for concealment
	lastValid bool
	lostRun   int

	// jitter estimation (RFC 3550 A.8), in timestamp units
	haveTransit bool
	transit     int64
	jitter      float64
	target      int
	calm        int // pops since the last underrun, to let the target shrink

	stats Stats
}

// Option configures a Buffer.
type Option func(*Buffer)

// WithMax sets the largest target depth (1..Slots/2).
func WithMax(frames int) Option {
	return func(b *Buffer) { b.max = max(1, min(frames, Slots/2)) }
}

// New returns an empty buffer.
func New(opts ...Option) *Buffer {
	b := &Buffer{max: DefaultMax, min: 1, target: 1}
	for _, o := range opts {
		o(b)
	}
	for i := range b.slots {
		b.slots[i].payload = make([]byte, 0, 2*frameTS)
	}
	b.last = make([]byte, 0, 2*frameTS)
	return b
}

// Reset forgets every buffered packet and the stream's identity.
func (b *Buffer) Reset() {
	for i := range b.slots {
		b.slots[i].valid = false
	}
	b.count = 0
	b.started = false
	b.lastValid = false
	b.haveTransit = false
	b.lostRun = 0
}

// Push stores one packet. payload is copied. arrival is when the packet
// was received; it feeds the jitter estimate.
func (b *Buffer) Push(ssrc uint32, seq uint16, ts uint32, payload []byte, arrival time.Time) {
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	b.stats.Pushed++
	if !b.started || ssrc != b.ssrc {
		b.resync(ssrc, seq)
	}
	diff := int16(seq - b.next)
	if b.keepAll && int(diff) >= Slots && int(diff) < 2*Slots {
		// The clock fell further behind than the ring holds: make room by
		// dropping the oldest frames, rather than restarting and losing
		// every frame buffered.
		for int(int16(seq-b.next)) >= Slots {
			b.dropOldest()
		}
		diff = int16(seq - b.next)
	}
	switch {
	case diff < -resyncBehind || int(diff) >= Slots:
		b.resync(ssrc, seq)
		diff = 0
	case diff < 0:
		b.stats.Late++
		return
	}
	b.estimate(ts, arrival)
	s := &b.slots[seq%Slots]
	if s.valid {
		if s.seq == seq {
			b.stats.Duplicates++
			return
		}
		// A stale frame from a previous lap: cannot happen with diff < Slots,
		// but stay consistent if it does.
		b.count--
	}
	s.valid = true
	s.seq = seq
	s.payload = append(s.payload[:0], payload...)
	b.count++
	// Too much buffered compared with the target: drop the oldest frames so
	// latency does not stay high after a burst.
	for b.count > b.target+3 && !b.filling && !b.keepAll {
		b.dropOldest()
	}
}

func (b *Buffer) resync(ssrc uint32, seq uint16) {
	if b.started {
		b.stats.Resyncs++
	}
	b.Reset()
	b.started = true
	b.filling = true
	b.ssrc = ssrc
	b.next = seq
}

func (b *Buffer) dropOldest() {
	for i := 0; i < Slots; i++ {
		s := &b.slots[b.next%Slots]
		if s.valid && s.seq == b.next {
			s.valid = false
			b.count--
			b.next++
			b.stats.Overflow++
			return
		}
		b.next++
	}
}

// estimate updates the RFC 3550 interarrival jitter and the target depth.
func (b *Buffer) estimate(ts uint32, arrival time.Time) {
	if arrival.IsZero() {
		return
	}
	arr := arrival.UnixNano() * frameTS / int64(20*time.Millisecond)
	transit := arr - int64(ts)
	if b.haveTransit {
		d := transit - b.transit
		// Timestamps wrap at 2^32: fold into a signed distance.
		d = int64(int32(d))
		if d < 0 {
			d = -d
		}
		b.jitter += (float64(d) - b.jitter) / 16
	}
	b.transit = transit
	b.haveTransit = true
	// Two jitter deviations of headroom, rounded up to frames.
	want := 1 + int(2*b.jitter/frameTS+0.999)
	if want > b.target {
		b.target = min(want, b.max)
	}
}

// Pop returns the next frame. The payload aliases an internal buffer and is
// valid until the next call to Push or Pop.
func (b *Buffer) Pop() ([]byte, Status) {
	if !b.started {
		return nil, Empty
	}
	if b.filling {
		if b.count < b.target {
			return nil, Empty
		}
		b.filling = false
	}
	s := &b.slots[b.next%Slots]
	if s.valid && s.seq == b.next {
		s.valid = false
		b.count--
		b.next++
		b.last = append(b.last[:0], s.payload...)
		b.lastValid = true
		b.lostRun = 0
		b.stats.Played++
		b.calm++
		if b.calm >= 500 && b.target > 1 {
			// 10 s without an underrun: try one frame less latency.
			b.calm = 0
			want := 1 + int(2*b.jitter/frameTS+0.999)
			if want < b.target && b.target > b.min {
				b.target--
			}
		}
		return b.last, OK
	}
	if b.count == 0 {
		// Nothing ahead: the sender is late (or stopped). Conceal this
		// frame, refill to a deeper target before resuming.
		b.stats.Underruns++
		b.calm = 0
		b.target = min(b.target+1, b.max)
		b.filling = true
		return b.conceal()
	}
	b.next++
	return b.conceal()
}

func (b *Buffer) conceal() ([]byte, Status) {
	b.stats.Lost++
	b.lostRun++
	if b.lostRun == 1 && b.lastValid {
		return b.last, Concealed
	}
	return nil, Concealed
}

// SetKeepAll stops (true) or restarts (false) dropping buffered frames to
// cut latency. While a recording listens to the stream, a frame the clock
// pops late (a stall, catching up) must still be played and recorded, not
// dropped: only real packet loss may leave a gap.
func (b *Buffer) SetKeepAll(on bool) { b.keepAll = on }

// SetMinTarget keeps the target depth at least frames (clamped to
// 1..max). Packets of 40 or 60 ms deliver two or three frames at once;
// with a smaller target every packet would start with an underrun.
func (b *Buffer) SetMinTarget(frames int) {
	b.min = max(1, min(frames, b.max))
	b.target = max(b.target, b.min)
}

// Grow adds latency as an underrun does: the target depth grows by a
// frame and Pop returns Empty until that much is buffered. For an owner
// that finds the frame due for play-out still incomplete (part of it in
// a packet that is late).
func (b *Buffer) Grow() {
	b.stats.Underruns++
	b.calm = 0
	b.target = min(b.target+1, b.max)
	b.filling = true
}

// Next returns the sequence number the next Pop will play, and false
// while the buffer has not started playing (empty or filling).
func (b *Buffer) Next() (uint16, bool) {
	return b.next, b.started && !b.filling
}

// Stats returns the counters.
func (b *Buffer) Stats() Stats {
	s := b.stats
	s.Target = b.target
	s.JitterMS = b.jitter / 8
	return s
}

// Depth returns the number of buffered frames.
func (b *Buffer) Depth() int { return b.count }
