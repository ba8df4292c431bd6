package mediaserver

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The mirror types decode the same JSON with encoding/json: the reference
// the reflection-free decoder must agree with.
type mirrorEvent struct {
	SchemaVersion       string            `json:"SchemaVersion"`
	Sequence            json.Number       `json:"Sequence"`
	InvocationEventType string            `json:"InvocationEventType"`
	ActionData          *mirrorActionData `json:"ActionData"`
	CallDetails         mirrorCallDetails `json:"CallDetails"`
	ErrorType           string            `json:"ErrorType"`
	ErrorMessage        string            `json:"ErrorMessage"`
}

type mirrorActionData struct {
	Type                     string          `json:"Type"`
	Parameters               json.RawMessage `json:"Parameters"`
	ReceivedDigits           string          `json:"ReceivedDigits"`
	ErrorType                string          `json:"ErrorType"`
	ErrorMessage             string          `json:"ErrorMessage"`
	RecordingDestination     json.RawMessage `json:"RecordingDestination"`
	RecordingTerminatorUsed  string          `json:"RecordingTerminatorUsed"`
	CallRecordingDestination json.RawMessage `json:"CallRecordingDestination"`
}

type mirrorCallDetails struct {
	TransactionID         string              `json:"TransactionId"`
	TransactionAttributes map[string]string   `json:"TransactionAttributes"`
	AwsAccountID          string              `json:"AwsAccountId"`
	AwsRegion             string              `json:"AwsRegion"`
	SipRuleID             string              `json:"SipRuleId"`
	SipMediaApplicationID string              `json:"SipMediaApplicationId"`
	Participants          []mirrorParticipant `json:"Participants"`
}

type mirrorParticipant struct {
	CallID                  string            `json:"CallId"`
	ParticipantTag          string            `json:"ParticipantTag"`
	To                      string            `json:"To"`
	From                    string            `json:"From"`
	Direction               string            `json:"Direction"`
	StartTimeInMilliseconds string            `json:"StartTimeInMilliseconds"`
	Status                  string            `json:"Status"`
	SipHeaders              map[string]string `json:"SipHeaders"`
}

// eventView is everything an Event holds, for comparisons.
type eventView struct {
	SchemaVersion       string
	Sequence            int64
	InvocationEventType string
	ActionData          *ActionData
	CallDetails         CallDetails
	ErrorType           string
	ErrorMessage        string
}

func view(e *Event) *eventView {
	return &eventView{
		SchemaVersion:       e.SchemaVersion,
		Sequence:            e.Sequence,
		InvocationEventType: e.InvocationEventType,
		ActionData:          e.ActionData(),
		CallDetails:         *e.CallDetails(),
		ErrorType:           e.ErrorType,
		ErrorMessage:        e.ErrorMessage,
	}
}

// referenceDecode decodes data with encoding/json.
func referenceDecode(data []byte) (*eventView, error) {
	var m mirrorEvent
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	e := &eventView{
		SchemaVersion:       m.SchemaVersion,
		InvocationEventType: m.InvocationEventType,
		ErrorType:           m.ErrorType,
		ErrorMessage:        m.ErrorMessage,
		CallDetails: CallDetails{
			TransactionID:         m.CallDetails.TransactionID,
			TransactionAttributes: m.CallDetails.TransactionAttributes,
			AwsAccountID:          m.CallDetails.AwsAccountID,
			AwsRegion:             m.CallDetails.AwsRegion,
			SipRuleID:             m.CallDetails.SipRuleID,
			SipMediaApplicationID: m.CallDetails.SipMediaApplicationID,
		},
	}
	if m.Sequence != "" {
		n, err := strconv.ParseInt(string(m.Sequence), 10, 64)
		if err != nil {
			return nil, err
		}
		e.Sequence = n
	}
	if a := m.ActionData; a != nil {
		e.ActionData = &ActionData{
			Type:                     a.Type,
			Parameters:               RawJSON(a.Parameters),
			ReceivedDigits:           a.ReceivedDigits,
			ErrorType:                a.ErrorType,
			ErrorMessage:             a.ErrorMessage,
			RecordingDestination:     RawJSON(a.RecordingDestination),
			RecordingTerminatorUsed:  a.RecordingTerminatorUsed,
			CallRecordingDestination: RawJSON(a.CallRecordingDestination),
		}
	}
	if m.CallDetails.Participants != nil {
		e.CallDetails.Participants = make([]Participant, len(m.CallDetails.Participants))
		for i, p := range m.CallDetails.Participants {
			e.CallDetails.Participants[i] = Participant(p)
		}
	}
	return e, nil
}

