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
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// Call is one live call (a Chime transaction). Its exported methods are safe
// from any goroutine and never block: they post to the call's inbox.
type Call struct {
	e       *Engine
	app     App
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
	// callerGone is set by RemoteHangup before its message is queued, so
	// a response that arrives after the caller left (CANCEL while the
	// plugin was answering NEW_INBOUND_CALL) does not answer a dead call.
	callerGone atomic.Bool

	// Everything below belongs to the call's goroutine.
	later      []func() // continuations run before the next inbox message
	first      func()   // sends the first event (NEW_INBOUND_CALL or NEW_OUTBOUND_CALL)
	seq        int
	attrs      map[string]string
	ended      bool
	invalidRun int             // invalid responses in a row
	queue      []abi.Action    // actions not started yet
	listActive bool            // ACTION_SUCCESSFUL is due when queue and cur are done
	last       *abi.ActionData // result of the last finished action of the list
	cur        *running        // the running action of the list (also its participant's act)
	legs       []*participant  // the participants, in order of joining: legs[0] is LEG-A
	target     *participant    // the participant of the action being started
	conns      []*connection   // the session's connections
	nextConn   int             // numbers connection ids
	nextIVR    int             // numbers IVR participants
	model      model           // the programming model: Chime's by default
	ringTimer  callTimer       // outbound LEG-A: Config.RingTimeout
}

// Kind is what a participant is.
type Kind uint8

const (
	// KindInbound is a SIP leg that called in.
	KindInbound Kind = iota
	// KindDialled is a SIP leg the session dialled (Engine.Outbound,
	// CallAndBridge, a monitor).
	KindDialled
	// KindIVR has no SIP leg of its own: it plays, listens for digits and
	// records through the SIP participants of its connection.
	KindIVR
)

// participant is one participant of a session as the session's goroutine
// tracks it: a SIP leg (inbound or dialled) or an IVR participant. Each
// has its own running action and digit listener.
type participant struct {
	leg        Leg // nil only while Engine.Outbound dials
	kind       Kind
	hidden     bool // not a participant of the model's events (a monitor)
	tag        string
	direction  string
	from, to   string
	start      time.Time
	headers    map[string]string
	answered   bool   // media is up: answered by us (inbound) or by the far end
	dialing    bool   // an outbound leg without a final response yet
	gone       bool   // hung up, rejected, cancelled or failed
	cancelDial func() // while dialing
	recUsed    bool   // StartCallRecording ran on this leg (once per leg)
	rec        CallRecording
	room       roomKey // the conference room joined (JoinChimeMeeting)

	conn     *connection    // the connection it is in, if any
	role     Role           // its role there
	inMedia  bool           // its media is a member of conn's MediaConnection
	act      *running       // the action running on it
	listener *digitListener // its ReceiveDigits listener
	iotID    string         // its iotcomms participant id (iotcomms.go)
}

func (l *participant) id() string {
	if l.leg == nil {
		return ""
	}
	return l.leg.ID()
}

// running is the action in progress.
type running struct {
	action abi.Action
	r      runner
	leg    *participant
	// orphan: an update replaced the list while this non-interruptible
	// action ran; its result is not reported.
	orphan bool
	// done receives the outcome of an action started with runOn; nil for
	// the model's action list (c.cur).
	done func(outcome)
}

func newCall(e *Engine, app App, a *participant) *Call {
	ctx, cancel := context.WithCancel(e.ctx)
	c := &Call{
		e:      e,
		app:    app,
		txID:   e.cfg.NewTransactionID(),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		legs:   []*participant{a},
	}
	c.ringTimer = callTimer{c: c}
	c.model = chimeModel{c}
	return c
}

