package plugin

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmvoice/mediaserver/abi"
)

// Plugin is a loaded module of one tenant. It implements Handler and is safe
// for concurrent use.
type Plugin struct {
	rt       *Runtime
	tenant   string
	name     string
	lim      Limits
	info     *ModuleInfo
	wrt      wazero.Runtime // one per plugin: the memory cap is a runtime setting, and tenants never share a namespace
	compiled wazero.CompiledModule

	base      time.Time      // monotonic origin of instance deadlines
	idle      chan *instance // warm reactor instances
	slots     chan struct{}  // one token per live instance: bounds the pool
	instances sync.Map       // module name → *instance, for the host functions
	seq       atomic.Uint64
	closed    atomic.Bool

	invocations atomic.Uint64
	errs        [numKinds]atomic.Uint64
	live        atomic.Int64
}

var _ Handler = (*Plugin)(nil)

// instance is one module instance and the state of the event it is running.
// Only the goroutine holding the lease touches it, and the host functions run
// on that goroutine, so it needs no lock.
type instance struct {
	p      *Plugin
	name   string
	lim    *Limits
	mod    api.Module
	handle api.Function
	stack  []uint64
	events int

	// Deadline enforcement (see RATIONALE.md): the module is instrumented
	// (package meter) to call the tick host function every so many
	// instructions, on this goroutine; tick compares the clock with
	// deadline and stops the guest by trapping, recording why in stopped.
	deadline time.Duration // since p.base, of the running guest call
	budget   time.Duration // the call's allowance, for the error message
	initing  bool          // the call instantiates the module or runs _initialize
	stopped  *Error        // set by tick when it stops the call
	// The host calls' own fuel (see charge) and the running call's
	// context, for the checks of host calls that get none (stdout,
	// stderr, the random source).
	hostFuel int64
	ctx      context.Context
	// initLogs are the lines the instance logged while it started; they
	// go out with its first event.
	initLogs []LogLine

	active       bool // inside handle_event: host functions are allowed
	event        []byte
	resp         []byte
	respWritten  bool
	respTooLarge bool
	logs         logCollector
	stdout       lineWriter
	stderr       lineWriter
}

// Load checks and compiles a module and returns it ready to serve. lim nil
// means the runtime's defaults; zero fields of lim take them too. A reactor
// plugin gets one warm instance at once, so a module whose _initialize fails
// is refused here rather than on the first call.
func (r *Runtime) Load(ctx context.Context, tenant, name string, wasm []byte, lim *Limits) (*Plugin, error) {
	l := r.defaults
	if lim != nil {
		l = lim.withDefaults(r.defaults)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, newError(KindClosed, tenant, name, ": runtime closed")
	}
	p := &Plugin{
		rt:     r,
		tenant: tenant,
		name:   name,
		lim:    l,
		base:   time.Now(),
		idle:   make(chan *instance, l.PoolSize),
		slots:  make(chan struct{}, l.PoolSize),
	}
	p.wrt = wazero.NewRuntimeWithConfig(ctx, r.runtimeConfig(l.MemoryMaxPages))
	if err := instantiateWASI(ctx, p.wrt, p, r.wasiDefs); err != nil {
		_ = p.wrt.Close(ctx)
		return nil, newError(KindInvalidModule, tenant, name, ": wasi: %v", err)
	}
	if err := instantiateHost(ctx, p.wrt, p); err != nil {
		_ = p.wrt.Close(ctx)
		return nil, newError(KindInvalidModule, tenant, name, ": host module: %v", err)
	}
	info, compiled, err := r.compile(ctx, p.wrt, tenant, name, wasm, l)
	if err != nil {
		_ = p.wrt.Close(ctx)
		return nil, err
	}
	p.info, p.compiled = info, compiled
	if info.Mode == ModeReactor {
		inst, err := p.lease(ctx)
		if err != nil {
			_ = p.wrt.Close(ctx)
			return nil, err
		}
		p.release(inst)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = p.wrt.Close(ctx)
		return nil, newError(KindClosed, tenant, name, ": runtime closed")
	}
	r.plugins[p] = struct{}{}
	return p, nil
}

// Info describes the module.
func (p *Plugin) Info() ModuleInfo { return *p.info }

// Limits returns the effective limits.
func (p *Plugin) Limits() Limits { return p.lim }

// Close discards every instance. Invocations in flight fail with ErrClosed.
func (p *Plugin) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	p.rt.mu.Lock()
	delete(p.rt.plugins, p)
	p.rt.mu.Unlock()
	return p.wrt.Close(ctx)
}

