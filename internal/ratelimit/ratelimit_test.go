package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var b Bucket
	for i := range 3 {
		if ok, _ := b.Take(1, 3, t0); !ok {
			t.Fatalf("take %d of a burst of 3 refused", i)
		}
	}
	ok, wait := b.Take(1, 3, t0)
	if ok || wait != time.Second {
		t.Fatalf("empty bucket: ok %v wait %v", ok, wait)
	}
	if ok, _ := b.Take(1, 3, t0.Add(time.Second)); !ok {
		t.Fatal("no token after a second at 1/s")
	}
	var z Bucket
	if ok, _ := z.Take(0, 0, t0); !ok {
		t.Fatal("a zero burst still allows one")
	}
	if ok, wait := z.Take(0, 0, t0.Add(time.Minute)); ok || wait <= 0 {
		t.Fatalf("rate 0 refills: %v %v", ok, wait)
	}
}

func TestKeyed(t *testing.T) {
	now := time.Unix(1000, 0)
	k := NewKeyed(10, 2, func() time.Time { return now })
	for _, key := range []string{"a", "a", "b", "b"} {
		if _, ok := k.Allow(key); !ok {
			t.Fatalf("%s refused within its burst", key)
		}
	}
	if wait, ok := k.Allow("a"); ok || wait != 100*time.Millisecond {
		t.Fatalf("a over its burst: %v %v", ok, wait)
	}
	now = now.Add(100 * time.Millisecond)
	if _, ok := k.Allow("a"); !ok {
		t.Fatal("a not refilled")
	}
}

// Keys that have refilled are forgotten when the map is full; while every
// key is busy, new keys are refused instead of growing the map.
func TestKeyedBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	k := NewKeyed(1, 1, func() time.Time { return now })
	k.maxKeys = 100
	for i := range 100 {
		k.Allow(fmt.Sprint(i))
	}
	if _, ok := k.Allow("new"); ok || k.Len() != 100 {
		t.Fatalf("a new key while all are busy: ok %v, %d keys", ok, k.Len())
	}
	now = now.Add(2 * time.Second)
	if _, ok := k.Allow("new"); !ok || k.Len() != 1 {
		t.Fatalf("after refill: ok %v, %d keys", ok, k.Len())
	}
}
