package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/wasmvoice/mediaserver/abi"
)

// OutboundRequest is Chime's CreateSipMediaApplicationCall.
type OutboundRequest struct {
	// From is the caller id and To the number to call, both E.164.
	From, To string
	// SipHeaders go on the INVITE and, unlike in Chime, reach the plugin in
	// Participants[0].SipHeaders of every event. Only X- headers,
	// User-to-User and Diversion, at most 20.
	SipHeaders map[string]string
	// Arguments is Chime's ArgumentsMap (at most 20): it reaches the plugin
	// in NEW_OUTBOUND_CALL's ActionData {Type:"CallCreateRequest",
	// Parameters:{Arguments:{…}}}, as in Chime. Store what later events
	// need in TransactionAttributes.
	Arguments map[string]string
}

// maxCreateEntries is Chime's limit on SipHeaders and ArgumentsMap.
const maxCreateEntries = 20

// Outbound places an outbound call for app (Chime's
// CreateSipMediaApplicationCall): it dials req.To through Config.Dialer and
// returns the call at once, while it rings. The plugin gets
// NEW_OUTBOUND_CALL (response ignored but for TransactionAttributes),
// RINGING (likewise), then CALL_ANSWERED, whose response is the first action
// list; or, if the call fails, HANGUP with the SIP code in
// Parameters.SipResponseCode (486 busy, 480 or 408 no answer, 487
// cancelled, 603 declined…), its response ignored. LEG-A is the called
// party, Direction "Outbound", From/To as in req. A Hangup action, or
// Engine.Hangup, cancels a call that still rings (HANGUP with 487);
// Config.RingTimeout does the same with 408.
func (e *Engine) Outbound(app App, req OutboundRequest) (*Call, error) {
	if app.Handler == nil {
		return nil, ErrInvalidCall
	}
	if e.cfg.Dialer == nil {
		return nil, ErrNoDialer
	}
	if !abi.IsE164(req.From) {
		return nil, fmt.Errorf("%w: from %q", ErrInvalidNumber, req.From)
	}
	if !abi.IsE164(req.To) {
		return nil, fmt.Errorf("%w: to %q", ErrInvalidNumber, req.To)
	}
	if len(req.Arguments) > maxCreateEntries {
		return nil, fmt.Errorf("%w: %d arguments, at most %d", ErrTooManyArguments, len(req.Arguments), maxCreateEntries)
	}
	if err := checkHeaders(req.SipHeaders); err != nil {
		return nil, err
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	a := &participant{
		kind:      KindDialled,
		tag:       abi.LegA,
		direction: abi.DirectionOutbound,
		from:      req.From,
		to:        req.To,
		start:     e.cfg.Clock.Now(),
		headers:   maps.Clone(req.SipHeaders),
		dialing:   true,
	}
	c := newCall(e, app, a)
	args := maps.Clone(req.Arguments)
	if args == nil {
		args = map[string]string{}
	}
	leg, cancel, err := e.cfg.Dialer.Dial(DialRequest{
		From:                  req.From,
		To:                    req.To,
		SipHeaders:            maps.Clone(req.SipHeaders),
		TenantID:              app.TenantID,
		SipMediaApplicationID: app.SipMediaApplicationID,
		TransactionID:         c.txID,
	}, DialEvents{
		Ringing:  func() { c.post(func() { c.onOutboundRinging(a) }) },
		Answered: func() { c.post(func() { c.onOutboundAnswered(a) }) },
		Failed:   func(code int, err error) { c.post(func() { c.onOutboundFailed(a, code, err) }) },
		Digit: func(d rune) {
			if validDigit(d) {
				c.post(func() { c.onDigit(a, d) })
			}
		},
		Hangup:   func() { c.post(func() { c.onLegGone(a, 0) }) },
		Reinvite: func(apply func()) { c.post(func() { c.onReinvite(a, apply) }) },
	})
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("dial %s: %w", req.To, err)
	}
	if leg == nil {
		c.cancel()
		if cancel != nil {
			cancel()
		}
		return nil, fmt.Errorf("dial %s: %w", req.To, ErrInvalidCall)
	}
	a.leg = leg
	a.cancelDial = cancel
	c.init()
	c.first = func() {
		c.ringTimer.start(e.cfg.RingTimeout, func() { c.onOutboundTimeout(a) })
		params, _ := json.Marshal(abi.CallUpdateRequestParameters{Arguments: args})
		ad := &abi.ActionData{Type: abi.ActionCallCreateRequest, Parameters: params}
		c.deliver(c.newEvent(abi.EventNewOutboundCall, ad), applyAttrs)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		c.cancel()
		if cancel != nil {
			cancel()
		}
		return nil, ErrClosed
	}
	e.calls[c.txID] = c
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		c.run()
	}()
	return c, nil
}

// Hangup ends a call from the control API: legs that ring are cancelled,
// answered ones get BYE, an inbound call not answered is rejected with 480.
// The plugin gets a HANGUP event per leg (responses ignored). It returns
// once the request is queued; ErrCallNotFound for an unknown or finished
// call.
func (e *Engine) Hangup(txID string) error {
	e.mu.Lock()
	c := e.calls[txID]
	e.mu.Unlock()
	if c == nil || !c.post(c.hangupAll) {
		return fmt.Errorf("%w: %s", ErrCallNotFound, txID)
	}
	return nil
}

func (c *Call) onOutboundRinging(a *participant) {
	if !a.dialing || c.ended {
		return
	}
	c.deliver(c.newEvent(abi.EventRinging, nil), applyAttrs)
}

func (c *Call) onOutboundAnswered(a *participant) {
	if !a.dialing || c.ended {
		return
	}
	c.ringTimer.stop()
	a.dialing = false
	a.answered = true
	c.log.Info("outbound call answered")
	c.deliver(c.newEvent(abi.EventCallAnswered, nil), applyIdle)
}

func (c *Call) onOutboundFailed(a *participant, code int, err error) {
	if !a.dialing || c.ended {
		return
	}
	c.ringTimer.stop()
	a.dialing = false
	if code <= 0 {
		code = 480
	}
	c.log.Info("outbound call failed", "sip_response_code", code, "err", err)
	c.stopMedia()
	c.release(a)
	c.legEnded(a, code)
}

func (c *Call) onOutboundTimeout(a *participant) {
	if !a.dialing || c.ended {
		return
	}
	c.log.Info("outbound call not answered in time", "ring_timeout", c.e.cfg.RingTimeout)
	c.stopMedia()
	c.terminate(a, 0)
	c.legEnded(a, sipRequestTimeout)
}

// sipRequestTimeout is the code reported when the engine gave up ringing.
const sipRequestTimeout = 408

// checkHeaders accepts at most 20 headers named X-…, User-to-User or
// Diversion, with SIP token names and values free of control characters
// (so nothing can be smuggled into the INVITE).
func checkHeaders(h map[string]string) error {
	if len(h) > maxCreateEntries {
		return fmt.Errorf("%w: %d headers, at most %d", ErrInvalidHeader, len(h), maxCreateEntries)
	}
	for k, v := range h {
		if !abi.PassedSipHeader(k) || !abi.IsSIPToken(k) {
			return fmt.Errorf("%w: %q is not an X- header, User-to-User or Diversion", ErrInvalidHeader, k)
		}
		if len(v) > abi.MaxSipHeaderValue || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%w: bad value for %s", ErrInvalidHeader, k)
		}
	}
	return nil
}
