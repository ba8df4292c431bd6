package meter

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	. "github.com/wasmvoice/mediaserver/host/plugin/internal/wasmasm"
)

// sample is a module with a loop, a recursion without loops, bulk memory
// in a loop, memory.grow, a call through a table, a call to an import, a
// start function, an exported global and a name section.
func sample() []byte {
	start := uint32(6)
	m := Module{
		Types: []FuncType{
			{Params: []byte{I32}, Results: []byte{I32}}, // 0
			{},                         // 1: () -> ()
			{Results: []byte{I32}},     // 2
			{Params: []byte{I32, I32}}, // 3
		},
		Imports: []Import{{Module: "env", Name: "add1", Type: 0}}, // function 0
		Funcs: []Func{
			{Type: 0, Locals: []byte{I32}, Name: "sum", Body: Ops( // 1: n + (n-1) + … + 1
				Block, Loop,
				LocalGet(0), I32Eqz, BrIf(1),
				LocalGet(1), LocalGet(0), I32Add, LocalSet(1),
				LocalGet(0), I32Const(1), I32Sub, LocalSet(0),
				Br(0), End, End,
				LocalGet(1))},
			{Type: 0, Name: "rec", Body: Ops( // 2: 2^n, by 2^(n+1)-1 calls
				LocalGet(0), I32Eqz, IfI32, I32Const(1), Else,
				LocalGet(0), I32Const(1), I32Sub, Call(2),
				LocalGet(0), I32Const(1), I32Sub, Call(2),
				I32Add, End)},
			{Type: 0, Name: "fill", Body: Ops( // 3: n × memory.fill(0, 7, 64 KiB)
				Block, Loop,
				LocalGet(0), I32Eqz, BrIf(1),
				I32Const(0), I32Const(7), I32Const(65536), MemoryFill,
				LocalGet(0), I32Const(1), I32Sub, LocalSet(0),
				Br(0), End, End,
				I32Const(100), I32Load)},
			{Type: 0, Name: "viaTable", Body: Ops(LocalGet(0), I32Const(0), CallIndirect(0))}, // 4
			{Type: 0, Name: "viaImport", Body: Ops(LocalGet(0), Call(0))},                     // 5
			{Type: 1, Name: "start", Body: Ops(I32Const(42), GlobalSet(0))},                   // 6
			{Type: 0, Name: "grow", Body: Ops(LocalGet(0), MemoryGrow)},                       // 7
		},
		Table:     []uint32{1},
		HasMemory: true,
		MemoryMin: 2,
		Globals:   []Global{{Type: I32, Mutable: true, Init: I32Const(0)}},
		Exports: []Export{
			{Name: "sum", Kind: KindFunc, Index: 1}, {Name: "rec", Kind: KindFunc, Index: 2},
			{Name: "fill", Kind: KindFunc, Index: 3}, {Name: "viaTable", Kind: KindFunc, Index: 4},
			{Name: "viaImport", Kind: KindFunc, Index: 5}, {Name: "grow", Kind: KindFunc, Index: 7},
			{Name: "memory", Kind: KindMemory, Index: 0}, {Name: "g", Kind: KindGlobal, Index: 0},
		},
		Start:      &start,
		Data:       []byte("data"),
		DataOffset: 100000, // past what fill touches
	}
	return m.Encode()
}

// env instantiates what sample imports, and meter's tick: a Go function
// given the running count of ticks; it returns the fuel for the next
// stretch (or panics to stop the guest).
func env(t *testing.T, rt wazero.Runtime, tick func(n int) int64) *int {
	t.Helper()
	ctx := context.Background()
	_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(v int32) int32 { return v + 1 }).Export("add1").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := new(int)
	_, err = rt.NewHostModuleBuilder(ImportModule).NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(_ context.Context, stack []uint64) {
			*n++
			stack[0] = uint64(tick(*n))
		}), nil, []api.ValueType{api.ValueTypeI64}).Export(ImportName).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func instantiate(t *testing.T, wasm []byte, tick func(n int) int64) (api.Module, *int) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	n := env(t, rt, tick)
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return mod, n
}

