package media

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
)

// maxForward bounds the telephone-events queued between two ticks.
const maxForward = 16

// forwardIdleTicks ends a forwarded digit whose end packets were lost (1 s).
const forwardIdleTicks = 50

// rxEvent is a received telephone-event packet, to pass to a bridged leg.
type rxEvent struct {
	ssrc, ts uint32
	ev       dtmf.Event
	// Set by forwarded.update for the sending leg.
	start bool   // first packet of an event: marker bit
	outTS uint32 // the event's timestamp on the sending leg's stream
}

// frame is one tick of one leg's received audio, copied out of the
// endpoint so the other leg's transmit never touches its state.
type frame struct {
	codec     codec.Codec
	have      bool // payload holds a received (or concealed) frame
	payload   [codec.FrameSamples]byte
	decoded   bool
	pcm       [codec.FrameSamples]int16
	events    []rxEvent
	transcode bool // never relay bytes (measurements)
}

// PCM returns the frame decoded (silence when nothing was received).
func (f *frame) PCM() codec.PCM16 {
	if !f.decoded {
		if f.have {
			f.codec.Decode(f.pcm[:], f.payload[:])
		} else {
			clear(f.pcm[:])
		}
		f.decoded = true
	}
	return f.pcm[:]
}

// forwarded tracks the telephone-event the bridged leg is sending, on the
// leg that passes it on. Tick goroutine state.
type forwarded struct {
	known  bool
	ssrc   uint32
	ts     uint32 // the event's RTP timestamp as received
	outTS  uint32 // and as we send it
	active bool   // between the first packet and the end
	digit  byte
	offset int // in-band tone position, in samples
	idle   int
}

// update takes this tick's received event packets and reports whether a
// new event started. ts is the sending leg's current timestamp, which
// becomes the new event's timestamp on its stream.
func (f *forwarded) update(events []rxEvent, ts uint32) bool {
	started := false
	for i := range events {
		ev := &events[i]
		if !f.known || ev.ssrc != f.ssrc || ev.ts != f.ts {
			d, _ := dtmf.Digit(ev.ev.Code)
			*f = forwarded{known: true, ssrc: ev.ssrc, ts: ev.ts, outTS: ts, active: true, digit: d}
			ev.start = true
			started = true
		}
		ev.outTS = f.outTS
		f.idle = 0
		if ev.ev.End {
			f.active = false
		}
	}
	if len(events) == 0 && f.active {
		f.idle++
		if f.idle >= forwardIdleTicks {
			f.active = false
		}
	}
	return started
}

// forwardEvent sends one received telephone-event with our payload type,
// SSRC, sequence and the event's mapped timestamp.
func (e *Endpoint) forwardEvent(remote netip.AddrPort, pt uint8, ev *rxEvent) {
	e.header(pt, ev.start, ev.outTS)
	n, _ := ev.ev.MarshalTo(e.txBuf[12:])
	e.write(e.txBuf[:12+n], remote)
}

// attach makes owner the endpoint's driver: the clock stops ticking it.
func (e *Endpoint) attach(owner any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.owner != nil {
		return ErrAttached
	}
	e.owner = owner
	e.owned.Store(true)
	e.clock.Unregister(e)
	return nil
}

// detach gives the endpoint back to the clock (unless it was closed).
func (e *Endpoint) detach(owner any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.owner != owner {
		return
	}
	e.owner = nil
	e.evq = e.evq[:0]
	e.owned.Store(false)
	if !e.closed {
		e.clock.Register(e)
	}
}

// BridgeConfig tunes a Bridge.
type BridgeConfig struct {
	// Transcode decodes and re-encodes even when both legs use the same
	// codec (for measurements; relaying is always at least as good).
	Transcode bool
}

// Bridge connects two endpoints so that each party hears the other
// (Chime's CallAndBridge). The bridge drives both legs from one clock
// tick: receive on both, then send on both, so audio crosses with no
// added delay beyond the jitter buffers.
//
// Per direction, when both legs use the same codec the received G.711
// bytes are sent on unchanged (only the RTP header is ours: SSRC,
// sequence, timestamp), and decoded only if a sink, detector or recorder
// needs the samples; otherwise they are transcoded (PCMU <-> PCMA).
// We relay per tick out of the jitter buffer rather than packet by packet
// as they arrive: it costs one jitter-buffer delay (20-60 ms) but the far
// end gets a clean 20 ms stream with our own continuous sequence and
// timestamps whatever the near end's loss, reordering, ptime or SSRC
// changes, and a prompt or digits can be mixed into the stream at any
// time without a discontinuity.
//
// RFC 4733 digits are reported to OnDigit of the leg they arrive on and
// passed on as they arrive: as telephone-events (with the other leg's
// payload type and timestamps) or, when the other leg has none, as
// in-band tones. A Source set on a leg (a prompt) or SendDigits takes
// precedence over the bridged audio while it plays.
type Bridge struct {
	clock  *Clock
	a, b   *Endpoint
	fa, fb frame

	mu     sync.Mutex
	closed bool
}

// NewBridge connects a and b and starts driving them from a's clock.
// An endpoint can be in one bridge or conference at a time.
func NewBridge(a, b *Endpoint, cfg BridgeConfig) (*Bridge, error) {
	if a == nil || b == nil || a == b {
		return nil, fmt.Errorf("%w: bridge needs two distinct endpoints", ErrConfig)
	}
	br := &Bridge{clock: a.clock, a: a, b: b}
	br.fa.transcode = cfg.Transcode
	br.fb.transcode = cfg.Transcode
	if err := a.attach(br); err != nil {
		return nil, err
	}
	if err := b.attach(br); err != nil {
		a.detach(br)
		return nil, err
	}
	br.clock.Register(br)
	return br, nil
}

// Tick runs one 20 ms step of both legs. Called by the Clock.
func (br *Bridge) Tick(time.Time) {
	a, b := br.a, br.b
	// One endpoint at a time: never hold two tick locks, so bridges and
	// mixers being set up and torn down concurrently cannot deadlock.
	a.tickMu.Lock()
	okA := a.receive(&br.fa)
	a.tickMu.Unlock()
	b.tickMu.Lock()
	okB := b.receive(&br.fb)
	if !okA {
		br.fa.have, br.fa.decoded, br.fa.events = false, false, br.fa.events[:0]
	}
	if okB {
		b.transmit(&br.fa, nil)
	} else {
		br.fb.have, br.fb.decoded, br.fb.events = false, false, br.fb.events[:0]
	}
	b.tickMu.Unlock()
	if okA {
		a.tickMu.Lock()
		a.transmit(&br.fb, nil)
		a.tickMu.Unlock()
	}
}

// Close unbridges: both legs go back to the clock, sending their own
// source (or silence). Idempotent. A tick in progress may complete.
func (br *Bridge) Close() error {
	br.mu.Lock()
	if br.closed {
		br.mu.Unlock()
		return ErrClosed
	}
	br.closed = true
	br.mu.Unlock()
	br.clock.Unregister(br)
	br.a.detach(br)
	br.b.detach(br)
	return nil
}

// String describes the bridge for logs.
func (br *Bridge) String() string {
	return fmt.Sprintf("bridge(%s, %s)", br.a, br.b)
}
