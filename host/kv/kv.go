// Package kv is the key-value store a tenant's plugins share across calls
// (the "MyMeetingService" state of the Chime examples). It sits on one bbolt
// file; each tenant gets its own nested bucket, so one tenant can never read
// or overwrite another's keys.
package kv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults for the limits; see WithMaxKeyBytes and WithMaxValueBytes.
const (
	DefaultMaxKeyBytes    = 256
	DefaultMaxValueBytes  = 64 << 10
	DefaultMaxTenantBytes = 256
)

// rootBucket holds one nested bucket per tenant. A root keeps room for other
// top-level buckets (quotas, metadata) without a file-format change.
var rootBucket = []byte("tenants")

// Store is a tenant-scoped key-value store. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	maxKey   int
	maxValue int
}

// Option configures Open.
type Option func(*options)

type options struct {
	maxKey      int
	maxValue    int
	lockTimeout time.Duration
}

// WithMaxKeyBytes sets the largest accepted key (default 256 bytes).
func WithMaxKeyBytes(n int) Option { return func(o *options) { o.maxKey = n } }

// WithMaxValueBytes sets the largest accepted value (default 64 KiB).
func WithMaxValueBytes(n int) Option { return func(o *options) { o.maxValue = n } }

// WithLockTimeout bounds the wait for the file lock held by another process
// (default 1 s): a second server on the same data directory fails fast
// instead of hanging.
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// Open opens or creates the store file at path, creating its directory.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{maxKey: DefaultMaxKeyBytes, maxValue: DefaultMaxValueBytes, lockTimeout: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxKey <= 0 || o.maxValue <= 0 {
		return nil, fmt.Errorf("kv: open %s: %w", path, ErrInvalidLimit)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("kv: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("kv: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(rootBucket)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("kv: open %s: %w", path, err)
	}
	return &Store{db: db, maxKey: o.maxKey, maxValue: o.maxValue}, nil
}

// Close closes the file. Later calls fail with ErrClosed.
func (s *Store) Close() error {
	return s.db.Close()
}

func (s *Store) check(tenant, key string) error {
	switch {
	case tenant == "" || len(tenant) > DefaultMaxTenantBytes:
		return ErrInvalidTenant
	case key == "":
		return ErrEmptyKey
	case len(key) > s.maxKey:
		return ErrKeyTooLarge
	}
	return nil
}

// Get returns a copy of the value of key for tenant; ok is false when the key
// does not exist.
func (s *Store) Get(tenant, key string) (val []byte, ok bool, err error) {
	if err := s.check(tenant, key); err != nil {
		return nil, false, fmt.Errorf("kv: get %q: %w", key, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(rootBucket).Bucket([]byte(tenant))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			// bbolt's slice is only valid inside the transaction.
			val, ok = append([]byte{}, v...), true
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("kv: get %q: %w", key, mapErr(err))
	}
	return val, ok, nil
}

// Set stores val under key for tenant, replacing any previous value.
func (s *Store) Set(tenant, key string, val []byte) error {
	if err := s.check(tenant, key); err != nil {
		return fmt.Errorf("kv: set %q: %w", key, err)
	}
	if len(val) > s.maxValue {
		return fmt.Errorf("kv: set %q: %w", key, ErrValueTooLarge)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(rootBucket).CreateBucketIfNotExists([]byte(tenant))
		if err != nil {
			return err
		}
		if val == nil {
			val = []byte{} // bbolt stores nil as "no value"; keep an empty value readable
		}
		return b.Put([]byte(key), val)
	})
	if err != nil {
		return fmt.Errorf("kv: set %q: %w", key, mapErr(err))
	}
	return nil
}

// Delete removes key for tenant and reports whether it existed.
func (s *Store) Delete(tenant, key string) (existed bool, err error) {
	if err := s.check(tenant, key); err != nil {
		return false, fmt.Errorf("kv: delete %q: %w", key, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(rootBucket).Bucket([]byte(tenant))
		if b == nil || b.Get([]byte(key)) == nil {
			return nil
		}
		existed = true
		return b.Delete([]byte(key))
	})
	if err != nil {
		return false, fmt.Errorf("kv: delete %q: %w", key, mapErr(err))
	}
	return existed, nil
}

func mapErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
