package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/plugin"
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// recCalls is the server's side of calls, recording what reached it.
type recCalls struct {
	mu      sync.Mutex
	next    int
	calls   map[string]api.Call
	creates []api.CreateCallRequest
	updates []map[string]string
	hangups []string
	// iotcomms (iot_test.go): what reached the server, one line each.
	places []api.PlaceIvrCallRequest
	iotOps []string
	reg    *tenant.Registry // the tenants' dial policies
}

func (r *recCalls) CreateCall(_ context.Context, tenantID, appID string, req api.CreateCallRequest) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	tx := fmt.Sprintf("tx-%d", r.next)
	r.calls[tx] = api.Call{TransactionID: tx, TenantID: tenantID, SipMediaApplicationID: appID,
		From: req.FromPhoneNumber, To: req.ToPhoneNumber, Direction: "Outbound", StartTime: testNow}
	r.creates = append(r.creates, req)
	return tx, nil
}

// The errors are worded like host/control's.
func (r *recCalls) UpdateCall(_ context.Context, tenantID, appID, txID string, args map[string]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[txID]
	if !ok || c.TenantID != tenantID || c.SipMediaApplicationID != appID {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	r.updates = append(r.updates, args)
	return nil
}

func (r *recCalls) HangupCall(_ context.Context, tenantID, txID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[txID]
	if !ok || (tenantID != "" && c.TenantID != tenantID) {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	delete(r.calls, txID)
	r.hangups = append(r.hangups, txID)
	return nil
}

func (r *recCalls) ListCalls(tenantID string) []api.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []api.Call
	for _, c := range r.calls {
		if tenantID == "" || c.TenantID == tenantID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TransactionID < out[j].TransactionID })
	return out
}

// checkPlugins validates uploads with the real runtime, like the server.
type checkPlugins struct {
	rt *plugin.Runtime

	mu      sync.Mutex
	logsN   []int
	statsOf []string
}

