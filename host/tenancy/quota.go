package tenancy

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/internal/ratelimit"
)

// Default quotas, for tenants (and a server) that set none.
const (
	DefaultMaxConcurrentCalls = 1000
	DefaultMaxCallsPerSecond  = 100
	DefaultMaxKVBytes         = 16 << 20
	DefaultMaxApps            = 20
	DefaultMaxPluginVersions  = 10
)

// effectiveQuotas fills the zero quotas of q from the server defaults.
func (t *Tenancy) effectiveQuotas(q tenant.Quotas) tenant.Quotas {
	d := t.opts.Defaults
	pc := t.cfg.Plugins
	pick := func(v, def, last int) int {
		if v > 0 {
			return v
		}
		if def > 0 {
			return def
		}
		return last
	}
	cq := t.cfg.Quotas
	q.MaxConcurrentCalls = pick(q.MaxConcurrentCalls, d.MaxConcurrentCalls, pick(cq.MaxConcurrentCalls, 0, DefaultMaxConcurrentCalls))
	q.MaxCallsPerSecond = pick(q.MaxCallsPerSecond, d.MaxCallsPerSecond, pick(cq.MaxCallsPerSecond, 0, DefaultMaxCallsPerSecond))
	q.PluginMemoryMiB = pick(q.PluginMemoryMiB, d.PluginMemoryMiB, pc.MemoryMiB)
	if q.EventDeadline <= 0 {
		q.EventDeadline = d.EventDeadline
		if q.EventDeadline <= 0 {
			q.EventDeadline = pc.Deadline.Duration
		}
	}
	if q.MaxModuleBytes <= 0 {
		q.MaxModuleBytes = d.MaxModuleBytes
		if q.MaxModuleBytes <= 0 {
			q.MaxModuleBytes = int64(pc.MaxModuleMiB) << 20
		}
	}
	if q.MaxStorageBytes <= 0 {
		q.MaxStorageBytes = t.defaultStorageBytes()
	}
	if q.MaxKVBytes <= 0 {
		q.MaxKVBytes = d.MaxKVBytes
		if q.MaxKVBytes <= 0 {
			q.MaxKVBytes = int64(pick(cq.MaxKVMiB, 0, DefaultMaxKVBytes>>20)) << 20
		}
	}
	q.MaxApps = pick(q.MaxApps, d.MaxApps, pick(cq.MaxApplications, 0, DefaultMaxApps))
	q.MaxPluginVersions = pick(q.MaxPluginVersions, d.MaxPluginVersions, pick(cq.MaxPluginVersions, 0, DefaultMaxPluginVersions))
	return q
}

// kvQuota is a tenant's key-value store quota in bytes.
func (t *Tenancy) kvQuota(tenantID string) int64 {
	var q tenant.Quotas
	if t.reg != nil {
		q, _ = t.reg.Quotas(tenantID)
	}
	return t.effectiveQuotas(q).MaxKVBytes
}

// defaultStorageBytes is the storage quota of a tenant without its own:
// Options.Defaults, else [quotas] max_storage_mib, else unlimited (0).
func (t *Tenancy) defaultStorageBytes() int64 {
	if b := t.opts.Defaults.MaxStorageBytes; b > 0 {
		return b
	}
	return int64(t.cfg.Quotas.MaxStorageMiB) << 20
}

// tenantState is the live accounting of one tenant: its calls in
// progress, its call-rate bucket and its share of the CPU.
type tenantState struct {
	id     string
	peers  Peers // nil: this server alone
	mu     sync.Mutex
	active int
	bucket ratelimit.Bucket
	cpu    chan struct{} // one token per plugin invocation running
	// hooks has one token per webhook request in flight: a webhook waits
	// on the network, not on this server's CPU, so it takes no CPU slot
	// and no budget, only one of these.
	hooks chan struct{}

	// budget is the plugin time the tenant may still use (it may go
	// negative: an invocation's cost is known only after it ran). It
	// refills at budgetRate seconds per second up to budgetMax; an
	// invocation waits while the budget is negative.
	budget     time.Duration
	budgetAt   time.Time
	budgetRate float64
	budgetMax  time.Duration
}

