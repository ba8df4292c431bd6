package sip

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkCallsPerSecond sets up and tears down calls from sipp (INVITE,
// 200, ACK, BYE) against a handler that answers and waits for the BYE.
// One iteration is one sipp run of benchCalls calls; run it with
//
//	go test -run '^$' -bench CallsPerSecond -benchtime 1x ./sip/
func BenchmarkCallsPerSecond(b *testing.B) {
	const benchCalls = 2000
	bin := requireTool(b, "sipp")
	s, err := NewServer(Config{UDP: []string{"127.0.0.1:0"}}, HandlerFunc(func(c *Call) {
		if err := c.Answer(testRTP); err != nil {
			return
		}
		for range c.Events() {
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	addr, _ := s.Addr("UDP")
	dir := b.TempDir()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, addr.String(),
			"-sf", filepath.Join("testdata", "sipp", "uac_bench.xml"),
			"-m", strconv.Itoa(benchCalls), "-r", "10000", "-l", "200",
			"-timeout", "60s", "-timeout_error",
			"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(b, "udp")),
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(b, "udp")),
			"-s", "+15550100", "-nostdin",
			"-trace_err", "-error_file", filepath.Join(dir, "err.log"))
		if out, err := cmd.CombinedOutput(); err != nil {
			errs, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			b.Fatalf("sipp: %v\n%s\n%s", err, errs, tail(out, 2000))
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(benchCalls*b.N)/elapsed.Seconds(), "calls/s")
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// BenchmarkCallSetup is one call set up and torn down between two of our
// servers (INVITE, 100, 200, ACK, then BYE, 200) over UDP, TCP and TLS,
// side by side in one run. "reused" keeps the caller's connection between
// calls (what a trunk does); "new-connection" dials from a new caller
// each time, so a TCP or TLS call pays the connection (and the TLS
// handshake, ECDSA P-256) too; UDP new-connection is the baseline of
// making a caller. TLS rows also offer and answer SRTP (mandatory), so
// they include the SDES key generation.
//
//	go test -run '^$' -bench CallSetup -benchtime 200x ./sip/
func BenchmarkCallSetup(b *testing.B) {
	srvTLS, cliTLS := tlsPair(b)
	callee, err := NewServer(Config{
		UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"}, TLS: []string{"127.0.0.1:0"}, TLSConfig: srvTLS,
		SRTP: map[string]SRTPPolicy{"TLS": SRTPMandatory}, SourceInviteRate: -1,
		MaxTCPConnsPerIP: 100000,
	}, HandlerFunc(func(c *Call) {
		if err := c.Answer(testRTP); err != nil {
			return
		}
		for range c.Events() {
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go callee.ListenAndServe(ctx)
	newCaller := func() (*Server, context.CancelFunc) {
		c, err := NewServer(Config{UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"}, TLS: []string{"127.0.0.1:0"},
			TLSConfig: srvTLS, TLSClientConfig: cliTLS}, HandlerFunc(func(c *Call) { c.Reject(603, "") }))
		if err != nil {
			b.Fatal(err)
		}
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { c.ListenAndServe(cctx); close(done) }()
		return c, func() { ccancel(); <-done }
	}
	call := func(b *testing.B, caller *Server, transport string) {
		addr, _ := callee.Addr(transport)
		p := DialParams{Target: "sip:+15550100@" + addr.String(), Transport: transport, Local: testRTP}
		if transport == "TLS" {
			p.SRTP = SRTPMandatory
		}
		dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
		defer dcancel()
		c, err := caller.Dial(dctx, p)
		if err != nil {
			b.Fatalf("Dial over %s: %v", transport, err)
		}
		if err := c.Hangup(dctx); err != nil {
			b.Fatalf("Hangup over %s: %v", transport, err)
		}
		for range c.Events() {
		}
	}
	for _, transport := range []string{"UDP", "TCP", "TLS"} {
		b.Run(strings.ToLower(transport)+"/reused", func(b *testing.B) {
			caller, stop := newCaller()
			defer stop()
			call(b, caller, transport) // opens the connection
			b.ResetTimer()
			for b.Loop() {
				call(b, caller, transport)
			}
		})
		b.Run(strings.ToLower(transport)+"/new-connection", func(b *testing.B) {
			for b.Loop() {
				caller, stop := newCaller()
				call(b, caller, transport)
				stop()
			}
		})
	}
}
