package api

import (
	"time"

	"github.com/wasmvoice/mediaserver/internal/ratelimit"
)

// limiter is one token bucket per tenant (and per admin key), refilled
// lazily from the injected clock, so tests drive it without sleeping.
type limiter = ratelimit.Keyed

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return ratelimit.NewKeyed(rate, burst, now)
}
