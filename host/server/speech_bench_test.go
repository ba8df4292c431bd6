package server

// Benchmarks of speech and VoiceFocus on real calls over loopback:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench 'SpeakFirstAudio|VoiceFocusCPU' -benchtime 1x ./host/server/

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/audio"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// firstAudio places a call to number and returns the time from the ACK to
// the first RTP packet that is not silence (above -45 dBFS).
func firstAudio(server netip.AddrPort, number string) (time.Duration, error) {
	sipConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return 0, err
	}
	defer sipConn.Close()
	rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return 0, err
	}
	defer rtpConn.Close()
	d := &sipDialog{conn: sipConn, server: net.UDPAddrFromAddrPort(server), local: sipConn.LocalAddr().(*net.UDPAddr).AddrPort(),
		callID: fmt.Sprintf("%016x@bench", rand.Uint64()), fromTag: fmt.Sprintf("%08x", rand.Uint32()), number: number}
	if _, err := d.invite(rtpConn.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		return 0, err
	}
	acked := time.Now()
	defer d.bye()
	buf := make([]byte, 1500)
	pcm := make(codec.PCM16, frameLen)
	for {
		rtpConn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := rtpConn.Read(buf)
		if err != nil {
			return 0, fmt.Errorf("no audio: %w", err)
		}
		if n != 12+frameLen || buf[1]&0x7f != 0 {
			continue
		}
		codec.PCMU.Decode(pcm, buf[12:n])
		if dbfs(pcm) > -45 {
			return time.Since(acked), nil
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)]
}

// BenchmarkSpeakFirstAudio: time from the call's ACK to its first audible
// packet when the first action is Speak of a text never spoken before
// (cold: synthesis on the call's path), Speak of a cached text, and
// PlayAudio of a WAV file holding the very same audio (the baseline).
// Samples alternate between the three so they share the machine's load.
func BenchmarkSpeakFirstAudio(b *testing.B) {
	requireBench(b)
	samples := benchEnvInt(b, "MEDIASERVER_BENCH_SAMPLES", 10)
	const coldN, cachedN, playN = "+15550181", "+15550182", "+15550183"
	text := func(n int) string { return fmt.Sprintf("Your ticket number is %d. Please hold the line.", n) }

	// The baseline's prompt: the cached text's audio, as a file.
	prompts := b.TempDir()
	svc := audio.New(audio.Config{Speech: config.Default().Speech, CacheDir: testCacheDir})
	p, err := svc.Speak(context.Background(), speech.Request{Text: text(0)})
	if err != nil {
		b.Fatal(err)
	}
	svc.Close(context.Background())
	if err := os.MkdirAll(filepath.Join(prompts, "bench"), 0o755); err != nil {
		b.Fatal(err)
	}
	writeWAV(b, filepath.Join(prompts, "bench", "ticket.wav"), p.PCM())

	var cold atomic.Int32
	cold.Store(1000)
	hangup := `{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`
	app := webhookApp(b, "speak-bench", coldN, func(ev *abi.Event) string {
		if ev.InvocationEventType != abi.EventNewInboundCall {
			return actions(hangup)
		}
		var a []byte
		switch ev.CallDetails.Participants[0].To {
		case coldN:
			a, _ = json.Marshal(map[string]any{"Type": "Speak", "Parameters": map[string]any{"Text": text(int(cold.Add(1)))}})
		case cachedN:
			a, _ = json.Marshal(map[string]any{"Type": "Speak", "Parameters": map[string]any{"Text": text(0)}})
		default:
			a = []byte(`{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"bench","Key":"ticket.wav"}}}`)
		}
		return actions(string(a))
	})
	app.Numbers = []string{coldN, cachedN, playN}
	app.Prompts = prompts
	ts := startBenchServer(b, 8, []config.Application{app})
	server := ts.SIPAddr("udp")
	for _, n := range []string{cachedN, playN, coldN} { // warm: engine loaded, text(0) cached
		if _, err := firstAudio(server, n); err != nil {
			b.Fatalf("warm-up call to %s: %v", n, err)
		}
	}
	b.ResetTimer()
	lat := map[string][]time.Duration{}
	for range samples {
		for _, n := range []string{coldN, cachedN, playN} {
			d, err := firstAudio(server, n)
			if err != nil {
				b.Fatalf("call to %s: %v", n, err)
			}
			lat[n] = append(lat[n], d)
		}
	}
	b.StopTimer()
	var rows [][]string
	for _, v := range []struct{ name, n string }{{"Speak, cold (new text)", coldN}, {"Speak, cached", cachedN}, {"PlayAudio, same audio (baseline)", playN}} {
		rows = append(rows, []string{v.name, fmt.Sprint(percentile(lat[v.n], 0.5).Round(time.Millisecond)),
			fmt.Sprint(percentile(lat[v.n], 0.9).Round(time.Millisecond))})
	}
	benchTable(b, []string{"first action", "p50 ACK→first audio", "p90"}, rows)
	b.ReportMetric(float64(percentile(lat[coldN], 0.5).Microseconds())/1000, "cold_p50_ms")
	b.ReportMetric(float64(percentile(lat[cachedN], 0.5).Microseconds())/1000, "cached_p50_ms")
	b.ReportMetric(float64(percentile(lat[playN], 0.5).Microseconds())/1000, "play_p50_ms")
}

