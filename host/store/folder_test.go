package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"plain", "welcome.wav", true},
		{"nested", "ivr/en/welcome.wav", true},
		{"spaces and unicode", "my prompts/välkommen.wav", true},
		{"empty", "", false},
		{"parent", "../x.wav", false},
		{"parent inside", "a/../../x.wav", false},
		{"dot segment", "a/./x.wav", false},
		{"absolute", "/etc/passwd", false},
		{"double slash", "a//b", false},
		{"trailing slash", "a/", false},
		{"backslash", `a\..\b`, false},
		{"nul", "a\x00b", false},
		{"newline", "a\nb", false},
		{"reserved temp", "a/.tmp-123", false},
		{"too long", strings.Repeat("k", MaxKeyLen+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateKey(tt.key)
			if tt.ok && err != nil {
				t.Fatalf("ValidateKey(%q) = %v, want nil", tt.key, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ValidateKey(%q) = %v, want ErrInvalidName", tt.key, err)
			}
		})
	}
}

func TestValidateBucket(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		ok     bool
	}{
		{"seed bucket", "chime-meetings-audio-files-bucket-name", true},
		{"short", "ab", false},
		{"upper", "Prompts", false},
		{"dots", "a..b", false},
		{"leading dash", "-abc", false},
		{"slash", "a/b", false},
		{"dotdot", "..", false},
		{"ok dots", "my.bucket.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBucket(tt.bucket)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateBucket(%q) = %v, want ok=%v", tt.bucket, err, tt.ok)
			}
		})
	}
}

func TestFolderRoundTrip(t *testing.T) {
	ctx := context.Background()
	f, err := NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("RIFF....WAVE")
	if _, err := f.Put(ctx, "acme", "prompts", "ivr/welcome.wav", bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	rc, info, err := f.Open(ctx, "acme", "prompts", "ivr/welcome.wav")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) || info.Size != int64(len(body)) {
		t.Fatalf("got %q (size %d), want %q", got, info.Size, body)
	}
	if _, err := f.Put(ctx, "acme", "prompts", "b.wav", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	list, err := f.List(ctx, "acme", "prompts", "ivr/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Key != "ivr/welcome.wav" {
		t.Fatalf("List(ivr/) = %+v", list)
	}
	// Another tenant sees nothing of acme's.
	if _, _, err := f.Open(ctx, "other", "prompts", "ivr/welcome.wav"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other tenant Open = %v, want ErrNotFound", err)
	}
	if err := f.Delete(ctx, "acme", "prompts", "ivr/welcome.wav"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(ctx, "acme", "prompts", "ivr/welcome.wav"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
}

func TestFolderNoEscape(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	f, err := NewFolder(filepath.Join(root, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(root, "secret.txt")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../../../secret.txt", "../../secret.txt", "x/../../../../secret.txt"} {
		if _, _, err := f.Open(ctx, "acme", "prompts", key); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Open(%q) = %v, want ErrInvalidName", key, err)
		}
		if _, err := f.Put(ctx, "acme", "prompts", key, strings.NewReader("pwn")); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Put(%q) = %v, want ErrInvalidName", key, err)
		}
	}
	if _, _, err := f.Open(ctx, "../x", "prompts", "a"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("tenant escape = %v, want ErrInvalidName", err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "s" {
		t.Fatalf("secret changed to %q", b)
	}
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a.wav", "../a", "a/b/c", "a//b", `a\b`} {
		f.Add(s)
	}
	dir := f.TempDir()
	fs, err := NewFolder(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p, err := fs.Path("t", "bucket", key)
		if err != nil {
			return
		}
		base := filepath.Join(dir, "t", "bucket") + string(filepath.Separator)
		if !strings.HasPrefix(filepath.Clean(p), base) {
			t.Fatalf("key %q maps outside its bucket: %s", key, p)
		}
	})
}