// init completes the call once LEG-A's Leg is known.
func (c *Call) init() {
	a := c.legs[0]
	c.summary = CallSummary{
		TransactionID:         c.txID,
		TenantID:              c.app.TenantID,
		SipMediaApplicationID: c.app.SipMediaApplicationID,
		CallID:                a.id(),
		From:                  a.from,
		To:                    a.to,
		StartTime:             a.start,
		Direction:             a.direction,
	}
	c.log = c.e.log.With("transaction_id", c.txID, "tenant", c.app.TenantID, "call_id", a.id())
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
	c.post(func() { c.onDigit(c.legs[0], d) })
}

// Reinvite applies the caller's re-INVITE (hold, resume, a new address):
// apply runs in the session's goroutine, in order with everything else
// that touches the caller's media.
func (c *Call) Reinvite(apply func()) {
	c.post(func() { c.onReinvite(c.legs[0], apply) })
}

// RemoteHangup tells the call that the caller hung up (BYE or CANCEL).
func (c *Call) RemoteHangup() {
	c.callerGone.Store(true)
	c.post(func() { c.onLegGone(c.legs[0], 0) })
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
	c.first()
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
	c.releaseAll()
	c.mu.Lock()
	c.closed = true
	c.msgs = nil
	c.mu.Unlock()
	c.e.remove(c)
	c.cancel()
	close(c.done)
}

// participants are the legs as events show them.
func (c *Call) participants() []abi.Participant {
	out := make([]abi.Participant, 0, len(c.legs))
	for _, l := range c.legs {
		if l.kind == KindIVR || l.hidden {
			continue // not a Chime participant
		}
		status := abi.StatusConnected
		if l.gone {
			status = abi.StatusDisconnected
		}
		out = append(out, abi.Participant{
			CallID:                  l.id(),
			ParticipantTag:          l.tag,
			To:                      l.to,
			From:                    l.from,
			Direction:               l.direction,
			StartTimeInMilliseconds: strconv.FormatInt(l.start.UnixMilli(), 10),
			Status:                  status,
			SipHeaders:              filterHeaders(l.headers),
		})
	}
	return out
}

// live returns the SIP participants that have not hung up: the session
// lasts as long as one does.
func (c *Call) live() []*participant {
	var out []*participant
	for _, l := range c.legs {
		if !l.gone && l.kind != KindIVR && !l.hidden {
			out = append(out, l)
		}
	}
	return out
}

// resolveLeg finds the leg an action addresses: CallId wins over
// ParticipantTag; with neither, the first leg still up (LEG-A first), so a
// response to a HANGUP of one leg addresses the other.
func (c *Call) resolveLeg(callID, tag string) *participant {
	for _, l := range c.legs {
		if callID != "" && l.id() == callID {
			return l
		}
	}
	if callID == "" && tag != "" {
		for _, l := range c.legs {
			if l.tag == tag {
				return l
			}
		}
	}
	if live := c.live(); len(live) > 0 {
		return live[0]
	}
	return c.legs[0]
}

