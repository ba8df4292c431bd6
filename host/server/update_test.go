package server

// UpdateSipMediaApplicationCall on a live call: an update interrupts a
// long PlayAudio (ACTION_INTERRUPTED) and the new prompt's first RTP
// packet reaches a loopback receiver; a non-interruptible SendDigits is
// not cut (all its digits arrive, then the new prompt). The latency is
// logged here and measured in BenchmarkUpdateToNewAudio.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
)

const (
	updateApp    = "update"
	updateNumber = "+15550150"
	freqLong     = 400.0  // prompts/test/long.wav: 10 s
	freqNew      = 1000.0 // prompts/test/new.wav: 10 s
)

func playKey(key string) string {
	return `{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"` + key + `"}}}`
}

// updateScript plays long.wav on answer and, on each update, what the
// update's "next" argument asks for.
func updateScript() *script {
	return newScript(func(ev *abi.Event) string {
		switch ev.InvocationEventType {
		case abi.EventNewInboundCall:
			return actions(playKey("test/long.wav"))
		case abi.EventCallUpdateRequested:
			d, err := ev.ActionData.Decode()
			if err != nil {
				return ""
			}
			switch d.(*abi.CallUpdateRequestParameters).Arguments["next"] {
			case "new":
				return actions(playKey("test/new.wav"))
			case "long":
				return actions(playKey("test/long.wav"))
			case "digits":
				return actions(`{"Type":"SendDigits","Parameters":{"CallId":"` + ev.CallDetails.Participants[0].CallID +
					`","Digits":"1234567890","ToneDurationInMilliseconds":100}}`)
			}
		}
		return ""
	})
}

func updateTestApp(t testing.TB, sc *script) config.Application {
	t.Helper()
	app := webhookApp(t, updateApp, updateNumber, sc.handle)
	app.Prompts = t.TempDir()
	writeWAV(t, filepath.Join(app.Prompts, "prompts", "test", "long.wav"), tone(freqLong, 10*time.Second, 8000))
	writeWAV(t, filepath.Join(app.Prompts, "prompts", "test", "new.wav"), tone(freqNew, 10*time.Second, 8000))
	return app
}

// loopbackCall places one call to number with the minimal UAC of
// latency_test.go, its RTP going to a fresh rtpPeer. It answers the
// server's BYE; the call is hung up (BYE) when the test ends if the
// server has not ended it.
func loopbackCall(t testing.TB, ts *testServer, number string) (*rtpPeer, netip.AddrPort) {
	t.Helper()
	return loopbackCallTo(t, ts.SIPAddr("udp"), number)
}

// loopbackCallTo is loopbackCall to the server at sipAddr.
func loopbackCallTo(t testing.TB, sipAddr netip.AddrPort, number string) (*rtpPeer, netip.AddrPort) {
	t.Helper()
	sipConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	peer := newRTPPeer(t, codec.PCMU)
	d := &sipDialog{conn: sipConn, server: net.UDPAddrFromAddrPort(sipAddr), local: sipConn.LocalAddr().(*net.UDPAddr).AddrPort(),
		callID: fmt.Sprintf("%016x@e2e", rand.Uint64()), fromTag: fmt.Sprintf("%08x", rand.Uint32()), number: number}
	remote, err := d.invite(peer.Addr())
	if err != nil {
		sipConn.Close()
		t.Fatalf("INVITE: %v", err)
	}
	sipConn.SetReadDeadline(time.Time{})
	ended := make(chan struct{}) // the dialog is over (BYE either way)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		var once sync.Once
		for {
			n, from, err := sipConn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			switch {
			case strings.HasPrefix(msg, "BYE "):
				sipConn.WriteToUDP(okResponse(msg), from)
				once.Do(func() { close(ended) })
			case strings.HasPrefix(msg, "SIP/2.0 ") && strings.Contains(msg, " BYE\r\n"):
				once.Do(func() { close(ended) })
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-ended:
		default:
			sipConn.WriteToUDP(d.request("BYE", d.target, 2, ""), d.server)
			select {
			case <-ended:
			case <-time.After(2 * time.Second):
			}
		}
		sipConn.Close()
		<-done
	})
	return peer, remote
}

