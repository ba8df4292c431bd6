package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

// requestFor makes a request for route that addresses tenant a's objects.
func (e *env) requestFor(rt route) (path string, body []byte, hdr []string) {
	r := strings.NewReplacer(
		"{transactionId}", txA,
		"{number}", numberA,
		"{sha}", e.sha1,
		"{bucket}", "prompts",
		"{key...}", "a-secret.wav",
		"{name...}", "a-secret.wav",
	)
	path = r.Replace(rt.path)
	switch {
	case strings.HasPrefix(rt.path, "/tenants/{id}"):
		path = strings.Replace(path, "{id}", tenantA, 1)
	case strings.HasPrefix(rt.path, "/keys/{id}"):
		path = strings.Replace(path, "{id}", e.keyA2, 1)
	case strings.HasPrefix(rt.path, "/sip-rules/{id}"):
		path = strings.Replace(path, "{id}", e.ruleA, 1)
	default:
		path = strings.Replace(path, "{id}", appA, 1)
	}
	hdr = []string{"Content-Type", "application/json"}
	switch rt.pattern() {
	case "POST /sip-media-applications/{id}/calls":
		body = []byte(`{"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123"}`)
	case "POST /sip-media-applications/{id}/calls/{transactionId}":
		body = []byte(`{"Arguments":{"JoinToken":"abc"}}`)
	case "POST /sip-media-applications":
		body = []byte(`{"SipMediaApplicationId":"new-app","Name":"new"}`)
	case "PUT /sip-media-applications/{id}":
		body = []byte(`{"Name":"renamed"}`)
	case "PUT /sip-media-applications/{id}/plugin":
		body = []byte(`{"Sha256":"` + e.sha1 + `"}`)
	case "POST /sip-rules":
		body = []byte(`{"Name":"r","TriggerType":"RequestUriHostname","TriggerValue":"pbx.a.test",` +
			`"TargetApplications":[{"SipMediaApplicationId":"` + appA + `","Priority":1}]}`)
	case "PUT /sip-rules/{id}":
		body = []byte(`{"Name":"renamed"}`)
	case "POST /phone-numbers":
		body = []byte(`{"E164PhoneNumber":"+15550999"}`)
	case "PUT /phone-numbers/{number}/rule":
		body = []byte(`{"SipMediaApplicationId":"` + appA + `"}`)
	case "POST /plugins":
		body = []byte("\x00asm\x01\x00\x00\x00 new")
		hdr = []string{"Content-Type", "application/wasm"}
	case "POST /keys", "POST /tenants/{id}/keys":
		body = []byte(`{"Name":"k"}`)
	case "POST /tenants":
		body = []byte(`{"TenantId":"tenant-c","Name":"C"}`)
	case "PUT /buckets/{bucket}/objects/{key...}":
		body = []byte("new audio")
		hdr = []string{"Content-Type", "application/octet-stream"}
	case "PUT /tenants/{id}/dial-policy":
		body = []byte(`{"AllowedHosts":["pbx.a.test"]}`)
	case "POST /placeivrcall":
		// Tenant a's iotcomms application, named: tenant b cannot find it.
		if _, err := e.reg.NewApp(tenantA, tenant.AppSpec{ID: "iot-a", Name: "iot", Webhook: "https://a-private.example/iot", Model: tenant.ModelIotcomms}); err != nil {
			e.t.Fatal(err)
		}
		body = []byte(`{"destAddr":"+15550123","fromAddr":"+15550100","applicationId":"iot-a"}`)
	case "POST /splitconnection":
		body = []byte(`{"connectionId":"` + txA + `/1","replyId":"r"}`)
	case "POST /connect":
		body = []byte(`{"participantId":"` + txA + `/p1","participantId2":"` + txA + `/p2"}`)
	case "POST /createconferenceconnection", "POST /stoprecording":
		body = []byte(`{"sessionId":"` + txA + `"}`)
	case "POST /interruptivrcommand", "POST /hangupparticipant":
		body = []byte(`{"participantId":"` + txA + `/p3"}`)
	case "PUT /promptfile/{name...}":
		body = testWAV(400)
		hdr = []string{"Content-Type", "application/octet-stream"}
	case "PUT /kv/{key...}":
		body = []byte("new value")
		hdr = []string{"Content-Type", "application/octet-stream"}
	}
	return path, body, hdr
}

// secrets is what tenant b must never see of tenant a.
func (e *env) secretsOfA() []string {
	return []string{tenantA, appAName, hookA, e.secretA, e.keyA2, e.ruleA, e.sha1, e.sha2, numberA, txA, objA, "a-secret.wav", "Tenant A Inc"}
}