// filterHeaders keeps the headers Chime passes to handlers.
func filterHeaders(h map[string]string) map[string]string {
	var out map[string]string
	for k, v := range h {
		if abi.PassedSipHeader(k) {
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
	return &abi.Event{ActionData: ad,
		SchemaVersion:       abi.SchemaVersion,
		InvocationEventType: t,
		CallDetails: abi.CallDetails{
			TransactionID:         c.txID,
			TransactionAttributes: attrs,
			AwsAccountID:          c.app.TenantID,
			AwsRegion:             c.e.cfg.Region,
			SipRuleID:             c.app.SipRuleID,
			SipMediaApplicationID: c.app.SipMediaApplicationID,
			Participants:          c.participants(),
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
	return c.invokeRaw(string(ev.InvocationEventType), b)
}

// invokeRaw runs the plugin on an encoded event (what is its name, for
// logs), retrying a failed invocation once; an invalid response is not
// retried.
func (c *Call) invokeRaw(what string, b []byte) ([]byte, error) {
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
		lastErr = fmt.Errorf("plugin failed on %s (attempt %d): %w", what, attempt, err)
		if c.ctx.Err() != nil {
			break
		}
		c.log.Warn("plugin invocation failed", "event", what, "sequence", c.seq, "attempt", attempt, "err", err)
	}
	return nil, lastErr
}

// applyMode says what a response does to the actions in progress.
type applyMode int

const (
	applyIdle    applyMode = iota // nothing runs: a list starts
	applyReplace                  // update semantics: the list replaces the queue
	applyIgnore                   // the response is not used
	applyAttrs                    // only TransactionAttributes are used (NEW_OUTBOUND_CALL, RINGING)
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
			resp, err = parseResponse(raw, c.e.cfg.Limits, c.participants())
		}
		if mode == applyAttrs {
			// Chime keeps the TransactionAttributes of these responses (the
			// usual place to store NEW_OUTBOUND_CALL's Arguments); the rest
			// is ignored, so an invalid response is not reported either.
			if err == nil && resp.TransactionAttributes != nil {
				c.attrs = maps.Clone(*resp.TransactionAttributes)
			}
			return
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
			c.clearCur()
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
			c.cur = &running{action: a, r: r, leg: c.target}
			c.target.act = c.cur
			return
		}
		c.finish(a, out)
	}
}

// startAction decodes and starts a on the participant it names; it
// returns a runner for an action that goes on, or the outcome of one that
// is already over.
func (c *Call) startAction(a abi.Action) (runner, outcome) { return c.startActionOn(nil, a) }

// startActionOn is startAction on participant p (nil: the one a names).
func (c *Call) startActionOn(p *participant, a abi.Action) (runner, outcome) {
	h, ok := c.e.actions[a.Type]
	if !ok {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s is not supported by this server yet", a.Type))
	}
	params, err := a.Decode()
	if err != nil {
		return nil, failed(abi.InvalidActionParameter, err.Error())
	}
	l := p
	if l == nil {
		l = c.resolveLeg(abi.LegOf(params))
	}
	c.target = l
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("action", "type", a.Type, "participant", l.tag, "parameters", clip(a.Parameters, 512))
	}
	if h.needsMedia {
		switch {
		case l.gone:
			return nil, failed(abi.InvalidActionParameter, fmt.Sprintf("%s: call leg %s has hung up", a.Type, l.tag))
		case l.dialing:
			return nil, failed(abi.InvalidActionParameter, fmt.Sprintf("%s: call leg %s has not answered", a.Type, l.tag))
		case !l.answered && l == c.legs[0] && c.callerGone.Load():
			// The queued hangup message ends the call next; drop the list
			// quietly instead of answering a call that is gone.
			c.queue = nil
			c.listActive = false
			return nil, outcome{}
		case !l.answered:
			if err := c.answer(l); err != nil {
				c.fail(fmt.Errorf("answer: %w", err))
				return nil, outcome{}
			}
		}
	}
	return h.start(c, a, params)
}

// clip is b as a string of at most n bytes, for logs.
func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
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
	ad.CallRecordingDestination = out.callRecording
	c.last = ad
}

// actionDone is called (in the call's goroutine) by a runner that has
// finished; stale runners are ignored.
func (c *Call) actionDone(r runner, out outcome) {
	if c.cur == nil || c.cur.r != r {
		for _, p := range c.legs {
			if p.act != nil && p.act.r == r && p.act.done != nil {
				cur := p.act
				p.act = nil
				cur.done(out)
				return
			}
		}
		return
	}
	cur := c.cur
	c.clearCur()
	if cur.orphan {
		if out.failed {
			c.log.Info("replaced action failed", "action", cur.action.Type, "error_type", out.errType, "error", out.errMsg)
		}
	} else {
		c.finish(cur.action, out)
	}
	c.runNext()
}

// runOn starts action a on participant p on its own, outside the model's
// action list (an IVR participant's command, hold music while another
// participant dials): done gets its outcome, in the session's goroutine.
// An action p runs this way already is stopped first, without an outcome.
func (c *Call) runOn(p *participant, a abi.Action, done func(outcome)) {
	c.stopOn(p)
	r, out := c.startActionOn(p, a)
	if c.ended {
		return
	}
	if r == nil {
		done(out)
		return
	}
	p.act = &running{action: a, r: r, leg: p, done: done}
}

