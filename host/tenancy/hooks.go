package tenancy

import (
	"context"
	"time"

	"github.com/wasmvoice/mediaserver/host/plugin"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// What the assembled server's tests (host/server) look at and steer in
// the loaded plugin versions. Calls do not use these.

// Hold is a plugin version held the way a call holds it (Tenancy.Hold).
type Hold struct {
	t *Tenancy
	v *version
}

// Hold loads (if needed) the tenant's plugin version sha under the quotas
// q, as an admitted call would, and holds it until Release: the tenant's
// version quota counts it, and it is not closed while held.
func (t *Tenancy) Hold(ctx context.Context, tenantID, sha string, q tenant.Quotas) (*Hold, error) {
	v, err := t.acquireVersion(ctx, tenantID, sha, q)
	if err != nil {
		return nil, err
	}
	return &Hold{t: t, v: v}, nil
}

// Handler returns the held version's plugin.
func (h *Hold) Handler() plugin.Handler { return h.v.p }

// Release gives the version back; call it once.
func (h *Hold) Release() { h.t.releaseVersion(h.v) }

// VersionInfo is the state of one loaded (or loading, or failed) plugin
// version pool.
type VersionInfo struct {
	Tenant, SHA string
	MemoryMiB   int
	Deadline    time.Duration
	Loaded      bool  // ready for calls
	Err         error // why its last load failed; nil while loading
}

// Versions lists the plugin version pools the tenancy keeps.
func (t *Tenancy) Versions() []VersionInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]VersionInfo, 0, len(t.versions))
	for k, v := range t.versions {
		vi := VersionInfo{Tenant: k.tenant, SHA: k.sha, MemoryMiB: k.memMiB, Deadline: k.deadline}
		select {
		case <-v.ready:
			vi.Loaded, vi.Err = v.err == nil, v.err
		default: // loading: v.p and v.err are not ours to read yet
		}
		out = append(out, vi)
	}
	return out
}

// DropVersion forgets the tenant's loaded pools of version sha and closes
// them, as if they had never loaded (tests of the reload after a failed
// load).
func (t *Tenancy) DropVersion(ctx context.Context, tenantID, sha string) {
	t.mu.Lock()
	var closing []*plugin.Plugin
	for k, v := range t.versions {
		if k.tenant != tenantID || k.sha != sha {
			continue
		}
		select {
		case <-v.ready:
		default:
			continue // loading
		}
		delete(t.versions, k)
		if v.p != nil {
			closing = append(closing, v.p)
		}
	}
	t.mu.Unlock()
	for _, p := range closing {
		_ = p.Close(ctx)
	}
}

// SetAfterRead makes f run each time the registry watcher has read the
// registry, before it loads and closes versions (tests of changes made
// during a refresh).
func (t *Tenancy) SetAfterRead(f func()) {
	t.mu.Lock()
	t.afterRead = f
	t.mu.Unlock()
}
