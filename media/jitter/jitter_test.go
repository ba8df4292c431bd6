package jitter

import (
	"fmt"
	"testing"
	"time"
)

// pkt is one pushed packet; the payload's first byte carries an id so the
// test can see which frame came out.
type pkt struct {
	ssrc uint32
	seq  uint16
	id   byte
}

type popped struct {
	id     byte // 0 = no payload
	status Status
}

func run(b *Buffer, steps [][]pkt) []popped {
	var out []popped
	base := time.Unix(1000, 0)
	for i, step := range steps {
		now := base.Add(time.Duration(i) * 20 * time.Millisecond)
		for _, p := range step {
			b.Push(p.ssrc, p.seq, uint32(p.seq)*160, []byte{p.id, 1, 2}, now)
		}
		payload, st := b.Pop()
		var id byte
		if payload != nil {
			id = payload[0]
		}
		out = append(out, popped{id: id, status: st})
	}
	return out
}

func TestBuffer(t *testing.T) {
	tests := []struct {
		name  string
		steps [][]pkt
		want  []popped
		check func(t *testing.T, s Stats)
	}{
		{
			name:  "in order",
			steps: [][]pkt{{{1, 10, 'a'}}, {{1, 11, 'b'}}, {{1, 12, 'c'}}},
			want:  []popped{{'a', OK}, {'b', OK}, {'c', OK}},
		},
		{
			name:  "empty before first packet",
			steps: [][]pkt{{}, {{1, 5, 'a'}}},
			want:  []popped{{0, Empty}, {'a', OK}},
		},
		{
			name: "reorder within buffer",
			steps: [][]pkt{
				{{1, 10, 'a'}},
				{{1, 12, 'c'}, {1, 11, 'b'}},
				{{1, 13, 'd'}},
				{},
			},
			want: []popped{{'a', OK}, {'b', OK}, {'c', OK}, {'d', OK}},
		},
		{
			name: "loss concealed by repeat then silence",
			steps: [][]pkt{
				{{1, 10, 'a'}},
				{{1, 13, 'd'}},
				{},
				{},
			},
			want: []popped{{'a', OK}, {'a', Concealed}, {0, Concealed}, {'d', OK}},
			check: func(t *testing.T, s Stats) {
				if s.Lost != 2 {
					t.Errorf("lost = %d, want 2", s.Lost)
				}
			},
		},
		{
			name: "duplicates dropped",
			steps: [][]pkt{
				{{1, 10, 'a'}, {1, 11, 'b'}, {1, 11, 'x'}},
				{{1, 10, 'y'}},
			},
			want: []popped{{'a', OK}, {'b', OK}},
			check: func(t *testing.T, s Stats) {
				if s.Duplicates != 1 || s.Late != 1 {
					t.Errorf("duplicates = %d late = %d, want 1 1", s.Duplicates, s.Late)
				}
			},
		},
		{
			name: "late packet dropped",
			steps: [][]pkt{
				{{1, 10, 'a'}},
				{{1, 12, 'c'}},
				{{1, 11, 'b'}},
			},
			want: []popped{{'a', OK}, {'a', Concealed}, {'c', OK}},
			check: func(t *testing.T, s Stats) {
				if s.Late != 1 {
					t.Errorf("late = %d, want 1", s.Late)
				}
			},
		},
		{
			name: "sequence wrap",
			steps: [][]pkt{
				{{1, 65534, 'a'}},
				{{1, 65535, 'b'}, {1, 1, 'd'}},
				{{1, 0, 'c'}},
				{},
			},
			want: []popped{{'a', OK}, {'b', OK}, {'c', OK}, {'d', OK}},
		},
		{
			name: "ssrc change resyncs",
			steps: [][]pkt{
				{{1, 10, 'a'}},
				{{2, 500, 'x'}},
				{{2, 501, 'y'}},
			},
			want: []popped{{'a', OK}, {'x', OK}, {'y', OK}},
			check: func(t *testing.T, s Stats) {
				if s.Resyncs != 1 {
					t.Errorf("resyncs = %d, want 1", s.Resyncs)
				}
			},
		},
		{
			name: "big jump resyncs",
			steps: [][]pkt{
				{{1, 10, 'a'}},
				{{1, 3000, 'x'}},
				{{1, 3001, 'y'}},
			},
			want: []popped{{'a', OK}, {'x', OK}, {'y', OK}},
		},
		{
			name: "underrun conceals then refills",
			steps: [][]pkt{
				{{1, 10, 'a'}},
				{},
				{{1, 11, 'b'}},
				{{1, 12, 'c'}},
				{},
			},
			// After the underrun the target is 2: it waits for two frames.
			want: []popped{{'a', OK}, {'a', Concealed}, {0, Empty}, {'b', OK}, {'c', OK}},
			check: func(t *testing.T, s Stats) {
				if s.Underruns != 1 || s.Target != 2 {
					t.Errorf("underruns = %d target = %d, want 1 2", s.Underruns, s.Target)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New()
			got := run(b, tt.steps)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d pops, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("pop %d = {%q %d}, want {%q %d} (all: %v)", i, got[i].id, got[i].status, tt.want[i].id, tt.want[i].status, got)
				}
			}
			if tt.check != nil {
				tt.check(t, b.Stats())
			}
		})
	}
}

