// Package sip is the SIP user agent of the media server: it listens on UDP
// and TCP (github.com/emiago/sipgo), answers INVITEs with an SDP answer
// (github.com/pion/sdp/v3), keeps one serialized state machine per call, and
// reports in-call requests (ACK, BYE, CANCEL, re-INVITE, INFO DTMF) as
// ordered events. It knows nothing about media or plugins: the call engine
// gives it an RTP address and reads its events.
//
// Start with Server, Handler and Call; README.md describes the behaviour.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/wasmvoice/mediaserver/internal/connlimit"
	"github.com/wasmvoice/mediaserver/internal/ratelimit"
)

// Config configures a Server. The zero value of each optional field picks
// the default in its comment.
type Config struct {
	UDP []string // listen addresses, e.g. "127.0.0.1:5060"; port 0 picks one
	TCP []string
	// TLS listen addresses (SIP over TLS, RFC 3261 section 26.2; the
	// transport "sips:" and ";transport=tls" ask for). TLSConfig must
	// then give the certificate (GetCertificate, to reload it without a
	// restart).
	TLS       []string
	TLSConfig *tls.Config
	// TLSClientConfig verifies the peers we dial over TLS (trunks): nil
	// uses the system's roots. The server name is the dialled host.
	TLSClientConfig *tls.Config
	// SRTP is the SRTP policy of the calls of each listener transport
	// ("UDP", "TCP", "TLS"); a transport missing here is SRTPOff.
	SRTP map[string]SRTPPolicy
	// UserAgent is sent in Server and User-Agent headers; default "mediaserver".
	UserAgent string
	// Codecs is our preference order; default PCMU, PCMA.
	Codecs []string
	Logger *slog.Logger // default: discard
	// T1 is the RTT estimate of RFC 3261 (default 500ms), T2 the cap of
	// the 200 OK retransmission interval (default 4s).
	T1, T2 time.Duration
	// UDPReadBuffer is the receive buffer of each UDP listener in bytes
	// (default 4 MiB; the kernel caps it at net.core.rmem_max). One reader
	// serves the socket: a burst the size of the system default (~200 KiB,
	// a few hundred requests) overflows it and requests are lost.
	UDPReadBuffer int
	// CheckMedia vets the media address of every SDP a peer sends (offer,
	// answer, re-offer); an error refuses that SDP with 488 (see
	// media.Targets). Nil accepts every address.
	CheckMedia func(netip.AddrPort) error

	// Limits on what one source can take. Zero values take the defaults.
	//
	// SourceInviteRate is how many dialog-creating INVITEs per second one
	// source IP may send (bursts of twice that); more get 503 with
	// Retry-After before any call is created, so a flood from one address
	// cannot use up a tenant's call-rate quota for its other callers
	// (default 20; negative turns the limit off). Trusted sources (an SBC
	// or Kamailio in front, a trunk) are exempt.
	SourceInviteRate float64
	Trusted          []netip.Prefix
	// TCP connections: at most MaxTCPConns open (default 8192), at most
	// MaxTCPConnsPerIP from one IP (default 64, trusted sources exempt),
	// and each closed after TCPIdleTimeout without data unless it carries
	// a call in progress (default 2 minutes).
	MaxTCPConns      int
	MaxTCPConnsPerIP int
	TCPIdleTimeout   time.Duration
}

// Defaults of the per-source limits.
const (
	DefaultSourceInviteRate = 20
	DefaultMaxTCPConns      = 8192
	DefaultMaxTCPConnsPerIP = 64
	DefaultTCPIdleTimeout   = 2 * time.Minute
)

// defaultUDPReadBuffer rides out a second of a few thousand calls/s.
const defaultUDPReadBuffer = 4 << 20

