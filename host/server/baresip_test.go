package server

// End-to-end calls from baresip, a softphone nobody here wrote: it plays a
// WAV file as its microphone and dumps what it hears (the sndfile module),
// so the tests check the audio itself — the greeting's content, and an
// in-band DTMF tone reaching the plugin as a digit.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// TestBaresipHearsGreeting calls the demo IVR with baresip and checks that
// what baresip heard is the greeting prompt: its envelope and its waveform
// match the prompt file, and the same comparison against other prompts and
// noise fails (so the check can fail).
func TestBaresipHearsGreeting(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	relay := startSIPRelay(t, ts.SIPAddr("udp"), false)

	// 11 s of silence: the greeting (9.2 s) plays in full, then baresip's
	// microphone file ends and baresip hangs up.
	heard, logs := runBaresip(t, bin, baresipCall{
		Dial: "sip:" + config.DemoNumber + "@" + relay.Addr().String(),
		Mic:  make(codec.PCM16, 11*codec.SampleRate),
	})
	prompts := filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr")
	welcome := readPrompt(t, filepath.Join(prompts, "welcome.wav"))
	got := compareAudio(heard, welcome)
	t.Logf("heard %.2f s; vs welcome.wav: %s", float64(len(heard))/codec.SampleRate, got)
	if !got.Heard() {
		t.Fatalf("baresip did not hear the greeting: %s\nbaresip log:\n%s", got, tail(logs, 3000))
	}
	controls := []struct {
		name string
		ref  codec.PCM16
	}{
		{name: "invalid.wav", ref: readPrompt(t, filepath.Join(prompts, "invalid.wav"))},
		{name: "goodbye.wav", ref: readPrompt(t, filepath.Join(prompts, "goodbye.wav"))},
		{name: "noise", ref: noise(len(welcome), 3000, 1)},
	}
	for _, c := range controls {
		m := compareAudio(heard, c.ref)
		t.Logf("negative control vs %s: %s", c.name, m)
		if m.Heard() {
			t.Errorf("recording also matches %s (%s): the comparison cannot tell prompts apart", c.name, m)
		}
	}
	ts.waitIdle(t)
}

