package plugin

import (
	"errors"
	"fmt"
)

// Kind classifies why an invocation or a load failed.
type Kind int

// The kinds of failure. Every kind has a sentinel (ErrTimeout, …) so callers
// can use errors.Is without looking at *Error.
const (
	KindTimeout Kind = iota + 1
	KindTrap
	KindMemoryLimit
	KindInvalidResponse
	KindResponseTooLarge
	KindNoResponse
	KindHandler
	KindEventTooLarge
	KindClosed
	KindWebhook
	KindInvalidModule
	KindBusy
	numKinds
)

// Sentinels, one per Kind.
var (
	ErrTimeout          = errors.New("plugin timed out")
	ErrTrap             = errors.New("plugin trapped")
	ErrMemoryLimit      = errors.New("plugin hit its memory limit")
	ErrInvalidResponse  = errors.New("invalid response")
	ErrResponseTooLarge = errors.New("response too large")
	ErrNoResponse       = errors.New("no response written")
	ErrHandler          = errors.New("handler returned an error")
	ErrEventTooLarge    = errors.New("event too large")
	ErrClosed           = errors.New("plugin closed")
	ErrWebhook          = errors.New("webhook failed")
	ErrInvalidModule    = errors.New("invalid module")
	ErrBusy             = errors.New("plugin runtime busy")
)

// errNoInstance stops guest code that runs without instance state, which
// the pool never lets happen.
var errNoInstance = errors.New("plugin: guest running outside an instance")

var kindNames = [numKinds]string{
	KindTimeout:          "timeout",
	KindTrap:             "trap",
	KindMemoryLimit:      "memory limit",
	KindInvalidResponse:  "invalid response",
	KindResponseTooLarge: "response too large",
	KindNoResponse:       "no response",
	KindHandler:          "handler error",
	KindEventTooLarge:    "event too large",
	KindClosed:           "closed",
	KindWebhook:          "webhook",
	KindInvalidModule:    "invalid module",
	KindBusy:             "busy",
}

// String names the kind ("timeout", "memory limit", …).
func (k Kind) String() string {
	if k <= 0 || k >= numKinds {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Sentinel returns the sentinel error of the kind, or nil for an unknown kind.
func (k Kind) Sentinel() error {
	switch k {
	case KindTimeout:
		return ErrTimeout
	case KindTrap:
		return ErrTrap
	case KindMemoryLimit:
		return ErrMemoryLimit
	case KindInvalidResponse:
		return ErrInvalidResponse
	case KindResponseTooLarge:
		return ErrResponseTooLarge
	case KindNoResponse:
		return ErrNoResponse
	case KindHandler:
		return ErrHandler
	case KindEventTooLarge:
		return ErrEventTooLarge
	case KindClosed:
		return ErrClosed
	case KindWebhook:
		return ErrWebhook
	case KindInvalidModule:
		return ErrInvalidModule
	case KindBusy:
		return ErrBusy
	}
	return nil
}

// Error is the error returned by Handler.Invoke and Runtime.Load.
// Err always wraps the kind's sentinel and carries the detail.
type Error struct {
	Kind   Kind
	Plugin string // plugin name, or the URL of a webhook
	Tenant string
	Err    error
	// Code is the value handle_event returned (KindHandler) or the exit
	// code of a command module.
	Code int32
	// Logs are the lines an instance logged before it failed to start
	// (its _initialize, say), for a load or a call that needed a new
	// instance; a failed call carries its own in its Result.
	Logs []LogLine
}

func (e *Error) Error() string {
	id := e.Plugin
	if e.Tenant != "" {
		id = e.Tenant + "/" + e.Plugin
	}
	if e.Err == nil {
		return "plugin " + id + ": " + e.Kind.String()
	}
	return "plugin " + id + ": " + e.Err.Error()
}

// Unwrap returns the detail, which wraps the kind's sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the kind's sentinel even when Err was built without it.
func (e *Error) Is(target error) bool {
	s := e.Kind.Sentinel()
	return s != nil && target == s
}

func newError(kind Kind, tenant, name string, format string, args ...any) *Error {
	return &Error{
		Kind:   kind,
		Plugin: name,
		Tenant: tenant,
		Err:    fmt.Errorf("%w"+format, append([]any{kind.Sentinel()}, args...)...),
	}
}
