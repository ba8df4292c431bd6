package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/cluster"
	"github.com/wasmvoice/mediaserver/host/control"
)

// A node of a cluster ([cluster] in the configuration, deploy/README.md):
// the cluster node (host/cluster) is made in New and given to the
// tenancy's quotas, connected first in Start (it waits for NATS), makes
// the engine's TransactionIds, wraps the calls API so that any node
// reaches any call, and serves this node's calls to the others once the
// engine runs. Without [cluster] none of this exists.

// newNode makes the cluster node of the configuration (nil without one).
func (s *Server) newNode() {
	cc := s.cfg.Cluster
	if !cc.Enabled() {
		return
	}
	sipAddr := strings.Join(append(append([]string{}, s.cfg.SIP.UDP...), s.cfg.SIP.TCP...), ",")
	s.node = cluster.New(cluster.Config{
		Name:           cc.Node,
		NATS:           cc.NATS,
		RequestTimeout: cc.RequestTimeout.Duration,
		Heartbeat:      cc.Heartbeat.Duration,
		SIP:            sipAddr,
		API:            s.cfg.API.Listen,
		Logger:         s.log,
	})
	s.opts.ten.Peers = s.node
}

// startNode connects the node to NATS, waiting for it.
func (s *Server) startNode(ctx context.Context) error {
	if s.node == nil {
		return nil
	}
	if err := s.node.Start(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// newTransactionID is the engine's id maker: the node's on a cluster.
func (s *Server) newTransactionID() func() string {
	if s.node == nil {
		return nil
	}
	return s.node.NewTransactionID
}

// apiCalls is what the control API serves: this server's calls, or on a
// cluster every node's.
func (s *Server) apiCalls() api.Calls {
	local := s.CallsAPI()
	if s.node == nil {
		return local
	}
	if s.engine != nil {
		local.WithSessions(s.node.Sessions(s.engine))
	}
	return s.node.Calls(local)
}

// serveNode answers the other nodes about this node's calls, once the
// engine runs.
func (s *Server) serveNode() {
	if s.node != nil {
		s.node.Serve(cluster.Local{Calls: s.CallsAPI(), Sessions: s.engine})
	}
}

// closeNode says goodbye to the cluster.
func (s *Server) closeNode() error {
	if s.node == nil {
		return nil
	}
	return s.node.Close()
}

// Node returns the cluster node (nil without [cluster]).
func (s *Server) Node() *cluster.Node { return s.node }

// ClusterCalls returns the calls API of the whole cluster (host/cluster),
// or this server's (host/control) without [cluster]: get it after Start.
func (s *Server) ClusterCalls() api.Calls {
	if s.node == nil {
		return s.CallsAPI()
	}
	return s.node.Calls(s.CallsAPI())
}

var _ api.Calls = (*control.Calls)(nil)
