package server

// Speech, URL prompts, prompt formats and VoiceFocus on real calls from
// baresip, with the audio checked.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
)

// frameLevels is the level of each 20 ms frame in dBFS.
func frameLevels(x codec.PCM16) []float64 {
	var out []float64
	for i := 0; i+frameLen <= len(x); i += frameLen {
		out = append(out, dbfs(x[i:i+frameLen]))
	}
	return out
}

// quietRun is the longest run of frames under -50 dBFS in levels, in
// frames, and where it starts.
func quietRun(levels []float64) (n, at int) {
	run := 0
	for i, l := range levels {
		if l < -50 {
			run++
			if run > n {
				n, at = run, i-run+1
			}
		} else {
			run = 0
		}
	}
	return n, at
}

func loud(levels []float64) int {
	n := 0
	for _, l := range levels {
		if l > -35 {
			n++
		}
	}
	return n
}

// TestBaresipSpeakAndGetDigits: a caller presses 4, 2, # (in-band tones,
// with VoiceFocus on, so the detector hears the suppressed audio) while
// SpeakAndGetDigits speaks; then Speak says an SSML text with a 1.5 s break.
// baresip must hear that text with silence where the break is.
func TestBaresipSpeakAndGetDigits(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	const number = "+15550171"
	confirm := `<speak>Your code is <say-as interpret-as="digits">42</say-as>.<break time="1500ms"/>Goodbye, and thank you.</speak>`
	welcome := "Welcome to the speech test. Please enter your two digit code, followed by the pound key. " +
		"Take your time, there is no hurry at all."
	sagd, _ := json.Marshal(map[string]any{"Type": "SpeakAndGetDigits", "Parameters": map[string]any{
		"SpeechParameters": map[string]any{"Text": welcome, "VoiceId": "Joanna"},
		"InputDigitsRegex": `^\d{2}$`, "TerminatorDigits": []string{"#"},
		"MinNumberOfDigits": 2, "MaxNumberOfDigits": 5, "RepeatDurationInMilliseconds": 5000}})
	speak, _ := json.Marshal(map[string]any{"Type": "Speak", "Parameters": map[string]any{"Text": confirm, "TextType": "ssml", "VoiceId": "Matthew"}})
	sc := newScript(func(ev *abi.Event) string {
		switch {
		case ev.InvocationEventType == abi.EventNewInboundCall:
			return actions(`{"Type":"VoiceFocus","Parameters":{"Enable":true}}`, string(sagd))
		case ev.InvocationEventType == abi.EventActionSuccessful && ev.ActionData.Type == abi.ActionSpeakAndGetDigits:
			return actions(string(speak), `{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return ""
	})
	ts := startTestServer(t, nil, []config.Application{webhookApp(t, "speech", number, sc.handle)})
	relay := startSIPRelay(t, ts.SIPAddr("udp"), true) // in-band digits only
	// The menu is in the cache (as after its first caller), so the speech
	// starts at once and the digits come while it plays.
	ctx := context.Background()
	welcomePrompt, err := ts.audio.Speak(ctx, speech.Request{Text: welcome, VoiceID: "Joanna"})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ts.audio.Speak(ctx, speech.Request{Text: confirm, TextType: "ssml", VoiceID: "Matthew"})
	if err != nil {
		t.Fatal(err)
	}

	mic := make(codec.PCM16, 14*codec.SampleRate)
	for i, d := range "42#" {
		at := 2*codec.SampleRate + i*codec.SampleRate/2
		dtmf.Generate(mic[at:at+codec.SampleRate/5], byte(d), 0, dtmf.DefaultToneAmplitude)
	}
	heard, logs := runBaresip(t, bin, baresipCall{Dial: "sip:" + number + "@" + relay.Addr().String(), Mic: mic})
	ts.waitIdle(t)

	var got string
	for _, ev := range sc.Events() {
		if ev.ActionData != nil && ev.ActionData.Type == abi.ActionSpeakAndGetDigits {
			got = fmt.Sprintf("%s %q %s", ev.InvocationEventType, ev.ActionData.ReceivedDigits, ev.ActionData.ErrorMessage)
		}
	}
	if got != `ACTION_SUCCESSFUL "42" ` {
		t.Fatalf("SpeakAndGetDigits: %s; events %s\nbaresip:\n%s", got, typesOf(sc.Events()), tail(logs, 2000))
	}
	if !strings.Contains(ts.Logs.String(), "voicefocus on") {
		t.Fatal("VoiceFocus was not switched on")
	}

	// The confirmation as the server speaks it (the same cache the call
	// used), checked on its own first: speech, a 1.5 s silence, speech.
	refPCM := ref.PCM()
	rl := frameLevels(refPCM)
	n, at := quietRun(rl)
	// 75 frames of break plus the little silence flite leaves at the end
	// and start of each sentence.
	if n < 75 || n > 100 || loud(rl[:at]) < 20 || loud(rl[at+n:]) < 20 {
		t.Fatalf("reference: quiet run of %d frames at %d, loud before %d, after %d", n, at, loud(rl[:at]), loud(rl[at+n:]))
	}
	// baresip heard it: the waveform matches, and at the break's place the
	// call was silent for the break's length, with speech around it.
	m := compareAudio(heard, refPCM)
	t.Logf("heard %.2f s; vs the confirmation: %s", float64(len(heard))/codec.SampleRate, m)
	if !m.Heard() {
		t.Fatalf("baresip did not hear the confirmation: %s", m)
	}
	hl := frameLevels(heard[m.LagSamples:])
	if hn, hat := quietRun(hl[:min(len(hl), at+n+50)]); hn < 70 || hat < at-5 || hat > at+5 {
		t.Fatalf("the call's break: %d quiet frames at %d, want about %d at %d", hn, hat, n, at)
	}
	// The welcome was heard from the start and cut short by the first
	// digit (barge-in, at 2 s): its first second is there, and the
	// confirmation starts long before the welcome would have ended.
	wm := compareAudio(heard, welcomePrompt.PCM()[:codec.SampleRate])
	t.Logf("vs the welcome's first second: %s", wm)
	if !wm.Heard() || m.LagSamples > wm.LagSamples+welcomePrompt.Frames()*frameLen/2 {
		t.Fatalf("welcome at %d, confirmation at %d: the welcome was not heard, or not interrupted (it lasts %v)",
			wm.LagSamples, m.LagSamples, welcomePrompt.Duration())
	}
}

// sox makes a WAV in an unusual format: a tone at freq for secs.
func sox(t *testing.T, path string, freq float64, secs float64, args ...string) {
	t.Helper()
	bin := requireTool(t, "sox", "sox")
	a := append([]string{"-n"}, args...)
	a = append(a, path, "synth", fmt.Sprint(secs), "sine", fmt.Sprint(freq), "vol", "0.5")
	if out, err := exec.Command(bin, a...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v %s", a, err, out)
	}
}

// dominant returns, per 100 ms of x, which of freqs carries most of its
// power (0 for silence or none over half).
func dominant(x codec.PCM16, freqs []float64) []float64 {
	const win = codec.SampleRate / 10
	var out []float64
	for i := 0; i+win <= len(x); i += win {
		w := x[i : i+win]
		best, share := 0.0, 0.0
		if dbfs(w) > -40 {
			for _, f := range freqs {
				if s := tonePower(w, f); s > share {
					best, share = f, s
				}
			}
		}
		if share < 0.5 {
			best = 0
		}
		out = append(out, best)
	}
	return out
}

// runs turns per-window values into (value, windows) runs, dropping zeros
// and runs of one window (edges); runs of one value separated only by
// those merge (the same tone played twice, with or without a gap).
func runs(v []float64) []string {
	type run struct {
		f float64
		n int
	}
	var rs []run
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] == v[i] {
			j++
		}
		if v[i] != 0 && j-i > 1 {
			if k := len(rs) - 1; k >= 0 && rs[k].f == v[i] {
				rs[k].n += j - i
			} else {
				rs = append(rs, run{v[i], j - i})
			}
		}
		i = j
	}
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%.0fHz×%d", r.f, r.n))
	}
	return out
}

// TestBaresipPromptFormatsAndURLs plays, on one call: an mp3 by URL, the
// same URL again (revalidated: 304), a µ-law WAV by URL, then from the
// bucket store an A-law WAV, a 24-bit 44.1 kHz stereo WAV and an 8-bit
// 11 kHz WAV; between them, bad prompts that must each fail with
// InvalidAudioSource and the reason, and be written to the log book.
func TestBaresipPromptFormatsAndURLs(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	const number = "+15550172"
	dir := t.TempDir()
	mp3, err := os.ReadFile(filepath.Join(repoRoot, "media", "mp3", "testdata", "tone1k-44k-stereo.mp3")) // 1 kHz, 1.5 s
	if err != nil {
		t.Fatal(err)
	}
	sox(t, filepath.Join(dir, "ulaw.wav"), 700, 1, "-r", "8000", "-e", "u-law", "-b", "8")
	ulaw, _ := os.ReadFile(filepath.Join(dir, "ulaw.wav"))
	var hits, notModified atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/tone.mp3":
			if r.Header.Get("If-None-Match") == `"t1"` {
				notModified.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"t1"`)
			w.Write(mp3)
		case "/ulaw.wav":
			w.Write(ulaw)
		case "/big.wav":
			w.Write(make([]byte, 2<<20))
		default:
			http.NotFound(w, r)
		}
	}))
	defer web.Close()

	prompts := t.TempDir()
	if err := os.Mkdir(filepath.Join(prompts, "fmts"), 0o755); err != nil {
		t.Fatal(err)
	}
	sox(t, filepath.Join(prompts, "fmts", "alaw.wav"), 500, 1, "-r", "16000", "-e", "a-law", "-b", "8")
	sox(t, filepath.Join(prompts, "fmts", "hifi.wav"), 900, 1, "-r", "44100", "-b", "24", "-c", "2")
	sox(t, filepath.Join(prompts, "fmts", "lofi.wav"), 1300, 1, "-r", "11025", "-b", "8", "-e", "unsigned")
	os.WriteFile(filepath.Join(prompts, "fmts", "broken.wav"), []byte("RIFF\x00\x00\x00\x00WAVEjunk"), 0o644)

	url := func(p string) string { return fmt.Sprintf(`{"Type":"URL","Uri":%q}`, web.URL+p) }
	s3 := func(k string) string { return fmt.Sprintf(`{"Type":"S3","BucketName":"fmts","Key":%q}`, k) }
	play := func(src string) string { return `{"Type":"PlayAudio","Parameters":{"AudioSource":` + src + `}}` }
	// Each step: the action, and the failure expected ("" = plays).
	steps := []struct{ action, wantErr string }{
		{play(url("/tone.mp3")), ""},
		{play(url("/missing.wav")), "PlayAudio: invalid audio source: prompt url answered 404 Not Found"},
		{play(url("/tone.mp3")), ""},
		{play(`{"Type":"URL","Uri":"http://10.1.2.3/prompt.wav"}`), "PlayAudio: invalid audio source: address not allowed by the server's egress policy"},
		{play(url("/big.wav")), "PlayAudio: invalid audio source: prompt url body too large: over 1048576 bytes"},
		{play(url("/ulaw.wav")), ""},
		{play(s3("broken.wav")), "PlayAudio: invalid audio source: fmts/broken.wav:"},
		{play(s3("alaw.wav")), ""},
		{play(s3("hifi.wav")), ""},
		{play(s3("lofi.wav")), ""},
		{`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`, ""},
	}
	var mu sync.Mutex
	next := 0
	var failures []string
	app := webhookApp(t, "formats", number, func(ev *abi.Event) string {
		mu.Lock()
		defer mu.Unlock()
		if ev.InvocationEventType == abi.EventActionFailed {
			failures = append(failures, string(ev.ActionData.ErrorType)+": "+ev.ActionData.ErrorMessage)
		}
		switch ev.InvocationEventType {
		case abi.EventNewInboundCall, abi.EventActionSuccessful, abi.EventActionFailed:
			if next < len(steps) {
				next++
				return actions(steps[next-1].action)
			}
		}
		return actions()
	})
	app.Prompts = prompts
	cfg := testConfig(t)
	cfg.Prompts.MaxMiB = 1
	ts := startTestServer(t, cfg, []config.Application{app})
	relay := startSIPRelay(t, ts.SIPAddr("udp"), false)
	heard, logs := runBaresip(t, bin, baresipCall{Dial: "sip:" + number + "@" + relay.Addr().String(), Mic: make(codec.PCM16, 11*codec.SampleRate)})
	ts.waitIdle(t)

	mu.Lock()
	var want []string
	for _, s := range steps {
		if s.wantErr != "" {
			want = append(want, "InvalidAudioSource: "+s.wantErr)
		}
	}
	if len(failures) != len(want) {
		t.Fatalf("failures %q\nwant %q\nbaresip:\n%s", failures, want, tail(logs, 2000))
	}
	for i := range want {
		if !strings.HasPrefix(failures[i], want[i]) {
			t.Errorf("failure %d: %q, want it to start with %q", i, failures[i], want[i])
		}
	}
	mu.Unlock()
	if notModified.Load() != 1 {
		t.Errorf("the second play of tone.mp3 was not revalidated with its ETag (%d 304s)", notModified.Load())
	}

	// What baresip heard: each tone for its length, in order.
	got := runs(dominant(heard, []float64{1000, 700, 500, 900, 1300}))
	t.Logf("heard %v", got)
	wantRuns := []string{"1000Hz×30", "700Hz×10", "500Hz×10", "900Hz×10", "1300Hz×10"} // the mp3 twice
	ok := len(got) == len(wantRuns)
	for i := 0; ok && i < len(got); i++ {
		var f, n, wf, wn int
		fmt.Sscanf(strings.Replace(got[i], "Hz×", " ", 1), "%d %d", &f, &n)
		fmt.Sscanf(strings.Replace(wantRuns[i], "Hz×", " ", 1), "%d %d", &wf, &wn)
		ok = f == wf && n >= wn-2 && n <= wn+2
	}
	if !ok {
		t.Fatalf("heard %v, want about %v", got, wantRuns)
	}

	// Every failure is in the server log and in the application's log book.
	book := ts.ten.PluginsAPI().Logs("demo", "formats", 100)
	var lines []string
	for _, l := range book {
		lines = append(lines, l.Text)
	}
	for _, w := range want {
		text := "ACTION_FAILED PlayAudio: " + w
		if !strings.Contains(strings.Join(lines, "\n"), text) {
			t.Errorf("log book lacks %q:\n%s", text, strings.Join(lines, "\n"))
		}
		if !strings.Contains(ts.Logs.String(), strings.ReplaceAll(text, `"`, `\"`)) {
			t.Errorf("server log lacks %q", text)
		}
	}
}
