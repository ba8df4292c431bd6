package testsvc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClusterConfig is a whole cluster on one machine: PostgreSQL, NATS, an
// S3 server, Kamailio and Nodes media servers, each a process.
type ClusterConfig struct {
	// Dir holds every service's data and logs ("" = a new temporary
	// folder, removed by Stop).
	Dir string
	// Server is the mediaserver binary.
	Server string
	// Kamailio is deploy/kamailio/kamailio.cfg.
	Kamailio string
	// Nodes is how many media servers (default 3).
	Nodes int
	// Tenants is TOML appended to every node's configuration: its
	// [[tenant]] tables (and anything else the nodes share).
	Tenants string
	// RTPBase is the first RTP port of node 1; each node gets 2000
	// (default 10000). Keep them below the ephemeral ports (32768 and
	// up): a node refuses (488) SDP aimed at its own RTP range, where a
	// caller's randomly bound media port could fall.
	RTPBase int
	// ProbeInterval is Kamailio's OPTIONS interval (default 1 s).
	ProbeInterval time.Duration
	// Heartbeat is the nodes' [cluster] heartbeat (default theirs).
	Heartbeat time.Duration
	// Log receives the services' own output (nil: discarded); each node
	// logs to node<N>/log in Dir.
	Log io.Writer
}

// Node is one media server of a Cluster.
type Node struct {
	*Process
	Name    string
	Dir     string
	Config  string // its configuration file
	SIP     string // host:port, UDP and TCP
	API     string // host:port
	LogFile string
	env     []string
	bin     string
}

// Cluster is a running ClusterConfig.
type Cluster struct {
	Dir       string
	Postgres  *Postgres
	NATS      *NATS
	S3        *S3
	Kamailio  *Kamailio
	Nodes     []*Node
	MasterKey string // base64, given to every node
	// DatabaseURL is the nodes' database.
	DatabaseURL string
	removeDir   bool
}

// StartCluster starts the services, then the nodes (in parallel: they
// share one registry and Bootstrap it together), then Kamailio in front
// of them. On error what started is stopped.
func StartCluster(ctx context.Context, cc ClusterConfig) (c *Cluster, err error) {
	if cc.Nodes <= 0 {
		cc.Nodes = 3
	}
	if cc.RTPBase == 0 {
		cc.RTPBase = 10000
	}
	c = &Cluster{Dir: cc.Dir}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "mediaserver-cluster-"); err != nil {
			return nil, err
		}
		c.removeDir = true
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	var key [32]byte
	_, _ = rand.Read(key[:])
	c.MasterKey = base64.StdEncoding.EncodeToString(key[:])
	if c.Postgres, err = StartPostgres(ctx, c.Dir, 0, cc.Log); err != nil {
		return c, err
	}
	if c.DatabaseURL, err = c.Postgres.CreateDatabase(ctx, "mediaserver"); err != nil {
		return c, err
	}
	if c.NATS, err = StartNATS(ctx, 0, cc.Log); err != nil {
		return c, err
	}
	s3dir := filepath.Join(c.Dir, "s3")
	if err = os.MkdirAll(s3dir, 0o700); err != nil {
		return c, err
	}
	if c.S3, err = StartS3(ctx, s3dir, "clusteraccess", "clustersecret1234", cc.Log); err != nil {
		return c, err
	}
	for i := range cc.Nodes {
		n, err := c.NewNode(cc, i+1)
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	errs := make(chan error, len(c.Nodes))
	for _, n := range c.Nodes {
		go func() { errs <- n.Start(ctx) }()
	}
	for range c.Nodes {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return c, err
	}
	sips := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		sips[i] = n.SIP
	}
	kdir := filepath.Join(c.Dir, "kamailio")
	if err = os.MkdirAll(kdir, 0o700); err != nil {
		return c, err
	}
	c.Kamailio, err = StartKamailio(ctx, KamailioConfig{Config: cc.Kamailio, Nodes: sips, ProbeInterval: cc.ProbeInterval, Dir: kdir}, cc.Log)
	return c, err
}

