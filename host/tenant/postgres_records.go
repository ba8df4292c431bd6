package tenant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/store"
)

// The Postgres registry's records: the same checks, in the same order, as
// the bbolt registry's (tenants.go, keys.go, apps.go, rules.go,
// plugins.go), over SQL.

// ---- tenants ----

// CreateTenant adds a tenant (see Registry.CreateTenant).
func (r *Postgres) CreateTenant(id, name string, q Quotas) (Tenant, error) {
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
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		if _, ok, err := getDoc[Tenant](ctx, tx, `SELECT doc FROM tenants WHERE id = $1`, id); err != nil || ok {
			if ok {
				return fmt.Errorf("tenant %s: %w", id, ErrExists)
			}
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, doc) VALUES ($1, $2)`, id, docOf(t))
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: create: %w", err)
	}
	return t, nil
}

func tenantInPG(ctx context.Context, tx pgx.Tx, id string) (Tenant, error) {
	t, ok, err := getDoc[Tenant](ctx, tx, `SELECT doc FROM tenants WHERE id = $1`, id)
	if err != nil {
		return Tenant{}, err
	}
	if !ok {
		return Tenant{}, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
	}
	return t, nil
}

// GetTenant returns one tenant.
func (r *Postgres) GetTenant(id string) (Tenant, error) {
	var t Tenant
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = tenantInPG(ctx, tx, id)
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: get: %w", err)
	}
	return t, nil
}

// ListTenants returns every tenant in id order.
func (r *Postgres) ListTenants() ([]Tenant, error) {
	var out []Tenant
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = listDocs[Tenant](ctx, tx, `SELECT doc FROM tenants ORDER BY id`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list: %w", err)
	}
	return out, nil
}

// UpdateTenant replaces a tenant's name and quotas.
func (r *Postgres) UpdateTenant(id, name string, q Quotas) (Tenant, error) {
	if err := validName(name); err != nil {
		return Tenant{}, err
	}
	if err := q.validate(); err != nil {
		return Tenant{}, err
	}
	var t Tenant
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		var err error
		if t, err = tenantInPG(ctx, tx, id); err != nil {
			return err
		}
		t.Name, t.Quotas = name, q
		_, err = tx.Exec(ctx, `UPDATE tenants SET doc = $2 WHERE id = $1`, id, docOf(t))
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: update: %w", err)
	}
	return t, nil
}

// SetDialPolicy gives a tenant its own dial policy; nil returns it to the
// server's default (see Registry.SetDialPolicy).
func (r *Postgres) SetDialPolicy(id string, d *DialPolicy) (Tenant, error) {
	if err := d.Validate(); err != nil {
		return Tenant{}, err
	}
	var t Tenant
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		var err error
		if t, err = tenantInPG(ctx, tx, id); err != nil {
			return err
		}
		t.Dial = d
		_, err = tx.Exec(ctx, `UPDATE tenants SET doc = $2 WHERE id = $1`, id, docOf(t))
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: set dial policy: %w", err)
	}
	return t, nil
}

// DeleteTenant removes a tenant with everything it owns (the rows cascade),
// then its plugin blobs (see Registry.DeleteTenant).
func (r *Postgres) DeleteTenant(ctx context.Context, id string) error {
	var shas []string
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	err := r.write(octx, func(tx pgx.Tx, _ func()) error {
		if _, err := tenantInPG(octx, tx, id); err != nil {
			return err
		}
		rows, err := tx.Query(octx, `SELECT sha256 FROM plugins WHERE tenant = $1 ORDER BY sha256`, id)
		if err != nil {
			return err
		}
		shas, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		_, err = tx.Exec(octx, `DELETE FROM tenants WHERE id = $1`, id)
		return err
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

// ---- keys ----

// CreateKey makes an API key for a tenant (see Registry.CreateKey).
func (r *Postgres) CreateKey(tenant, name string) (string, Key, error) {
	if err := validName(name); err != nil {
		return "", Key{}, err
	}
	return r.createKey(tenant, name, false)
}

// CreateAdminKey makes an operator key.
func (r *Postgres) CreateAdminKey(name string) (string, Key, error) {
	if err := validName(name); err != nil {
		return "", Key{}, err
	}
	return r.createKey("", name, true)
}

func (r *Postgres) createKey(tenant, name string, admin bool) (string, Key, error) {
	var idRaw [keyIDBytes]byte
	var secRaw [secretBytes]byte
	if _, err := io.ReadFull(r.rand, idRaw[:]); err != nil {
		return "", Key{}, fmt.Errorf("tenant: create key: %w", err)
	}
	if _, err := io.ReadFull(r.rand, secRaw[:]); err != nil {
		return "", Key{}, fmt.Errorf("tenant: create key: %w", err)
	}
	id := hex.EncodeToString(idRaw[:])
	secret := secretPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(secRaw[:])
	sum := sha256.Sum256([]byte(secret))
	rec := keyRecord{
		Key:  Key{ID: id, Tenant: tenant, Name: name, Admin: admin, Created: r.now().UTC()},
		Hash: sum[:],
	}
	if r.seal != nil {
		rec.Sealed = r.seal.seal(id, []byte(secret))
	}
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		var owner *string
		if !admin {
			if _, err := tenantInPG(ctx, tx, tenant); err != nil {
				return err
			}
			owner = &tenant
		}
		if _, ok, err := getDoc[keyRecord](ctx, tx, `SELECT doc FROM api_keys WHERE id = $1`, id); err != nil || ok {
			if ok {
				return fmt.Errorf("key id %s: %w", id, ErrExists)
			}
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, tenant, doc) VALUES ($1, $2, $3)`, id, owner, docOf(rec))
		return err
	})
	if err != nil {
		return "", Key{}, fmt.Errorf("tenant: create key: %w", err)
	}
	return secret, rec.Key, nil
}

