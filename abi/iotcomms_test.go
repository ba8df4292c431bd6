package abi

import (
	"errors"
	"strings"
	"testing"
)

func TestParseIotAnswer(t *testing.T) {
	tests := []struct {
		name string
		cb   Callback
		body string
		want string // error text, "" for none
	}{
		{name: "empty body", cb: CallbackCallEvent, body: ``},
		{name: "empty object", cb: CallbackCallEvent, body: `{}`},
		{name: "drop", cb: CallbackCallEvent, body: `{"action":"drop"}`},
		{name: "call", cb: CallbackNewCall, body: `{"action":"call","destAddr":"sip:b@example.com","callRecording":true,"filename":"rec1","monitorDestAddr":"+15550199"}`},
		{name: "ivr", cb: CallbackNewCall, body: `{"action":"ivr"}`},
		{name: "connect", cb: CallbackCallEvent, body: `{"action":"connect","participantId":"p1","replyId":"r1"}`},
		{name: "join", cb: CallbackCallEvent, body: `{"action":"joinconferenceconnection","connectionId":"c9"}`},
		{name: "connect on newCall", cb: CallbackNewCall, body: `{"action":"connect","participantId":"p1"}`, want: `unknown action "connect"`},
		{name: "unknown action", cb: CallbackCallEvent, body: `{"action":"park"}`, want: `unknown action "park"`},
		{name: "call without destAddr", cb: CallbackCallEvent, body: `{"action":"call"}`, want: "needs destAddr"},
		{name: "connect without participant", cb: CallbackCallEvent, body: `{"action":"connect"}`, want: "needs participantId"},
		{name: "join the only conference", cb: CallbackCallEvent, body: `{"action":"joinconferenceconnection"}`},
		{name: "recording without file", cb: CallbackNewCall, body: `{"action":"call","destAddr":"+1555","callRecording":true}`, want: "needs filename"},
		{name: "not JSON", cb: CallbackNewCall, body: `action=drop`, want: "not a JSON object"},
		{name: "array", cb: CallbackNewCall, body: `[]`, want: "not a JSON object"},
		{name: "wrong type", cb: CallbackNewCall, body: `{"action":5}`, want: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIotAnswer([]byte(tt.body), tt.cb)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidResponse)):
				t.Fatalf("error %v, want %q wrapping ErrInvalidResponse", err, tt.want)
			}
		})
	}
}

func TestParseIvrCommand(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "seed greeting", body: `{"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome. Press 1 for sales and 2 for support."}}]}`},
		{name: "seed hold music", body: `{"backgroundPrompt":{"format":"file","fileName":"holdmusic.mp3","repeatPause":0.5},"hangup":false}`},
		{name: "hangup", body: `{"phrases":[{"format":"file","fileName":"bye.wav"}],"hangup":true}`},
		{name: "placeivrcall call", body: `{"action":"call","destAddr":"+15550123"}`},
		{name: "url phrase", body: `{"phrases":[{"format":"url","url":"https://prompts.example.com/a.wav"}]}`},
		{name: "record", body: `{"record":{"fileName":"msg1","maxSeconds":30,"terminator":"#"}}`},
		{name: "unknown format", body: `{"phrases":[{"format":"midi","fileName":"x"}]}`, want: `unknown format "midi"`},
		{name: "file without name", body: `{"phrases":[{"format":"file"}]}`, want: "needs fileName"},
		{name: "tts without text", body: `{"phrases":[{"format":"awstts","awsTTSParameters":{}}]}`, want: "needs awsTTSParameters.Text"},
		{name: "ftp url", body: `{"phrases":[{"format":"url","url":"ftp://x/a.wav"}]}`, want: "http(s) url"},
		{name: "bad terminator", body: `{"dtmf":{"terminator":"x"}}`, want: "dtmf.terminator"},
		{name: "min over max", body: `{"dtmf":{"minDigits":3,"maxDigits":2}}`, want: "minDigits above maxDigits"},
		{name: "action drop", body: `{"action":"drop"}`, want: "must be call"},
		{name: "negative wait", body: `{"getIVRCommandAfter":-1}`, want: "getIVRCommandAfter"},
		{name: "record without file", body: `{"record":{"maxSeconds":3}}`, want: "record:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIvrCommand([]byte(tt.body))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidResponse)):
				t.Fatalf("error %v, want %q wrapping ErrInvalidResponse", err, tt.want)
			}
		})
	}
}

func FuzzIotAnswers(f *testing.F) {
	f.Add([]byte(`{"action":"call","destAddr":"sip:b@x","callRecording":true,"filename":"r"}`))
	f.Add([]byte(`{"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"hi"}}],"backgroundPrompt":{"format":"file","fileName":"m"}}`))
	f.Add([]byte(`{"callback":"getIvrCommand","sessionId":"s","dtmfParams":{"dtmfMatch":"2","reason":"maxDigits"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, cb := range AllCallbacks() {
			if a, err := ParseIotAnswer(b, cb); err == nil && a == nil {
				t.Fatal("nil answer without error")
			}
		}
		if c, err := ParseIvrCommand(b); err == nil && c == nil {
			t.Fatal("nil command without error")
		}
		if r, err := ParseIotRequest(b); err == nil && r == nil {
			t.Fatal("nil request without error")
		}
	})
}
