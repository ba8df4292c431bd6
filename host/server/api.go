package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/control"
	"github.com/wasmvoice/mediaserver/internal/connlimit"
)

// startAPI binds the HTTP listener: GET /healthz, GET /metrics and the
// control API.
func (s *Server) startAPI() error {
	ln, err := net.Listen("tcp", s.cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("server: api: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	// Readiness: listeners up, plugins loaded, storage reachable, not
	// draining (drain.go).
	mux.HandleFunc("GET /readyz", s.readyz)
	// Everything else is the control API (host/control, host/api), which
	// authenticates every request; /metrics needs the admin key
	// (host/tenancy).
	mux.Handle("GET /metrics", s.ten.MetricsHandler())
	var kvs api.KV // a nil *kv.Store must stay a nil interface
	if k := s.ten.KV(); k != nil {
		kvs = k
	}
	mux.Handle("/", control.Handler(control.Config{
		Registry:       s.ten.Registry(),
		Calls:          drainGuard(s, s.apiCalls()), // cluster.go: every node's calls on a cluster; drain.go: none new while draining
		Plugins:        s.ten.PluginsAPI(),
		Store:          s.ten.Storage().Store(),
		KV:             kvs,
		DataDir:        s.cfg.DataDir,
		MaxModuleBytes: int64(s.cfg.Plugins.MaxModuleMiB) << 20,
		URLCheck:       s.egress.CheckURL,
		Region:         s.cfg.Region,
		Regions:        s.cfg.API.Regions,
		Logger:         s.log,
	}))
	to := s.opts.apiTimeouts
	s.apiLn = connlimit.Wrap(ln, connlimit.Config{
		MaxConns: orDefault(s.cfg.API.MaxConnections, DefaultAPIMaxConns),
		MaxPerIP: orDefault(s.cfg.API.MaxConnectionsPerIP, DefaultAPIMaxConnsPerIP),
		OnRefuse: func(remote netip.AddrPort, reason string) {
			s.log.Info("api: connection refused", "remote", remote, "limit", reason)
		},
	})
	s.api = &http.Server{
		Handler: mux,
		// A client that connects and sends nothing, or sends a request
		// slowly, or keeps an idle connection, lets go of it in time.
		ReadHeaderTimeout: to.header,
		ReadTimeout:       to.read,
		WriteTimeout:      to.write,
		IdleTimeout:       to.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.With("component", "api").Handler(), slog.LevelDebug),
	}
	s.apiDone = make(chan struct{})
	go func() {
		defer close(s.apiDone)
		if err := s.api.Serve(s.apiLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api stopped", "err", err)
		}
	}()
	return nil
}

// Defaults of the API listener's limits.
const (
	DefaultAPIMaxConns      = 1024
	DefaultAPIMaxConnsPerIP = 64
)

// apiTimeouts are the HTTP API's timeouts: the request header must arrive
// within header, the whole request within read (a 32 MiB plugin upload
// at 2 Mbit/s), the response go out within write, and an idle keep-alive
// connection is closed after idle.
type apiTimeouts struct{ header, read, write, idle time.Duration }

func defaultAPITimeouts() apiTimeouts {
	return apiTimeouts{header: 5 * time.Second, read: 2 * time.Minute, write: 2 * time.Minute, idle: time.Minute}
}

// WithAPITimeouts sets the HTTP API's header, read, write and idle
// timeouts (tests; zero values keep the defaults).
func WithAPITimeouts(header, read, write, idle time.Duration) Option {
	return func(o *options) {
		d := defaultAPITimeouts()
		o.apiTimeouts = apiTimeouts{
			header: orDefault(header, d.header), read: orDefault(read, d.read),
			write: orDefault(write, d.write), idle: orDefault(idle, d.idle),
		}
	}
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
