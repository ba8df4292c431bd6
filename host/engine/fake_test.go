package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	bridgeErr  error
	callRecs   []*fakeCallRec
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
	dialer *fakeDialer
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
		dialer: &fakeDialer{},
	}
	h.e = New(Config{Clock: clock, Region: "local-1", Dialer: h.dialer, Connector: &fakeConnector{}, Logger: testLogger()})
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

// CallRecorder on fakeLeg.

type fakeCallRec struct {
	l      *fakeLeg
	failed func(error)
}

func (l *fakeLeg) StartCallRecording(req CallRecordingRequest, failed func(error)) (CallRecording, error) {
	l.op("callrec %s %s %s", req.Track, req.BucketName, req.Key)
	r := &fakeCallRec{l: l, failed: failed}
	l.mu.Lock()
	l.callRecs = append(l.callRecs, r)
	l.mu.Unlock()
	return r, nil
}

func (r *fakeCallRec) Pause() error  { r.l.op("callrec pause"); return nil }
func (r *fakeCallRec) Resume() error { r.l.op("callrec resume"); return nil }
func (r *fakeCallRec) Stop() error {
	r.l.op("callrec stop")
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	return r.l.recStopErr
}

// plainLeg hides fakeLeg's optional interfaces.
type plainLeg struct{ Leg }

// fakeDialer hands out fakeLegs named dial-1, dial-2…; tests drive their
// progress through the recorded DialEvents.
type fakeDialer struct {
	mu    sync.Mutex
	dials []*fakeDial
	err   error
}

type fakeDial struct {
	req DialRequest
	ev  DialEvents
	leg *fakeLeg
}

func (d *fakeDialer) Dial(req DialRequest, ev DialEvents) (Leg, func(), error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, nil, d.err
	}
	fd := &fakeDial{req: req, ev: ev, leg: newFakeLeg(fmt.Sprintf("dial-%d", len(d.dials)+1))}
	d.dials = append(d.dials, fd)
	return fd.leg, func() { fd.leg.op("cancel") }, nil
}

func (d *fakeDialer) dial(t *testing.T, n int) *fakeDial {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.dials) < n {
		t.Fatalf("%d dials, want at least %d", len(d.dials), n)
	}
	return d.dials[n-1]
}

func (d *fakeDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dials)
}

// outbound starts an outbound call through the harness's dialer.
func (h *harness) outbound(req OutboundRequest) *harness {
	h.t.Helper()
	c, err := h.e.Outbound(App{
		TenantID:              "tenant-1",
		SipMediaApplicationID: "sma-1",
		Handler:               h.plugin,
	}, req)
	if err != nil {
		h.t.Fatalf("outbound: %v", err)
	}
	h.call = c
	c.settle()
	return h
}

// rawLast returns the last event's JSON as the plugin received it.
func (h *harness) rawLast() string {
	h.t.Helper()
	h.plugin.mu.Lock()
	defer h.plugin.mu.Unlock()
	if len(h.plugin.raw) == 0 {
		h.t.Fatal("no events")
	}
	return string(h.plugin.raw[len(h.plugin.raw)-1])
}

// participantSummary lists "TAG CallId Direction Status" per participant.
func participantSummary(ev *abi.Event) []string {
	var out []string
	for _, p := range ev.CallDetails.Participants {
		out = append(out, p.ParticipantTag+" "+p.CallID+" "+p.Direction+" "+p.Status)
	}
	return out
}

func wantLegOps(t *testing.T, l *fakeLeg, want ...string) {
	t.Helper()
	if got := l.Ops(); !equalStrings(got, want) {
		t.Fatalf("%s ops:\n got %q\nwant %q", l.id, got, want)
	}
}

var errFake = errors.New("fake failure")

// testLogger discards, unless ENGINE_DEBUG is set (then it logs to stderr).
func testLogger() *slog.Logger {
	if os.Getenv("ENGINE_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
