//go:build !wasip1

package mediaserver

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// The mirrors of the iotcomms types for encoding/json, with abi's JSON
// names (sdk/gen's tests check the SDK's names against abi itself): the
// reference the reflection-free decoder and writers must agree with.
type mirrorIotRequest struct {
	Callback              string            `json:"callback,omitempty"`
	SessionID             string            `json:"sessionId"`
	TenantID              string            `json:"tenantId,omitempty"`
	ApplicationID         string            `json:"applicationId,omitempty"`
	ParticipantID         string            `json:"participantId,omitempty"`
	User                  string            `json:"user,omitempty"`
	From                  string            `json:"from,omitempty"`
	To                    string            `json:"to,omitempty"`
	Direction             string            `json:"direction,omitempty"`
	Headers               map[string]string `json:"headers,omitempty"`
	Event                 string            `json:"event,omitempty"`
	Code                  int               `json:"code,omitempty"`
	ConnectionID          string            `json:"connectionId,omitempty"`
	CallerParticipantID   string            `json:"callerParticipantId,omitempty"`
	CalleeParticipantID   string            `json:"calleeParticipantId,omitempty"`
	ConferenceConnection  bool              `json:"conferenceConnection,omitempty"`
	ReplyID               string            `json:"replyId,omitempty"`
	PreviousCommandFailed string            `json:"previousCommandFailed,omitempty"`
	DtmfParams            *mirrorDtmfParams `json:"dtmfParams,omitempty"`
	FileName              string            `json:"fileName,omitempty"`
	Location              string            `json:"location,omitempty"`
	Duration              int               `json:"durationSeconds,omitempty"`
}

type mirrorDtmfParams struct {
	DtmfMatch string `json:"dtmfMatch"`
	Reason    string `json:"reason"`
}

type mirrorIotAnswer struct {
	Action          string `json:"action,omitempty"`
	DestAddr        string `json:"destAddr,omitempty"`
	FromAddr        string `json:"fromAddr,omitempty"`
	Timeout         int    `json:"timeout,omitempty"`
	ParticipantID   string `json:"participantId,omitempty"`
	ConnectionID    string `json:"connectionId,omitempty"`
	ReplyID         string `json:"replyId,omitempty"`
	CallRecording   bool   `json:"callRecording,omitempty"`
	FileName        string `json:"filename,omitempty"`
	MonitorDestAddr string `json:"monitorDestAddr,omitempty"`
}

type mirrorIvrCommand struct {
	Dtmf               *mirrorDtmfCommand   `json:"dtmf,omitempty"`
	Phrases            []mirrorPhrase       `json:"phrases,omitempty"`
	BackgroundPrompt   *mirrorPhrase        `json:"backgroundPrompt,omitempty"`
	Hangup             bool                 `json:"hangup,omitempty"`
	GetIVRCommandAfter float64              `json:"getIVRCommandAfter,omitempty"`
	Action             string               `json:"action,omitempty"`
	DestAddr           string               `json:"destAddr,omitempty"`
	FromAddr           string               `json:"fromAddr,omitempty"`
	Record             *mirrorRecordCommand `json:"record,omitempty"`
}

type mirrorDtmfCommand struct {
	MaxDigits         int     `json:"maxDigits,omitempty"`
	MinDigits         int     `json:"minDigits,omitempty"`
	Terminator        string  `json:"terminator,omitempty"`
	Timeout           float64 `json:"timeout,omitempty"`
	InterDigitTimeout float64 `json:"interDigitTimeout,omitempty"`
}

type mirrorPhrase struct {
	Format           string     `json:"format"`
	FileName         string     `json:"fileName,omitempty"`
	URL              string     `json:"url,omitempty"`
	AwsTTSParameters *mirrorTTS `json:"awsTTSParameters,omitempty"`
	RepeatPause      float64    `json:"repeatPause,omitempty"`
}

type mirrorTTS struct {
	Text         string `json:"Text"`
	TextType     string `json:"TextType,omitempty"`
	VoiceID      string `json:"VoiceId,omitempty"`
	LanguageCode string `json:"LanguageCode,omitempty"`
	Engine       string `json:"Engine,omitempty"`
}

