package kv

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T, opts ...Option) (Storer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "kv.db")
	s, err := openAt(t, path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// openAt opens the store at path: the bbolt file, or for the subtests of
// TestPostgres (-tags cluster) a database of its own for each path.
func openAt(t testing.TB, path string, opts ...Option) (Storer, error) {
	t.Helper()
	if url := postgresDB(t, path); url != "" {
		return OpenPostgres(context.Background(), url, opts...)
	}
	return Open(path, opts...)
}

func TestSetGetDelete(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Set("acme", "room", []byte("42")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	v, ok, err := s.Get("acme", "room")
	if err != nil || !ok || string(v) != "42" {
		t.Fatalf("Get = %q, %v, %v; want \"42\", true, nil", v, ok, err)
	}
	if err := s.Set("acme", "room", []byte("43")); err != nil {
		t.Fatalf("Set overwrite: %v", err)
	}
	if v, _, _ = s.Get("acme", "room"); string(v) != "43" {
		t.Fatalf("after overwrite Get = %q, want \"43\"", v)
	}
	existed, err := s.Delete("acme", "room")
	if err != nil || !existed {
		t.Fatalf("Delete = %v, %v; want true, nil", existed, err)
	}
	if _, ok, err = s.Get("acme", "room"); ok || err != nil {
		t.Fatalf("Get after delete: ok=%v err=%v; want false, nil", ok, err)
	}
	if existed, err = s.Delete("acme", "room"); existed || err != nil {
		t.Fatalf("second Delete = %v, %v; want false, nil", existed, err)
	}
	if existed, err = s.Delete("nobody", "room"); existed || err != nil {
		t.Fatalf("Delete unknown tenant = %v, %v; want false, nil", existed, err)
	}
}

func TestEmptyValue(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Set("acme", "k", nil); err != nil {
		t.Fatalf("Set: %v", err)
	}
	v, ok, err := s.Get("acme", "k")
	if err != nil || !ok || len(v) != 0 {
		t.Fatalf("Get = %q, %v, %v; want empty, true, nil", v, ok, err)
	}
}

func TestTenantIsolation(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Set("acme", "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("globex", "k", []byte("g")); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.Get("acme", "k"); string(v) != "a" {
		t.Fatalf("acme sees %q, want \"a\"", v)
	}
	if v, _, _ := s.Get("globex", "k"); string(v) != "g" {
		t.Fatalf("globex sees %q, want \"g\"", v)
	}
	if _, ok, _ := s.Get("initech", "k"); ok {
		t.Fatal("a third tenant sees another tenant's key")
	}
	if _, err := s.Delete("globex", "k"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := s.Get("acme", "k"); !ok || string(v) != "a" {
		t.Fatalf("deleting globex's key changed acme's: %q %v", v, ok)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	s, err := openAt(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("acme", "k", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get("acme", "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	s, err = openAt(t, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if v, ok, err := s.Get("acme", "k"); err != nil || !ok || string(v) != "kept" {
		t.Fatalf("after reopen Get = %q, %v, %v", v, ok, err)
	}
}

func TestLimits(t *testing.T) {
	s, _ := openTemp(t, WithMaxKeyBytes(4), WithMaxValueBytes(8))
	tests := []struct {
		name   string
		tenant string
		key    string
		val    []byte
		want   error
	}{
		{name: "ok", tenant: "t", key: "abcd", val: []byte("12345678")},
		{name: "key too large", tenant: "t", key: "abcde", val: nil, want: ErrKeyTooLarge},
		{name: "value too large", tenant: "t", key: "k", val: []byte("123456789"), want: ErrValueTooLarge},
		{name: "empty key", tenant: "t", key: "", want: ErrEmptyKey},
		{name: "empty tenant", tenant: "", key: "k", want: ErrInvalidTenant},
		{name: "long tenant", tenant: strings.Repeat("t", DefaultMaxTenantBytes+1), key: "k", want: ErrInvalidTenant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Set(tc.tenant, tc.key, tc.val)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Set = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Set("t", strings.Repeat("k", DefaultMaxKeyBytes), make([]byte, DefaultMaxValueBytes)); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	if err := s.Set("t", strings.Repeat("k", DefaultMaxKeyBytes+1), nil); !errors.Is(err, ErrKeyTooLarge) {
		t.Fatalf("key over: %v, want ErrKeyTooLarge", err)
	}
	if err := s.Set("t", "k", make([]byte, DefaultMaxValueBytes+1)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("value over: %v, want ErrValueTooLarge", err)
	}
}

func TestInvalidLimit(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "kv.db"), WithMaxKeyBytes(0))
	if !errors.Is(err, ErrInvalidLimit) {
		t.Fatalf("Open = %v, want ErrInvalidLimit", err)
	}
}

func TestGetReturnsCopy(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Set("t", "k", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	v, _, _ := s.Get("t", "k")
	v[0] = 'X'
	if v2, _, _ := s.Get("t", "k"); string(v2) != "abc" {
		t.Fatalf("stored value changed through the returned slice: %q", v2)
	}
}

func TestConcurrent(t *testing.T) {
	s, _ := openTemp(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := string(rune('a' + g))
			for i := range 20 {
				val := []byte{byte(g), byte(i)}
				if err := s.Set(tenant, "k", val); err != nil {
					t.Error(err)
					return
				}
				got, ok, err := s.Get(tenant, "k")
				if err != nil || !ok || !bytes.Equal(got, val) {
					t.Errorf("tenant %s: Get = %v %v %v, want %v", tenant, got, ok, err, val)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzSetGet(f *testing.F) {
	f.Add("acme", "key", []byte("value"))
	f.Add("t", "\x00", []byte{})
	path := filepath.Join(f.TempDir(), "kv.db")
	s, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, tenant, key string, val []byte) {
		if err := s.Set(tenant, key, val); err != nil {
			if !errors.Is(err, ErrInvalidTenant) && !errors.Is(err, ErrEmptyKey) &&
				!errors.Is(err, ErrKeyTooLarge) && !errors.Is(err, ErrValueTooLarge) {
				t.Fatalf("unexpected Set error: %v", err)
			}
			return
		}
		got, ok, err := s.Get(tenant, key)
		if err != nil || !ok || !bytes.Equal(got, val) {
			t.Fatalf("Get = %q, %v, %v; want %q", got, ok, err, val)
		}
	})
}

// TestQuota: a tenant's keys and values (plus EntryOverhead each) count
// against its quota; a write past it fails and writes nothing, an
// overwrite counts only its growth, a delete frees its entry, other
// tenants are not affected, and the count survives a restart.
func TestQuota(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	quota := func(tenant string) int64 {
		if tenant == "small" {
			return 2 * (1 + 100 + EntryOverhead) // two entries of a 1-byte key and a 100-byte value
		}
		return 0
	}
	s, err := openAt(t, path, WithQuota(quota))
	if err != nil {
		t.Fatal(err)
	}
	val := bytes.Repeat([]byte("v"), 100)
	for _, k := range []string{"a", "b"} {
		if err := s.Set("small", k, val); err != nil {
			t.Fatalf("Set %s: %v", k, err)
		}
	}
	err = s.Set("small", "c", nil)
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("third entry: %v, want ErrQuotaExceeded", err)
	}
	if want := `kv: set "c": tenant's kv quota exceeded: 266 of 266 bytes used, the value needs 33 more`; err.Error() != want {
		t.Fatalf("err %q, want %q", err, want)
	}
	if _, ok, _ := s.Get("small", "c"); ok {
		t.Fatal("the refused entry was written")
	}
	if err := s.Set("small", "a", val[:50]); err != nil {
		t.Fatalf("shrinking overwrite: %v", err)
	}
	if err := s.Set("small", "a", val[:51]); err != nil {
		t.Fatalf("growing overwrite within the quota: %v", err)
	}
	// 49 bytes free: b cannot grow by 50.
	if err := s.Set("small", "b", append(val, make([]byte, 50)...)); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("growing overwrite past the quota: %v", err)
	}
	if err := s.Set("big", "k", make([]byte, DefaultMaxValueBytes)); err != nil {
		t.Fatalf("tenant without a quota: %v", err)
	}
	if existed, err := s.Delete("small", "b"); err != nil || !existed {
		t.Fatalf("Delete: %v %v", existed, err)
	}
	if err := s.Set("small", "c", val); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = openAt(t, path, WithQuota(quota))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := int64(2*(1+EntryOverhead) + 51 + 100)
	if n, err := s.Usage("small"); err != nil || n != want {
		t.Fatalf("usage after restart %d, %v; want %d", n, err, want)
	}
}

// TestUsageOfAnOldFile: a store written before usage was kept is
// measured once when opened.
func TestUsageOfAnOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucket([]byte("tenants"))
		if err != nil {
			return err
		}
		b, err := root.CreateBucket([]byte("acme"))
		if err != nil {
			return err
		}
		return b.Put([]byte("room"), []byte("42"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Usage("acme"); err != nil || n != 4+2+EntryOverhead {
		t.Fatalf("usage %d, %v; want %d", n, err, 4+2+EntryOverhead)
	}
}

func TestList(t *testing.T) {
	s, _ := openTemp(t)
	for _, k := range []string{"iot/s1/a", "iot/s1/b", "iot/s2/a", "iou", "room"} {
		if err := s.Set("acme", k, []byte(k+"!")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set("other", "iot/s1/z", []byte("iot/s1/z!")); err != nil {
		t.Fatal(err)
	}
	keys := func(es []Entry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Key)
			if e.Size != len(e.Key)+1 {
				t.Fatalf("%s: size %d", e.Key, e.Size)
			}
		}
		return strings.Join(out, " ")
	}
	es, more, err := s.List("acme", "iot/", "", 0)
	if err != nil || more || keys(es) != "iot/s1/a iot/s1/b iot/s2/a" {
		t.Fatalf("List iot/ = %q more %v err %v", keys(es), more, err)
	}
	// Pages of two.
	es, more, _ = s.List("acme", "", "", 2)
	if keys(es) != "iot/s1/a iot/s1/b" || !more {
		t.Fatalf("page 1 %q more %v", keys(es), more)
	}
	es, more, _ = s.List("acme", "", "iot/s1/b", 2)
	if keys(es) != "iot/s2/a iou" || !more {
		t.Fatalf("page 2 %q more %v", keys(es), more)
	}
	es, more, _ = s.List("acme", "", "iou", 2)
	if keys(es) != "room" || more {
		t.Fatalf("page 3 %q more %v", keys(es), more)
	}
	// A tenant sees only its own keys; an unknown tenant has none.
	if es, _, _ = s.List("other", "", "", 0); keys(es) != "iot/s1/z" {
		t.Fatalf("other: %q", keys(es))
	}
	if es, _, err = s.List("nobody", "", "", 0); err != nil || len(es) != 0 {
		t.Fatalf("nobody: %v %v", es, err)
	}
	if _, _, err = s.List("", "", "", 0); !errors.Is(err, ErrInvalidTenant) {
		t.Fatalf("empty tenant: %v", err)
	}
}
