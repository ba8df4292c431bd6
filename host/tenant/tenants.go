package tenant

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmvoice/mediaserver/host/store"
)

// CreateTenant adds a tenant. The id is permanent: 1-64 of a-z, 0-9, '-'
// and '_', starting with a letter or digit.
func (r *Registry) CreateTenant(id, name string, q Quotas) (Tenant, error) {
	if err := validID("tenant", id); err != nil {
		return Tenant{}, err
	}
	if err := validName(name); err != nil {
		return Tenant{}, err
	}
	if err := q.validate(); err != nil {
		return Tenant{}, err
	}
	t := Tenant{ID: id, Name: name, Created: r.now().UTC(), Quotas: q}
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if tx.Bucket(bucketTenants).Get([]byte(id)) != nil {
			return fmt.Errorf("tenant %s: %w", id, ErrExists)
		}
		return put(tx, bucketTenants, []byte(id), t)
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: create: %w", err)
	}
	return t, nil
}

// GetTenant returns one tenant.
func (r *Registry) GetTenant(id string) (Tenant, error) {
	var t Tenant
	err := r.view(func(tx *bolt.Tx) error {
		var err error
		t, err = tenantIn(tx, id)
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: get: %w", err)
	}
	return t, nil
}

func tenantIn(tx *bolt.Tx, id string) (Tenant, error) {
	t, ok, err := get[Tenant](tx, bucketTenants, []byte(id))
	if err != nil {
		return Tenant{}, err
	}
	if !ok {
		return Tenant{}, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
	}
	return t, nil
}

// ListTenants returns every tenant in id order (an admin operation).
func (r *Registry) ListTenants() ([]Tenant, error) {
	var out []Tenant
	err := r.view(func(tx *bolt.Tx) error {
		return scan(tx, bucketTenants, nil, func(_ []byte, t Tenant) error {
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list: %w", err)
	}
	return out, nil
}

// UpdateTenant replaces a tenant's name and quotas.
func (r *Registry) UpdateTenant(id, name string, q Quotas) (Tenant, error) {
	if err := validName(name); err != nil {
		return Tenant{}, err
	}
	if err := q.validate(); err != nil {
		return Tenant{}, err
	}
	var t Tenant
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		var err error
		if t, err = tenantIn(tx, id); err != nil {
			return err
		}
		t.Name, t.Quotas = name, q
		return put(tx, bucketTenants, []byte(id), t)
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: update: %w", err)
	}
	return t, nil
}

// DeleteTenant removes a tenant with all its keys, applications, numbers
// and plugin versions in one transaction, then deletes its plugin blobs.
// A failure deleting blobs leaves orphans in the store but the registry
// already forgot them; the error reports it.
func (r *Registry) DeleteTenant(ctx context.Context, id string) error {
	var shas []string
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if _, err := tenantIn(tx, id); err != nil {
			return err
		}
		prefix := scoped(id, "")
		if err := deletePrefix(tx, bucketApps, prefix, func([]byte) {}); err != nil {
			return err
		}
		if err := deletePrefix(tx, bucketRules, prefix, func([]byte) {}); err != nil {
			return err
		}
		if err := deleteTriggersOf(tx, id); err != nil {
			return err
		}
		if err := deletePrefix(tx, bucketPlugins, prefix, func(k []byte) {
			shas = append(shas, string(k[len(prefix):]))
		}); err != nil {
			return err
		}
		// Keys and numbers are keyed by their own id; filter on the owner.
		if err := deleteWhere(tx, bucketKeys, func(k keyRecord) bool { return k.Tenant == id && !k.Admin }); err != nil {
			return err
		}
		if err := deleteWhere(tx, bucketNumbers, func(n Number) bool { return n.Tenant == id }); err != nil {
			return err
		}
		return tx.Bucket(bucketTenants).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("tenant: delete %s: %w", id, err)
	}
	var errs []error
	for _, sha := range shas {
		if err := r.blobs.Delete(ctx, id, PluginBucket, sha); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tenant: delete %s: plugin blobs: %w", id, err)
	}
	return nil
}

func deletePrefix(tx *bolt.Tx, bucket, prefix []byte, seen func(k []byte)) error {
	var keys [][]byte
	c := tx.Bucket(bucket).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		seen(k)
		if err := tx.Bucket(bucket).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// deleteTriggersOf drops tenant's entries of the trigger index, whose
// values (not keys) name the tenant.
func deleteTriggersOf(tx *bolt.Tx, tenant string) error {
	var keys [][]byte
	c := tx.Bucket(bucketTriggers).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if tenantOf(v) == tenant {
			keys = append(keys, append([]byte(nil), k...))
		}
	}
	for _, k := range keys {
		if err := tx.Bucket(bucketTriggers).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func deleteWhere[T any](tx *bolt.Tx, bucket []byte, match func(T) bool) error {
	var keys [][]byte
	err := scan(tx, bucket, nil, func(k []byte, v T) error {
		if match(v) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Bucket(bucket).Delete(k); err != nil {
			return err
		}
	}
	return nil
}
