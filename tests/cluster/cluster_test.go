//go:build cluster

// Package cluster tests a whole cluster on loopback, every part real and
// a process of its own: PostgreSQL, NATS, versitygw (S3), three
// mediaserver nodes (the binary, built by TestMain) and Kamailio running
// deploy/kamailio/kamailio.cfg in front of them; callers are sipp. It runs
// with `make cluster-test` (-tags cluster); with CI=true a missing tool
// fails the test instead of skipping it.
package cluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hcluster "github.com/wasmvoice/mediaserver/host/cluster"
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/internal/testsvc"
)

var (
	serverBin string
	root      string // the repository
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mediaserver-clustertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root, _ = filepath.Abs(filepath.Join("..", ".."))
	serverBin = filepath.Join(dir, "mediaserver")
	build := exec.Command("go", "build", "-o", serverBin, "./cmd/mediaserver")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Numbers of the test tenants (the configuration every node gets).
const (
	holdNumber    = "+15550200" // acme/hold: a webhook that holds the call until an update
	swapNumber    = "+15550300" // acme/swap: the Go IVR plugin, swapped by the test
	loadNumber    = "+15550500" // acme/load: the Go IVR plugin, for load
	limitedNumber = "+15550400" // limited/hold: a webhook that holds the call
)

// hook is the call logic of the webhook applications: NEW_INBOUND_CALL is
// answered with a long Pause, CALL_UPDATE_REQUESTED with a Hangup.
type hook struct {
	srv *httptest.Server
	mu  sync.Mutex
	evs []event
	// keep answers updates with no action (the call stays held).
	keep bool
}

type event struct {
	InvocationEventType string
	ActionData          struct {
		Parameters struct {
			Arguments map[string]string
		}
	}
	CallDetails struct {
		TransactionID string `json:"TransactionId"`
		AwsAccountID  string `json:"AwsAccountId"`
	}
}

func newHook(t testing.TB) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.evs = append(h.evs, ev)
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch ev.InvocationEventType {
		case "NEW_INBOUND_CALL":
			io.WriteString(w, `{"SchemaVersion":"1.0","Actions":[{"Type":"Pause","Parameters":{"DurationInMilliseconds":60000}}]}`)
		case "CALL_UPDATE_REQUESTED":
			h.mu.Lock()
			keep := h.keep
			h.mu.Unlock()
			if keep {
				io.WriteString(w, `{"SchemaVersion":"1.0","Actions":[]}`)
				return
			}
			io.WriteString(w, `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}]}`)
		default:
			io.WriteString(w, `{"SchemaVersion":"1.0","Actions":[]}`)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// wait returns the first event of type typ of a tenant's call that
// matches, waiting for it.
func (h *hook) wait(t testing.TB, typ, tenant string, match func(event) bool) event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, ev := range h.evs {
			if ev.InvocationEventType == typ && ev.CallDetails.AwsAccountID == tenant && match(ev) {
				h.mu.Unlock()
				return ev
			}
		}
		h.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s event of %s", typ, tenant)
	return event{}
}

func requireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"postgres", "initdb", "nats-server", "kamailio", "versitygw", "sipp"} {
		if _, err := testsvc.Find(tool); err != nil {
			testsvc.Fail(t, err)
		}
	}
	for _, f := range []string{"plugins/bin/ivr-go.wasm", "host/plugin/testdata/bin/badaction.wasm"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			testsvc.Fail(t, fmt.Errorf("%s %w (make plugins)", f, testsvc.ErrMissing))
		}
	}
}

