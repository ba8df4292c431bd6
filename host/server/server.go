// Package server assembles the media server: configuration, storage (the
// tenant KV store and the bucket store), the plugin runtime, the media
// clock and port pool, the call engine, the SIP user agent and a minimal
// HTTP listener. It implements engine.Leg over a SIP call and its RTP
// endpoint (leg.go) and routes each INVITE to the application that owns
// the dialled number.
//
// Life cycle: New (checks the configuration), Start (opens the data
// directory, loads plugins, binds every listener, returns when ready),
// Close (ends live calls with BYE, then releases everything).
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/audio"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/host/plugin"
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/sip"
)

// DefaultWebhookTimeout bounds one webhook invocation. plugins.deadline
// (50 ms by default) is meant for Wasm plugins; a webhook crosses the
// network, so it gets Chime's own retry delay instead.
const DefaultWebhookTimeout = 5 * time.Second

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
	ten          tenancyOptions // quota.go
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

// Invocation is one handler invocation, as reported to an observer.
type Invocation struct {
	Tenant, App string
	// Plugin is the SHA-256 of the plugin version that ran ("" for a
	// webhook, and for outbound calls: see appHandler).
	Plugin   string
	Event    []byte // the event JSON
	Response []byte // the response JSON; nil when Err is set
	Err      error
}

// Server is the assembled media server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  *config.Config
	opts options
	log  *slog.Logger

	mu      sync.Mutex
	started bool
	closed  bool

	kv       *kv.Store
	store    *store.Folder
	runtime  *plugin.Runtime
	clock    *media.Clock
	ports    *media.PortPool
	targets  *media.Targets // where media may go: not multicast, broadcast or our own sockets
	egress   *netguard.Policy
	prompts  *media.PromptCache
	audio    *audio.Services // speech, URL prompts, VoiceFocus (host/audio)
	engine   *engine.Engine
	sip      *sip.Server
	sipStop  context.CancelFunc
	sipDone  chan error
	api      *http.Server
	apiLn    net.Listener
	apiDone  chan struct{}
	legs     sync.WaitGroup
	liveLegs map[*leg]struct{}
	repaired []string // recordings repaired at start (repair.go)
	ten      *tenancy // registry, plugin versions, quotas, metrics (apps.go)
}

// New checks cfg and returns a server ready to Start.
func New(cfg *config.Config, opts ...Option) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("server: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{cfg: cfg, liveLegs: map[*leg]struct{}{}, ten: newTenancy()}
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
	if s.opts.apiTimeouts == (apiTimeouts{}) {
		s.opts.apiTimeouts = defaultAPITimeouts()
	}
	return s, nil
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

	data := s.cfg.DataDir
	if err := os.MkdirAll(data, 0o750); err != nil {
		return fmt.Errorf("server: data dir: %w", err)
	}
	if s.kv, err = kv.Open(filepath.Join(data, "kv.db"), kv.WithQuota(s.kvQuota)); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if err := s.openStorage(ctx); err != nil { // storage.go: folder or S3
		return err
	}
	repaired := s.repairRecordings(s.store.Root())
	s.mu.Lock()
	s.repaired = repaired
	s.mu.Unlock()
	cacheDir := s.opts.cacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(data, "cache")
	}
	pc := s.cfg.Plugins
	s.runtime, err = plugin.NewRuntime(ctx, plugin.Config{
		CacheDir: cacheDir,
		KV:       s.kv,
		Logger:   s.log.With("component", "plugin"),
		Defaults: plugin.Limits{
			Deadline:       pc.Deadline.Duration,
			MemoryMaxPages: uint32(pc.MemoryMiB) * 16, // 64 KiB pages
			ModuleMaxBytes: pc.MaxModuleMiB << 20,
			PoolSize:       pc.PoolSize,
		},
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if err := s.startTenancy(ctx); err != nil { // apps.go: registry, keys, versions
		return err
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
		Egress: s.egress, CacheDir: cacheDir, Logger: s.log.With("component", "audio")})
	s.engine = engine.New(engine.Config{
		Logger: s.log.With("component", "engine"),
		Region: s.cfg.Region,
		Limits: engine.Limits{MaxActions: s.cfg.Limits.MaxActions, MaxInvocations: s.cfg.Limits.MaxInvocations},
		// Outbound calls, CallAndBridge and conferences: dial.go, conference.go.
		Dialer:      dialer{s},
		Connector:   connector{s},
		RingTimeout: s.opts.ringTimeout,
	})

	s.sip, err = sip.NewServer(sip.Config{
		UDP:       s.cfg.SIP.UDP,
		TCP:       s.cfg.SIP.TCP,
		UserAgent: s.cfg.SIP.UserAgent,
		Codecs:    s.cfg.SIP.Codecs,
		Logger:    s.log.With("component", "sip"),
		T1:        s.opts.sipT1,
		T2:        s.opts.sipT2,
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
	for _, a := range s.sip.Addrs() {
		s.targets.AddOwn(a.Addr)
	}
	sipCtx, stop := context.WithCancel(context.Background())
	s.sipStop = stop
	s.sipDone = make(chan error, 1)
	go func() { s.sipDone <- s.sip.ListenAndServe(sipCtx) }()

	if s.cfg.API.Listen != "" {
		if err := s.startAPI(); err != nil {
			return err
		}
		if a, err := netip.ParseAddrPort(s.APIAddr()); err == nil {
			s.targets.AddOwn(a)
		}
	}
	s.log.Info("server started", "sip", s.sip.Addrs(), "api", s.APIAddr(),
		"rtp", fmt.Sprintf("%s:%d-%d", s.cfg.RTP.IP, s.cfg.RTP.PortMin, s.cfg.RTP.PortMax))
	return nil
}

// seedPrompts copies dir/<bucket>/<key...> into the tenant's bucket store,
// keeping objects that already exist there (a tenant may have replaced
// them). Files directly in dir have no bucket and are skipped.
func (s *Server) seedPrompts(ctx context.Context, tenant, dir string) error {
	var skipped []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		bucket, key, ok := strings.Cut(filepath.ToSlash(rel), "/")
		if !ok {
			skipped = append(skipped, rel)
			return nil
		}
		if _, err := s.ten.blobs.remote.Stat(ctx, tenant, bucket, key); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := s.ten.blobs.remote.Put(ctx, tenant, bucket, key, f); err != nil {
			return err
		}
		s.log.Debug("prompt seeded", "tenant", tenant, "bucket", bucket, "key", key)
		return nil
	})
	if len(skipped) > 0 {
		s.log.Warn("prompt files outside a bucket folder were skipped (want <prompts>/<bucket>/<key>)",
			"tenant", tenant, "dir", dir, "files", skipped)
	}
	if err != nil {
		return fmt.Errorf("seed prompts from %s: %w", dir, err)
	}
	return nil
}

