// Package store is the tenant's bucket store: where Chime's AudioSource and
// RecordingDestination of Type "S3" resolve. The default is a folder on
// disk (bucket → folder, key → file); the object key never escapes its bucket.
package store

import (
	"context"
	"io"
	"time"
)

// Info describes one stored object.
type Info struct {
	Bucket  string
	Key     string
	Size    int64
	ModTime time.Time
}

// Store holds objects per tenant and bucket.
type Store interface {
	// Open returns the object's content; the caller closes it.
	Open(ctx context.Context, tenant, bucket, key string) (io.ReadCloser, Info, error)
	// Put stores r as the object, replacing any previous one atomically.
	Put(ctx context.Context, tenant, bucket, key string, r io.Reader) (Info, error)
	Stat(ctx context.Context, tenant, bucket, key string) (Info, error)
	Delete(ctx context.Context, tenant, bucket, key string) error
	// List returns the objects whose key starts with prefix, in key order.
	List(ctx context.Context, tenant, bucket, prefix string) ([]Info, error)
}