// stopOn stops the action p runs on its own (runOn), without an outcome.
func (c *Call) stopOn(p *participant) {
	if p.act != nil && p.act != c.cur {
		r := p.act.r
		p.act = nil
		r.stop()
	}
}

// clearCur forgets the list's running action (its runner is stopped or
// done).
func (c *Call) clearCur() {
	if c.cur != nil && c.cur.leg != nil && c.cur.leg.act == c.cur {
		c.cur.leg.act = nil
	}
	c.cur = nil
}

// onDigit offers a digit of participant l to the action running on it,
// then to its ReceiveDigits listener; a digit neither uses goes to the IVR
// participants of l's connection, in the same order: the IVR listens to
// the callers it is connected to.
func (c *Call) onDigit(l *participant, d rune) {
	if l.gone {
		return
	}
	if c.offerDigit(l, d) {
		return
	}
	for _, x := range c.connectedTo(l) {
		if x.kind == KindIVR && c.offerDigit(x, d) {
			return
		}
	}
}

// offerDigit gives d to p's running action, else to its listener.
func (c *Call) offerDigit(p *participant, d rune) bool {
	if p.act != nil && p.act.r.digit(d) {
		return true
	}
	if p.listener != nil {
		p.listener.add(d)
		return true
	}
	return false
}

// stopListeners stops every participant's ReceiveDigits listener.
func (c *Call) stopListeners() {
	for _, p := range c.legs {
		if p.listener != nil {
			p.listener.stop()
			p.listener = nil
		}
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
		c.clearCur()
		r.stop()
	}
	c.queue = nil
	c.listActive = false
	c.stopListeners()
}

// hangupEvent sends HANGUP for leg l with code. Its response is executed
// when another leg is still up (Chime's rule for bridged calls) and ignored
// otherwise, since nobody is left to act on.
func (c *Call) hangupEvent(l *participant, code int, mode applyMode) {
	params, _ := json.Marshal(map[string]string{
		"SipResponseCode": strconv.Itoa(code),
		"CallId":          l.id(),
		"ParticipantTag":  l.tag,
	})
	c.deliver(c.newEvent(abi.EventHangup, &abi.ActionData{Type: abi.ActionHangup, Parameters: params}), mode)
}

// legEnded reports leg l's end to the plugin and ends the call when it was
// the last leg. The HANGUP event is delivered after the current message
// when another leg remains, because its response starts a new action list.
func (c *Call) legEnded(l *participant, code int) {
	if len(c.live()) > 0 {
		c.later = append(c.later, func() { c.hangupEvent(l, code, applyIdle) })
		return
	}
	c.hangupEvent(l, code, applyIgnore)
	c.ended = true
}

// onLegGone handles a leg that hung up by itself (BYE, CANCEL).
func (c *Call) onLegGone(l *participant, code int) {
	if _, chime := c.model.(chimeModel); !chime {
		c.participantGone(l, code)
		return
	}
	if c.ended || l.gone || l.dialing {
		return
	}
	c.log.Info("call leg hung up", "participant", l.tag, "leg_call_id", l.id())
	c.stopMedia()
	c.release(l)
	c.legEnded(l, code)
}

// release marks l gone and frees what the engine holds on it: its
// connection, its call recording, its conference room. It does not signal
// the leg.
func (c *Call) release(l *participant) {
	if k := l.conn; k != nil {
		c.leave(l)
		c.model.shrunk(k)
	}
	l.gone = true
	if l == c.legs[0] {
		c.ringTimer.stop()
	}
	if l.rec != nil {
		rec := l.rec
		l.rec = nil
		if err := rec.Stop(); err != nil {
			c.log.Warn("stopping the call recording failed", "participant", l.tag, "err", err)
		}
	}
	c.leaveRooms(l)
}

