// Package mediaserver is the Go SDK for media server plugins: call handlers
// in the Amazon Chime SDK "SIP media application" model, compiled to
// WebAssembly (GOOS=wasip1) and run in-process by the media server.
//
// A plugin registers its handler in init and calls Main from main:
//
//	func init() { mediaserver.Handle(handle) }
//	func main() { mediaserver.Main() }
//
// Built with -buildmode=c-shared the module is an ABI v1 reactor: the host
// calls the exported handle_event once per event (main is not run, init
// is). Built without it, it is a WASI command that reads one event on
// stdin and writes the response on stdout. Built natively, Main serves the
// handler as an HTTP webhook and Host runs it in tests.
//
// The event JSON is decoded and the response encoded without reflection:
// encoding/json costs ~150 µs per event under Wasm.
package mediaserver

import "strconv"

// HandlerFunc handles one event and returns the actions to run.
type HandlerFunc func(*Event) (*Response, error)

// guest is the plugin's side of the ABI. It is package state because the
// host calls exports that carry no context; a Wasm instance runs one event
// at a time, and natively Host serializes events.
var guest struct {
	handler    HandlerFunc
	iotHandler IotHandlerFunc // set instead of handler by HandleIot
	in         []byte         // the event buffer, reused between events
	out        []byte         // the response buffer, reused between events
	kv         []byte         // kv_get scratch
	dec        decoder
	event      Event      // reused: see Event
	iot        IotRequest // reused: see IotRequest
	command    bool       // running as a WASI command: logs go to stderr

	responses   slab[Response]   // for Respond
	params      actionParams     // for the action constructors
	iotAnswers  slab[IotAnswer]  // for the iotcomms answer constructors
	ivrCommands slab[IvrCommand] // for Ivr and IvrCall
}

// actionParams holds a slab per action parameter type (see slab).
type actionParams struct {
	playAudio                   slab[PlayAudioParams]
	playAudioAndGetDigits       slab[PlayAudioAndGetDigitsParams]
	speak                       slab[SpeakParams]
	speakAndGetDigits           slab[SpeakAndGetDigitsParams]
	pause                       slab[PauseParams]
	hangup                      slab[HangupParams]
	sendDigits                  slab[SendDigitsParams]
	receiveDigits               slab[ReceiveDigitsParams]
	recordAudio                 slab[RecordAudioParams]
	callAndBridge               slab[CallAndBridgeParams]
	joinChimeMeeting            slab[JoinChimeMeetingParams]
	modifyChimeMeetingAttendees slab[ModifyChimeMeetingAttendeesParams]
	startBotConversation        slab[StartBotConversationParams]
	startCallRecording          slab[StartCallRecordingParams]
	voiceFocus                  slab[VoiceFocusParams]
}

// box returns a pointer to a copy of v from s.
func box[T any](s *slab[T], v T) *T {
	p := s.new()
	*p = v
	return p
}

// Handle registers the plugin's handler of Chime events. Call it from
// init: in a reactor build main is never run. A plugin serves one model:
// Handle replaces a handler registered with HandleIot.
func Handle(fn func(*Event) (*Response, error)) {
	guest.handler = fn
	guest.iotHandler = nil
}

// dispatch decodes the event, runs the handler and encodes its response.
// The result is valid until the next dispatch. A nil response encodes as
// {"SchemaVersion":"1.0"}: no action list, so the call's actions go on.
//
// With an iotcomms handler (HandleIot) the event is a callback body and the
// response its answer (see dispatchIot).
func dispatch(event []byte) ([]byte, error) {
	if guest.iotHandler != nil {
		return dispatchIot(event, "")
	}
	if guest.handler == nil {
		return nil, ErrNoHandler
	}
	e := &guest.event
	guest.dec.recycle(e)
	if err := guest.dec.decodeEventLazy(event, e); err != nil {
		return nil, err
	}
	resp, err := guest.handler(e)
	e.raw, e.pending = nil, 0 // the event buffer is the next event's
	if e.err != nil {
		return nil, e.err // the event was malformed in a part decoded late
	}
	if err != nil {
		return nil, &wrapError{ErrHandler, err}
	}
	if resp == nil {
		resp = &Response{}
	}
	guest.out = resp.AppendJSON(guest.out[:0])
	return guest.out, nil
}

// wrapError joins a sentinel and a cause without fmt (kept out of Wasm
// plugins that don't use it).
type wrapError struct{ sentinel, err error }

func (w *wrapError) Error() string   { return w.sentinel.Error() + ": " + w.err.Error() }
func (w *wrapError) Unwrap() []error { return []error{w.sentinel, w.err} }

// Level is the severity of a log line (abi.LogDebug … abi.LogError).
type Level int32

// Log levels.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "DEBUG"
	case LevelInfo:
		return "INFO"
	case LevelWarn:
		return "WARN"
	case LevelError:
		return "ERROR"
	}
	return "LEVEL(" + strconv.Itoa(int(l)) + ")"
}