// tenantsTOML is the test tenants, as every node's configuration has
// them.
func tenantsTOML(h *hook) string {
	ivr := filepath.Join(root, "plugins/bin/ivr-go.wasm")
	prompts := filepath.Join(root, "plugins/ivr-go/buckets")
	return fmt.Sprintf(`[[tenant]]
id = "acme"
[[tenant.application]]
id = "hold"
webhook = %[1]q
numbers = [%[2]q]
[[tenant.application]]
id = "swap"
plugin = %[3]q
prompts = %[4]q
numbers = [%[5]q]
[[tenant.application]]
id = "load"
plugin = %[3]q
numbers = [%[6]q]

[[tenant]]
id = "limited"
[[tenant.application]]
id = "limited-hold"
webhook = %[1]q
numbers = [%[7]q]
`, h.srv.URL, holdNumber, ivr, prompts, swapNumber, loadNumber, limitedNumber)
}

// startCluster starts the cluster with the test tenants.
func startCluster(t *testing.T, h *hook) *testsvc.Cluster {
	t.Helper()
	tenants := tenantsTOML(h)
	var log bytes.Buffer
	var logw io.Writer = &lockedWriter{w: &log}
	if f := os.Getenv("CLUSTER_TEST_LOG"); f != "" {
		// The services' own output (Kamailio's, NATS's…) for debugging.
		lf, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lf.Close() })
		logw = &lockedWriter{w: lf}
	}
	c, err := testsvc.StartCluster(context.Background(), testsvc.ClusterConfig{
		Server: serverBin, Kamailio: filepath.Join(root, "deploy/kamailio/kamailio.cfg"),
		Tenants: tenants, Heartbeat: 200 * time.Millisecond, RTPBase: 24000, // below the ephemeral ports sipp binds
		Log: logw,
	})
	if err != nil {
		if c != nil {
			c.Stop()
		}
		t.Fatalf("starting the cluster: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Nodes {
				t.Logf("--- %s log (last lines)\n%s", n.Name, lastLines(n.Log(), 40))
			}
		}
		c.Stop()
	})
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// call is the API of one node, as the operator acting for a tenant.
func call(t testing.TB, n *testsvc.Node, method, path, tenantID string, body any) (int, []byte) {
	t.Helper()
	key, err := n.AdminKey()
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/wasm"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, "http://"+n.API+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	if tenantID != "" {
		req.Header.Set("X-Tenant-Id", tenantID)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// metric reads one series of a node's /metrics (0 when absent).
func metric(t testing.TB, n *testsvc.Node, series string) float64 {
	t.Helper()
	_, body := call(t, n, "GET", "/metrics", "", nil)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, series)), 64)
			return v
		}
	}
	return 0
}

const acceptedSeries = `mediaserver_calls_total{direction="inbound",result="accepted",tenant="%s"}`

// sippRun is one sipp run's outcome.
type sippRun struct {
	exit     int
	out      string
	errorLog string
}

// sipp runs sipp against addr with scenario (a file of testdata, or "" for
// the built-in uac) and extra arguments.
func sipp(t testing.TB, addr, scenario, service string, args ...string) sippRun {
	t.Helper()
	bin, err := testsvc.Find("sipp")
	if err != nil {
		testsvc.Fail(t, err)
	}
	port, _ := testsvc.FreePort("udp")
	mport, _ := testsvc.FreePort("udp")
	dir := t.TempDir()
	errFile := filepath.Join(dir, "errors.log")
	a := []string{"-s", service, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport),
		"-nostdin", "-timeout", "90s", "-trace_err", "-error_file", errFile, "-max_recv_loops", "10000"}
	if scenario != "" {
		a = append(a, "-sf", filepath.Join(root, "tests/cluster/testdata", scenario))
	} else {
		a = append(a, "-sn", "uac")
	}
	a = append(append(a, args...), addr)
	cmd := exec.Command(bin, a...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	r := sippRun{out: string(out)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("sipp: %v", err)
	}
	b, _ := os.ReadFile(errFile)
	r.errorLog = string(b)
	return r
}

var statLine = regexp.MustCompile(`(Successful|Failed) call\s+\|\s+\d+\s+\|\s+(\d+)`)

