package sip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Party is one end of a call as named in From or To.
type Party struct {
	User    string // user part of the URI, e.g. "+12065550100"
	Display string // display name, may be empty
	URI     string
}

// EventType says what an Event reports.
type EventType int

// Event types, in the order they can happen.
const (
	EventAck        EventType = iota + 1 // the caller confirmed our 200 OK
	EventBye                             // the caller hung up; 200 OK already sent
	EventCancel                          // the caller gave up before answer; 487 already sent
	EventReInvite                        // the remote media changed (re-INVITE/UPDATE); already answered
	EventDTMF                            // a digit from SIP INFO; already answered 200
	EventTerminated                      // the call is over; the last event
)

func (t EventType) String() string {
	switch t {
	case EventAck:
		return "ack"
	case EventBye:
		return "bye"
	case EventCancel:
		return "cancel"
	case EventReInvite:
		return "reinvite"
	case EventDTMF:
		return "dtmf"
	case EventTerminated:
		return "terminated"
	}
	return fmt.Sprintf("event(%d)", int(t))
}

// Event is something that happened to a call, delivered in order.
type Event struct {
	Type EventType
	// Media is the remote media after EventReInvite, and after EventAck
	// when the ACK carried the SDP answer (offerless INVITE).
	Media Media
	DTMF  DTMF // EventDTMF
	// Reason tells why the call ended (EventTerminated): "bye", "cancel",
	// "hangup", "rejected", "no-ack", "shutdown".
	Reason string
}

type callState int

const (
	stateEarly callState = iota
	stateAnswered
	stateTerminated
)

// pendingAck is a 2xx to an INVITE retransmitted until its ACK arrives.
type pendingAck struct {
	cseq     uint32
	res      *sip.Response
	interval time.Duration
	next     time.Time // next retransmission, or the deadline on TCP
	deadline time.Time
	// offerInAnswer: the 2xx carried our offer, the ACK carries the answer.
	offerInAnswer bool
	initial       bool
	result        chan error // initial INVITE only: Answer waits on it
}

// Call is one inbound call. Its exported fields are fixed when the
// Handler gets it; everything else goes through methods, which are safe to
// call from any goroutine.
type Call struct {
	ID          string // Call-ID
	From, To    Party
	RequestUser string // user part of the Request-URI
	RequestHost string // host part of the Request-URI
	// Headers holds X-*, User-to-User, Diversion, P-Asserted-Identity and
	// Remote-Party-ID headers of the INVITE, by lower-case name (repeats
	// joined with ", ").
	Headers   map[string]string
	Transport string // "UDP" or "TCP"
	// Remote is the caller's media from the INVITE offer. Its Addr is
	// invalid for an offerless INVITE: the media comes with EventAck.
	Remote Media
	// Source is the address the INVITE came from.
	Source netip.AddrPort

	srv       *Server
	policy    SRTPPolicy                 // of the listener the INVITE came in on, or of the dialled trunk
	uac       *sipgo.DialogClientSession // outbound calls: the INVITE dialog, for BYE
	invite    *sip.Request
	inviteTx  sip.ServerTransaction
	localTag  string
	inbox     chan *sip.Request
	cmds      chan func()
	cancelReq chan struct{}
	finalSent chan struct{}
	exited    chan struct{}
	events    chan Event
	evq       chan Event

	// Owned by the run goroutine.
	state      callState
	neg        *Negotiation
	local      localSDP
	localBody  []byte
	remoteCSeq uint32
	localCSeq  uint32
	target     sip.Uri
	routes     []sip.Uri
	pending    *pendingAck
	offered    []Crypto // our crypto lines in our last offer or answer
	cache      map[string]*sip.Response
	finalDone  bool
	evClosed   bool
	endReason  string
	linger     *time.Timer
}

