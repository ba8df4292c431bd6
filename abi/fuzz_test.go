package abi

import (
	"errors"
	"testing"
)

func FuzzParseResponse(f *testing.F) {
	seeds := []string{
		`{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"Repeat":"5","AudioSource":{"Type":"S3","BucketName":"b","Key":"k"}}}]}`,
		`{"Actions":[{"Type":"RecordAudio","Parameters":{"DurationInSeconds":"10","RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"b"}}}]}`,
		`{"Actions":[{"Type":"CallAndBridge","Parameters":{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550100"}],"SipHeaders":{"X-A":"b"}}}]}`,
		`{"Actions":[{"Type":"VoiceFocus","Parameters":{"Enable":"True"}}],"TransactionAttributes":{}}`,
		`{"Actions":[{"Type":"SpeakAndGetDigits","Parameters":{"SpeechParameters":{"Text":"x"},"InputDigitsRegex":"^\\d+$","RepeatDurationInMilliseconds":1}}]}`,
		`{"Actions":[{"Type":"StartBotConversation","Parameters":{"BotAliasArn":"a","LocaleId":"l","Configuration":{"SessionState":{"Intent":{"Name":"n"}}}}}]}`,
		`{"Actions":null}`, `{}`, `[]`, `{"Actions":[{}]}`, `{"Actions":[{"Type":"Pause","Parameters":[]}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			var ae *ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("ParseResponse error is not an *ActionError: %v", err)
			}
			return
		}
		for _, parts := range [][]Participant{nil, twoLegs()} {
			if err := ValidateResponse(r, DefaultLimits(), parts); err != nil {
				var ae *ActionError
				if !errors.As(err, &ae) {
					t.Fatalf("ValidateResponse error is not an *ActionError: %v", err)
				}
			}
		}
		for _, a := range r.ActionList() {
			_, _ = a.Decode()
		}
		// What parsed must encode and parse again with the same presence.
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := ParseResponse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if (back.Actions == nil) != (r.Actions == nil) || (back.TransactionAttributes == nil) != (r.TransactionAttributes == nil) {
			t.Fatalf("presence changed after round trip: %s", out)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL","CallDetails":` + seedCallDetails + `}`))
	f.Add([]byte(`{"InvocationEventType":"CALL_UPDATE_REQUESTED","ActionData":{"Type":"CallUpdateRequest","Parameters":{"Arguments":{"a":"b"}}}}`))
	f.Add([]byte(`{"ActionData":{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEvent(b)
		if err != nil {
			return
		}
		if e.ActionData != nil {
			_, _ = e.ActionData.Decode()
		}
		if _, err := e.Marshal(); err != nil {
			t.Fatalf("Marshal: %v", err)
		}
	})
}