// TestSecurity runs every route with no key, a wrong key, another tenant's
// key, the owner's key, an admin key and an admin key acting for the
// owner, each against a fresh registry.
func TestSecurity(t *testing.T) {
	type who int
	const (
		noKey who = iota
		wrongKey
		otherTenant
		owner
		admin
		adminAsOwner
	)
	// want[pattern] = status for owner, other tenant, admin, admin as owner.
	want := map[string][4]int{
		"GET /healthz": {200, 200, 200, 200},
		"POST /sip-media-applications/{id}/calls":                 {201, 404, 403, 201},
		"POST /sip-media-applications/{id}/calls/{transactionId}": {202, 404, 403, 202},
		"GET /calls":                                        {200, 200, 200, 200},
		"DELETE /calls/{transactionId}":                     {202, 404, 202, 202},
		"GET /sip-media-applications":                       {200, 200, 403, 200},
		"POST /sip-media-applications":                      {201, 201, 403, 201},
		"GET /sip-media-applications/{id}":                  {200, 404, 403, 200},
		"PUT /sip-media-applications/{id}":                  {200, 404, 403, 200},
		"DELETE /sip-media-applications/{id}":               {409, 404, 403, 409}, // a number routes to it
		"PUT /sip-media-applications/{id}/plugin":           {200, 404, 403, 200},
		"POST /sip-media-applications/{id}/plugin/rollback": {200, 404, 403, 200},
		"GET /sip-media-applications/{id}/logs":             {200, 404, 403, 200},
		"GET /sip-media-applications/{id}/stats":            {200, 404, 403, 200},
		"GET /phone-numbers":                                {200, 200, 403, 200},
		"POST /phone-numbers":                               {201, 201, 403, 201},
		"DELETE /phone-numbers/{number}":                    {204, 404, 403, 204},
		"PUT /phone-numbers/{number}/rule":                  {200, 404, 403, 200},
		"GET /sip-rules":                                    {200, 200, 403, 200},
		"POST /sip-rules":                                   {201, 404, 403, 201}, // targets a's application
		"GET /sip-rules/{id}":                               {200, 404, 403, 200},
		"PUT /sip-rules/{id}":                               {202, 404, 403, 202},
		"DELETE /sip-rules/{id}":                            {204, 404, 403, 204},
		"GET /plugins":                                      {200, 200, 403, 200},
		"POST /plugins":                                     {201, 201, 403, 201},
		"DELETE /plugins/{sha}":                             {204, 404, 403, 204},
		"GET /keys":                                         {200, 200, 200, 200},
		"POST /keys":                                        {201, 201, 201, 201},
		"DELETE /keys/{id}":                                 {204, 404, 404, 204},
		"GET /tenants":                                      {403, 403, 200, 200},
		"POST /tenants":                                     {403, 403, 201, 201},
		"POST /tenants/{id}/keys":                           {403, 403, 201, 201},
		"GET /buckets/{bucket}/objects":                     {200, 200, 403, 200},
		"GET /buckets/{bucket}/objects/{key...}":            {200, 404, 403, 200},
		"PUT /buckets/{bucket}/objects/{key...}":            {200, 200, 403, 200},
		"DELETE /buckets/{bucket}/objects/{key...}":         {204, 404, 403, 204},
		"PUT /tenants/{id}/dial-policy":                     {403, 403, 200, 200},
		"DELETE /tenants/{id}/dial-policy":                  {403, 403, 204, 204},
		"POST /placeivrcall":                                {200, 404, 403, 200},
		"POST /splitconnection":                             {200, 404, 403, 200},
		"POST /connect":                                     {200, 404, 403, 200},
		"POST /createconferenceconnection":                  {200, 404, 403, 200},
		"POST /interruptivrcommand":                         {200, 404, 403, 200},
		"POST /hangupparticipant":                           {200, 404, 403, 200},
		"POST /stoprecording":                               {200, 404, 403, 200},
		"GET /promptfile":                                   {200, 200, 403, 200},
		"GET /promptfile/{name...}":                         {200, 404, 403, 200},
		"PUT /promptfile/{name...}":                         {200, 200, 403, 200},
		"DELETE /promptfile/{name...}":                      {204, 404, 403, 204},
		"GET /kv":                                           {200, 200, 403, 200},
		"GET /kv/{key...}":                                  {200, 404, 403, 200},
		"PUT /kv/{key...}":                                  {204, 204, 403, 204},
		"DELETE /kv/{key...}":                               {204, 404, 403, 204},
	}
	routes := newEnv(t).h.routes()
	if len(routes) != len(want) {
		t.Fatalf("%d routes, %d expectations: every route needs a row", len(routes), len(want))
	}
	for _, rt := range routes {
		exp, ok := want[rt.pattern()]
		if !ok {
			t.Fatalf("no expectation for %s", rt.pattern())
		}
		for _, tc := range []struct {
			name string
			who  who
		}{
			{"no key", noKey}, {"wrong key", wrongKey}, {"other tenant", otherTenant},
			{"owner", owner}, {"admin", admin}, {"admin as owner", adminAsOwner},
		} {
			t.Run(rt.pattern()+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				path, body, hdr := e.requestFor(rt)
				var secret string
				status := 401
				switch tc.who {
				case wrongKey:
					// Well-formed, a's key id, wrong random part.
					secret = e.secretA[:len(e.secretA)-4] + "AAAA"
					if secret == e.secretA {
						secret = e.secretA[:len(e.secretA)-4] + "BBBB"
					}
				case otherTenant:
					secret, status = e.secretB, exp[1]
				case owner:
					secret, status = e.secretA, exp[0]
				case admin:
					secret, status = e.admin, exp[2]
				case adminAsOwner:
					secret, status = e.admin, exp[3]
					hdr = append(hdr, TenantHeader, tenantA)
				}
				if rt.access == public {
					status = 200
				}
				w := e.do(rt.method, path, secret, body, hdr...)
				if w.Code != status {
					t.Fatalf("%s %s: status %d, want %d; body %s", rt.method, path, w.Code, status, w.Body)
				}
				if status == 401 {
					wantError(t, w, 401, CodeUnauthorized, errBadKey.Message)
					if w.Header().Get("WWW-Authenticate") == "" {
						t.Fatal("401 without WWW-Authenticate")
					}
				}
				if tc.who == otherTenant || tc.who == noKey || tc.who == wrongKey {
					for _, s := range e.secretsOfA() {
						// An id the request itself carries may be echoed.
						if !strings.Contains(path, s) && !strings.Contains(string(body), s) && strings.Contains(w.Body.String(), s) {
							t.Fatalf("body leaks %q of tenant a: %s", s, w.Body)
						}
					}
				}
				if tc.who == otherTenant {
					e.checkAIntact(t)
				}
			})
		}
	}
}

