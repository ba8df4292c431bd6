package server

// StartCallRecording with Track BOTH on a bridged call: the caller sends
// tone X, the callee (a SIP UA behind the trunk) tone Y; the stereo WAV's
// left channel (what LEG-A says) must be X and its right channel (what
// LEG-A hears, the callee) Y, each without the other.

import (
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/sip"
)

// startToneCallee is a SIP UA (the sip package's server) on loopback UDP
// that answers every call and sends pcm, looped, until the call ends.
func startToneCallee(t testing.TB, pcm codec.PCM16) string {
	t.Helper()
	srv, err := sip.NewServer(sip.Config{UDP: []string{"127.0.0.1:0"}, Codecs: []string{"PCMA"},
		T1: 100 * time.Millisecond, T2: 400 * time.Millisecond},
		sip.HandlerFunc(func(c *sip.Call) {
			peer := newRTPPeer(t, codec.PCMA)
			defer peer.close()
			if err := c.Answer(peer.Addr()); err != nil {
				drain(c)
				return
			}
			peer.send(c.Remote.Addr, pcm)
			drain(c)
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		srv.ListenAndServe(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	a, _ := srv.Addr("udp")
	time.Sleep(100 * time.Millisecond) // ListenAndServe registers the socket
	return a.String()
}

// readStereo returns the two channels of a 16-bit PCM stereo WAV file.
func readStereo(t testing.TB, path string) (left, right codec.PCM16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s is not a WAV file", path)
	}
	channels := 0
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		body := b[off+8 : min(len(b), off+8+n)]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			if bits := binary.LittleEndian.Uint16(body[14:16]); bits != 16 {
				t.Fatalf("%s: %d bits per sample, want 16", path, bits)
			}
		case "data":
			if channels != 2 {
				t.Fatalf("%s: %d channels, want 2", path, channels)
			}
			for i := 0; i+4 <= len(body); i += 4 {
				left = append(left, int16(binary.LittleEndian.Uint16(body[i:])))
				right = append(right, int16(binary.LittleEndian.Uint16(body[i+2:])))
			}
			return left, right
		}
		off += 8 + n + n&1
	}
	t.Fatalf("%s has no data chunk", path)
	return nil, nil
}

func TestStereoCallRecordingOfBridgedCall(t *testing.T) {
	callee := startToneCallee(t, tone(toneY, time.Second, 8000))
	cfg := testConfig(t)
	cfg.Trunks = []config.Trunk{trunkTo(callee)}
	sc := newScript(func(ev *abi.Event) string {
		switch {
		case ev.InvocationEventType == abi.EventNewInboundCall:
			return actions(callAndBridge(calleeBNumber))
		case ev.InvocationEventType == abi.EventActionSuccessful && ev.ActionData.Type == abi.ActionCallAndBridge:
			return actions(`{"Type":"StartCallRecording","Parameters":{"CallId":"` + ev.CallDetails.Participants[0].CallID +
				`","Track":"BOTH","Destination":{"Type":"S3","Location":"recordings/e2e"}}}`)
		case ev.InvocationEventType == abi.EventHangup:
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return ""
	})
	ts := startTestServer(t, cfg, []config.Application{webhookApp(t, "callrec", bridgeNumber, sc.handle)})
	peer, remote := loopbackCall(t, ts, bridgeNumber)
	peer.send(remote, tone(toneX, time.Second, 8000))
	ok := sc.waitFor(t, abi.EventActionSuccessful, abi.ActionStartCallRecording)
	if ok.ActionData.CallRecordingDestination == nil {
		t.Fatalf("ACTION_SUCCESSFUL StartCallRecording without CallRecordingDestination")
	}
	time.Sleep(3 * time.Second)
	if err := ts.CallsAPI().HangupCall(context.Background(), "demo", ok.CallDetails.TransactionID); err != nil {
		t.Fatalf("HangupCall: %v", err)
	}
	ts.waitIdle(t)

	bucket, key, _ := strings.Cut(ok.ActionData.CallRecordingDestination.Location, "/")
	path, err := ts.BucketPath("demo", bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	left, right := readStereo(t, path)
	lx, ly := tonePower(left, toneX), tonePower(left, toneY)
	rx, ry := tonePower(right, toneX), tonePower(right, toneY)
	t.Logf("recording %.1f s: left X %.3f Y %.3f, right X %.3f Y %.3f", float64(len(left))/codec.SampleRate, lx, ly, rx, ry)
	if d := len(left) / codec.SampleRate; d < 2 {
		t.Errorf("recording lasts %d s, want ≥ 2 s of the 3 s recorded", d)
	}
	if lx < 0.5 || ly > 0.05 {
		t.Errorf("left channel: caller's X %.3f (want ≥ 0.5), callee's Y %.3f (want ≤ 0.05)", lx, ly)
	}
	if ry < 0.5 || rx > 0.05 {
		t.Errorf("right channel: callee's Y %.3f (want ≥ 0.5), caller's X %.3f (want ≤ 0.05)", ry, rx)
	}
	if d := toneDuration(left, toneX); d < 2*time.Second {
		t.Errorf("left channel holds X for %v, want ≥ 2 s", d)
	}
	if d := toneDuration(right, toneY); d < 2*time.Second {
		t.Errorf("right channel holds Y for %v, want ≥ 2 s", d)
	}
}
