package store

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testAccess = "testaccesskey"
	testSecret = "testsecretkey-0123456789"
)

// versitygw finds the versitygw binary: PATH, $GOBIN, $HOME/go/bin,
// /tmp/s3bin. With CI=true a missing binary fails the test.
func versitygw(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	dirs = append(dirs, "/tmp/s3bin")
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := "versitygw not found; install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startS3 runs a real S3-compatible server on a free loopback port for the
// test's lifetime and returns its endpoint.
func startS3(t *testing.T) string {
	t.Helper()
	bin := versitygw(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	var out strings.Builder
	cmd := exec.Command(bin, "--access", testAccess, "--secret", testSecret, "--port", addr, "posix", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// Wait until it accepts connections; the bound only stops a hang.
	for start := time.Now(); ; {
		select {
		case err := <-exited:
			t.Fatalf("versitygw exited: %v\n%s", err, out.String())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("versitygw did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newTestS3(t *testing.T, endpoint, prefix string) *S3 {
	t.Helper()
	s, err := NewS3(context.Background(), S3Config{
		Endpoint:     endpoint,
		Region:       "us-east-1",
		AccessKey:    testAccess,
		SecretKey:    testSecret,
		Bucket:       "mediaserver",
		Prefix:       prefix,
		CreateBucket: true,
		PathStyle:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Conformance(t *testing.T) {
	endpoint := startS3(t)
	t.Run("no prefix", func(t *testing.T) { conformance(t, newTestS3(t, endpoint, "")) })
	t.Run("prefix", func(t *testing.T) { conformance(t, newTestS3(t, endpoint, "ms/v1/")) })
	t.Run("metered", func(t *testing.T) { meteredConformance(t, newTestS3(t, endpoint, "metered/")) })
}

func TestNewS3Errors(t *testing.T) {
	endpoint := startS3(t)
	tests := []struct {
		name    string
		cfg     S3Config
		wantErr error
	}{
		{"no endpoint", S3Config{Bucket: "b"}, ErrInvalidConfig},
		{"no bucket", S3Config{Endpoint: endpoint}, ErrInvalidConfig},
		{"prefix without slash", S3Config{Endpoint: endpoint, Bucket: "mediaserver", Prefix: "ms"}, ErrInvalidConfig},
		{"prefix escape", S3Config{Endpoint: endpoint, Bucket: "mediaserver", Prefix: "../"}, ErrInvalidConfig},
		{"missing bucket", S3Config{Endpoint: endpoint, Region: "us-east-1", AccessKey: testAccess, SecretKey: testSecret,
			Bucket: "not-created", PathStyle: true}, ErrNoBucket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewS3(context.Background(), tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewS3 = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestS3PrefixesIsolate(t *testing.T) {
	endpoint := startS3(t)
	ctx := context.Background()
	a, b := newTestS3(t, endpoint, "server-a/"), newTestS3(t, endpoint, "server-b/")
	if _, err := a.Put(ctx, "acme", "prompts", "x.wav", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "acme", "prompts", "x.wav"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other prefix Stat = %v, want ErrNotFound", err)
	}
}
