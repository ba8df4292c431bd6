package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestChimeApplications: Chime's CreateSipMediaApplication and
// UpdateSipMediaApplication bodies, the two LambdaArn forms and what the
// answers show of them.
func TestChimeApplications(t *testing.T) {
	e := newEnv(t, WithIDGenerator(func() string { return "gen" }), WithRegion("eu-central-1"))
	arn := func(sha string) string { return "arn:aws:lambda:us-east-1:123456789012:function:my-handler:" + sha }

	w := e.do("POST", "/sip-media-applications", e.secretA,
		[]byte(`{"AwsRegion":"us-east-1","Name":"by plugin","Endpoints":[{"LambdaArn":"`+arn(e.sha1)+`"}]}`))
	a := decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication
	if w.Code != http.StatusCreated || a.Plugin != e.sha1 || a.AwsRegion != "us-east-1" || a.Webhook != "" ||
		len(a.Endpoints) != 1 || a.Endpoints[0].LambdaArn != "arn:aws:lambda:us-east-1:"+tenantA+":function:plugin:"+e.sha1 {
		t.Fatalf("%d %+v", w.Code, a)
	}

	// A webhook endpoint unassigns the plugin, which rollback brings back.
	w = e.do("PUT", "/sip-media-applications/gen", e.secretA, []byte(`{"Endpoints":[{"LambdaArn":"https://hook.example/x"}]}`))
	a = decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication
	if w.Code != http.StatusOK || a.Plugin != "" || a.Webhook != "https://hook.example/x" || a.Name != "by plugin" ||
		a.Endpoints[0].LambdaArn != "https://hook.example/x" || !slices.Equal(a.PluginHistory, []string{e.sha1}) {
		t.Fatalf("%d %+v", w.Code, a)
	}
	w = e.do("POST", "/sip-media-applications/gen/plugin/rollback", e.secretA, nil)
	if a = decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication; a.Plugin != e.sha1 {
		t.Fatalf("rollback: %+v", a)
	}

	// Without AwsRegion: the server's region.
	w = e.do("POST", "/sip-media-applications", e.secretA, []byte(`{"SipMediaApplicationId":"plain","Name":"x"}`))
	if a = decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication; a.AwsRegion != "eu-central-1" || len(a.Endpoints) != 0 {
		t.Fatalf("%+v", a)
	}

	otherSHA := "0000000000000000000000000000000000000000000000000000000000000000"
	tests := []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"ARN without a version", "PUT", "/sip-media-applications/plain", `{"Endpoints":[{"LambdaArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}]}`,
			400, CodeBadRequest, `LambdaArn "arn:aws:lambda:us-east-1:123456789012:function:f": want arn:aws:lambda:REGION:ACCOUNT:function:NAME:SHA256 naming an uploaded plugin version by its SHA-256, or an http(s) webhook URL`},
		{"version not uploaded", "PUT", "/sip-media-applications/plain", `{"Endpoints":[{"LambdaArn":"` + arn(otherSHA) + `"}]}`,
			404, CodeNotFound, fmt.Sprintf(`plugin version %q: not found`, otherSHA)},
		{"another tenant's version", "POST", "/sip-media-applications", `{"Name":"x","Endpoints":[{"LambdaArn":"` + arn(e.sha1) + `"}]}`,
			404, CodeNotFound, fmt.Sprintf(`plugin version %q: not found`, e.sha1)},
		{"two endpoints", "POST", "/sip-media-applications", `{"Name":"x","Endpoints":[{"LambdaArn":"https://a.test"},{"LambdaArn":"https://b.test"}]}`,
			400, CodeBadRequest, "Endpoints has 2 entries: want exactly one"},
		{"no endpoint", "PUT", "/sip-media-applications/plain", `{"Endpoints":[]}`,
			400, CodeBadRequest, "Endpoints has 0 entries: want exactly one"},
		{"endpoint and webhook", "POST", "/sip-media-applications", `{"Name":"x","Webhook":"https://a.test","Endpoints":[{"LambdaArn":"https://b.test"}]}`,
			400, CodeBadRequest, "give Endpoints or Webhook, not both"},
		{"tags", "POST", "/sip-media-applications", `{"Name":"x","Tags":[{"Key":"k","Value":"v"}]}`,
			400, CodeBadRequest, "Tags: this server stores no tags; leave them out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret := e.secretA
			if tc.name == "another tenant's version" {
				secret = e.secretB
			}
			wantError(t, e.do(tc.method, tc.path, secret, []byte(tc.body)), tc.status, tc.code, tc.msg)
		})
	}
}

