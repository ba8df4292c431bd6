package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/plugin"
)

// logBookLines is how many log lines each application keeps for GET
// /sip-media-applications/{id}/logs (the API's own maximum).
const logBookLines = api.MaxLogLines

// latencyBoundsMs are the upper bounds of the per-application latency
// histogram (the last bucket is everything slower).
var latencyBoundsMs = [...]float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}

// logBook holds, per (tenant, application), a ring of the latest plugin
// log lines and failures and the application's counters. Memory is
// bounded per application; applications are bounded by the registry.
type logBook struct {
	mu   sync.Mutex
	apps map[[2]string]*appBook
}

func newLogBook() *logBook { return &logBook{apps: map[[2]string]*appBook{}} }

func (b *logBook) app(tenant, app string) *appBook {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := [2]string{tenant, app}
	a, ok := b.apps[k]
	if !ok {
		a = &appBook{ring: make([]api.LogLine, logBookLines), errors: map[string]uint64{}}
		b.apps[k] = a
	}
	return a
}

// appBook is one application's ring and counters.
type appBook struct {
	mu          sync.Mutex
	ring        []api.LogLine
	next, n     int
	invocations uint64
	errors      map[string]uint64
	latency     [len(latencyBoundsMs) + 1]uint64
}

func (a *appBook) observe(took time.Duration, err error) {
	ms := float64(took) / float64(time.Millisecond)
	i := 0
	for i < len(latencyBoundsMs) && ms > latencyBoundsMs[i] {
		i++
	}
	a.mu.Lock()
	a.invocations++
	a.latency[i]++
	if err != nil {
		a.errors[errorKind(err)]++
	}
	a.mu.Unlock()
}

