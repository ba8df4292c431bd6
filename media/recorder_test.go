package media

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// A process killed mid-recording leaves a file that wav.Repair makes
// whole: we copy the file while the recorder is still writing (what a
// crash leaves on disk), repair the copy and check both channels.
func TestRecorderCrashRepair(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/live.wav"
	r, err := NewRecorder(RecorderConfig{Path: path, Track: TrackBoth})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	said, heard := tone(160*75, 500, 6000), tone(160*75, 1500, 6000)
	for i := 0; i < 75; i++ { // 1.5 s: the first sync happens after 1 s
		r.WriteFrame(said[i*160:(i+1)*160], heard[i*160:(i+1)*160])
	}
	var raw []byte
	waitFor(t, "first sync", func() bool {
		raw, err = os.ReadFile(path)
		return err == nil && len(raw) >= 44 && binary.LittleEndian.Uint32(raw[40:]) != 0xFFFFFFFF
	})
	crashed := dir + "/crashed.wav"
	if err := os.WriteFile(crashed, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := wav.Repair(crashed); err != nil {
		t.Fatal(err)
	}
	left, right := readStereo(t, crashed)
	if len(left) < codec.SampleRate {
		t.Fatalf("repaired file holds %d samples, want at least 1 s", len(left))
	}
	if !bytes.Equal(raw[44:44+4*codec.SampleRate], mustRead(t, crashed)[44:44+4*codec.SampleRate]) {
		t.Fatal("repair changed the audio")
	}
	for _, c := range []struct {
		name      string
		got       codec.PCM16
		want, not float64
	}{
		{"left", left, 500, 1500},
		{"right", right, 1500, 500},
	} {
		if l := toneLevel(c.got, c.want); l < 5800 || l > 6200 {
			t.Fatalf("%s: level %.0f at %v Hz", c.name, l, c.want)
		}
		if l := toneLevel(c.got, c.not); l > 60 {
			t.Fatalf("%s: level %.0f at %v Hz, want none", c.name, l, c.not)
		}
	}
	if r.Dropped() != 0 || r.Paused() {
		t.Fatalf("dropped %d paused %v", r.Dropped(), r.Paused())
	}
}

// Pause keeps the timeline: the paused stretch is silence of the same length.
func TestRecorderPauseKeepsTimeline(t *testing.T) {
	path := tempPath(t, "p.wav")
	r, err := NewRecorder(RecorderConfig{Path: path, Track: TrackIncoming})
	if err != nil {
		t.Fatal(err)
	}
	loud := tone(160, 1000, 8000)
	for i := 0; i < 30; i++ {
		switch i {
		case 10:
			r.Pause()
		case 20:
			r.Resume()
		}
		r.WriteFrame(loud, nil)
	}
	r.Stop()
	if res := r.Wait(); res.Err != nil || res.Duration != 600*time.Millisecond {
		t.Fatalf("result %+v", res)
	}
	got, _, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, true} {
		seg := got[i*1600 : (i+1)*1600]
		if heard := toneLevel(seg, 1000) > 7000; heard != want || (!want && rms(seg) != 0) {
			t.Fatalf("segment %d: tone %v, want %v", i, heard, want)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
