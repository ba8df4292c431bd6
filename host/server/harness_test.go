package server

// The end-to-end test harness: an in-process server on free loopback ports
// with a temporary data directory, applications given by the test (the demo
// IVR Wasm plugin, or webhooks the test serves itself), and a runner for
// real sipp processes. Other end-to-end tests (baresip, benchmarks) reuse
// it: start with startTestServer, demoApp / webhookApp, and runSipp.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
)

// repoRoot is the module root, relative to this package's directory
// (go test runs in the package directory).
const repoRoot = "../.."

// testCacheDir shares wazero's compiled code between the servers of this
// test binary and between runs: compiling the Go IVR plugin takes seconds
// (tens of seconds under the race detector), loading it from the cache
// milliseconds. wazero keys entries by its version and the module's hash,
// so a rebuilt plugin is compiled again. Set once by TestMain.
var testCacheDir string

func TestMain(m *testing.M) {
	testCacheDir = filepath.Join(os.TempDir(), "mediaserver-test-wazero-cache")
	if err := os.MkdirAll(testCacheDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// requireTool finds an external tool; a missing one fails under CI=true
// and skips otherwise.
func requireTool(t testing.TB, name, debPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true; install the Debian package %s): %v", name, debPackage, err)
		}
		t.Skipf("%s not installed (Debian package %s); skipping", name, debPackage)
	}
	return p
}

// requireFile returns path if it exists; a missing one fails under
// CI=true and skips otherwise, with how to build it.
func requireFile(t testing.TB, path, how string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing (CI=true): %s", path, how)
		}
		t.Skipf("%s missing: %s; skipping", path, how)
	}
	return path
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer is a slog destination that copies every line to the test log
// and keeps it for assertions on what the server logged.
type logBuffer struct {
	t  testing.TB
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.b.Write(p)
	w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// String returns everything logged so far.
func (w *logBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// testServer is a started server and what the test needs to inspect it.
type testServer struct {
	*Server
	Config *config.Config
	Logs   *logBuffer
	obs    *observer
}

// Test servers get disjoint RTP ranges of 400 ports (200 RTP sockets) in
// 21000-31799, from a random start per test binary: servers of parallel
// tests never share a port, and none is taken by a default-configured
// server (which allocates from 20000 up) or by an ephemeral port.
var (
	rtpRanges     atomic.Int64
	rtpRangeStart = 400 * rand.IntN(27)
)

// testConfig returns a loopback configuration with ":0" SIP and API ports,
// a private RTP port range, a temporary data dir and no tenants.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.SIP.UDP = []string{"127.0.0.1:0"}
	cfg.SIP.TCP = []string{"127.0.0.1:0"}
	cfg.SIP.TLS = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	// A range of its own, so PortsInUse counts only this server's calls;
	// ports another process holds are skipped by the pool. It lies below
	// the kernel's ephemeral ports (32768 up), where the test's own peers
	// bind: the server refuses to send media into its own RTP range.
	base := 21000 + (rtpRangeStart+400*int(rtpRanges.Add(1)))%10800
	cfg.RTP.PortMin, cfg.RTP.PortMax = base, base+398
	// The range is small; TestTenantRTPShare tests the share.
	cfg.RTP.TenantShare = 1
	cfg.Plugins.Deadline = config.Duration{Duration: 2 * time.Second} // the race detector slows Go guests down
	cfg.Tenants, cfg.Trunks = nil, nil
	return cfg
}

// startTestServer starts a server for cfg with the given applications (all
// in tenant "demo") and closes it when the test ends, checking that every
// call and RTP port was released.
func startTestServer(t testing.TB, cfg *config.Config, apps []config.Application, opts ...Option) *testServer {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(t)
	}
	if len(apps) > 0 {
		cfg.Tenants = append(cfg.Tenants, config.Tenant{ID: "demo", Applications: apps})
	}
	logs := &logBuffer{t: t}
	obs := &observer{}
	all := append([]Option{
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))),
		WithCacheDir(testCacheDir),
		WithObserver(obs.add),
		WithSIPTimers(100*time.Millisecond, 400*time.Millisecond),
	}, opts...)
	s, err := New(cfg, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ts := &testServer{Server: s, Config: cfg, Logs: logs, obs: obs}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n := s.PortsInUse(); n != 0 {
			t.Errorf("after Close: %d RTP ports still in use", n)
		}
	})
	return ts
}

// waitIdle waits until no call is live (engine and SIP) and every RTP
// port is back in the pool, failing the test after 15 s.
func (ts *testServer) waitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		calls, legs, ports := len(ts.Engine().Calls()), ts.LiveLegs(), ts.PortsInUse()
		if calls == 0 && legs == 0 && ports == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not idle: %d engine calls, %d SIP legs, %d RTP ports in use", calls, legs, ports)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// observer records every handler invocation of a server.
type observer struct {
	mu   sync.Mutex
	invs []Invocation
}

func (o *observer) add(inv Invocation) {
	o.mu.Lock()
	o.invs = append(o.invs, inv)
	o.mu.Unlock()
}

// observed is one decoded invocation.
type observed struct {
	Event    *abi.Event
	Response map[string]json.RawMessage // nil when the invocation failed
	Err      error
}

// Invocations returns the decoded invocations so far, in order.
func (ts *testServer) Invocations(t testing.TB) []observed {
	t.Helper()
	ts.obs.mu.Lock()
	invs := append([]Invocation(nil), ts.obs.invs...)
	ts.obs.mu.Unlock()
	out := make([]observed, 0, len(invs))
	for _, inv := range invs {
		ev, err := abi.ParseEvent(inv.Event)
		if err != nil {
			t.Fatalf("observed event does not parse: %v\n%s", err, inv.Event)
		}
		o := observed{Event: ev, Err: inv.Err}
		if inv.Response != nil {
			if err := json.Unmarshal(inv.Response, &o.Response); err != nil {
				t.Fatalf("observed response does not parse: %v\n%s", err, inv.Response)
			}
		}
		out = append(out, o)
	}
	return out
}

