package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/store"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	dir   string
	blobs *store.Folder
	clock *fakeClock
	reg   Registrar
	opts  []Option // more options of open
	// db is the env's database when it runs on PostgreSQL (the subtests
	// of TestPostgres, -tags cluster); "" on bbolt.
	db string
}

func newEnv(t testing.TB, opts ...Option) *env {
	t.Helper()
	dir := t.TempDir()
	blobs, err := store.NewFolder(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: dir, blobs: blobs, clock: &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, opts: opts}
	e.db = newPostgresDB(t)
	e.open(t)
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	opts := append([]Option{WithClock(e.clock.Now)}, e.opts...)
	var reg Registrar
	var err error
	if e.db != "" {
		reg, err = OpenPostgres(context.Background(), e.db, e.blobs, opts...)
	} else {
		reg, err = Open(filepath.Join(e.dir, "registry.db"), e.blobs, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	t.Cleanup(func() { reg.Close() })
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wasmOf(s string) []byte { return []byte("\x00asm\x01\x00\x00\x00" + s) }

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestTenants(t *testing.T) {
	e := newEnv(t)
	r := e.reg
	q := Quotas{MaxConcurrentCalls: 5, EventDeadline: 20 * time.Millisecond, MaxStorageBytes: 1 << 20}
	got := must[Tenant](t)(r.CreateTenant("acme", "Acme Inc.", q))
	want := Tenant{ID: "acme", Name: "Acme Inc.", Created: e.clock.Now(), Quotas: q}
	if got != want {
		t.Fatalf("CreateTenant = %+v, want %+v", got, want)
	}
	tests := []struct {
		name    string
		id      string
		tname   string
		q       Quotas
		wantErr error
	}{
		{name: "duplicate", id: "acme", wantErr: ErrExists},
		{name: "upper case", id: "Acme", wantErr: ErrInvalid},
		{name: "empty", id: "", wantErr: ErrInvalid},
		{name: "slash", id: "a/b", wantErr: ErrInvalid},
		{name: "nul", id: "a\x00b", wantErr: ErrInvalid},
		{name: "leading dash", id: "-a", wantErr: ErrInvalid},
		{name: "too long", id: strings.Repeat("a", 65), wantErr: ErrInvalid},
		{name: "long name", id: "ok", tname: strings.Repeat("n", MaxNameLen+1), wantErr: ErrInvalid},
		{name: "negative quota", id: "ok", q: Quotas{MaxCallsPerSecond: -1}, wantErr: ErrInvalid},
		{name: "fine", id: "globex_2", tname: "Globex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.CreateTenant(tt.id, tt.tname, tt.q)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("CreateTenant(%q) = %v, want %v", tt.id, err, tt.wantErr)
			}
		})
	}
	list := must[[]Tenant](t)(r.ListTenants())
	if len(list) != 2 || list[0].ID != "acme" || list[1].ID != "globex_2" {
		t.Fatalf("ListTenants = %+v", list)
	}
	q2 := Quotas{MaxModuleBytes: 10}
	up := must[Tenant](t)(r.UpdateTenant("acme", "ACME", q2))
	if up.Name != "ACME" || up.Quotas != q2 || !up.Created.Equal(want.Created) {
		t.Fatalf("UpdateTenant = %+v", up)
	}
	if got, ok := r.Quotas("acme"); !ok || got != q2 {
		t.Fatalf("Quotas(acme) = %+v, %v; want %+v", got, ok, q2)
	}
	if _, ok := r.Quotas("nope"); ok {
		t.Fatal("Quotas(missing tenant) ok")
	}
	if _, err := r.UpdateTenant("nope", "x", Quotas{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateTenant(missing) = %v, want ErrNotFound", err)
	}
	if _, err := r.GetTenant("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetTenant(missing) = %v, want ErrNotFound", err)
	}
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	r := e.reg
	must[Tenant](t)(r.CreateTenant("acme", "", Quotas{}))
	secret, k, err := r.CreateKey("acme", "ci")
	check(t, err)
	if !strings.HasPrefix(secret, "msk_"+k.ID+"_") || len(secret) != secretLen {
		t.Fatalf("secret %q does not have the msk_<id>_<random> form for key %s", secret, k.ID)
	}
	if k.Tenant != "acme" || k.Admin || k.Name != "ci" || !k.Created.Equal(e.clock.Now()) {
		t.Fatalf("key = %+v", k)
	}
	if _, _, err := r.CreateKey("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateKey(missing tenant) = %v, want ErrNotFound", err)
	}

	e.clock.Advance(time.Hour)
	tid, got, err := r.Authenticate(secret)
	if err != nil || tid != "acme" || got.ID != k.ID || !got.LastUsed.Equal(e.clock.Now()) {
		t.Fatalf("Authenticate = %q, %+v, %v", tid, got, err)
	}
	listed := must[[]Key](t)(r.ListKeys("acme"))
	if len(listed) != 1 || !listed[0].LastUsed.Equal(e.clock.Now()) {
		t.Fatalf("ListKeys = %+v, want LastUsed recorded", listed)
	}
	// Within the granularity LastUsed is not rewritten.
	first := e.clock.Now()
	e.clock.Advance(time.Second)
	if _, got, _ := r.Authenticate(secret); !got.LastUsed.Equal(first) {
		t.Fatalf("LastUsed = %v, want %v (not rewritten within a minute)", got.LastUsed, first)
	}

	tamper := []byte(secret)
	tamper[len(tamper)-2] ^= 1
	other, _, err := r.CreateKey("acme", "other")
	check(t, err)
	bad := []struct {
		name   string
		secret string
	}{
		{"empty", ""},
		{"prefix only", "msk_"},
		{"tampered", string(tamper)},
		{"other key's id with this secret", "msk_" + other[4:4+keyIDLen] + secret[4+keyIDLen:]},
		{"unknown id", "msk_0000000000000000" + secret[4+keyIDLen:]},
		{"upper hex id", strings.ToUpper(secret[:20]) + secret[20:]},
		{"trailing", secret + "x"},
		{"no separator", strings.Replace(secret, "_", "x", 2)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if tid, _, err := r.Authenticate(tt.secret); !errors.Is(err, ErrUnauthorized) || tid != "" {
				t.Fatalf("Authenticate(%q) = %q, %v; want ErrUnauthorized", tt.secret, tid, err)
			}
		})
	}

	adminSecret, admin, err := r.CreateAdminKey("root")
	check(t, err)
	tid, ak, err := r.Authenticate(adminSecret)
	if err != nil || tid != "" || !ak.Admin || ak.ID != admin.ID {
		t.Fatalf("Authenticate(admin) = %q, %+v, %v", tid, ak, err)
	}
	if keys := must[[]Key](t)(r.ListKeys("")); len(keys) != 1 || keys[0].ID != admin.ID {
		t.Fatalf("ListKeys(admin) = %+v", keys)
	}
	if err := r.RevokeKey("", k.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RevokeKey of a tenant key as admin scope = %v, want ErrNotFound", err)
	}
	check(t, r.RevokeKey("acme", k.ID))
	if _, _, err := r.Authenticate(secret); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Authenticate(revoked) = %v, want ErrUnauthorized", err)
	}
	if err := r.RevokeKey("acme", k.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RevokeKey twice = %v, want ErrNotFound", err)
	}
}

