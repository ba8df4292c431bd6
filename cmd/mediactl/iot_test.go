package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// The iotcomms operations of recCalls: a session is a call of recCalls,
// its participants and connections are SESSION/…; an id of another
// tenant's session is not found, worded like host/control's. A
// destination the tenant's dial policy (in the real registry) does not
// allow is refused as the dialler refuses it.

func (r *recCalls) PlaceIvrCall(_ context.Context, tenantID, appID string, req api.PlaceIvrCallRequest) (api.PlaceIvrCallResponse, error) {
	if d, ok := r.reg.DialPolicy(tenantID); ok && !d.AllowsNumber(req.DestAddr) {
		return api.PlaceIvrCallResponse{}, fmt.Errorf("%w: destination not allowed by the tenant's dial policy: %q", api.ErrForbidden, req.DestAddr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	sid := fmt.Sprintf("sess-%d", r.next)
	r.calls[sid] = api.Call{TransactionID: sid, TenantID: tenantID, SipMediaApplicationID: appID,
		From: req.FromAddr, To: req.DestAddr, Direction: "Outbound", StartTime: testNow}
	req.ApplicationID = appID // the application the API picked
	r.places = append(r.places, req)
	return api.PlaceIvrCallResponse{SessionID: sid, ParticipantID: sid + "/p1"}, nil
}

// iotOp records line when every id belongs to one of tenantID's sessions.
func (r *recCalls) iotOp(tenantID, line string, ids ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		sid, _, _ := strings.Cut(id, "/")
		if c, ok := r.calls[sid]; !ok || c.TenantID != tenantID {
			return fmt.Errorf("%w: call not found: %s", api.ErrNotFound, id)
		}
	}
	r.iotOps = append(r.iotOps, line)
	return nil
}

func (r *recCalls) SplitConnection(_ context.Context, tenantID, connectionID, replyID string) error {
	return r.iotOp(tenantID, "split "+connectionID+" reply="+replyID, connectionID)
}

func (r *recCalls) Connect(_ context.Context, tenantID, a, b string) error {
	return r.iotOp(tenantID, "connect "+a+" "+b, a, b)
}

func (r *recCalls) CreateConferenceConnection(_ context.Context, tenantID, sessionID string) (string, error) {
	if err := r.iotOp(tenantID, "conference "+sessionID, sessionID); err != nil {
		return "", err
	}
	return sessionID + "/9", nil
}

func (r *recCalls) InterruptIvrCommand(_ context.Context, tenantID, participantID string) error {
	return r.iotOp(tenantID, "interrupt "+participantID, participantID)
}

func (r *recCalls) HangupParticipant(_ context.Context, tenantID, participantID string) error {
	return r.iotOp(tenantID, "hangup "+participantID, participantID)
}

func (r *recCalls) StopRecording(_ context.Context, tenantID, sessionID string) error {
	return r.iotOp(tenantID, "stoprecording "+sessionID, sessionID)
}

// pagedKV is the real store answering pages of at most two keys, so that
// "kv list" must follow NextToken; lists counts the pages served.
type pagedKV struct {
	*kv.Store
	mu    sync.Mutex
	lists int
}

func (p *pagedKV) List(tenantID, prefix, after string, limit int) ([]kv.Entry, bool, error) {
	p.mu.Lock()
	p.lists++
	p.mu.Unlock()
	return p.Store.List(tenantID, prefix, after, min(limit, 2))
}

func (p *pagedKV) pages() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lists
}

// iotApp gives acme an iotcomms application, "alarm".
func iotApp(t *testing.T, s *server) {
	t.Helper()
	if _, err := s.reg.NewApp(acme, tenant.AppSpec{ID: "alarm", Name: "Alarms", Webhook: "https://example.com/iot", Model: tenant.ModelIotcomms}); err != nil {
		t.Fatal(err)
	}
}