// counts returns the successful and failed calls of a sipp run.
func (r sippRun) counts() (ok, failed int) {
	for _, m := range statLine.FindAllStringSubmatch(r.out, -1) {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "Successful" {
			ok = n
		} else {
			failed = n
		}
	}
	return ok, failed
}

// TestCluster runs the cluster's scenarios in order on one cluster (the
// last one kills a node).
func TestCluster(t *testing.T) {
	requireTools(t)
	h := newHook(t)
	c := startCluster(t, h)
	t.Run("CallsLandOnEveryNode", func(t *testing.T) { testCallsLandOnEveryNode(t, c) })
	t.Run("ForwardedAPI", func(t *testing.T) { testForwardedAPI(t, c, h) })
	t.Run("PluginUploadAndRollback", func(t *testing.T) { testPluginUploadAndRollback(t, c) })
	t.Run("QuotaAcrossNodes", func(t *testing.T) { testQuotaAcrossNodes(t, c) })
	t.Run("KillNodeUnderLoad", func(t *testing.T) { testKillNodeUnderLoad(t, c) })
}

// testCallsLandOnEveryNode: calls through Kamailio (a caller that follows
// Record-Route) are spread over the three nodes, and all complete.
func testCallsLandOnEveryNode(t *testing.T, c *testsvc.Cluster) {
	before := make([]float64, len(c.Nodes))
	for i, n := range c.Nodes {
		before[i] = metric(t, n, fmt.Sprintf(acceptedSeries, "acme"))
	}
	r := sipp(t, c.Kamailio.Addr, "uac_rr.xml", loadNumber, "-m", "9", "-r", "10", "-d", "500")
	if ok, failed := r.counts(); r.exit != 0 || ok != 9 || failed != 0 {
		t.Fatalf("sipp through Kamailio: exit %d, %d ok, %d failed\n%s\n%s", r.exit, ok, failed, lastLines(r.out, 20), r.errorLog)
	}
	total := 0.0
	for i, n := range c.Nodes {
		got := metric(t, n, fmt.Sprintf(acceptedSeries, "acme")) - before[i]
		t.Logf("%s took %v calls", n.Name, got)
		if got < 1 {
			t.Errorf("%s took no call", n.Name)
		}
		total += got
	}
	if total != 9 {
		t.Errorf("the nodes took %v calls, want 9", total)
	}
	// A caller that ignores Record-Route (sipp's built-in scenario sends
	// ACK and BYE to Kamailio itself) is served too.
	r = sipp(t, c.Kamailio.Addr, "", loadNumber, "-m", "3", "-r", "10", "-d", "300")
	if ok, _ := r.counts(); r.exit != 0 || ok != 3 {
		t.Fatalf("sipp's built-in uac through Kamailio: exit %d\n%s\n%s", r.exit, lastLines(r.out, 20), r.errorLog)
	}
}

