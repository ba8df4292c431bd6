package sip

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