// Handler receives new calls. HandleCall runs in its own goroutine per
// call and must eventually Answer, Reject or Hangup.
type Handler interface {
	HandleCall(c *Call)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(c *Call)

// HandleCall calls f(c).
func (f HandlerFunc) HandleCall(c *Call) { f(c) }

// ListenAddr is one bound listener.
type ListenAddr struct {
	Transport string // "UDP", "TCP" or "TLS"
	Addr      netip.AddrPort
}

// Server is a SIP user agent server. Create it with NewServer, run it with
// ListenAndServe.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler Handler
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	parser  *sip.Parser
	udp     []*net.UDPConn
	tcp     []*net.TCPListener
	tls     []*net.TCPListener
	addrs   []ListenAddr

	invites        *ratelimit.Keyed // per source IP; nil when off
	refusedInvites atomic.Uint64
	draining       atomic.Bool // new INVITEs get 503 (SetDraining)

	mu     sync.Mutex
	calls  map[string]*Call // by Call-ID
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

// allowed is our Allow header value.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"

// NewServer binds the configured listeners (so Addrs is valid at once) and
// prepares the user agent. ListenAndServe starts serving.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if len(cfg.UDP)+len(cfg.TCP)+len(cfg.TLS) == 0 {
		return nil, ErrNoListener
	}
	if len(cfg.TLS) > 0 && (cfg.TLSConfig == nil || (len(cfg.TLSConfig.Certificates) == 0 && cfg.TLSConfig.GetCertificate == nil)) {
		return nil, ErrNoTLS
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "mediaserver"
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []string{"PCMU", "PCMA"}
	}
	if cfg.T1 <= 0 {
		cfg.T1 = 500 * time.Millisecond
	}
	if cfg.T2 <= 0 {
		cfg.T2 = 4 * time.Second
	}
	if cfg.UDPReadBuffer <= 0 {
		cfg.UDPReadBuffer = defaultUDPReadBuffer
	}
	if cfg.SourceInviteRate == 0 {
		cfg.SourceInviteRate = DefaultSourceInviteRate
	}
	if cfg.MaxTCPConns <= 0 {
		cfg.MaxTCPConns = DefaultMaxTCPConns
	}
	if cfg.MaxTCPConnsPerIP <= 0 {
		cfg.MaxTCPConnsPerIP = DefaultMaxTCPConnsPerIP
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, handler: h, parser: sip.NewParser(), calls: map[string]*Call{}, done: make(chan struct{})}
	if cfg.SourceInviteRate > 0 {
		s.invites = ratelimit.NewKeyed(cfg.SourceInviteRate, int(2*cfg.SourceInviteRate), nil)
	}
	for _, a := range cfg.UDP {
		laddr, err := net.ResolveUDPAddr("udp", a)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("udp %s: %w", a, err)
		}
		c, err := net.ListenUDP("udp", laddr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("udp %s: %w", a, err)
		}
		s.udp = append(s.udp, c)
		if err := c.SetReadBuffer(cfg.UDPReadBuffer); err != nil {
			log.Warn("sip: udp read buffer", "addr", a, "error", err)
		}
		s.addrs = append(s.addrs, ListenAddr{Transport: "UDP", Addr: c.LocalAddr().(*net.UDPAddr).AddrPort()})
	}
	for _, a := range cfg.TCP {
		laddr, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("tcp %s: %w", a, err)
		}
		l, err := net.ListenTCP("tcp", laddr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("tcp %s: %w", a, err)
		}
		s.tcp = append(s.tcp, l)
		s.addrs = append(s.addrs, ListenAddr{Transport: "TCP", Addr: l.Addr().(*net.TCPAddr).AddrPort()})
	}
	for _, a := range cfg.TLS {
		laddr, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("tls %s: %w", a, err)
		}
		l, err := net.ListenTCP("tcp", laddr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("tls %s: %w", a, err)
		}
		s.tls = append(s.tls, l)
		s.addrs = append(s.addrs, ListenAddr{Transport: "TLS", Addr: l.Addr().(*net.TCPAddr).AddrPort()})
	}

	clientTLS := cfg.TLSClientConfig
	if clientTLS == nil {
		clientTLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgenTLSConfig(clientTLS),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(log),
			sip.WithTransportLayerReadFilter(s.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)),
	)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("user agent: %w", err)
	}
	s.ua = ua
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("server: %w", err)
	}
	s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log))
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("client: %w", err)
	}
	// In-dialog requests are routed here, in the transport's reader
	// goroutine, so one call's requests keep their arrival order; sipgo
	// would hand each to its own goroutine.
	ua.TransportLayer().OnMessage(s.routeInDialog)
	// Register the UDP listeners with sipgo now rather than when
	// ListenAndServe's goroutines reach ServeUDP: a Dial sends from the
	// listening socket (Laddr), and an unregistered Laddr makes sipgo bind
	// a second socket there ("address already in use"). ServeUDP later
	// replaces each entry with its own wrapper of the same socket; replies
	// wait in the socket buffer until it reads them.
	pool := ua.TransportLayer().Pool("udp")
	for _, c := range s.udp {
		a := c.LocalAddr().String()
		pool.Add(a, &sip.UDPConnection{PacketConn: c, PacketAddr: a, Listener: true})
	}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	s.srv.OnCancel(s.onOutOfDialog)
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO, sip.UPDATE, sip.PRACK, sip.REFER, sip.NOTIFY} {
		s.srv.OnRequest(m, s.onOutOfDialog)
	}
	s.srv.OnNoRoute(s.onNoRoute)
	return s, nil
}

