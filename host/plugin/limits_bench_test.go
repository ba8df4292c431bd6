package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	w "github.com/wasmvoice/mediaserver/host/plugin/internal/wasmasm"
	"github.com/wasmvoice/mediaserver/host/plugin/meter"
)

// limitReactor is an ABI v1 reactor of 1 page whose handle_event answers
// {} and which also defines funcs (all of type () -> (), types[0]);
// types are extra function types after the two it needs.
func limitReactor(funcs []w.Func, types ...w.FuncType) []byte {
	i32 := byte(w.I32)
	all := append([]w.Func{
		{Type: 0}, // the marker
		{Type: 1, Body: w.Ops(w.I32Const(0), w.I32Const(0x7D7B), w.I32Store(0), // "{}" at 0
			w.I32Const(0), w.I32Const(2), w.Call(0), w.Drop, w.I32Const(0))},
	}, funcs...)
	return (&w.Module{
		Types: append([]w.FuncType{{}, {Params: []byte{i32}, Results: []byte{i32}}, {Params: []byte{i32, i32}, Results: []byte{i32}}},
			types...),
		Imports:   []w.Import{{Module: abi.ImportModule, Name: abi.FuncResponseWrite, Type: 2}},
		Funcs:     all,
		HasMemory: true,
		MemoryMin: 1,
		Exports: []w.Export{
			{Name: abi.ExportMemory, Kind: w.KindMemory},
			{Name: abi.ExportVersionV1, Kind: w.KindFunc, Index: 1},
			{Name: abi.ExportHandleEvent, Kind: w.KindFunc, Index: 2},
		},
	}).Encode()
}

// limitModules are the costliest modules of each kind that the compile
// limits (meter.DefaultLimits) let through, and a real one.
func limitModules(b *testing.B) []struct {
	name, note string
	wasm       []byte
} {
	lim := meter.DefaultLimits()
	noop := func(n int) []w.Func { return make([]w.Func, n) }
	// loop: a loop reading and writing each of its locals, left by labels
	// branches (one br_table, or one br_if each).
	loop := func(locals uint32, labels int, brTable bool) w.Func {
		body := w.Loop
		for i := range locals {
			body = w.Ops(body, w.LocalGet(i), w.I32Const(1), w.I32Add, w.LocalSet(i))
		}
		if brTable {
			body = w.Ops(body, w.I32Const(0), w.BrTable(0, make([]uint32, labels-1)...))
		} else {
			for range labels {
				body = w.Ops(body, w.I32Const(0), w.BrIf(0))
			}
		}
		return w.Func{I32Locals: locals, Body: w.Ops(body, w.End)}
	}
	nest := func(depth int) w.Func {
		return w.Func{Body: w.Ops(bytes.Repeat(w.Block, depth), bytes.Repeat(w.End, depth))}
	}
	// ordinary: a function of 8 locals and 6 branches, about 320 bytes,
	// as compilers make them; 100,000 of them fill 32 MiB.
	ordinary := func() w.Func {
		body := w.Ops(w.Block, w.Loop)
		for i := range 5 {
			for j := range uint32(8) {
				body = w.Ops(body, w.LocalGet(j), w.LocalGet((j+1)%8), w.I32Add, w.LocalSet(j))
			}
			body = w.Ops(body, w.LocalGet(uint32(i)), w.BrIf(1))
		}
		return w.Func{I32Locals: 8, Body: w.Ops(body, w.Br(0), w.End, w.End)}
	}
	locals := noop(20)
	for i := range locals {
		locals[i].I32Locals = 50_000
	}
	locals[19].I32Locals = 49_999       // handle_event's parameter counts too
	types := make([]w.FuncType, 62_000) // 8 declarations each
	for i := range types {
		types[i] = w.FuncType{Params: []byte{w.I32, byte(0x7C + i%4), byte(0x7C + i/4%4), byte(0x7C + i/16%4)},
			Results: []byte{byte(0x7C + i/64%4), byte(0x7C + i/256%4), byte(0x7C + i/1024%4)}}
	}
	big := noop(lim.Functions - 3)
	for i := range big {
		big[i] = ordinary()
	}
	goWasm, err := os.ReadFile("../../plugins/bin/meetingjoin-go.wasm")
	if err != nil {
		b.Skipf("plugins not built (make plugins): %v", err)
	}
	return []struct {
		name, note string
		wasm       []byte
	}{
		{"meetingjoin-go", "a real Go 1.26 plugin", goWasm},
		{"32 MiB of code", "99,997 ordinary functions", limitReactor(big)},
		{"branch cost", "700 locals, a br_table of 700 labels to a loop", limitReactor([]w.Func{loop(700, 700, true)})},
		{"compile work", "14,000 br_if to a loop", limitReactor([]w.Func{loop(1, 14_000, false)})},
		{"nesting", "15,800 nested blocks", limitReactor([]w.Func{nest(15_800)})},
		{"locals", "1,000,000 locals in 20 functions", limitReactor(locals)},
		{"types", "62,000 types of 7 values", limitReactor(nil, types...)},
		{"globals", "124,000 globals", globalsReactor(124_000)},
	}
}

