package server

// Outbound calls through a trunk whose far end is sipp (UAS scenarios in
// testdata/sipp/uas_outbound_*.xml): the call API creates the call, the
// webhook plugin gets NEW_OUTBOUND_CALL, RINGING, CALL_ANSWERED and plays
// a prompt; busy, ring timeout, hang-up while ringing, SipHeaders on the
// INVITE and in the events, and digest authentication.

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/callleg"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/control"
)

const (
	outboundApp    = "outbound"
	outboundNumber = "+15550111" // the application's number: our caller id
	calleeNumber   = "+15550199"
)

var beepPlay = `{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"test/beep.wav"}}}`

// outboundScriptApp is a webhook application with a 600 ms beep prompt.
func outboundScriptApp(t *testing.T, sc *script) config.Application {
	t.Helper()
	app := webhookApp(t, outboundApp, outboundNumber, sc.handle)
	app.Prompts = t.TempDir()
	writeWAV(t, filepath.Join(app.Prompts, "prompts", "test", "beep.wav"), tone(1000, 600*time.Millisecond, 8000))
	return app
}

func TestOutboundThroughTrunk(t *testing.T) {
	headers := map[string]string{"X-Campaign": "spring-42", "User-to-User": "56a390f3d2b7310023a2;encoding=hex"}
	tests := []struct {
		name           string
		scenario       string
		username, pass string
		ringTimeout    time.Duration
		hangupOnRing   bool   // the API hangs up on RINGING
		wantEvents     string // event types the plugin got, in order
		wantHangupCode string // SipResponseCode of the last HANGUP
		wantPlayed     bool   // the prompt played to its end
	}{
		{name: "answered plays a prompt", scenario: "uas_outbound_answer",
			wantEvents: "NEW_OUTBOUND_CALL,RINGING,CALL_ANSWERED,ACTION_SUCCESSFUL,HANGUP", wantHangupCode: "0", wantPlayed: true},
		{name: "busy", scenario: "uas_outbound_busy",
			wantEvents: "NEW_OUTBOUND_CALL,RINGING,HANGUP", wantHangupCode: "486"},
		{name: "no answer", scenario: "uas_outbound_ring", ringTimeout: 1500 * time.Millisecond,
			wantEvents: "NEW_OUTBOUND_CALL,RINGING,HANGUP", wantHangupCode: "408"},
		{name: "hung up while ringing", scenario: "uas_outbound_ring", hangupOnRing: true,
			wantEvents: "NEW_OUTBOUND_CALL,RINGING,HANGUP", wantHangupCode: "487"},
		{name: "digest auth", scenario: "uas_outbound_auth", username: "trunkuser", pass: "trunkpass",
			wantEvents: "NEW_OUTBOUND_CALL,CALL_ANSWERED,ACTION_SUCCESSFUL,HANGUP", wantHangupCode: "0", wantPlayed: true},
		{name: "digest auth, wrong password", scenario: "uas_outbound_auth", username: "trunkuser", pass: "wrong",
			wantEvents: "NEW_OUTBOUND_CALL,HANGUP", wantHangupCode: "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := freePort(t, "udp")
			var calls *control.Calls
			sc := newScript(func(ev *abi.Event) string {
				switch {
				case ev.InvocationEventType == abi.EventRinging && tt.hangupOnRing:
					go calls.HangupCall(context.Background(), "demo", ev.CallDetails.TransactionID)
				case ev.InvocationEventType == abi.EventCallAnswered:
					return actions(beepPlay)
				case ev.InvocationEventType == abi.EventActionSuccessful && ev.ActionData.Type == abi.ActionPlayAudio:
					return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
				}
				return ""
			})
			cfg := testConfig(t)
			tr := trunkTo("127.0.0.1:" + strconv.Itoa(port))
			tr.Username, tr.Password = tt.username, tt.pass
			cfg.Trunks = []config.Trunk{tr}
			var opts []Option
			if tt.ringTimeout > 0 {
				opts = append(opts, WithRingTimeout(tt.ringTimeout))
			}
			ts := startTestServer(t, cfg, []config.Application{outboundScriptApp(t, sc)}, opts...)
			calls = ts.CallsAPI()
			uas := startUASSipp(t, tt.scenario, port)
			txID, err := calls.CreateCall(context.Background(), "demo", outboundApp, api.CreateCallRequest{
				FromPhoneNumber: outboundNumber, ToPhoneNumber: calleeNumber,
				SipHeaders: headers, ArgumentsMap: map[string]string{"campaign": "42"},
			})
			if err != nil {
				t.Fatalf("CreateCall: %v", err)
			}
			last := sc.waitFor(t, abi.EventHangup, "")
			uas.wait(t)
			ts.waitIdle(t)

			evs := sc.Events()
			if got := typesOf(evs); got != tt.wantEvents {
				t.Fatalf("events %s, want %s", got, tt.wantEvents)
			}
			if got := hangupCode(t, last); got != tt.wantHangupCode {
				t.Errorf("HANGUP SipResponseCode %s, want %s", got, tt.wantHangupCode)
			}
			for _, ev := range evs {
				if ev.CallDetails.TransactionID != txID {
					t.Errorf("%s: TransactionId %s, want %s", ev.InvocationEventType, ev.CallDetails.TransactionID, txID)
				}
				p := ev.CallDetails.Participants[0]
				if p.Direction != abi.DirectionOutbound || p.From != outboundNumber || p.To != calleeNumber {
					t.Errorf("%s: participant %+v, want Outbound %s -> %s", ev.InvocationEventType, p, outboundNumber, calleeNumber)
				}
				for k, v := range headers {
					if p.SipHeaders[k] != v {
						t.Errorf("%s: SipHeaders[%s] = %q, want %q", ev.InvocationEventType, k, p.SipHeaders[k], v)
					}
				}
			}
			first := evs[0]
			if first.ActionData == nil || !strings.Contains(string(first.ActionData.Parameters), `"campaign":"42"`) {
				t.Errorf("NEW_OUTBOUND_CALL ActionData %+v, want the ArgumentsMap", first.ActionData)
			}
			played := false
			for _, ev := range evs {
				if ev.InvocationEventType == abi.EventActionSuccessful && ev.ActionData.Type == abi.ActionPlayAudio {
					played = true
				}
			}
			if played != tt.wantPlayed {
				t.Errorf("prompt played = %v, want %v", played, tt.wantPlayed)
			}
			msgs := uas.messages()
			if tt.hangupOnRing || tt.ringTimeout > 0 {
				if !strings.Contains(msgs, "CANCEL sip:") {
					t.Errorf("sipp saw no CANCEL:\n%s", msgs)
				}
			}
		})
	}
}

