package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

var outReq = OutboundRequest{
	From:       "+15550100",
	To:         "+15550199",
	SipHeaders: map[string]string{"X-Campaign": "c1", "User-to-User": "uui", "Diversion": "<sip:+15550111@x>"},
	Arguments:  map[string]string{"lang": "fr"},
}

func TestOutboundEvents(t *testing.T) {
	h := newHarness(t, func(ev *abi.Event) (string, error) {
		switch ev.InvocationEventType {
		case abi.EventNewOutboundCall:
			// Actions are ignored, attributes kept.
			return `{"Actions":[` + act("Hangup", "") + `],"TransactionAttributes":{"lang":"fr"}}`, nil
		case abi.EventRinging:
			return actions(act("Hangup", "")), nil
		case abi.EventCallAnswered:
			return actions(act("PlayAudio", hello)), nil
		}
		return noActions, nil
	}).outbound(outReq)
	tx := h.call.TransactionID()
	h.wantTypes("NEW_OUTBOUND_CALL")
	want := `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_OUTBOUND_CALL",
	"ActionData":{"Type":"CallCreateRequest","Parameters":{"Arguments":{"lang":"fr"}}},
	"CallDetails":{"TransactionId":"` + tx + `","AwsAccountId":"tenant-1","AwsRegion":"local-1",
	"SipRuleId":"","SipMediaApplicationId":"sma-1",
	"Participants":[{"CallId":"dial-1","ParticipantTag":"LEG-A","To":"+15550199","From":"+15550100",
	"Direction":"Outbound","StartTimeInMilliseconds":"1767323045000","Status":"Connected",
	"SipHeaders":{"X-Campaign":"c1","User-to-User":"uui","Diversion":"<sip:+15550111@x>"}}]}}`
	if got, w := compactJSON(t, h.rawLast()), compactJSON(t, want); got != w {
		t.Fatalf("event:\n got %s\nwant %s", got, w)
	}
	d := h.dialer.dial(t, 1)
	if d.req.From != "+15550100" || d.req.To != "+15550199" || d.req.TransactionID != tx ||
		d.req.TenantID != "tenant-1" || d.req.SipMediaApplicationID != "sma-1" || !equalMaps(d.req.SipHeaders, outReq.SipHeaders) {
		t.Fatalf("dial request %+v", d.req)
	}
	if got := h.e.Calls(); len(got) != 1 || got[0].Direction != abi.DirectionOutbound || got[0].CallID != "dial-1" {
		t.Fatalf("calls %+v", got)
	}

	d.ev.Ringing()
	h.settle()
	h.wantTypes("NEW_OUTBOUND_CALL", "RINGING")
	if got := h.last().CallDetails.TransactionAttributes; !equalMaps(got, map[string]string{"lang": "fr"}) {
		t.Fatalf("attributes %v", got)
	}
	wantLegOps(t, d.leg) // neither Hangup was executed

	d.ev.Answered()
	h.settle()
	h.wantTypes("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED")
	ev := h.last()
	if got := participantSummary(ev); !equalStrings(got, []string{"LEG-A dial-1 Outbound Connected"}) {
		t.Fatalf("participants %q", got)
	}
	if got := ev.CallDetails.Participants[0].SipHeaders; !equalMaps(got, outReq.SipHeaders) {
		t.Fatalf("headers %v", got)
	}
	// The far end answered: the engine does not answer again.
	wantLegOps(t, d.leg, "play hello.wav")
	d.leg.lastPlay(t).done(nil)
	h.settle()
	h.wantTypes("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL")

	d.ev.Digit('x') // not a digit: dropped
	d.ev.Hangup()
	h.settle()
	h.wantTypes("NEW_OUTBOUND_CALL", "RINGING", "CALL_ANSWERED", "ACTION_SUCCESSFUL", "HANGUP")
	if got := string(h.last().ActionData.Parameters); got != `{"CallId":"dial-1","ParticipantTag":"LEG-A","SipResponseCode":"0"}` {
		t.Fatalf("hangup parameters %s", got)
	}
	if !h.ended() {
		t.Fatal("call still up")
	}
	wantLegOps(t, d.leg, "play hello.wav")
}

func TestOutboundFailure(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		err      error
		wantCode string
	}{
		{name: "busy", code: 486, wantCode: "486"},
		{name: "no answer", code: 480, wantCode: "480"},
		{name: "timeout", code: 408, wantCode: "408"},
		{name: "declined", code: 603, wantCode: "603"},
		{name: "transport error", code: 0, err: errors.New("connection refused"), wantCode: "480"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq()).outbound(outReq)
			d := h.dialer.dial(t, 1)
			d.ev.Ringing()
			d.ev.Failed(tt.code, tt.err)
			d.ev.Answered() // too late: ignored
			h.settle()
			h.wantTypes("NEW_OUTBOUND_CALL", "RINGING", "HANGUP")
			ev := h.last()
			want := `{"CallId":"dial-1","ParticipantTag":"LEG-A","SipResponseCode":"` + tt.wantCode + `"}`
			if got := string(ev.ActionData.Parameters); got != want || ev.ActionData.Type != abi.ActionHangup {
				t.Fatalf("action data %s %s, want %s", ev.ActionData.Type, got, want)
			}
			if got := participantSummary(ev); !equalStrings(got, []string{"LEG-A dial-1 Outbound Disconnected"}) {
				t.Fatalf("participants %q", got)
			}
			if !h.ended() {
				t.Fatal("call still up")
			}
			wantLegOps(t, d.leg)
		})
	}
}