// releaseAll releases every leg still held; the call is over.
func (c *Call) releaseAll() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("releasing the call's legs failed", "panic", r)
		}
	}()
	for _, l := range c.legs {
		if l.hidden && !l.gone {
			c.terminate(l, 0) // a monitor goes with the call
			continue
		}
		if !l.gone || l.rec != nil || l.room != (roomKey{}) || l.conn != nil {
			c.release(l)
		}
	}
	c.dissolveAll()
}

// terminate signals the end of leg l: CANCEL while it rings, BYE once
// answered, a final response (reject) for an inbound call not answered. It
// returns the SIP code that describes the outcome for a HANGUP event.
func (c *Call) terminate(l *participant, code int) int {
	ctx, cancel := context.WithTimeout(context.Background(), c.e.cfg.SignalTimeout)
	defer cancel()
	if l.gone {
		return code
	}
	dialing, answered := l.dialing, l.answered
	l.dialing = false
	// Unbridge and finish the recording before the leg's media goes away.
	c.release(l)
	var err error
	switch {
	case dialing:
		if l.cancelDial != nil {
			l.cancelDial()
		}
		code = sipRequestTerminated
	case answered:
		err = l.leg.Hangup(ctx)
	default:
		err = l.leg.Reject(ctx, rejectCode(code))
	}
	if err != nil {
		c.log.Warn("hangup failed", "participant", l.tag, "err", err)
	}
	return code
}

// onInboundTimeout rejects an inbound call that its plugin left
// unanswered for Config.RingTimeout (no media action ran).
func (c *Call) onInboundTimeout() {
	a := c.legs[0]
	if c.ended || a.gone || a.answered {
		return
	}
	if m, ok := c.model.(*iotModel); ok {
		c.log.Info("inbound call not answered by its application in time", "ring_timeout", c.e.cfg.RingTimeout)
		m.reject(a, sipTemporarilyUnavailable)
		return
	}
	c.log.Info("inbound call not answered by its plugin in time", "ring_timeout", c.e.cfg.RingTimeout)
	c.stopMedia()
	c.terminate(a, sipTemporarilyUnavailable)
	c.legEnded(a, sipTemporarilyUnavailable)
}

// sipTemporarilyUnavailable ends calls the engine gives up on (Chime's 480).
const sipTemporarilyUnavailable = 480

// sipRequestTerminated is the code of a cancelled INVITE.
const sipRequestTerminated = 487

// hangup executes the Hangup action on leg l: cancel, reject or BYE, then
// the HANGUP event. Actions after Hangup are dropped.
func (c *Call) hangup(l *participant, code int) {
	c.stopMedia()
	if l.gone {
		return
	}
	code = c.terminate(l, code)
	c.log.Info("call leg hung up by the plugin", "participant", l.tag, "sip_response_code", code)
	c.legEnded(l, code)
}

// hangupAll ends every leg for Engine.Hangup; the HANGUP events' responses
// are ignored because the whole call is going away.
func (c *Call) hangupAll() {
	if c.ended {
		return
	}
	if m, ok := c.model.(*iotModel); ok {
		for _, p := range c.live() {
			m.hangup(p)
		}
		m.finish()
		return
	}
	c.stopMedia()
	for _, l := range c.legs {
		if l.gone || l.kind == KindIVR {
			continue
		}
		code := c.terminate(l, 0)
		if l.hidden {
			continue // a monitor is not a participant of the plugin's events
		}
		c.hangupEvent(l, code, applyIgnore)
		if c.ended {
			return
		}
	}
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

// fail ends the call because of err: every leg is cancelled, rejected with
// 480 or hung up, and the plugin is not told.
func (c *Call) fail(err error) {
	if c.ended {
		return
	}
	c.stopMedia()
	c.ended = true
	for _, l := range c.legs {
		c.terminate(l, 480)
	}
	if errors.Is(err, context.Canceled) {
		c.log.Info("call ended: engine closed")
	} else {
		c.log.Warn("call ended", "reason", err)
	}
}