func (r *Postgres) keyRecord(keyID string) (keyRecord, bool, error) {
	var rec keyRecord
	var found bool
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		rec, found, err = getDoc[keyRecord](ctx, tx, `SELECT doc FROM api_keys WHERE id = $1`, keyID)
		return err
	})
	return rec, found, err
}

// Authenticate checks an API key secret (see Registry.Authenticate).
func (r *Postgres) Authenticate(secret string) (string, Key, error) {
	id, ok := parseSecret(secret)
	if !ok {
		return "", Key{}, ErrUnauthorized
	}
	sum := sha256.Sum256([]byte(secret))
	rec, found, err := r.keyRecord(id)
	if err != nil {
		return "", Key{}, fmt.Errorf("tenant: authenticate: %w", err)
	}
	want := rec.Hash
	if !found || len(want) != sha256.Size {
		want = make([]byte, sha256.Size)
	}
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || !found {
		return "", Key{}, ErrUnauthorized
	}
	return rec.Tenant, r.touch(rec.Key), nil
}

// touch records that a key was used, at most once per lastUsedEvery; not
// a routing change, so no generation bump.
func (r *Postgres) touch(k Key) Key {
	now := r.now().UTC()
	if now.Sub(k.LastUsed) < r.lastUsedEvery {
		return k
	}
	ctx, cancel := opContext()
	defer cancel()
	b, _ := json.Marshal(now)
	_, _ = r.pool.Exec(ctx, `UPDATE api_keys SET doc = jsonb_set(doc, '{last_used}', $2::jsonb) WHERE id = $1`, k.ID, string(b))
	k.LastUsed = now
	return k
}

// AuthenticateSigned checks a signed request (see
// Registry.AuthenticateSigned).
func (r *Postgres) AuthenticateSigned(keyID string, verify func(secret []byte) bool) (string, Key, error) {
	if !validKeyID(keyID) {
		return "", Key{}, ErrUnknownKey
	}
	rec, found, err := r.keyRecord(keyID)
	switch {
	case err != nil:
		return "", Key{}, fmt.Errorf("tenant: authenticate: %w", err)
	case !found:
		return "", Key{}, ErrUnknownKey
	case len(rec.Sealed) == 0:
		return "", Key{}, fmt.Errorf("key %s: %w", keyID, ErrNoSigningSecret)
	}
	secret, err := r.seal.open(keyID, rec.Sealed)
	if err != nil {
		return "", Key{}, fmt.Errorf("tenant: authenticate: %w", err)
	}
	ok := verify(secret)
	clear(secret)
	if !ok {
		return "", Key{}, ErrUnauthorized
	}
	return rec.Tenant, r.touch(rec.Key), nil
}

// RevokeKey deletes a key of tenant ("" for admin keys).
func (r *Postgres) RevokeKey(tenant, keyID string) error {
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		rec, ok, err := getDoc[keyRecord](ctx, tx, `SELECT doc FROM api_keys WHERE id = $1`, keyID)
		if err != nil {
			return err
		}
		if !ok || rec.Tenant != tenant {
			return fmt.Errorf("key %q: %w", keyID, ErrNotFound)
		}
		_, err = tx.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, keyID)
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant: revoke key: %w", err)
	}
	return nil
}

