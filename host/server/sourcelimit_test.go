package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// sendInvite sends one INVITE from a UDP socket bound to localIP and
// returns the status line and Retry-After of the final answer.
func sendInvite(t *testing.T, ts *testServer, localIP, callID, from string) (status, retryAfter string) {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(localIP)}, net.UDPAddrFromAddrPort(ts.SIPAddr("udp")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := strings.ReplaceAll(invite(callID, sdpFor(localIP, 40000)), "LOCAL", c.LocalAddr().String())
	msg = strings.Replace(msg, "From: <sip:+12065550123@", "From: <sip:"+from+"@", 1)
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return "", ""
		}
		head, _, _ := strings.Cut(string(buf[:n]), "\r\n\r\n")
		lines := strings.Split(head, "\r\n")
		if strings.HasPrefix(lines[0], "SIP/2.0 1") {
			continue
		}
		for _, l := range lines[1:] {
			if v, ok := strings.CutPrefix(l, "Retry-After: "); ok {
				retryAfter = v
			}
		}
		return lines[0], retryAfter
	}
}

// One source flooding INVITEs is held to its own rate, so it cannot use
// up the tenant's call-rate quota: a caller from another address still
// gets through.
func TestSourceInviteRate(t *testing.T) {
	t.Parallel()
	app := webhookApp(t, "flood", "+15550130", func(ev *abi.Event) string {
		if ev.InvocationEventType != abi.EventNewInboundCall {
			return actions()
		}
		if ev.CallDetails.Participants[0].From == "+12065550199" {
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"486"}}`) // the legitimate caller, answered by a final code
		}
		return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"480"}}`)
	})
	cfg := testConfig(t)
	cfg.SIP.Trusted = nil // loopback is not trusted here
	cfg.SIP.SourceInviteRate = 2
	ts := startTestServer(t, cfg, []config.Application{app},
		WithDefaultQuotas(tenant.Quotas{MaxCallsPerSecond: 10}))
	bySource := 0
	for i := range 30 {
		status, retry := sendInvite(t, ts, "127.0.0.1", fmt.Sprintf("flood-%d", i), "+12065550123")
		if status == "SIP/2.0 503 Service Unavailable" && retry != "" {
			bySource++
		}
	}
	if bySource < 20 {
		t.Fatalf("%d of 30 flood INVITEs refused with 503 and Retry-After, want most", bySource)
	}
	if !strings.Contains(ts.Logs.String(), "source over its rate") {
		t.Errorf("no log line about the refused source")
	}
	// The tenant's own quota (10/s) still has room for someone else.
	if status, _ := sendInvite(t, ts, "127.0.0.2", "legit", "+12065550199"); status != "SIP/2.0 486 Busy Here" {
		t.Fatalf("the other caller got %q, want the plugin's 486", status)
	}
	ts.waitIdle(t)
}

// A TCP connection that sends nothing is closed after the idle timeout;
// one that carries a call stays open through a quiet call.
func TestSIPTCPIdleTimeout(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	cfg := testConfig(t)
	cfg.SIP.TCPIdleTimeout = config.Duration{Duration: 200 * time.Millisecond}
	ts := startTestServer(t, cfg, []config.Application{demoApp(t, config.DemoNumber)})
	c, err := net.Dial("tcp", ts.SIPAddr("tcp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
	// uac_bye holds the call 1.5 s without SIP traffic, then sends BYE on
	// the same connection.
	runSipp(t, ts, sippOptions{Scenario: "uac_bye", Transport: "tcp"})
	ts.waitIdle(t)
}

// One source cannot hold more than its share of SIP TCP connections.
func TestSIPTCPConnectionsPerIP(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.SIP.Trusted = nil
	cfg.SIP.MaxTCPConnectionsPerIP = 3
	ts := startTestServer(t, cfg, nil)
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	closedByServer := 0
	for range 5 {
		c, err := net.Dial("tcp", ts.SIPAddr("tcp").String())
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
		// OPTIONS answers on a kept connection; a refused one reads EOF.
		fmt.Fprintf(c, "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-%p\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: %p\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			c.LocalAddr(), c, c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		switch {
		case err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200"):
		case err != nil && !errors.Is(err, os.ErrDeadlineExceeded):
			closedByServer++
		default:
			t.Fatalf("unexpected answer %q %v", buf[:n], err)
		}
	}
	if closedByServer != 2 {
		t.Fatalf("%d of 5 connections refused, want 2 over the limit of 3", closedByServer)
	}
}

// The API drops a client that connects and sends nothing, and one source
// cannot hold more than its share of connections.
func TestAPIConnectionLimits(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.API.MaxConnectionsPerIP = 2
	ts := startTestServer(t, cfg, nil, WithAPITimeouts(300*time.Millisecond, 0, 0, 300*time.Millisecond))
	addr := ts.APIAddr()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("a third connection from one IP: %v, want EOF", err)
	}
	// The silent one is dropped after the header timeout (net/http may
	// first answer 408).
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(silent); err != nil {
		t.Fatalf("silent connection: %v, want it closed", err)
	}
	// With both closed, the source gets a slot again.
	second.Close()
	silent.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot after closing: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A tenant holding its share of the RTP ports gets no more, while another
// tenant's call is still answered.
func TestTenantRTPShare(t *testing.T) {
	t.Parallel()
	pause := func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":"60000"}}`)
		}
		return actions()
	}
	cfg := testConfig(t)
	cfg.SIP.Trusted = []string{"127.0.0.0/8"}
	cfg.RTP.TenantShare = 0.01 // 2 of the test range's 200 ports
	cfg.Tenants = append(cfg.Tenants, config.Tenant{ID: "other", Applications: []config.Application{webhookApp(t, "other-app", "+15550131", pause)}})
	ts := startTestServer(t, cfg, []config.Application{webhookApp(t, "greedy", "+15550130", pause)})
	for i := range 2 {
		if got := rawSIP(t, ts, invite(fmt.Sprintf("greedy-%d", i), sdpFor("127.0.0.1", 40000+2*i))); got != "SIP/2.0 200 OK" {
			t.Fatalf("call %d within the share: %q", i, got)
		}
	}
	if got := rawSIP(t, ts, invite("greedy-2", sdpFor("127.0.0.1", 40004))); got != "SIP/2.0 480 Temporarily Unavailable" {
		t.Fatalf("a call over the tenant's share: %q, want 480", got)
	}
	other := strings.ReplaceAll(invite("other-0", sdpFor("127.0.0.1", 40006)), "+15550130", "+15550131")
	if got := rawSIP(t, ts, other); got != "SIP/2.0 200 OK" {
		t.Fatalf("the other tenant's call: %q, want 200", got)
	}
	// The engine logs the refusal right after the 480 went out.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(ts.Logs.String(), "rtp port share used up"); {
		if time.Now().After(deadline) {
			t.Errorf("no log line names the share")
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.waitIdle(t) // the unacknowledged calls end after 64*T1
}