// eventTypes lists the event types of invs, comma-separated.
func eventTypes(invs []observed) string {
	var s []string
	for _, o := range invs {
		s = append(s, string(o.Event.InvocationEventType))
	}
	return strings.Join(s, ",")
}

// demoApp is the demo IVR (plugins/bin/ivr-go.wasm, built by `make
// plugins`) on number, with its prompts. The plugin asks for bucket
// "prompts", keys "ivr/<name>.wav"; the prompts are laid out that way in a
// temporary folder whatever the layout of plugins/ivr-go/buckets.
func demoApp(t testing.TB, number string) config.Application {
	t.Helper()
	wasm := requireFile(t, filepath.Join(repoRoot, "plugins", "bin", "ivr-go.wasm"), "run `make plugins`")
	dir := t.TempDir()
	dst := filepath.Join(dir, "prompts", "ivr")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr")
	n := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".wav" {
			return err
		}
		n++
		return copyFile(p, filepath.Join(dst, filepath.Base(p)))
	})
	if err != nil || n == 0 {
		t.Fatalf("demo prompts from %s: %d files, %v", src, n, err)
	}
	return config.Application{ID: "demo-ivr", Plugin: wasm, Numbers: []string{number}, Prompts: dir}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// webhookFunc answers one event with a response JSON. It runs in the
// webhook's HTTP handler and may sleep to simulate a slow handler.
type webhookFunc func(ev *abi.Event) string

// webhookApp serves h on a loopback httptest server for the test's
// lifetime and returns an application using it.
func webhookApp(t testing.TB, id, number string, h webhookFunc) config.Application {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev, err := abi.ParseEvent(body)
		if err != nil {
			t.Errorf("webhook %s: bad event: %v\n%s", id, err, body)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, h(ev))
	}))
	t.Cleanup(srv.Close)
	return config.Application{ID: id, Webhook: srv.URL, Numbers: []string{number}}
}

// actions renders a response with the given action JSON objects.
func actions(list ...string) string {
	return `{"SchemaVersion":"1.0","Actions":[` + strings.Join(list, ",") + `]}`
}

// sippOptions describes one sipp run.
type sippOptions struct {
	Scenario string // file name in testdata/sipp, without .xml
	// Transport is "udp" (default), "tcp" or "tls". Debian's sipp has no
	// TLS: "tls" runs sipp over TCP into stunnel, which carries it over
	// TLS (verifying the server's certificate) to the TLS listener.
	Transport string
	Service   string // the dialled number ([service]); default DemoNumber
	// Args are extra sipp arguments (e.g. -key name value).
	Args []string
	// Timeout kills sipp (default 40 s); sipp's own -timeout is 5 s less.
	Timeout time.Duration
	// WantExit is the exit code expected (0: every call succeeded).
	WantExit int
	// Files are written into sipp's working directory first (pcap files
	// for play_pcap_audio, CSV injection files).
	Files map[string][]byte
}

// sippResult is what a sipp run left behind.
type sippResult struct {
	Exit     int
	Output   string // stdout and stderr
	Messages string // -trace_msg: every SIP message sent and received
	Errors   string // -trace_err
	MediaDir string // sipp's working directory
}

// runSipp runs one sipp call against ts and fails the test unless sipp
// exits with o.WantExit, showing its error log and message trace.
func runSipp(t testing.TB, ts *testServer, o sippOptions) sippResult {
	t.Helper()
	bin := requireTool(t, "sipp", "sip-tester")
	if o.Transport == "" {
		o.Transport = "udp"
	}
	if o.Service == "" {
		o.Service = config.DemoNumber
	}
	if o.Timeout <= 0 {
		o.Timeout = 40 * time.Second
	}
	addr := ts.SIPAddr(o.Transport)
	if !addr.IsValid() {
		t.Fatalf("server has no %s listener", o.Transport)
	}
	if o.Transport == "tls" {
		addr = startStunnel(t, addr, ts.TLSCertFile())
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", "sipp", o.Scenario+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range o.Files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{addr.String(),
		"-sf", scenario,
		"-m", "1", "-l", "1",
		"-timeout", strconv.Itoa(int((o.Timeout-5*time.Second)/time.Second)) + "s", "-timeout_error",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t, o.Transport)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t, "udp")),
		"-s", o.Service, "-nostdin", "-nd",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log"),
	}
	if o.Transport == "tcp" || o.Transport == "tls" {
		args = append(args, "-t", "t1")
	}
	args = append(args, o.Args...)
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	res := sippResult{Output: out.String(), MediaDir: dir}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Exit = exitErr.ExitCode()
	default:
		t.Fatalf("sipp %s: %v", o.Scenario, err)
	}
	msgs, _ := os.ReadFile(filepath.Join(dir, "msg.log"))
	errs, _ := os.ReadFile(filepath.Join(dir, "err.log"))
	res.Messages, res.Errors = string(msgs), string(errs)
	if res.Exit != o.WantExit {
		t.Fatalf("sipp %s over %s: exit %d, want %d (%v)\nerrors:\n%s\nmessages:\n%s\noutput:\n%s",
			o.Scenario, o.Transport, res.Exit, o.WantExit, err, res.Errors, res.Messages, tail(res.Output, 3000))
	}
	return res
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