func call(t *testing.T, mod api.Module, name string, arg uint32) (uint32, error) {
	t.Helper()
	res, err := mod.ExportedFunction(name).Call(context.Background(), uint64(arg))
	if err != nil {
		return 0, err
	}
	return uint32(res[0]), nil
}

func TestSemanticsPreserved(t *testing.T) {
	orig := sample()
	metered, st, err := Instrument(orig, Options{Fuel: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// No function starts with a loop, so all seven charge on entry; two
	// loops; fill and grow are bulk. Size, counted by hand: 4 types of 5
	// parameters and results in all, an import, a global (4), 8 exports,
	// a data segment and an element segment of one item; sum has a parameter and a local; sum and fill branch
	// twice (once to their block, once to their loop) in a signature of
	// two values, rec has an if: cost 2×(2+2) + 1×(1+2) + 2×(1+2); work
	// 2×(2+2+4)+8×(1+2) + 8×1 + 2×(1+2+4)+8×(1+2).
	want := Stats{Functions: 7, Loops: 2, Bulk: 2, Size: Size{Functions: 8, Declarations: 4 + 5 + 1 + 4 + 8 + 1 + 2, MaxFunctionLocals: 2,
		Locals: 7, MaxFunctionBytes: 39, MaxFunctionCost: 8, Cost: 17, Work: 86}}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	a, _ := instantiate(t, orig, func(int) int64 { return 1000 })
	b, ticks := instantiate(t, metered, func(int) int64 { return 1000 })
	for _, tc := range []struct {
		fn  string
		arg uint32
	}{
		{"sum", 0}, {"sum", 1}, {"sum", 50000}, {"rec", 0}, {"rec", 12}, {"fill", 3},
		{"viaTable", 100}, {"viaImport", 41}, {"grow", 1}, {"grow", 0},
	} {
		want, err := call(t, a, tc.fn, tc.arg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := call(t, b, tc.fn, tc.arg)
		if err != nil {
			t.Fatalf("%s(%d): %v", tc.fn, tc.arg, err)
		}
		if got != want {
			t.Errorf("%s(%d) = %d metered, %d original", tc.fn, tc.arg, got, want)
		}
	}
	if *ticks == 0 {
		t.Error("the metered module never called tick")
	}
	for _, m := range []api.Module{a, b} {
		if g := m.ExportedGlobal("g").Get(); g != 42 {
			t.Errorf("global g = %d, want 42 (set by the start function)", g)
		}
		if d, _ := m.Memory().Read(100000, 4); string(d) != "data" {
			t.Errorf("data segment reads %q", d)
		}
	}
	// The name section moved with the functions.
	for name, f := range b.ExportedFunctionDefinitions() {
		if f.Name() != name {
			t.Errorf("export %q is function %q", name, f.Name())
		}
	}
}

// TestTicks checks the charging rules: every loop iteration and every call
// costs at least one instruction, and bulk operations cost their size.
func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fn        string
		arg       uint32
		fuel      int64
		wantTicks int
	}{
		// 100,000 iterations, at least one instruction each.
		{name: "loop", fn: "sum", arg: 100000, fuel: 1000, wantTicks: 100},
		// 2^17-1 calls and no loop.
		{name: "recursion", fn: "rec", arg: 16, fuel: 1000, wantTicks: 131},
		// 16 fills of 64 KiB at one instruction per 16 bytes: 16 × 4096,
		// while the instructions around them are far fewer than 4096.
		{name: "memory.fill", fn: "fill", arg: 16, fuel: 4096, wantTicks: 15},
		// 4096 per page: one page is more than this fuel.
		{name: "memory.grow", fn: "grow", arg: 1, fuel: 4000, wantTicks: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			metered, _, err := Instrument(sample(), Options{Fuel: tc.fuel})
			if err != nil {
				t.Fatal(err)
			}
			mod, ticks := instantiate(t, metered, func(int) int64 { return tc.fuel })
			before := *ticks // the start function ran
			if _, err := call(t, mod, tc.fn, tc.arg); err != nil {
				t.Fatal(err)
			}
			if got := *ticks - before; got < tc.wantTicks {
				t.Errorf("%d ticks, want at least %d", got, tc.wantTicks)
			}
		})
	}
}

