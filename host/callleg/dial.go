package callleg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/sip"
)

// dialer is the engine's Dialer over the SIP server's Dial and the
// trunks of the configuration.
type dialer struct{ ls *Legs }

var _ engine.Dialer = dialer{}

// dialLeg is a leg this server dialled. It is the inbound leg type (same
// media, recording, bridging) with an id of its own: the SIP Call-ID is
// only known to sipgo once the INVITE is built, and the engine needs the
// leg's id before Dial returns.
type dialLeg struct {
	*Leg
	id string
}

// ID is a random UUID, Chime's CallId format; the log line "dialling"
// maps it to the SIP Call-ID.
func (d *dialLeg) ID() string { return d.id }

// dialTarget is where an outbound INVITE goes.
type dialTarget struct {
	uri, proxy, transport string
	from                  string
	username, password    string
	trunk                 string
	srtp                  sip.SRTPPolicy
}

// resolve picks where a destination goes. A SIP URI ("sip:user@host",
// iotcomms' destAddr, a CallAndBridge endpoint) whose host the tenant's
// dial policy allows is called directly; otherwise its user part is
// routed like a number: through the trunk that serves it (with its
// caller-id rules), if the policy allows the number.
func (d dialer) resolve(req engine.DialRequest) (dialTarget, error) {
	number := req.To
	if u, ok := strings.CutPrefix(number, "sip:"); ok {
		user, hostport, transport := splitSIPURI(u)
		if hostport != "" && d.ls.cfg.Dial != nil && d.ls.cfg.Dial.DialHost(req.TenantID, hostOf(hostport)) {
			uri := "sip:" + hostport
			if user != "" {
				uri = "sip:" + user + "@" + hostport
			}
			return dialTarget{uri: uri, transport: transport, from: req.From, trunk: "direct"}, nil
		}
		number = user
	}
	number, t, ok := d.ls.cfg.Trunks.Trunk(number)
	if !ok {
		return dialTarget{}, fmt.Errorf("%w: %q", ErrNoTrunk, req.To)
	}
	if d.ls.cfg.Dial != nil && !d.ls.cfg.Dial.DialNumber(req.TenantID, number) {
		return dialTarget{}, fmt.Errorf("%w: %q", ErrNotAllowed, req.To)
	}
	from, ok := t.CallerID(req.From)
	if !ok {
		return dialTarget{}, fmt.Errorf("%w: %q on trunk %s", ErrCallerID, req.From, t.Name)
	}
	domain := t.Domain
	if domain == "" {
		domain = t.Address
	}
	return dialTarget{
		uri:       "sip:" + number + "@" + domain,
		proxy:     t.Address,
		transport: strings.ToUpper(t.Transport),
		from:      from,
		username:  t.Username,
		password:  t.Password,
		trunk:     t.Name,
		srtp:      trunkSRTP(t.SRTP),
	}, nil
}

