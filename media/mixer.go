package media

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// Role is how an endpoint takes part in a conference.
type Role uint8

// Roles.
const (
	// Participant: heard by everyone, hears everyone else.
	Participant Role = iota
	// Monitor: hears everyone, is never heard (listen-only, supervisors).
	Monitor
)

func (r Role) String() string {
	if r == Monitor {
		return "monitor"
	}
	return "participant"
}

// Mixer is a conference room. Once per tick it receives a frame from
// every member, sums the unmuted participants once (int32), and sends each
// member the total minus its own contribution, clamped to ±32767: O(N)
// for the room, not a mix per pair of members. Members may use different
// codecs. A member's own Source or SendDigits takes precedence over the
// mix while it plays (a private prompt); recorders and detectors on a
// member's endpoint keep working.
type Mixer struct {
	clock *Clock

	mu      sync.Mutex
	members []*member
	closed  bool

	// Tick goroutine state.
	snap  []*member
	gone  []*member
	total [codec.FrameSamples]int32
}

type member struct {
	e       *Endpoint
	role    Role
	muted   atomic.Bool
	f       frame
	ok      bool
	contrib bool
	mix     [codec.FrameSamples]int16
}

// NewMixer returns an empty room driven by clock.
func NewMixer(clock *Clock) *Mixer {
	m := &Mixer{clock: clock}
	clock.Register(m)
	return m
}

// Add puts e in the room. The endpoint is then driven by the mixer, not
// the clock, until Remove or Close. An endpoint can be in one bridge or
// room at a time.
func (m *Mixer) Add(e *Endpoint, role Role) error {
	if role > Monitor {
		return fmt.Errorf("%w: role %d", ErrConfig, role)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := e.attach(m); err != nil {
		return err
	}
	m.members = append(m.members, &member{e: e, role: role})
	return nil
}

// Remove takes e out of the room and gives it back to the clock.
func (m *Mixer) Remove(e *Endpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.members, func(x *member) bool { return x.e == e })
	if i < 0 {
		return ErrNotMember
	}
	m.members = slices.Delete(m.members, i, i+1)
	e.detach(m)
	return nil
}

// SetMuted mutes or unmutes a member: a muted participant still hears
// the room but is not heard (Chime's ModifyChimeMeetingAttendees).
func (m *Mixer) SetMuted(e *Endpoint, muted bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.members {
		if x.e == e {
			x.muted.Store(muted)
			return nil
		}
	}
	return ErrNotMember
}

// Len returns the number of members.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.members)
}

// Close empties the room (members go back to the clock) and stops it.
func (m *Mixer) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.closed = true
	members := m.members
	m.members = nil
	m.mu.Unlock()
	m.clock.Unregister(m)
	for _, x := range members {
		x.e.detach(m)
	}
	return nil
}

// Tick mixes one 20 ms frame for the whole room. Called by the Clock.
func (m *Mixer) Tick(time.Time) {
	m.mu.Lock()
	m.snap = append(m.snap[:0], m.members...)
	m.mu.Unlock()
	clear(m.total[:])
	m.gone = m.gone[:0]
	for _, x := range m.snap {
		x.e.tickMu.Lock()
		x.ok = x.e.receive(&x.f)
		x.e.tickMu.Unlock()
		x.f.events = x.f.events[:0] // digits are reported, not passed on
		x.contrib = x.ok && x.role == Participant && !x.muted.Load() && x.f.have
		if !x.ok {
			m.gone = append(m.gone, x)
		}
		if x.contrib {
			for i, v := range x.f.PCM() {
				m.total[i] += int32(v)
			}
		}
	}
	for _, x := range m.snap {
		if !x.ok {
			continue
		}
		if x.contrib {
			for i, v := range x.f.pcm {
				x.mix[i] = clamp16(m.total[i] - int32(v))
			}
		} else {
			for i, v := range m.total {
				x.mix[i] = clamp16(v)
			}
		}
		x.e.tickMu.Lock()
		x.e.transmit(nil, x.mix[:])
		x.e.tickMu.Unlock()
	}
	clear(m.snap)
	if len(m.gone) > 0 {
		// Closed endpoints leave the room by themselves.
		m.mu.Lock()
		for _, x := range m.gone {
			if i := slices.Index(m.members, x); i >= 0 {
				m.members = slices.Delete(m.members, i, i+1)
			}
		}
		m.mu.Unlock()
		clear(m.gone)
	}
}

func clamp16(v int32) int16 {
	return int16(max(-32767, min(32767, v)))
}

// String describes the room for logs.
func (m *Mixer) String() string { return fmt.Sprintf("mixer(%d members)", m.Len()) }
