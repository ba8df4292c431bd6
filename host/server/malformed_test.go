package server

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
)

// rawSIP sends one datagram to the server's UDP listener and returns the
// first line of the answer ("" when none comes within a second).
func rawSIP(t *testing.T, ts *testServer, msg string) string {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ts.SIPAddr("udp")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg = strings.ReplaceAll(msg, "LOCAL", local)
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return ""
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		if !strings.HasPrefix(line, "SIP/2.0 1") { // skip 100 Trying
			return line
		}
	}
}

func invite(callID, body string) string {
	return fmt.Sprintf("INVITE sip:+15550130@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-%s\r\n"+
		"From: <sip:+12065550123@127.0.0.1>;tag=1\r\n"+
		"To: <sip:+15550130@127.0.0.1>\r\n"+
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"+
		"Contact: <sip:caller@LOCAL>\r\n"+
		"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", callID, callID, len(body), body)
}

// TestMalformedSIP: garbage, a truncated INVITE and an INVITE with a
// broken SDP get the right answer (or none for garbage), and a normal call
// works after each.
func TestMalformedSIP(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	app := webhookApp(t, "pause", "+15550130", func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":"60000"}}`)
		}
		return actions()
	})
	ts := startTestServer(t, nil, []config.Application{app})
	full := invite("trunc", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
	tests := []struct {
		name string
		msg  string
		want string // first line of the answer; "" = no answer
	}{
		{name: "garbage", msg: "\x00\x01hello, is this SIP?\r\n\r\n", want: ""},
		{name: "binary noise", msg: strings.Repeat("\xff\xfe\x80", 100), want: ""},
		{name: "truncated INVITE headers", msg: full[:strings.Index(full, "Contact")+12], want: "SIP/2.0 400 Bad Request"},
		{name: "truncated INVITE body", msg: full[:len(full)-20], want: "SIP/2.0 400 Bad Request"},
		{name: "broken SDP", msg: invite("badsdp", "v=0\r\nthis is not an SDP\r\n"), want: "SIP/2.0 400 Bad Request: Malformed SDP"},
		{name: "SDP without audio", msg: invite("noaudio", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n"),
			want: "SIP/2.0 488 Not Acceptable Here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawSIP(t, ts, tt.msg); got != tt.want {
				t.Fatalf("answer %q, want %q", got, tt.want)
			}
			runSipp(t, ts, sippOptions{Scenario: "uac_bye", Service: "+15550130"})
			ts.waitIdle(t)
		})
	}
}
