// Package audio gathers the server's audio services that calls use
// besides plain prompt files: speech (host/speech: Speak,
// SpeakAndGetDigits, `mediactl speak`), prompts by URL (host/prompturl)
// and VoiceFocus noise suppression (host/voicefocus, media/denoise). It
// builds each from the configuration when first needed, so a server that
// never speaks never loads the 21 MB speech engine, and a missing engine
// fails only the actions that need it.
package audio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/host/prompturl"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/host/voicefocus"
	"github.com/wasmvoice/mediaserver/internal/assets"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/denoise"
)

// Config configures Services.
type Config struct {
	Speech     config.Speech
	Prompts    config.Prompts
	VoiceFocus config.VoiceFocus
	// Egress is the policy every URL goes through (prompts, HTTP speech).
	Egress *netguard.Policy
	// CacheDir keeps wazero's compiled code of the engines.
	CacheDir string
	Logger   *slog.Logger
}

// Services are the audio services of one server. Safe for concurrent use.
type Services struct {
	cfg  Config
	log  *slog.Logger
	urls *prompturl.Fetcher

	mu        sync.Mutex
	speech    *speech.Service
	flite     *speech.Flite
	speechErr error
	focus     *voicefocus.Engine
	focusErr  error
	closed    bool
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("audio services closed")

// New returns the services; nothing is loaded yet.
func New(cfg Config) *Services {
	if cfg.Egress == nil {
		cfg.Egress = &netguard.Policy{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Services{cfg: cfg, log: log, urls: prompturl.New(prompturl.Config{
		Policy:     cfg.Egress,
		MaxBytes:   int64(cfg.Prompts.MaxMiB) << 20,
		Timeout:    cfg.Prompts.Timeout.Duration,
		CacheBytes: int64(cfg.Prompts.CacheMiB) << 20,
	})}
}

// URLPrompt fetches (or revalidates) the prompt at uri.
func (s *Services) URLPrompt(ctx context.Context, uri string) (*media.Prompt, error) {
	return s.urls.Prompt(ctx, uri)
}

// URLStats are the URL prompt cache's counters.
func (s *Services) URLStats() prompturl.Stats { return s.urls.Stats() }

// Speech returns the speech service, loading the embedded engine on first
// use. A failed load is retried at the next call (the file may appear).
func (s *Services) Speech(ctx context.Context) (*speech.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.speech != nil {
		return s.speech, nil
	}
	path := s.cfg.Speech.Flite
	if path == "" {
		p, err := assets.Path("flite.wasm")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", speech.ErrNoEngine, err)
		}
		path = p
	}
	start := time.Now()
	f, err := speech.NewFlite(context.WithoutCancel(ctx), speech.FliteConfig{Wasm: path, CacheDir: s.cfg.CacheDir, Timeout: s.cfg.Speech.Timeout.Duration})
	if err != nil {
		if s.speechErr == nil || s.speechErr.Error() != err.Error() {
			s.log.Error("speech engine unavailable", "err", err)
		}
		s.speechErr = err
		return nil, err
	}
	s.log.Info("speech engine loaded", "engine", "flite", "wasm", path, "took", time.Since(start).Round(time.Millisecond))
	var remote speech.Provider
	if h := s.cfg.Speech.HTTP; h.URL != "" {
		key := ""
		if h.APIKeyEnv != "" {
			key = os.Getenv(h.APIKeyEnv)
		}
		remote = speech.NewHTTP(speech.HTTPConfig{URL: h.URL, Model: h.Model, Voice: h.Voice, Voices: h.Voices,
			APIKey: key, Timeout: h.Timeout.Duration}, s.cfg.Egress.Client())
	}
	s.flite = f
	s.speech = speech.New(speech.Config{Embedded: f, Remote: remote,
		CacheBytes: int64(s.cfg.Speech.CacheMiB) << 20, Logger: s.log.With("component", "speech")})
	return s.speech, nil
}

// Speak returns req spoken (cached).
func (s *Services) Speak(ctx context.Context, req speech.Request) (*media.Prompt, error) {
	sp, err := s.Speech(ctx)
	if err != nil {
		return nil, err
	}
	return sp.Prompt(ctx, req)
}

// NewFocus returns a VoiceFocus stage for one leg, loading RNNoise on
// first use; the caller closes it.
func (s *Services) NewFocus() (*denoise.Stage, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.focus == nil {
		path := s.cfg.VoiceFocus.RNNoise
		var err error
		if path == "" {
			path, err = assets.Path("rnnoise.wasm")
		}
		if err == nil {
			s.focus, err = voicefocus.New(context.Background(), voicefocus.Config{Wasm: path, CacheDir: s.cfg.CacheDir})
		}
		if err != nil {
			if s.focusErr == nil {
				s.log.Error("voicefocus engine unavailable", "err", err)
			}
			s.focusErr = err
			s.mu.Unlock()
			return nil, err
		}
		s.log.Info("voicefocus engine loaded", "engine", "rnnoise", "wasm", path)
	}
	eng := s.focus
	s.mu.Unlock()
	sup, err := eng.NewSuppressor()
	if err != nil {
		return nil, err
	}
	return denoise.New(sup), nil
}

// Close frees the engines. Call it after the calls have ended.
func (s *Services) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	if s.flite != nil {
		errs = append(errs, s.flite.Close(ctx))
	}
	if s.focus != nil {
		errs = append(errs, s.focus.Close(ctx))
	}
	return errors.Join(errs...)
}