// TestBaresipInbandDTMF sends the digit 2 as an in-band tone in baresip's
// microphone audio to a webhook application that asks for one digit. The
// relay removes telephone-event from baresip's offer, so the server has
// only its Goertzel detector to find the digit.
func TestBaresipInbandDTMF(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	const number = "+15550142"
	var (
		mu     sync.Mutex
		events []*abi.Event
	)
	play := `{"Type":"PlayAudioAndGetDigits","Parameters":{"InputDigitsRegex":"^[0-9]$",` +
		`"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"test/hum.wav"},` +
		`"MinNumberOfDigits":1,"MaxNumberOfDigits":1,"Repeat":2,"RepeatDurationInMilliseconds":3000}}`
	hangup := `{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`
	app := webhookApp(t, "dtmf-webhook", number, func(ev *abi.Event) string {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		switch {
		case ev.InvocationEventType == abi.EventNewInboundCall:
			return actions(play)
		case ev.ActionData != nil && ev.ActionData.Type == abi.ActionPlayAudioAndGetDigits:
			return actions(hangup)
		}
		return actions()
	})
	// A quiet 300 Hz hum as the prompt: the digit must be found while a
	// prompt plays, as callers press keys during greetings.
	app.Prompts = t.TempDir()
	hum := make(codec.PCM16, 4*codec.SampleRate)
	for i := range hum {
		hum[i] = int16(800 * math.Sin(2*math.Pi*300*float64(i)/codec.SampleRate))
	}
	writeWAV(t, filepath.Join(app.Prompts, "prompts", "test", "hum.wav"), hum)
	ts := startTestServer(t, nil, []config.Application{app})
	relay := startSIPRelay(t, ts.SIPAddr("udp"), true)

	// 2 s of silence, the digit 2 for 250 ms, then silence until the end.
	mic := make(codec.PCM16, 7*codec.SampleRate)
	tone := mic[2*codec.SampleRate : 2*codec.SampleRate+codec.SampleRate/4]
	dtmf.Generate(tone, '2', 0, dtmf.DefaultToneAmplitude)
	_, logs := runBaresip(t, bin, baresipCall{
		Dial: "sip:" + number + "@" + relay.Addr().String(),
		Mic:  mic,
	})
	ts.waitIdle(t)

	if !strings.Contains(ts.Logs.String(), "telephone_event=0") {
		t.Fatalf("the server negotiated telephone-event: the in-band detector was not exercised\nserver log:\n%s", tail(ts.Logs.String(), 3000))
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, ev := range events {
		s := string(ev.InvocationEventType)
		if ev.ActionData != nil {
			s += fmt.Sprintf("(%s %q)", ev.ActionData.Type, ev.ActionData.ReceivedDigits)
		}
		got = append(got, s)
	}
	want := `NEW_INBOUND_CALL,ACTION_SUCCESSFUL(PlayAudioAndGetDigits "2")`
	if len(got) < 2 || strings.Join(got[:2], ",") != want {
		t.Fatalf("events %v, want them to start with %s\nbaresip log:\n%s", got, want, tail(logs, 3000))
	}
}

// baresipCall is one call placed by baresip.
type baresipCall struct {
	Dial string      // the SIP URI dialled
	Mic  codec.PCM16 // microphone audio; baresip hangs up when it ends
	// Config is appended to testdata/baresip/config (TLS, SRTP modules);
	// Account replaces testdata/baresip/accounts when set.
	Config, Account string
}

// runBaresip runs baresip headless for one call: its microphone is c.Mic
// (module aufile), its speaker ALSA's null device, and the sndfile module
// dumps the decoded incoming audio, which runBaresip returns with
// baresip's output. The call ends when the microphone file does.
func runBaresip(t testing.TB, bin string, c baresipCall) (heard codec.PCM16, output string) {
	t.Helper()
	heard, output, err := prepareBaresip(t, bin, c).run()
	if err != nil {
		t.Fatal(err)
	}
	return heard, output
}

// baresipRun is one prepared baresip call; run may go on another
// goroutine than the test's (several phones at once).
type baresipRun struct {
	bin, dir, recDir, dial string
	secs                   int
}

// prepareBaresip writes baresip's configuration for c.
func prepareBaresip(t testing.TB, bin string, c baresipCall) *baresipRun {
	t.Helper()
	dir := t.TempDir()
	mic := filepath.Join(dir, "mic.wav")
	writeWAV(t, mic, c.Mic)
	recDir := filepath.Join(dir, "rec")
	if err := os.Mkdir(recDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rtp := freePort(t, "udp") &^ 1
	if rtp > 65000 {
		rtp = 50000
	}
	conf, err := os.ReadFile(filepath.Join("testdata", "baresip", "config"))
	if err != nil {
		t.Fatal(err)
	}
	conf = bytes.ReplaceAll(conf, []byte("{{SIP_LISTEN}}"), []byte("127.0.0.1:"+strconv.Itoa(freePort(t, "udp"))))
	conf = bytes.ReplaceAll(conf, []byte("{{MIC}}"), []byte(mic))
	conf = bytes.ReplaceAll(conf, []byte("{{REC_DIR}}"), []byte(recDir))
	conf = bytes.ReplaceAll(conf, []byte("{{RTP_PORTS}}"), []byte(fmt.Sprintf("%d-%d", rtp, rtp+40)))
	conf = append(conf, c.Config...)
	if err := os.WriteFile(filepath.Join(dir, "config"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	accounts, err := os.ReadFile(filepath.Join("testdata", "baresip", "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Account != "" {
		accounts = []byte(c.Account + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), accounts, 0o644); err != nil {
		t.Fatal(err)
	}
	// -t is only a safety net: the call ends with the microphone file.
	return &baresipRun{bin: bin, dir: dir, recDir: recDir, dial: c.Dial, secs: len(c.Mic)/codec.SampleRate + 8}
}

// run places the call and returns what baresip heard.
func (r *baresipRun) run() (heard codec.PCM16, output string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.secs+10)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, "-f", r.dir, "-e", "/dial "+r.dial, "-t", strconv.Itoa(r.secs))
	cmd.Dir = r.dir
	out := &endWatcher{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("baresip: %w", err)
	}
	// baresip stays up after the call ends; ask it to quit (SIGTERM is
	// what its own -t sends) as soon as it reports the end.
	go func() {
		select {
		case <-out.ended():
			cmd.Process.Signal(syscall.SIGTERM)
		case <-ctx.Done():
		}
	}()
	if err := cmd.Wait(); err != nil && ctx.Err() != nil {
		return nil, out.String(), fmt.Errorf("baresip did not quit: %w\n%s", err, tail(out.String(), 3000))
	}
	output = out.String()
	if !strings.Contains(output, "Call established") {
		return nil, output, fmt.Errorf("baresip: the call was not established\n%s", tail(output, 3000))
	}
	dumps, _ := filepath.Glob(filepath.Join(r.recDir, "*-dec.wav"))
	if len(dumps) != 1 {
		return nil, output, fmt.Errorf("baresip left %d decoded-audio dumps in %s, want 1\n%s", len(dumps), r.recDir, tail(output, 3000))
	}
	heard, _, err = wav.ReadFile(dumps[0])
	if err != nil {
		return nil, output, fmt.Errorf("baresip's recording: %w", err)
	}
	return heard, output, nil
}

// endWatcher collects baresip's output and closes a channel once baresip
// reports the end of the call.
type endWatcher struct {
	mu   sync.Mutex
	b    bytes.Buffer
	done chan struct{}
}

func (w *endWatcher) ended() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done == nil {
		w.done = make(chan struct{})
	}
	return w.done
}

func (w *endWatcher) Write(p []byte) (int, error) {
	w.ended()
	w.mu.Lock()
	defer w.mu.Unlock()
	had := bytes.Contains(w.b.Bytes(), []byte(" terminated (duration"))
	w.b.Write(p)
	if !had && bytes.Contains(w.b.Bytes(), []byte(" terminated (duration")) {
		close(w.done)
	}
	return len(p), nil
}

func (w *endWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// writeWAV writes pcm as an 8 kHz mono 16-bit WAV file, creating its folder.
func writeWAV(t testing.TB, path string, pcm codec.PCM16) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	size := uint32(2 * len(pcm))
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, 36+size)
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(codec.SampleRate), uint32(2 * codec.SampleRate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, size)
	binary.Write(&b, binary.LittleEndian, []int16(pcm))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readPrompt(t testing.TB, path string) codec.PCM16 {
	t.Helper()
	pcm, _, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("prompt: %v", err)
	}
	return pcm
}

// noise returns n samples of uniform white noise of the given peak,
// deterministic for a seed.
func noise(n int, peak int, seed uint64) codec.PCM16 {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make(codec.PCM16, n)
	for i := range out {
		out[i] = int16(r.IntN(2*peak+1) - peak)
	}
	return out
}

// Audio comparison.
//
// A recording "contains" a reference when, aligned second by second, their
// waveforms correlate, their 20 ms energy envelopes correlate (Pearson),
// and the recording is well above silence there. The alignment follows
// the drift that lost or skipped packets cause (baresip's dump holds only
// the frames it received): a global lag from the envelopes first, then
// each 250 ms window of the reference is found near where the previous
// one was, first by envelope (±0.5 s), then by waveform (±1 frame).
// G.711 both ways keeps the waveform correlation of the same audio near
// 1; different speech stays far below.

const (
	frameLen          = codec.SampleRate / 50 // 20 ms
	minEnvelopeCorr   = 0.8
	minWaveformCorr   = 0.8
	minHeardDBFS      = -40.0
	minOverlapPercent = 80
)

// audioMatch is how well a recording matches a reference.
type audioMatch struct {
	LagSamples int     // where the reference starts in the recording
	Drift      int     // how far the last window moved from LagSamples
	Envelope   float64 // Pearson correlation of the aligned 20 ms RMS envelopes
	Waveform   float64 // median per-window normalised cross-correlation
	DBFS       float64 // RMS level of the aligned recording
}

// Heard reports whether the recording contains the reference.
func (m audioMatch) Heard() bool {
	return m.Envelope >= minEnvelopeCorr && m.Waveform >= minWaveformCorr && m.DBFS >= minHeardDBFS
}

func (m audioMatch) String() string {
	return fmt.Sprintf("lag %.3f s (drift %+d ms), envelope r=%.3f (>= %.1f), waveform r=%.3f (>= %.1f), level %.1f dBFS (>= %.0f), heard=%v",
		float64(m.LagSamples)/codec.SampleRate, m.Drift*1000/codec.SampleRate, m.Envelope, minEnvelopeCorr,
		m.Waveform, minWaveformCorr, m.DBFS, minHeardDBFS, m.Heard())
}

// compareAudio finds ref in rec. The reference may run past the end of
// the recording by at most 100-minOverlapPercent percent.
func compareAudio(rec, ref codec.PCM16) audioMatch {
	er, ef := envelope(rec), envelope(ref)
	minOverlap := len(ef) * minOverlapPercent / 100
	bestR, bestLag := math.Inf(-1), 0
	for lag := 0; lag+minOverlap <= len(er); lag++ {
		n := min(len(ef), len(er)-lag)
		if r := pearson(er[lag:lag+n], ef[:n]); r > bestR {
			bestR, bestLag = r, lag
		}
	}
	if math.IsInf(bestR, -1) {
		return audioMatch{DBFS: math.Inf(-1)}
	}
	m := audioMatch{LagSamples: bestLag * frameLen}
	aligned, scores, drift := alignWindows(rec, ref, m.LagSamples)
	m.Drift = drift
	n := min(len(aligned), len(ref))
	m.Envelope = pearson(envelope(aligned[:n]), envelope(ref[:n]))
	m.DBFS = dbfs(aligned[:n])
	if len(scores) > 0 {
		slices.Sort(scores)
		m.Waveform = scores[len(scores)/2]
	}
	return m
}

// alignWindows walks ref in 250 ms windows from lag in rec, following the
// drift, and returns the recording re-assembled in the reference's
// timing (zeros where it ran out), the best normalised cross-correlation
// of each window loud enough to score, and the final drift in samples.
func alignWindows(rec, ref codec.PCM16, lag int) (aligned codec.PCM16, scores []float64, drift int) {
	const (
		window      = codec.SampleRate / 4
		coarseSlack = 25 // frames, by envelope
		fineSlack   = 8  // samples
	)
	er := envelope(rec)
	aligned = make(codec.PCM16, 0, len(ref))
	for start := 0; start < len(ref); start += window {
		w := ref[start:min(start+window, len(ref))]
		if len(w) == window && dbfs(w) >= -45 {
			// Coarse: the envelope shift, in frames, around the drift.
			ew := envelope(w)
			base := (lag + start + drift) / frameLen
			coarse, bestR := drift/frameLen, math.Inf(-1)
			for s := -coarseSlack; s <= coarseSlack; s++ {
				at := base + s
				if at < 0 || at+len(ew) > len(er) {
					continue
				}
				if r := pearson(er[at:at+len(ew)], ew); r > bestR {
					bestR, coarse = r, drift/frameLen+s
				}
			}
			// Fine: around the coarse shift and its neighbours. Packets
			// carry whole frames, so the true offset is a frame multiple
			// unless the peer resampled; a few samples either side cover
			// that, at a fraction of the cost of every lag (this runs
			// under the race detector in `make test`).
			best, bestD := -1.0, drift
			for k := -1; k <= 1; k++ {
				for j := -fineSlack; j <= fineSlack; j++ {
					d := (coarse+k)*frameLen + j
					at := lag + start + d
					if at < 0 || at+window > len(rec) {
						continue
					}
					if c := ncc(rec[at:at+window], w); c > best {
						best, bestD = c, d
					}
				}
			}
			scores = append(scores, best)
			if best > 0.5 {
				drift = bestD
			}
		}
		seg := make(codec.PCM16, len(w))
		if at := lag + start + drift; at < len(rec) {
			copy(seg, rec[max(0, at):])
		}
		aligned = append(aligned, seg...)
	}
	return aligned, scores, drift
}

// envelope returns the RMS of each 20 ms frame.
func envelope(x codec.PCM16) []float64 {
	out := make([]float64, len(x)/frameLen)
	for i := range out {
		var s float64
		for _, v := range x[i*frameLen : (i+1)*frameLen] {
			s += float64(v) * float64(v)
		}
		out[i] = math.Sqrt(s / frameLen)
	}
	return out
}

func pearson(a, b []float64) float64 {
	n := float64(len(a))
	if n == 0 {
		return 0
	}
	var sa, sb float64
	for i := range a {
		sa += a[i]
		sb += b[i]
	}
	ma, mb := sa/n, sb/n
	var cov, va, vb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		cov += da * db
		va += da * da
		vb += db * db
	}
	if va == 0 || vb == 0 {
		return 0
	}
	return cov / math.Sqrt(va*vb)
}

