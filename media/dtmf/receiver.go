package dtmf

import "time"

// DefaultEndTimeout is how long a digit whose end packets were all lost is
// kept before it is reported anyway.
const DefaultEndTimeout = time.Second

// Receiver turns RFC 4733 packets into digits. Packets of one event share
// an RTP timestamp, so a digit is keyed by SSRC+timestamp: the three
// repeated end packets, and retransmissions, give one digit. A digit whose
// end packet never arrives is reported after EndTimeout of silence from it.
//
// Push is called for each packet, Tick once per 20 ms; completed digits
// are passed to emit from Tick or Flush, in order. Call Flush right after
// Push to report a digit as its end packet arrives rather than on the next
// tick. A Receiver is not safe for concurrent use.
type Receiver struct {
	emit       func(Received)
	endTicks   int
	active     bool
	cur        key
	curCode    uint8
	curDur     uint16
	idle       int    // ticks since the current event was updated
	done       [8]key // recently finished events, to drop their repeats
	doneNext   int
	queue      []Received
	tickBuffer []Received
}

type key struct {
	ssrc uint32
	ts   uint32
	set  bool
}

// NewReceiver returns a Receiver that reports digits to emit. emit runs on
// the goroutine that calls Tick or Flush and must not block.
func NewReceiver(emit func(Received)) *Receiver {
	return &Receiver{
		emit:     emit,
		endTicks: int(DefaultEndTimeout / tickDuration),
		queue:    make([]Received, 0, 8),
	}
}

// SetEndTimeout changes the lost-end-packet timeout.
func (r *Receiver) SetEndTimeout(d time.Duration) {
	r.endTicks = max(1, int(d/tickDuration))
}

// Push handles one telephone-event packet of the given SSRC and RTP timestamp.
func (r *Receiver) Push(ssrc, ts uint32, ev Event) {
	k := key{ssrc: ssrc, ts: ts, set: true}
	for _, d := range r.done {
		if d == k {
			return
		}
	}
	if r.active && r.cur != k {
		// A new event started before the old one ended: its end was lost.
		r.finish()
	}
	if !r.active {
		r.active = true
		r.cur = k
		r.curCode = ev.Code
		r.curDur = 0
	}
	r.idle = 0
	if ev.Duration > r.curDur {
		r.curDur = ev.Duration
	}
	if ev.End {
		r.finish()
	}
}

func (r *Receiver) finish() {
	r.active = false
	r.done[r.doneNext] = r.cur
	r.doneNext = (r.doneNext + 1) % len(r.done)
	d, ok := Digit(r.curCode)
	if !ok {
		return // a non-DTMF event (flash, tones): ignored
	}
	r.queue = append(r.queue, Received{
		Digit:    d,
		Duration: time.Duration(r.curDur) * time.Second / 8000,
		Source:   SourceRFC4733,
	})
}

// Tick advances time by one 20 ms frame and reports finished digits,
// including one whose end packets were lost (after the end timeout).
func (r *Receiver) Tick() {
	if r.active {
		r.idle++
		if r.idle >= r.endTicks {
			r.finish()
		}
	}
	r.Flush()
}

// Flush reports the digits finished since the last Tick or Flush.
func (r *Receiver) Flush() {
	if len(r.queue) == 0 {
		return
	}
	// Swap buffers so emit may not observe a queue being appended to.
	r.tickBuffer, r.queue = r.queue, r.tickBuffer[:0]
	for _, d := range r.tickBuffer {
		if r.emit != nil {
			r.emit(d)
		}
	}
}
