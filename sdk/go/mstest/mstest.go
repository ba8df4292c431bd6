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
// Lines "kv KEY VALUE" before the event set KEY in the key-value store to
// VALUE (the rest of the line) before the event is handled: what another
// call, or an iotcomms application's controller, stored there.
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

// Case is one golden file.
type Case struct {
	Name     string
	KV       [][2]string // "kv" lines: key, value
	Event    string
	Response string
}

// ParseGolden reads a golden file's text: "kv KEY VALUE" lines, the event
// JSON, a line "----", the response JSON.
func ParseGolden(name, text string) (Case, error) {
	c := Case{Name: name}
	for strings.HasPrefix(text, "kv ") {
		line, rest, _ := strings.Cut(text, "\n")
		key, value, ok := strings.Cut(strings.TrimPrefix(line, "kv "), " ")
		if !ok || key == "" {
			return c, &goldenError{name, "a kv line needs a key and a value: " + line}
		}
		c.KV = append(c.KV, [2]string{key, value})
		text = rest
	}
	event, resp, ok := strings.Cut(text, "\n----\n")
	if !ok {
		return c, &goldenError{name, "no ---- separator line"}
	}
	c.Event, c.Response = strings.TrimSpace(event), strings.TrimSpace(resp)
	return c, nil
}

type goldenError struct{ file, msg string }

func (e *goldenError) Error() string { return e.file + ": " + e.msg }

// Cases reads the golden files matching pattern, in name order. No
// matching file is a failure.
func Cases(t *testing.T, pattern string) []Case {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files match %q: %v", pattern, err)
	}
	var cases []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseGolden(strings.TrimSuffix(filepath.Base(f), ".golden"), string(b))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	return cases
}

// Run handles one case on h: sets its kv lines in h's store, invokes
// the handler with its event and compares the response.
func Run(t *testing.T, h *ms.Host, c Case) {
	t.Helper()
	for _, kv := range c.KV {
		h.SetKV(kv[0], []byte(kv[1]))
	}
	got, err := h.Invoke([]byte(c.Event))
	if err != nil {
		t.Fatal(err)
	}
	EqualJSON(t, got, c.Response)
}

// Golden runs every golden file matching pattern as a subtest, each on a
// fresh host (an empty key-value store). No matching file is a failure.
func Golden(t *testing.T, pattern string) {
	t.Helper()
	for _, c := range Cases(t, pattern) {
		t.Run(c.Name, func(t *testing.T) { Run(t, ms.NewHost(), c) })
	}
}

// GoldenSequence runs the golden files matching pattern in name order on
// one host, as the events of one call (or iotcomms session) reach a plugin:
// what a handler keeps in the key-value store carries from one file to the
// next. It stops at the first failure, since the later files depend on it,
// and returns the host, whose store the caller may check. No matching file
// is a failure.
func GoldenSequence(t *testing.T, pattern string) *ms.Host {
	t.Helper()
	h := ms.NewHost()
	for _, c := range Cases(t, pattern) {
		if !t.Run(c.Name, func(t *testing.T) { Run(t, h, c) }) {
			break
		}
	}
	return h
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