// ncc is the normalised cross-correlation of two equal-length signals.
func ncc(a, b codec.PCM16) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// dbfs is the RMS level of x relative to full scale (-inf for silence).
func dbfs(x codec.PCM16) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return 20 * math.Log10(math.Sqrt(s/float64(len(x)))/32768)
}

// TestCompareAudio checks the comparison itself on known inputs: the
// greeting after a G.711 round trip, a delay and lost packets is found;
// other prompts, noise and silence are not.
func TestCompareAudio(t *testing.T) {
	prompts := filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr")
	welcome := readPrompt(t, filepath.Join(prompts, "welcome.wav"))
	// What baresip records: 0.7 s of silence, the greeting through PCMU,
	// then 1.5 s of silence.
	heard := slices.Concat(make(codec.PCM16, 5600), g711RoundTrip(welcome), make(codec.PCM16, 12000))
	lossy := slices.Clone(heard)
	for _, f := range []int{60, 61, 200, 333} { // lost packets, dropped (not concealed)
		lossy = slices.Delete(lossy, f*frameLen, (f+1)*frameLen)
	}
	tests := []struct {
		name      string
		rec, ref  codec.PCM16
		wantHeard bool
	}{
		{name: "greeting through PCMU, delayed", rec: heard, ref: welcome, wantHeard: true},
		{name: "greeting with four lost packets", rec: lossy, ref: welcome, wantHeard: true},
		{name: "greeting cut short by 15%", rec: heard[:5600+len(welcome)*85/100], ref: welcome, wantHeard: true},
		{name: "greeting with a lost packet every 0.4 s", rec: dropFrames(heard, 20), ref: welcome, wantHeard: true},
		{name: "greeting with a 200 ms gap", rec: slices.Delete(slices.Clone(heard), 24000, 25600), ref: welcome, wantHeard: true},
		{name: "another prompt", rec: heard, ref: readPrompt(t, filepath.Join(prompts, "invalid.wav"))},
		{name: "a prompt with the same opening words", rec: heard, ref: readPrompt(t, filepath.Join(prompts, "sales.wav"))},
		{name: "noise as the reference", rec: heard, ref: noise(len(welcome), 3000, 1)},
		{name: "noise heard", rec: noise(len(heard), 3000, 2), ref: welcome},
		{name: "silence heard", rec: make(codec.PCM16, len(heard)), ref: welcome},
		{name: "greeting at -50 dBFS", rec: scale(heard, 0.003), ref: welcome},
		{name: "recording far shorter than the prompt", rec: heard[:4*codec.SampleRate], ref: welcome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := compareAudio(tt.rec, tt.ref)
			t.Log(m)
			if m.Heard() != tt.wantHeard {
				t.Errorf("compareAudio: %s; want heard=%v", m, tt.wantHeard)
			}
		})
	}
}

