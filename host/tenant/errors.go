package tenant

import "errors"

// Errors returned by the registry, wrapped with context; test with errors.Is.
var (
	// ErrNotFound is returned for an object that does not exist or belongs
	// to another tenant: the two are indistinguishable on purpose.
	ErrNotFound = errors.New("not found")
	// ErrExists is returned when creating an object whose id is taken.
	ErrExists = errors.New("already exists")
	// ErrInvalid is returned for a malformed id, name, number or URL.
	ErrInvalid = errors.New("invalid argument")
	// ErrNumberTaken is returned when adding a number that another tenant
	// owns. Numbers are unique server-wide, so this necessarily says the
	// number is in use, but not by whom.
	ErrNumberTaken = errors.New("number is already taken")
	// ErrTaken is returned when creating a SIP rule for a hostname that
	// another tenant's rule already claims.
	ErrTaken = errors.New("trigger value is already taken")
	// ErrInUse is returned when deleting a plugin version or an application
	// that something still refers to.
	ErrInUse = errors.New("in use")
	// ErrNoHistory is returned by Rollback when there is no earlier version.
	ErrNoHistory = errors.New("no previous version")
	// ErrUnauthorized is returned by Authenticate for any secret that is not
	// a live key; the reason is not disclosed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrQuotaExceeded is returned when a tenant's quota forbids the change.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrCorrupt is returned when stored plugin bytes no longer match their
	// SHA-256.
	ErrCorrupt = errors.New("stored plugin does not match its sha256")
	// ErrUnknownKey is returned by AuthenticateSigned for an access key id
	// that names no live key.
	ErrUnknownKey = errors.New("unknown access key id")
	// ErrNoSigningSecret is returned by AuthenticateSigned for a key made
	// without a master key (before request signing existed): it works as a
	// Bearer key only.
	ErrNoSigningSecret = errors.New("key has no stored signing secret")
	// ErrMasterKey is returned when a sealed secret does not open: the
	// master key is missing or not the one it was sealed with.
	ErrMasterKey = errors.New("sealed secret does not open with the master key")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("registry is closed")
)
