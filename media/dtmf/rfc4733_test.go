package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestEventUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Event
		wantErr error
	}{
		{name: "digit 5 start", in: []byte{5, 10, 0x00, 0xA0}, want: Event{Code: 5, Volume: 10, Duration: 160}},
		{name: "end bit", in: []byte{11, 0x80 | 7, 0x07, 0xD0}, want: Event{Code: 11, End: true, Volume: 7, Duration: 2000}},
		{name: "reserved bit ignored", in: []byte{1, 0x40 | 3, 0, 1}, want: Event{Code: 1, Volume: 3, Duration: 1}},
		{name: "trailing bytes ignored", in: []byte{9, 0, 0, 0, 1, 2, 3}, want: Event{Code: 9}},
		{name: "short", in: []byte{1, 2, 3}, wantErr: ErrShortPacket},
		{name: "empty", in: nil, wantErr: ErrShortPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Event
			err := e.Unmarshal(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && e != tt.want {
				t.Fatalf("got %+v, want %+v", e, tt.want)
			}
		})
	}
}

func TestEventMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   Event
		want [4]byte
	}{
		{name: "start", in: Event{Code: 5, Volume: 10, Duration: 160}, want: [4]byte{5, 10, 0, 0xA0}},
		{name: "end", in: Event{Code: 15, End: true, Volume: 63, Duration: 0xFFFF}, want: [4]byte{15, 0xBF, 0xFF, 0xFF}},
		{name: "volume masked", in: Event{Code: 0, Volume: 0xFF}, want: [4]byte{0, 0x3F, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b [4]byte
			n, err := tt.in.MarshalTo(b[:])
			if err != nil || n != 4 || b != tt.want {
				t.Fatalf("got %v n=%d err=%v, want %v", b, n, err, tt.want)
			}
		})
	}
	if _, err := (Event{}).MarshalTo(make([]byte, 3)); !errors.Is(err, ErrShortPacket) {
		t.Fatalf("short buffer err = %v", err)
	}
}

func TestCodeDigit(t *testing.T) {
	for i := 0; i < len(Digits); i++ {
		c, ok := Code(Digits[i])
		if !ok || int(c) != i {
			t.Fatalf("Code(%q) = %d %v, want %d", Digits[i], c, ok, i)
		}
		d, ok := Digit(uint8(i))
		if !ok || d != Digits[i] {
			t.Fatalf("Digit(%d) = %q", i, d)
		}
	}
	if _, ok := Code('x'); ok {
		t.Fatal("Code('x') ok")
	}
	if _, ok := Digit(16); ok {
		t.Fatal("Digit(16) ok")
	}
}

type pushStep struct {
	ssrc, ts uint32
	ev       Event
	ticks    int // ticks after the push
}

