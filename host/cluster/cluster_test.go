//go:build cluster

package cluster

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/internal/testsvc"
)

// localCalls is a node's own calls, as host/control would serve them.
type localCalls struct {
	mu      sync.Mutex
	node    *Node
	calls   map[string]api.Call
	updates map[string]map[string]string
}

func (l *localCalls) add(tenant string) string {
	id := l.node.NewTransactionID()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[id] = api.Call{TransactionID: id, TenantID: tenant, SipMediaApplicationID: "app", StartTime: time.Now()}
	return id
}

func (l *localCalls) CreateCall(context.Context, string, string, api.CreateCallRequest) (string, error) {
	return "", api.ErrUnavailable
}

func (l *localCalls) UpdateCall(_ context.Context, tenant, app, tx string, args map[string]string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.calls[tx]
	if !ok || c.TenantID != tenant || c.SipMediaApplicationID != app {
		return api.ErrNotFound
	}
	l.updates[tx] = args
	return nil
}

func (l *localCalls) HangupCall(_ context.Context, tenant, tx string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.calls[tx]
	if !ok || (tenant != "" && c.TenantID != tenant) {
		return api.ErrNotFound
	}
	delete(l.calls, tx)
	return nil
}

func (l *localCalls) ListCalls(tenant string) []api.Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []api.Call
	for _, c := range l.calls {
		if tenant == "" || c.TenantID == tenant {
			out = append(out, c)
		}
	}
	return out
}

// iot answers IotConnect for participant ids of its calls.
type iot struct{ IotOps }

func (iot) IotConnect(tenant, a, b string) error {
	if tenant != "acme" {
		return engine.ErrCallNotFound
	}
	if a == b {
		return engine.ErrInvalidArgument
	}
	return nil
}

func startNATS(t *testing.T) *testsvc.NATS {
	t.Helper()
	n, err := testsvc.StartNATS(context.Background(), 0, io.Discard)
	if err != nil {
		testsvc.Fail(t, err)
	}
	t.Cleanup(func() { n.Stop(5 * time.Second) })
	return n
}

func startNode(t *testing.T, url, name string) (*Node, *localCalls) {
	t.Helper()
	n := New(Config{Name: name, NATS: url, Heartbeat: 100 * time.Millisecond, RequestTimeout: time.Second})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := &localCalls{node: n, calls: map[string]api.Call{}, updates: map[string]map[string]string{}}
	n.Serve(Local{Calls: l, Sessions: iot{}})
	t.Cleanup(func() { n.Close() })
	return n, l
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestForwarding: three nodes on a real NATS server. Any node reaches a
// call on any other (update, hang-up, get, iotcomms), listings merge
// every node's calls, a tenant's counts reach the others, and a node that
// is gone has no calls.
func TestForwarding(t *testing.T) {
	ctx := context.Background()
	nats := startNATS(t)
	a, _ := startNode(t, nats.URL(), "a")
	b, lb := startNode(t, nats.URL(), "b")
	c, lc := startNode(t, nats.URL(), "c")
	waitFor(t, "membership", func() bool { return a.Nodes() == 3 && b.Nodes() == 3 && c.Nodes() == 3 })

	onB := lb.add("acme")
	onC := lc.add("acme")
	lc.add("globex")
	calls := a.Calls(&localCalls{node: a, calls: map[string]api.Call{}})
	if err := calls.UpdateCall(ctx, "acme", "app", onB, map[string]string{"k": "v"}); err != nil {
		t.Fatalf("update through a: %v", err)
	}
	if got := lb.updates[onB]["k"]; got != "v" {
		t.Fatalf("b got update %q", got)
	}
	if err := calls.UpdateCall(ctx, "globex", "app", onB, nil); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("another tenant's update: %v, want ErrNotFound", err)
	}
	if got := calls.ListCalls("acme"); len(got) != 2 {
		t.Fatalf("acme's calls through a: %+v", got)
	}
	if got := calls.ListCalls(""); len(got) != 3 {
		t.Fatalf("all calls through a: %+v", got)
	}
	if got, err := calls.GetCall(ctx, "acme", onC); err != nil || got.TransactionID != onC {
		t.Fatalf("get through a = %+v, %v", got, err)
	}
	if err := calls.HangupCall(ctx, "acme", onC); err != nil {
		t.Fatalf("hang-up through a: %v", err)
	}
	if _, err := calls.GetCall(ctx, "acme", onC); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("get of a hung-up call: %v", err)
	}
	s := a.Sessions(iot{})
	if err := s.IotConnect("acme", onB+"/p1", onB+"/p2"); err != nil {
		t.Fatalf("iotcomms connect through a: %v", err)
	}
	if err := s.IotConnect("acme", onB+"/p1", onB+"/p1"); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Fatalf("iotcomms error class: %v", err)
	}
	if err := s.IotConnect("globex", onB+"/p1", onB+"/p2"); !errors.Is(err, engine.ErrCallNotFound) {
		t.Fatalf("iotcomms not found: %v", err)
	}

	// Counts: b's calls in progress reach a and c.
	b.Changed("acme", 7)
	waitFor(t, "b's count on a and c", func() bool { return a.Active("acme") == 7 && c.Active("acme") == 7 })
	b.Changed("acme", 2)
	waitFor(t, "b's new count", func() bool { return a.Active("acme") == 2 })

	// b leaves: its calls are gone from every listing and forwarding to
	// it says not found at once.
	b.Close()
	if err := calls.UpdateCall(ctx, "acme", "app", onB, nil); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("update of a gone node's call: %v", err)
	}
	waitFor(t, "b gone", func() bool { return a.Nodes() == 2 && a.Active("acme") == 0 })
	if got := calls.ListCalls("acme"); len(got) != 0 {
		t.Fatalf("listing after b left: %+v", got)
	}
}

// TestDuplicateNode: a second node with a live node's name is refused.
func TestDuplicateNode(t *testing.T) {
	nats := startNATS(t)
	startNode(t, nats.URL(), "a")
	n := New(Config{Name: "a", NATS: nats.URL()})
	if err := n.Start(context.Background()); !errors.Is(err, ErrDuplicateNode) {
		t.Fatalf("second node a: %v, want ErrDuplicateNode", err)
	}
}

// TestWaitsForNATS: a node started before NATS waits for it, then runs.
func TestWaitsForNATS(t *testing.T) {
	port, err := testsvc.FreePort("tcp")
	if err != nil {
		t.Fatal(err)
	}
	n := New(Config{Name: "early", NATS: "nats://127.0.0.1:" + strconv.Itoa(port)})
	done := make(chan error, 1)
	go func() { done <- n.Start(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Start returned without NATS: %v", err)
	case <-time.After(time.Second):
	}
	ns, err := testsvc.StartNATS(context.Background(), port, io.Discard)
	if err != nil {
		testsvc.Fail(t, err)
	}
	defer ns.Stop(5 * time.Second)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Start did not return once NATS was up")
	}
	n.Close()
}
