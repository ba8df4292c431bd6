package tenant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmvoice/mediaserver/host/store"
)

// PutPlugin stores a plugin module for tenant, content-addressed by its
// SHA-256, and records it as a version. The caller has validated and
// compiled the module already. Storing the same bytes again returns the
// existing version. A module over the tenant's MaxModuleBytes quota is
// ErrQuotaExceeded.
//
// The blob is written before the record, so the registry never names a
// version whose bytes are missing; a crash in between leaves an orphan blob
// that the next PutPlugin of the same bytes reuses.
func (r *Registry) PutPlugin(ctx context.Context, tenant string, wasm []byte) (Version, error) {
	sum := sha256.Sum256(wasm)
	v := Version{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(wasm)), Created: r.now().UTC()}
	var existing *Version
	err := r.view(func(tx *bolt.Tx) error {
		t, err := tenantIn(tx, tenant)
		if err != nil {
			return err
		}
		if q := t.Quotas.MaxModuleBytes; q > 0 && v.Size > q {
			return fmt.Errorf("module of %d bytes, limit %d: %w", v.Size, q, ErrQuotaExceeded)
		}
		old, ok, err := get[Version](tx, bucketPlugins, scoped(tenant, v.SHA256))
		if ok {
			existing = &old
		}
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("tenant: put plugin: %w", err)
	}
	if existing != nil {
		return *existing, nil
	}
	if _, err := r.blobs.Put(ctx, tenant, PluginBucket, v.SHA256, bytes.NewReader(wasm)); err != nil {
		return Version{}, fmt.Errorf("tenant: put plugin: %w", err)
	}
	err = r.update(func(tx *bolt.Tx, skip func()) error {
		if _, err := tenantIn(tx, tenant); err != nil {
			return err // deleted meanwhile
		}
		old, ok, err := get[Version](tx, bucketPlugins, scoped(tenant, v.SHA256))
		if err != nil {
			return err
		}
		if ok {
			v = old // a concurrent PutPlugin of the same bytes won
			skip()
			return nil
		}
		return put(tx, bucketPlugins, scoped(tenant, v.SHA256), v)
	})
	if err != nil {
		return Version{}, fmt.Errorf("tenant: put plugin: %w", err)
	}
	return v, nil
}

func pluginIn(tx *bolt.Tx, tenant, sha string) (Version, error) {
	v, ok, err := get[Version](tx, bucketPlugins, scoped(tenant, sha))
	if err != nil {
		return Version{}, err
	}
	if !ok {
		return Version{}, fmt.Errorf("plugin version %q: %w", sha, ErrNotFound)
	}
	return v, nil
}

