package api

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCreateCallShape(t *testing.T) {
	e := newEnv(t)
	w := e.do("POST", "/sip-media-applications/app-a/calls", e.secretA,
		[]byte(`{"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123","SipHeaders":{"X-Campaign":"7","User-to-User":"abc;encoding=hex"},"ArgumentsMap":{"FirstName":"John"}}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got, want := w.Body.String(), `{"SipMediaApplicationCall":{"TransactionId":"tx-new-1"}}`+"\n"; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}
	c := e.calls.lastCreate
	if c.FromPhoneNumber != "+15550100" || c.ToPhoneNumber != "+15550123" ||
		!maps.Equal(c.SipHeaders, map[string]string{"X-Campaign": "7", "User-to-User": "abc;encoding=hex"}) ||
		!maps.Equal(c.ArgumentsMap, map[string]string{"FirstName": "John"}) {
		t.Fatalf("request reached Calls as %+v", c)
	}
}

func TestUpdateCallShape(t *testing.T) {
	e := newEnv(t)
	w := e.do("POST", "/sip-media-applications/app-a/calls/"+txA, e.secretA, []byte(`{"Arguments":{"JoinToken":"abc123"}}`))
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got, want := w.Body.String(), `{"SipMediaApplicationCall":{"TransactionId":"tx-a-1"}}`+"\n"; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}
	if !maps.Equal(e.calls.lastUpdate, map[string]string{"JoinToken": "abc123"}) {
		t.Fatalf("arguments reached Calls as %v", e.calls.lastUpdate)
	}
	// No Arguments at all is an empty map, not nil.
	if w := e.do("POST", "/sip-media-applications/app-a/calls/"+txA, e.secretA, []byte(`{}`)); w.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if e.calls.lastUpdate == nil || len(e.calls.lastUpdate) != 0 {
		t.Fatalf("arguments %#v, want an empty map", e.calls.lastUpdate)
	}
}

func manyArgs(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%02d":"v"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func manyHeaders(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"X-H%02d":"v"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestCreateCallValidation(t *testing.T) {
	const base = `"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123"`
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"bad E.164", `{"FromPhoneNumber":"+15550100","ToPhoneNumber":"555"}`, 400, CodeBadRequest,
			`ToPhoneNumber "555" is not an E.164 number like +15550100`},
		{"missing To", `{"FromPhoneNumber":"+15550100"}`, 400, CodeBadRequest, `ToPhoneNumber is required`},
		{"missing From", `{"ToPhoneNumber":"+15550100"}`, 400, CodeBadRequest, `FromPhoneNumber is required`},
		{"From not owned", `{"FromPhoneNumber":"+15550200","ToPhoneNumber":"+15550123"}`, 400, CodeBadRequest,
			`FromPhoneNumber "+15550200" is not one of your phone numbers`},
		{"unknown field", `{` + base + `,"Foo":1}`, 400, CodeBadRequest, `unknown field "Foo"`},
		{"wrong type", `{"FromPhoneNumber":5}`, 400, CodeBadRequest, `field FromPhoneNumber: want a string, got number`},
		{"trailing data", `{` + base + `} {}`, 400, CodeBadRequest, `unexpected data after the JSON object`},
		{"malformed", `{` + base, 400, CodeBadRequest, `truncated JSON body`},
		{"syntax", `{"a" 1}`, 400, CodeBadRequest, `malformed JSON at byte 6: invalid character '1' after object key`},
		{"empty body", ``, 400, CodeBadRequest, `empty body: want a JSON object`},
		{"array body", `[]`, 400, CodeBadRequest, `body: want a JSON object, got array`},
		{"null body", ` null`, 400, CodeBadRequest, `body: want a JSON object, got null`},
		{"21 arguments", `{` + base + `,"ArgumentsMap":` + manyArgs(21) + `}`, 400, CodeBadRequest,
			`ArgumentsMap has 21 entries, at most 20 are allowed`},
		{"21 headers", `{` + base + `,"SipHeaders":` + manyHeaders(21) + `}`, 400, CodeBadRequest,
			`SipHeaders has 21 entries, at most 20 are allowed`},
		{"refused header", `{` + base + `,"SipHeaders":{"X-Ok":"1","Contact":"<sip:evil@x>"}}`, 400, CodeBadRequest,
			`SipHeaders: header "Contact" is not allowed: only X-… headers, User-to-User and Diversion`},
		{"header injection", `{` + base + `,"SipHeaders":{"X-A":"1\r\nContact: <sip:evil@x>"}}`, 400, CodeBadRequest,
			`SipHeaders["X-A"] holds a control character`},
		{"bad header name", `{` + base + `,"SipHeaders":{"X A":"1"}}`, 400, CodeBadRequest,
			`SipHeaders: "X A" is not a valid SIP header name`},
		{"long value", `{` + base + `,"ArgumentsMap":{"k":"` + strings.Repeat("v", MaxArgValueBytes+1) + `"}}`, 400, CodeBadRequest,
			`ArgumentsMap["k"] is 2049 bytes, at most 2048 are allowed`},
		{"empty key", `{` + base + `,"ArgumentsMap":{"":"v"}}`, 400, CodeBadRequest, `ArgumentsMap has an empty key`},
		{"unknown app", `{` + base + `}`, 404, CodeNotFound, `application "nope": not found`},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := "app-a"
			if tc.name == "unknown app" {
				app = "nope"
			}
			w := e.do("POST", "/sip-media-applications/"+app+"/calls", e.secretA, []byte(tc.body))
			wantError(t, w, tc.status, tc.code, tc.msg)
		})
	}
	if e.calls.lastCreate.ToPhoneNumber != "" {
		t.Fatalf("an invalid request reached Calls: %+v", e.calls.lastCreate)
	}
}

func TestUpdateCallErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"unknown transaction", "/sip-media-applications/app-a/calls/tx-nope", `{"Arguments":{}}`, 404, CodeNotFound, `transaction "tx-nope": not found`},
		{"other tenant's transaction", "/sip-media-applications/app-a/calls/" + txB, `{"Arguments":{}}`, 404, CodeNotFound, `transaction "tx-b-1": not found`},
		{"21 arguments", "/sip-media-applications/app-a/calls/" + txA, `{"Arguments":` + manyArgs(21) + `}`, 400, CodeBadRequest, `Arguments has 21 entries, at most 20 are allowed`},
		{"arguments not strings", "/sip-media-applications/app-a/calls/" + txA, `{"Arguments":{"a":1}}`, 400, CodeBadRequest, `field Arguments: want a string, got number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", tc.path, e.secretA, []byte(tc.body)), tc.status, tc.code, tc.msg)
		})
	}
	t.Run("finished call", func(t *testing.T) {
		if w := e.do("DELETE", "/calls/"+txA, e.secretA, nil); w.Code != http.StatusAccepted {
			t.Fatalf("hangup: %d %s", w.Code, w.Body)
		}
		wantError(t, e.do("POST", "/sip-media-applications/app-a/calls/"+txA, e.secretA, []byte(`{}`)),
			404, CodeNotFound, `transaction "tx-a-1": not found`)
		wantError(t, e.do("DELETE", "/calls/"+txA, e.secretA, nil), 404, CodeNotFound, `transaction "tx-a-1": not found`)
	})
}

