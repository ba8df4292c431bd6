package server

// A recording survives kill -9 of the server: a child process (this test
// binary) runs the server and records a call; the parent kills it while
// the WAV header is behind the data, restarts a server on the same data
// directory, and checks that the start-up scan repaired the file, logged
// it, and that the file holds the audio sent before the kill.

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenancy"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

const (
	repairNumber   = "+15550170"
	envRepairChild = "MEDIASERVER_REPAIR_CHILD" // data dir of the child server
	envRepairHook  = "MEDIASERVER_REPAIR_WEBHOOK"
)

// repairChild is the server process that TestRecordingRepairedAfterKill
// runs (the test binary again, with envRepairChild set) and kills.
func repairChild(t *testing.T, dir string) {
	cfg := testConfig(t)
	cfg.DataDir = dir
	cfg.SIP.TCP = nil
	app := config.Application{ID: "rec", Webhook: os.Getenv(envRepairHook), Numbers: []string{repairNumber}}
	ts := startTestServer(t, cfg, []config.Application{app})
	fmt.Printf("READY %s\n", ts.SIPAddr("udp"))
	select {} // until killed
}

func TestRecordingRepairedAfterKill(t *testing.T) {
	if dir := os.Getenv(envRepairChild); dir != "" {
		repairChild(t, dir)
		return
	}
	sc := newScript(func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"StartCallRecording","Parameters":{"CallId":"` + ev.CallDetails.Participants[0].CallID +
				`","Track":"INCOMING","Destination":{"Type":"S3","Location":"recordings/crash"}}}`)
		}
		return ""
	})
	hook := webhookApp(t, "rec", repairNumber, sc.handle)
	dataDir := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordingRepairedAfterKill$", "-test.v")
	cmd.Env = append(os.Environ(), envRepairChild+"="+dataDir, envRepairHook+"="+hook.Webhook)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	ready := make(chan netip.AddrPort, 1)
	var childOut bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			childOut.WriteString(line + "\n")
			if a, ok := strings.CutPrefix(line, "READY "); ok {
				if ap, err := netip.ParseAddrPort(a); err == nil {
					ready <- ap
				}
			}
		}
	}()
	var sipAddr netip.AddrPort
	select {
	case sipAddr = <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("the child server did not start\n%s", childErr.String())
	}

	peer, remote := loopbackCallTo(t, sipAddr, repairNumber)
	peer.send(remote, tone(toneX, time.Second, 8000))
	ok := sc.waitFor(t, abi.EventActionSuccessful, abi.ActionStartCallRecording)
	bucket, key, _ := strings.Cut(ok.ActionData.CallRecordingDestination.Location, "/")
	path := filepath.Join(dataDir, "buckets", "demo", bucket, filepath.FromSlash(key))

	// Record a while, then kill -9 at a moment the header lags the data
	// (between two header rewrites), which is what a crash leaves.
	time.Sleep(2500 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for !tenancy.NeedsRepair(path) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never had a header behind its data", path)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := wav.ReadFile(path); err == nil && !tenancy.NeedsRepair(path) {
		t.Fatalf("the recording was consistent after the kill: nothing to repair")
	}

	// Restart on the same data directory.
	cfg := testConfig(t)
	cfg.DataDir = dataDir
	ts := startTestServer(t, cfg, []config.Application{hook})
	rel, _ := filepath.Rel(filepath.Join(dataDir, "buckets"), path)
	rel = filepath.ToSlash(rel)
	if got := ts.RepairedRecordings(); len(got) != 1 || got[0] != rel {
		t.Fatalf("RepairedRecordings = %v, want [%s]", got, rel)
	}
	if !strings.Contains(ts.Logs.String(), "repaired recording "+rel) {
		t.Errorf("no \"repaired recording %s\" log line", rel)
	}
	pcm, _, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("repaired recording does not read: %v", err)
	}
	secs := float64(len(pcm)) / codec.SampleRate
	t.Logf("recording: %d bytes at the kill, %.2f s of audio after repair", st.Size(), secs)
	if secs < 2 {
		t.Errorf("repaired recording holds %.2f s, want ≥ 2 s of the ~2.5 s recorded", secs)
	}
	if p := tonePower(pcm, toneX); p < 0.5 {
		t.Errorf("repaired recording: tone X power %.3f, want ≥ 0.5 (the caller's audio)", p)
	}
	if d := toneDuration(pcm, toneX); d < 1500*time.Millisecond {
		t.Errorf("repaired recording holds X for %v, want ≥ 1.5 s", d)
	}
	var wavs int
	filepath.WalkDir(filepath.Join(dataDir, "buckets"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".wav") {
			wavs++
		}
		return nil
	})
	if wavs != 1 {
		t.Errorf("%d WAV files in the bucket store, want 1", wavs)
	}
}