// GetPlugin returns one of tenant's plugin versions.
func (r *Registry) GetPlugin(tenant, sha string) (Version, error) {
	var v Version
	err := r.view(func(tx *bolt.Tx) error {
		var err error
		v, err = pluginIn(tx, tenant, sha)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("tenant: get plugin: %w", err)
	}
	return v, nil
}

// OpenPlugin returns the bytes of one of tenant's plugin versions, checked
// against their SHA-256 so a corrupted blob is never run.
func (r *Registry) OpenPlugin(ctx context.Context, tenant, sha string) ([]byte, error) {
	if _, err := r.GetPlugin(tenant, sha); err != nil {
		return nil, err
	}
	rc, _, err := r.blobs.Open(ctx, tenant, PluginBucket, sha)
	if err != nil {
		return nil, fmt.Errorf("tenant: open plugin %s: %w", sha, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("tenant: open plugin %s: %w", sha, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		return nil, fmt.Errorf("tenant: open plugin %s: %w", sha, ErrCorrupt)
	}
	return b, nil
}

// ListPlugins returns tenant's plugin versions in SHA-256 order.
func (r *Registry) ListPlugins(tenant string) ([]Version, error) {
	var out []Version
	err := r.view(func(tx *bolt.Tx) error {
		return scan(tx, bucketPlugins, scoped(tenant, ""), func(_ []byte, v Version) error {
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list plugins: %w", err)
	}
	return out, nil
}

// AssignPlugin makes sha the current version of tenant's application app,
// pushing the previous one onto its history (at most MaxHistory kept).
// Assigning the current version again changes nothing.
func (r *Registry) AssignPlugin(tenant, app, sha string) error {
	if err := validSHA(sha); err != nil {
		return err
	}
	err := r.update(func(tx *bolt.Tx, skip func()) error {
		a, err := appIn(tx, tenant, app)
		if err != nil {
			return err
		}
		if _, err := pluginIn(tx, tenant, sha); err != nil {
			return err
		}
		if err := r.checkVersions(tx, tenant, app, sha); err != nil {
			return err
		}
		if !a.assign(sha, r.now()) {
			skip()
			return nil
		}
		return put(tx, bucketApps, scoped(tenant, app), a)
	})
	if err != nil {
		return fmt.Errorf("tenant: assign plugin: %w", err)
	}
	return nil
}

// checkVersions fails with ErrQuotaExceeded when making sha the current
// version of app would give tenant's applications more distinct versions
// than its MaxPluginVersions.
func (r *Registry) checkVersions(tx *bolt.Tx, tenant, app, sha string) error {
	t, err := tenantIn(tx, tenant)
	if err != nil {
		return err
	}
	limit := r.quota(t.Quotas.MaxPluginVersions, r.defaults.MaxPluginVersions)
	if limit <= 0 {
		return nil
	}
	versions := map[string]bool{sha: true}
	err = scan(tx, bucketApps, scoped(tenant, ""), func(_ []byte, a Application) error {
		if a.ID != app && a.Plugin != "" {
			versions[a.Plugin] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(versions) > limit {
		return fmt.Errorf("the tenant's applications would run %d plugin versions, over its limit of %d: %w", len(versions), limit, ErrQuotaExceeded)
	}
	return nil
}

// Rollback makes the previous version current again and returns it; the
// version rolled back from is dropped (a second Rollback goes one further
// step back). With no history it is ErrNoHistory.
func (r *Registry) Rollback(tenant, app string) (string, error) {
	var sha string
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		a, err := appIn(tx, tenant, app)
		if err != nil {
			return err
		}
		if len(a.History) == 0 {
			return fmt.Errorf("application %s: %w", app, ErrNoHistory)
		}
		sha = a.History[len(a.History)-1]
		if err := r.checkVersions(tx, tenant, app, sha); err != nil {
			return err
		}
		a.Plugin, a.History, a.Updated = sha, a.History[:len(a.History)-1], r.now().UTC()
		return put(tx, bucketApps, scoped(tenant, app), a)
	})
	if err != nil {
		return "", fmt.Errorf("tenant: rollback: %w", err)
	}
	return sha, nil
}

// DeletePlugin removes one of tenant's plugin versions. A version that is
// the current plugin of an application is ErrInUse; it is dropped from the
// applications' rollback histories. The record goes first, then the blob,
// so a crash in between leaves only an orphan blob.
func (r *Registry) DeletePlugin(ctx context.Context, tenant, sha string) error {
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if _, err := pluginIn(tx, tenant, sha); err != nil {
			return err
		}
		var apps []Application
		err := scan(tx, bucketApps, scoped(tenant, ""), func(_ []byte, a Application) error {
			if a.Plugin == sha {
				return fmt.Errorf("plugin version %s is application %s's current version: %w", sha, a.ID, ErrInUse)
			}
			if slices.Contains(a.History, sha) {
				apps = append(apps, a)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, a := range apps {
			a.History = slices.DeleteFunc(a.History, func(s string) bool { return s == sha })
			if err := put(tx, bucketApps, scoped(tenant, a.ID), a); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketPlugins).Delete(scoped(tenant, sha))
	})
	if err != nil {
		return fmt.Errorf("tenant: delete plugin: %w", err)
	}
	if err := r.blobs.Delete(ctx, tenant, PluginBucket, sha); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenant: delete plugin blob %s: %w", sha, err)
	}
	return nil
}

// assign makes sha current, remembering the previous version; it reports
// whether anything changed.
func (a *Application) assign(sha string, now time.Time) bool {
	if a.Plugin == sha {
		return false
	}
	if a.Plugin != "" {
		a.History = append(a.History, a.Plugin)
		if len(a.History) > MaxHistory {
			a.History = a.History[len(a.History)-MaxHistory:]
		}
	}
	a.Plugin, a.Updated = sha, now.UTC()
	return true
}
