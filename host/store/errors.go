package store

import "errors"

var (
	// ErrInvalidName is returned for a tenant, bucket or key that is not allowed.
	ErrInvalidName = errors.New("invalid name")
	// ErrNotFound is returned when the object does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrInvalidConfig is returned by NewS3 for a missing endpoint or bucket
	// or a malformed prefix.
	ErrInvalidConfig = errors.New("invalid store configuration")
	// ErrNoBucket is returned by NewS3 when the real bucket does not exist
	// and CreateBucket is off.
	ErrNoBucket = errors.New("bucket does not exist")
	// ErrQuotaExceeded is returned by a Metered store's Put when the object
	// would take the tenant over its storage quota.
	ErrQuotaExceeded = errors.New("storage quota exceeded")
)
