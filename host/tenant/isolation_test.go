package tenant

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// tenantView is everything one tenant can see, to prove another tenant's
// calls leave it untouched.
type tenantView struct {
	Tenant  Tenant
	Apps    []Application
	Numbers []Number
	Plugins []Version
	Keys    []Key
	Route   Route
}

func viewOf(t *testing.T, r Registrar, id, number string) tenantView {
	t.Helper()
	rt, _ := r.Route(number)
	return tenantView{
		Tenant:  must[Tenant](t)(r.GetTenant(id)),
		Apps:    must[[]Application](t)(r.ListApps(id)),
		Numbers: must[[]Number](t)(r.ListNumbers(id)),
		Plugins: must[[]Version](t)(r.ListPlugins(id)),
		Keys:    must[[]Key](t)(r.ListKeys(id)),
		Route:   rt,
	}
}

// TestIsolation calls every tenant-scoped method as tenant b on tenant a's
// objects: each must answer ErrNotFound, exactly as for a missing object,
// and a's state must not change.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).reg
	const numA, numB = "+15550001", "+15550002"
	setup := func(id, app, number, body string) (Version, Key) {
		must[Tenant](t)(r.CreateTenant(id, "", Quotas{}))
		must[Application](t)(r.CreateApp(id, app, "", ""))
		must[Application](t)(r.CreateApp(id, "shared", "", ""))
		must[Number](t)(r.AddNumber(id, number))
		check(t, r.SetRule(id, number, app))
		v := must[Version](t)(r.PutPlugin(ctx, id, wasmOf(body)))
		old := must[Version](t)(r.PutPlugin(ctx, id, wasmOf(body+"-old")))
		check(t, r.AssignPlugin(id, app, old.SHA256))
		check(t, r.AssignPlugin(id, app, v.SHA256))
		check(t, r.AssignPlugin(id, "shared", v.SHA256))
		_, k, err := r.CreateKey(id, "k")
		check(t, err)
		return v, k
	}
	va, ka := setup("a", "ivr-a", numA, "a")
	vb, _ := setup("b", "ivr-b", numB, "b")
	before := viewOf(t, r, "a", numA)

	tests := []struct {
		name string
		run  func() error
	}{
		{"GetApp", func() error { _, err := r.GetApp("b", "ivr-a"); return err }},
		{"UpdateApp", func() error { _, err := r.UpdateApp("b", "ivr-a", "x", "http://x.test"); return err }},
		{"DeleteApp", func() error { return r.DeleteApp("b", "ivr-a") }},
		{"GetNumber", func() error { _, err := r.GetNumber("b", numA); return err }},
		{"RemoveNumber", func() error { return r.RemoveNumber("b", numA) }},
		{"SetRule on other's number", func() error { return r.SetRule("b", numA, "ivr-b") }},
		{"SetRule to other's app", func() error { return r.SetRule("b", numB, "ivr-a") }},
		{"GetPlugin", func() error { _, err := r.GetPlugin("b", va.SHA256); return err }},
		{"OpenPlugin", func() error { _, err := r.OpenPlugin(ctx, "b", va.SHA256); return err }},
		{"AssignPlugin other's version", func() error { return r.AssignPlugin("b", "ivr-b", va.SHA256) }},
		{"AssignPlugin to other's app", func() error { return r.AssignPlugin("b", "ivr-a", vb.SHA256) }},
		{"Rollback", func() error { _, err := r.Rollback("b", "ivr-a"); return err }},
		{"DeletePlugin", func() error { return r.DeletePlugin(ctx, "b", va.SHA256) }},
		{"RevokeKey", func() error { return r.RevokeKey("b", ka.ID) }},
		{"RevokeKey as admin scope", func() error { return r.RevokeKey("", ka.ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
	}

	t.Run("same ids in both tenants", func(t *testing.T) {
		// b's changes to its own "shared" app and its copy of a's bytes
		// touch nothing of a's.
		vbA := must[Version](t)(r.PutPlugin(ctx, "b", wasmOf("a")))
		if vbA.SHA256 != va.SHA256 {
			t.Fatalf("content address differs: %s vs %s", vbA.SHA256, va.SHA256)
		}
		check(t, r.AssignPlugin("b", "shared", vbA.SHA256))
		if _, err := r.Rollback("b", "shared"); err != nil {
			t.Fatal(err)
		}
		check(t, r.DeletePlugin(ctx, "b", vbA.SHA256))
		must[Application](t)(r.UpdateApp("b", "shared", "renamed", ""))
		if _, err := r.OpenPlugin(ctx, "a", va.SHA256); err != nil {
			t.Fatalf("a's plugin after b deleted its copy: %v", err)
		}
	})
	t.Run("taken number", func(t *testing.T) {
		if _, err := r.AddNumber("b", numA); !errors.Is(err, ErrNumberTaken) {
			t.Fatalf("AddNumber(a's number) = %v, want ErrNumberTaken", err)
		}
	})
	t.Run("lists", func(t *testing.T) {
		for _, a := range must[[]Application](t)(r.ListApps("b")) {
			if a.Tenant != "b" {
				t.Errorf("ListApps(b) holds %+v", a)
			}
		}
		for _, n := range must[[]Number](t)(r.ListNumbers("b")) {
			if n.Tenant != "b" {
				t.Errorf("ListNumbers(b) holds %+v", n)
			}
		}
		for _, k := range must[[]Key](t)(r.ListKeys("b")) {
			if k.Tenant != "b" {
				t.Errorf("ListKeys(b) holds %+v", k)
			}
		}
		for _, v := range must[[]Version](t)(r.ListPlugins("b")) {
			if v.SHA256 == va.SHA256 {
				t.Errorf("ListPlugins(b) holds a's version %s", v.SHA256)
			}
		}
	})

	if after := viewOf(t, r, "a", numA); !reflect.DeepEqual(after, before) {
		t.Fatalf("tenant a changed:\nbefore %+v\nafter  %+v", before, after)
	}
}
