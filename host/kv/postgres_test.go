//go:build cluster

package kv

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/internal/testsvc"
)

var (
	pgServer *testsvc.Postgres
	pgMu     sync.Mutex
	pgDBs    = map[string]string{} // store path → database URL
)

// postgresDB gives each store path of TestPostgres's subtests a database
// of its own; other tests run on bbolt.
func postgresDB(t testing.TB, path string) string {
	t.Helper()
	if !strings.HasPrefix(t.Name(), "TestPostgres/") {
		return ""
	}
	pgMu.Lock()
	defer pgMu.Unlock()
	if url, ok := pgDBs[path]; ok {
		return url
	}
	url, err := pgServer.CreateDatabase(context.Background(), fmt.Sprintf("kv%d", len(pgDBs)+1))
	if err != nil {
		t.Fatal(err)
	}
	pgDBs[path] = url
	return url
}

// TestPostgres runs the store's tests on the PostgreSQL store.
func TestPostgres(t *testing.T) {
	pg, err := testsvc.StartPostgres(context.Background(), "", 0, io.Discard)
	if err != nil {
		testsvc.Fail(t, err)
	}
	t.Cleanup(pg.Remove)
	pgServer = pg
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"SetGetDelete", TestSetGetDelete},
		{"EmptyValue", TestEmptyValue},
		{"TenantIsolation", TestTenantIsolation},
		{"Persistence", TestPersistence},
		{"Limits", TestLimits},
		{"DefaultLimits", TestDefaultLimits},
		{"GetReturnsCopy", TestGetReturnsCopy},
		{"Concurrent", TestConcurrent},
		{"Quota", TestQuota},
		{"List", TestList},
		{"QuotaAcrossNodes", testQuotaAcrossNodes},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// testQuotaAcrossNodes: writers on two nodes (two stores on one database)
// never take a tenant past its quota, however they interleave.
func testQuotaAcrossNodes(t *testing.T) {
	const quota = 50 * (2 + 10 + EntryOverhead)
	q := func(string) int64 { return quota }
	path := t.TempDir() + "/kv.db"
	a, err := openAt(t, path, WithQuota(q))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := openAt(t, path, WithQuota(q))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for n, s := range []Storer{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				err := s.Set("acme", fmt.Sprintf("%d%d", n, i%10)+string(rune('a'+i/10)), []byte("0123456789"))
				if err == nil {
					mu.Lock()
					stored++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	used, err := a.Usage("acme")
	if err != nil {
		t.Fatal(err)
	}
	if used > quota {
		t.Fatalf("usage %d over the quota %d", used, quota)
	}
	if want := int64(stored) * (3 + 10 + EntryOverhead); used != want {
		t.Fatalf("usage %d, want %d for the %d entries stored", used, want, stored)
	}
}