func TestCreateCallErrors(t *testing.T) {
	tests := []struct {
		name    string
		app     string
		from    string
		to      string
		trunk   config.Trunk
		wantAPI error
		wantErr error
	}{
		{name: "no trunk for the number", app: outboundApp, from: outboundNumber, to: "+4420794600",
			trunk: trunkTo("127.0.0.1:9"), wantAPI: api.ErrUnavailable, wantErr: callleg.ErrNoTrunk},
		{name: "caller id refused", app: outboundApp, from: outboundNumber, to: calleeNumber,
			trunk:   config.Trunk{Name: "strict", Address: "127.0.0.1:9", CallerIDs: []string{"+1999*"}},
			wantAPI: api.ErrInvalid, wantErr: callleg.ErrCallerID},
		{name: "unknown application", app: "nope", from: outboundNumber, to: calleeNumber,
			trunk: trunkTo("127.0.0.1:9"), wantAPI: api.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.SIP.TCP = nil
			cfg.Trunks = []config.Trunk{tt.trunk}
			sc := newScript(func(*abi.Event) string { return "" })
			ts := startTestServer(t, cfg, []config.Application{webhookApp(t, outboundApp, outboundNumber, sc.handle)})
			_, err := ts.CallsAPI().CreateCall(context.Background(), "demo", tt.app, api.CreateCallRequest{
				FromPhoneNumber: tt.from, ToPhoneNumber: tt.to})
			if !errors.Is(err, tt.wantAPI) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("CreateCall error %v, want %v and %v", err, tt.wantAPI, tt.wantErr)
			}
			ts.waitIdle(t)
			if n := len(sc.Events()); n != 0 {
				t.Errorf("the plugin got %d events for a call that was never placed", n)
			}
		})
	}
}