// testForwardedAPI: a call held on one node is listed, read, updated and
// hung up through the API of another node, which forwards to the owner.
func testForwardedAPI(t *testing.T, c *testsvc.Cluster, h *hook) {
	done := make(chan sippRun, 1)
	go func() { done <- sipp(t, c.Kamailio.Addr, "uac_wait_bye.xml", holdNumber, "-m", "1") }()
	ev := h.wait(t, "NEW_INBOUND_CALL", "acme", func(event) bool { return true })
	tx := ev.CallDetails.TransactionID
	owner, ok := hcluster.Owner(tx)
	if !ok {
		t.Fatalf("TransactionId %s names no node", tx)
	}
	var other *testsvc.Node
	for _, n := range c.Nodes {
		if hcluster.NodeID(n.Name) != owner {
			other = n
			break
		}
	}
	t.Logf("call %s is on node id %s; asking %s", tx, owner, other.Name)
	status, body := call(t, other, "GET", "/calls", "acme", nil)
	if status != 200 || !strings.Contains(string(body), tx) {
		t.Fatalf("GET /calls on %s = %d %s, want the call", other.Name, status, body)
	}
	status, body = call(t, other, "POST", "/sip-media-applications/hold/calls/"+tx, "acme",
		map[string]any{"Arguments": map[string]string{"from": other.Name}})
	if status != http.StatusAccepted {
		t.Fatalf("update through %s = %d %s", other.Name, status, body)
	}
	up := h.wait(t, "CALL_UPDATE_REQUESTED", "acme", func(e event) bool { return e.CallDetails.TransactionID == tx })
	if got := up.ActionData.Parameters.Arguments["from"]; got != other.Name {
		t.Fatalf("update arguments = %v", up.ActionData.Parameters.Arguments)
	}
	r := <-done // the update's Hangup: sipp got its BYE
	if r.exit != 0 {
		t.Fatalf("the held call did not end with BYE: exit %d\n%s\n%s", r.exit, lastLines(r.out, 20), r.errorLog)
	}
	// Another tenant's view: not found, through any node.
	if status, _ := call(t, other, "POST", "/sip-media-applications/hold/calls/"+tx, "limited", map[string]any{"Arguments": map[string]string{}}); status != http.StatusNotFound {
		t.Fatalf("another tenant's update = %d, want 404", status)
	}
}

