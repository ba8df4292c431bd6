package dtmf

import (
	"fmt"
	"time"
)

// Sender limits and defaults (Chime's SendDigits rules).
const (
	DefaultToneDuration = 250 * time.Millisecond
	MinToneDuration     = 40 * time.Millisecond
	MaxToneDuration     = 24 * time.Second
	DefaultGap          = 100 * time.Millisecond
	PauseDuration       = 500 * time.Millisecond
	MaxDigits           = 50
	// EndPackets is how many times the final (E bit) packet is sent, so
	// that one or two lost packets do not lose the end (RFC 4733 2.5.1.4).
	EndPackets = 3
	// DefaultVolume is the event volume, -10 dBm0.
	DefaultVolume = 10
)

// StepKind says what the sender wants sent during one tick.
type StepKind uint8

// Step kinds.
const (
	// StepIdle: the sender has nothing to send; play normal audio.
	StepIdle StepKind = iota
	// StepSilence: a gap or ',' pause inside a digit string; send silence.
	StepSilence
	// StepEvent: send Event as a telephone-event packet (or, in-band, the
	// tone of Digit from sample ToneOffset).
	StepEvent
)

// Step is the sender's output for one 20 ms tick.
type Step struct {
	Kind  StepKind
	Event Event
	Digit byte
	// Start marks the first packet of an event: set the RTP marker bit and
	// take a new event timestamp.
	Start bool
	// Retransmit marks the extra copies of the end packet; in-band senders
	// play silence for them.
	Retransmit bool
	// ToneOffset is the sample index within the tone, for in-band generation.
	ToneOffset int
	// Finished is set on the tick that completes the digit string.
	Finished bool
}

// Sender plays a digit string as a sequence of per-tick steps. It is not
// safe for concurrent use; the owner serialises Start and Tick.
type Sender struct {
	digits    string
	toneTicks int
	gapTicks  int
	pos       int // index into digits
	tick      int // tick within the current digit's schedule
	active    bool
}

// Validate checks a digit string and tone duration as Start would.
func Validate(digits string, tone time.Duration) error {
	if len(digits) > MaxDigits {
		return fmt.Errorf("%w: %d > %d", ErrTooLong, len(digits), MaxDigits)
	}
	for i := 0; i < len(digits); i++ {
		if _, ok := Code(digits[i]); !ok && digits[i] != ',' {
			return fmt.Errorf("%w: %q at %d", ErrBadDigit, digits[i], i)
		}
	}
	if tone != 0 && (tone < MinToneDuration || tone > MaxToneDuration) {
		return fmt.Errorf("%w: %v", ErrBadDuration, tone)
	}
	return nil
}

// Start begins playing digits with the given tone duration (0 = default).
func (s *Sender) Start(digits string, tone time.Duration) error {
	if s.active {
		return ErrBusy
	}
	if err := Validate(digits, tone); err != nil {
		return err
	}
	if tone == 0 {
		tone = DefaultToneDuration
	}
	s.digits = digits
	s.toneTicks = int((tone + tickDuration - 1) / tickDuration)
	s.gapTicks = int(DefaultGap / tickDuration)
	s.pos = 0
	s.tick = 0
	s.active = len(digits) > 0
	return nil
}

// Stop abandons the rest of the string.
func (s *Sender) Stop() { s.active = false }

// Active reports whether a string is being played.
func (s *Sender) Active() bool { return s.active }

// Tick returns what to send during the next 20 ms.
func (s *Sender) Tick() Step {
	if !s.active {
		return Step{}
	}
	c := s.digits[s.pos]
	var st Step
	var length int
	if c == ',' {
		length = int(PauseDuration / tickDuration)
		st = Step{Kind: StepSilence}
	} else {
		code, _ := Code(c)
		length = s.toneTicks + EndPackets - 1 + s.gapTicks
		switch {
		case s.tick < s.toneTicks:
			dur := min((s.tick+1)*160, 0xFFFF)
			st = Step{
				Kind:       StepEvent,
				Event:      Event{Code: code, Volume: DefaultVolume, Duration: uint16(dur), End: s.tick == s.toneTicks-1},
				Digit:      c,
				Start:      s.tick == 0,
				ToneOffset: s.tick * 160,
			}
		case s.tick < s.toneTicks+EndPackets-1:
			st = Step{
				Kind:       StepEvent,
				Event:      Event{Code: code, Volume: DefaultVolume, Duration: uint16(min(s.toneTicks*160, 0xFFFF)), End: true},
				Digit:      c,
				Retransmit: true,
			}
		default:
			st = Step{Kind: StepSilence}
		}
	}
	s.tick++
	if s.tick >= length {
		s.tick = 0
		s.pos++
		if s.pos >= len(s.digits) {
			s.active = false
			st.Finished = true
		}
	}
	return st
}