// ListKeys returns the keys of tenant ("" for admin keys) in id order.
func (r *Postgres) ListKeys(tenant string) ([]Key, error) {
	var recs []keyRecord
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		recs, err = listDocs[keyRecord](ctx, tx, `SELECT doc FROM api_keys WHERE coalesce(tenant, '') = $1 ORDER BY id`, tenant)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list keys: %w", err)
	}
	var out []Key
	for _, rec := range recs {
		out = append(out, rec.Key)
	}
	return out, nil
}

// ---- applications ----

// CreateApp adds an application (see Registry.CreateApp).
func (r *Postgres) CreateApp(tenant, id, name, webhook string) (Application, error) {
	return r.NewApp(tenant, AppSpec{ID: id, Name: name, Webhook: webhook})
}

// NewApp adds an application with its first plugin version (see
// Registry.NewApp).
func (r *Postgres) NewApp(tenant string, s AppSpec) (Application, error) {
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
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		t, err := tenantInPG(ctx, tx, tenant)
		if err != nil {
			return err
		}
		if _, ok, err := getDoc[Application](ctx, tx, `SELECT doc FROM applications WHERE tenant = $1 AND id = $2`, tenant, s.ID); err != nil || ok {
			if ok {
				return fmt.Errorf("application %s: %w", s.ID, ErrExists)
			}
			return err
		}
		if limit := r.quota(t.Quotas.MaxApps, r.defaults.MaxApps); limit > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM applications WHERE tenant = $1`, tenant).Scan(&n); err != nil {
				return err
			}
			if n >= limit {
				return fmt.Errorf("application %s: the tenant already has %d applications, its limit: %w", s.ID, n, ErrQuotaExceeded)
			}
		}
		if s.Plugin != "" {
			if _, err := pluginInPG(ctx, tx, tenant, s.Plugin); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO applications (tenant, id, doc) VALUES ($1, $2, $3)`, tenant, s.ID, docOf(a))
		return err
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: create application: %w", err)
	}
	return a, nil
}

func appInPG(ctx context.Context, tx pgx.Tx, tenant, id string) (Application, error) {
	a, ok, err := getDoc[Application](ctx, tx, `SELECT doc FROM applications WHERE tenant = $1 AND id = $2`, tenant, id)
	if err != nil {
		return Application{}, err
	}
	if !ok {
		return Application{}, fmt.Errorf("application %q: %w", id, ErrNotFound)
	}
	return a, nil
}

func putAppPG(ctx context.Context, tx pgx.Tx, a Application) error {
	_, err := tx.Exec(ctx, `UPDATE applications SET doc = $3 WHERE tenant = $1 AND id = $2`, a.Tenant, a.ID, docOf(a))
	return err
}

// GetApp returns one application of tenant.
func (r *Postgres) GetApp(tenant, id string) (Application, error) {
	var a Application
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = appInPG(ctx, tx, tenant, id)
		return err
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: get application: %w", err)
	}
	return a, nil
}

// ListApps returns tenant's applications in id order.
func (r *Postgres) ListApps(tenant string) ([]Application, error) {
	var out []Application
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = listDocs[Application](ctx, tx, `SELECT doc FROM applications WHERE tenant = $1 ORDER BY id`, tenant)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list applications: %w", err)
	}
	return out, nil
}

// UpdateApp replaces an application's name and webhook.
func (r *Postgres) UpdateApp(tenant, id, name, webhook string) (Application, error) {
	return r.ChangeApp(tenant, id, AppChange{Name: &name, Webhook: &webhook})
}