// okResponse is a 200 OK to the request req (Via, From, To, Call-ID and
// CSeq copied).
func okResponse(req string) []byte {
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq":
			b.WriteString(l + "\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// frameTone reports whether an audio payload (PCMU, 20 ms) is freq.
func frameTone(p rtpPacket, freq float64) bool {
	if p.pt != 0 || len(p.payload) != codec.FrameSamples {
		return false
	}
	pcm := make(codec.PCM16, codec.FrameSamples)
	codec.PCMU.Decode(pcm, p.payload)
	return dbfs(pcm) > -40 && tonePower(pcm, freq) > 0.8
}

// waitPacket waits until the peer has received, after index from, a
// packet that match accepts; it returns its index.
func waitPacket(t testing.TB, peer *rtpPeer, from int, within time.Duration, match func(rtpPacket) bool) (int, rtpPacket) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := peer.Received()
		for i := from; i < len(got); i++ {
			if match(got[i]) {
				return i, got[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching RTP packet within %v (%d received)", within, len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firstEvent returns the first event of typ for action act.
func firstEvent(evs []*abi.Event, typ abi.EventType, act abi.ActionType) *abi.Event {
	for _, ev := range evs {
		if ev.InvocationEventType == typ && ev.ActionData != nil && ev.ActionData.Type == act {
			return ev
		}
	}
	return nil
}

func TestUpdateInterruptsPlayAudio(t *testing.T) {
	sc := updateScript()
	ts := startTestServer(t, nil, []config.Application{updateTestApp(t, sc)})
	peer, _ := loopbackCall(t, ts, updateNumber)
	txID := sc.waitFor(t, abi.EventNewInboundCall, "").CallDetails.TransactionID
	calls := ts.CallsAPI()

	// The long prompt plays: 10 of its packets.
	var at int
	for range 10 {
		at, _ = waitPacket(t, peer, at+1, 5*time.Second, func(p rtpPacket) bool { return frameTone(p, freqLong) })
	}
	sent := time.Now()
	if err := calls.UpdateCall(context.Background(), "demo", updateApp, txID, map[string]string{"next": "new"}); err != nil {
		t.Fatalf("UpdateCall: %v", err)
	}
	_, first := waitPacket(t, peer, at+1, 5*time.Second, func(p rtpPacket) bool { return frameTone(p, freqNew) })
	t.Logf("update to the new prompt's first RTP packet: %v (not asserted; see BenchmarkUpdateToNewAudio)", first.at.Sub(sent))
	if !first.marker {
		t.Errorf("the new prompt's first packet has no marker bit")
	}
	sc.waitFor(t, abi.EventActionInterrupted, abi.ActionPlayAudio)
	if ev := firstEvent(sc.Events(), abi.EventActionInterrupted, abi.ActionPlayAudio); ev == nil ||
		!slices.Contains([]string{string(ev.ActionData.Parameters)}, `{"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"test/long.wav"}}`) {
		t.Errorf("ACTION_INTERRUPTED %+v, want the long PlayAudio echoed", ev)
	}

	// SendDigits is not interruptible: an update while it runs waits for
	// it, then its PlayAudio starts.
	n0 := len(peer.Received())
	if err := calls.UpdateCall(context.Background(), "demo", updateApp, txID, map[string]string{"next": "digits"}); err != nil {
		t.Fatalf("UpdateCall: %v", err)
	}
	firstDigit, _ := waitPacket(t, peer, n0, 5*time.Second, func(p rtpPacket) bool { return p.pt == 101 })
	if err := calls.UpdateCall(context.Background(), "demo", updateApp, txID, map[string]string{"next": "long"}); err != nil {
		t.Fatalf("UpdateCall: %v", err)
	}
	resumed, _ := waitPacket(t, peer, firstDigit, 10*time.Second, func(p rtpPacket) bool { return frameTone(p, freqLong) })
	got := peer.Received()
	digits, lastEvent := rfc4733Digits(got[firstDigit:resumed])
	if digits != "1234567890" {
		t.Errorf("digits received before the next prompt %q, want 1234567890 (SendDigits was cut)", digits)
	}
	if lastEvent < 0 {
		t.Errorf("no telephone-event packet at all")
	}
	for _, ev := range sc.Events() {
		if ev.InvocationEventType == abi.EventActionInterrupted && ev.ActionData.Type == abi.ActionSendDigits {
			t.Errorf("SendDigits was reported interrupted")
		}
	}
}

// rfc4733Digits returns the digits of the telephone-events in pkts, one
// per event timestamp, and the index of the last event packet.
func rfc4733Digits(pkts []rtpPacket) (string, int) {
	const codes = "0123456789*#"
	var out []byte
	last := -1
	seen := map[uint32]bool{}
	for i, p := range pkts {
		if p.pt != 101 || len(p.payload) < 4 || int(p.payload[0]) >= len(codes) {
			continue
		}
		last = i
		if !seen[p.ts] {
			seen[p.ts] = true
			out = append(out, codes[p.payload[0]])
		}
	}
	return string(out), last
}

// BenchmarkUpdateToNewAudio measures the time from UpdateCall to the
// first RTP packet of the prompt the update's response plays, over
// MEDIASERVER_UPDATES updates (default 200) alternating two prompts, and
// reports p50/p99. Run with MEDIASERVER_BENCH=1; MEDIASERVER_BENCH_BACKGROUND
// holds that many sipp IVR calls meanwhile.
func BenchmarkUpdateToNewAudio(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("set MEDIASERVER_BENCH=1 to run the end-to-end benchmarks")
	}
	n := 200
	if v := os.Getenv("MEDIASERVER_UPDATES"); v != "" {
		fmt.Sscan(v, &n)
	}
	sc := updateScript()
	var ts *testServer
	background := benchEnvIntOr0(b, "MEDIASERVER_BENCH_BACKGROUND")
	if background > 0 {
		// Under load: the update's call beside sipp's IVR calls.
		ts = startBenchServer(b, background+10, []config.Application{updateTestApp(b, sc), demoApp(b, config.DemoNumber)})
		startBackgroundCalls(b, ts, background)
	} else {
		ts = startTestServer(b, nil, []config.Application{updateTestApp(b, sc)})
	}
	peer, _ := loopbackCall(b, ts, updateNumber)
	txID := sc.waitFor(b, abi.EventNewInboundCall, "").CallDetails.TransactionID
	calls := ts.CallsAPI()
	at, _ := waitPacket(b, peer, 0, 5*time.Second, func(p rtpPacket) bool { return frameTone(p, freqLong) })
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		lat = lat[:0]
		for i := range n {
			next, freq := "new", freqNew
			if i%2 == 1 {
				next, freq = "long", freqLong
			}
			sent := time.Now()
			if err := calls.UpdateCall(context.Background(), "demo", updateApp, txID, map[string]string{"next": next}); err != nil {
				b.Fatalf("UpdateCall: %v", err)
			}
			var p rtpPacket
			at, p = waitPacket(b, peer, at+1, 5*time.Second, func(p rtpPacket) bool { return p.marker && frameTone(p, freq) })
			lat = append(lat, p.at.Sub(sent))
			time.Sleep(60 * time.Millisecond) // a few frames of the new prompt
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.Logf("update to new audio over %d updates: p50 %v, p99 %v, max %v", len(lat), p50, p99, lat[len(lat)-1])
}
