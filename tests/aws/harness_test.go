// Package aws drives the server with real AWS clients: the AWS SDK for Go
// v2 (chimesdkvoice, and the older chime namespace) and the AWS CLI v2,
// each configured with nothing but an endpoint override and the
// credentials file the server writes. It is a module of its own so the
// server's module never depends on an AWS SDK.
//
// The server is the real binary (built from ../../cmd/mediaserver), the
// far end of the outbound calls a real SIP peer (sipp as UAS), the call
// logic a webhook served by the test.
package aws

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	tenantNumber = "+15550111" // the demo tenant's number: the caller id of its calls
	calleeNumber = "+15550199" // dialled through the trunk, answered by sipp
	otherNumber  = "+15550112" // the other tenant's
	region       = "us-east-1"
	// emptySHA256 is the payload hash of a request without a body.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mediaserver-awstest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "mediaserver")
	build := exec.Command("go", "build", "-o", serverBin, "./cmd/mediaserver")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireTool returns the path of a tool, skipping the test when it is
// missing (failing it when CI=true: CI installs everything).
func requireTool(t *testing.T, path, debPackage string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: apt-get install %s", path, debPackage)
		}
		t.Skipf("%s not found: apt-get install %s", path, debPackage)
	}
	return path
}

func freePort(t *testing.T, network string) int {
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

// event is the part of a Chime invocation event the webhook looks at.
type event struct {
	InvocationEventType string
	ActionData          struct {
		Type       string
		Parameters struct {
			Arguments map[string]string
		}
	}
	CallDetails struct {
		TransactionID         string `json:"TransactionId"`
		SipMediaApplicationID string `json:"SipMediaApplicationId"`
		AwsAccountID          string `json:"AwsAccountId"`
	}
}

// hook is the call logic: it keeps an answered call up with a long Pause,
// which an update interrupts; an update with action=hangup hangs up.
type hook struct {
	srv *httptest.Server
	mu  sync.Mutex
	evs []event
	got chan struct{} // signalled on every event
}

const pause = `{"Type":"Pause","Parameters":{"DurationInMilliseconds":60000}}`

func newHook(t *testing.T) *hook {
	h := &hook{got: make(chan struct{}, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.evs = append(h.evs, ev)
		h.mu.Unlock()
		h.got <- struct{}{}
		action := ""
		switch ev.InvocationEventType {
		case "CALL_ANSWERED":
			action = pause
		case "CALL_UPDATE_REQUESTED":
			action = pause
			if ev.ActionData.Parameters.Arguments["action"] == "hangup" {
				action = `{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"SchemaVersion":"1.0","Actions":[%s]}`, action)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// waitFor waits for an event of the call, of typ, and returns it.
func (h *hook) waitFor(t *testing.T, tx, typ string) event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		for _, ev := range h.evs {
			if ev.CallDetails.TransactionID == tx && ev.InvocationEventType == typ {
				h.mu.Unlock()
				return ev
			}
		}
		h.mu.Unlock()
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("no %s for transaction %s; events: %+v", typ, tx, h.events())
		}
	}
}

func (h *hook) events() []event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]event(nil), h.evs...)
}

// server is a running mediaserver binary.
type server struct {
	url       string // http://127.0.0.1:PORT of the API
	dataDir   string
	credsFile string // the demo tenant's AWS shared credentials file
	hook      *hook
	uasPort   int
}

// startServer runs the server with a demo tenant (number tenantNumber, a
// trunk to 127.0.0.1:uasPort for calleeNumber) and another tenant "other".
func startServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{dataDir: filepath.Join(dir, "data"), hook: newHook(t), uasPort: freePort(t, "udp")}
	rtp := 20000 + 2*(os.Getpid()%2900)
	cfg := fmt.Sprintf(`data_dir = %q
region = %q
[sip]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
[rtp]
ip = "127.0.0.1"
port_min = %d
port_max = %d
[api]
listen = "127.0.0.1:0"
[egress]
allow = ["127.0.0.0/8"]
[[trunk]]
name = "sipp"
address = "127.0.0.1:%d"
prefixes = ["+1555"]
[[tenant]]
id = "demo"
  [[tenant.application]]
  id = "outbound"
  webhook = %q
  numbers = [%q]
[[tenant]]
id = "other"
  [[tenant.application]]
  id = "other-app"
  webhook = %q
  numbers = [%q]
`, s.dataDir, region, rtp, rtp+98, s.uasPort, s.hook.srv.URL, tenantNumber, s.hook.srv.URL, otherNumber)
	cfgFile := filepath.Join(dir, "mediaserver.toml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, serverBin, "-config", cfgFile)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
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
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	})
	banner := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`HTTP API  (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				banner <- m[1]
			}
		}
		close(banner)
	}()
	select {
	case u, ok := <-banner:
		if !ok {
			t.Fatalf("the server exited without a banner:\n%s", stderr.String())
		}
		s.url = u
	case <-time.After(60 * time.Second):
		t.Fatalf("no banner after 60 s:\n%s", stderr.String())
	}
	s.credsFile = filepath.Join(s.dataDir, "demo-aws-credentials")
	return s
}

// otherTenantKey makes a key for tenant "other" with the admin key (a
// Bearer key) and returns its access key id and secret.
func (s *server) otherTenantKey(t *testing.T) (id, secret string) {
	t.Helper()
	admin, err := os.ReadFile(filepath.Join(s.dataDir, "admin-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.url+"/tenants/other/keys", strings.NewReader(`{"Name":"aws test"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(admin)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Key struct {
			KeyID string `json:"KeyId"`
		}
		Secret string
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /tenants/other/keys: %d, %v", resp.StatusCode, err)
	}
	return out.Key.KeyID, out.Secret
}

// uas is sipp answering calls on the trunk's address.
type uas struct {
	done chan error
	out  *bytes.Buffer
}

// startUAS runs sipp's built-in UAS scenario for n calls: it answers each
// call and waits for the BYE.
func (s *server) startUAS(t *testing.T, n int) *uas {
	t.Helper()
	bin := requireTool(t, "/usr/bin/sipp", "sip-tester")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(s.uasPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t, "udp")), "-m", strconv.Itoa(n),
		"-nostdin", "-nd", "-timeout", "80s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "err.log"))
	cmd.Dir = t.TempDir()
	u := &uas{done: make(chan error, 1), out: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = io.Discard, u.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { u.done <- cmd.Wait() }()
	time.Sleep(200 * time.Millisecond) // sipp binds its port
	return u
}

// wait waits for sipp to end: every call answered and hung up by the
// server.
func (u *uas) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-u.done:
		if err != nil {
			t.Fatalf("sipp UAS: %v\n%s", err, u.out)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("sipp UAS still running after 60 s: a call was not hung up")
	}
}
