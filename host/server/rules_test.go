package server

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenancy"
)

// TestRequestURIHostnameRule: sipp dials a number no rule knows, at a host
// a RequestUriHostname rule claims; the call reaches the rule's
// application, whose events carry the rule's id, and a number rule still
// wins over the hostname rule.
func TestRequestURIHostnameRule(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	var (
		mu  sync.Mutex
		got []*abi.Event
	)
	hangup := func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":100}}`, `{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return actions()
	}
	ts := startTestServer(t, nil, []config.Application{
		webhookApp(t, "by-number", "+15550181", hangup),
		webhookApp(t, "by-host", "+15550182", hangup),
	})
	_, demoFile := ts.KeyFiles()
	key, err := readKey(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	var rule api.RuleResponse
	ts.apiJSON(t, "POST", "/sip-rules", key, api.CreateRuleRequest{Name: "loopback", TriggerType: "RequestUriHostname",
		TriggerValue: "127.0.0.1", TargetApplications: []api.SipRuleTargetApplication{{SipMediaApplicationID: "by-host", Priority: 1}}},
		http.StatusCreated, &rule)

	runSipp(t, ts, sippOptions{Scenario: "uac_wait_bye", Service: "+15559999"}) // no number rule: the host's
	runSipp(t, ts, sippOptions{Scenario: "uac_wait_bye", Service: "+15550181"}) // the number's rule wins
	ts.waitIdle(t)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d NEW_INBOUND_CALL events, want 2", len(got))
	}
	if cd := got[0].CallDetails; cd.SipMediaApplicationID != "by-host" || cd.SipRuleID != rule.SipRule.SipRuleID {
		t.Errorf("call to +15559999 reached %s by rule %s, want by-host by %s", cd.SipMediaApplicationID, cd.SipRuleID, rule.SipRule.SipRuleID)
	}
	var rules api.RuleList
	ts.apiJSON(t, "GET", "/sip-rules?sip-media-application=by-number", key, nil, http.StatusOK, &rules)
	if cd := got[1].CallDetails; cd.SipMediaApplicationID != "by-number" || len(rules.SipRules) != 1 || cd.SipRuleID != rules.SipRules[0].SipRuleID {
		t.Errorf("call to +15550181 reached %s by rule %s; the number's rules: %+v", cd.SipMediaApplicationID, cd.SipRuleID, rules.SipRules)
	}

	// Disabled: the hostname routes nothing.
	ts.apiJSON(t, "PUT", "/sip-rules/"+rule.SipRule.SipRuleID, key, []byte(`{"Name":"loopback","Disabled":true}`), http.StatusAccepted, nil)
	runSipp(t, ts, sippOptions{Scenario: "uac_404", Service: "+15559999"})
}

// TestKeyFiles: the data directory holds the master key and the demo
// keys, each 0600; the AWS credentials file names the demo key's id and
// secret; the registry holds no secret in plain text; a master key file
// open to others stops the server.
func TestKeyFiles(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t, nil, []config.Application{{ID: "app", Webhook: "http://127.0.0.1:9/x", Numbers: []string{"+15550183"}}})
	dir := ts.Config.DataDir
	for _, f := range []string{tenancy.AdminKeyFile, tenancy.DemoKeyFile, tenancy.DemoAWSCredentialsFile, tenancy.MasterKeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", f, err, st)
		}
	}
	secret, err := readKey(filepath.Join(dir, tenancy.DemoKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := os.ReadFile(filepath.Join(dir, tenancy.DemoAWSCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	keyID := secret[len("msk_") : len("msk_")+16]
	if want := "[default]\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secret + "\n"; !strings.HasSuffix(string(creds), want) {
		t.Fatalf("%s:\n%s\nwant it to end with\n%s", tenancy.DemoAWSCredentialsFile, creds, want)
	}
	db, err := os.ReadFile(filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(db), secret[len(secret)-43:]) {
		t.Fatal("registry.db holds the demo key's secret in plain text")
	}

	cfg := testConfig(t)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, tenancy.MasterKeyFile), []byte(strings.Repeat("A", 43)+"=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, WithCacheDir(testCacheDir))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(t.Context())
	_ = s.Close()
	if !errors.Is(err, tenancy.ErrMasterKey) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Start with a master key file open to others: %v", err)
	}
}
