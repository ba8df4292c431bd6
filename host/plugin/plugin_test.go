package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/plugin/internal/wasmasm"
	"github.com/wasmvoice/mediaserver/host/plugin/meter"
)

// fixtureOnce builds testdata/bin/*.wasm once per test binary.
var fixtureOnce = sync.OnceValue(func() error {
	if _, err := exec.LookPath("clang"); err != nil {
		if _, serr := os.Stat(filepath.Join("testdata", "bin", "good.wasm")); serr == nil && os.Getenv("CI") != "true" {
			return nil // prebuilt fixtures, possibly stale
		}
		return fmt.Errorf("clang not found: install clang, lld, wasi-libc and libclang-rt-dev-wasm32 to build the C fixtures: %w", err)
	}
	out, err := exec.Command("sh", filepath.Join("testdata", "build.sh")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("testdata/build.sh: %v\n%s", err, out)
	}
	return nil
})

// fixture returns the bytes of testdata/bin/NAME.wasm, building it first.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	if err := fixtureOnce(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "bin", name+".wasm"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func newRuntime(tb testing.TB, cfg Config) *Runtime {
	tb.Helper()
	r, err := NewRuntime(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func load(tb testing.TB, r *Runtime, name string, lim *Limits) *Plugin {
	tb.Helper()
	// A shared, loaded machine can take seconds to start an instance; the
	// default InitDeadline is not what these tests are about.
	l := Limits{}
	if lim != nil {
		l = *lim
	}
	if l.InitDeadline == 0 {
		l.InitDeadline = time.Minute
	}
	lim = &l
	p, err := r.Load(context.Background(), "t", name, fixture(tb, name), lim)
	if err != nil {
		tb.Fatalf("Load %s: %v", name, err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// testEvent is a real NEW_INBOUND_CALL event with one participant.
func testEvent(seq int) []byte {
	return fmt.Appendf(nil, `{"SchemaVersion":"1.0","Sequence":%d,"InvocationEventType":"NEW_INBOUND_CALL",`+
		`"CallDetails":{"TransactionId":"tx-1","TransactionAttributes":{},"AwsAccountId":"acme","AwsRegion":"local",`+
		`"SipRuleId":"rule-1","SipMediaApplicationId":"sma-1","Participants":[{"CallId":"call-a","ParticipantTag":"LEG-A",`+
		`"To":"+15550100","From":"+15550199","Direction":"Inbound","StartTimeInMilliseconds":"1641998241509","Status":"Connected"}]}}`, seq)
}

// seqOf extracts what the good fixture echoes.
func seqOf(t *testing.T, resp []byte) string {
	t.Helper()
	var r struct {
		TransactionAttributes map[string]string
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatalf("response %q: %v", resp, err)
	}
	return r.TransactionAttributes["seq"]
}

func hasLog(logs []LogLine, stream, text string) bool {
	return slices.ContainsFunc(logs, func(l LogLine) bool { return l.Stream == stream && l.Text == text })
}

func TestGoodPlugin(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "good", nil)
	for i := range 3 {
		res, err := p.Invoke(context.Background(), testEvent(i))
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if got, want := seqOf(t, res.Response), fmt.Sprint(i); got != want {
			t.Fatalf("seq = %q, want %q", got, want)
		}
	}
	s := p.Stats()
	if s.Invocations != 3 || s.Live != 1 || s.Idle != 1 || len(s.Errors) != 0 {
		t.Fatalf("Stats = %+v, want 3 invocations, 1 live idle instance, no errors", s)
	}
}

// TestHostile runs each hostile fixture, checks its typed error, then checks
// that the host still serves a good plugin and a fresh instance of the
// hostile one.
func TestHostile(t *testing.T) {
	r := newRuntime(t, Config{})
	good := load(t, r, "good", &Limits{Deadline: time.Minute})
	// Generous deadlines: the machine is shared and -race is slow; only the
	// loop case needs a short one.
	slow := time.Minute
	tests := []struct {
		name    string
		wasm    []byte // instead of the C fixture of that name
		lim     Limits
		wantErr error
		wantMsg string
		check   func(t *testing.T, res *Result)
	}{
		{name: "loop", lim: Limits{Deadline: 100 * time.Millisecond}, wantErr: ErrTimeout,
			wantMsg: "plugin t/loop: plugin timed out after 100ms"},
		// Exponential recursion has no loop header, where wazero's own
		// termination check sits; the instrumentation charges calls.
		{name: "recursion", wasm: recursionFixture(), lim: Limits{Deadline: 100 * time.Millisecond}, wantErr: ErrTimeout,
			wantMsg: "plugin t/recursion: plugin timed out after 100ms"},
		// A few instructions per iteration, each filling 16 MiB: charged by
		// size, or the first check would come after minutes.
		{name: "bulkloop", wasm: bulkLoopFixture(), lim: Limits{Deadline: 100 * time.Millisecond}, wantErr: ErrTimeout,
			wantMsg: "plugin t/bulkloop: plugin timed out after 100ms"},
		{name: "memory", lim: Limits{Deadline: slow, MemoryMaxPages: 256}, wantErr: ErrMemoryLimit,
			wantMsg: "plugin t/memory: plugin hit its memory limit of 16 MiB: wasm error: unreachable"},
		{name: "unreachable", lim: Limits{Deadline: slow}, wantErr: ErrTrap,
			wantMsg: "plugin t/unreachable: plugin trapped: wasm error: unreachable"},
		{name: "stack", lim: Limits{Deadline: slow}, wantErr: ErrTrap,
			wantMsg: "plugin t/stack: plugin trapped: stack overflow"},
		{name: "shadowstack", lim: Limits{Deadline: slow}, wantErr: ErrTrap,
			wantMsg: "plugin t/shadowstack: plugin trapped: wasm error: out of bounds memory access"},
		{name: "badjson", lim: Limits{Deadline: slow}, wantErr: ErrInvalidResponse,
			wantMsg: "plugin t/badjson: invalid response: not a JSON object"},
		{name: "bigresp", lim: Limits{Deadline: slow}, wantErr: ErrResponseTooLarge,
			wantMsg: "plugin t/bigresp: response too large (over 262144 bytes)",
			check: func(t *testing.T, res *Result) {
				if res == nil || !hasLog(res.Logs, StreamLog, fmt.Sprintf("response_write: %d", abi.ErrCodeTooLarge)) {
					t.Fatalf("the guest did not see ErrCodeTooLarge: %+v", res)
				}
			}},
		{name: "noresp", lim: Limits{Deadline: slow}, wantErr: ErrNoResponse,
			wantMsg: "plugin t/noresp: no response written"},
		{name: "nonzero", lim: Limits{Deadline: slow}, wantErr: ErrHandler,
			wantMsg: "plugin t/nonzero: handler returned an error: code 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Plugin
			if tc.wasm != nil {
				var err error
				if p, err = r.Load(context.Background(), "t", tc.name, tc.wasm, &tc.lim); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = p.Close(context.Background()) })
			} else {
				p = load(t, r, tc.name, &tc.lim)
			}
			for round := range 2 { // the second round runs on a fresh instance
				res, err := p.Invoke(context.Background(), testEvent(1))
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("round %d: err = %v, want %v", round, err, tc.wantErr)
				}
				if tc.wantMsg != "" && err.Error() != tc.wantMsg {
					t.Fatalf("round %d: err = %q, want %q", round, err, tc.wantMsg)
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.Plugin != tc.name || pe.Tenant != "t" {
					t.Fatalf("err %#v is not an *Error naming the plugin", err)
				}
				if tc.check != nil {
					tc.check(t, res)
				}
				if s := p.Stats(); s.Live != 0 {
					t.Fatalf("round %d: %d live instances after a failure, want 0 (discarded)", round, s.Live)
				}
				gres, gerr := good.Invoke(context.Background(), testEvent(100+round))
				if gerr != nil || seqOf(t, gres.Response) != fmt.Sprint(100+round) {
					t.Fatalf("good plugin after %s: %v", tc.name, gerr)
				}
			}
			if s := p.Stats(); s.Errors[pe(tc.wantErr)] != 2 {
				t.Fatalf("Stats.Errors = %v, want 2 of %v", s.Errors, pe(tc.wantErr))
			}
		})
	}
}

