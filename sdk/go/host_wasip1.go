//go:build wasip1

package mediaserver

import (
	"io"
	"os"
	"unsafe"
)

//go:wasmimport mediaserver event_read
func hostEventRead(buf unsafe.Pointer, bufLen uint32) int32

//go:wasmimport mediaserver response_write
func hostResponseWrite(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport mediaserver log
func hostLog(level int32, ptr unsafe.Pointer, n uint32)

//go:wasmimport mediaserver kv_get
func hostKVGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, bufLen uint32) int32

//go:wasmimport mediaserver kv_set
func hostKVSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32) int32

//go:wasmimport mediaserver kv_delete
func hostKVDelete(key unsafe.Pointer, keyLen uint32) int32

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func stringPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

// Log sends one log line to the host (capped per event by the host). In a
// WASI command build it goes to stderr, which the host also collects.
func Log(level Level, msg string) {
	if guest.command {
		os.Stderr.WriteString(level.String() + " " + msg + "\n")
		return
	}
	hostLog(int32(level), stringPtr(msg), uint32(len(msg)))
}

// KVGet returns the value of key in the tenant's store, or ErrNotFound.
func KVGet(key string) ([]byte, error) {
	if cap(guest.kv) < 256 {
		guest.kv = make([]byte, 256)
	}
	for range 2 {
		buf := guest.kv[:cap(guest.kv)]
		n := hostKVGet(stringPtr(key), uint32(len(key)), bytesPtr(buf), uint32(len(buf)))
		if n < 0 {
			return nil, statusError(n)
		}
		if int(n) <= len(buf) {
			return append([]byte(nil), buf[:n]...), nil
		}
		guest.kv = make([]byte, n)
	}
	return nil, ErrTooLarge // the value grew between the two reads
}

// KVSet stores value under key in the tenant's store.
func KVSet(key string, value []byte) error {
	if rc := hostKVSet(stringPtr(key), uint32(len(key)), bytesPtr(value), uint32(len(value))); rc != 0 {
		return statusError(rc)
	}
	return nil
}

// KVDelete removes key from the tenant's store; ErrNotFound if absent.
func KVDelete(key string) error {
	if rc := hostKVDelete(stringPtr(key), uint32(len(key))); rc != 0 {
		return statusError(rc)
	}
	return nil
}

// Main runs a WASI command build (-tags mediaserver_command): one event JSON on stdin, its response on
// stdout, exit status 1 on error. In a reactor build main, and so Main, is
// never run.
func Main() {
	guest.command = true
	in, err := io.ReadAll(os.Stdin)
	if err == nil {
		var out []byte
		if out, err = dispatch(in); err == nil {
			_, err = os.Stdout.Write(out)
		}
	}
	if err != nil {
		os.Stderr.WriteString("ERROR " + err.Error() + "\n")
		os.Exit(1)
	}
}
