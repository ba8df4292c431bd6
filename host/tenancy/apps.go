package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/plugin"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/sip"
)

// tenancy is the multi-tenant side of the server: the registry (tenants,
// numbers, applications, plugin versions, keys), the loaded plugin
// versions, each tenant's quotas in force, logs, stats and metrics.
//
// Plugin versions are loaded per (tenant, sha, limits): two tenants
// running the same bytes get two pools, so no instance, memory or KV scope
// is ever shared between tenants. A call holds the version it started
// with until it ends; an assignment (one registry write) only changes what
// new calls get. A version is closed when no call holds it and no
// application has it as its current version.
type tenancy struct {
	reg   *tenant.Registry
	blobs *blobStore
	logs  *logBook
	m     *metrics

	mu          sync.Mutex
	tenants     map[string]*tenantState
	versions    map[versionKey]*version
	current     map[versionKey]bool          // versions some application routes to, under its tenant's limits now
	webhooks    map[[2]string]plugin.Handler // (tenant, url)
	unavailable map[string]error             // configured number → why its application is down
	stopped     bool                         // stopTenancy began: no more background loads

	demoKeyFile, adminKeyFile, demoAWSFile string
	afterRead                              func() // tests: runs once refreshVersions has read the registry

	stop context.CancelFunc
	done sync.WaitGroup
}

func newTenancy() *tenancy {
	return &tenancy{
		logs:        newLogBook(),
		tenants:     map[string]*tenantState{},
		versions:    map[versionKey]*version{},
		current:     map[versionKey]bool{},
		webhooks:    map[[2]string]plugin.Handler{},
		unavailable: map[string]error{},
	}
}

// versionKey names one loaded pool: a tenant's version under the limits
// its quotas gave when it was loaded (a quota change loads it afresh for
// new calls).
type versionKey struct {
	tenant, sha string
	memMiB      int
	deadline    time.Duration
}

// version is a loaded plugin version. refs counts the calls holding it.
// A load that failed for a passing reason (transient) is tried again by
// the next call that wants the version and, while the version is
// current, in the background after retryBackoff; failures counts the
// attempts that failed in a row.
type version struct {
	key      versionKey
	ready    chan struct{} // closed when p or err is set
	p        *plugin.Plugin
	err      error
	refs     int
	failures int
}

// transient tells whether a load failure may pass: a timeout (a busy
// machine starting a Go plugin past its init deadline), no compile slot,
// the tenant's loaded versions, a storage error. A module that is invalid,
// traps or hits its memory limit while it starts fails again.
func transient(err error) bool {
	var pe *plugin.Error
	if errors.As(err, &pe) {
		switch pe.Kind {
		case plugin.KindTimeout, plugin.KindBusy:
			return true
		}
		return false
	}
	return true
}

// retryBackoff is the wait before the background retry of a load that
// failed failures times in a row: 1 s, doubling, at most a minute.
func retryBackoff(failures int) time.Duration {
	return min(time.Second<<min(failures-1, 6), time.Minute)
}

