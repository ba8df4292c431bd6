package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/wasmvoice/mediaserver/abi"
)

// Call is one live call (a Chime transaction). Its exported methods are safe
// from any goroutine and never block: they post to the call's inbox.
type Call struct {
	e       *Engine
	app     App
	leg     Leg
	info    CallInfo
	txID    string
	summary CallSummary
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	// The inbox: the only state shared with other goroutines.
	mu     sync.Mutex
	msgs   []func()
	wake   chan struct{}
	closed bool

	// Everything below belongs to the call's goroutine.
	later        []func() // continuations run before the next inbox message
	seq          int
	attrs        map[string]string
	answered     bool
	disconnected bool
	ended        bool
	invalidRun   int             // invalid responses in a row
	queue        []abi.Action    // actions not started yet
	listActive   bool            // ACTION_SUCCESSFUL is due when queue and cur are done
	last         *abi.ActionData // result of the last finished action of the list
	cur          *running
	listener     *digitListener
}

// running is the action in progress.
type running struct {
	action abi.Action
	r      runner
	// orphan: an update replaced the list while this non-interruptible
	// action ran; its result is not reported.
	orphan bool
}

func newCall(e *Engine, app App, leg Leg, info CallInfo) *Call {
	ctx, cancel := context.WithCancel(e.ctx)
	c := &Call{
		e:      e,
		app:    app,
		leg:    leg,
		info:   info,
		txID:   newUUID(),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
	c.summary = CallSummary{
		TransactionID:         c.txID,
		TenantID:              app.TenantID,
		SipMediaApplicationID: app.SipMediaApplicationID,
		CallID:                leg.ID(),
		From:                  info.From,
		To:                    info.To,
		StartTime:             info.StartTime,
	}
	c.log = e.log.With("transaction_id", c.txID, "tenant", app.TenantID, "call_id", leg.ID())
	return c
}

// TransactionID returns the call's transaction id.
func (c *Call) TransactionID() string { return c.txID }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Digit delivers one DTMF digit from the caller (RFC 4733, SIP INFO or
// in-band: all the same). Anything but 0-9 * # A-D is ignored.
func (c *Call) Digit(d rune) {
	if !validDigit(d) {
		return
	}
	c.post(func() { c.onDigit(d) })
}

// RemoteHangup tells the call that the caller hung up (BYE or CANCEL).
func (c *Call) RemoteHangup() {
	c.post(c.onRemoteHangup)
}

func validDigit(d rune) bool {
	return (d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D')
}

// post queues f for the call's goroutine; false once the call has ended.
func (c *Call) post(f func()) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.msgs = append(c.msgs, f)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

func (c *Call) pop() (func(), bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) == 0 {
		return nil, false
	}
	f := c.msgs[0]
	c.msgs[0] = nil
	c.msgs = c.msgs[1:]
	return f, true
}

func (c *Call) inboxEmpty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs) == 0
}

// settle waits until the call has processed everything posted so far and
// everything that processing posted in turn (tests use it as a barrier).
func (c *Call) settle() {
	for {
		res := make(chan bool, 1)
		if !c.post(func() { res <- c.inboxEmpty() }) {
			<-c.done
			return
		}
		select {
		case empty := <-res:
			if empty {
				return
			}
		case <-c.done:
			return
		}
	}
}

// run is the call's goroutine.
func (c *Call) run() {
	defer c.exit()
	// A bug in one call must not take the server down with every other call.
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("call engine panic", "panic", r, "stack", string(debug.Stack()))
			c.failAfterPanic(fmt.Errorf("%w: %v", ErrInternal, r))
		}
	}()
	c.deliver(c.newEvent(abi.EventNewInboundCall, nil), applyIdle)
	c.drainLater()
	for !c.ended {
		f, ok := c.pop()
		if !ok {
			select {
			case <-c.wake:
			case <-c.ctx.Done():
				c.fail(context.Cause(c.ctx))
			}
			continue
		}
		f()
		c.drainLater()
	}
}

func (c *Call) drainLater() {
	for len(c.later) > 0 && !c.ended {
		f := c.later[0]
		c.later = c.later[1:]
		f()
	}
}

