//go:build !wasip1

package mediaserver

import (
	"bytes"
	"io"
	"maps"
	"sync"
	"sync/atomic"
)

// LogLine is one line the handler logged.
type LogLine struct {
	Level   Level
	Message string
}

// Host emulates the media server's side of the ABI in a native build: feed
// it an event, get the response, inspect the logs and the key-value store.
// Plugin unit tests use it, and Main's webhook mode serves through it.
// Events are serialized across all Hosts, as a Wasm instance would run them.
type Host struct {
	mu   sync.Mutex
	kv   map[string][]byte
	logs []LogLine
	sink io.Writer // when set, log lines are also written here
}

// native points at the Host running an event, so Log and KV find it.
var native struct {
	mu      sync.Mutex
	current atomic.Pointer[Host]
}

// NewHost returns an emulator with an empty store.
func NewHost() *Host { return &Host{kv: make(map[string][]byte)} }

// Invoke runs the registered handler on one event JSON and returns the
// response JSON. A malformed event returns a *JSONError; a handler failure
// an error wrapping ErrHandler.
//
// With an iotcomms handler (HandleIot) the event is a callback body with
// its name in "callback", and the response is the callback's answer.
func (h *Host) Invoke(event []byte) ([]byte, error) {
	return h.run(func() ([]byte, error) { return dispatch(event) })
}

// InvokeCallback runs the iotcomms handler on a callback body as a webhook
// gets it: the callback's name apart (the path), the body without it (or
// naming the same callback, else ErrCallback).
func (h *Host) InvokeCallback(callback string, body []byte) ([]byte, error) {
	return h.run(func() ([]byte, error) {
		if guest.iotHandler == nil {
			return nil, ErrNoHandler
		}
		return dispatchIot(body, callback)
	})
}

// run runs one event with h as the current host.
func (h *Host) run(f func() ([]byte, error)) ([]byte, error) {
	native.mu.Lock()
	defer native.mu.Unlock()
	native.current.Store(h)
	defer native.current.Store(nil)
	out, err := f()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(out), nil
}

// Logs returns the lines logged so far.
func (h *Host) Logs() []LogLine {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]LogLine(nil), h.logs...)
}

// ResetLogs forgets the lines logged so far.
func (h *Host) ResetLogs() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = nil
}

// KV returns a copy of the key-value store.
func (h *Host) KV() map[string][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.kv)
}

// SetKV stores a value, as if another call had.
func (h *Host) SetKV(key string, value []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kv[key] = bytes.Clone(value)
}

func (h *Host) log(level Level, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, LogLine{Level: level, Message: msg})
	if h.sink != nil {
		io.WriteString(h.sink, level.String()+" "+msg+"\n")
	}
}

// Log records one log line with the Host running the current event;
// outside an event it is dropped, as the host would refuse it.
func Log(level Level, msg string) {
	if h := native.current.Load(); h != nil {
		h.log(level, msg)
	}
}

// KVGet returns the value of key in the tenant's store, or ErrNotFound.
func KVGet(key string) ([]byte, error) {
	h := native.current.Load()
	if h == nil {
		return nil, ErrUnavailable
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.kv[key]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(v), nil
}

// KVSet stores value under key in the tenant's store.
func KVSet(key string, value []byte) error {
	h := native.current.Load()
	if h == nil {
		return ErrUnavailable
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kv[key] = bytes.Clone(value)
	return nil
}

// KVDelete removes key from the tenant's store; ErrNotFound if absent.
func KVDelete(key string) error {
	h := native.current.Load()
	if h == nil {
		return ErrUnavailable
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.kv[key]; !ok {
		return ErrNotFound
	}
	delete(h.kv, key)
	return nil
}
