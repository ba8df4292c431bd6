package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/plugin"
)

// fakeHandler is a plugin.Handler answering from a script.
type fakeHandler struct {
	script func(n int) (*plugin.Result, error)
	mu     sync.Mutex
	n      int
}

func (h *fakeHandler) Invoke(context.Context, []byte) (*plugin.Result, error) {
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	return h.script(n)
}

func (h *fakeHandler) Close(context.Context) error { return nil }

// syncBuffer is a log sink safe for the call's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPluginInvoker(t *testing.T) {
	tests := []struct {
		name      string
		script    func(n int) (*plugin.Result, error)
		wantCalls int // invocations
		wantOps   []string
		wantLog   []string
	}{
		{
			name: "logs reach the call's logger",
			script: func(n int) (*plugin.Result, error) {
				return &plugin.Result{
					Response: []byte(noActions),
					Logs:     []plugin.LogLine{{Level: abi.LogWarn, Stream: plugin.StreamLog, Text: "hello from the plugin"}},
				}, nil
			},
			wantCalls: 1,
			wantLog:   []string{`level=WARN msg="hello from the plugin"`, "source=plugin", "transaction_id="},
		},
		{
			name: "invalid response is not retried",
			script: func(n int) (*plugin.Result, error) {
				if n == 1 {
					return nil, fmt.Errorf("demo: %w", plugin.ErrInvalidResponse)
				}
				return &plugin.Result{Response: []byte(noActions)}, nil
			},
			wantCalls: 2, // NEW_INBOUND_CALL, then INVALID_LAMBDA_RESPONSE
			wantLog:   []string{"invalid plugin response"},
		},
		{
			name: "failure on NEW_INBOUND_CALL rejects and logs the reason",
			script: func(n int) (*plugin.Result, error) {
				return nil, fmt.Errorf("demo: %w", plugin.ErrTimeout)
			},
			wantCalls: 2, // the retry
			wantOps:   []string{"reject 480"},
			wantLog:   []string{`msg="call ended"`, "plugin timed out", "attempt 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			fh := &fakeHandler{script: tt.script}
			h := newHarness(t, nil)
			h.e.cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			h.e.log = h.e.cfg.Logger
			h.plugin = nil
			c, err := h.e.Inbound(App{TenantID: "t", Handler: PluginInvoker(fh, nil)}, h.leg, CallInfo{})
			if err != nil {
				t.Fatal(err)
			}
			h.call = c
			h.settle()
			h.wantOps(tt.wantOps...)
			logs := buf.String()
			for _, w := range tt.wantLog {
				if !strings.Contains(logs, w) {
					t.Fatalf("log lacks %q:\n%s", w, logs)
				}
			}
			fh.mu.Lock()
			n := fh.n
			fh.mu.Unlock()
			if n != tt.wantCalls {
				t.Fatalf("%d invocations, want %d", n, tt.wantCalls)
			}
		})
	}
}