// failAfterPanic ends the leg after a panic, tolerating a second one.
func (c *Call) failAfterPanic(err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("ending the call after a panic failed", "panic", r)
		}
	}()
	c.fail(err)
}

func (c *Call) exit() {
	c.mu.Lock()
	c.closed = true
	c.msgs = nil
	c.mu.Unlock()
	c.e.remove(c)
	c.cancel()
	close(c.done)
}

// participant is LEG-A as events show it.
func (c *Call) participant() abi.Participant {
	status := abi.StatusConnected
	if c.disconnected {
		status = abi.StatusDisconnected
	}
	return abi.Participant{
		CallID:                  c.leg.ID(),
		ParticipantTag:          abi.LegA,
		To:                      c.info.To,
		From:                    c.info.From,
		Direction:               abi.DirectionInbound,
		StartTimeInMilliseconds: strconv.FormatInt(c.info.StartTime.UnixMilli(), 10),
		Status:                  status,
		SipHeaders:              filterHeaders(c.info.SipHeaders),
	}
}

// filterHeaders keeps the headers Chime passes to handlers.
func filterHeaders(h map[string]string) map[string]string {
	var out map[string]string
	for k, v := range h {
		if len(k) > 2 && strings.EqualFold(k[:2], "X-") ||
			strings.EqualFold(k, "User-to-User") || strings.EqualFold(k, "Diversion") {
			if out == nil {
				out = make(map[string]string)
			}
			out[k] = v
		}
	}
	return out
}

func (c *Call) newEvent(t abi.EventType, ad *abi.ActionData) *abi.Event {
	var attrs map[string]string
	if len(c.attrs) > 0 {
		attrs = maps.Clone(c.attrs)
	}
	return &abi.Event{
		SchemaVersion:       abi.SchemaVersion,
		InvocationEventType: t,
		ActionData:          ad,
		CallDetails: abi.CallDetails{
			TransactionID:         c.txID,
			TransactionAttributes: attrs,
			AwsAccountID:          c.app.TenantID,
			AwsRegion:             c.e.cfg.Region,
			SipRuleID:             c.app.SipRuleID,
			SipMediaApplicationID: c.app.SipMediaApplicationID,
			Participants:          []abi.Participant{c.participant()},
		},
	}
}

// invoke sends one event to the plugin, retrying a failed invocation once.
func (c *Call) invoke(ev *abi.Event) ([]byte, error) {
	if c.seq >= c.e.cfg.Limits.MaxInvocations {
		return nil, fmt.Errorf("%w (%d)", ErrInvocationLimit, c.e.cfg.Limits.MaxInvocations)
	}
	c.seq++
	ev.Sequence = c.seq
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.InvocationEventType, err)
	}
	var lastErr error
	for attempt := 1; attempt <= 2; attempt++ {
		ctx, cancel := context.WithTimeout(withLogger(c.ctx, c.log), c.e.cfg.InvokeTimeout)
		resp, err := c.app.Handler.Invoke(ctx, b)
		cancel()
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, ErrInvalidResponse) {
			return nil, err
		}
		lastErr = fmt.Errorf("plugin failed on %s (attempt %d): %w", ev.InvocationEventType, attempt, err)
		if c.ctx.Err() != nil {
			break
		}
		c.log.Warn("plugin invocation failed", "event", ev.InvocationEventType, "sequence", ev.Sequence, "attempt", attempt, "err", err)
	}
	return nil, lastErr
}

// applyMode says what a response does to the actions in progress.
type applyMode int

const (
	applyIdle    applyMode = iota // nothing runs: a list starts
	applyReplace                  // update semantics: the list replaces the queue
	applyIgnore                   // the response is not used
)