type mirrorRecordCommand struct {
	FileName   string `json:"fileName"`
	MaxSeconds int    `json:"maxSeconds,omitempty"`
	Terminator string `json:"terminator,omitempty"`
}

// referenceIot decodes a callback body with encoding/json into the SDK's
// type.
func referenceIot(data []byte) (*IotRequest, error) {
	var m mirrorIotRequest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	r := &IotRequest{Callback: m.Callback, SessionID: m.SessionID, TenantID: m.TenantID, ApplicationID: m.ApplicationID,
		ParticipantID: m.ParticipantID, User: m.User, From: m.From, To: m.To, Direction: m.Direction, Headers: m.Headers,
		Event: m.Event, Code: m.Code, ConnectionID: m.ConnectionID, CallerParticipantID: m.CallerParticipantID,
		CalleeParticipantID: m.CalleeParticipantID, ConferenceConnection: m.ConferenceConnection, ReplyID: m.ReplyID,
		PreviousCommandFailed: m.PreviousCommandFailed, FileName: m.FileName, Location: m.Location, DurationSeconds: m.Duration}
	if m.DtmfParams != nil {
		r.DtmfParams = &DtmfParams{DtmfMatch: m.DtmfParams.DtmfMatch, Reason: m.DtmfParams.Reason}
	}
	return r, nil
}

// compareIotWithReference decodes data with the SDK (fresh, and through a
// reused decoder as dispatch does) and with encoding/json: both fail, or
// both give the same request.
func compareIotWithReference(t *testing.T, data []byte) {
	t.Helper()
	want, werr := referenceIot(data)
	got, gerr := DecodeIotRequest(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("input %q: sdk error %v, encoding/json error %v", data, gerr, werr)
	}
	if werr != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("input %q:\n sdk  %+v\n json %+v", data, got, want)
	}
	// Reused: a previous callback's map and dtmfParams must not leak.
	var d decoder
	r := &IotRequest{}
	if err := d.decodeIotRequest([]byte(`{"headers":{"X-Old":"1"},"dtmfParams":{"dtmfMatch":"9","reason":"x"},"code":5}`), r); err != nil {
		t.Fatal(err)
	}
	d.recycleIot(r)
	if err := d.decodeIotRequest(data, r); err != nil {
		t.Fatalf("input %q: reused decoder: %v", data, err)
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("input %q, reused decoder:\n sdk  %+v\n json %+v", data, r, want)
	}
}

const sampleCallback = `{"callback":"getIvrCommand","sessionId":"s1","tenantId":"demo","applicationId":"app","participantId":"s1/p2",` +
	`"user":"+15550001","connectionId":"s1/1","callerParticipantId":"s1/p1","replyId":"r1","dtmfParams":{"dtmfMatch":"2","reason":"maxDigits"}}`