// checkAIntact verifies that tenant a's state is as newEnv made it.
func (e *env) checkAIntact(t *testing.T) {
	t.Helper()
	a, err := e.reg.GetApp(tenantA, appA)
	if err != nil || a.Name != appAName || a.Plugin != e.sha2 || a.Webhook != hookA {
		t.Fatalf("tenant a's application changed: %+v, %v", a, err)
	}
	n, err := e.reg.GetNumber(tenantA, numberA)
	if err != nil || n.App != appA {
		t.Fatalf("tenant a's number changed: %+v, %v", n, err)
	}
	if _, err := e.reg.GetPlugin(tenantA, e.sha1); err != nil {
		t.Fatalf("tenant a's plugin: %v", err)
	}
	ks, err := e.reg.ListKeys(tenantA)
	if err != nil || len(ks) != 2 {
		t.Fatalf("tenant a's keys: %v, %v", ks, err)
	}
	if len(e.calls.ListCalls(tenantA)) != 1 {
		t.Fatal("tenant a's call is gone")
	}
	if _, err := e.blobs.Stat(t.Context(), tenantA, "prompts", "a-secret.wav"); err != nil {
		t.Fatalf("tenant a's object: %v", err)
	}
	if i, err := e.blobs.Stat(t.Context(), tenantA, PromptFileBucket, "a-secret.wav"); err != nil || i.Size != int64(len(testWAV(800))) {
		t.Fatalf("tenant a's prompt file: %+v %v", i, err)
	}
	if v, ok, err := e.kv.Get(tenantA, "a-secret.wav"); err != nil || !ok || string(v) != objA {
		t.Fatalf("tenant a's key: %q %v %v", v, ok, err)
	}
	if tn, err := e.reg.GetTenant(tenantA); err != nil || tn.Dial != nil {
		t.Fatalf("tenant a's dial policy: %+v %v", tn.Dial, err)
	}
}

func TestTenantHeader(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		secret string
		tenant string
		status int
		code   string
		msg    string
	}{
		{"tenant key naming another tenant", e.secretB, tenantA, 403, CodeForbidden,
			"a tenant key acts for its own tenant only: drop the X-Tenant-Id header"},
		{"admin naming a missing tenant", e.admin, "nobody", 404, CodeNotFound, `tenant "nobody" not found`},
		{"admin without the header", e.admin, "", 403, CodeForbidden,
			"an admin key must name the tenant it acts for in the X-Tenant-Id header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.tenant != "" {
				hdr = []string{TenantHeader, tc.tenant}
			}
			wantError(t, e.do("GET", "/sip-media-applications", tc.secret, nil, hdr...), tc.status, tc.code, tc.msg)
		})
	}
	t.Run("tenant key naming itself", func(t *testing.T) {
		if w := e.do("GET", "/sip-media-applications", e.secretA, nil, TenantHeader, tenantA); w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

func TestAuthForms(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"bearer", []string{"Authorization", "Bearer " + e.secretA}, 200},
		{"bearer lowercase scheme", []string{"Authorization", "bearer " + e.secretA}, 200},
		{"x-api-key", []string{"X-Api-Key", e.secretA}, 200},
		{"basic scheme", []string{"Authorization", "Basic " + e.secretA}, 401},
		{"empty bearer", []string{"Authorization", "Bearer "}, 401},
		{"garbage", []string{"X-Api-Key", "hunter2"}, 401},
		{"unknown key id", []string{"X-Api-Key", "msk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("GET", "/phone-numbers", "", nil, tc.hdr...)
			if tc.status == 401 {
				wantError(t, w, 401, CodeUnauthorized, errBadKey.Message)
				return
			}
			if w.Code != tc.status {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
		})
	}
}