// Stats is a snapshot of a plugin's counters.
type Stats struct {
	Live        int // instances alive (idle or leased)
	Idle        int
	Invocations uint64
	Errors      map[Kind]uint64
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	s := Stats{Live: int(p.live.Load()), Idle: len(p.idle), Invocations: p.invocations.Load(), Errors: map[Kind]uint64{}}
	for k := Kind(1); k < numKinds; k++ {
		if n := p.errs[k].Load(); n > 0 {
			s.Errors[k] = n
		}
	}
	return s
}

func (p *Plugin) fail(kind Kind, format string, args ...any) *Error {
	p.errs[kind].Add(1)
	return newError(kind, p.tenant, p.name, format, args...)
}

// Invoke runs the plugin for one event.
func (p *Plugin) Invoke(ctx context.Context, event []byte) (*Result, error) {
	p.invocations.Add(1)
	if p.closed.Load() {
		return nil, p.fail(KindClosed, "")
	}
	if len(event) > p.lim.EventMaxBytes {
		return nil, p.fail(KindEventTooLarge, ": %d bytes, over the limit of %d", len(event), p.lim.EventMaxBytes)
	}
	if p.info.Mode == ModeCommand {
		return p.invokeCommand(ctx, event)
	}
	if err := ctx.Err(); err != nil {
		return nil, p.fail(KindTimeout, ": %v", context.Cause(ctx))
	}
	inst, err := p.lease(ctx)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && len(e.Logs) > 0 {
			return &Result{Logs: e.Logs}, err
		}
		return nil, err
	}
	inst.begin(event)
	callErr := inst.call(ctx, len(event))
	res, resp := inst.end()
	e := p.outcome(ctx, inst, callErr, api.DecodeI32(inst.stack[0]), resp)
	if e != nil {
		p.discard(inst)
		return res, e
	}
	res.Response = resp
	inst.events++
	p.release(inst)
	return res, nil
}

// call runs handle_event under the plugin's deadline and the caller's ctx.
func (inst *instance) call(ctx context.Context, eventLen int) error {
	inst.arm(ctx, inst.p.lim.Deadline, false)
	inst.stack[0] = uint64(eventLen)
	return inst.handle.CallWithStack(ctx, inst.stack)
}

// arm sets the deadline of the guest call about to start.
func (inst *instance) arm(ctx context.Context, d time.Duration, initing bool) {
	inst.deadline = time.Since(inst.p.base) + d
	inst.budget, inst.initing = d, initing
	inst.stopped = nil
	inst.hostFuel = fuelPerTick
	inst.ctx = ctx
}

// overdue is tick's test: whether the running guest call must stop, and
// why. It runs on the goroutine of the call, every fuelPerTick
// instructions or so.
func (inst *instance) overdue(ctx context.Context) *Error {
	p := inst.p
	switch {
	case p.closed.Load():
		return p.fail(KindClosed, "")
	case ctx.Err() != nil:
		return p.fail(KindTimeout, ": %v", context.Cause(ctx))
	case time.Since(p.base) <= inst.deadline:
		return nil
	case inst.initing:
		return p.fail(KindTimeout, ": instantiation took over %v", inst.budget)
	default:
		return p.fail(KindTimeout, " after %v", inst.budget)
	}
}

func (inst *instance) begin(event []byte) {
	inst.event = event
	inst.resp, inst.respWritten, inst.respTooLarge = nil, false, false
	inst.active = true
}

// end closes the event and returns its logs and response.
func (inst *instance) end() (*Result, []byte) {
	inst.active = false
	inst.stdout.flush()
	inst.stderr.flush()
	resp := inst.resp
	inst.event, inst.resp = nil, nil
	logs := inst.logs.take()
	if inst.initLogs != nil {
		logs = append(inst.initLogs, logs...)
		inst.initLogs = nil
	}
	return &Result{Logs: logs}, resp
}

