package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DialParams describes one outbound INVITE.
type DialParams struct {
	// Target is the Request-URI, e.g. "sip:+12065550100@trunk.example.com:5060".
	Target string
	// Transport is "UDP", "TCP" or "TLS"; empty means TLS for a "sips:"
	// Target or one with ";transport=tls", else UDP.
	Transport string
	// Proxy, when set, is the host:port the INVITE is sent to instead of
	// the Target's host (an outbound proxy or trunk).
	Proxy string
	// From is the caller id user part; FromDisplay its display name.
	From, FromDisplay string
	// Headers are added to the INVITE (X-*, User-to-User, Diversion).
	Headers map[string]string
	// Local is our RTP address, offered in the INVITE's SDP.
	Local netip.AddrPort
	// Username and Password answer a 401/407 digest challenge.
	Username, Password string
	// Progress, when set, is called with each provisional status (180, 183).
	Progress func(code int)
	// SRTP is the trunk's policy: off offers RTP/AVP; optional RTP/AVP
	// with a=crypto lines (SRTP when the answer picks one); mandatory
	// RTP/SAVP, and an answer without a crypto line ends the call.
	SRTP SRTPPolicy
}

// Dial places an outbound call and returns it once answered (the ACK is
// sent and Remote holds the answered media). Canceling ctx before the
// answer sends CANCEL and returns ctx's error; a 2xx crossing the CANCEL is
// ACKed and hung up. A final failure returns a *StatusError. The Call then
// works as an inbound one: Events, Hangup; Ringing/Answer/Reject do not
// apply.
func (s *Server) Dial(ctx context.Context, p DialParams) (*Call, error) {
	if !p.Local.IsValid() || p.Local.Port() == 0 || p.Local.Addr().IsUnspecified() {
		return nil, fmt.Errorf("%w: %v", ErrBadLocalAddr, p.Local)
	}
	var target sip.Uri
	if err := sip.ParseUri(p.Target, &target); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBadTarget, p.Target, err)
	}
	transport := strings.ToUpper(p.Transport)
	switch {
	case transport == "" && (target.Scheme == "sips" || strings.EqualFold(target.UriParams.GetOr("transport", ""), "tls")):
		transport = "TLS"
	case transport == "":
		transport = "UDP"
	}
	listen, ok := s.Addr(transport)
	if !ok {
		return nil, fmt.Errorf("%w: no %s listener", ErrBadTarget, transport)
	}

	local := localSDP{sessionID: randomSessionID(), version: 1, addr: p.Local}
	var offered []Crypto
	if p.SRTP != SRTPOff {
		offered = offerCryptos()
	}
	offer := offerSDP(local, s.cfg.Codecs, p.SRTP, offered)
	req := sip.NewRequest(sip.INVITE, target)
	req.SetTransport(transport)
	localTag := randomHex(8)
	from := &sip.FromHeader{DisplayName: p.FromDisplay, Address: sip.Uri{Scheme: "sip", User: p.From, Host: listen.Addr().String()}, Params: sip.NewParams()}
	from.Params.Add("tag", localTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}})
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	for k, v := range p.Headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(offer)
	if p.Proxy != "" {
		req.SetDestination(p.Proxy)
	}
	if transport == "UDP" {
		// Send from our listening socket, where in-dialog requests arrive.
		req.Laddr = sip.Addr{IP: net.IP(listen.Addr().AsSlice()), Port: int(listen.Port())}
	}

	dua := &sipgo.DialogUA{Client: s.client, ContactHDR: *s.contact(transport)}
	sess, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDialFailed, err)
	}
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: p.Username, Password: p.Password,
		OnResponse: func(res *sip.Response) error {
			if p.Progress != nil && res.StatusCode > 100 && res.StatusCode < 200 {
				p.Progress(res.StatusCode)
			}
			return nil
		},
	})
	if err != nil {
		var dr *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &dr):
			sess.Close()
			return nil, &StatusError{Code: dr.Res.StatusCode, Reason: dr.Res.Reason}
		case ctx.Err() != nil:
			if res := sess.InviteResponse; res != nil && res.IsSuccess() {
				// The 2xx crossed our CANCEL: confirm and end it.
				if sess.Ack(context.Background()) == nil {
					sess.Bye(context.Background())
				}
			}
			sess.Close()
			return nil, ctx.Err()
		}
		sess.Close()
		return nil, fmt.Errorf("%w: %w", ErrDialFailed, err)
	}
	res := sess.InviteResponse
	neg, nerr := s.negotiate(res.Body(), s.cfg.Codecs, srtpSide{policy: p.SRTP, isAnswer: true, offered: offered})
	if aerr := sess.Ack(ctx); aerr != nil {
		sess.Close()
		return nil, fmt.Errorf("%w: ack: %w", ErrDialFailed, aerr)
	}
	if nerr != nil {
		s.log.Info("sip: bad sdp answer to our offer, hanging up", "call_id", callID(req), "error", nerr)
		sess.Bye(context.Background())
		sess.Close()
		return nil, nerr
	}

	c := newCall(s, req, nil, neg)
	c.localTag = localTag
	c.uac = sess
	c.policy = p.SRTP
	c.From = Party{User: p.From, Display: p.FromDisplay, URI: from.Address.String()}
	if to := res.To(); to != nil {
		c.To = Party{User: to.Address.User, Display: to.DisplayName, URI: to.Address.String()}
	}
	c.Headers = map[string]string{}
	c.remoteCSeq = 0
	c.state = stateAnswered
	c.markFinal()
	c.local = local
	c.localBody = offer
	if ap, err := netip.ParseAddrPort(res.Source()); err == nil {
		c.Source = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sess.Bye(context.Background())
		return nil, ErrServerClosed
	}
	s.calls[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go c.run()
	return c, nil
}
