package engine

import (
	"fmt"
	"maps"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// CallAndBridge: dial LEG-B, play the ringback tone to LEG-A while it rings,
// bridge the two on answer.

type callAndBridge struct {
	c        *Call
	a, b     *participant
	timeout  time.Duration
	ringback *abi.AudioSource
	rb       *playback
	timer    callTimer
	live     bool
}

// defaultCallTimeout is CallAndBridge's CallTimeoutSeconds default.
const defaultCallTimeout = 30

func startCallAndBridge(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.CallAndBridgeParameters)
	secs := p.CallTimeoutSeconds.Or(defaultCallTimeout)
	switch {
	case p.CallerIDNumber == "":
		return nil, missing(a.Type, "CallerIdNumber")
	case len(p.Endpoints) != 1:
		return nil, invalid(a.Type, "Endpoints", "must have exactly one endpoint")
	case p.Endpoints[0].URI == "":
		return nil, missing(a.Type, "Endpoints.Uri")
	case secs < 1 || secs > 120:
		return nil, invalid(a.Type, "CallTimeoutSeconds", "must be between 1 and 120")
	}
	legA := c.target
	for _, l := range c.legs {
		if l != legA && !l.gone {
			return nil, failed(abi.InvalidActionParameter, fmt.Sprintf("%s: the call already has two legs", a.Type))
		}
	}
	if c.e.cfg.Dialer == nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: this server has no dialer for outbound legs", a.Type))
	}
	if c.e.cfg.Connector == nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: bridging is not supported by this server", a.Type))
	}
	tag := abi.LegB
	if legA.tag == abi.LegB {
		tag = abi.LegA
	}
	b := &participant{
		kind:      KindDialled,
		tag:       tag,
		direction: abi.DirectionOutbound,
		from:      p.CallerIDNumber,
		to:        p.Endpoints[0].URI,
		start:     c.e.cfg.Clock.Now(),
		headers:   maps.Clone(p.SipHeaders),
		dialing:   true,
	}
	r := &callAndBridge{
		c:        c,
		a:        legA,
		b:        b,
		timeout:  time.Duration(secs) * time.Second,
		ringback: p.RingbackTone,
		timer:    callTimer{c: c},
		live:     true,
	}
	leg, cancel, err := c.e.cfg.Dialer.Dial(DialRequest{
		From:                  p.CallerIDNumber,
		To:                    p.Endpoints[0].URI,
		SipHeaders:            maps.Clone(p.SipHeaders),
		TenantID:              c.app.TenantID,
		SipMediaApplicationID: c.app.SipMediaApplicationID,
		TransactionID:         c.txID,
	}, DialEvents{
		Ringing:  func() {}, // no RINGING event for a bridged leg
		Answered: func() { c.post(r.answered) },
		Failed:   func(code int, err error) { c.post(func() { r.failed(code, err) }) },
		Digit: func(d rune) {
			if validDigit(d) {
				c.post(func() { c.onDigit(b, d) })
			}
		},
		Hangup:   func() { c.post(func() { c.onLegGone(b, 0) }) },
		Reinvite: func(apply func()) { c.post(func() { c.onReinvite(b, apply) }) },
	})
	if err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: dial %s: %v", a.Type, b.to, err))
	}
	if leg == nil {
		if cancel != nil {
			cancel()
		}
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: dial %s: no leg", a.Type, b.to))
	}
	b.leg = leg
	b.cancelDial = cancel
	// A failed earlier LEG-B leaves the list: the new one takes its tag.
	legs := c.legs[:0:0]
	for _, l := range c.legs {
		if l == legA || !l.gone {
			legs = append(legs, l)
		}
	}
	c.legs = append(legs, b)
	r.timer.start(r.timeout, r.timedOut)
	if r.ringback != nil {
		r.playRingback()
	}
	return r, outcome{}
}

// playRingback plays the tone to LEG-A in a loop until stopped; a tone that
// cannot be played is logged and the call goes on without it.
func (r *callAndBridge) playRingback() {
	pb, err := r.c.play(r.a.leg, *r.ringback, func(err error) {
		if !r.live {
			return
		}
		if err != nil {
			r.c.log.Warn("ringback tone failed", "err", err)
			return
		}
		r.playRingback()
	})
	if err != nil {
		r.c.log.Warn("ringback tone failed", "err", err)
		return
	}
	r.rb = pb
}

// quiet stops the timer and the ringback tone.
func (r *callAndBridge) quiet() {
	r.live = false
	r.timer.stop()
	r.rb.stop()
}

func (r *callAndBridge) answered() {
	if !r.live || !r.b.dialing {
		return
	}
	r.quiet()
	r.b.dialing = false
	r.b.answered = true
	if _, err := r.c.connect(RoleSpeakListen, r.a, r.b); err != nil {
		r.c.terminate(r.b, 0)
		r.c.actionDone(r, failed(abi.SystemException, fmt.Sprintf("%s: bridge: %v", abi.ActionCallAndBridge, err)))
		return
	}
	r.c.log.Info("call bridged", "leg_b", r.b.id())
	r.c.actionDone(r, outcome{})
}

func (r *callAndBridge) failed(code int, err error) {
	if !r.live || !r.b.dialing {
		return
	}
	r.quiet()
	r.b.dialing = false
	r.c.release(r.b)
	if code <= 0 {
		r.c.actionDone(r, failed(abi.SystemException, fmt.Sprintf("%s: dial %s: %v", abi.ActionCallAndBridge, r.b.to, err)))
		return
	}
	r.c.actionDone(r, failed(abi.CallNotAnswered, fmt.Sprintf("%s: call not answered: SIP %d", abi.ActionCallAndBridge, code)))
}

func (r *callAndBridge) timedOut() {
	if !r.live {
		return
	}
	r.quiet()
	r.c.terminate(r.b, 0)
	r.c.actionDone(r, failed(abi.CallNotAnswered,
		fmt.Sprintf("%s: call not answered within %d seconds", abi.ActionCallAndBridge, int(r.timeout/time.Second))))
}

func (r *callAndBridge) digit(rune) bool { return false }

// stop abandons the attempt (LEG-A hung up, the call ends): LEG-B is
// cancelled if it still rings.
func (r *callAndBridge) stop() {
	if !r.live {
		return
	}
	r.quiet()
	if r.b.dialing {
		r.c.terminate(r.b, 0)
	}
}
