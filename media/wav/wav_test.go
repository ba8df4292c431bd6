package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// chunk builds one RIFF chunk with its pad byte.
func chunk(id string, size uint32, body []byte) []byte {
	b := []byte(id)
	b = binary.LittleEndian.AppendUint32(b, size)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func fmtBody(format, channels uint16, rate uint32, bits uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, format)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels)*uint32(bits)/8)
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	return binary.LittleEndian.AppendUint16(b, bits)
}

func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(body)))
	b = append(b, "WAVE"...)
	return append(b, body...)
}

func le16(v ...int16) []byte {
	var b []byte
	for _, s := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func dataChunk(body []byte) []byte { return chunk("data", uint32(len(body)), body) }

func TestDecode(t *testing.T) {
	extensible := append(fmtBody(FormatExtensible, 1, 8000, 16), 22, 0, 16, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71)
	tests := []struct {
		name    string
		in      []byte
		want    codec.PCM16
		wantErr error
	}{
		{name: "pcm16 mono", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), dataChunk(le16(1, -2, 32767, -32768))), want: codec.PCM16{1, -2, 32767, -32767}},
		{name: "pcm8", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 8)), dataChunk([]byte{128, 255, 0})), want: codec.PCM16{0, 32512, -32767}},
		{name: "ulaw", in: riff(chunk("fmt ", 16, fmtBody(7, 1, 8000, 8)), chunk("fact", 4, []byte{2, 0, 0, 0}), dataChunk([]byte{0xFF, 0x80})), want: codec.PCM16{0, 32124}},
		{name: "alaw", in: riff(chunk("fmt ", 16, fmtBody(6, 1, 8000, 8)), dataChunk([]byte{0xD5, 0xAA})), want: codec.PCM16{8, 32256}},
		{name: "stereo downmix", in: riff(chunk("fmt ", 16, fmtBody(1, 2, 8000, 16)), dataChunk(le16(1000, 3000, -100, 100))), want: codec.PCM16{2000, 0}},
		{name: "24 bit", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 24)), dataChunk([]byte{0xFF, 0x34, 0x12, 0, 0, 0x80})), want: codec.PCM16{0x1235, -32767}},
		{name: "float", in: riff(chunk("fmt ", 16, fmtBody(3, 1, 8000, 32)), dataChunk(binary.LittleEndian.AppendUint32(nil, math.Float32bits(0.5)))), want: codec.PCM16{16384}},
		{name: "extensible pcm", in: riff(chunk("fmt ", 40, extensible), dataChunk(le16(7))), want: codec.PCM16{7}},
		{name: "list chunk odd size before fmt", in: riff(chunk("LIST", 5, []byte("abcde")), chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), dataChunk(le16(5))), want: codec.PCM16{5}},
		{name: "fmt chunk 18 bytes", in: riff(chunk("fmt ", 18, append(fmtBody(1, 1, 8000, 16), 0, 0)), dataChunk(le16(9))), want: codec.PCM16{9}},
		{name: "streamed size 0", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), chunk("data", 0, le16(1, 2, 3))), want: codec.PCM16{1, 2, 3}},
		{name: "streamed size max", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), chunk("data", 0xFFFFFFFF, le16(4, 5))), want: codec.PCM16{4, 5}},
		{name: "cut off mid sample", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), []byte("data\x64\x00\x00\x00\x01\x00\x02")), want: codec.PCM16{1}},
		{name: "data then trailing list", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), dataChunk(le16(6)), chunk("LIST", 4, []byte("INFO"))), want: codec.PCM16{6}},
		{name: "not riff", in: []byte("RIFX\x00\x00\x00\x00WAVE"), wantErr: ErrNotWAV},
		{name: "empty", in: nil, wantErr: ErrNotWAV},
		{name: "no fmt", in: riff(dataChunk(le16(1))), wantErr: ErrNoFormat},
		{name: "no data", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16))), wantErr: ErrNoData},
		{name: "truncated chunk", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), []byte("LIST\xff\x00\x00\x00ab")), wantErr: ErrNoData},
		{name: "short fmt", in: riff(chunk("fmt ", 8, make([]byte, 8)), dataChunk(le16(1))), wantErr: ErrBadFormat},
		{name: "adpcm", in: riff(chunk("fmt ", 16, fmtBody(2, 1, 8000, 4)), dataChunk([]byte{1})), wantErr: ErrUnsupported},
		{name: "12 bit", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 12)), dataChunk([]byte{1, 2})), wantErr: ErrUnsupported},
		{name: "zero channels", in: riff(chunk("fmt ", 16, fmtBody(1, 0, 8000, 16)), dataChunk([]byte{1, 2})), wantErr: ErrUnsupported},
		{name: "zero rate", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 0, 16)), dataChunk([]byte{1, 2})), wantErr: ErrUnsupported},
		{name: "rate 100 Hz", in: riff(chunk("fmt ", 16, fmtBody(1, 1, 100, 16)), dataChunk([]byte{1, 2})), wantErr: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := Decode(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// amplitude measures the peak amplitude of freq in x (Goertzel over all samples).
func amplitude(x codec.PCM16, freq float64) float64 {
	w := 2 * math.Pi * freq / codec.SampleRate
	var re, im float64
	for i, v := range x {
		re += float64(v) * math.Cos(w*float64(i))
		im += float64(v) * math.Sin(w*float64(i))
	}
	return 2 * math.Hypot(re, im) / float64(len(x))
}

func sineWAV(rate int, seconds float64, freqs ...float64) []byte {
	n := int(float64(rate) * seconds)
	var s []int16
	for i := 0; i < n; i++ {
		var v float64
		for _, f := range freqs {
			v += 8000 * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		}
		s = append(s, int16(v))
	}
	return riff(chunk("fmt ", 16, fmtBody(1, 1, uint32(rate), 16)), dataChunk(le16(s...)))
}

func TestDecodeResamples(t *testing.T) {
	tests := []struct {
		name string
		rate int
	}{
		{name: "16 kHz", rate: 16000},
		{name: "22.05 kHz", rate: 22050},
		{name: "44.1 kHz", rate: 44100},
		{name: "48 kHz", rate: 48000},
		{name: "11.025 kHz", rate: 11025},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 1 kHz stays; 5.5 kHz is above the 4 kHz Nyquist limit of the
			// output and must be filtered, not folded to 2.5 kHz.
			pcm, info, err := Decode(bytes.NewReader(sineWAV(tt.rate, 0.5, 1000, 5500)))
			if err != nil {
				t.Fatal(err)
			}
			if info.SampleRate != tt.rate {
				t.Fatalf("info rate %d", info.SampleRate)
			}
			if len(pcm) < 3990 || len(pcm) > 4000 {
				t.Fatalf("len %d, want ~4000", len(pcm))
			}
			mid := pcm[200 : len(pcm)-200]
			if a := amplitude(mid, 1000); a < 7600 || a > 8400 {
				t.Fatalf("1 kHz amplitude %.0f, want ~8000", a)
			}
			if a := amplitude(mid, 2500); a > 80 {
				t.Fatalf("alias at 2.5 kHz amplitude %.0f", a)
			}
		})
	}
}

func TestWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		channels int
	}{
		{name: "mono", channels: 1},
		{name: "stereo", channels: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.wav")
			w, err := Create(path, tt.channels)
			if err != nil {
				t.Fatal(err)
			}
			w.SetSyncEvery(1000)
			frame := make(codec.PCM16, codec.FrameSamples)
			for f := 0; f < 30; f++ {
				for i := range frame {
					frame[i] = int16(f*100 + i)
				}
				if tt.channels == 2 {
					neg := make(codec.PCM16, len(frame))
					for i := range frame {
						neg[i] = -frame[i]
					}
					err = w.WriteStereo(frame, neg)
				} else {
					err = w.Write(frame)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if w.Samples() != 30*160 {
				t.Fatalf("samples %d", w.Samples())
			}
			if err := w.Close(); !errors.Is(err, nil) {
				t.Fatal(err)
			}
			if err := w.Close(); !errors.Is(err, ErrClosed) {
				t.Fatalf("second close %v", err)
			}
			raw, _ := os.ReadFile(path)
			if got := binary.LittleEndian.Uint32(raw[40:]); int(got) != 30*160*2*tt.channels {
				t.Fatalf("data size %d", got)
			}
			if got := binary.LittleEndian.Uint32(raw[4:]); int(got) != len(raw)-8 {
				t.Fatalf("riff size %d, file %d", got, len(raw))
			}
			pcm, info, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Channels != tt.channels || len(pcm) != 30*160 {
				t.Fatalf("channels %d len %d", info.Channels, len(pcm))
			}
			if tt.channels == 1 && (pcm[0] != 0 || pcm[161] != 101 || pcm[len(pcm)-1] != 2900+159) {
				t.Fatalf("content %d %d %d", pcm[0], pcm[161], pcm[len(pcm)-1])
			}
			if tt.channels == 2 && pcm[500] != 0 {
				t.Fatalf("stereo downmix of x and -x = %d", pcm[500])
			}
		})
	}
}

