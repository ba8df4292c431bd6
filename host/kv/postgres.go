package kv

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wasmvoice/mediaserver/internal/pgmigrate"
)

// Storer is what the server asks of a key-value store. Store (bbolt, the
// single-binary default) and Postgres (shared by the nodes of a cluster)
// serve it with the same behaviour, checked by the same tests.
type Storer interface {
	Get(tenant, key string) ([]byte, bool, error)
	Set(tenant, key string, val []byte) error
	Delete(tenant, key string) (bool, error)
	Usage(tenant string) (int64, error)
	List(tenant, prefix, after string, limit int) (entries []Entry, more bool, err error)
	MaxKeyBytes() int
	MaxValueBytes() int
	Close() error
}

var (
	_ Storer = (*Store)(nil)
	_ Storer = (*Postgres)(nil)
)

// Postgres is the key-value store in PostgreSQL, shared by the nodes of a
// cluster: a value a plugin sets on one node is read on another by the
// next event. Quotas are exact across nodes: a tenant's writes lock its
// usage row (kv_set in migrations/0001_kv.sql).
type Postgres struct {
	pool     *pgxpool.Pool
	maxKey   int
	maxValue int
	quota    func(tenant string) int64
}

//go:embed migrations/*.sql
var migrations embed.FS

// opTimeout bounds one operation: a plugin's kv_* call fails instead of
// waiting on a database that does not answer (its own deadline is
// shorter still).
const opTimeout = 5 * time.Second

// OpenPostgres connects to the database at url and applies the store's
// migrations. Of the options, WithMaxKeyBytes, WithMaxValueBytes and
// WithQuota apply.
func OpenPostgres(ctx context.Context, url string, opts ...Option) (*Postgres, error) {
	o := options{maxKey: DefaultMaxKeyBytes, maxValue: DefaultMaxValueBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxKey <= 0 || o.maxValue <= 0 {
		return nil, fmt.Errorf("kv: open postgres: %w", ErrInvalidLimit)
	}
	if o.quota == nil {
		o.quota = func(string) int64 { return 0 }
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("kv: open postgres: database url: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("kv: open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("kv: open postgres: %w", err)
	}
	ms, err := pgmigrate.Load(migrations, "migrations")
	if err == nil {
		_, err = pgmigrate.Apply(ctx, pool, "kv", ms)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("kv: open postgres: %w", err)
	}
	return &Postgres{pool: pool, maxKey: o.maxKey, maxValue: o.maxValue, quota: o.quota}, nil
}

// MaxKeyBytes is the largest key accepted.
func (s *Postgres) MaxKeyBytes() int { return s.maxKey }

// MaxValueBytes is the largest value accepted.
func (s *Postgres) MaxValueBytes() int { return s.maxValue }

// Close closes the connections.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}

func (s *Postgres) check(tenant, key string) error {
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

func mapPGErr(err error) error {
	if err != nil && strings.Contains(err.Error(), "closed pool") {
		return ErrClosed
	}
	return err
}

// Get returns the value of key for tenant; ok is false when it does not
// exist.
func (s *Postgres) Get(tenant, key string) ([]byte, bool, error) {
	if err := s.check(tenant, key); err != nil {
		return nil, false, fmt.Errorf("kv: get %q: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var val []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM kv_entries WHERE tenant = $1 AND key = $2`, tenant, []byte(key)).Scan(&val)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("kv: get %q: %w", key, mapPGErr(err))
	}
	if val == nil {
		val = []byte{}
	}
	return val, true, nil
}

// Set stores val under key for tenant within its quota.
func (s *Postgres) Set(tenant, key string, val []byte) error {
	if err := s.check(tenant, key); err != nil {
		return fmt.Errorf("kv: set %q: %w", key, err)
	}
	if len(val) > s.maxValue {
		return fmt.Errorf("kv: set %q: %w", key, ErrValueTooLarge)
	}
	if val == nil {
		val = []byte{}
	}
	q := s.quota(tenant)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var ok bool
	var used, delta int64
	err := s.pool.QueryRow(ctx, `SELECT ok, coalesce(used, 0), coalesce(delta, 0) FROM kv_set($1, $2, $3, $4, $5)`,
		tenant, []byte(key), val, q, EntryOverhead).Scan(&ok, &used, &delta)
	if err != nil {
		return fmt.Errorf("kv: set %q: %w", key, mapPGErr(err))
	}
	if !ok {
		return fmt.Errorf("kv: set %q: %w: %d of %d bytes used, the value needs %d more", key, ErrQuotaExceeded, used, q, delta)
	}
	return nil
}

// Delete removes key for tenant and reports whether it existed.
func (s *Postgres) Delete(tenant, key string) (bool, error) {
	if err := s.check(tenant, key); err != nil {
		return false, fmt.Errorf("kv: delete %q: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var existed bool
	if err := s.pool.QueryRow(ctx, `SELECT kv_delete($1, $2, $3)`, tenant, []byte(key), EntryOverhead).Scan(&existed); err != nil {
		return false, fmt.Errorf("kv: delete %q: %w", key, mapPGErr(err))
	}
	return existed, nil
}

// Usage returns the bytes tenant's entries count against its quota.
func (s *Postgres) Usage(tenant string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT bytes FROM kv_usage WHERE tenant = $1`, tenant).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("kv: usage: %w", mapPGErr(err))
	}
	return n, nil
}

// List returns up to limit of tenant's keys that start with prefix, in key
// order, after the key after (see Store.List).
func (s *Postgres) List(tenant, prefix, after string, limit int) ([]Entry, bool, error) {
	if tenant == "" || len(tenant) > DefaultMaxTenantBytes {
		return nil, false, fmt.Errorf("kv: list: %w", ErrInvalidTenant)
	}
	if limit <= 0 {
		limit = 1000
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT key, length(value) FROM kv_entries
		WHERE tenant = $1 AND substring(key from 1 for $3) = $2 AND key > $4
		ORDER BY key LIMIT $5`, tenant, []byte(prefix), len(prefix), []byte(after), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("kv: list: %w", mapPGErr(err))
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var k []byte
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, false, fmt.Errorf("kv: list: %w", mapPGErr(err))
		}
		out = append(out, Entry{Key: string(k), Size: n})
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("kv: list: %w", mapPGErr(err))
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