var iotDecodeCases = []struct {
	name  string
	input string
}{
	{name: "getIvrCommand", input: sampleCallback},
	{name: "newCall", input: `{"callback":"newCall","sessionId":"s1","participantId":"s1/p1","user":"+15550001","from":"+15550001","to":"+15550100","direction":"inbound","headers":{"X-Case":"42","User-to-User":"abc"}}`},
	{name: "callEvent", input: `{"callback":"callEvent","sessionId":"s1","event":"callFailed","participantId":"s1/p1","code":486,"replyId":"r"}`},
	{name: "recordingReady", input: `{"callback":"recordingReady","sessionId":"s1","fileName":"a.wav","location":"/promptfile/a.wav","durationSeconds":12}`},
	{name: "conference", input: `{"callback":"callAnswered","conferenceConnection":true,"conferenceConnection":false}`},
	{name: "empty", input: `{}`},
	{name: "null", input: `null`},
	{name: "spaces", input: " {\n\t\"sessionId\" : \"s\" ,\r\n \"code\" : -3 } "},
	{name: "case-insensitive", input: `{"SESSIONID":"s","DtmfParams":{"DTMFMATCH":"1"},"sessionid":"t"}`},
	{name: "exact after folded", input: `{"SessionId":"a","sessionId":"b"}`},
	{name: "duplicates merge", input: `{"headers":{"a":"1"},"headers":{"b":"2"},"dtmfParams":{"dtmfMatch":"1"},"dtmfParams":{"reason":"r"}}`},
	{name: "nulls", input: `{"sessionId":null,"headers":null,"dtmfParams":null,"code":null,"conferenceConnection":null}`},
	{name: "null header value", input: `{"headers":{"a":null}}`},
	{name: "escapes", input: `{"user":"a\"b\\c\u00e9\ud83d\ude00\n","headers":{"k\u0041":"v\/"}}`},
	{name: "unknown members", input: `{"future":{"deep":[1,2,{"x":null}]},"sessionId":"s","other":1.5e3}`},
	{name: "code fraction", input: `{"code":1.5}`},
	{name: "code exponent", input: `{"code":1e2}`},
	{name: "code huge", input: `{"code":99999999999999999999999}`},
	{name: "code string", input: `{"code":"486"}`},
	{name: "bool string", input: `{"conferenceConnection":"true"}`},
	{name: "session number", input: `{"sessionId":5}`},
	{name: "headers array", input: `{"headers":["a"]}`},
	{name: "dtmf string", input: `{"dtmfParams":"1"}`},
	{name: "array", input: `[]`},
	{name: "truncated", input: `{"sessionId":"s"`},
	{name: "trailing", input: `{} {}`},
	{name: "invalid utf-8", input: "{\"user\":\"a\xffb\"}"},
}

func TestDecodeIotRequest(t *testing.T) {
	for _, tt := range iotDecodeCases {
		t.Run(tt.name, func(t *testing.T) { compareIotWithReference(t, []byte(tt.input)) })
	}
}

func FuzzDecodeIotRequest(f *testing.F) {
	for _, c := range iotDecodeCases {
		f.Add([]byte(c.input))
	}
	f.Fuzz(func(t *testing.T, data []byte) { compareIotWithReference(t, data) })
}

