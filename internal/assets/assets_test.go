package assets

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.wasm"), []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MEDIASERVER_ASSETS", dir)
	if p, err := Path("x.wasm"); err != nil || p != filepath.Join(dir, "x.wasm") {
		t.Fatalf("Path = %q, %v", p, err)
	}
	if _, err := Path("y.wasm"); !errors.Is(err, ErrMissing) {
		t.Fatalf("missing: %v", err)
	}
}
