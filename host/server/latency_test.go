package server

// Digit-to-next-prompt latency: the time from the RFC 4733 end packet of a
// digit to the first RTP packet of the prompt the digit chose. A small SIP
// and RTP client written here calls the demo IVR, waits for the greeting,
// presses 1 and timestamps the first packet of the sales prompt, found by
// its payload. The same IVR runs twice side by side: in-process as Wasm,
// and as its native webhook build (plugins/bin/ivr-go-webhook) over
// loopback HTTP, the baseline. Run it alone with
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkDigitToPrompt -benchtime 1x ./host/server/
//
// MEDIASERVER_BENCH_SAMPLES (default 200) is the number of calls per
// handler, MEDIASERVER_BENCH_PARALLEL (default 10) how many run at once,
// MEDIASERVER_BENCH_BACKGROUND (default 0) how many sipp IVR calls with
// RTP both ways the server holds meanwhile.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
)

func BenchmarkDigitToPrompt(b *testing.B) {
	requireBench(b)
	const wasmNumber, webhookNumber = config.DemoNumber, "+15550101"
	wasmApp := demoApp(b, wasmNumber)
	hookApp := config.Application{ID: "demo-ivr-webhook", Numbers: []string{webhookNumber}, Prompts: wasmApp.Prompts,
		Webhook: startNativeWebhook(b, requireFile(b, filepath.Join(repoRoot, "plugins", "bin", "ivr-go-webhook"), "run `make plugins`"))}
	digitLatency(b, wasmApp, hookApp)
}

// BenchmarkIotDigitToPhrase is BenchmarkDigitToPrompt for the iotcomms
// model: the caller meets plugins/iot-ivr-go's IVR, which plays
// welcome.wav and collects a digit; the digit reaches the application in
// getIvrCommand, whose answer plays sales.wav. The same application runs
// in-process as Wasm and as its native webhook build (POST
// <base>/getIvrCommand over loopback HTTP). Run it alone with
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkIotDigitToPhrase -benchtime 1x ./host/server/
func BenchmarkIotDigitToPhrase(b *testing.B) {
	requireBench(b)
	const wasmNumber, webhookNumber = "+15550160", "+15550161"
	// The prompt files (bucket promptfiles): the ivr-go prompts.
	dir := filepath.Join(repoRoot, "plugins", "iot-ivr-go", "buckets")
	wasmApp := config.Application{ID: "iot-ivr", Model: "iotcomms", Numbers: []string{wasmNumber}, Prompts: dir,
		Plugin: requireFile(b, filepath.Join(repoRoot, "plugins", "bin", "iot-ivr-go.wasm"), "run `make plugins`")}
	hookApp := config.Application{ID: "iot-ivr-webhook", Model: "iotcomms", Numbers: []string{webhookNumber}, Prompts: dir,
		Webhook: startNativeWebhook(b, requireFile(b, filepath.Join(repoRoot, "plugins", "bin", "iot-ivr-go-webhook"), "run `make plugins`"))}
	digitLatency(b, wasmApp, hookApp)
}

