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

func sdpFor(addr string, port int) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", addr, addr, port)
}

// A forged INVITE (its source never sees our 200 OK, so it never ACKs)
// whose SDP names a third party's address must not turn the server into
// a reflector: nothing is sent there before the ACK or a packet from it.
func TestForgedInviteSendsNoMedia(t *testing.T) {
	t.Parallel()
	app := webhookApp(t, "greet", "+15550130", func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"ivr/welcome.wav"}}}`)
		}
		return actions()
	})
	ts := startTestServer(t, nil, []config.Application{app})
	victim, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	vport := victim.LocalAddr().(*net.UDPAddr).Port
	if got := rawSIP(t, ts, invite("forged", sdpFor("127.0.0.1", vport))); got != "SIP/2.0 200 OK" {
		t.Fatalf("answer %q, want the plugin's 200 OK", got)
	}
	victim.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	packets := 0
	buf := make([]byte, 1500)
	for {
		if _, err := victim.Read(buf); err != nil {
			break
		}
		packets++
	}
	if packets > 0 {
		t.Fatalf("the third party got %d packets from an unconfirmed call", packets)
	}
	// Without an ACK the server gives up on the call (64*T1) and frees it.
	ts.waitIdle(t)
	if !strings.Contains(ts.Logs.String(), "no ack") {
		t.Errorf("no log line about the missing ACK:\n%s", ts.Logs)
	}
}

// An SDP that aims media at multicast, broadcast or the server's own UDP
// sockets is refused with 488 before anything is sent there. The port
// number of a TCP listener (the API) is not one of them: a datagram
// cannot reach it, and a peer's RTP may use that number.
func TestMediaAddressRefused(t *testing.T) {
	t.Parallel()
	app := webhookApp(t, "pause", "+15550130", func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":"60000"}}`)
		}
		return actions()
	})
	ts := startTestServer(t, nil, []config.Application{app})
	sipPort := int(ts.SIPAddr("udp").Port())
	_, apiPort, _ := net.SplitHostPort(ts.APIAddr())
	var api int
	fmt.Sscan(apiPort, &api)
	const refused = "SIP/2.0 488 Not Acceptable Here"
	tests := []struct {
		name string
		ip   string
		port int
		want string
	}{
		{name: "multicast", ip: "224.0.0.1", port: 30000, want: refused},
		{name: "broadcast", ip: "255.255.255.255", port: 30000, want: refused},
		{name: "our sip listener", ip: "127.0.0.1", port: sipPort, want: refused},
		{name: "our rtp range", ip: "127.0.0.1", port: ts.Config.RTP.PortMin, want: refused},
		{name: "the port number of our api (tcp)", ip: "127.0.0.1", port: api, want: "SIP/2.0 200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := strings.ReplaceAll(tt.name, " ", "-")
			if got := rawSIP(t, ts, invite(id, sdpFor(tt.ip, tt.port))); got != tt.want {
				t.Fatalf("answer %q, want %q", got, tt.want)
			}
		})
	}
	if !strings.Contains(ts.Logs.String(), "media address refused") {
		t.Errorf("no log line names the refusal:\n%s", ts.Logs)
	}
	ts.waitIdle(t)
}