var errStop = errors.New("stop")

// TestTickStops: a tick that panics ends the call, even in a recursion
// that has no loop header (where wazero's own check never runs).
func TestTickStops(t *testing.T) {
	for _, tc := range []struct {
		fn  string
		arg uint32
	}{
		{"sum", 1 << 31}, // about 2^31 iterations
		{"rec", 60},      // about 2^61 calls
	} {
		t.Run(tc.fn, func(t *testing.T) {
			metered, _, err := Instrument(sample(), Options{Fuel: 1000})
			if err != nil {
				t.Fatal(err)
			}
			mod, ticks := instantiate(t, metered, func(n int) int64 {
				if n > 5 {
					panic(errStop)
				}
				return 1000
			})
			_, err = call(t, mod, tc.fn, tc.arg)
			if !errors.Is(err, errStop) {
				t.Fatalf("err %v, want errStop", err)
			}
			if *ticks != 6 {
				t.Errorf("%d ticks, want 6", *ticks)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	one := func(f Func, globals int) []byte {
		m := Module{Types: []FuncType{{Params: []byte{I32}, Results: []byte{I32}}}, Funcs: []Func{f}}
		for range globals {
			m.Globals = append(m.Globals, Global{Type: I32, Init: I32Const(0)})
		}
		return m.Encode()
	}
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{name: "not wasm", wasm: []byte("hello, world"), want: "not a WebAssembly 1.0 binary module"},
		{name: "empty", wasm: nil, want: "not a WebAssembly 1.0 binary module"},
		{name: "reserved import", wasm: (&Module{Types: []FuncType{{Results: []byte{I64}}},
			Imports: []Import{{Module: ImportModule, Name: ImportName}}}).Encode(),
			want: `imports from the reserved module "mediaserver_meter"`},
		// Index 1 would be the fuel counter once it is added.
		{name: "global past the end", wasm: one(Func{Body: GlobalGet(1)}, 1), want: "global index 1 out of range"},
		{name: "global.set past the end", wasm: one(Func{Body: Ops(I64Const(1), GlobalSet(0), LocalGet(0))}, 0),
			want: "global index 0 out of range"},
		{name: "call past the end", wasm: one(Func{Body: Ops(LocalGet(0), Call(1))}, 0), want: "function index 1 out of range"},
		{name: "ref.func past the end", wasm: one(Func{Body: Ops(RefFunc(7), Drop, LocalGet(0))}, 0),
			want: "function index 7 out of range"},
		// Index 1 would be the scratch local of a bulk operation.
		{name: "local past the end", wasm: one(Func{Body: Ops(LocalGet(1), I32Const(0), I32Const(0), MemoryFill, LocalGet(0))}, 0),
			want: "local index out of range"},
		// Type 1 would be the tick's () -> i64.
		{name: "type past the end", wasm: one(Func{Body: Ops(LocalGet(0), I32Const(0), CallIndirect(1))}, 0),
			want: "type index 1 out of range"},
		{name: "atomics", wasm: one(Func{Body: []byte{0xFE, 0x03, 0x00}}, 0), want: "opcode 0xfe is not supported"},
		{name: "exceptions", wasm: one(Func{Body: []byte{0x08, 0x00}}, 0), want: "opcode 0x08 is not supported"},
		{name: "truncated", wasm: []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60}, want: "length 5 runs past the end"},
		{name: "unterminated body", wasm: one(Func{Body: Block}, 0), want: "function body ends inside a block"},
		// A decoder that preallocates by declared length would ask for
		// 2^28 tables here.
		{name: "huge vector", wasm: []byte("\x00asm\x01\x00\x00\x00\x04\x07\xff\xff\xff\x7f000"),
			want: "vector of 268435455 items runs past the end"},
		{name: "export of a missing global", wasm: (&Module{Exports: []Export{{Name: "g", Kind: KindGlobal}}}).Encode(),
			want: "global index 0 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Instrument(tc.wasm, Options{Fuel: 1000})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
			if want := "meter: cannot instrument module: " + tc.want; err.Error() != want {
				t.Errorf("err %q\nwant %q", err, want)
			}
		})
	}
}

// bombs are small modules that cost wazero's compiler gigabytes or
// minutes (measured without the limits: see limits.go), each with the
// limit that stops it.
func bombs() []struct {
	name string
	wasm []byte
	want string
} {
	noop := FuncType{}
	// loopBomb: a loop that reads and writes each of its locals, left
	// by branches labels times (br_table, or one br_if each).
	loopBomb := func(locals uint32, labels int, brTable bool) []byte {
		body := Loop
		for i := range locals {
			body = Ops(body, LocalGet(i), I32Const(1), I32Add, LocalSet(i))
		}
		if brTable {
			body = Ops(body, I32Const(0), BrTable(0, make([]uint32, labels-1)...))
		} else {
			for range labels {
				body = Ops(body, I32Const(0), BrIf(0))
			}
		}
		return (&Module{Types: []FuncType{noop}, Funcs: []Func{{I32Locals: locals, Body: Ops(body, End)}}}).Encode()
	}
	many := func(n int, f Func) []Func {
		fs := make([]Func, n)
		for i := range fs {
			fs[i] = f
		}
		return fs
	}
	nest := func(depth int) []byte {
		body := []byte{}
		for range depth {
			body = Ops(body, Block)
		}
		for range depth {
			body = Ops(body, End)
		}
		return (&Module{Types: []FuncType{noop}, Funcs: []Func{{Body: body}}}).Encode()
	}
	// wide: a block of 4000 results left by a br_table of 4001 labels.
	wide := func() []byte {
		results := make([]byte, 4000)
		for i := range results {
			results[i] = I32
		}
		body := []byte{0x02, 0x01} // block of type 1
		for range results {
			body = Ops(body, I32Const(0))
		}
		body = Ops(body, I32Const(0), BrTable(0, make([]uint32, 4000)...), End)
		for range results {
			body = Ops(body, Drop)
		}
		return (&Module{Types: []FuncType{noop, {Results: results}}, Funcs: []Func{{Body: body}}}).Encode()
	}
	types := make([]FuncType, 500_001)
	return []struct {
		name string
		wasm []byte
		want string
	}{
		// The audit's: 3,000 functions of 50,000 locals in 24 KB took
		// 1.2 GB and 14 s.
		{name: "locals", wasm: (&Module{Types: []FuncType{noop}, Funcs: many(3000, Func{I32Locals: 50_000})}).Encode(),
			want: "1050000 parameters and locals in all functions, over the limit of 1000000"},
		// 13 KB: 1.5 GB and 9 s.
		{name: "br_table to a loop", wasm: loopBomb(1000, 4001, true),
			want: "function 0: branch cost 4001000 (4001 branch labels × (1000 locals + 0 block values)), over the limit of 500000"},
		{name: "long br_table", wasm: loopBomb(1, 16_385, true),
			want: "function 0: br_table of 16385 labels, over the limit of 16384"},
		// 64 KB: 4 s.
		{name: "br_if to a loop", wasm: loopBomb(1, 16_000, false),
			want: "compile work 1280000008 in all functions (function 0: branches to the same block, nesting), over the limit of 1000000000"},
		// 20 KB: 51 s (with 4000 block values).
		{name: "wide block", wasm: wide(),
			want: "function 0: branch cost 16004000 (4001 branch labels × (0 locals + 4000 block values)), over the limit of 500000"},
		// 98 KB: 10 s.
		{name: "nesting", wasm: nest(16_384),
			want: "compile work 1073807360 in all functions (function 0: branches to the same block, nesting), over the limit of 1000000000"},
		// 1.5 MB; a million types of 4 values took 694 MiB in 7 MB.
		{name: "types", wasm: (&Module{Types: types}).Encode(),
			want: "500001 declarations (types by their width, imports, globals, exports, segments, element items), over the limit of 500000"},
		{name: "functions", wasm: (&Module{Types: []FuncType{noop}, Funcs: many(100_001, Func{})}).Encode(),
			want: "100001 functions, over the limit of 100000"},
		{name: "long function", wasm: (&Module{Types: []FuncType{noop},
			Funcs: []Func{{Body: bytes.Repeat(Ops(I32Const(0), Drop), 1<<20/3+1)}}}).Encode(),
			want: "function 0: body of 1048580 bytes, over the limit of 1048576"},
	}
}

// alternate returns n labels, 0 and 1 in turn.
func alternate(n int) []uint32 {
	l := make([]uint32, n)
	for i := range l {
		l[i] = uint32(i % 2)
	}
	return l
}

// TestLimits: each bomb is refused with an error naming the limit, and a
// module just inside the limit that stopped it is accepted.
func TestLimits(t *testing.T) {
	for _, tc := range bombs() {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Instrument(tc.wasm, Options{Fuel: 1000, Limits: DefaultLimits()})
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("err %v, want ErrLimit", err)
			}
			if want := "over a compile limit: " + tc.want; err.Error() != want {
				t.Errorf("err %q\nwant %q", err, want)
			}
			if _, _, err := Instrument(tc.wasm, Options{Fuel: 1000}); err != nil {
				t.Fatalf("without limits: %v", err)
			}
		})
	}
	t.Run("at the limits", func(t *testing.T) {
		lim := DefaultLimits()
		for _, tc := range []struct {
			name string
			wasm []byte
		}{
			{name: "locals", wasm: (&Module{Types: []FuncType{{}}, Funcs: []Func{{I32Locals: 50_000}, {I32Locals: 50_000}}}).Encode()},
			{name: "br_table", wasm: (&Module{Types: []FuncType{{}}, Funcs: []Func{{Body: Ops(Block, I32Const(0),
				BrTable(0, alternate(lim.BrTableTargets-1)...), End)}}}).Encode()},
		} {
			if _, st, err := Instrument(tc.wasm, Options{Fuel: 1000, Limits: lim}); err != nil {
				t.Errorf("%s: %v (%+v)", tc.name, err, st.Size)
			}
		}
	})
}

