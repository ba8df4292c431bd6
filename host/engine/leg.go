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
// Call.RemoteHangup; for a leg the engine dialled, through DialEvents.Digit
// and DialEvents.Hangup.
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

// The interfaces below are optional extensions of Leg and Engine
// dependencies for outbound calls and call recording. A Leg
// that does not implement one of them still works: the actions that need
// it fail with SystemException "... is not supported by this leg".

// Dialer places outbound legs: the LEG-A of an outbound call
// (Engine.Outbound) and the LEG-B of CallAndBridge. It is Config.Dialer.
//
// Dial sends the INVITE and returns at once, before any response, with the
// new leg and a cancel function. Engine.Outbound calls it from the API
// caller's goroutine, CallAndBridge from the call's goroutine; it must not
// block on the network. The returned Leg's ID (the INVITE's Call-ID) must be
// valid at once. An error means no INVITE was sent (no trunk for the number,
// bad URI, engine shutting down): the engine reports it and never calls the
// Leg or cancel.
//
// Progress comes back through ev, whose functions may be called from any
// goroutine, even before Dial returns; they never block. Exactly one of
// Answered or Failed is called, once, unless cancel was called first:
//
//   - Ringing on 180/183 (any number of times, possibly never);
//   - Answered on a 2xx, after the ACK was sent and media is ready: from
//     then on the engine uses the Leg (Play, Record, Hangup = BYE…);
//   - Failed on a final non-2xx with its status code (486, 480, 408, 603…),
//     or with code 0 and an error for a transport failure (no response,
//     connection refused), the engine then uses 480.
//
// After Answered, ev.Digit and ev.Hangup deliver the leg's DTMF and its
// remote BYE, as Call.Digit and Call.RemoteHangup do for an inbound leg.
//
// cancel abandons the attempt (CANCEL while ringing; nothing when a final
// response already came). It is idempotent, returns at once, and is called
// only before Answered. After cancel the engine ignores every callback: if
// a 2xx still crosses the CANCEL, the Dialer ACKs and BYEs it itself. The
// engine never calls Reject on a dialled leg; after Answered it ends it with
// Hangup.
type Dialer interface {
	Dial(req DialRequest, ev DialEvents) (leg Leg, cancel func(), err error)
}

// DialRequest is one outbound INVITE.
type DialRequest struct {
	// From is the caller id (E.164): OutboundRequest.From, or
	// CallAndBridge's CallerIdNumber.
	From string
	// To is an E.164 number (PSTN) or, for a CallAndBridge endpoint of type
	// AWS, its Uri as the plugin gave it; the Dialer picks the trunk.
	To string
	// SipHeaders go on the INVITE: only X- headers, User-to-User and
	// Diversion (the engine has checked the names).
	SipHeaders map[string]string
	// Who asks, for trunk selection, accounting and logs.
	TenantID              string
	SipMediaApplicationID string
	TransactionID         string
}

// DialEvents are the callbacks of one Dial; see Dialer.
type DialEvents struct {
	Ringing  func()
	Answered func()
	Failed   func(code int, err error)
	Digit    func(d rune)
	Hangup   func()
	// Reinvite hands the leg's re-INVITE (hold, resume, a new address) to
	// the session, which runs apply in its own goroutine; nil: the Dialer
	// applies it itself.
	Reinvite func(apply func())
}

// CallRecorder is implemented by a Leg that supports StartCallRecording.
// The engine calls it from the call's goroutine, at most once per leg.
type CallRecorder interface {
	// StartCallRecording starts recording req.Track of the leg into the
	// bucket store at req.BucketName/req.Key and returns at once. failed is
	// called (from any goroutine, never blocking) if the recording breaks
	// off; the engine then only logs it and calls Stop at call end.
	StartCallRecording(req CallRecordingRequest, failed func(err error)) (CallRecording, error)
}

// CallRecordingRequest tells a CallRecorder what to record and where.
type CallRecordingRequest struct {
	BucketName string
	Key        string
	// Track is abi.TrackIncoming (what the leg's party says, mono),
	// abi.TrackOutgoing (what it hears, mono) or abi.TrackBoth (stereo,
	// incoming left, outgoing right; Chime's layout).
	Track string
}

// CallRecording is a recording in progress. The engine calls its methods
// from the call's goroutine; Pause and Resume may be called repeatedly and
// are no-ops when already in that state.
type CallRecording interface {
	// Pause records silence from now on (the media layer may mark the pause
	// with a tone, as Chime does).
	Pause() error
	// Resume records audio again.
	Resume() error
	// Stop ends the recording and stores the file; its error means the file
	// could not be stored. Called once, by StopCallRecording or when the leg
	// or the call ends.
	Stop() error
}
