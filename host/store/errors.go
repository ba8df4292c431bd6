package store

import "errors"

var (
	// ErrInvalidName is returned for a tenant, bucket or key that is not allowed.
	ErrInvalidName = errors.New("invalid name")
	// ErrNotFound is returned when the object does not exist.
	ErrNotFound = errors.New("object not found")
)
