package media

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// Stream is anything the clock drives: an endpoint, a mixer.
type Stream interface {
	// Tick runs one 20 ms step. It is never called concurrently for one
	// stream, and must not block.
	Tick(now time.Time)
}

// Clock drives every registered stream from a few shard goroutines (about
// one per core), each with a single ticker: thousands of streams cost a
// handful of wake-ups per 20 ms, not one timer each.
//
// A shard that falls behind runs up to maxCatchUp missed ticks in a row
// so stream timestamps stay aligned with wall time, and skips the rest
// (counted in Overruns).
type Clock struct {
	interval time.Duration
	shards   []*shard
	pollers  []*poller // one per shard: they read the endpoints' sockets
	next     atomic.Uint32
	nextPoll atomic.Uint32
	overruns atomic.Uint64

	regMu sync.Mutex
	where map[Stream]*shard

	mu      sync.Mutex
	started bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

type shard struct {
	mu      sync.Mutex
	streams []Stream
	index   map[Stream]int
	scratch []Stream
}

// maxCatchUp is 200 ms: a shard stalled that long (a GC pause, a busy
// machine) replays every tick it missed, so no stream loses a frame of
// play-out or of recording; beyond it, ticks are skipped.
const maxCatchUp = 10

// ClockOption configures a Clock.
type ClockOption func(*Clock)

// WithShards sets the number of shard goroutines (default GOMAXPROCS).
func WithShards(n int) ClockOption {
	return func(c *Clock) {
		c.shards = make([]*shard, max(1, n))
	}
}

// WithInterval sets the tick period (default 20 ms); for tests and benchmarks.
func WithInterval(d time.Duration) ClockOption {
	return func(c *Clock) { c.interval = d }
}

// NewClock returns a stopped clock. Call Start to run it, or drive it by
// hand with Tick (tests).
func NewClock(opts ...ClockOption) *Clock {
	c := &Clock{interval: codec.FrameDuration, shards: make([]*shard, runtime.GOMAXPROCS(0)), where: make(map[Stream]*shard)}
	for _, o := range opts {
		o(c)
	}
	c.pollers = make([]*poller, len(c.shards))
	for i := range c.shards {
		c.shards[i] = &shard{index: make(map[Stream]int)}
		c.pollers[i] = &poller{}
	}
	return c
}

// pollerFor picks the poller of a new endpoint's socket, in turn. An
// endpoint keeps its poller for life, whoever ticks it (the clock, a
// bridge, a room); pollers run whether or not the clock is started.
func (c *Clock) pollerFor() *poller {
	return c.pollers[c.nextPoll.Add(1)%uint32(len(c.pollers))]
}

// Register adds s to the least-loaded shard; registering a stream twice
// is a no-op. Safe from any goroutine.
func (c *Clock) Register(s Stream) {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	if _, ok := c.where[s]; ok {
		return
	}
	best := c.shards[c.next.Add(1)%uint32(len(c.shards))]
	for _, sh := range c.shards {
		if sh.len() < best.len() {
			best = sh
		}
	}
	c.where[s] = best
	best.mu.Lock()
	best.index[s] = len(best.streams)
	best.streams = append(best.streams, s)
	best.mu.Unlock()
}

// Unregister removes s. Safe from any goroutine, including s's own Tick;
// a Tick already in progress may still complete after it returns.
func (c *Clock) Unregister(s Stream) {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	sh, ok := c.where[s]
	if !ok {
		return
	}
	delete(c.where, s)
	sh.mu.Lock()
	i := sh.index[s]
	last := len(sh.streams) - 1
	sh.streams[i] = sh.streams[last]
	sh.index[sh.streams[i]] = i
	sh.streams[last] = nil
	sh.streams = sh.streams[:last]
	delete(sh.index, s)
	sh.mu.Unlock()
}

// Len returns the number of registered streams.
func (c *Clock) Len() int {
	n := 0
	for _, sh := range c.shards {
		n += sh.len()
	}
	return n
}

// Overruns counts ticks skipped because a shard could not keep up.
func (c *Clock) Overruns() uint64 { return c.overruns.Load() }

func (sh *shard) len() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.streams)
}

// tick calls every stream of the shard. The list is copied so that Tick
// methods may Register or Unregister without deadlock.
func (sh *shard) tick(now time.Time) {
	sh.mu.Lock()
	sh.scratch = append(sh.scratch[:0], sh.streams...)
	sh.mu.Unlock()
	for _, s := range sh.scratch {
		s.Tick(now)
	}
	clear(sh.scratch)
}

// Tick runs one tick of every shard on the calling goroutine. For tests
// and for callers that own the timing; do not mix with Start.
func (c *Clock) Tick(now time.Time) {
	for _, sh := range c.shards {
		sh.tick(now)
	}
}

// Start runs the shard goroutines. Shards are offset by a fraction of the
// interval so their work does not all land at the same instant.
func (c *Clock) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return
	}
	c.started = true
	c.stop = make(chan struct{})
	for i, sh := range c.shards {
		c.wg.Add(1)
		go c.run(sh, time.Duration(i)*c.interval/time.Duration(len(c.shards)))
	}
}

func (c *Clock) run(sh *shard, offset time.Duration) {
	defer c.wg.Done()
	if offset > 0 {
		t := time.NewTimer(offset)
		select {
		case <-t.C:
		case <-c.stop:
			t.Stop()
			return
		}
	}
	start := time.Now()
	var done int64
	ticker := time.NewTicker(c.interval)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-ticker.C:
			due := int64(now.Sub(start) / c.interval)
			behind := due - done
			if behind > maxCatchUp {
				c.overruns.Add(uint64(behind - maxCatchUp))
				done = due - maxCatchUp
				behind = maxCatchUp
			}
			for ; behind > 0; behind-- {
				sh.tick(now)
				done++
			}
		}
	}
}

// Stop halts the shard goroutines and waits for them. Streams stay registered.
func (c *Clock) Stop() {
	c.mu.Lock()
	if !c.started {
		c.mu.Unlock()
		return
	}
	c.started = false
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
}
