// Package server assembles the media server: it wires the configuration
// into the tenants (host/tenancy: registry, plugins, storage, quotas,
// metrics), the media clock and port pool, the call legs
// (host/callleg: SIP and RTP of each participant), the call engine
// (host/engine), the SIP user agent (sip) and the HTTP listener (the
// control API of host/control, /metrics, /healthz), and hands each INVITE
// to the application that owns the dialled number.
//
// Life cycle: New (checks the configuration), Start (opens the data
// directory, loads plugins, binds every listener, returns when ready),
// Close (ends live calls with BYE, then releases everything).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/host/audio"
	"github.com/wasmvoice/mediaserver/host/callleg"
	"github.com/wasmvoice/mediaserver/host/cluster"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/control"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/host/tenancy"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/internal/tlsfiles"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/sip"
)

// promptCacheBytes bounds the decoded prompts kept in memory (64 MiB ≈ 70
// minutes of 8 kHz audio).
const promptCacheBytes = 64 << 20

// Option configures a Server.
type Option func(*options)

type options struct {
	log          *slog.Logger
	cacheDir     string
	observer     func(Invocation)
	sipT1, sipT2 time.Duration
	apiTimeouts  apiTimeouts
	ringTimeout  time.Duration
	ten          tenancy.Options
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithCacheDir puts wazero's compilation cache in dir instead of
// data/cache, so tests can share compiled plugins between servers.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithObserver calls f after every handler invocation, on the call's
// goroutine (it must not block for long): tests and tracing see what each
// plugin was given and what it answered.
func WithObserver(f func(Invocation)) Option { return func(o *options) { o.observer = f } }

// WithSIPTimers sets the RFC 3261 T1 and T2 timers (default 500 ms, 4 s).
func WithSIPTimers(t1, t2 time.Duration) Option {
	return func(o *options) { o.sipT1, o.sipT2 = t1, t2 }
}

// WithRingTimeout sets how long the LEG-A of an outbound call may ring
// before the engine cancels it and reports 408 (engine default 60 s).
func WithRingTimeout(d time.Duration) Option { return func(o *options) { o.ringTimeout = d } }

// WithDefaultQuotas sets the server-wide quotas a tenant gets where its
// own are zero. Memory, deadline and module size default to the
// [plugins] section of the configuration; concurrent calls to
// tenancy.DefaultMaxConcurrentCalls, calls per second to
// tenancy.DefaultMaxCallsPerSecond, the key-value store, applications and
// plugin versions to their tenancy.Default…; storage is unlimited.
func WithDefaultQuotas(q tenant.Quotas) Option { return func(o *options) { o.ten.Defaults = q } }

// WithTenantCPU caps the plugin invocations one tenant runs at the same
// time (default max(1, GOMAXPROCS/2)): a tenant whose plugin spins until
// its deadline on every event then holds at most that many cores, and the
// other tenants keep the rest.
func WithTenantCPU(n int) Option { return func(o *options) { o.ten.CPUSlots = n } }

// WithOpenMetrics serves /metrics without the admin key. Only sensible
// when the API listens on loopback (the default) or behind a proxy.
func WithOpenMetrics(open bool) Option { return func(o *options) { o.ten.MetricsOpen = open } }

// WithDevReload watches the plugin file of every configured application
// (polling its modification time every interval) and uploads and assigns
// it when it changes: edit, rebuild, call again.
func WithDevReload(interval time.Duration) Option {
	return func(o *options) { o.ten.DevReload = interval }
}

// Invocation is one handler invocation, as reported to an observer.
type Invocation = tenancy.Invocation

// Server is the assembled media server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  *config.Config
	opts options
	log  *slog.Logger

	mu      sync.Mutex
	started bool
	closed  bool

	ten     *tenancy.Tenancy // registry, plugins, storage, quotas, metrics
	clock   *media.Clock
	ports   *media.PortPool
	targets *media.Targets // where media may go: not multicast, broadcast or our own sockets
	egress  *netguard.Policy
	prompts *media.PromptCache
	audio   *audio.Services // speech, URL prompts, VoiceFocus (host/audio)
	legs    *callleg.Legs   // the SIP and RTP of each participant
	engine  *engine.Engine
	node    *cluster.Node // nil: not a node of a cluster (cluster.go)
	sip     *sip.Server
	certs   *tlsfiles.Certs // the TLS listeners' certificate, reloaded from its files
	sipStop context.CancelFunc
	sipDone chan error
	// sipStopped is closed when the SIP server stops serving (readiness).
	sipStopped chan struct{}
	draining   atomic.Bool
	api        *http.Server
	apiLn      net.Listener
	apiDone    chan struct{}
}

