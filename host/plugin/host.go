package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/plugin/meter"
)

// hostFuncs implements the "mediaserver" host module for one plugin. p is
// nil in the runtime used only to check modules.
type hostFuncs struct{ p *Plugin }

// instantiateHost registers the host module in rt. GoModuleFunc with
// explicit value types avoids wazero's reflection-based wrappers on the
// hot path.
func instantiateHost(ctx context.Context, rt wazero.Runtime, p *Plugin) error {
	h := hostFuncs{p: p}
	i32 := api.ValueTypeI32
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	export := func(name string, f api.GoModuleFunc, params, results []api.ValueType, names ...string) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).WithParameterNames(names...).Export(name)
	}
	export(abi.FuncEventRead, h.eventRead, []api.ValueType{i32, i32}, []api.ValueType{i32}, "buf", "buf_len")
	export(abi.FuncResponseWrite, h.responseWrite, []api.ValueType{i32, i32}, []api.ValueType{i32}, "ptr", "len")
	export(abi.FuncLog, h.log, []api.ValueType{i32, i32, i32}, nil, "level", "ptr", "len")
	export(abi.FuncKVGet, h.kvGet, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, "key", "key_len", "buf", "buf_len")
	export(abi.FuncKVSet, h.kvSet, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, "key", "key_len", "val", "val_len")
	export(abi.FuncKVDelete, h.kvDelete, []api.ValueType{i32, i32}, []api.ValueType{i32}, "key", "key_len")
	if _, err := b.Instantiate(ctx); err != nil {
		return err
	}
	_, err := rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(h.tick), nil, []api.ValueType{api.ValueTypeI64}).
		Export(meter.ImportName).Instantiate(ctx)
	return err
}

// fuelPerTick is how many instructions (see package meter) a guest runs
// between two deadline checks: about 0.3–1 ms of work, a small fraction of
// the deadline, and a check costs well under a microsecond.
const fuelPerTick = 1 << 20

// maxTableElements caps a plugin's tables (see meter.Options): 2 MiB of
// references per instance, room for programs of a quarter million
// functions (a Go plugin has about 6,000).
const maxTableElements = 1 << 18

// Host calls are charged to the event too (see RATIONALE.md): each call
// hostCallFuel, each byte it copies or scans 1/16 (as package meter
// charges bulk memory), each iovec or poll subscription it walks more.
// The charge comes out of a counter of the instance's own, which runs the
// deadline check when it runs out, as tick does for guest code.
const (
	hostCallFuel     = 1024
	hostByteShift    = 4
	iovecFuel        = 16
	subscriptionFuel = 64
)

// maxIovecs bounds the iovecs of one fd_read/fd_write (POSIX's IOV_MAX),
// and maxSubscriptions the subscriptions of one poll_oneoff: more get
// EINVAL, so one call's work stays small.
const (
	maxIovecs        = 1024
	maxSubscriptions = 1024
)

// tick is called by instrumented code when its fuel runs out: it stops the
// call (a panic becomes the call's error) if the call is past its deadline,
// canceled, or the plugin closed, and otherwise refuels.
func (h hostFuncs) tick(ctx context.Context, mod api.Module, stack []uint64) {
	stack[0] = fuelPerTick
	if h.p == nil {
		return
	}
	v, ok := h.p.instances.Load(mod.Name())
	if !ok {
		panic(errNoInstance)
	}
	v.(*instance).check(ctx)
}

// check stops the running guest call (panics) if it is past its
// deadline, canceled, or the plugin closed.
func (inst *instance) check(ctx context.Context) {
	if e := inst.overdue(ctx); e != nil {
		inst.stopped = e
		panic(e)
	}
}

// charge takes n units of host-call work from the instance's counter and
// runs check when it runs out.
func (inst *instance) charge(ctx context.Context, n int64) {
	if inst.p.rt.noHostCharge {
		return
	}
	inst.hostFuel -= n
	if inst.hostFuel < 0 {
		inst.hostFuel = fuelPerTick
		inst.check(ctx)
	}
}

// chargeIO is charge for the writers and readers wazero calls, which get
// no context: the running call's is used. inst may be nil (tests).
func (inst *instance) chargeIO(n int64) {
	if inst != nil {
		inst.charge(inst.ctx, n)
	}
}

func status(c abi.ErrCode) uint64 { return api.EncodeI32(int32(c)) }

