package tenant

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/internal/pgmigrate"
)

// Postgres is the tenant registry in PostgreSQL, shared by the nodes of a
// cluster. It behaves as Registry does (the same tests run on both): the
// same records, validation, quotas and errors, and the call path reads an
// in-memory snapshot as there. Every write is one transaction, taken
// under one advisory lock (writes are rare, API-driven: one writer at a
// time, as bbolt has, keeps every check simple and exact) that bumps the
// generation and sends NOTIFY; every node LISTENs, rebuilds its snapshot
// from the database and wakes its watchers, so a plugin assigned through
// one node's API routes the next call on every node. A node whose LISTEN
// connection drops reconnects and rebuilds; it also compares the stored
// generation every PollInterval, in case a notification was lost.
//
// The schema is in migrations/, applied by OpenPostgres (pgmigrate).
type Postgres struct {
	pool  *pgxpool.Pool
	blobs store.Store
	now   func() time.Time
	log   *slog.Logger

	lastUsedEvery time.Duration
	seal          *sealer
	rand          io.Reader
	defaults      Quotas
	snap          atomic.Pointer[snapshot]

	stop    context.CancelFunc
	done    sync.WaitGroup
	closeMu sync.Once
}

//go:embed migrations/*.sql
var migrations embed.FS

// notifyChannel is the LISTEN/NOTIFY channel of registry changes; the
// payload is the new generation.
const notifyChannel = "mediaserver_registry"

// writeLock is the advisory lock every registry write holds.
const writeLock int64 = 0x6d65646961726567 // "mediareg"

// opTimeout bounds one registry operation: a database that does not
// answer fails the API request instead of hanging it.
const opTimeout = 10 * time.Second

// PollInterval is how often a node compares the stored generation with
// its snapshot's, should a notification have been lost.
const PollInterval = 5 * time.Second

// OpenPostgres connects to the database at url (a PostgreSQL URL or
// key=value string), applies the registry's migrations, loads the
// snapshot and starts listening for changes. Plugin bytes go to blobs,
// which every node must share (S3). It fails at once when the database
// cannot be reached; the caller decides whether to wait and retry.
func OpenPostgres(ctx context.Context, url string, blobs store.Store, opts ...Option) (*Postgres, error) {
	o := options{now: time.Now, lastUsedEvery: time.Minute, rand: rand.Reader}
	for _, opt := range opts {
		opt(&o)
	}
	if blobs == nil {
		return nil, fmt.Errorf("tenant: open postgres: nil blob store: %w", ErrInvalid)
	}
	var seal *sealer
	if o.masterKey != nil {
		var err error
		if seal, err = newSealer(o.masterKey); err != nil {
			return nil, fmt.Errorf("tenant: open postgres: %w", err)
		}
	}
	log := o.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool, err := Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("tenant: open postgres: %w", err)
	}
	ms, err := pgmigrate.Load(migrations, "migrations")
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("tenant: open postgres: %w", err)
	}
	applied, err := pgmigrate.Apply(ctx, pool, "registry", ms)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("tenant: open postgres: %w", err)
	}
	if len(applied) > 0 {
		log.Info("registry schema migrated", "versions", applied)
	}
	r := &Postgres{pool: pool, blobs: blobs, now: o.now, log: log, lastUsedEvery: o.lastUsedEvery, seal: seal, rand: o.rand, defaults: o.defaults}
	r.snap.Store(&snapshot{routes: map[string]Route{}, hosts: map[string]Route{}, quotas: map[string]Quotas{}, dial: map[string]*DialPolicy{}, changed: make(chan struct{})})
	if err := r.write(ctx, func(tx pgx.Tx, skip func()) error { return migrateNumberRulesPG(ctx, tx, r.now().UTC(), skip) }); err != nil {
		pool.Close()
		return nil, fmt.Errorf("tenant: open postgres: %w", err)
	}
	if err := r.reload(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("tenant: open postgres: %w", err)
	}
	lctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		r.listen(lctx, url)
	}()
	return r, nil
}