// noPlace checks that no /placeivrcall reached the server.
func noPlace(t *testing.T, s *server) {
	t.Helper()
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	if len(s.calls.places) != 0 {
		t.Fatalf("a request reached the server: %+v", s.calls.places)
	}
}

func TestIotPlace(t *testing.T) {
	tests := []cliCase{
		{name: "no iotcomms application", args: []string{"iot", "place", "-dest", "+15550123"}, wantCode: exitFailure,
			wantStderr: "mediactl: BadRequest: no iotcomms application: create one with Model \"iotcomms\"\n", check: noPlace},
		{name: "every flag", before: iotApp,
			args:     []string{"iot", "place", "-dest", "sip:panel@127.0.0.1:5090", "-from", "+15550100", "-timeout", "30", "-header", "X-Site=7", "-header", "X-Zone=b"},
			wantCode: exitOK, wantStdout: "sess-1 sess-1/p1\n",
			check: func(t *testing.T, s *server) {
				want := []api.PlaceIvrCallRequest{{DestAddr: "sip:panel@127.0.0.1:5090", FromAddr: "+15550100", ApplicationID: "alarm",
					Timeout: 30, Headers: map[string]string{"X-Site": "7", "X-Zone": "b"}}}
				if !reflect.DeepEqual(s.calls.places, want) {
					t.Fatalf("server got %+v, want %+v", s.calls.places, want)
				}
			}},
		{name: "json, application named", before: iotApp, args: []string{"-json", "iot", "place", "-app", "alarm", "-dest", "+15550123"},
			wantCode: exitOK, wantStdout: "{\n  \"sessionId\": \"sess-1\",\n  \"participantId\": \"sess-1/p1\"\n}\n",
			check: func(t *testing.T, s *server) {
				want := []api.PlaceIvrCallRequest{{DestAddr: "+15550123", ApplicationID: "alarm"}}
				if !reflect.DeepEqual(s.calls.places, want) {
					t.Fatalf("server got %+v, want %+v", s.calls.places, want)
				}
			}},
		{name: "a Chime application", before: iotApp, args: []string{"iot", "place", "-app", appAcme, "-dest", "+15550123"}, wantCode: exitFailure,
			wantStderr: "mediactl: BadRequest: application app-1 has model \"chime\": /placeivrcall needs an iotcomms application\n", check: noPlace},
		{name: "header the server refuses", before: iotApp, args: []string{"iot", "place", "-dest", "+15550123", "-header", "Via=x"}, wantCode: exitFailure,
			wantStderr: "mediactl: BadRequest: SipHeaders: header \"Via\" is not allowed: only X-… headers, User-to-User and Diversion\n", check: noPlace},
		{name: "no dest", args: []string{"iot", "place", "-from", "+15550100"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot place: -dest is required (see -h)\n", check: noPlace},
		{name: "timeout too long", args: []string{"iot", "place", "-dest", "+15550123", "-timeout", "301"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot place: -timeout 301: want 1 to 300 seconds\n", check: noPlace},
		{name: "header without =", args: []string{"iot", "place", "-dest", "+15550123", "-header", "X-Site"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot place: -header \"X-Site\": want KEY=VALUE\n", check: noPlace},
		{name: "an argument", args: []string{"iot", "place", "-dest", "+15550123", "extra"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot place: too many arguments (see -h)\n", check: noPlace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runCases(t, newServer(t), []cliCase{tc})
		})
	}
}

func TestIotOperations(t *testing.T) {
	s := newServer(t)
	iotApp(t, s)
	if r := s.run(t, "", nil, "iot", "place", "-dest", "+15550123"); r.code != exitOK || r.stdout != "sess-1 sess-1/p1\n" {
		t.Fatalf("place: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	runCases(t, s, []cliCase{
		{name: "split", args: []string{"iot", "split", "sess-1/1"}, wantCode: exitOK},
		{name: "split with reply id, json", args: []string{"iot", "split", "sess-1/2", "-reply", "r-2", "-json"}, wantCode: exitOK, wantStdout: "{}\n"},
		{name: "split without id", args: []string{"iot", "split", "-reply", "r-2"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot split: missing arguments (see -h)\n"},
		{name: "split another tenant's", args: []string{"iot", "split", txOther + "/1"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call not found: tx-other/1\n"},
		{name: "connect", args: []string{"iot", "connect", "sess-1/p1", "sess-1/p3"}, wantCode: exitOK},
		{name: "connect one", args: []string{"iot", "connect", "sess-1/p1"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot connect: missing arguments (see -h)\n"},
		{name: "connect across tenants", args: []string{"iot", "connect", "sess-1/p1", txOther + "/p1"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call not found: tx-other/p1\n"},
		{name: "conference", args: []string{"iot", "conference", "sess-1"}, wantCode: exitOK, wantStdout: "sess-1/9\n"},
		{name: "conference json", args: []string{"-json", "iot", "conference", "sess-1"}, wantCode: exitOK,
			wantStdout: "{\n  \"connectionId\": \"sess-1/9\"\n}\n"},
		{name: "conference unknown session", args: []string{"iot", "conference", "sess-9"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call not found: sess-9\n"},
		{name: "interrupt", args: []string{"iot", "interrupt", "sess-1/p2"}, wantCode: exitOK},
		{name: "interrupt two", args: []string{"iot", "interrupt", "sess-1/p2", "sess-1/p3"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot interrupt: too many arguments (see -h)\n"},
		{name: "hangup", args: []string{"iot", "hangup", "sess-1/p3"}, wantCode: exitOK},
		{name: "hangup unknown", args: []string{"iot", "hangup", "sess-7/p1"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: call not found: sess-7/p1\n"},
		{name: "stoprecording", args: []string{"iot", "stoprecording", "sess-1"}, wantCode: exitOK},
		{name: "stoprecording without id", args: []string{"iot", "stoprecording"}, wantCode: exitUsage,
			wantStderr: "mediactl: iot stoprecording: missing arguments (see -h)\n"},
		{name: "unknown operation", args: []string{"iot", "park", "sess-1/p1"}, wantCode: exitUsage,
			wantStderr: "mediactl: unknown command \"iot park\"\n\n" + usageTop},
	})
	want := []string{"split sess-1/1 reply=", "split sess-1/2 reply=r-2", "connect sess-1/p1 sess-1/p3",
		"conference sess-1", "conference sess-1", "interrupt sess-1/p2", "hangup sess-1/p3", "stoprecording sess-1"}
	if !reflect.DeepEqual(s.calls.iotOps, want) {
		t.Fatalf("server got\n%q\nwant\n%q", s.calls.iotOps, want)
	}
}

// writeWAV writes n samples of 8 kHz mono audio as a WAV file and returns
// its bytes.
func writeWAV(t *testing.T, path string, n int) []byte {
	t.Helper()
	w, err := wav.Create(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make(codec.PCM16, n)
	for i := range pcm {
		pcm[i] = int16(i * 97 % 8000)
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stored returns a prompt file as the server stored it.
func stored(t *testing.T, s *server, name string) []byte {
	t.Helper()
	p, err := s.blobs.Path(acme, api.PromptFileBucket, name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPromptFileCommands(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	welcome := writeWAV(t, filepath.Join(dir, "welcome.wav"), 800)
	menu := writeWAV(t, filepath.Join(dir, "menu.wav"), 400)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not audio"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.wav")
	size := func(b []byte) string { return fmt.Sprint(len(b)) }
	runCases(t, s, []cliCase{
		{name: "put file", args: []string{"promptfile", "put", "welcome.wav", filepath.Join(dir, "welcome.wav")}, wantCode: exitOK,
			wantStdout: "welcome.wav " + size(welcome) + " bytes\n",
			check: func(t *testing.T, s *server) {
				if got := stored(t, s, "welcome.wav"); string(got) != string(welcome) {
					t.Fatalf("stored %d bytes, want the file's %d", len(got), len(welcome))
				}
			}},
		{name: "put stdin", args: []string{"promptfile", "put", "menu/main.wav", "-"}, stdin: string(menu), wantCode: exitOK,
			wantStdout: "menu/main.wav " + size(menu) + " bytes\n",
			check: func(t *testing.T, s *server) {
				if got := stored(t, s, "menu/main.wav"); string(got) != string(menu) {
					t.Fatalf("stored %d bytes, want stdin's %d", len(got), len(menu))
				}
			}},
		{name: "put not audio", args: []string{"promptfile", "put", "notes.wav", filepath.Join(dir, "notes.txt")}, wantCode: exitFailure,
			wantStderr: "mediactl: BadRequest: prompt file notes.wav: unknown audio format (want WAV or mp3): not a wav file (starts with 6e 6f 74 20)\n"},
		{name: "put missing file", args: []string{"promptfile", "put", "x.wav", filepath.Join(dir, "nope.wav")}, wantCode: exitUsage,
			wantStderr: "mediactl: promptfile put: open " + filepath.Join(dir, "nope.wav") + ": no such file or directory\n"},
		{name: "put without file", args: []string{"promptfile", "put", "x.wav"}, wantCode: exitUsage,
			wantStderr: "mediactl: promptfile put: missing arguments (see -h)\n"},
		{name: "put a name a URL cannot carry", args: []string{"promptfile", "put", "a//b.wav", filepath.Join(dir, "menu.wav")}, wantCode: exitUsage,
			wantStderr: "mediactl: promptfile put: key \"a//b.wav\": not usable in a URL path (empty, or an empty, \".\" or \"..\" segment)\n"},
		{name: "get stdout", args: []string{"promptfile", "get", "menu/main.wav"}, wantCode: exitOK, wantStdout: string(menu)},
		{name: "get -o", args: []string{"promptfile", "get", "welcome.wav", "-o", out}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if b, err := os.ReadFile(out); err != nil || string(b) != string(welcome) {
					t.Fatalf("wrote %d bytes, %v; want %d", len(b), err, len(welcome))
				}
			}},
		{name: "get missing leaves no file", args: []string{"promptfile", "get", "-o", filepath.Join(dir, "nope.wav"), "nope.wav"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: object not found: promptfiles/nope.wav\n",
			check: func(t *testing.T, s *server) {
				ents, err := os.ReadDir(dir)
				if err != nil || len(ents) != 4 {
					t.Fatalf("dir holds %v, %v; want the three inputs and out.wav", ents, err)
				}
			}},
		{name: "list", before: touchIn(api.PromptFileBucket, "welcome.wav", "menu/main.wav"), args: []string{"promptfile", "list"}, wantCode: exitOK,
			wantStdout: "NAME           SIZE  MODIFIED\n" +
				"menu/main.wav  " + size(menu) + "   2025-01-02T03:04:05Z\n" +
				"welcome.wav    " + size(welcome) + "  2025-01-02T03:04:05Z\n"},
		{name: "list prefix, json", args: []string{"promptfile", "list", "-prefix", "menu/", "-json"}, wantCode: exitOK,
			wantStdout: "{\n  \"promptFiles\": [\n    {\n      \"fileName\": \"menu/main.wav\",\n      \"size\": " + size(menu) +
				",\n      \"lastModified\": \"2025-01-02T03:04:05Z\"\n    }\n  ]\n}\n"},
		{name: "list an argument", args: []string{"promptfile", "list", "menu/"}, wantCode: exitUsage,
			wantStderr: "mediactl: promptfile list: too many arguments (see -h)\n"},
		{name: "delete", args: []string{"promptfile", "delete", "welcome.wav"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, err := s.blobs.Stat(context.Background(), acme, api.PromptFileBucket, "welcome.wav"); err == nil {
					t.Fatal("still stored")
				}
			}},
		{name: "delete again", args: []string{"promptfile", "delete", "welcome.wav"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: object not found: promptfiles/welcome.wav\n"},
	})
	// -json prints the server's answer (its time is the file's, now).
	r := s.run(t, string(menu), nil, "-json", "promptfile", "put", "again.wav", "-")
	var pf api.PromptFile
	if err := json.Unmarshal([]byte(r.stdout), &pf); r.code != exitOK || err != nil || pf.FileName != "again.wav" || pf.Size != int64(len(menu)) || pf.LastModified.IsZero() {
		t.Fatalf("put -json: exit %d, %q (%v), stderr %q", r.code, r.stdout, err, r.stderr)
	}
}

func TestKVCommands(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	menuFile := filepath.Join(dir, "menu.json")
	if err := os.WriteFile(menuFile, []byte(`{"1":"sales"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	value := func(key, want string) func(*testing.T, *server) {
		return func(t *testing.T, s *server) {
			t.Helper()
			v, ok, err := s.kv.Get(acme, key)
			if err != nil || !ok || string(v) != want {
				t.Fatalf("%s = %q, %v, %v; want %q", key, v, ok, err, want)
			}
		}
	}
	var pagesBefore int
	runCases(t, s, []cliCase{
		{name: "put value", args: []string{"kv", "put", "config/greeting", "Welcome to Acme."}, wantCode: exitOK,
			check: value("config/greeting", "Welcome to Acme.")},
		{name: "put file", args: []string{"kv", "put", "config/menu.json", "-file", menuFile}, wantCode: exitOK,
			check: value("config/menu.json", `{"1":"sales"}`)},
		{name: "put stdin", args: []string{"kv", "put", "-file", "-", "iot/s1/dest"}, stdin: "+15550201", wantCode: exitOK,
			check: value("iot/s1/dest", "+15550201")},
		{name: "put a value starting with -", args: []string{"kv", "put", "config/offset", "--", "-5"}, wantCode: exitOK,
			check: value("config/offset", "-5")},
		{name: "put both", args: []string{"kv", "put", "k", "v", "-file", menuFile}, wantCode: exitUsage,
			wantStderr: "mediactl: kv put: give either VALUE or -file, not both\n"},
		{name: "put neither", args: []string{"kv", "put", "k"}, wantCode: exitUsage,
			wantStderr: "mediactl: kv put: missing VALUE or -file (see -h)\n"},
		{name: "put missing file", args: []string{"kv", "put", "k", "-file", filepath.Join(dir, "nope")}, wantCode: exitUsage,
			wantStderr: "mediactl: kv put: open " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{name: "put a key a URL cannot carry", args: []string{"kv", "put", "a/../b", "v"}, wantCode: exitUsage,
			wantStderr: "mediactl: kv put: key \"a/../b\": not usable in a URL path (empty, or an empty, \".\" or \"..\" segment)\n"},
		{name: "put too large", args: []string{"kv", "put", "big", "-file", "-"}, stdin: strings.Repeat("x", kv.DefaultMaxValueBytes+1), wantCode: exitFailure,
			wantStderr: fmt.Sprintf("mediactl: BadRequest: value larger than the limit of %d bytes\n", kv.DefaultMaxValueBytes)},
		{name: "get", args: []string{"kv", "get", "config/greeting"}, wantCode: exitOK, wantStdout: "Welcome to Acme."},
		{name: "get missing", args: []string{"kv", "get", "config/nope"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: key \"config/nope\" not found\n"},
		{name: "get without key", args: []string{"kv", "get"}, wantCode: exitUsage,
			wantStderr: "mediactl: kv get: missing arguments (see -h)\n"},
		{name: "list follows the pages",
			before: func(t *testing.T, s *server) { pagesBefore = s.kv.pages() },
			args:   []string{"kv", "list"}, wantCode: exitOK,
			wantStdout: "KEY               SIZE\n" +
				"config/greeting   16\n" +
				"config/menu.json  13\n" +
				"config/offset     2\n" +
				"iot/s1/dest       9\n",
			check: func(t *testing.T, s *server) {
				if n := s.kv.pages() - pagesBefore; n != 2 {
					t.Fatalf("%d pages asked for, want 2 (4 keys, 2 a page)", n)
				}
			}},
		{name: "list prefix, json", args: []string{"-json", "kv", "list", "-prefix", "config/"}, wantCode: exitOK,
			wantStdout: "{\n  \"Entries\": [\n" +
				"    {\n      \"Key\": \"config/greeting\",\n      \"Size\": 16\n    },\n" +
				"    {\n      \"Key\": \"config/menu.json\",\n      \"Size\": 13\n    },\n" +
				"    {\n      \"Key\": \"config/offset\",\n      \"Size\": 2\n    }\n  ]\n}\n"},
		{name: "list other tenant's", env: map[string]string{envKey: s.admin}, args: []string{"kv", "list", "-tenant", otherTen}, wantCode: exitOK,
			wantStdout: "KEY  SIZE\n"},
		{name: "delete", args: []string{"kv", "delete", "config/offset"}, wantCode: exitOK,
			check: func(t *testing.T, s *server) {
				if _, ok, _ := s.kv.Get(acme, "config/offset"); ok {
					t.Fatal("still there")
				}
			}},
		{name: "delete again", args: []string{"kv", "delete", "config/offset"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: key \"config/offset\" not found\n"},
	})
}

func TestTenantCommands(t *testing.T) {
	s := newServer(t)
	admin := map[string]string{envKey: s.admin}
	policy := func(id string, want *tenant.DialPolicy) func(*testing.T, *server) {
		return func(t *testing.T, s *server) {
			t.Helper()
			got, ok := s.reg.DialPolicy(id)
			if want == nil && ok || want != nil && (!ok || !reflect.DeepEqual(got, want)) {
				t.Fatalf("%s's policy %+v (%v), want %+v", id, got, ok, want)
			}
		}
	}
	runCases(t, s, []cliCase{
		{name: "list", env: admin, args: []string{"tenant", "list"}, wantCode: exitOK,
			wantStdout: "ID     NAME   DIAL HOSTS  DIAL PREFIXES  CREATED\n" +
				"acme   Acme   default     default        2025-01-02T03:04:05Z\n" +
				"other  Other  default     default        2025-01-02T03:04:05Z\n"},
		{name: "list with a tenant key", args: []string{"tenant", "list"}, wantCode: exitFailure,
			wantStderr: "mediactl: Forbidden: this route needs an admin key\n"},
		{name: "create with a policy", env: admin, args: []string{"tenant", "create", "-name", "Carrier", "-host", "pbx.carrier.test", "-prefix", "+46", "carrier"},
			wantCode: exitOK, wantStdout: "carrier\n",
			check: policy("carrier", &tenant.DialPolicy{AllowedHosts: []string{"pbx.carrier.test"}, AllowedPrefixes: []string{"+46"}})},
		{name: "create taken", env: admin, args: []string{"tenant", "create", "acme"}, wantCode: exitFailure,
			wantStderr: "mediactl: Conflict: tenant acme: already exists\n"},
		{name: "create bad prefix", env: admin, args: []string{"tenant", "create", "-prefix", "46x", "nope"}, wantCode: exitUsage,
			wantStderr: "mediactl: tenant create: -prefix \"46x\": want digits, optionally after a '+'\n",
			check: func(t *testing.T, s *server) {
				if _, err := s.reg.GetTenant("nope"); err == nil {
					t.Fatal("created")
				}
			}},
		{name: "set", env: admin, args: []string{"tenant", "dial-policy", "set", acme, "-host", "pbx.acme.test", "-host", "10.1.2.0/24", "-prefix", "+46"},
			wantCode: exitOK, wantStdout: "tenant acme dials hosts: pbx.acme.test,10.1.2.0/24; prefixes: +46\n",
			check: policy(acme, &tenant.DialPolicy{AllowedHosts: []string{"pbx.acme.test", "10.1.2.0/24"}, AllowedPrefixes: []string{"+46"}})},
		{name: "the policy refuses a call", before: iotApp, args: []string{"iot", "place", "-dest", "+15550123"}, wantCode: exitFailure,
			wantStderr: "mediactl: Forbidden: destination not allowed by the tenant's dial policy: \"+15550123\"\n", check: noPlace},
		{name: "set nothing: no host, any number, json", env: admin, args: []string{"-json", "tenant", "dial-policy", "set", otherTen},
			wantCode: exitOK,
			wantStdout: "{\n  \"Tenant\": {\n    \"TenantId\": \"other\",\n    \"Name\": \"Other\",\n    \"Quotas\": {},\n" +
				"    \"DialPolicy\": {},\n    \"CreatedTimestamp\": \"2025-01-02T03:04:05Z\"\n  }\n}\n",
			check: policy(otherTen, &tenant.DialPolicy{})},
		{name: "list policies", env: admin, args: []string{"tenant", "list"}, wantCode: exitOK,
			wantStdout: "ID       NAME     DIAL HOSTS                 DIAL PREFIXES  CREATED\n" +
				"acme     Acme     pbx.acme.test,10.1.2.0/24  +46            2025-01-02T03:04:05Z\n" +
				"carrier  Carrier  pbx.carrier.test           +46            2025-01-02T03:04:05Z\n" +
				"other    Other    none                       any            2025-01-02T03:04:05Z\n"},
		{name: "set bad host", env: admin, args: []string{"tenant", "dial-policy", "set", acme, "-host", "bad host"}, wantCode: exitUsage,
			wantStderr: "mediactl: tenant dial-policy set: -host \"bad host\": want a host name, *.domain, an address or a CIDR network\n",
			check:      policy(acme, &tenant.DialPolicy{AllowedHosts: []string{"pbx.acme.test", "10.1.2.0/24"}, AllowedPrefixes: []string{"+46"}})},
		{name: "set unknown tenant", env: admin, args: []string{"tenant", "dial-policy", "set", "nope", "-prefix", "+1"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: set dial policy: tenant \"nope\": not found\n"},
		{name: "set with a tenant key", args: []string{"tenant", "dial-policy", "set", acme, "-prefix", "+1"}, wantCode: exitFailure,
			wantStderr: "mediactl: Forbidden: this route needs an admin key\n",
			check:      policy(acme, &tenant.DialPolicy{AllowedHosts: []string{"pbx.acme.test", "10.1.2.0/24"}, AllowedPrefixes: []string{"+46"}})},
		{name: "set without tenant", env: admin, args: []string{"tenant", "dial-policy", "set", "-prefix", "+1"}, wantCode: exitUsage,
			wantStderr: "mediactl: tenant dial-policy set: missing arguments (see -h)\n"},
		{name: "clear", env: admin, args: []string{"tenant", "dial-policy", "clear", acme}, wantCode: exitOK, check: policy(acme, nil)},
		{name: "the call goes out again", args: []string{"iot", "place", "-dest", "+15550123"}, wantCode: exitOK, wantStdout: "sess-1 sess-1/p1\n"},
		{name: "clear unknown tenant", env: admin, args: []string{"tenant", "dial-policy", "clear", "nope"}, wantCode: exitFailure,
			wantStderr: "mediactl: NotFound: set dial policy: tenant \"nope\": not found\n"},
		{name: "no subcommand", env: admin, args: []string{"tenant", "dial-policy"}, wantCode: exitUsage,
			wantStderr: "mediactl: tenant dial-policy: missing set or clear (see -h)\n"},
		{name: "unknown subcommand", env: admin, args: []string{"tenant", "dial-policy", "show", acme}, wantCode: exitUsage,
			wantStderr: "mediactl: tenant dial-policy: unknown command \"show\": want set or clear\n"},
		{name: "help", args: []string{"tenant", "dial-policy", "-h"}, wantCode: exitOK, wantStderr: usageTenantDial + globalFlagsHelp},
	})
}
