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
	// ErrNoTrunk is returned by the dialer when no trunk serves the number
	// (SIP 404 when a session reports it).
	ErrNoTrunk error = &dialError{"no trunk serves the number", 404}
	// ErrNotAllowed is returned by the dialer for a destination the
	// tenant's dial policy does not allow (a number outside its prefixes).
	// A session reports it as SIP 403.
	ErrNotAllowed error = &dialError{"destination not allowed by the tenant's dial policy", 403}
	// ErrCallerID is returned by the dialer when the trunk refuses the
	// caller id and has no default one.
	ErrCallerID = errors.New("caller id not allowed on the trunk")
	// ErrNoMedia is returned when a leg handed to a bridge or a
	// conference room has no RTP endpoint of this server.
	ErrNoMedia = errors.New("leg has no media of this server")
)

// dialError is a dial refused before any INVITE, with the SIP status a
// session reports for it (engine: an error with SIPCode).
type dialError struct {
	msg  string
	code int
}

func (e *dialError) Error() string { return e.msg }

// SIPCode is the status a refused dial is reported with.
func (e *dialError) SIPCode() int { return e.code }
