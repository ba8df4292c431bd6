package api

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLimiterHammer: many goroutines on one frozen-clock bucket get exactly
// burst tokens, and other buckets are unaffected.
func TestLimiterHammer(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	l := newLimiter(10, 50, c.now)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, allowed := l.Allow("t:a"); allowed {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != 50 {
		t.Fatalf("%d allowed, want the burst of 50", ok.Load())
	}
	if _, allowed := l.Allow("t:b"); !allowed {
		t.Fatal("another bucket is empty too")
	}
	wait, allowed := l.Allow("t:a")
	if allowed || wait != 100*time.Millisecond {
		t.Fatalf("empty bucket: allowed %v, wait %v; want a 100ms wait", allowed, wait)
	}
}

// BenchmarkAuthenticatedGet measures one authenticated, rate-limited
// request through the whole handler (registry lookup included):
//
//	go test -run XXX -bench AuthenticatedGet -benchtime 2000x ./host/api/
func BenchmarkAuthenticatedGet(b *testing.B) {
	e := newEnv(b, WithRateLimit(0, 0))
	for b.Loop() {
		if w := e.do("GET", "/phone-numbers", e.secretA, nil); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
