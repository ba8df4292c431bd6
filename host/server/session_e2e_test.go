package server

// Connections with real softphones (baresip), each with a tone of its own
// on its microphone: a three-party connection (a conference room joined
// by three callers) and a monitor dialled into a bridged call. Content
// checks: who hears which tone.

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/media/codec"
)

const toneZ = 2100.0 // a third party's microphone

// In a three-party connection each party hears the other two and not
// itself.
func TestBaresipThreeParty(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	const number = "+15550181"
	sc := newScript(func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"JoinChimeMeeting","Parameters":{"JoinToken":"room-3"}}`)
		}
		return ""
	})
	ts := startTestServer(t, nil, []config.Application{webhookApp(t, "three", number, sc.handle)})
	tones := []float64{toneX, toneY, toneZ}
	heard := make([]codec.PCM16, len(tones))
	logs := make([]string, len(tones))
	errs := make([]error, len(tones))
	var wg sync.WaitGroup
	for i, f := range tones {
		relay := startSIPRelay(t, ts.SIPAddr("udp"), false)
		// 3 s of silence while the others join, then 6 s of tone.
		mic := append(make(codec.PCM16, 3*codec.SampleRate), tone(f, 6*time.Second, 8000)...)
		r := prepareBaresip(t, bin, baresipCall{Dial: "sip:" + number + "@" + relay.Addr().String(), Mic: mic})
		wg.Add(1)
		go func() {
			defer wg.Done()
			heard[i], logs[i], errs[i] = r.run()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts.waitIdle(t)
	for i, f := range tones {
		for j, g := range tones {
			p := tonePower(heard[i], g)
			t.Logf("party %.0f Hz heard %.0f Hz: %.3f", f, g, p)
			switch {
			case i == j && p > 0.05:
				t.Errorf("party %.0f Hz heard itself (%.3f)\n%s", f, p, tail(logs[i], 2000))
			case i != j && p < 0.15:
				t.Errorf("party %.0f Hz heard %.0f Hz at %.3f, want ≥ 0.15\n%s", f, g, p, tail(logs[i], 2000))
			}
		}
	}
}

// A monitor dialled into a bridged call hears both parties; neither party
// hears the monitor, and the plugin never sees it.
func TestBaresipMonitor(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	const monitorNumber = "+15550178"
	b := startBaresipCallee(t, bin, "pcmu", tone(toneY, 16*time.Second, 8000))
	m := startBaresipCalleeAs(t, bin, monitorNumber, "pcmu", tone(toneZ, 16*time.Second, 8000))
	bRelay, mRelay := startBothWaysRelay(t, b.Addr), startBothWaysRelay(t, m.Addr)
	cfg := testConfig(t)
	toB, toM := trunkTo(bRelay.Addr().String()), trunkTo(mRelay.Addr().String())
	toB.Name, toB.Prefixes = "b", []string{calleeBNumber}
	toM.Name, toM.Prefixes = "m", []string{monitorNumber}
	cfg.Trunks = []config.Trunk{toB, toM}
	sc := bridgeScript()
	ts := startTestServer(t, cfg, []config.Application{webhookApp(t, "bridge", bridgeNumber, sc.handle)})
	aRelay := startSIPRelay(t, ts.SIPAddr("udp"), false)
	go func() {
		ev := sc.waitFor(t, abi.EventActionSuccessful, abi.ActionCallAndBridge)
		if err := ts.Engine().Monitor(ev.CallDetails.TransactionID, engine.MonitorRequest{From: bridgeNumber, To: monitorNumber}); err != nil {
			t.Errorf("Monitor: %v", err)
		}
	}()
	// A: 3 s of silence while B is dialled, then 9 s of X.
	mic := append(make(codec.PCM16, 3*codec.SampleRate), tone(toneX, 9*time.Second, 8000)...)
	heardA, logsA := runBaresip(t, bin, baresipCall{Dial: "sip:" + bridgeNumber + "@" + aRelay.Addr().String(), Mic: mic})
	heardB, logsB := b.wait(t)
	heardM, logsM := m.wait(t)
	ts.waitIdle(t)
	report := func(name string, x codec.PCM16) string {
		return fmt.Sprintf("%s heard %.1f s: X %.3f, Y %.3f, Z %.3f", name, float64(len(x))/codec.SampleRate,
			tonePower(x, toneX), tonePower(x, toneY), tonePower(x, toneZ))
	}
	t.Log(report("A", heardA))
	t.Log(report("B", heardB))
	t.Log(report("M", heardM))
	if tonePower(heardM, toneX) < 0.15 || tonePower(heardM, toneY) < 0.15 || tonePower(heardM, toneZ) > 0.05 {
		t.Errorf("the monitor: %s\n%s", report("M", heardM), tail(logsM, 2000))
	}
	if tonePower(heardA, toneZ) > 0.02 || tonePower(heardA, toneY) < 0.4 {
		t.Errorf("A: %s\n%s", report("A", heardA), tail(logsA, 2000))
	}
	if tonePower(heardB, toneZ) > 0.02 || tonePower(heardB, toneX) < 0.3 {
		t.Errorf("B: %s\n%s", report("B", heardB), tail(logsB, 2000))
	}
	for _, ev := range sc.Events() {
		if n := len(ev.CallDetails.Participants); n > 2 {
			t.Fatalf("%s shows %d participants: the plugin saw the monitor", ev.InvocationEventType, n)
		}
	}
}
