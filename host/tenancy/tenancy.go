// Package tenancy runs the tenants of a media server: the registry
// (host/tenant) and its watcher, the plugin runtime and the tenants'
// loaded plugin versions, admission of inbound calls (routing and quotas),
// the one invoker through which every event of a call reaches its
// application (plugin or webhook, inbound or outbound), the tenants'
// key-value store and bucket storage, their log books, stats and
// Prometheus metrics, API key files, dev-mode reload, the repair of
// recordings a crash left behind, and the api.Plugins implementation.
//
// Plugin versions are loaded per (tenant, sha, limits): two tenants
// running the same bytes get two pools, so no instance, memory or KV scope
// is ever shared between tenants. A call holds the version it started
// with until it ends; an assignment (one registry write) only changes what
// new calls get. A version is closed when no call holds it and no
// application has it as its current version.
//
// Life cycle: New (no I/O), Start (opens the data directory's key-value
// store, storage and registry, loads the current versions), Close.
package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/host/plugin"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/media"
)

// DefaultWebhookTimeout bounds one webhook invocation. plugins.deadline
// (50 ms by default) is meant for Wasm plugins; a webhook crosses the
// network, so it gets Chime's own retry delay instead.
const DefaultWebhookTimeout = 5 * time.Second

// Options are the tenancy's settings beyond the configuration file (the
// server's With… options); zero values take defaults.
type Options struct {
	// Defaults are the server-wide quotas a tenant gets where its own are
	// zero (quota.go: effectiveQuotas).
	Defaults tenant.Quotas
	// CPUSlots caps the plugin invocations one tenant runs at the same
	// time (default max(1, GOMAXPROCS/2)).
	CPUSlots int
	// MetricsOpen serves /metrics without the admin key.
	MetricsOpen bool
	// DevReload is the poll interval of the dev-mode plugin watcher; 0 =
	// off.
	DevReload time.Duration
	// Now is the clock of the call-rate quota (tests; default time.Now).
	Now func() time.Time
	// Peers, on a node of a cluster, counts the other nodes' calls in
	// progress per tenant and is told of this node's, so the concurrent-
	// call and call-rate quotas hold across the cluster (host/cluster).
	// nil: this server alone.
	Peers Peers
}

// Peers is the rest of a cluster, as the quotas see it (host/cluster's
// Node).
type Peers interface {
	// Active is tenant's calls in progress on the other live nodes.
	Active(tenant string) int
	// Nodes is the number of live nodes, this one included.
	Nodes() int
	// Changed tells the others this node's calls in progress for tenant.
	Changed(tenant string, active int)
}

// Invocation is one handler invocation, as reported to an observer.
type Invocation struct {
	Tenant, App string
	// Plugin is the SHA-256 of the plugin version that ran ("" for a
	// webhook, and for outbound calls: see appHandler).
	Plugin   string
	Event    []byte // the event JSON
	Response []byte // the response JSON; nil when Err is set
	Err      error
}

// Config is what New needs.
type Config struct {
	Config  *config.Config // validated
	Options Options
	Logger  *slog.Logger
	// Egress is where webhooks may go.
	Egress *netguard.Policy
	// CacheDir holds wazero's compilation cache.
	CacheDir string
	// Observer, when set, is called after every handler invocation, on the
	// call's goroutine.
	Observer func(Invocation)
	// Calls and LiveRTP are read at scrape time by the metrics: the calls
	// in progress, and the RTP counters of the legs still up (those of
	// ended legs come through LegEnded). Either may be nil.
	Calls   func() []engine.CallSummary
	LiveRTP func() []media.Stats
}

// Tenancy is the tenants of one server. Its methods are safe for
// concurrent use.
type Tenancy struct {
	cfg      *config.Config
	opts     Options
	log      *slog.Logger
	egress   *netguard.Policy
	cacheDir string
	observer func(Invocation)
	calls    func() []engine.CallSummary
	liveRTP  func() []media.Stats

	kv      kv.Storer
	runtime *plugin.Runtime
	reg     tenant.Registrar
	blobs   *Blobs
	logs    *logBook
	m       *metrics

	mu          sync.Mutex
	tenants     map[string]*tenantState
	versions    map[versionKey]*version
	current     map[versionKey]bool          // versions some application routes to, under its tenant's limits now
	webhooks    map[[3]string]plugin.Handler // (tenant, url, model)
	unavailable map[string]error             // configured number → why its application is down
	stopped     bool                         // Close began: no more background loads
	repaired    []string                     // recordings repaired at start (repair.go)

	demoKeyFile, adminKeyFile, demoAWSFile string
	afterRead                              func() // tests: runs once refreshVersions has read the registry

	stop context.CancelFunc
	done sync.WaitGroup
}

// New returns the tenancy of cfg; Start opens it.
func New(cfg Config) *Tenancy {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tenancy{
		cfg:         cfg.Config,
		opts:        cfg.Options,
		log:         log,
		egress:      cfg.Egress,
		cacheDir:    cfg.CacheDir,
		observer:    cfg.Observer,
		calls:       cfg.Calls,
		liveRTP:     cfg.LiveRTP,
		logs:        newLogBook(),
		tenants:     map[string]*tenantState{},
		versions:    map[versionKey]*version{},
		current:     map[versionKey]bool{},
		webhooks:    map[[3]string]plugin.Handler{},
		unavailable: map[string]error{},
	}
}

