package server

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
)

// attr returns a TransactionAttributes value of a decoded response.
func attr(t testing.TB, o observed, key string) string {
	t.Helper()
	raw, ok := o.Response["TransactionAttributes"]
	if !ok {
		return ""
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("TransactionAttributes: %v", err)
	}
	return m[key]
}

// TestSippDemoIVR runs sipp against the demo IVR Wasm plugin: plain calls
// over UDP and TCP, hold/unhold during the prompt, an RFC 4733 digit that
// picks the sales branch, and the rejections of unknown numbers and
// codecs. One server serves every subtest, as it would serve callers.
func TestSippDemoIVR(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})

	tests := []struct {
		name      string
		scenario  string
		transport string
		service   string
		// wantEvents are the events the plugin got, in order.
		wantEvents string
		// wantMenu is the "menu" attribute of the plugin's last useful
		// response: which branch of the IVR ran.
		wantMenu string
		wantLog  string
	}{
		{name: "answer and caller BYE over UDP", scenario: "uac_bye", transport: "udp",
			wantEvents: "NEW_INBOUND_CALL,HANGUP", wantMenu: "main"},
		{name: "answer and caller BYE over TCP", scenario: "uac_bye", transport: "tcp",
			wantEvents: "NEW_INBOUND_CALL,HANGUP", wantMenu: "main"},
		{name: "answer and caller BYE over TLS", scenario: "uac_bye", transport: "tls",
			wantEvents: "NEW_INBOUND_CALL,HANGUP", wantMenu: "main", wantLog: "transport=TLS srtp=off"},
		{name: "SIP INFO digit 2 picks support over TLS, server hangs up", scenario: "uac_info2", transport: "tls",
			wantEvents: "NEW_INBOUND_CALL,ACTION_SUCCESSFUL,HANGUP", wantMenu: "support"},
		{name: "hold and unhold while the prompt plays", scenario: "uac_hold", transport: "udp",
			wantEvents: "NEW_INBOUND_CALL,HANGUP", wantMenu: "main", wantLog: "call on hold"},
		{name: "RFC 4733 digit 1 picks sales, server hangs up", scenario: "uac_dtmf1", transport: "udp",
			wantEvents: "NEW_INBOUND_CALL,ACTION_SUCCESSFUL,HANGUP", wantMenu: "sales"},
		{name: "SIP INFO digit 2 picks support over TCP", scenario: "uac_info2", transport: "tcp",
			wantEvents: "NEW_INBOUND_CALL,ACTION_SUCCESSFUL,HANGUP", wantMenu: "support"},
		{name: "unknown number gets 404", scenario: "uac_404", transport: "udp", service: "+15550199",
			wantLog: "unknown number"},
		{name: "unknown number over TCP gets 404", scenario: "uac_404", transport: "tcp", service: "+1-555-0199"},
		{name: "G.729 only gets 488", scenario: "uac_488", transport: "udp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(ts.Invocations(t))
			runSipp(t, ts, sippOptions{Scenario: tt.scenario, Transport: tt.transport, Service: tt.service})
			ts.waitIdle(t)
			invs := ts.Invocations(t)[before:]
			if got := eventTypes(invs); got != tt.wantEvents {
				t.Fatalf("plugin events = %q, want %q", got, tt.wantEvents)
			}
			if tt.wantMenu != "" {
				// The last response that was used (HANGUP's is ignored).
				used := invs[len(invs)-2]
				if got := attr(t, used, "menu"); got != tt.wantMenu {
					t.Fatalf("IVR branch (menu attribute) = %q, want %q", got, tt.wantMenu)
				}
				if got := invs[0].Event.CallDetails.Participants[0].From; got != "+12065550123" {
					t.Fatalf("From = %q", got)
				}
			}
			if tt.wantLog != "" && !strings.Contains(ts.Logs.String(), tt.wantLog) {
				t.Fatalf("server log lacks %q", tt.wantLog)
			}
		})
	}
}

// TestSippCancelBeforeAnswer: the caller cancels while the webhook still
// thinks about NEW_INBOUND_CALL. The call must end cleanly: 487 to the
// caller, no media left, and the handler at most told that the caller
// hung up.
func TestSippCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	var mu sync.Mutex
	var seen []abi.EventType
	app := webhookApp(t, "slow", "+15550111", func(ev *abi.Event) string {
		mu.Lock()
		seen = append(seen, ev.InvocationEventType)
		mu.Unlock()
		if ev.InvocationEventType == abi.EventNewInboundCall {
			time.Sleep(2 * time.Second) // the caller cancels meanwhile
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":"60000"}}`)
		}
		return actions()
	})
	ts := startTestServer(t, nil, []config.Application{app})
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			runSipp(t, ts, sippOptions{Scenario: "uac_cancel", Transport: transport, Service: "+15550111"})
			ts.waitIdle(t)
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 || seen[0] != abi.EventNewInboundCall {
				t.Fatalf("webhook events = %v, want NEW_INBOUND_CALL first", seen)
			}
			for _, e := range seen[1:] {
				if e != abi.EventHangup && e != abi.EventActionFailed {
					t.Fatalf("webhook events = %v: after CANCEL only HANGUP or the failed answer may follow", seen)
				}
			}
		})
	}
}

// TestUnavailableApp: a number whose plugin cannot be loaded answers 503,
// and the reason is logged; the healthz and calls endpoints respond.
func TestUnavailableApp(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	broken := config.Application{ID: "broken", Plugin: "testdata/does-not-exist.wasm", Numbers: []string{"+15550112"}}
	ts := startTestServer(t, nil, []config.Application{broken})
	runSipp(t, ts, sippOptions{Scenario: "uac_503", Service: "+15550112"})
	ts.waitIdle(t)
	if !strings.Contains(ts.Logs.String(), "application unavailable") {
		t.Fatal("the 503 was not logged")
	}
	for _, tc := range []struct{ path, want string }{
		{"/healthz", "ok"},
		{"/calls", `{"Calls":[]}` + "\n"},
	} {
		// /calls is the control API: it needs a key (/healthz does not).
		res := ts.apiDo(t, "GET", tc.path, ts.adminKey(t), nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != tc.want {
			t.Fatalf("GET %s = %d %q, want 200 %q", tc.path, res.StatusCode, b, tc.want)
		}
	}
}

// TestCloseHangsUp: closing the server ends a live call with BYE, and
// every resource is released.
func TestCloseHangsUp(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if len(ts.Engine().Calls()) == 1 && len(ts.mediaEndpoints()) == 1 {
				break
			}
		}
		if err := ts.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	runSipp(t, ts, sippOptions{Scenario: "uac_wait_bye"})
	// sipp exits on the BYE, which Close sends before it has finished.
	<-closed
	if n := len(ts.Engine().Calls()); n != 0 {
		t.Fatalf("%d calls left after Close", n)
	}
	if n := ts.PortsInUse(); n != 0 {
		t.Fatalf("%d RTP ports in use after Close", n)
	}
}
