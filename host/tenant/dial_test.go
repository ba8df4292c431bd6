package tenant

import (
	"errors"
	"testing"
)

func TestDialPolicyMatch(t *testing.T) {
	d := &DialPolicy{
		AllowedHosts:    []string{"127.0.0.0/8", "::1", "pbx.Example.com", "*.customer.example.net", "10.1.2.3"},
		AllowedPrefixes: []string{"+4670", "1555"},
	}
	hosts := map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "[::1]": true, "::1": true, "::ffff:127.0.0.1": true,
		"PBX.example.com": true, "pbx.example.com.": true, "a.customer.example.net": true, "b.a.customer.example.net": true,
		"10.1.2.3":             true,
		"customer.example.net": false, "evilcustomer.example.net": false, "pbx.example.com.evil.org": false,
		"10.1.2.4": false, "169.254.169.254": false, "192.168.0.1": false, "[::2]": false, "": false, "localhost": false,
	}
	for h, want := range hosts {
		if got := d.AllowsHost(h); got != want {
			t.Errorf("AllowsHost(%q) = %v, want %v", h, got, want)
		}
	}
	numbers := map[string]bool{
		"+46701234567": true, "+15551234": true, "15551234": true,
		"+46801234567": false, "+19005551234": false, "+1555": true,
	}
	for n, want := range numbers {
		if got := d.AllowsNumber(n); got != want {
			t.Errorf("AllowsNumber(%q) = %v, want %v", n, got, want)
		}
	}
	var none *DialPolicy
	if none.AllowsHost("127.0.0.1") || !none.AllowsNumber("+19005551234") {
		t.Fatal("a nil policy allows no host and every number")
	}
	if (&DialPolicy{}).AllowsHost("127.0.0.1") || !(&DialPolicy{}).AllowsNumber("+1") {
		t.Fatal("an empty policy allows no host and every number")
	}
}

func TestDialPolicyStored(t *testing.T) {
	r := newEnv(t).reg
	if _, err := r.CreateTenant("acme", "Acme", Quotas{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.DialPolicy("acme"); ok {
		t.Fatal("a new tenant has a dial policy of its own")
	}
	for _, bad := range []*DialPolicy{
		{AllowedHosts: []string{"exa mple.com"}}, {AllowedHosts: []string{"-x.com"}}, {AllowedHosts: []string{""}},
		{AllowedPrefixes: []string{"+"}}, {AllowedPrefixes: []string{"+46a"}},
	} {
		if _, err := r.SetDialPolicy("acme", bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SetDialPolicy(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	want := &DialPolicy{AllowedHosts: []string{"pbx.example.com"}, AllowedPrefixes: []string{"+46"}}
	if _, err := r.SetDialPolicy("acme", want); err != nil {
		t.Fatal(err)
	}
	got, ok := r.DialPolicy("acme")
	if !ok || !got.AllowsHost("pbx.example.com") || got.AllowsNumber("+1555") {
		t.Fatalf("DialPolicy = %+v, %v", got, ok)
	}
	if tn, _ := r.GetTenant("acme"); tn.Dial == nil || tn.Dial.AllowedPrefixes[0] != "+46" {
		t.Fatalf("GetTenant: %+v", tn)
	}
	if _, err := r.SetDialPolicy("acme", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.DialPolicy("acme"); ok {
		t.Fatal("a cleared policy is still there")
	}
	if _, err := r.SetDialPolicy("nobody", want); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
}