func TestAppsNumbersRules(t *testing.T) {
	e := newEnv(t)
	r := e.reg
	must[Tenant](t)(r.CreateTenant("acme", "", Quotas{MaxConcurrentCalls: 3}))
	app := must[Application](t)(r.CreateApp("acme", "ivr", "IVR", "https://example.test/hook"))
	if app.Tenant != "acme" || app.Webhook != "https://example.test/hook" {
		t.Fatalf("CreateApp = %+v", app)
	}
	tests := []struct {
		name    string
		run     func() error
		wantErr error
	}{
		{"duplicate app", func() error { _, err := r.CreateApp("acme", "ivr", "", ""); return err }, ErrExists},
		{"bad app id", func() error { _, err := r.CreateApp("acme", "I V R", "", ""); return err }, ErrInvalid},
		{"bad webhook", func() error { _, err := r.CreateApp("acme", "x", "", "ftp://x"); return err }, ErrInvalid},
		{"app of missing tenant", func() error { _, err := r.CreateApp("nope", "x", "", ""); return err }, ErrNotFound},
		{"bad number", func() error { _, err := r.AddNumber("acme", "5550100"); return err }, ErrInvalid},
		{"number of missing tenant", func() error { _, err := r.AddNumber("nope", "+15550100"); return err }, ErrNotFound},
		{"add number", func() error { _, err := r.AddNumber("acme", "+15550100"); return err }, nil},
		{"add number twice", func() error { _, err := r.AddNumber("acme", "+15550100"); return err }, ErrExists},
		{"rule to missing app", func() error { return r.SetRule("acme", "+15550100", "nope") }, ErrNotFound},
		{"rule on missing number", func() error { return r.SetRule("acme", "+15550199", "ivr") }, ErrNotFound},
		{"rule", func() error { return r.SetRule("acme", "+15550100", "ivr") }, nil},
		{"delete routed app", func() error { return r.DeleteApp("acme", "ivr") }, ErrInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
	rt, ok := r.Route("+15550100")
	rules := must[[]Rule](t)(r.ListRules("acme", ""))
	if len(rules) != 1 || rules[0].TriggerValue != "+15550100" || rt.Rule != rules[0].ID {
		t.Fatalf("rules %+v, route's rule %q: want one ToPhoneNumber rule of +15550100", rules, rt.Rule)
	}
	rt.Rule = ""
	want := Route{Tenant: "acme", App: "ivr", Webhook: "https://example.test/hook", Quotas: Quotas{MaxConcurrentCalls: 3}}
	if !ok || rt != want {
		t.Fatalf("Route = %+v, %v; want %+v", rt, ok, want)
	}
	if _, ok := r.Route("+15550199"); ok {
		t.Fatal("Route(unknown number) ok")
	}
	must[Tenant](t)(r.CreateTenant("globex", "", Quotas{}))
	if _, err := r.AddNumber("globex", "+15550100"); !errors.Is(err, ErrNumberTaken) {
		t.Fatalf("AddNumber(taken) = %v, want ErrNumberTaken", err)
	}
	// An application with neither plugin nor webhook does not route.
	must[Application](t)(r.UpdateApp("acme", "ivr", "IVR", ""))
	if _, ok := r.Route("+15550100"); ok {
		t.Fatal("Route to an app with no plugin and no webhook is ok")
	}
	check(t, r.SetRule("acme", "+15550100", ""))
	check(t, r.DeleteApp("acme", "ivr"))
	check(t, r.RemoveNumber("acme", "+15550100"))
	if _, err := r.AddNumber("globex", "+15550100"); err != nil {
		t.Fatalf("AddNumber after release = %v", err)
	}
}

func TestPlugins(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.reg
	must[Tenant](t)(r.CreateTenant("acme", "", Quotas{MaxModuleBytes: 100}))
	must[Application](t)(r.CreateApp("acme", "ivr", "", ""))
	must[Number](t)(r.AddNumber("acme", "+15550100"))
	check(t, r.SetRule("acme", "+15550100", "ivr"))

	v1b, v2b, v3b := wasmOf("one"), wasmOf("two"), wasmOf("three")
	v1 := must[Version](t)(r.PutPlugin(ctx, "acme", v1b))
	if v1.SHA256 != shaOf(v1b) || v1.Size != int64(len(v1b)) || !v1.Created.Equal(e.clock.Now()) {
		t.Fatalf("PutPlugin = %+v", v1)
	}
	e.clock.Advance(time.Minute)
	if again := must[Version](t)(r.PutPlugin(ctx, "acme", v1b)); again != v1 {
		t.Fatalf("PutPlugin(same bytes) = %+v, want the existing %+v", again, v1)
	}
	v2 := must[Version](t)(r.PutPlugin(ctx, "acme", v2b))
	v3 := must[Version](t)(r.PutPlugin(ctx, "acme", v3b))
	if _, err := r.PutPlugin(ctx, "acme", make([]byte, 101)); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("PutPlugin(too big) = %v, want ErrQuotaExceeded", err)
	}
	if _, err := r.PutPlugin(ctx, "nope", v1b); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutPlugin(missing tenant) = %v, want ErrNotFound", err)
	}
	list := must[[]Version](t)(r.ListPlugins("acme"))
	if len(list) != 3 {
		t.Fatalf("ListPlugins = %+v, want 3", list)
	}
	got := must[[]byte](t)(r.OpenPlugin(ctx, "acme", v2.SHA256))
	if string(got) != string(v2b) {
		t.Fatalf("OpenPlugin = %q, want %q", got, v2b)
	}

	if _, err := r.Rollback("acme", "ivr"); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("Rollback(no plugin) = %v, want ErrNoHistory", err)
	}
	check(t, r.AssignPlugin("acme", "ivr", v1.SHA256))
	check(t, r.AssignPlugin("acme", "ivr", v2.SHA256))
	check(t, r.AssignPlugin("acme", "ivr", v2.SHA256)) // no-op, no history entry
	check(t, r.AssignPlugin("acme", "ivr", v3.SHA256))
	if rt, _ := r.Route("+15550100"); rt.Plugin != v3.SHA256 {
		t.Fatalf("Route plugin = %s, want v3", rt.Plugin)
	}
	app := must[Application](t)(r.GetApp("acme", "ivr"))
	if !slices.Equal(app.History, []string{v1.SHA256, v2.SHA256}) {
		t.Fatalf("History = %v, want [v1 v2]", app.History)
	}
	if err := r.AssignPlugin("acme", "ivr", shaOf([]byte("never stored"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AssignPlugin(unknown) = %v, want ErrNotFound", err)
	}
	if err := r.AssignPlugin("acme", "ivr", "../../etc"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AssignPlugin(bad sha) = %v, want ErrInvalid", err)
	}
	if err := r.DeletePlugin(ctx, "acme", v3.SHA256); !errors.Is(err, ErrInUse) {
		t.Fatalf("DeletePlugin(current) = %v, want ErrInUse", err)
	}
	// Deleting a version in the history drops it from the history.
	check(t, r.DeletePlugin(ctx, "acme", v1.SHA256))
	if _, err := e.blobs.Stat(ctx, "acme", PluginBucket, v1.SHA256); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("blob after DeletePlugin: Stat = %v, want ErrNotFound", err)
	}
	sha, err := r.Rollback("acme", "ivr")
	if err != nil || sha != v2.SHA256 {
		t.Fatalf("Rollback = %s, %v; want v2", sha, err)
	}
	if rt, _ := r.Route("+15550100"); rt.Plugin != v2.SHA256 {
		t.Fatalf("Route after Rollback = %s, want v2", rt.Plugin)
	}
	if _, err := r.Rollback("acme", "ivr"); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("second Rollback = %v, want ErrNoHistory (v1 deleted)", err)
	}
	check(t, r.DeletePlugin(ctx, "acme", v3.SHA256))
	if err := r.DeletePlugin(ctx, "acme", v3.SHA256); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeletePlugin twice = %v, want ErrNotFound", err)
	}

	// A blob changed behind the registry's back is refused.
	_, err = e.blobs.Put(ctx, "acme", PluginBucket, v2.SHA256, strings.NewReader("evil"))
	check(t, err)
	if _, err := r.OpenPlugin(ctx, "acme", v2.SHA256); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenPlugin(corrupt) = %v, want ErrCorrupt", err)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).reg
	must[Tenant](t)(r.CreateTenant("acme", "", Quotas{}))
	must[Application](t)(r.CreateApp("acme", "ivr", "", ""))
	var shas []string
	for i := range MaxHistory + 5 {
		v := must[Version](t)(r.PutPlugin(ctx, "acme", wasmOf(fmt.Sprint(i))))
		check(t, r.AssignPlugin("acme", "ivr", v.SHA256))
		shas = append(shas, v.SHA256)
	}
	app := must[Application](t)(r.GetApp("acme", "ivr"))
	want := shas[len(shas)-1-MaxHistory : len(shas)-1]
	if !slices.Equal(app.History, want) {
		t.Fatalf("History has %d entries, want the last %d previous versions", len(app.History), MaxHistory)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.reg
	must[Tenant](t)(r.CreateTenant("acme", "Acme", Quotas{MaxCallsPerSecond: 7}))
	secret, _, err := r.CreateKey("acme", "ci")
	check(t, err)
	must[Application](t)(r.CreateApp("acme", "ivr", "", ""))
	must[Number](t)(r.AddNumber("acme", "+15550100"))
	check(t, r.SetRule("acme", "+15550100", "ivr"))
	v1 := must[Version](t)(r.PutPlugin(ctx, "acme", wasmOf("1")))
	v2 := must[Version](t)(r.PutPlugin(ctx, "acme", wasmOf("2")))
	check(t, r.AssignPlugin("acme", "ivr", v1.SHA256))
	check(t, r.AssignPlugin("acme", "ivr", v2.SHA256))
	gen, _ := r.Watch()
	before, _ := r.Route("+15550100")
	check(t, r.Close())

	e.open(t)
	r = e.reg
	if g, _ := r.Watch(); g != gen {
		t.Fatalf("generation after restart = %d, want %d", g, gen)
	}
	after, ok := r.Route("+15550100")
	if !ok || after != before || after.Plugin != v2.SHA256 || after.Quotas.MaxCallsPerSecond != 7 {
		t.Fatalf("Route after restart = %+v, %v; want %+v", after, ok, before)
	}
	if tid, _, err := r.Authenticate(secret); err != nil || tid != "acme" {
		t.Fatalf("Authenticate after restart = %q, %v", tid, err)
	}
	if sha, err := r.Rollback("acme", "ivr"); err != nil || sha != v1.SHA256 {
		t.Fatalf("Rollback after restart = %s, %v; want v1", sha, err)
	}
}

