package server

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/engine"
	tenantpkg "github.com/wasmvoice/mediaserver/host/tenant"
)

// CallsAPI implements api.Calls (Chime's CreateSipMediaApplicationCall,
// UpdateSipMediaApplicationCall, and call listing and hang-up) over the
// server's engine. Get it with Server.CallsAPI after Start; api.go mounts
// it on the API listener.
type CallsAPI struct{ s *Server }

var _ api.Calls = (*CallsAPI)(nil)

// CallsAPI returns the server's api.Calls implementation.
func (s *Server) CallsAPI() *CallsAPI { return &CallsAPI{s: s} }

// appRoute finds tenant's application appID in the registry, so an
// application created through the API can place calls at once. Its SIP
// rule id is the lowest number routed to it (stable across calls), or the
// application id when no number routes to it. nil when there is no such
// application.
func (s *Server) appRoute(tenant, appID string) (*admission, error) {
	if _, err := s.ten.reg.GetApp(tenant, appID); err != nil {
		if errors.Is(err, tenantpkg.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	q, _ := s.ten.reg.Quotas(tenant)
	r := &admission{tenant: tenant, app: appID, number: appID, handler: &appHandler{s, tenant, appID},
		reserve: s.effectiveQuotas(q).EventDeadline}
	nums, err := s.ten.reg.ListNumbers(tenant)
	if err != nil {
		return nil, err
	}
	first := ""
	for _, n := range nums {
		if n.App == appID && (first == "" || n.Number < first) {
			first = n.Number
		}
	}
	if first != "" {
		r.number = first
	}
	return r, nil
}

// CreateCall dials req.ToPhoneNumber for tenant's application appID and
// returns the transaction id at once, while the call rings.
func (c *CallsAPI) CreateCall(_ context.Context, tenant, appID string, req api.CreateCallRequest) (string, error) {
	s := c.s
	if s.engine == nil {
		return "", fmt.Errorf("%w: %w", api.ErrUnavailable, ErrNotStarted)
	}
	r, err := s.appRoute(tenant, appID)
	if err != nil {
		return "", fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	if r == nil {
		return "", fmt.Errorf("%w: application %s", api.ErrNotFound, appID)
	}
	call, err := s.engine.Outbound(engine.App{
		TenantID:              tenant,
		SipMediaApplicationID: appID,
		SipRuleID:             r.number,
		Handler:               s.invoker(r),
	}, engine.OutboundRequest{
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
		errors.Is(err, engine.ErrTooManyArguments), errors.Is(err, ErrCallerID):
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	case errors.Is(err, ErrNoTrunk), errors.Is(err, engine.ErrNoDialer), errors.Is(err, engine.ErrClosed),
		errors.Is(err, ErrNotStarted):
		return fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	return err
}

// owned returns the live call txID if it belongs to tenant ("" = any) and,
// when appID is set, to that application.
func (c *CallsAPI) owned(tenant, appID, txID string) (engine.CallSummary, bool) {
	if c.s.engine == nil {
		return engine.CallSummary{}, false
	}
	for _, cs := range c.s.engine.Calls() {
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
func (c *CallsAPI) UpdateCall(_ context.Context, tenant, appID, txID string, args map[string]string) error {
	if appID == "" {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	if _, ok := c.owned(tenant, appID, txID); !ok {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	if err := c.s.engine.Update(txID, args); err != nil {
		return apiError(err)
	}
	return nil
}

// HangupCall ends one of tenant's calls (tenant "" may end any), also
// while it rings: CANCEL, BYE or 480 as the state requires.
func (c *CallsAPI) HangupCall(_ context.Context, tenant, txID string) error {
	if _, ok := c.owned(tenant, "", txID); !ok {
		return fmt.Errorf("%w: call %s", api.ErrNotFound, txID)
	}
	if err := c.s.engine.Hangup(txID); err != nil {
		return apiError(err)
	}
	return nil
}

// ListCalls lists tenant's live calls (tenant "" lists all), oldest first.
func (c *CallsAPI) ListCalls(tenant string) []api.Call {
	out := []api.Call{}
	if c.s.engine == nil {
		return out
	}
	for _, cs := range c.s.engine.Calls() {
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
