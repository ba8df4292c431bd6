package server

import (
	"bytes"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
)

// TestHotSwapUnderLoad: while sipp places 200 calls at 20 calls/s on the
// demo IVR, a new version is assigned through the API and later rolled
// back. No call fails; every call runs on one version from its first
// event to its last; calls started after the assignment run on the new
// version and calls started after the rollback on the old one; once idle,
// the new version (no longer assigned, no call on it) is closed.
func TestHotSwapUnderLoad(t *testing.T) {
	// Not parallel: it loads the machine on purpose, which would disturb
	// the timing-sensitive tests (recordings, bridges) running beside it.
	sipp := requireTool(t, "sipp", "sip-tester")
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	_, demoFile := ts.KeyFiles()
	key, err := readKey(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	app, err := ts.Registry().GetApp("demo", "demo-ivr")
	if err != nil {
		t.Fatal(err)
	}
	v1 := app.Plugin
	// The same program under another hash: a new version that behaves
	// alike, so any failed call would be the swap's fault.
	v2wasm := withCustomSection(readFile(t, filepath.Join(repoRoot, "plugins", "bin", "ivr-go.wasm")), "hotswap-v2")
	v2 := ts.uploadPlugin(t, key, v2wasm, http.StatusCreated).Plugin.Sha256

	const calls = 200
	type result struct {
		r   sippLoadResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := runSippLoad(t, sipp, ts, sippLoad{Service: config.DemoNumber,
			Dir: t.TempDir(), Scenario: "uac_short", Rate: 20, Calls: calls, Limit: calls,
			CallLength: time.Second, Timeout: 90 * time.Second,
		})
		done <- result{r, err}
	}()
	newCalls := func() int {
		n := 0
		// Cheap: this polls while the load runs.
		for _, inv := range ts.obs.snapshot() {
			if bytes.Contains(inv.Event, []byte(`"InvocationEventType":"NEW_INBOUND_CALL"`)) {
				n++
			}
		}
		return n
	}
	waitFor(t, "60 calls", func() bool { return newCalls() >= 60 })
	ts.apiJSON(t, "PUT", "/sip-media-applications/demo-ivr/plugin", key, api.AssignPluginRequest{Sha256: v2}, http.StatusOK, nil)
	assignedAt := len(ts.obs.snapshot())
	waitFor(t, "130 calls", func() bool { return newCalls() >= 130 })
	var rolled api.AppResponse
	ts.apiJSON(t, "POST", "/sip-media-applications/demo-ivr/plugin/rollback", key, nil, http.StatusOK, &rolled)
	if rolled.SipMediaApplication.Plugin != v1 {
		t.Fatalf("after rollback the plugin is %s, want %s", rolled.SipMediaApplication.Plugin, v1)
	}
	rolledAt := len(ts.obs.snapshot())
	out := <-done
	if out.err != nil {
		t.Fatal(out.err)
	}
	if out.r.Failed != 0 || out.r.Successful != calls {
		t.Fatalf("sipp: %d successful, %d failed, want %d and 0 (exit %d)\n%s\n%s",
			out.r.Successful, out.r.Failed, calls, out.r.Exit, tail(out.r.Errors, 3000), tail(out.r.Output, 2000))
	}
	ts.waitIdle(t)

	invs := ts.obs.snapshot()
	version := map[string]string{} // transaction → version
	onV2, afterAssignOnV2, afterRollbackOnV1 := 0, 0, 0
	for i, inv := range invs {
		tx := txID(t, inv)
		if v, ok := version[tx]; ok && v != inv.Plugin {
			t.Fatalf("call %s changed version mid-call: %s then %s", tx, v, inv.Plugin)
		}
		version[tx] = inv.Plugin
		if !isNewCall(t, inv) {
			continue
		}
		switch {
		case inv.Plugin == v2:
			onV2++
			if i >= assignedAt {
				afterAssignOnV2++
			}
		case inv.Plugin == v1 && i >= rolledAt:
			afterRollbackOnV1++
		case inv.Plugin != v1:
			t.Fatalf("call %s ran on unknown version %q", tx, inv.Plugin)
		}
	}
	if len(version) != calls || afterAssignOnV2 == 0 || afterRollbackOnV1 == 0 {
		t.Fatalf("%d calls seen (want %d); %d on the new version (%d started after the assignment), %d on the old one after the rollback",
			len(version), calls, onV2, afterAssignOnV2, afterRollbackOnV1)
	}
	// Neither assigned nor used: the new version's pool is gone.
	for _, k := range ts.ten.Versions() {
		if k.SHA == v2 {
			t.Fatalf("version %s still loaded after its last call ended", v2)
		}
	}
}

func isNewCall(t testing.TB, inv Invocation) bool {
	t.Helper()
	ev, err := abi.ParseEvent(inv.Event)
	if err != nil {
		t.Fatal(err)
	}
	return ev.InvocationEventType == abi.EventNewInboundCall
}