// SetDraining turns the refusal of new calls on or off: while on, every
// dialog-creating INVITE gets 503 Service Unavailable (a graceful
// shutdown); calls in progress go on as before.
func (s *Server) SetDraining(on bool) { s.draining.Store(on) }

// Addrs returns the bound listeners, valid once NewServer returned (Dial
// works from then on too).
func (s *Server) Addrs() []ListenAddr { return append([]ListenAddr(nil), s.addrs...) }

// Addr returns the first listener of transport ("UDP" or "TCP").
func (s *Server) Addr(transport string) (netip.AddrPort, bool) {
	for _, a := range s.addrs {
		if strings.EqualFold(a.Transport, transport) {
			return a.Addr, true
		}
	}
	return netip.AddrPort{}, false
}

// ListenAndServe serves until ctx is done, then closes the listeners,
// terminates the calls still up (without sending BYE) and returns nil.
func (s *Server) ListenAndServe(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.mu.Unlock()
	errc := make(chan error, len(s.udp)+len(s.tcp)+len(s.tls))
	for _, c := range s.udp {
		go func() { errc <- s.srv.ServeUDP(c) }()
	}
	for _, l := range s.tcp {
		go func() { errc <- s.srv.ServeTCP(s.limit(l)) }()
	}
	for _, l := range s.tls {
		// The handshake runs on the connection's first read, in sipgo's
		// reader goroutine of that connection; the idle timeout of the
		// limits bounds a peer that never completes it.
		go func() { errc <- s.srv.ServeTLS(tls.NewListener(s.limit(l), s.cfg.TLSConfig)) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.shutdown()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// limit applies the TCP connection limits to a TCP or TLS listener.
func (s *Server) limit(l *net.TCPListener) net.Listener {
	return connlimit.Wrap(l, connlimit.Config{
		MaxConns:    s.cfg.MaxTCPConns,
		MaxPerIP:    s.cfg.MaxTCPConnsPerIP,
		Exempt:      s.trusted,
		IdleTimeout: s.cfg.TCPIdleTimeout,
		KeepOpen:    s.hasCallFrom,
		OnRefuse: func(remote netip.AddrPort, reason string) {
			s.log.Info("sip: tcp connection closed", "remote", remote, "reason", reason)
		},
	})
}

// srtpPolicy is the SRTP policy of calls that came in over transport.
func (s *Server) srtpPolicy(transport string) SRTPPolicy {
	return s.cfg.SRTP[strings.ToUpper(transport)]
}

func (s *Server) shutdown() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.closeListeners()
	s.wg.Wait()
	s.ua.Close()
}

func (s *Server) closeListeners() {
	for _, c := range s.udp {
		c.Close()
	}
	for _, l := range s.tcp {
		l.Close()
	}
	for _, l := range s.tls {
		l.Close()
	}
}

// contact is our Contact header for a request that came in on transport.
func (s *Server) contact(transport string) *sip.ContactHeader {
	a, ok := s.Addr(transport)
	if !ok {
		a = s.addrs[0].Addr
	}
	uri := sip.Uri{Scheme: "sip", Host: a.Addr().String(), Port: int(a.Port())}
	if strings.EqualFold(transport, "TCP") || strings.EqualFold(transport, "TLS") {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", strings.ToLower(transport))
	}
	return &sip.ContactHeader{Address: uri}
}

// respond sends a response outside any sipgo transaction.
func (s *Server) respond(req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	s.decorate(res, hdrs...)
	s.writeResponse(res)
	return res
}

// writeResponse sends a response outside a transaction. sipgo refuses UDP
// messages over 1300 bytes (its MTU rule for requests, which could move to
// TCP); a response cannot, so a large one goes out as one datagram anyway.
func (s *Server) writeResponse(res *sip.Response) {
	err := s.ua.TransportLayer().WriteMsg(res)
	if errors.Is(err, sip.ErrUDPMTUCongestion) && len(s.udp) > 0 {
		var dst *net.UDPAddr
		if dst, err = net.ResolveUDPAddr("udp", res.Destination()); err == nil {
			_, err = s.udp[0].WriteToUDP([]byte(res.String()), dst)
		}
	}
	if err != nil {
		s.log.Warn("sip: write response", "code", res.StatusCode, "call_id", callIDOf(res), "error", err)
	}
}

func callIDOf(m sip.Message) string {
	if r, ok := m.(*sip.Response); ok && r.CallID() != nil {
		return r.CallID().Value()
	}
	return ""
}

func (s *Server) decorate(res *sip.Response, hdrs ...sip.Header) {
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if len(res.Body()) > 0 && res.ContentType() == nil {
		ct := sip.ContentTypeHeader("application/sdp")
		res.AppendHeader(&ct)
	}
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// routeInDialog runs synchronously for every received message. Requests
// carrying a To tag belong to a dialog: they go to their call's queue, or
// get 481. Everything else is left to sipgo's handlers.
func (s *Server) routeInDialog(msg sip.Message) {
	req, ok := msg.(*sip.Request)
	if !ok || req.Method == sip.CANCEL {
		return
	}
	to := req.To()
	if to == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil || req.From() == nil {
		return
	}
	tag, ok := to.Params.Get("tag")
	if !ok || tag == "" {
		return
	}
	// sipgo's goroutine for this request still writes to it (its resolved
	// remote address), so we work on our own copy.
	msgCopy, err := s.parser.ParseSIP([]byte(req.String()))
	cp, ok := msgCopy.(*sip.Request)
	if err != nil || !ok {
		s.log.Warn("sip: reparse in-dialog request", "call_id", req.CallID().Value(), "error", err)
		return
	}
	cp.SetSource(req.Source())
	cp.SetTransport(req.Transport())
	s.mu.Lock()
	c := s.calls[req.CallID().Value()]
	s.mu.Unlock()
	if c == nil || c.localTag != tag {
		if req.Method != sip.ACK {
			s.respond(cp, 481, "Call/Transaction Does Not Exist", nil)
		}
		return
	}
	c.deliver(cp)
}

// hasToTag reports whether req belongs to a dialog (routeInDialog's case).
func hasToTag(req *sip.Request) bool {
	if to := req.To(); to != nil {
		tag, ok := to.Params.Get("tag")
		return ok && tag != ""
	}
	return false
}

func (s *Server) onOutOfDialog(req *sip.Request, tx sip.ServerTransaction) {
	if hasToTag(req) {
		return
	}
	s.txRespond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
}

func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	if hasToTag(req) {
		return
	}
	s.txRespond(tx, req, 405, "Method Not Allowed", nil, sip.NewHeader("Allow", allowed))
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if hasToTag(req) {
		return
	}
	s.txRespond(tx, req, 200, "OK", nil, optionsHeaders()...)
}

func optionsHeaders() []sip.Header {
	return []sip.Header{sip.NewHeader("Allow", allowed), sip.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf")}
}

func (s *Server) txRespond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	s.decorate(res, hdrs...)
	if err := tx.Respond(res); err != nil {
		s.log.Warn("sip: respond", "code", code, "call_id", callID(req), "error", err)
	}
}

// onInvite handles a dialog-creating INVITE in sipgo's goroutine for it.
// It holds the transaction until the final response is sent, because
// sipgo ends the transaction when this function returns.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if hasToTag(req) {
		return // a re-INVITE, routed by routeInDialog
	}
	s.txRespond(tx, req, 100, "Trying", nil)
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CallID().Value() == "" {
		s.log.Info("sip: invite rejected, missing From, To or Call-ID", "source", req.Source())
		s.txRespond(tx, req, 400, "Bad Request: Missing Header", nil)
		return
	}
	if require := req.GetHeader("Require"); require != nil && strings.TrimSpace(require.Value()) != "" {
		// We support no extension (no 100rel, no timer), RFC 3261 section 8.2.2.3.
		s.txRespond(tx, req, 420, "Bad Extension", nil, sip.NewHeader("Unsupported", require.Value()))
		return
	}
	if req.Recipient.Scheme != "sip" && req.Recipient.Scheme != "sips" && req.Recipient.Scheme != "tel" {
		s.txRespond(tx, req, 416, "Unsupported URI Scheme", nil)
		return
	}
	if s.draining.Load() {
		s.log.Debug("sip: invite refused, draining", "call_id", callID(req), "source", req.Source())
		s.txRespond(tx, req, 503, "Service Unavailable", nil)
		return
	}
	if wait, ok := s.admitSource(req); !ok {
		s.txRespond(tx, req, 503, "Service Unavailable", nil, sip.NewHeader("Retry-After", retryAfter(wait)))
		return
	}
	var neg *Negotiation
	if body := req.Body(); len(body) > 0 {
		if ct := req.ContentType(); ct != nil && !strings.EqualFold(mediaType(ct.Value()), "application/sdp") {
			s.log.Info("sip: invite rejected, unsupported body", "call_id", callID(req), "content_type", ct.Value())
			s.txRespond(tx, req, 415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/sdp"))
			return
		}
		var err error
		neg, err = s.negotiate(body, s.cfg.Codecs, srtpSide{policy: s.srtpPolicy(req.Transport())})
		if err != nil {
			code, reason := 488, "Not Acceptable Here"
			if errors.Is(err, ErrSDPMalformed) || errors.Is(err, ErrSDPTooLarge) {
				code, reason = 400, "Bad Request: Malformed SDP"
			}
			s.log.Info("sip: invite rejected", "call_id", callID(req), "code", code, "error", err)
			s.txRespond(tx, req, code, reason, nil, sip.NewHeader("Warning", `399 mediaserver "`+sanitize(err.Error())+`"`))
			return
		}
	}
	c := newCall(s, req, tx, neg)
	c.policy = s.srtpPolicy(req.Transport())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.txRespond(tx, req, 503, "Service Unavailable", nil)
		return
	}
	if _, dup := s.calls[c.ID]; dup {
		s.mu.Unlock()
		s.txRespond(tx, req, 482, "Loop Detected", nil)
		return
	}
	s.calls[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	if stx, ok := tx.(*sip.ServerTx); ok {
		stx.OnCancel(func(*sip.Request) { c.canceled() })
	}
	go c.run()
	go s.handler.HandleCall(c)
	select {
	case <-c.finalSent:
	case <-c.exited:
	}
}

// admitSource applies the per-source INVITE rate: it reports false, and
// when a retry may succeed, for a source over its rate.
func (s *Server) admitSource(req *sip.Request) (time.Duration, bool) {
	if s.invites == nil {
		return 0, true
	}
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return 0, true
	}
	ip := src.Addr().Unmap()
	if s.trusted(ip) {
		return 0, true
	}
	wait, ok := s.invites.Allow(ip.String())
	if !ok {
		// One line per refused INVITE would be the flood itself in the log.
		if n := s.refusedInvites.Add(1); n&(n-1) == 0 {
			s.log.Warn("sip: invite refused, source over its rate", "source", ip, "rate", s.cfg.SourceInviteRate, "refused_so_far", n)
		}
	}
	return wait, ok
}