// startTenancy opens the registry, applies the configuration (Bootstrap),
// seeds prompts, makes the API keys, loads the current plugin versions and
// starts watching the registry for assignments.
func (s *Server) startTenancy(ctx context.Context) error {
	t := s.ten
	master, err := s.masterKey()
	if err != nil {
		return err
	}
	dq := s.effectiveQuotas(tenant.Quotas{})
	reg, err := tenant.Open(filepath.Join(s.cfg.DataDir, "registry.db"), t.blobs.remote, tenant.WithMasterKey(master),
		tenant.WithDefaultQuotas(tenant.Quotas{MaxApps: dq.MaxApps, MaxPluginVersions: dq.MaxPluginVersions}))
	clear(master)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	t.reg = reg
	if err := reg.Bootstrap(ctx, s.cfg); err != nil {
		s.log.Warn("configuration partly applied", "err", err)
	}
	for _, ct := range s.cfg.Tenants {
		for _, a := range ct.Applications {
			if a.Prompts != "" {
				if err := s.seedPrompts(ctx, ct.ID, a.Prompts); err != nil {
					s.log.Warn("seeding prompts failed", "tenant", ct.ID, "app", a.ID, "dir", a.Prompts, "err", err)
				}
			}
			app, err := reg.GetApp(ct.ID, a.ID)
			if err == nil && app.Plugin == "" && app.Webhook == "" {
				err = fmt.Errorf("%w: no plugin version could be stored from %s", ErrAppUnavailable, a.Plugin)
			}
			if err != nil {
				s.log.Error("application failed to load; its numbers answer 503", "tenant", ct.ID, "app", a.ID, "err", err)
				for _, n := range a.Numbers {
					t.unavailable[NormalizeNumber(n)] = err
				}
			}
		}
	}
	if err := s.ensureKeys(); err != nil {
		return err
	}
	t.m = newMetrics(s)
	s.refreshVersions(ctx, true)
	wctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.done.Add(1)
	go func() {
		defer t.done.Done()
		s.watchRegistry(wctx)
	}()
	if s.opts.ten.devReload > 0 {
		files := s.devFiles()
		t.done.Add(1)
		go func() {
			defer t.done.Done()
			s.devReload(wctx, s.opts.ten.devReload, files)
		}()
	}
	return nil
}

// stopTenancy stops the watchers, closes every version and the registry.
func (s *Server) stopTenancy(ctx context.Context) error {
	t := s.ten
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
	return errors.Join(errs...)
}

// Registry returns the tenant registry (nil before Start).
func (s *Server) Registry() *tenant.Registry { return s.ten.reg }

// watchRegistry follows the registry: after each change it closes the
// versions nobody uses any more and loads the newly assigned ones, so the
// first call after an assignment finds its version warm.
func (s *Server) watchRegistry(ctx context.Context) {
	_, changed := s.ten.reg.Watch()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		// Watch before refreshing: a change made while the refresh runs
		// (after it read the registry) closes this channel and brings
		// us back, instead of being missed until the next change.
		_, changed = s.ten.reg.Watch()
		s.refreshVersions(ctx, false)
	}
}

// refreshVersions recomputes the current versions, closes unused ones,
// forgets failed loads (a fixed module or quota gets another try) and
// loads every current version.
func (s *Server) refreshVersions(ctx context.Context, startup bool) {
	t := s.ten
	type want struct {
		tenant, app, sha string
		q                tenant.Quotas
	}
	var wants []want
	cur := map[versionKey]bool{}
	tenants, err := t.reg.ListTenants()
	if err != nil {
		s.log.Warn("registry: list tenants", "err", err)
		return
	}
	for _, tn := range tenants {
		apps, err := t.reg.ListApps(tn.ID)
		if err != nil {
			s.log.Warn("registry: list applications", "tenant", tn.ID, "err", err)
			return
		}
		for _, a := range apps {
			if a.Plugin == "" {
				continue
			}
			cur[s.versionKey(tn.ID, a.Plugin, tn.Quotas)] = true
			wants = append(wants, want{tn.ID, a.ID, a.Plugin, tn.Quotas})
		}
	}
	if t.m != nil {
		t.m.relabel()
	}
	t.mu.Lock()
	hook := t.afterRead
	t.mu.Unlock()
	if hook != nil {
		hook()
	}
	t.mu.Lock()
	t.current = cur
	var closing []*plugin.Plugin
	for k, v := range t.versions {
		select {
		case <-v.ready:
		default:
			continue // loading
		}
		if v.refs == 0 && (v.err != nil || !cur[k]) {
			delete(t.versions, k)
			if v.p != nil {
				closing = append(closing, v.p)
			}
		}
	}
	t.mu.Unlock()
	for _, p := range closing {
		_ = p.Close(ctx)
	}
	for _, w := range wants {
		if ctx.Err() != nil {
			return
		}
		v, err := s.acquireVersion(ctx, w.tenant, w.sha, w.q)
		if err != nil {
			lvl := slog.LevelWarn
			if startup {
				lvl = slog.LevelError
			}
			s.log.Log(ctx, lvl, "application failed to load; its numbers answer 503", "tenant", w.tenant, "app", w.app, "plugin", w.sha, "err", err)
			continue
		}
		s.releaseVersion(v)
	}
}