func TestCallsErrorsFromServer(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"limit", fmt.Errorf("%w: 10 concurrent calls, the tenant's limit", ErrLimitExceeded), 400, CodeResourceLimitExceeded, "resource limit exceeded: 10 concurrent calls, the tenant's limit"},
		{"unavailable", fmt.Errorf("no trunk: %w", ErrUnavailable), 503, CodeServiceUnavailable, "the service is unavailable; retry later"},
		{"internal", fmt.Errorf("disk on fire at /var/secret"), 500, CodeServiceFailure, "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.calls.createErr = tc.err
			w := e.do("POST", "/sip-media-applications/app-a/calls", e.secretA, []byte(`{"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123"}`))
			wantError(t, w, tc.status, tc.code, tc.msg)
		})
	}
}

func TestListCalls(t *testing.T) {
	e := newEnv(t)
	w := e.do("GET", "/calls", e.secretA, nil)
	want := `{"Calls":[{"TransactionId":"tx-a-1","TenantId":"tenant-a","SipMediaApplicationId":"app-a","From":"+15550100","To":"+15550111","Direction":"Outbound","StartTime":"2025-01-02T03:04:05Z"}]}` + "\n"
	if w.Code != 200 || w.Body.String() != want {
		t.Fatalf("%d %s\nwant %s", w.Code, w.Body, want)
	}
	w = e.do("GET", "/calls", e.admin, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), txA) || !strings.Contains(w.Body.String(), txB) {
		t.Fatalf("admin sees %d %s", w.Code, w.Body)
	}
	w = e.do("GET", "/calls", e.admin, nil, TenantHeader, tenantB)
	if w.Code != 200 || strings.Contains(w.Body.String(), txA) || !strings.Contains(w.Body.String(), txB) {
		t.Fatalf("admin as b sees %d %s", w.Code, w.Body)
	}
}

