package tenancy

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/plugin"
)

// Unit tests of the tenancy's pieces; the assembled server's tests
// (host/server) run them end to end.

func TestNormalizeNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "E.164", in: "+15550100", want: "+15550100"},
		{name: "dashes", in: "+1-555-0100", want: "+15550100"},
		{name: "spaces and parentheses", in: "+1 (555) 0100", want: "+15550100"},
		{name: "dots", in: "+1.555.0100", want: "+15550100"},
		{name: "no plus", in: "15550100", want: "15550100"},
		{name: "plus inside is kept verbatim", in: "1+555", want: "1+555"},
		{name: "a name is kept verbatim", in: "alice", want: "alice"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeNumber(tt.in); got != tt.want {
				t.Fatalf("NormalizeNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzNormalizeNumber(f *testing.F) {
	for _, s := range []string{"+15550100", "+1 (555) 01-00", "alice", "", "++1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeNumber(s)
		if NormalizeNumber(n) != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, NormalizeNumber(n))
		}
		if n != s && strings.ContainsAny(n, " -.()") {
			t.Fatalf("%q normalised to %q still holds separators", s, n)
		}
	})
}

func TestLogBookRing(t *testing.T) {
	a := newLogBook().app("t", "a")
	for i := range logBookLines + 5 {
		a.mu.Lock()
		a.push(api.LogLine{Text: strconv.Itoa(i)})
		a.mu.Unlock()
	}
	tests := []struct {
		name  string
		n     int
		first string
		last  string
	}{
		{"last three", 3, strconv.Itoa(logBookLines + 2), strconv.Itoa(logBookLines + 4)},
		{"all", logBookLines * 2, "5", strconv.Itoa(logBookLines + 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.last(tt.n)
			if len(got) != min(tt.n, logBookLines) || got[0].Text != tt.first || got[len(got)-1].Text != tt.last {
				t.Fatalf("last(%d): %d lines %q…%q, want %s…%s", tt.n, len(got), got[0].Text, got[len(got)-1].Text, tt.first, tt.last)
			}
		})
	}
}

func TestEventType(t *testing.T) {
	tests := []struct {
		name, event, want string
	}{
		{"new call", `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL"}`, "NEW_INBOUND_CALL"},
		{"missing", `{"Sequence":1}`, "unknown"},
		{"empty", `{"InvocationEventType":""}`, "unknown"},
		{"not a name", `{"InvocationEventType":"x<script>"}`, "unknown"},
		{"unterminated", `{"InvocationEventType":"HANGUP`, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventType([]byte(tt.event)); got != tt.want {
				t.Fatalf("eventType = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzEventType: whatever the bytes, the label is "unknown" or an
// upper-case name of at most 40 bytes (bounded label values).
func FuzzEventType(f *testing.F) {
	f.Add([]byte(`{"InvocationEventType":"HANGUP"}`))
	f.Add([]byte(`"InvocationEventType":"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := eventType(b)
		if got == "unknown" {
			return
		}
		if len(got) > 40 || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
			t.Fatalf("eventType(%q) = %q", b, got)
		}
	})
}

func TestTenantBudget(t *testing.T) {
	t0 := time.Unix(100, 0)
	tests := []struct {
		name     string
		spent    time.Duration // charged at t0
		at       time.Duration // then asked at t0+at
		wantWait time.Duration
	}{
		{"within the burst", 200 * time.Millisecond, 0, 0},
		{"over it", 450 * time.Millisecond, 0, 400 * time.Millisecond}, // 200 ms in debt at 0.5 s/s
		{"refilled", 450 * time.Millisecond, 400 * time.Millisecond, 0},
		{"partly refilled", 450 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &tenantState{cpu: make(chan struct{}, 1), budgetRate: 0.5, budgetMax: 250 * time.Millisecond, budget: 250 * time.Millisecond}
			st.budgetWait(t0, 0)
			st.cpu <- struct{}{}
			st.releaseCPU(0, tt.spent)
			if got := st.budgetWait(t0.Add(tt.at), 0); got != tt.wantWait {
				t.Fatalf("wait = %v, want %v", got, tt.wantWait)
			}
		})
	}
}

// TestUploadError: a runtime whose compile slots stay busy answers 503
// with a Retry-After; a module over a compile limit is a 400.
func TestUploadError(t *testing.T) {
	busy := &plugin.Error{Kind: plugin.KindBusy, Err: errors.New("plugin runtime busy: 1 modules are being compiled and none finished within 10s; retry later")}
	var ae *api.Error
	if err := uploadError(busy, ""); !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.RetryAfter != busyRetry ||
		ae.Message != "plugin runtime busy: 1 modules are being compiled and none finished within 10s; retry later" {
		t.Fatalf("busy: %#v", err)
	}
	bomb := &plugin.Error{Kind: plugin.KindInvalidModule, Err: errors.New("invalid module: over a compile limit: 1050000 parameters and locals in all functions, over the limit of 1000000")}
	if err := uploadError(bomb, ""); !errors.Is(err, api.ErrInvalid) || !strings.HasSuffix(err.Error(), "over the limit of 1000000") {
		t.Fatalf("compile limit: %v", err)
	}
}

// TestTenantBudgetDuringEvent: an invocation in progress counts against
// its tenant's CPU budget from its start (its deadline, at most a slot's
// share of the budget), so another one waits while it runs; its end
// settles what it really took.
func TestTenantBudgetDuringEvent(t *testing.T) {
	st := &tenantState{cpu: make(chan struct{}, 2), budgetRate: 1, budgetMax: 100 * time.Millisecond, budget: 10 * time.Millisecond}
	reserved, err := st.acquireCPU(context.Background(), time.Hour)
	if err != nil || reserved != 50*time.Millisecond {
		t.Fatalf("first: %v reserved, %v; want 50ms (a slot's share of the budget)", reserved, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := st.acquireCPU(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second while the first runs: %v, want to wait past its context", err)
	}
	st.releaseCPU(reserved, 5*time.Millisecond) // the first took 5 ms
	if wait := st.budgetWait(time.Now(), 0); wait != 0 {
		t.Fatalf("after the first ended: wait %v, want none", wait)
	}
}

// A webhook waits on the network, not on the server's CPU: it takes no
// CPU slot and no budget, so a slow webhook does not hold up its tenant's
// other calls (a plugin does take them). Its own slots are many, and an
// event that finds none free waits, then fails.
func TestWebhookTakesNoCPU(t *testing.T) {
	hook := plugin.NewWebhook("http://127.0.0.1:9/", time.Second, nil)
	if cpuBound(hook) {
		t.Fatal("a webhook counted as CPU-bound")
	}
	if !cpuBound(stubHandler{}) {
		t.Fatal("a plugin counted as not CPU-bound")
	}
	st := &tenantState{cpu: make(chan struct{}, 1), hooks: make(chan struct{}, 2), budgetRate: 0.5, budgetMax: 250 * time.Millisecond, budget: 250 * time.Millisecond}
	for range 2 {
		if err := st.acquireHook(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The CPU slot is still free while both webhook slots are busy.
	if _, err := st.acquireCPU(context.Background(), 0); err != nil {
		t.Fatalf("plugin event while webhooks are in flight: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := st.acquireHook(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third webhook: %v, want to wait", err)
	}
	st.releaseHook()
	if err := st.acquireHook(context.Background()); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
}

type stubHandler struct{}

func (stubHandler) Invoke(context.Context, []byte) (*plugin.Result, error) {
	return &plugin.Result{}, nil
}
func (stubHandler) Close(context.Context) error { return nil }
