package tenant

import (
	"context"

	"github.com/wasmvoice/mediaserver/host/config"
)

// Registrar is what the server asks of a registry. Two implementations
// serve it with the same behaviour, checked by the same tests: Registry
// (one bbolt file, the single-binary default) and Postgres (PostgreSQL,
// shared by the nodes of a cluster, every node told of each change
// through LISTEN/NOTIFY).
type Registrar interface {
	CreateTenant(id, name string, q Quotas) (Tenant, error)
	GetTenant(id string) (Tenant, error)
	ListTenants() ([]Tenant, error)
	UpdateTenant(id, name string, q Quotas) (Tenant, error)
	SetDialPolicy(id string, d *DialPolicy) (Tenant, error)
	DeleteTenant(ctx context.Context, id string) error

	CreateKey(tenant, name string) (secret string, k Key, err error)
	CreateAdminKey(name string) (secret string, k Key, err error)
	Authenticate(secret string) (tenantID string, k Key, err error)
	AuthenticateSigned(keyID string, verify func(secret []byte) bool) (tenantID string, k Key, err error)
	RevokeKey(tenant, keyID string) error
	ListKeys(tenant string) ([]Key, error)

	CreateApp(tenant, id, name, webhook string) (Application, error)
	NewApp(tenant string, s AppSpec) (Application, error)
	GetApp(tenant, id string) (Application, error)
	ListApps(tenant string) ([]Application, error)
	UpdateApp(tenant, id, name, webhook string) (Application, error)
	ChangeApp(tenant, id string, c AppChange) (Application, error)
	DeleteApp(tenant, id string) error

	AddNumber(tenant, number string) (Number, error)
	GetNumber(tenant, number string) (Number, error)
	ListNumbers(tenant string) ([]Number, error)
	RemoveNumber(tenant, number string) error
	SetRule(tenant, number, app string) error

	CreateRule(tenant string, rule Rule) (Rule, error)
	GetRule(tenant, id string) (Rule, error)
	ListRules(tenant, app string) ([]Rule, error)
	UpdateRule(tenant, id string, u RuleUpdate) (Rule, error)
	DeleteRule(tenant, id string) error

	PutPlugin(ctx context.Context, tenant string, wasm []byte) (Version, error)
	GetPlugin(tenant, sha string) (Version, error)
	OpenPlugin(ctx context.Context, tenant, sha string) ([]byte, error)
	ListPlugins(tenant string) ([]Version, error)
	AssignPlugin(tenant, app, sha string) error
	Rollback(tenant, app string) (string, error)
	DeletePlugin(ctx context.Context, tenant, sha string) error

	// Route, RouteHost and Quotas read an in-memory snapshot: no I/O on
	// the call path.
	Route(number string) (Route, bool)
	RouteHost(host string) (Route, bool)
	Quotas(tenant string) (Quotas, bool)
	DialPolicy(tenant string) (*DialPolicy, bool)
	// Watch returns the generation of the snapshot and a channel closed
	// when a newer one replaces it.
	Watch() (generation uint64, changed <-chan struct{})

	Bootstrap(ctx context.Context, cfg *config.Config) error
	Close() error
}

var (
	_ Registrar = (*Registry)(nil)
	_ Registrar = (*Postgres)(nil)
)
