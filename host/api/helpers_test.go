package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// fakeCalls keeps calls in a map, enforcing tenant and application
// ownership the way the server must.
type fakeCalls struct {
	mu    sync.Mutex
	next  int
	calls map[string]Call
	// last records the arguments of the last CreateCall/UpdateCall.
	lastCreate CreateCallRequest
	lastUpdate map[string]string
	lastPlace  PlaceIvrCallRequest
	createErr  error
}

func newFakeCalls() *fakeCalls { return &fakeCalls{calls: map[string]Call{}} }

func (f *fakeCalls) add(tenantID, app, txID, from string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[txID] = Call{TransactionID: txID, TenantID: tenantID, SipMediaApplicationID: app,
		From: from, To: "+15550111", Direction: "Outbound", StartTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeCalls) CreateCall(_ context.Context, tenantID, appID string, req CreateCallRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.createErr != nil {
		return "", f.createErr
	}
	f.next++
	tx := fmt.Sprintf("tx-new-%d", f.next)
	f.calls[tx] = Call{TransactionID: tx, TenantID: tenantID, SipMediaApplicationID: appID, From: req.FromPhoneNumber, To: req.ToPhoneNumber, Direction: "Outbound"}
	f.lastCreate = req
	return tx, nil
}

func (f *fakeCalls) UpdateCall(_ context.Context, tenantID, appID, txID string, args map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[txID]
	if !ok || c.TenantID != tenantID || c.SipMediaApplicationID != appID {
		return fmt.Errorf("transaction %q: %w", txID, ErrNotFound)
	}
	f.lastUpdate = args
	return nil
}

func (f *fakeCalls) HangupCall(_ context.Context, tenantID, txID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[txID]
	if !ok || (tenantID != "" && c.TenantID != tenantID) {
		return fmt.Errorf("transaction %q: %w", txID, ErrNotFound)
	}
	delete(f.calls, txID)
	return nil
}

func (f *fakeCalls) ListCalls(tenantID string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if tenantID == "" || c.TenantID == tenantID {
			out = append(out, c)
		}
	}
	return out
}

// The iotcomms operations: an id belongs to the call whose transaction id
// it begins with (as the engine's ids do).

func (f *fakeCalls) owns(tenantID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	tx, _, _ := strings.Cut(id, "/")
	if c, ok := f.calls[tx]; !ok || c.TenantID != tenantID {
		return fmt.Errorf("session of %q: %w", id, ErrNotFound)
	}
	return nil
}

func (f *fakeCalls) PlaceIvrCall(_ context.Context, tenantID, appID string, req PlaceIvrCallRequest) (PlaceIvrCallResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.createErr != nil {
		return PlaceIvrCallResponse{}, f.createErr
	}
	f.next++
	tx := fmt.Sprintf("tx-iot-%d", f.next)
	f.calls[tx] = Call{TransactionID: tx, TenantID: tenantID, SipMediaApplicationID: appID, From: req.FromAddr, To: req.DestAddr, Direction: "Outbound"}
	f.lastPlace = req
	return PlaceIvrCallResponse{SessionID: tx, ParticipantID: tx + "/p1"}, nil
}

func (f *fakeCalls) SplitConnection(_ context.Context, tenantID, connectionID, _ string) error {
	return f.owns(tenantID, connectionID)
}

func (f *fakeCalls) Connect(_ context.Context, tenantID, a, b string) error {
	if err := f.owns(tenantID, a); err != nil {
		return err
	}
	return f.owns(tenantID, b)
}

func (f *fakeCalls) CreateConferenceConnection(_ context.Context, tenantID, sessionID string) (string, error) {
	return sessionID + "/9", f.owns(tenantID, sessionID)
}

func (f *fakeCalls) InterruptIvrCommand(_ context.Context, tenantID, id string) error {
	return f.owns(tenantID, id)
}

func (f *fakeCalls) HangupParticipant(_ context.Context, tenantID, id string) error {
	return f.owns(tenantID, id)
}

func (f *fakeCalls) StopRecording(_ context.Context, tenantID, id string) error {
	return f.owns(tenantID, id)
}

// testWAV is a WAV file of n samples of 8 kHz 16-bit mono (a slow ramp).
func testWAV(n int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(8000))
	le(uint32(16000))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	for i := range n {
		le(int16(i * 7 % 20000))
	}
	return b.Bytes()
}

// fakePlugins accepts anything with the Wasm magic.
type fakePlugins struct{}

func (fakePlugins) Check(_ context.Context, _ string, wasm []byte) (PluginInfo, error) {
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		return PluginInfo{}, fmt.Errorf("%w: not a WebAssembly module (no \\0asm magic)", ErrInvalid)
	}
	return PluginInfo{Mode: "reactor", ABIVersion: 1, Exports: []string{"handle_event"}}, nil
}

func (fakePlugins) Logs(tenantID, appID string, n int) []LogLine {
	var out []LogLine
	for i := range 3 {
		out = append(out, LogLine{Level: "info", Text: fmt.Sprintf("%s/%s line %d", tenantID, appID, i)})
	}
	return out
}

func (fakePlugins) Stats(tenantID, appID string) PluginStats {
	return PluginStats{Invocations: 7, Errors: map[string]uint64{"timeout": 1}, LiveInstances: 2}
}

