package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The requests below were signed by the AWS CLI v2 (Debian's awscli
// 2.9.19) with access key id 0101010101010101 and secret
// msk_0101010101010101_AgIC… (tenant a's first key in newEnv), sent to a
// capturing server and copied here byte for byte: an independent signer.
const knownSecret = "msk_0101010101010101_AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI"

type signedRequest struct {
	method, target, date, auth, contentType, body string
}

var (
	// aws chime-sdk-voice list-sip-rules --sip-media-application app-a --max-results 5 --region us-east-1
	cliListRules = signedRequest{"GET", "/sip-rules?sip-media-application=app-a&max-results=5", "20261205T034400Z",
		"AWS4-HMAC-SHA256 Credential=0101010101010101/20261205/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date, Signature=d7e82425c499d965b85a1b0b1f7354b5bb532c24ba98a872d5c15ea2815efcf6",
		"", ""}
	// aws chime-sdk-voice update-sip-media-application-call --sip-media-application-id app-a --transaction-id tx-a-1 --arguments JoinToken=abc123 --region us-east-1
	cliUpdateCall = signedRequest{"POST", "/sip-media-applications/app-a/calls/tx-a-1", "20261205T034401Z",
		"AWS4-HMAC-SHA256 Credential=0101010101010101/20261205/us-east-1/chime/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=c4ba0c1be31bb907af9c5f80e983d37933bb106bf3d5d77e01ef615c9f3a348f",
		"application/json", `{"Arguments": {"JoinToken": "abc123"}}`}
	// the same with aws chime (the older namespace) --region eu-west-1
	cliLegacyUpdateCall = signedRequest{"POST", "/sip-media-applications/app-a/calls/tx-a-1", "20261205T034402Z",
		"AWS4-HMAC-SHA256 Credential=0101010101010101/20261205/eu-west-1/chime/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=dc1659eef4145a79947c500d61907db0701c1f3fee785e41d82bb45bc0f6d343",
		"application/json", `{"Arguments": {"JoinToken": "abc123"}}`}
	// aws chime-sdk-voice create-sip-rule --name "front door" --trigger-type RequestUriHostname --trigger-value pbx.a.test --target-applications SipMediaApplicationId=app-a,Priority=1
	cliCreateRule = signedRequest{"POST", "/sip-rules", "20261205T034402Z",
		"AWS4-HMAC-SHA256 Credential=0101010101010101/20261205/us-east-1/chime/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=3c834b2ae556c4ab3623fc169a34d801810190d1279ad4b094ea4cf8436dce3f",
		"application/json", `{"Name": "front door", "TriggerType": "RequestUriHostname", "TriggerValue": "pbx.a.test", "TargetApplications": [{"SipMediaApplicationId": "app-a", "Priority": 1}]}`}
	// cliUpdateCall signed with another secret
	cliWrongSecret = signedRequest{"POST", "/sip-media-applications/app-a/calls/tx-a-1", "20261205T034423Z",
		"AWS4-HMAC-SHA256 Credential=0101010101010101/20261205/us-east-1/chime/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=86ea9664260a2dc3108a3b64f33a48ae96a37c28093a079df964d6795c41ad52",
		"application/json", `{"Arguments": {"JoinToken": "abc123"}}`}
)

func (s signedRequest) request() *http.Request {
	r := httptest.NewRequest(s.method, "http://127.0.0.1:18999"+s.target, strings.NewReader(s.body))
	if s.body == "" {
		r = httptest.NewRequest(s.method, "http://127.0.0.1:18999"+s.target, nil)
	}
	r.Header.Set("X-Amz-Date", s.date)
	r.Header.Set("Authorization", s.auth)
	r.Header.Set("User-Agent", "aws-cli/2.9.19")
	if s.contentType != "" {
		r.Header.Set("Content-Type", s.contentType)
	}
	return r
}

func amzTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(amzDateFormat, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const mismatch = "The request signature we calculated does not match the signature you provided. Check your secret access key and signing method."

func TestSigV4(t *testing.T) {
	tests := []struct {
		name    string
		req     signedRequest
		opts    []Option
		clock   time.Duration // from the request's date
		tamper  func(r *http.Request)
		status  int
		code    string
		message string
	}{
		{name: "list with a query", req: cliListRules, status: 200},
		{name: "update call", req: cliUpdateCall, status: 202},
		{name: "older chime namespace, another region", req: cliLegacyUpdateCall, status: 202},
		{name: "create rule", req: cliCreateRule, status: 201},
		{name: "unsigned header changed", req: cliUpdateCall, status: 202,
			tamper: func(r *http.Request) { r.Header.Set("User-Agent", "something else") }},
		{name: "clock 15 minutes ahead", req: cliUpdateCall, clock: 15 * time.Minute, status: 202},
		{name: "clock 15 minutes behind", req: cliUpdateCall, clock: -15 * time.Minute, status: 202},
		{name: "region allowed", req: cliUpdateCall, opts: []Option{WithSigV4Regions("us-east-1", "local")}, status: 202},

		{name: "wrong secret", req: cliWrongSecret, status: 403, code: CodeForbidden, message: mismatch},
		{name: "tampered body", req: cliUpdateCall, status: 403, code: CodeForbidden, message: mismatch,
			tamper: func(r *http.Request) {
				b := strings.NewReader(`{"Arguments": {"JoinToken": "abc124"}}`)
				r.Body, r.ContentLength = readCloser{b}, b.Size()
			}},
		{name: "tampered path", req: cliUpdateCall, status: 403, code: CodeForbidden, message: mismatch,
			tamper: func(r *http.Request) {
				r.URL.Path, r.RequestURI = "/sip-media-applications/app-a/calls/tx-a-2", "/sip-media-applications/app-a/calls/tx-a-2"
			}},
		{name: "tampered query", req: cliListRules, status: 403, code: CodeForbidden, message: mismatch,
			tamper: func(r *http.Request) {
				r.URL.RawQuery = "sip-media-application=app-a&max-results=6"
				r.RequestURI = r.URL.Path + "?" + r.URL.RawQuery
			}},
		{name: "tampered signed header", req: cliUpdateCall, status: 403, code: CodeForbidden, message: mismatch,
			tamper: func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }},
		{name: "tampered host", req: cliListRules, status: 403, code: CodeForbidden, message: mismatch,
			tamper: func(r *http.Request) { r.Host = "127.0.0.1:18998" }},
		{name: "expired", req: cliUpdateCall, clock: 15*time.Minute + time.Second, status: 403, code: CodeForbidden,
			message: "Signature expired: 20261205T034401Z is now earlier than 20261205T034402Z (20261205T035902Z - 15 min.)"},
		{name: "from the future", req: cliUpdateCall, clock: -15*time.Minute - time.Second, status: 403, code: CodeForbidden,
			message: "Signature not yet current: 20261205T034401Z is still later than 20261205T034400Z (20261205T032900Z + 15 min.)"},
		{name: "unknown key id", req: cliUpdateCall, status: 403, code: CodeForbidden,
			message: `The security token included in the request is invalid: no access key "0101010101010102"`,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(cliUpdateCall.auth, "0101010101010101/", "0101010101010102/", 1))
			}},
		{name: "another service", req: cliUpdateCall, status: 403, code: CodeForbidden,
			message: `credential scope service "s3": sign requests to this API for service "chime"`,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(cliUpdateCall.auth, "/chime/", "/s3/", 1))
			}},
		{name: "region not allowed", req: cliLegacyUpdateCall, opts: []Option{WithSigV4Regions("us-east-1")}, status: 403, code: CodeForbidden,
			message: `credential scope region "eu-west-1" is not one of this server's regions (us-east-1)`},
		{name: "scope date is not X-Amz-Date's", req: cliUpdateCall, status: 403, code: CodeForbidden,
			message: "credential scope date 20261205 does not match X-Amz-Date 20261206T034401Z",
			tamper:  func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261206T034401Z") }},
		{name: "no X-Amz-Date", req: cliUpdateCall, status: 403, code: CodeForbidden,
			message: "signed requests need an X-Amz-Date header",
			tamper:  func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
		{name: "signed header missing", req: cliUpdateCall, status: 403, code: CodeForbidden,
			message: `signed header "content-type" is not in the request`,
			tamper:  func(r *http.Request) { r.Header.Del("Content-Type") }},
		{name: "body does not match X-Amz-Content-Sha256", req: cliUpdateCall, status: 403, code: CodeForbidden,
			message: "the body does not match X-Amz-Content-Sha256",
			tamper: func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("ab", 32))
			}},
		{name: "no Signature", req: cliUpdateCall, status: 401, code: CodeUnauthorized,
			message: "malformed AWS4-HMAC-SHA256 Authorization header: no Signature",
			tamper: func(r *http.Request) {
				auth, _, _ := strings.Cut(cliUpdateCall.auth, ", Signature=")
				r.Header.Set("Authorization", auth)
			}},
		{name: "short credential", req: cliUpdateCall, status: 401, code: CodeUnauthorized,
			message: `malformed AWS4-HMAC-SHA256 Authorization header: Credential "0101010101010101/20261205/chime/aws4_request": want ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request`,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(cliUpdateCall.auth, "/us-east-1/", "/", 1))
			}},
		{name: "presigned URL", req: signedRequest{method: "GET", target: "/sip-rules?X-Amz-Signature=00"}, status: 401, code: CodeUnauthorized,
			message: "presigned URLs are not supported: sign the request in its Authorization header",
			tamper:  func(r *http.Request) { r.Header.Del("Authorization") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := append([]Option{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, tt.opts...)
			e := newEnv(t, opts...)
			if e.secretA != knownSecret {
				t.Fatalf("tenant a's first key is %q, want the CLI's %q", e.secretA, knownSecret)
			}
			if tt.req.date != "" {
				e.clock.t = amzTime(t, tt.req.date).Add(tt.clock)
			}
			r := tt.req.request()
			if tt.tamper != nil {
				tt.tamper(r)
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if tt.code == "" {
				if w.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
				}
				return
			}
			wantError(t, w, tt.status, tt.code, tt.message)
			if tt.status == 403 {
				if !strings.Contains(logs.String(), "api: signed request rejected") || !strings.Contains(logs.String(), "access_key_id=") {
					t.Errorf("no log line for the rejection: %q", logs.String())
				}
			}
			for _, secret := range []string{knownSecret, knownSecret[len(knownSecret)-43:]} {
				if strings.Contains(logs.String(), secret) || strings.Contains(w.Body.String(), secret) {
					t.Fatalf("the secret leaked: log %q body %q", logs.String(), w.Body)
				}
			}
		})
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// TestSigV4Effects checks that a signed request acts for the key's tenant:
// the CLI's update reached tenant a's call with its arguments.
func TestSigV4Effects(t *testing.T) {
	e := newEnv(t)
	e.clock.t = amzTime(t, cliUpdateCall.date)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, cliUpdateCall.request())
	if w.Code != 202 || e.calls.lastUpdate["JoinToken"] != "abc123" {
		t.Fatalf("status %d, update %v: %s", w.Code, e.calls.lastUpdate, w.Body)
	}
	e.clock.t = amzTime(t, cliCreateRule.date)
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, cliCreateRule.request())
	rule := decode[RuleResponse](t, w.Body.Bytes()).SipRule
	if w.Code != 201 || rule.TriggerValue != "pbx.a.test" || rule.Name != "front door" || rule.TargetApplications[0].SipMediaApplicationID != appA {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if rt, ok := e.reg.RouteHost("pbx.a.test"); !ok || rt.Tenant != tenantA || rt.Rule != rule.SipRuleID {
		t.Fatalf("RouteHost = %+v, %v", rt, ok)
	}
}
