// Package cluster makes a media server one node of several: the nodes
// talk over NATS (request/reply with timeouts, and publications), with no
// coordinator and no global lock.
//
//   - Owner of a call: a node makes every TransactionId (and so every
//     iotcomms session, connection and participant id, which start with
//     it) with its own node id inside (NewTransactionID, Owner). Any node
//     reads the owner from the id and forwards an update, hang-up, get or
//     iotcomms operation to it (Calls, Sessions) over NATS request/reply;
//     a node that is gone has no subscriber, so NATS answers "no
//     responders" at once and the call is reported not found.
//   - Membership: every node publishes a heartbeat (its name, addresses
//     and its tenants' calls in progress) every Config.Heartbeat; a node
//     silent for three heartbeats is gone. Listings ask every live node.
//   - Per-tenant quotas across nodes: each node publishes its tenants'
//     calls in progress as they change; admission adds the other nodes'
//     counts to its own (Active) and shares the call rate among the live
//     nodes (Nodes). RATIONALE.md gives the error margin.
//
// Life cycle: New (no I/O), Start (connects, waiting and retrying while
// NATS is down), Serve (the node's own calls, once its engine runs),
// Close.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmvoice/mediaserver/host/api"
)

// Defaults of Config.
const (
	DefaultRequestTimeout = 2 * time.Second
	DefaultHeartbeat      = time.Second
)

// subjectPrefix starts every subject this package uses.
const subjectPrefix = "mediaserver."

// Config is a node's settings.
type Config struct {
	// Name is the node's name ([cluster] node), unique in the cluster.
	Name string
	// NATS is the server URL (several: comma-separated).
	NATS string
	// RequestTimeout bounds a forwarded request (default 2 s).
	RequestTimeout time.Duration
	// Heartbeat is the announcement interval (default 1 s); a node silent
	// for three is gone.
	Heartbeat time.Duration
	// SIP and API are the addresses the node announces (informational:
	// listings and logs).
	SIP, API string
	Logger   *slog.Logger
}

// Local is what a node serves to the others: its own calls.
type Local struct {
	// Calls are this node's calls (host/control over its engine).
	Calls api.Calls
	// Sessions are this node's iotcomms operations (its engine); nil:
	// they are refused.
	Sessions IotOps
}

