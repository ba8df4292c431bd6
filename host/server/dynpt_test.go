package server

import (
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// A caller that maps PCMU to the dynamic payload type 96 (sipp): the
// answer keeps 96 (sipp checks it), and the caller's audio, sent with 96,
// is received and recorded, not dropped as an unknown payload type.
func TestDynamicPayloadTypeCall(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	app := webhookApp(t, "dynpt", "+15550121", func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"RecordAudio","Parameters":{"DurationInSeconds":1,"RecordingTerminators":["#"],` +
				`"RecordingDestination":{"Type":"S3","BucketName":"recordings","Prefix":"dyn"}}}`)
		}
		return actions()
	})
	ts := startTestServer(t, nil, []config.Application{app})
	var frames []codec.PCM16
	signal := tone(440, 1500*time.Millisecond, 8000)
	for i := 0; i+codec.FrameSamples <= len(signal); i += codec.FrameSamples {
		frames = append(frames, signal[i:i+codec.FrameSamples])
	}
	runSipp(t, ts, sippOptions{Scenario: "uac_dynpt", Service: "+15550121",
		Files: map[string][]byte{"dyn.pcap": writeRTPPCAPAs(frames, codec.PCMU, 96)}})
	ts.waitIdle(t)
	in := ts.metric(t, `mediaserver_rtp_packets_total{direction="in"}`)
	dropped := ts.metric(t, `mediaserver_rtp_dropped_total{reason="unknown_payload_type"}`)
	if in < 30 || dropped != 0 {
		t.Fatalf("rtp in %v, dropped for an unknown payload type %v: the payload type 96 audio was not taken", in, dropped)
	}
	var rec string
	filepath.WalkDir(filepath.Join(ts.Config.DataDir, "buckets", "demo", "recordings"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".wav" {
			rec = p
		}
		return nil
	})
	pcm, _, err := wav.ReadFile(rec)
	if err != nil {
		t.Fatalf("recording %q: %v", rec, err)
	}
	if len(pcm) < codec.SampleRate/2 || tonePower(pcm, 440) < 0.8 {
		t.Fatalf("recording of %d samples, %.2f of its energy at 440 Hz: want the caller's tone", len(pcm), tonePower(pcm, 440))
	}
}
