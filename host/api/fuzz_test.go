package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
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
