package main

// Graceful shutdown of the real binary: SIGTERM under a sipp load of long
// calls that record, and SIGTERM while a webhook takes its time over an
// event. Both must exit 0 with every call ended by a BYE and every
// recording complete.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/tenancy"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// requireTool finds an external tool; a missing one fails under CI=true.
func requireTool(t *testing.T, name, debPackage string) string {
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

// lockedBuffer is a bytes.Buffer safe for a process writer and readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// binServer is a running mediaserver binary.
type binServer struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	sip    string // UDP listener
	api    string
	data   string
	exited chan error
}

// startServer writes a configuration whose one application is the
// webhook at url on number, with the given drain time, and starts the
// binary on it, returning once its banner is out.
func startServer(t *testing.T, bin, url, number, drain string, args ...string) *binServer {
	t.Helper()
	data := t.TempDir()
	rtp := freeUDPPort(t) &^ 1
	if rtp > 64000 {
		rtp = 41000
	}
	conf := fmt.Sprintf(`data_dir = %q
[sip]
udp = ["127.0.0.1:0"]
tcp = []
trusted = ["127.0.0.0/8"]
[api]
listen = "127.0.0.1:0"
[rtp]
ip = "127.0.0.1"
port_min = %d
port_max = %d
[egress]
allow = ["127.0.0.0/8"]
[shutdown]
drain_time = %q
[[tenant]]
id = "acme"
[[tenant.application]]
id = "app"
webhook = %q
numbers = [%q]
`, data, rtp, rtp+200, drain, url, number)
	cfgFile := filepath.Join(t.TempDir(), "mediaserver.toml")
	if err := os.WriteFile(cfgFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &binServer{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, data: data, exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, append([]string{"-config", cfgFile}, args...)...)
	pr, pw := io.Pipe()
	s.cmd.Stdout = io.MultiWriter(s.stdout, pw)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			if m := regexp.MustCompile(`SIP UDP   (\S+)`).FindStringSubmatch(l); m != nil {
				s.sip = m[1]
			}
			if m := regexp.MustCompile(`HTTP API  http://(\S+)`).FindStringSubmatch(l); m != nil {
				s.api = m[1]
			}
			if strings.HasPrefix(strings.TrimSpace(l), "number") {
				close(ready)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-ready:
	case err := <-s.exited:
		t.Fatalf("mediaserver exited: %v\n%s\n%s", err, s.stdout.String(), s.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no banner\n%s\n%s", s.stdout.String(), s.stderr.String())
	}
	return s
}

// waitExit waits for the process and returns its exit code.
func (s *binServer) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.exited:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatalf("mediaserver did not exit 60 s after SIGTERM\n%s", tailString(s.stderr.String(), 4000))
	}
	return -1
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// webhook serves the application's events with h.
func webhook(t *testing.T, h func(ev map[string]any) string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, h(ev))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func actionsJSON(list ...string) string {
	return `{"SchemaVersion":"1.0","Actions":[` + strings.Join(list, ",") + `]}`
}

// sipp runs sipp with scenario (from host/server/testdata/sipp) against
// addr; extra are more arguments.
type sippRun struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	dir  string
	done chan error
}

