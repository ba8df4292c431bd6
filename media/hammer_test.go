package media

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// Bridges and rooms built and torn down from several goroutines while the
// clock runs (fast) and legs are closed: no deadlock, no race (run with
// -race), and every endpoint ends up driven by exactly one stream.
func TestHammerBridgeMixer(t *testing.T) {
	ports, err := NewPortPool(loopback, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewClock(WithShards(2), WithInterval(time.Millisecond))
	clock.Start()
	defer clock.Stop()
	eps := make([]*Endpoint, 8)
	for i := range eps {
		e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, TelephoneEvent: 101})
		if err != nil {
			t.Fatal(err)
		}
		eps[i] = e
		e.SetSource(loop(tone(800, 500, 3000)))
	}
	for i := range eps { // each talks to the next one
		eps[i].SetRemote(eps[(i+1)%len(eps)].LocalAddr())
	}
	room := NewMixer(clock)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a, b := eps[(g+i)%len(eps)], eps[(g+3*i+1)%len(eps)]
				if a == b {
					continue
				}
				if br, err := NewBridge(a, b, BridgeConfig{}); err == nil {
					a.SetDirection(Direction(i % 4))
					br.Close()
				} else if !errors.Is(err, ErrAttached) {
					t.Errorf("bridge: %v", err)
					return
				}
				if err := room.Add(a, Role(i%2)); err == nil {
					room.SetMuted(a, i%3 == 0)
					room.Remove(a)
				} else if !errors.Is(err, ErrAttached) {
					t.Errorf("room: %v", err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if room.Len() != 0 {
		t.Fatalf("room has %d members", room.Len())
	}
	if got := clock.Len(); got != len(eps)+1 {
		t.Fatalf("clock drives %d streams, want %d", got, len(eps)+1)
	}
	// A leg closed while bridged: the bridge keeps the other leg going and
	// closes cleanly.
	br, err := NewBridge(eps[0], eps[1], BridgeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	eps[0].Close()
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	room.Close()
	for _, e := range eps[1:] {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.Len(); got != 0 {
		t.Fatalf("clock drives %d streams after closing everything", got)
	}
}
