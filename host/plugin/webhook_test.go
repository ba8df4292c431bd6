package plugin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/netguard"
)

func TestWebhook(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		wantErr error
		wantMsg string
		want    string
	}{
		{
			name: "success",
			handler: func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || string(body) != `{"Sequence":1}` {
					http.Error(w, "bad request", http.StatusBadRequest)
					return
				}
				_, _ = io.WriteString(w, `{"SchemaVersion":"1.0","Actions":[]}`)
			},
			want: `{"SchemaVersion":"1.0","Actions":[]}`,
		},
		{
			name: "slow",
			handler: func(w http.ResponseWriter, r *http.Request) {
				// Read the body first: net/http only notices a client hang-up
				// (and cancels r.Context) once the body is consumed.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			},
			timeout: 100 * time.Millisecond,
			wantErr: ErrTimeout,
			wantMsg: " plugin timed out after 100ms",
		},
		{
			name: "status 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			wantErr: ErrWebhook,
			wantMsg: " webhook failed: status 500",
		},
		{
			name: "bad json",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"Actions":`)
			},
			wantErr: ErrInvalidResponse,
			wantMsg: " invalid response: not a JSON object",
		},
		{
			name: "json array",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `[]`)
			},
			wantErr: ErrInvalidResponse,
			wantMsg: " invalid response: not a JSON object",
		},
		{
			name: "too large",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"x":"`+strings.Repeat("a", DefaultWebhookResponseMaxBytes)+`"}`)
			},
			wantErr: ErrResponseTooLarge,
			wantMsg: " response too large (over 262144 bytes)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			h := NewWebhook(srv.URL, timeout, nil)
			defer h.Close(context.Background())
			res, err := h.Invoke(context.Background(), []byte(`{"Sequence":1}`))
			if tc.wantErr == nil {
				if err != nil || string(res.Response) != tc.want {
					t.Fatalf("Invoke = %v, %v; want %s", res, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if want := "plugin " + srv.URL + ":" + tc.wantMsg; err.Error() != want {
				t.Fatalf("err = %q, want %q", err, want)
			}
		})
	}
}

func TestWebhookUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var logs strings.Builder
	h := NewWebhook(url, time.Minute, nil, WithWebhookLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	_, err := h.Invoke(context.Background(), []byte(`{}`))
	if !errors.Is(err, ErrWebhook) {
		t.Fatalf("err = %v, want ErrWebhook", err)
	}
	// The tenant sees the kind of failure, the operator the detail.
	if want := "plugin " + url + ": webhook failed: connection failed"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("operator log lacks the detail: %s", logs.String())
	}
}

// Through the server's egress policy a webhook on an internal address is
// never contacted, and the error does not say what answers there.
func TestWebhookEgressPolicy(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	policy, err := netguard.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := NewWebhook(srv.URL, time.Minute, policy.Client())
	_, err = h.Invoke(context.Background(), []byte(`{}`))
	if !errors.Is(err, ErrWebhook) || called {
		t.Fatalf("err = %v, called %v", err, called)
	}
	if want := "plugin " + srv.URL + ": webhook failed: address not allowed by the server's egress policy"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

// An iotcomms webhook gets each callback at <base>/<callback>, and an
// empty answer to it reads as {}.
func TestWebhookCallbackPath(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		paths = append(paths, r.URL.Path)
		switch r.URL.Path {
		case "/iot/newCall":
			if !strings.Contains(string(body), `"sessionId":"s1"`) {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, `{"action":"connect","destAddr":"1001"}`)
		case "/iot/callNotify":
			w.WriteHeader(http.StatusNoContent)
		case "/iot/sessionCompleted":
			// 200 with no body
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL + "/iot", srv.URL + "/iot/"} {
		paths = nil
		h := NewWebhook(base, time.Second, nil, WithCallbackPath())
		ctx := context.Background()
		res, err := h.Invoke(ctx, []byte(`{"callback":"newCall","sessionId":"s1"}`))
		if err != nil || string(res.Response) != `{"action":"connect","destAddr":"1001"}` {
			t.Fatalf("%s newCall: %v %+v", base, err, res)
		}
		for _, cb := range []string{"callNotify", "sessionCompleted"} {
			res, err = h.Invoke(ctx, []byte(`{"callback":"`+cb+`","sessionId":"s1"}`))
			if err != nil || string(res.Response) != `{}` {
				t.Fatalf("%s %s: %v %+v", base, cb, err, res)
			}
		}
		if got := strings.Join(paths, " "); got != "/iot/newCall /iot/callNotify /iot/sessionCompleted" {
			t.Fatalf("%s: paths %q", base, got)
		}
		// A name that is not a callback never reaches the network.
		for _, ev := range []string{`{"callback":"../admin"}`, `{"sessionId":"s1"}`, `not json`} {
			if _, err := h.Invoke(ctx, []byte(ev)); !errors.Is(err, ErrWebhook) {
				t.Fatalf("%s: event %s: err %v, want ErrWebhook", base, ev, err)
			}
		}
		if len(paths) != 3 {
			t.Fatalf("refused events were posted: %q", paths)
		}
		// An empty answer with an error status is still an error.
		if _, err := h.Invoke(ctx, []byte(`{"callback":"getIvrCommand"}`)); !errors.Is(err, ErrWebhook) {
			t.Fatalf("404: %v", err)
		}
	}
}