// Arrival jitter grows the target depth, bounded by Max.
func TestTargetGrowsWithJitter(t *testing.T) {
	b := New(WithMax(4))
	base := time.Unix(1000, 0)
	for i := 0; i < 200; i++ {
		// Packets arrive in bursts of 5 every 100 ms.
		arrival := base.Add(time.Duration(i/5) * 100 * time.Millisecond)
		b.Push(7, uint16(i), uint32(i)*160, []byte{1}, arrival)
		b.Pop()
	}
	s := b.Stats()
	if s.Target < 2 || s.Target > 4 {
		t.Fatalf("target = %d, want 2..4 (jitter %.1f ms)", s.Target, s.JitterMS)
	}
}

func TestSteadyStreamKeepsMinimalDepth(t *testing.T) {
	b := New()
	base := time.Unix(1000, 0)
	for i := 0; i < 100; i++ {
		b.Push(7, uint16(i), uint32(i)*160, []byte{1}, base.Add(time.Duration(i)*20*time.Millisecond))
		if _, st := b.Pop(); st != OK {
			t.Fatalf("pop %d status %d", i, st)
		}
	}
	if s := b.Stats(); s.Target != 1 || s.Lost != 0 {
		t.Fatalf("target %d lost %d, want 1 0", s.Target, s.Lost)
	}
}

func TestPushPopNoAlloc(t *testing.T) {
	b := New()
	payload := make([]byte, 160)
	var seq uint16
	now := time.Unix(1000, 0)
	allocs := testing.AllocsPerRun(200, func() {
		b.Push(1, seq, uint32(seq)*160, payload, now)
		b.Pop()
		seq++
	})
	if allocs != 0 {
		t.Fatalf("allocs = %v", allocs)
	}
}

func FuzzBuffer(f *testing.F) {
	f.Add([]byte{1, 0, 10, 1, 0, 12, 0, 0, 11})
	f.Fuzz(func(t *testing.T, ops []byte) {
		b := New()
		now := time.Unix(1000, 0)
		for i := 0; i+2 < len(ops); i += 3 {
			seq := uint16(ops[i+1])<<8 | uint16(ops[i+2])
			if ops[i]&1 == 1 {
				b.Push(uint32(ops[i]>>4), seq, uint32(seq)*160, ops[i:], now)
			} else {
				b.Pop()
			}
			if b.Depth() < 0 || b.Depth() > Slots {
				t.Fatalf("depth %d", b.Depth())
			}
			now = now.Add(time.Duration(ops[i]) * time.Millisecond)
		}
	})
}

func TestMinTargetGrowNext(t *testing.T) {
	tests := []struct {
		name       string
		min        int
		grow       bool
		wantTarget int
		wantEmpty  int // Pops returning Empty before the first frame
	}{
		{name: "default", min: 0, wantTarget: 1, wantEmpty: 0},
		{name: "60 ms packets", min: 3, wantTarget: 3, wantEmpty: 2},
		{name: "clamped to max", min: 99, wantTarget: DefaultMax, wantEmpty: DefaultMax - 1},
		{name: "grow", min: 1, grow: true, wantTarget: 2, wantEmpty: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New()
			if tt.min > 0 {
				b.SetMinTarget(tt.min)
			}
			if _, playing := b.Next(); playing {
				t.Fatal("playing before any packet")
			}
			if tt.grow {
				b.Push(1, 100, 0, []byte{'x'}, time.Time{})
				if p, st := b.Pop(); st != OK || p[0] != 'x' {
					t.Fatalf("first pop %v", st)
				}
				if next, playing := b.Next(); next != 101 || !playing {
					t.Fatalf("next %d playing %v", next, playing)
				}
				b.Grow()
				if _, playing := b.Next(); playing {
					t.Fatal("playing right after Grow")
				}
			}
			if got := b.Stats().Target; got != tt.wantTarget {
				t.Fatalf("target %d, want %d", got, tt.wantTarget)
			}
			empty := 0
			for seq := uint16(1); ; seq++ {
				b.Push(1, 100+seq, uint32(seq)*160, []byte{byte(seq)}, time.Time{})
				p, st := b.Pop()
				if st == OK {
					if p[0] != 1 {
						t.Fatalf("first frame %d, want 1", p[0])
					}
					break
				}
				if st != Empty || seq > 20 {
					t.Fatalf("pop %d: %v", seq, st)
				}
				empty++
			}
			if empty != tt.wantEmpty {
				t.Fatalf("%d empty pops, want %d", empty, tt.wantEmpty)
			}
		})
	}
}

// With KeepAll a long stall of the popping side loses only what does not
// fit in the ring, oldest first; nothing is dropped to cut latency and the
// buffer does not restart.
func TestKeepAll(t *testing.T) {
	b := New()
	b.SetKeepAll(true)
	payload := func(n int) []byte { return []byte{byte(n)} }
	for n := range 20 {
		b.Push(7, uint16(500+n), uint32(160*n), payload(n), time.Time{})
	}
	var got []int
	for range 20 {
		p, st := b.Pop()
		if st == OK {
			got = append(got, int(p[0]))
		}
	}
	want := []int{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	if len(got) < len(want) || fmt.Sprint(got[len(got)-len(want):]) != fmt.Sprint(want) || got[0] < 4 {
		t.Fatalf("played %v, want the last frames in order, %v", got, want)
	}
	if s := b.Stats(); s.Resyncs != 0 {
		t.Fatalf("stats %+v: a stall restarted the buffer", s)
	}
}
