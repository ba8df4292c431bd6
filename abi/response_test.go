package abi

import (
	"errors"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantErr     error
		wantActions int // -1: nil list
		wantAttrs   int // -1: nil map
		wantVersion string
	}{
		{name: "full", in: `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{}}],"TransactionAttributes":{"k":"v"}}`, wantActions: 1, wantAttrs: 1, wantVersion: "1.0"},
		{name: "missing schema version defaults", in: `{"Actions":[]}`, wantActions: 0, wantAttrs: -1, wantVersion: "1.0"},
		{name: "null actions keep current", in: `{"SchemaVersion":"1.0","Actions":null}`, wantActions: -1, wantAttrs: -1, wantVersion: "1.0"},
		{name: "absent actions keep current", in: `{"SchemaVersion":"1.0"}`, wantActions: -1, wantAttrs: -1, wantVersion: "1.0"},
		{name: "empty attributes clear", in: `{"TransactionAttributes":{}}`, wantActions: -1, wantAttrs: 0, wantVersion: "1.0"},
		{name: "surrounding white space", in: " \n{}\t\n", wantActions: -1, wantAttrs: -1, wantVersion: "1.0"},
		{name: "unknown fields ignored", in: `{"Foo":1,"Actions":[]}`, wantActions: 0, wantAttrs: -1, wantVersion: "1.0"},
		{name: "bad schema version", in: `{"SchemaVersion":"2.0"}`, wantErr: ErrSchemaVersion},
		{name: "trailing garbage", in: `{"Actions":[]} x`, wantErr: ErrTrailingData},
		{name: "two objects", in: `{}{}`, wantErr: ErrTrailingData},
		{name: "array", in: `[]`, wantErr: ErrNotObject},
		{name: "string", in: `"x"`, wantErr: ErrNotObject},
		{name: "null", in: `null`, wantErr: ErrNotObject},
		{name: "empty", in: ``, wantErr: ErrNotObject},
		{name: "garbage", in: `hello`, wantErr: ErrMalformedJSON},
		{name: "truncated", in: `{"Actions":[`, wantErr: ErrMalformedJSON},
		{name: "actions not a list", in: `{"Actions":{}}`, wantErr: ErrMalformedJSON},
		{name: "attribute value not a string", in: `{"TransactionAttributes":{"k":1}}`, wantErr: ErrMalformedJSON},
		{name: "schema version not a string", in: `{"SchemaVersion":1}`, wantErr: ErrMalformedJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var ae *ActionError
				if !errors.As(err, &ae) || ae.Index != -1 || ae.Type != InvalidActionParameter {
					t.Fatalf("err = %#v, want *ActionError with Index -1 and InvalidActionParameter", err)
				}
				return
			}
			if r.SchemaVersion != tt.wantVersion {
				t.Errorf("SchemaVersion = %q, want %q", r.SchemaVersion, tt.wantVersion)
			}
			gotActions := -1
			if r.Actions != nil {
				gotActions = len(*r.Actions)
			}
			if gotActions != tt.wantActions {
				t.Errorf("actions = %d, want %d", gotActions, tt.wantActions)
			}
			gotAttrs := -1
			if r.TransactionAttributes != nil {
				gotAttrs = len(*r.TransactionAttributes)
			}
			if gotAttrs != tt.wantAttrs {
				t.Errorf("attributes = %d, want %d", gotAttrs, tt.wantAttrs)
			}
		})
	}
}