func newCall(s *Server, req *sip.Request, tx sip.ServerTransaction, neg *Negotiation) *Call {
	c := &Call{
		ID:          callID(req),
		RequestUser: req.Recipient.User,
		RequestHost: req.Recipient.Host,
		Headers:     map[string]string{},
		Transport:   strings.ToUpper(req.Transport()),
		srv:         s,
		invite:      req,
		inviteTx:    tx,
		localTag:    randomHex(8),
		inbox:       make(chan *sip.Request, 64),
		cmds:        make(chan func()),
		cancelReq:   make(chan struct{}, 1),
		finalSent:   make(chan struct{}),
		exited:      make(chan struct{}),
		events:      make(chan Event),
		evq:         make(chan Event, 16),
		neg:         neg,
		remoteCSeq:  req.CSeq().SeqNo,
		localCSeq:   1,
		cache:       map[string]*sip.Response{},
	}
	if f := req.From(); f != nil {
		c.From = Party{User: f.Address.User, Display: f.DisplayName, URI: f.Address.String()}
	}
	if t := req.To(); t != nil {
		c.To = Party{User: t.Address.User, Display: t.DisplayName, URI: t.Address.String()}
	}
	if neg != nil {
		c.Remote = neg.Remote
	}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		c.Source = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	for _, h := range req.Headers() {
		name := strings.ToLower(h.Name())
		switch {
		case strings.HasPrefix(name, "x-"), name == "user-to-user", name == "diversion", name == "p-asserted-identity", name == "remote-party-id":
			if prev, ok := c.Headers[name]; ok {
				c.Headers[name] = prev + ", " + h.Value()
			} else {
				c.Headers[name] = h.Value()
			}
		}
	}
	c.target = req.Recipient
	if ct := req.Contact(); ct != nil {
		c.target = ct.Address
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			c.routes = append(c.routes, rr.Address)
		}
	}
	c.local.sessionID = randomSessionID()
	c.local.version = 1
	go c.pump()
	return c
}