func startSipp(t *testing.T, addr, scenario, number string, extra ...string) *sippRun {
	t.Helper()
	bin := requireTool(t, "sipp", "sip-tester")
	sf, err := filepath.Abs(filepath.Join(repoRoot, "host", "server", "testdata", "sipp", scenario+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := append([]string{addr, "-sf", sf, "-s", number, "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)), "-nostdin", "-nd",
		"-timeout", "90s", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log")}, extra...)
	r := &sippRun{cmd: exec.Command(bin, args...), out: &lockedBuffer{}, dir: dir, done: make(chan error, 1)}
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	return r
}

// wait fails the test unless sipp exits 0 (every call as scripted).
func (r *sippRun) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			errs, _ := os.ReadFile(filepath.Join(r.dir, "err.log"))
			msgs, _ := os.ReadFile(filepath.Join(r.dir, "msg.log"))
			t.Fatalf("sipp (%s): %v\nerrors:\n%s\nmessages:\n%s\noutput:\n%s", what, err, tailString(string(errs), 3000),
				tailString(string(msgs), 4000), tailString(r.out.String(), 2000))
		}
	case <-time.After(100 * time.Second):
		t.Fatalf("sipp (%s) still running", what)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitFor polls cond (a hang guard, not a timing assertion).
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSIGTERMUnderLoad: 20 long calls from sipp, each recording the
// caller, when SIGTERM arrives. While the server drains, /readyz answers
// 503 and a new INVITE gets 503; at the drain deadline every call gets a
// BYE (sipp's scenario waits for it and answers 200: sipp exits 0 only if
// all 20 did), every recording is a complete WAV, and the process exits 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	const number, calls = "+15550170", 20
	bin := buildBinary(t)
	url := webhook(t, func(ev map[string]any) string {
		if ev["InvocationEventType"] == "NEW_INBOUND_CALL" {
			return actionsJSON(`{"Type":"RecordAudio","Parameters":{"DurationInSeconds":120,"RecordingTerminators":["#"],` +
				`"RecordingDestination":{"Type":"S3","BucketName":"recordings","Prefix":"drain"}}}`)
		}
		return actionsJSON()
	})
	s := startServer(t, bin, url, number, "3s")
	if code, body := get(t, "http://"+s.api+"/readyz"); code != 200 {
		t.Fatalf("/readyz before the load: %d %s", code, body)
	}
	load := startSipp(t, s.sip, "uac_wait_bye", number, "-r", "20", "-l", strconv.Itoa(calls), "-m", strconv.Itoa(calls))
	waitFor(t, "20 calls answered", 60*time.Second, func() bool {
		return strings.Count(s.stderr.String(), `msg="call answered"`) >= calls
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the drain to start", 10*time.Second, func() bool { return strings.Contains(s.stdout.String(), "shutting down") })
	// Draining: not ready, new calls refused; the calls in progress stay.
	if code, body := get(t, "http://"+s.api+"/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Fatalf("/readyz while draining: %d %q, want 503 draining", code, body)
	}
	refused := startSipp(t, s.sip, "uac_503", number, "-m", "1")
	refused.wait(t, "a new call while draining gets 503")

	if code := s.waitExit(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, tailString(s.stderr.String(), 4000))
	}
	load.wait(t, "every call in progress ends with a BYE")
	logs := s.stderr.String()
	if n := strings.Count(logs, `msg="call ended"`); n != calls {
		t.Errorf("%d \"call ended\" lines, want %d", n, calls)
	}
	if n := regexp.MustCompile(`msg="call ended".*hangup_cause=server.*during_shutdown=true`).FindAllStringIndex(logs, -1); len(n) != calls {
		t.Errorf("%d calls ended by the server during the shutdown, want %d\n%s", len(n), calls, tailString(logs, 3000))
	}
	if !strings.Contains(s.stdout.String(), "mediaserver: stopped") {
		t.Errorf("stdout lacks the stopped line:\n%s", s.stdout.String())
	}
	// Nothing half-written: every recording is a complete WAV.
	var wavs []string
	filepath.WalkDir(filepath.Join(s.data, "buckets"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			wavs = append(wavs, p)
		}
		return nil
	})
	if len(wavs) != calls {
		t.Fatalf("%d files in the bucket store, want %d recordings: %v", len(wavs), calls, wavs)
	}
	for _, p := range wavs {
		if filepath.Ext(p) != ".wav" {
			t.Errorf("stray file %s", p)
			continue
		}
		if tenancy.NeedsRepair(p) {
			t.Errorf("%s is half-written (its header disagrees with its data)", p)
		}
		pcm, _, err := wav.ReadFile(p)
		if err != nil || len(pcm) < 8000 {
			t.Errorf("%s: %d samples, %v; want a readable recording of at least 1 s", p, len(pcm), err)
		}
	}
}

// TestSIGTERMDuringLongEvent: SIGTERM while the webhook takes its time
// over an event (a long-running invocation). The drain ends with the
// invocation still running; the call gets its BYE and the process exits 0.
func TestSIGTERMDuringLongEvent(t *testing.T) {
	const number = "+15550171"
	bin := buildBinary(t)
	slow := make(chan struct{}, 1)
	release := make(chan struct{})
	url := webhook(t, func(ev map[string]any) string {
		switch ev["InvocationEventType"] {
		case "NEW_INBOUND_CALL":
			return actionsJSON(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":300}}`)
		case "ACTION_SUCCESSFUL":
			select {
			case slow <- struct{}{}:
			default:
			}
			select { // far longer than the drain time
			case <-release:
			case <-time.After(30 * time.Second):
			}
			return actionsJSON(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":60000}}`)
		}
		return actionsJSON()
	})
	// Before the webhook server's Close (cleanups run last first), which
	// waits for the slow handler.
	t.Cleanup(func() { close(release) })
	s := startServer(t, bin, url, number, "1s", "-log-format", "json")
	call := startSipp(t, s.sip, "uac_wait_bye", number, "-m", "1")
	select {
	case <-slow:
	case <-time.After(30 * time.Second):
		t.Fatalf("the slow event never came\n%s", tailString(s.stderr.String(), 3000))
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := s.waitExit(t)
	t.Logf("exited %v after SIGTERM (drain time 1 s)", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM during a long event, want 0\n%s", code, tailString(s.stderr.String(), 4000))
	}
	call.wait(t, "the call ends with a BYE")
	// -log-format json: every line one object; the call's summary says
	// it was answered and ended by the server during the shutdown.
	ended := 0
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON (%v): %q", err, line)
		}
		if rec["msg"] == "call ended" && rec["answered"] == true && rec["hangup_cause"] == "server" && rec["during_shutdown"] == true {
			ended++
		}
	}
	if ended != 1 {
		t.Fatalf("%d JSON \"call ended\" lines for a call ended by the shutdown, want 1:\n%s", ended, tailString(s.stderr.String(), 4000))
	}
}