// TestTableCap: a table without a maximum gets the cap as its maximum, so
// table.grow past it fails as the spec allows; a larger minimum is refused.
func TestTableCap(t *testing.T) {
	grow := func(min uint32) []byte {
		return (&Module{
			Types:     []FuncType{{Params: []byte{I32}, Results: []byte{I32}}},
			Funcs:     []Func{{Body: Ops(RefNullFunc, LocalGet(0), TableGrow)}},
			TableMin:  min,
			Exports:   []Export{{Name: "grow", Kind: KindFunc}},
			HasMemory: true,
		}).Encode()
	}
	opt := Options{Fuel: 1000, MaxTableElements: 100}
	if _, _, err := Instrument(grow(101), opt); err == nil ||
		err.Error() != "meter: cannot instrument module: table of 101 elements, over the limit of 100" {
		t.Fatalf("table over the cap: err %v", err)
	}
	metered, _, err := Instrument(grow(10), opt)
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := instantiate(t, metered, func(int) int64 { return 1000 })
	for _, tc := range []struct{ n, want uint32 }{{90, 10}, {1, 0xFFFFFFFF}} {
		got, err := call(t, mod, "grow", tc.n)
		if err != nil || got != tc.want {
			t.Errorf("table.grow(%d) = %d, %v; want %d", tc.n, got, err, tc.want)
		}
	}
}

