package cluster

import (
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Member is another live node, as its heartbeats describe it.
type Member struct {
	Name, ID string
	SIP, API string
	// Calls is its calls in progress per tenant.
	Calls    map[string]int
	LastSeen time.Time
}

// members is what this node knows of the others.
type members struct {
	log *slog.Logger
	ttl time.Duration

	mu    sync.Mutex
	nodes map[string]*Member // by id
}

func newMembers(log *slog.Logger, ttl time.Duration) *members {
	return &members{log: log, ttl: ttl, nodes: map[string]*Member{}}
}

// update applies a node's announcement; it reports whether the node was
// unknown.
func (ms *members) update(s state, now time.Time) (joined bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m, ok := ms.nodes[s.ID]
	if s.Bye {
		if ok {
			delete(ms.nodes, s.ID)
			ms.log.Info("node left", "peer", m.Name)
		}
		return false
	}
	if !ok {
		m = &Member{Name: s.Node, ID: s.ID, Calls: map[string]int{}}
		ms.nodes[s.ID] = m
		ms.log.Info("node joined", "peer", s.Node, "peer_id", s.ID, "sip", s.SIP, "api", s.API)
	}
	m.LastSeen = now
	if s.SIP != "" {
		m.SIP, m.API = s.SIP, s.API
	}
	if s.Full {
		m.Calls = map[string]int{}
	}
	for t, c := range s.Calls {
		if c > 0 {
			m.Calls[t] = c
		} else {
			delete(m.Calls, t)
		}
	}
	return !ok
}

// expire forgets the nodes silent for longer than the ttl.
func (ms *members) expire(now time.Time) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for id, m := range ms.nodes {
		if now.Sub(m.LastSeen) > ms.ttl {
			delete(ms.nodes, id)
			ms.log.Warn("node gone: no heartbeat", "peer", m.Name, "silent", now.Sub(m.LastSeen).Round(time.Millisecond))
		}
	}
}

// drop forgets a node at once (it answered no request: it is gone).
func (ms *members) drop(id string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if m, ok := ms.nodes[id]; ok {
		delete(ms.nodes, id)
		ms.log.Warn("node gone: no subscriber", "peer", m.Name)
	}
}

func (ms *members) active(tenant string) int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	n := 0
	for _, m := range ms.nodes {
		n += m.Calls[tenant]
	}
	return n
}

func (ms *members) count() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.nodes)
}

// list returns copies of the live members, by name.
func (ms *members) list() []Member {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	out := make([]Member, 0, len(ms.nodes))
	for _, m := range ms.nodes {
		c := *m
		c.Calls = make(map[string]int, len(m.Calls))
		for t, v := range m.Calls {
			c.Calls[t] = v
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
