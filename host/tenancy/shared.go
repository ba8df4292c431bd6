package tenancy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/internal/pgmigrate"
)

// The registry and the key-value store live in the data directory
// (bbolt files), or in PostgreSQL when [cluster] postgres is set: then
// every node of a cluster shares them.

// openKV opens the key-value store of the configuration.
func (t *Tenancy) openKV(ctx context.Context) (kv.Storer, error) {
	url := t.cfg.Cluster.Postgres
	if url == "" {
		return kv.Open(filepath.Join(t.cfg.DataDir, "kv.db"), kv.WithQuota(t.kvQuota))
	}
	var s *kv.Postgres
	err := waitFor(ctx, t, "key-value store", func(ctx context.Context) error {
		var err error
		s, err = kv.OpenPostgres(ctx, url, kv.WithQuota(t.kvQuota))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// openRegistry opens the registry of the configuration.
func (t *Tenancy) openRegistry(ctx context.Context, opts ...tenant.Option) (tenant.Registrar, error) {
	url := t.cfg.Cluster.Postgres
	if url == "" {
		return tenant.Open(filepath.Join(t.cfg.DataDir, "registry.db"), t.blobs.remote, opts...)
	}
	opts = append(opts, tenant.WithLogger(t.log.With("component", "registry")))
	var r *tenant.Postgres
	err := waitFor(ctx, t, "registry", func(ctx context.Context) error {
		var err error
		r, err = tenant.OpenPostgres(ctx, url, t.blobs.remote, opts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// waitFor calls open until it succeeds or ctx ends: a node started
// before its database waits for it, saying so in the log at once and
// every 10 s. An error that no wait cures (a malformed URL, a newer
// schema) stops at once.
func waitFor(ctx context.Context, t *Tenancy, what string, open func(context.Context) error) error {
	start := time.Now()
	said := time.Time{}
	backoff := 200 * time.Millisecond
	for {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := open(octx)
		cancel()
		if err == nil {
			if !said.IsZero() {
				t.log.Info("PostgreSQL reached", "for", what, "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if isPermanentPG(err) {
			return err
		}
		if said.IsZero() || time.Since(said) >= 10*time.Second {
			msg := "waiting for PostgreSQL; retrying"
			if !said.IsZero() {
				msg = "still waiting for PostgreSQL"
			}
			t.log.Warn(msg, "for", what, "waited", time.Since(start).Round(time.Second), "err", err)
			said = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for PostgreSQL (%s): %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// isPermanentPG tells the errors waiting does not cure: a malformed URL,
// refused credentials, a database that does not exist, a schema newer
// than this binary.
func isPermanentPG(err error) bool {
	var pe *pgconn.PgError
	var ce *pgconn.ParseConfigError
	switch {
	case errors.Is(err, tenant.ErrInvalid), errors.As(err, &ce),
		errors.Is(err, pgmigrate.ErrNewerSchema), errors.Is(err, pgmigrate.ErrBadMigrations):
		return true
	case errors.As(err, &pe):
		// 28: invalid authorization; 3D000: no such database.
		return strings.HasPrefix(pe.Code, "28") || pe.Code == "3D000"
	}
	return false
}
