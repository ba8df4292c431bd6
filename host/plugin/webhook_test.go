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