// caller finds the per-instance state bound to the calling module's name
// at instantiation, and charges the call to it; nil in the runtime that
// only checks modules.
func (h hostFuncs) caller(ctx context.Context, mod api.Module, fuel int64) *instance {
	if h.p == nil {
		return nil
	}
	v, ok := h.p.instances.Load(mod.Name())
	if !ok {
		return nil
	}
	inst := v.(*instance)
	inst.charge(ctx, hostCallFuel+fuel)
	return inst
}

// instance is caller for the functions allowed only inside handle_event:
// nil outside an event.
func (h hostFuncs) instance(ctx context.Context, mod api.Module, fuel int64) *instance {
	inst := h.caller(ctx, mod, fuel)
	if inst == nil || !inst.active {
		return nil
	}
	return inst
}

func (h hostFuncs) eventRead(ctx context.Context, mod api.Module, stack []uint64) {
	buf, bufLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	inst := h.instance(ctx, mod, 0)
	if inst == nil {
		stack[0] = status(abi.ErrCodeUnavailable)
		return
	}
	n := len(inst.event)
	if uint64(n) <= uint64(bufLen) {
		inst.charge(ctx, int64(n)>>hostByteShift)
		if !mod.Memory().Write(buf, inst.event) {
			stack[0] = status(abi.ErrCodeBadPointer)
			return
		}
	}
	stack[0] = api.EncodeI32(int32(n))
}

func (h hostFuncs) responseWrite(ctx context.Context, mod api.Module, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	inst := h.instance(ctx, mod, 0)
	switch {
	case inst == nil:
		stack[0] = status(abi.ErrCodeUnavailable)
		return
	case inst.respWritten:
		stack[0] = status(abi.ErrCodeAlreadyWritten)
		return
	case uint64(n) > uint64(inst.lim.ResponseMaxBytes):
		inst.respTooLarge = true
		stack[0] = status(abi.ErrCodeTooLarge)
		return
	}
	data, ok := mod.Memory().Read(ptr, n)
	if !ok {
		stack[0] = status(abi.ErrCodeBadPointer)
		return
	}
	inst.charge(ctx, int64(n)>>hostByteShift)
	// Copy out at once: the guest may reuse the buffer right after.
	inst.resp = bytes.Clone(data)
	inst.respWritten = true
	stack[0] = 0
}

// log works in handle_event and while the instance starts (_initialize):
// the lines of the start reach the log with the instance's first event.
func (h hostFuncs) log(ctx context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	inst := h.caller(ctx, mod, 0)
	if inst == nil || !(inst.active || inst.initing) {
		return
	}
	data, ok := mod.Memory().Read(ptr, n)
	if !ok {
		inst.logs.add(abi.LogError, StreamLog, []byte("(log called with a bad pointer)"))
		return
	}
	// Only what fits in the log's budget is copied (add truncates).
	inst.charge(ctx, int64(min(len(data), inst.lim.LogMaxBytes))>>hostByteShift)
	inst.logs.add(min(max(level, abi.LogDebug), abi.LogError), StreamLog, data)
}

// kvBegin is the common start of the kv_* host functions: the call must
// come from a live instance of a plugin that has a store, the event must
// not be past its deadline (a store call takes a disk write), and
// stack[0:2] must be a key of an acceptable size in guest memory. On
// failure it has written the status to stack[0] and returns false.
func (h hostFuncs) kvBegin(ctx context.Context, mod api.Module, stack []uint64) (*instance, string, bool) {
	inst := h.instance(ctx, mod, 0)
	if inst == nil || h.p.rt.cfg.KV == nil {
		stack[0] = status(abi.ErrCodeUnavailable)
		return nil, "", false
	}
	if !h.p.rt.noHostCharge {
		inst.check(ctx)
	}
	keyPtr, keyLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if keyLen == 0 || uint64(keyLen) > uint64(h.p.rt.kvMaxKey) {
		stack[0] = status(abi.ErrCodeTooLarge)
		return nil, "", false
	}
	key, ok := mod.Memory().Read(keyPtr, keyLen)
	if !ok {
		stack[0] = status(abi.ErrCodeBadPointer)
		return nil, "", false
	}
	return inst, string(key), true
}

// kvErr maps a store error to a status: sizes to ErrCodeTooLarge, the
// tenant's quota to ErrCodeQuota, anything else to ErrCodeInternal
// (logged).
func (h hostFuncs) kvErr(err error) uint64 {
	switch {
	case errors.Is(err, kv.ErrKeyTooLarge), errors.Is(err, kv.ErrValueTooLarge), errors.Is(err, kv.ErrEmptyKey):
		return status(abi.ErrCodeTooLarge)
	case errors.Is(err, kv.ErrQuotaExceeded):
		return status(abi.ErrCodeQuota)
	}
	h.p.rt.log.Warn("plugin kv store failed", "tenant", h.p.tenant, "plugin", h.p.name, "err", err)
	return status(abi.ErrCodeInternal)
}