// dropFrames removes every nth 20 ms frame, as lost packets do.
func dropFrames(pcm codec.PCM16, n int) codec.PCM16 {
	var out codec.PCM16
	for i := 0; i+frameLen <= len(pcm); i += frameLen {
		if (i/frameLen)%n != n-1 {
			out = append(out, pcm[i:i+frameLen]...)
		}
	}
	return out
}

func g711RoundTrip(pcm codec.PCM16) codec.PCM16 {
	enc := make(codec.Payload, len(pcm))
	codec.PCMU.Encode(enc, pcm)
	out := make(codec.PCM16, len(pcm))
	codec.PCMU.Decode(out, enc)
	return out
}

func scale(pcm codec.PCM16, f float64) codec.PCM16 {
	out := make(codec.PCM16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(float64(v) * f)
	}
	return out
}

// sipRelay sits between baresip and the server on loopback UDP and edits
// the SDP of the requests baresip sends: baresip 1.0 announces its
// non-loopback interface address and always offers telephone-event, and
// has no option for either. Responses go back unchanged; in-dialog
// requests go straight to the Contacts and skip the relay.
type sipRelay struct {
	front *net.UDPConn // baresip's side
	back  *net.UDPConn // connected to the server
	strip bool         // remove telephone-event from offers

	mu   sync.Mutex
	peer *net.UDPAddr // last address baresip sent from
}

