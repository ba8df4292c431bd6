// Command devcluster runs a whole cluster of media servers on this
// machine, for trying the cluster out (`make cluster`): PostgreSQL, NATS,
// an S3 server (versitygw), three mediaserver nodes and Kamailio in front
// of them, on loopback, with their data in a temporary folder and no
// container. It prints where to call and stops everything on Ctrl-C.
//
// It needs the Debian packages postgresql, nats-server and kamailio, and
// versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0);
// `make cluster` builds bin/mediaserver and the demo plugin first.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/wasmvoice/mediaserver/internal/testsvc"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devcluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "media server `nodes`")
	server := fs.String("server", "bin/mediaserver", "the mediaserver `binary`")
	kamailio := fs.String("kamailio", "deploy/kamailio/kamailio.cfg", "Kamailio's `configuration`")
	dir := fs.String("dir", "", "keep everything in this `folder` (default: a temporary one, removed at the end)")
	verbose := fs.Bool("v", false, "show the services' own output")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "devcluster:", err)
		return 1
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	plugin := abs("plugins/bin/ivr-go.wasm")
	for _, f := range []string{abs(*server), abs(*kamailio), plugin} {
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(stderr, "devcluster: %s is missing: run `make cluster` from the repository root (it builds the server and the plugins)\n", f)
			return 1
		}
	}
	var log io.Writer
	if *verbose {
		log = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(stdout, "devcluster: starting PostgreSQL, NATS, S3, the nodes and Kamailio…")
	c, err := testsvc.StartCluster(ctx, testsvc.ClusterConfig{
		Dir: *dir, Server: abs(*server), Kamailio: abs(*kamailio), Nodes: *nodes, Log: log,
		Tenants: fmt.Sprintf(`[[tenant]]
id = "demo"
[[tenant.application]]
id = "demo-ivr"
plugin = %q
numbers = ["+15550100"]
prompts = %q
`, plugin, abs("plugins/ivr-go/buckets")),
	})
	if err != nil {
		fmt.Fprintln(stderr, "devcluster:", err)
		if c != nil {
			c.Stop()
		}
		return 1
	}
	defer c.Stop()
	fmt.Fprintf(stdout, "devcluster: ready (Ctrl-C stops everything)\n")
	fmt.Fprintf(stdout, "  call       sip:+15550100@%s (UDP and TCP, through Kamailio)\n", c.Kamailio.Addr)
	fmt.Fprintf(stdout, "  e.g.       sipp -sn uac -s +15550100 -m 6 -r 2 -d 3000 %s\n", c.Kamailio.Addr)
	for _, n := range c.Nodes {
		fmt.Fprintf(stdout, "  %-10s SIP %s  API http://%s  log %s\n", n.Name, n.SIP, n.API, n.LogFile)
	}
	fmt.Fprintf(stdout, "  keys       %s/node1/data/admin-api-key (operator), %s/node1/data/demo-api-key (demo): valid on every node\n", c.Dir, c.Dir)
	fmt.Fprintf(stdout, "  postgres   %s\n", c.DatabaseURL)
	fmt.Fprintf(stdout, "  nats       %s\n", c.NATS.URL())
	fmt.Fprintf(stdout, "  s3         http://%s (bucket mediaserver)\n", c.S3.Addr)
	fmt.Fprintf(stdout, "  data       %s\n", c.Dir)
	select {
	case <-ctx.Done():
	case <-c.Kamailio.Done():
		fmt.Fprintln(stderr, "devcluster: Kamailio exited")
	}
	fmt.Fprintln(stdout, "devcluster: stopping")
	return 0
}
