package server

// The iotcomms seed's scenarios end to end, each twice: with the example
// application as a Wasm plugin (plugins/iot-<scenario>-go.wasm) and as the
// same logic's native webhook build (iot-<scenario>-go-webhook, POST
// <base>/<callback>). Real softphones (baresip) are the caller, the
// callees, the third party and the monitor, each with a tone of its own on
// its microphone; the tests check who hears what (and the hold music, the
// recording's content), and the callback sequence against the seed's
// message flows. The controller's side of the scenarios (the
// /splitconnection, /createconferenceconnection and /placeivrcall calls an
// iotcomms application's back end makes) goes through the server's REST
// API, reading the ids the application stored in its key-value store.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// The example applications' numbers (plugins/iot-*-go).
const (
	iotSales   = "+15550201"
	iotB       = "+15550202"
	iotC       = "+15550203"
	iotMonitor = "+15550299"
	iotARC     = "+15550911"
	iotDevice  = "+15550150" // the alarm device /placeivrcall calls
	iotNumber  = "+15550160" // the iotcomms application's own number
)

// holdNotes are the hold music's notes
// (plugins/iot-transfer-go/make-holdmusic.sh).
var holdNotes = []float64{523.25, 587.33, 659.25, 698.46, 783.99, 880}

// iotForms are the two shapes of the same application.
var iotForms = []string{"plugin", "webhook"}

// iotEnv is a server running one example application in one form, and
// the controller's view of it.
type iotEnv struct {
	ts    *testServer
	app   string
	hook  string // the webhook's base URL; "" for the plugin
	admin string
}

// iotApp returns the iotcomms application of scenario (the folder name
// plugins/iot-<scenario>-go) in form, on iotNumber. The webhook build is
// started for the test, its key-value store served at <base>/kv/.
func iotApp(t *testing.T, scenario, form string) (config.Application, string) {
	t.Helper()
	name := "iot-" + scenario + "-go"
	app := config.Application{ID: "iot-" + scenario, Model: "iotcomms", Numbers: []string{iotNumber},
		// The tenant's prompt files: the hold music.
		Prompts: filepath.Join(repoRoot, "plugins", "iot-transfer-go", "buckets")}
	if form == "plugin" {
		app.Plugin = requireFile(t, filepath.Join(repoRoot, "plugins", "bin", name+".wasm"), "run `make plugins`")
		return app, ""
	}
	bin := requireFile(t, filepath.Join(repoRoot, "plugins", "bin", name+"-webhook"), "run `make plugins`")
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-kv-api")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("%s: first line %q, %v\n%s", name, line, err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	app.Webhook = base
	return app, base
}

// startIot starts a server with the application and trunks to the given
// callees (number → baresip), all reached through relays.
func startIot(t *testing.T, scenario, form string, callees map[string]*baresipCallee) *iotEnv {
	t.Helper()
	app, hook := iotApp(t, scenario, form)
	cfg := testConfig(t)
	for number, c := range callees {
		tr := trunkTo(startBothWaysRelay(t, c.Addr).Addr().String())
		tr.Name, tr.Prefixes = "to"+number[1:], []string{number}
		cfg.Trunks = append(cfg.Trunks, tr)
	}
	ts := startTestServer(t, cfg, []config.Application{app})
	return &iotEnv{ts: ts, app: app.ID, hook: hook, admin: ts.adminKey(t)}
}

// api sends a tenant-scoped request of the demo tenant.
func (e *iotEnv) api(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	e.ts.apiJSON(t, method, path, e.admin, body, want, out, api.TenantHeader, "demo")
}

