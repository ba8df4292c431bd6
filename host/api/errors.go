package api

import "errors"

// Errors that the Calls and Plugins implementations wrap (with %w) so the
// handler can answer with the right Chime error. Any other error is a 500
// ServiceFailure whose text is logged, never shown to the client.
var (
	// ErrNotFound: the call (or object) does not exist, is finished, or
	// belongs to another tenant; the three are indistinguishable on purpose.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request is invalid. The error text is shown to the
	// client, so it must say precisely what is wrong and nothing secret.
	ErrInvalid = errors.New("invalid request")
	// ErrLimitExceeded: a tenant quota forbids the request (concurrent
	// calls, calls per second, storage…). The text is shown to the client.
	ErrLimitExceeded = errors.New("resource limit exceeded")
	// ErrUnavailable: the server cannot do it now (shutting down, no
	// trunk, no dialer); the client may retry later.
	ErrUnavailable = errors.New("service unavailable")
	// ErrConflict: the object's state forbids the request.
	ErrConflict = errors.New("conflict")
	// ErrForbidden: a policy of the server forbids it (a destination the
	// tenant's dial policy does not allow). The text is shown to the
	// client.
	ErrForbidden = errors.New("forbidden")
)
