package tenancy

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/media/wav"
)

// wavHeader returns a WAV header with the given RIFF and data sizes,
// followed by data bytes of audio.
func wavHeader(riff, dataSize uint32, data int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, riff)
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, dataSize)
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestWAVNeedsRepair(t *testing.T) {
	withList := append(wavHeader(36+100+16, 100, 100), append([]byte("LIST"), 8, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')...)
	tests := []struct {
		name string
		file []byte
		want bool
	}{
		{name: "complete", file: wavHeader(36+100, 100, 100), want: false},
		{name: "data after the last header rewrite", file: wavHeader(36+100, 100, 300), want: true},
		{name: "sizes never written", file: wavHeader(0, 0, 300), want: true},
		{name: "streaming sizes (0xFFFFFFFF)", file: wavHeader(0xFFFFFFFF, 0xFFFFFFFF, 300), want: true},
		{name: "chunk after data, consistent", file: withList, want: false},
		{name: "not a wav", file: []byte("ID3\x03\x00\x00\x00\x00\x00\x00 mp3 data"), want: false},
		{name: "empty", file: nil, want: false},
		{name: "header only, no data chunk", file: wavHeader(36, 0, 0)[:36], want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wavNeedsRepair(tt.file, int64(len(tt.file))); got != tt.want {
				t.Errorf("wavNeedsRepair = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzWAVNeedsRepair(f *testing.F) {
	f.Add(wavHeader(36+100, 100, 100), int64(136+8))
	f.Add(wavHeader(0, 0, 10), int64(54))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"), int64(1<<40))
	f.Fuzz(func(t *testing.T, head []byte, size int64) {
		wavNeedsRepair(head, size) // must not panic or loop
	})
}

func TestRepairRecordingsScan(t *testing.T) {
	root := t.TempDir()
	broken := filepath.Join(root, "demo", "recordings", "a", "broken.wav")
	good := filepath.Join(root, "demo", "recordings", "good.wav")
	notWAV := filepath.Join(root, "demo", "prompts", "x.wav")
	for p, b := range map[string][]byte{
		broken: wavHeader(36+100, 100, 1001), // odd: trimmed to whole samples
		good:   wavHeader(36+100, 100, 100),
		notWAV: []byte("not a wav at all"),
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	got := s.repairRecordings(root)
	if want := []string{"demo/recordings/a/broken.wav"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("repaired %v, want %v", got, want)
	}
	if !strings.Contains(logs.String(), "repaired recording demo/recordings/a/broken.wav") {
		t.Errorf("no \"repaired recording\" log line:\n%s", logs.String())
	}
	pcm, _, err := wav.ReadFile(broken)
	if err != nil {
		t.Fatalf("repaired file: %v", err)
	}
	if len(pcm) != 500 {
		t.Errorf("repaired file holds %d samples, want 500", len(pcm))
	}
	if again := s.repairRecordings(root); len(again) != 0 {
		t.Errorf("second scan repaired %v again", again)
	}
}
