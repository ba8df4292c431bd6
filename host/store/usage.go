package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
)

// Usager reports the bytes a tenant stores across all its buckets. Both
// Folder and S3 implement it with one scan; Metered caches the answer.
type Usager interface {
	Usage(ctx context.Context, tenant string) (int64, error)
}

// UsageStore is a Store that can measure a tenant's usage.
type UsageStore interface {
	Store
	Usager
}

var (
	_ UsageStore = (*Folder)(nil)
	_ UsageStore = (*S3)(nil)
	_ UsageStore = (*Metered)(nil)
)

// Usage implements Usager: one walk of the tenant's folder.
func (f *Folder) Usage(_ context.Context, tenant string) (int64, error) {
	if err := ValidateTenant(tenant); err != nil {
		return 0, err
	}
	var total int64
	err := filepath.WalkDir(filepath.Join(f.root, tenant), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		total += st.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: usage %s: %w", tenant, err)
	}
	return total, nil
}

// Metered wraps a store to keep each tenant's byte count in memory and to
// enforce a per-tenant quota on Put. A tenant's count is measured with one
// scan on first use, then kept up to date by Put and Delete, so checking a
// quota costs a map lookup instead of a listing.
//
// Writes that bypass Metered (a recorder writing through Folder.Path) are
// not seen: call Forget after them so the next Usage measures again.
//
// The quota is soft under concurrency: two Puts racing for the last bytes
// of a quota may both succeed; the overshoot is bounded by one object each.
type Metered struct {
	Store
	usager Usager
	limit  func(tenant string) int64

	mu     sync.Mutex // guards meters, not the counts
	meters map[string]*meter
}

// meter is one tenant's count. Its own lock is held across the first scan,
// so Puts of that tenant wait for the count to exist (and cannot slip
// between scan and cache) while other tenants go on.
type meter struct {
	mu    sync.Mutex
	ready bool
	n     int64
}

// NewMetered wraps s. limit returns a tenant's quota in bytes, zero or
// less meaning unlimited; a nil limit means no quotas, only metering.
func NewMetered(s UsageStore, limit func(tenant string) int64) *Metered {
	if limit == nil {
		limit = func(string) int64 { return 0 }
	}
	return &Metered{Store: s, usager: s, limit: limit, meters: map[string]*meter{}}
}

func (m *Metered) meter(tenant string) *meter {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt, ok := m.meters[tenant]
	if !ok {
		mt = &meter{}
		m.meters[tenant] = mt
	}
	return mt
}

// Usage implements Usager from the cache, measuring on first use.
func (m *Metered) Usage(ctx context.Context, tenant string) (int64, error) {
	if err := ValidateTenant(tenant); err != nil {
		return 0, err
	}
	mt := m.meter(tenant)
	mt.mu.Lock()
	defer mt.mu.Unlock()
	if !mt.ready {
		n, err := m.usager.Usage(ctx, tenant)
		if err != nil {
			return 0, err
		}
		mt.n, mt.ready = n, true
	}
	return mt.n, nil
}

// Forget drops the cached count of tenant; the next Usage scans again.
func (m *Metered) Forget(tenant string) {
	mt := m.meter(tenant)
	mt.mu.Lock()
	mt.ready = false
	mt.mu.Unlock()
}

func (m *Metered) add(tenant string, delta int64) {
	mt := m.meter(tenant)
	mt.mu.Lock()
	if mt.ready {
		mt.n += delta
	}
	mt.mu.Unlock()
}

// size returns the current size of an object, 0 if it does not exist.
func (m *Metered) size(ctx context.Context, tenant, bucket, key string) (int64, error) {
	st, err := m.Store.Stat(ctx, tenant, bucket, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return st.Size, err
}

// Put implements Store, failing with ErrQuotaExceeded (and storing nothing)
// when the new object would take the tenant over its quota.
func (m *Metered) Put(ctx context.Context, tenant, bucket, key string, r io.Reader) (Info, error) {
	used, err := m.Usage(ctx, tenant)
	if err != nil {
		return Info{}, err
	}
	old, err := m.size(ctx, tenant, bucket, key)
	if err != nil {
		return Info{}, err
	}
	var capped *capReader
	if limit := m.limit(tenant); limit > 0 {
		capped = &capReader{r: r, left: max(limit-used+old, 0)}
		r = capped
	}
	info, err := m.Store.Put(ctx, tenant, bucket, key, r)
	if capped != nil && capped.exceeded {
		// Report the quota whatever error the backend wrapped it in.
		return Info{}, fmt.Errorf("store: put %s/%s: %w", bucket, key, ErrQuotaExceeded)
	}
	if err != nil {
		return Info{}, err
	}
	m.add(tenant, info.Size-old)
	return info, nil
}

// Delete implements Store.
func (m *Metered) Delete(ctx context.Context, tenant, bucket, key string) error {
	old, err := m.size(ctx, tenant, bucket, key)
	if err != nil {
		return err
	}
	if err := m.Store.Delete(ctx, tenant, bucket, key); err != nil {
		return err
	}
	m.add(tenant, -old)
	return nil
}

// capReader fails once more than left bytes are read, so an over-quota
// upload aborts before the backend commits it.
type capReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		c.exceeded = true
		return 0, ErrQuotaExceeded
	}
	c.left -= int64(n)
	return n, err
}