func TestWatch(t *testing.T) {
	r := newEnv(t).reg
	gen, changed := r.Watch()
	select {
	case <-changed:
		t.Fatal("changed closed before any change")
	default:
	}
	must[Tenant](t)(r.CreateTenant("acme", "", Quotas{}))
	<-changed // closed by the write; a hang here fails by test timeout
	gen2, changed2 := r.Watch()
	if gen2 != gen+1 {
		t.Fatalf("generation = %d, want %d", gen2, gen+1)
	}
	// A failed write changes nothing.
	if _, err := r.CreateTenant("acme", "", Quotas{}); !errors.Is(err, ErrExists) {
		t.Fatal(err)
	}
	if g, _ := r.Watch(); g != gen2 {
		t.Fatalf("generation after failed write = %d, want %d", g, gen2)
	}
	select {
	case <-changed2:
		t.Fatal("changed closed by a failed write")
	default:
	}
}

// TestConcurrent hammers the registry from several writers while readers
// resolve routes; run with -race.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).reg
	const tenants, perTenant = 4, 10
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := range tenants {
					if rt, ok := r.Route(fmt.Sprintf("+1555%04d", i)); ok && rt.Tenant != fmt.Sprintf("t%d", i) {
						t.Errorf("Route = %+v for tenant t%d's number", rt, i)
					}
				}
			}
		}()
	}
	var writers sync.WaitGroup
	errs := make(chan error, tenants*perTenant)
	for i := range tenants {
		writers.Add(1)
		go func() {
			defer writers.Done()
			id := fmt.Sprintf("t%d", i)
			if _, err := r.CreateTenant(id, "", Quotas{}); err != nil {
				errs <- err
				return
			}
			if _, err := r.CreateApp(id, "app", "", ""); err != nil {
				errs <- err
				return
			}
			if _, err := r.AddNumber(id, fmt.Sprintf("+1555%04d", i)); err != nil {
				errs <- err
				return
			}
			if err := r.SetRule(id, fmt.Sprintf("+1555%04d", i), "app"); err != nil {
				errs <- err
				return
			}
			for j := range perTenant {
				v, err := r.PutPlugin(ctx, id, wasmOf(fmt.Sprintf("%d-%d", i, j)))
				if err == nil {
					err = r.AssignPlugin(id, "app", v.SHA256)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range tenants {
		id := fmt.Sprintf("t%d", i)
		rt, ok := r.Route(fmt.Sprintf("+1555%04d", i))
		if !ok || rt.Tenant != id || rt.Plugin != shaOf(wasmOf(fmt.Sprintf("%d-%d", i, perTenant-1))) {
			t.Fatalf("Route for %s = %+v, %v", id, rt, ok)
		}
		if n := len(must[[]Version](t)(r.ListPlugins(id))); n != perTenant {
			t.Fatalf("%s has %d versions, want %d", id, n, perTenant)
		}
	}
	if gen, _ := r.Watch(); gen != tenants*(4+2*perTenant) {
		t.Fatalf("generation = %d, want one per write (%d)", gen, tenants*(4+2*perTenant))
	}
}

func TestDeleteTenant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.reg
	for _, id := range []string{"acme", "acme-2"} {
		must[Tenant](t)(r.CreateTenant(id, "", Quotas{}))
		_, _, err := r.CreateKey(id, "k")
		check(t, err)
		must[Application](t)(r.CreateApp(id, "ivr", "", ""))
		v := must[Version](t)(r.PutPlugin(ctx, id, wasmOf(id)))
		check(t, r.AssignPlugin(id, "ivr", v.SHA256))
	}
	must[Number](t)(r.AddNumber("acme", "+15550100"))
	check(t, r.SetRule("acme", "+15550100", "ivr"))
	check(t, r.DeleteTenant(ctx, "acme"))
	if _, ok := r.Route("+15550100"); ok {
		t.Fatal("deleted tenant's number still routes")
	}
	if keys := must[[]Key](t)(r.ListKeys("acme")); len(keys) != 0 {
		t.Fatalf("deleted tenant's keys remain: %+v", keys)
	}
	if _, err := e.blobs.Stat(ctx, "acme", PluginBucket, shaOf(wasmOf("acme"))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted tenant's plugin blob: Stat = %v, want ErrNotFound", err)
	}
	// The tenant whose id has the deleted one as a prefix is untouched.
	if apps := must[[]Application](t)(r.ListApps("acme-2")); len(apps) != 1 {
		t.Fatalf("acme-2 apps = %+v", apps)
	}
	if keys := must[[]Key](t)(r.ListKeys("acme-2")); len(keys) != 1 {
		t.Fatalf("acme-2 keys = %+v", keys)
	}
	if _, err := r.OpenPlugin(ctx, "acme-2", shaOf(wasmOf("acme-2"))); err != nil {
		t.Fatalf("acme-2 plugin: %v", err)
	}
	if err := r.DeleteTenant(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteTenant twice = %v, want ErrNotFound", err)
	}
}

func TestClosed(t *testing.T) {
	e := newEnv(t)
	check(t, e.reg.Close())
	if _, err := e.reg.CreateTenant("acme", "", Quotas{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateTenant after Close = %v, want ErrClosed", err)
	}
	if _, err := e.reg.ListTenants(); !errors.Is(err, ErrClosed) {
		t.Fatalf("ListTenants after Close = %v, want ErrClosed", err)
	}
}

// TestAppAndVersionQuotas: a tenant's applications and the distinct plugin
// versions they run are bounded by its quotas, or by the registry's
// defaults when its own are zero.
func TestAppAndVersionQuotas(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t, WithDefaultQuotas(Quotas{MaxApps: 2, MaxPluginVersions: 1})).reg
	must[Tenant](t)(r.CreateTenant("small", "", Quotas{}))
	must[Tenant](t)(r.CreateTenant("big", "", Quotas{MaxApps: 3, MaxPluginVersions: 2}))
	for _, tn := range []string{"small", "big"} {
		must[Application](t)(r.CreateApp(tn, "a", "", ""))
		must[Application](t)(r.CreateApp(tn, "b", "", ""))
	}
	_, err := r.CreateApp("small", "c", "", "")
	if !errors.Is(err, ErrQuotaExceeded) || err.Error() != "tenant: create application: application c: the tenant already has 2 applications, its limit: quota exceeded" {
		t.Fatalf("third application of small: %v", err)
	}
	must[Application](t)(r.CreateApp("big", "c", "", ""))
	if _, err := r.CreateApp("big", "d", "", ""); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("fourth application of big: %v", err)
	}
	check(t, r.DeleteApp("small", "b"))
	must[Application](t)(r.CreateApp("small", "c", "", ""))

	v1 := must[Version](t)(r.PutPlugin(ctx, "small", wasmOf("one"))).SHA256
	v2 := must[Version](t)(r.PutPlugin(ctx, "small", wasmOf("two"))).SHA256
	check(t, r.AssignPlugin("small", "a", v1))
	check(t, r.AssignPlugin("small", "c", v1)) // the same version: still one
	err = r.AssignPlugin("small", "c", v2)
	if !errors.Is(err, ErrQuotaExceeded) || err.Error() != "tenant: assign plugin: the tenant's applications would run 2 plugin versions, over its limit of 1: quota exceeded" {
		t.Fatalf("a second version: %v", err)
	}
	// big runs two versions at most, rollbacks included.
	var b [3]string
	for i, w := range []string{"one", "two", "three"} {
		b[i] = must[Version](t)(r.PutPlugin(ctx, "big", wasmOf(w))).SHA256
	}
	check(t, r.AssignPlugin("big", "a", b[0]))
	check(t, r.AssignPlugin("big", "b", b[1]))
	if err := r.AssignPlugin("big", "c", b[2]); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("a third version: %v", err)
	}
	check(t, r.AssignPlugin("big", "a", b[1])) // a hot swap to b's version
	check(t, r.AssignPlugin("big", "c", b[2]))
	if _, err := r.Rollback("big", "a"); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("rollback to a third version: %v", err)
	}
	if app := must[Application](t)(r.GetApp("big", "a")); app.Plugin != b[1] {
		t.Fatalf("a refused rollback changed the version to %s", app.Plugin)
	}
}
