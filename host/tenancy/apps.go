package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/plugin"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

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

// watchRegistry follows the registry: after each change it closes the
// versions nobody uses any more and loads the newly assigned ones, so the
// first call after an assignment finds its version warm.
func (t *Tenancy) watchRegistry(ctx context.Context) {
	_, changed := t.reg.Watch()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		// Watch before refreshing: a change made while the refresh runs
		// (after it read the registry) closes this channel and brings
		// us back, instead of being missed until the next change.
		_, changed = t.reg.Watch()
		t.refreshVersions(ctx, false)
	}
}

// refreshVersions recomputes the current versions, closes unused ones,
// forgets failed loads (a fixed module or quota gets another try) and
// loads every current version.
func (t *Tenancy) refreshVersions(ctx context.Context, startup bool) {
	type want struct {
		tenant, app, sha string
		q                tenant.Quotas
	}
	var wants []want
	cur := map[versionKey]bool{}
	tenants, err := t.reg.ListTenants()
	if err != nil {
		t.log.Warn("registry: list tenants", "err", err)
		return
	}
	for _, tn := range tenants {
		apps, err := t.reg.ListApps(tn.ID)
		if err != nil {
			t.log.Warn("registry: list applications", "tenant", tn.ID, "err", err)
			return
		}
		for _, a := range apps {
			if a.Plugin == "" {
				continue
			}
			cur[t.versionKey(tn.ID, a.Plugin, tn.Quotas)] = true
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
		v, err := t.acquireVersion(ctx, w.tenant, w.sha, w.q)
		if err != nil {
			lvl := slog.LevelWarn
			if startup {
				lvl = slog.LevelError
			}
			t.log.Log(ctx, lvl, "application failed to load; its numbers answer 503", "tenant", w.tenant, "app", w.app, "plugin", w.sha, "err", err)
			continue
		}
		t.releaseVersion(v)
	}
}

// acquireVersion returns the loaded version (loading it if needed) and
// counts a holder; releaseVersion must follow. A version whose last load
// failed for a passing reason is loaded again.
func (t *Tenancy) acquireVersion(ctx context.Context, tenantID, sha string, q tenant.Quotas) (*version, error) {
	eq := t.effectiveQuotas(q)
	key := t.versionKey(tenantID, sha, q)
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
		v.p, v.err = t.loadVersion(ctx, key, eq)
		if v.err != nil {
			v.failures++
			if transient(v.err) {
				t.scheduleRetry(key, q, v.failures)
			}
		}
		close(v.ready)
	}
	select {
	case <-v.ready:
	case <-ctx.Done():
		t.releaseVersion(v)
		return nil, ctx.Err()
	}
	if v.err != nil {
		t.releaseVersion(v)
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
func (t *Tenancy) loadedVersions(tenantID string) int {
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
func (t *Tenancy) scheduleRetry(key versionKey, q tenant.Quotas, failures int) {
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
		v, err := t.acquireVersion(ctx, key.tenant, key.sha, q)
		if err != nil {
			t.log.Warn("plugin version failed to load again", "tenant", key.tenant, "plugin", key.sha, "failures", failures+1, "err", err)
			return
		}
		t.log.Info("plugin version loaded after a failure", "tenant", key.tenant, "plugin", key.sha)
		t.releaseVersion(v)
	})
}

// versionKey is the key of a tenant's version under its quotas q.
func (t *Tenancy) versionKey(tenantID, sha string, q tenant.Quotas) versionKey {
	eq := t.effectiveQuotas(q)
	return versionKey{tenant: tenantID, sha: sha, memMiB: eq.PluginMemoryMiB, deadline: eq.EventDeadline}
}

func (t *Tenancy) loadVersion(ctx context.Context, key versionKey, q tenant.Quotas) (*plugin.Plugin, error) {
	wasm, err := t.reg.OpenPlugin(ctx, key.tenant, key.sha)
	if err != nil {
		return nil, err
	}
	lim := plugin.Limits{
		Deadline:       key.deadline,
		MemoryMaxPages: uint32(key.memMiB) * 16, // 64 KiB pages
		ModuleMaxBytes: int(q.MaxModuleBytes),
	}
	start := time.Now()
	p, err := t.runtime.Load(ctx, key.tenant, shortSHA(key.sha), wasm, &lim)
	if err != nil {
		return nil, err
	}
	t.log.Info("plugin version loaded", "tenant", key.tenant, "plugin", key.sha, "mode", p.Info().Mode,
		"took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// releaseVersion drops a holder; the last one closes a version that is no
// longer current (the calls on an old version have ended).
func (t *Tenancy) releaseVersion(v *version) {
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
		t.log.Info("plugin version closed (no call uses it)", "tenant", v.key.tenant, "plugin", v.key.sha)
	}
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// webhook returns the tenant's handler for url, one per (tenant, url).
func (t *Tenancy) webhook(tenantID, url, model string) plugin.Handler {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := [3]string{tenantID, url, model}
	h, ok := t.webhooks[k]
	if !ok {
		opts := []plugin.WebhookOption{plugin.WithWebhookLogger(t.log.With("tenant", tenantID, "component", "webhook"))}
		if model == tenant.ModelIotcomms {
			opts = append(opts, plugin.WithCallbackPath())
		}
		h = plugin.NewWebhook(url, DefaultWebhookTimeout, t.egress.Client(), opts...)
		t.webhooks[k] = h
	}
	return h
}

// Dialled is what routes an inbound call: the users of its Request-URI
// and To header, and the Request-URI's host.
type Dialled struct {
	RequestUser, RequestHost, ToUser string
}

// Rejection is why Admit refused a call: the SIP final response, with a
// Retry-After for a call-rate quota.
type Rejection struct {
	Code       int
	Reason     string
	RetryAfter time.Duration
}

// Admission is an accepted call: where it goes and what it holds. Admit
// makes the admissions of inbound calls; a test may build one around a
// handler it holds (Tenancy.Hold) to get its invoker.
type Admission struct {
	Tenant, App, Number string
	Rule                string        // the SIP rule that routed the call
	Model               string        // the application's programming model: engine.ModelChime or ModelIotcomms
	SHA                 string        // the plugin version; "" for a webhook
	Reserve             time.Duration // CPU budget taken for each event while it runs: the plugin's deadline
	Handler             plugin.Handler
	release             func()
}

// Release gives back what the admission holds (its plugin version, its
// place in the tenant's concurrent calls), once the call has ended.
func (a *Admission) Release() {
	if a.release != nil {
		a.release()
	}
}

// Admit routes an inbound call through the registry and applies the
// tenant's quotas; log is the call's logger. On refusal it returns the SIP
// code and reason, having logged why and counted it. An admission must be
// released when the call ends.
func (t *Tenancy) Admit(d Dialled, log *slog.Logger) (*Admission, Rejection) {
	var rt tenant.Route
	var number string
	found := false
	for _, u := range []string{d.RequestUser, d.ToUser} {
		number = NormalizeNumber(u)
		if rt, found = t.reg.Route(number); found {
			break
		}
	}
	if !found && d.RequestHost != "" {
		// A RequestUriHostname rule takes the calls no number rule took.
		if rt, found = t.reg.RouteHost(d.RequestHost); found {
			number = NormalizeNumber(d.RequestUser)
		}
	}
	if !found {
		number = NormalizeNumber(d.RequestUser)
		if err, down := t.unavailable[number]; down {
			log.Warn("call rejected: application unavailable", "code", 503, "err", err)
			t.m.rejected("", "unavailable")
			return nil, Rejection{Code: 503, Reason: "Service Unavailable"}
		}
		log.Info("call rejected: unknown number", "code", 404)
		t.m.rejected("", "not_found")
		return nil, Rejection{Code: 404, Reason: "Not Found"}
	}
	log = log.With("tenant", rt.Tenant, "app", rt.App)
	q := t.effectiveQuotas(rt.Quotas)
	st := t.tenantState(rt.Tenant)
	now := time.Now()
	if t.opts.Now != nil {
		now = t.opts.Now()
	}
	switch code, retry := st.admitCall(q, now); code {
	case 486:
		log.Warn("call rejected: concurrent-call quota reached", "code", 486, "quota", q.MaxConcurrentCalls)
		t.m.rejected(rt.Tenant, "concurrent_calls")
		return nil, Rejection{Code: 486, Reason: "Busy Here"}
	case 503:
		log.Warn("call rejected: call-rate quota reached", "code", 503, "quota_per_s", q.MaxCallsPerSecond,
			"retry_after", retry.Round(time.Millisecond))
		t.m.rejected(rt.Tenant, "calls_per_second")
		return nil, Rejection{Code: 503, Reason: "Service Unavailable", RetryAfter: retry}
	}
	a := &Admission{Tenant: rt.Tenant, App: rt.App, Rule: rt.Rule, Number: number, SHA: rt.Plugin, Model: engineModel(rt.Model)}
	if rt.Plugin == "" {
		a.Handler = t.webhook(rt.Tenant, rt.Webhook, rt.Model)
		a.release = st.releaseCall
		return a, Rejection{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	v, err := t.acquireVersion(ctx, rt.Tenant, rt.Plugin, rt.Quotas)
	cancel()
	if err != nil {
		st.releaseCall()
		log.Warn("call rejected: application unavailable", "code", 503, "plugin", rt.Plugin, "err", err)
		t.m.rejected(rt.Tenant, "unavailable")
		return nil, Rejection{Code: 503, Reason: "Service Unavailable"}
	}
	a.Handler, a.Reserve = v.p, q.EventDeadline
	a.release = func() {
		t.releaseVersion(v)
		st.releaseCall()
	}
	return a, Rejection{}
}

// Accepted counts an admitted call the engine took (mediaserver_calls_total).
func (t *Tenancy) Accepted(tenantID string) { t.m.accepted(tenantID) }

// Rejected counts a call refused after its admission (why names the
// reason in mediaserver_calls_total).
func (t *Tenancy) Rejected(tenantID, why string) { t.m.rejected(tenantID, why) }

// Invoker adapts an application's handler to the engine, the same for
// inbound and outbound calls: the tenant's CPU share, plugin logs (server
// log with the call's context, and the application's log book), stats,
// metrics and the observer. A response the runtime refuses (not JSON, too
// large) becomes engine.ErrInvalidResponse, so the plugin gets
// INVALID_LAMBDA_RESPONSE instead of a retry and a dropped call.
func (t *Tenancy) Invoker(a *Admission) engine.Invoker {
	log := t.log.With("tenant", a.Tenant, "app", a.App)
	st := t.tenantState(a.Tenant)
	book := t.logs.app(a.Tenant, a.App)
	m := t.m
	noted := 0 // the Sequence of the last failure noted (failures.go)
	return engine.InvokerFunc(func(ctx context.Context, event []byte) ([]byte, error) {
		noted = noteFailure(ctx, log, book, event, noted)
		// A plugin runs on this server's CPU: it takes one of the
		// tenant's CPU slots and is charged its time. A webhook waits on
		// the network: it takes a webhook slot only.
		cpu := cpuBound(a.Handler)
		var reserved time.Duration
		var err error
		if cpu {
			reserved, err = st.acquireCPU(ctx, a.Reserve)
		} else {
			err = st.acquireHook(ctx)
		}
		if err != nil {
			return nil, err
		}
		start := time.Now()
		res, err := a.Handler.Invoke(ctx, event)
		took := time.Since(start)
		if cpu {
			st.releaseCPU(reserved, took)
		} else {
			st.releaseHook()
		}
		book.observe(took, err)
		m.invoked(a.Tenant, event, took, err)
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
		if t.observer != nil {
			t.observer(Invocation{Tenant: a.Tenant, App: a.App, Plugin: a.SHA, Event: event, Response: resp, Err: err})
		}
		if errors.Is(err, plugin.ErrInvalidResponse) || errors.Is(err, plugin.ErrResponseTooLarge) {
			err = fmt.Errorf("%w: %w", engine.ErrInvalidResponse, err)
		}
		return resp, err
	})
}

func pluginLevel(l int32) slog.Level {
	switch {
	case l <= 0:
		return slog.LevelDebug
	case l == 1:
		return slog.LevelInfo
	case l == 2:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// OutboundApp returns what an outbound call of tenant's application appID
// runs under (found false when there is no such application), so an
// application created through the API can place calls at once: its
// handler runs whatever version is current at each event (appHandler)
// through Invoker. Its SIP rule id is the lowest number routed to it
// (stable across calls), or the application id when no number routes to
// it.
func (t *Tenancy) OutboundApp(tenantID, appID string) (app engine.App, found bool, err error) {
	ta, err := t.reg.GetApp(tenantID, appID)
	if err != nil {
		if errors.Is(err, tenant.ErrNotFound) {
			return engine.App{}, false, nil
		}
		return engine.App{}, false, err
	}
	q, _ := t.reg.Quotas(tenantID)
	r := &Admission{Tenant: tenantID, App: appID, Number: appID, Handler: &appHandler{t, tenantID, appID},
		Reserve: t.effectiveQuotas(q).EventDeadline}
	nums, err := t.reg.ListNumbers(tenantID)
	if err != nil {
		return engine.App{}, false, err
	}
	first := ""
	for _, n := range nums {
		if n.App == appID && (first == "" || n.Number < first) {
			first = n.Number
		}
	}
	if first != "" {
		r.Number = first
	}
	return engine.App{
		TenantID:              tenantID,
		SipMediaApplicationID: appID,
		SipRuleID:             r.Number,
		Handler:               t.Invoker(r),
		Model:                 engineModel(ta.Model),
	}, true, nil
}

// engineModel maps a registry model ("" is Chime) to the engine's.
func engineModel(m string) string {
	if m == tenant.ModelIotcomms {
		return engine.ModelIotcomms
	}
	return engine.ModelChime
}

// appHandler runs whatever version is current for (tenant, app) at each
// event; outbound calls (OutboundApp) use it. Inbound calls hold one
// version for the whole call instead (Admit).
type appHandler struct {
	t           *Tenancy
	tenant, app string
}

func (h *appHandler) Invoke(ctx context.Context, event []byte) (*plugin.Result, error) {
	t := h.t
	noteFailure(ctx, t.log.With("tenant", h.tenant, "app", h.app), t.logs.app(h.tenant, h.app), event, 0)
	a, err := t.reg.GetApp(h.tenant, h.app)
	if err != nil {
		return nil, err
	}
	if a.Plugin == "" {
		if a.Webhook == "" {
			return nil, fmt.Errorf("%w: application %s has neither plugin nor webhook", ErrAppUnavailable, h.app)
		}
		return t.webhook(h.tenant, a.Webhook, a.Model).Invoke(ctx, event)
	}
	q, _ := t.reg.Quotas(h.tenant)
	v, err := t.acquireVersion(ctx, h.tenant, a.Plugin, q)
	if err != nil {
		return nil, err
	}
	defer t.releaseVersion(v)
	return v.p.Invoke(ctx, event)
}

func (h *appHandler) Close(context.Context) error { return nil }

// cpuBound reports whether the application's current handler is a plugin.
func (h *appHandler) cpuBound() bool {
	a, err := h.t.reg.GetApp(h.tenant, h.app)
	return err != nil || a.Plugin != ""
}

// cpuBound reports whether h runs on this server's CPU (a plugin) rather
// than waiting on the network (a webhook).
func cpuBound(h plugin.Handler) bool {
	switch h := h.(type) {
	case *plugin.Webhook:
		return false
	case *appHandler:
		return h.cpuBound()
	}
	return true
}

// NormalizeNumber keeps a leading '+' and the digits of n, dropping visual
// separators (spaces, dashes, dots, parentheses) as dial strings carry them.
func NormalizeNumber(n string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(n) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return n // not a phone number: keep it as is, it will not route
		}
	}
	return b.String()
}