func TestCallsAPIOwnership(t *testing.T) {
	port := freePort(t, "udp")
	cfg := testConfig(t)
	cfg.Trunks = []config.Trunk{trunkTo("127.0.0.1:" + strconv.Itoa(port))}
	sc := newScript(func(*abi.Event) string { return "" })
	ts := startTestServer(t, cfg, []config.Application{outboundScriptApp(t, sc)})
	uas := startUASSipp(t, "uas_outbound_ring", port)
	calls := ts.CallsAPI()
	txID, err := calls.CreateCall(context.Background(), "demo", outboundApp, api.CreateCallRequest{
		FromPhoneNumber: outboundNumber, ToPhoneNumber: calleeNumber})
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	sc.waitFor(t, abi.EventRinging, "")
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{name: "update, other tenant", call: func() error {
			return calls.UpdateCall(context.Background(), "other", outboundApp, txID, nil)
		}, want: api.ErrNotFound},
		{name: "update, other application", call: func() error {
			return calls.UpdateCall(context.Background(), "demo", "other-app", txID, nil)
		}, want: api.ErrNotFound},
		{name: "update, unknown call", call: func() error {
			return calls.UpdateCall(context.Background(), "demo", outboundApp, "no-such-call", nil)
		}, want: api.ErrNotFound},
		{name: "hang up, other tenant", call: func() error {
			return calls.HangupCall(context.Background(), "other", txID)
		}, want: api.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	if got := calls.ListCalls("other"); len(got) != 0 {
		t.Errorf("ListCalls(other) = %+v, want none", got)
	}
	list := calls.ListCalls("demo")
	if len(list) != 1 || list[0].TransactionID != txID || list[0].Direction != abi.DirectionOutbound {
		t.Fatalf("ListCalls(demo) = %+v, want the outbound call %s", list, txID)
	}
	if err := calls.HangupCall(context.Background(), "", txID); err != nil {
		t.Fatalf("admin HangupCall: %v", err)
	}
	if got := hangupCode(t, sc.waitFor(t, abi.EventHangup, "")); got != "487" {
		t.Errorf("HANGUP code %s, want 487", got)
	}
	uas.wait(t)
	ts.waitIdle(t)
}

// An application created through the API after start can place calls at
// once: CreateCall looks it up in the registry, not in a start-up snapshot.
func TestCreateCallAppCreatedAfterStart(t *testing.T) {
	port := freePort(t, "udp")
	cfg := testConfig(t)
	cfg.SIP.TCP = nil
	cfg.Trunks = []config.Trunk{trunkTo("127.0.0.1:" + strconv.Itoa(port))}
	sc := newScript(func(*abi.Event) string { return "" })
	app := webhookApp(t, outboundApp, outboundNumber, sc.handle)
	ts := startTestServer(t, cfg, []config.Application{app})
	if _, err := ts.Registry().CreateApp("demo", "late-app", "", app.Webhook); err != nil {
		t.Fatal(err)
	}
	uas := startUASSipp(t, "uas_outbound_busy", port)
	txID, err := ts.CallsAPI().CreateCall(context.Background(), "demo", "late-app", api.CreateCallRequest{
		FromPhoneNumber: outboundNumber, ToPhoneNumber: calleeNumber})
	if err != nil || txID == "" {
		t.Fatalf("CreateCall for an application created after start = %q, %v", txID, err)
	}
	last := sc.waitFor(t, abi.EventHangup, "")
	uas.wait(t)
	ts.waitIdle(t)
	evs := sc.Events()
	if evs[0].InvocationEventType != abi.EventNewOutboundCall || evs[0].CallDetails.SipMediaApplicationID != "late-app" {
		t.Fatalf("first event %s for %s: want NEW_OUTBOUND_CALL for late-app", evs[0].InvocationEventType, evs[0].CallDetails.SipMediaApplicationID)
	}
	if last.CallDetails.TransactionID != txID {
		t.Fatalf("HANGUP for transaction %s, want %s", last.CallDetails.TransactionID, txID)
	}
}
