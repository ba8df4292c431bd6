package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/engine"
)

// The operations one node asks of another.
const (
	opPing   = "ping"
	opUpdate = "update"
	opHangup = "hangup"
	opList   = "list"
	opGet    = "get"
	// iotcomms operations (Sessions).
	opIotSplit      = "iot.splitconnection"
	opIotConnect    = "iot.connect"
	opIotConference = "iot.createconferenceconnection"
	opIotInterrupt  = "iot.interruptivrcommand"
	opIotHangup     = "iot.hangupparticipant"
	opIotStopRec    = "iot.stoprecording"
)

// request is one node's request to another.
type request struct {
	Op     string            `json:"op"`
	Tenant string            `json:"tenant,omitempty"`
	App    string            `json:"app,omitempty"`
	ID     string            `json:"id,omitempty"` // transaction, session, connection or participant id
	Other  string            `json:"other,omitempty"`
	Args   map[string]string `json:"args,omitempty"`
}

// Error classes of a reply, mapped back to the callers' sentinels.
const (
	codeOK          = ""
	codeNotFound    = "not_found"
	codeInvalid     = "invalid"
	codeLimit       = "limit"
	codeUnavailable = "unavailable"
	codeError       = "error"
)

type reply struct {
	Code    string     `json:"code,omitempty"`
	Message string     `json:"message,omitempty"`
	Value   string     `json:"value,omitempty"`
	Calls   []api.Call `json:"calls,omitempty"`
}

func errorReply(err error) reply {
	code := codeError
	switch {
	case errors.Is(err, api.ErrNotFound), errors.Is(err, engine.ErrCallNotFound):
		code = codeNotFound
	case errors.Is(err, api.ErrInvalid), errors.Is(err, engine.ErrInvalidArgument):
		code = codeInvalid
	case errors.Is(err, api.ErrLimitExceeded):
		code = codeLimit
	case errors.Is(err, api.ErrUnavailable), errors.Is(err, ErrNotServing):
		code = codeUnavailable
	}
	return reply{Code: code, Message: err.Error()}
}

// onRequest answers another node about this node's calls.
func (n *Node) onRequest(m *nats.Msg) {
	var req request
	var rep reply
	if err := json.Unmarshal(m.Data, &req); err != nil {
		rep = reply{Code: codeInvalid, Message: "cluster: bad request: " + err.Error()}
	} else {
		rep = n.serve(req)
	}
	_ = m.Respond(mustJSON(rep))
}