// randomSessionID keeps the o= session id positive as a signed 64-bit number.
func randomSessionID() uint64 {
	var id [8]byte
	rand.Read(id[:])
	return binary.BigEndian.Uint64(id[:]) >> 2
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Events returns the call's events in order; the channel is closed after
// EventTerminated. Read it until closed.
func (c *Call) Events() <-chan Event { return c.events }

// pump turns the bounded queue of the run goroutine into an unbounded one,
// so a slow reader never stalls SIP processing.
func (c *Call) pump() {
	defer close(c.events)
	var q []Event
	in := c.evq
	for in != nil || len(q) > 0 {
		var out chan Event
		var next Event
		if len(q) > 0 {
			out, next = c.events, q[0]
		}
		select {
		case e, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			q = append(q, e)
		case out <- next:
			q = q[1:]
		case <-c.srv.done:
			if in == nil {
				return
			}
			// Keep accepting so the run goroutine can finish; drop output.
			for range in {
			}
			return
		}
	}
}

// emit queues an event; nothing follows EventTerminated, which closes
// the queue so Events() is closed right after it.
func (c *Call) emit(e Event) {
	if c.evClosed {
		return
	}
	c.evq <- e
	if e.Type == EventTerminated {
		c.evClosed = true
		close(c.evq)
	}
}

// deliver queues an in-dialog request; called from the transport's reader.
func (c *Call) deliver(req *sip.Request) {
	select {
	case c.inbox <- req:
	default:
		// Full: drop it, the sender retransmits (UDP) or the call is stuck anyway.
		c.srv.log.Warn("sip: call queue full, request dropped", "call_id", c.ID, "method", req.Method)
	}
}

// canceled is sipgo's CANCEL callback; sipgo sends the 487 itself.
func (c *Call) canceled() {
	select {
	case c.cancelReq <- struct{}{}:
	default:
	}
}

// do runs f on the call goroutine and waits for it.
func (c *Call) do(f func()) error {
	done := make(chan struct{})
	select {
	case c.cmds <- func() { f(); close(done) }:
		<-done
		return nil
	case <-c.exited:
		return ErrCallTerminated
	}
}

func (c *Call) run() {
	defer c.srv.removeCall(c)
	defer close(c.exited)
	retransmit := time.NewTimer(time.Hour)
	retransmit.Stop()
	var lingerC <-chan time.Time
	for {
		if c.state == stateTerminated && lingerC == nil {
			// Stay a while to answer retransmissions from the cache (Timer J
			// of RFC 3261); TCP does not retransmit.
			linger := 64 * c.srv.cfg.T1
			if reliable(c.Transport) {
				linger = c.srv.cfg.T1
			}
			c.linger = time.NewTimer(linger)
			lingerC = c.linger.C
			c.stopPending(ErrCallTerminated)
		}
		if c.pending != nil {
			retransmit.Reset(time.Until(c.pending.next))
		}
		select {
		case req := <-c.inbox:
			c.handle(req)
		case f := <-c.cmds:
			f()
		case <-c.cancelReq:
			if c.state == stateEarly {
				c.emit(Event{Type: EventCancel})
				c.terminate("cancel")
			}
		case <-retransmit.C:
			c.retransmit()
		case <-lingerC:
			return
		case <-c.srv.done:
			if c.state != stateTerminated {
				c.terminate("shutdown")
			}
			c.stopPending(ErrCallTerminated)
			if c.linger != nil {
				c.linger.Stop()
			}
			return
		}
		retransmit.Stop()
	}
}

// reliable reports whether SIP over transport needs no retransmissions.
func reliable(transport string) bool { return sip.IsReliable(strings.ToLower(transport)) }

func (c *Call) terminate(reason string) {
	if c.state == stateTerminated {
		return
	}
	c.state = stateTerminated
	c.endReason = reason
	c.markFinal()
	c.emit(Event{Type: EventTerminated, Reason: reason})
}

func (c *Call) markFinal() {
	if !c.finalDone {
		c.finalDone = true
		close(c.finalSent)
	}
}

func (c *Call) stopPending(err error) {
	if p := c.pending; p != nil {
		c.pending = nil
		if p.result != nil {
			p.result <- err
		}
	}
}

func (c *Call) retransmit() {
	p := c.pending
	if p == nil {
		return
	}
	if !time.Now().Before(p.deadline) {
		c.srv.log.Info("sip: no ack for 200 ok, hanging up", "call_id", c.ID)
		c.pending = nil
		if p.result != nil {
			p.result <- ErrNoAck
		}
		go c.prepareBye("no-ack")(context.Background())
		c.terminate("no-ack")
		return
	}
	c.srv.writeResponse(p.res)
	p.interval = min(2*p.interval, c.srv.cfg.T2)
	p.next = time.Now().Add(p.interval)
}

// response builds a response in this dialog: our To tag, Server header.
func (c *Call) response(req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	if code > 100 {
		if to := res.To(); to != nil {
			to.Params.Add("tag", c.localTag)
		}
	}
	c.srv.decorate(res, hdrs...)
	return res
}

// Ringing sends 180 Ringing.
func (c *Call) Ringing() error {
	var err error
	if e := c.do(func() {
		if c.state != stateEarly {
			err = c.lateError()
			return
		}
		res := c.response(c.invite, 180, "Ringing", nil, c.srv.contact(c.Transport))
		err = c.inviteTx.Respond(res)
	}); e != nil {
		return c.lateError()
	}
	return err
}

// Reject sends a final failure response (code 300-699) and ends the call.
func (c *Call) Reject(code int, reason string) error {
	return c.reject(code, reason)
}

// RejectRetryAfter is Reject with a Retry-After header (RFC 3261 section
// 20.33), whole seconds rounded up: the caller may try again after that
// long (a 503 for a call-rate limit, a 486 or 480 with a known wait).
func (c *Call) RejectRetryAfter(code int, reason string, after time.Duration) error {
	secs := int64((after + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return c.reject(code, reason, sip.NewHeader("Retry-After", strconv.FormatInt(secs, 10)))
}

func (c *Call) reject(code int, reason string, hdrs ...sip.Header) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("%w: %d", ErrBadStatus, code)
	}
	var err error
	if e := c.do(func() {
		if c.state != stateEarly {
			err = c.lateError()
			return
		}
		if reason == "" {
			reason = "Rejected"
		}
		err = c.inviteTx.Respond(c.response(c.invite, code, reason, nil, hdrs...))
		c.terminate("rejected")
	}); e != nil {
		return c.lateError()
	}
	return err
}

// lateError is the error of an operation on an ended call. It runs on the
// call goroutine, or after it exited (close(exited) orders endReason).
func (c *Call) lateError() error {
	if c.endReason == "cancel" {
		return ErrCallCanceled
	}
	return ErrCallTerminated
}

// Answer sends 200 OK with an SDP answer naming local as our RTP address
// (or, for an offerless INVITE, an offer), retransmits it until the ACK
// arrives and returns then. It returns ErrNoAck after 64*T1 without ACK
// (having sent BYE), ErrCallCanceled if the caller canceled first.
func (c *Call) Answer(local netip.AddrPort) error {
	if !local.IsValid() || local.Port() == 0 || local.Addr().IsUnspecified() {
		return fmt.Errorf("%w: %v", ErrBadLocalAddr, local)
	}
	var wait chan error
	var err error
	canceled := false
	if e := c.do(func() {
		switch c.state {
		case stateAnswered:
			err = ErrAlreadyAnswered
			return
		case stateTerminated:
			err = c.lateError()
			return
		}
		select {
		case <-c.cancelReq:
			canceled = true
			c.emit(Event{Type: EventCancel})
			c.terminate("cancel")
			err = ErrCallCanceled
			return
		default:
		}
		c.local.addr = local
		var body []byte
		if c.neg != nil {
			body = c.neg.answer(c.local, c.neg.Remote.Direction.answer())
		} else {
			c.offered = nil
			if c.policy != SRTPOff {
				c.offered = offerCryptos()
			}
			body = offerSDP(c.local, c.srv.cfg.Codecs, c.policy, c.offered)
		}
		c.localBody = body
		res := c.response(c.invite, 200, "OK", body, c.srv.contact(c.Transport), sip.NewHeader("Allow", allowed))
		if err = c.inviteTx.Respond(res); err != nil {
			c.terminate("hangup")
			return
		}
		select {
		case <-c.cancelReq:
			// sipgo calls the CANCEL callback only before a final
			// response: the CANCEL won and our 200 was not sent.
			canceled = true
			c.emit(Event{Type: EventCancel})
			c.terminate("cancel")
			err = ErrCallCanceled
			return
		default:
		}
		c.state = stateAnswered
		c.markFinal()
		wait = make(chan error, 1)
		c.pending = c.newPendingAck(c.invite.CSeq().SeqNo, res)
		c.pending.offerInAnswer, c.pending.initial, c.pending.result = c.neg == nil, true, wait
	}); e != nil {
		return c.lateError()
	}
	if err != nil || canceled {
		return err
	}
	select {
	case err = <-wait:
		return err
	case <-c.exited:
		return ErrCallTerminated
	}
}

// Hangup ends the call: BYE when answered (waiting for its response until
// ctx is done), 480 Temporarily Unavailable before.
func (c *Call) Hangup(ctx context.Context) error {
	var bye func(context.Context) error
	var err error
	if e := c.do(func() {
		switch c.state {
		case stateEarly:
			err = c.inviteTx.Respond(c.response(c.invite, 480, "Temporarily Unavailable", nil))
			c.terminate("hangup")
		case stateAnswered:
			bye = c.prepareBye("hangup")
			c.terminate("hangup")
		default:
			err = ErrCallTerminated
		}
	}); e != nil {
		return e
	}
	if err != nil || bye == nil {
		return err
	}
	return bye(ctx)
}

// prepareBye builds the BYE on the call goroutine and returns the function
// that sends it and waits for the response.
func (c *Call) prepareBye(reason string) func(context.Context) error {
	if sess := c.uac; sess != nil {
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 64*c.srv.cfg.T1)
			defer cancel()
			if err := sess.Bye(ctx); err != nil {
				return fmt.Errorf("%w: %w", ErrByeFailed, err)
			}
			return nil
		}
	}
	req := c.byeRequest(reason)
	return func(ctx context.Context) error { return c.sendBye(ctx, req) }
}