// NormalizeNumber keeps a leading '+' and the digits of n, dropping visual
// separators (spaces, dashes, dots, parentheses) as dial strings carry them.
func NormalizeNumber(n string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(n) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return n // not a phone number: keep it as is, it will not route
		}
	}
	return b.String()
}

// handleCall runs in its own goroutine per INVITE (sip.Handler). admit
// (apps.go) routes the number through the registry and applies the
// tenant's quotas; the call holds its plugin version until it ends.
func (s *Server) handleCall(c *sip.Call) {
	log := s.log.With("call_id", c.ID, "from", c.From.User)
	a, rej := s.admit(c, log)
	if a == nil {
		if rej.retryAfter > 0 {
			_ = c.RejectRetryAfter(rej.code, rej.reason, rej.retryAfter)
			for range c.Events() {
			}
			return
		}
		rejectAndDrain(c, rej.code, rej.reason)
		return
	}
	defer a.release()
	log = log.With("number", a.number, "tenant", a.tenant, "app", a.app)
	l := newLeg(s, c, a.tenant, log)
	if !s.addLeg(l) {
		s.ten.m.rejected(a.tenant, "refused")
		rejectAndDrain(c, 503, "Service Unavailable")
		return
	}
	defer s.removeLeg(l)
	call, err := s.engine.Inbound(engine.App{
		TenantID:              a.tenant,
		SipMediaApplicationID: a.app,
		SipRuleID:             a.rule,
		Handler:               s.invoker(a),
	}, l, engine.CallInfo{From: c.From.User, To: a.number, SipHeaders: c.Headers})
	if err != nil {
		log.Warn("call rejected: engine refused it", "err", err)
		s.ten.m.rejected(a.tenant, "refused")
		rejectAndDrain(c, 503, "Service Unavailable")
		return
	}
	s.ten.m.accepted(a.tenant)
	l.run(call)
}

func rejectAndDrain(c *sip.Call, code int, reason string) {
	_ = c.Reject(code, reason) // fails only if the caller canceled first
	for range c.Events() {
	}
}

func pluginLevel(l int32) slog.Level {
	switch {
	case l <= 0:
		return slog.LevelDebug
	case l == 1:
		return slog.LevelInfo
	case l == 2:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (s *Server) addLeg(l *leg) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.liveLegs[l] = struct{}{}
	s.legs.Add(1)
	return true
}

func (s *Server) removeLeg(l *leg) {
	s.mu.Lock()
	delete(s.liveLegs, l)
	s.mu.Unlock()
	s.legs.Done()
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.liveLegs)
}

// BucketPath returns the file of a bucket object (for tests and tools).
func (s *Server) BucketPath(tenant, bucket, key string) (string, error) {
	if s.store == nil {
		return "", ErrNotStarted
	}
	return s.store.Path(tenant, bucket, key)
}

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
	waitDone := make(chan struct{})
	go func() { s.legs.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("server close: calls still running: %w", ctx.Err()))
	}
	if s.clock != nil {
		s.clock.Stop()
	}
	if s.audio != nil {
		if err := s.audio.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.stopTenancy(ctx); err != nil { // apps.go: versions, registry
		errs = append(errs, err)
	}
	if s.runtime != nil {
		if err := s.runtime.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.kv != nil {
		if err := s.kv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