// globalsReactor is limitReactor with n mutable i32 globals.
func globalsReactor(n int) []byte {
	base := limitReactor(nil)
	g := w.U32(nil, uint32(n))
	for range n {
		g = append(g, w.I32, 1, 0x41, 0, 0x0B)
	}
	// The global section (6) goes before the export section (7).
	i := exportSection(base)
	out := append([]byte(nil), base[:i]...)
	out = append(w.U32(append(out, 6), uint32(len(g))), g...)
	return append(out, base[i:]...)
}

// exportSection returns the offset of the export section of a module.
func exportSection(wasm []byte) int {
	off := 8
	for off < len(wasm) {
		id := wasm[off]
		n, l := uint32(0), 0
		for shift := 0; ; shift += 7 {
			c := wasm[off+1+l]
			n |= uint32(c&0x7F) << shift
			l++
			if c&0x80 == 0 {
				break
			}
		}
		if id == 7 {
			return off
		}
		off += 1 + l + int(n)
	}
	return len(wasm)
}

// rss reads a line (VmRSS, VmHWM) of /proc/self/status in bytes.
func rss(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// BenchmarkUploadToLive measures, for the costliest modules the compile
// limits allow (and a real Go plugin beside them), what an upload costs
// until the version serves: Check (instrument, compile), Load (the first
// instance, the compiled code from the cache directory, as on the server)
// and the first event; and
// the peak memory that took above what the process held before (Linux:
// the peak RSS is reset through /proc/self/clear_refs). It runs with
// MEDIASERVER_BENCH=1 and measures once whatever b.N is:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkUploadToLive -benchtime 1x -v ./host/plugin/
func BenchmarkUploadToLive(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("set MEDIASERVER_BENCH=1 (make bench) to measure uploads")
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\n%-16s %-48s %10s %10s %10s %12s\n", "module", "", "size", "check", "live", "peak memory")
	for _, m := range limitModules(b) {
		runtime.GC()
		debug.FreeOSMemory()
		before := rss("VmRSS")
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		r := newRuntime(b, Config{CacheDir: b.TempDir()}) // cold, as the server's after an upload
		start := time.Now()
		if _, err := r.Check(context.Background(), m.wasm); err != nil {
			b.Fatalf("%s: %v", m.name, err)
		}
		check := time.Since(start)
		p, err := r.Load(context.Background(), "bench", "limits", m.wasm, &Limits{Deadline: time.Minute, InitDeadline: time.Minute})
		if err != nil {
			b.Fatalf("%s: %v", m.name, err)
		}
		if _, err := p.Invoke(context.Background(), testEvent(1)); err != nil {
			b.Fatalf("%s: first event: %v", m.name, err)
		}
		live := time.Since(start)
		peak := rss("VmHWM") - before
		_ = p.Close(context.Background())
		_ = r.Close(context.Background())
		fmt.Fprintf(&t, "%-16s %-48s %9.1fK %9dms %9dms %10dMiB\n", m.name, "("+m.note+")", float64(len(m.wasm))/1024,
			check.Milliseconds(), live.Milliseconds(), peak>>20)
		unit := strings.ReplaceAll(m.name, " ", "_")
		b.ReportMetric(float64(live.Milliseconds()), unit+"_live_ms")
		b.ReportMetric(float64(peak>>20), unit+"_peak_MiB")
	}
	fmt.Fprintf(&t, "(check: Runtime.Check; live: check, Load and the first event; peak: VmHWM above the RSS before; GOMAXPROCS=%d)",
		runtime.GOMAXPROCS(0))
	b.Log(t.String())
}

// BenchmarkHostCallCharge measures the event latency of the example
// plugins with the host-call checks (the charge of every host call, the
// deadline check before each kv call, the WASI wrappers) on and off,
// side by side in one run, in runs of 500 events taking turns. It runs
// with MEDIASERVER_BENCH=1 and measures once whatever b.N is:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkHostCallCharge -benchtime 1x -v ./host/plugin/
//
// MEDIASERVER_BENCH_N sets the invocations per handler and event (default 20000).
func BenchmarkHostCallCharge(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("set MEDIASERVER_BENCH=1 (make bench) to measure the host-call checks")
	}
	n := 20000
	if s := os.Getenv("MEDIASERVER_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("MEDIASERVER_BENCH_N=%q", s)
		}
		n = v
	}
	cache := b.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	type handler struct {
		name string
		on   bool
		h    Handler
	}
	var hs []handler
	for _, on := range []bool{false, true} {
		r := newRuntime(b, Config{CacheDir: cache, KV: newMemKV()})
		r.noHostCharge = !on
		for _, name := range []string{"nop", "meetingjoin-c", "meetingjoin-go"} {
			var wasm []byte
			if name == "nop" {
				wasm = fixture(b, "nop")
			} else {
				wasm = exampleWasm(b, name)
			}
			hs = append(hs, handler{name: name, on: on, h: benchLoad(b, r, name, wasm)})
		}
	}
	ctx := context.Background()
	var t strings.Builder
	fmt.Fprintf(&t, "\n%-32s %-16s %10s %10s %10s %10s %8s\n", "event", "handler", "off p50", "on p50", "off p99", "on p99", "on/off")
	const block = 500
	for _, ev := range benchEvents(b) {
		if ev.note != "" && !ev.memKV {
			continue // the durable store's row measures the disk
		}
		samples := make([][]time.Duration, len(hs))
		for i, h := range hs {
			samples[i] = make([]time.Duration, n)
			for range 200 {
				if _, err := h.h.Invoke(ctx, ev.event); err != nil {
					b.Fatalf("%s %s: %v", h.name, ev.name, err)
				}
			}
		}
		for j := 0; j < n; j += block {
			for i, h := range hs {
				for k := j; k < min(j+block, n); k++ {
					start := time.Now()
					if _, err := h.h.Invoke(ctx, ev.event); err != nil {
						b.Fatalf("%s %s: %v", h.name, ev.name, err)
					}
					samples[i][k] = time.Since(start)
				}
			}
		}
		half := len(hs) / 2
		for i := range half {
			off, on := samples[i], samples[half+i]
			slices.Sort(off)
			slices.Sort(on)
			ratio := float64(on[n/2]) / float64(off[n/2])
			fmt.Fprintf(&t, "%-32s %-16s %10v %10v %10v %10v %7.3fx\n", ev.name, hs[i].name, off[n/2], on[n/2], off[n*99/100], on[n*99/100], ratio)
			b.ReportMetric(ratio, ev.name[:3]+"_"+hs[i].name+"_on/off")
		}
	}
	fmt.Fprintf(&t, "(%d warm invocations per handler and event in runs of %d; KV in memory; GOMAXPROCS=%d)", n, block, runtime.GOMAXPROCS(0))
	b.Log(t.String())
}