func startSIPRelay(t testing.TB, server netip.AddrPort, stripTelephoneEvent bool) *sipRelay {
	t.Helper()
	front, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")), net.UDPAddrFromAddrPort(server))
	if err != nil {
		front.Close()
		t.Fatal(err)
	}
	r := &sipRelay{front: front, back: back, strip: stripTelephoneEvent}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.forward() }()
	go func() { defer wg.Done(); r.backward() }()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		wg.Wait()
	})
	return r
}

// Addr is where baresip sends its INVITE.
func (r *sipRelay) Addr() netip.AddrPort { return r.front.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *sipRelay) forward() {
	buf := make([]byte, 65535)
	for {
		n, from, err := r.front.ReadFromUDP(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.peer = from
		r.mu.Unlock()
		r.back.Write(rewriteSDP(buf[:n], r.strip))
	}
}

func (r *sipRelay) backward() {
	buf := make([]byte, 65535)
	for {
		n, err := r.back.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable from an earlier send
		}
		r.mu.Lock()
		peer := r.peer
		r.mu.Unlock()
		if peer != nil {
			r.front.WriteToUDP(buf[:n], peer)
		}
	}
}

var contentLength = regexp.MustCompile(`(?im)^(content-length|l)[ \t]*:[ \t]*[0-9]+[ \t]*\r?$`)

