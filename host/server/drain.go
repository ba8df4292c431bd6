package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
)

// Drain stops taking calls and leaves the calls in progress alone: new
// INVITEs get 503 Service Unavailable, the API refuses new outbound calls
// (503), /readyz answers 503. It returns at once; Shutdown waits.
func (s *Server) Drain() {
	if s.draining.Swap(true) {
		return
	}
	s.mu.Lock()
	srv := s.sip
	s.mu.Unlock()
	if srv != nil {
		srv.SetDraining(true)
	}
	s.log.Info("draining: new calls are refused, calls in progress go on")
}

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// Shutdown stops the server gracefully: Drain, then wait until every call
// has ended or drain has passed (or ctx is done), then Close, which ends
// the calls still up with a BYE and finishes their recordings.
func (s *Server) Shutdown(ctx context.Context, drain time.Duration) error {
	s.Drain()
	live := s.liveCalls()
	if live > 0 && drain > 0 {
		s.log.Info("draining: waiting for calls in progress", "calls", live, "drain_time", drain)
		ctx, cancel := context.WithTimeout(ctx, drain)
		tick := time.NewTicker(50 * time.Millisecond)
	wait:
		for {
			select {
			case <-ctx.Done():
				break wait
			case <-tick.C:
				if s.liveCalls() == 0 {
					break wait
				}
			}
		}
		tick.Stop()
		cancel()
	}
	if n := s.liveCalls(); n > 0 {
		s.log.Info("drain time over: ending the calls still up", "calls", n)
	} else {
		s.log.Info("drained: no call in progress")
	}
	return s.Close()
}

// liveCalls is the number of calls the engine or SIP still holds.
func (s *Server) liveCalls() int {
	n := 0
	if s.engine != nil {
		n = len(s.engine.Calls())
	}
	return max(n, s.LiveLegs())
}

// Ready reports why the server should not get new calls (nil when it
// should): draining, the SIP listeners down, a plugin version still
// loading, or the storage unreachable.
func (s *Server) Ready(ctx context.Context) error {
	s.mu.Lock()
	started, closed := s.started, s.closed
	s.mu.Unlock()
	switch {
	case !started || closed || s.sipDone == nil:
		return errors.New("not started")
	case s.draining.Load():
		return errors.New("draining")
	}
	select {
	case <-s.sipStopped:
		return errors.New("sip listeners stopped")
	default:
	}
	return s.ten.Ready(ctx)
}

// readyz serves /readyz: 200 "ready", or 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// drainGuard wraps the control API's calls so that new outbound calls
// (CreateSipMediaApplicationCall, iotcomms /placeivrcall) are refused
// while the server drains; the operations on calls in progress go on.
func drainGuard(s *Server, c api.Calls) api.Calls {
	d := drainingCalls{Calls: c, s: s}
	if ic, ok := c.(api.IotCalls); ok {
		return drainingIotCalls{drainingCalls: d, IotCalls: ic}
	}
	return d
}

// drainingCalls is api.Calls refusing new calls while the server drains.
type drainingCalls struct {
	api.Calls
	s *Server
}

// drainingIotCalls keeps the iotcomms operations of calls that have
// them (api.Handler finds them by type assertion).
type drainingIotCalls struct {
	drainingCalls
	api.IotCalls
}

func (d drainingIotCalls) PlaceIvrCall(ctx context.Context, tenant, appID string, req api.PlaceIvrCallRequest) (api.PlaceIvrCallResponse, error) {
	if d.s.draining.Load() {
		return api.PlaceIvrCallResponse{}, fmt.Errorf("%w: the server is shutting down", api.ErrUnavailable)
	}
	return d.IotCalls.PlaceIvrCall(ctx, tenant, appID, req)
}

func (d drainingCalls) CreateCall(ctx context.Context, tenant, appID string, req api.CreateCallRequest) (string, error) {
	if d.s.draining.Load() {
		return "", fmt.Errorf("%w: the server is shutting down", api.ErrUnavailable)
	}
	return d.Calls.CreateCall(ctx, tenant, appID, req)
}