// Node is one node of the cluster. Its methods are safe for concurrent
// use.
type Node struct {
	cfg Config
	id  string
	idb [6]byte
	log *slog.Logger

	nc      *nats.Conn
	local   atomic.Pointer[Local]
	members *members

	mu    sync.Mutex
	mine  map[string]int  // this node's calls in progress, per tenant
	dirty map[string]bool // tenants whose count changed since the last publication
	kick  chan struct{}

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New returns the node of cfg, not connected.
func New(cfg Config) *Node {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, id: NodeID(cfg.Name), idb: nodeBytes(cfg.Name), mine: map[string]int{}, dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
	n.log = log.With("component", "cluster", "node", cfg.Name)
	n.members = newMembers(n.log, 3*cfg.Heartbeat)
	return n
}

// Name is the node's name; ID its id (NodeID).
func (n *Node) Name() string { return n.cfg.Name }

// ID is the node's id, as in its TransactionIds.
func (n *Node) ID() string { return n.id }

// NewTransactionID makes a TransactionId owned by this node.
func (n *Node) NewTransactionID() string { return newTransactionID(n.idb) }

func nodeSubject(id string) string { return subjectPrefix + "node." + id }

const heartbeatSubject = subjectPrefix + "heartbeat"

// Start connects to NATS, waiting (and saying so in the log) while it
// cannot be reached, until ctx ends; then makes sure no live node has
// this node's id, subscribes and starts announcing itself.
func (n *Node) Start(ctx context.Context) error {
	url := n.cfg.NATS
	nc, err := nats.Connect(url,
		nats.Name("mediaserver "+n.cfg.Name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.Timeout(2*time.Second),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if c.IsClosed() {
				return // Close
			}
			n.log.Warn("lost NATS; forwarding and cluster quotas wait for it, calls go on", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			n.log.Info("NATS is back", "server", c.ConnectedUrlRedacted())
			n.publishState()
		}),
	)
	if err != nil {
		return fmt.Errorf("cluster: nats %s: %w", url, err)
	}
	if !nc.IsConnected() {
		n.log.Warn("waiting for NATS; retrying", "url", url)
		t := time.NewTicker(100 * time.Millisecond)
		waited := time.Now()
		said := time.Now()
		for !nc.IsConnected() {
			select {
			case <-ctx.Done():
				t.Stop()
				nc.Close()
				return fmt.Errorf("cluster: waiting for NATS at %s: %w", url, ctx.Err())
			case <-t.C:
			}
			if time.Since(said) >= 10*time.Second {
				n.log.Warn("still waiting for NATS", "url", url, "waited", time.Since(waited).Round(time.Second))
				said = time.Now()
			}
		}
		t.Stop()
		n.log.Info("NATS reached", "url", url, "waited", time.Since(waited).Round(time.Millisecond))
	}
	n.nc = nc
	// A live node that answers on our subject has our id.
	if msg, err := nc.Request(nodeSubject(n.id), mustJSON(request{Op: opPing}), n.cfg.RequestTimeout); err == nil {
		var rep reply
		_ = json.Unmarshal(msg.Data, &rep)
		nc.Close()
		return fmt.Errorf("cluster: node %s (id %s): %w (%s)", n.cfg.Name, n.id, ErrDuplicateNode, rep.Value)
	}
	if _, err := nc.Subscribe(nodeSubject(n.id), n.onRequest); err != nil {
		nc.Close()
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	if _, err := nc.Subscribe(heartbeatSubject, n.onHeartbeat); err != nil {
		nc.Close()
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	if err := nc.FlushTimeout(n.cfg.RequestTimeout); err != nil {
		nc.Close()
		return fmt.Errorf("cluster: nats: %w", err)
	}
	hctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.heartbeats(hctx)
	}()
	go func() {
		defer n.wg.Done()
		n.publishChanges(hctx)
	}()
	n.publishState()
	n.log.Info("cluster node started", "id", n.id, "nats", nc.ConnectedUrlRedacted())
	return nil
}

// Serve makes this node answer the others' requests for its calls.
func (n *Node) Serve(l Local) { n.local.Store(&l) }

// Close says goodbye (the others drop this node at once), stops
// answering and disconnects.
func (n *Node) Close() error {
	n.local.Store(nil)
	if n.nc == nil {
		return nil
	}
	if n.stop != nil {
		n.stop()
		n.wg.Wait()
	}
	_ = n.nc.Publish(heartbeatSubject, mustJSON(state{Node: n.cfg.Name, ID: n.id, Bye: true}))
	_ = n.nc.FlushTimeout(time.Second)
	n.nc.Close()
	return nil
}

// Connected reports whether the node reaches NATS now.
func (n *Node) Connected() bool { return n.nc != nil && n.nc.IsConnected() }

// Members lists the other live nodes.
func (n *Node) Members() []Member { return n.members.list() }

// state is a node's announcement: a heartbeat (Full: Calls holds every
// tenant with calls in progress) or a change (only the tenants whose
// count changed), or its goodbye.
type state struct {
	Node  string         `json:"node"`
	ID    string         `json:"id"`
	SIP   string         `json:"sip,omitempty"`
	API   string         `json:"api,omitempty"`
	Calls map[string]int `json:"calls,omitempty"`
	Full  bool           `json:"full,omitempty"`
	Bye   bool           `json:"bye,omitempty"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the package's own message types are marshalled
	}
	return b
}

// publishState announces this node with every tenant's count.
func (n *Node) publishState() {
	if n.nc == nil {
		return
	}
	n.mu.Lock()
	calls := make(map[string]int, len(n.mine))
	for t, c := range n.mine {
		if c > 0 {
			calls[t] = c
		}
	}
	clear(n.dirty)
	n.mu.Unlock()
	_ = n.nc.Publish(heartbeatSubject, mustJSON(state{Node: n.cfg.Name, ID: n.id, SIP: n.cfg.SIP, API: n.cfg.API, Calls: calls, Full: true}))
}

// heartbeats announces the node every Heartbeat and forgets the nodes
// that went silent.
func (n *Node) heartbeats(ctx context.Context) {
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.publishState()
		n.members.expire(time.Now())
	}
}

// publishChanges publishes the tenants whose counts changed, as soon as
// they change (one message for all changes since the last one).
func (n *Node) publishChanges(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		}
		n.mu.Lock()
		if len(n.dirty) == 0 {
			n.mu.Unlock()
			continue
		}
		calls := make(map[string]int, len(n.dirty))
		for t := range n.dirty {
			calls[t] = n.mine[t]
			if n.mine[t] == 0 {
				delete(n.mine, t)
			}
		}
		clear(n.dirty)
		n.mu.Unlock()
		_ = n.nc.Publish(heartbeatSubject, mustJSON(state{Node: n.cfg.Name, ID: n.id, Calls: calls}))
	}
}

func (n *Node) onHeartbeat(m *nats.Msg) {
	var s state
	if err := json.Unmarshal(m.Data, &s); err != nil || s.ID == n.id || s.ID == "" {
		return
	}
	if n.members.update(s, time.Now()) {
		// A node we did not know: tell it our counts now rather than at
		// our next heartbeat.
		n.publishState()
	}
}

// Changed tells the cluster this node's calls in progress for tenant
// (tenancy calls it at every admission and release).
func (n *Node) Changed(tenant string, active int) {
	n.mu.Lock()
	n.mine[tenant] = active
	n.dirty[tenant] = true
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Active is the calls in progress of tenant on the other live nodes, as
// they last announced them.
func (n *Node) Active(tenant string) int { return n.members.active(tenant) }

// Nodes is the number of live nodes, this one included.
func (n *Node) Nodes() int { return 1 + n.members.count() }

// request sends req to node id and decodes its reply. A node with no
// subscriber (gone) is errGone; no answer in time, or NATS down, is
// ErrNodeUnreachable.
func (n *Node) request(ctx context.Context, id string, req request) (reply, error) {
	if n.nc == nil {
		return reply{}, ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	msg, err := n.nc.RequestWithContext(ctx, nodeSubject(id), mustJSON(req))
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return reply{}, errGone
	case err != nil:
		return reply{}, fmt.Errorf("%w: node %s: %w", ErrNodeUnreachable, id, err)
	}
	var rep reply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return reply{}, fmt.Errorf("cluster: node %s: bad reply: %w", id, err)
	}
	return rep, nil
}

// errGone: no node answers to the id (it died or left).
var errGone = errors.New("no live node has this id")
