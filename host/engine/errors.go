package engine

import "errors"

var (
	// ErrCallNotFound: no live call has this transaction id.
	ErrCallNotFound = errors.New("call not found")
	// ErrClosed: the engine is shutting down and takes no new calls.
	ErrClosed = errors.New("engine closed")
	// ErrInvalidCall: Inbound was given no handler or no leg.
	ErrInvalidCall = errors.New("invalid call: handler and leg are required")
	// ErrTooManyArguments: an update carries more than 20 arguments (Chime's limit).
	ErrTooManyArguments = errors.New("too many update arguments")
	// ErrAudioSource is wrapped by Leg implementations for audio that cannot
	// be played (missing key, unreadable WAV); it becomes InvalidAudioSource.
	ErrAudioSource = errors.New("invalid audio source")
	// ErrInvalidResponse is wrapped by an Invoker whose plugin ran but
	// produced an unusable response: the engine answers with
	// INVALID_LAMBDA_RESPONSE rather than retrying.
	ErrInvalidResponse = errors.New("invalid plugin response")
	// ErrInvocationLimit: the call reached Limits.MaxInvocations.
	ErrInvocationLimit = errors.New("invocation limit reached")
	// ErrInvalidResponses: the plugin sent too many invalid responses in a row.
	ErrInvalidResponses = errors.New("too many invalid responses in a row")
	// ErrInternal: the engine itself failed (a recovered panic) and ended the call.
	ErrInternal = errors.New("internal error")
)

var (
	// ErrNoDialer: Outbound was called but Config.Dialer is nil.
	ErrNoDialer = errors.New("outbound calls need a dialer")
	// ErrInvalidNumber: a number of an outbound call is not E.164.
	ErrInvalidNumber = errors.New("invalid e.164 number")
	// ErrInvalidHeader: an outbound call's SIP header is not allowed.
	ErrInvalidHeader = errors.New("invalid sip header")
	// ErrInvalidArgument: an operation's arguments do not fit the session
	// (a replyId of another connection, a participant that cannot be
	// connected).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNoConnector: a connection was asked for but Config.Connector is nil.
	ErrNoConnector = errors.New("this server cannot connect calls")
	// ErrNoMedia: an IVR participant acted while connected to no caller.
	ErrNoMedia = errors.New("no media")
	// ErrParticipantGone: an operation names a participant that has hung up.
	ErrParticipantGone = errors.New("participant has hung up")
	// ErrRoomNotFound: ModifyChimeMeetingAttendees names a meeting or an
	// attendee that is not in a live room (reported as ResourceNotFound).
	ErrRoomNotFound = errors.New("conference room not found")
)
