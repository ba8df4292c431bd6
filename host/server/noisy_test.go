package server

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// noisyNumber is tenant "noisy"'s number; its plugin spins until the
// deadline on every event (host/plugin/testdata/hostile/loop.c).
const noisyNumber = "+15550199"

// startNoisyServer runs the demo IVR (tenant "demo") beside tenant
// "noisy" whose plugin spins until its 200 ms deadline on every event,
// each tenant held to one concurrent invocation.
func startNoisyServer(t testing.TB) *testServer {
	t.Helper()
	loop := requireFile(t, filepath.Join(hostileBins, "loop.wasm"), "run host/plugin/testdata/build.sh")
	cfg := testConfig(t)
	cfg.Tenants = []config.Tenant{{ID: "noisy", Applications: []config.Application{{ID: "spin", Plugin: loop, Numbers: []string{noisyNumber}}}}}
	ts := startTestServer(t, cfg, []config.Application{demoApp(t, config.DemoNumber)}, WithTenantCPU(1))
	if _, err := ts.Registry().UpdateTenant("noisy", "noisy", tenant.Quotas{EventDeadline: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestNoisyNeighbour: tenant "noisy" gets calls whose every event burns
// its full deadline, while tenant "demo" takes calls at the same time:
// every demo call succeeds; the noisy calls fail, and their plugin errors
// are timeouts counted against the noisy tenant only.
func TestNoisyNeighbour(t *testing.T) {
	// Not parallel: it loads the machine on purpose, which would disturb
	// the timing-sensitive tests (recordings, bridges) running beside it.
	sipp := requireTool(t, "sipp", "sip-tester")
	ts := startNoisyServer(t)
	type result struct {
		r   sippLoadResult
		err error
	}
	noisy := make(chan result, 1)
	go func() {
		r, err := runSippLoad(t, sipp, ts, sippLoad{Service: noisyNumber,
			Dir: t.TempDir(), Scenario: "uac_short", Rate: 10, Calls: 40, Limit: 40,
			CallLength: time.Second, Timeout: 60 * time.Second,
		})
		noisy <- result{r, err}
	}()
	waitFor(t, "the noisy tenant's first timeout", func() bool {
		return ts.ten.PluginsAPI().Stats("noisy", "spin").Errors["timeout"] > 0
	})
	r, err := runSippLoad(t, sipp, ts, sippLoad{Service: config.DemoNumber,
		Dir: t.TempDir(), Scenario: "uac_short", Rate: 10, Calls: 40, Limit: 40,
		CallLength: time.Second, Timeout: 60 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.Successful != 40 {
		t.Fatalf("demo beside the noisy tenant: %d successful, %d failed, want 40 and 0\n%s\n%s",
			r.Successful, r.Failed, tail(r.Errors, 3000), tail(r.Output, 2000))
	}
	n := <-noisy
	if n.err != nil {
		t.Fatal(n.err)
	}
	if n.r.Successful != 0 {
		t.Fatalf("%d noisy calls succeeded; a plugin that never answers must fail every call", n.r.Successful)
	}
	// The noisy calls end as their events fail (deadline, or no CPU share
	// within cpuQueueTimeout), which takes a while at one slot.
	waitFor(t, "the noisy calls to end", func() bool { return len(ts.Engine().Calls()) == 0 })
	ts.waitIdle(t)
	noisyStats := ts.ten.PluginsAPI().Stats("noisy", "spin")
	if noisyStats.Errors["timeout"] == 0 {
		t.Fatalf("noisy plugin errors %v, want timeouts", noisyStats.Errors)
	}
	demo := ts.ten.PluginsAPI().Stats("demo", "demo-ivr")
	if len(demo.Errors) != 0 {
		t.Fatalf("demo plugin errors %v: the noisy tenant's failures leaked", demo.Errors)
	}
}
