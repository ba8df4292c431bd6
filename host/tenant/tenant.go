// Package tenant is the server's durable registry of tenants, their API
// keys, applications, phone numbers, SIP rules and plugin versions.
//
// State lives in one bbolt file (e.g. data/registry.db); every change is one
// bbolt transaction, so it is atomic and survives a crash or kill -9. Plugin
// bytes live in the bucket store (host/store) under the tenant's "plugins"
// bucket, keyed by their SHA-256.
//
// Every method that touches a tenant's objects takes the tenant id and only
// ever reads or changes that tenant's objects; another tenant's object is
// reported as ErrNotFound, exactly as a missing one, so existence never
// leaks. The registry does not decide who may call which method: the HTTP
// layer does that from the Key that Authenticate returns (Admin keys manage
// tenants, tenant keys only their own tenant).
//
// The call path reads an in-memory snapshot (Route), rebuilt after each
// write and swapped atomically, so a call lookup never touches the disk and
// never waits for a writer.
package tenant

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmvoice/mediaserver/host/store"
)

// Top-level bbolt buckets. Tenant-scoped records are keyed
// "<tenant>\x00<id>": a tenant id holds no NUL, so one tenant's prefix can
// never match another's ("iso\x00" is not a prefix of "iso-b\x00...").
var (
	bucketMeta    = []byte("meta")
	bucketTenants = []byte("tenants")
	bucketKeys    = []byte("keys")
	bucketApps    = []byte("apps")
	bucketNumbers = []byte("numbers")
	bucketPlugins = []byte("plugins")
	bucketRules   = []byte("rules")
	// bucketTriggers indexes rules by "<trigger type>\x00<value>" (server-
	// wide: a trigger value has one rule) to "<tenant>\x00<rule id>".
	bucketTriggers = []byte("triggers")

	keyGeneration = []byte("generation")
)

// PluginBucket is the bucket of the blob store that holds a tenant's plugin
// versions, one object per SHA-256 (lowercase hex).
const PluginBucket = "plugins"

// MaxHistory is how many previous plugin versions an application remembers
// for Rollback.
const MaxHistory = 10

// Registry is the tenant registry. It is safe for concurrent use.
type Registry struct {
	db    *bolt.DB
	blobs store.Store
	now   func() time.Time

	lastUsedEvery time.Duration
	seal          *sealer // nil without a master key
	rand          io.Reader
	defaults      Quotas
	snap          atomic.Pointer[snapshot]
}

// Option configures Open.
type Option func(*options)

type options struct {
	now           func() time.Time
	lockTimeout   time.Duration
	lastUsedEvery time.Duration
	masterKey     []byte
	rand          io.Reader
	defaults      Quotas
	log           *slog.Logger // Postgres only
}

// WithClock sets the clock used for Created and LastUsed times.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLockTimeout bounds the wait for the file lock held by another process
// (default 1 s): a second server on the same data directory fails fast.
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithDefaultQuotas sets the quotas the registry enforces itself (MaxApps,
// MaxPluginVersions) for tenants whose own are zero; zero here too is no
// limit.
func WithDefaultQuotas(q Quotas) Option { return func(o *options) { o.defaults = q } }

// WithLastUsedGranularity sets how stale a key's LastUsed may get before
// Authenticate writes it again (default 1 minute). Writing it on every
// request would turn each API call into a disk sync.
func WithLastUsedGranularity(d time.Duration) Option {
	return func(o *options) { o.lastUsedEvery = d }
}

// WithRandom sets where key ids and secrets come from (default
// crypto/rand.Reader). Tests use it for keys known in advance.
func WithRandom(r io.Reader) Option { return func(o *options) { o.rand = r } }

// WithMasterKey sets the AES-256 key (MasterKeySize bytes) that seals API
// key secrets at rest so that signed requests (AWS Signature Version 4)
// can be verified: see AuthenticateSigned. Without it, new keys work as
// Bearer keys only.
func WithMasterKey(key []byte) Option {
	return func(o *options) { o.masterKey = append([]byte(nil), key...) }
}

// Open opens or creates the registry file at path (creating its
// directory); plugin bytes go to blobs.
func Open(path string, blobs store.Store, opts ...Option) (*Registry, error) {
	o := options{now: time.Now, lockTimeout: time.Second, lastUsedEvery: time.Minute, rand: rand.Reader}
	for _, opt := range opts {
		opt(&o)
	}
	if blobs == nil {
		return nil, fmt.Errorf("tenant: open %s: nil blob store: %w", path, ErrInvalid)
	}
	var seal *sealer
	if o.masterKey != nil {
		var err error
		if seal, err = newSealer(o.masterKey); err != nil {
			return nil, fmt.Errorf("tenant: open %s: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("tenant: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("tenant: open %s: %w", path, err)
	}
	r := &Registry{db: db, blobs: blobs, now: o.now, lastUsedEvery: o.lastUsedEvery, seal: seal, rand: o.rand, defaults: o.defaults}
	var snap *snapshot
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketTenants, bucketKeys, bucketApps, bucketNumbers, bucketPlugins, bucketRules, bucketTriggers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := migrateNumberRules(tx, o.now().UTC()); err != nil {
			return err
		}
		var err error
		snap, err = buildSnapshot(tx, generation(tx))
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("tenant: open %s: %w", path, err)
	}
	r.snap.Store(snap)
	return r, nil
}

// quota is a tenant's own quota, or the default when its own is zero.
func (r *Registry) quota(own, def int) int {
	if own > 0 {
		return own
	}
	return def
}

// Close closes the database file. The blob store is the caller's.
func (r *Registry) Close() error {
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("tenant: close: %w", err)
	}
	return nil
}

// update runs fn in one write transaction, bumps the generation and
// publishes a fresh snapshot built inside the same transaction, so the
// snapshot is exactly the committed state.
//
// fn calls skip (at most once, just before returning nil) for a write that
// turns out to change nothing: no generation bump, no watcher wakes up.
func (r *Registry) update(fn func(tx *bolt.Tx, skip func()) error) error {
	var snap *snapshot
	unchanged := false
	err := r.db.Update(func(tx *bolt.Tx) error {
		if err := fn(tx, func() { unchanged = true }); err != nil {
			return err
		}
		if unchanged {
			return nil
		}
		gen := generation(tx) + 1
		if err := tx.Bucket(bucketMeta).Put(keyGeneration, u64(gen)); err != nil {
			return err
		}
		var err error
		snap, err = buildSnapshot(tx, gen)
		return err
	})
	if err != nil {
		if errors.Is(err, bolt.ErrDatabaseNotOpen) {
			return ErrClosed
		}
		return err
	}
	if snap != nil {
		r.publish(snap)
	}
	return nil
}

func (r *Registry) view(fn func(tx *bolt.Tx) error) error {
	err := r.db.View(fn)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// publish installs snap unless a newer one is already in place (two
// writers commit in order but may reach publish out of order), then wakes
// the watchers of the replaced snapshot.
func (r *Registry) publish(snap *snapshot) { publishSnapshot(&r.snap, snap) }

// publishSnapshot installs snap in p unless a newer one is there.
func publishSnapshot(p *atomic.Pointer[snapshot], snap *snapshot) {
	for {
		old := p.Load()
		if old.gen >= snap.gen {
			return
		}
		if p.CompareAndSwap(old, snap) {
			close(old.changed)
			return
		}
	}
}

func generation(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(keyGeneration)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