// byeRequest builds a BYE in this dialog (we are the UAS: our tag in
// From, route set from the INVITE's Record-Route in order).
func (c *Call) byeRequest(reason string) *sip.Request {
	c.localCSeq++
	req := sip.NewRequest(sip.BYE, c.target)
	from := &sip.FromHeader{Address: c.invite.To().Address}
	if t := c.invite.To(); t != nil {
		from.DisplayName = t.DisplayName
	}
	from.Params = sip.NewParams()
	from.Params.Add("tag", c.localTag)
	req.AppendHeader(from)
	f := c.invite.From()
	to := &sip.ToHeader{Address: f.Address, DisplayName: f.DisplayName, Params: f.Params.Clone()}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(c.ID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: c.localCSeq, MethodName: sip.BYE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range c.routes {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	req.AppendHeader(sip.NewHeader("User-Agent", c.srv.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Reason", `SIP;cause=200;text="`+reason+`"`))
	req.SetBody(nil)
	req.SetTransport(c.Transport)
	if len(c.routes) == 0 && c.Source.IsValid() {
		// Send where the INVITE came from: it reaches callers behind NAT
		// and reuses the TCP connection.
		req.SetDestination(c.Source.String())
	}
	return req
}

func (c *Call) sendBye(ctx context.Context, req *sip.Request) error {
	ctx, cancel := context.WithTimeout(ctx, 64*c.srv.cfg.T1)
	defer cancel()
	res, err := c.srv.client.Do(ctx, req, sipgo.ClientRequestAddVia)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrByeFailed, err)
	}
	if res == nil {
		// sipgo answers neither a response nor an error when its user
		// agent closed under the request (server shutdown).
		return fmt.Errorf("%w: no response", ErrByeFailed)
	}
	if res.StatusCode >= 300 && res.StatusCode != 481 {
		return fmt.Errorf("%w: %d %s", ErrByeFailed, res.StatusCode, res.Reason)
	}
	return nil
}

func txKey(req *sip.Request) string {
	branch, _ := req.Via().Params.Get("branch")
	return fmt.Sprintf("%s|%s|%d", branch, req.Method, req.CSeq().SeqNo)
}

// handle processes one in-dialog request on the call goroutine.
func (c *Call) handle(req *sip.Request) {
	key := txKey(req)
	if res, ok := c.cache[key]; ok {
		c.srv.writeResponse(res)
		return
	}
	if req.Method == sip.ACK {
		c.onAck(req)
		return
	}
	reply := func(code int, reason string, body []byte, hdrs ...sip.Header) {
		res := c.response(req, code, reason, body, hdrs...)
		c.cache[key] = res
		c.srv.writeResponse(res)
	}
	if c.state == stateTerminated && req.Method != sip.BYE {
		reply(481, "Call/Transaction Does Not Exist", nil)
		return
	}
	seq := req.CSeq().SeqNo
	if seq < c.remoteCSeq || (seq == c.remoteCSeq && req.Method != sip.BYE && c.state != stateTerminated) {
		// RFC 3261 section 12.2.2: lower CSeq is out of order.
		reply(500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1"))
		return
	}
	c.remoteCSeq = seq
	switch req.Method {
	case sip.BYE:
		reply(200, "OK", nil)
		if c.state == stateTerminated {
			return
		}
		if c.state == stateEarly {
			// Only a broken UAC sends BYE before our 2xx; end the INVITE too.
			c.inviteTx.Respond(c.response(c.invite, 487, "Request Terminated", nil))
		}
		c.emit(Event{Type: EventBye})
		c.terminate("bye")
	case sip.INVITE, sip.UPDATE:
		c.onOffer(req, reply)
	case sip.INFO:
		c.onInfo(req, reply)
	case sip.OPTIONS:
		reply(200, "OK", nil, optionsHeaders()...)
	default:
		reply(405, "Method Not Allowed", nil, sip.NewHeader("Allow", allowed))
	}
}

func (c *Call) onAck(req *sip.Request) {
	p := c.pending
	if p == nil || req.CSeq().SeqNo != p.cseq {
		return
	}
	c.pending = nil
	ev := Event{Type: EventAck}
	if !p.initial {
		ev.Type = EventReInvite
	}
	if p.offerInAnswer {
		neg, err := c.answerFromAck(req.Body())
		if err != nil {
			c.srv.log.Info("sip: bad sdp answer in ack, hanging up", "call_id", c.ID, "error", err)
			if p.result != nil {
				p.result <- err
			}
			go c.prepareBye("bad sdp answer")(context.Background())
			c.terminate("hangup")
			return
		}
		c.neg = neg
		ev.Media = neg.Remote
	} else if c.neg != nil {
		ev.Media = c.neg.Remote
	}
	if p.result != nil {
		p.result <- nil
	}
	if p.initial || p.offerInAnswer {
		c.emit(ev)
	}
}

// answerFromAck reads the SDP answer to the offer we sent in a 2xx. The
// answerer must pick one of our codecs; we keep its payload types.
func (c *Call) answerFromAck(body []byte) (*Negotiation, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: ack has no sdp answer", ErrSDPMalformed)
	}
	prefs := c.srv.cfg.Codecs
	offered := c.offered
	if c.neg != nil {
		prefs = []string{c.neg.Remote.Codec.Name}
		offered = c.neg.cryptos()
	}
	return c.srv.negotiate(body, prefs, srtpSide{policy: c.policy, isAnswer: true, offered: offered})
}

// onOffer handles a re-INVITE or UPDATE: hold, unhold, new address,
// session refresh. The codec stays the one chosen at answer time.
func (c *Call) onOffer(req *sip.Request, reply func(int, string, []byte, ...sip.Header)) {
	isInvite := req.Method == sip.INVITE
	if c.state != stateAnswered || c.pending != nil {
		// Glare or overlap: our previous 2xx is not ACKed yet.
		reply(491, "Request Pending", nil)
		return
	}
	if ct := req.Contact(); ct != nil {
		c.target = ct.Address // target refresh
	}
	body := req.Body()
	if len(body) == 0 {
		if !isInvite {
			reply(200, "OK", nil, c.srv.contact(c.Transport)) // UPDATE as a session refresh
			return
		}
		// Offerless re-INVITE: offer our current session, answer in ACK.
		res := c.response(req, 200, "OK", c.localBody, c.srv.contact(c.Transport), sip.NewHeader("Allow", allowed))
		c.sendOfferResponse(req, res, true)
		return
	}
	if ct := req.ContentType(); ct != nil && !strings.EqualFold(mediaType(ct.Value()), "application/sdp") {
		reply(415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/sdp"))
		return
	}
	prefs := c.srv.cfg.Codecs
	var keep SRTP
	if c.neg != nil {
		prefs = []string{c.neg.Remote.Codec.Name}
		keep = c.neg.Remote.SRTP
	}
	neg, err := c.srv.negotiate(body, prefs, srtpSide{policy: c.policy, keep: keep})
	if err != nil {
		c.srv.log.Info("sip: re-offer rejected", "call_id", c.ID, "error", err)
		reply(488, "Not Acceptable Here", nil, sip.NewHeader("Warning", `399 mediaserver "`+sanitize(err.Error())+`"`))
		return
	}
	changed := c.neg == nil || neg.Remote != c.neg.Remote
	answer := neg.answer(c.local, neg.Remote.Direction.answer())
	if !sameSDP(answer, c.localBody) {
		c.local.version++
		answer = neg.answer(c.local, neg.Remote.Direction.answer())
	}
	c.localBody = answer
	c.neg = neg
	res := c.response(req, 200, "OK", answer, c.srv.contact(c.Transport), sip.NewHeader("Allow", allowed))
	if isInvite {
		c.sendOfferResponse(req, res, false)
	} else {
		c.cache[txKey(req)] = res
		c.srv.writeResponse(res)
	}
	if changed {
		c.emit(Event{Type: EventReInvite, Media: neg.Remote})
	}
}

// newPendingAck starts the retransmission schedule of a 2xx: T1, doubling
// to T2, for 64*T1 (RFC 3261 section 13.3.1.4); on TCP only the deadline.
func (c *Call) newPendingAck(cseq uint32, res *sip.Response) *pendingAck {
	now := time.Now()
	p := &pendingAck{cseq: cseq, res: res, interval: c.srv.cfg.T1, deadline: now.Add(64 * c.srv.cfg.T1)}
	p.next = now.Add(p.interval)
	if reliable(c.Transport) {
		p.next = p.deadline
	}
	return p
}

// sendOfferResponse sends a re-INVITE's 2xx and retransmits it until ACK.
func (c *Call) sendOfferResponse(req *sip.Request, res *sip.Response, offerInAnswer bool) {
	c.cache[txKey(req)] = res
	c.srv.writeResponse(res)
	c.pending = c.newPendingAck(req.CSeq().SeqNo, res)
	c.pending.offerInAnswer = offerInAnswer
}

// sameSDP compares two of our SDP bodies ignoring the o= line.
func sameSDP(a, b []byte) bool {
	strip := func(s []byte) string {
		lines := strings.Split(string(s), "\r\n")
		out := lines[:0]
		for _, l := range lines {
			if !strings.HasPrefix(l, "o=") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	return strip(a) == strip(b)
}

func (c *Call) onInfo(req *sip.Request, reply func(int, string, []byte, ...sip.Header)) {
	body := req.Body()
	if len(body) == 0 {
		reply(200, "OK", nil)
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	switch strings.ToLower(mediaType(ct)) {
	case "application/dtmf-relay", "application/dtmf":
	default:
		reply(415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	d, err := ParseDTMFInfo(ct, body)
	if err != nil {
		reply(400, "Bad Request", nil, sip.NewHeader("Warning", `399 mediaserver "`+sanitize(err.Error())+`"`))
		return
	}
	reply(200, "OK", nil)
	c.emit(Event{Type: EventDTMF, DTMF: d})
}
