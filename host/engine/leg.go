package engine

import (
	"context"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// Leg is one call leg as the engine sees it: SIP signalling plus the RTP
// media of that leg. The engine is its only user and calls every method from
// the call's own goroutine, one at a time, so an implementation needs no
// locking for calls made by the engine.
//
// Asynchronous results come back through the callbacks the engine passes in
// (done, Silence, Failed). A callback may be called from any goroutine, even
// before the method that received it has returned; it never blocks (it only
// posts a message to the call's inbox). After the engine has called a stop
// function, the matching done callback may still come or not: the engine
// ignores it.
//
// Unsolicited input (DTMF digits, the remote party hanging up) is delivered
// through the *Call returned by Engine.Inbound: Call.Digit and
// Call.RemoteHangup.
//
// Errors about audio files (missing bucket key, unreadable or unsupported
// WAV) must wrap ErrAudioSource: the engine reports them to the plugin as
// InvalidAudioSource, any other error as SystemException.
type Leg interface {
	// ID is the leg's CallId in events (Participants[].CallId). It must be
	// stable and unique among live legs (a SIP Call-ID is fine).
	ID() string

	// Answer accepts the call (200 OK with SDP) and starts media. The
	// engine calls it once, just before the first action that needs media.
	Answer(ctx context.Context) error

	// Reject refuses a call that was not answered, with a SIP final
	// response code in 400..699.
	Reject(ctx context.Context, code int) error

	// Hangup ends an answered call (BYE) and releases its media.
	Hangup(ctx context.Context) error

	// Play starts playing src to the caller and returns at once. done is
	// called once when the audio has been played to the end, or with an
	// error if it cannot be played. stop ends the playback early.
	Play(src abi.AudioSource, done func(err error)) (stop func(), err error)

	// SendDigits sends DTMF digits (RFC 4733) to the caller, each tone
	// lasting tone; a ',' is a 500 ms pause. done is called when all digits
	// have been sent.
	SendDigits(digits string, tone time.Duration, done func(err error)) error

	// Record starts recording the caller's audio (mono WAV) into the bucket
	// store at req.BucketName/req.Key. stop ends the recording and finishes
	// the file; its error means the file could not be stored.
	Record(req RecordRequest, ev RecordEvents) (stop func() error, err error)
}

// RecordRequest tells a Leg what to record and where.
type RecordRequest struct {
	BucketName string
	Key        string
	// SilenceThreshold is Chime's SilenceThreshold (1..1000, higher means
	// louder noise still counts as silence). 0 means the engine does not
	// need silence reports.
	SilenceThreshold int
}

// RecordEvents are the callbacks of one recording.
type RecordEvents struct {
	// Silence reports that the caller's audio went below (true) or back
	// above (false) the threshold. Only called when SilenceThreshold > 0.
	Silence func(silent bool)
	// Failed reports that the recording broke off (storage error).
	Failed func(err error)
}