// Dial allocates the RTP endpoint offered in the INVITE, then sends the
// INVITE from a goroutine of its own: the engine must not block on the
// network. See engine.Dialer for the contract.
func (d dialer) Dial(req engine.DialRequest, ev engine.DialEvents) (engine.Leg, func(), error) {
	ls := d.ls
	tgt, err := d.resolve(req)
	if err != nil {
		return nil, nil, err
	}
	id := uuid.NewString()
	log := ls.log.With("leg_id", id, "to", req.To, "trunk", tgt.trunk, "tenant", req.TenantID,
		"app", req.SipMediaApplicationID, "transaction_id", req.TransactionID)
	l := ls.newLeg(nil, req.TenantID, log)
	dl := &dialLeg{Leg: l, id: id}
	ep, err := media.NewEndpoint(media.EndpointConfig{
		Clock:     ls.cfg.Clock,
		Ports:     ls.cfg.Ports,
		Owner:     req.TenantID,
		Codec:     codec.PCMU, // until the answer names the codec
		Symmetric: ls.cfg.Symmetric,
		// The remote comes from the answer to our own offer, after which
		// Dial has sent the ACK: the dialog is confirmed.
		Confirmed: true,
		Targets:   ls.cfg.Targets,
		OnDigit: func(r dtmf.Received) {
			if ev.Digit != nil {
				ev.Digit(rune(r.Digit))
			}
		},
		Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	l.ep = ep
	if !ls.add(l) {
		l.release()
		return nil, nil, ErrClosed
	}
	ctx, cancel := context.WithCancel(context.Background())
	log.Info("dialling", "uri", tgt.uri, "proxy", tgt.proxy, "from", tgt.from, "rtp", ep.LocalAddr())
	go d.run(ctx, dl, tgt, req, ev)
	return dl, cancel, nil
}

// run places the call and then pumps its SIP events until it ends.
func (d dialer) run(ctx context.Context, dl *dialLeg, tgt dialTarget, req engine.DialRequest, ev engine.DialEvents) {
	ls, l := d.ls, dl.Leg
	defer ls.Remove(l)
	call, err := ls.cfg.SIP.Dial(ctx, sip.DialParams{
		Target:    tgt.uri,
		Transport: tgt.transport,
		Proxy:     tgt.proxy,
		From:      tgt.from,
		Headers:   req.SipHeaders,
		Local:     l.ep.LocalAddr(),
		Username:  tgt.username,
		Password:  tgt.password,
		SRTP:      tgt.srtp,
		Progress: func(code int) {
			if (code == 180 || code == 183) && ev.Ringing != nil {
				ev.Ringing()
			}
		},
	})
	if err != nil {
		l.release()
		var se *sip.StatusError
		switch {
		case ctx.Err() != nil:
			l.log.Info("dial cancelled")
		case errors.As(err, &se):
			l.log.Info("dial failed", "code", se.Code, "reason", se.Reason)
			ev.Failed(se.Code, err)
		default:
			l.log.Warn("dial failed", "err", err)
			ev.Failed(0, err)
		}
		return
	}
	if ctx.Err() != nil {
		// Cancelled as the 2xx arrived: the engine ignores us now.
		hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = call.Hangup(hctx)
		hcancel()
		l.release()
		drain(call)
		return
	}
	l.sc = call
	l.answered()
	l.setRemote(call.Remote)
	l.log.Info("dialled call answered", "call_id", call.ID, "remote", call.Remote.Addr, "codec", call.Remote.Codec.Name,
		"telephone_event", call.Remote.DTMFPayloadType)
	ev.Answered()
	hungUp := false
	hangup := func() {
		if !hungUp && ev.Hangup != nil {
			hungUp = true
			ev.Hangup()
		}
	}
	for e := range call.Events() {
		switch e.Type {
		case sip.EventReInvite:
			m := e.Media
			if ev.Reinvite != nil {
				// Through the session, in order with its connection changes.
				ev.Reinvite(func() { l.setRemote(m) })
			} else {
				l.setRemote(m)
			}
		case sip.EventDTMF:
			if ev.Digit != nil {
				ev.Digit(e.DTMF.Digit)
			}
		case sip.EventBye, sip.EventCancel:
			hangup()
		case sip.EventTerminated:
			l.ended(e.Reason)
			switch e.Reason {
			case "hangup": // our own BYE: the engine asked for it
			default:
				hangup()
			}
			l.release()
		}
	}
	l.release()
	l.log.Info("call ended", append(l.Outcome(), "call_id", call.ID, "transport", call.Transport)...)
}

func drain(c *sip.Call) {
	for range c.Events() {
	}
}

// splitSIPURI splits what follows "sip:" into its user, its host[:port]
// and the transport its ";transport=" parameter asks for ("" for UDP).
// Headers ("?…") and other parameters are dropped: a destination names
// where to call, nothing more.
func splitSIPURI(u string) (user, hostport, transport string) {
	u, _, _ = strings.Cut(u, "?")
	u, params, _ := strings.Cut(u, ";")
	user, hostport, ok := strings.Cut(u, "@")
	if !ok {
		user, hostport = "", u
	}
	for _, p := range strings.Split(params, ";") {
		if v, ok := strings.CutPrefix(strings.ToLower(p), "transport="); ok && (v == "udp" || v == "tcp") {
			transport = strings.ToUpper(v)
		}
	}
	return user, hostport, transport
}

// hostOf is the host of host[:port], an IPv6 literal with its brackets.
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return hostport
}