// digitLatency measures digit-to-prompt latency for the same IVR as a
// Wasm plugin (wasmApp) and as a webhook (hookApp), each on its first
// number, in alternating batches.
func digitLatency(b *testing.B, wasmApp, hookApp config.Application) {
	samples := benchEnvInt(b, "MEDIASERVER_BENCH_SAMPLES", 200)
	parallel := benchEnvInt(b, "MEDIASERVER_BENCH_PARALLEL", 10)
	wasmNumber, webhookNumber := wasmApp.Numbers[0], hookApp.Numbers[0]
	background := benchEnvIntOr0(b, "MEDIASERVER_BENCH_BACKGROUND")
	ts := startBenchServer(b, 2*parallel+background, []config.Application{wasmApp, hookApp})

	prompts := filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr")
	finder := newPromptFinder(readPrompt(b, filepath.Join(prompts, "sales.wav")), readPrompt(b, filepath.Join(prompts, "welcome.wav")))
	server := ts.SIPAddr("udp")

	// Warm both handlers (compilation, instances, HTTP connections).
	for _, n := range []string{wasmNumber, webhookNumber} {
		if _, err := digitCall(server, n, finder); err != nil {
			b.Fatalf("warm-up call to %s: %v", n, err)
		}
	}
	drainCalls(b, ts)
	if background > 0 {
		startBackgroundCalls(b, ts, background)
	}

	b.ResetTimer()
	lat := map[string][]time.Duration{}
	failed := map[string]int{}
	// Alternate batches so both handlers see the same machine load.
	for done := 0; done < samples; done += parallel {
		for _, n := range []string{wasmNumber, webhookNumber} {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for range min(parallel, samples-done) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d, err := digitCall(server, n, finder)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						if failed[n] == 0 {
							b.Logf("call to %s: %v", n, err)
						}
						failed[n]++
						return
					}
					lat[n] = append(lat[n], d)
				}()
			}
			wg.Wait()
		}
	}
	b.StopTimer()
	if background == 0 {
		drainCalls(b, ts)
	}

	pct := func(n string, p float64) float64 {
		l := lat[n]
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return float64(l[min(len(l)-1, int(p*float64(len(l))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(wasmNumber, 0.50), "p50_ms")
	b.ReportMetric(pct(wasmNumber, 0.99), "p99_ms")
	b.ReportMetric(pct(webhookNumber, 0.50), "webhook_p50_ms")
	b.ReportMetric(pct(webhookNumber, 0.99), "webhook_p99_ms")
	var rows [][]string
	for _, n := range []string{wasmNumber, webhookNumber} {
		name := map[string]string{wasmNumber: "wasm (in-process)", webhookNumber: "webhook (loopback HTTP)"}[n]
		rows = append(rows, []string{name, strconv.Itoa(len(lat[n])), strconv.Itoa(failed[n]),
			fmt.Sprintf("%.2f", pct(n, 0)), fmt.Sprintf("%.2f", pct(n, 0.5)), fmt.Sprintf("%.2f", pct(n, 0.99)), fmt.Sprintf("%.2f", pct(n, 1))})
	}
	benchTable(b, []string{"handler", "samples", "failed", "min ms", "p50 ms", "p99 ms", "max ms"}, rows)
	if failed[wasmNumber]+failed[webhookNumber] > 0 {
		b.Errorf("%d calls failed", failed[wasmNumber]+failed[webhookNumber])
	}
}

// startNativeWebhook runs a plugin's native webhook build on a free
// loopback port and returns its URL; it is killed when b ends.
func startNativeWebhook(b *testing.B, bin string) string {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("%s: %v", bin, err)
	}
	b.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		b.Fatalf("%s: first line %q (%v), want \"listening on URL\"", bin, line, err)
	}
	return url
}

// promptFinder recognises the frames of a prompt in received RTP: each
// 20 ms frame of the prompt, G.711-encoded as the server sends it, that
// occurs only once in it and nowhere in the other prompts, indexed by its
// payload.
type promptFinder struct {
	frame map[string]int // payload → frame index in the prompt
}

func newPromptFinder(prompt codec.PCM16, others ...codec.PCM16) *promptFinder {
	frames := func(pcm codec.PCM16) []string {
		var out []string
		for i := 0; i+frameLen <= len(pcm); i += frameLen {
			p := make(codec.Payload, frameLen)
			codec.PCMU.Encode(p, pcm[i:i+frameLen])
			out = append(out, string(p))
		}
		return out
	}
	seen := map[string]int{}
	for _, o := range others {
		for _, f := range frames(o) {
			seen[f] += 2
		}
	}
	own := frames(prompt)
	for _, f := range own {
		seen[f]++
	}
	pf := &promptFinder{frame: map[string]int{}}
	for i, f := range own {
		if seen[f] == 1 {
			pf.frame[f] = i
		}
	}
	return pf
}

// find returns the frame index of payload in the prompt.
func (pf *promptFinder) find(payload []byte) (int, bool) {
	i, ok := pf.frame[string(payload)]
	return i, ok
}

// digitCall places one call to number at server, waits for 10 packets
// of the greeting, sends digit 1 as RFC 4733 (start, two updates, three
// end packets, 20 ms apart, after a stream of silence frames) and returns
// the time from the first end packet to the first packet of the prompt
// that finder knows, corrected by the index of the frame recognised.
func digitCall(server netip.AddrPort, number string, finder *promptFinder) (time.Duration, error) {
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
	remote, err := d.invite(rtpConn.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		return 0, err
	}
	defer d.bye()

	// The receiver: count greeting packets, then look for the prompt.
	type arrival struct {
		at    time.Time
		frame int
	}
	greeting := make(chan struct{})
	found := make(chan arrival, 1)
	go func() {
		buf := make([]byte, 1500)
		n := 0
		for {
			rtpConn.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := rtpConn.Read(buf)
			if err != nil {
				return
			}
			at := time.Now()
			if m < 12 || buf[1]&0x7f != 0 {
				continue
			}
			if n++; n == 10 {
				close(greeting)
			}
			if f, ok := finder.find(buf[12:m]); ok {
				found <- arrival{at, f}
				return
			}
		}
	}()

	// The sender: silence frames, as a phone sends while the caller
	// listens, then the digit.
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	send := func(pt byte, marker bool, timestamp uint32, payload []byte) error {
		pkt := make([]byte, 12, 12+len(payload))
		pkt[0], pkt[1] = 0x80, pt
		if marker {
			pkt[1] |= 0x80
		}
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], timestamp)
		binary.BigEndian.PutUint32(pkt[8:], ssrc)
		seq++
		_, err := rtpConn.WriteToUDP(append(pkt, payload...), net.UDPAddrFromAddrPort(remote))
		return err
	}
	silence := make([]byte, frameLen)
	for i := range silence {
		silence[i] = codec.PCMU.SilenceByte()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(5 * time.Second)
wait:
	for {
		select {
		case <-greeting:
			break wait
		case <-timeout:
			return 0, errors.New("no greeting within 5 s")
		case <-tick.C:
			if err := send(0, false, ts, silence); err != nil {
				return 0, err
			}
			ts += frameLen
		}
	}
	const event = 1 // the digit 1
	var endSent time.Time
	for i, dur := range []uint16{160, 320, 480, 640, 640, 640} {
		<-tick.C
		end := i >= 3
		p := []byte{event, 10, 0, 0} // volume -10 dBm0
		if end {
			p[1] |= 0x80
		}
		binary.BigEndian.PutUint16(p[2:], dur)
		if err := send(101, i == 0, ts, p); err != nil {
			return 0, err
		}
		if i == 3 {
			endSent = time.Now()
		}
	}
	ts += 640
	select {
	case a := <-found:
		return a.at.Sub(endSent) - time.Duration(a.frame)*20*time.Millisecond, nil
	case <-time.After(3 * time.Second):
		return 0, errors.New("the next prompt did not start within 3 s of the digit")
	}
}