// outcome classifies the end of one handle_event (or _start) call.
func (p *Plugin) outcome(ctx context.Context, inst *instance, callErr error, code int32, resp []byte) *Error {
	if callErr != nil {
		if inst.stopped != nil {
			return inst.stopped
		}
		if p.closed.Load() {
			return p.fail(KindClosed, "")
		}
		var exit *sys.ExitError
		if errors.As(callErr, &exit) {
			switch exit.ExitCode() {
			case sys.ExitCodeDeadlineExceeded:
				if ctx.Err() != nil {
					return p.fail(KindTimeout, ": %v", context.Cause(ctx))
				}
				return p.fail(KindTimeout, " after %v", p.lim.Deadline)
			case sys.ExitCodeContextCanceled:
				return p.fail(KindTimeout, ": %v", context.Cause(ctx))
			}
			if inst.nearMemoryCap() {
				return p.fail(KindMemoryLimit, " of %s: exited with code %d", inst.memoryCapText(), exit.ExitCode())
			}
			return p.fail(KindTrap, ": exited with code %d", exit.ExitCode())
		}
		if errors.Is(callErr, context.DeadlineExceeded) || errors.Is(callErr, context.Canceled) {
			return p.fail(KindTimeout, ": %v", callErr)
		}
		msg, _, _ := strings.Cut(callErr.Error(), "\n") // drop wazero's stack trace
		p.rt.log.Debug("plugin trapped", "tenant", p.tenant, "plugin", p.name, "err", callErr)
		if inst.nearMemoryCap() {
			return p.fail(KindMemoryLimit, " of %s: %s", inst.memoryCapText(), msg)
		}
		return p.fail(KindTrap, ": %s", msg)
	}
	if code != 0 {
		switch {
		case inst.respTooLarge:
			return p.fail(KindResponseTooLarge, " (over %d bytes)", p.lim.ResponseMaxBytes)
		case inst.nearMemoryCap():
			return p.fail(KindMemoryLimit, " of %s: handler returned %d", inst.memoryCapText(), code)
		}
		e := p.fail(KindHandler, ": code %d", code)
		e.Code = code
		return e
	}
	if !inst.respWritten {
		if inst.respTooLarge {
			return p.fail(KindResponseTooLarge, " (over %d bytes)", p.lim.ResponseMaxBytes)
		}
		return p.fail(KindNoResponse, "")
	}
	if !isJSONObject(resp) {
		return p.fail(KindInvalidResponse, ": not a JSON object")
	}
	return nil
}

// memorySize is the instance's linear memory size in bytes.
func (inst *instance) memorySize() uint64 {
	if inst.mod == nil || inst.mod.Memory() == nil {
		return 0
	}
	return uint64(inst.mod.Memory().Size())
}

// nearMemoryCap guesses that a failure came from a refused memory.grow:
// wasm reports no such event, so an instance within 1/16 of its maximum is
// taken to have hit it.
func (inst *instance) nearMemoryCap() bool {
	if inst.mod == nil || inst.mod.Memory() == nil {
		return false
	}
	capBytes := inst.memoryCap()
	return inst.memorySize()+capBytes/16 >= capBytes
}

// memoryCap is the most memory the instance may have, in bytes: the host's
// cap or the module's own smaller maximum.
func (inst *instance) memoryCap() uint64 {
	maxPages := inst.lim.MemoryMaxPages
	if m, ok := inst.mod.Memory().Definition().Max(); ok && m < maxPages {
		maxPages = m
	}
	return uint64(maxPages) * 65536
}

func (inst *instance) memoryCapText() string {
	c := inst.memoryCap()
	if c%(1<<20) != 0 {
		return strconv.FormatUint(c>>10, 10) + " KiB"
	}
	return strconv.FormatUint(c>>20, 10) + " MiB"
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && validJSON(b)
}

// lease returns a warm instance, creates one if the pool has room, or waits
// (bounded by ctx and QueueTimeout) for one to free.
func (p *Plugin) lease(ctx context.Context) (*instance, error) {
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return p.newInstance(ctx)
	default:
	}
	timer := time.NewTimer(p.lim.QueueTimeout)
	defer timer.Stop()
	select {
	case inst := <-p.idle:
		return inst, nil
	case p.slots <- struct{}{}:
		return p.newInstance(ctx)
	case <-ctx.Done():
		return nil, p.fail(KindTimeout, " waiting for a free instance: %v", context.Cause(ctx))
	case <-timer.C:
		return nil, p.fail(KindTimeout, ": no free instance within %v", p.lim.QueueTimeout)
	}
}

// acquireSlot waits, bounded by ctx and QueueTimeout, for room for one
// more instance.
func (p *Plugin) acquireSlot(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(p.lim.QueueTimeout)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return p.fail(KindTimeout, " waiting for a free instance: %v", context.Cause(ctx))
	case <-timer.C:
		return p.fail(KindTimeout, ": no free instance within %v", p.lim.QueueTimeout)
	}
}