// acquireVersion returns the loaded version (loading it if needed) and
// counts a holder; releaseVersion must follow. A version whose last load
// failed for a passing reason is loaded again.
func (s *Server) acquireVersion(ctx context.Context, tenantID, sha string, q tenant.Quotas) (*version, error) {
	eq := s.effectiveQuotas(q)
	key := s.versionKey(tenantID, sha, q)
	t := s.ten
	t.mu.Lock()
	v, ok := t.versions[key]
	if ok && v.failed() && transient(v.err) {
		ok = false // try again; holders of the failed one release it as usual
	}
	if !ok {
		if n := t.loadedVersions(tenantID); n >= 2*eq.MaxPluginVersions {
			t.mu.Unlock()
			return nil, fmt.Errorf("%w: tenant %s has %d, the most its quota of %d assigned versions allows (with as many ending their calls)",
				ErrTooManyVersions, tenantID, n, eq.MaxPluginVersions)
		}
		failures := 0
		if v != nil {
			failures = v.failures
		}
		v = &version{key: key, ready: make(chan struct{}), failures: failures}
		t.versions[key] = v
	}
	v.refs++
	t.mu.Unlock()
	if !ok {
		v.p, v.err = s.loadVersion(ctx, key, eq)
		if v.err != nil {
			v.failures++
			if transient(v.err) {
				s.scheduleRetry(key, q, v.failures)
			}
		}
		close(v.ready)
	}
	select {
	case <-v.ready:
	case <-ctx.Done():
		s.releaseVersion(v)
		return nil, ctx.Err()
	}
	if v.err != nil {
		s.releaseVersion(v)
		return nil, v.err
	}
	return v, nil
}

// failed tells whether the version's load is over and failed.
func (v *version) failed() bool {
	select {
	case <-v.ready:
		return v.err != nil
	default:
		return false
	}
}

// loadedVersions counts the tenant's versions loaded or loading. The
// caller holds t.mu.
func (t *tenancy) loadedVersions(tenantID string) int {
	n := 0
	for k, v := range t.versions {
		if k.tenant == tenantID && !v.failed() {
			n++
		}
	}
	return n
}

// scheduleRetry loads a version again after retryBackoff(failures), if it
// is still current and still failed then (a call may have loaded it
// meanwhile).
func (s *Server) scheduleRetry(key versionKey, q tenant.Quotas, failures int) {
	t := s.ten
	time.AfterFunc(retryBackoff(failures), func() {
		t.mu.Lock()
		v := t.versions[key]
		if t.stopped || !t.current[key] || v == nil || !v.failed() {
			t.mu.Unlock()
			return
		}
		t.done.Add(1)
		t.mu.Unlock()
		defer t.done.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		v, err := s.acquireVersion(ctx, key.tenant, key.sha, q)
		if err != nil {
			s.log.Warn("plugin version failed to load again", "tenant", key.tenant, "plugin", key.sha, "failures", failures+1, "err", err)
			return
		}
		s.log.Info("plugin version loaded after a failure", "tenant", key.tenant, "plugin", key.sha)
		s.releaseVersion(v)
	})
}

// versionKey is the key of a tenant's version under its quotas q.
func (s *Server) versionKey(tenantID, sha string, q tenant.Quotas) versionKey {
	eq := s.effectiveQuotas(q)
	return versionKey{tenant: tenantID, sha: sha, memMiB: eq.PluginMemoryMiB, deadline: eq.EventDeadline}
}

