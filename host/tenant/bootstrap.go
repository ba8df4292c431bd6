package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmvoice/mediaserver/host/config"
)

// Bootstrap makes the registry hold what the config file declares:
// tenants, their applications, numbers and rules, and each application's
// plugin file stored as a version and assigned. It is idempotent and meant
// to run on every start.
//
// It only adds and updates; objects created through the API and absent
// from the file are kept. A plugin file is assigned when the application
// has no plugin or when the file's content changed since the last
// Bootstrap, so a version assigned through the API survives restarts until
// the operator changes the file. A tenant created here is named after its
// id with default quotas.
//
// A problem with one application (a missing plugin file, a number another
// tenant owns) does not stop the others: all problems are joined in the
// returned error, and everything else is applied.
func (r *Registry) Bootstrap(ctx context.Context, cfg *config.Config) error {
	return bootstrap(ctx, r, cfg)
}

// booter is what Bootstrap needs of a registry beyond Registrar.
type booter interface {
	Registrar
	// bootSHA is the SHA-256 of the plugin file the last Bootstrap saw
	// for tenant's application app ("" for none).
	bootSHA(tenant, app string) (string, error)
	// bootAssign makes the stored version sha app's current one and
	// records sha as its file's, in one transaction; last is what
	// bootSHA said.
	bootAssign(app Application, sha, last string) error
}

func bootstrap(ctx context.Context, r booter, cfg *config.Config) error {
	var errs []error
	for _, ct := range cfg.Tenants {
		if _, err := r.CreateTenant(ct.ID, ct.ID, Quotas{}); err != nil && !errors.Is(err, ErrExists) {
			errs = append(errs, fmt.Errorf("tenant: bootstrap %s: %w", ct.ID, err))
			continue
		}
		if d := ct.Dial; d != nil {
			if _, err := r.SetDialPolicy(ct.ID, &DialPolicy{AllowedHosts: d.AllowedHosts, AllowedPrefixes: d.AllowedPrefixes}); err != nil {
				errs = append(errs, fmt.Errorf("tenant: bootstrap %s: %w", ct.ID, err))
			}
		}
		for _, ca := range ct.Applications {
			if err := bootstrapApp(ctx, r, ct.ID, ca); err != nil {
				errs = append(errs, fmt.Errorf("tenant: bootstrap %s/%s: %w", ct.ID, ca.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// modelName is the model's name with "" read as chime.
func modelName(m string) string {
	if m == "" {
		return ModelChime
	}
	return m
}

func bootstrapApp(ctx context.Context, r booter, tenant string, ca config.Application) error {
	app, err := r.GetApp(tenant, ca.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		app, err = r.NewApp(tenant, AppSpec{ID: ca.ID, Name: ca.ID, Webhook: ca.Webhook, Model: ca.Model})
		if errors.Is(err, ErrExists) {
			// Another node of a cluster, starting with the same file,
			// made it meanwhile.
			app, err = r.GetApp(tenant, ca.ID)
		}
		if err != nil {
			return err
		}
	case err != nil:
		return err
	case app.Webhook != ca.Webhook || modelName(app.Model) != modelName(ca.Model):
		model := ca.Model
		if app, err = r.ChangeApp(tenant, ca.ID, AppChange{Webhook: &ca.Webhook, Model: &model}); err != nil {
			return err
		}
	}
	var errs []error
	if ca.Plugin != "" {
		if err := bootstrapPlugin(ctx, r, app, ca.Plugin); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range ca.Numbers {
		if _, err := r.AddNumber(tenant, n); err != nil && !errors.Is(err, ErrExists) {
			errs = append(errs, err)
			continue
		}
		if err := r.SetRule(tenant, n, ca.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// bootKey records, per application, the SHA-256 of the plugin file the
// last Bootstrap saw.
func bootKey(tenant, app string) []byte { return []byte("boot\x00" + tenant + "\x00" + app) }

func bootstrapPlugin(ctx context.Context, r booter, app Application, path string) error {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("plugin file: %w", err)
	}
	sum := sha256.Sum256(wasm)
	sha := hex.EncodeToString(sum[:])
	last, err := r.bootSHA(app.Tenant, app.ID)
	if err != nil {
		return err
	}
	if app.Plugin != "" && last == sha {
		return nil // file unchanged: keep whatever is assigned now
	}
	if _, err := r.PutPlugin(ctx, app.Tenant, wasm); err != nil {
		return err
	}
	if err := r.bootAssign(app, sha, last); err != nil {
		return fmt.Errorf("assign plugin: %w", err)
	}
	return nil
}

func (r *Registry) bootSHA(tenant, app string) (string, error) {
	var last string
	err := r.view(func(tx *bolt.Tx) error {
		last = string(tx.Bucket(bucketMeta).Get(bootKey(tenant, app)))
		return nil
	})
	return last, err
}

func (r *Registry) bootAssign(app Application, sha, last string) error {
	return r.update(func(tx *bolt.Tx, skip func()) error {
		a, err := appIn(tx, app.Tenant, app.ID)
		if err != nil {
			return err
		}
		if _, err := pluginIn(tx, app.Tenant, sha); err != nil {
			return err
		}
		if a.assign(sha, r.now()) {
			if err := put(tx, bucketApps, scoped(app.Tenant, app.ID), a); err != nil {
				return err
			}
		} else if last == sha {
			skip()
			return nil
		}
		return tx.Bucket(bucketMeta).Put(bootKey(app.Tenant, app.ID), []byte(sha))
	})
}
