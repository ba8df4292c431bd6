package plugin

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
	w "github.com/wasmvoice/mediaserver/host/plugin/internal/wasmasm"
)

// Function indices of hostModule's imports.
const (
	fnKVSet = iota
	fnKVGet
	fnRandomGet
	fnFdWrite
	fnPollOneoff
)

// hostModule assembles a reactor of 768 pages (48 MiB) whose handle_event
// is body, with one i32 local (1, a counter) besides its parameter, and
// imports kv_set, kv_get, random_get, fd_write and poll_oneoff.
func hostModule(body []byte) []byte {
	i32 := byte(w.I32)
	return (&w.Module{
		Types: []w.FuncType{
			{}, // 0: the marker
			{Params: []byte{i32}, Results: []byte{i32}}, // 1: handle_event
			{Params: []byte{i32, i32}, Results: []byte{i32}},
			{Params: []byte{i32, i32, i32, i32}, Results: []byte{i32}},
		},
		Imports: []w.Import{
			{Module: abi.ImportModule, Name: abi.FuncKVSet, Type: 3},
			{Module: abi.ImportModule, Name: abi.FuncKVGet, Type: 3},
			{Module: abi.WASIModule, Name: "random_get", Type: 2},
			{Module: abi.WASIModule, Name: "fd_write", Type: 3},
			{Module: abi.WASIModule, Name: "poll_oneoff", Type: 3},
		},
		Funcs:     []w.Func{{Type: 0}, {Type: 1, Locals: []byte{i32}, Body: body}},
		HasMemory: true,
		MemoryMin: 768,
		Exports: []w.Export{
			{Name: abi.ExportMemory, Kind: w.KindMemory},
			{Name: abi.ExportVersionV1, Kind: w.KindFunc, Index: 5},
			{Name: abi.ExportHandleEvent, Kind: w.KindFunc, Index: 6},
		},
	}).Encode()
}

// repeat runs call (which leaves an i32) n times, dropping its result,
// then returns 0 without a response.
func repeat(n int32, call []byte) []byte {
	return w.Ops(w.Block, w.Loop,
		w.LocalGet(1), w.I32Const(n), w.I32GtU, w.BrIf(1),
		call, w.Drop,
		w.LocalGet(1), w.I32Const(1), w.I32Add, w.LocalSet(1),
		w.Br(0), w.End, w.End, w.I32Const(0))
}

// slowKV is a store whose writes take as long as a slow disk's.
type slowKV struct {
	KVStore
	delay time.Duration
}

func (s slowKV) Set(tenant, key string, val []byte) error {
	time.Sleep(s.delay)
	return s.KVStore.Set(tenant, key, val)
}