func TestReceiver(t *testing.T) {
	ev := func(code uint8, dur uint16, end bool) Event {
		return Event{Code: code, Duration: dur, End: end, Volume: 10}
	}
	tests := []struct {
		name  string
		steps []pushStep
		want  []Received
	}{
		{
			name: "three end packets give one digit",
			steps: []pushStep{
				{1, 100, ev(5, 160, false), 1},
				{1, 100, ev(5, 320, false), 1},
				{1, 100, ev(5, 800, true), 1},
				{1, 100, ev(5, 800, true), 1},
				{1, 100, ev(5, 800, true), 1},
			},
			want: []Received{{Digit: '5', Duration: 100 * time.Millisecond, Source: SourceRFC4733}},
		},
		{
			name: "same digit twice is two events",
			steps: []pushStep{
				{1, 100, ev(1, 400, true), 1},
				{1, 100, ev(1, 400, true), 1},
				{1, 2000, ev(1, 400, true), 1},
			},
			want: []Received{
				{Digit: '1', Duration: 50 * time.Millisecond, Source: SourceRFC4733},
				{Digit: '1', Duration: 50 * time.Millisecond, Source: SourceRFC4733},
			},
		},
		{
			name: "lost end packet reported after timeout",
			steps: []pushStep{
				{1, 100, ev(11, 160, false), 1},
				{1, 100, ev(11, 320, false), 50},
			},
			want: []Received{{Digit: '#', Duration: 40 * time.Millisecond, Source: SourceRFC4733}},
		},
		{
			name: "lost end packet not reported before timeout",
			steps: []pushStep{
				{1, 100, ev(11, 160, false), 1},
				{1, 100, ev(11, 320, false), 49},
			},
			want: nil,
		},
		{
			name: "new event ends one whose end was lost",
			steps: []pushStep{
				{1, 100, ev(2, 160, false), 1},
				{1, 900, ev(3, 160, false), 1},
				{1, 900, ev(3, 480, true), 1},
			},
			want: []Received{
				{Digit: '2', Duration: 20 * time.Millisecond, Source: SourceRFC4733},
				{Digit: '3', Duration: 60 * time.Millisecond, Source: SourceRFC4733},
			},
		},
		{
			name: "late packet of a finished event ignored",
			steps: []pushStep{
				{1, 100, ev(4, 480, true), 1},
				{1, 100, ev(4, 320, false), 60},
			},
			want: []Received{{Digit: '4', Duration: 60 * time.Millisecond, Source: SourceRFC4733}},
		},
		{
			name: "non-dtmf event ignored",
			steps: []pushStep{
				{1, 100, ev(16, 480, true), 1},
			},
			want: nil,
		},
		{
			name: "ssrc distinguishes events",
			steps: []pushStep{
				{1, 100, ev(7, 160, true), 1},
				{2, 100, ev(7, 160, true), 1},
			},
			want: []Received{
				{Digit: '7', Duration: 20 * time.Millisecond, Source: SourceRFC4733},
				{Digit: '7', Duration: 20 * time.Millisecond, Source: SourceRFC4733},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Received
			r := NewReceiver(func(d Received) { got = append(got, d) })
			for _, s := range tt.steps {
				r.Push(s.ssrc, s.ts, s.ev)
				for i := 0; i < s.ticks; i++ {
					r.Tick()
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("digit %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSenderSchedule(t *testing.T) {
	var s Sender
	if err := s.Start("1", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var steps []Step
	for i := 0; i < 20 && (i == 0 || !steps[len(steps)-1].Finished); i++ {
		steps = append(steps, s.Tick())
	}
	// 5 tone ticks, 2 more end packets, 5 gap ticks.
	if len(steps) != 12 {
		t.Fatalf("got %d steps, want 12", len(steps))
	}
	for i := 0; i < 5; i++ {
		st := steps[i]
		want := Event{Code: 1, Volume: DefaultVolume, Duration: uint16((i + 1) * 160), End: i == 4}
		if st.Kind != StepEvent || st.Event != want || st.Start != (i == 0) || st.Retransmit || st.ToneOffset != i*160 {
			t.Fatalf("step %d = %+v, want event %+v", i, st, want)
		}
	}
	for i := 5; i < 7; i++ {
		st := steps[i]
		if st.Kind != StepEvent || !st.Event.End || st.Event.Duration != 800 || !st.Retransmit {
			t.Fatalf("step %d = %+v, want end retransmit", i, st)
		}
	}
	for i := 7; i < 12; i++ {
		if steps[i].Kind != StepSilence {
			t.Fatalf("step %d = %+v, want silence", i, steps[i])
		}
	}
	if s.Active() || s.Tick().Kind != StepIdle {
		t.Fatal("sender still active")
	}
}

func TestSenderPause(t *testing.T) {
	var s Sender
	if err := s.Start(",", 0); err != nil {
		t.Fatal(err)
	}
	n := 0
	for s.Active() {
		if st := s.Tick(); st.Kind != StepSilence {
			t.Fatalf("step %+v", st)
		}
		n++
	}
	if n != 25 {
		t.Fatalf("pause took %d ticks, want 25", n)
	}
}

func TestSenderValidate(t *testing.T) {
	tests := []struct {
		name    string
		digits  string
		tone    time.Duration
		wantErr error
	}{
		{name: "ok", digits: "0123456789*#ABCD,a", tone: 0},
		{name: "bad digit", digits: "12x", wantErr: ErrBadDigit},
		{name: "short tone", digits: "1", tone: 10 * time.Millisecond, wantErr: ErrBadDuration},
		{name: "long tone", digits: "1", tone: 25 * time.Second, wantErr: ErrBadDuration},
		{name: "too many", digits: "012345678901234567890123456789012345678901234567890", wantErr: ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Sender
			if err := s.Start(tt.digits, tt.tone); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	var s Sender
	_ = s.Start("1", 0)
	if err := s.Start("2", 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("busy err = %v", err)
	}
}

// A Sender feeding a Receiver reproduces the string, ',' pauses included.
func TestSenderToReceiver(t *testing.T) {
	var got []byte
	r := NewReceiver(func(d Received) {
		got = append(got, d.Digit)
		if d.Duration != 60*time.Millisecond {
			t.Errorf("duration %v", d.Duration)
		}
	})
	var s Sender
	if err := s.Start("1,2#9D", 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ts := uint32(0)
	var eventTS uint32
	for i := 0; i < 1000 && s.Active(); i++ {
		st := s.Tick()
		if st.Start {
			eventTS = ts
		}
		if st.Kind == StepEvent {
			r.Push(42, eventTS, st.Event)
		}
		r.Tick()
		ts += 160
	}
	r.Tick()
	if string(got) != "12#9D" {
		t.Fatalf("got %q", got)
	}
}

func FuzzEventUnmarshal(f *testing.F) {
	f.Add([]byte{5, 0x8A, 0x03, 0x20})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if err := e.Unmarshal(b); err != nil {
			return
		}
		var out [4]byte
		if _, err := e.MarshalTo(out[:]); err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := back.Unmarshal(out[:]); err != nil || back != e {
			t.Fatalf("round trip %+v -> %+v (%v)", e, back, err)
		}
		r := NewReceiver(func(Received) {})
		r.Push(1, 2, e)
		r.Tick()
	})
}

// Flush reports a digit as soon as its end packet was pushed, once, and a
// digit whose end was lost only from Tick after the timeout.
func TestReceiverFlush(t *testing.T) {
	ev := func(code uint8, dur uint16, end bool) Event {
		return Event{Code: code, Duration: dur, End: end, Volume: 10}
	}
	tests := []struct {
		name  string
		steps []Event
		ts    []uint32
		want  string // digits reported, by Flush only, after each push
	}{
		{name: "end packet reports at once", steps: []Event{ev(5, 160, false), ev(5, 800, true)}, ts: []uint32{100, 100}, want: "-5"},
		{name: "repeated end packets report once", steps: []Event{ev(5, 800, true), ev(5, 800, true), ev(5, 800, true)}, ts: []uint32{100, 100, 100}, want: "5--"},
		{name: "no end: nothing without ticks", steps: []Event{ev(1, 160, false), ev(1, 320, false)}, ts: []uint32{100, 100}, want: "--"},
		{name: "new event flushes the one whose end was lost", steps: []Event{ev(2, 160, false), ev(3, 160, false), ev(3, 320, true)}, ts: []uint32{100, 900, 900}, want: "-23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			r := NewReceiver(func(d Received) { got = append(got, d.Digit) })
			var trace []byte
			for i, e := range tt.steps {
				before := len(got)
				r.Push(1, tt.ts[i], e)
				r.Flush()
				if len(got) == before {
					trace = append(trace, '-')
				} else {
					trace = append(trace, got[before:]...)
				}
			}
			if string(trace) != tt.want {
				t.Fatalf("digits after each push = %q, want %q", trace, tt.want)
			}
		})
	}
}
