// Package kv is the key-value store a tenant's plugins share across calls
// (the "MyMeetingService" state of the Chime examples). It sits on one bbolt
// file; each tenant gets its own nested bucket, so one tenant can never read
// or overwrite another's keys.
//
// Each tenant's usage (its keys and values, plus EntryOverhead bytes an
// entry) is kept in the same file, updated in the transaction of every
// write, and a write that would take it past the tenant's quota
// (WithQuota) fails with ErrQuotaExceeded.
package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults for the limits; see WithMaxKeyBytes and WithMaxValueBytes.
const (
	DefaultMaxKeyBytes    = 256
	DefaultMaxValueBytes  = 64 << 10
	DefaultMaxTenantBytes = 256
)

// EntryOverhead is what an entry counts against its tenant's quota beyond
// its key and value: about what bbolt spends on it.
const EntryOverhead = 32

// rootBucket holds one nested bucket per tenant; usageBucket each
// tenant's usage in bytes (8 bytes, big-endian).
var (
	rootBucket  = []byte("tenants")
	usageBucket = []byte("usage")
)

// Store is a tenant-scoped key-value store. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	maxKey   int
	maxValue int
	quota    func(tenant string) int64
}

// Option configures Open.
type Option func(*options)

type options struct {
	maxKey      int
	maxValue    int
	lockTimeout time.Duration
	quota       func(tenant string) int64
}

// WithMaxKeyBytes sets the largest accepted key (default 256 bytes).
func WithMaxKeyBytes(n int) Option { return func(o *options) { o.maxKey = n } }

// WithMaxValueBytes sets the largest accepted value (default 64 KiB).
func WithMaxValueBytes(n int) Option { return func(o *options) { o.maxValue = n } }

// WithQuota sets each tenant's quota in bytes (see EntryOverhead); zero
// or less is no quota. quota is called in every write transaction, so it
// must be quick and must not use the store.
func WithQuota(quota func(tenant string) int64) Option { return func(o *options) { o.quota = quota } }

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
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		if tx.Bucket(usageBucket) != nil {
			return nil
		}
		// A file from before usage was kept: measure it once.
		usage, err := tx.CreateBucket(usageBucket)
		if err != nil {
			return err
		}
		return root.ForEachBucket(func(tenant []byte) error {
			var n int64
			err := root.Bucket(tenant).ForEach(func(k, v []byte) error {
				n += entrySize(k, v)
				return nil
			})
			if err != nil {
				return err
			}
			return usage.Put(tenant, binary.BigEndian.AppendUint64(nil, uint64(n)))
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("kv: open %s: %w", path, err)
	}
	if o.quota == nil {
		o.quota = func(string) int64 { return 0 }
	}
	return &Store{db: db, maxKey: o.maxKey, maxValue: o.maxValue, quota: o.quota}, nil
}

// MaxKeyBytes is the largest key accepted.
func (s *Store) MaxKeyBytes() int { return s.maxKey }

// MaxValueBytes is the largest value accepted.
func (s *Store) MaxValueBytes() int { return s.maxValue }

func entrySize(key, val []byte) int64 { return int64(len(key) + len(val) + EntryOverhead) }

func usageOf(tx *bolt.Tx, tenant string) int64 {
	if v := tx.Bucket(usageBucket).Get([]byte(tenant)); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func setUsage(tx *bolt.Tx, tenant string, n int64) error {
	return tx.Bucket(usageBucket).Put([]byte(tenant), binary.BigEndian.AppendUint64(nil, uint64(max(n, 0))))
}

// Usage returns the bytes tenant's entries count against its quota.
func (s *Store) Usage(tenant string) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = usageOf(tx, tenant)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("kv: usage: %w", mapErr(err))
	}
	return n, nil
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
		k := []byte(key)
		delta := entrySize(k, val)
		if old := b.Get(k); old != nil {
			delta -= entrySize(k, old)
		}
		used := usageOf(tx, tenant)
		if q := s.quota(tenant); delta > 0 && q > 0 && used+delta > q {
			return fmt.Errorf("%w: %d of %d bytes used, the value needs %d more", ErrQuotaExceeded, used, q, delta)
		}
		if err := b.Put(k, val); err != nil {
			return err
		}
		return setUsage(tx, tenant, used+delta)
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
		if b == nil {
			return nil
		}
		k := []byte(key)
		old := b.Get(k)
		if old == nil {
			return nil
		}
		existed = true
		size := entrySize(k, old)
		if err := b.Delete(k); err != nil {
			return err
		}
		return setUsage(tx, tenant, usageOf(tx, tenant)-size)
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

// Entry is one key of a listing and its value's size.
type Entry struct {
	Key  string
	Size int
}

// List returns up to limit of tenant's keys that start with prefix, in key
// order, beginning after the key after ("" for the first); more reports
// whether keys are left beyond them. limit <= 0 means 1000.
func (s *Store) List(tenant, prefix, after string, limit int) (entries []Entry, more bool, err error) {
	if tenant == "" || len(tenant) > DefaultMaxTenantBytes {
		return nil, false, fmt.Errorf("kv: list: %w", ErrInvalidTenant)
	}
	if limit <= 0 {
		limit = 1000
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(rootBucket).Bucket([]byte(tenant))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.Seek([]byte(prefix))
		if after != "" && after >= prefix {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			if len(entries) == limit {
				more = true
				break
			}
			entries = append(entries, Entry{Key: string(k), Size: len(v)})
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("kv: list: %w", mapErr(err))
	}
	return entries, more, nil
}