func (t *Tenancy) tenantState(id string) *tenantState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.tenants[id]
	if !ok {
		peers := t.opts.Peers
		n := t.opts.CPUSlots
		if n <= 0 {
			n = max(1, runtime.GOMAXPROCS(0)/2)
		}
		// Half a core per slot on average, 250 ms per slot in a burst:
		// plenty for handlers that answer in micro- or milliseconds, and a
		// spinning plugin gets half of the cores it is allowed at most.
		st = &tenantState{id: id, peers: peers, cpu: make(chan struct{}, n), hooks: make(chan struct{}, DefaultWebhookConcurrency), budgetRate: float64(n) / 2, budgetMax: time.Duration(n) * 250 * time.Millisecond}
		st.budget = st.budgetMax
		t.tenants[id] = st
	}
	return st
}

// admitCall counts a new call of the tenant against its quotas. It
// returns the SIP code to reject with (486 over the concurrent-call
// quota, 503 over the call rate, with the time after which a retry can
// succeed), or 0 when admitted; release must then follow.
//
// On a node of a cluster the other nodes' calls in progress count too (as
// they last announced them), and the call rate is shared evenly among
// the live nodes (Kamailio spreads calls evenly; each node's bucket holds
// at least one call): see RATIONALE.md for the error margin.
func (st *tenantState) admitCall(q tenant.Quotas, now time.Time) (code int, retry time.Duration) {
	others, nodes := 0, 1
	if st.peers != nil {
		others, nodes = st.peers.Active(st.id), max(1, st.peers.Nodes())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.active+others >= q.MaxConcurrentCalls {
		return 486, 0
	}
	rate := float64(q.MaxCallsPerSecond) / float64(nodes)
	if ok, wait := st.bucket.Take(rate, max(1, rate), now); !ok {
		return 503, wait
	}
	st.active++
	if st.peers != nil {
		st.peers.Changed(st.id, st.active)
	}
	return 0, 0
}

func (st *tenantState) releaseCall() {
	st.mu.Lock()
	st.active--
	if st.peers != nil {
		st.peers.Changed(st.id, st.active)
	}
	st.mu.Unlock()
}

// cpuQueueTimeout bounds how long an event waits for its tenant's CPU
// share. A tenant that keeps its share busy sheds its own events (the
// engine retries once, then ends the call) instead of piling up calls.
const cpuQueueTimeout = 2 * time.Second

// acquireCPU waits for one of the tenant's invocation slots, and while
// the tenant's plugin-time budget is spent; at most cpuQueueTimeout. It
// then takes reserve (what the invocation may take, at most the budget of
// one slot) from the budget at once, so invocations in progress count
// before they end; releaseCPU settles the difference.
func (st *tenantState) acquireCPU(ctx context.Context, reserve time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, cpuQueueTimeout, ErrTenantCPU)
	defer cancel()
	select {
	case st.cpu <- struct{}{}:
	default:
		select {
		case st.cpu <- struct{}{}:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
	}
	reserve = min(reserve, st.budgetMax/time.Duration(cap(st.cpu)))
	for {
		wait := st.budgetWait(time.Now(), reserve)
		if wait <= 0 {
			return reserve, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			<-st.cpu
			return 0, context.Cause(ctx)
		}
	}
}

// budgetWait refills the budget and returns how long until it is no
// longer negative; when it is not, it takes reserve from it.
func (st *tenantState) budgetWait(now time.Time, reserve time.Duration) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.budgetAt.IsZero() {
		st.budget = min(st.budgetMax, st.budget+time.Duration(float64(now.Sub(st.budgetAt))*st.budgetRate))
	}
	st.budgetAt = now
	if st.budget >= 0 {
		st.budget -= reserve
		return 0
	}
	return time.Duration(float64(-st.budget) / st.budgetRate)
}

// DefaultWebhookConcurrency bounds a tenant's webhook requests in flight
// (its calls' events wait for a free one, at most cpuQueueTimeout).
const DefaultWebhookConcurrency = 256

// acquireHook waits for one of the tenant's webhook slots, at most
// cpuQueueTimeout; releaseHook frees it.
func (st *tenantState) acquireHook(ctx context.Context) error {
	select {
	case st.hooks <- struct{}{}:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cpuQueueTimeout, ErrTenantWebhooks)
	defer cancel()
	select {
	case st.hooks <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (st *tenantState) releaseHook() { <-st.hooks }

// releaseCPU frees the slot and charges the invocation's time, less what
// acquireCPU reserved for it.
func (st *tenantState) releaseCPU(reserved, took time.Duration) {
	st.mu.Lock()
	st.budget += reserved - took
	st.mu.Unlock()
	<-st.cpu
}