// Connect opens a connection pool to url and checks that the database
// answers.
func Connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%w: database url: %v", ErrInvalid, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// WithLogger sets where the PostgreSQL registry logs its connection
// problems and migrations (default: nowhere). The bbolt registry never
// logs.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Close stops listening and closes the connections. The blob store is the
// caller's.
func (r *Postgres) Close() error {
	r.closeMu.Do(func() {
		r.stop()
		r.done.Wait()
		r.pool.Close()
	})
	return nil
}

func opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

// mapPGErr turns a closed pool into ErrClosed.
func mapPGErr(err error) error {
	if err != nil && (errors.Is(err, puddle.ErrClosedPool) || strings.Contains(err.Error(), "closed pool")) {
		return ErrClosed
	}
	return err
}

// write runs fn in one transaction under the registry's write lock; unless
// fn calls skip, it bumps the generation, rebuilds the snapshot from the
// same transaction, notifies the other nodes, and publishes the snapshot
// once committed.
func (r *Postgres) write(ctx context.Context, fn func(tx pgx.Tx, skip func()) error) error {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return mapPGErr(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
		return err
	}
	unchanged := false
	if err := fn(tx, func() { unchanged = true }); err != nil {
		return err
	}
	if unchanged {
		return tx.Commit(ctx)
	}
	var genText string
	err = tx.QueryRow(ctx, `UPDATE registry_meta SET value = (value::bigint + 1)::text WHERE key = 'generation' RETURNING value`).Scan(&genText)
	if err != nil {
		return err
	}
	gen, _ := strconv.ParseUint(genText, 10, 64)
	snap, err := buildSnapshotPG(ctx, tx, gen)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, genText); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	publishSnapshot(&r.snap, snap)
	return nil
}

// read runs fn in a read-only transaction (one consistent view).
func (r *Postgres) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := r.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapPGErr(err)
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// reload rebuilds the snapshot from the database.
func (r *Postgres) reload(ctx context.Context) error {
	return r.read(ctx, func(tx pgx.Tx) error {
		gen, err := generationPG(ctx, tx)
		if err != nil {
			return err
		}
		if gen <= r.snap.Load().gen && r.snap.Load().gen != 0 {
			return nil
		}
		snap, err := buildSnapshotPG(ctx, tx, gen)
		if err != nil {
			return err
		}
		publishSnapshot(&r.snap, snap)
		return nil
	})
}

func generationPG(ctx context.Context, q pgx.Tx) (uint64, error) {
	var s string
	if err := q.QueryRow(ctx, `SELECT value FROM registry_meta WHERE key = 'generation'`).Scan(&s); err != nil {
		return 0, err
	}
	return strconv.ParseUint(s, 10, 64)
}

// listen follows the other nodes' changes: LISTEN on its own connection,
// a rebuild on each notification, on every reconnection and when the
// stored generation moved without one.
func (r *Postgres) listen(ctx context.Context, url string) {
	backoff := 100 * time.Millisecond
	down := false
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+notifyChannel)
		}
		if err == nil {
			if down {
				r.log.Info("registry: PostgreSQL is back; following changes again")
			}
			down = false
			backoff = 100 * time.Millisecond
			if err := r.reload(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("registry: reload failed", "err", err)
			}
			err = r.follow(ctx, conn)
		}
		if conn != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		if !down {
			r.log.Warn("registry: lost PostgreSQL; calls route on the last snapshot while it reconnects", "err", err)
			down = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// follow waits for notifications on conn until it fails or ctx ends.
func (r *Postgres) follow(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, PollInterval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			if gen, perr := strconv.ParseUint(n.Payload, 10, 64); perr == nil && gen <= r.snap.Load().gen {
				continue // our own write, published already
			}
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			// No notification for PollInterval: compare generations.
			if !conn.IsClosed() {
				break
			}
			return err
		default:
			return err
		}
		rctx, cancel := opContext()
		err = r.reload(rctx)
		cancel()
		if err != nil {
			return err
		}
	}
}

