package mediaserver

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// hostEvent is an event as the host writes it (compact, abi.Event order).
const hostEvent = `{"SchemaVersion":"1.0","Sequence":3,"InvocationEventType":"CALL_UPDATE_REQUESTED",` +
	`"ActionData":{"Type":"CallUpdateRequest","Parameters":{"Arguments":{"JoinToken":"tok","MeetingRegion":"local"}}},` +
	`"CallDetails":{"TransactionId":"txn","AwsAccountId":"demo","AwsRegion":"local","SipRuleId":"r","SipMediaApplicationId":"sma",` +
	`"Participants":[{"CallId":"c1","ParticipantTag":"LEG-A","To":"+1","From":"+2","Direction":"Inbound","StartTimeInMilliseconds":"1","Status":"Connected"}]}}`

// TestHostLayout checks that events in the host's layout take the fast
// path of decodeEventLazy, that any deviation takes the general one, and
// that both decode like encoding/json.
func TestHostLayout(t *testing.T) {
	tests := []struct {
		name  string
		input string
		fast  bool
	}{
		{name: "host event", input: hostEvent, fast: true},
		{name: "no action data", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL","CallDetails":{"TransactionId":"t"}}`, fast: true},
		{name: "no call details", input: `{"SchemaVersion":"1.0","Sequence":12,"InvocationEventType":"HANGUP","ActionData":{"Type":"Hangup"}}`, fast: true},
		{name: "only the type", input: `{"SchemaVersion":"1.0","Sequence":0,"InvocationEventType":"RINGING"}`, fast: true},
		{name: "every type", input: `{"SchemaVersion":"1.0","Sequence":9,"InvocationEventType":"INVALID_LAMBDA_RESPONSE"}`, fast: true},
		{name: "action failed", input: `{"SchemaVersion":"1.0","Sequence":9,"InvocationEventType":"ACTION_FAILED"}`, fast: true},
		{name: "call answered", input: `{"SchemaVersion":"1.0","Sequence":9,"InvocationEventType":"CALL_ANSWERED"}`, fast: true},
		{name: "action successful", input: `{"SchemaVersion":"1.0","Sequence":9,"InvocationEventType":"ACTION_SUCCESSFUL"}`, fast: true},
		{name: "new outbound call", input: `{"SchemaVersion":"1.0","Sequence":9,"InvocationEventType":"NEW_OUTBOUND_CALL"}`, fast: true},
		{name: "long sequence", input: `{"SchemaVersion":"1.0","Sequence":123456789012345678,"InvocationEventType":"HANGUP"}`, fast: true},
		{name: "sequence too long", input: `{"SchemaVersion":"1.0","Sequence":1234567890123456789,"InvocationEventType":"HANGUP"}`},
		{name: "sequence leading zero", input: `{"SchemaVersion":"1.0","Sequence":01,"InvocationEventType":"HANGUP"}`},
		{name: "sequence fraction", input: `{"SchemaVersion":"1.0","Sequence":1.5,"InvocationEventType":"HANGUP"}`},
		{name: "sequence string", input: `{"SchemaVersion":"1.0","Sequence":"1","InvocationEventType":"HANGUP"}`},
		{name: "unknown type", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP_X"}`},
		{name: "same length other type", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUX"}`},
		{name: "escaped type", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANG\u0055P"}`, fast: true},
		{name: "other schema", input: `{"SchemaVersion":"2.0","Sequence":1,"InvocationEventType":"HANGUP"}`},
		{name: "spaced", input: `{"SchemaVersion":"1.0","Sequence":1, "InvocationEventType":"HANGUP"}`},
		{name: "trailing member", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"INVALID_LAMBDA_RESPONSE","CallDetails":{},"ErrorType":"x"}`},
		{name: "duplicate call details", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","CallDetails":{"TransactionId":"a"},"CallDetails":{"AwsRegion":"b"}}`},
		{name: "action data after call details", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","CallDetails":{},"ActionData":{"Type":"x"}}`},
		{name: "trailing space", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP"} `},
		{name: "null action data", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","ActionData":null}`, fast: true},
		{name: "action data in other order", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"ACTION_FAILED","ActionData":{"ErrorType":"e","Type":"PlayAudio","Parameters":{}}}`, fast: true},
		{name: "action data type only", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"ACTION_FAILED","ActionData":{"Type":"PlayAudio","ErrorType":"e"}}`, fast: true},
		{name: "action data duplicate parameters", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"ACTION_FAILED","ActionData":{"Type":"P","Parameters":{"a":1},"parameters":{"b":2}}}`, fast: true},
		{name: "action data escaped type", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"ACTION_FAILED","ActionData":{"Type":"P\"x","Parameters":[1]}}`, fast: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.input)
			want, wantErr := referenceDecode(data)
			var d decoder
			var e Event
			d.recycle(&e)
			d.reset(data)
			if got := d.hostLayout(&e); got != tt.fast {
				t.Fatalf("hostLayout = %v, want %v", got, tt.fast)
			}
			d.recycle(&e)
			err := d.decodeEventLazy(data, &e)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("decodeEventLazy error = %v, encoding/json error = %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if got := view(&e); e.err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("lazy (err %v): %#v\nencoding/json: %#v", e.err, got, want)
			}
		})
	}
}

// TestTrustedLayout: in the reactor the decoder trusts the host's layout
// (ABI SPEC section 13) and leaves CallDetails uncrossed until asked for;
// events in that layout still decode like encoding/json.
func TestTrustedLayout(t *testing.T) {
	call := `"CallDetails":{"TransactionId":"t\u00e9","TransactionAttributes":{"k":"v}}"},"AwsAccountId":"a",` +
		`"Participants":[{"CallId":"c1","ParticipantTag":"LEG-A","SipHeaders":{"X-A":"}}"}},{"CallId":"c2","ParticipantTag":"LEG-B"}]}`
	for _, tt := range []struct {
		name, input string
	}{
		{name: "host event", input: hostEvent},
		{name: "no action data", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL",` + call + `}`},
		{name: "action data", input: `{"SchemaVersion":"1.0","Sequence":2,"InvocationEventType":"ACTION_SUCCESSFUL","ActionData":{"Type":"Pause","Parameters":{}},` + call + `}`},
		{name: "empty call details", input: `{"SchemaVersion":"1.0","Sequence":2,"InvocationEventType":"HANGUP","CallDetails":{}}`},
		// The strings after CallDetails end the event in `"}`: the
		// general path reads them.
		{name: "invalid lambda response", input: `{"SchemaVersion":"1.0","Sequence":3,"InvocationEventType":"INVALID_LAMBDA_RESPONSE",` +
			call + `,"ErrorType":"InvalidActionType","ErrorMessage":"bad {}"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.input)
			want, err := referenceDecode(data)
			if err != nil {
				t.Fatal(err)
			}
			d := decoder{trustLayout: true}
			var e Event
			d.recycle(&e)
			if err := d.decodeEventLazy(data, &e); err != nil {
				t.Fatal(err)
			}
			if got := view(&e); e.err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("trusted (err %v): %#v\nencoding/json: %#v", e.err, got, want)
			}
		})
	}
}

// TestTrustedLayoutIsLazy: trusted, a broken CallDetails is found when a
// handler asks for it, not before: the event was not crossed.
func TestTrustedLayoutIsLazy(t *testing.T) {
	data := []byte(`{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","CallDetails":{"TransactionId":"a}}`)
	var plain decoder
	var e Event
	plain.recycle(&e)
	if err := plain.decodeEventLazy(data, &e); err == nil {
		t.Fatal("untrusted: no error for an unterminated string")
	}
	d := decoder{trustLayout: true}
	d.recycle(&e)
	if err := d.decodeEventLazy(data, &e); err != nil {
		t.Fatalf("trusted: %v before CallDetails was asked for", err)
	}
	if e.InvocationEventType != EventHangup {
		t.Fatalf("type %q", e.InvocationEventType)
	}
	e.CallDetails()
	if e.err == nil {
		t.Fatal("trusted: CallDetails() did not report the unterminated string")
	}
}

// TestTransactionID: the shortcut and the full decoding agree, trusted or
// not, and the shortcut leaves the rest of CallDetails undecoded.
func TestTransactionID(t *testing.T) {
	for _, tt := range []struct{ name, input, want string }{
		{name: "host event", input: hostEvent, want: "txn"},
		{name: "escaped", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","CallDetails":{"TransactionId":"t\u00e9\"x","AwsRegion":"r"}}`, want: "té\"x"},
		{name: "not first", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","CallDetails":{"AwsRegion":"r","TransactionId":"t2"}}`, want: "t2"},
		{name: "absent", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP","CallDetails":{"AwsRegion":"r"}}`, want: ""},
		{name: "no call details", input: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"HANGUP"}`, want: ""},
	} {
		for _, trust := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/trust=%v", tt.name, trust), func(t *testing.T) {
				d := decoder{trustLayout: trust}
				var e Event
				d.recycle(&e)
				if err := d.decodeEventLazy([]byte(tt.input), &e); err != nil {
					t.Fatal(err)
				}
				if got := e.TransactionID(); got != tt.want {
					t.Fatalf("TransactionID() = %q, want %q", got, tt.want)
				}
				if trust && tt.name == "host event" && e.pending&pendingCall == 0 {
					t.Fatal("the shortcut decoded all of CallDetails")
				}
				if got := e.CallDetails().TransactionID; got != tt.want || e.err != nil {
					t.Fatalf("CallDetails().TransactionID = %q (err %v), want %q", got, e.err, tt.want)
				}
			})
		}
	}
}

func TestEventType(t *testing.T) {
	names := []string{EventNewInboundCall, EventNewOutboundCall, EventRinging, EventCallAnswered, EventActionSuccessful,
		EventActionFailed, EventActionInterrupted, EventHangup, EventDigitsReceived, EventCallUpdateRequested,
		EventInvalidLambdaResponse}
	for _, n := range names {
		if got := eventType([]byte(n)); got != n {
			t.Errorf("eventType(%q) = %q", n, got)
		}
		if got := eventType([]byte(strings.ToLower(n))); got != "" {
			t.Errorf("eventType(%q) = %q, want \"\"", strings.ToLower(n), got)
		}
	}
	if got := eventType(nil); got != "" {
		t.Errorf("eventType(nil) = %q", got)
	}
}

// TestRespondDistinct: every Respond is a new Response a handler may keep.
func TestRespondDistinct(t *testing.T) {
	a, b := Respond(), Respond()
	if a == b {
		t.Fatal("Respond returned the same Response twice")
	}
	if a.Actions == nil || len(a.Actions) != 0 {
		t.Fatalf("Respond().Actions = %#v, want []", a.Actions)
	}
	a.SetAttribute("k", "v")
	b.SetAttribute("k", "w")
	if a.Attribute("k") != "v" || b.Attribute("k") != "w" {
		t.Fatalf("attributes shared: %v %v", a.TransactionAttributes, b.TransactionAttributes)
	}
}
