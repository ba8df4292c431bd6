package engine

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// Participants beyond Chime's two legs: IVR participants, dialled
// participants of any number (a transfer target, a monitor), and the
// operations models build on them. All of this runs in the session's
// goroutine.

// addIVR adds an IVR participant to the session: it has no SIP leg, and
// its actions play to, listen to and record the SIP participants of the
// connection it is in.
func (c *Call) addIVR() *participant {
	c.nextIVR++
	p := &participant{
		kind:      KindIVR,
		tag:       "IVR-" + strconv.Itoa(c.nextIVR),
		direction: abi.DirectionInbound,
		start:     c.e.cfg.Clock.Now(),
		answered:  true,
	}
	p.leg = &ivrLeg{c: c, p: p, id: c.txID + "/ivr-" + strconv.Itoa(c.nextIVR)}
	c.legs = append(c.legs, p)
	return p
}

// dialSpec is a participant to dial.
type dialSpec struct {
	Tag        string
	From, To   string
	SipHeaders map[string]string
	// Timeout cancels it when it has not answered (0: Config.RingTimeout).
	Timeout time.Duration
}

// dialParticipant dials a new participant. The model hears of its
// progress: ringing, answered (its media joins its connection, if it was
// put in one while it rang) or failed with the final SIP code (408 when the
// timeout cancelled it).
func (c *Call) dialParticipant(spec dialSpec) (*participant, error) {
	if c.e.cfg.Dialer == nil {
		return nil, ErrNoDialer
	}
	p := &participant{
		kind:      KindDialled,
		tag:       spec.Tag,
		direction: abi.DirectionOutbound,
		from:      spec.From,
		to:        spec.To,
		start:     c.e.cfg.Clock.Now(),
		headers:   maps.Clone(spec.SipHeaders),
		dialing:   true,
	}
	timer := &callTimer{c: c}
	leg, cancel, err := c.e.cfg.Dialer.Dial(DialRequest{
		From:                  spec.From,
		To:                    spec.To,
		SipHeaders:            maps.Clone(spec.SipHeaders),
		TenantID:              c.app.TenantID,
		SipMediaApplicationID: c.app.SipMediaApplicationID,
		TransactionID:         c.txID,
	}, c.dialEvents(p, timer))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", spec.To, err)
	}
	if leg == nil {
		if cancel != nil {
			cancel()
		}
		return nil, fmt.Errorf("dial %s: %w", spec.To, ErrInvalidCall)
	}
	p.leg, p.cancelDial = leg, cancel
	c.legs = append(c.legs, p)
	d := spec.Timeout
	if d <= 0 {
		d = c.e.cfg.RingTimeout
	}
	timer.start(d, func() {
		if !p.dialing || c.ended {
			return
		}
		c.log.Info("dialled participant not answered in time", "participant", p.tag, "timeout", d)
		c.terminate(p, 0)
		c.model.gone(p, sipRequestTimeout)
	})
	return p, nil
}

// dialEvents are the callbacks of a participant dialled with
// dialParticipant (or PlaceIvrCall): its progress reaches the model;
// timer is its ring timeout, stopped when it answers or fails.
func (c *Call) dialEvents(p *participant, timer *callTimer) DialEvents {
	return DialEvents{
		Ringing: func() {
			c.post(func() {
				if p.dialing && !c.ended {
					c.model.ringing(p)
				}
			})
		},
		Answered: func() {
			c.post(func() {
				if !p.dialing || c.ended {
					return
				}
				timer.stop()
				p.dialing, p.answered = false, true
				c.mediaUp(p)
				c.model.answered(p)
			})
		},
		Failed: func(code int, err error) {
			c.post(func() {
				if !p.dialing || c.ended {
					return
				}
				timer.stop()
				p.dialing = false
				if code <= 0 {
					code = sipTemporarilyUnavailable
				}
				c.log.Info("dialled participant failed", "participant", p.tag, "sip_response_code", code, "err", err)
				c.stopOn(p)
				c.release(p)
				c.model.gone(p, code)
			})
		},
		Digit: func(d rune) {
			if validDigit(d) {
				c.post(func() { c.onDigit(p, d) })
			}
		},
		Hangup:   func() { c.post(func() { c.participantGone(p, 0) }) },
		Reinvite: func(apply func()) { c.post(func() { c.onReinvite(p, apply) }) },
	}
}