// realModules are the example plugins and the host's C fixtures, when built.
func realModules(t testing.TB) []string {
	var files []string
	for _, g := range []string{"../../../plugins/bin/*.wasm", "../testdata/bin/*.wasm"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no built modules (make plugins; host/plugin/testdata/build.sh)")
		}
		t.Skip("no built modules (make plugins)")
	}
	return files
}

// TestRealModules instruments every module Go and clang produce for this
// project under the default limits, which each stays far below; wazero
// must accept each result.
func TestRealModules(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, f := range realModules(t) {
		wasm, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lim := DefaultLimits()
		out, st, err := Instrument(wasm, Options{Fuel: 1 << 20, Limits: lim})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if st.Functions+st.Loops == 0 {
			t.Errorf("%s: nothing instrumented", f)
		}
		// Far below every limit: a quarter at most.
		sz := st.Size
		for _, q := range []struct {
			what     string
			got, lim int64
		}{
			{"functions", int64(sz.Functions), int64(lim.Functions)},
			{"declarations", int64(sz.Declarations), int64(lim.Declarations)},
			{"function locals", int64(sz.MaxFunctionLocals), int64(lim.FunctionLocals)},
			{"locals", int64(sz.Locals), int64(lim.Locals)},
			{"function bytes", int64(sz.MaxFunctionBytes), int64(lim.FunctionBytes)},
			{"br_table labels", int64(sz.MaxBrTableTargets), int64(lim.BrTableTargets)},
			{"function cost", sz.MaxFunctionCost, lim.FunctionCost},
			{"cost", sz.Cost, lim.Cost},
			{"work", sz.Work, lim.Work},
		} {
			if q.got > q.lim/4 {
				t.Errorf("%s: %s %d, over a quarter of the limit %d", f, q.what, q.got, q.lim)
			}
		}
		c, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Errorf("%s: instrumented module refused: %v", f, err)
			continue
		}
		_ = c.Close(ctx)
	}
}

