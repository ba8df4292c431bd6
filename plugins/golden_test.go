package plugins_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/plugin"
)

// goldenSeparator separates the event from the expected response.
const goldenSeparator = "\n----\n"

// The conformance suites every SDK's examples pass (../sdk/conformance).
const (
	meetingJoinSuite = "../sdk/conformance/meetingjoin"
	ivrSuite         = "../sdk/conformance/ivr"
)

// The example plugins and their golden files: the meeting-join and IVR
// handlers in every SDK's language. Every plugin runs as an ABI v1 reactor,
// as a WASI command and, for Go, as a native webhook: each form must give
// the same response to each event.
var examples = []struct {
	name    string
	golden  string // directory of *.golden files
	webhook bool   // a native -webhook binary exists
}{
	{name: "meetingjoin-go", golden: meetingJoinSuite, webhook: true},
	{name: "meetingjoin-c", golden: meetingJoinSuite},
	{name: "meetingjoin-rust", golden: meetingJoinSuite},
	{name: "meetingjoin-as", golden: meetingJoinSuite},
	{name: "ivr-go", golden: ivrSuite, webhook: true},
	{name: "ivr-c", golden: ivrSuite},
	{name: "ivr-rust", golden: ivrSuite},
	{name: "ivr-as", golden: ivrSuite},
}

type goldenCase struct {
	name     string
	event    []byte
	expected []byte
}

func readGolden(t *testing.T, dir string) []goldenCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in %s", dir)
	}
	var cases []goldenCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		event, expected, ok := strings.Cut(string(b), goldenSeparator)
		if !ok {
			t.Fatalf("%s: no %q separator line", f, strings.TrimSpace(goldenSeparator))
		}
		cases = append(cases, goldenCase{
			name:     strings.TrimSuffix(filepath.Base(f), ".golden"),
			event:    []byte(strings.TrimSpace(event)),
			expected: []byte(strings.TrimSpace(expected)),
		})
	}
	return cases
}

// binDir returns plugins/bin, or skips (fails under CI=true) when the
// plugins were not built.
func binDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: run make plugins", dir)
		}
		t.Skipf("%s missing: run make plugins", dir)
	}
	return dir
}

func readBin(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make plugins)", err)
	}
	return b
}

// limits are generous: Go modules start slowly on a loaded test machine, and
// a command module starts a fresh runtime per event.
var testLimits = plugin.Limits{Deadline: 20 * time.Second, InitDeadline: 60 * time.Second}

func TestGolden(t *testing.T) {
	bin := binDir(t)
	ctx := context.Background()
	rt, err := plugin.NewRuntime(ctx, plugin.Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })

	for _, ex := range examples {
		cases := readGolden(t, ex.golden)
		forms := []struct {
			name string
			open func(t *testing.T) plugin.Handler
		}{
			{"reactor", func(t *testing.T) plugin.Handler {
				return load(t, rt, ex.name, readBin(t, filepath.Join(bin, ex.name+".wasm")), plugin.ModeReactor)
			}},
			{"command", func(t *testing.T) plugin.Handler {
				return load(t, rt, ex.name, readBin(t, filepath.Join(bin, ex.name+"-cmd.wasm")), plugin.ModeCommand)
			}},
		}
		if ex.webhook {
			forms = append(forms, struct {
				name string
				open func(t *testing.T) plugin.Handler
			}{"webhook", func(t *testing.T) plugin.Handler {
				return startWebhook(t, filepath.Join(bin, ex.name+"-webhook"))
			}})
		}
		for _, form := range forms {
			t.Run(ex.name+"/"+form.name, func(t *testing.T) {
				h := form.open(t)
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						res, err := h.Invoke(ctx, c.event)
						if err != nil {
							t.Fatalf("Invoke: %v", err)
						}
						assertJSONEqual(t, res.Response, c.expected)
					})
				}
			})
		}
	}
}

func load(t *testing.T, rt *plugin.Runtime, name string, wasm []byte, mode plugin.Mode) plugin.Handler {
	t.Helper()
	lim := testLimits
	p, err := rt.Load(context.Background(), "test-tenant", name, wasm, &lim)
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if got := p.Info().Mode; got != mode {
		t.Fatalf("%s loads as %s, want %s", name, got, mode)
	}
	return p
}

// startWebhook runs a native plugin binary on a free loopback port.
func startWebhook(t testing.TB, path string) plugin.Handler {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v (run make plugins)", err)
	}
	cmd := exec.Command(path, "-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(path), stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address of %s: %v", path, err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line of %s = %q, want listening on http://127.0.0.1:PORT/", path, line)
	}
	return plugin.NewWebhook(url, testLimits.Deadline, nil)
}

func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden response is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("response\n got: %s\nwant: %s", got, want)
	}
}

// TestGoldenFilesParse keeps the golden files well-formed even where the
// plugins are not built.
func TestGoldenFilesParse(t *testing.T) {
	for _, ex := range examples {
		for _, c := range readGolden(t, ex.golden) {
			for _, part := range [][]byte{c.event, c.expected} {
				if !json.Valid(part) {
					t.Errorf("%s/%s: invalid JSON: %s", ex.golden, c.name, part)
				}
			}
		}
	}
}

// BenchmarkInvoke measures one event end to end (host → guest → response)
// for each reactor and, as the baseline, the Go webhook, side by side in
// one run:
//
//	make plugins && go test -run XXX -bench Invoke -benchtime 2000x ./plugins/
func BenchmarkInvoke(b *testing.B) {
	dir, err := filepath.Abs("bin")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rt, err := plugin.NewRuntime(ctx, plugin.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	event, err := os.ReadFile(meetingJoinSuite + "/call_update_requested.golden")
	if err != nil {
		b.Fatal(err)
	}
	ev, _, _ := strings.Cut(string(event), goldenSeparator)
	for _, name := range []string{"meetingjoin-c", "meetingjoin-go", "meetingjoin-go-webhook"} {
		b.Run(name, func(b *testing.B) {
			var h plugin.Handler
			if strings.HasSuffix(name, "-webhook") {
				h = startWebhook(b, filepath.Join(dir, name))
			} else {
				wasm, err := os.ReadFile(filepath.Join(dir, name+".wasm"))
				if err != nil {
					b.Skipf("%v: run make plugins", err)
				}
				lim := testLimits
				p, err := rt.Load(ctx, "bench", name, wasm, &lim)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { p.Close(context.Background()) })
				h = p
			}
			for b.Loop() {
				if _, err := h.Invoke(ctx, []byte(ev)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
