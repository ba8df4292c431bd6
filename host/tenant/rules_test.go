package tenant

import (
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestRules(t *testing.T) {
	e := newEnv(t)
	r := e.reg
	for _, id := range []string{"acme", "globex"} {
		must[Tenant](t)(r.CreateTenant(id, "", Quotas{}))
	}
	must[Application](t)(r.CreateApp("acme", "main", "", "https://acme.test/main"))
	must[Application](t)(r.CreateApp("acme", "backup", "", "https://acme.test/backup"))
	must[Application](t)(r.CreateApp("acme", "empty", "", ""))
	must[Application](t)(r.CreateApp("globex", "g", "", "https://globex.test/g"))
	must[Number](t)(r.AddNumber("acme", "+15550100"))
	must[Number](t)(r.AddNumber("globex", "+15550200"))

	targets := []RuleTarget{{App: "empty", Priority: 1}, {App: "backup", Priority: 3}, {App: "main", Priority: 2}}
	byNumber := must[Rule](t)(r.CreateRule("acme", Rule{ID: "r-number", Name: "main line",
		TriggerType: TriggerToPhoneNumber, TriggerValue: "+15550100", Targets: targets}))
	byHost := must[Rule](t)(r.CreateRule("acme", Rule{ID: "r-host", Name: "pbx",
		TriggerType: TriggerRequestURIHostname, TriggerValue: "PBX.Acme.test.", Targets: []RuleTarget{{App: "backup", Priority: 1}}}))
	if byHost.TriggerValue != "pbx.acme.test" {
		t.Fatalf("hostname stored as %q, want it lower-cased without the root dot", byHost.TriggerValue)
	}

	tests := []struct {
		name    string
		run     func() error
		wantErr error
	}{
		{"number already has a rule", func() error {
			_, err := r.CreateRule("acme", Rule{ID: "r2", Name: "x", TriggerType: TriggerToPhoneNumber, TriggerValue: "+15550100", Targets: targets})
			return err
		}, ErrExists},
		{"another tenant's number", func() error {
			_, err := r.CreateRule("acme", Rule{ID: "r2", Name: "x", TriggerType: TriggerToPhoneNumber, TriggerValue: "+15550200", Targets: targets})
			return err
		}, ErrNotFound},
		{"another tenant's hostname", func() error {
			_, err := r.CreateRule("globex", Rule{ID: "r2", Name: "x", TriggerType: TriggerRequestURIHostname, TriggerValue: "pbx.acme.test",
				Targets: []RuleTarget{{App: "g", Priority: 1}}})
			return err
		}, ErrTaken},
		{"another tenant's application", func() error {
			_, err := r.CreateRule("globex", Rule{ID: "r2", Name: "x", TriggerType: TriggerToPhoneNumber, TriggerValue: "+15550200",
				Targets: []RuleTarget{{App: "main", Priority: 1}}})
			return err
		}, ErrNotFound},
		{"bad trigger type", func() error {
			_, err := r.CreateRule("acme", Rule{ID: "r2", Name: "x", TriggerType: "FromPhoneNumber", TriggerValue: "+15550100", Targets: targets})
			return err
		}, ErrInvalid},
		{"bad hostname", func() error {
			_, err := r.CreateRule("acme", Rule{ID: "r2", Name: "x", TriggerType: TriggerRequestURIHostname, TriggerValue: "a..b", Targets: targets})
			return err
		}, ErrInvalid},
		{"no targets", func() error {
			_, err := r.CreateRule("acme", Rule{ID: "r2", Name: "x", TriggerType: TriggerRequestURIHostname, TriggerValue: "b.test"})
			return err
		}, ErrInvalid},
		{"priority 0", func() error {
			_, err := r.CreateRule("acme", Rule{ID: "r2", Name: "x", TriggerType: TriggerRequestURIHostname, TriggerValue: "b.test",
				Targets: []RuleTarget{{App: "main"}}})
			return err
		}, ErrInvalid},
		{"no name", func() error {
			_, err := r.UpdateRule("acme", "r-host", RuleUpdate{})
			return err
		}, ErrInvalid},
		{"get another tenant's rule", func() error { _, err := r.GetRule("globex", "r-host"); return err }, ErrNotFound},
		{"delete another tenant's rule", func() error { return r.DeleteRule("globex", "r-host") }, ErrNotFound},
		{"delete a targeted app", func() error { return r.DeleteApp("acme", "backup") }, ErrInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}

	// The lowest priority whose application can take calls: "empty" has
	// neither plugin nor webhook, so "main" (priority 2) routes.
	if rt, ok := r.Route("+15550100"); !ok || rt.App != "main" || rt.Rule != byNumber.ID {
		t.Fatalf("Route = %+v, %v; want main by %s", rt, ok, byNumber.ID)
	}
	if n := must[Number](t)(r.GetNumber("acme", "+15550100")); n.App != "main" {
		t.Fatalf("GetNumber App %q, want main", n.App)
	}
	if rt, ok := r.RouteHost("pbx.ACME.test"); !ok || rt.App != "backup" || rt.Rule != byHost.ID || rt.Tenant != "acme" {
		t.Fatalf("RouteHost = %+v, %v", rt, ok)
	}
	if got := must[[]Rule](t)(r.ListRules("acme", "main")); len(got) != 1 || got[0].ID != "r-number" {
		t.Fatalf("ListRules(main) = %+v", got)
	}
	if got := must[[]Rule](t)(r.ListRules("acme", "")); len(got) != 2 {
		t.Fatalf("ListRules = %+v", got)
	}

	off := true
	must[Rule](t)(r.UpdateRule("acme", "r-number", RuleUpdate{Name: "off", Disabled: &off}))
	if _, ok := r.Route("+15550100"); ok {
		t.Fatal("a disabled rule still routes")
	}
	if n := must[Number](t)(r.GetNumber("acme", "+15550100")); n.App != "" {
		t.Fatalf("GetNumber of a disabled rule: App %q", n.App)
	}
	// SetRule makes the number's rule enabled, with one target.
	check(t, r.SetRule("acme", "+15550100", "backup"))
	got := must[Rule](t)(r.GetRule("acme", "r-number"))
	if got.Disabled || len(got.Targets) != 1 || got.Targets[0] != (RuleTarget{App: "backup", Priority: 1}) {
		t.Fatalf("after SetRule: %+v", got)
	}
	check(t, r.SetRule("acme", "+15550100", ""))
	if _, err := r.GetRule("acme", "r-number"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetRule(\"\") kept the rule: %v", err)
	}

	// Removing a number removes its rule; deleting a tenant frees its hostnames.
	check(t, r.SetRule("acme", "+15550100", "main"))
	check(t, r.RemoveNumber("acme", "+15550100"))
	if got := must[[]Rule](t)(r.ListRules("acme", "")); len(got) != 1 || got[0].ID != "r-host" {
		t.Fatalf("rules after RemoveNumber: %+v", got)
	}
	check(t, r.DeleteTenant(t.Context(), "acme"))
	must[Rule](t)(r.CreateRule("globex", Rule{ID: "r-host", Name: "now mine", TriggerType: TriggerRequestURIHostname,
		TriggerValue: "pbx.acme.test", Targets: []RuleTarget{{App: "g", Priority: 1}}}))
	if rt, ok := r.RouteHost("pbx.acme.test"); !ok || rt.Tenant != "globex" {
		t.Fatalf("RouteHost after the owner left: %+v, %v", rt, ok)
	}
}

// TestNumberRouteMigration opens a registry whose number holds its route
// the way earlier versions stored it, and finds a rule instead.
func TestNumberRouteMigration(t *testing.T) {
	e := newEnv(t)
	must[Tenant](t)(e.reg.CreateTenant("acme", "", Quotas{}))
	must[Application](t)(e.reg.CreateApp("acme", "ivr", "", "https://acme.test/ivr"))
	n := must[Number](t)(e.reg.AddNumber("acme", "+15550100"))
	check(t, e.reg.Close())

	db, err := bolt.Open(e.dir+"/registry.db", 0o600, nil)
	check(t, err)
	n.App = "ivr"
	check(t, db.Update(func(tx *bolt.Tx) error { return put(tx, bucketNumbers, []byte(n.Number), n) }))
	check(t, db.Close())

	for range 2 { // the second open finds nothing left to move
		e.open(t)
		rules := must[[]Rule](t)(e.reg.ListRules("acme", ""))
		if len(rules) != 1 || rules[0].TriggerValue != "+15550100" || rules[0].Targets[0].App != "ivr" {
			t.Fatalf("rules after migration: %+v", rules)
		}
		if rt, ok := e.reg.Route("+15550100"); !ok || rt.App != "ivr" || rt.Rule != rules[0].ID {
			t.Fatalf("Route = %+v, %v", rt, ok)
		}
		check(t, e.reg.Close())
	}
}
