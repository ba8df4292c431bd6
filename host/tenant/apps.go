package tenant

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// CreateApp adds an application to a tenant. Its id is unique within the
// tenant; webhook is optional ("" until a plugin is assigned).
func (r *Registry) CreateApp(tenant, id, name, webhook string) (Application, error) {
	return r.NewApp(tenant, AppSpec{ID: id, Name: name, Webhook: webhook})
}

// AppSpec is an application to create: CreateApp's arguments plus Chime's
// AwsRegion and a first plugin version.
type AppSpec struct {
	ID, Name, Region, Webhook string
	// Model is ModelChime ("" too) or ModelIotcomms.
	Model string
	// Plugin is a version of the tenant's to assign at once ("" = none).
	Plugin string
}

// NewApp adds an application to a tenant, in one transaction with its
// first plugin version when the spec names one.
func (r *Registry) NewApp(tenant string, s AppSpec) (Application, error) {
	if err := validID("application", s.ID); err != nil {
		return Application{}, err
	}
	if err := validName(s.Name); err != nil {
		return Application{}, err
	}
	if err := validWebhook(s.Webhook); err != nil {
		return Application{}, err
	}
	if err := validModel(s.Model); err != nil {
		return Application{}, err
	}
	if s.Model == ModelChime {
		s.Model = ""
	}
	if s.Plugin != "" {
		if err := validSHA(s.Plugin); err != nil {
			return Application{}, err
		}
	}
	now := r.now().UTC()
	a := Application{ID: s.ID, Tenant: tenant, Name: s.Name, Region: s.Region, Webhook: s.Webhook, Plugin: s.Plugin,
		Model: s.Model, Created: now, Updated: now}
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		t, err := tenantIn(tx, tenant)
		if err != nil {
			return err
		}
		if tx.Bucket(bucketApps).Get(scoped(tenant, s.ID)) != nil {
			return fmt.Errorf("application %s: %w", s.ID, ErrExists)
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
				return fmt.Errorf("application %s: the tenant already has %d applications, its limit: %w", s.ID, n, ErrQuotaExceeded)
			}
		}
		if s.Plugin != "" {
			if _, err := pluginIn(tx, tenant, s.Plugin); err != nil {
				return err
			}
		}
		return put(tx, bucketApps, scoped(tenant, s.ID), a)
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
	return r.ChangeApp(tenant, id, AppChange{Name: &name, Webhook: &webhook})
}

// AppChange is what ChangeApp changes; nil fields are kept.
type AppChange struct {
	Name, Region, Webhook, Model *string
	// Plugin is assigned like AssignPlugin does; "" unassigns the current
	// version (kept in the history for Rollback), so the webhook serves.
	Plugin *string
}

// ChangeApp changes an application's fields in one transaction.
func (r *Registry) ChangeApp(tenant, id string, c AppChange) (Application, error) {
	if c.Model != nil {
		if err := validModel(*c.Model); err != nil {
			return Application{}, err
		}
		if *c.Model == ModelChime {
			c.Model = new(string)
		}
	}
	if c.Name != nil {
		if err := validName(*c.Name); err != nil {
			return Application{}, err
		}
	}
	if c.Webhook != nil {
		if err := validWebhook(*c.Webhook); err != nil {
			return Application{}, err
		}
	}
	if c.Plugin != nil && *c.Plugin != "" {
		if err := validSHA(*c.Plugin); err != nil {
			return Application{}, err
		}
	}
	var a Application
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		var err error
		if a, err = appIn(tx, tenant, id); err != nil {
			return err
		}
		now := r.now().UTC()
		if c.Plugin != nil {
			if *c.Plugin != "" {
				if _, err := pluginIn(tx, tenant, *c.Plugin); err != nil {
					return err
				}
			}
			a.assign(*c.Plugin, now)
		}
		for _, f := range []struct{ to, from *string }{{&a.Name, c.Name}, {&a.Region, c.Region}, {&a.Webhook, c.Webhook}, {&a.Model, c.Model}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		a.Updated = now
		return put(tx, bucketApps, scoped(tenant, id), a)
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: update application: %w", err)
	}
	return a, nil
}

// DeleteApp removes an application. It fails with ErrInUse while a SIP
// rule still targets it, so deleting never silently drops calls.
func (r *Registry) DeleteApp(tenant, id string) error {
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if _, err := appIn(tx, tenant, id); err != nil {
			return err
		}
		err := scan(tx, bucketRules, scoped(tenant, ""), func(_ []byte, rule Rule) error {
			for _, t := range rule.Targets {
				if t.App == id {
					what := "number"
					if rule.TriggerType == TriggerRequestURIHostname {
						what = "hostname"
					}
					return fmt.Errorf("application %s: %s %s routes to it: %w", id, what, rule.TriggerValue, ErrInUse)
				}
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
	return withRuleApp(tx, n)
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
			if n.Tenant != tenant {
				return nil
			}
			n, err := withRuleApp(tx, n)
			out = append(out, n)
			return err
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
		rule, ok, err := numberRule(tx, tenant, number)
		if err != nil {
			return err
		}
		if ok {
			if err := deleteRuleIn(tx, rule); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketNumbers).Delete([]byte(number))
	})
	if err != nil {
		return fmt.Errorf("tenant: remove number: %w", err)
	}
	return nil
}

// SetRule routes calls to one of tenant's numbers to one of tenant's
// applications; app "" removes the rule. It is the one-target shorthand of
// the number's ToPhoneNumber SIP rule: it creates the rule (named after
// the number), or makes an existing one enabled with app as its only
// target. Either one belonging to another tenant is ErrNotFound.
func (r *Registry) SetRule(tenant, number, app string) error {
	err := r.update(func(tx *bolt.Tx, skip func()) error {
		if _, err := numberIn(tx, tenant, number); err != nil {
			return err
		}
		rule, ok, err := numberRule(tx, tenant, number)
		if err != nil {
			return err
		}
		want := []RuleTarget{{App: app, Priority: 1}}
		switch {
		case app == "" && !ok:
			skip()
			return nil
		case app == "":
			return deleteRuleIn(tx, rule)
		case ok && !rule.Disabled && slices.Equal(rule.Targets, want):
			skip()
			return nil
		case ok:
			if err := checkTargets(tx, tenant, want); err != nil {
				return err
			}
			rule.Targets, rule.Disabled, rule.Updated = want, false, r.now().UTC()
			return put(tx, bucketRules, scoped(tenant, rule.ID), rule)
		}
		now := r.now().UTC()
		return createRuleIn(tx, Rule{ID: NewID(), Tenant: tenant, Name: number, TriggerType: TriggerToPhoneNumber,
			TriggerValue: number, Targets: want, Created: now, Updated: now})
	})
	if err != nil {
		return fmt.Errorf("tenant: set rule: %w", err)
	}
	return nil
}
