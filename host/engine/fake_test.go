package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// fakeLeg records what the engine asks of it; tests finish playbacks and
// digit sending, and report silence, through it.
type fakeLeg struct {
	id string

	mu         sync.Mutex
	ops        []string
	plays      []*fakePlay
	sends      []*fakeSend
	recs       []*fakeRec
	answerErr  error
	playErrs   map[string]error // by Key: returned by Play at once
	recStopErr error
}

type fakePlay struct {
	key     string
	done    func(error)
	stopped bool
}

type fakeSend struct {
	digits string
	done   func(error)
}

type fakeRec struct {
	req     RecordRequest
	ev      RecordEvents
	stopped bool
}

func newFakeLeg(id string) *fakeLeg { return &fakeLeg{id: id, playErrs: map[string]error{}} }

func (l *fakeLeg) ID() string { return l.id }

func (l *fakeLeg) op(format string, args ...any) {
	l.mu.Lock()
	l.ops = append(l.ops, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *fakeLeg) Ops() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ops...)
}

func (l *fakeLeg) Answer(context.Context) error {
	l.op("answer")
	return l.answerErr
}

func (l *fakeLeg) Reject(_ context.Context, code int) error {
	l.op("reject %d", code)
	return nil
}

func (l *fakeLeg) Hangup(context.Context) error {
	l.op("bye")
	return nil
}

func (l *fakeLeg) Play(src abi.AudioSource, done func(error)) (func(), error) {
	l.op("play %s", src.Key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.playErrs[src.Key]; err != nil {
		return nil, err
	}
	p := &fakePlay{key: src.Key, done: done}
	l.plays = append(l.plays, p)
	return func() {
		l.op("stop play %s", src.Key)
		l.mu.Lock()
		p.stopped = true
		l.mu.Unlock()
	}, nil
}

func (l *fakeLeg) SendDigits(digits string, tone time.Duration, done func(error)) error {
	l.op("send %s %v", digits, tone)
	l.mu.Lock()
	l.sends = append(l.sends, &fakeSend{digits: digits, done: done})
	l.mu.Unlock()
	return nil
}

func (l *fakeLeg) Record(req RecordRequest, ev RecordEvents) (func() error, error) {
	l.op("record %s/%s threshold=%d", req.BucketName, req.Key, req.SilenceThreshold)
	r := &fakeRec{req: req, ev: ev}
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
	return func() error {
		l.op("stop record")
		l.mu.Lock()
		defer l.mu.Unlock()
		r.stopped = true
		return l.recStopErr
	}, nil
}

// lastPlay returns the latest playback.
func (l *fakeLeg) lastPlay(t *testing.T) *fakePlay {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.plays) == 0 {
		t.Fatal("no playback started")
	}
	return l.plays[len(l.plays)-1]
}

func (l *fakeLeg) lastRec(t *testing.T) *fakeRec {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) == 0 {
		t.Fatal("no recording started")
	}
	return l.recs[len(l.recs)-1]
}

// fakePlugin is a scripted handler: script maps each event to a response.
type fakePlugin struct {
	script func(ev *abi.Event) (string, error)

	mu     sync.Mutex
	raw    [][]byte
	events []*abi.Event
}

func (p *fakePlugin) Invoke(_ context.Context, event []byte) ([]byte, error) {
	ev, err := abi.ParseEvent(event)
	if err != nil {
		return nil, fmt.Errorf("fake plugin: bad event: %w", err)
	}
	p.mu.Lock()
	p.raw = append(p.raw, append([]byte(nil), event...))
	p.events = append(p.events, ev)
	p.mu.Unlock()
	resp, err := p.script(ev)
	if err != nil {
		return nil, err
	}
	return []byte(resp), nil
}

func (p *fakePlugin) Events() []*abi.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*abi.Event(nil), p.events...)
}

// Types lists the event types received, in order.
func (p *fakePlugin) Types() []string {
	var out []string
	for _, ev := range p.Events() {
		out = append(out, string(ev.InvocationEventType))
	}
	return out
}

