// Package pgmigrate applies a component's versioned schema migrations to
// a PostgreSQL database, once, in order, however many nodes start at the
// same time.
//
// Migrations are SQL files named NNNN_what.sql (NNNN: the version, from
// 1, no gaps), embedded in the component that owns the tables. Applied
// versions are recorded in schema_migrations (component, version, name,
// applied). Each file runs in its own transaction with its record, under
// a transaction-scoped advisory lock, so two nodes starting together
// apply each migration exactly once. A database that records a version
// this binary does not have (a newer binary migrated it) is refused.
package pgmigrate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors.
var (
	// ErrBadMigrations: the embedded files are misnamed or have gaps.
	ErrBadMigrations = errors.New("malformed migrations")
	// ErrNewerSchema: the database has versions this binary does not.
	ErrNewerSchema = errors.New("database schema is newer than this binary")
)

var fileName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Migration is one file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the migrations in dir of fsys, in version order.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("pgmigrate: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("pgmigrate: %s: want NNNN_name.sql: %w", e.Name(), ErrBadMigrations)
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("pgmigrate: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("pgmigrate: %s: version %d, want %d: %w", m.Name, m.Version, i+1, ErrBadMigrations)
		}
	}
	return ms, nil
}

// Apply brings component's schema to the last of ms and returns the
// versions it applied now.
func Apply(ctx context.Context, pool *pgxpool.Pool, component string, ms []Migration) ([]int, error) {
	lock := lockKey(component)
	_, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component text COLLATE "C" NOT NULL,
		version   integer NOT NULL,
		name      text NOT NULL,
		applied   timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`)
	if err != nil {
		// Two nodes creating the table at once: one loses the race on
		// the catalog's unique index; the table exists either way.
		if _, err2 := pool.Exec(ctx, `SELECT 1 FROM schema_migrations LIMIT 1`); err2 != nil {
			return nil, fmt.Errorf("pgmigrate: %s: %w", component, err)
		}
	}
	var applied []int
	for _, m := range ms {
		done, err := applyOne(ctx, pool, component, lock, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	var newest int
	err = pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = $1`, component).Scan(&newest)
	if err != nil {
		return applied, fmt.Errorf("pgmigrate: %s: %w", component, err)
	}
	if newest > len(ms) {
		return applied, fmt.Errorf("pgmigrate: %s: database at version %d, this binary knows %d: %w", component, newest, len(ms), ErrNewerSchema)
	}
	return applied, nil
}

func applyOne(ctx context.Context, pool *pgxpool.Pool, component string, lock int64, m Migration) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("pgmigrate: %s: %w", component, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lock); err != nil {
		return false, fmt.Errorf("pgmigrate: %s: lock: %w", component, err)
	}
	var n int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE component = $1 AND version = $2`, component, m.Version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("pgmigrate: %s: %w", component, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("pgmigrate: %s: %s: %w", component, m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)`, component, m.Version, m.Name); err != nil {
		return false, fmt.Errorf("pgmigrate: %s: %s: %w", component, m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("pgmigrate: %s: %s: %w", component, m.Name, err)
	}
	return true, nil
}

// lockKey is the advisory lock of a component's migrations.
func lockKey(component string) int64 {
	h := fnv.New64a()
	h.Write([]byte("mediaserver migrations " + component))
	return int64(h.Sum64())
}
