package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeCreate feeds untrusted bytes through the strict decoder and the
// CreateSipMediaApplicationCall validation: no panic, every failure is a
// BadRequest, and whatever passes respects the limits.
func FuzzDecodeCreate(f *testing.F) {
	f.Add([]byte(`{"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123","SipHeaders":{"X-A":"1"},"ArgumentsMap":{"k":"v"}}`))
	f.Add([]byte(`{"FromPhoneNumber":"+15550100"} x`))
	f.Add([]byte(`{"SipHeaders":{"Contact":"x\r\n"}}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"ArgumentsMap":{"":""}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req CreateCallRequest
		err := decodeStrict(bytes.NewReader(body), &req)
		if err == nil {
			err = validateCreate(req)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != CodeBadRequest || e.Message == "" {
				t.Fatalf("error %v is not a BadRequest", err)
			}
			return
		}
		if len(req.SipHeaders) > MaxSipHeaders || len(req.ArgumentsMap) > MaxArguments {
			t.Fatalf("limits not enforced: %+v", req)
		}
		for k, v := range req.SipHeaders {
			if strings.ContainsAny(k+v, "\r\n") {
				t.Fatalf("header %q: %q passed", k, v)
			}
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON %q accepted", body)
		}
	})
}

// FuzzLimiter checks the token bucket never lets more than burst requests
// through at one instant.
func FuzzLimiter(f *testing.F) {
	f.Add(uint8(3), uint8(10))
	f.Fuzz(func(t *testing.T, burst, n uint8) {
		c := &fakeClock{}
		l := newLimiter(1, int(burst), c.now)
		ok := 0
		for range int(n) {
			if _, allowed := l.Allow("x"); allowed {
				ok++
			}
		}
		if want := min(int(n), max(int(burst), 1)); ok != want {
			t.Fatalf("burst %d, %d requests: %d allowed, want %d", burst, n, ok, want)
		}
	})
}

// FuzzSigV4 feeds untrusted Authorization headers, paths and queries
// through the signature check: no panic, and every request is refused
// (nobody but the AWS CLI knows the signature of these bytes) with a 401
// or 403 Chime error.
func FuzzSigV4(f *testing.F) {
	f.Add(cliUpdateCall.auth, "/sip-media-applications/app-a/calls/tx-a-1", "")
	f.Add(cliListRules.auth, "/sip-rules", "sip-media-application=app-a&max-results=5")
	f.Add("Credential=/, SignedHeaders=;;, Signature=zz", "/../%zz//", "a=%&&=b&%2B")
	f.Add("Credential=a/b/c/d/aws4_request,SignedHeaders=host;x-amz-date,Signature="+strings.Repeat("0", 64), "/", "")
	e := newEnv(f)
	e.clock.t = time.Date(2026, 12, 5, 3, 44, 1, 0, time.UTC)
	f.Fuzz(func(t *testing.T, params, path, query string) {
		r := httptest.NewRequest("GET", "http://127.0.0.1:18999/", nil)
		r.URL.Path, r.URL.RawQuery, r.RequestURI = "/sip-rules", query, path+"?"+query
		r.Header.Set("X-Amz-Date", "20261205T034401Z")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 "+params)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 401 && w.Code != 403 {
			t.Fatalf("status %d for %q %q %q: %s", w.Code, params, path, query, w.Body)
		}
	})
}
