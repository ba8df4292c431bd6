//go:build cluster

package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	hcluster "github.com/wasmvoice/mediaserver/host/cluster"
	"github.com/wasmvoice/mediaserver/internal/testsvc"
)

// The cluster's load benchmarks (make cluster-bench; MEDIASERVER_BENCH=1,
// under flock /tmp/bench.lock). Every part shares this machine's cores:
// the nodes, Kamailio, PostgreSQL, NATS and sipp itself, so the scaling
// from 1 to 3 nodes measures what one machine gives, not what three
// machines would.

func benchGate(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("a load benchmark: set MEDIASERVER_BENCH=1 (make cluster-bench)")
	}
}

var rtdLine = regexp.MustCompile(`Response Time 1\s+\|\s+[0-9:.]+\s+\|\s+(\d+):(\d+):(\d+):(\d+)`)

// setupTime is sipp's cumulative mean of INVITE → 200 (rtd 1).
func (r sippRun) setupTime() time.Duration {
	all := rtdLine.FindAllStringSubmatch(r.out, -1)
	if all == nil {
		return 0
	}
	m := all[len(all)-1] // the last screen: the whole run
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	s, _ := strconv.Atoi(m[3])
	us, _ := strconv.Atoi(m[4])
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond
}

// BenchmarkClusterCalls: calls per second and concurrent calls through
// Kamailio with 1, 2 and 3 nodes (the Go IVR plugin answers; sipp offers
// MEDIASERVER_BENCH_CPS calls per second, default 150, each held 2 s, for
// 10 s), and the call setup time (INVITE → 200) through Kamailio and
// straight to a node, at a light load (10 calls per second).
func BenchmarkClusterCalls(b *testing.B) {
	benchGate(b)
	requireTools(b)
	offered := 150
	if v, err := strconv.Atoi(os.Getenv("MEDIASERVER_BENCH_CPS")); err == nil && v > 0 {
		offered = v
	}
	for _, nodes := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			h := newHook(b)
			c := startBenchCluster(b, h, nodes)
			total := offered * 10
			start := time.Now()
			r := sipp(b, c.Kamailio.Addr, "uac_rtd.xml", loadNumber, "-m", strconv.Itoa(total), "-r", strconv.Itoa(offered), "-d", "2000", "-l", strconv.Itoa(offered*4))
			elapsed := time.Since(start)
			ok, failed := r.counts()
			b.ReportMetric(float64(ok)/(elapsed-2*time.Second).Seconds(), "completed_cps")
			b.ReportMetric(float64(failed), "failed_calls")
			b.ReportMetric(float64(offered*2), "concurrent_offered")
			b.ReportMetric(float64(r.setupTime().Microseconds())/1000, "setup_ms_under_load")
			light := sipp(b, c.Kamailio.Addr, "uac_rtd.xml", loadNumber, "-m", "50", "-r", "10", "-d", "100")
			b.ReportMetric(float64(light.setupTime().Microseconds())/1000, "setup_ms_kamailio")
			direct := sipp(b, c.Nodes[0].SIP, "uac_rtd.xml", loadNumber, "-m", "50", "-r", "10", "-d", "100")
			b.ReportMetric(float64(direct.setupTime().Microseconds())/1000, "setup_ms_direct")
		})
	}
}

// BenchmarkForwardedUpdate: UpdateSipMediaApplicationCall on a held call,
// sent to the node that owns it (local) and to another node (forwarded
// over NATS to the owner), one after another; ns/op is per update.
func BenchmarkForwardedUpdate(b *testing.B) {
	benchGate(b)
	h := newHook(b)
	h.mu.Lock()
	h.keep = true
	h.mu.Unlock()
	c := startBenchCluster(b, h, 2)
	done := make(chan sippRun, 1)
	go func() { done <- sipp(b, c.Kamailio.Addr, "uac_wait_bye.xml", holdNumber, "-m", "1") }()
	tx := h.wait(b, "NEW_INBOUND_CALL", "acme", func(event) bool { return true }).CallDetails.TransactionID
	owner, _ := hcluster.Owner(tx)
	var local, remote *testsvc.Node
	for _, n := range c.Nodes {
		if hcluster.NodeID(n.Name) == owner {
			local = n
		} else {
			remote = n
		}
	}
	key, _ := local.AdminKey()
	update := func(n *testsvc.Node) {
		req, _ := http.NewRequest("POST", "http://"+n.API+"/sip-media-applications/hold/calls/"+tx,
			strings.NewReader(`{"Arguments":{"keep":"1"}}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Tenant-Id", "acme")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusAccepted {
			b.Fatalf("update through %s: %v %v", n.Name, err, res)
		}
		res.Body.Close()
	}
	for _, tc := range []struct {
		name string
		n    *testsvc.Node
	}{{"local", local}, {"forwarded", remote}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				// The API allows a key 50 requests a second: pace them,
				// off the clock.
				b.StopTimer()
				time.Sleep(25 * time.Millisecond)
				b.StartTimer()
				update(tc.n)
			}
		})
	}
	h.mu.Lock()
	h.keep = false
	h.mu.Unlock()
	update(local)
	<-done
}

func startBenchCluster(b *testing.B, h *hook, nodes int) *testsvc.Cluster {
	b.Helper()
	c, err := testsvc.StartCluster(context.Background(), testsvc.ClusterConfig{
		Server: serverBin, Kamailio: root + "/deploy/kamailio/kamailio.cfg", Nodes: nodes,
		Tenants: "[quotas]\nmax_calls_per_second = 2000\nmax_concurrent_calls = 5000\n\n" + tenantsTOML(h), RTPBase: 12000,
	})
	if err != nil {
		if c != nil {
			c.Stop()
		}
		b.Fatal(err)
	}
	b.Cleanup(c.Stop)
	return c
}
