package cluster

import "errors"

// Errors, wrapped with context; test with errors.Is.
var (
	// ErrDuplicateNode: another live node answers to this node's id (the
	// same name, or a name whose id collides).
	ErrDuplicateNode = errors.New("another live node has this node's id")
	// ErrNodeUnreachable: the owner of a call did not answer in time, or
	// NATS is down. The call may still be live.
	ErrNodeUnreachable = errors.New("the node that owns the call did not answer")
	// ErrNotServing: a node received a request before its calls were
	// wired (Serve), or after Close.
	ErrNotServing = errors.New("node is not serving calls yet")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("cluster node is closed")
)