func (n *Node) serve(req request) reply {
	if req.Op == opPing {
		return reply{Value: n.cfg.Name}
	}
	l := n.local.Load()
	if l == nil {
		return errorReply(ErrNotServing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.RequestTimeout)
	defer cancel()
	var err error
	var value string
	switch req.Op {
	case opUpdate:
		err = l.Calls.UpdateCall(ctx, req.Tenant, req.App, req.ID, req.Args)
	case opHangup:
		err = l.Calls.HangupCall(ctx, req.Tenant, req.ID)
	case opList:
		return reply{Calls: l.Calls.ListCalls(req.Tenant)}
	case opGet:
		for _, c := range l.Calls.ListCalls(req.Tenant) {
			if c.TransactionID == req.ID {
				return reply{Calls: []api.Call{c}}
			}
		}
		err = fmt.Errorf("%w: call %s", api.ErrNotFound, req.ID)
	default:
		value, err = n.serveSession(l.Sessions, req)
	}
	if err != nil {
		return errorReply(err)
	}
	return reply{Value: value}
}

func (n *Node) serveSession(s IotOps, req request) (string, error) {
	if s == nil {
		return "", fmt.Errorf("%w: iotcomms operations", ErrNotServing)
	}
	switch req.Op {
	case opIotSplit:
		return "", s.IotSplitConnection(req.Tenant, req.ID, req.Other)
	case opIotConnect:
		return "", s.IotConnect(req.Tenant, req.ID, req.Other)
	case opIotConference:
		return s.IotCreateConference(req.Tenant, req.ID)
	case opIotInterrupt:
		return "", s.IotInterruptIvrCommand(req.Tenant, req.ID)
	case opIotHangup:
		return "", s.IotHangupParticipant(req.Tenant, req.ID)
	case opIotStopRec:
		return "", s.IotStopRecording(req.Tenant, req.ID)
	}
	return "", fmt.Errorf("%w: unknown operation %q", api.ErrInvalid, req.Op)
}

// remote returns the owner of id when it is another node.
func (n *Node) remote(id string) (string, bool) {
	owner, ok := Owner(id)
	return owner, ok && owner != n.id
}

// Calls is api.Calls for the whole cluster, over this node's own: a call
// is created here; an update, hang-up or get of a call another node owns
// goes to that node; a listing asks every live node.
type Calls struct {
	n     *Node
	local api.Calls
}

var _ api.Calls = (*Calls)(nil)

// Calls wraps this node's calls API (host/control) into the cluster's.
func (n *Node) Calls(local api.Calls) *Calls { return &Calls{n: n, local: local} }

// The iotcomms operations (api.IotCalls) are the local calls API's, which
// a cluster node builds over Sessions (control.Calls.WithSessions): a
// /placeivrcall starts its session on this node; an operation on a live
// session goes to the session's node.

var _ api.IotCalls = (*Calls)(nil)

func (c *Calls) iot() (api.IotCalls, error) {
	ic, ok := c.local.(api.IotCalls)
	if !ok {
		return nil, fmt.Errorf("%w: iotcomms sessions are not served here", api.ErrUnavailable)
	}
	return ic, nil
}

// PlaceIvrCall starts a session on this node.
func (c *Calls) PlaceIvrCall(ctx context.Context, tenant, appID string, req api.PlaceIvrCallRequest) (api.PlaceIvrCallResponse, error) {
	ic, err := c.iot()
	if err != nil {
		return api.PlaceIvrCallResponse{}, err
	}
	return ic.PlaceIvrCall(ctx, tenant, appID, req)
}

// SplitConnection, Connect, CreateConferenceConnection,
// InterruptIvrCommand, HangupParticipant and StopRecording act on a live
// session, wherever it runs.
func (c *Calls) SplitConnection(ctx context.Context, tenant, connectionID, replyID string) error {
	ic, err := c.iot()
	if err != nil {
		return err
	}
	return ic.SplitConnection(ctx, tenant, connectionID, replyID)
}

func (c *Calls) Connect(ctx context.Context, tenant, a, b string) error {
	ic, err := c.iot()
	if err != nil {
		return err
	}
	return ic.Connect(ctx, tenant, a, b)
}

func (c *Calls) CreateConferenceConnection(ctx context.Context, tenant, sessionID string) (string, error) {
	ic, err := c.iot()
	if err != nil {
		return "", err
	}
	return ic.CreateConferenceConnection(ctx, tenant, sessionID)
}

func (c *Calls) InterruptIvrCommand(ctx context.Context, tenant, participantID string) error {
	ic, err := c.iot()
	if err != nil {
		return err
	}
	return ic.InterruptIvrCommand(ctx, tenant, participantID)
}

func (c *Calls) HangupParticipant(ctx context.Context, tenant, participantID string) error {
	ic, err := c.iot()
	if err != nil {
		return err
	}
	return ic.HangupParticipant(ctx, tenant, participantID)
}

func (c *Calls) StopRecording(ctx context.Context, tenant, sessionID string) error {
	ic, err := c.iot()
	if err != nil {
		return err
	}
	return ic.StopRecording(ctx, tenant, sessionID)
}

// apiError maps a reply's class (or a transport failure) to host/api's.
func (n *Node) apiError(owner string, rep reply, err error) error {
	switch {
	case errors.Is(err, errGone):
		n.members.drop(owner)
		return fmt.Errorf("%w: the call's node is gone", api.ErrNotFound)
	case err != nil:
		return fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	switch rep.Code {
	case codeOK:
		return nil
	case codeNotFound:
		return fmt.Errorf("%w: %s", api.ErrNotFound, rep.Message)
	case codeInvalid:
		return fmt.Errorf("%w: %s", api.ErrInvalid, rep.Message)
	case codeLimit:
		return fmt.Errorf("%w: %s", api.ErrLimitExceeded, rep.Message)
	case codeUnavailable:
		return fmt.Errorf("%w: %s", api.ErrUnavailable, rep.Message)
	}
	return errors.New(rep.Message)
}

// CreateCall places the call from this node, which owns it.
func (c *Calls) CreateCall(ctx context.Context, tenant, appID string, req api.CreateCallRequest) (string, error) {
	return c.local.CreateCall(ctx, tenant, appID, req)
}

// UpdateCall reaches the call on whichever node owns it.
func (c *Calls) UpdateCall(ctx context.Context, tenant, appID, txID string, args map[string]string) error {
	owner, ok := c.n.remote(txID)
	if !ok {
		return c.local.UpdateCall(ctx, tenant, appID, txID, args)
	}
	rep, err := c.n.request(ctx, owner, request{Op: opUpdate, Tenant: tenant, App: appID, ID: txID, Args: args})
	return c.n.apiError(owner, rep, err)
}

// HangupCall reaches the call on whichever node owns it.
func (c *Calls) HangupCall(ctx context.Context, tenant, txID string) error {
	owner, ok := c.n.remote(txID)
	if !ok {
		return c.local.HangupCall(ctx, tenant, txID)
	}
	rep, err := c.n.request(ctx, owner, request{Op: opHangup, Tenant: tenant, ID: txID})
	return c.n.apiError(owner, rep, err)
}

// GetCall returns one live call of tenant ("" = any), from whichever node
// owns it.
func (c *Calls) GetCall(ctx context.Context, tenant, txID string) (api.Call, error) {
	owner, ok := c.n.remote(txID)
	if !ok {
		for _, call := range c.local.ListCalls(tenant) {
			if call.TransactionID == txID {
				return call, nil
			}
		}
		return api.Call{}, fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	rep, err := c.n.request(ctx, owner, request{Op: opGet, Tenant: tenant, ID: txID})
	if err := c.n.apiError(owner, rep, err); err != nil {
		return api.Call{}, err
	}
	if len(rep.Calls) != 1 {
		return api.Call{}, fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	return rep.Calls[0], nil
}

// ListCalls lists tenant's live calls ("" = all) on every live node,
// oldest first. A node that does not answer in time is left out (and
// logged); one that is gone has no calls.
func (c *Calls) ListCalls(tenant string) []api.Call {
	out := c.local.ListCalls(tenant)
	ms := c.n.members.list()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := c.n.request(context.Background(), m.ID, request{Op: opList, Tenant: tenant})
			if err == nil && rep.Code != codeOK {
				err = errors.New(rep.Message)
			}
			if errors.Is(err, errGone) {
				c.n.members.drop(m.ID)
				return
			}
			if err != nil {
				c.n.log.Warn("listing calls: a node did not answer; its calls are left out", "peer", m.Name, "err", err)
				return
			}
			mu.Lock()
			out = append(out, rep.Calls...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].StartTime.Equal(out[j].StartTime) {
			return out[i].StartTime.Before(out[j].StartTime)
		}
		return out[i].TransactionID < out[j].TransactionID
	})
	return out
}

// IotOps is the iotcomms operations on live sessions
// (host/engine/iotcomms_api.go); *engine.Engine implements it.
type IotOps interface {
	IotSplitConnection(tenant, connectionID, replyID string) error
	IotConnect(tenant, participantA, participantB string) error
	IotCreateConference(tenant, sessionID string) (string, error)
	IotInterruptIvrCommand(tenant, participantID string) error
	IotHangupParticipant(tenant, participantID string) error
	IotStopRecording(tenant, sessionID string) error
}

var _ IotOps = (*engine.Engine)(nil)

// Sessions is IotOps for the whole cluster: an id starts with its
// session's transaction id, whose owner runs the operation.
type Sessions struct {
	n     *Node
	local IotOps
}

var _ IotOps = (*Sessions)(nil)

// Sessions wraps this node's iotcomms operations (its engine) into the
// cluster's.
func (n *Node) Sessions(local IotOps) *Sessions { return &Sessions{n: n, local: local} }

// engineError maps a reply's class to the engine's sentinels, as the
// local engine would have answered.
func (n *Node) engineError(owner string, rep reply, err error) error {
	switch {
	case errors.Is(err, errGone):
		n.members.drop(owner)
		return fmt.Errorf("%w: the session's node is gone", engine.ErrCallNotFound)
	case err != nil:
		return err
	}
	switch rep.Code {
	case codeOK:
		return nil
	case codeNotFound:
		return fmt.Errorf("%w: %s", engine.ErrCallNotFound, rep.Message)
	case codeInvalid:
		return fmt.Errorf("%w: %s", engine.ErrInvalidArgument, rep.Message)
	case codeUnavailable:
		return fmt.Errorf("%w: %s", ErrNotServing, rep.Message)
	}
	return errors.New(rep.Message)
}

func (s *Sessions) do(req request, local func() (string, error)) (string, error) {
	owner, ok := s.n.remote(req.ID)
	if !ok {
		return local()
	}
	rep, err := s.n.request(context.Background(), owner, req)
	if err := s.n.engineError(owner, rep, err); err != nil {
		return "", err
	}
	return rep.Value, nil
}

func noValue(err error) (string, error) { return "", err }

// IotSplitConnection splits a connection on the session's node.
func (s *Sessions) IotSplitConnection(tenant, connectionID, replyID string) error {
	_, err := s.do(request{Op: opIotSplit, Tenant: tenant, ID: connectionID, Other: replyID},
		func() (string, error) { return noValue(s.local.IotSplitConnection(tenant, connectionID, replyID)) })
	return err
}

// IotConnect connects two participants on the session's node.
func (s *Sessions) IotConnect(tenant, participantA, participantB string) error {
	_, err := s.do(request{Op: opIotConnect, Tenant: tenant, ID: participantA, Other: participantB},
		func() (string, error) { return noValue(s.local.IotConnect(tenant, participantA, participantB)) })
	return err
}

// IotCreateConference creates a conference connection on the session's
// node.
func (s *Sessions) IotCreateConference(tenant, sessionID string) (string, error) {
	return s.do(request{Op: opIotConference, Tenant: tenant, ID: sessionID},
		func() (string, error) { return s.local.IotCreateConference(tenant, sessionID) })
}

// IotInterruptIvrCommand interrupts an IVR command on the session's node.
func (s *Sessions) IotInterruptIvrCommand(tenant, participantID string) error {
	_, err := s.do(request{Op: opIotInterrupt, Tenant: tenant, ID: participantID},
		func() (string, error) { return noValue(s.local.IotInterruptIvrCommand(tenant, participantID)) })
	return err
}

// IotHangupParticipant hangs a participant up on the session's node.
func (s *Sessions) IotHangupParticipant(tenant, participantID string) error {
	_, err := s.do(request{Op: opIotHangup, Tenant: tenant, ID: participantID},
		func() (string, error) { return noValue(s.local.IotHangupParticipant(tenant, participantID)) })
	return err
}

// IotStopRecording stops the session's recordings on its node.
func (s *Sessions) IotStopRecording(tenant, sessionID string) error {
	_, err := s.do(request{Op: opIotStopRec, Tenant: tenant, ID: sessionID},
		func() (string, error) { return noValue(s.local.IotStopRecording(tenant, sessionID)) })
	return err
}