// compareWithReference checks that DecodeEvent and encoding/json agree:
// both fail, or both succeed with equal events. Inputs nested deeper than
// maxDepth are refused by DecodeEvent only. Where they succeed, the lazy
// decoding of dispatch must give the same event too, also into an Event
// recycled from another one.
func compareWithReference(t *testing.T, data []byte) {
	t.Helper()
	got, err := DecodeEvent(data)
	want, wantErr := referenceDecode(data)
	if errors.Is(err, ErrTooDeep) {
		return
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("input %q:\nDecodeEvent error: %v\nencoding/json error: %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	if g := view(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("input %q:\nDecodeEvent:   %#v\nencoding/json: %#v", data, g, want)
	}
	var d decoder
	var e Event
	for _, input := range [][]byte{[]byte(sampleEvent), data} {
		d.recycle(&e)
		if err := d.decodeEventLazy(input, &e); err != nil {
			t.Fatalf("input %q: lazy decoding: %v", input, err)
		}
		g := view(&e)
		if e.err != nil {
			t.Fatalf("input %q: lazy decoding: %v", input, e.err)
		}
		if string(input) == string(data) && !reflect.DeepEqual(g, want) {
			t.Fatalf("input %q:\nlazy:          %#v\nencoding/json: %#v", data, g, want)
		}
	}
}

const sampleEvent = `{
  "SchemaVersion": "1.0",
  "Sequence": 3,
  "InvocationEventType": "ACTION_SUCCESSFUL",
  "ActionData": {
    "Type": "PlayAudioAndGetDigits",
    "Parameters": {"CallId": "call-1", "AudioSource": {"Type": "S3", "BucketName": "b", "Key": "k.wav"}, "Repeat": "3"},
    "ReceivedDigits": "12",
    "ErrorType": "",
    "ErrorMessage": ""
  },
  "CallDetails": {
    "TransactionId": "txn-1",
    "TransactionAttributes": {"menu": "main", "tries": "1"},
    "AwsAccountId": "tenant",
    "AwsRegion": "local",
    "SipRuleId": "rule",
    "SipMediaApplicationId": "sma",
    "Participants": [
      {"CallId": "call-1", "ParticipantTag": "LEG-A", "To": "+15550100", "From": "+15550199",
       "Direction": "Inbound", "StartTimeInMilliseconds": "1641998241509", "Status": "Connected",
       "SipHeaders": {"X-Foo": "bar", "User-to-User": "uu"}},
      {"CallId": "call-2", "ParticipantTag": "LEG-B", "Direction": "Outbound", "Status": "Connected"}
    ]
  }
}`

// decodeCases are compared with encoding/json: valid Chime events, the
// corner cases of its semantics, and malformed input.
var decodeCases = []struct {
	name  string
	input string
}{
	{name: "sample", input: sampleEvent},
	{name: "empty object", input: `{}`},
	{name: "top-level null", input: `null`},
	{name: "whitespace around", input: " \t\r\n{} \n"},
	{name: "sequence as string", input: `{"Sequence":"42"}`},
	{name: "sequence negative", input: `{"Sequence":-7}`},
	{name: "sequence fraction", input: `{"Sequence":1.5}`},
	{name: "sequence exponent", input: `{"Sequence":1e3}`},
	{name: "sequence overflow", input: `{"Sequence":99999999999999999999}`},
	{name: "sequence bad string", input: `{"Sequence":"x"}`},
	{name: "sequence padded string", input: `{"Sequence":" 1"}`},
	{name: "sequence null keeps", input: `{"Sequence":5,"Sequence":null}`},
	{name: "sequence duplicate last wins", input: `{"Sequence":"x1","Sequence":2}`},
	{name: "sequence bool", input: `{"Sequence":true}`},
	{name: "sequence object", input: `{"Sequence":{}}`},
	{name: "string null keeps", input: `{"SchemaVersion":"1.0","SchemaVersion":null}`},
	{name: "string as number", input: `{"SchemaVersion":1}`},
	{name: "string as object", input: `{"InvocationEventType":{}}`},
	{name: "case-insensitive key", input: `{"invocationeventtype":"HANGUP"}`},
	{name: "exact key beats folded", input: `{"SCHEMAVERSION":"a","SchemaVersion":"b"}`},
	{name: "folded after exact", input: `{"SchemaVersion":"b","schemaversion":"a"}`},
	{name: "kelvin sign folds to k", input: `{"CallDetails":{"TransactionAttributes":{}},"ActionData":{"\u212aey":"x"}}`},
	{name: "long s folds to s", input: `{"\u017fchemaVersion":"1.0"}`},
	{name: "escapes", input: `{"SchemaVersion":"a\"b\\c\/d\be\ff\ng\rh\ti"}`},
	{name: "unicode escape", input: `{"SchemaVersion":"\u00e9\u4e2d"}`},
	{name: "surrogate pair", input: `{"SchemaVersion":"\ud83d\ude00"}`},
	{name: "lone high surrogate", input: `{"SchemaVersion":"\ud83dx"}`},
	{name: "lone low surrogate", input: `{"SchemaVersion":"\ude00"}`},
	{name: "high then high", input: `{"SchemaVersion":"\ud83d\ud83d\ude00"}`},
	{name: "high then non-surrogate escape", input: `{"SchemaVersion":"\ud83d\u0041"}`},
	{name: "invalid utf-8", input: "{\"SchemaVersion\":\"a\xffb\xc3\"}"},
	{name: "encoded surrogate is invalid utf-8", input: "{\"SchemaVersion\":\"\xed\xa0\x80\"}"},
	{name: "raw utf-8", input: `{"SchemaVersion":"héllo 😀"}`},
	{name: "control char in string", input: "{\"SchemaVersion\":\"a\x01\"}"},
	{name: "bad escape", input: `{"SchemaVersion":"\x"}`},
	{name: "short unicode escape", input: `{"SchemaVersion":"\u12"}`},
	{name: "unterminated string", input: `{"SchemaVersion":"abc`},
	{name: "escaped key", input: `{"Schema\u0056ersion":"1.0"}`},
	{name: "unknown fields skipped", input: `{"X":[1,{"a":[true,false,null]},"s",-0.5e+3],"SchemaVersion":"1.0"}`},
	{name: "unknown invalid number", input: `{"X":01}`},
	{name: "unknown bad literal", input: `{"X":tru}`},
	{name: "unknown trailing dot", input: `{"X":1.}`},
	{name: "unknown bare minus", input: `{"X":-}`},
	{name: "trailing comma object", input: `{"SchemaVersion":"1.0",}`},
	{name: "trailing comma array", input: `{"X":[1,]}`},
	{name: "missing colon", input: `{"SchemaVersion" "1.0"}`},
	{name: "missing comma", input: `{"a":1 "b":2}`},
	{name: "trailing garbage", input: `{} x`},
	{name: "two values", input: `{}{}`},
	{name: "empty input", input: ``},
	{name: "only whitespace", input: `  `},
	{name: "top-level array", input: `[]`},
	{name: "top-level string", input: `"x"`},
	{name: "top-level number", input: `1`},
	{name: "unclosed object", input: `{"SchemaVersion":"1.0"`},
	{name: "action data null", input: `{"ActionData":null}`},
	{name: "action data merge", input: `{"ActionData":{"Type":"a"},"ActionData":{"ReceivedDigits":"1"}}`},
	{name: "action data reset by null", input: `{"ActionData":{"Type":"a"},"ActionData":null}`},
	{name: "action data string", input: `{"ActionData":"x"}`},
	{name: "parameters null", input: `{"ActionData":{"Parameters":null}}`},
	{name: "parameters array", input: `{"ActionData":{"Parameters":[1, 2 ,3]}}`},
	{name: "parameters with spaces kept", input: `{"ActionData":{"Parameters": { "a" : [ 1 ] } }}`},
	{name: "parameters duplicate", input: `{"ActionData":{"Parameters":{"a":1},"Parameters":"s"}}`},
	{name: "parameters invalid", input: `{"ActionData":{"Parameters":{"a":}}}`},
	{name: "call recording result", input: `{"ActionData":{"Type":"StartCallRecording","CallRecordingDestination":{"Type":"S3","Location":"b/k.wav"}}}`},
	{name: "recording results", input: `{"ActionData":{"Type":"RecordAudio","RecordingDestination":{"Type":"S3","BucketName":"b","Key":"k"},"RecordingTerminatorUsed":"#"}}`},
	{name: "call details null", input: `{"CallDetails":{"TransactionId":"t"},"CallDetails":null}`},
	{name: "call details array", input: `{"CallDetails":[]}`},
	{name: "attributes null", input: `{"CallDetails":{"TransactionAttributes":null}}`},
	{name: "attributes empty", input: `{"CallDetails":{"TransactionAttributes":{}}}`},
	{name: "attributes null value", input: `{"CallDetails":{"TransactionAttributes":{"k":null}}}`},
	{name: "attributes number value", input: `{"CallDetails":{"TransactionAttributes":{"k":1}}}`},
	{name: "attributes duplicate keys", input: `{"CallDetails":{"TransactionAttributes":{"k":"1","k":"2"}}}`},
	{name: "attributes merged", input: `{"CallDetails":{"TransactionAttributes":{"a":"1"},"TransactionAttributes":{"b":"2"}}}`},
	{name: "attributes escaped key", input: `{"CallDetails":{"TransactionAttributes":{"\u0041\n":"v"}}}`},
	{name: "attributes as array", input: `{"CallDetails":{"TransactionAttributes":[]}}`},
	{name: "participants null", input: `{"CallDetails":{"Participants":null}}`},
	{name: "participants empty", input: `{"CallDetails":{"Participants":[]}}`},
	{name: "participant null element", input: `{"CallDetails":{"Participants":[null,{"CallId":"c"}]}}`},
	{name: "participant string element", input: `{"CallDetails":{"Participants":["x"]}}`},
	{name: "participants object", input: `{"CallDetails":{"Participants":{}}}`},
	{name: "participants decoded into", input: `{"CallDetails":{"Participants":[{"CallId":"a"},{"CallId":"b"}],"Participants":[{"To":"x"}]}}`},
	{name: "participants stale capacity", input: `{"CallDetails":{"Participants":[{"CallId":"a"},{"CallId":"b"}],"Participants":[],"Participants":[{},{}]}}`},
	{name: "sip headers", input: `{"CallDetails":{"Participants":[{"SipHeaders":{"X-A":"1","Diversion":"<sip:a@b>"}}]}}`},
	{name: "sip headers null", input: `{"CallDetails":{"Participants":[{"SipHeaders":null}]}}`},
	{name: "top-level error fields", input: `{"InvocationEventType":"INVALID_LAMBDA_RESPONSE","ErrorType":"InvalidActionParameter","ErrorMessage":"bad"}`},
	{name: "nul byte after value", input: "{}\x00"},
	{name: "host order compact", input: `{"SchemaVersion":"1.0","Sequence":7,"InvocationEventType":"CALL_UPDATE_REQUESTED","ActionData":{"Type":"CallUpdateRequest","Parameters":{"Arguments":{"JoinToken":"t"}}},"CallDetails":{"TransactionId":"tx","TransactionAttributes":{},"Participants":[{"CallId":"c","ParticipantTag":"LEG-A"}]},"ErrorType":"e","ErrorMessage":"m"}`},
	{name: "host order with a gap and a repeat", input: `{"SchemaVersion":"1.0","InvocationEventType":"HANGUP","CallDetails":{"TransactionId":"a"},"CallDetails":{"AwsRegion":"r"},"SchemaVersion":"2"}`},
	{name: "host order then spaced", input: `{"SchemaVersion":"1.0", "Sequence" : 2 ,"InvocationEventType":"X"}`},
	{name: "host key then garbage", input: `{"SchemaVersion":"1.0","Sequence":}`},
	{name: "deep unknown", input: `{"X":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`},
}

func TestDecodeEventMatchesEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			compareWithReference(t, []byte(c.input))
		})
	}
}

func TestDecodeEventErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr error
	}{
		{name: "syntax", input: `{"a":}`, wantErr: ErrSyntax},
		{name: "type", input: `{"SchemaVersion":1}`, wantErr: ErrType},
		{name: "too deep", input: `{"X":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, wantErr: ErrTooDeep},
		{name: "sequence not an integer", input: `{"Sequence":1.5}`, wantErr: strconv.ErrSyntax},
		{name: "sequence out of range", input: `{"Sequence":9223372036854775808}`, wantErr: strconv.ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tt.input))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeEvent error = %v, want %v", err, tt.wantErr)
			}
			var jerr *JSONError
			if !errors.As(err, &jerr) {
				t.Fatalf("DecodeEvent error %T is not a *JSONError", err)
			}
		})
	}
}

func TestDecodeEventFields(t *testing.T) {
	e, err := DecodeEvent([]byte(sampleEvent))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "sequence", got: e.Sequence, want: int64(3)},
		{name: "type", got: e.InvocationEventType, want: EventActionSuccessful},
		{name: "digits", got: e.ReceivedDigits(), want: "12"},
		{name: "action type", got: e.ActionType(), want: "PlayAudioAndGetDigits"},
		{name: "attribute", got: e.Attribute("tries"), want: "1"},
		{name: "missing attribute", got: e.Attribute("nope"), want: ""},
		{name: "leg B", got: e.Participant(LegB).CallID, want: "call-2"},
		{name: "leg A header", got: e.Participant(LegA).SipHeaders["X-Foo"], want: "bar"},
		{name: "start time string", got: e.Participant(LegA).StartTimeInMilliseconds, want: "1641998241509"},
		{name: "no such leg", got: e.Participant("LEG-C") == nil, want: true},
		{name: "parameters kept verbatim", got: string(e.ActionData().Parameters), want: `{"CallId": "call-1", "AudioSource": {"Type": "S3", "BucketName": "b", "Key": "k.wav"}, "Repeat": "3"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c.input))
	}
	// Events in the host's layout, which take decodeEventLazy's fast path.
	f.Add([]byte(hostEvent))
	f.Add([]byte(`{"SchemaVersion":"1.0","Sequence":7,"InvocationEventType":"ACTION_FAILED","ActionData":{"Type":"PlayAudio","Parameters":{"CallId":"c"},"ErrorType":"x"},"CallDetails":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithReference(t, data)
	})
}

func BenchmarkDecodeEvent(b *testing.B) {
	data := []byte(sampleEvent)
	b.Run("sdk", func(b *testing.B) {
		var d decoder
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var e Event
			if err := d.decodeEvent(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m mirrorEvent
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
