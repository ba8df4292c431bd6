// Package plugin runs call handlers: sandboxed WebAssembly modules (wazero)
// speaking ABI v1 (see abi/names.go), WASI command modules in a
// compatibility mode, and HTTP webhooks. Each receives one event JSON and
// returns one response JSON through the same Handler interface.
//
// A loaded reactor plugin keeps a bounded pool of warm instances; every event
// leases one instance for its duration, under a deadline and a memory cap.
// Any failure discards the instance, so a hostile or buggy module cannot
// leave corrupted state behind for the next event.
package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/plugin/meter"
)

// Handler turns one event JSON into one response JSON.
type Handler interface {
	// Invoke runs the handler for one event. On error the *Result, when not
	// nil, still carries the logs the handler produced before failing.
	Invoke(ctx context.Context, event []byte) (*Result, error)
	Close(ctx context.Context) error
}

// Result is the outcome of one successful invocation.
type Result struct {
	Response []byte    // a JSON object
	Logs     []LogLine // capped by Limits.LogMaxLines / LogMaxBytes
}

// LogLine is one line the plugin logged.
type LogLine struct {
	Level  int32  // abi.LogDebug … abi.LogError
	Stream string // "log" (the log host function), "stdout" or "stderr"
	Text   string
}

// Log streams.
const (
	StreamLog    = "log"
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// Limits bound what one plugin may use. A zero field takes the default.
type Limits struct {
	ModuleMaxBytes   int           // size of the .wasm file (32 MiB)
	MemoryMaxPages   uint32        // linear memory cap in 64 KiB pages (1024 = 64 MiB)
	Deadline         time.Duration // per event (50 ms)
	InitDeadline     time.Duration // instantiation and _initialize (2 s): Go guests start slowly
	QueueTimeout     time.Duration // longest wait for a free instance (1 s)
	EventMaxBytes    int           // 256 KiB
	ResponseMaxBytes int           // 256 KiB
	LogMaxLines      int           // per event (64)
	LogMaxBytes      int           // per event (16 KiB)
	PoolSize         int           // warm instances per plugin (GOMAXPROCS, at least 2)
	RecycleAfter     int           // events per instance before it is replaced (10000)
}

// DefaultLimits returns the defaults.
func DefaultLimits() Limits {
	return Limits{
		ModuleMaxBytes:   32 << 20,
		MemoryMaxPages:   1024,
		Deadline:         50 * time.Millisecond,
		InitDeadline:     2 * time.Second,
		QueueTimeout:     time.Second,
		EventMaxBytes:    256 << 10,
		ResponseMaxBytes: 256 << 10,
		LogMaxLines:      64,
		LogMaxBytes:      16 << 10,
		PoolSize:         max(2, runtime.GOMAXPROCS(0)),
		RecycleAfter:     10000,
	}
}

// withDefaults fills the zero fields of l from d.
func (l Limits) withDefaults(d Limits) Limits {
	set := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	setD := func(v *time.Duration, dv time.Duration) {
		if *v <= 0 {
			*v = dv
		}
	}
	set(&l.ModuleMaxBytes, d.ModuleMaxBytes)
	if l.MemoryMaxPages == 0 {
		l.MemoryMaxPages = d.MemoryMaxPages
	}
	l.MemoryMaxPages = min(l.MemoryMaxPages, 65536)
	setD(&l.Deadline, d.Deadline)
	setD(&l.InitDeadline, d.InitDeadline)
	setD(&l.QueueTimeout, d.QueueTimeout)
	set(&l.EventMaxBytes, d.EventMaxBytes)
	set(&l.ResponseMaxBytes, d.ResponseMaxBytes)
	set(&l.LogMaxLines, d.LogMaxLines)
	set(&l.LogMaxBytes, d.LogMaxBytes)
	set(&l.PoolSize, d.PoolSize)
	set(&l.RecycleAfter, d.RecycleAfter)
	return l
}

// KVStore is the tenant-scoped store behind the kv_* host functions;
// *kv.Store satisfies it. Errors wrapping kv.ErrKeyTooLarge,
// kv.ErrValueTooLarge or kv.ErrEmptyKey become ErrCodeTooLarge, and
// kv.ErrQuotaExceeded ErrCodeQuota.
type KVStore interface {
	Get(tenant, key string) ([]byte, bool, error)
	Set(tenant, key string, val []byte) error
	Delete(tenant, key string) (bool, error)
}

// kvLimits is implemented by a KVStore (*kv.Store) that says its largest
// key and value; otherwise kv's defaults are assumed.
type kvLimits interface {
	MaxKeyBytes() int
	MaxValueBytes() int
}

// Config configures a Runtime.
type Config struct {
	// CacheDir holds wazero's compilation cache; it should be private to
	// this server (compiled code is trusted when read back). Empty keeps the
	// cache in memory.
	CacheDir string
	KV       KVStore      // nil: kv_* return ErrCodeUnavailable
	Logger   *slog.Logger // nil: discard
	Defaults Limits       // zero fields take DefaultLimits
	// MaxCompiles bounds the modules compiled at once, by Check and Load
	// together: compiling the largest module the limits allow takes a
	// core for seconds and a few hundred MiB. Default max(1, GOMAXPROCS/2).
	MaxCompiles int
	// CompileQueueTimeout bounds the wait for a compile slot (default
	// 10 s); past it Check and Load fail with ErrBusy.
	CompileQueueTimeout time.Duration
}

// Runtime compiles and loads plugins. It is safe for concurrent use.
type Runtime struct {
	cfg      Config
	defaults Limits
	log      *slog.Logger
	cache    wazero.CompilationCache

	// compiles holds a token per module being compiled (MaxCompiles).
	compiles     chan struct{}
	compileQueue time.Duration

	// kvMaxKey and kvMaxValue are the store's limits, checked before a
	// key or value is read from guest memory.
	kvMaxKey, kvMaxValue int
	// noHostCharge turns off the charging and checks of host calls (and
	// the WASI wrappers), for the benchmark that measures their cost.
	noHostCharge bool

	// check is a runtime without a memory cap of its own, used by Check.
	check    wazero.Runtime
	hostDefs map[string]api.FunctionDefinition
	wasiDefs map[string]api.FunctionDefinition

	mu      sync.Mutex
	plugins map[*Plugin]struct{}
	closed  bool
}

// NewRuntime creates a runtime.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	r := &Runtime{
		cfg:      cfg,
		defaults: cfg.Defaults.withDefaults(DefaultLimits()),
		log:      cfg.Logger,
		plugins:  map[*Plugin]struct{}{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	n := cfg.MaxCompiles
	if n <= 0 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	r.compiles = make(chan struct{}, n)
	r.compileQueue = cfg.CompileQueueTimeout
	if r.compileQueue <= 0 {
		r.compileQueue = 10 * time.Second
	}
	r.kvMaxKey, r.kvMaxValue = kv.DefaultMaxKeyBytes, kv.DefaultMaxValueBytes
	if l, ok := cfg.KV.(kvLimits); ok {
		r.kvMaxKey, r.kvMaxValue = l.MaxKeyBytes(), l.MaxValueBytes()
	}
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("plugin: cache dir: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugin: cache dir: %w", err)
		}
		r.cache = c
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	r.check = wazero.NewRuntimeWithConfig(ctx, r.runtimeConfig(65536))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.check); err != nil {
		return nil, fmt.Errorf("plugin: wasi: %w", err)
	}
	if err := instantiateHost(ctx, r.check, nil); err != nil {
		return nil, fmt.Errorf("plugin: host module: %w", err)
	}
	r.wasiDefs = r.check.Module(abi.WASIModule).ExportedFunctionDefinitions()
	r.hostDefs = r.check.Module(abi.ImportModule).ExportedFunctionDefinitions()
	return r, nil
}

