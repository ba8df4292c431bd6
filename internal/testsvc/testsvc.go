// Package testsvc starts the real services a cluster of media servers
// uses — PostgreSQL, NATS, Kamailio and an S3 server (versitygw) — on
// loopback, with their data in a temporary folder and no container. The
// cluster tests and `make cluster` (cmd/devcluster) use it; the server
// itself never does.
//
// Each service is a child process: Stop ends it gracefully, Kill with
// SIGKILL. The binaries come from Debian's packages (postgresql,
// nats-server, kamailio) and the Go module proxy (versitygw); Find says
// where each one is and how to install it when it is missing.
package testsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrMissing is returned by Find (wrapped with how to install the tool)
// for a binary that is not installed.
var ErrMissing = errors.New("not installed")

// Tools the services need, with how to install each.
var install = map[string]string{
	"postgres":    "apt-get install postgresql",
	"initdb":      "apt-get install postgresql",
	"nats-server": "apt-get install nats-server",
	"kamailio":    "apt-get install kamailio",
	"versitygw":   "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0",
	"sipp":        "apt-get install sip-tester",
}

// Find returns the path of one of the services' binaries: PATH first,
// then where its package puts it (PostgreSQL's versioned folder, $GOBIN,
// ~/go/bin).
func Find(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	var dirs []string
	switch name {
	case "postgres", "initdb", "pg_ctl":
		ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(ms, func(i, j int) bool { return pgVersion(ms[i]) > pgVersion(ms[j]) })
		dirs = ms
	case "kamailio", "nats-server":
		dirs = []string{"/usr/sbin", "/usr/local/sbin"}
	case "versitygw":
		if d := os.Getenv("GOBIN"); d != "" {
			dirs = append(dirs, d)
		}
		if h, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(h, "go", "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	how := install[name]
	if how == "" {
		how = "install it"
	}
	return "", fmt.Errorf("%s %w (%s)", name, ErrMissing, how)
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// FreePort returns a loopback port free for network ("tcp" or "udp") at
// the time of the call.
func FreePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeBothPort returns a loopback port free for both UDP and TCP (SIP
// listens on both).
func FreeBothPort() (int, error) {
	for range 50 {
		p, err := FreePort("udp")
		if err != nil {
			return 0, err
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, errors.New("testsvc: no port free for both udp and tcp")
}

// Process is a running service.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	mu   sync.Mutex
	// stop is the signal that ends it gracefully.
	stop syscall.Signal
}

// start runs cmd with its output going to log (nil: discarded).
func start(name string, cmd *exec.Cmd, log io.Writer, stop syscall.Signal) (*Process, error) {
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a Ctrl-C in the terminal of `make cluster`
	// reaches the supervisor, which stops each service in order.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testsvc: start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{}), stop: stop}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Stop ends the process with its graceful signal and waits up to timeout,
// then kills it.
func (p *Process) Stop(timeout time.Duration) {
	if done, _ := p.Exited(); done {
		return
	}
	_ = p.cmd.Process.Signal(p.stop)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
	}
}

// Kill ends the process with SIGKILL (its whole process group) and waits
// for it.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	<-p.done
}

// waitTCP waits until addr accepts TCP connections, the process exits or
// ctx ends.
func waitTCP(ctx context.Context, p *Process, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if done, perr := p.Exited(); done {
			return fmt.Errorf("testsvc: %s exited before listening on %s: %v", p.Name, addr, perr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testsvc: %s does not listen on %s: %w", p.Name, addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TB is the part of testing.TB that Fail uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Fail ends a test whose service did not start: a missing tool skips it,
// unless CI=true (CI installs everything), and any other error fails it.
func Fail(t TB, err error) {
	t.Helper()
	if errors.Is(err, ErrMissing) && os.Getenv("CI") != "true" {
		t.Skipf("%v", err)
	}
	t.Fatalf("%v", err)
}
