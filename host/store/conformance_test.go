package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// conformance runs the same behaviour table over any UsageStore, so the
// folder and the S3 implementations cannot drift apart.
func conformance(t *testing.T, s UsageStore) {
	ctx := context.Background()
	put := func(t *testing.T, tenant, bucket, key, body string) {
		t.Helper()
		info, err := s.Put(ctx, tenant, bucket, key, strings.NewReader(body))
		if err != nil {
			t.Fatalf("Put(%s/%s/%s) = %v", tenant, bucket, key, err)
		}
		if info.Size != int64(len(body)) || info.Key != key || info.Bucket != bucket || info.ModTime.IsZero() {
			t.Fatalf("Put(%s/%s/%s) info = %+v, want size %d", tenant, bucket, key, info, len(body))
		}
	}
	read := func(t *testing.T, tenant, bucket, key string) (string, error) {
		t.Helper()
		rc, info, err := s.Open(ctx, tenant, bucket, key)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		if info.Size != int64(len(b)) {
			t.Fatalf("Open(%s) info.Size = %d, read %d bytes", key, info.Size, len(b))
		}
		return string(b), nil
	}

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"put open stat", func(t *testing.T) {
			put(t, "acme", "prompts", "ivr/welcome.wav", "RIFF....WAVE")
			got, err := read(t, "acme", "prompts", "ivr/welcome.wav")
			if err != nil || got != "RIFF....WAVE" {
				t.Fatalf("Open = %q, %v", got, err)
			}
			st, err := s.Stat(ctx, "acme", "prompts", "ivr/welcome.wav")
			if err != nil || st.Size != 12 || st.Key != "ivr/welcome.wav" {
				t.Fatalf("Stat = %+v, %v", st, err)
			}
		}},
		{"overwrite", func(t *testing.T) {
			put(t, "acme", "prompts", "over.txt", "first version, long")
			put(t, "acme", "prompts", "over.txt", "second")
			if got, err := read(t, "acme", "prompts", "over.txt"); err != nil || got != "second" {
				t.Fatalf("after overwrite Open = %q, %v", got, err)
			}
		}},
		{"empty object", func(t *testing.T) {
			put(t, "acme", "prompts", "empty", "")
			if got, err := read(t, "acme", "prompts", "empty"); err != nil || got != "" {
				t.Fatalf("Open = %q, %v", got, err)
			}
		}},
		{"not found", func(t *testing.T) {
			if _, _, err := s.Open(ctx, "acme", "prompts", "missing.wav"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Open = %v, want ErrNotFound", err)
			}
			if _, err := s.Stat(ctx, "acme", "prompts", "missing.wav"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Stat = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "acme", "prompts", "missing.wav"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Delete = %v, want ErrNotFound", err)
			}
			if _, err := s.Stat(ctx, "acme", "nobucket", "x"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Stat in missing bucket = %v, want ErrNotFound", err)
			}
		}},
		{"delete", func(t *testing.T) {
			put(t, "acme", "prompts", "del/me.txt", "x")
			if err := s.Delete(ctx, "acme", "prompts", "del/me.txt"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Stat(ctx, "acme", "prompts", "del/me.txt"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
			}
		}},
		{"list prefix order", func(t *testing.T) {
			for _, k := range []string{"l/c.wav", "l/a.wav", "l/sub/b.wav", "lx.wav"} {
				put(t, "acme", "listing", k, k)
			}
			list, err := s.List(ctx, "acme", "listing", "l/")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, i := range list {
				keys = append(keys, i.Key)
				if i.Size != int64(len(i.Key)) || i.Bucket != "listing" {
					t.Errorf("List item %+v: want size %d", i, len(i.Key))
				}
			}
			if want := "l/a.wav,l/c.wav,l/sub/b.wav"; strings.Join(keys, ",") != want {
				t.Fatalf("List(l/) = %s, want %s", strings.Join(keys, ","), want)
			}
			all, err := s.List(ctx, "acme", "listing", "")
			if err != nil || len(all) != 4 {
				t.Fatalf("List('') = %d items, %v; want 4", len(all), err)
			}
			none, err := s.List(ctx, "acme", "never-used", "")
			if err != nil || len(none) != 0 {
				t.Fatalf("List(empty bucket) = %+v, %v", none, err)
			}
		}},
		{"key escape attempts", func(t *testing.T) {
			put(t, "victim", "prompts", "secret.txt", "s")
			bad := []struct{ tenant, bucket, key string }{
				{"acme", "prompts", "../../victim/prompts/secret.txt"},
				{"acme", "prompts", "../prompts/secret.txt"},
				{"acme", "prompts", "/victim/prompts/secret.txt"},
				{"acme", "prompts", "a//b"},
				{"acme", "prompts", `..\..\victim`},
				{"acme", "prompts", "x/./y"},
				{"acme/../victim", "prompts", "secret.txt"},
				{"..", "prompts", "secret.txt"},
				{"Acme", "prompts", "secret.txt"},
				{"", "prompts", "secret.txt"},
				{"acme", "../victim", "secret.txt"},
				{"acme", "a/b", "secret.txt"},
				{"acme", "prompts", ""},
			}
			for _, b := range bad {
				if _, _, err := s.Open(ctx, b.tenant, b.bucket, b.key); !errors.Is(err, ErrInvalidName) {
					t.Errorf("Open(%q,%q,%q) = %v, want ErrInvalidName", b.tenant, b.bucket, b.key, err)
				}
				if _, err := s.Put(ctx, b.tenant, b.bucket, b.key, strings.NewReader("pwn")); !errors.Is(err, ErrInvalidName) {
					t.Errorf("Put(%q,%q,%q) = %v, want ErrInvalidName", b.tenant, b.bucket, b.key, err)
				}
				if _, err := s.Stat(ctx, b.tenant, b.bucket, b.key); !errors.Is(err, ErrInvalidName) {
					t.Errorf("Stat(%q,%q,%q) = %v, want ErrInvalidName", b.tenant, b.bucket, b.key, err)
				}
				if err := s.Delete(ctx, b.tenant, b.bucket, b.key); !errors.Is(err, ErrInvalidName) {
					t.Errorf("Delete(%q,%q,%q) = %v, want ErrInvalidName", b.tenant, b.bucket, b.key, err)
				}
			}
			if _, err := s.List(ctx, "../victim", "prompts", ""); !errors.Is(err, ErrInvalidName) {
				t.Errorf("List(../victim) = %v, want ErrInvalidName", err)
			}
			if got, err := read(t, "victim", "prompts", "secret.txt"); err != nil || got != "s" {
				t.Fatalf("victim's object = %q, %v", got, err)
			}
		}},
		{"tenant isolation", func(t *testing.T) {
			put(t, "iso-a", "shared-name", "k.txt", "a's data")
			if _, _, err := s.Open(ctx, "iso-b", "shared-name", "k.txt"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("other tenant Open = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "iso-b", "shared-name", "k.txt"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("other tenant Delete = %v, want ErrNotFound", err)
			}
			if list, err := s.List(ctx, "iso-b", "shared-name", ""); err != nil || len(list) != 0 {
				t.Fatalf("other tenant List = %+v, %v", list, err)
			}
			// A tenant whose id prefixes another's must not see its objects.
			if list, err := s.List(ctx, "iso", "shared-name", ""); err != nil || len(list) != 0 {
				t.Fatalf("prefix tenant List = %+v, %v", list, err)
			}
			put(t, "iso-b", "shared-name", "k.txt", "b's data")
			if got, _ := read(t, "iso-a", "shared-name", "k.txt"); got != "a's data" {
				t.Fatalf("a's object = %q after b's Put", got)
			}
		}},
		{"large object", func(t *testing.T) {
			// Above smallObject, so the S3 store takes the multipart path.
			body := make([]byte, smallObject+3<<20+17)
			if _, err := rand.Read(body); err != nil {
				t.Fatal(err)
			}
			info, err := s.Put(ctx, "big", "recordings", "call.wav", bytes.NewReader(body))
			if err != nil || info.Size != int64(len(body)) {
				t.Fatalf("Put large = %+v, %v", info, err)
			}
			rc, _, err := s.Open(ctx, "big", "recordings", "call.wav")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("large read back: %d bytes, equal=%v, err=%v", len(got), bytes.Equal(got, body), err)
			}
		}},
		{"concurrent puts", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Half write distinct keys, half fight over one key.
					key := fmt.Sprintf("k%d", i)
					if i%2 == 0 {
						key = "same"
					}
					body := strings.Repeat(fmt.Sprint(i), 1000)
					if _, err := s.Put(ctx, "conc", "bucket", key, strings.NewReader(body)); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			got, err := read(t, "conc", "bucket", "same")
			if err != nil {
				t.Fatal(err)
			}
			// Whole content of one writer, never a mix.
			if len(got) != 1000 || strings.Count(got, got[:1]) != 1000 {
				t.Fatalf("contended key holds a mix: %q...", got[:20])
			}
			list, err := s.List(ctx, "conc", "bucket", "")
			if err != nil || len(list) != 5 {
				t.Fatalf("List = %d items, %v; want 5", len(list), err)
			}
		}},
		{"usage", func(t *testing.T) {
			put(t, "usage", "one", "a", "12345")
			put(t, "usage", "two", "b/c", "123")
			put(t, "usage-x", "one", "a", "1234567")
			n, err := s.Usage(ctx, "usage")
			if err != nil || n != 8 {
				t.Fatalf("Usage = %d, %v; want 8", n, err)
			}
			if n, err := s.Usage(ctx, "nobody"); err != nil || n != 0 {
				t.Fatalf("Usage(nobody) = %d, %v; want 0", n, err)
			}
			if _, err := s.Usage(ctx, "../x"); !errors.Is(err, ErrInvalidName) {
				t.Fatalf("Usage(../x) = %v, want ErrInvalidName", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// meteredConformance checks quota enforcement over a backend.
func meteredConformance(t *testing.T, backend UsageStore) {
	ctx := context.Background()
	m := NewMetered(backend, func(tenant string) int64 {
		if tenant == "quota" {
			return 10
		}
		return 0
	})
	tests := []struct {
		name    string
		key     string
		body    string
		wantErr error
		usage   int64
	}{
		{name: "fits", key: "a", body: "123456", usage: 6},
		{name: "over", key: "b", body: "12345", wantErr: ErrQuotaExceeded, usage: 6},
		{name: "exactly full", key: "b", body: "1234", usage: 10},
		{name: "overwrite smaller frees room", key: "a", body: "1", usage: 5},
		{name: "overwrite within quota", key: "a", body: "123456", usage: 10},
		{name: "one byte over", key: "c", body: "x", wantErr: ErrQuotaExceeded, usage: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Put(ctx, "quota", "bucket", tt.key, strings.NewReader(tt.body))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Put = %v, want %v", err, tt.wantErr)
			}
			if n, err := m.Usage(ctx, "quota"); err != nil || n != tt.usage {
				t.Fatalf("Usage = %d, %v; want %d", n, err, tt.usage)
			}
			// The cache agrees with a fresh scan of the backend.
			if n, err := backend.Usage(ctx, "quota"); err != nil || n != tt.usage {
				t.Fatalf("backend Usage = %d, %v; want %d", n, err, tt.usage)
			}
		})
	}
	if _, err := m.Stat(ctx, "quota", "bucket", "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rejected object exists: Stat = %v", err)
	}
	if err := m.Delete(ctx, "quota", "bucket", "a"); err != nil {
		t.Fatal(err)
	}
	if n, _ := m.Usage(ctx, "quota"); n != 4 {
		t.Fatalf("Usage after Delete = %d, want 4", n)
	}
	if _, err := m.Put(ctx, "free", "bucket", "big", strings.NewReader(strings.Repeat("x", 100))); err != nil {
		t.Fatalf("unlimited tenant Put = %v", err)
	}
}

func TestFolderConformance(t *testing.T) {
	f, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conformance(t, f)
}

func TestFolderMetered(t *testing.T) {
	f, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	meteredConformance(t, f)
}

// TestMeteredConcurrent races Puts, Deletes and Forget over one tenant; the
// cached count must end equal to a fresh scan. Run with -race.
func TestMeteredConcurrent(t *testing.T) {
	ctx := context.Background()
	f, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetered(f, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				key := fmt.Sprintf("k%d-%d", i, j%3)
				if _, err := m.Put(ctx, "acme", "bucket", key, strings.NewReader(strings.Repeat("x", i+j))); err != nil {
					t.Error(err)
				}
				if j%4 == 3 {
					if err := m.Delete(ctx, "acme", "bucket", key); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	got, err := m.Usage(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.Usage(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want == 0 {
		t.Fatalf("cached usage %d, scan %d", got, want)
	}
	m.Forget("acme")
	if again, _ := m.Usage(ctx, "acme"); again != want {
		t.Fatalf("usage after Forget = %d, want %d", again, want)
	}
}