// New checks cfg and returns a server ready to Start.
func New(cfg *config.Config, opts ...Option) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("server: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{cfg: cfg}
	for _, o := range opts {
		o(&s.opts)
	}
	s.log = s.opts.log
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	egress, err := netguard.New(cfg.Egress.Allow)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.egress = egress
	s.newNode()
	if s.opts.apiTimeouts == (apiTimeouts{}) {
		s.opts.apiTimeouts = defaultAPITimeouts()
	}
	s.ten = tenancy.New(tenancy.Config{
		Config:   cfg,
		Options:  s.opts.ten,
		Logger:   s.log,
		Egress:   egress,
		CacheDir: s.cacheDir(),
		Observer: s.opts.observer,
		Calls: func() []engine.CallSummary {
			if e := s.engine; e != nil {
				return e.Calls()
			}
			return nil
		},
		LiveRTP: func() []media.Stats {
			if s.legs == nil {
				return nil
			}
			eps := s.legs.Endpoints()
			st := make([]media.Stats, len(eps))
			for i, ep := range eps {
				st[i] = ep.Stats()
			}
			return st
		},
	})
	return s, nil
}

// cacheDir is where wazero's compilation cache and the audio services'
// caches live: WithCacheDir, else data/cache.
func (s *Server) cacheDir() string {
	if s.opts.cacheDir != "" {
		return s.opts.cacheDir
	}
	return filepath.Join(s.cfg.DataDir, "cache")
}

// Start opens the data directory, seeds prompts, loads every application,
// starts the media clock and the engine and binds the SIP and HTTP
// listeners. It returns once the server accepts calls. On error everything
// opened so far is closed again.
func (s *Server) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return ErrStarted
	}
	s.started = true
	s.mu.Unlock()
	defer func() {
		if err != nil {
			s.release()
		}
	}()

	if err := os.MkdirAll(s.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("server: data dir: %w", err)
	}
	if err := s.startNode(ctx); err != nil { // a node of a cluster: NATS
		return err
	}
	// The key-value store, storage (repairing recordings), the plugin
	// runtime, the registry and keys, the current plugin versions.
	if err := s.ten.Start(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}

	rtpIP, _ := netip.ParseAddr(s.cfg.RTP.IP) // validated by config
	if s.ports, err = media.NewPortPool(rtpIP, s.cfg.RTP.PortMin, s.cfg.RTP.PortMax); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.ports.SetOwnerShare(s.cfg.RTP.TenantShare)
	s.targets = media.NewTargets(s.ports)
	s.clock = media.NewClock(media.WithShards(runtime.GOMAXPROCS(0)))
	s.clock.Start()
	s.prompts = media.NewPromptCache(promptCacheBytes)
	s.audio = audio.New(audio.Config{Speech: s.cfg.Speech, Prompts: s.cfg.Prompts, VoiceFocus: s.cfg.VoiceFocus,
		Egress: s.egress, CacheDir: s.cacheDir(), Logger: s.log.With("component", "audio")})

	sec, err := s.sipSecurity()
	if err != nil {
		return err
	}
	// The SIP listeners are bound here; calls arrive once ListenAndServe
	// runs, below, when the legs and the engine exist.
	s.sip, err = sip.NewServer(sip.Config{
		UDP:             s.cfg.SIP.UDP,
		TCP:             s.cfg.SIP.TCP,
		TLS:             s.cfg.SIP.TLS,
		TLSConfig:       sec.server,
		TLSClientConfig: sec.client,
		SRTP:            sec.srtp,
		UserAgent:       s.cfg.SIP.UserAgent,
		Codecs:          s.cfg.SIP.Codecs,
		Logger:          s.log.With("component", "sip"),
		T1:              s.opts.sipT1,
		T2:              s.opts.sipT2,
		// A peer's SDP never aims our media at multicast, broadcast or
		// our own sockets (488).
		CheckMedia:       s.targets.Check,
		SourceInviteRate: s.cfg.SIP.SourceInviteRate,
		Trusted:          s.cfg.SIP.TrustedPrefixes(),
		TCPIdleTimeout:   s.cfg.SIP.TCPIdleTimeout.Duration,
		MaxTCPConns:      s.cfg.SIP.MaxTCPConnections,
		MaxTCPConnsPerIP: s.cfg.SIP.MaxTCPConnectionsPerIP,
	}, sip.HandlerFunc(s.handleCall))
	if err != nil {
		return fmt.Errorf("server: sip: %w", err)
	}
	// Media is UDP: the server's own UDP sockets (SIP over UDP) are no
	// target for it. A TCP listener (SIP over TCP, the API) cannot receive
	// a datagram, and its port number is free for a peer's RTP.
	for _, a := range s.sip.Addrs() {
		if strings.EqualFold(a.Transport, "udp") {
			s.targets.AddOwn(a.Addr)
		}
	}
	s.legs = callleg.New(callleg.Config{
		Clock:     s.clock,
		Ports:     s.ports,
		Targets:   s.targets,
		Symmetric: s.cfg.RTP.Symmetric,
		Prompts:   s.prompts,
		Storage:   s.ten.Storage(),
		Audio:     s.audio,
		Trunks:    trunks{s.cfg},
		Dial:      s.ten,
		SIP:       s.sip,
		LegEnded:  s.ten.LegEnded,
		Logger:    s.log,
	})
	s.engine = engine.New(engine.Config{
		Logger: s.log.With("component", "engine"),
		Region: s.cfg.Region,
		Limits: engine.Limits{MaxActions: s.cfg.Limits.MaxActions, MaxInvocations: s.cfg.Limits.MaxInvocations},
		// Outbound calls, CallAndBridge, connections and conferences.
		Dialer:           s.legs.Dialer(),
		Connector:        s.legs.Connector(),
		RingTimeout:      s.opts.ringTimeout,
		NewTransactionID: s.newTransactionID(),
	})
	s.serveNode()
	sipCtx, stop := context.WithCancel(context.Background())
	s.sipStop = stop
	s.sipDone = make(chan error, 1)
	s.sipStopped = make(chan struct{})
	go func() {
		err := s.sip.ListenAndServe(sipCtx)
		close(s.sipStopped)
		s.sipDone <- err
	}()

	if s.cfg.API.Listen != "" {
		if err := s.startAPI(); err != nil {
			return err
		}
	}
	s.log.Info("server started", "sip", s.sip.Addrs(), "api", s.APIAddr(),
		"rtp", fmt.Sprintf("%s:%d-%d", s.cfg.RTP.IP, s.cfg.RTP.PortMin, s.cfg.RTP.PortMax))
	return nil
}

