//go:build !wasip1

// Package mstest tests a plugin's handler natively, through the SDK's host
// emulator, without building Wasm.
//
// A golden file holds an event JSON, a line "----", and the response JSON
// the handler must give; responses are compared as JSON values, so
// member order and spacing do not matter:
//
//	func TestGolden(t *testing.T) { mstest.Golden(t, "testdata/*.golden") }
//
// Handlers that keep state in the key-value store between events (an
// iotcomms session's participants) run a sequence of files on one host:
//
//	func TestSession(t *testing.T) { mstest.GoldenSequence(t, "testdata/session/*.golden") }
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

// GoldenSequence runs the golden files matching pattern in name order on
// one host, as the events of one call (or iotcomms session) reach a plugin:
// what a handler keeps in the key-value store carries from one file to the
// next. It stops at the first failure, since the later files depend on it.
// No matching file is a failure.
func GoldenSequence(t *testing.T, pattern string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files match %q: %v", pattern, err)
	}
	h := ms.NewHost()
	for _, f := range files {
		ok := t.Run(strings.TrimSuffix(filepath.Base(f), ".golden"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			event, want, ok := strings.Cut(string(b), "\n----\n")
			if !ok {
				t.Fatalf("%s: no ---- separator", f)
			}
			got, err := h.Invoke([]byte(event))
			if err != nil {
				t.Fatal(err)
			}
			EqualJSON(t, got, want)
		})
		if !ok {
			return
		}
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
