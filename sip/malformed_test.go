package sip

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawRequest builds a request by hand, the way a broken peer would.
func rawRequest(method, transport, callID, toTag string, extra []string, contentType, body string, contentLength int) string {
	to := "To: <sip:+15550100@127.0.0.1>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	lines := []string{
		method + " sip:+15550100@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/" + transport + " 127.0.0.1:5999;rport;branch=z9hG4bK-" + callID,
		"From: <sip:raw@127.0.0.1>;tag=raw1",
		to,
		"Call-ID: " + callID,
		"CSeq: 1 " + method,
		"Contact: <sip:raw@127.0.0.1:5999>",
		"Max-Forwards: 70",
	}
	lines = append(lines, extra...)
	if contentType != "" {
		lines = append(lines, "Content-Type: "+contentType)
	}
	if contentLength < 0 {
		contentLength = len(body)
	}
	lines = append(lines, "Content-Length: "+strconv.Itoa(contentLength))
	return strings.Join(lines, "\r\n") + "\r\n\r\n" + body
}

var statusLine = regexp.MustCompile(`SIP/2\.0 (\d{3}) `)

// exchange sends msg and returns the status codes received until a final
// one or until the wait ends; closed reports a TCP connection closed by
// the server.
func exchange(t *testing.T, transport string, addr string, msg string) (codes []int, closed bool) {
	t.Helper()
	conn, err := net.Dial(strings.ToLower(transport), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	buf := make([]byte, 65536)
	conn.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	for {
		n, err := conn.Read(buf)
		all.Write(buf[:n])
		codes = codes[:0]
		final := false
		for _, m := range statusLine.FindAllStringSubmatch(all.String(), -1) {
			c, _ := strconv.Atoi(m[1])
			codes = append(codes, c)
			final = final || c >= 200
		}
		if final {
			return codes, false
		}
		if err != nil {
			var ne net.Error
			if ok := asNetErr(err, &ne); ok && ne.Timeout() {
				return codes, false
			}
			return codes, true
		}
	}
}

func asNetErr(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

const goodSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"

func TestMalformed(t *testing.T) {
	huge := "X-Huge: " + strings.Repeat("a", 20000)
	tests := []struct {
		name       string
		transport  string
		msg        string
		wantCodes  string // status codes received, comma separated
		wantClosed bool
	}{
		{name: "garbage over UDP", transport: "UDP", msg: "hello, this is not SIP\r\n\r\n", wantCodes: ""},
		{name: "garbage over TCP", transport: "TCP", msg: "hello, this is not SIP\r\n\r\n", wantCodes: "", wantClosed: true},
		{name: "truncated invite over UDP", transport: "UDP", msg: rawRequest("INVITE", "UDP", "trunc-udp", "", nil, "application/sdp", goodSDP[:20], len(goodSDP)), wantCodes: "400"},
		{name: "truncated headers over UDP", transport: "UDP", msg: strings.SplitAfter(rawRequest("INVITE", "UDP", "trunc-hdr", "", nil, "", "", 0), "Max-Forwards")[0], wantCodes: "400"},
		{name: "truncated invite over TCP waits for the rest", transport: "TCP", msg: rawRequest("INVITE", "TCP", "trunc-tcp", "", nil, "application/sdp", goodSDP[:20], len(goodSDP)), wantCodes: ""},
		{name: "broken sdp over UDP", transport: "UDP", msg: rawRequest("INVITE", "UDP", "badsdp-udp", "", nil, "application/sdp", "v=0\r\nthis is not sdp\r\n", -1), wantCodes: "100,400"},
		{name: "broken sdp over TCP", transport: "TCP", msg: rawRequest("INVITE", "TCP", "badsdp-tcp", "", nil, "application/sdp", "v=0\r\nthis is not sdp\r\n", -1), wantCodes: "100,400"},
		{name: "unsupported body", transport: "UDP", msg: rawRequest("INVITE", "UDP", "text-udp", "", nil, "text/plain", "hello", -1), wantCodes: "100,415"},
		{name: "huge header over UDP", transport: "UDP", msg: rawRequest("INVITE", "UDP", "huge-udp", "", []string{huge}, "application/sdp", goodSDP, -1), wantCodes: "513"},
		{name: "huge header over TCP reaches the handler", transport: "TCP", msg: rawRequest("INVITE", "TCP", "huge-tcp", "", []string{huge}, "application/sdp", goodSDP, -1), wantCodes: "100,486"},
		{name: "bye for unknown dialog", transport: "UDP", msg: rawRequest("BYE", "UDP", "nodialog-1", "abc", nil, "", "", -1), wantCodes: "481"},
		{name: "bye without dialog tag", transport: "TCP", msg: rawRequest("BYE", "TCP", "nodialog-2", "", nil, "", "", -1), wantCodes: "481"},
		{name: "info for unknown dialog", transport: "UDP", msg: rawRequest("INFO", "UDP", "nodialog-3", "abc", nil, "application/dtmf", "5", -1), wantCodes: "481"},
		{name: "required extension", transport: "UDP", msg: rawRequest("INVITE", "UDP", "req-100rel", "", []string{"Require: 100rel"}, "application/sdp", goodSDP, -1), wantCodes: "100,420"},
		{name: "missing call-id", transport: "UDP", msg: strings.Replace(rawRequest("INVITE", "UDP", "nocallid", "", nil, "application/sdp", goodSDP, -1), "Call-ID: nocallid\r\n", "", 1), wantCodes: "100,400"},
		{name: "unsupported method", transport: "UDP", msg: rawRequest("SUBSCRIBE", "UDP", "sub-1", "", nil, "", "", -1), wantCodes: "405"},
	}
	s := startServer(t, HandlerFunc(func(c *Call) {
		if err := c.Reject(486, "Busy Here"); err != nil {
			t.Errorf("Reject: %v", err)
		}
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := s.Addr(tt.transport)
			codes, closed := exchange(t, tt.transport, addr.String(), tt.msg)
			var got []string
			for _, c := range codes {
				got = append(got, strconv.Itoa(c))
			}
			if g := strings.Join(got, ","); g != tt.wantCodes {
				t.Errorf("codes = %q, want %q", g, tt.wantCodes)
			}
			if closed != tt.wantClosed {
				t.Errorf("connection closed = %v, want %v", closed, tt.wantClosed)
			}
		})
	}
	t.Run("a good call still works", func(t *testing.T) {
		for _, transport := range []string{"UDP", "TCP"} {
			addr, _ := s.Addr(transport)
			msg := rawRequest("INVITE", transport, fmt.Sprintf("good-%s", transport), "", nil, "application/sdp", goodSDP, -1)
			codes, _ := exchange(t, transport, addr.String(), msg)
			if len(codes) == 0 || codes[len(codes)-1] != 486 {
				t.Errorf("%s: codes = %v, want a final 486 from the handler", transport, codes)
			}
		}
	})
}