// trunks is callleg.Trunks over the configuration: the dialled number in
// its routed form (tenancy.NormalizeNumber) picks the trunk.
type trunks struct{ cfg *config.Config }

func (t trunks) Trunk(to string) (string, config.Trunk, bool) {
	number := tenancy.NormalizeNumber(to)
	tr, ok := t.cfg.TrunkFor(number)
	return number, tr, ok
}

// handleCall runs in its own goroutine per INVITE (sip.Handler). Admit
// (host/tenancy) routes the number through the registry and applies the
// tenant's quotas; the call holds its plugin version until it ends.
func (s *Server) handleCall(c *sip.Call) {
	log := s.log.With("call_id", c.ID, "from", c.From.User)
	a, rej := s.ten.Admit(tenancy.Dialled{RequestUser: c.RequestUser, RequestHost: c.RequestHost, ToUser: c.To.User}, log)
	if a == nil {
		if rej.RetryAfter > 0 {
			_ = c.RejectRetryAfter(rej.Code, rej.Reason, rej.RetryAfter)
			for range c.Events() {
			}
			return
		}
		rejectAndDrain(c, rej.Code, rej.Reason)
		return
	}
	defer a.Release()
	log = log.With("number", a.Number, "tenant", a.Tenant, "app", a.App)
	l, err := s.legs.Inbound(c, a.Tenant, log)
	if err == nil {
		// The call's one summary line, whatever way it ends.
		defer func() {
			attrs := l.Outcome()
			if s.draining.Load() {
				attrs = append(attrs, "during_shutdown", true)
			}
			log.Info("call ended", append(attrs, "transport", c.Transport)...)
		}()
	}
	if err != nil {
		s.ten.Rejected(a.Tenant, "refused")
		rejectAndDrain(c, 503, "Service Unavailable")
		return
	}
	defer s.legs.Remove(l)
	call, err := s.engine.Inbound(engine.App{
		TenantID:              a.Tenant,
		SipMediaApplicationID: a.App,
		SipRuleID:             a.Rule,
		Handler:               s.ten.Invoker(a),
		Model:                 a.Model,
	}, l, engine.CallInfo{From: c.From.User, To: a.Number, SipHeaders: c.Headers})
	if err != nil {
		log.Warn("call rejected: engine refused it", "err", err)
		s.ten.Rejected(a.Tenant, "refused")
		rejectAndDrain(c, 503, "Service Unavailable")
		return
	}
	s.ten.Accepted(a.Tenant)
	l.Run(call)
}

