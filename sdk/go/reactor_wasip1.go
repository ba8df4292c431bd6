//go:build wasip1 && !mediaserver_command

package mediaserver

// The ABI v1 exports. A WASI command build (-tags mediaserver_command)
// leaves them out: the host takes any module with the version marker for a
// reactor, and a command's Go runtime is not initialized before _start.

// abiV1 marks the module as built for ABI v1; the host never calls it.
//
//go:wasmexport mediaserver_abi_v1
func abiV1() {}

// handleEvent is the ABI's per-event entry point: 0 = response written.
//
//go:wasmexport handle_event
func handleEvent(eventLen int32) int32 {
	if err := handleOne(int(eventLen)); err != nil {
		Log(LevelError, err.Error())
		return 1
	}
	return 0
}

func handleOne(n int) error {
	if n < 0 {
		n = 0
	}
	if cap(guest.in) < n {
		guest.in = make([]byte, n)
	}
	buf := guest.in[:cap(guest.in)]
	got := hostEventRead(bytesPtr(buf), uint32(len(buf)))
	if got < 0 {
		return statusError(got)
	}
	if int(got) > len(buf) {
		// The event is larger than announced: read it again, whole.
		guest.in = make([]byte, got)
		buf = guest.in
		if got = hostEventRead(bytesPtr(buf), uint32(len(buf))); got < 0 {
			return statusError(got)
		}
		if int(got) > len(buf) {
			return ErrTooLarge
		}
	}
	guest.dec.trustLayout = true // the event is the media server's
	out, err := dispatch(buf[:got])
	if err != nil {
		return err
	}
	if rc := hostResponseWrite(bytesPtr(out), uint32(len(out))); rc != 0 {
		return statusError(rc)
	}
	return nil
}