// A writer that dies after a sync leaves a valid file up to that sync, and
// Repair recovers everything that reached the disk.
func TestCrashAndRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.wav")
	w, err := Create(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.SetSyncEvery(0)
	frame := make(codec.PCM16, codec.FrameSamples)
	for i := range frame {
		frame[i] = 1234
	}
	for i := 0; i < 10; i++ {
		_ = w.Write(frame)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		_ = w.Write(frame)
	}
	// Crash: the audio reaches the file, the sizes are not updated, and a
	// half sample dangles at the end.
	if err := w.bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.f.Write([]byte{0x55}); err != nil {
		t.Fatal(err)
	}
	w.f.Close()

	pcm, _, err := ReadFile(path)
	if err != nil || len(pcm) != 10*160 {
		t.Fatalf("before repair: len %d err %v, want the synced 1600", len(pcm), err)
	}
	if err := Repair(path); err != nil {
		t.Fatal(err)
	}
	pcm, _, err = ReadFile(path)
	if err != nil || len(pcm) != 15*160 || pcm[len(pcm)-1] != 1234 {
		t.Fatalf("after repair: len %d err %v", len(pcm), err)
	}
	raw, _ := os.ReadFile(path)
	if got := binary.LittleEndian.Uint32(raw[4:]); int(got) != len(raw)-8 {
		t.Fatalf("riff size %d, file %d", got, len(raw))
	}
}

// A process killed right after a recording starts, or in the middle,
// leaves what is on disk: a repairable WAV holding all but the last
// quarter second, never an empty file.
func TestKilledEarly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "early.wav")
	w, err := Create(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.f.Close()
	st, err := os.Stat(path)
	if err != nil || st.Size() != headerSize {
		t.Fatalf("on disk right after Create: %v %v, want the %d-byte header", st.Size(), err, headerSize)
	}
	frame := make(codec.PCM16, codec.FrameSamples)
	for i := range frame {
		frame[i] = 999
	}
	for range 50 { // one second, no Sync, no Close: the process dies
		_ = w.Write(frame)
	}
	raw, _ := os.ReadFile(path)
	copyPath := path + ".copy"
	if err := os.WriteFile(copyPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Repair(copyPath); err != nil {
		t.Fatalf("repair of what a kill leaves: %v", err)
	}
	pcm, _, err := ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if lost := 50*codec.FrameSamples - len(pcm); lost < 0 || lost > codec.SampleRate/4 {
		t.Fatalf("%d of %d samples lost, want at most a quarter second", lost, 50*codec.FrameSamples)
	}
}

func TestRepairErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wav")
	_ = os.WriteFile(bad, []byte("hello world, not a wav"), 0o644)
	if err := Repair(bad); !errors.Is(err, ErrNotWAV) {
		t.Fatalf("err = %v", err)
	}
	if err := Repair(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Create(filepath.Join(dir, "x.wav"), 3); !errors.Is(err, ErrChannels) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(riff(chunk("fmt ", 16, fmtBody(1, 1, 8000, 16)), dataChunk(le16(1, 2))))
	f.Add(riff(chunk("fmt ", 16, fmtBody(7, 2, 44100, 8)), chunk("data", 0xFFFFFFFF, []byte{1, 2, 3})))
	f.Add(riff(chunk("LIST", 3, []byte("abc")), chunk("fmt ", 16, fmtBody(3, 1, 16000, 32)), dataChunk(make([]byte, 8))))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, info, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		if info.Channels < 1 || info.SampleRate < 1 {
			t.Fatalf("accepted %+v", info)
		}
		for _, v := range pcm {
			if v == -32768 {
				t.Fatal("unclamped sample")
			}
		}
	})
}

func BenchmarkResample48k(b *testing.B) {
	x := make([]float64, 48000)
	for i := range x {
		x[i] = math.Sin(float64(i))
	}
	for b.Loop() {
		Resample(x, 48000, 8000)
	}
}