func TestOutboundCancelWhileRinging(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(h *harness) error
	}{
		{name: "engine hangup", cancel: func(h *harness) error { return h.e.Hangup(h.call.TransactionID()) }},
		{name: "hangup action", cancel: func(h *harness) error { return h.e.Update(h.call.TransactionID(), map[string]string{"a": "b"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(ev *abi.Event) (string, error) {
				if ev.InvocationEventType == abi.EventCallUpdateRequested {
					return actions(act("Hangup", `{"SipResponseCode":0}`)), nil
				}
				return noActions, nil
			}).outbound(outReq)
			d := h.dialer.dial(t, 1)
			d.ev.Ringing()
			h.settle()
			if err := tt.cancel(h); err != nil {
				t.Fatal(err)
			}
			h.settle()
			d.ev.Answered() // a 200 OK crossing the CANCEL: the dialer's business
			h.settle()
			wantLegOps(t, d.leg, "cancel")
			ev := h.last()
			if ev.InvocationEventType != abi.EventHangup {
				t.Fatalf("last event %s", ev.InvocationEventType)
			}
			if got := string(ev.ActionData.Parameters); got != `{"CallId":"dial-1","ParticipantTag":"LEG-A","SipResponseCode":"487"}` {
				t.Fatalf("hangup parameters %s", got)
			}
			if !h.ended() {
				t.Fatal("call still up")
			}
			if err := h.e.Hangup(h.call.TransactionID()); !errors.Is(err, ErrCallNotFound) {
				t.Fatalf("hangup of an ended call: %v", err)
			}
		})
	}
}

func TestOutboundRingTimeout(t *testing.T) {
	h := newHarness(t, bySeq()).outbound(outReq)
	d := h.dialer.dial(t, 1)
	h.advance(59 * time.Second)
	wantLegOps(t, d.leg)
	h.advance(time.Second)
	wantLegOps(t, d.leg, "cancel")
	h.wantTypes("NEW_OUTBOUND_CALL", "HANGUP")
	if got := string(h.last().ActionData.Parameters); got != `{"CallId":"dial-1","ParticipantTag":"LEG-A","SipResponseCode":"408"}` {
		t.Fatalf("hangup parameters %s", got)
	}
	if !h.ended() {
		t.Fatal("call still up")
	}
}

func TestOutboundAnsweredStopsRingTimer(t *testing.T) {
	h := newHarness(t, bySeq()).outbound(outReq)
	d := h.dialer.dial(t, 1)
	d.ev.Answered()
	h.settle()
	h.advance(2 * time.Minute)
	h.wantTypes("NEW_OUTBOUND_CALL", "CALL_ANSWERED")
	if h.ended() {
		t.Fatal("call ended")
	}
	if err := h.e.Hangup(h.call.TransactionID()); err != nil {
		t.Fatal(err)
	}
	h.settle()
	wantLegOps(t, d.leg, "bye")
	h.wantTypes("NEW_OUTBOUND_CALL", "CALL_ANSWERED", "HANGUP")
}

func TestOutboundActionOnRingingLeg(t *testing.T) {
	h := newHarness(t, bySeq(noActions, actions(act("PlayAudio", hello)))).outbound(outReq)
	if err := h.e.Update(h.call.TransactionID(), nil); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.wantTypes("NEW_OUTBOUND_CALL", "CALL_UPDATE_REQUESTED", "ACTION_FAILED")
	if ad := h.last().ActionData; ad.ErrorType != abi.InvalidActionParameter || ad.ErrorMessage != "PlayAudio: call leg LEG-A has not answered" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}

func TestOutboundRequestErrors(t *testing.T) {
	dialErr := errors.New("no trunk")
	tests := []struct {
		name    string
		req     OutboundRequest
		noDial  bool
		dialErr error
		want    error
	}{
		{name: "no dialer", req: outReq, noDial: true, want: ErrNoDialer},
		{name: "bad from", req: OutboundRequest{From: "555", To: "+15550199"}, want: ErrInvalidNumber},
		{name: "bad to", req: OutboundRequest{From: "+15550100", To: "+0123"}, want: ErrInvalidNumber},
		{name: "too many arguments", req: OutboundRequest{From: "+15550100", To: "+15550199", Arguments: manyArgs(21)}, want: ErrTooManyArguments},
		{name: "header not allowed", req: OutboundRequest{From: "+15550100", To: "+15550199", SipHeaders: map[string]string{"Contact": "x"}}, want: ErrInvalidHeader},
		{name: "header injection", req: OutboundRequest{From: "+15550100", To: "+15550199", SipHeaders: map[string]string{"X-A": "a\r\nVia: evil"}}, want: ErrInvalidHeader},
		{name: "header name not a token", req: OutboundRequest{From: "+15550100", To: "+15550199", SipHeaders: map[string]string{"X-A:b": "a"}}, want: ErrInvalidHeader},
		{name: "dial error", req: outReq, dialErr: dialErr, want: dialErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq())
			if tt.noDial {
				h.e.cfg.Dialer = nil
			}
			h.dialer.err = tt.dialErr
			c, err := h.e.Outbound(App{Handler: h.plugin}, tt.req)
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("got %v, %v; want %v", c, err, tt.want)
			}
			if n := len(h.e.Calls()); n != 0 {
				t.Fatalf("%d calls", n)
			}
		})
	}
	h := newHarness(t, bySeq())
	if _, err := h.e.Outbound(App{}, outReq); !errors.Is(err, ErrInvalidCall) {
		t.Fatalf("no handler: %v", err)
	}
}
