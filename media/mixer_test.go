package media

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

func TestClamp16(t *testing.T) {
	tests := []struct {
		name string
		in   int32
		want int16
	}{
		{name: "zero", in: 0, want: 0},
		{name: "in range", in: -1234, want: -1234},
		{name: "max", in: 32767, want: 32767},
		{name: "over", in: 3 * 32767, want: 32767},
		{name: "most negative int16", in: -32768, want: -32767},
		{name: "under", in: -100000, want: -32767},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clamp16(tt.in); got != tt.want {
				t.Fatalf("clamp16(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// room is a conference of phones, each talking to its own leg in the mixer.
type room struct {
	h      *harness
	mixer  *Mixer
	phones []*Endpoint
	legs   []*Endpoint
	heard  []*capture
	freqs  []float64
}

// newRoom builds n participants and monitors; member i's phone sends a
// sine at freqs[i]. Codecs alternate so the room also transcodes.
func newRoom(t *testing.T, freqs []float64, roles []Role) *room {
	h := newHarness(t)
	r := &room{h: h, mixer: NewMixer(h.clock), freqs: freqs}
	t.Cleanup(func() { r.mixer.Close() })
	for i, f := range freqs {
		c := codec.PCMU
		if i%2 == 1 {
			c = codec.PCMA
		}
		phone, leg := h.pair(EndpointConfig{Codec: c}, EndpointConfig{Codec: c})
		phone.SetSource(loop(tone(800, f, 3000))) // 800 samples: whole periods of every test tone
		var heard capture
		phone.AddSink(&heard)
		if err := r.mixer.Add(leg, roles[i]); err != nil {
			t.Fatal(err)
		}
		r.phones = append(r.phones, phone)
		r.legs = append(r.legs, leg)
		r.heard = append(r.heard, &heard)
	}
	return r
}

func (r *room) run(ticks int) {
	streams := []Stream{}
	for _, p := range r.phones {
		streams = append(streams, p)
	}
	streams = append(streams, r.mixer)
	r.h.run(streams, append(append([]*Endpoint{}, r.phones...), r.legs...), ticks)
}

// levels returns, for each phone, the level of every member's tone in
// the last n samples it heard.
func (r *room) levels(n int) [][]float64 {
	out := make([][]float64, len(r.phones))
	for i, c := range r.heard {
		got := c.samples()
		got = got[len(got)-n:]
		for _, f := range r.freqs {
			out[i] = append(out[i], toneLevel(got, f))
		}
	}
	return out
}

// check asserts that phone i hears member j iff want(i, j).
func (r *room) check(t *testing.T, want func(i, j int) bool) {
	t.Helper()
	for i, row := range r.levels(4000) {
		for j, l := range row {
			switch {
			case want(i, j) && (l < 2700 || l > 3300):
				t.Errorf("phone %d hears member %d at %.0f, want about 3000", i, j, l)
			case !want(i, j) && l > 60:
				t.Errorf("phone %d hears member %d at %.0f, want silence", i, j, l)
			}
		}
	}
}

func TestMixer(t *testing.T) {
	freqs := []float64{400, 600, 1000, 1400, 2000}
	tests := []struct {
		name  string
		roles []Role
	}{
		{name: "3 participants", roles: []Role{Participant, Participant, Participant}},
		{name: "4 participants and a monitor", roles: []Role{Participant, Participant, Participant, Participant, Monitor}},
		{name: "5 participants", roles: []Role{Participant, Participant, Participant, Participant, Participant}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, freqs[:len(tt.roles)], tt.roles)
			r.run(40)
			// Everyone hears every other participant, never themselves;
			// a monitor hears everyone and is heard by no one.
			r.check(t, func(i, j int) bool { return i != j && tt.roles[j] == Participant })
		})
	}
}

func TestMixerMute(t *testing.T) {
	roles := []Role{Participant, Participant, Participant, Monitor}
	r := newRoom(t, []float64{400, 1000, 1600, 2200}, roles)
	r.run(30)
	if err := r.mixer.SetMuted(r.legs[1], true); err != nil {
		t.Fatal(err)
	}
	r.run(30)
	r.check(t, func(i, j int) bool { return i != j && j != 1 && roles[j] == Participant })
	if err := r.mixer.SetMuted(r.legs[1], false); err != nil {
		t.Fatal(err)
	}
	r.run(30)
	r.check(t, func(i, j int) bool { return i != j && roles[j] == Participant })
}

func TestMixerRemoveAndClose(t *testing.T) {
	r := newRoom(t, []float64{400, 1000, 1600}, []Role{Participant, Participant, Participant})
	r.run(10)
	if err := r.mixer.Remove(r.legs[2]); err != nil {
		t.Fatal(err)
	}
	if err := r.mixer.Remove(r.legs[2]); !errors.Is(err, ErrNotMember) {
		t.Fatalf("second remove: %v", err)
	}
	if err := r.mixer.SetMuted(r.legs[2], true); !errors.Is(err, ErrNotMember) {
		t.Fatalf("mute non-member: %v", err)
	}
	// The removed leg is the clock's again and sends silence.
	r.run(30)
	r.check(t, func(i, j int) bool { return i < 2 && j < 2 && i != j })
	r.phones[1].SetRemote(netip.AddrPort{}) // stop sending to the leg we close
	r.legs[1].Close()
	r.run(1)
	if r.mixer.Len() != 1 {
		t.Fatalf("closed leg still in the room: %d members", r.mixer.Len())
	}
	if err := r.mixer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.mixer.Add(r.legs[0], Participant); !errors.Is(err, ErrClosed) {
		t.Fatalf("add after close: %v", err)
	}
	if err := r.mixer.Add(r.legs[2], Role(9)); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad role: %v", err)
	}
}

// BenchmarkMixer is the cost of one tick of a room of n members (packets
// already buffered, sends to loopback), per member, and as CPU time per
// participant-second of conference (50 ticks a second): the conference
// mixing figure of the sessions issue, for 3, 10 and 50 participants.
//
//	go test -run XXX -bench Mixer -benchtime 200x ./media/
func BenchmarkMixer(b *testing.B) {
	for _, n := range []int{3, 10, 50} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ports, _ := NewPortPool(loopback, 0, 0)
			clock := NewClock(WithShards(1))
			sink, sinkAddr := listenLoopback(b)
			defer sink.Close()
			m := NewMixer(clock)
			defer m.Close()
			legs := make([]*Endpoint, n)
			for i := range legs {
				e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: sinkAddr, TelephoneEvent: 101})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				m.Add(e, Participant)
				legs[i] = e
			}
			payload := make([]byte, 160)
			for i := range payload {
				payload[i] = byte(i)
			}
			pkt := rtpPacket(0, 0, 0, 42, payload)
			var seq uint16
			b.ReportAllocs()
			for b.Loop() {
				putSeq(pkt, seq)
				seq++
				for _, e := range legs {
					e.handlePacket(pkt, sinkAddr)
				}
				m.Tick(time.Time{})
			}
			perMember := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
			b.ReportMetric(perMember, "ns/member")
			b.ReportMetric(perMember*50/1000, "µs_cpu/participant-s")
		})
	}
}
