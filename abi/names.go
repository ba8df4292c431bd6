package abi

// ABI v1: the names a plugin module and the host agree on. SPEC.md is the
// normative text; this file only gives every name and number a constant.
//
// A reactor-style plugin exports:
//
//	memory                                   its linear memory
//	mediaserver_abi_v1()                     the version marker (never called)
//	handle_event(event_len i32) -> i32       0 = a response was written, else a handler error
//	_initialize()                            optional, WASI reactor start
//
// and may import, from module "mediaserver":
//
//	event_read(buf i32, buf_len i32) -> i32               copies the event if it fits; returns its full length
//	response_write(ptr i32, len i32) -> i32               0 or a negative ErrCode
//	log(level i32, ptr i32, len i32)                      one log line, capped per event
//	kv_get(key i32, key_len i32, buf i32, buf_len i32) -> i32   value length, copied if it fits; ErrCodeNotFound
//	kv_set(key i32, key_len i32, val i32, val_len i32) -> i32   0 or a negative ErrCode
//	kv_delete(key i32, key_len i32) -> i32                      0 or a negative ErrCode
//
// and the WASI preview1 functions (module "wasi_snapshot_preview1").
//
// A command-style plugin exports only _start: it reads the event JSON on
// stdin and writes the response JSON on stdout (compatibility mode).
const (
	// Version is the ABI version this host speaks.
	Version = 1

	// ImportModule is the module name of the host functions.
	ImportModule = "mediaserver"
	// WASIModule is the module name of WASI preview1.
	WASIModule = "wasi_snapshot_preview1"

	// ExportVersionV1 marks a module built for ABI v1.
	ExportVersionV1 = "mediaserver_abi_v1"
	// ExportHandleEvent is called once per event.
	ExportHandleEvent = "handle_event"
	// ExportInitialize is the optional WASI reactor initializer.
	ExportInitialize = "_initialize"
	// ExportStart marks a WASI command (compatibility mode).
	ExportStart = "_start"
	// ExportMemory is the guest's linear memory.
	ExportMemory = "memory"

	FuncEventRead     = "event_read"
	FuncResponseWrite = "response_write"
	FuncLog           = "log"
	FuncKVGet         = "kv_get"
	FuncKVSet         = "kv_set"
	FuncKVDelete      = "kv_delete"
)

// ErrCode is a negative status returned by a host function to the guest.
type ErrCode int32

// Host function status codes. 0 is success; a non-negative result of
// event_read or kv_get is a length.
const (
	ErrCodeTooLarge       ErrCode = -1 // the payload exceeds the host's cap
	ErrCodeAlreadyWritten ErrCode = -2 // response_write was called twice in one event
	ErrCodeBadPointer     ErrCode = -3 // a pointer/length pair is outside guest memory
	ErrCodeNotFound       ErrCode = -4 // kv_get / kv_delete: no such key
	ErrCodeQuota          ErrCode = -5 // a store quota (key count, value size) is exceeded
	ErrCodeUnavailable    ErrCode = -6 // the call is not allowed now (outside handle_event, no store)
	ErrCodeInternal       ErrCode = -7 // the host failed (storage error)
)

// Log levels for the log host function.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)