func (s *Server) loadVersion(ctx context.Context, key versionKey, q tenant.Quotas) (*plugin.Plugin, error) {
	wasm, err := s.ten.reg.OpenPlugin(ctx, key.tenant, key.sha)
	if err != nil {
		return nil, err
	}
	lim := plugin.Limits{
		Deadline:       key.deadline,
		MemoryMaxPages: uint32(key.memMiB) * 16, // 64 KiB pages
		ModuleMaxBytes: int(q.MaxModuleBytes),
	}
	start := time.Now()
	p, err := s.runtime.Load(ctx, key.tenant, shortSHA(key.sha), wasm, &lim)
	if err != nil {
		return nil, err
	}
	s.log.Info("plugin version loaded", "tenant", key.tenant, "plugin", key.sha, "mode", p.Info().Mode,
		"took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// releaseVersion drops a holder; the last one closes a version that is no
// longer current (the calls on an old version have ended).
func (s *Server) releaseVersion(v *version) {
	t := s.ten
	t.mu.Lock()
	v.refs--
	var closing *plugin.Plugin
	if v.refs == 0 && v.p != nil && !t.current[v.key] && t.versions[v.key] == v {
		delete(t.versions, v.key)
		closing = v.p
	}
	t.mu.Unlock()
	if closing != nil {
		_ = closing.Close(context.Background())
		s.log.Info("plugin version closed (no call uses it)", "tenant", v.key.tenant, "plugin", v.key.sha)
	}
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// webhook returns the tenant's handler for url, one per (tenant, url).
func (s *Server) webhook(tenantID, url string) plugin.Handler {
	t := s.ten
	t.mu.Lock()
	defer t.mu.Unlock()
	k := [2]string{tenantID, url}
	h, ok := t.webhooks[k]
	if !ok {
		h = plugin.NewWebhook(url, DefaultWebhookTimeout, s.egress.Client(),
			plugin.WithWebhookLogger(s.log.With("tenant", tenantID, "component", "webhook")))
		t.webhooks[k] = h
	}
	return h
}

// admission is an accepted inbound call: where it goes and what it holds.
// rejection is why admit refused a call: the SIP final response, with a
// Retry-After for a call-rate quota.
type rejection struct {
	code       int
	reason     string
	retryAfter time.Duration
}

type admission struct {
	tenant, app, number string
	rule                string        // the SIP rule that routed the call
	sha                 string        // "" for a webhook
	reserve             time.Duration // CPU budget taken for each event while it runs: the plugin's deadline
	handler             plugin.Handler
	release             func()
}

// admit routes an INVITE through the registry and applies the tenant's
// quotas. On refusal it returns the SIP code and reason, having logged why.
func (s *Server) admit(c *sip.Call, log *slog.Logger) (*admission, rejection) {
	t := s.ten
	var rt tenant.Route
	var number string
	found := false
	for _, u := range []string{c.RequestUser, c.To.User} {
		number = NormalizeNumber(u)
		if rt, found = t.reg.Route(number); found {
			break
		}
	}
	if !found && c.RequestHost != "" {
		// A RequestUriHostname rule takes the calls no number rule took.
		if rt, found = t.reg.RouteHost(c.RequestHost); found {
			number = NormalizeNumber(c.RequestUser)
		}
	}
	if !found {
		number = NormalizeNumber(c.RequestUser)
		if err, down := t.unavailable[number]; down {
			log.Warn("call rejected: application unavailable", "code", 503, "err", err)
			t.m.rejected("", "unavailable")
			return nil, rejection{code: 503, reason: "Service Unavailable"}
		}
		log.Info("call rejected: unknown number", "code", 404)
		t.m.rejected("", "not_found")
		return nil, rejection{code: 404, reason: "Not Found"}
	}
	log = log.With("tenant", rt.Tenant, "app", rt.App)
	q := s.effectiveQuotas(rt.Quotas)
	st := s.tenantState(rt.Tenant)
	now := time.Now()
	if s.opts.ten.now != nil {
		now = s.opts.ten.now()
	}
	switch code, retry := st.admitCall(q, now); code {
	case 486:
		log.Warn("call rejected: concurrent-call quota reached", "code", 486, "quota", q.MaxConcurrentCalls)
		t.m.rejected(rt.Tenant, "concurrent_calls")
		return nil, rejection{code: 486, reason: "Busy Here"}
	case 503:
		log.Warn("call rejected: call-rate quota reached", "code", 503, "quota_per_s", q.MaxCallsPerSecond,
			"retry_after", retry.Round(time.Millisecond))
		t.m.rejected(rt.Tenant, "calls_per_second")
		return nil, rejection{code: 503, reason: "Service Unavailable", retryAfter: retry}
	}
	a := &admission{tenant: rt.Tenant, app: rt.App, rule: rt.Rule, number: number, sha: rt.Plugin}
	if rt.Plugin == "" {
		a.handler = s.webhook(rt.Tenant, rt.Webhook)
		a.release = st.releaseCall
		return a, rejection{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	v, err := s.acquireVersion(ctx, rt.Tenant, rt.Plugin, rt.Quotas)
	cancel()
	if err != nil {
		st.releaseCall()
		log.Warn("call rejected: application unavailable", "code", 503, "plugin", rt.Plugin, "err", err)
		t.m.rejected(rt.Tenant, "unavailable")
		return nil, rejection{code: 503, reason: "Service Unavailable"}
	}
	a.handler, a.reserve = v.p, q.EventDeadline
	a.release = func() {
		s.releaseVersion(v)
		st.releaseCall()
	}
	return a, rejection{}
}

// invoker adapts an application's handler to the engine, the same for
// inbound and outbound calls: the tenant's CPU share, plugin logs (server
// log with the call's context, and the application's log book), stats,
// metrics and the observer. A response the runtime refuses (not JSON, too
// large) becomes engine.ErrInvalidResponse, so the plugin gets
// INVALID_LAMBDA_RESPONSE instead of a retry and a dropped call.
func (s *Server) invoker(a *admission) engine.Invoker {
	log := s.log.With("tenant", a.tenant, "app", a.app)
	st := s.tenantState(a.tenant)
	book := s.ten.logs.app(a.tenant, a.app)
	m := s.ten.m
	noted := 0 // the Sequence of the last failure noted (failures.go)
	return engine.InvokerFunc(func(ctx context.Context, event []byte) ([]byte, error) {
		noted = noteFailure(ctx, log, book, event, noted)
		reserved, err := st.acquireCPU(ctx, a.reserve)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		res, err := a.handler.Invoke(ctx, event)
		took := time.Since(start)
		st.releaseCPU(reserved, took)
		book.observe(took, err)
		m.invoked(a.tenant, event, took, err)
		if res != nil && len(res.Logs) > 0 {
			clog := engine.CallLogger(ctx, log).With("source", "plugin")
			for _, l := range res.Logs {
				clog.Log(ctx, pluginLevel(l.Level), l.Text, "stream", l.Stream)
			}
		}
		if (res != nil && len(res.Logs) > 0) || err != nil {
			book.add(event, res, err)
		}
		var resp []byte
		if err == nil && res != nil {
			resp = res.Response
		}
		if s.opts.observer != nil {
			s.opts.observer(Invocation{Tenant: a.tenant, App: a.app, Plugin: a.sha, Event: event, Response: resp, Err: err})
		}
		if errors.Is(err, plugin.ErrInvalidResponse) || errors.Is(err, plugin.ErrResponseTooLarge) {
			err = fmt.Errorf("%w: %w", engine.ErrInvalidResponse, err)
		}
		return resp, err
	})
}

// appHandler runs whatever version is current for (tenant, app) at each
// event; outbound calls (calls_api.go) use it. Inbound calls hold one version for the whole
// call instead (admit).
type appHandler struct {
	s           *Server
	tenant, app string
}

func (h *appHandler) Invoke(ctx context.Context, event []byte) (*plugin.Result, error) {
	s := h.s
	noteFailure(ctx, s.log.With("tenant", h.tenant, "app", h.app), s.ten.logs.app(h.tenant, h.app), event, 0)
	a, err := s.ten.reg.GetApp(h.tenant, h.app)
	if err != nil {
		return nil, err
	}
	if a.Plugin == "" {
		if a.Webhook == "" {
			return nil, fmt.Errorf("%w: application %s has neither plugin nor webhook", ErrAppUnavailable, h.app)
		}
		return s.webhook(h.tenant, a.Webhook).Invoke(ctx, event)
	}
	q, _ := s.ten.reg.Quotas(h.tenant)
	v, err := s.acquireVersion(ctx, h.tenant, a.Plugin, q)
	if err != nil {
		return nil, err
	}
	defer s.releaseVersion(v)
	return v.p.Invoke(ctx, event)
}

func (h *appHandler) Close(context.Context) error { return nil }
