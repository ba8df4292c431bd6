package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmvoice/mediaserver/host/config"
)

// TestSeedPrompts: sub-folders become buckets, files keys; objects already
// in the store are kept; files outside a bucket folder are skipped.
func TestSeedPrompts(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("prompts/ivr/welcome.wav", "new welcome")
	write("prompts/ivr/bye.wav", "bye")
	write("other-bucket/a.wav", "a")
	write("loose.wav", "no bucket")
	// A symlink to a file is seeded as that file; one to a folder is not
	// followed.
	write("elsewhere/shared.wav", "shared")
	if err := os.Symlink("../../elsewhere/shared.wav", filepath.Join(dir, "prompts", "ivr", "linked.wav")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../elsewhere", filepath.Join(dir, "prompts", "dirlink")); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t)
	cfg.SIP.TCP = nil
	cfg.API.Listen = ""
	cfg.Tenants = []config.Tenant{{ID: "acme", Applications: []config.Application{{
		ID: "app", Webhook: "http://127.0.0.1:1/", Numbers: []string{"+15550140"}, Prompts: dir,
	}}}}
	// A tenant's own version of a prompt survives the seeding.
	existing := filepath.Join(cfg.DataDir, "buckets", "acme", "prompts", "ivr", "welcome.wav")
	if err := os.MkdirAll(filepath.Dir(existing), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(existing, []byte("tenant welcome"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, WithCacheDir(testCacheDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct{ bucket, key, want string }{
		{"prompts", "ivr/welcome.wav", "tenant welcome"},
		{"prompts", "ivr/bye.wav", "bye"},
		{"other-bucket", "a.wav", "a"},
		{"prompts", "ivr/linked.wav", "shared"},
	} {
		p, err := s.BucketPath("acme", tc.bucket, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != tc.want {
			t.Fatalf("%s/%s = %q, %v; want %q", tc.bucket, tc.key, b, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "buckets", "acme", "prompts", "dirlink")); !os.IsNotExist(err) {
		t.Fatalf("a symlinked folder was followed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "buckets", "acme", "loose.wav")); !os.IsNotExist(err) {
		t.Fatalf("a file outside a bucket folder was seeded: %v", err)
	}
	for _, f := range []string{"kv.db"} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); err != nil {
			t.Fatalf("data dir: %v", err)
		}
	}
}

func TestStartTwice(t *testing.T) {
	cfg := testConfig(t)
	cfg.SIP.TCP = nil
	cfg.API.Listen = ""
	s, err := New(cfg, WithCacheDir(testCacheDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
}
