package server

// SIP over TLS and SRTP end to end: sipp through stunnel and baresip over
// TLS to the demo IVR, baresip with SRTP (mediaenc=srtp-mand) with the
// audio checked both ways, bridges with SRTP on one leg and RTP on the
// other, and tampered and replayed SRTP dropped and counted.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenancy"
	"github.com/wasmvoice/mediaserver/internal/tlsfiles"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
	"github.com/wasmvoice/mediaserver/sip"
)

// startStunnel runs stunnel as a TLS client: it accepts plain TCP on the
// returned address and carries it over TLS to target, verifying target's
// certificate against caFile (a wrong certificate fails the connection).
func startStunnel(t testing.TB, target netip.AddrPort, caFile string) netip.AddrPort {
	t.Helper()
	bin := requireTool(t, "stunnel", "stunnel4")
	dir := t.TempDir()
	front := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(freePort(t, "tcp")))
	conf := fmt.Sprintf("foreground = yes\npid =\ndebug = 4\n[sip]\nclient = yes\naccept = %s\nconnect = %s\n"+
		"CAfile = %s\nverifyChain = yes\ncheckIP = 127.0.0.1\n", front, target, caFile)
	path := filepath.Join(dir, "stunnel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, path)
	var out logBuffer
	out.t = t
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("stunnel: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", front.String(), time.Second)
		if err == nil {
			c.Close()
			return front
		}
		if time.Now().After(deadline) {
			t.Fatalf("stunnel does not listen on %s: %v\n%s", front, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tlsRelay sits between baresip and the server's TLS listener: it
// terminates baresip's TLS with the server's own certificate, rewrites the
// SDP of what baresip sends to loopback (baresip announces its
// non-loopback address: see sipRelay) and carries it over a TLS
// connection of its own to the server; what the server sends comes back
// unchanged. baresip's in-dialog requests go to the server's Contact
// directly, over TLS too.
type tlsRelay struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startTLSRelay(t testing.TB, server netip.AddrPort, certFile, keyFile string) *tlsRelay {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(certFile); err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("server certificate %s: %v", certFile, err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	r := &tlsRelay{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			front, err := ln.Accept()
			if err != nil {
				return
			}
			back, err := tls.Dial("tcp", server.String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
			if err != nil {
				t.Errorf("relay: dial the server over TLS: %v", err)
				front.Close()
				continue
			}
			r.wg.Add(2)
			go func() {
				defer r.wg.Done()
				defer back.Close()
				br := bufio.NewReader(front)
				for {
					msg, err := readSIPMessage(br)
					if err != nil {
						return
					}
					if _, err := back.Write(rewriteSDP(msg, false)); err != nil {
						return
					}
				}
			}()
			go func() {
				defer r.wg.Done()
				defer front.Close()
				io.Copy(front, back)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *tlsRelay) Addr() netip.AddrPort { return r.ln.Addr().(*net.TCPAddr).AddrPort() }

var contentLengthValue = regexp.MustCompile(`(?im)^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*\r?$`)

// readSIPMessage reads one SIP message from a stream: the header up to
// the empty line, then Content-Length bytes of body (keep-alive CRLFs
// between messages are skipped).
func readSIPMessage(r *bufio.Reader) ([]byte, error) {
	var head bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if strings.TrimRight(line, "\r\n") == "" {
			if head.Len() == 0 {
				continue // keep-alive
			}
			head.WriteString(line)
			break
		}
		head.WriteString(line)
		if head.Len() > 64<<10 {
			return nil, errors.New("sip header too long")
		}
	}
	n := 0
	if m := contentLengthValue.FindSubmatch(head.Bytes()); m != nil {
		n, _ = strconv.Atoi(string(m[1]))
	}
	if n > 64<<10 {
		return nil, errors.New("sip body too long")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(head.Bytes(), body...), nil
}

func TestReadSIPMessage(t *testing.T) {
	stream := "\r\nINVITE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhelloBYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n"
	r := bufio.NewReader(strings.NewReader(stream))
	m1, err := readSIPMessage(r)
	if err != nil || string(m1) != "INVITE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello" {
		t.Fatalf("first message %q, %v", m1, err)
	}
	m2, err := readSIPMessage(r)
	if err != nil || string(m2) != "BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n" {
		t.Fatalf("second message %q, %v", m2, err)
	}
	if _, err := readSIPMessage(r); err == nil {
		t.Fatal("no error at the end of the stream")
	}
}

// baresipTLS is the configuration baresip needs to call over TLS with
// or without SRTP: the server's certificate as its CA, the srtp module.
func baresipTLS(ts *testServer) string {
	return "\nsip_cafile\t\t" + ts.TLSCertFile() + "\nmodule\t\t\tsrtp.so\n"
}

func tlsKeyFile(ts *testServer) string {
	return filepath.Join(filepath.Dir(ts.TLSCertFile()), "key.pem")
}

// TestBaresipTLSHearsGreeting: baresip calls the demo IVR over TLS (plain
// RTP) and hears the greeting.
func TestBaresipTLSHearsGreeting(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	relay := startTLSRelay(t, ts.SIPAddr("tls"), ts.TLSCertFile(), tlsKeyFile(ts))
	heard, logs := runBaresip(t, bin, baresipCall{
		Dial:   "sip:" + config.DemoNumber + "@" + relay.Addr().String() + ";transport=tls",
		Mic:    make(codec.PCM16, 11*codec.SampleRate),
		Config: baresipTLS(ts),
	})
	welcome := readPrompt(t, filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr", "welcome.wav"))
	got := compareAudio(heard, welcome)
	t.Logf("heard %.2f s over TLS; vs welcome.wav: %s", float64(len(heard))/codec.SampleRate, got)
	if !got.Heard() {
		t.Fatalf("baresip did not hear the greeting over TLS: %s\nbaresip log:\n%s", got, tail(logs, 3000))
	}
	ts.waitIdle(t)
	if !strings.Contains(ts.Logs.String(), "transport=TLS srtp=off") {
		t.Fatalf("the server log has no TLS call:\n%s", tail(ts.Logs.String(), 3000))
	}
}

// TestBaresipSRTP: baresip with mediaenc=srtp-mand (RTP/SAVP, SDES) calls
// a webhook application over TLS that plays a prompt and then records
// the caller. baresip must hear the prompt, and the recording must hold
// baresip's microphone tone: SRTP works both ways, with baresip's keys.
func TestBaresipSRTP(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	const number = "+15550151"
	prompts := filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr")
	goodbye := readPrompt(t, filepath.Join(prompts, "goodbye.wav"))
	app := webhookApp(t, "srtp", number, func(ev *abi.Event) string {
		switch {
		case ev.InvocationEventType == abi.EventNewInboundCall:
			return actions(`{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"ivr/goodbye.wav"}}}`,
				`{"Type":"RecordAudio","Parameters":{"DurationInSeconds":4,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"recordings","Prefix":"srtp"}}}`)
		case ev.InvocationEventType == abi.EventActionSuccessful:
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return actions()
	})
	app.Prompts = filepath.Dir(filepath.Dir(prompts)) // buckets/: prompts/ivr/*.wav
	cfg := testConfig(t)
	cfg.SIP.TLSSRTP = "mandatory"
	ts := startTestServer(t, cfg, []config.Application{app})
	relay := startTLSRelay(t, ts.SIPAddr("tls"), ts.TLSCertFile(), tlsKeyFile(ts))

	// Silence while the prompt plays, then a 700 Hz tone until the end.
	promptSecs := len(goodbye)/codec.SampleRate + 1
	mic := append(make(codec.PCM16, promptSecs*codec.SampleRate), tone(700, 7*time.Second, 8000)...)
	heard, logs := runBaresip(t, bin, baresipCall{
		Dial:    "sip:" + number + "@" + relay.Addr().String() + ";transport=tls",
		Mic:     mic,
		Config:  baresipTLS(ts),
		Account: "<sip:tester@127.0.0.1>;regint=0;audio_codecs=pcmu;mediaenc=srtp-mand",
	})
	ts.waitIdle(t)
	if !strings.Contains(ts.Logs.String(), "srtp=AES_CM_128_HMAC_SHA1") {
		t.Fatalf("the server did not negotiate SRTP:\n%s\nbaresip:\n%s", tail(ts.Logs.String(), 3000), tail(logs, 2000))
	}
	// What baresip heard: the prompt (baresip decrypted our SRTP).
	got := compareAudio(heard, goodbye)
	t.Logf("baresip heard %.2f s; vs goodbye.wav: %s", float64(len(heard))/codec.SampleRate, got)
	if !got.Heard() {
		t.Fatalf("baresip did not hear the prompt over SRTP: %s\nbaresip log:\n%s", got, tail(logs, 3000))
	}
	if m := compareAudio(heard, readPrompt(t, filepath.Join(prompts, "welcome.wav"))); m.Heard() {
		t.Fatalf("negative control: baresip's audio also matches welcome.wav (%s)", m)
	}
	// What the server heard: baresip's tone (we decrypted baresip's SRTP).
	rec := onlyRecording(t, filepath.Join(ts.Config.DataDir, "buckets", "demo", "recordings"))
	p700, p1000 := tonePower(rec, 700), tonePower(rec, 1000)
	t.Logf("recording %.2f s: 700 Hz share %.3f, 1000 Hz share %.3f", float64(len(rec))/codec.SampleRate, p700, p1000)
	if p700 < 0.5 || p1000 > 0.05 || toneDuration(rec, 700) < 2*time.Second {
		t.Fatalf("the recording does not hold baresip's 700 Hz tone (share %.3f, %v of it; 1000 Hz control %.3f)",
			p700, toneDuration(rec, 700), p1000)
	}
	if n := droppedSRTP(t, ts); n["srtp_auth"]+n["srtp_replay"] != 0 {
		t.Fatalf("SRTP packets dropped on a clean call: %v", n)
	}
}

// onlyRecording returns the one WAV under root, checked complete.
func onlyRecording(t testing.TB, root string) codec.PCM16 {
	t.Helper()
	var wavs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".wav" {
			wavs = append(wavs, p)
		}
		return nil
	})
	if len(wavs) != 1 {
		t.Fatalf("recordings under %s: %v, want one", root, wavs)
	}
	if tenancy.NeedsRepair(wavs[0]) {
		t.Fatalf("recording %s is half-written", wavs[0])
	}
	rec, _, err := wav.ReadFile(wavs[0])
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// droppedSRTP scrapes mediaserver_rtp_dropped_total by reason.
func droppedSRTP(t testing.TB, ts *testServer) map[string]float64 {
	t.Helper()
	body := scrape(t, ts)
	out := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^mediaserver_rtp_dropped_total\{reason="([a-z_]+)"\} ([0-9.e+]+)$`).FindAllStringSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] = v
	}
	return out
}

// scrape returns /metrics, read with the admin key.
func scrape(t testing.TB, ts *testServer) string {
	t.Helper()
	admin, _ := ts.KeyFiles()
	key, err := os.ReadFile(admin)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+ts.APIAddr()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %s\n%s", res.Status, b)
	}
	return string(b)
}

// TestBaresipBridgeSRTPAndRTP: CallAndBridge with SRTP on one leg and
// plain RTP on the other, both ways round. A (the caller) plays tone X, B
// (the callee behind the trunk) tone Y; each must hear the other's.
func TestBaresipBridgeSRTPAndRTP(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	tests := []struct {
		name      string
		aSRTP     bool // A calls over TLS with srtp-mand; else UDP, plain
		trunkSRTP bool // the trunk is srtp mandatory and B srtp-mand
	}{
		{name: "SRTP caller, RTP callee", aSRTP: true},
		{name: "RTP caller, SRTP callee", trunkSRTP: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bParams, bConfig := "audio_codecs=pcmu", ""
			if tt.trunkSRTP {
				bParams, bConfig = "audio_codecs=pcmu;mediaenc=srtp-mand", "\nmodule\t\t\tsrtp.so\n"
			}
			b := startBaresipCalleeWith(t, bin, calleeBNumber, bParams, bConfig, tone(toneY, 14*time.Second, 8000))
			bRelay := startBothWaysRelay(t, b.Addr)
			cfg := testConfig(t)
			trunk := trunkTo(bRelay.Addr().String())
			if tt.trunkSRTP {
				trunk.SRTP = "mandatory"
			}
			cfg.Trunks = []config.Trunk{trunk}
			cfg.SIP.TLSSRTP = "mandatory"
			sc := bridgeScript()
			ts := startTestServer(t, cfg, []config.Application{webhookApp(t, "bridge", bridgeNumber, sc.handle)})
			call := baresipCall{Mic: append(make(codec.PCM16, 3*codec.SampleRate), tone(toneX, 6*time.Second, 8000)...)}
			if tt.aSRTP {
				relay := startTLSRelay(t, ts.SIPAddr("tls"), ts.TLSCertFile(), tlsKeyFile(ts))
				call.Dial = "sip:" + bridgeNumber + "@" + relay.Addr().String() + ";transport=tls"
				call.Config = baresipTLS(ts)
				call.Account = "<sip:tester@127.0.0.1>;regint=0;audio_codecs=pcmu;mediaenc=srtp-mand"
			} else {
				call.Dial = "sip:" + bridgeNumber + "@" + startSIPRelay(t, ts.SIPAddr("udp"), false).Addr().String()
			}
			heardA, logsA := runBaresip(t, bin, call)
			heardB, logsB := b.wait(t)
			ts.waitIdle(t)
			logs := ts.Logs.String()
			// Exactly the leg that should is SRTP: A's "call answered" line,
			// B's "srtp keys set" line.
			aLine := regexp.MustCompile(`msg="call answered".* srtp=(\S+)`).FindStringSubmatch(logs)
			bSRTP := regexp.MustCompile(`msg="srtp keys set" .*suite=AES_CM_128_HMAC_SHA1_\d+ on=true`).MatchString(logs)
			if aLine == nil || (aLine[1] != "off") != tt.aSRTP || bSRTP != tt.trunkSRTP {
				t.Fatalf("SRTP on the wrong legs (A %v, B %v; want A %v, B %v):\n%s", aLine, bSRTP, tt.aSRTP, tt.trunkSRTP, tail(logs, 3000))
			}
			if !strings.Contains(logs, "legs bridged") {
				t.Errorf("the server log has no \"legs bridged\" line")
			}
			aY, aX := tonePower(heardA, toneY), tonePower(heardA, toneX)
			bX, bY := tonePower(heardB, toneX), tonePower(heardB, toneY)
			t.Logf("A heard %.1f s: Y %.3f, X %.3f; B heard %.1f s: X %.3f, Y %.3f",
				float64(len(heardA))/codec.SampleRate, aY, aX, float64(len(heardB))/codec.SampleRate, bX, bY)
			if aY < 0.5 || aX > 0.05 {
				t.Errorf("A heard Y %.3f (want ≥ 0.5) and its own X %.3f (want ≤ 0.05)\nA log:\n%s", aY, aX, tail(logsA, 2000))
			}
			if bX < 0.5 || bY > 0.05 || toneDuration(heardB, toneX) < 3*time.Second {
				t.Errorf("B heard X %.3f for %v (want ≥ 0.5, ≥ 3 s) and its own Y %.3f (want ≤ 0.05)\nB log:\n%s",
					bX, toneDuration(heardB, toneX), bY, tail(logsB, 2000))
			}
		})
	}
}

// TestSRTPTamperedAndReplayedDropped: a caller of our own (sip.Server
// with SRTP mandatory, and pion/srtp holding its key) sends the server
// good, tampered and replayed SRTP packets; the tampered and replayed
// ones are dropped and counted in mediaserver_rtp_dropped_total, the good
// ones arrive (the webhook sees their digit).
func TestSRTPTamperedAndReplayedDropped(t *testing.T) {
	const number = "+15550152"
	digits := make(chan string, 4)
	app := webhookApp(t, "srtp-drops", number, func(ev *abi.Event) string {
		switch {
		case ev.InvocationEventType == abi.EventNewInboundCall:
			return actions(`{"Type":"ReceiveDigits","Parameters":{"InputDigitsRegex":"^[0-9]$","InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":2000}}`,
				`{"Type":"Pause","Parameters":{"DurationInMilliseconds":30000}}`)
		case ev.InvocationEventType == abi.EventDigitsReceived && ev.ActionData != nil:
			digits <- ev.ActionData.ReceivedDigits
		}
		return actions()
	})
	cfg := testConfig(t)
	cfg.SIP.SRTP = "mandatory"
	ts := startTestServer(t, cfg, []config.Application{app})

	peer, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	caller, err := sip.NewServer(sip.Config{UDP: []string{"127.0.0.1:0"}}, sip.HandlerFunc(func(c *sip.Call) { c.Reject(603, "") }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go caller.ListenAndServe(ctx)
	call, err := caller.Dial(ctx, sip.DialParams{Target: "sip:" + number + "@" + ts.SIPAddr("udp").String(),
		Local: peer.LocalAddr().(*net.UDPAddr).AddrPort(), SRTP: sip.SRTPMandatory})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer call.Hangup(context.Background())
	k := call.Remote.SRTP
	profile := srtp.ProtectionProfileAes128CmHmacSha1_80
	if k.Suite == sip.SuiteAES128SHA1_32 {
		profile = srtp.ProtectionProfileAes128CmHmacSha1_32
	}
	tx, err := srtp.CreateContext(k.Local[:16], k.Local[16:], profile)
	if err != nil {
		t.Fatal(err)
	}
	to := call.Remote.Addr
	seq := uint16(100)
	// An RFC 4733 digit: start, continuation, three end packets; then
	// silence, so the jitter buffer has audio around it.
	send := func(pt uint8, marker bool, ts uint32, payload []byte, mangle func([]byte) []byte) []byte {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: seq, Timestamp: ts, SSRC: 0x5eed}, Payload: payload}
		seq++
		b, _ := p.Marshal()
		out, err := tx.EncryptRTP(nil, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mangle != nil {
			out = mangle(out)
		}
		if _, err := peer.WriteToUDPAddrPort(out, to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		return out
	}
	silence := bytes.Repeat([]byte{0xff}, 160)
	tamper := func(b []byte) []byte { c := append([]byte(nil), b...); c[14] ^= 0x40; return c }
	dtmfPT := call.Remote.DTMFPayloadType
	if dtmfPT == 0 {
		t.Fatal("no telephone-event negotiated")
	}
	var first []byte
	for i := range 10 {
		b := send(call.Remote.Codec.PayloadType, i == 0, uint32(i)*160, silence, nil)
		if i == 0 {
			first = b
		}
	}
	// The digit 7, tampered: dropped, never seen as a digit.
	for i, end := range []bool{false, false, true, true, true} {
		send(dtmfPT, i == 0, 10*160, dtmfEvent(9, end, uint16(160*(i+1))), tamper)
	}
	// Replays of an earlier packet.
	for range 3 {
		if _, err := peer.WriteToUDPAddrPort(first, to); err != nil {
			t.Fatal(err)
		}
	}
	// The digit 7, good.
	for i, end := range []bool{false, false, true, true, true} {
		send(dtmfPT, i == 0, 20*160, dtmfEvent(7, end, uint16(160*(i+1))), nil)
	}
	for i := range 10 {
		send(call.Remote.Codec.PayloadType, false, uint32(30+i)*160, silence, nil)
	}
	select {
	case d := <-digits:
		if d != "7" {
			t.Fatalf("digits received %q, want 7 (the tampered 9 must not count)", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the good digit did not arrive")
	}
	n := droppedSRTP(t, ts)
	t.Logf("dropped: %v", n)
	if n["srtp_auth"] != 5 || n["srtp_replay"] != 3 {
		t.Fatalf("dropped srtp_auth %v (want 5 tampered), srtp_replay %v (want 3 replays)", n["srtp_auth"], n["srtp_replay"])
	}
}

// dtmfEvent is an RFC 4733 payload for digit (0-15).
func dtmfEvent(digit byte, end bool, duration uint16) []byte {
	b := []byte{digit, 10, byte(duration >> 8), byte(duration)}
	if end {
		b[1] |= 0x80
	}
	return b
}

// TestTLSCertificateReload: the TLS listener serves a new certificate
// after its files change, without a restart.
func TestTLSCertificateReload(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	cert1, key1, err := tlsfiles.NewSelfSigned("localhost", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SIP.TLSCert, cfg.SIP.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	tlsfiles.WriteFile(cfg.SIP.TLSKey, key1, 0o600)
	tlsfiles.WriteFile(cfg.SIP.TLSCert, cert1, 0o644)
	ts := startTestServer(t, cfg, nil)
	served := func() []byte {
		t.Helper()
		c, err := tls.Dial("tcp", ts.SIPAddr("tls").String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	der := func(p []byte) []byte {
		blk, _ := pem.Decode(p)
		if blk == nil {
			t.Fatal("bad pem")
		}
		return blk.Bytes
	}
	if !bytes.Equal(served(), der(cert1)) {
		t.Fatal("the listener does not serve the configured certificate")
	}
	cert2, key2, err := tlsfiles.NewSelfSigned("localhost", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tlsfiles.WriteFile(cfg.SIP.TLSKey, key2, 0o600)
	tlsfiles.WriteFile(cfg.SIP.TLSCert, cert2, 0o644)
	ts.ReloadTLS() // what SIGHUP does
	if !bytes.Equal(served(), der(cert2)) {
		t.Fatal("the listener still serves the old certificate after the reload")
	}
}

// TestTLSTrunk: a CallAndBridge goes out over a TLS trunk with SRTP
// mandatory: the trunk (a SIP user agent of our own with its own
// certificate, trusted through [sip] tls_ca) gets the INVITE over TLS
// with RTP/SAVP and answers; the bridge is made. A trunk whose
// certificate is not trusted fails the dial instead.
func TestTLSTrunk(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(map[bool]string{true: "trusted", false: "untrusted"}[trusted], func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile, err := tlsfiles.SelfSigned(dir)
			if err != nil {
				t.Fatal(err)
			}
			certs, err := tlsfiles.Load(certFile, keyFile, nil)
			if err != nil {
				t.Fatal(err)
			}
			answered := make(chan *sip.Call, 1)
			trunk, err := sip.NewServer(sip.Config{TLS: []string{"127.0.0.1:0"}, TLSConfig: certs.ServerConfig(),
				SRTP: map[string]sip.SRTPPolicy{"TLS": sip.SRTPMandatory}}, sip.HandlerFunc(func(c *sip.Call) {
				if err := c.Answer(netip.MustParseAddrPort("127.0.0.1:40010")); err != nil {
					t.Errorf("trunk Answer: %v", err)
					return
				}
				answered <- c
				for range c.Events() {
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go trunk.ListenAndServe(ctx)
			addr, _ := trunk.Addr("TLS")

			cfg := testConfig(t)
			tr := trunkTo(addr.String())
			tr.Transport, tr.SRTP = "tls", "mandatory"
			cfg.Trunks = []config.Trunk{tr}
			if trusted {
				cfg.SIP.TLSCA = certFile
			}
			sc := newScript(func(ev *abi.Event) string {
				switch ev.InvocationEventType {
				case abi.EventNewInboundCall:
					return actions(callAndBridge(calleeBNumber))
				case abi.EventActionSuccessful, abi.EventActionFailed, abi.EventHangup:
					return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
				}
				return ""
			})
			ts := startTestServer(t, cfg, []config.Application{webhookApp(t, "bridge", bridgeNumber, sc.handle)})
			runSipp(t, ts, sippOptions{Scenario: "uac_wait_bye", Service: bridgeNumber})
			ts.waitIdle(t)
			evs := sc.Events()
			if len(evs) < 2 {
				t.Fatalf("events %s", typesOf(evs))
			}
			if !trusted {
				if evs[1].InvocationEventType != abi.EventActionFailed {
					t.Fatalf("untrusted trunk: events %s, want ACTION_FAILED", typesOf(evs))
				}
				if !strings.Contains(ts.Logs.String(), "certificate") {
					t.Fatalf("the log does not name the certificate problem:\n%s", tail(ts.Logs.String(), 2000))
				}
				return
			}
			if evs[1].InvocationEventType != abi.EventActionSuccessful {
				t.Fatalf("events %s, want CallAndBridge to succeed", typesOf(evs))
			}
			select {
			case c := <-answered:
				if c.Transport != "TLS" || !c.Remote.SRTP.On() {
					t.Fatalf("the trunk got a %s call, SRTP %+v; want TLS and SRTP", c.Transport, c.Remote.SRTP)
				}
			default:
				t.Fatal("the trunk answered no call")
			}
		})
	}
}
