package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/host/config"
)

func bootConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(fmt.Sprintf(`
[egress]
allow = ["127.0.0.0/8"]

[[tenant]]
id = "acme"
  [[tenant.application]]
  id = "ivr"
  plugin = %q
  numbers = ["+15550100", "+15550101"]
  [[tenant.application]]
  id = "hook"
  webhook = "http://127.0.0.1:9/events"
  numbers = ["+15550102"]

[[tenant]]
id = "globex"
  [[tenant.application]]
  id = "conf"
  plugin = %q
  numbers = ["+15550200"]
`, filepath.Join(dir, "ivr.wasm"), filepath.Join(dir, "conf.wasm")))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	plugDir := t.TempDir()
	ivr1, ivr2, conf := wasmOf("ivr1"), wasmOf("ivr2"), wasmOf("conf")
	writeFile(t, filepath.Join(plugDir, "ivr.wasm"), ivr1)
	writeFile(t, filepath.Join(plugDir, "conf.wasm"), conf)
	cfg := bootConfig(t, plugDir)
	top := t // reopened registries must outlive the subtest that reopens them

	check(t, e.reg.Bootstrap(ctx, cfg))
	routes := []struct {
		number string
		want   Route
	}{
		{"+15550100", Route{Tenant: "acme", App: "ivr", Plugin: shaOf(ivr1)}},
		{"+15550101", Route{Tenant: "acme", App: "ivr", Plugin: shaOf(ivr1)}},
		{"+15550102", Route{Tenant: "acme", App: "hook", Webhook: "http://127.0.0.1:9/events"}},
		{"+15550200", Route{Tenant: "globex", App: "conf", Plugin: shaOf(conf)}},
	}
	for _, rt := range routes {
		got, ok := e.reg.Route(rt.number)
		if rule, err := e.reg.GetRule(rt.want.Tenant, got.Rule); err != nil || rule.TriggerValue != rt.number {
			t.Fatalf("Route(%s): rule %q: %+v, %v", rt.number, got.Rule, rule, err)
		}
		got.Rule = ""
		if !ok || got != rt.want {
			t.Fatalf("Route(%s) = %+v, %v; want %+v", rt.number, got, ok, rt.want)
		}
	}

	t.Run("idempotent", func(t *testing.T) {
		gen, _ := e.reg.Watch()
		check(t, e.reg.Bootstrap(ctx, cfg))
		if g, _ := e.reg.Watch(); g != gen {
			t.Fatalf("second Bootstrap changed the registry: generation %d -> %d", gen, g)
		}
		if n := len(must[[]Version](t)(e.reg.ListPlugins("acme"))); n != 1 {
			t.Fatalf("acme has %d versions, want 1", n)
		}
	})

	t.Run("API assignment survives restart", func(t *testing.T) {
		v := must[Version](t)(e.reg.PutPlugin(ctx, "acme", wasmOf("from api")))
		check(t, e.reg.AssignPlugin("acme", "ivr", v.SHA256))
		check(t, e.reg.Close())
		e.open(top)
		check(t, e.reg.Bootstrap(ctx, cfg))
		if rt, _ := e.reg.Route("+15550100"); rt.Plugin != v.SHA256 {
			t.Fatalf("Route plugin = %s, want the API's version", rt.Plugin)
		}
	})

	t.Run("changed file is assigned", func(t *testing.T) {
		before := must[Application](t)(e.reg.GetApp("acme", "ivr"))
		writeFile(t, filepath.Join(plugDir, "ivr.wasm"), ivr2)
		check(t, e.reg.Bootstrap(ctx, cfg))
		app := must[Application](t)(e.reg.GetApp("acme", "ivr"))
		if app.Plugin != shaOf(ivr2) || !slices.Equal(app.History, append(before.History, before.Plugin)) {
			t.Fatalf("app = %+v, want ivr2 current and the previous version in history", app)
		}
	})

	t.Run("problems are reported, the rest applied", func(t *testing.T) {
		must[Tenant](t)(e.reg.CreateTenant("squatter", "", Quotas{}))
		must[Number](t)(e.reg.AddNumber("squatter", "+15550300"))
		bad, err := config.Parse(fmt.Sprintf(`
[[tenant]]
id = "initech"
  [[tenant.application]]
  id = "missing"
  plugin = %q
  numbers = ["+15550400"]
  [[tenant.application]]
  id = "taken"
  webhook = "https://example.test/"
  numbers = ["+15550300"]
  [[tenant.application]]
  id = "fine"
  webhook = "https://example.test/fine"
  numbers = ["+15550500"]
`, filepath.Join(plugDir, "nope.wasm")))
		check(t, err)
		err = e.reg.Bootstrap(ctx, bad)
		if !errors.Is(err, os.ErrNotExist) || !errors.Is(err, ErrNumberTaken) {
			t.Fatalf("Bootstrap = %v, want a missing file and a taken number", err)
		}
		if !strings.Contains(err.Error(), "initech/missing") || !strings.Contains(err.Error(), "initech/taken") {
			t.Fatalf("error does not name the applications: %v", err)
		}
		if rt, ok := e.reg.Route("+15550500"); !ok || rt.App != "fine" {
			t.Fatalf("Route(+15550500) = %+v, %v; want the fine app", rt, ok)
		}
		if rt, ok := e.reg.Route("+15550300"); ok {
			t.Fatalf("squatter's number routes to %+v", rt)
		}
		if _, ok := e.reg.Route("+15550400"); ok {
			t.Fatal("app without its plugin routes")
		}
	})
}