// reactor assembles an ABI v1 module whose handle_event has body and may
// call the extra functions (indices 2, 3, …).
func reactor(memPages uint32, body []byte, extra ...wasmasm.Func) []byte {
	funcs := append([]wasmasm.Func{
		{Type: 0},              // 0: the ABI marker
		{Type: 1, Body: body}}, // 1: handle_event
		extra...)
	return (&wasmasm.Module{
		Types:     []wasmasm.FuncType{{}, {Params: []byte{wasmasm.I32}, Results: []byte{wasmasm.I32}}},
		Funcs:     funcs,
		HasMemory: true,
		MemoryMin: memPages,
		Exports: []wasmasm.Export{
			{Name: abi.ExportMemory, Kind: wasmasm.KindMemory},
			{Name: abi.ExportVersionV1, Kind: wasmasm.KindFunc, Index: 0},
			{Name: abi.ExportHandleEvent, Kind: wasmasm.KindFunc, Index: 1},
		},
	}).Encode()
}

// recursionFixture: handle_event computes 2^60 as rec(n) = rec(n-1) +
// rec(n-1), with no loop anywhere.
func recursionFixture() []byte {
	w := wasmasm.Ops
	rec := wasmasm.Func{Type: 1, Body: w(
		wasmasm.LocalGet(0), wasmasm.I32Eqz, wasmasm.IfI32, wasmasm.I32Const(1), wasmasm.Else,
		wasmasm.LocalGet(0), wasmasm.I32Const(1), wasmasm.I32Sub, wasmasm.Call(2),
		wasmasm.LocalGet(0), wasmasm.I32Const(1), wasmasm.I32Sub, wasmasm.Call(2),
		wasmasm.I32Add, wasmasm.End)}
	return reactor(1, w(wasmasm.I32Const(60), wasmasm.Call(2)), rec)
}

