package tenant

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// CreateApp adds an application to a tenant. Its id is unique within the
// tenant; webhook is optional ("" until a plugin is assigned).
func (r *Registry) CreateApp(tenant, id, name, webhook string) (Application, error) {
	if err := validID("application", id); err != nil {
		return Application{}, err
	}
	if err := validName(name); err != nil {
		return Application{}, err
	}
	if err := validWebhook(webhook); err != nil {
		return Application{}, err
	}
	now := r.now().UTC()
	a := Application{ID: id, Tenant: tenant, Name: name, Webhook: webhook, Created: now, Updated: now}
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		t, err := tenantIn(tx, tenant)
		if err != nil {
			return err
		}
		if tx.Bucket(bucketApps).Get(scoped(tenant, id)) != nil {
			return fmt.Errorf("application %s: %w", id, ErrExists)
		}
		if limit := r.quota(t.Quotas.MaxApps, r.defaults.MaxApps); limit > 0 {
			n := 0
			err := scan(tx, bucketApps, scoped(tenant, ""), func(_ []byte, _ Application) error {
				n++
				return nil
			})
			if err != nil {
				return err
			}
			if n >= limit {
				return fmt.Errorf("application %s: the tenant already has %d applications, its limit: %w", id, n, ErrQuotaExceeded)
			}
		}
		return put(tx, bucketApps, scoped(tenant, id), a)
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: create application: %w", err)
	}
	return a, nil
}

func appIn(tx *bolt.Tx, tenant, id string) (Application, error) {
	a, ok, err := get[Application](tx, bucketApps, scoped(tenant, id))
	if err != nil {
		return Application{}, err
	}
	if !ok {
		return Application{}, fmt.Errorf("application %q: %w", id, ErrNotFound)
	}
	return a, nil
}

// GetApp returns one application of tenant.
func (r *Registry) GetApp(tenant, id string) (Application, error) {
	var a Application
	err := r.view(func(tx *bolt.Tx) error {
		var err error
		a, err = appIn(tx, tenant, id)
		return err
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: get application: %w", err)
	}
	return a, nil
}

// ListApps returns tenant's applications in id order.
func (r *Registry) ListApps(tenant string) ([]Application, error) {
	var out []Application
	err := r.view(func(tx *bolt.Tx) error {
		return scan(tx, bucketApps, scoped(tenant, ""), func(_ []byte, a Application) error {
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list applications: %w", err)
	}
	return out, nil
}

// UpdateApp replaces an application's name and webhook.
func (r *Registry) UpdateApp(tenant, id, name, webhook string) (Application, error) {
	if err := validName(name); err != nil {
		return Application{}, err
	}
	if err := validWebhook(webhook); err != nil {
		return Application{}, err
	}
	var a Application
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		var err error
		if a, err = appIn(tx, tenant, id); err != nil {
			return err
		}
		a.Name, a.Webhook, a.Updated = name, webhook, r.now().UTC()
		return put(tx, bucketApps, scoped(tenant, id), a)
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: update application: %w", err)
	}
	return a, nil
}

// DeleteApp removes an application. It fails with ErrInUse while a number
// still routes to it, so deleting never silently drops calls.
func (r *Registry) DeleteApp(tenant, id string) error {
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if _, err := appIn(tx, tenant, id); err != nil {
			return err
		}
		err := scan(tx, bucketNumbers, nil, func(_ []byte, n Number) error {
			if n.Tenant == tenant && n.App == id {
				return fmt.Errorf("application %s: number %s routes to it: %w", id, n.Number, ErrInUse)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketApps).Delete(scoped(tenant, id))
	})
	if err != nil {
		return fmt.Errorf("tenant: delete application: %w", err)
	}
	return nil
}

// AddNumber gives tenant a phone number (E.164). Numbers are unique
// server-wide: one owned by another tenant is ErrNumberTaken; one the
// tenant already owns is ErrExists.
func (r *Registry) AddNumber(tenant, number string) (Number, error) {
	if err := validNumber(number); err != nil {
		return Number{}, err
	}
	n := Number{Number: number, Tenant: tenant, Created: r.now().UTC()}
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if _, err := tenantIn(tx, tenant); err != nil {
			return err
		}
		cur, ok, err := get[Number](tx, bucketNumbers, []byte(number))
		if err != nil {
			return err
		}
		if ok && cur.Tenant == tenant {
			return fmt.Errorf("number %s: %w", number, ErrExists)
		}
		if ok {
			return fmt.Errorf("number %s: %w", number, ErrNumberTaken)
		}
		return put(tx, bucketNumbers, []byte(number), n)
	})
	if err != nil {
		return Number{}, fmt.Errorf("tenant: add number: %w", err)
	}
	return n, nil
}

func numberIn(tx *bolt.Tx, tenant, number string) (Number, error) {
	n, ok, err := get[Number](tx, bucketNumbers, []byte(number))
	if err != nil {
		return Number{}, err
	}
	if !ok || n.Tenant != tenant {
		return Number{}, fmt.Errorf("number %q: %w", number, ErrNotFound)
	}
	return n, nil
}

// GetNumber returns one of tenant's numbers.
func (r *Registry) GetNumber(tenant, number string) (Number, error) {
	var n Number
	err := r.view(func(tx *bolt.Tx) error {
		var err error
		n, err = numberIn(tx, tenant, number)
		return err
	})
	if err != nil {
		return Number{}, fmt.Errorf("tenant: get number: %w", err)
	}
	return n, nil
}

// ListNumbers returns tenant's numbers in number order.
func (r *Registry) ListNumbers(tenant string) ([]Number, error) {
	var out []Number
	err := r.view(func(tx *bolt.Tx) error {
		return scan(tx, bucketNumbers, nil, func(_ []byte, n Number) error {
			if n.Tenant == tenant {
				out = append(out, n)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list numbers: %w", err)
	}
	return out, nil
}

// RemoveNumber releases one of tenant's numbers (and its rule).
func (r *Registry) RemoveNumber(tenant, number string) error {
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if _, err := numberIn(tx, tenant, number); err != nil {
			return err
		}
		return tx.Bucket(bucketNumbers).Delete([]byte(number))
	})
	if err != nil {
		return fmt.Errorf("tenant: remove number: %w", err)
	}
	return nil
}

// SetRule routes calls to one of tenant's numbers to one of tenant's
// applications; app "" removes the rule. Either one belonging to another
// tenant is ErrNotFound.
func (r *Registry) SetRule(tenant, number, app string) error {
	err := r.update(func(tx *bolt.Tx, skip func()) error {
		n, err := numberIn(tx, tenant, number)
		if err != nil {
			return err
		}
		if app != "" {
			if _, err := appIn(tx, tenant, app); err != nil {
				return err
			}
		}
		if n.App == app {
			skip()
			return nil
		}
		n.App = app
		return put(tx, bucketNumbers, []byte(number), n)
	})
	if err != nil {
		return fmt.Errorf("tenant: set rule: %w", err)
	}
	return nil
}
