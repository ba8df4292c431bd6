package kv

import "errors"

// Errors returned by the store, wrapped with the operation and key.
var (
	ErrInvalidTenant = errors.New("tenant name is empty or too long")
	ErrEmptyKey      = errors.New("key is empty")
	ErrKeyTooLarge   = errors.New("key too large")
	ErrValueTooLarge = errors.New("value too large")
	ErrInvalidLimit  = errors.New("limit must be positive")
	ErrClosed        = errors.New("store is closed")
	// ErrQuotaExceeded: the write would take the tenant past its quota
	// (see WithQuota); nothing was written.
	ErrQuotaExceeded = errors.New("tenant's kv quota exceeded")
)