// trusted reports whether ip is exempt from the per-source limits.
func (s *Server) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.cfg.Trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// hasCallFrom reports whether a call in progress came in from remote (a
// TCP connection that must stay open while idle).
func (s *Server) hasCallFrom(remote netip.AddrPort) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.Source == remote {
			return true
		}
	}
	return false
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// negotiate is Negotiate under side's SRTP rules plus the CheckMedia
// vetting of the peer's media address (errors wrap ErrMediaAddress).
func (s *Server) negotiate(body []byte, prefs []string, side srtpSide) (*Negotiation, error) {
	neg, err := negotiate(body, prefs, side)
	if err != nil || s.cfg.CheckMedia == nil {
		return neg, err
	}
	if a := neg.Remote.Addr; a.IsValid() && !a.Addr().IsUnspecified() {
		if err := s.cfg.CheckMedia(a); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMediaAddress, err)
		}
	}
	return neg, nil
}

func (s *Server) removeCall(c *Call) {
	s.mu.Lock()
	if s.calls[c.ID] == c {
		delete(s.calls, c.ID)
	}
	s.mu.Unlock()
	s.wg.Done()
}

func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(t)
}

// sanitize keeps a Warning header's quoted text valid.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' || r > '~' {
			return '\''
		}
		return r
	}, s)
}