// FuzzInstrument: no input makes Instrument panic, and a module wazero
// accepts stays acceptable once instrumented (unless over a limit).
func FuzzInstrument(f *testing.F) {
	f.Add(sample())
	f.Add((&Module{}).Encode())
	f.Add((&Module{Types: []FuncType{{}}, Funcs: []Func{{Body: Ops(Loop, Br(0), End)}}}).Encode())
	// Small real modules from clang, when built: mutations of them reach
	// sections the hand-made ones lack.
	for _, name := range []string{"../testdata/bin/nop.wasm", "../testdata/bin/stack.wasm"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, _, err := Instrument(wasm, Options{Fuel: 1000, Limits: DefaultLimits()})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v wraps neither ErrInvalid nor ErrLimit", err)
			}
			return
		}
		// The output first: Instrument bounds every length in it, while
		// wazero given the raw input may preallocate by a declared length
		// (gigabytes) in a section Instrument dropped.
		c, outErr := rt.CompileModule(ctx, out)
		if outErr == nil {
			_ = c.Close(ctx)
			return
		}
		// The input without its name section, which Instrument drops
		// when its lengths are wrong: given those, wazero may allocate
		// gigabytes.
		if c, err := rt.CompileModule(ctx, withoutNames(wasm)); err == nil {
			_ = c.Close(ctx)
			t.Fatalf("valid module refused once instrumented: %v", outErr)
		}
	})
}

// withoutNames returns a module Instrument accepted without its name
// section.
func withoutNames(wasm []byte) []byte {
	out := append([]byte(nil), header...)
	for _, sec := range parse(wasm, Limits{}).sections {
		if sec.id == secCustom {
			r := &reader{b: sec.body}
			if r.name() == "name" {
				continue
			}
		}
		out = appendU32(append(out, sec.id), uint32(len(sec.body)))
		out = append(out, sec.body...)
	}
	return out
}

// BenchmarkInstrument measures the rewrite of the Go meeting-join plugin
// (done once per module version, then cached by the host), beside what
// follows it on a load: wazero compiling the result, in the same run.
//
//	go test -run '^$' -bench BenchmarkInstrument ./host/plugin/meter/
func BenchmarkInstrument(b *testing.B) {
	wasm, err := os.ReadFile("../../../plugins/bin/meetingjoin-go.wasm")
	if err != nil {
		b.Skip("plugins not built (make plugins)")
	}
	out, _, err := Instrument(wasm, Options{Fuel: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx) // no cache: a cold compile
	start := time.Now()
	c, err := rt.CompileModule(ctx, out)
	compile := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	_ = c.Close(ctx)
	_ = rt.Close(ctx)
	b.SetBytes(int64(len(wasm)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Instrument(wasm, Options{Fuel: 1 << 20}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(compile.Milliseconds()), "compile_ms")
	b.ReportMetric(float64(per)/float64(compile), "instrument/compile")
}