// BenchmarkVoiceFocusCPU: the server's CPU per call-second for calls whose
// caller sends speech-like noise for 5 s, with VoiceFocus on and off (the
// same calls otherwise; the phones' senders run in this process too, so
// the difference is VoiceFocus's cost).
func BenchmarkVoiceFocusCPU(b *testing.B) {
	requireBench(b)
	calls := benchEnvInt(b, "MEDIASERVER_BENCH_CALLS", 20)
	const onN, offN = "+15550191", "+15550192"
	app := webhookApp(b, "focus-bench", onN, func(ev *abi.Event) string {
		if ev.InvocationEventType != abi.EventNewInboundCall {
			return actions()
		}
		pause := `{"Type":"Pause","Parameters":{"DurationInMilliseconds":60000}}`
		if ev.CallDetails.Participants[0].To == onN {
			return actions(`{"Type":"VoiceFocus","Parameters":{"Enable":true}}`, pause)
		}
		return actions(pause)
	})
	app.Numbers = []string{onN, offN}
	ts := startBenchServer(b, 2*calls, []config.Application{app})
	server := ts.SIPAddr("udp")
	sig := noise(5*codec.SampleRate, 4000, 7)
	run := func(number string) (time.Duration, error) {
		var wg sync.WaitGroup
		errs := make(chan error, calls)
		start := make(chan struct{})
		ready := sync.WaitGroup{}
		ready.Add(calls)
		var before procSample
		for range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := streamCall(server, number, sig, &ready, start)
				if err != nil {
					errs <- err
				}
			}()
		}
		ready.Wait()
		time.Sleep(200 * time.Millisecond) // VoiceFocus switched on
		before = sampleProc(b)
		close(start)
		wg.Wait()
		after := sampleProc(b)
		close(errs)
		for err := range errs {
			return 0, err
		}
		return after.cpu - before.cpu, nil
	}
	b.ResetTimer()
	var rows [][]string
	per := map[string]time.Duration{}
	for _, v := range []struct{ name, n string }{{"off", offN}, {"on", onN}, {"off (again)", offN}, {"on (again)", onN}} {
		cpu, err := run(v.n)
		if err != nil {
			b.Fatal(err)
		}
		callSecs := float64(calls) * 5
		d := time.Duration(float64(cpu) / callSecs)
		per[strings.Fields(v.name)[0]] += d / 2
		rows = append(rows, []string{v.name, fmt.Sprint(calls), fmt.Sprint(cpu.Round(time.Millisecond)), fmt.Sprint(d.Round(10 * time.Microsecond))})
	}
	b.StopTimer()
	benchTable(b, []string{"VoiceFocus", "calls", "CPU over 5 s", "CPU per call-second"}, rows)
	b.ReportMetric(float64(per["on"].Microseconds())/1000, "on_ms_cpu/call-s")
	b.ReportMetric(float64(per["off"].Microseconds())/1000, "off_ms_cpu/call-s")
}

// streamCall places a call, signals ready once answered, waits for start,
// sends sig as 20 ms PCMU packets in real time and hangs up.
func streamCall(server netip.AddrPort, number string, sig codec.PCM16, ready *sync.WaitGroup, start <-chan struct{}) error {
	readyOnce := sync.OnceFunc(ready.Done)
	defer readyOnce()
	sipConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return err
	}
	defer sipConn.Close()
	rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return err
	}
	defer rtpConn.Close()
	d := &sipDialog{conn: sipConn, server: net.UDPAddrFromAddrPort(server), local: sipConn.LocalAddr().(*net.UDPAddr).AddrPort(),
		callID: fmt.Sprintf("%016x@bench", rand.Uint64()), fromTag: fmt.Sprintf("%08x", rand.Uint32()), number: number}
	remote, err := d.invite(rtpConn.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		return err
	}
	defer d.bye()
	go func() { // drain what the server sends
		buf := make([]byte, 1500)
		for {
			if _, err := rtpConn.Read(buf); err != nil {
				return
			}
		}
	}()
	readyOnce()
	<-start
	to := net.UDPAddrFromAddrPort(remote)
	pkt := make([]byte, 12+frameLen)
	pkt[0] = 0x80
	ssrc := rand.Uint32()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i+frameLen <= len(sig); i += frameLen {
		<-tick.C
		pkt[1] = 0
		if i == 0 {
			pkt[1] = 0x80
		}
		seq := uint16(i / frameLen)
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		ts := uint32(i)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		codec.PCMU.Encode(pkt[12:], sig[i:i+frameLen])
		if _, err := rtpConn.WriteToUDP(pkt, to); err != nil {
			return err
		}
	}
	return nil
}