func (h hostFuncs) kvGet(ctx context.Context, mod api.Module, stack []uint64) {
	buf, bufLen := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	inst, k, ok := h.kvBegin(ctx, mod, stack)
	if !ok {
		return
	}
	val, found, err := h.p.rt.cfg.KV.Get(h.p.tenant, k)
	switch {
	case err != nil:
		stack[0] = h.kvErr(err)
		return
	case !found:
		stack[0] = status(abi.ErrCodeNotFound)
		return
	}
	if uint64(len(val)) <= uint64(bufLen) {
		inst.charge(ctx, int64(len(val))>>hostByteShift)
		if !mod.Memory().Write(buf, val) {
			stack[0] = status(abi.ErrCodeBadPointer)
			return
		}
	}
	stack[0] = api.EncodeI32(int32(len(val)))
}

func (h hostFuncs) kvSet(ctx context.Context, mod api.Module, stack []uint64) {
	val, valLen := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	inst, k, ok := h.kvBegin(ctx, mod, stack)
	if !ok {
		return
	}
	if uint64(valLen) > uint64(h.p.rt.kvMaxValue) {
		stack[0] = status(abi.ErrCodeTooLarge)
		return
	}
	data, ok := mod.Memory().Read(val, valLen)
	if !ok {
		stack[0] = status(abi.ErrCodeBadPointer)
		return
	}
	inst.charge(ctx, int64(valLen)>>hostByteShift)
	// Clone: a store may keep the slice, and guest memory changes under it.
	if err := h.p.rt.cfg.KV.Set(h.p.tenant, k, bytes.Clone(data)); err != nil {
		stack[0] = h.kvErr(err)
		return
	}
	stack[0] = 0
}

func (h hostFuncs) kvDelete(ctx context.Context, mod api.Module, stack []uint64) {
	_, k, ok := h.kvBegin(ctx, mod, stack)
	if !ok {
		return
	}
	existed, err := h.p.rt.cfg.KV.Delete(h.p.tenant, k)
	switch {
	case err != nil:
		stack[0] = h.kvErr(err)
	case !existed:
		stack[0] = status(abi.ErrCodeNotFound)
	default:
		stack[0] = 0
	}
}

// wasiErrnoInval is WASI preview 1's EINVAL.
// See https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-errno-variant
const wasiErrnoInval = 28

// instantiateWASI registers WASI preview 1 in rt: wazero's functions
// (orig, from a runtime that has them), each charged to the event as a
// host call; fd_read, fd_write and their p- forms refuse more than
// maxIovecs iovecs and poll_oneoff more than maxSubscriptions, and charge
// by the count. What the functions copy is charged by the instance's
// stdout, stderr and random source.
func instantiateWASI(ctx context.Context, rt wazero.Runtime, p *Plugin, orig map[string]api.FunctionDefinition) error {
	if p.rt.noHostCharge {
		_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
		return err
	}
	b := rt.NewHostModuleBuilder(abi.WASIModule)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	h := hostFuncs{p: p}
	for name, def := range orig {
		fn, ok := def.GoFunction().(api.GoModuleFunction)
		if !ok {
			return fmt.Errorf("wasi %s: not a Go function", name)
		}
		count, limit, fuel := -1, 0, int64(0)
		switch name {
		case "fd_read", "fd_write", "fd_pread", "fd_pwrite":
			count, limit, fuel = 2, maxIovecs, iovecFuel
		case "poll_oneoff":
			count, limit, fuel = 2, maxSubscriptions, subscriptionFuel
		}
		wrapped := api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			n := int64(0)
			if count >= 0 {
				n = int64(api.DecodeU32(stack[count]))
				if n > int64(limit) {
					h.caller(ctx, mod, 0)
					stack[0] = wasiErrnoInval
					return
				}
			}
			h.caller(ctx, mod, n*fuel)
			fn.Call(ctx, mod, stack)
		})
		b.NewFunctionBuilder().WithGoModuleFunction(wrapped, def.ParamTypes(), def.ResultTypes()).
			WithParameterNames(def.ParamNames()...).WithResultNames(def.ResultNames()...).Export(name)
	}
	_, err := b.Instantiate(ctx)
	return err
}
