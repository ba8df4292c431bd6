package server

// CallAndBridge between two real softphones: baresip A calls the server,
// the plugin bridges it to baresip B (a listening UA behind a trunk). A's
// microphone plays tone X, B's tone Y; each must hear the other's tone and
// not its own (the negative control). Run with the same codec on both legs
// (relay) and with PCMU on A and PCMA on B (transcoding).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

const (
	bridgeNumber  = "+15550160" // the application: A dials it
	calleeBNumber = "+15550177" // B, behind the trunk
	toneX         = 500.0       // A's microphone
	toneY         = 1300.0      // B's microphone
)

func callAndBridge(uri string) string {
	return `{"Type":"CallAndBridge","Parameters":{"CallTimeoutSeconds":20,"CallerIdNumber":"` + bridgeNumber +
		`","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"` + uri + `"}]}}`
}

// bridgeScript bridges every inbound call to calleeBNumber and ends the
// other leg when one hangs up.
func bridgeScript() *script {
	return newScript(func(ev *abi.Event) string {
		switch ev.InvocationEventType {
		case abi.EventNewInboundCall:
			return actions(callAndBridge(calleeBNumber))
		case abi.EventHangup:
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return ""
	})
}

func TestBaresipCallAndBridge(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip")
	tests := []struct {
		name   string
		codecB string // B's audio_codecs; A always uses PCMU
	}{
		{name: "PCMU both legs (relay)", codecB: "pcmu"},
		{name: "PCMU to PCMA (transcoded)", codecB: "pcma"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBaresipCallee(t, bin, tt.codecB, tone(toneY, 14*time.Second, 8000))
			bRelay := startBothWaysRelay(t, b.Addr)
			cfg := testConfig(t)
			cfg.Trunks = []config.Trunk{trunkTo(bRelay.Addr().String())}
			sc := bridgeScript()
			ts := startTestServer(t, cfg, []config.Application{webhookApp(t, "bridge", bridgeNumber, sc.handle)})
			aRelay := startSIPRelay(t, ts.SIPAddr("udp"), false)

			// A: 3 s of silence while B is dialled (slow on a loaded
			// machine), then 6 s of X.
			mic := append(make(codec.PCM16, 3*codec.SampleRate), tone(toneX, 6*time.Second, 8000)...)
			heardA, logsA := runBaresip(t, bin, baresipCall{Dial: "sip:" + bridgeNumber + "@" + aRelay.Addr().String(), Mic: mic})
			heardB, logsB := b.wait(t)
			ts.waitIdle(t)

			if got := typesOf(sc.Events()); len(sc.Events()) < 2 || sc.Events()[1].InvocationEventType != abi.EventActionSuccessful {
				t.Fatalf("events %s, want NEW_INBOUND_CALL then ACTION_SUCCESSFUL (CallAndBridge)", got)
			}
			if !bytes.Contains([]byte(ts.Logs.String()), []byte("legs bridged")) {
				t.Errorf("the server log has no \"legs bridged\" line")
			}
			aY, aX := tonePower(heardA, toneY), tonePower(heardA, toneX)
			bX, bY := tonePower(heardB, toneX), tonePower(heardB, toneY)
			t.Logf("A heard %.1f s: Y %.3f, X %.3f; B heard %.1f s: X %.3f, Y %.3f",
				float64(len(heardA))/codec.SampleRate, aY, aX, float64(len(heardB))/codec.SampleRate, bX, bY)
			if aY < 0.5 || aX > 0.05 {
				t.Errorf("A heard Y %.3f (want ≥ 0.5) and its own X %.3f (want ≤ 0.05)\nA log:\n%s", aY, aX, tail(logsA, 2000))
			}
			if bX < 0.5 || bY > 0.05 {
				t.Errorf("B heard X %.3f (want ≥ 0.5) and its own Y %.3f (want ≤ 0.05)\nB log:\n%s", bX, bY, tail(logsB, 2000))
			}
			// B must have heard X for a good part of A's 6 s.
			if d := toneDuration(heardB, toneX); d < 3*time.Second {
				t.Errorf("B heard X for %v, want ≥ 3 s of A's 6 s", d)
			}
		})
	}
}

