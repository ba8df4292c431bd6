//go:build !wasip1

package mediaserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// withHandler registers fn for one test and restores the previous handler.
func withHandler(t *testing.T, fn HandlerFunc) {
	t.Helper()
	prev := guest.handler
	guest.handler = fn
	t.Cleanup(func() { guest.handler = prev })
}

var errBoom = errors.New("boom")

func TestHostInvoke(t *testing.T) {
	withHandler(t, func(e *Event) (*Response, error) {
		switch e.InvocationEventType {
		case "FAIL":
			return nil, errBoom
		case "NIL":
			return nil, nil
		}
		Log(LevelInfo, "got "+e.InvocationEventType)
		return Respond(Pause(PauseParams{DurationInMilliseconds: 100})).SetAttribute("seq", "1"), nil
	})
	tests := []struct {
		name    string
		event   string
		want    string
		wantErr error
	}{
		{name: "response", event: `{"InvocationEventType":"NEW_INBOUND_CALL"}`, want: `{"SchemaVersion":"1.0","Actions":[{"Type":"Pause","Parameters":{"DurationInMilliseconds":100}}],"TransactionAttributes":{"seq":"1"}}`},
		{name: "nil response keeps actions", event: `{"InvocationEventType":"NIL"}`, want: `{"SchemaVersion":"1.0"}`},
		{name: "handler error", event: `{"InvocationEventType":"FAIL"}`, wantErr: errBoom},
		{name: "handler error sentinel", event: `{"InvocationEventType":"FAIL"}`, wantErr: ErrHandler},
		{name: "malformed event", event: `{"InvocationEventType":`, wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewHost().Invoke([]byte(tt.event))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Invoke error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if string(got) != tt.want {
				t.Fatalf("Invoke = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHostNoHandler(t *testing.T) {
	withHandler(t, nil)
	if _, err := NewHost().Invoke([]byte(`{}`)); !errors.Is(err, ErrNoHandler) {
		t.Fatalf("Invoke error = %v, want %v", err, ErrNoHandler)
	}
}

func TestHostLogsAndKV(t *testing.T) {
	withHandler(t, func(e *Event) (*Response, error) {
		key := "count/" + e.CallDetails().TransactionID
		v, err := KVGet(key)
		switch {
		case errors.Is(err, ErrNotFound):
			v = nil
		case err != nil:
			return nil, err
		}
		v = append(v, 'x')
		if err := KVSet(key, v); err != nil {
			return nil, err
		}
		if err := KVDelete("missing"); !errors.Is(err, ErrNotFound) {
			return nil, errors.New("KVDelete of a missing key: " + errString(err))
		}
		Logf(LevelDebug, "count %d", len(v))
		return Respond(), nil
	})
	h := NewHost()
	h.SetKV("other", []byte("kept"))
	for range 3 {
		if _, err := h.Invoke([]byte(`{"CallDetails":{"TransactionId":"t1"}}`)); err != nil {
			t.Fatal(err)
		}
	}
	wantKV := map[string][]byte{"count/t1": []byte("xxx"), "other": []byte("kept")}
	if got := h.KV(); !reflect.DeepEqual(got, wantKV) {
		t.Fatalf("KV = %q, want %q", got, wantKV)
	}
	wantLogs := []LogLine{{LevelDebug, "count 1"}, {LevelDebug, "count 2"}, {LevelDebug, "count 3"}}
	if got := h.Logs(); !reflect.DeepEqual(got, wantLogs) {
		t.Fatalf("Logs = %v, want %v", got, wantLogs)
	}
	h.ResetLogs()
	if got := h.Logs(); len(got) != 0 {
		t.Fatalf("Logs after ResetLogs = %v", got)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestHostFunctionsOutsideEvent(t *testing.T) {
	tests := []struct {
		name string
		call func() error
	}{
		{name: "KVGet", call: func() error { _, err := KVGet("k"); return err }},
		{name: "KVSet", call: func() error { return KVSet("k", nil) }},
		{name: "KVDelete", call: func() error { return KVDelete("k") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("error = %v, want %v", err, ErrUnavailable)
			}
		})
	}
}

func TestWebhookHandler(t *testing.T) {
	withHandler(t, func(e *Event) (*Response, error) {
		if e.InvocationEventType == "FAIL" {
			return nil, errBoom
		}
		return Respond(Hangup(HangupParams{ParticipantTag: LegA})), nil
	})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{name: "ok", method: http.MethodPost, path: "/", body: `{"InvocationEventType":"HANGUP"}`, wantStatus: http.StatusOK,
			wantBody: `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{"ParticipantTag":"LEG-A"}}]}`},
		{name: "bad json", method: http.MethodPost, path: "/", body: `{`, wantStatus: http.StatusBadRequest},
		{name: "handler error", method: http.MethodPost, path: "/", body: `{"InvocationEventType":"FAIL"}`, wantStatus: http.StatusInternalServerError},
		{name: "get", method: http.MethodGet, path: "/", wantStatus: http.StatusMethodNotAllowed},
		{name: "other path", method: http.MethodPost, path: "/x", body: `{}`, wantStatus: http.StatusNotFound},
		{name: "too large", method: http.MethodPost, path: "/", body: `{"X":"` + strings.Repeat("a", maxEventSize) + `"}`, wantStatus: http.StatusRequestEntityTooLarge},
	}
	h := WebhookHandler(NewHost())
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
}

func BenchmarkDispatch(b *testing.B) {
	prev := guest.handler
	b.Cleanup(func() { guest.handler = prev })
	guest.handler = func(e *Event) (*Response, error) {
		return Respond(PlayAudio(PlayAudioParams{CallID: e.Participant(LegA).CallID, AudioSource: S3Audio("b", "k.wav")})).
			SetAttribute("menu", "main"), nil
	}
	event := []byte(sampleEvent)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dispatch(event); err != nil {
			b.Fatal(err)
		}
	}
}