func TestBodyCap(t *testing.T) {
	e := newEnv(t, WithMaxBodyBytes(100))
	body := `{"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123","ArgumentsMap":{"k":"` + strings.Repeat("x", 200) + `"}}`
	wantError(t, e.do("POST", "/sip-media-applications/app-a/calls", e.secretA, []byte(body)),
		413, CodeBadRequest, "request body larger than the limit of 100 bytes")
}

func TestContentType(t *testing.T) {
	e := newEnv(t)
	wantError(t, e.do("POST", "/sip-media-applications/app-a/calls/"+txA, e.secretA, []byte(`{}`), "Content-Type", "text/plain"),
		415, CodeBadRequest, `Content-Type "text/plain": want application/json`)
}

func TestThrottling(t *testing.T) {
	e := newEnv(t, WithRateLimit(2, 3))
	for i := range 3 {
		if w := e.do("GET", "/phone-numbers", e.secretA, nil); w.Code != 200 {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	w := e.do("GET", "/phone-numbers", e.secretA, nil)
	wantError(t, w, 429, CodeThrottled, "request rate over 2/s (burst 3); retry after 500ms")
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After %q, want 1", got)
	}
	// Another tenant has its own bucket.
	if w := e.do("GET", "/phone-numbers", e.secretB, nil); w.Code != 200 {
		t.Fatalf("tenant b throttled by a: %d", w.Code)
	}
	// Half a second refills one token.
	e.clock.add(500 * time.Millisecond)
	if w := e.do("GET", "/phone-numbers", e.secretA, nil); w.Code != 200 {
		t.Fatalf("after refill: %d %s", w.Code, w.Body)
	}
	if w := e.do("GET", "/phone-numbers", e.secretA, nil); w.Code != 429 {
		t.Fatalf("second after refill: %d, want 429", w.Code)
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	wantError(t, e.do("GET", "/nope", "", nil), 404, CodeNotFound, "no route GET /nope")
	w := e.do("PATCH", "/phone-numbers", e.secretA, nil)
	wantError(t, w, 405, CodeBadRequest, "method PATCH is not allowed on /phone-numbers (allowed: GET, HEAD, POST)")
	if got := w.Header().Get("Allow"); got != "GET, HEAD, POST" {
		t.Fatalf("Allow %q", got)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	w := e.do("GET", "/healthz", "", nil)
	if w.Code != 200 || w.Body.String() != "ok\n" {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
}