// rewriteSDP returns msg with the connection and origin addresses of its
// SDP body set to 127.0.0.1 and, when strip is set, every telephone-event
// format removed, fixing Content-Length. Anything that is not a message
// with an SDP body comes back unchanged.
func rewriteSDP(msg []byte, strip bool) []byte {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok || len(body) == 0 || !bytes.Contains(bytes.ToLower(head), []byte("application/sdp")) ||
		!contentLength.Match(head) {
		return msg
	}
	lines := strings.Split(string(body), "\r\n")
	drop := map[string]bool{} // telephone-event payload types
	if strip {
		for _, l := range lines {
			if pt, rest, ok := strings.Cut(strings.TrimPrefix(l, "a=rtpmap:"), " "); ok && strings.HasPrefix(l, "a=rtpmap:") &&
				strings.HasPrefix(strings.ToLower(rest), "telephone-event/") {
				drop[pt] = true
			}
		}
	}
	var out []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			l = "c=IN IP4 127.0.0.1"
		case strings.HasPrefix(l, "o="):
			if f := strings.Fields(l); len(f) == 6 && f[4] == "IP4" {
				f[5] = "127.0.0.1"
				l = strings.Join(f, " ")
			}
		case strings.HasPrefix(l, "m="):
			f := strings.Fields(l)
			if len(f) > 3 {
				keep := f[:3]
				for _, pt := range f[3:] {
					if !drop[pt] {
						keep = append(keep, pt)
					}
				}
				l = strings.Join(keep, " ")
			}
		case strings.HasPrefix(l, "a=rtpmap:") || strings.HasPrefix(l, "a=fmtp:"):
			pt, _, _ := strings.Cut(l[strings.IndexByte(l, ':')+1:], " ")
			if drop[pt] {
				continue
			}
		}
		out = append(out, l)
	}
	newBody := strings.Join(out, "\r\n")
	newHead := contentLength.ReplaceAllString(string(head), "Content-Length: "+strconv.Itoa(len(newBody)))
	return []byte(newHead + "\r\n\r\n" + newBody)
}

func TestRewriteSDP(t *testing.T) {
	offer := "v=0\r\no=- 1 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n" +
		"m=audio 36058 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-15\r\na=sendrecv\r\n"
	head := "INVITE sip:+15550100@127.0.0.1 SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(offer)) + "\r\n\r\n"
	wantLoopback := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 36058 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-15\r\na=sendrecv\r\n"
	wantStripped := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 36058 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
	withLen := func(body string) string {
		return "INVITE sip:+15550100@127.0.0.1 SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	bye := "BYE sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name  string
		msg   string
		strip bool
		want  string
	}{
		{name: "addresses to loopback", msg: head + offer, want: withLen(wantLoopback)},
		{name: "telephone-event removed", msg: head + offer, strip: true, want: withLen(wantStripped)},
		{name: "no body", msg: bye, strip: true, want: bye},
		{name: "not sip", msg: "garbage", strip: true, want: "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(rewriteSDP([]byte(tt.msg), tt.strip)); got != tt.want {
				t.Errorf("rewriteSDP:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// FuzzRewriteSDP: the relay parses what baresip sends; it must never
// panic and must keep Content-Length equal to the body it writes.
func FuzzRewriteSDP(f *testing.F) {
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nContent-Type: application/sdp\r\nl: 5\r\n\r\nm=a 1 RTP/AVP 0 9\r\na=rtpmap:9 telephone-event/8000\r\na=fmtp:"), true)
	f.Add([]byte("x\r\n\r\n"), false)
	f.Fuzz(func(t *testing.T, msg []byte, strip bool) {
		out := rewriteSDP(msg, strip)
		if bytes.Equal(out, msg) {
			return
		}
		head, body, _ := bytes.Cut(out, []byte("\r\n\r\n"))
		m := regexp.MustCompile(`(?m)^Content-Length: ([0-9]+)\r?$`).FindSubmatch(head)
		if m == nil || string(m[1]) != strconv.Itoa(len(body)) {
			t.Fatalf("Content-Length does not match a %d-byte body:\n%q", len(body), out)
		}
	})
}
