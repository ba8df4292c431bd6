package control

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/callleg"
	"github.com/wasmvoice/mediaserver/host/engine"
)

// Apps finds the application an outbound call runs under (the tenancy).
type Apps interface {
	// OutboundApp returns the engine.App of tenant's application appID
	// for an outbound call; found is false when there is no such
	// application.
	OutboundApp(tenant, appID string) (app engine.App, found bool, err error)
}

// Calls implements api.Calls (Chime's CreateSipMediaApplicationCall,
// UpdateSipMediaApplicationCall, and call listing and hang-up) over the
// call engine and the tenants' applications.
type Calls struct {
	engine *engine.Engine // nil: not started
	// sessions runs the iotcomms operations on live sessions: the
	// engine, or on a cluster the node that owns the session.
	sessions IotOps
	apps     Apps
}

var _ api.Calls = (*Calls)(nil)

// NewCalls returns the calls API over e (nil before the server started:
// every call then fails with api.ErrUnavailable) and apps.
func NewCalls(e *engine.Engine, apps Apps) *Calls {
	c := &Calls{engine: e, apps: apps}
	if e != nil {
		c.sessions = e
	}
	return c
}

// WithSessions makes the iotcomms operations on live sessions go through
// ops (a cluster's, which finds the node owning the session) instead of
// this node's engine.
func (c *Calls) WithSessions(ops IotOps) *Calls {
	c.sessions = ops
	return c
}

// CreateCall dials req.ToPhoneNumber for tenant's application appID and
// returns the transaction id at once, while the call rings.
func (c *Calls) CreateCall(_ context.Context, tenant, appID string, req api.CreateCallRequest) (string, error) {
	if c.engine == nil {
		return "", fmt.Errorf("%w: %w", api.ErrUnavailable, ErrNotStarted)
	}
	app, found, err := c.apps.OutboundApp(tenant, appID)
	if err != nil {
		return "", fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	if !found {
		return "", fmt.Errorf("%w: application %s", api.ErrNotFound, appID)
	}
	call, err := c.engine.Outbound(app, engine.OutboundRequest{
		From:       req.FromPhoneNumber,
		To:         req.ToPhoneNumber,
		SipHeaders: req.SipHeaders,
		Arguments:  req.ArgumentsMap,
	})
	if err != nil {
		return "", apiError(err)
	}
	return call.TransactionID(), nil
}

// apiError maps engine and dialer errors to the API's classes.
func apiError(err error) error {
	switch {
	case errors.Is(err, engine.ErrCallNotFound):
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	case errors.Is(err, engine.ErrInvalidNumber), errors.Is(err, engine.ErrInvalidHeader),
		errors.Is(err, engine.ErrTooManyArguments), errors.Is(err, callleg.ErrCallerID):
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	case errors.Is(err, callleg.ErrNotAllowed):
		return fmt.Errorf("%w: %w", api.ErrForbidden, err)
	case errors.Is(err, callleg.ErrNoTrunk), errors.Is(err, engine.ErrNoDialer), errors.Is(err, engine.ErrClosed),
		errors.Is(err, callleg.ErrClosed), errors.Is(err, ErrNotStarted):
		return fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	return err
}

// owned returns the live call txID if it belongs to tenant ("" = any) and,
// when appID is set, to that application.
func (c *Calls) owned(tenant, appID, txID string) (engine.CallSummary, bool) {
	if c.engine == nil {
		return engine.CallSummary{}, false
	}
	for _, cs := range c.engine.Calls() {
		if cs.TransactionID != txID {
			continue
		}
		ok := (tenant == "" || cs.TenantID == tenant) && (appID == "" || cs.SipMediaApplicationID == appID)
		return cs, ok
	}
	return engine.CallSummary{}, false
}

// UpdateCall queues CALL_UPDATE_REQUESTED (the API answers 202). Another
// tenant's or application's call is api.ErrNotFound, like a missing one.
func (c *Calls) UpdateCall(_ context.Context, tenant, appID, txID string, args map[string]string) error {
	if appID == "" {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	if _, ok := c.owned(tenant, appID, txID); !ok {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	if err := c.engine.Update(txID, args); err != nil {
		return apiError(err)
	}
	return nil
}

// HangupCall ends one of tenant's calls (tenant "" may end any), also
// while it rings: CANCEL, BYE or 480 as the state requires.
func (c *Calls) HangupCall(_ context.Context, tenant, txID string) error {
	if _, ok := c.owned(tenant, "", txID); !ok {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	if err := c.engine.Hangup(txID); err != nil {
		return apiError(err)
	}
	return nil
}

// ListCalls lists tenant's live calls (tenant "" lists all), oldest first.
func (c *Calls) ListCalls(tenant string) []api.Call {
	out := []api.Call{}
	if c.engine == nil {
		return out
	}
	for _, cs := range c.engine.Calls() {
		if tenant != "" && cs.TenantID != tenant {
			continue
		}
		out = append(out, api.Call{
			TransactionID: cs.TransactionID, TenantID: cs.TenantID,
			SipMediaApplicationID: cs.SipMediaApplicationID, CallID: cs.CallID,
			From: cs.From, To: cs.To, Direction: cs.Direction, StartTime: cs.StartTime.UTC(),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime.Before(out[j].StartTime) })
	return out
}
