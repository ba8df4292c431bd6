package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testRTP is the RTP address test handlers answer with.
var testRTP = netip.MustParseAddrPort("127.0.0.1:40000")

// requireTool finds an external tool: a missing one fails under CI=true.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true): %v", name, err)
		}
		t.Skipf("%s not installed (Debian package sip-tester); skipping", name)
	}
	return p
}

func freePort(t testing.TB, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// testLogger writes server logs into the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func startServer(t testing.TB, h Handler) *Server {
	t.Helper()
	return startServerConfig(t, Config{
		UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"},
		Logger: testLogger(t), T1: 100 * time.Millisecond, T2: 400 * time.Millisecond,
	}, h)
}

func startServerConfig(t testing.TB, cfg Config, h Handler) *Server {
	t.Helper()
	s, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	return s
}

// runSipp runs one sipp call of scenario against s over transport and
// fails the test unless sipp exits 0. It returns sipp's message trace.
func runSipp(t testing.TB, s *Server, scenario, transport string, extra ...string) string {
	t.Helper()
	bin := requireTool(t, "sipp")
	network := strings.ToLower(transport)
	addr, ok := s.Addr(transport)
	if !ok {
		t.Fatalf("no %s listener", transport)
	}
	dir := t.TempDir()
	local := "127.0.0.1"
	if addr.Addr().Is6() {
		local = "::1"
	}
	args := []string{addr.String(),
		"-sf", filepath.Join("testdata", "sipp", scenario+".xml"),
		"-m", "1", "-timeout", "20s", "-timeout_error",
		"-i", local, "-p", strconv.Itoa(freePort(t, network)),
		"-mi", local, "-mp", strconv.Itoa(freePort(t, "udp")),
		"-s", "+15550100", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log"),
	}
	if network == "tcp" {
		args = append(args, "-t", "t1")
	}
	args = append(args, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	msgs, _ := os.ReadFile(filepath.Join(dir, "msg.log"))
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "err.log"))
		t.Fatalf("sipp %s over %s: %v\nerrors:\n%s\nmessages:\n%s", scenario, transport, err, errs, msgs)
	}
	return string(msgs)
}

// recorder is a test Handler: it runs script on each call and records the
// call and its events.
type recorder struct {
	script func(c *Call, events <-chan Event) error
	mu     sync.Mutex
	calls  []*Call
	done   chan callResult
}

type callResult struct {
	call   *Call
	events []Event
	err    error
}

func newRecorder(script func(c *Call, events <-chan Event) error) *recorder {
	return &recorder{script: script, done: make(chan callResult, 16)}
}

func (r *recorder) HandleCall(c *Call) {
	// Fan the events out: the script may consume some; all are recorded.
	tee := make(chan Event, 64)
	var evs []Event
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		defer close(tee)
		for e := range c.Events() {
			evs = append(evs, e)
			tee <- e
		}
	}()
	err := r.script(c, tee)
	for range tee {
	}
	<-collected
	r.done <- callResult{call: c, events: evs, err: err}
}

func (r *recorder) wait(t testing.TB) callResult {
	t.Helper()
	select {
	case res := <-r.done:
		return res
	case <-time.After(30 * time.Second):
		t.Fatal("no call finished")
		return callResult{}
	}
}

func answer(c *Call, _ <-chan Event) error {
	if err := c.Ringing(); err != nil {
		return err
	}
	return c.Answer(testRTP)
}

func eventTypes(evs []Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type.String())
	}
	return strings.Join(s, ",")
}

// countReceived counts the messages in a sipp message trace that sipp
// received, start with first and contain want.
func countReceived(trace, first, want string) int {
	n := 0
	for _, chunk := range strings.Split(trace, "message received")[1:] {
		_, msg, _ := strings.Cut(chunk, "\n\n")
		if strings.HasPrefix(strings.TrimSpace(msg), first) && strings.Contains(msg, want) {
			n++
		}
	}
	return n
}

