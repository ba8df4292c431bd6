package sip

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// startSippUAS starts sipp as a UAS for one call of scenario and returns
// its port and a function that fails the test unless sipp exits 0.
func startSippUAS(t *testing.T, scenario, transport string) (int, func()) {
	t.Helper()
	bin := requireTool(t, "sipp")
	dir := t.TempDir()
	port := freePort(t, map[string]string{"UDP": "udp", "TCP": "tcp"}[transport])
	args := []string{"-sf", filepath.Join("testdata", "sipp", scenario+".xml"),
		"-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t, "udp")),
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log")}
	if transport == "TCP" {
		args = append(args, "-t", "t1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	// sipp needs a moment to bind; the INVITE is retransmitted anyway.
	time.Sleep(200 * time.Millisecond)
	return port, func() {
		t.Helper()
		if err := cmd.Wait(); err != nil {
			errs, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			msgs, _ := os.ReadFile(filepath.Join(dir, "msg.log"))
			t.Fatalf("sipp %s: %v\n%s\nerrors:\n%s\nmessages:\n%s", scenario, err, out.String(), errs, msgs)
		}
	}
}

func drain(c *Call) []Event {
	var evs []Event
	for e := range c.Events() {
		evs = append(evs, e)
	}
	return evs
}

func TestDial(t *testing.T) {
	tests := []struct {
		name       string
		scenario   string
		transport  string
		cancelOn   int // cancel ctx when this provisional arrives
		after      func(c *Call) error
		wantErr    error
		wantCode   int
		wantEvents string
		user       string
		password   string
		noProgress bool
	}{
		{name: "answered, we hang up", scenario: "uas_answer", transport: "UDP",
			after: func(c *Call) error { return c.Hangup(context.Background()) }, wantEvents: "terminated"},
		{name: "answered over TCP, we hang up", scenario: "uas_answer", transport: "TCP",
			after: func(c *Call) error { return c.Hangup(context.Background()) }, wantEvents: "terminated"},
		{name: "answered, remote hangs up", scenario: "uas_bye", transport: "UDP", wantEvents: "bye,terminated"},
		{name: "digest auth", scenario: "uas_auth", transport: "UDP", user: "alice", password: "s3cret",
			after: func(c *Call) error { return c.Hangup(context.Background()) }, wantEvents: "terminated", noProgress: true},
		{name: "rejected", scenario: "uas_reject", transport: "UDP", wantCode: 486},
		{name: "canceled while ringing", scenario: "uas_cancel", transport: "UDP", cancelOn: 180, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, HandlerFunc(func(c *Call) { c.Reject(500, "unexpected") }))
			port, wait := startSippUAS(t, tt.scenario, tt.transport)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var progress []int
			c, err := s.Dial(ctx, DialParams{
				Target:    "sip:+15550100@127.0.0.1:" + strconv.Itoa(port),
				Transport: tt.transport, From: "+15550199", FromDisplay: "Test",
				Headers: map[string]string{"X-Call-Reason": "test"},
				Local:   testRTP, Username: tt.user, Password: tt.password,
				Progress: func(code int) {
					progress = append(progress, code)
					if code == tt.cancelOn {
						cancel()
					}
				},
			})
			var se *StatusError
			switch {
			case tt.wantCode != 0:
				if !errors.As(err, &se) || se.Code != tt.wantCode {
					t.Fatalf("Dial error = %v, want status %d", err, tt.wantCode)
				}
			case !errors.Is(err, tt.wantErr):
				t.Fatalf("Dial error = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if c.Remote.Codec != pcma || c.Remote.DTMFPayloadType != 101 {
					t.Errorf("Remote = %+v, want PCMA with telephone-event 101", c.Remote)
				}
				if !tt.noProgress && (len(progress) != 1 || progress[0] != 180) {
					t.Errorf("progress = %v, want [180]", progress)
				}
				if tt.after != nil {
					if err := tt.after(c); err != nil {
						t.Errorf("after: %v", err)
					}
				}
				if got := eventTypes(drain(c)); got != tt.wantEvents {
					t.Errorf("events = %s, want %s", got, tt.wantEvents)
				}
			}
			wait()
		})
	}
}