func rejectAndDrain(c *sip.Call, code int, reason string) {
	_ = c.Reject(code, reason) // fails only if the caller canceled first
	for range c.Events() {
	}
}

// SIPAddr returns the first bound SIP listener of transport ("udp" or
// "tcp"); the zero value when there is none or the server is not started.
func (s *Server) SIPAddr(transport string) netip.AddrPort {
	s.mu.Lock()
	srv := s.sip
	s.mu.Unlock()
	if srv == nil {
		return netip.AddrPort{}
	}
	a, _ := srv.Addr(transport)
	return a
}

// APIAddr returns the bound HTTP address ("" without an API listener).
func (s *Server) APIAddr() string {
	if s.apiLn == nil {
		return ""
	}
	return s.apiLn.Addr().String()
}

// Engine returns the call engine (nil before Start).
func (s *Server) Engine() *engine.Engine { return s.engine }

// Registry returns the tenant registry (nil before Start).
func (s *Server) Registry() tenant.Registrar { return s.ten.Registry() }

// CallsAPI returns the server's api.Calls implementation (host/control),
// over its engine: get it after Start.
func (s *Server) CallsAPI() *control.Calls { return control.NewCalls(s.engine, s.ten) }

// PortsInUse returns how many RTP ports are allocated: 0 when no call has
// media.
func (s *Server) PortsInUse() int {
	if s.ports == nil {
		return 0
	}
	return s.ports.InUse()
}

// LiveLegs returns the number of SIP calls the server is still handling.
func (s *Server) LiveLegs() int {
	if s.legs == nil {
		return 0
	}
	return s.legs.Len()
}

// BucketPath returns the file of a bucket object (for tests and tools).
func (s *Server) BucketPath(tenant, bucket, key string) (string, error) {
	b := s.ten.Storage()
	if b == nil {
		return "", ErrNotStarted
	}
	return b.Path(tenant, bucket, key)
}

// KeyFiles returns the files holding the admin key and the demo tenant's
// key ("" when there is no demo tenant), for the command to print.
func (s *Server) KeyFiles() (admin, demo string) { return s.ten.KeyFiles() }

// AWSCredentialsFile returns the file holding the demo tenant's key in
// the AWS shared credentials format ("" when there is no demo tenant).
func (s *Server) AWSCredentialsFile() string { return s.ten.AWSCredentialsFile() }

// RepairedRecordings lists the recordings repaired at start (paths
// relative to the bucket store: tenant/bucket/key).
func (s *Server) RepairedRecordings() []string { return s.ten.RepairedRecordings() }

// Close ends every live call (BYE after answer, 480 before), stops the
// listeners and releases every resource. It waits for the calls at most
// 10 s.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	return s.release()
}

// release undoes Start, in reverse order; safe on a partly started server.
func (s *Server) release() error {
	var errs []error
	if s.legs != nil {
		s.legs.Close() // new calls are refused (503) from now on
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.api != nil {
		if err := s.api.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("api: %w", err))
		}
		<-s.apiDone
	}
	if s.engine != nil {
		// The engine hangs up every call (BYE) while SIP still runs.
		if err := s.engine.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.sipStop != nil {
		s.sipStop()
		if err := <-s.sipDone; err != nil {
			errs = append(errs, fmt.Errorf("sip: %w", err))
		}
	}
	if s.legs != nil {
		if err := s.legs.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("server close: calls still running: %w", err))
		}
	}
	if s.clock != nil {
		s.clock.Stop()
	}
	if s.audio != nil {
		if err := s.audio.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.closeNode(); err != nil {
		errs = append(errs, err)
	}
	if err := s.ten.Close(ctx); err != nil { // versions, registry, plugin runtime, key-value store
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