// sipDialog is a minimal UAC over UDP: INVITE with an SDP offer (PCMU and
// telephone-event 101), ACK, BYE. Enough for loopback benchmarks against
// our own server; no authentication, no re-INVITEs.
type sipDialog struct {
	conn            *net.UDPConn
	server          *net.UDPAddr
	local           netip.AddrPort
	callID, fromTag string
	number          string
	toHeader        string // with the server's tag, from the 200 OK
	target          string // the server's Contact URI
}

func (d *sipDialog) request(method, uri string, cseq int, body string) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&sb, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%08x;rport\r\n", d.local, rand.Uint32())
	fmt.Fprintf(&sb, "From: <sip:+12065550123@%s>;tag=%s\r\n", d.local.Addr(), d.fromTag)
	if d.toHeader != "" {
		fmt.Fprintf(&sb, "To: %s\r\n", d.toHeader)
	} else {
		fmt.Fprintf(&sb, "To: <sip:%s@%s>\r\n", d.number, d.server)
	}
	fmt.Fprintf(&sb, "Call-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n", d.callID, cseq, method)
	fmt.Fprintf(&sb, "Contact: <sip:bench@%s>\r\n", d.local)
	if body != "" {
		sb.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&sb, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(sb.String())
}

// invite sends the INVITE, waits for the 200 OK, sends the ACK and returns
// the server's RTP address.
func (d *sipDialog) invite(rtp netip.AddrPort) (netip.AddrPort, error) {
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n",
		rtp.Addr(), rtp.Addr(), rtp.Port())
	uri := fmt.Sprintf("sip:%s@%s", d.number, d.server)
	if _, err := d.conn.WriteToUDP(d.request("INVITE", uri, 1, sdp), d.server); err != nil {
		return netip.AddrPort{}, err
	}
	buf := make([]byte, 65535)
	for {
		d.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := d.conn.Read(buf)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("waiting for 200 OK: %w", err)
		}
		head, body, _ := strings.Cut(string(buf[:n]), "\r\n\r\n")
		lines := strings.Split(head, "\r\n")
		status, ok := strings.CutPrefix(lines[0], "SIP/2.0 ")
		if !ok || !strings.Contains(head, " INVITE\r\n") {
			continue
		}
		code, _ := strconv.Atoi(status[:3])
		if code < 200 {
			continue
		}
		if code >= 300 {
			return netip.AddrPort{}, fmt.Errorf("INVITE: %s", lines[0])
		}
		for _, l := range lines[1:] {
			name, value, _ := strings.Cut(l, ":")
			value = strings.TrimSpace(value)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "to", "t":
				d.toHeader = value
			case "contact", "m":
				if i, j := strings.IndexByte(value, '<'), strings.IndexByte(value, '>'); i >= 0 && j > i {
					d.target = value[i+1 : j]
				}
			}
		}
		if d.target == "" {
			d.target = uri
		}
		var ip netip.Addr
		port := 0
		for _, l := range strings.Split(body, "\r\n") {
			if a, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
				ip, _ = netip.ParseAddr(strings.TrimSpace(a))
			}
			if m, ok := strings.CutPrefix(l, "m=audio "); ok {
				port, _ = strconv.Atoi(strings.Fields(m)[0])
			}
		}
		if !ip.IsValid() || port == 0 {
			return netip.AddrPort{}, fmt.Errorf("200 OK without usable SDP:\n%s", buf[:n])
		}
		_, err = d.conn.WriteToUDP(d.request("ACK", d.target, 1, ""), d.server)
		return netip.AddrPortFrom(ip, uint16(port)), err
	}
}

// bye ends the call and waits briefly for the 200 OK.
func (d *sipDialog) bye() {
	if _, err := d.conn.WriteToUDP(d.request("BYE", d.target, 2, ""), d.server); err != nil {
		return
	}
	buf := make([]byte, 65535)
	for {
		d.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := d.conn.Read(buf)
		if err != nil || strings.Contains(string(buf[:n]), " BYE\r\n") && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			return
		}
	}
}
