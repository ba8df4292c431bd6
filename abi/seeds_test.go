package abi

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// jsonEqual compares two JSON texts by value.
func jsonEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON differs\ngot:  %s\nwant: %s", got, want)
	}
}

// The actions and responses of the Chime docs (seeds/000–002 and the
// reference). want is the same JSON written by hand with numbers and
// booleans normalized, as Action.Decode + NewAction must re-encode it.
func TestSeedResponsesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "PlayAudio of the programming model page",
			in:   `{"SchemaVersion":"1.0","Actions":[{ "Type": "PlayAudio", "Parameters": { "CallId": "call-id-1", "ParticipantTag": "LEG-A", "PlaybackTerminators": ["1", "8", "#"], "Repeat": "5", "AudioSource": { "Type": "S3", "BucketName": "valid-S3-bucket-name", "Key": "wave-file.wav" } } }]}`,
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"CallId":"call-id-1","ParticipantTag":"LEG-A","PlaybackTerminators":["1","8","#"],"Repeat":5,"AudioSource":{"Type":"S3","BucketName":"valid-S3-bucket-name","Key":"wave-file.wav"}}}]}`,
		},
		{
			name: "RecordAudio of the RecordAudio page",
			in: `{"SchemaVersion":"1.0","Actions":[{
    "Type": "RecordAudio",
    "Parameters": {
        "CallId": "call-id-1",
        "DurationInSeconds": "10",
        "SilenceDurationInSeconds": 3,
        "SilenceThreshold": 100,
        "RecordingTerminators": [
            "#"
        ],
        "RecordingDestination": {
            "Type": "S3",
            "BucketName": "valid-bucket-name",
            "Prefix": "valid-prefix-name"
        }
    }
}]}`,
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"RecordAudio","Parameters":{"CallId":"call-id-1","DurationInSeconds":10,"SilenceDurationInSeconds":3,"SilenceThreshold":100,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"valid-bucket-name","Prefix":"valid-prefix-name"}}}]}`,
		},
		{
			name: "update-call sample handler, NEW_INBOUND_CALL",
			in:   `{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"ParticipantTag":"LEG-A","AudioSource":{"Type":"S3","BucketName":"chime-meetings-audio-files-bucket-name","Key":"welcome.wav"}}}]}`,
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"ParticipantTag":"LEG-A","AudioSource":{"Type":"S3","BucketName":"chime-meetings-audio-files-bucket-name","Key":"welcome.wav"}}}]}`,
		},
		{
			name: "update-call sample handler, CALL_UPDATE_REQUESTED",
			in:   `{"SchemaVersion":"1.0","Actions":[{"Type":"JoinChimeMeeting","Parameters":{"JoinToken":"abc123"}}]}`,
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"JoinChimeMeeting","Parameters":{"JoinToken":"abc123"}}]}`,
		},
		{
			name: "update-call sample handler, default",
			in:   `{"SchemaVersion":"1.0","Actions":[]}`,
			want: `{"SchemaVersion":"1.0","Actions":[]}`,
		},
		{
			name: "VoiceFocus of the VoiceFocus page (True written as JSON true)",
			in:   `{"SchemaVersion": "1.0","Actions":[{"Type": "VoiceFocus","Parameters": {"Enable": true,"CallId": "call-id-1","ParticipantTag": "LEG-A"}}]}`,
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"VoiceFocus","Parameters":{"Enable":true,"CallId":"call-id-1","ParticipantTag":"LEG-A"}}]}`,
		},
		{
			name: "reference response with attributes",
			in:   `{ "SchemaVersion": "1.0", "Actions": [ { "Type": "Hangup", "Parameters": { "SipResponseCode": "0" } } ], "TransactionAttributes": { "k": "v" } }`,
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{"SipResponseCode":0}}],"TransactionAttributes":{"k":"v"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateResponse(r, DefaultLimits(), twoLegs()); err != nil {
				t.Fatal(err)
			}
			out := []Action{}
			for _, a := range r.ActionList() {
				p, err := a.Decode()
				if err != nil {
					t.Fatal(err)
				}
				na, err := NewAction(a.Type, p)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, na)
			}
			r.Actions = &out
			b, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, b, []byte(tt.want))
		})
	}
}

// The VoiceFocus page writes "Enable": True, which is not JSON; a handler
// that sends it gets a precise error, not a crash.
func TestSeedVoiceFocusLiteralTrue(t *testing.T) {
	_, err := ParseResponse([]byte(`{"SchemaVersion":"1.0","Actions":[{"Type":"VoiceFocus","Parameters":{"Enable": True}}]}`))
	if !errors.Is(err, ErrMalformedJSON) {
		t.Fatalf("err = %v, want ErrMalformedJSON", err)
	}
}

const seedCallDetails = `{
    "TransactionId": "1322a4e7-c106-4e70-aaaf-a8fa4c77c0cb",
    "TransactionAttributes": { "k": "v" },
    "AwsAccountId": "tenant-1", "AwsRegion": "local", "SipRuleId": "rule-1",
    "SipMediaApplicationId": "feb37a7e-2b66-49fb-b2dd-30f4780dc36d",
    "Participants": [
      { "CallId": "call-id-1", "ParticipantTag": "LEG-A", "To": "+12065550100", "From": "+15105550101",
        "Direction": "Inbound", "StartTimeInMilliseconds": "1641998241509", "Status": "Connected",
        "SipHeaders": { "X-Foo": "bar", "User-to-User": "616263;encoding=hex", "Diversion": "<sip:+1@x>" } },
      { "CallId": "call-id-2", "ParticipantTag": "LEG-B", "To": "+12065550102", "From": "+12065550100",
        "Direction": "Outbound", "StartTimeInMilliseconds": "1641998245000", "Status": "Connected" }
    ] }`

// The events of the docs (with the "..." of the docs filled in) survive
// ParseEvent + Marshal unchanged, and their ActionData decodes.
func TestSeedEventsRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantType EventType
		wantData any
	}{
		{
			name:     "reference envelope",
			in:       `{ "SchemaVersion": "1.0", "Sequence": 3, "InvocationEventType": "ACTION_SUCCESSFUL", "ActionData": { "Type": "PlayAudioAndGetDigits", "Parameters": {"AudioSource":{"Type":"S3","BucketName":"b","Key":"k"},"RepeatDurationInMilliseconds":3000}, "ReceivedDigits": "12" }, "CallDetails": ` + seedCallDetails + `}`,
			wantType: EventActionSuccessful,
			wantData: &PlayAudioAndGetDigitsParameters{AudioSource: AudioSource{Type: "S3", BucketName: "b", Key: "k"}, RepeatDurationInMilliseconds: NewInt(3000)},
		},
		{
			name:     "CALL_UPDATE_REQUESTED",
			in:       `{"SchemaVersion": "1.0","Sequence": 2,"InvocationEventType": "CALL_UPDATE_REQUESTED","ActionData": {"Type": "CallUpdateRequest","Parameters": {"Arguments": {"JoinToken": "abc123"}}},"CallDetails": ` + seedCallDetails + `}`,
			wantType: EventCallUpdateRequested,
			wantData: &CallUpdateRequestParameters{Arguments: map[string]string{"JoinToken": "abc123"}},
		},
		{
			name:     "RecordAudio ACTION_SUCCESSFUL",
			in:       `{"SchemaVersion": "1.0","Sequence": 4,"InvocationEventType": "ACTION_SUCCESSFUL","ActionData": {"Type" : "RecordAudio","Parameters": {"CallId":"call-id-1","RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"valid-bucket-name"}},"RecordingDestination": {"Type": "S3","BucketName": "valid-bucket-name","Key": "valid-S3-key"},"RecordingTerminatorUsed":"#"},"CallDetails": ` + seedCallDetails + `}`,
			wantType: EventActionSuccessful,
			wantData: &RecordAudioParameters{CallID: "call-id-1", RecordingTerminators: []string{"#"}, RecordingDestination: RecordingDestination{Type: "S3", BucketName: "valid-bucket-name"}},
		},
		{
			name:     "RecordAudio ACTION_FAILED",
			in:       `{"SchemaVersion": "1.0","Sequence": 5,"InvocationEventType": "ACTION_FAILED","ActionData": {"Type" : "RecordAudio","Parameters": {"CallId":"call-id-1"},"ErrorType": "InvalidActionParameter","ErrorMessage": "RecordingDestination parameter value is invalid."},"CallDetails": ` + seedCallDetails + `}`,
			wantType: EventActionFailed,
			wantData: &RecordAudioParameters{CallID: "call-id-1"},
		},
		{
			name:     "VoiceFocus ACTION_SUCCESSFUL",
			in:       `{"SchemaVersion": "1.0","Sequence": 3,"InvocationEventType": "ACTION_SUCCESSFUL","ActionData": {"Type": "VoiceFocus","Parameters": {"Enable": true,"CallId": "call-id-1"}},"CallDetails": ` + seedCallDetails + `}`,
			wantType: EventActionSuccessful,
			wantData: &VoiceFocusParameters{Enable: NewBool(true), CallID: "call-id-1"},
		},
		{
			name:     "HANGUP",
			in:       `{"SchemaVersion":"1.0","Sequence":6,"InvocationEventType":"HANGUP","ActionData":{"Type":"Hangup","Parameters":{"SipResponseCode":"0","CallId":"call-id-2","ParticipantTag":"LEG-B"}},"CallDetails":` + seedCallDetails + `}`,
			wantType: EventHangup,
			wantData: &HangupParameters{SipResponseCode: NewInt(0), CallID: "call-id-2", ParticipantTag: LegB},
		},
		{
			name:     "INVALID_LAMBDA_RESPONSE",
			in:       `{"SchemaVersion":"1.0","Sequence":2,"InvocationEventType":"INVALID_LAMBDA_RESPONSE","ErrorType":"TransactionAttributesInvalidMapSize","ErrorMessage":"TransactionAttributes has 101 pairs: must be at most 100","CallDetails":` + seedCallDetails + `}`,
			wantType: EventInvalidLambdaResponse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEvent([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if e.InvocationEventType != tt.wantType {
				t.Fatalf("type = %s, want %s", e.InvocationEventType, tt.wantType)
			}
			if len(e.CallDetails.Participants) != 2 || e.CallDetails.Participants[0].SipHeaders["X-Foo"] != "bar" {
				t.Fatalf("participants not decoded: %+v", e.CallDetails.Participants)
			}
			b, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, b, []byte(tt.in))
			if tt.wantData == nil {
				if e.ActionData != nil {
					t.Fatalf("unexpected ActionData %+v", e.ActionData)
				}
				return
			}
			got, err := e.ActionData.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.wantData) {
				t.Fatalf("ActionData params = %+v, want %+v", got, tt.wantData)
			}
		})
	}
}