// deliver sends ev and applies the plugin's response according to mode,
// sending INVALID_LAMBDA_RESPONSE for invalid responses.
func (c *Call) deliver(ev *abi.Event, mode applyMode) {
	for !c.ended {
		raw, err := c.invoke(ev)
		if err != nil && !errors.Is(err, ErrInvalidResponse) {
			c.fail(err)
			return
		}
		if mode == applyIgnore {
			return
		}
		var resp *abi.Response
		if err == nil {
			resp, err = parseResponse(raw, c.e.cfg.Limits, []abi.Participant{c.participant()})
		}
		if err != nil {
			c.invalidRun++
			c.log.Warn("invalid plugin response", "event", ev.InvocationEventType, "in_a_row", c.invalidRun, "err", err)
			if c.invalidRun >= maxInvalidInARow {
				c.fail(fmt.Errorf("%w: last: %w", ErrInvalidResponses, err))
				return
			}
			et, msg := abi.ErrorFields(err)
			if errors.Is(err, ErrInvalidResponse) {
				et = abi.InvalidActionParameter
			}
			ev = c.newEvent(abi.EventInvalidLambdaResponse, nil)
			ev.ErrorType = et
			ev.ErrorMessage = msg
			continue
		}
		c.invalidRun = 0
		c.apply(resp, mode)
		return
	}
}

// apply executes a valid response.
func (c *Call) apply(resp *abi.Response, mode applyMode) {
	if resp.TransactionAttributes != nil {
		c.attrs = maps.Clone(*resp.TransactionAttributes)
	}
	if resp.Actions == nil {
		return // keep the current actions
	}
	list := *resp.Actions
	if len(list) == 0 {
		c.queue = nil
		c.listActive = false
		if c.cur != nil {
			c.cur.orphan = true
		}
		return
	}
	c.queue = append([]abi.Action(nil), list...)
	c.listActive = true
	c.last = nil
	if c.cur != nil && mode == applyReplace {
		if c.cur.action.Type.Interruptible() {
			stopped := c.cur
			c.cur = nil
			stopped.r.stop()
			c.deliver(c.newEvent(abi.EventActionInterrupted, actionData(stopped.action)), applyIgnore)
		} else {
			c.cur.orphan = true
		}
	}
	c.runNext()
}

// actionData is ActionData echoing a.
func actionData(a abi.Action) *abi.ActionData {
	return &abi.ActionData{Type: a.Type, Parameters: a.Parameters}
}

// runNext starts queued actions until one keeps running, the list ends
// (ACTION_SUCCESSFUL) or one fails (ACTION_FAILED).
func (c *Call) runNext() {
	for !c.ended && c.cur == nil {
		if len(c.queue) == 0 {
			if c.listActive {
				c.listActive = false
				ad := c.last
				c.last = nil
				c.later = append(c.later, func() { c.deliver(c.newEvent(abi.EventActionSuccessful, ad), applyIdle) })
			}
			return
		}
		a := c.queue[0]
		c.queue = c.queue[1:]
		r, out := c.startAction(a)
		if c.ended {
			return
		}
		if r != nil {
			c.cur = &running{action: a, r: r}
			return
		}
		c.finish(a, out)
	}
}

// startAction decodes and starts a; it returns a runner for an action that
// goes on, or the outcome of one that is already over.
func (c *Call) startAction(a abi.Action) (runner, outcome) {
	h, ok := c.e.actions[a.Type]
	if !ok {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s is not supported by this server yet", a.Type))
	}
	params, err := a.Decode()
	if err != nil {
		return nil, failed(abi.InvalidActionParameter, err.Error())
	}
	if h.needsMedia && !c.answered {
		ctx, cancel := context.WithTimeout(context.Background(), c.e.cfg.SignalTimeout)
		err := c.leg.Answer(ctx)
		cancel()
		if err != nil {
			c.fail(fmt.Errorf("answer: %w", err))
			return nil, outcome{}
		}
		c.answered = true
	}
	return h.start(c, a, params)
}

// finish records the outcome of an action of the current list.
func (c *Call) finish(a abi.Action, out outcome) {
	ad := actionData(a)
	if out.failed {
		ad.ErrorType = out.errType
		ad.ErrorMessage = out.errMsg
		c.queue = nil
		c.listActive = false
		c.last = nil
		c.later = append(c.later, func() { c.deliver(c.newEvent(abi.EventActionFailed, ad), applyIdle) })
		return
	}
	ad.ReceivedDigits = out.digits
	ad.RecordingDestination = out.dest
	ad.RecordingTerminatorUsed = out.terminator
	c.last = ad
}

