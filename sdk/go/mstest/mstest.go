//go:build !wasip1

// Package mstest tests a plugin's handler natively, through the SDK's host
// emulator, without building Wasm.
//
// A golden file holds an event JSON, a line "----", and the response JSON
// the handler must give; responses are compared as JSON values, so
// member order and spacing do not matter:
//
//	func TestGolden(t *testing.T) { mstest.Golden(t, "testdata/*.golden") }
package mstest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// Golden runs every golden file matching pattern as a subtest, each on a
// fresh host (an empty key-value store). No matching file is a failure.
func Golden(t *testing.T, pattern string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files match %q: %v", pattern, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".golden"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			event, want, ok := strings.Cut(string(b), "\n----\n")
			if !ok {
				t.Fatalf("%s: no ---- separator", f)
			}
			got, err := ms.NewHost().Invoke([]byte(event))
			if err != nil {
				t.Fatal(err)
			}
			EqualJSON(t, got, want)
		})
	}
}

// EqualJSON fails t unless got and want are the same JSON value.
func EqualJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected response is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("response\n got: %s\nwant: %s", got, want)
	}
}
