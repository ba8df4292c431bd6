package tenant

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmvoice/mediaserver/host/config"
)

// Quotas limit one tenant. Zero means the server default.
type Quotas struct {
	MaxConcurrentCalls int           `json:"max_concurrent_calls,omitempty"`
	MaxCallsPerSecond  int           `json:"max_calls_per_second,omitempty"`
	PluginMemoryMiB    int           `json:"plugin_memory_mib,omitempty"`
	EventDeadline      time.Duration `json:"event_deadline,omitempty"`
	MaxModuleBytes     int64         `json:"max_module_bytes,omitempty"`
	MaxStorageBytes    int64         `json:"max_storage_bytes,omitempty"`
	// MaxKVBytes bounds the tenant's key-value store (keys, values and
	// kv.EntryOverhead an entry).
	MaxKVBytes int64 `json:"max_kv_bytes,omitempty"`
	// MaxApps bounds the tenant's applications.
	MaxApps int `json:"max_apps,omitempty"`
	// MaxPluginVersions bounds the plugin versions the tenant's
	// applications have assigned at once (each is loaded, with its warm
	// instances).
	MaxPluginVersions int `json:"max_plugin_versions,omitempty"`
}

func (q Quotas) validate() error {
	if q.MaxConcurrentCalls < 0 || q.MaxCallsPerSecond < 0 || q.PluginMemoryMiB < 0 ||
		q.EventDeadline < 0 || q.MaxModuleBytes < 0 || q.MaxStorageBytes < 0 ||
		q.MaxKVBytes < 0 || q.MaxApps < 0 || q.MaxPluginVersions < 0 {
		return fmt.Errorf("%w: quotas must not be negative", ErrInvalid)
	}
	return nil
}

// Tenant is a customer: the unit of isolation.
type Tenant struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Quotas  Quotas    `json:"quotas"`
	// Dial is the tenant's own dial policy; nil: the server's default.
	Dial *DialPolicy `json:"dial,omitempty"`
}

// Key is an API key without its secret, which is never stored.
type Key struct {
	ID string `json:"id"`
	// Tenant is the tenant the key acts for; "" for an admin key.
	Tenant string `json:"tenant,omitempty"`
	Name   string `json:"name"`
	// Admin keys belong to the operator and may manage tenants.
	Admin    bool      `json:"admin,omitempty"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// keyRecord is a Key as stored: with the SHA-256 of its secret, and the
// secret itself sealed under the master key (AES-256-GCM: nonce then
// ciphertext) for request signing, which needs the secret (see seal.go).
type keyRecord struct {
	Key
	Hash   []byte `json:"hash"`
	Sealed []byte `json:"sealed,omitempty"`
}

// Application is a tenant's SIP media application: calls routed to it run
// its current plugin version, or are POSTed to its webhook when it has no
// plugin.
type Application struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Plugin is the SHA-256 of the current plugin version; "" for none.
	Plugin string `json:"plugin,omitempty"`
	// History holds the previous versions, most recent last.
	History []string `json:"history,omitempty"`
	// Webhook is an http(s) URL used when Plugin is empty.
	Webhook string `json:"webhook,omitempty"`
	// Region is Chime's AwsRegion of the application, as given ("" = the
	// server's).
	Region string `json:"region,omitempty"`
	// Model is the programming model of its calls: ModelChime ("", the
	// default) or ModelIotcomms.
	Model   string    `json:"model,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Number is a phone number a tenant owns. App is where its SIP rule sends
// calls now ("" = not routed): filled from the rule when read. Stored
// records of earlier versions held the route here; Open moves it into a
// rule.
type Number struct {
	Number  string    `json:"number"`
	Tenant  string    `json:"tenant"`
	App     string    `json:"app,omitempty"`
	Created time.Time `json:"created"`
}

// Version is one stored plugin module of a tenant.
type Version struct {
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// Route is what the call path needs to handle a call to a number.
type Route struct {
	Tenant string
	App    string
	// Rule is the id of the SIP rule that routed the call.
	Rule string
	// Plugin is the SHA-256 of the version to run; "" means use Webhook.
	Plugin  string
	Webhook string
	// Model is the application's programming model ("" = Chime).
	Model string
	// Quotas of the tenant, as stored (zero = server default).
	Quotas Quotas
}

// The programming models of an application.
const (
	ModelChime    = "chime"
	ModelIotcomms = "iotcomms"
)

// validModel accepts "" (Chime), "chime" and "iotcomms".
func validModel(m string) error {
	if m != "" && m != ModelChime && m != ModelIotcomms {
		return fmt.Errorf("%w: model %q: want chime or iotcomms", ErrInvalid, m)
	}
	return nil
}

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// MaxNameLen bounds display names.
const MaxNameLen = 200

func validID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: %s id %q: want 1-64 of a-z, 0-9, '-', '_', starting with a letter or digit", ErrInvalid, kind, id)
	}
	return nil
}