// testPluginUploadAndRollback: a plugin uploaded and assigned through
// node1 answers the very next call on node2 and node3; a rollback through
// node2 is live on node1 and node3 for their next call.
func testPluginUploadAndRollback(t *testing.T, c *testsvc.Cluster) {
	wasm, err := os.ReadFile(filepath.Join(root, "host/plugin/testdata/bin/badaction.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	status, body := call(t, n1, "POST", "/plugins", "acme", wasm)
	if status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("upload through node1 = %d %s", status, body)
	}
	var up struct{ Plugin struct{ Sha256 string } }
	if err := json.Unmarshal(body, &up); err != nil || up.Plugin.Sha256 == "" {
		t.Fatalf("upload answer %s: %v", body, err)
	}
	status, body = call(t, n1, "PUT", "/sip-media-applications/swap/plugin", "acme", map[string]string{"Sha256": up.Plugin.Sha256})
	if status != http.StatusOK {
		t.Fatalf("assign through node1 = %d %s", status, body)
	}
	// badaction answers every event with an invalid action: the call is
	// refused with 480 after three invalid responses.
	for _, n := range []*testsvc.Node{n2, n3} {
		if r := sipp(t, n.SIP, "uac_480.xml", swapNumber, "-m", "1"); r.exit != 0 {
			t.Fatalf("the next call on %s did not run the new plugin (want 480): exit %d\n%s\n%s", n.Name, r.exit, lastLines(r.out, 15), r.errorLog)
		}
	}
	status, body = call(t, n2, "POST", "/sip-media-applications/swap/plugin/rollback", "acme", nil)
	if status != http.StatusOK {
		t.Fatalf("rollback through node2 = %d %s", status, body)
	}
	for _, n := range []*testsvc.Node{n1, n3} {
		if r := sipp(t, n.SIP, "uac_rr.xml", swapNumber, "-m", "1", "-d", "200"); r.exit != 0 {
			t.Fatalf("the next call on %s did not run the rolled-back plugin (want 200): exit %d\n%s\n%s", n.Name, r.exit, lastLines(r.out, 15), r.errorLog)
		}
	}
}

// openRegistry opens the cluster's registry as a node would (the operator
// setting a tenant's quotas).
func openRegistry(t *testing.T, c *testsvc.Cluster) *tenant.Postgres {
	t.Helper()
	blobs, err := store.NewFolder(t.TempDir()) // no plugin bytes are read here
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(c.MasterKey)
	r, err := tenant.OpenPostgres(context.Background(), c.DatabaseURL, blobs, tenant.WithMasterKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// testQuotaAcrossNodes: a tenant allowed 3 concurrent calls gets 3 across
// the whole cluster, not 3 per node: calls spread by Kamailio over the
// three nodes beyond the third are refused with 486.
func testQuotaAcrossNodes(t *testing.T, c *testsvc.Cluster) {
	reg := openRegistry(t, c)
	if _, err := reg.UpdateTenant("limited", "limited", tenant.Quotas{MaxConcurrentCalls: 3}); err != nil {
		t.Fatal(err)
	}
	// Every node has the new quota once the notification reached it; a
	// call refused for the quota is counted by its node.
	time.Sleep(500 * time.Millisecond)
	refused := func() float64 {
		s := 0.0
		for _, n := range c.Nodes {
			s += metric(t, n, `mediaserver_calls_total{direction="inbound",result="concurrent_calls",tenant="limited"}`)
		}
		return s
	}
	before := refused()
	// 9 calls, 10 per second, each held 4 s: at most 3 at once may be up.
	r := sipp(t, c.Kamailio.Addr, "uac_rr.xml", limitedNumber, "-m", "9", "-r", "10", "-d", "4000")
	ok, failed := r.counts()
	t.Logf("quota 3: %d answered, %d refused", ok, failed)
	if ok != 3 || failed != 6 {
		t.Fatalf("with a quota of 3 concurrent calls, %d answered and %d failed, want 3 and 6\n%s", ok, failed, lastLines(r.out, 20))
	}
	if got := refused() - before; got != 6 {
		for _, n := range c.Nodes {
			_, body := call(t, n, "GET", "/metrics", "", nil)
			for _, l := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(l, "mediaserver_calls_total") {
					t.Logf("%s: %s", n.Name, l)
				}
			}
		}
		t.Fatalf("the nodes refused %v calls for the quota, want 6", got)
	}
	if !strings.Contains(r.errorLog, "486") {
		t.Fatalf("the refused calls did not get 486:\n%s", r.errorLog)
	}
}

var callIDLine = regexp.MustCompile(`Call-I[Dd]: (\S+)`)

// testKillNodeUnderLoad: node2 is killed with SIGKILL while sipp runs
// calls through Kamailio. Only node2's calls fail; its calls disappear
// from the other nodes' listings at once; calls started after the
// probing interval all succeed on the others; node2, restarted, takes
// calls again.
func testKillNodeUnderLoad(t *testing.T, c *testsvc.Cluster) {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	load := make(chan sippRun, 1)
	// 60 calls at 10 per second, 3 s each: about 30 up at once.
	go func() {
		load <- sipp(t, c.Kamailio.Addr, "uac_rr.xml", loadNumber, "-m", "60", "-r", "10", "-d", "3000")
	}()
	time.Sleep(3 * time.Second)
	_, body := call(t, n2, "GET", "/calls", "", nil) // every node's calls
	var all struct {
		Calls []struct {
			TransactionID string `json:"TransactionId"`
		}
	}
	_ = json.Unmarshal(body, &all)
	onN2 := 0
	for _, cl := range all.Calls {
		if owner, _ := hcluster.Owner(cl.TransactionID); owner == hcluster.NodeID(n2.Name) {
			onN2++
		}
	}
	n2.Kill()
	killed := time.Now()
	t.Logf("killed node2 with %d of the cluster's %d calls up", onN2, len(all.Calls))
	// Its calls are gone from the other nodes' listings at once.
	_, body = call(t, n1, "GET", "/calls", "", nil)
	var listed struct {
		Calls []struct {
			TransactionID string `json:"TransactionId"`
		}
	}
	_ = json.Unmarshal(body, &listed)
	for _, cl := range listed.Calls {
		if owner, _ := hcluster.Owner(cl.TransactionID); owner == hcluster.NodeID(n2.Name) {
			t.Errorf("node1 still lists node2's call %s after the kill", cl.TransactionID)
		}
	}
	r := <-load
	ok, failed := r.counts()
	t.Logf("under load: %d calls completed, %d failed (node2 had %d up)", ok, failed, onN2)
	// Every failed call was one of node2's: its Call-ID is in node2's log.
	n2log := n2.Log()
	for _, m := range callIDLine.FindAllStringSubmatch(r.errorLog, -1) {
		if !strings.Contains(n2log, m[1]) {
			t.Errorf("call %s failed but was not node2's", m[1])
		}
	}
	// node2's calls up at the kill, and those being set up on it then.
	if failed > onN2+3 {
		t.Errorf("%d calls failed, node2 had %d up", failed, onN2)
	}
	// New calls after the probing interval all succeed on the others.
	if wait := 2*time.Second - time.Since(killed); wait > 0 {
		time.Sleep(wait)
	}
	r = sipp(t, c.Kamailio.Addr, "uac_rr.xml", loadNumber, "-m", "20", "-r", "20", "-d", "200")
	if ok, failed := r.counts(); r.exit != 0 || ok != 20 {
		t.Fatalf("after the kill: %d ok, %d failed\n%s\n%s", ok, failed, lastLines(r.out, 20), r.errorLog)
	}
	// node2 restarts and takes calls again once Kamailio's probe sees it.
	if err := n2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := metric(t, n2, fmt.Sprintf(acceptedSeries, "acme"))
	time.Sleep(2500 * time.Millisecond)
	r = sipp(t, c.Kamailio.Addr, "uac_rr.xml", loadNumber, "-m", "9", "-r", "20", "-d", "200")
	if ok, _ := r.counts(); r.exit != 0 || ok != 9 {
		t.Fatalf("after the restart: exit %d\n%s", r.exit, lastLines(r.out, 20))
	}
	if got := metric(t, n2, fmt.Sprintf(acceptedSeries, "acme")) - before; got < 1 {
		t.Fatalf("the restarted node2 took no call")
	}
}

// TestNodeWaitsForServices: a node started while NATS and PostgreSQL are
// down waits for them, saying so in its log, and is ready once they are
// up.
func TestNodeWaitsForServices(t *testing.T) {
	requireTools(t)
	ctx := context.Background()
	dir := t.TempDir()
	s3, err := testsvc.StartS3(ctx, dir, "waitaccess", "waitsecret1234", nil)
	if err != nil {
		testsvc.Fail(t, err)
	}
	defer s3.Stop(5 * time.Second)
	natsPort, _ := testsvc.FreePort("tcp")
	pgPort, _ := testsvc.FreePort("tcp")
	c := &testsvc.Cluster{Dir: dir, S3: s3, NATS: &testsvc.NATS{Port: natsPort}, MasterKey: base64.StdEncoding.EncodeToString(make([]byte, 32)),
		DatabaseURL: fmt.Sprintf("postgres://mediaserver@127.0.0.1:%d/postgres?sslmode=disable", pgPort)}
	n, err := c.NewNode(testsvc.ClusterConfig{Server: serverBin, RTPBase: 21000}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() { ready <- n.Start(ctx) }()
	defer func() {
		if n.Process != nil {
			n.Stop(10 * time.Second)
		}
	}()
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(n.Log(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("the node never logged %q:\n%s", what, lastLines(n.Log(), 20))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLog("waiting for NATS")
	ns, err := testsvc.StartNATS(ctx, natsPort, nil)
	if err != nil {
		testsvc.Fail(t, err)
	}
	defer ns.Stop(5 * time.Second)
	waitLog("waiting for PostgreSQL")
	select {
	case err := <-ready:
		t.Fatalf("the node was ready without PostgreSQL: %v", err)
	default:
	}
	pg, err := testsvc.StartPostgres(ctx, "", pgPort, nil)
	if err != nil {
		testsvc.Fail(t, err)
	}
	defer pg.Remove()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the node did not become ready")
	}
	if !strings.Contains(n.Log(), "PostgreSQL reached") {
		t.Fatalf("no log line of PostgreSQL coming up:\n%s", lastLines(n.Log(), 20))
	}
}