// bulkLoopFixture: handle_event fills its 16 MiB memory, forever.
func bulkLoopFixture() []byte {
	w := wasmasm.Ops
	return reactor(256, w(wasmasm.Loop,
		wasmasm.I32Const(0), wasmasm.I32Const(0), wasmasm.I32Const(16<<20), wasmasm.MemoryFill,
		wasmasm.Br(0), wasmasm.End, wasmasm.I32Const(0)))
}

// pe maps a sentinel back to its kind.
func pe(sentinel error) Kind {
	for k := Kind(1); k < numKinds; k++ {
		if k.Sentinel() == sentinel {
			return k
		}
	}
	return 0
}

func TestLogFlood(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "logflood", &Limits{Deadline: time.Minute})
	res, err := p.Invoke(context.Background(), testEvent(1))
	if err != nil {
		t.Fatalf("a log flood is capped, not an error: %v", err)
	}
	lim := p.Limits()
	if len(res.Logs) != lim.LogMaxLines+1 {
		t.Fatalf("%d log lines, want %d kept plus one summary", len(res.Logs), lim.LogMaxLines)
	}
	want := LogLine{Level: abi.LogWarn, Stream: StreamLog, Text: fmt.Sprintf("… %d lines dropped", 20000-lim.LogMaxLines)}
	if got := res.Logs[len(res.Logs)-1]; got != want {
		t.Fatalf("last line = %+v, want %+v", got, want)
	}
	if res.Logs[0] != (LogLine{Level: abi.LogInfo, Stream: StreamLog, Text: "flooding the log host function"}) {
		t.Fatalf("first line = %+v", res.Logs[0])
	}
	// The next event starts with an empty log.
	res, err = p.Invoke(context.Background(), testEvent(2))
	if err != nil || len(res.Logs) != lim.LogMaxLines+1 {
		t.Fatalf("second event: %v, %d lines", err, len(res.Logs))
	}
}

