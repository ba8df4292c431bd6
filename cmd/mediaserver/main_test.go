package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is where the demo's relative paths (plugins/bin/…) resolve.
const repoRoot = "../.."

// buildBinary compiles the command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mediaserver")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestBinaryDemo starts the real binary with the demo configuration on
// free ports, reads its banner, checks that it answers OPTIONS and that
// SIGTERM stops it cleanly.
func TestBinaryDemo(t *testing.T) {
	if _, err := os.Stat(filepath.Join(repoRoot, "plugins", "bin", "ivr-go.wasm")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("plugins/bin/ivr-go.wasm missing (CI=true): run `make plugins`")
		}
		t.Skip("plugins/bin/ivr-go.wasm missing: run `make plugins`; skipping")
	}
	bin := buildBinary(t)
	rtp := freeUDPPort(t) &^ 1
	if rtp > 65000 {
		rtp = 40000
	}
	cmd := exec.Command(bin, "-data", t.TempDir(),
		"-sip-udp", "127.0.0.1:0", "-sip-tcp", "127.0.0.1:0", "-sip-tls", "127.0.0.1:0", "-api", "127.0.0.1:0",
		"-rtp-ports", fmt.Sprintf("%d-%d", rtp, rtp+20), "-log-level", "warn")
	cmd.Dir = repoRoot
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The banner, up to the last line (the demo number).
	var banner []string
	timeout := time.After(60 * time.Second) // a cold compile of the Go plugin takes seconds
	for len(banner) == 0 || !strings.HasPrefix(strings.TrimSpace(banner[len(banner)-1]), "number") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("mediaserver exited early; stdout:\n%s\nstderr:\n%s", strings.Join(banner, "\n"), stderr.String())
			}
			banner = append(banner, l)
		case <-timeout:
			t.Fatalf("no banner; stdout so far:\n%s\nstderr:\n%s", strings.Join(banner, "\n"), stderr.String())
		}
	}
	text := strings.Join(banner, "\n")
	for _, re := range []string{
		`(?m)^mediaserver: ready$`,
		`(?m)^  SIP UDP   127\.0\.0\.1:[1-9][0-9]*$`,
		`(?m)^  SIP TCP   127\.0\.0\.1:[1-9][0-9]*$`,
		`(?m)^  SIP TLS   127\.0\.0\.1:[1-9][0-9]* \(certificate \S+/tls/cert\.pem; SRTP optional\)$`,
		`(?m)^  HTTP API  http://127\.0\.0\.1:[1-9][0-9]* `,
		fmt.Sprintf(`(?m)^  RTP       127\.0\.0\.1 ports %d-%d$`, rtp, rtp+20),
		`(?m)^  admin key \S+/admin-api-key `,
		`(?m)^  demo key  \S+/demo-api-key \(Bearer\), \S+/demo-aws-credentials \(AWS CLI and SDKs\)$`,
		`(?m)^  try       curl -H "Authorization: Bearer \$\(cat \S+/demo-api-key\)" http://127\.0\.0\.1:[1-9][0-9]*/calls$`,
		`(?m)^  number    \+15550100 -> tenant demo, app demo-ivr, plugin plugins/bin/ivr-go\.wasm \(call sip:\+15550100@127\.0\.0\.1:[1-9][0-9]*\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("banner does not match %s:\n%s", re, text)
		}
	}
	if strings.Contains(text, "msk_") {
		t.Errorf("the banner shows a key:\n%s", text)
	}
	udp := regexp.MustCompile(`SIP UDP   (\S+)`).FindStringSubmatch(text)
	if udp == nil {
		t.Fatal("no SIP UDP address in the banner")
	}
	if got := sipOptions(t, udp[1]); got != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS answered %q, want 200 OK", got)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20 s after SIGTERM")
	}
	if got := strings.Join(rest, "\n"); !strings.Contains(got, "mediaserver: stopped") {
		t.Fatalf("after SIGTERM stdout = %q, want the stopped line", got)
	}
}

// sipOptions sends a SIP OPTIONS over UDP and returns the status line.
func sipOptions(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-opt1\r\n" +
		"From: <sip:probe@" + local + ">;tag=p1\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: probe-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to OPTIONS: %v", err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

// TestRunFlags covers the command line without starting a server.
func TestRunFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "Without -config it runs the demo"},
		{name: "unknown flag", args: []string{"-nope"}, wantCode: 2, wantErr: "flag provided but not defined: -nope"},
		{name: "stray argument", args: []string{"extra"}, wantCode: 2, wantErr: `unexpected argument "extra"`},
		{name: "bad log format", args: []string{"-log-format", "xml"}, wantCode: 2, wantErr: `-log-format "xml": want text or json`},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantCode: 2, wantErr: `-log-level "loud"`},
		{name: "bad rtp range", args: []string{"-rtp-ports", "20000"}, wantCode: 2, wantErr: `-rtp-ports "20000": want MIN-MAX`},
		{name: "inverted rtp range", args: []string{"-rtp-ports", "30000-20000"}, wantCode: 2, wantErr: "port range 30000-20000"},
		{name: "missing config file", args: []string{"-config", "does-not-exist.toml"}, wantCode: 2, wantErr: "does-not-exist.toml"},
		{name: "demo without plugin", args: []string{"-data", "d", "-sip-udp", "127.0.0.1:0", "-sip-tcp", "none", "-api", "none"},
			wantCode: 1, wantErr: "run `make plugins`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.wantErr, stderr.String())
			}
		})
	}
}
