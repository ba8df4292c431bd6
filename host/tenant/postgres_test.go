//go:build cluster

package tenant

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/internal/testsvc"
)

// pgServer is the PostgreSQL server of TestPostgres's subtests.
var (
	pgServer *testsvc.Postgres
	pgDBs    atomic.Int64
)

// newPostgresDB gives each env of TestPostgres's subtests a database of
// its own; other tests run on bbolt.
func newPostgresDB(t testing.TB) string {
	t.Helper()
	if !strings.HasPrefix(t.Name(), "TestPostgres/") {
		return ""
	}
	url, err := pgServer.CreateDatabase(context.Background(), fmt.Sprintf("t%d", pgDBs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func startPostgres(t *testing.T) *testsvc.Postgres {
	t.Helper()
	var log strings.Builder
	pg, err := testsvc.StartPostgres(context.Background(), "", 0, &syncWriter{w: &log})
	if err != nil {
		testsvc.Fail(t, err)
	}
	t.Cleanup(pg.Remove)
	return pg
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// TestPostgres runs the registry's tests on the PostgreSQL registry: the
// same behaviour, records and errors as bbolt's.
func TestPostgres(t *testing.T) {
	pgServer = startPostgres(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Tenants", TestTenants},
		{"Keys", TestKeys},
		{"AppsNumbersRules", TestAppsNumbersRules},
		{"Plugins", TestPlugins},
		{"HistoryIsBounded", TestHistoryIsBounded},
		{"RestartKeepsEverything", TestRestartKeepsEverything},
		{"Watch", TestWatch},
		{"Concurrent", TestConcurrent},
		{"DeleteTenant", TestDeleteTenant},
		{"Closed", TestClosed},
		{"AppAndVersionQuotas", TestAppAndVersionQuotas},
		{"Rules", TestRules},
		{"Isolation", TestIsolation},
		{"Bootstrap", TestBootstrap},
		{"DialPolicyStored", TestDialPolicyStored},
		{"TwoNodes", testTwoNodes},
		{"MigrateTogether", testMigrateTogether},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// testTwoNodes: two registries on one database, as two nodes of a
// cluster. A change made through one reaches the other's snapshot through
// LISTEN/NOTIFY (its Watch channel closes, Route sees it), for the next
// call.
func testTwoNodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.reg
	b, err := OpenPostgres(ctx, e.db, e.blobs, WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, changed := b.Watch()
	must[Tenant](t)(a.CreateTenant("acme", "", Quotas{MaxConcurrentCalls: 3}))
	must[Application](t)(a.CreateApp("acme", "ivr", "", ""))
	must[Number](t)(a.AddNumber("acme", "+15550100"))
	check(t, a.SetRule("acme", "+15550100", "ivr"))
	v1 := must[Version](t)(a.PutPlugin(ctx, "acme", wasmOf("1")))
	v2 := must[Version](t)(a.PutPlugin(ctx, "acme", wasmOf("2")))
	check(t, a.AssignPlugin("acme", "ivr", v1.SHA256))
	waitRoute := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			rt, ok := b.Route("+15550100")
			if ok && rt.Plugin == want {
				if rt.Quotas.MaxConcurrentCalls != 3 {
					t.Fatalf("route's quotas = %+v", rt.Quotas)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node b routes %+v (%v), want plugin %s", rt, ok, want)
			}
			select {
			case <-changed:
				_, changed = b.Watch()
			case <-time.After(time.Second):
			}
		}
	}
	waitRoute(v1.SHA256)
	check(t, a.AssignPlugin("acme", "ivr", v2.SHA256))
	waitRoute(v2.SHA256)
	if sha, err := b.Rollback("acme", "ivr"); err != nil || sha != v1.SHA256 {
		t.Fatalf("rollback on b = %s, %v", sha, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rt, ok := a.Route("+15550100"); ok && rt.Plugin == v1.SHA256 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node a did not see b's rollback")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Bytes stored through a are read through b (the shared blob store).
	if got, err := b.OpenPlugin(ctx, "acme", v2.SHA256); err != nil || string(got) != string(wasmOf("2")) {
		t.Fatalf("OpenPlugin on b = %q, %v", got, err)
	}
	ga, _ := a.Watch()
	gb, _ := b.Watch()
	if ga != gb {
		t.Fatalf("generations differ once settled: %d and %d", ga, gb)
	}
}

// testMigrateTogether: nodes that start at once on an empty database
// apply each migration once, and all open.
func testMigrateTogether(t *testing.T) {
	e := newEnv(t) // applies the migrations on its database
	url, err := pgServer.CreateDatabase(context.Background(), fmt.Sprintf("t%d", pgDBs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := store.NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_ = e
	var wg sync.WaitGroup
	errs := make([]error, 4)
	regs := make([]*Postgres, 4)
	for i := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			regs[i], errs[i] = OpenPostgres(context.Background(), url, blobs)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer regs[i].Close()
	}
	var n int
	if err := regs[0].pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations WHERE component = 'registry'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("schema_migrations holds %d registry rows, want 1", n)
	}
}