func TestResponseWrittenTwice(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "twice", &Limits{Deadline: time.Minute})
	res, err := p.Invoke(context.Background(), testEvent(1))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if want := `{"SchemaVersion":"1.0","Actions":[],"TransactionAttributes":{"n":"first"}}`; string(res.Response) != want {
		t.Fatalf("response = %s, want the first one %s", res.Response, want)
	}
	if line := fmt.Sprintf("first=0 second=%d", abi.ErrCodeAlreadyWritten); !hasLog(res.Logs, StreamLog, line) {
		t.Fatalf("logs %+v lack %q", res.Logs, line)
	}
}

func TestNoFilesystem(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "fopen", &Limits{Deadline: time.Minute})
	res, err := p.Invoke(context.Background(), testEvent(1))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var got struct {
		Opened                     bool
		Errno, ENOENT, ENOTCAPABLE int
	}
	if err := json.Unmarshal(res.Response, &got); err != nil {
		t.Fatal(err)
	}
	// wasi-libc finds no preopened directory that could hold the path and
	// fails the open with ENOTCAPABLE, WASI preview1's errno 76
	// (See https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-errno-variant).
	const wasiNotCapable = 76
	if got.Opened || got.Errno != wasiNotCapable || got.ENOTCAPABLE != wasiNotCapable {
		t.Fatalf("fopen(/etc/passwd) = %s, want a refusal with ENOTCAPABLE (76)", res.Response)
	}
}