// sameJSON fails unless a and b are valid JSON of the same value.
func sameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("reference not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func TestIotAnswerJSON(t *testing.T) {
	tests := []struct {
		name string
		a    *IotAnswer
		want string
	}{
		{name: "drop", a: DropAnswer(), want: `{"action":"drop"}`},
		{name: "ivr", a: IvrAnswer(), want: `{"action":"ivr"}`},
		{name: "call with recording and monitor", a: CallAnswer("+15550202").WithRecording("call-1.wav").WithMonitor("sip:mon@127.0.0.1").WithFrom("+15550100").WithTimeout(20),
			want: `{"action":"call","destAddr":"+15550202","fromAddr":"+15550100","timeout":20,"callRecording":true,"filename":"call-1.wav","monitorDestAddr":"sip:mon@127.0.0.1"}`},
		{name: "connect", a: ConnectAnswer("s1/p1").WithReplyID("r9"), want: `{"action":"connect","participantId":"s1/p1","replyId":"r9"}`},
		{name: "join", a: JoinConferenceAnswer("s1/4"), want: `{"action":"joinconferenceconnection","connectionId":"s1/4"}`},
		{name: "nil", a: nil, want: `{}`},
		{name: "empty", a: &IotAnswer{}, want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.a.AppendJSON(nil)
			if string(got) != tt.want {
				t.Fatalf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestIvrCommandJSON(t *testing.T) {
	tests := []struct {
		name string
		c    *IvrCommand
		want string
	}{
		{name: "greeting", c: Ivr().Say("Welcome. Press 1 for sales and 2 for support.").CollectDigits(1),
			want: `{"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome. Press 1 for sales and 2 for support."}}]}`},
		{name: "connecting", c: Ivr().Say("Thank you.").ThenHangup(), want: `{"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Thank you."}}],"hangup":true}`},
		{name: "hold music", c: Ivr().Background(FilePhrase("holdmusic.mp3"), 0.5).NextCommandAfter(300),
			want: `{"backgroundPrompt":{"format":"file","fileName":"holdmusic.mp3","repeatPause":0.5},"getIVRCommandAfter":300}`},
		{name: "every phrase", c: Ivr().PlayFile("a.wav").PlayURL("https://example.com/b.mp3").SayWith(AwsTTSParameters{Text: "<speak>hi</speak>", TextType: "ssml", VoiceID: "Joanna", LanguageCode: "en-US", Engine: "neural"}).
			CollectDigitsWith(DtmfCommand{MaxDigits: 4, MinDigits: 2, Terminator: "#", Timeout: 7.5, InterDigitTimeout: 2}),
			want: `{"dtmf":{"maxDigits":4,"minDigits":2,"terminator":"#","timeout":7.5,"interDigitTimeout":2},"phrases":[{"format":"file","fileName":"a.wav"},` +
				`{"format":"url","url":"https://example.com/b.mp3"},{"format":"awstts","awsTTSParameters":{"Text":"<speak>hi</speak>","TextType":"ssml","VoiceId":"Joanna","LanguageCode":"en-US","Engine":"neural"}}]}`},
		{name: "record", c: Ivr().PlayFile("beep.wav").RecordCaller(RecordCommand{FileName: "msg.wav", MaxSeconds: 30, Terminator: "#"}),
			want: `{"phrases":[{"format":"file","fileName":"beep.wav"}],"record":{"fileName":"msg.wav","maxSeconds":30,"terminator":"#"}}`},
		{name: "call", c: IvrCall("+15550911").WithFrom("+15550777"), want: `{"action":"call","destAddr":"+15550911","fromAddr":"+15550777"}`},
		{name: "not a number", c: Ivr().NextCommandAfter(math.NaN()), want: `{}`},
		{name: "tiny", c: Ivr().NextCommandAfter(1e-9), want: `{"getIVRCommandAfter":1e-9}`},
		{name: "nil", c: nil, want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.AppendJSON(nil)
			if string(got) != tt.want {
				t.Fatalf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// FuzzIotWriters compares the answers' JSON with encoding/json's of the
// mirrors.
func FuzzIotWriters(f *testing.F) {
	f.Add("call", "+15550202", "a\"b", 30, true, 0.5, 20.0, "#")
	f.Add("", "", "\xff<&>\u2028", -1, false, 1e-7, 1e21, "")
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, n int, b bool, x, y float64, s4 string) {
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return // encoding/json refuses them; the SDK leaves them out (TestIvrCommandJSON)
		}
		a := &IotAnswer{Action: s1, DestAddr: s2, FromAddr: s3, Timeout: n, ParticipantID: s4, ConnectionID: s1,
			ReplyID: s2, CallRecording: b, FileName: s3, MonitorDestAddr: s4}
		want, err := json.Marshal(mirrorIotAnswer{Action: s1, DestAddr: s2, FromAddr: s3, Timeout: n, ParticipantID: s4,
			ConnectionID: s1, ReplyID: s2, CallRecording: b, FileName: s3, MonitorDestAddr: s4})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, a.AppendJSON(nil), want)

		c := &IvrCommand{
			Dtmf:    &DtmfCommand{MaxDigits: n, MinDigits: -n, Terminator: s4, Timeout: x, InterDigitTimeout: y},
			Phrases: []Phrase{{Format: s1, FileName: s2, URL: s3, RepeatPause: y}, TTSPhrase(s4)},
			BackgroundPrompt: &Phrase{Format: s2, AwsTTSParameters: &AwsTTSParameters{Text: s1, TextType: s2,
				VoiceID: s3, LanguageCode: s4, Engine: s1}, RepeatPause: x},
			Hangup: b, GetIVRCommandAfter: x, Action: s1, DestAddr: s2, FromAddr: s3,
			Record: &RecordCommand{FileName: s4, MaxSeconds: n, Terminator: s3},
		}
		want, err = json.Marshal(mirrorIvrCommand{
			Dtmf:    &mirrorDtmfCommand{MaxDigits: n, MinDigits: -n, Terminator: s4, Timeout: x, InterDigitTimeout: y},
			Phrases: []mirrorPhrase{{Format: s1, FileName: s2, URL: s3, RepeatPause: y}, {Format: PhraseAwsTTS, AwsTTSParameters: &mirrorTTS{Text: s4}}},
			BackgroundPrompt: &mirrorPhrase{Format: s2, AwsTTSParameters: &mirrorTTS{Text: s1, TextType: s2, VoiceID: s3,
				LanguageCode: s4, Engine: s1}, RepeatPause: x},
			Hangup: b, GetIVRCommandAfter: x, Action: s1, DestAddr: s2, FromAddr: s3,
			Record: &mirrorRecordCommand{FileName: s4, MaxSeconds: n, Terminator: s3},
		})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, c.AppendJSON(nil), want)
		// Numbers are written as encoding/json writes them, not only the
		// same values.
		if got, want := string(appendFloat(nil, x)), mustMarshal(t, x); x != 0 && got != want {
			t.Fatalf("appendFloat(%v) = %s, encoding/json %s", x, got, want)
		}
	})
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withIotHandler registers fn for one test and restores the previous
// handlers.
func withIotHandler(t *testing.T, fn IotHandlerFunc) {
	t.Helper()
	prev, prevIot := guest.handler, guest.iotHandler
	HandleIot(fn)
	t.Cleanup(func() { guest.handler, guest.iotHandler = prev, prevIot })
}

// attendant answers the seed's auto-attendant callbacks, and a few that
// test the SDK's checks.
func attendant(r *IotRequest) (IotReply, error) {
	switch r.Callback {
	case CallbackNewCall:
		if r.User == "wrong" {
			return Ivr(), nil
		}
		return IvrAnswer(), nil
	case CallbackGetIvrCommand:
		switch r.Digits() {
		case "":
			return Ivr().Say("Welcome. Press 1 for sales and 2 for support.").CollectDigits(1), nil
		case "2":
			return Ivr().Say("Thank you, you will get connected to support.").ThenHangup(), nil
		case "9":
			return DropAnswer(), nil
		}
		return nil, errBoom
	case CallbackCallEvent:
		if r.Event == EventCalledPartyDrop {
			return CallAnswer("sip:callee@127.0.0.1"), nil
		}
		var none *IotAnswer
		return none, nil // a typed nil: {}
	case CallbackRecordingReady:
		Log(LevelInfo, "recording "+r.Location)
	}
	return nil, nil
}

func TestHostInvokeIot(t *testing.T) {
	withIotHandler(t, attendant)
	tests := []struct {
		name    string
		event   string
		want    string
		wantErr error
	}{
		{name: "newCall", event: `{"callback":"newCall","sessionId":"s1"}`, want: `{"action":"ivr"}`},
		{name: "greeting", event: `{"callback":"getIvrCommand","sessionId":"s1"}`,
			want: `{"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome. Press 1 for sales and 2 for support."}}]}`},
		{name: "digit", event: sampleCallback, want: `{"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Thank you, you will get connected to support."}}],"hangup":true}`},
		{name: "callEvent", event: `{"callback":"callEvent","event":"calledPartyDrop"}`, want: `{"action":"call","destAddr":"sip:callee@127.0.0.1"}`},
		{name: "typed nil", event: `{"callback":"callEvent","event":"callingPartyDrop"}`, want: `{}`},
		{name: "informational", event: `{"callback":"sessionCompleted","sessionId":"s1"}`, want: `{}`},
		{name: "command to newCall", event: `{"callback":"newCall","user":"wrong"}`, wantErr: ErrWrongAnswer},
		{name: "answer to getIvrCommand", event: `{"callback":"getIvrCommand","dtmfParams":{"dtmfMatch":"9"}}`, wantErr: ErrWrongAnswer},
		{name: "handler error", event: `{"callback":"getIvrCommand","dtmfParams":{"dtmfMatch":"7"}}`, wantErr: ErrHandler},
		{name: "malformed", event: `{"callback":`, wantErr: ErrSyntax},
		{name: "wrong type", event: `{"callback":"callEvent","code":"486"}`, wantErr: ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewHost().Invoke([]byte(tt.event))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Invoke error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && string(got) != tt.want {
				t.Fatalf("Invoke = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHandleReplacesHandleIot(t *testing.T) {
	withIotHandler(t, attendant)
	Handle(func(*Event) (*Response, error) { return Respond(), nil })
	if got, err := NewHost().Invoke([]byte(`{"callback":"newCall"}`)); err != nil || string(got) != `{"SchemaVersion":"1.0","Actions":[]}` {
		t.Fatalf("after Handle: %s, %v", got, err)
	}
	HandleIot(attendant)
	if got, err := NewHost().Invoke([]byte(`{"callback":"newCall"}`)); err != nil || string(got) != `{"action":"ivr"}` {
		t.Fatalf("after HandleIot: %s, %v", got, err)
	}
}

func TestIotWebhook(t *testing.T) {
	withIotHandler(t, attendant)
	host := NewHost()
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{name: "newCall", method: http.MethodPost, path: "/newCall", body: `{"sessionId":"s1","participantId":"s1/p1"}`,
			wantStatus: http.StatusOK, wantBody: `{"action":"ivr"}`},
		{name: "getIvrCommand", method: http.MethodPost, path: "/getIvrCommand", body: `{"sessionId":"s1","dtmfParams":{"dtmfMatch":"2","reason":"maxDigits"}}`,
			wantStatus: http.StatusOK, wantBody: `{"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Thank you, you will get connected to support."}}],"hangup":true}`},
		{name: "body names the same callback", method: http.MethodPost, path: "/callEvent", body: `{"callback":"callEvent","event":"calledPartyDrop"}`,
			wantStatus: http.StatusOK, wantBody: `{"action":"call","destAddr":"sip:callee@127.0.0.1"}`},
		{name: "the ABI's body at the base", method: http.MethodPost, path: "/", body: `{"callback":"newCall"}`,
			wantStatus: http.StatusOK, wantBody: `{"action":"ivr"}`},
		{name: "informational", method: http.MethodPost, path: "/recordingReady", body: `{"fileName":"a.wav","location":"/promptfile/a.wav"}`,
			wantStatus: http.StatusOK, wantBody: `{}`},
		{name: "body names another callback", method: http.MethodPost, path: "/callEvent", body: `{"callback":"newCall"}`, wantStatus: http.StatusBadRequest},
		{name: "malformed", method: http.MethodPost, path: "/newCall", body: `{`, wantStatus: http.StatusBadRequest},
		{name: "handler error", method: http.MethodPost, path: "/getIvrCommand", body: `{"dtmfParams":{"dtmfMatch":"7"}}`, wantStatus: http.StatusInternalServerError},
		{name: "base with a trailing slash", method: http.MethodPost, path: "//newCall", body: `{}`,
			wantStatus: http.StatusOK, wantBody: `{"action":"ivr"}`},
		{name: "unknown callback", method: http.MethodPost, path: "/newcall", body: `{}`, wantStatus: http.StatusNotFound},
		{name: "nested path", method: http.MethodPost, path: "/x/newCall", body: `{}`, wantStatus: http.StatusNotFound},
		{name: "get", method: http.MethodGet, path: "/newCall", wantStatus: http.StatusMethodNotAllowed},
	}
	h := WebhookHandler(host)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Fatalf("body = %s, want %s", rec.Body, tt.wantBody)
			}
		})
	}
	if got := host.Logs(); len(got) < 1 || got[0] != (LogLine{LevelInfo, "recording /promptfile/a.wav"}) {
		t.Fatalf("logs %v", got)
	}
}

func TestKVHandler(t *testing.T) {
	host := NewHost()
	host.SetKV("iot/s1/A", []byte("s1/p1"))
	h := KVHandler(host)
	steps := []struct {
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{http.MethodGet, "/kv/iot/s1/A", "", http.StatusOK, "s1/p1"},
		{http.MethodPut, "/kv/iot/s1/conference", "s1/7", http.StatusNoContent, ""},
		{http.MethodGet, "/kv/iot/s1/conference", "", http.StatusOK, "s1/7"},
		{http.MethodDelete, "/kv/iot/s1/conference", "", http.StatusNoContent, ""},
		{http.MethodGet, "/kv/iot/s1/conference", "", http.StatusNotFound, ""},
		{http.MethodDelete, "/kv/iot/s1/conference", "", http.StatusNotFound, ""},
		{http.MethodGet, "/kv/", "", http.StatusNotFound, ""},
		{http.MethodPost, "/kv/x", "", http.StatusMethodNotAllowed, ""},
		{http.MethodPut, "/kv/big", strings.Repeat("x", maxKVValueSize+1), http.StatusRequestEntityTooLarge, ""},
	}
	for _, s := range steps {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(s.method, s.path, strings.NewReader(s.body)))
		if rec.Code != s.wantStatus || (s.wantBody != "" && rec.Body.String() != s.wantBody) {
			t.Fatalf("%s %s = %d %q, want %d %q", s.method, s.path, rec.Code, rec.Body, s.wantStatus, s.wantBody)
		}
	}
	if got := host.KV(); len(got) != 1 {
		t.Fatalf("store %q", got)
	}
}

func BenchmarkDispatchIot(b *testing.B) {
	prev, prevIot := guest.handler, guest.iotHandler
	b.Cleanup(func() { guest.handler, guest.iotHandler = prev, prevIot })
	HandleIot(attendant)
	event := []byte(sampleCallback)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dispatch(event); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIotRequestFieldLookup keeps the lookup's exact matches in step with
// iotRequestFields, the list sdk/gen compares with abi.
func TestIotRequestFieldLookup(t *testing.T) {
	for i, name := range iotRequestFields {
		if got := iotRequestField([]byte(name)); got != i {
			t.Errorf("iotRequestField(%q) = %d, want %d", name, got, i)
		}
	}
	if got := iotRequestField([]byte("unknown")); got != -1 {
		t.Errorf("iotRequestField(unknown) = %d", got)
	}
}

func TestSessionStore(t *testing.T) {
	withIotHandler(t, func(r *IotRequest) (IotReply, error) {
		s := Session(r.SessionID)
		switch r.Callback {
		case CallbackNewCall:
			if v, err := s.Get("A"); err != nil || v != "" {
				return nil, errors.New("fresh session has A=" + v)
			}
			return IvrAnswer(), s.Set("A", r.ParticipantID)
		case CallbackCallAnswered:
			return nil, s.SetConnection("AwithB", r)
		case CallbackCallEvent:
			v, err := s.GetAll("A", "none")
			if err != nil || v[1] != "" {
				return nil, errors.New("GetAll: " + errString(err))
			}
			conn, reply, err := s.Connection("AwithB")
			if err != nil || conn != "s1/1" || reply != "r1" {
				return nil, errors.New("Connection: " + conn + " " + reply)
			}
			return ConnectAnswer(v[0]), nil
		case CallbackSessionCompleted:
			if err := s.DeleteConnections("AwithB", "never-set"); err != nil {
				return nil, err
			}
			return nil, s.Delete("A", "never-set")
		}
		return nil, nil
	})
	h := NewHost()
	for _, step := range []struct{ in, want string }{
		{`{"callback":"newCall","sessionId":"s1","participantId":"s1/p1"}`, `{"action":"ivr"}`},
		{`{"callback":"newCall","sessionId":"s2","participantId":"s2/p1"}`, `{"action":"ivr"}`},
		{`{"callback":"callAnswered","sessionId":"s1","connectionId":"s1/1","replyId":"r1"}`, `{}`},
		{`{"callback":"callEvent","sessionId":"s1"}`, `{"action":"connect","participantId":"s1/p1"}`},
		{`{"callback":"sessionCompleted","sessionId":"s1"}`, `{}`},
	} {
		got, err := h.Invoke([]byte(step.in))
		if err != nil || string(got) != step.want {
			t.Fatalf("%s: %s, %v; want %s", step.in, got, err, step.want)
		}
	}
	want := map[string][]byte{"iot/s2/A": []byte("s2/p1")}
	if got := h.KV(); !reflect.DeepEqual(got, want) {
		t.Fatalf("store %q, want %q", got, want)
	}
	if k := Session("s1").Key("conference"); k != "iot/s1/conference" {
		t.Fatalf("Key = %q", k)
	}
}
