package media

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countStream struct{ n atomic.Int64 }

func (c *countStream) Tick(time.Time) { c.n.Add(1) }

func TestClockManualTick(t *testing.T) {
	tests := []struct {
		name   string
		shards int
	}{
		{name: "one shard", shards: 1},
		{name: "four shards", shards: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClock(WithShards(tt.shards))
			streams := make([]*countStream, 10)
			for i := range streams {
				streams[i] = &countStream{}
				c.Register(streams[i])
			}
			c.Register(streams[0]) // twice: still ticked once per tick
			if c.Len() != 10 {
				t.Fatalf("len %d", c.Len())
			}
			now := time.Unix(0, 0)
			for i := 0; i < 3; i++ {
				c.Tick(now)
			}
			c.Unregister(streams[3])
			c.Unregister(streams[3])
			c.Tick(now)
			for i, s := range streams {
				want := int64(4)
				if i == 3 {
					want = 3
				}
				if got := s.n.Load(); got != want {
					t.Fatalf("stream %d ticked %d, want %d", i, got, want)
				}
			}
			if c.Len() != 9 {
				t.Fatalf("len %d", c.Len())
			}
		})
	}
}

// Shards share the load.
func TestClockBalances(t *testing.T) {
	c := NewClock(WithShards(4))
	for i := 0; i < 40; i++ {
		c.Register(&countStream{})
	}
	for i, sh := range c.shards {
		if n := sh.len(); n != 10 {
			t.Fatalf("shard %d has %d streams", i, n)
		}
	}
}

// Hammer: register, unregister and tick concurrently (run with -race).
func TestClockConcurrentRegister(t *testing.T) {
	c := NewClock(WithShards(3), WithInterval(time.Millisecond))
	c.Start()
	defer c.Stop()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s := &countStream{}
				c.Register(s)
				c.Unregister(s)
			}
		}()
	}
	wg.Wait()
	if c.Len() != 0 {
		t.Fatalf("len %d after all unregistered", c.Len())
	}
}

type signalStream struct {
	ch chan struct{}
}

func (s *signalStream) Tick(time.Time) {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

func TestClockStartStop(t *testing.T) {
	c := NewClock(WithShards(2), WithInterval(time.Millisecond))
	s := &signalStream{ch: make(chan struct{}, 1)}
	c.Register(s)
	c.Start()
	c.Start() // idempotent
	for i := 0; i < 5; i++ {
		<-s.ch
	}
	c.Stop()
	c.Stop()
	select {
	case <-s.ch: // at most one tick was buffered before Stop
	default:
	}
	select {
	case <-s.ch:
		t.Fatal("ticked after Stop")
	default:
	}
}

// A stream may unregister itself from its own Tick.
type selfRemoving struct {
	c *Clock
	n int
}

func (s *selfRemoving) Tick(time.Time) {
	s.n++
	s.c.Unregister(s)
}

func TestClockUnregisterFromTick(t *testing.T) {
	c := NewClock(WithShards(1))
	s := &selfRemoving{c: c}
	c.Register(s)
	c.Tick(time.Time{})
	c.Tick(time.Time{})
	if s.n != 1 {
		t.Fatalf("ticked %d", s.n)
	}
}