func TestLoadRejects(t *testing.T) {
	r := newRuntime(t, Config{})
	tests := []struct {
		name    string
		wasm    []byte
		lim     *Limits
		wantMsg string
	}{
		{name: "unknownimport", wantMsg: `plugin t/unknownimport: invalid module: import "mediaserver"."spawn_process": no such function in "mediaserver"`},
		{name: "badsig", wantMsg: `plugin t/badsig: invalid module: import "mediaserver"."log": signature (i32) -> i32, want (i32, i32, i32)`},
		{name: "envimport", wantMsg: `plugin t/envimport: invalid module: import "env"."system": unknown module "env" (allowed: "mediaserver", "wasi_snapshot_preview1")`},
		{name: "nomarker", wantMsg: `plugin t/nomarker: invalid module: no "mediaserver_abi_v1" export (ABI v1) and no "_start" export (WASI command)`},
		{name: "garbage", wasm: []byte("\x00asm\x01\x00\x00\x00\xff"), wantMsg: "plugin t/garbage: invalid module: "},
		{name: "too large", wasm: make([]byte, 2000), lim: &Limits{ModuleMaxBytes: 1000},
			wantMsg: "plugin t/too large: invalid module: module is 2000 bytes, over the limit of 1000"},
		{name: "memory", lim: &Limits{MemoryMaxPages: 1},
			wantMsg: "plugin t/memory: invalid module: section memory: min 2 pages (128 Ki) over limit of 1 pages (64 Ki)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wasm := tc.wasm
			if wasm == nil {
				wasm = fixture(t, tc.name)
			}
			p, err := r.Load(context.Background(), "t", tc.name, wasm, tc.lim)
			if p != nil || !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("Load = %v, %v; want ErrInvalidModule", p, err)
			}
			if !strings.HasPrefix(err.Error(), tc.wantMsg) || (tc.name != "garbage" && err.Error() != tc.wantMsg) {
				t.Fatalf("err = %q, want %q", err, tc.wantMsg)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	r := newRuntime(t, Config{})
	good := fixture(t, "good")
	info, err := r.Check(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(good)
	if info.Mode != ModeReactor || info.ABIVersion != 1 || info.Size != len(good) || info.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("info = %+v", info)
	}
	for _, want := range []string{"handle_event(i32) -> i32", "mediaserver_abi_v1()", "memory (memory)", "_initialize()"} {
		if !slices.Contains(info.Exports, want) {
			t.Errorf("exports %v lack %q", info.Exports, want)
		}
	}
	for _, want := range []string{"mediaserver.event_read(i32, i32) -> i32", "mediaserver.response_write(i32, i32) -> i32"} {
		if !slices.Contains(info.Imports, want) {
			t.Errorf("imports %v lack %q", info.Imports, want)
		}
	}
	if info.MemoryMinPages == 0 || info.MemoryMaxDeclared {
		t.Errorf("memory min %d max declared %v", info.MemoryMinPages, info.MemoryMaxDeclared)
	}
	cinfo, err := r.Check(context.Background(), fixture(t, "cmd_echo"))
	if err != nil || cinfo.Mode != ModeCommand || cinfo.ABIVersion != 0 {
		t.Fatalf("command: %+v, %v", cinfo, err)
	}
	// Check leaves nothing behind that Load depends on.
	p := load(t, r, "good", nil)
	if _, err := p.Invoke(context.Background(), testEvent(1)); err != nil {
		t.Fatal(err)
	}
}

func TestCommandMode(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "cmd_echo", &Limits{Deadline: time.Minute})
	if p.Info().Mode != ModeCommand {
		t.Fatalf("mode = %s", p.Info().Mode)
	}
	ev := testEvent(1)
	res, err := p.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	want := fmt.Sprintf(`{"SchemaVersion":"1.0","Actions":[],"TransactionAttributes":{"len":"%d"}}`, len(ev))
	if string(res.Response) != want {
		t.Fatalf("response = %s, want %s", res.Response, want)
	}
	if line := fmt.Sprintf("command got %d bytes", len(ev)); !hasLog(res.Logs, StreamStderr, line) {
		t.Fatalf("logs %+v lack stderr %q", res.Logs, line)
	}
	_, err = p.Invoke(context.Background(), []byte(`{"please":"fail"}`))
	var pe *Error
	if !errors.Is(err, ErrHandler) || !errors.As(err, &pe) || pe.Code != 3 {
		t.Fatalf("err = %v, want ErrHandler with code 3", err)
	}
	if err.Error() != "plugin t/cmd_echo: handler returned an error: exit code 3" {
		t.Fatalf("err = %q", err)
	}
}

func TestKV(t *testing.T) {
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r := newRuntime(t, Config{KV: store})
	wasm := fixture(t, "kv")
	lim := &Limits{Deadline: time.Minute}
	acme, err := r.Load(context.Background(), "acme", "kv", wasm, lim)
	if err != nil {
		t.Fatal(err)
	}
	globex, err := r.Load(context.Background(), "globex", "kv", wasm, lim)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", kv.DefaultMaxKeyBytes+1)
	tests := []struct {
		name  string
		p     *Plugin
		event string
		want  string
	}{
		{name: "get missing", p: acme, event: "get room", want: `{"code":-4,"value":""}`},
		{name: "set", p: acme, event: "set room 42", want: `{"code":0,"value":""}`},
		{name: "get", p: acme, event: "get room", want: `{"code":2,"value":"42"}`},
		{name: "other tenant", p: globex, event: "get room", want: `{"code":-4,"value":""}`},
		{name: "other tenant sets", p: globex, event: "set room 7", want: `{"code":0,"value":""}`},
		{name: "unchanged", p: acme, event: "get room", want: `{"code":2,"value":"42"}`},
		{name: "delete", p: acme, event: "del room", want: `{"code":0,"value":""}`},
		{name: "delete again", p: acme, event: "del room", want: `{"code":-4,"value":""}`},
		{name: "gone", p: acme, event: "get room", want: `{"code":-4,"value":""}`},
		{name: "other kept", p: globex, event: "get room", want: `{"code":1,"value":"7"}`},
		{name: "key too large", p: acme, event: "set " + long + " v", want: `{"code":-1,"value":""}`},
		{name: "bad pointer", p: acme, event: "badptr", want: `{"code":-3,"value":""}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.p.Invoke(context.Background(), []byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Response) != tc.want {
				t.Fatalf("response = %s, want %s", res.Response, tc.want)
			}
		})
	}
	if v, ok, _ := store.Get("globex", "room"); !ok || string(v) != "7" {
		t.Fatalf("store has %q %v for globex/room, want \"7\"", v, ok)
	}
}

func TestKVUnavailable(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "kv", &Limits{Deadline: time.Minute})
	res, err := p.Invoke(context.Background(), []byte("get room"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"code":%d,"value":""}`, abi.ErrCodeUnavailable); string(res.Response) != want {
		t.Fatalf("response = %s, want %s", res.Response, want)
	}
}

func TestEventTooLarge(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "good", &Limits{EventMaxBytes: 10})
	_, err := p.Invoke(context.Background(), testEvent(1))
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
}

func TestClose(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "loop", &Limits{Deadline: time.Minute})
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), testEvent(1))
		done <- err
	}()
	for p.Stats().Idle != 0 { // the invocation has leased the warm instance
		runtime.Gosched()
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("in-flight Invoke: %v, want ErrClosed", err)
	}
	if _, err := p.Invoke(context.Background(), testEvent(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke after Close: %v, want ErrClosed", err)
	}
}