// toneDuration counts the 20 ms blocks of x dominated by freq.
func toneDuration(x codec.PCM16, freq float64) time.Duration {
	n := 0
	for b := 0; b+codec.FrameSamples <= len(x); b += codec.FrameSamples {
		blk := x[b : b+codec.FrameSamples]
		if dbfs(blk) > -40 && tonePower(blk, freq) > 0.8 {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// baresipCallee is baresip listening on loopback, answering the first
// call at once (answermode=auto).
type baresipCallee struct {
	Addr   netip.AddrPort
	recDir string
	cmd    *exec.Cmd
	out    *endWatcher
	done   chan struct{}
}

// startBaresipCallee starts baresip as calleeBNumber with
// audio_codecs=codecs and mic as its microphone. It quits when its first
// call ends (or after 60 s).
func startBaresipCallee(t testing.TB, bin, codecs string, mic codec.PCM16) *baresipCallee {
	t.Helper()
	return startBaresipCalleeAs(t, bin, calleeBNumber, codecs, mic)
}

// startBaresipCalleeAs is startBaresipCallee answering for number.
func startBaresipCalleeAs(t testing.TB, bin, number, codecs string, mic codec.PCM16) *baresipCallee {
	t.Helper()
	return startBaresipCalleeWith(t, bin, number, "audio_codecs="+codecs, "", mic)
}

// startBaresipCalleeWith is startBaresipCalleeAs with account parameters
// (";"-separated, e.g. "audio_codecs=pcmu;mediaenc=srtp-mand") and extra
// config lines.
func startBaresipCalleeWith(t testing.TB, bin, number, params, extraConfig string, mic codec.PCM16) *baresipCallee {
	t.Helper()
	dir := t.TempDir()
	micPath := filepath.Join(dir, "mic.wav")
	writeWAV(t, micPath, mic)
	recDir := filepath.Join(dir, "rec")
	if err := os.Mkdir(recDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rtp := freePort(t, "udp") &^ 1
	if rtp > 65000 {
		rtp = 52000
	}
	sipPort := freePort(t, "udp")
	conf, err := os.ReadFile(filepath.Join("testdata", "baresip", "config"))
	if err != nil {
		t.Fatal(err)
	}
	conf = bytes.ReplaceAll(conf, []byte("{{SIP_LISTEN}}"), []byte("127.0.0.1:"+strconv.Itoa(sipPort)))
	conf = bytes.ReplaceAll(conf, []byte("{{MIC}}"), []byte(micPath))
	conf = bytes.ReplaceAll(conf, []byte("{{REC_DIR}}"), []byte(recDir))
	conf = bytes.ReplaceAll(conf, []byte("{{RTP_PORTS}}"), []byte(fmt.Sprintf("%d-%d", rtp, rtp+40)))
	conf = append(conf, extraConfig...)
	if err := os.WriteFile(filepath.Join(dir, "config"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	account := "<sip:" + number + "@127.0.0.1>;regint=0;answermode=auto;" + params + "\n"
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-t", "60")
	cmd.Dir = dir
	out := &endWatcher{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("baresip: %v", err)
	}
	c := &baresipCallee{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sipPort)),
		recDir: recDir, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		select {
		case <-out.ended():
			cmd.Process.Signal(syscall.SIGTERM)
		case <-ctx.Done():
		}
	}()
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	time.Sleep(500 * time.Millisecond) // let it bind before we dial
	return c
}

// wait returns what B heard once its call ended.
func (c *baresipCallee) wait(t testing.TB) (codec.PCM16, string) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("baresip B did not end its call\n%s", tail(c.out.String(), 3000))
	}
	output := c.out.String()
	dumps, _ := filepath.Glob(filepath.Join(c.recDir, "*-dec.wav"))
	if len(dumps) != 1 {
		t.Fatalf("baresip B left %d decoded-audio dumps, want 1\n%s", len(dumps), tail(output, 3000))
	}
	heard, _, err := wav.ReadFile(dumps[0])
	if err != nil {
		t.Fatalf("baresip B's recording: %v", err)
	}
	return heard, output
}

// swapVia replaces the sent-by address from with to in the Via headers
// of msg, so that baresip answers through the relay (it sends responses
// to the Via, not to the source) and the server sees its own Via again.
func swapVia(msg []byte, from, to string) []byte {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		return msg
	}
	lines := bytes.Split(head, []byte("\r\n"))
	for i, l := range lines {
		low := bytes.ToLower(l)
		if bytes.HasPrefix(low, []byte("via:")) || bytes.HasPrefix(low, []byte("v:")) {
			lines[i] = bytes.Replace(l, []byte(" "+from), []byte(" "+to), 1)
		}
	}
	out := bytes.Join(lines, []byte("\r\n"))
	out = append(out, "\r\n\r\n"...)
	return append(out, body...)
}

// bothWaysRelay forwards UDP SIP between the server (front) and a
// baresip callee (back), rewriting the SDP of messages in both
// directions to loopback: baresip announces its non-loopback address in
// its answers too.
type bothWaysRelay struct {
	front *net.UDPConn
	back  *net.UDPConn
	mu    sync.Mutex
	peer  *net.UDPAddr
}

func startBothWaysRelay(t testing.TB, target netip.AddrPort) *bothWaysRelay {
	t.Helper()
	front, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")), net.UDPAddrFromAddrPort(target))
	if err != nil {
		front.Close()
		t.Fatal(err)
	}
	r := &bothWaysRelay{front: front, back: back}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.peer = from
			r.mu.Unlock()
			msg := swapVia(buf[:n], from.AddrPort().String(), back.LocalAddr().String())
			back.Write(rewriteSDP(msg, false))
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, err := back.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			r.mu.Lock()
			peer := r.peer
			r.mu.Unlock()
			if peer != nil {
				msg := swapVia(buf[:n], back.LocalAddr().String(), peer.AddrPort().String())
				front.WriteToUDP(rewriteSDP(msg, false), peer)
			}
		}
	}()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		wg.Wait()
	})
	return r
}

func (r *bothWaysRelay) Addr() netip.AddrPort { return r.front.LocalAddr().(*net.UDPAddr).AddrPort() }
