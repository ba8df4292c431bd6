package plugins_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/plugin"
)

// goldenSeparator separates the event from the expected response.
const goldenSeparator = "\n----\n"

// The conformance suites every SDK's examples pass (../sdk/conformance).
const (
	meetingJoinSuite = "../sdk/conformance/meetingjoin"
	ivrSuite         = "../sdk/conformance/ivr"
	iotSuites        = "../sdk/conformance/iotcomms/"
)

// The example plugins and their golden files: the meeting-join and IVR
// handlers in every SDK's language, and the iotcomms scenarios. Every plugin
// runs as an ABI v1 reactor, as a WASI command and, for Go, as a native
// webhook: each form must give the same response to each event.
var examples = []struct {
	name    string
	golden  string // directory of *.golden files
	webhook bool   // a native -webhook binary exists
	// iot: an iotcomms plugin. Its suite is sessions whose state the
	// plugin keeps in the key-value store: the files run in order, on a
	// store of their own per form, which must be empty at the end; the
	// webhook is served as iotcomms applications are, POST /<callback>.
	iot bool
	// noCommand: no WASI command build (the iotcomms scenarios but the
	// auto-attendant, which covers the SDKs' command path).
	noCommand bool
}{
	{name: "meetingjoin-go", golden: meetingJoinSuite, webhook: true},
	{name: "meetingjoin-c", golden: meetingJoinSuite},
	{name: "meetingjoin-rust", golden: meetingJoinSuite},
	{name: "meetingjoin-as", golden: meetingJoinSuite},
	{name: "ivr-go", golden: ivrSuite, webhook: true},
	{name: "ivr-c", golden: ivrSuite},
	{name: "ivr-rust", golden: ivrSuite},
	{name: "ivr-as", golden: ivrSuite},
	{name: "iot-autoattendant-go", golden: iotSuites + "autoattendant", webhook: true, iot: true},
	{name: "iot-autoattendant-c", golden: iotSuites + "autoattendant", iot: true},
	{name: "iot-ivr-go", golden: iotSuites + "ivr", webhook: true, iot: true, noCommand: true},
	{name: "iot-meetme-go", golden: iotSuites + "meetme", webhook: true, iot: true, noCommand: true},
	{name: "iot-alarm-go", golden: iotSuites + "alarm", webhook: true, iot: true, noCommand: true},
	{name: "iot-recording-go", golden: iotSuites + "recording", webhook: true, iot: true, noCommand: true},
	{name: "iot-monitor-go", golden: iotSuites + "monitor", webhook: true, iot: true, noCommand: true},
	{name: "iot-transfer-go", golden: iotSuites + "transfer", webhook: true, iot: true, noCommand: true},
	{name: "iot-conference-go", golden: iotSuites + "conference", webhook: true, iot: true, noCommand: true},
}

