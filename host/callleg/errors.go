package callleg

import "errors"

var (
	// ErrClosed is returned when a leg is made after Legs.Close: the
	// server is closing.
	ErrClosed = errors.New("call legs closed")
	// ErrNotAnswered is returned by media methods of a leg that has no
	// media yet (the engine answers before any media action).
	ErrNotAnswered = errors.New("leg not answered")
	// ErrUnsupportedSource is wrapped (with engine.ErrAudioSource) for an
	// AudioSource whose Type is not "S3".
	ErrUnsupportedSource = errors.New("unsupported audio source type")
	// ErrNoTrunk is returned by the dialer when no trunk serves the number.
	ErrNoTrunk = errors.New("no trunk serves the number")
	// ErrNotAllowed is returned by the dialer for a destination the
	// tenant's dial policy does not allow (a number outside its prefixes).
	ErrNotAllowed = errors.New("destination not allowed by the tenant's dial policy")
	// ErrCallerID is returned by the dialer when the trunk refuses the
	// caller id and has no default one.
	ErrCallerID = errors.New("caller id not allowed on the trunk")
	// ErrNoMedia is returned when a leg handed to a bridge or a
	// conference room has no RTP endpoint of this server.
	ErrNoMedia = errors.New("leg has no media of this server")
)
