package server

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
)

// A plugin answer that is not JSON, or too large, reaches the handler as
// INVALID_LAMBDA_RESPONSE (it is not retried and the call is not dropped):
// here the handler then rejects the call with 486, which sipp expects.
func TestInvalidAnswerBecomesInvalidLambdaResponse(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	for _, tt := range []struct{ name, answer, errType string }{
		{name: "not JSON", answer: "this is not JSON", errType: string(abi.InvalidActionParameter)},
		{name: "too large", answer: `{"x":"` + strings.Repeat("a", 300<<10) + `"}`, errType: string(abi.InvalidActionParameter)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := webhookApp(t, "broken", "+15550122", func(ev *abi.Event) string {
				if ev.InvocationEventType == abi.EventInvalidLambdaResponse {
					return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"486"}}`)
				}
				return tt.answer
			})
			ts := startTestServer(t, nil, []config.Application{app})
			runSipp(t, ts, sippOptions{Scenario: "uac_486", Service: "+15550122"})
			ts.waitIdle(t)
			invs := ts.Invocations(t)
			if got := eventTypes(invs); got != "NEW_INBOUND_CALL,INVALID_LAMBDA_RESPONSE,HANGUP" {
				t.Fatalf("events %s, want NEW_INBOUND_CALL,INVALID_LAMBDA_RESPONSE,HANGUP", got)
			}
			if ev := invs[1].Event; string(ev.ErrorType) != tt.errType || ev.ErrorMessage == "" {
				t.Fatalf("INVALID_LAMBDA_RESPONSE %q %q", ev.ErrorType, ev.ErrorMessage)
			}
		})
	}
}

// Calls created through CreateSipMediaApplicationCall count in the
// application's stats, log book and event metrics like inbound calls.
func TestOutboundCallsInStatsAndLogs(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	port := freePort(t, "udp")
	sc := newScript(func(ev *abi.Event) string {
		switch ev.InvocationEventType {
		case abi.EventCallAnswered:
			return actions(beepPlay)
		case abi.EventActionSuccessful:
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		case abi.EventHangup:
			return "not JSON: an error for the log book"
		}
		return ""
	})
	cfg := testConfig(t)
	cfg.Trunks = []config.Trunk{trunkTo("127.0.0.1:" + strconv.Itoa(port))}
	ts := startTestServer(t, cfg, []config.Application{outboundScriptApp(t, sc)})
	uas := startUASSipp(t, "uas_outbound_answer", port)
	// The UAS scenario checks these headers on the INVITE.
	headers := map[string]string{"X-Campaign": "spring-42", "User-to-User": "56a390f3d2b7310023a2;encoding=hex"}
	if _, err := ts.CallsAPI().CreateCall(context.Background(), "demo", outboundApp, api.CreateCallRequest{
		FromPhoneNumber: outboundNumber, ToPhoneNumber: calleeNumber, SipHeaders: headers}); err != nil {
		t.Fatal(err)
	}
	sc.waitFor(t, abi.EventHangup, "")
	uas.wait(t)
	ts.waitIdle(t)
	_, demoFile := ts.KeyFiles()
	key, err := readKey(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	var st api.StatsResponse
	ts.apiJSON(t, "GET", "/sip-media-applications/"+outboundApp+"/stats", key, nil, 200, &st)
	if want := uint64(len(sc.Events())); st.Stats.Invocations != want || want < 4 {
		t.Fatalf("stats: %d invocations, the plugin got %d events", st.Stats.Invocations, want)
	}
	var logs api.LogList
	ts.apiJSON(t, "GET", "/sip-media-applications/"+outboundApp+"/logs", key, nil, 200, &logs)
	found := false
	for _, l := range logs.Logs {
		found = found || strings.Contains(l.Text, "invalid response")
	}
	if !found {
		t.Fatalf("the outbound call's invalid HANGUP answer is not in the log book: %+v", logs.Logs)
	}
	if n := ts.metric(t, `mediaserver_events_total{tenant="demo",type="HANGUP"}`); n < 1 {
		t.Fatalf("event metric for HANGUP: %v", n)
	}
}