// participantGone handles a participant that hung up by itself (BYE).
func (c *Call) participantGone(p *participant, code int) {
	if c.ended || p.gone || p.dialing {
		return
	}
	c.log.Info("participant hung up", "participant", p.tag, "call_id", p.id())
	c.stopOn(p)
	c.release(p)
	c.model.gone(p, code)
}

// answer answers p if it is an inbound leg not answered yet, and joins
// its media to its connection.
func (c *Call) answer(p *participant) error {
	if p.answered || p.kind != KindInbound {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.e.cfg.SignalTimeout)
	defer cancel()
	if err := p.leg.Answer(ctx); err != nil {
		return err
	}
	p.answered = true
	if p == c.legs[0] {
		c.ringTimer.stop()
	}
	c.mediaUp(p)
	return nil
}

// drop ends participant p: a SIP leg is cancelled, rejected or hung up; an
// IVR participant stops. It leaves its connection; the model is not told
// (it asked).
func (c *Call) drop(p *participant) int {
	c.stopOn(p)
	if p.listener != nil {
		p.listener.stop()
		p.listener = nil
	}
	if p.kind == KindIVR {
		if !p.gone {
			c.release(p)
		}
		return 0
	}
	return c.terminate(p, 0)
}

// onReinvite applies a participant's re-INVITE (hold, resume, a new
// address) in the session's order, so it never races a connection change
// of the same participant.
func (c *Call) onReinvite(p *participant, apply func()) {
	if p.gone {
		return
	}
	apply()
	c.model.reinvited(p)
}

// ivrLeg is the Leg of an IVR participant: it has no media of its own. It
// plays to and sends digits to every SIP participant that speaks in its
// connection, records the first of them, and hears their digits (onDigit).
type ivrLeg struct {
	c  *Call
	p  *participant
	id string
	// stops of the playbacks in progress, by target: a target that leaves
	// the connection stops hearing the IVR at once (detach).
	stops map[*participant]func()
}

// detach stops what the IVR plays to t, which left its connection.
func (l *ivrLeg) detach(t *participant) {
	if stop := l.stops[t]; stop != nil {
		delete(l.stops, t)
		stop()
	}
}

var _ Leg = (*ivrLeg)(nil)

func (l *ivrLeg) ID() string                        { return l.id }
func (l *ivrLeg) Answer(context.Context) error      { return nil }
func (l *ivrLeg) Reject(context.Context, int) error { return nil }
func (l *ivrLeg) Hangup(context.Context) error      { return nil }
func (l *ivrLeg) String() string                    { return "ivr " + l.p.tag }
func (l *ivrLeg) targets() []*participant           { return l.c.ivrTargets(l.p) }
func (l *ivrLeg) first() (*participant, error)      { return firstTarget(l.targets(), l.p.tag) }

// ivrTargets are the SIP participants an IVR participant acts on: those
// that speak in its connection and have media.
func (c *Call) ivrTargets(ivr *participant) []*participant {
	var out []*participant
	for _, x := range c.connectedTo(ivr) {
		if x.kind != KindIVR && x.role == RoleSpeakListen && x.mediaMember() {
			out = append(out, x)
		}
	}
	return out
}

func firstTarget(ts []*participant, tag string) (*participant, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: %s is connected to no caller", ErrNoMedia, tag)
	}
	return ts[0], nil
}

// Play plays src to every target; done follows the first target's
// playback (they all play the same audio).
func (l *ivrLeg) Play(src abi.AudioSource, done func(error)) (func(), error) {
	return l.toAll(done, func(t *participant, cb func(error)) (func(), error) { return t.leg.Play(src, cb) })
}

var _ Speaker = (*ivrLeg)(nil)