// Route, RouteHost, Quotas and Watch read the snapshot, as Registry's do.

// Route returns where a call to number goes (see Registry.Route).
func (r *Postgres) Route(number string) (Route, bool) { return r.snap.Load().route(number) }

// RouteHost returns where a call to a Request-URI host goes (see
// Registry.RouteHost).
func (r *Postgres) RouteHost(host string) (Route, bool) { return r.snap.Load().routeHost(host) }

// DialPolicy returns a tenant's own dial policy from the snapshot (see
// Registry.DialPolicy).
func (r *Postgres) DialPolicy(tenant string) (*DialPolicy, bool) {
	d, ok := r.snap.Load().dial[tenant]
	return d, ok
}

// Quotas returns a tenant's quotas from the snapshot.
func (r *Postgres) Quotas(tenant string) (Quotas, bool) {
	q, ok := r.snap.Load().quotas[tenant]
	return q, ok
}

// Watch returns the snapshot's generation and a channel closed at the
// next change, made on any node.
func (r *Postgres) Watch() (uint64, <-chan struct{}) {
	s := r.snap.Load()
	return s.gen, s.changed
}

// quota is a tenant's own quota, or the default when its own is zero.
func (r *Postgres) quota(own, def int) int {
	if own > 0 {
		return own
	}
	return def
}

// getDoc reads one JSON record; ok is false when no row matched.
func getDoc[T any](ctx context.Context, tx pgx.Tx, query string, args ...any) (T, bool, error) {
	var v T
	var b []byte
	err := tx.QueryRow(ctx, query, args...).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("tenant: corrupt record: %w", err)
	}
	return v, true, nil
}

// listDocs reads JSON records in the query's order.
func listDocs[T any](ctx context.Context, tx pgx.Tx, query string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("tenant: corrupt record: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func docOf(v any) []byte {
	b, _ := json.Marshal(v) // registry records always marshal
	return b
}

// buildSnapshotPG is buildSnapshot over the tables.
func buildSnapshotPG(ctx context.Context, tx pgx.Tx, gen uint64) (*snapshot, error) {
	s := &snapshot{gen: gen, routes: map[string]Route{}, hosts: map[string]Route{}, quotas: map[string]Quotas{}, dial: map[string]*DialPolicy{}, changed: make(chan struct{})}
	tenants, err := listDocs[Tenant](ctx, tx, `SELECT doc FROM tenants`)
	if err != nil {
		return nil, err
	}
	for _, t := range tenants {
		s.quotas[t.ID] = t.Quotas
		if t.Dial != nil {
			s.dial[t.ID] = t.Dial
		}
	}
	apps, err := listDocs[Application](ctx, tx, `SELECT doc FROM applications`)
	if err != nil {
		return nil, err
	}
	byApp := make(map[[2]string]Application, len(apps))
	for _, a := range apps {
		byApp[[2]string{a.Tenant, a.ID}] = a
	}
	rules, err := listDocs[Rule](ctx, tx, `SELECT doc FROM rules`)
	if err != nil {
		return nil, err
	}
	for _, rule := range rules {
		app, ok := rule.targetIn(func(id string) (Application, bool) {
			a, ok := byApp[[2]string{rule.Tenant, id}]
			return a, ok
		})
		if !ok {
			continue
		}
		rt := Route{Tenant: rule.Tenant, App: app.ID, Rule: rule.ID, Plugin: app.Plugin, Webhook: app.Webhook,
			Model: app.Model, Quotas: s.quotas[rule.Tenant]}
		if rule.TriggerType == TriggerRequestURIHostname {
			s.hosts[rule.TriggerValue] = rt
		} else {
			s.routes[rule.TriggerValue] = rt
		}
	}
	return s, nil
}