// TestPagination walks the list routes with max-results and next-token.
func TestPagination(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"p1", "p2", "p3"} {
		if w := e.do("POST", "/sip-media-applications", e.secretA, []byte(`{"SipMediaApplicationId":"`+id+`","Name":"`+id+`"}`)); w.Code != 201 {
			t.Fatal(w.Body)
		}
		if w := e.do("POST", "/sip-rules", e.secretA, []byte(`{"Name":"`+id+`","TriggerType":"RequestUriHostname","TriggerValue":"`+id+
			`.test","TargetApplications":[{"SipMediaApplicationId":"`+id+`","Priority":1}]}`)); w.Code != 201 {
			t.Fatal(w.Body)
		}
	}
	var ids []string
	token, pages := "", 0
	for {
		w := e.do("GET", "/sip-media-applications?max-results=2&next-token="+token, e.secretA, nil)
		l := decode[AppList](t, w.Body.Bytes())
		for _, a := range l.SipMediaApplications {
			ids = append(ids, a.SipMediaApplicationID)
		}
		pages++
		if token = l.NextToken; token == "" {
			break
		}
	}
	if want := []string{appA, "p1", "p2", "p3"}; !slices.Equal(ids, want) || pages != 2 {
		t.Fatalf("%v in %d pages, want %v in 2", ids, pages, want)
	}
	w := e.do("GET", "/sip-rules?sip-media-application=p2", e.secretA, nil)
	if l := decode[RuleList](t, w.Body.Bytes()); len(l.SipRules) != 1 || l.SipRules[0].TriggerValue != "p2.test" || l.NextToken != "" {
		t.Fatalf("%+v", l)
	}
	wantError(t, e.do("GET", "/sip-rules?max-results=101", e.secretA, nil), 400, CodeBadRequest, `max-results "101": want 1 to 100`)
	wantError(t, e.do("GET", "/sip-rules?max-results=0", e.secretA, nil), 400, CodeBadRequest, `max-results "0": want 1 to 100`)
	wantError(t, e.do("GET", "/sip-media-applications?next-token=%25", e.secretA, nil), 400, CodeBadRequest, `next-token "%" is not a token this server gave`)
}

// TestChimeRules: CreateSipRule's errors as Chime's codes.
func TestChimeRules(t *testing.T) {
	e := newEnv(t)
	rule := func(typ, value, app string) []byte {
		return []byte(`{"Name":"r","TriggerType":"` + typ + `","TriggerValue":"` + value +
			`","TargetApplications":[{"SipMediaApplicationId":"` + app + `","Priority":1}]}`)
	}
	if w := e.do("POST", "/sip-rules", e.secretB, rule("RequestUriHostname", "pbx.b.test", appB)); w.Code != 201 {
		t.Fatal(w.Body)
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		code   string
		msg    string
	}{
		{"number with a rule", rule("ToPhoneNumber", numberA, appA), 409, CodeConflict, ""},
		{"another tenant's number", rule("ToPhoneNumber", numberB, appA), 404, CodeNotFound, `number "+15550200": not found`},
		{"another tenant's hostname", rule("RequestUriHostname", "PBX.b.test", appA), 409, CodeConflict,
			"RequestUriHostname pbx.b.test: trigger value is already taken"},
		{"another tenant's application", rule("RequestUriHostname", "x.test", appB), 404, CodeNotFound, `application "app-b": not found`},
		{"unknown trigger", rule("FromPhoneNumber", numberA, appA), 400, CodeBadRequest,
			`TriggerType "FromPhoneNumber": want ToPhoneNumber or RequestUriHostname`},
		{"not a number", rule("ToPhoneNumber", "5550100", appA), 400, CodeBadRequest, `number "5550100" is not E.164 (like +15550100)`},
		{"no name", []byte(`{"TriggerType":"RequestUriHostname","TriggerValue":"x.test","TargetApplications":[{"SipMediaApplicationId":"app-a","Priority":1}]}`),
			400, CodeBadRequest, "Name is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("POST", "/sip-rules", e.secretA, tc.body)
			if tc.msg == "" {
				if w.Code != tc.status || decode[ErrorResponse](t, w.Body.Bytes()).Code != tc.code {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				return
			}
			wantError(t, w, tc.status, tc.code, tc.msg)
		})
	}
}