// kvGet reads the application's key-value store: the webhook's own, or
// the tenant's store on the server (GET /kv) for the plugin. "" while
// the key is missing.
func (e *iotEnv) kvGet(t testing.TB, key string) string {
	t.Helper()
	var res *http.Response
	if e.hook != "" {
		r, err := http.Get(e.hook + "kv/" + key)
		if err != nil {
			t.Fatal(err)
		}
		res = r
	} else {
		res = e.ts.apiDo(t, "GET", "/kv/"+key, e.admin, nil, api.TenantHeader, "demo")
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusNotFound {
		return ""
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("kv %s: %d %s", key, res.StatusCode, b)
	}
	return string(b)
}

// kvPut writes the application's key-value store, as its controller does.
func (e *iotEnv) kvPut(t testing.TB, key, val string) {
	t.Helper()
	if e.hook == "" {
		res := e.ts.apiDo(t, "PUT", "/kv/"+key, e.admin, []byte(val), api.TenantHeader, "demo", "Content-Type", "application/octet-stream")
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("kv put %s: %d", key, res.StatusCode)
		}
		return
	}
	req, _ := http.NewRequest("PUT", e.hook+"kv/"+key, strings.NewReader(val))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

// waitKV waits for a key to be set (the application stores a
// connection's ids when it is answered) and returns its value.
func (e *iotEnv) waitKV(t testing.TB, key string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if v := e.kvGet(t, key); v != "" {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("key %s never set; callbacks so far: %s", key, e.flow(t))
	return ""
}

// session waits for the one live session and returns its id.
func (e *iotEnv) session(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cs := e.ts.Engine().Calls(); len(cs) == 1 {
			return cs[0].TransactionID
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no session; callbacks so far: %s", e.flow(t))
	return ""
}

// split splits the connection whose ids the application stored under
// iot/<sid>/<name>/.
func (e *iotEnv) split(t testing.TB, sid, name string) {
	t.Helper()
	conn := e.waitKV(t, "iot/"+sid+"/"+name+"/connectionId")
	reply := e.kvGet(t, "iot/"+sid+"/"+name+"/replyId")
	e.api(t, "POST", "/splitconnection", api.SplitConnectionRequest{ConnectionID: conn, ReplyID: reply}, 200, nil)
}

// requests are the callbacks the application got, in order.
func (e *iotEnv) requests(t testing.TB) []*abi.IotRequest {
	t.Helper()
	e.ts.obs.mu.Lock()
	invs := append([]Invocation(nil), e.ts.obs.invs...)
	e.ts.obs.mu.Unlock()
	var out []*abi.IotRequest
	for _, inv := range invs {
		r, err := abi.ParseIotRequest(inv.Event)
		if err != nil {
			t.Fatalf("callback does not parse: %v\n%s", err, inv.Event)
		}
		if inv.Err != nil {
			t.Errorf("callback %s failed: %v", r.Callback, inv.Err)
		}
		out = append(out, r)
	}
	return out
}

// flow is "callback[:event]" per callback, comma-separated.
func (e *iotEnv) flow(t testing.TB) string {
	var s []string
	for _, r := range e.requests(t) {
		c := string(r.Callback)
		if r.Event != "" {
			c += ":" + r.Event
		}
		s = append(s, c)
	}
	return strings.Join(s, ",")
}

// wantFlow checks that the callbacks hold want (comma-separated) in
// order, others possibly between them (the seed's flows leave out the
// informational ones they do not discuss).
func (e *iotEnv) wantFlow(t testing.TB, want string) {
	t.Helper()
	got := strings.Split(e.flow(t), ",")
	t.Logf("callbacks: %s", strings.Join(got, ","))
	i := 0
	for _, g := range got {
		if i < len(strings.Split(want, ",")) && g == strings.Split(want, ",")[i] {
			i++
		}
	}
	if i != len(strings.Split(want, ",")) {
		t.Errorf("callbacks\n got %s\nwant in order %s", strings.Join(got, ","), want)
	}
}

// waitFlow waits for a callback (e.g. "recordingReady") to arrive.
func (e *iotEnv) waitFlow(t testing.TB, cb string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(","+e.flow(t)+",", ","+cb+",") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s; callbacks: %s", cb, e.flow(t))
}

// musicDuration counts the 20 ms blocks of x that are the hold music.
func musicDuration(x codec.PCM16) time.Duration {
	n := 0
	for b := 0; b+codec.FrameSamples <= len(x); b += codec.FrameSamples {
		blk := x[b : b+codec.FrameSamples]
		if dbfs(blk) < -40 {
			continue
		}
		for _, f := range holdNotes {
			if tonePower(blk, f) > 0.6 {
				n++
				break
			}
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// callIot is A calling the application's number from baresip, with mic
// as its microphone; it returns what A heard once mic ended.
func callIot(t *testing.T, bin string, e *iotEnv, mic codec.PCM16, inband bool) (codec.PCM16, string) {
	t.Helper()
	relay := startSIPRelay(t, e.ts.SIPAddr("udp"), inband)
	return runBaresip(t, bin, baresipCall{Dial: "sip:" + iotNumber + "@" + relay.Addr().String(), Mic: mic})
}

// heard reports the tones in x.
func heardReport(name string, x codec.PCM16) string {
	return fmt.Sprintf("%s heard %.1f s: X %v, Y %v, Z %v, music %v", name, float64(len(x))/codec.SampleRate,
		toneDuration(x, toneX), toneDuration(x, toneY), toneDuration(x, toneZ), musicDuration(x))
}

func silence(d time.Duration) codec.PCM16 {
	return make(codec.PCM16, int(d.Seconds()*codec.SampleRate))
}

func concat(parts ...codec.PCM16) codec.PCM16 {
	var out codec.PCM16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// The auto-attendant: the IVR speaks the menu, the caller presses 1
// (in-band), the IVR says it connects and leaves, the application calls
// sales; caller and sales hear each other.
func TestIotcommsAutoAttendant(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	for _, form := range iotForms {
		t.Run(form, func(t *testing.T) {
			sales := startBaresipCalleeAs(t, bin, iotSales, "pcmu", tone(toneY, 14*time.Second, 8000))
			e := startIot(t, "autoattendant", form, map[string]*baresipCallee{iotSales: sales})
			digit := make(codec.PCM16, codec.SampleRate/5)
			dtmf.Generate(digit, '1', 0, dtmf.DefaultToneAmplitude)
			// The menu plays (3.5 s), then 1; the IVR says its phrase
			// and sales is dialled (5 s); then A talks.
			mic := concat(silence(3500*time.Millisecond), digit, silence(5*time.Second), tone(toneX, 4*time.Second, 8000))
			heardA, logsA := callIot(t, bin, e, mic, true)
			heardS, logsS := sales.wait(t)
			e.ts.waitIdle(t)
			t.Log(heardReport("A", heardA))
			t.Log(heardReport("sales", heardS))
			if d := toneDuration(heardA, toneY); d < 2*time.Second {
				t.Errorf("A heard sales for %v, want ≥ 2 s\n%s", d, tail(logsA, 2000))
			}
			if d := toneDuration(heardS, toneX); d < 2*time.Second {
				t.Errorf("sales heard A for %v, want ≥ 2 s\n%s", d, tail(logsS, 2000))
			}
			// The menu was spoken to A before anyone else was there.
			if dbfs(heardA[:3*codec.SampleRate]) < -35 {
				t.Errorf("A heard no menu (%.1f dBFS in the first 3 s)", dbfs(heardA[:3*codec.SampleRate]))
			}
			e.wantFlow(t, "newCall,callAnswered,getIvrCommand,getIvrCommand,callEvent:calledPartyDrop,"+
				"callNotify:ringing,callAnswered,callEvent:callingPartyDrop,sessionCompleted")
			if r := e.requests(t); r[3].DtmfParams == nil || r[3].DtmfParams.DtmfMatch != "1" {
				t.Errorf("the second getIvrCommand carries %+v, want digit 1", r[3].DtmfParams)
			}
		})
	}
}

// The alarm call: /placeivrcall calls the device (here a SIP URI the
// dial policy allows, dialled directly); when it answers, the IVR's
// command connects it to the alarm-receiving centre; the device hangs up,
// the application drops the centre.
func TestIotcommsAlarmCall(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	for _, form := range iotForms {
		t.Run(form, func(t *testing.T) {
			arc := startBaresipCalleeAs(t, bin, iotARC, "pcmu", tone(toneY, 14*time.Second, 8000))
			// The device talks 7 s once answered, then hangs up.
			device := startBaresipCalleeAs(t, bin, iotDevice, "pcmu", concat(silence(2*time.Second), tone(toneX, 5*time.Second, 8000)))
			e := startIot(t, "alarm", form, map[string]*baresipCallee{iotARC: arc})
			deviceRelay := startBothWaysRelay(t, device.Addr)
			var res api.PlaceIvrCallResponse
			e.api(t, "POST", "/placeivrcall", api.PlaceIvrCallRequest{
				DestAddr: "sip:" + iotDevice + "@" + deviceRelay.Addr().String(), FromAddr: "+15550160", ApplicationID: e.app,
			}, 200, &res)
			if !strings.HasPrefix(res.ParticipantID, res.SessionID+"/") {
				t.Fatalf("placeivrcall answered %+v", res)
			}
			heardD, logsD := device.wait(t)
			heardC, logsC := arc.wait(t)
			e.ts.waitIdle(t)
			t.Log(heardReport("device", heardD))
			t.Log(heardReport("ARC", heardC))
			if d := toneDuration(heardD, toneY); d < 2*time.Second {
				t.Errorf("the device heard the centre for %v, want ≥ 2 s\n%s", d, tail(logsD, 2000))
			}
			if d := toneDuration(heardC, toneX); d < 2*time.Second {
				t.Errorf("the centre heard the device for %v, want ≥ 2 s\n%s", d, tail(logsC, 2000))
			}
			// The seed's message flow.
			e.wantFlow(t, "newCall,callAnswered,getIvrCommand,callNotify:ringing,callAnswered,"+
				"callEvent:callingPartyDrop,sessionCompleted")
			if r := e.requests(t)[0]; r.Direction != "outbound" || r.SessionID != res.SessionID {
				t.Errorf("newCall %+v", r)
			}
		})
	}
}

// Recording: the connection is recorded into call-<sessionId>.wav;
// recordingReady follows sessionCompleted and the file, fetched through
// /promptfile, holds both parties.
func TestIotcommsRecording(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	for _, form := range iotForms {
		t.Run(form, func(t *testing.T) {
			b := startBaresipCalleeAs(t, bin, iotB, "pcmu", tone(toneY, 12*time.Second, 8000))
			e := startIot(t, "recording", form, map[string]*baresipCallee{iotB: b})
			heardA, _ := callIot(t, bin, e, concat(silence(1500*time.Millisecond), tone(toneX, 5*time.Second, 8000)), false)
			b.wait(t)
			e.ts.waitIdle(t)
			e.waitFlow(t, "recordingReady")
			e.wantFlow(t, "newCall,callNotify:ringing,callAnswered,callEvent:callingPartyDrop,sessionCompleted,recordingReady")
			var ready *abi.IotRequest
			for _, r := range e.requests(t) {
				if r.Callback == abi.CallbackRecordingReady {
					ready = r
				}
			}
			if want := "call-" + ready.SessionID + ".wav"; ready.FileName != want || ready.Location != "/promptfile/"+want {
				t.Fatalf("recordingReady %+v, want file %s", ready, want)
			}
			res := e.ts.apiDo(t, "GET", ready.Location, e.admin, nil, api.TenantHeader, "demo")
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", ready.Location, res.StatusCode, body)
			}
			rec, _, err := wav.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(heardReport("the recording", rec))
			t.Log(heardReport("A", heardA))
			if tonePower(rec, toneX) < 0.1 || tonePower(rec, toneY) < 0.1 {
				t.Errorf("the recording: X %.2f, Y %.2f of its energy, want both ≥ 0.1", tonePower(rec, toneX), tonePower(rec, toneY))
			}
			if ready.Duration < 3 {
				t.Errorf("recordingReady says %d s", ready.Duration)
			}
		})
	}
}

// Monitoring: after the first callAnswered the monitor is dialled; it
// hears both parties, and nobody hears it.
func TestIotcommsMonitor(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	for _, form := range iotForms {
		t.Run(form, func(t *testing.T) {
			b := startBaresipCalleeAs(t, bin, iotB, "pcmu", tone(toneY, 14*time.Second, 8000))
			m := startBaresipCalleeAs(t, bin, iotMonitor, "pcmu", tone(toneZ, 14*time.Second, 8000))
			e := startIot(t, "monitor", form, map[string]*baresipCallee{iotB: b, iotMonitor: m})
			heardA, logsA := callIot(t, bin, e, concat(silence(2*time.Second), tone(toneX, 6*time.Second, 8000)), false)
			heardB, logsB := b.wait(t)
			heardM, logsM := m.wait(t)
			e.ts.waitIdle(t)
			t.Log(heardReport("A", heardA))
			t.Log(heardReport("B", heardB))
			t.Log(heardReport("monitor", heardM))
			// The monitor hears the mix: energy shares, not dominance.
			if px, py, pz := tonePower(heardM, toneX), tonePower(heardM, toneY), tonePower(heardM, toneZ); px < 0.15 || py < 0.15 || pz > 0.05 {
				t.Errorf("the monitor heard X %.2f, Y %.2f, Z %.2f of its energy, want X and Y ≥ 0.15 and Z (itself) ≤ 0.05\n%s", px, py, pz, tail(logsM, 2000))
			}
			if tonePower(heardA, toneZ) > 0.02 || toneDuration(heardA, toneY) < 2*time.Second {
				t.Errorf("A: %s\n%s", heardReport("A", heardA), tail(logsA, 2000))
			}
			if tonePower(heardB, toneZ) > 0.02 || toneDuration(heardB, toneX) < 2*time.Second {
				t.Errorf("B: %s\n%s", heardReport("B", heardB), tail(logsB, 2000))
			}
			e.wantFlow(t, "newCall,callNotify:ringing,callAnswered,callEvent:callingPartyDrop,sessionCompleted")
		})
	}
}

// Attended transfer: A talks to B; the controller splits them, A is
// parked (hold music) and B calls C; the controller splits B and C, B
// leaves and A is connected to C.
func TestIotcommsAttendedTransfer(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	for _, form := range iotForms {
		t.Run(form, func(t *testing.T) {
			b := startBaresipCalleeAs(t, bin, iotB, "pcmu", tone(toneY, 20*time.Second, 8000))
			c := startBaresipCalleeAs(t, bin, iotC, "pcmu", tone(toneZ, 20*time.Second, 8000))
			e := startIot(t, "transfer", form, map[string]*baresipCallee{iotB: b, iotC: c})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the controller
				defer wg.Done()
				sid := e.session(t)
				e.waitKV(t, "iot/"+sid+"/AwithB/connectionId")
				time.Sleep(2 * time.Second) // A and B talk
				e.split(t, sid, "AwithB")
				e.waitKV(t, "iot/"+sid+"/BwithC/connectionId")
				time.Sleep(2 * time.Second) // B and C talk; A hears the music
				e.split(t, sid, "BwithC")
			}()
			heardA, logsA := callIot(t, bin, e, tone(toneX, 16*time.Second, 8000), false)
			wg.Wait()
			heardB, logsB := b.wait(t)
			heardC, logsC := c.wait(t)
			e.ts.waitIdle(t)
			t.Log(heardReport("A", heardA))
			t.Log(heardReport("B", heardB))
			t.Log(heardReport("C", heardC))
			if toneDuration(heardA, toneY) < time.Second || musicDuration(heardA) < time.Second || toneDuration(heardA, toneZ) < 2*time.Second {
				t.Errorf("A should hear B, then the hold music, then C: %s\n%s", heardReport("A", heardA), tail(logsA, 2000))
			}
			if toneDuration(heardB, toneX) < time.Second || toneDuration(heardB, toneZ) < time.Second || musicDuration(heardB) > 0 {
				t.Errorf("B should hear A, then C: %s\n%s", heardReport("B", heardB), tail(logsB, 2000))
			}
			if toneDuration(heardC, toneY) < time.Second || toneDuration(heardC, toneX) < 2*time.Second {
				t.Errorf("C should hear B, then A: %s\n%s", heardReport("C", heardC), tail(logsC, 2000))
			}
			// The seed's flow: split, A to the IVR (hold), B calls C,
			// split, B dropped, C connected to A.
			// The seed's flow: the split; A's answer (ivr) is carried out,
			// A meets the IVR (hold music); then B's (call C); the split
			// of B and C: B dropped, C connected to A; A hangs up.
			e.wantFlow(t, "newCall,callNotify:ringing,callAnswered,callEvent:callerConnectionSplit,callAnswered,getIvrCommand,"+
				"callEvent:calleeConnectionSplit,callNotify:ringing,callAnswered,"+
				"callEvent:callerConnectionSplit,callEvent:calleeConnectionSplit,callAnswered,callEvent:calledPartyDrop,sessionCompleted")
		})
	}
}

// A conference from existing legs, with park and retrieve: A talks to B;
// the controller splits them, B is parked (hold music) and A calls C;
// the controller creates a conference and splits A–C and B's park: all
// three join and hear each other.
func TestIotcommsConference(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	for _, form := range iotForms {
		t.Run(form, func(t *testing.T) {
			b := startBaresipCalleeAs(t, bin, iotB, "pcmu", tone(toneY, 30*time.Second, 8000))
			c := startBaresipCalleeAs(t, bin, iotC, "pcmu", tone(toneZ, 30*time.Second, 8000))
			e := startIot(t, "conference", form, map[string]*baresipCallee{iotB: b, iotC: c})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the controller
				defer wg.Done()
				sid := e.session(t)
				e.waitKV(t, "iot/"+sid+"/AwithB/connectionId")
				time.Sleep(1500 * time.Millisecond)
				e.split(t, sid, "AwithB")
				e.waitKV(t, "iot/"+sid+"/AwithC/connectionId")
				time.Sleep(2 * time.Second) // A and C talk; B hears the music
				var conf api.ConnectionResponse
				e.api(t, "POST", "/createconferenceconnection", api.SessionRequest{SessionID: sid}, 200, &conf)
				e.kvPut(t, "iot/"+sid+"/conference", conf.ConnectionID)
				e.split(t, sid, "AwithC")
				e.split(t, sid, "BwithIVR")
				time.Sleep(3 * time.Second) // all three talk
				for _, p := range []string{"A", "B", "C"} {
					id := e.kvGet(t, "iot/"+sid+"/"+p)
					e.api(t, "POST", "/hangupparticipant", api.ParticipantRequest{ParticipantID: id}, 200, nil)
				}
			}()
			heardA, logsA := callIot(t, bin, e, tone(toneX, 30*time.Second, 8000), false)
			wg.Wait()
			heardB, logsB := b.wait(t)
			heardC, logsC := c.wait(t)
			e.ts.waitIdle(t)
			for _, p := range []struct {
				name  string
				heard codec.PCM16
			}{{"A", heardA}, {"B", heardB}, {"C", heardC}} {
				t.Log(heardReport(p.name, p.heard))
			}
			// In the conference (the last seconds, before the controller
			// hung everyone up) all hear each other and not themselves:
			// tones mix, so energy shares, not dominance, tell.
			end := func(x codec.PCM16) codec.PCM16 {
				return x[max(0, len(x)-3*codec.SampleRate):max(0, len(x)-codec.SampleRate/2)]
			}
			check := func(name string, x codec.PCM16, own float64, others ...float64) {
				x = end(x)
				for _, f := range others {
					if p := tonePower(x, f); p < 0.15 {
						t.Errorf("%s heard %.0f Hz at %.2f at the end, want ≥ 0.15 (in the conference)", name, f, p)
					}
				}
				if p := tonePower(x, own); p > 0.05 {
					t.Errorf("%s heard itself at %.2f", name, p)
				}
			}
			check("A", heardA, toneX, toneY, toneZ)
			check("B", heardB, toneY, toneX, toneZ)
			check("C", heardC, toneZ, toneX, toneY)
			if musicDuration(heardB) < time.Second {
				t.Errorf("B parked heard %v of hold music\n%s", musicDuration(heardB), tail(logsB, 2000))
			}
			if t.Failed() {
				t.Logf("A:\n%s\nC:\n%s", tail(logsA, 1500), tail(logsC, 1500))
			}
			e.wantFlow(t, "newCall,callAnswered,callEvent:callerConnectionSplit,callEvent:calleeConnectionSplit,"+
				"callAnswered,getIvrCommand,callNotify:ringing,callAnswered,"+
				"callEvent:callerConnectionSplit,callEvent:calleeConnectionSplit,sessionCompleted")
		})
	}
}

// Bad answers of an iotcomms webhook get a log line naming what was wrong
// and a defined outcome: a newCall answer that is unusable (an unknown
// action, malformed JSON, no answer in time) rejects the call with 480; a
// connect to a participant of another session drops the caller (BYE)
// instead of leaving it connected to nothing.
func TestIotcommsBadAnswers(t *testing.T) {
	var mu sync.Mutex
	var newCall string
	var sleep time.Duration
	var failures []int // callEvent codes
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := abi.ParseIotRequest(body)
		if err != nil || "/"+string(req.Callback) != r.URL.Path {
			t.Errorf("callback %s: %v\n%s", r.URL.Path, err, body)
			http.Error(w, "bad", 400)
			return
		}
		mu.Lock()
		ans, d := newCall, sleep
		mu.Unlock()
		switch req.Callback {
		case abi.CallbackNewCall:
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, ans)
		case abi.CallbackGetIvrCommand:
			io.WriteString(w, `{"hangup":true}`)
		case abi.CallbackCallEvent:
			mu.Lock()
			failures = append(failures, req.Code)
			mu.Unlock()
			// A participant of another session (of this tenant or any).
			io.WriteString(w, `{"action":"connect","participantId":"00000000-0000-4000-8000-000000000000/p1"}`)
		}
	}))
	t.Cleanup(hook.Close)
	cfg := testConfig(t)
	cfg.Trunks = []config.Trunk{trunkTo("127.0.0.1:9")} // never reached: the dial policy refuses first
	ts := startTestServer(t, cfg, []config.Application{{ID: "iot-bad", Model: "iotcomms", Webhook: hook.URL, Numbers: []string{iotNumber}}})
	// The tenant may call +46 numbers only, and no SIP host but loopback.
	ts.apiJSON(t, "PUT", "/tenants/demo/dial-policy", ts.adminKey(t), api.DialPolicy{AllowedHosts: []string{"127.0.0.0/8"}, AllowedPrefixes: []string{"+46"}}, 200, nil)
	for _, tc := range []struct {
		name, answer string
		sleep        time.Duration
		scenario     string
		wantLog      string
		wantCode     int // the callEvent callFailed code, when the answer dials
	}{
		{"a number the dial policy forbids", `{"action":"call","destAddr":"+15550123"}`, 0, "uac_wait_bye", "destination not allowed by the tenant's dial policy", 403},
		{"a SIP host the dial policy forbids", `{"action":"call","destAddr":"sip:alarm@10.1.2.3"}`, 0, "uac_wait_bye", `no trunk serves the number: \"sip:alarm@10.1.2.3\"`, 404},
		{"unknown action", `{"action":"park"}`, 0, "uac_480", `unknown action \"park\"`, 0},
		{"malformed JSON", `{"action":`, 0, "uac_480", "newCall answer unusable", 0},
		{"no answer in time", `{"action":"ivr"}`, 6 * time.Second, "uac_480", "timed out after 5s", 0},
		{"another session's participant", `{"action":"ivr"}`, 0, "uac_wait_bye", `connect: no participant \"00000000-0000-4000-8000-000000000000/p1\" in this session`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			newCall, sleep, failures = tc.answer, tc.sleep, nil
			mu.Unlock()
			runSipp(t, ts, sippOptions{Scenario: tc.scenario, Service: iotNumber})
			ts.waitIdle(t)
			if !strings.Contains(ts.Logs.String(), tc.wantLog) {
				t.Errorf("no log line with %s", tc.wantLog)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.wantCode != 0 && (len(failures) == 0 || failures[0] != tc.wantCode) {
				t.Errorf("callEvent codes %v, want callFailed %d first", failures, tc.wantCode)
			}
		})
	}
}
