package sip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCallFinalResponses(t *testing.T) {
	tests := []struct {
		name      string
		script    func(c *Call) error
		wantCodes string
		wantErr   error
	}{
		{name: "hangup before answer", script: func(c *Call) error { return c.Hangup(context.Background()) }, wantCodes: "100,480"},
		{name: "ringing then reject", script: func(c *Call) error {
			if err := c.Ringing(); err != nil {
				return err
			}
			return c.Reject(486, "Busy Here")
		}, wantCodes: "100,180,486"},
		{name: "bad status is refused", script: func(c *Call) error {
			err := c.Reject(200, "OK")
			if rerr := c.Reject(603, "Decline"); rerr != nil {
				return rerr
			}
			return err
		}, wantCodes: "100,603", wantErr: ErrBadStatus},
		{name: "answer needs a usable address", script: func(c *Call) error {
			err := c.Answer(netip.MustParseAddrPort("0.0.0.0:4000"))
			if rerr := c.Reject(503, "Service Unavailable"); rerr != nil {
				return rerr
			}
			return err
		}, wantCodes: "100,503", wantErr: ErrBadLocalAddr},
		{name: "nothing after the final response", script: func(c *Call) error {
			if err := c.Reject(404, "Not Found"); err != nil {
				return err
			}
			return c.Ringing()
		}, wantCodes: "100,404", wantErr: ErrCallTerminated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errc := make(chan error, 1)
			s := startServer(t, HandlerFunc(func(c *Call) { errc <- tt.script(c) }))
			addr, _ := s.Addr("UDP")
			codes, _ := exchange(t, "UDP", addr.String(), rawRequest("INVITE", "UDP", "final-"+strings.ReplaceAll(tt.name, " ", "-"), "", nil, "application/sdp", goodSDP, -1))
			var got []string
			for _, c := range codes {
				got = append(got, strconv.Itoa(c))
			}
			if g := strings.Join(got, ","); g != tt.wantCodes {
				t.Errorf("codes = %q, want %q", g, tt.wantCodes)
			}
			if err := <-errc; !errors.Is(err, tt.wantErr) {
				t.Errorf("script error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestAnswerWithoutAck checks the 200 OK is retransmitted and that Answer
// gives up with ErrNoAck (and a BYE) when the caller never ACKs.
func TestAnswerWithoutAck(t *testing.T) {
	answered := make(chan error, 1)
	var events []Event
	s := startServerConfig(t, Config{UDP: []string{"127.0.0.1:0"}, Logger: testLogger(t), T1: 10 * time.Millisecond, T2: 40 * time.Millisecond},
		HandlerFunc(func(c *Call) {
			answered <- c.Answer(testRTP)
			for e := range c.Events() {
				events = append(events, e)
			}
			close(answered)
		}))
	addr, _ := s.Addr("UDP")
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(rawRequest("INVITE", "UDP", "noack", "", nil, "application/sdp", goodSDP, -1))); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; !errors.Is(err, ErrNoAck) {
		t.Fatalf("Answer = %v, want ErrNoAck", err)
	}
	<-answered // events drained
	if got := eventTypes(events); got != "terminated" || events[0].Reason != "no-ack" {
		t.Errorf("events = %s %+v, want terminated (no-ack)", got, events)
	}
	var oks, byes int
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		msg := string(buf[:n])
		switch {
		case strings.HasPrefix(msg, "SIP/2.0 200 OK"):
			oks++
		case strings.HasPrefix(msg, "BYE "):
			byes++
		}
	}
	if oks < 3 || byes < 1 {
		t.Errorf("received %d 200 OK and %d BYE, want retransmissions and a BYE", oks, byes)
	}
}
