package plugin

import (
	"bytes"
	"context"
	"errors"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

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
	inst := v.(*instance)
	if e := inst.overdue(ctx); e != nil {
		inst.stopped = e
		panic(e)
	}
}

func status(c abi.ErrCode) uint64 { return api.EncodeI32(int32(c)) }

// instance finds the per-instance state bound to the calling module's name
// at instantiation; nil outside an event.
func (h hostFuncs) instance(mod api.Module) *instance {
	if h.p == nil {
		return nil
	}
	v, ok := h.p.instances.Load(mod.Name())
	if !ok {
		return nil
	}
	inst := v.(*instance)
	if !inst.active {
		return nil
	}
	return inst
}

func (h hostFuncs) eventRead(_ context.Context, mod api.Module, stack []uint64) {
	buf, bufLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	inst := h.instance(mod)
	if inst == nil {
		stack[0] = status(abi.ErrCodeUnavailable)
		return
	}
	n := len(inst.event)
	if uint64(n) <= uint64(bufLen) && !mod.Memory().Write(buf, inst.event) {
		stack[0] = status(abi.ErrCodeBadPointer)
		return
	}
	stack[0] = api.EncodeI32(int32(n))
}

func (h hostFuncs) responseWrite(_ context.Context, mod api.Module, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	inst := h.instance(mod)
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
	// Copy out at once: the guest may reuse the buffer right after.
	inst.resp = bytes.Clone(data)
	inst.respWritten = true
	stack[0] = 0
}

func (h hostFuncs) log(_ context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	inst := h.instance(mod)
	if inst == nil {
		return
	}
	data, ok := mod.Memory().Read(ptr, n)
	if !ok {
		inst.logs.add(abi.LogError, StreamLog, []byte("(log called with a bad pointer)"))
		return
	}
	inst.logs.add(min(max(level, abi.LogDebug), abi.LogError), StreamLog, data)
}

// kvKey reads a key; the returned code is 0 on success.
// kvBegin is the common start of the kv_* host functions: the call must
// come from a live instance of a plugin that has a store, and stack[0:2]
// must be a key in guest memory. On failure it has written the status to
// stack[0] and returns false.
func (h hostFuncs) kvBegin(mod api.Module, stack []uint64) (string, bool) {
	if h.instance(mod) == nil || h.p.rt.cfg.KV == nil {
		stack[0] = status(abi.ErrCodeUnavailable)
		return "", false
	}
	key, ok := mod.Memory().Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		stack[0] = status(abi.ErrCodeBadPointer)
		return "", false
	}
	return string(key), true
}

func (h hostFuncs) kvErr(err error) uint64 {
	switch {
	case errors.Is(err, kv.ErrKeyTooLarge), errors.Is(err, kv.ErrValueTooLarge), errors.Is(err, kv.ErrEmptyKey):
		return status(abi.ErrCodeQuota)
	}
	h.p.rt.log.Warn("plugin kv store failed", "tenant", h.p.tenant, "plugin", h.p.name, "err", err)
	return status(abi.ErrCodeInternal)
}

func (h hostFuncs) kvGet(_ context.Context, mod api.Module, stack []uint64) {
	buf, bufLen := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	k, ok := h.kvBegin(mod, stack)
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
	if uint64(len(val)) <= uint64(bufLen) && !mod.Memory().Write(buf, val) {
		stack[0] = status(abi.ErrCodeBadPointer)
		return
	}
	stack[0] = api.EncodeI32(int32(len(val)))
}

func (h hostFuncs) kvSet(_ context.Context, mod api.Module, stack []uint64) {
	val, valLen := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	k, ok := h.kvBegin(mod, stack)
	if !ok {
		return
	}
	data, ok := mod.Memory().Read(val, valLen)
	if !ok {
		stack[0] = status(abi.ErrCodeBadPointer)
		return
	}
	// Clone: a store may keep the slice, and guest memory changes under it.
	if err := h.p.rt.cfg.KV.Set(h.p.tenant, k, bytes.Clone(data)); err != nil {
		stack[0] = h.kvErr(err)
		return
	}
	stack[0] = 0
}

func (h hostFuncs) kvDelete(_ context.Context, mod api.Module, stack []uint64) {
	k, ok := h.kvBegin(mod, stack)
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