var errPluginTrap = errors.New("plugin trapped")

// Response builders.

func act(typ, params string) string {
	if params == "" {
		return fmt.Sprintf(`{"Type":%q}`, typ)
	}
	return fmt.Sprintf(`{"Type":%q,"Parameters":%s}`, typ, params)
}

func actions(acts ...string) string {
	return `{"SchemaVersion":"1.0","Actions":[` + strings.Join(acts, ",") + `]}`
}

const (
	noActions  = `{"SchemaVersion":"1.0","Actions":[]}`
	hello      = `{"AudioSource":{"Type":"S3","BucketName":"b","Key":"hello.wav"}}`
	helloTwice = `{"AudioSource":{"Type":"S3","BucketName":"b","Key":"hello.wav"},"Repeat":2,"PlaybackTerminators":["#","1"]}`
)

func pauseAct(msec int) string {
	return act("Pause", fmt.Sprintf(`{"DurationInMilliseconds":%d}`, msec))
}

// bySeq answers event n (1-based Sequence) with responses[n-1], and with
// no actions after the script runs out.
func bySeq(responses ...string) func(*abi.Event) (string, error) {
	return func(ev *abi.Event) (string, error) {
		if ev.Sequence <= len(responses) {
			return responses[ev.Sequence-1], nil
		}
		return noActions, nil
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type harness struct {
	t      *testing.T
	clock  *FakeClock
	e      *Engine
	leg    *fakeLeg
	plugin *fakePlugin
	call   *Call
}

func newHarness(t *testing.T, script func(*abi.Event) (string, error)) *harness {
	t.Helper()
	clock := NewFakeClock(t0)
	h := &harness{
		t:      t,
		clock:  clock,
		leg:    newFakeLeg("leg-1"),
		plugin: &fakePlugin{script: script},
	}
	h.e = New(Config{Clock: clock, Region: "local-1"})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.e.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return h
}

func (h *harness) withLimits(l Limits) *harness {
	h.e.cfg.Limits = l
	return h
}

func (h *harness) start() *harness {
	h.t.Helper()
	c, err := h.e.Inbound(App{
		TenantID:              "tenant-1",
		SipMediaApplicationID: "sma-1",
		SipRuleID:             "rule-1",
		Handler:               h.plugin,
	}, h.leg, CallInfo{
		From:       "+15550001",
		To:         "+15550100",
		SipHeaders: map[string]string{"X-Foo": "bar", "User-to-User": "uui", "Diversion": "<sip:x>", "Contact": "<sip:c>"},
		StartTime:  time.UnixMilli(1641998241509),
	})
	if err != nil {
		h.t.Fatalf("inbound: %v", err)
	}
	h.call = c
	c.settle()
	return h
}

func (h *harness) settle() { h.call.settle() }

func (h *harness) advance(d time.Duration) {
	h.clock.Advance(d)
	h.settle()
}

func (h *harness) press(digits string) {
	for _, d := range digits {
		h.call.Digit(d)
		h.settle()
	}
}

func (h *harness) finishPlay(err error) {
	h.t.Helper()
	p := h.leg.lastPlay(h.t)
	p.done(err)
	h.settle()
}

func (h *harness) ended() bool {
	select {
	case <-h.call.Done():
		return true
	default:
		return false
	}
}

// last returns the last event the plugin received.
func (h *harness) last() *abi.Event {
	h.t.Helper()
	evs := h.plugin.Events()
	if len(evs) == 0 {
		h.t.Fatal("no events")
	}
	return evs[len(evs)-1]
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (h *harness) wantOps(want ...string) {
	h.t.Helper()
	if got := h.leg.Ops(); !equalStrings(got, want) {
		h.t.Fatalf("leg ops:\n got %q\nwant %q", got, want)
	}
}

func (h *harness) wantTypes(want ...string) {
	h.t.Helper()
	if got := h.plugin.Types(); !equalStrings(got, want) {
		h.t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}

// compactJSON normalises JSON for comparisons.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad json %s: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