func (r *Runtime) runtimeConfig(memPages uint32) wazero.RuntimeConfig {
	return wazero.NewRuntimeConfig().
		WithCompilationCache(r.cache).
		WithMemoryLimitPages(memPages)
}

// Close closes every loaded plugin and the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	plugins := r.plugins
	r.plugins = nil
	r.mu.Unlock()
	for p := range plugins {
		_ = p.Close(ctx)
	}
	err := r.check.Close(ctx)
	if cerr := r.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// Defaults returns the runtime's default limits.
func (r *Runtime) Defaults() Limits { return r.defaults }

// Mode is how a module is driven.
type Mode string

// Modes.
const (
	ModeReactor Mode = "reactor" // ABI v1: warm instances, handle_event per event
	ModeCommand Mode = "command" // WASI command: a fresh instance per event, stdin → stdout
)

// ModuleInfo describes a checked module.
type ModuleInfo struct {
	Mode       Mode
	ABIVersion int      // 1 for reactor modules, 0 for command modules
	Exports    []string // e.g. "handle_event(i32) -> i32", "memory (memory)"
	Imports    []string // e.g. "mediaserver.log(i32, i32, i32)"
	Size       int
	// MemoryMinPages and MemoryMaxPages are the exported memory's limits;
	// MemoryMaxDeclared is false when the module sets no maximum (the
	// host's cap then applies).
	MemoryMinPages    uint32
	MemoryMaxPages    uint32
	MemoryMaxDeclared bool
	SHA256            string // hex
}