// errorKind names an invocation failure for stats and metrics.
func errorKind(err error) string {
	var pe *plugin.Error
	switch {
	case errors.As(err, &pe):
		return pe.Kind.String()
	case errors.Is(err, ErrTenantCPU):
		return "cpu share"
	case errors.Is(err, ErrTenantWebhooks):
		return "webhook concurrency"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}

func (a *appBook) push(l api.LogLine) {
	a.ring[a.next] = l
	a.next = (a.next + 1) % len(a.ring)
	a.n = min(a.n+1, len(a.ring))
}

// add records the lines of one invocation and its failure, if any.
func (a *appBook) add(event []byte, res *plugin.Result, err error) {
	tx := transactionID(event)
	now := time.Now().UTC()
	a.mu.Lock()
	defer a.mu.Unlock()
	if res != nil {
		for _, l := range res.Logs {
			a.push(api.LogLine{Time: now, Level: levelName(l.Level), Stream: l.Stream, TransactionID: tx, Text: l.Text})
		}
	}
	if err != nil {
		a.push(api.LogLine{Time: now, Level: "error", Stream: "host", TransactionID: tx, Text: "invocation failed: " + err.Error()})
	}
}

// last returns up to n lines, oldest first.
func (a *appBook) last(n int) []api.LogLine {
	a.mu.Lock()
	defer a.mu.Unlock()
	n = min(n, a.n)
	out := make([]api.LogLine, 0, n)
	for i := a.n - n; i < a.n; i++ {
		start := (a.next - a.n + len(a.ring)) % len(a.ring)
		out = append(out, a.ring[(start+i)%len(a.ring)])
	}
	return out
}

func levelName(l int32) string {
	switch {
	case l <= 0:
		return "debug"
	case l == 1:
		return "info"
	case l == 2:
		return "warn"
	}
	return "error"
}

// transactionID reads CallDetails.TransactionId from an event, "" if the
// event does not parse (only log lines need it, so the cost is paid then).
func transactionID(event []byte) string {
	var ev struct {
		CallDetails struct {
			TransactionID string `json:"TransactionId"`
		}
	}
	if json.Unmarshal(event, &ev) != nil {
		return ""
	}
	return ev.CallDetails.TransactionID
}

// pluginsAPI implements api.Plugins over the runtime and the log books.
type pluginsAPI struct{ t *Tenancy }

var _ api.Plugins = pluginsAPI{}

// PluginsAPI returns the api.Plugins implementation: upload checks under
// the tenant's quotas, and each application's logs and stats.
func (t *Tenancy) PluginsAPI() api.Plugins { return pluginsAPI{t} }

// Check validates and compiles a module (which warms the compilation
// cache, so assigning it later loads fast), applies the tenant's quotas
// (module size and plugin memory) and starts one instance under the
// tenant's limits, so a module whose _initialize traps or never ends is
// refused here rather than leaving its numbers answering 503.
func (p pluginsAPI) Check(ctx context.Context, tenantID string, wasm []byte) (api.PluginInfo, error) {
	t := p.t
	q, _ := t.reg.Quotas(tenantID)
	eq := t.effectiveQuotas(q)
	if int64(len(wasm)) > eq.MaxModuleBytes {
		return api.PluginInfo{}, fmt.Errorf("%w: module of %d bytes is over the limit of %d bytes", api.ErrLimitExceeded, len(wasm), eq.MaxModuleBytes)
	}
	info, err := t.runtime.Check(ctx, wasm)
	if err != nil {
		return api.PluginInfo{}, uploadError(err, "")
	}
	pages := uint32(eq.PluginMemoryMiB) * 16
	if info.MemoryMinPages > pages {
		return api.PluginInfo{}, fmt.Errorf("%w: the module needs %d KiB of memory at least, over the tenant's limit of %d MiB",
			api.ErrLimitExceeded, info.MemoryMinPages*64, eq.PluginMemoryMiB)
	}
	if info.MemoryMaxDeclared && info.MemoryMaxPages > pages {
		return api.PluginInfo{}, fmt.Errorf("%w: the module declares a memory maximum of %d KiB, over the tenant's limit of %d MiB",
			api.ErrLimitExceeded, info.MemoryMaxPages*64, eq.PluginMemoryMiB)
	}
	lim := plugin.Limits{Deadline: eq.EventDeadline, MemoryMaxPages: pages, ModuleMaxBytes: int(eq.MaxModuleBytes), PoolSize: 1}
	pl, err := t.runtime.Load(ctx, tenantID, shortSHA(info.SHA256), wasm, &lim)
	if err != nil {
		return api.PluginInfo{}, uploadError(err, "the module failed to start: ")
	}
	_ = pl.Close(ctx)
	return api.PluginInfo{
		Mode: string(info.Mode), ABIVersion: info.ABIVersion, Exports: info.Exports, Imports: info.Imports,
		MemoryMinPages: info.MemoryMinPages, MemoryMaxPages: info.MemoryMaxPages,
	}, nil
}

// busyRetry is the Retry-After of an upload refused because every compile
// slot stayed busy.
const busyRetry = 5 * time.Second

// uploadError maps a Check or Load failure to the API: busy compiles to
// 503 with a Retry-After, a closed runtime to 503, anything else (an
// invalid module, one over a compile limit, one whose start fails) to 400
// with the detail, prefix and the lines the module logged while starting.
func uploadError(err error, prefix string) error {
	var pe *plugin.Error
	if !errors.As(err, &pe) {
		return err
	}
	// The detail without the "plugin <tenant>/<name>:" prefix: the module
	// has no name yet.
	msg := prefix + err.Error()
	if pe.Err != nil {
		msg = prefix + pe.Err.Error()
	}
	switch pe.Kind {
	case plugin.KindBusy:
		return &api.Error{Status: http.StatusServiceUnavailable, Code: api.CodeServiceUnavailable, Message: msg, RetryAfter: busyRetry}
	case plugin.KindClosed:
		return fmt.Errorf("%w: %s", api.ErrUnavailable, msg)
	}
	for _, l := range pe.Logs {
		msg += "\n" + l.Stream + ": " + l.Text
	}
	return fmt.Errorf("%w: %s", api.ErrInvalid, msg)
}

// Logs implements api.Plugins.
func (p pluginsAPI) Logs(tenantID, appID string, n int) []api.LogLine {
	return p.t.logs.app(tenantID, appID).last(n)
}

// Stats implements api.Plugins: the application's counters since start,
// and the instances of its current version.
func (p pluginsAPI) Stats(tenantID, appID string) api.PluginStats {
	t := p.t
	a := t.logs.app(tenantID, appID)
	a.mu.Lock()
	out := api.PluginStats{Invocations: a.invocations}
	if len(a.errors) > 0 {
		out.Errors = make(map[string]uint64, len(a.errors))
		for k, v := range a.errors {
			out.Errors[k] = v
		}
	}
	for i, c := range a.latency {
		if c == 0 {
			continue
		}
		ub := 1e9 // the overflow bucket
		if i < len(latencyBoundsMs) {
			ub = latencyBoundsMs[i]
		}
		out.Latency = append(out.Latency, api.LatencyBucket{UpperBoundMs: ub, Count: c})
	}
	a.mu.Unlock()
	app, err := t.reg.GetApp(tenantID, appID)
	if err != nil || app.Plugin == "" {
		return out
	}
	t.mu.Lock()
	for k, v := range t.versions {
		select {
		case <-v.ready:
		default:
			continue // loading: v.p is not ours to read yet
		}
		if k.tenant == tenantID && k.sha == app.Plugin && v.p != nil {
			st := v.p.Stats()
			out.LiveInstances += st.Live
			out.IdleInstances += st.Idle
		}
	}
	t.mu.Unlock()
	return out
}