func (p *checkPlugins) Check(ctx context.Context, _ string, wasm []byte) (api.PluginInfo, error) {
	info, err := p.rt.Check(ctx, wasm)
	if err != nil {
		var pe *plugin.Error
		if errors.As(err, &pe) && pe.Err != nil {
			err = pe.Err
		}
		return api.PluginInfo{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return api.PluginInfo{Mode: string(info.Mode), ABIVersion: info.ABIVersion, Exports: info.Exports, Imports: info.Imports}, nil
}

func (p *checkPlugins) Logs(tenantID, appID string, n int) []api.LogLine {
	p.mu.Lock()
	p.logsN = append(p.logsN, n)
	p.mu.Unlock()
	return []api.LogLine{
		{Time: testNow, Level: "info", Stream: "log", TransactionID: "tx-9", Text: tenantID + "/" + appID + " answered"},
		{Time: testNow.Add(time.Second), Level: "error", Stream: "stderr", Text: "oops"},
	}
}

func (p *checkPlugins) Stats(tenantID, appID string) api.PluginStats {
	p.mu.Lock()
	p.statsOf = append(p.statsOf, tenantID+"/"+appID)
	p.mu.Unlock()
	return api.PluginStats{Invocations: 12, Errors: map[string]uint64{"timeout": 2, "trap": 1}, LiveInstances: 3, IdleInstances: 1,
		Latency: []api.LatencyBucket{{UpperBoundMs: 0.5, Count: 9}, {UpperBoundMs: 1e9, Count: 3}}}
}

var testNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	acme      = "acme"
	appAcme   = "app-1"
	numAcme   = "+15550100"
	txOther   = "tx-other"
	otherTen  = "other"
	appOther  = "app-other"
	txAcmeOld = "tx-acme-old"
)

// server is a real API handler over a real registry: tenant acme (app-1
// on +15550100, a call tx-acme-old that started 3m07s before testNow) and
// tenant other (app-other, call tx-other).
type server struct {
	reg     *tenant.Registry
	blobs   *store.Folder
	kv      *pagedKV
	calls   *recCalls
	plugins *checkPlugins
	url     string
	secret  string // acme's key
	admin   string
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	blobs, err := store.NewFolder(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tenant.Open(filepath.Join(dir, "registry.db"), blobs, tenant.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s := &server{reg: reg, blobs: blobs, calls: &recCalls{calls: map[string]api.Call{}, reg: reg}}
	_, err = reg.CreateTenant(acme, "Acme", tenant.Quotas{})
	must(err)
	_, err = reg.CreateTenant(otherTen, "Other", tenant.Quotas{})
	must(err)
	s.secret, _, err = reg.CreateKey(acme, "main")
	must(err)
	s.admin, _, err = reg.CreateAdminKey("ops")
	must(err)
	_, err = reg.CreateApp(acme, appAcme, "Front desk", "")
	must(err)
	_, err = reg.CreateApp(otherTen, appOther, "Other app", "")
	must(err)
	_, err = reg.AddNumber(acme, numAcme)
	must(err)
	must(reg.SetRule(acme, numAcme, appAcme))
	s.calls.calls[txAcmeOld] = api.Call{TransactionID: txAcmeOld, TenantID: acme, SipMediaApplicationID: appAcme,
		From: "+15550199", To: numAcme, Direction: "Inbound", StartTime: testNow.Add(-187 * time.Second)}
	s.calls.calls[txOther] = api.Call{TransactionID: txOther, TenantID: otherTen, SipMediaApplicationID: appOther,
		From: "+15550300", To: "+15550301", Direction: "Outbound", StartTime: testNow.Add(-2 * time.Hour)}

	rt, err := plugin.NewRuntime(context.Background(), plugin.Config{})
	must(err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	s.plugins = &checkPlugins{rt: rt}
	kvs, err := kv.Open(filepath.Join(dir, "kv.db"))
	must(err)
	t.Cleanup(func() { _ = kvs.Close() })
	s.kv = &pagedKV{Store: kvs}
	h := api.New(reg, s.calls, s.plugins, api.WithStore(blobs), api.WithKV(s.kv), api.WithRateLimit(0, 0),
		api.WithIDGenerator(func() string { return "gen-1" }))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// run runs mediactl in-process with an environment pointing at the server
// with acme's key (env overrides and adds entries).
func (s *server) run(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	e := map[string]string{envAPI: s.url, envKey: s.secret}
	for k, v := range env {
		e[k] = v
	}
	var out, errOut bytes.Buffer
	sess := newSession(context.Background(), func(k string) string { return e[k] }, strings.NewReader(stdin), &out, &errOut)
	sess.now = func() time.Time { return testNow }
	code := sess.dispatch(args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

type cliCase struct {
	name       string
	env        map[string]string
	args       []string
	stdin      string
	wantCode   int
	wantStdout string
	wantStderr string
	// before prepares the server.
	before func(t *testing.T, s *server)
	// check inspects what reached the server.
	check func(t *testing.T, s *server)
}

func runCases(t *testing.T, s *server, tests []cliCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t, s)
			}
			r := s.run(t, tc.stdin, tc.env, tc.args...)
			if r.code != tc.wantCode || r.stdout != tc.wantStdout || r.stderr != tc.wantStderr {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr:\n%s",
					r.code, r.stdout, r.stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

// noCreate checks that a refused command sent nothing.
func noCreate(t *testing.T, s *server) {
	t.Helper()
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	if len(s.calls.creates) != 0 {
		t.Fatalf("a request reached the server: %+v", s.calls.creates)
	}
}

func TestCallCreate(t *testing.T) {
	tests := []cliCase{
		{name: "with headers and arguments",
			args:     []string{"call", "create", "-app", appAcme, "-from", numAcme, "-to", "+15550123", "-header", "X-Ticket=42", "meetingId=7", "note=a=b"},
			wantCode: exitOK, wantStdout: "tx-1\n",
			check: func(t *testing.T, s *server) {
				want := []api.CreateCallRequest{{FromPhoneNumber: numAcme, ToPhoneNumber: "+15550123",
					SipHeaders: map[string]string{"X-Ticket": "42"}, ArgumentsMap: map[string]string{"meetingId": "7", "note": "a=b"}}}
				if !reflect.DeepEqual(s.calls.creates, want) {
					t.Fatalf("server got %+v, want %+v", s.calls.creates, want)
				}
			}},
		{name: "json", args: []string{"-json", "call", "create", "-app", appAcme, "-from", numAcme, "-to", "+15550123"},
			wantCode: exitOK, wantStdout: "{\n  \"SipMediaApplicationCall\": {\n    \"TransactionId\": \"tx-1\"\n  }\n}\n",
			check: func(t *testing.T, s *server) {
				want := []api.CreateCallRequest{{FromPhoneNumber: numAcme, ToPhoneNumber: "+15550123"}}
				if !reflect.DeepEqual(s.calls.creates, want) {
					t.Fatalf("server got %+v, want %+v", s.calls.creates, want)
				}
			}},
		{name: "missing app", args: []string{"call", "create", "-from", numAcme, "-to", "+15550123"},
			wantCode: exitUsage, wantStderr: "mediactl: call create: -app is required (see -h)\n", check: noCreate},
		{name: "missing to", args: []string{"call", "create", "-app", appAcme, "-from", numAcme},
			wantCode: exitUsage, wantStderr: "mediactl: call create: -to is required\n", check: noCreate},
		{name: "not E.164", args: []string{"call", "create", "-app", appAcme, "-from", numAcme, "-to", "5550123"},
			wantCode: exitUsage, wantStderr: "mediactl: call create: -to \"5550123\" is not an E.164 number like +15550100\n", check: noCreate},
		{name: "argument without =", args: []string{"call", "create", "-app", appAcme, "-from", numAcme, "-to", "+15550123", "novalue"},
			wantCode: exitUsage, wantStderr: "mediactl: call create: argument \"novalue\": want KEY=VALUE\n", check: noCreate},
		{name: "duplicate argument", args: []string{"call", "create", "-app", appAcme, "-from", numAcme, "-to", "+15550123", "a=1", "a=2"},
			wantCode: exitUsage, wantStderr: "mediactl: call create: argument \"a=2\": key \"a\" given twice\n", check: noCreate},
		{name: "header without =", args: []string{"call", "create", "-app", appAcme, "-from", numAcme, "-to", "+15550123", "-header", "X-A"},
			wantCode: exitUsage, wantStderr: "mediactl: call create: -header \"X-A\": want KEY=VALUE\n", check: noCreate},
		{name: "header the server refuses", args: []string{"call", "create", "-app", appAcme, "-from", numAcme, "-to", "+15550123", "-header", "Via=x"},
			wantCode: exitFailure, wantStderr: "mediactl: BadRequest: SipHeaders: header \"Via\" is not allowed: only X-… headers, User-to-User and Diversion\n", check: noCreate},
		{name: "number of another tenant", args: []string{"call", "create", "-app", appAcme, "-from", "+15550300", "-to", "+15550123"},
			wantCode: exitFailure, wantStderr: "mediactl: BadRequest: FromPhoneNumber \"+15550300\" is not one of your phone numbers\n", check: noCreate},
		{name: "application of another tenant", args: []string{"call", "create", "-app", appOther, "-from", numAcme, "-to", "+15550123"},
			wantCode: exitFailure, wantStderr: "mediactl: NotFound: application \"app-other\": not found\n", check: noCreate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runCases(t, newServer(t), []cliCase{tc})
		})
	}
}

func TestCallUpdateHangupList(t *testing.T) {
	s := newServer(t)
	runCases(t, s, []cliCase{
		{name: "list", args: []string{"calls"}, wantCode: exitOK,
			wantStdout: "TRANSACTION  APP    DIRECTION  FROM       TO         STATE  AGE\n" +
				"tx-acme-old  app-1  Inbound    +15550199  +15550100  live   3m07s\n"},
		{name: "list as admin, all tenants", env: map[string]string{envKey: s.admin}, args: []string{"calls"}, wantCode: exitOK,
			wantStdout: "TRANSACTION  APP        DIRECTION  FROM       TO         STATE  AGE\n" +
				"tx-acme-old  app-1      Inbound    +15550199  +15550100  live   3m07s\n" +
				"tx-other     app-other  Outbound   +15550300  +15550301  live   2h00m\n"},
		{name: "list as admin for a tenant", env: map[string]string{envKey: s.admin}, args: []string{"calls", "-tenant", otherTen}, wantCode: exitOK,
			wantStdout: "TRANSACTION  APP        DIRECTION  FROM       TO         STATE  AGE\n" +
				"tx-other     app-other  Outbound   +15550300  +15550301  live   2h00m\n"},
		{name: "update", args: []string{"call", "update", "-app", appAcme, txAcmeOld, "action=mute", "who=LEG-B"}, wantCode: exitOK,
			wantStdout: txAcmeOld + "\n",
			check: func(t *testing.T, s *server) {
				want := []map[string]string{{"action": "mute", "who": "LEG-B"}}
				if !reflect.DeepEqual(s.calls.updates, want) {
					t.Fatalf("server got %v, want %v", s.calls.updates, want)
				}
			}},
		{name: "update without arguments", args: []string{"call", "update", "-app", appAcme, txAcmeOld}, wantCode: exitOK,
			wantStdout: txAcmeOld + "\n",
			check: func(t *testing.T, s *server) {
				if got := s.calls.updates[len(s.calls.updates)-1]; got == nil || len(got) != 0 {
					t.Fatalf("server got %#v, want an empty map", got)
				}
			}},
		{name: "update bad argument", args: []string{"call", "update", "-app", appAcme, txAcmeOld, "=x"}, wantCode: exitUsage,
			wantStderr: "mediactl: call update: argument \"=x\": want KEY=VALUE\n"},
		{name: "update without transaction", args: []string{"call", "update", "-app", appAcme}, wantCode: exitUsage,
			wantStderr: "mediactl: call update: missing arguments (see -h)\n"},
		{name: "update unknown call", args: []string{"call", "update", "-app", appAcme, "tx-1234", "a=b"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call tx-1234\n"},
		{name: "hangup another tenant's call", args: []string{"call", "hangup", txOther}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call tx-other\n"},
		{name: "hangup", args: []string{"call", "hangup", txAcmeOld}, wantCode: exitOK, wantStdout: txAcmeOld + "\n",
			check: func(t *testing.T, s *server) {
				if !reflect.DeepEqual(s.calls.hangups, []string{txAcmeOld}) {
					t.Fatalf("hangups %v", s.calls.hangups)
				}
			}},
		{name: "list empty json", args: []string{"calls", "-json"}, wantCode: exitOK, wantStdout: "{\n  \"Calls\": []\n}\n"},
		{name: "hangup twice", args: []string{"call", "hangup", txAcmeOld}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call tx-acme-old\n"},
	})
}

func TestServerFlags(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(s.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	header := "ID     NAME        MODEL  PLUGIN  WEBHOOK\n"
	appRow := header + "app-1  Front desk  chime  -       -\n"
	noEnv := map[string]string{envAPI: "", envKey: ""}
	runCases(t, s, []cliCase{
		{name: "env", args: []string{"app", "list"}, wantCode: exitOK, wantStdout: appRow},
		{name: "flags before the command beat the env",
			env:  map[string]string{envAPI: "http://127.0.0.1:1", envKey: "wrong"},
			args: []string{"-api", s.url, "-key", s.secret, "app", "list"}, wantCode: exitOK, wantStdout: appRow},
		{name: "flags after the command",
			env:  map[string]string{envAPI: "http://127.0.0.1:1", envKey: "wrong"},
			args: []string{"app", "list", "-api", s.url, "-key-file", keyFile}, wantCode: exitOK, wantStdout: appRow},
		{name: "key file beats env", env: map[string]string{envKey: "wrong"},
			args: []string{"app", "list", "-key-file", keyFile}, wantCode: exitOK, wantStdout: appRow},
		{name: "key and key file", args: []string{"app", "list", "-key", "a", "-key-file", keyFile}, wantCode: exitUsage,
			wantStderr: "mediactl: use either -key or -key-file, not both\n"},
		{name: "missing key file", args: []string{"app", "list", "-key-file", filepath.Join(dir, "nope")}, wantCode: exitUsage,
			wantStderr: "mediactl: key file: open " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{name: "empty key file", args: []string{"app", "list", "-key-file", emptyFile}, wantCode: exitUsage,
			wantStderr: "mediactl: key file " + emptyFile + " is empty\n"},
		{name: "no key", env: map[string]string{envKey: ""}, args: []string{"app", "list"}, wantCode: exitUsage,
			wantStderr: "mediactl: no API key: pass -key or -key-file, or set MEDIASERVER_API_KEY (a server started here writes the demo key to ./data/demo-api-key)\n"},
		{name: "wrong key", env: map[string]string{envKey: "wrong"}, args: []string{"app", "list"}, wantCode: exitFailure,
			wantStderr: "mediactl: Unauthorized: missing or invalid API key: send \"Authorization: Bearer <secret>\" or \"X-Api-Key: <secret>\", or sign the request (AWS Signature Version 4)\n"},
		{name: "admin without tenant", env: map[string]string{envKey: s.admin}, args: []string{"app", "list"}, wantCode: exitFailure,
			wantStderr: "mediactl: Forbidden: an admin key must name the tenant it acts for in the X-Tenant-Id header\n"},
		{name: "admin with tenant", env: map[string]string{envKey: s.admin}, args: []string{"-tenant", acme, "app", "list"},
			wantCode: exitOK, wantStdout: appRow},
		{name: "tenant key for another tenant", args: []string{"-tenant", otherTen, "app", "list"}, wantCode: exitFailure,
			wantStderr: "mediactl: Forbidden: a tenant key acts for its own tenant only: drop the X-Tenant-Id header\n"},
		{name: "bad api url", env: noEnv, args: []string{"-api", "ftp://x", "-key", "k", "app", "list"}, wantCode: exitUsage,
			wantStderr: "mediactl: -api \"ftp://x\": want an http(s) URL like http://127.0.0.1:8080\n"},
		{name: "unreachable", env: map[string]string{envAPI: "http://127.0.0.1:1"}, args: []string{"app", "list"}, wantCode: exitFailure,
			wantStderr: "mediactl: server http://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n"},
		{name: "unknown flag", args: []string{"-nope", "app", "list"}, wantCode: exitUsage,
			wantStderr: "flag provided but not defined: -nope\n" + usageTop},
		{name: "unknown subcommand", args: []string{"app", "dance"}, wantCode: exitUsage,
			wantStderr: "mediactl: unknown command \"app dance\"\n\n" + usageTop},
		{name: "missing subcommand", args: []string{"number"}, wantCode: exitUsage,
			wantStderr: "mediactl: number: missing subcommand\n\n" + usageTop},
		{name: "too many arguments", args: []string{"calls", "x"}, wantCode: exitUsage,
			wantStderr: "mediactl: calls: too many arguments (see -h)\n"},
	})
}

// TestCommandHelp checks that every server command has its own -h text
// and needs no server for it.
func TestCommandHelp(t *testing.T) {
	for group, cmds := range serverCommands() {
		for name := range cmds {
			full := strings.TrimSpace(group + " " + name)
			t.Run(full, func(t *testing.T) {
				args := append(strings.Fields(full), "-h")
				var out, errOut bytes.Buffer
				sess := newSession(context.Background(), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
				code := sess.dispatch(args)
				if code != exitOK || !strings.HasPrefix(errOut.String(), "Usage: mediactl "+full) ||
					!strings.Contains(errOut.String(), "\nExample") || !strings.Contains(errOut.String(), "-api URL") {
					t.Fatalf("exit %d, help:\n%s", code, errOut.String())
				}
				if !strings.Contains(usageTop, full) && !strings.Contains(usageTop, group+" ") {
					t.Fatalf("the top-level usage does not mention %q", full)
				}
			})
		}
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPluginCommands(t *testing.T) {
	s := newServer(t)
	good, nop, bad := fixture(t, "good"), fixture(t, "nop"), fixture(t, "unknownimport")
	sha1, sha2 := sha(t, good), sha(t, nop)
	appPlugin := func(want string) func(*testing.T, *server) {
		return func(t *testing.T, s *server) {
			t.Helper()
			a, err := s.reg.GetApp(acme, appAcme)
			if err != nil || a.Plugin != want {
				t.Fatalf("app runs %q (%v), want %q", a.Plugin, err, want)
			}
		}
	}
	size := func(p string) string {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(st.Size())
	}
	runCases(t, s, []cliCase{
		{name: "upload to live", args: []string{"plugin", "upload", good, "-app", appAcme}, wantCode: exitOK,
			wantStdout: sha1 + "\n", wantStderr: "application app-1 now runs " + sha1[:12] + "\n", check: appPlugin(sha1)},
		{name: "upload only", args: []string{"plugin", "upload", nop}, wantCode: exitOK, wantStdout: sha2 + "\n",
			check: func(t *testing.T, s *server) {
				appPlugin(sha1)(t, s)
				if _, err := s.reg.GetPlugin(acme, sha2); err != nil {
					t.Fatalf("not stored: %v", err)
				}
			}},
		{name: "invalid module", args: []string{"plugin", "upload", bad}, wantCode: exitFailure,
			wantStderr: "mediactl: BadRequest: invalid module: import \"mediaserver\".\"spawn_process\": no such function in \"mediaserver\"\n",
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetPlugin(acme, sha(t, bad)); !errors.Is(err, tenant.ErrNotFound) {
					t.Fatalf("an invalid module was stored: %v", err)
				}
			}},
		{name: "missing file", args: []string{"plugin", "upload", "/nonexistent.wasm"}, wantCode: exitUsage,
			wantStderr: "mediactl: plugin upload: open /nonexistent.wasm: no such file or directory\n"},
		{name: "list", args: []string{"plugin", "list"}, wantCode: exitOK,
			wantStdout: "SHA256" + strings.Repeat(" ", 60) + "SIZE    CREATED               APPS\n" +
				sha1 + "  " + size(good) + "  2025-01-02T03:04:05Z  app-1\n" +
				sha2 + "  " + size(nop) + "     2025-01-02T03:04:05Z  -\n"},
		{name: "assign", args: []string{"plugin", "assign", "-app", appAcme, sha2}, wantCode: exitOK,
			wantStdout: "application app-1 now runs " + sha2 + "\n", check: appPlugin(sha2)},
		{name: "assign not a sha", args: []string{"plugin", "assign", "-app", appAcme, "abc"}, wantCode: exitUsage,
			wantStderr: "mediactl: plugin assign: \"abc\" is not a SHA-256 (64 lowercase hex digits, as \"plugin list\" prints)\n"},
		{name: "assign without app", args: []string{"plugin", "assign", sha2}, wantCode: exitUsage,
			wantStderr: "mediactl: plugin assign: -app is required (see -h)\n"},
		{name: "rollback", args: []string{"plugin", "rollback", "-app", appAcme}, wantCode: exitOK,
			wantStdout: "application app-1 now runs " + sha1 + "\n", check: appPlugin(sha1)},
		{name: "delete", args: []string{"plugin", "delete", sha2}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetPlugin(acme, sha2); !errors.Is(err, tenant.ErrNotFound) {
					t.Fatalf("still stored: %v", err)
				}
			}},
		{name: "delete the live version", args: []string{"plugin", "delete", sha1}, wantCode: exitFailure,
			wantStderr: "mediactl: Conflict: plugin version " + sha1 + " is application app-1's current version: in use\n"},
		{name: "logs", args: []string{"plugin", "logs", "-app", appAcme, "-n", "5"}, wantCode: exitOK,
			wantStdout: "2025-01-02T03:04:05Z [info] tx-9 acme/app-1 answered\n2025-01-02T03:04:06Z [stderr] oops\n",
			check: func(t *testing.T, s *server) {
				if !reflect.DeepEqual(s.plugins.logsN, []int{5}) {
					t.Fatalf("server got n %v, want [5]", s.plugins.logsN)
				}
			}},
		{name: "logs bad n", args: []string{"plugin", "logs", "-app", appAcme, "-n", "0"}, wantCode: exitUsage,
			wantStderr: "mediactl: plugin logs: -n 0: want 1 to 1000\n"},
		{name: "logs unknown app", args: []string{"plugin", "logs", "-app", "nope"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: application \"nope\": not found\n"},
		{name: "stats", args: []string{"plugin", "stats", "-app", appAcme}, wantCode: exitOK,
			wantStdout: "invocations: 12\nerrors:      3\n  timeout: 2\n  trap: 1\ninstances:   3 live, 1 idle\n" +
				"latency:\n  ≤ 0.5 ms     9\n  slower       3\n",
			check: func(t *testing.T, s *server) {
				if !reflect.DeepEqual(s.plugins.statsOf, []string{"acme/app-1"}) {
					t.Fatalf("server got %v", s.plugins.statsOf)
				}
			}},
	})
}

func TestAppAndNumberCommands(t *testing.T) {
	s := newServer(t)
	runCases(t, s, []cliCase{
		{name: "create", args: []string{"app", "create", "-name", "Sales line", "-webhook", "https://example.com/hook", "sales"},
			wantCode: exitOK, wantStdout: "sales\n",
			check: func(t *testing.T, s *server) {
				a, err := s.reg.GetApp(acme, "sales")
				if err != nil || a.Name != "Sales line" || a.Webhook != "https://example.com/hook" {
					t.Fatalf("stored %+v, %v", a, err)
				}
			}},
		{name: "create taken", args: []string{"app", "create", "sales"}, wantCode: exitFailure,
			wantStderr: "mediactl: Conflict: application sales: already exists\n"},
		{name: "create iotcomms", args: []string{"app", "create", "-model", "iotcomms", "-webhook", "https://example.com/iot", "-name", "Alarms", "alarm"},
			wantCode: exitOK, wantStdout: "alarm\n",
			check: func(t *testing.T, s *server) {
				a, err := s.reg.GetApp(acme, "alarm")
				if err != nil || a.Model != tenant.ModelIotcomms || a.Webhook != "https://example.com/iot" {
					t.Fatalf("stored %+v, %v", a, err)
				}
			}},
		{name: "create unknown model", args: []string{"app", "create", "-model", "lambda", "x"}, wantCode: exitUsage,
			wantStderr: "mediactl: app create: -model \"lambda\": want chime or iotcomms\n",
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetApp(acme, "x"); !errors.Is(err, tenant.ErrNotFound) {
					t.Fatalf("created: %v", err)
				}
			}},
		{name: "list", args: []string{"app", "list"}, wantCode: exitOK,
			wantStdout: "ID     NAME        MODEL     PLUGIN  WEBHOOK\n" +
				"alarm  Alarms      iotcomms  -       https://example.com/iot\n" +
				"app-1  Front desk  chime     -       -\n" +
				"sales  Sales line  chime     -       https://example.com/hook\n"},
		{name: "add number", args: []string{"number", "add", "+15550142"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetNumber(acme, "+15550142"); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "add bad number", args: []string{"number", "add", "15550142"}, wantCode: exitUsage,
			wantStderr: "mediactl: number add: number \"15550142\" is not an E.164 number like +15550100\n"},
		{name: "route", args: []string{"number", "route", "+15550142", "sales"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if r, ok := s.reg.Route("+15550142"); !ok || r.App != "sales" {
					t.Fatalf("route %+v %v", r, ok)
				}
			}},
		{name: "route to unknown app", args: []string{"number", "route", "+15550142", "nope"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: application \"nope\": not found\n"},
		{name: "list numbers", args: []string{"number", "list"}, wantCode: exitOK,
			wantStdout: "NUMBER     APP    CREATED\n" +
				"+15550100  app-1  2025-01-02T03:04:05Z\n" +
				"+15550142  sales  2025-01-02T03:04:05Z\n"},
		{name: "delete routed app", args: []string{"app", "delete", "sales"}, wantCode: exitFailure,
			wantStderr: "mediactl: Conflict: application sales: number +15550142 routes to it: in use\n"},
		{name: "unroute", args: []string{"number", "route", "+15550142", ""}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if r, ok := s.reg.Route("+15550142"); ok && r.App != "" {
					t.Fatalf("still routed: %+v", r)
				}
			}},
		{name: "delete app", args: []string{"app", "delete", "sales"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetApp(acme, "sales"); !errors.Is(err, tenant.ErrNotFound) {
					t.Fatalf("still there: %v", err)
				}
			}},
		{name: "remove number", args: []string{"number", "remove", "+15550142"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetNumber(acme, "+15550142"); !errors.Is(err, tenant.ErrNotFound) {
					t.Fatalf("still there: %v", err)
				}
			}},
		{name: "remove unknown number", args: []string{"number", "remove", "+15550142"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: number \"+15550142\": not found\n"},
		{name: "create with a generated id", args: []string{"app", "create", "-json", "-name", "Gen"}, wantCode: exitOK,
			wantStdout: `{
  "SipMediaApplication": {
    "SipMediaApplicationId": "gen-1",
    "AwsRegion": "local",
    "Name": "Gen",
    "Endpoints": [],
    "Model": "chime",
    "CreatedTimestamp": "2025-01-02T03:04:05Z",
    "UpdatedTimestamp": "2025-01-02T03:04:05Z"
  }
}
`,
			check: func(t *testing.T, s *server) {
				if a, err := s.reg.GetApp(acme, "gen-1"); err != nil || a.Name != "Gen" {
					t.Fatalf("stored %+v, %v", a, err)
				}
			}},
	})
}

func TestKeyCommands(t *testing.T) {
	s := newServer(t)
	r := s.run(t, "", nil, "key", "create", "ci")
	if r.code != exitOK {
		t.Fatalf("create: exit %d, %s", r.code, r.stderr)
	}
	secret := strings.TrimSuffix(r.stdout, "\n")
	tid, k, err := s.reg.Authenticate(secret)
	if err != nil || tid != acme || k.Name != "ci" {
		t.Fatalf("printed secret %q authenticates as %q %+v, %v", secret, tid, k, err)
	}
	if want := "created key " + k.ID + "; its secret is shown this once\n"; r.stderr != want {
		t.Fatalf("stderr %q, want %q", r.stderr, want)
	}
	keys, err := s.reg.ListKeys(acme)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %+v, %v", keys, err)
	}
	r = s.run(t, "", nil, "key", "list")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != exitOK || len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("list: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	for _, k := range keys {
		want := joinCols(k.ID, k.Name, acme, "2025-01-02T03:04:05Z")
		found := false
		for _, l := range lines[1:] {
			found = found || strings.HasPrefix(strings.Join(strings.Fields(l), " "), want)
		}
		if !found {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	r = s.run(t, "", nil, "key", "revoke", k.ID)
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Fatalf("revoke: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if _, _, err := s.reg.Authenticate(secret); !errors.Is(err, tenant.ErrUnauthorized) {
		t.Fatalf("revoked key still authenticates: %v", err)
	}
	r = s.run(t, "", map[string]string{envKey: secret}, "key", "list")
	if r.code != exitFailure || !strings.HasPrefix(r.stderr, "mediactl: Unauthorized: ") {
		t.Fatalf("revoked key: exit %d, %q", r.code, r.stderr)
	}
}

// touchIn sets the modification time of acme's objects in bucket to
// testNow (the folder store reports the file's).
func touchIn(bucket string, keys ...string) func(*testing.T, *server) {
	return func(t *testing.T, s *server) {
		t.Helper()
		for _, k := range keys {
			p, err := s.blobs.Path(acme, bucket, k)
			if err == nil {
				err = os.Chtimes(p, testNow, testNow)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// joinCols joins a key list row's columns with single spaces.
func joinCols(cols ...string) string { return strings.Join(cols, " ") }

func TestObjectCommands(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "welcome.wav")
	if err := os.WriteFile(src, []byte("RIFF-welcome"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.wav")
	runCases(t, s, []cliCase{
		{name: "put file", args: []string{"object", "put", "prompts", "welcome.wav", src}, wantCode: exitOK,
			wantStdout: "prompts/welcome.wav 12 bytes\n"},
		{name: "put stdin", args: []string{"object", "put", "prompts", "menu/main.wav"}, stdin: "RIFF-menu", wantCode: exitOK,
			wantStdout: "prompts/menu/main.wav 9 bytes\n"},
		{name: "put missing file", args: []string{"object", "put", "prompts", "x.wav", filepath.Join(dir, "nope")}, wantCode: exitUsage,
			wantStderr: "mediactl: object put: open " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{name: "put plugins bucket", args: []string{"object", "put", "plugins", "x.wasm", src}, wantCode: exitFailure,
			wantStderr: "mediactl: Forbidden: bucket \"plugins\" is reserved for plugin versions: use /plugins\n"},
		{name: "get stdout", args: []string{"object", "get", "prompts", "menu/main.wav"}, wantCode: exitOK, wantStdout: "RIFF-menu"},
		{name: "get file", args: []string{"object", "get", "prompts", "welcome.wav", dst}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if b, err := os.ReadFile(dst); err != nil || string(b) != "RIFF-welcome" {
					t.Fatalf("got %q, %v", b, err)
				}
			}},
		{name: "get missing keeps no file", args: []string{"object", "get", "prompts", "nope.wav", filepath.Join(dir, "nope.wav")}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: object not found: prompts/nope.wav\n",
			check: func(t *testing.T, s *server) {
				ents, err := os.ReadDir(dir)
				if err != nil || len(ents) != 2 {
					t.Fatalf("dir holds %v, %v; want welcome.wav and out.wav only", ents, err)
				}
			}},
		{name: "list", args: []string{"object", "list", "prompts"}, wantCode: exitOK, before: touchIn("prompts", "welcome.wav", "menu/main.wav"),
			wantStdout: "KEY            SIZE  MODIFIED\n" +
				"menu/main.wav  9     2025-01-02T03:04:05Z\n" +
				"welcome.wav    12    2025-01-02T03:04:05Z\n"},
		{name: "list prefix", args: []string{"object", "list", "prompts", "menu/"}, wantCode: exitOK,
			wantStdout: "KEY            SIZE  MODIFIED\n" +
				"menu/main.wav  9     2025-01-02T03:04:05Z\n"},
		{name: "delete", args: []string{"object", "delete", "prompts", "welcome.wav"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, err := s.blobs.Stat(context.Background(), acme, "prompts", "welcome.wav"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("still stored: %v", err)
				}
			}},
		{name: "missing key", args: []string{"object", "get", "prompts"}, wantCode: exitUsage,
			wantStderr: "mediactl: object get: missing arguments (see -h)\n"},
	})
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantApp string
		wantPos []string
	}{
		{name: "flags first", args: []string{"-app", "a", "x", "y"}, wantApp: "a", wantPos: []string{"x", "y"}},
		{name: "flags last", args: []string{"x", "y", "-app", "a"}, wantApp: "a", wantPos: []string{"x", "y"}},
		{name: "flags between", args: []string{"x", "-app", "a", "y"}, wantApp: "a", wantPos: []string{"x", "y"}},
		{name: "double dash", args: []string{"x", "--", "-app", "a"}, wantPos: []string{"x", "-app", "a"}},
		{name: "none", args: nil, wantPos: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			s := newSession(context.Background(), func(string) string { return "" }, nil, &bytes.Buffer{}, &errOut)
			fs := s.flagSet("test", "")
			app := fs.String("app", "", "")
			pos, err := s.parse(fs, tc.args, 0, -1)
			if err != nil || *app != tc.wantApp || !reflect.DeepEqual(pos, tc.wantPos) {
				t.Fatalf("app %q, pos %q, err %v (%s); want %q, %q", *app, pos, err, errOut.String(), tc.wantApp, tc.wantPos)
			}
		})
	}
}

func TestKeyValues(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", args: nil, want: map[string]string{}},
		{name: "values", args: []string{"a=1", "b=", "c=x=y"}, want: map[string]string{"a": "1", "b": "", "c": "x=y"}},
		{name: "no equals", args: []string{"a"}, wantErr: `argument "a": want KEY=VALUE`},
		{name: "empty key", args: []string{"=1"}, wantErr: `argument "=1": want KEY=VALUE`},
		{name: "duplicate", args: []string{"a=1", "a=1"}, wantErr: `argument "a=1": key "a" given twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keyValues("argument", tc.args)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr || (err == nil && !reflect.DeepEqual(got, tc.want)) {
				t.Fatalf("got %v, %q; want %v, %q", got, gotErr, tc.want, tc.wantErr)
			}
		})
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		name string
		ago  time.Duration
		want string
	}{
		{name: "now", ago: 0, want: "0s"},
		{name: "future", ago: -time.Minute, want: "0s"},
		{name: "seconds", ago: 42*time.Second + 400*time.Millisecond, want: "42s"},
		{name: "minutes", ago: 3*time.Minute + 7*time.Second, want: "3m07s"},
		{name: "hours", ago: 2*time.Hour + 3*time.Minute + 59*time.Second, want: "2h03m"},
		{name: "days", ago: 73 * time.Hour, want: "3d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := age(testNow, testNow.Add(-tc.ago)); got != tc.want {
				t.Fatalf("age %v = %q, want %q", tc.ago, got, tc.want)
			}
		})
	}
	if got := age(testNow, time.Time{}); got != "-" {
		t.Fatalf("zero time: %q", got)
	}
}

// FuzzKeyValues checks that a KEY=VALUE argument either parses back to
// exactly its key and value or is refused.
func FuzzKeyValues(f *testing.F) {
	for _, s := range []string{"a=1", "=", "a", "a==b", "x=y=z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		m, err := keyValues("argument", []string{arg})
		if err != nil {
			return
		}
		if len(m) != 1 {
			t.Fatalf("%q parsed to %v", arg, m)
		}
		for k, v := range m {
			if k == "" || k+"="+v != arg || strings.Contains(k, "=") {
				t.Fatalf("%q parsed to %q=%q", arg, k, v)
			}
		}
	})
}
