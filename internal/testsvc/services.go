package testsvc

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NATS is a NATS server on loopback.
type NATS struct {
	*Process
	Port int
}

// URL is the client URL.
func (n *NATS) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// StartNATS starts nats-server (Debian's package) on loopback port port
// (0 = a free one).
func StartNATS(ctx context.Context, port int, log io.Writer) (*NATS, error) {
	bin, err := Find("nats-server")
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = FreePort("tcp"); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	p, err := start("nats-server", cmd, log, syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitTCP(wctx, p, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
		p.Kill()
		return nil, err
	}
	return &NATS{Process: p, Port: port}, nil
}

// S3 is versitygw serving a folder as S3 on loopback.
type S3 struct {
	*Process
	Addr, Access, Secret string
}

// StartS3 starts versitygw over dir with the given credentials.
func StartS3(ctx context.Context, dir, access, secret string, log io.Writer) (*S3, error) {
	bin, err := Find("versitygw")
	if err != nil {
		return nil, err
	}
	port, err := FreePort("tcp")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "posix", dir)
	p, err := start("versitygw", cmd, log, syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitTCP(wctx, p, addr); err != nil {
		p.Kill()
		return nil, err
	}
	return &S3{Process: p, Addr: addr, Access: access, Secret: secret}, nil
}

// Kamailio is Kamailio running the repository's dispatcher configuration
// (deploy/kamailio/kamailio.cfg) in front of some media server nodes.
type Kamailio struct {
	*Process
	// Addr is where callers send their INVITEs (UDP and TCP).
	Addr string
	Dir  string
}

// KamailioConfig is what the shipped configuration is given on its
// command line.
type KamailioConfig struct {
	// Config is the path of kamailio.cfg.
	Config string
	// Port is the SIP port on 127.0.0.1 (0 = a free one).
	Port int
	// Nodes are the media servers' SIP addresses (host:port).
	Nodes []string
	// ProbeInterval is the dispatcher's OPTIONS interval (default 1 s).
	ProbeInterval time.Duration
	// Dir holds the dispatcher list and the pid file ("" = a new
	// temporary folder).
	Dir string
}

// StartKamailio writes the dispatcher list and starts Kamailio in the
// foreground, logging to log.
func StartKamailio(ctx context.Context, kc KamailioConfig, log io.Writer) (*Kamailio, error) {
	bin, err := Find("kamailio")
	if err != nil {
		return nil, err
	}
	if kc.Dir == "" {
		if kc.Dir, err = os.MkdirTemp("", "kamailio-"); err != nil {
			return nil, err
		}
	}
	if kc.Port == 0 {
		if kc.Port, err = FreeBothPort(); err != nil {
			return nil, err
		}
	}
	if kc.ProbeInterval <= 0 {
		kc.ProbeInterval = time.Second
	}
	list := filepath.Join(kc.Dir, "dispatcher.list")
	if err := os.WriteFile(list, []byte(DispatcherList(kc.Nodes)), 0o644); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(kc.Port))
	cmd := exec.Command(bin, KamailioArgs(kc.Config, addr, list, kc.ProbeInterval, filepath.Join(kc.Dir, "kamailio.pid"))...)
	p, err := start("kamailio", cmd, log, syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitTCP(wctx, p, addr); err != nil {
		p.Kill()
		return nil, err
	}
	return &Kamailio{Process: p, Addr: addr, Dir: kc.Dir}, nil
}

// DispatcherList is the dispatcher module's list file: set 1, one line
// per node.
func DispatcherList(nodes []string) string {
	var b strings.Builder
	b.WriteString("# set destination flags priority attributes\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "1 sip:%s 0 0\n", n)
	}
	return b.String()
}

// KamailioArgs is the command line that runs cfg in the foreground with
// its defines: where to listen, the dispatcher list and the probing
// interval (whole seconds, at least 1).
func KamailioArgs(cfg, listen, list string, probe time.Duration, pidFile string) []string {
	secs := max(1, int(probe/time.Second))
	return []string{"-f", cfg, "-DD", "-E", "-m", "64", "-M", "8", "-n", "2", "-P", pidFile,
		"-A", "LISTEN_UDP=udp:" + listen, "-A", "LISTEN_TCP=tcp:" + listen,
		"-A", `DISPATCHER_LIST="` + list + `"`, "-A", "PROBE_INTERVAL=" + strconv.Itoa(secs)}
}
