// Package ratelimit holds the token buckets the server limits rates with:
// a tenant's API requests and calls per second, a source's SIP INVITEs.
// Buckets refill lazily from the time the caller passes, so tests drive
// them without sleeping.
package ratelimit

import (
	"sync"
	"time"
)

// Bucket admits rate events per second on average with bursts of burst.
// The zero value is full on first use.
type Bucket struct {
	tokens float64
	last   time.Time
	primed bool
}

// Take removes one token if there is one; otherwise it reports how long
// until there will be. burst below 1 counts as 1.
func (b *Bucket) Take(rate, burst float64, now time.Time) (bool, time.Duration) {
	burst = max(burst, 1)
	if !b.primed {
		b.tokens, b.last, b.primed = burst, now, true
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(burst, b.tokens+el.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if rate <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// full reports whether the bucket would be full at now.
func (b *Bucket) full(rate, burst float64, now time.Time) bool {
	return !b.primed || b.tokens+now.Sub(b.last).Seconds()*rate >= max(burst, 1)
}

// Keyed is one bucket per key (a tenant, a source address), all with the
// same rate and burst. It is safe for concurrent use. Keys whose bucket
// has refilled are forgotten when the map grows past MaxKeys, so a flood
// from many sources cannot grow it without bound.
type Keyed struct {
	rate, burst float64
	now         func() time.Time
	maxKeys     int

	mu      sync.Mutex
	buckets map[string]*Bucket
}

// DefaultMaxKeys bounds a Keyed limiter's memory (a few MiB).
const DefaultMaxKeys = 65536

// NewKeyed returns a limiter of rate tokens per second and bursts of
// burst per key, on the clock now (time.Now when nil).
func NewKeyed(rate float64, burst int, now func() time.Time) *Keyed {
	if now == nil {
		now = time.Now
	}
	return &Keyed{rate: rate, burst: float64(max(burst, 1)), now: now, maxKeys: DefaultMaxKeys, buckets: map[string]*Bucket{}}
}

// Allow takes one token from key's bucket; when there is none it reports
// how long until there is.
func (k *Keyed) Allow(key string) (wait time.Duration, ok bool) {
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.maxKeys {
			k.prune(now)
		}
		if len(k.buckets) >= k.maxKeys {
			// Every known key is busy: refuse new ones rather than grow.
			return time.Second, false
		}
		b = &Bucket{}
		k.buckets[key] = b
	}
	ok, wait = b.Take(k.rate, k.burst, now)
	return wait, ok
}

// prune forgets the keys whose buckets are full again. Caller holds mu.
func (k *Keyed) prune(now time.Time) {
	for key, b := range k.buckets {
		if b.full(k.rate, k.burst, now) {
			delete(k.buckets, key)
		}
	}
}

// Len returns the number of keys tracked (tests).
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