// goldenCase is one golden file: lines "kv KEY VALUE" (what the store holds
// when the event arrives: an iotcomms controller's writes), the event, a
// line "----", the expected response.
type goldenCase struct {
	name     string
	kv       [][2]string
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
		text := string(b)
		var kvs [][2]string
		for strings.HasPrefix(text, "kv ") {
			line, rest, _ := strings.Cut(text, "\n")
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "kv "), " ")
			if !ok || k == "" {
				t.Fatalf("%s: a kv line needs a key and a value: %q", f, line)
			}
			kvs = append(kvs, [2]string{k, v})
			text = rest
		}
		event, expected, ok := strings.Cut(text, goldenSeparator)
		if !ok {
			t.Fatalf("%s: no %q separator line", f, strings.TrimSpace(goldenSeparator))
		}
		cases = append(cases, goldenCase{
			name:     strings.TrimSuffix(filepath.Base(f), ".golden"),
			kv:       kvs,
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
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	rt, err := plugin.NewRuntime(ctx, plugin.Config{CacheDir: t.TempDir(), KV: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })

	for _, ex := range examples {
		cases := readGolden(t, ex.golden)
		// form is one way to run the plugin: open returns the handler and
		// a function that stores a kv line where the handler reads it.
		type form struct {
			name string
			open func(t *testing.T, tenant string) (plugin.Handler, func(k, v string))
		}
		storeKV := func(t *testing.T, tenant string) func(k, v string) {
			return func(k, v string) {
				if err := store.Set(tenant, k, []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
		}
		forms := []form{
			{"reactor", func(t *testing.T, tenant string) (plugin.Handler, func(k, v string)) {
				return load(t, rt, tenant, ex.name, readBin(t, filepath.Join(bin, ex.name+".wasm")), plugin.ModeReactor), storeKV(t, tenant)
			}},
		}
		if !ex.noCommand {
			forms = append(forms, form{"command", func(t *testing.T, tenant string) (plugin.Handler, func(k, v string)) {
				return load(t, rt, tenant, ex.name, readBin(t, filepath.Join(bin, ex.name+"-cmd.wasm")), plugin.ModeCommand), storeKV(t, tenant)
			}})
		}
		if ex.webhook {
			forms = append(forms, form{"webhook", func(t *testing.T, _ string) (plugin.Handler, func(k, v string)) {
				if !ex.iot {
					return startWebhook(t, filepath.Join(bin, ex.name+"-webhook")), nil
				}
				w := startIotWebhook(t, filepath.Join(bin, ex.name+"-webhook"))
				return w, func(k, v string) { w.putKV(t, k, v) }
			}})
		}
		for _, f := range forms {
			t.Run(ex.name+"/"+f.name, func(t *testing.T) {
				tenant := "test-" + ex.name + "-" + f.name // a store of its own
				h, setKV := f.open(t, tenant)
				for _, c := range cases {
					ok := t.Run(c.name, func(t *testing.T) {
						for _, kv := range c.kv {
							setKV(kv[0], kv[1])
						}
						res, err := h.Invoke(ctx, c.event)
						if err != nil {
							t.Fatalf("Invoke: %v", err)
						}
						assertJSONEqual(t, res.Response, c.expected)
					})
					if !ok && ex.iot {
						return // the later callbacks of the session depend on this one
					}
				}
				if ex.iot && f.name != "webhook" {
					if n, err := store.Usage(tenant); err != nil || n != 0 {
						t.Errorf("the sessions left %d bytes in the store (%v)", n, err)
					}
				}
			})
		}
	}
}

func load(t *testing.T, rt *plugin.Runtime, tenant, name string, wasm []byte, mode plugin.Mode) plugin.Handler {
	t.Helper()
	lim := testLimits
	p, err := rt.Load(context.Background(), tenant, name, wasm, &lim)
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
func startWebhook(t testing.TB, path string, args ...string) plugin.Handler {
	t.Helper()
	return plugin.NewWebhook(runWebhook(t, path, args...), testLimits.Deadline, nil)
}

// runWebhook runs a native plugin binary on a free loopback port and
// returns its base URL, http://127.0.0.1:PORT/.
func runWebhook(t testing.TB, path string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v (run make plugins)", err)
	}
	cmd := exec.Command(path, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
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
	return url
}

// iotWebhook posts each callback as iotcomms does: POST <base><callback>,
// the body without its "callback" member (every other member verbatim).
type iotWebhook struct {
	base  string // http://127.0.0.1:PORT/
	hooks map[abi.Callback]plugin.Handler
}

func startIotWebhook(t testing.TB, path string) *iotWebhook {
	t.Helper()
	return &iotWebhook{base: runWebhook(t, path, "-kv-api"), hooks: map[abi.Callback]plugin.Handler{}}
}

func (w *iotWebhook) Invoke(ctx context.Context, event []byte) (*plugin.Result, error) {
	req, err := abi.ParseIotRequest(event)
	if err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(event, &members); err != nil {
		return nil, err
	}
	delete(members, "callback")
	body, err := json.Marshal(members)
	if err != nil {
		return nil, err
	}
	h := w.hooks[req.Callback]
	if h == nil {
		h = plugin.NewWebhook(w.base+string(req.Callback), testLimits.Deadline, nil)
		w.hooks[req.Callback] = h
	}
	return h.Invoke(ctx, body)
}

func (w *iotWebhook) Close(context.Context) error { return nil }

// putKV stores a value in the webhook's store (its -kv-api endpoint), as an
// iotcomms controller would.
func (w *iotWebhook) putKV(t *testing.T, key, value string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, w.base+"kv/"+key, strings.NewReader(value))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT kv/%s: %s %s", key, resp.Status, b)
	}
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
// plugins are not built. An iotcomms suite's callbacks must be bodies abi
// reads, and its expected answers answers abi accepts for their callback,
// with no member abi does not know: the suites cannot drift from abi.
func TestGoldenFilesParse(t *testing.T) {
	for _, ex := range examples {
		for _, c := range readGolden(t, ex.golden) {
			for _, part := range [][]byte{c.event, c.expected} {
				if !json.Valid(part) {
					t.Errorf("%s/%s: invalid JSON: %s", ex.golden, c.name, part)
				}
			}
			if ex.iot {
				if err := checkIotGolden(c); err != nil {
					t.Errorf("%s/%s: %v", ex.golden, c.name, err)
				}
			}
		}
	}
}

func checkIotGolden(c goldenCase) error {
	req, err := abi.ParseIotRequest(c.event)
	if err != nil {
		return err
	}
	if !req.Callback.Valid() || req.SessionID == "" {
		return errors.New("the callback or the sessionId is missing")
	}
	strict := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(c.expected))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	switch {
	case req.Callback == abi.CallbackGetIvrCommand:
		if _, err := abi.ParseIvrCommand(c.expected); err != nil {
			return err
		}
		return strict(&abi.IvrCommand{})
	case req.Callback.Answered():
		if _, err := abi.ParseIotAnswer(c.expected, req.Callback); err != nil {
			return err
		}
		return strict(&abi.IotAnswer{})
	case string(c.expected) != "{}":
		return fmt.Errorf("%s is informational: the answer must be {}", req.Callback)
	}
	return nil
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