// actionDone is called (in the call's goroutine) by a runner that has
// finished; stale runners are ignored.
func (c *Call) actionDone(r runner, out outcome) {
	if c.cur == nil || c.cur.r != r {
		return
	}
	cur := c.cur
	c.cur = nil
	if cur.orphan {
		if out.failed {
			c.log.Info("replaced action failed", "action", cur.action.Type, "error_type", out.errType, "error", out.errMsg)
		}
	} else {
		c.finish(cur.action, out)
	}
	c.runNext()
}

func (c *Call) onDigit(d rune) {
	if c.cur != nil && c.cur.r.digit(d) {
		return
	}
	if c.listener != nil {
		c.listener.add(d)
	}
}

func (c *Call) onUpdate(args map[string]string) {
	params, _ := json.Marshal(abi.CallUpdateRequestParameters{Arguments: args})
	ad := &abi.ActionData{Type: abi.ActionCallUpdateRequest, Parameters: params}
	c.deliver(c.newEvent(abi.EventCallUpdateRequested, ad), applyReplace)
}

// stopMedia stops whatever runs on the leg, silently.
func (c *Call) stopMedia() {
	if c.cur != nil {
		r := c.cur.r
		c.cur = nil
		r.stop()
	}
	c.queue = nil
	c.listActive = false
	if c.listener != nil {
		c.listener.stop()
		c.listener = nil
	}
}

// hangupEvent sends HANGUP for LEG-A with code; its response is ignored
// because a single-leg call has nobody left to act on.
func (c *Call) hangupEvent(code int) {
	c.disconnected = true
	params, _ := json.Marshal(map[string]string{
		"SipResponseCode": strconv.Itoa(code),
		"CallId":          c.leg.ID(),
		"ParticipantTag":  abi.LegA,
	})
	c.deliver(c.newEvent(abi.EventHangup, &abi.ActionData{Type: abi.ActionHangup, Parameters: params}), applyIgnore)
}

func (c *Call) onRemoteHangup() {
	if c.ended {
		return
	}
	c.log.Info("caller hung up")
	c.stopMedia()
	c.hangupEvent(0)
	c.ended = true
}

// hangup executes the Hangup action: reject or BYE, HANGUP event, end.
func (c *Call) hangup(code int) {
	c.stopMedia()
	ctx, cancel := context.WithTimeout(context.Background(), c.e.cfg.SignalTimeout)
	defer cancel()
	var err error
	if c.answered {
		err = c.leg.Hangup(ctx)
	} else {
		err = c.leg.Reject(ctx, rejectCode(code))
	}
	if err != nil {
		c.log.Warn("hangup failed", "err", err)
	}
	c.log.Info("call hung up by the plugin", "sip_response_code", code)
	c.hangupEvent(code)
	c.ended = true
}

// rejectCode maps a Hangup SipResponseCode to the final response of an
// unanswered call.
func rejectCode(code int) int {
	if code >= 400 && code <= 699 {
		return code
	}
	return 480
}

// fail ends the call because of err: 480 before answer, BYE after.
func (c *Call) fail(err error) {
	if c.ended {
		return
	}
	c.stopMedia()
	ctx, cancel := context.WithTimeout(context.Background(), c.e.cfg.SignalTimeout)
	defer cancel()
	var lerr error
	switch {
	case c.disconnected: // the leg is already gone (HANGUP was being sent)
	case c.answered:
		lerr = c.leg.Hangup(ctx)
	default:
		lerr = c.leg.Reject(ctx, 480)
	}
	c.ended = true
	if errors.Is(err, context.Canceled) {
		c.log.Info("call ended: engine closed")
	} else {
		c.log.Warn("call ended", "reason", err, "answered", c.answered)
	}
	if lerr != nil {
		c.log.Warn("ending the leg failed", "err", lerr)
	}
}