// fakeClock is a settable clock for the rate limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a registry with two tenants, a and b, each with an application,
// a routed number, a live call and a bucket object; a also has two plugin
// versions (the second current, the first in its history) and a second key.
type env struct {
	t       testing.TB
	reg     *tenant.Registry
	blobs   *store.Folder
	kv      *kv.Store
	calls   *fakeCalls
	h       *Handler
	clock   *fakeClock
	secretA string
	secretB string
	admin   string
	keyA2   string // id of tenant a's second key
	ruleA   string // id of the SIP rule of numberA
	sha1    string // a's older plugin version (in history)
	sha2    string // a's current plugin version
}

const (
	tenantA  = "tenant-a"
	tenantB  = "tenant-b"
	appA     = "app-a"
	appB     = "app-b"
	numberA  = "+15550100"
	numberB  = "+15550200"
	txA      = "tx-a-1"
	txB      = "tx-b-1"
	appAName = "A private app"
	hookA    = "https://a-private.example/hook"
	objA     = "A-SECRET-AUDIO"
)

func newEnv(t testing.TB, opts ...Option) *env {
	t.Helper()
	dir := t.TempDir()
	blobs, err := store.NewFolder(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	// Tenant a's first key is known in advance (sigv4_test.go's requests
	// were signed with it by the AWS CLI); everything else is random.
	known := append(bytes.Repeat([]byte{1}, 8), bytes.Repeat([]byte{2}, 32)...)
	reg, err := tenant.Open(filepath.Join(dir, "registry.db"), blobs,
		tenant.WithMasterKey(bytes.Repeat([]byte{9}, tenant.MasterKeySize)),
		tenant.WithRandom(io.MultiReader(bytes.NewReader(known), rand.Reader)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	kvs, err := kv.Open(filepath.Join(dir, "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kvs.Close() })
	e := &env{t: t, reg: reg, blobs: blobs, kv: kvs, calls: newFakeCalls(), clock: &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	_, err = reg.CreateTenant(tenantA, "Tenant A Inc", tenant.Quotas{})
	must(err)
	_, err = reg.CreateTenant(tenantB, "Tenant B Inc", tenant.Quotas{MaxModuleBytes: 64})
	must(err)
	e.secretA, _, err = reg.CreateKey(tenantA, "a-main")
	must(err)
	_, k2, err := reg.CreateKey(tenantA, "a-second")
	must(err)
	e.keyA2 = k2.ID
	e.secretB, _, err = reg.CreateKey(tenantB, "b-main")
	must(err)
	e.admin, _, err = reg.CreateAdminKey("ops")
	must(err)
	_, err = reg.CreateApp(tenantA, appA, appAName, hookA)
	must(err)
	_, err = reg.CreateApp(tenantB, appB, "B app", "")
	must(err)
	_, err = reg.AddNumber(tenantA, numberA)
	must(err)
	must(reg.SetRule(tenantA, numberA, appA))
	rules, err := reg.ListRules(tenantA, "")
	must(err)
	e.ruleA = rules[0].ID
	_, err = reg.AddNumber(tenantB, numberB)
	must(err)
	must(reg.SetRule(tenantB, numberB, appB))
	v1, err := reg.PutPlugin(ctx, tenantA, []byte("\x00asm\x01\x00\x00\x00 v1 of a"))
	must(err)
	v2, err := reg.PutPlugin(ctx, tenantA, []byte("\x00asm\x01\x00\x00\x00 v2 of a"))
	must(err)
	e.sha1, e.sha2 = v1.SHA256, v2.SHA256
	must(reg.AssignPlugin(tenantA, appA, e.sha1))
	must(reg.AssignPlugin(tenantA, appA, e.sha2))
	_, err = blobs.Put(ctx, tenantA, "prompts", "a-secret.wav", strings.NewReader(objA))
	must(err)
	_, err = blobs.Put(ctx, tenantA, PromptFileBucket, "a-secret.wav", bytes.NewReader(testWAV(800)))
	must(err)
	must(kvs.Set(tenantA, "a-secret.wav", []byte(objA)))
	e.calls.add(tenantA, appA, txA, numberA)
	e.calls.add(tenantB, appB, txB, numberB)
	egress, err := netguard.New(nil)
	must(err)
	opts = append([]Option{WithStore(blobs), WithKV(kvs), WithClock(e.clock.now), WithURLCheck(egress.CheckURL)}, opts...)
	e.h = New(reg, e.calls, fakePlugins{}, opts...)
	return e
}

// do sends one request through the handler. secret "" sends no key;
// extra headers come in pairs.
func (e *env) do(method, path, secret string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if secret != "" {
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// wantError checks a Chime error answer exactly.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code, msg string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	if want := map[string]string{"Code": code, "Message": msg}; !maps.Equal(got, want) {
		t.Fatalf("error body\n got %q\nwant %q", got, want)
	}
	// Chime's exception shapes: two codes name theirs differently.
	exception := map[string]string{CodeUnauthorized: "UnauthorizedClientException", CodeThrottled: "ThrottledClientException"}[code]
	if exception == "" {
		exception = code + "Exception"
	}
	if got := w.Header().Get("X-Amzn-ErrorType"); got != exception {
		t.Fatalf("X-Amzn-ErrorType %q, want %q", got, exception)
	}
	if got := w.Header().Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q", got)
	}
}

var _ http.Handler = (*Handler)(nil)