// Speak speaks req to every target that can speak (an iotcomms awstts
// phrase); done follows the first target's.
func (l *ivrLeg) Speak(req SpeechRequest, done func(error)) (func(), error) {
	return l.toAll(done, func(t *participant, cb func(error)) (func(), error) {
		sp, ok := t.leg.(Speaker)
		if !ok {
			return nil, errNoSpeech
		}
		return sp.Speak(req, cb)
	})
}

// toAll starts one playback per target with start; done follows the
// first target's; the stop returned stops them all.
func (l *ivrLeg) toAll(done func(error), start func(t *participant, cb func(error)) (func(), error)) (func(), error) {
	ts := l.targets()
	if len(ts) == 0 {
		_, err := firstTarget(ts, l.p.tag)
		return nil, err
	}
	if l.stops == nil {
		l.stops = map[*participant]func(){}
	}
	mine := map[*participant]func(){}
	stopAll := func() {
		for t, s := range mine {
			s()
			if l.stops[t] != nil {
				delete(l.stops, t)
			}
		}
		clear(mine)
	}
	for i, t := range ts {
		cb := func(error) {}
		if i == 0 {
			cb = done
		}
		stop, err := start(t, cb)
		if err != nil {
			stopAll()
			return nil, err
		}
		mine[t] = stop
		l.stops[t] = stop
	}
	return stopAll, nil
}

// SendDigits sends to the first target.
func (l *ivrLeg) SendDigits(digits string, tone time.Duration, done func(error)) error {
	t, err := l.first()
	if err != nil {
		return err
	}
	return t.leg.SendDigits(digits, tone, done)
}

// Record records what the first target says.
func (l *ivrLeg) Record(req RecordRequest, ev RecordEvents) (func() error, error) {
	t, err := l.first()
	if err != nil {
		return nil, err
	}
	return t.leg.Record(req, ev)
}

// MonitorRequest dials a listener into a live call (call monitoring: a
// supervisor hears both parties, nobody hears the supervisor).
type MonitorRequest struct {
	// From is the caller id shown to the monitor; To is an E.164 number
	// (through the trunks) or whatever the Dialer accepts.
	From, To   string
	SipHeaders map[string]string
}

// Monitor dials req.To into the call txID as a listen-only participant
// of LEG-A's connection (a two-party call becomes a mix in which the
// monitor hears both parties), or of a new connection with LEG-A alone.
// The monitor is not a Chime participant: the plugin never sees it. It is
// hung up when the call ends; when it hangs up, the call goes on. It
// returns once the dial is queued; ErrCallNotFound for an unknown or
// finished call.
func (e *Engine) Monitor(txID string, req MonitorRequest) error {
	if e.cfg.Dialer == nil {
		return ErrNoDialer
	}
	if err := checkHeaders(req.SipHeaders); err != nil {
		return err
	}
	e.mu.Lock()
	c := e.calls[txID]
	e.mu.Unlock()
	if c == nil || !c.post(func() { c.startMonitor(req) }) {
		return fmt.Errorf("%w: %s", ErrCallNotFound, txID)
	}
	return nil
}

func (c *Call) startMonitor(req MonitorRequest) {
	if c.ended {
		return
	}
	a := c.legs[0]
	if a.gone || !a.answered {
		c.log.Warn("monitor not started: the call is not up", "to", req.To)
		return
	}
	if a.room != (roomKey{}) {
		c.log.Warn("monitor not started: the call is in a conference room", "to", req.To, "room", a.room.token)
		return
	}
	p, err := c.dialParticipant(dialSpec{Tag: "MONITOR", From: req.From, To: req.To, SipHeaders: req.SipHeaders})
	if err != nil {
		c.log.Warn("monitor not started", "to", req.To, "err", err)
		return
	}
	p.hidden = true
	k := a.conn
	if k == nil {
		if k, err = c.connect(RoleSpeakListen, a); err != nil {
			c.log.Warn("monitor not started", "to", req.To, "err", err)
			c.drop(p)
			return
		}
	}
	if err := c.join(p, k, RoleListen); err != nil {
		c.log.Warn("monitor not started", "to", req.To, "err", err)
		c.drop(p)
		return
	}
	c.log.Info("monitor dialled", "to", req.To, "connection", k.id)
}
