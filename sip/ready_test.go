package sip

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// TestDialRightAfterStart dials from a server whose ListenAndServe was
// started a moment ago: the UDP listener must already be known to sipgo,
// or it binds a second socket on the same port ("address already in use").
func TestDialRightAfterStart(t *testing.T) {
	for i := range 20 { // the race needed a few runs to show before the fix
		uas := startServer(t, HandlerFunc(func(c *Call) {
			if err := c.Answer(testRTP); err != nil {
				return
			}
			for range c.Events() {
			}
		}))
		target, _ := uas.Addr("UDP")
		uac := startServer(t, HandlerFunc(func(c *Call) { _ = c.Reject(603, "Decline") }))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := uac.Dial(ctx, DialParams{
			Target: "sip:bob@" + target.String(),
			From:   "alice",
			Local:  netip.MustParseAddrPort("127.0.0.1:40000"),
		})
		if err != nil {
			cancel()
			t.Fatalf("run %d: Dial right after start: %v", i, err)
		}
		if err := c.Hangup(ctx); err != nil {
			t.Errorf("run %d: Hangup: %v", i, err)
		}
		if got := eventTypes(drain(c)); got != "terminated" {
			t.Errorf("run %d: events = %s, want terminated", i, got)
		}
		cancel()
	}
}