func TestResponseMarshal(t *testing.T) {
	var nilActions []Action
	var nilMap map[string]string
	empty := []Action{}
	one := []Action{{Type: ActionHangup, Parameters: []byte(`{"SipResponseCode":0}`)}}
	attrs := map[string]string{"k": "v"}
	tests := []struct {
		name string
		in   Response
		want string
	}{
		{name: "nil list omitted", in: Response{SchemaVersion: "1.0"}, want: `{"SchemaVersion":"1.0"}`},
		{name: "pointer to nil list is empty list", in: Response{SchemaVersion: "1.0", Actions: &nilActions}, want: `{"SchemaVersion":"1.0","Actions":[]}`},
		{name: "empty list", in: Response{SchemaVersion: "1.0", Actions: &empty}, want: `{"SchemaVersion":"1.0","Actions":[]}`},
		{name: "one action", in: Response{SchemaVersion: "1.0", Actions: &one}, want: `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{"SipResponseCode":0}}]}`},
		{name: "pointer to nil map clears", in: Response{TransactionAttributes: &nilMap}, want: `{"TransactionAttributes":{}}`},
		{name: "attributes", in: Response{TransactionAttributes: &attrs}, want: `{"TransactionAttributes":{"k":"v"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
			// Decoding what we wrote must give the same presence.
			back, err := ParseResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			if (back.Actions == nil) != (tt.in.Actions == nil) {
				t.Errorf("Actions presence changed: %v -> %v", tt.in.Actions != nil, back.Actions != nil)
			}
			if (back.TransactionAttributes == nil) != (tt.in.TransactionAttributes == nil) {
				t.Errorf("TransactionAttributes presence changed")
			}
		})
	}
}

func TestNewResponse(t *testing.T) {
	tests := []struct {
		name    string
		actions []Action
		want    string
	}{
		{name: "no actions means do nothing", want: `{"SchemaVersion":"1.0","Actions":[]}`},
		{name: "one action", actions: []Action{{Type: ActionPause, Parameters: []byte(`{"DurationInMilliseconds":100}`)}},
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"Pause","Parameters":{"DurationInMilliseconds":100}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewResponse(tt.actions...).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
		want    EventType
	}{
		{name: "minimal", in: `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL","CallDetails":{}}`, want: EventNewInboundCall},
		{name: "trailing", in: `{} 1`, wantErr: ErrTrailingData},
		{name: "sequence as string", in: `{"Sequence":"1"}`, wantErr: ErrMalformedJSON},
		{name: "not object", in: `[1]`, wantErr: ErrNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEvent([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && e.InvocationEventType != tt.want {
				t.Fatalf("type = %q, want %q", e.InvocationEventType, tt.want)
			}
		})
	}
}

func TestTypeLists(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{name: "event types", got: len(AllEventTypes()), want: 11},
		{name: "action types", got: len(AllActionTypes()), want: 18},
		{name: "error types", got: len(AllErrorTypes()), want: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %d, want %d", tt.got, tt.want)
			}
		})
	}
	for _, at := range AllActionTypes() {
		if !at.Valid() {
			t.Errorf("%s not Valid", at)
		}
		if _, err := (Action{Type: at}).Decode(); err != nil {
			t.Errorf("%s: Decode of empty parameters: %v", at, err)
		}
	}
	if ActionCallUpdateRequest.Valid() {
		t.Error("CallUpdateRequest must not be a valid response action")
	}
	for _, et := range AllEventTypes() {
		if !et.Valid() {
			t.Errorf("%s not Valid", et)
		}
	}
}

func TestNewActionError(t *testing.T) {
	tests := []struct {
		name    string
		params  any
		wantErr bool
	}{
		{name: "struct", params: PauseParameters{DurationInMilliseconds: NewInt(5)}},
		{name: "map", params: map[string]int{"DurationInMilliseconds": 5}},
		{name: "unencodable", params: make(chan int), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAction(ActionPause, tt.params)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && string(a.Parameters) != `{"DurationInMilliseconds":5}` {
				t.Fatalf("Parameters = %s", a.Parameters)
			}
		})
	}
}

func TestLegOf(t *testing.T) {
	tests := []struct {
		name     string
		params   any
		wantCall string
		wantTag  string
	}{
		{name: "pointer with both", params: &PlayAudioParameters{CallID: "c1", ParticipantTag: LegB}, wantCall: "c1", wantTag: LegB},
		{name: "value with tag", params: PauseParameters{ParticipantTag: LegA}, wantTag: LegA},
		{name: "CallId only action", params: &StopCallRecordingParameters{CallID: "c2"}, wantCall: "c2"},
		{name: "no leg fields", params: &CallAndBridgeParameters{CallerIDNumber: "+1"}},
		{name: "nil pointer", params: (*SpeakParameters)(nil)},
		{name: "not a struct", params: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := LegOf(tt.params)
			if c != tt.wantCall || p != tt.wantTag {
				t.Fatalf("got (%q, %q), want (%q, %q)", c, p, tt.wantCall, tt.wantTag)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "ascii", in: "abcdef", n: 3, want: "abc…"},
		{name: "rune boundary", in: "aéé", n: 2, want: "a…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(tt.in, tt.n); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