func TestSippCalls(t *testing.T) {
	requireTool(t, "sipp")
	tests := []struct {
		name       string
		scenario   string
		transport  string
		script     func(c *Call, events <-chan Event) error
		wantErr    error
		wantEvents string
		check      func(t *testing.T, res callResult, trace string)
	}{
		{
			name: "basic call over UDP", scenario: "uac_basic", transport: "UDP", script: answer,
			wantEvents: "ack,bye,terminated",
			check: func(t *testing.T, res callResult, _ string) {
				c := res.call
				want := Media{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), c.Remote.Addr.Port()),
					Codec: Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}, DTMFPayloadType: 101, Direction: SendRecv, PTime: 20}
				if c.Remote != want {
					t.Errorf("Remote = %+v, want %+v", c.Remote, want)
				}
				if c.Headers["x-tenant"] != "demo" || c.Headers["user-to-user"] != "00112233;encoding=hex" {
					t.Errorf("Headers = %v", c.Headers)
				}
				if c.To.User != "+15550100" || c.RequestUser != "+15550100" || c.From.User != "sipp" || c.Transport != "UDP" {
					t.Errorf("parties: from %+v to %+v ruri %q transport %q", c.From, c.To, c.RequestUser, c.Transport)
				}
				if got := res.events[len(res.events)-1].Reason; got != "bye" {
					t.Errorf("terminated reason = %q, want bye", got)
				}
			},
		},
		{name: "basic call over TCP", scenario: "uac_basic", transport: "TCP", script: answer, wantEvents: "ack,bye,terminated"},
		{
			name: "server hangs up", scenario: "uac_server_hangup", transport: "UDP",
			script: func(c *Call, _ <-chan Event) error {
				if err := c.Answer(testRTP); err != nil {
					return err
				}
				return c.Hangup(context.Background())
			},
			wantEvents: "ack,terminated",
		},
		{
			name: "server hangs up over TCP", scenario: "uac_server_hangup", transport: "TCP",
			script: func(c *Call, _ <-chan Event) error {
				if err := c.Answer(testRTP); err != nil {
					return err
				}
				return c.Hangup(context.Background())
			},
			wantEvents: "ack,terminated",
		},
		{
			name: "cancel before answer", scenario: "uac_cancel", transport: "UDP",
			script: func(c *Call, events <-chan Event) error {
				if err := c.Ringing(); err != nil {
					return err
				}
				for e := range events {
					if e.Type == EventTerminated {
						break
					}
				}
				return c.Answer(testRTP)
			},
			wantErr: ErrCallCanceled, wantEvents: "cancel,terminated",
		},
		{
			name: "hold and unhold", scenario: "uac_hold", transport: "UDP", script: answer,
			wantEvents: "ack,reinvite,reinvite,bye,terminated",
			check: func(t *testing.T, res callResult, _ string) {
				if m := res.events[1].Media; m.Direction != SendOnly || !m.OnHold() {
					t.Errorf("hold media = %+v", m)
				}
				if m := res.events[2].Media; m.Direction != SendRecv || m.OnHold() {
					t.Errorf("unhold media = %+v", m)
				}
			},
		},
		{
			name: "info dtmf", scenario: "uac_info", transport: "UDP", script: answer,
			wantEvents: "ack,dtmf,dtmf,bye,terminated",
			check: func(t *testing.T, res callResult, _ string) {
				want := []DTMF{{Digit: '5', Duration: 160 * time.Millisecond}, {Digit: '#'}}
				for i, w := range want {
					if got := res.events[1+i].DTMF; got != w {
						t.Errorf("dtmf %d = %+v, want %+v", i, got, w)
					}
				}
			},
		},
		{
			name: "offerless invite takes the answer from the ack", scenario: "uac_offerless", transport: "UDP", script: answer,
			wantEvents: "ack,bye,terminated",
			check: func(t *testing.T, res callResult, _ string) {
				if res.call.Remote.Addr.IsValid() {
					t.Errorf("Remote of an offerless call = %+v, want empty", res.call.Remote)
				}
				m := res.events[0].Media
				if m.Codec != pcma || m.DTMFPayloadType != 101 || m.Addr.Addr() != netip.MustParseAddr("127.0.0.1") {
					t.Errorf("ack media = %+v", m)
				}
			},
		},
		{
			name: "re-invite new address, update, glare", scenario: "uac_reinvite_update", transport: "UDP", script: answer,
			wantEvents: "ack,reinvite,reinvite,reinvite,bye,terminated",
			check: func(t *testing.T, res callResult, _ string) {
				if m := res.events[1].Media; m.Addr != netip.MustParseAddrPort("127.0.0.2:7000") || m.OnHold() {
					t.Errorf("new address media = %+v", m)
				}
				if m := res.events[2].Media; m.Direction != Inactive || !m.OnHold() {
					t.Errorf("update media = %+v", m)
				}
				if m := res.events[3].Media; m.Direction != SendRecv || m.Addr.Addr() != netip.MustParseAddr("127.0.0.1") {
					t.Errorf("back media = %+v", m)
				}
			},
		},
		{
			name: "re-invite over TCP", scenario: "uac_hold", transport: "TCP", script: answer,
			wantEvents: "ack,reinvite,reinvite,bye,terminated",
		},
		{
			name: "200 retransmitted until ack", scenario: "uac_retransmit", transport: "UDP", script: answer,
			wantEvents: "ack,bye,terminated",
			check: func(t *testing.T, _ callResult, trace string) {
				if n := countReceived(trace, "SIP/2.0 200 OK", "CSeq: 1 INVITE"); n < 2 {
					t.Errorf("sipp received the INVITE's 200 OK %d times, want retransmissions\n%s", n, trace)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(tt.script)
			s := startServer(t, rec)
			trace := runSipp(t, s, tt.scenario, tt.transport)
			res := rec.wait(t)
			if !errors.Is(res.err, tt.wantErr) {
				t.Errorf("script error = %v, want %v", res.err, tt.wantErr)
			}
			if got := eventTypes(res.events); got != tt.wantEvents {
				t.Errorf("events = %s, want %s", got, tt.wantEvents)
			}
			if tt.check != nil {
				tt.check(t, res, trace)
			}
		})
	}
}