// ChangeApp changes an application's fields in one transaction.
func (r *Postgres) ChangeApp(tenant, id string, c AppChange) (Application, error) {
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
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		var err error
		if a, err = appInPG(ctx, tx, tenant, id); err != nil {
			return err
		}
		now := r.now().UTC()
		if c.Plugin != nil {
			if *c.Plugin != "" {
				if _, err := pluginInPG(ctx, tx, tenant, *c.Plugin); err != nil {
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
		return putAppPG(ctx, tx, a)
	})
	if err != nil {
		return Application{}, fmt.Errorf("tenant: update application: %w", err)
	}
	return a, nil
}

// DeleteApp removes an application; ErrInUse while a SIP rule targets it.
func (r *Postgres) DeleteApp(tenant, id string) error {
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		if _, err := appInPG(ctx, tx, tenant, id); err != nil {
			return err
		}
		rules, err := listDocs[Rule](ctx, tx, `SELECT doc FROM rules WHERE tenant = $1 ORDER BY id`, tenant)
		if err != nil {
			return err
		}
		for _, rule := range rules {
			for _, t := range rule.Targets {
				if t.App == id {
					what := "number"
					if rule.TriggerType == TriggerRequestURIHostname {
						what = "hostname"
					}
					return fmt.Errorf("application %s: %s %s routes to it: %w", id, what, rule.TriggerValue, ErrInUse)
				}
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM applications WHERE tenant = $1 AND id = $2`, tenant, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant: delete application: %w", err)
	}
	return nil
}

// ---- numbers ----

// AddNumber gives tenant a phone number (see Registry.AddNumber).
func (r *Postgres) AddNumber(tenant, number string) (Number, error) {
	if err := validNumber(number); err != nil {
		return Number{}, err
	}
	n := Number{Number: number, Tenant: tenant, Created: r.now().UTC()}
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		if _, err := tenantInPG(ctx, tx, tenant); err != nil {
			return err
		}
		cur, ok, err := getDoc[Number](ctx, tx, `SELECT doc FROM numbers WHERE number = $1`, number)
		if err != nil {
			return err
		}
		if ok && cur.Tenant == tenant {
			return fmt.Errorf("number %s: %w", number, ErrExists)
		}
		if ok {
			return fmt.Errorf("number %s: %w", number, ErrNumberTaken)
		}
		_, err = tx.Exec(ctx, `INSERT INTO numbers (number, tenant, doc) VALUES ($1, $2, $3)`, number, tenant, docOf(n))
		return err
	})
	if err != nil {
		return Number{}, fmt.Errorf("tenant: add number: %w", err)
	}
	return n, nil
}

// numberRulePG returns tenant's ToPhoneNumber rule of number, if any.
func numberRulePG(ctx context.Context, tx pgx.Tx, tenant, number string) (Rule, bool, error) {
	return getDoc[Rule](ctx, tx, `SELECT doc FROM rules WHERE trigger_type = $1 AND trigger_value = $2 AND tenant = $3`,
		TriggerToPhoneNumber, number, tenant)
}

// appLookup returns the tenant's applications by id, read in tx.
func appLookup(ctx context.Context, tx pgx.Tx, tenant string) (func(id string) (Application, bool), error) {
	apps, err := listDocs[Application](ctx, tx, `SELECT doc FROM applications WHERE tenant = $1`, tenant)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Application, len(apps))
	for _, a := range apps {
		m[a.ID] = a
	}
	return func(id string) (Application, bool) { a, ok := m[id]; return a, ok }, nil
}

func numberInPG(ctx context.Context, tx pgx.Tx, tenant, number string) (Number, error) {
	n, ok, err := getDoc[Number](ctx, tx, `SELECT doc FROM numbers WHERE number = $1`, number)
	if err != nil {
		return Number{}, err
	}
	if !ok || n.Tenant != tenant {
		return Number{}, fmt.Errorf("number %q: %w", number, ErrNotFound)
	}
	n.App = ""
	rule, ok, err := numberRulePG(ctx, tx, tenant, number)
	if err != nil || !ok {
		return n, err
	}
	apps, err := appLookup(ctx, tx, tenant)
	if err != nil {
		return n, err
	}
	if a, ok := rule.targetIn(apps); ok {
		n.App = a.ID
	}
	return n, nil
}

// GetNumber returns one of tenant's numbers.
func (r *Postgres) GetNumber(tenant, number string) (Number, error) {
	var n Number
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = numberInPG(ctx, tx, tenant, number)
		return err
	})
	if err != nil {
		return Number{}, fmt.Errorf("tenant: get number: %w", err)
	}
	return n, nil
}

// ListNumbers returns tenant's numbers in number order.
func (r *Postgres) ListNumbers(tenant string) ([]Number, error) {
	var out []Number
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		nums, err := listDocs[Number](ctx, tx, `SELECT doc FROM numbers WHERE tenant = $1 ORDER BY number`, tenant)
		if err != nil {
			return err
		}
		rules, err := listDocs[Rule](ctx, tx, `SELECT doc FROM rules WHERE tenant = $1 AND trigger_type = $2`, tenant, TriggerToPhoneNumber)
		if err != nil {
			return err
		}
		byNumber := make(map[string]Rule, len(rules))
		for _, rule := range rules {
			byNumber[rule.TriggerValue] = rule
		}
		apps, err := appLookup(ctx, tx, tenant)
		if err != nil {
			return err
		}
		for _, n := range nums {
			n.App = ""
			if rule, ok := byNumber[n.Number]; ok {
				if a, ok := rule.targetIn(apps); ok {
					n.App = a.ID
				}
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list numbers: %w", err)
	}
	return out, nil
}

// RemoveNumber releases one of tenant's numbers (and its rule).
func (r *Postgres) RemoveNumber(tenant, number string) error {
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		if _, err := numberInPG(ctx, tx, tenant, number); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rules WHERE tenant = $1 AND trigger_type = $2 AND trigger_value = $3`,
			tenant, TriggerToPhoneNumber, number); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM numbers WHERE number = $1`, number)
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant: remove number: %w", err)
	}
	return nil
}

// SetRule routes one of tenant's numbers to one of its applications; ""
// removes the rule (see Registry.SetRule).
func (r *Postgres) SetRule(tenant, number, app string) error {
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, skip func()) error {
		if _, err := numberInPG(ctx, tx, tenant, number); err != nil {
			return err
		}
		rule, ok, err := numberRulePG(ctx, tx, tenant, number)
		if err != nil {
			return err
		}
		want := []RuleTarget{{App: app, Priority: 1}}
		switch {
		case app == "" && !ok:
			skip()
			return nil
		case app == "":
			_, err := tx.Exec(ctx, `DELETE FROM rules WHERE tenant = $1 AND id = $2`, tenant, rule.ID)
			return err
		case ok && !rule.Disabled && slices.Equal(rule.Targets, want):
			skip()
			return nil
		case ok:
			if err := checkTargetsPG(ctx, tx, tenant, want); err != nil {
				return err
			}
			rule.Targets, rule.Disabled, rule.Updated = want, false, r.now().UTC()
			return putRulePG(ctx, tx, rule)
		}
		now := r.now().UTC()
		return createRuleInPG(ctx, tx, Rule{ID: NewID(), Tenant: tenant, Name: number, TriggerType: TriggerToPhoneNumber,
			TriggerValue: number, Targets: want, Created: now, Updated: now})
	})
	if err != nil {
		return fmt.Errorf("tenant: set rule: %w", err)
	}
	return nil
}

// ---- rules ----

func checkTargetsPG(ctx context.Context, tx pgx.Tx, tenant string, ts []RuleTarget) error {
	if len(ts) == 0 || len(ts) > MaxRuleTargets {
		return fmt.Errorf("%w: %d target applications, want 1 to %d", ErrInvalid, len(ts), MaxRuleTargets)
	}
	for _, t := range ts {
		if t.Priority < 1 {
			return fmt.Errorf("%w: target %q: Priority %d, want 1 or more", ErrInvalid, t.App, t.Priority)
		}
		if _, err := appInPG(ctx, tx, tenant, t.App); err != nil {
			return err
		}
	}
	return nil
}

func putRulePG(ctx context.Context, tx pgx.Tx, rule Rule) error {
	_, err := tx.Exec(ctx, `UPDATE rules SET doc = $3 WHERE tenant = $1 AND id = $2`, rule.Tenant, rule.ID, docOf(rule))
	return err
}

// CreateRule adds a SIP rule to tenant (see Registry.CreateRule).
func (r *Postgres) CreateRule(tenant string, rule Rule) (Rule, error) {
	if err := validID("rule", rule.ID); err != nil {
		return Rule{}, err
	}
	if err := validRuleName(rule.Name); err != nil {
		return Rule{}, err
	}
	value, err := normalizeTrigger(rule.TriggerType, rule.TriggerValue)
	if err != nil {
		return Rule{}, err
	}
	now := r.now().UTC()
	rule.Tenant, rule.TriggerValue, rule.Created, rule.Updated = tenant, value, now, now
	rule.Targets = slices.Clone(rule.Targets)
	ctx, cancel := opContext()
	defer cancel()
	err = r.write(ctx, func(tx pgx.Tx, _ func()) error { return createRuleInPG(ctx, tx, rule) })
	if err != nil {
		return Rule{}, fmt.Errorf("tenant: create rule: %w", err)
	}
	return rule, nil
}

func createRuleInPG(ctx context.Context, tx pgx.Tx, rule Rule) error {
	if _, err := tenantInPG(ctx, tx, rule.Tenant); err != nil {
		return err
	}
	if err := checkTargetsPG(ctx, tx, rule.Tenant, rule.Targets); err != nil {
		return err
	}
	if rule.TriggerType == TriggerToPhoneNumber {
		if _, err := numberInPG(ctx, tx, rule.Tenant, rule.TriggerValue); err != nil {
			return err
		}
	}
	if _, ok, err := getDoc[Rule](ctx, tx, `SELECT doc FROM rules WHERE tenant = $1 AND id = $2`, rule.Tenant, rule.ID); err != nil || ok {
		if ok {
			return fmt.Errorf("rule %s: %w", rule.ID, ErrExists)
		}
		return err
	}
	owner, ok, err := getDoc[Rule](ctx, tx, `SELECT doc FROM rules WHERE trigger_type = $1 AND trigger_value = $2`, rule.TriggerType, rule.TriggerValue)
	if err != nil {
		return err
	}
	if ok {
		if owner.Tenant == rule.Tenant {
			return fmt.Errorf("%s %s already has rule %s: %w", rule.TriggerType, rule.TriggerValue, owner.ID, ErrExists)
		}
		return fmt.Errorf("%s %s: %w", rule.TriggerType, rule.TriggerValue, ErrTaken)
	}
	_, err = tx.Exec(ctx, `INSERT INTO rules (tenant, id, trigger_type, trigger_value, doc) VALUES ($1, $2, $3, $4, $5)`,
		rule.Tenant, rule.ID, rule.TriggerType, rule.TriggerValue, docOf(rule))
	return err
}

func ruleInPG(ctx context.Context, tx pgx.Tx, tenant, id string) (Rule, error) {
	rule, ok, err := getDoc[Rule](ctx, tx, `SELECT doc FROM rules WHERE tenant = $1 AND id = $2`, tenant, id)
	if err != nil {
		return Rule{}, err
	}
	if !ok {
		return Rule{}, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return rule, nil
}

// GetRule returns one of tenant's rules.
func (r *Postgres) GetRule(tenant, id string) (Rule, error) {
	var rule Rule
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		rule, err = ruleInPG(ctx, tx, tenant, id)
		return err
	})
	if err != nil {
		return Rule{}, fmt.Errorf("tenant: get rule: %w", err)
	}
	return rule, nil
}

// ListRules returns tenant's rules in id order, those targeting app only
// when app is set.
func (r *Postgres) ListRules(tenant, app string) ([]Rule, error) {
	var all []Rule
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		all, err = listDocs[Rule](ctx, tx, `SELECT doc FROM rules WHERE tenant = $1 ORDER BY id`, tenant)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list rules: %w", err)
	}
	var out []Rule
	for _, rule := range all {
		if app == "" || slices.ContainsFunc(rule.Targets, func(t RuleTarget) bool { return t.App == app }) {
			out = append(out, rule)
		}
	}
	return out, nil
}

// UpdateRule changes a rule's name, and its Disabled flag and targets
// when given.
func (r *Postgres) UpdateRule(tenant, id string, u RuleUpdate) (Rule, error) {
	if err := validRuleName(u.Name); err != nil {
		return Rule{}, err
	}
	var rule Rule
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		var err error
		if rule, err = ruleInPG(ctx, tx, tenant, id); err != nil {
			return err
		}
		if u.Targets != nil {
			if err := checkTargetsPG(ctx, tx, tenant, u.Targets); err != nil {
				return err
			}
			rule.Targets = slices.Clone(u.Targets)
		}
		if u.Disabled != nil {
			rule.Disabled = *u.Disabled
		}
		rule.Name, rule.Updated = u.Name, r.now().UTC()
		return putRulePG(ctx, tx, rule)
	})
	if err != nil {
		return Rule{}, fmt.Errorf("tenant: update rule: %w", err)
	}
	return rule, nil
}

// DeleteRule removes one of tenant's rules.
func (r *Postgres) DeleteRule(tenant, id string) error {
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		if _, err := ruleInPG(ctx, tx, tenant, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM rules WHERE tenant = $1 AND id = $2`, tenant, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant: delete rule: %w", err)
	}
	return nil
}

// migrateNumberRulesPG is migrateNumberRules over the tables: routes that
// records of earlier versions kept on numbers become rules.
func migrateNumberRulesPG(ctx context.Context, tx pgx.Tx, now time.Time, skip func()) error {
	nums, err := listDocs[Number](ctx, tx, `SELECT doc FROM numbers WHERE doc ? 'app' ORDER BY number`)
	if err != nil {
		return err
	}
	if len(nums) == 0 {
		skip()
		return nil
	}
	for _, n := range nums {
		if n.App == "" {
			continue
		}
		_, taken, err := getDoc[Rule](ctx, tx, `SELECT doc FROM rules WHERE trigger_type = $1 AND trigger_value = $2`, TriggerToPhoneNumber, n.Number)
		if err != nil {
			return err
		}
		if !taken {
			rule := Rule{ID: NewID(), Tenant: n.Tenant, Name: n.Number, TriggerType: TriggerToPhoneNumber,
				TriggerValue: n.Number, Targets: []RuleTarget{{App: n.App, Priority: 1}}, Created: now, Updated: now}
			if err := createRuleInPG(ctx, tx, rule); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("number %s: %w", n.Number, err)
			}
		}
		n.App = ""
		if _, err := tx.Exec(ctx, `UPDATE numbers SET doc = $2 WHERE number = $1`, n.Number, docOf(n)); err != nil {
			return err
		}
	}
	return nil
}