// Check validates a module against the default limits without
// instantiating it. The error is an *Error of KindInvalidModule.
func (r *Runtime) Check(ctx context.Context, wasm []byte) (*ModuleInfo, error) {
	info, compiled, err := r.compile(ctx, r.check, "", "", wasm, r.defaults)
	if err != nil {
		return nil, err
	}
	_ = compiled.Close(ctx)
	return info, nil
}

func (r *Runtime) compile(ctx context.Context, rt wazero.Runtime, tenant, name string, wasm []byte, lim Limits) (*ModuleInfo, wazero.CompiledModule, error) {
	bad := func(format string, args ...any) error {
		return newError(KindInvalidModule, tenant, name, ": "+format, args...)
	}
	if len(wasm) > lim.ModuleMaxBytes {
		return nil, nil, bad("module is %d bytes, over the limit of %d", len(wasm), lim.ModuleMaxBytes)
	}
	if err := r.acquireCompile(ctx, tenant, name); err != nil {
		return nil, nil, err
	}
	defer func() { <-r.compiles }()
	// Deadlines are enforced by instrumentation, not by wazero's
	// WithCloseOnContextDone (see RATIONALE.md).
	metered, err := r.metered(wasm)
	if err != nil {
		return nil, nil, bad("%v", err)
	}
	compiled, err := rt.CompileModule(ctx, metered)
	if err != nil {
		return nil, nil, bad("%v", err)
	}
	info, err := r.inspect(compiled, wasm, lim)
	if err != nil {
		_ = compiled.Close(ctx)
		return nil, nil, bad("%s", err)
	}
	return info, compiled, nil
}

// acquireCompile waits for a compile slot, at most CompileQueueTimeout.
// A caller already gone gets none.
func (r *Runtime) acquireCompile(ctx context.Context, tenant, name string) error {
	if ctx.Err() != nil {
		return newError(KindTimeout, tenant, name, " waiting to compile: %v", context.Cause(ctx))
	}
	select {
	case r.compiles <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(r.compileQueue)
	defer timer.Stop()
	select {
	case r.compiles <- struct{}{}:
		return nil
	case <-ctx.Done():
		return newError(KindTimeout, tenant, name, " waiting to compile: %v", context.Cause(ctx))
	case <-timer.C:
		return newError(KindBusy, tenant, name, ": %d modules are being compiled and none finished within %v; retry later",
			cap(r.compiles), r.compileQueue)
	}
}

// meterOptions are the instrumentation's settings, the compile limits
// included; meterKey names them in the cache, with the rewrite's version,
// so a module cached under other limits is measured again.
var (
	meterOptions = meter.Options{Fuel: fuelPerTick, MaxTableElements: maxTableElements, Limits: meter.DefaultLimits()}
	meterKey     = fmt.Sprintf("v%d-f%d-t%d-l%s", meter.Version, meterOptions.Fuel, meterOptions.MaxTableElements, limitsKey(meterOptions.Limits))
)

// limitsKey is a short digest of the compile limits.
func limitsKey(l meter.Limits) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%+v", l))
	return hex.EncodeToString(sum[:4])
}