// TestHostCallsCharged: host calls that each do a lot of work, in a loop
// of a few instructions, end at the event's deadline. Before, their work
// was not charged and the guest's own fuel ran out only after hundreds of
// thousands of them: each event ran to its end, seconds past the deadline.
func TestHostCallsCharged(t *testing.T) {
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r := newRuntime(t, Config{KV: slowKV{store, 5 * time.Millisecond}})
	const big = 48 << 20
	iovec := w.Ops(w.I32Const(16), w.I32Const(64), w.I32Store(0), w.I32Const(16), w.I32Const(big-64), w.I32Store(4))
	for _, tc := range []struct {
		name string
		body []byte
	}{
		// 200 writes of 64 KiB to a store taking 5 ms each: 1 s.
		{name: "kv_set", body: repeat(200, w.Ops(w.I32Const(0), w.I32Const(1), w.I32Const(0), w.I32Const(64<<10), w.Call(fnKVSet)))},
		// 40 × 48 MiB of random bytes: about 2 s.
		{name: "random_get", body: repeat(40, w.Ops(w.I32Const(0), w.I32Const(big), w.Call(fnRandomGet)))},
		// 200 × 48 MiB to stderr, with no newline to end a line.
		{name: "fd_write", body: w.Ops(iovec, repeat(200, w.Ops(w.I32Const(2), w.I32Const(16), w.I32Const(1), w.I32Const(8), w.Call(fnFdWrite))))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Load(context.Background(), "t", tc.name, hostModule(tc.body), &Limits{Deadline: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			_, err = p.Invoke(context.Background(), testEvent(1))
			if !errors.Is(err, ErrTimeout) || err.Error() != "plugin t/"+tc.name+": plugin timed out after 100ms" {
				t.Fatalf("err = %v, want a timeout after 100ms", err)
			}
		})
	}
}

// TestHostCallSizes: sizes are checked before anything is read from guest
// memory, and the WASI calls that walk a guest-sized list refuse long ones.
// handle_event returns the call's status, which the error carries as Code.
func TestHostCallSizes(t *testing.T) {
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r := newRuntime(t, Config{KV: store})
	const big = 48 << 20
	for _, tc := range []struct {
		name string
		body []byte
		want int32
	}{
		{name: "kv_set of a 48 MiB value", body: w.Ops(w.I32Const(0), w.I32Const(1), w.I32Const(0), w.I32Const(big), w.Call(fnKVSet)),
			want: int32(abi.ErrCodeTooLarge)},
		{name: "kv_set of a 48 MiB key", body: w.Ops(w.I32Const(0), w.I32Const(big), w.I32Const(0), w.I32Const(1), w.Call(fnKVSet)),
			want: int32(abi.ErrCodeTooLarge)},
		{name: "kv_get of a 48 MiB key", body: w.Ops(w.I32Const(0), w.I32Const(big), w.I32Const(0), w.I32Const(1), w.Call(fnKVGet)),
			want: int32(abi.ErrCodeTooLarge)},
		{name: "kv_set of an empty key", body: w.Ops(w.I32Const(0), w.I32Const(0), w.I32Const(0), w.I32Const(1), w.Call(fnKVSet)),
			want: int32(abi.ErrCodeTooLarge)},
		{name: "fd_write of 1025 iovecs", body: w.Ops(w.I32Const(2), w.I32Const(0), w.I32Const(maxIovecs+1), w.I32Const(16<<20), w.Call(fnFdWrite)),
			want: wasiErrnoInval},
		{name: "poll_oneoff of 500000 subscriptions", body: w.Ops(w.I32Const(0), w.I32Const(24<<20), w.I32Const(500_000), w.I32Const(40<<20), w.Call(fnPollOneoff)),
			want: wasiErrnoInval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Load(context.Background(), "t", "sizes", hostModule(tc.body), &Limits{Deadline: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			_, err = p.Invoke(context.Background(), testEvent(1))
			var pe *Error
			if !errors.As(err, &pe) || pe.Kind != KindHandler || pe.Code != tc.want {
				t.Fatalf("err = %v, want the handler's code %d", err, tc.want)
			}
		})
	}
}

// TestArgv: argv is [plugin name], as SPEC section 9 says.
func TestArgv(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "args", nil)
	res, err := p.Invoke(context.Background(), testEvent(1))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"argc":1,"argv0":"args"}`; string(res.Response) != want {
		t.Fatalf("response %s, want %s", res.Response, want)
	}
}

// TestInitLogs: what _initialize logs reaches the log with the first
// event of the instance, before the event's own lines.
func TestInitLogs(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "initlog", nil)
	want := []LogLine{{Level: abi.LogInfo, Stream: StreamLog, Text: "starting up"}, {Level: abi.LogInfo, Stream: StreamLog, Text: "handling"}}
	res, err := p.Invoke(context.Background(), testEvent(1))
	if err != nil || !slices.Equal(res.Logs, want) {
		t.Fatalf("first event: %v, logs %+v; want %+v", err, res.Logs, want)
	}
	res, err = p.Invoke(context.Background(), testEvent(2))
	if err != nil || !slices.Equal(res.Logs, want[1:]) {
		t.Fatalf("second event: %v, logs %+v; want %+v", err, res.Logs, want[1:])
	}
}

// TestInitFailures: a module whose _initialize never ends, or traps, is
// refused at load, with what it logged.
func TestInitFailures(t *testing.T) {
	r := newRuntime(t, Config{})
	for _, tc := range []struct {
		name    string
		wantErr error
		wantMsg string
		logs    []LogLine
	}{
		{name: "initloop", wantErr: ErrTimeout, wantMsg: "plugin t/initloop: plugin timed out: instantiation took over 200ms",
			logs: []LogLine{{Level: abi.LogInfo, Stream: StreamLog, Text: "starting up forever"}}},
		{name: "inittrap", wantErr: ErrTrap, wantMsg: "plugin t/inittrap: plugin trapped: wasm error: unreachable",
			logs: []LogLine{{Level: abi.LogError, Stream: StreamLog, Text: "no configuration"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Load(context.Background(), "t", tc.name, fixture(t, tc.name), &Limits{InitDeadline: 200 * time.Millisecond})
			if p != nil || !errors.Is(err, tc.wantErr) || err.Error() != tc.wantMsg {
				t.Fatalf("Load = %v, %v; want %q", p, err, tc.wantMsg)
			}
			var pe *Error
			if !errors.As(err, &pe) || !slices.Equal(pe.Logs, tc.logs) {
				t.Fatalf("logs %+v, want %+v", pe.Logs, tc.logs)
			}
		})
	}
}

// TestPanicOneRecord: a crash report on stderr and the stack after it are
// one log line, not one per line.
func TestPanicOneRecord(t *testing.T) {
	r := newRuntime(t, Config{})
	p := load(t, r, "panic", &Limits{Deadline: time.Minute})
	res, err := p.Invoke(context.Background(), testEvent(1))
	if !errors.Is(err, ErrTrap) {
		t.Fatalf("err = %v, want a trap", err)
	}
	want := []LogLine{
		{Level: abi.LogError, Stream: StreamStderr, Text: "before the panic"},
		{Level: abi.LogError, Stream: StreamStderr, Text: "panic: boom\n\ngoroutine 1 [running]:\nmain.handle(...)\n\t/src/main.go:12 +0x3\nmain.main()\n\t/src/main.go:20 +0x9"},
		{Level: abi.LogInfo, Stream: StreamLog, Text: "a log line meanwhile"},
	}
	if res == nil || !slices.Equal(res.Logs, want) {
		t.Fatalf("logs %q, want %q", res.Logs, want)
	}
}

// TestCompileLimit: a compile bomb is refused before wazero sees it.
func TestCompileLimit(t *testing.T) {
	r := newRuntime(t, Config{})
	fs := make([]w.Func, 3000)
	for i := range fs {
		fs[i] = w.Func{I32Locals: 50_000}
	}
	bomb := (&w.Module{Types: []w.FuncType{{}}, Funcs: fs}).Encode()
	_, err := r.Check(context.Background(), bomb)
	want := "plugin : invalid module: over a compile limit: 1050000 parameters and locals in all functions, over the limit of 1000000"
	if !errors.Is(err, ErrInvalidModule) || err.Error() != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
}

// TestCompileBusy: with every compile slot taken past the queue timeout,
// Check and Load fail with ErrBusy; with one free they go on.
func TestCompileBusy(t *testing.T) {
	r := newRuntime(t, Config{MaxCompiles: 1, CompileQueueTimeout: 50 * time.Millisecond})
	good := fixture(t, "good")
	r.compiles <- struct{}{} // a compile that takes long
	_, err := r.Check(context.Background(), good)
	want := "plugin : plugin runtime busy: 1 modules are being compiled and none finished within 50ms; retry later"
	if !errors.Is(err, ErrBusy) || err.Error() != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
	if _, err := r.Load(context.Background(), "t", "good", good, nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("Load = %v, want ErrBusy", err)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		<-r.compiles
	}()
	if _, err := r.Check(context.Background(), good); err != nil {
		t.Fatalf("Check once the slot is free: %v", err)
	}
	if n := len(r.compiles); n != 0 {
		t.Fatalf("%d slots still taken after the compiles", n)
	}
}