// ---- plugins ----

func pluginInPG(ctx context.Context, tx pgx.Tx, tenant, sha string) (Version, error) {
	v, ok, err := getDoc[Version](ctx, tx, `SELECT doc FROM plugins WHERE tenant = $1 AND sha256 = $2`, tenant, sha)
	if err != nil {
		return Version{}, err
	}
	if !ok {
		return Version{}, fmt.Errorf("plugin version %q: %w", sha, ErrNotFound)
	}
	return v, nil
}

// PutPlugin stores a plugin module for tenant (see Registry.PutPlugin):
// the blob first, then the record.
func (r *Postgres) PutPlugin(ctx context.Context, tenant string, wasm []byte) (Version, error) {
	sum := sha256.Sum256(wasm)
	v := Version{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(wasm)), Created: r.now().UTC()}
	var existing *Version
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	err := r.read(octx, func(tx pgx.Tx) error {
		t, err := tenantInPG(octx, tx, tenant)
		if err != nil {
			return err
		}
		if q := t.Quotas.MaxModuleBytes; q > 0 && v.Size > q {
			return fmt.Errorf("module of %d bytes, limit %d: %w", v.Size, q, ErrQuotaExceeded)
		}
		old, ok, err := getDoc[Version](octx, tx, `SELECT doc FROM plugins WHERE tenant = $1 AND sha256 = $2`, tenant, v.SHA256)
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
	wctx, cancel2 := context.WithTimeout(ctx, opTimeout)
	defer cancel2()
	err = r.write(wctx, func(tx pgx.Tx, skip func()) error {
		if _, err := tenantInPG(wctx, tx, tenant); err != nil {
			return err
		}
		old, ok, err := getDoc[Version](wctx, tx, `SELECT doc FROM plugins WHERE tenant = $1 AND sha256 = $2`, tenant, v.SHA256)
		if err != nil {
			return err
		}
		if ok {
			v = old
			skip()
			return nil
		}
		_, err = tx.Exec(wctx, `INSERT INTO plugins (tenant, sha256, doc) VALUES ($1, $2, $3)`, tenant, v.SHA256, docOf(v))
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("tenant: put plugin: %w", err)
	}
	return v, nil
}

// GetPlugin returns one of tenant's plugin versions.
func (r *Postgres) GetPlugin(tenant, sha string) (Version, error) {
	var v Version
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = pluginInPG(ctx, tx, tenant, sha)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("tenant: get plugin: %w", err)
	}
	return v, nil
}

// OpenPlugin returns the bytes of one of tenant's plugin versions, checked
// against their SHA-256.
func (r *Postgres) OpenPlugin(ctx context.Context, tenant, sha string) ([]byte, error) {
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
func (r *Postgres) ListPlugins(tenant string) ([]Version, error) {
	var out []Version
	ctx, cancel := opContext()
	defer cancel()
	err := r.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = listDocs[Version](ctx, tx, `SELECT doc FROM plugins WHERE tenant = $1 ORDER BY sha256`, tenant)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list plugins: %w", err)
	}
	return out, nil
}

// AssignPlugin makes sha the current version of tenant's application
// (see Registry.AssignPlugin).
func (r *Postgres) AssignPlugin(tenant, app, sha string) error {
	if err := validSHA(sha); err != nil {
		return err
	}
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, skip func()) error {
		a, err := appInPG(ctx, tx, tenant, app)
		if err != nil {
			return err
		}
		if _, err := pluginInPG(ctx, tx, tenant, sha); err != nil {
			return err
		}
		if err := r.checkVersions(ctx, tx, tenant, app, sha); err != nil {
			return err
		}
		if !a.assign(sha, r.now()) {
			skip()
			return nil
		}
		return putAppPG(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("tenant: assign plugin: %w", err)
	}
	return nil
}

func (r *Postgres) checkVersions(ctx context.Context, tx pgx.Tx, tenant, app, sha string) error {
	t, err := tenantInPG(ctx, tx, tenant)
	if err != nil {
		return err
	}
	limit := r.quota(t.Quotas.MaxPluginVersions, r.defaults.MaxPluginVersions)
	if limit <= 0 {
		return nil
	}
	apps, err := listDocs[Application](ctx, tx, `SELECT doc FROM applications WHERE tenant = $1`, tenant)
	if err != nil {
		return err
	}
	versions := map[string]bool{sha: true}
	for _, a := range apps {
		if a.ID != app && a.Plugin != "" {
			versions[a.Plugin] = true
		}
	}
	if len(versions) > limit {
		return fmt.Errorf("the tenant's applications would run %d plugin versions, over its limit of %d: %w", len(versions), limit, ErrQuotaExceeded)
	}
	return nil
}

// Rollback makes the previous version current again (see
// Registry.Rollback).
func (r *Postgres) Rollback(tenant, app string) (string, error) {
	var sha string
	ctx, cancel := opContext()
	defer cancel()
	err := r.write(ctx, func(tx pgx.Tx, _ func()) error {
		a, err := appInPG(ctx, tx, tenant, app)
		if err != nil {
			return err
		}
		if len(a.History) == 0 {
			return fmt.Errorf("application %s: %w", app, ErrNoHistory)
		}
		sha = a.History[len(a.History)-1]
		if err := r.checkVersions(ctx, tx, tenant, app, sha); err != nil {
			return err
		}
		a.Plugin, a.History, a.Updated = sha, a.History[:len(a.History)-1], r.now().UTC()
		return putAppPG(ctx, tx, a)
	})
	if err != nil {
		return "", fmt.Errorf("tenant: rollback: %w", err)
	}
	return sha, nil
}

// DeletePlugin removes one of tenant's plugin versions (see
// Registry.DeletePlugin): the record first, then the blob.
func (r *Postgres) DeletePlugin(ctx context.Context, tenant, sha string) error {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	err := r.write(octx, func(tx pgx.Tx, _ func()) error {
		if _, err := pluginInPG(octx, tx, tenant, sha); err != nil {
			return err
		}
		apps, err := listDocs[Application](octx, tx, `SELECT doc FROM applications WHERE tenant = $1 ORDER BY id`, tenant)
		if err != nil {
			return err
		}
		for _, a := range apps {
			if a.Plugin == sha {
				return fmt.Errorf("plugin version %s is application %s's current version: %w", sha, a.ID, ErrInUse)
			}
		}
		for _, a := range apps {
			if slices.Contains(a.History, sha) {
				a.History = slices.DeleteFunc(a.History, func(s string) bool { return s == sha })
				if err := putAppPG(octx, tx, a); err != nil {
					return err
				}
			}
		}
		_, err = tx.Exec(octx, `DELETE FROM plugins WHERE tenant = $1 AND sha256 = $2`, tenant, sha)
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant: delete plugin: %w", err)
	}
	if err := r.blobs.Delete(ctx, tenant, PluginBucket, sha); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenant: delete plugin blob %s: %w", sha, err)
	}
	return nil
}

// ---- bootstrap ----

// Bootstrap applies the configuration's tenants (see Registry.Bootstrap).
// Nodes of a cluster run it at every start with the same file; the
// second one finds everything in place.
func (r *Postgres) Bootstrap(ctx context.Context, cfg *config.Config) error {
	return bootstrap(ctx, r, cfg)
}

func bootMetaKey(tenant, app string) string { return "boot/" + tenant + "/" + app }

func (r *Postgres) bootSHA(tenant, app string) (string, error) {
	ctx, cancel := opContext()
	defer cancel()
	var v string
	err := r.pool.QueryRow(ctx, `SELECT value FROM registry_meta WHERE key = $1`, bootMetaKey(tenant, app)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, mapPGErr(err)
}

func (r *Postgres) bootAssign(app Application, sha, last string) error {
	ctx, cancel := opContext()
	defer cancel()
	return r.write(ctx, func(tx pgx.Tx, skip func()) error {
		a, err := appInPG(ctx, tx, app.Tenant, app.ID)
		if err != nil {
			return err
		}
		if _, err := pluginInPG(ctx, tx, app.Tenant, sha); err != nil {
			return err
		}
		if a.assign(sha, r.now()) {
			if err := putAppPG(ctx, tx, a); err != nil {
				return err
			}
		} else if last == sha {
			skip()
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO registry_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			bootMetaKey(app.Tenant, app.ID), sha)
		return err
	})
}