func validName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: name longer than %d bytes", ErrInvalid, MaxNameLen)
	}
	return nil
}

func validNumber(n string) error {
	if !config.ValidE164(n) {
		return fmt.Errorf("%w: number %q is not E.164 (like +15550100)", ErrInvalid, n)
	}
	return nil
}

func validSHA(sha string) error {
	if !shaPattern.MatchString(sha) {
		return fmt.Errorf("%w: plugin version %q: want 64 lowercase hex digits", ErrInvalid, sha)
	}
	return nil
}

func validWebhook(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%w: webhook %q must be an http(s) URL", ErrInvalid, u)
	}
	return nil
}

// scoped is the key of a tenant-scoped record.
func scoped(tenant, id string) []byte { return []byte(tenant + "\x00" + id) }

func get[T any](tx *bolt.Tx, bucket, key []byte) (T, bool, error) {
	var v T
	b := tx.Bucket(bucket).Get(key)
	if b == nil {
		return v, false, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("tenant: corrupt record %s/%q: %w", bucket, key, err)
	}
	return v, true, nil
}

func put(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, b)
}

// scan calls fn for every record of bucket whose key starts with prefix.
func scan[T any](tx *bolt.Tx, bucket, prefix []byte, fn func(k []byte, v T) error) error {
	c := tx.Bucket(bucket).Cursor()
	for k, b := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, b = c.Next() {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("tenant: corrupt record %s/%q: %w", bucket, k, err)
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func hasPrefix(k, prefix []byte) bool {
	return len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix)
}

// snapshot is the read-only view the call path uses.
type snapshot struct {
	gen    uint64
	routes map[string]Route // by number
	hosts  map[string]Route // by Request-URI hostname
	quotas map[string]Quotas
	dial   map[string]*DialPolicy // tenants with a dial policy of their own
	// changed is closed when a newer snapshot replaces this one.
	changed chan struct{}
}

func buildSnapshot(tx *bolt.Tx, gen uint64) (*snapshot, error) {
	s := &snapshot{gen: gen, routes: map[string]Route{}, hosts: map[string]Route{}, quotas: map[string]Quotas{}, dial: map[string]*DialPolicy{}, changed: make(chan struct{})}
	err := scan(tx, bucketTenants, nil, func(_ []byte, t Tenant) error {
		s.quotas[t.ID] = t.Quotas
		if t.Dial != nil {
			s.dial[t.ID] = t.Dial
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = scan(tx, bucketRules, nil, func(_ []byte, rule Rule) error {
		app, ok, err := rule.target(tx)
		if err != nil || !ok {
			return err
		}
		rt := Route{
			Tenant:  rule.Tenant,
			App:     app.ID,
			Rule:    rule.ID,
			Plugin:  app.Plugin,
			Webhook: app.Webhook,
			Model:   app.Model,
			Quotas:  s.quotas[rule.Tenant],
		}
		if rule.TriggerType == TriggerRequestURIHostname {
			s.hosts[rule.TriggerValue] = rt
		} else {
			s.routes[rule.TriggerValue] = rt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Route returns where a call to number goes. It reads the in-memory
// snapshot only: no disk access, no lock. ok is false for a number that is
// unknown, not routed, or routed to an application with neither a plugin
// nor a webhook.
func (r *Registry) Route(number string) (Route, bool) { return r.snap.Load().route(number) }

func (s *snapshot) route(number string) (Route, bool) {
	rt, ok := s.routes[number]
	if !ok || (rt.Plugin == "" && rt.Webhook == "") {
		return Route{}, false
	}
	return rt, true
}

// RouteHost returns where a call whose Request-URI host is host goes, by
// a RequestUriHostname rule (the server asks when no number matched). Like
// Route it reads the in-memory snapshot only.
func (r *Registry) RouteHost(host string) (Route, bool) { return r.snap.Load().routeHost(host) }

func (s *snapshot) routeHost(host string) (Route, bool) {
	rt, ok := s.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
	if !ok || (rt.Plugin == "" && rt.Webhook == "") {
		return Route{}, false
	}
	return rt, true
}

// Quotas returns a tenant's quotas from the in-memory snapshot (no disk
// access): cheap enough for every call setup and every store.Metered Put.
func (r *Registry) Quotas(tenant string) (Quotas, bool) {
	q, ok := r.snap.Load().quotas[tenant]
	return q, ok
}

// Watch returns the current generation (it grows with every committed
// change) and a channel closed at the next change. The server waits on the
// channel, then calls Watch again and re-reads what it needs.
func (r *Registry) Watch() (generation uint64, changed <-chan struct{}) {
	s := r.snap.Load()
	return s.gen, s.changed
}