func TestSippIPv6(t *testing.T) {
	requireTool(t, "sipp")
	if c, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		c.Close()
	}
	for _, transport := range []string{"UDP", "TCP"} {
		t.Run(transport, func(t *testing.T) {
			rec := newRecorder(func(c *Call, _ <-chan Event) error { return c.Answer(netip.MustParseAddrPort("[::1]:40000")) })
			s := startServerConfig(t, Config{UDP: []string{"[::1]:0"}, TCP: []string{"[::1]:0"}, Logger: testLogger(t), T1: 100 * time.Millisecond}, rec)
			runSipp(t, s, "uac_server_hangup_ipv6", transport)
			res := rec.wait(t)
			if res.err != nil {
				t.Errorf("script: %v", res.err)
			}
			if got := eventTypes(res.events); got != "ack,bye,terminated" {
				t.Errorf("events = %s", got)
			}
			if a := res.call.Remote.Addr.Addr(); a != netip.MustParseAddr("::1") {
				t.Errorf("remote media address = %v, want ::1", a)
			}
		})
	}
}

func TestSippNoHandlerCall(t *testing.T) {
	tests := []struct {
		name      string
		scenario  string
		transport string
	}{
		{name: "codec mismatch gets 488", scenario: "uac_488", transport: "UDP"},
		{name: "options over UDP", scenario: "options", transport: "UDP"},
		{name: "options over TCP", scenario: "options", transport: "TCP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := make(chan struct{}, 1)
			s := startServer(t, HandlerFunc(func(c *Call) { called <- struct{}{}; c.Reject(500, "unexpected") }))
			runSipp(t, s, tt.scenario, tt.transport)
			select {
			case <-called:
				t.Error("handler called")
			default:
			}
		})
	}
}

func ExampleServer() {
	s, err := NewServer(Config{UDP: []string{"127.0.0.1:0"}}, HandlerFunc(func(c *Call) {
		if err := c.Answer(netip.MustParseAddrPort("127.0.0.1:40000")); err != nil {
			return
		}
		for e := range c.Events() {
			if e.Type == EventTerminated {
				return
			}
		}
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(s.ListenAndServe(ctx))
	// Output: <nil>
}