// metered instruments wasm (package meter), through a cache beside
// wazero's when the runtime has a cache directory: the rewrite of a Go
// module takes tens of milliseconds, which a restart would otherwise pay
// per plugin. Like compiled code, the cache is trusted when read back.
func (r *Runtime) metered(wasm []byte) ([]byte, error) {
	var path string
	if r.cfg.CacheDir != "" {
		sum := sha256.Sum256(wasm)
		path = filepath.Join(r.cfg.CacheDir, "metered", hex.EncodeToString(sum[:])+"-"+meterKey+".wasm")
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	out, _, err := meter.Instrument(wasm, meterOptions)
	if err != nil || path == "" {
		return out, err
	}
	if err := writeFileAtomic(path, out); err != nil {
		r.log.Warn("plugin: caching an instrumented module", "err", err) // only slower next time
	}
	return out, nil
}

// writeFileAtomic writes b to path through a temporary file and a rename,
// so a reader never sees part of it.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// inspect applies the ABI rules to a compiled module.
func (r *Runtime) inspect(c wazero.CompiledModule, wasm []byte, lim Limits) (*ModuleInfo, error) {
	sum := sha256.Sum256(wasm)
	info := &ModuleInfo{Size: len(wasm), SHA256: hex.EncodeToString(sum[:])}

	for _, m := range c.ImportedMemories() {
		mod, n, _ := m.Import()
		return nil, fmt.Errorf("imports memory %q.%q: a plugin must define its own memory", mod, n)
	}
	for _, f := range c.ImportedFunctions() {
		mod, n, _ := f.Import()
		if mod == meter.ImportModule { // added by meter.Instrument
			continue
		}
		if desc := mod + "." + n + signature(f); !slices.Contains(info.Imports, desc) {
			info.Imports = append(info.Imports, desc) // Go's linker may import a function twice
		}
		var known map[string]api.FunctionDefinition
		switch mod {
		case abi.ImportModule:
			known = r.hostDefs
		case abi.WASIModule:
			known = r.wasiDefs
		default:
			return nil, fmt.Errorf("import %q.%q: unknown module %q (allowed: %q, %q)", mod, n, mod, abi.ImportModule, abi.WASIModule)
		}
		want, ok := known[n]
		if !ok {
			return nil, fmt.Errorf("import %q.%q: no such function in %q", mod, n, mod)
		}
		if signature(f) != signature(want) {
			return nil, fmt.Errorf("import %q.%q: signature %s, want %s", mod, n, signature(f), signature(want))
		}
	}

	exports := c.ExportedFunctions()
	for n, f := range exports {
		info.Exports = append(info.Exports, n+signature(f))
	}
	mems := c.ExportedMemories()
	for n := range mems {
		info.Exports = append(info.Exports, n+" (memory)")
	}
	slices.Sort(info.Exports)

	mem, ok := mems[abi.ExportMemory]
	if !ok {
		return nil, fmt.Errorf("no %q export", abi.ExportMemory)
	}
	info.MemoryMinPages = mem.Min()
	info.MemoryMaxPages, info.MemoryMaxDeclared = mem.Max()
	if info.MemoryMinPages > lim.MemoryMaxPages {
		return nil, fmt.Errorf("memory minimum %d pages over the limit of %d", info.MemoryMinPages, lim.MemoryMaxPages)
	}
	if info.MemoryMaxDeclared && info.MemoryMaxPages > lim.MemoryMaxPages {
		// wazero refuses such a module under a cap rather than lowering its maximum.
		return nil, fmt.Errorf("memory maximum %d pages over the limit of %d", info.MemoryMaxPages, lim.MemoryMaxPages)
	}

	_, marker := exports[abi.ExportVersionV1]
	_, start := exports[abi.ExportStart]
	switch {
	case marker:
		info.Mode, info.ABIVersion = ModeReactor, abi.Version
		h, ok := exports[abi.ExportHandleEvent]
		if !ok {
			return nil, fmt.Errorf("no %q export", abi.ExportHandleEvent)
		}
		if got, want := signature(h), "(i32) -> i32"; got != want {
			return nil, fmt.Errorf("export %q: signature %s, want %s", abi.ExportHandleEvent, got, want)
		}
		if init, ok := exports[abi.ExportInitialize]; ok && signature(init) != "()" {
			return nil, fmt.Errorf("export %q: signature %s, want ()", abi.ExportInitialize, signature(init))
		}
	case start:
		info.Mode = ModeCommand
	default:
		return nil, fmt.Errorf("no %q export (ABI v1) and no %q export (WASI command)", abi.ExportVersionV1, abi.ExportStart)
	}
	return info, nil
}

func signature(f api.FunctionDefinition) string {
	s := "(" + typeList(f.ParamTypes()) + ")"
	if res := f.ResultTypes(); len(res) > 0 {
		s += " -> " + typeList(res)
	}
	return s
}

func typeList(ts []api.ValueType) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(t)
	}
	return s
}