// Start opens the key-value store and the bucket storage of the data
// directory (which must exist), repairs recordings a crash left behind,
// starts the plugin runtime, opens the registry, applies the
// configuration (Bootstrap), seeds prompts, makes the API keys, loads the
// current plugin versions and starts watching the registry for
// assignments. On error, Close releases what was opened.
func (t *Tenancy) Start(ctx context.Context) error {
	var err error
	if t.kv, err = t.openKV(ctx); err != nil {
		return err
	}
	if err := t.openStorage(ctx); err != nil { // storage.go: folder or S3
		return err
	}
	repaired := t.repairRecordings(t.blobs.local.Root())
	t.mu.Lock()
	t.repaired = repaired
	t.mu.Unlock()
	pc := t.cfg.Plugins
	t.runtime, err = plugin.NewRuntime(ctx, plugin.Config{
		CacheDir: t.cacheDir,
		KV:       t.kv,
		Logger:   t.log.With("component", "plugin"),
		Defaults: plugin.Limits{
			Deadline:       pc.Deadline.Duration,
			MemoryMaxPages: uint32(pc.MemoryMiB) * 16, // 64 KiB pages
			ModuleMaxBytes: pc.MaxModuleMiB << 20,
			PoolSize:       pc.PoolSize,
		},
	})
	if err != nil {
		return err
	}
	master, err := t.masterKey()
	if err != nil {
		return err
	}
	dq := t.effectiveQuotas(tenant.Quotas{})
	reg, err := t.openRegistry(ctx, tenant.WithMasterKey(master),
		tenant.WithDefaultQuotas(tenant.Quotas{MaxApps: dq.MaxApps, MaxPluginVersions: dq.MaxPluginVersions}))
	clear(master)
	if err != nil {
		return err
	}
	t.reg = reg
	if err := reg.Bootstrap(ctx, t.cfg); err != nil {
		t.log.Warn("configuration partly applied", "err", err)
	}
	for _, ct := range t.cfg.Tenants {
		for _, a := range ct.Applications {
			if a.Prompts != "" {
				if err := t.seedPrompts(ctx, ct.ID, a.Prompts); err != nil {
					t.log.Warn("seeding prompts failed", "tenant", ct.ID, "app", a.ID, "dir", a.Prompts, "err", err)
				}
			}
			app, err := reg.GetApp(ct.ID, a.ID)
			if err == nil && app.Plugin == "" && app.Webhook == "" {
				err = fmt.Errorf("%w: no plugin version could be stored from %s", ErrAppUnavailable, a.Plugin)
			}
			if err != nil {
				t.log.Error("application failed to load; its numbers answer 503", "tenant", ct.ID, "app", a.ID, "err", err)
				for _, n := range a.Numbers {
					t.unavailable[NormalizeNumber(n)] = err
				}
			}
		}
	}
	if err := t.ensureKeys(); err != nil {
		return err
	}
	t.m = newMetrics(t)
	t.refreshVersions(ctx, true)
	wctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.done.Add(1)
	go func() {
		defer t.done.Done()
		t.watchRegistry(wctx)
	}()
	if t.opts.DevReload > 0 {
		files := t.devFiles()
		t.done.Add(1)
		go func() {
			defer t.done.Done()
			t.devReload(wctx, t.opts.DevReload, files)
		}()
	}
	return nil
}

// Close stops the watchers, closes every version, the registry, the
// plugin runtime and the key-value store. Safe on a partly started
// tenancy.
func (t *Tenancy) Close(ctx context.Context) error {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	if t.stop != nil {
		t.stop()
		t.done.Wait()
	}
	t.mu.Lock()
	var ps []plugin.Handler
	for k, v := range t.versions {
		if v.p != nil {
			ps = append(ps, v.p)
		}
		delete(t.versions, k)
	}
	for k, h := range t.webhooks {
		ps = append(ps, h)
		delete(t.webhooks, k)
	}
	t.mu.Unlock()
	var errs []error
	for _, p := range ps {
		if err := p.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if t.reg != nil {
		if err := t.reg.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if t.runtime != nil {
		if err := t.runtime.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if t.kv != nil {
		if err := t.kv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Registry returns the tenant registry (nil before Start): bbolt, or
// PostgreSQL on a node of a cluster.
func (t *Tenancy) Registry() tenant.Registrar { return t.reg }

// KV returns the tenants' key-value store, the one their plugins reach
// (nil before Start).
func (t *Tenancy) KV() kv.Storer { return t.kv }

// Storage returns the tenants' bucket storage (nil before Start).
func (t *Tenancy) Storage() *Blobs { return t.blobs }

// RepairedRecordings lists the recordings repaired at start (paths
// relative to the bucket store: tenant/bucket/key).
func (t *Tenancy) RepairedRecordings() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.repaired...)
}