func TestCallerContext(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "loop", &Limits{Deadline: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for p.Stats().Idle != 0 {
			runtime.Gosched()
		}
		cancel()
	}()
	_, err := p.Invoke(ctx, testEvent(1))
	if !errors.Is(err, ErrTimeout) || err.Error() != "plugin t/loop: plugin timed out: context canceled" {
		t.Fatalf("err = %v, want ErrTimeout from the caller's cancel", err)
	}
}

func TestQueueTimeout(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "loop", &Limits{Deadline: time.Minute, PoolSize: 1, QueueTimeout: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(ctx, testEvent(1))
		done <- err
	}()
	for p.Stats().Idle != 0 {
		runtime.Gosched()
	}
	_, err := p.Invoke(context.Background(), testEvent(2))
	if !errors.Is(err, ErrTimeout) || err.Error() != "plugin t/loop: plugin timed out: no free instance within 20ms" {
		t.Fatalf("err = %v, want a queue timeout", err)
	}
	cancel()
	<-done
}

func TestRecycle(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "good", &Limits{RecycleAfter: 2})
	for i := range 5 {
		if _, err := p.Invoke(context.Background(), testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if s := p.Stats(); s.Live != 1 || len(s.Errors) != 0 {
		t.Fatalf("Stats = %+v, want 1 live instance (the 5th event's), no errors", s)
	}
}

// TestHammer runs 64 goroutines against one plugin with a small pool that
// recycles often, and checks each caller gets the response to its own event.
func TestHammer(t *testing.T) {
	r := newRuntime(t, Config{})
	const goroutines, perG = 64, 20
	p := load(t, r, "good", &Limits{Deadline: 30 * time.Second, QueueTimeout: time.Minute, PoolSize: 4, RecycleAfter: 7})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				seq := g*1000 + i
				res, err := p.Invoke(context.Background(), testEvent(seq))
				if err != nil {
					t.Errorf("g%d: %v", g, err)
					return
				}
				if got := seqOf(t, res.Response); got != fmt.Sprint(seq) {
					t.Errorf("g%d: got the response for seq %s, want %d", g, got, seq)
					return
				}
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	if s.Invocations != goroutines*perG || len(s.Errors) != 0 || s.Live > 4 {
		t.Fatalf("Stats = %+v", s)
	}
}

func TestLimitsDefaults(t *testing.T) {
	d := DefaultLimits()
	got := (Limits{Deadline: time.Second}).withDefaults(d)
	want := d
	want.Deadline = time.Second
	if got != want {
		t.Fatalf("withDefaults = %+v, want %+v", got, want)
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		want string
	}{
		{name: "timeout", kind: KindTimeout, want: "timeout"},
		{name: "memory", kind: KindMemoryLimit, want: "memory limit"},
		{name: "invalid module", kind: KindInvalidModule, want: "invalid module"},
		{name: "busy", kind: KindBusy, want: "busy"},
		{name: "unknown", kind: 99, want: "kind(99)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.kind.String(); got != tc.want {
				t.Fatalf("String = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExamplePlugins runs the example plugins of plugins/ (when built)
// concurrently through the pool: real C and Go guests, with _initialize.
func TestExamplePlugins(t *testing.T) {
	cache := t.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero") // compiling Go guests under -race is slow
	}
	r := newRuntime(t, Config{CacheDir: cache})
	for _, name := range []string{"meetingjoin-c", "meetingjoin-go", "meetingjoin-c-cmd"} {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join("..", "..", "plugins", "bin", name+".wasm"))
			if err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("not built (CI=true): %v", err)
				}
				t.Skipf("not built (run plugins/build.sh): %v", err)
			}
			p, err := r.Load(context.Background(), "t", name, wasm, &Limits{Deadline: time.Minute, InitDeadline: time.Minute, QueueTimeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 5 {
						res, err := p.Invoke(context.Background(), testEvent(g*10+i))
						if err != nil {
							t.Errorf("Invoke: %v", err)
							return
						}
						var resp struct {
							Actions []struct {
								Type       string
								Parameters struct{ AudioSource struct{ Key string } }
							}
						}
						if err := json.Unmarshal(res.Response, &resp); err != nil || len(resp.Actions) != 1 ||
							resp.Actions[0].Type != "PlayAudio" || resp.Actions[0].Parameters.AudioSource.Key != "welcome.wav" {
							t.Errorf("response %s, want one PlayAudio of welcome.wav", res.Response)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestRuntimeClose(t *testing.T) {
	r, err := NewRuntime(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(context.Background(), "t", "good", fixture(t, "good"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Invoke(context.Background(), testEvent(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke after Runtime.Close: %v, want ErrClosed", err)
	}
	if _, err := r.Load(context.Background(), "t", "good", fixture(t, "good"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close: %v, want ErrClosed", err)
	}
}

func TestDiskCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	for round := range 2 { // the second runtime reads what the first wrote
		r := newRuntime(t, Config{CacheDir: dir})
		p := load(t, r, "good", nil)
		if _, err := p.Invoke(context.Background(), testEvent(round)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("cache dir: %v, %v; want a private directory", fi, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache dir is empty: %v", err)
	}
}

// TestDeadlineAfterQuickEvents runs an endless event on an instance whose
// deadline timer earlier quick events armed: the timer fires for their
// deadline, finds the new event running and re-arms for its deadline.
func TestDeadlineAfterQuickEvents(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "sometimes", &Limits{Deadline: 50 * time.Millisecond, PoolSize: 1})
	for i := range 3 {
		if _, err := p.Invoke(context.Background(), testEvent(i)); err != nil {
			t.Fatalf("quick event %d: %v", i, err)
		}
	}
	_, err := p.Invoke(context.Background(), testEvent(99))
	if !errors.Is(err, ErrTimeout) || err.Error() != "plugin t/sometimes: plugin timed out after 50ms" {
		t.Fatalf("err = %v, want ErrTimeout after 50ms", err)
	}
	if _, err := p.Invoke(context.Background(), testEvent(4)); err != nil {
		t.Fatalf("event after the timeout (new instance): %v", err)
	}
}

// TestMeteredCache: with a cache directory, the instrumented module is
// kept there, and a second runtime (a restart) takes it from there rather
// than instrumenting again: shown by planting another module in its place.
func TestMeteredCache(t *testing.T) {
	dir := t.TempDir()
	good, nop := fixture(t, "good"), fixture(t, "nop")
	load := func() *Plugin {
		r := newRuntime(t, Config{CacheDir: dir})
		p, err := r.Load(context.Background(), "t", "good", good, &Limits{Deadline: time.Minute, InitDeadline: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	res, err := load().Invoke(context.Background(), testEvent(7))
	if err != nil || seqOf(t, res.Response) != "7" {
		t.Fatalf("first load: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "metered", "*.wasm"))
	if len(files) != 1 {
		t.Fatalf("cached modules %v, want one", files)
	}
	cached, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := meter.Instrument(good, meterOptions)
	if err != nil || !bytes.Equal(cached, want) {
		t.Fatalf("the cached module is not the instrumented one (%v)", err)
	}
	planted, _, err := meter.Instrument(nop, meterOptions)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], planted, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = load().Invoke(context.Background(), testEvent(8))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(res.Response, []byte(`"seq"`)) {
		t.Fatalf("second load ran the module again instead of the cached one: %s", res.Response)
	}
}