// NewNode writes the configuration of node i (from 1) of the cluster: its
// services must be set (they need not run yet). StartCluster uses it.
func (c *Cluster) NewNode(cc ClusterConfig, i int) (*Node, error) {
	name := "node" + strconv.Itoa(i)
	dir := filepath.Join(c.Dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sip, err := FreeBothPort()
	if err != nil {
		return nil, err
	}
	api, err := FreePort("tcp")
	if err != nil {
		return nil, err
	}
	n := &Node{
		Name: name, Dir: dir, Config: filepath.Join(dir, "mediaserver.toml"), LogFile: filepath.Join(dir, "log"),
		SIP: "127.0.0.1:" + strconv.Itoa(sip), API: "127.0.0.1:" + strconv.Itoa(api), bin: cc.Server,
		env: append(os.Environ(), "MEDIASERVER_MASTER_KEY="+c.MasterKey),
	}
	rtp := cc.RTPBase + (i-1)*2000
	heartbeat := ""
	if cc.Heartbeat > 0 {
		heartbeat = fmt.Sprintf("heartbeat = %q\n", cc.Heartbeat)
	}
	conf := fmt.Sprintf(`# Node %[1]s of the cluster in %[2]s (internal/testsvc).
data_dir = %[3]q

[sip]
udp = [%[4]q]
tcp = [%[4]q]
# Kamailio and the callers are on loopback.
trusted = ["127.0.0.0/8"]

[rtp]
ip = "127.0.0.1"
port_min = %[5]d
port_max = %[6]d

[api]
listen = %[7]q

[storage]
type = "s3"
endpoint = %[8]q
region = "us-east-1"
bucket = "mediaserver"
access_key = %[9]q
secret_key = %[10]q
create_bucket = true

[egress]
allow = ["127.0.0.0/8"]

[cluster]
node = %[1]q
postgres = %[11]q
nats = %[12]q
%[13]s
%[14]s
`, name, c.Dir, filepath.Join(dir, "data"), n.SIP, rtp, rtp+1998, n.API, c.S3.Addr, c.S3.Access, c.S3.Secret,
		c.DatabaseURL, c.NATS.URL(), heartbeat, cc.Tenants)
	if err := os.WriteFile(n.Config, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return n, nil
}

// Start starts the node (again, after Kill) and waits until its API
// answers /healthz.
func (n *Node) Start(ctx context.Context) error {
	log, err := os.OpenFile(n.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(n.bin, "-config", n.Config)
	cmd.Env = n.env
	cmd.Dir = n.Dir
	p, err := start(n.Name, cmd, log, syscall.SIGTERM)
	if err != nil {
		log.Close()
		return err
	}
	go func() {
		<-p.Done()
		log.Close()
	}()
	n.Process = p
	return n.waitReady(ctx, 2*time.Minute)
}

func (n *Node) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		if done, err := n.Exited(); done {
			return fmt.Errorf("testsvc: %s exited: %v (log: %s)\n%s", n.Name, err, n.LogFile, tail(n.LogFile, 30))
		}
		if res, err := client.Get("http://" + n.API + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testsvc: %s not ready: %w (log: %s)\n%s", n.Name, ctx.Err(), n.LogFile, tail(n.LogFile, 30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Log returns the node's log so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.LogFile)
	return string(b)
}

// tail returns the last lines of a file.
func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// AdminKey returns the operator key node n wrote in its data folder.
func (n *Node) AdminKey() (string, error) {
	b, err := os.ReadFile(filepath.Join(n.Dir, "data", "admin-api-key"))
	return strings.TrimSpace(string(b)), err
}

// Stop ends the nodes (gracefully: their calls get BYE), Kamailio and
// the services, and removes a temporary folder.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		if n.Process != nil {
			n.Stop(15 * time.Second)
		}
	}
	for _, p := range []interface{ Stop(time.Duration) }{kam(c.Kamailio), s3(c.S3), nats(c.NATS)} {
		if p != nil {
			p.Stop(5 * time.Second)
		}
	}
	if c.Postgres != nil {
		c.Postgres.Stop(10 * time.Second)
	}
	if c.removeDir {
		_ = os.RemoveAll(c.Dir)
	}
}

// The services as stoppers, nil when they did not start (a nil pointer
// in an interface is not a nil interface).
func kam(k *Kamailio) interface{ Stop(time.Duration) } {
	if k == nil {
		return nil
	}
	return k
}

func s3(s *S3) interface{ Stop(time.Duration) } {
	if s == nil {
		return nil
	}
	return s
}

func nats(n *NATS) interface{ Stop(time.Duration) } {
	if n == nil {
		return nil
	}
	return n
}

// ErrNoNode is returned by a lookup of a node name that is not in the
// cluster.
var ErrNoNode = errors.New("no such node")

// NodeNamed returns the node of a name.
func (c *Cluster) NodeNamed(name string) (*Node, error) {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoNode, name)
}