// release returns a healthy instance to the pool.
func (p *Plugin) release(inst *instance) {
	if inst.events >= p.lim.RecycleAfter || p.closed.Load() {
		p.discard(inst)
		return
	}
	p.idle <- inst // never blocks: slots bound the instances to cap(idle)
}

// discard closes an instance and frees its slot.
func (p *Plugin) discard(inst *instance) {
	_ = inst.mod.Close(context.Background())
	p.instances.Delete(inst.name)
	p.live.Add(-1)
	<-p.slots
}

// newState prepares the per-instance state, bound to a unique module name
// the host functions look up.
func (p *Plugin) newState() (*instance, wazero.ModuleConfig) {
	inst := &instance{
		p:     p,
		name:  "i" + strconv.FormatUint(p.seq.Add(1), 10),
		lim:   &p.lim,
		stack: make([]uint64, 1),
		logs:  logCollector{maxLines: p.lim.LogMaxLines, maxBytes: p.lim.LogMaxBytes},
	}
	inst.stdout = lineWriter{c: &inst.logs, inst: inst, stream: StreamStdout, level: abi.LogInfo}
	inst.stderr = lineWriter{c: &inst.logs, inst: inst, stream: StreamStderr, level: abi.LogError}
	// No preopens, no env, argv is the plugin's name: the sandbox sees
	// only the event.
	cfg := wazero.NewModuleConfig().
		WithName(inst.name).
		WithArgs(p.name).
		WithStartFunctions().
		WithStdout(&inst.stdout).
		WithStderr(&inst.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(randSource{inst})
	p.instances.Store(inst.name, inst)
	return inst, cfg
}

// newInstance instantiates a reactor instance and runs _initialize. The
// caller holds a slot, which is freed on failure.
func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	inst, cfg := p.newState()
	inst.arm(ctx, p.lim.InitDeadline, true) // covers a start function too
	mod, err := p.wrt.InstantiateModule(ctx, p.compiled, cfg)
	if err == nil {
		inst.mod = mod
		if init := mod.ExportedFunction(abi.ExportInitialize); init != nil {
			_, err = init.Call(ctx)
		}
	}
	inst.stdout.flush()
	inst.stderr.flush()
	logs := inst.logs.take()
	if err != nil {
		if inst.mod != nil {
			_ = inst.mod.Close(context.Background())
		}
		p.instances.Delete(inst.name)
		<-p.slots
		e := p.outcome(ctx, inst, err, 0, nil)
		e.Logs = logs
		return nil, e
	}
	inst.handle = mod.ExportedFunction(abi.ExportHandleEvent)
	inst.initLogs = logs // they go out with the first event
	p.live.Add(1)
	return inst, nil
}

// invokeCommand runs a WASI command module: a fresh instance per event,
// the event on stdin, the response on stdout (or through response_write).
func (p *Plugin) invokeCommand(ctx context.Context, event []byte) (*Result, error) {
	// Reuse the slots as a concurrency bound: each run costs a full instance.
	if err := p.acquireSlot(ctx); err != nil {
		return nil, err
	}
	defer func() { <-p.slots }()

	inst, cfg := p.newState()
	defer p.instances.Delete(inst.name)
	stdout := &cappedBuffer{max: p.lim.ResponseMaxBytes, inst: inst}
	cfg = cfg.WithStdin(bytes.NewReader(event)).WithStdout(stdout)
	inst.begin(event)

	inst.arm(ctx, p.lim.Deadline, false)
	mod, err := p.wrt.InstantiateModule(ctx, p.compiled, cfg)
	if err == nil {
		inst.mod = mod
		_, err = mod.ExportedFunction(abi.ExportStart).Call(ctx)
		var exit *sys.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 0 {
			err = nil
		}
	}
	res, resp := inst.end()
	if inst.mod != nil {
		defer inst.mod.Close(context.Background())
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() < sys.ExitCodeDeadlineExceeded && !inst.nearMemoryCap() {
		e := p.fail(KindHandler, ": exit code %d", exit.ExitCode())
		e.Code = int32(exit.ExitCode())
		return res, e
	}
	if !inst.respWritten {
		if stdout.over {
			return res, p.fail(KindResponseTooLarge, " (over %d bytes)", p.lim.ResponseMaxBytes)
		}
		resp = bytes.TrimSpace(stdout.buf)
		inst.respWritten = len(resp) > 0
	}
	if e := p.outcome(ctx, inst, err, 0, resp); e != nil {
		return res, e
	}
	res.Response = resp
	return res, nil
}
