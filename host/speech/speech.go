// Package speech turns text into prompts: Chime's Speak and
// SpeakAndGetDigits (Polly's parameters), iotcomms' awstts phrases and
// `mediactl speak`. A Service resolves the Polly voice (voices.go), reads
// the SSML subset (ssml.go), asks a Provider for each piece of text and
// caches the result, decoded into 8 kHz frames, by (provider, voice, text)
// within a byte budget, so a repeated menu is synthesised once.
//
// Providers: Flite, embedded (flite compiled to WASI, run in wazero,
// no network, no cgo), and HTTP, any OpenAI-compatible endpoint given in
// the configuration, tried first when configured, with a timeout and a
// fallback to Flite.
//
// Synthesis runs on the caller's goroutine (the server calls it off the
// media clock, in the background of the action) and is shared: concurrent
// requests for one key synthesise once.
package speech

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// Provider synthesises text in a voice at a rate (1 = normal) into 8 kHz
// mono samples.
type Provider interface {
	Name() string
	Synthesize(ctx context.Context, text string, v Voice, rate float64) (codec.PCM16, error)
}

// Request is Polly's view of one utterance (Chime's Speak parameters).
type Request struct {
	Text         string
	TextType     string // "text" (default) or "ssml"
	Engine       string // "standard" or "neural": the same voices here
	LanguageCode string
	VoiceID      string
}

// MaxTextBytes bounds a request's text (Chime's 1,000 characters are
// checked by abi; this guards direct callers).
const MaxTextBytes = 16 << 10

// Config configures a Service.
type Config struct {
	// Embedded is the provider that needs nothing outside (Flite). It is
	// required: it is the fallback of every other provider.
	Embedded Provider
	// Remote, when set, is asked first (HTTP).
	Remote Provider
	// CacheBytes caps the cached prompts' decoded audio (default 64 MiB).
	CacheBytes int64
	// Timeout bounds one whole request (default 20 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Service synthesises and caches prompts. Safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	bytes   int64
	lru     *list.List // of *entry, front = most recent
	entries map[key]*entry
	stats   Stats
}

// Stats counts the cache's work.
type Stats struct {
	Hits, Misses, Fallbacks uint64
	Entries                 int
	Bytes                   int64
}

type key struct {
	provider, voice, rate, textType, text string
}

type entry struct {
	k      key
	ready  chan struct{}
	prompt *media.Prompt
	err    error
	elem   *list.Element
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Embedded == nil {
		panic("speech: Config.Embedded is required")
	}
	cfg.CacheBytes = cmpOr(cfg.CacheBytes, 64<<20)
	cfg.Timeout = cmpOr(cfg.Timeout, 20*time.Second)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log, lru: list.New(), entries: map[key]*entry{}}
}

// Stats returns the cache's counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Entries, st.Bytes = s.lru.Len(), s.bytes
	return st
}

// Prompt returns req spoken, as frames ready to play, from the cache when
// it was spoken before.
func (s *Service) Prompt(ctx context.Context, req Request) (*media.Prompt, error) {
	if strings.TrimSpace(req.Text) == "" {
		return nil, fmt.Errorf("%w: empty text", ErrText)
	}
	if len(req.Text) > MaxTextBytes || !utf8.ValidString(req.Text) {
		return nil, fmt.Errorf("%w: over %d bytes or not UTF-8", ErrText, MaxTextBytes)
	}
	v := ResolveVoice(req.VoiceID, req.LanguageCode)
	if v.Fallback != "" {
		s.log.Info("speech: voice fallback", "voice_id", req.VoiceID, "language", req.LanguageCode, "using", v.Flite, "why", v.Fallback)
	}
	var segs []Segment
	if strings.EqualFold(req.TextType, "ssml") {
		segs = ParseSSML(req.Text)
	} else {
		segs = PlainText(req.Text)
	}
	if s.cfg.Remote != nil {
		p, err := s.cached(ctx, s.cfg.Remote, v, segs, req)
		if err == nil {
			return p, nil
		}
		s.mu.Lock()
		s.stats.Fallbacks++
		s.mu.Unlock()
		s.log.Warn("speech: provider failed, using the embedded voice", "provider", s.cfg.Remote.Name(), "err", err)
	}
	return s.cached(ctx, s.cfg.Embedded, v, segs, req)
}

// Audio is Prompt's samples (for `mediactl speak`): the same audio a call
// hears.
func (s *Service) Audio(ctx context.Context, req Request) (codec.PCM16, error) {
	p, err := s.Prompt(ctx, req)
	if err != nil {
		return nil, err
	}
	return p.PCM(), nil
}

func (s *Service) cached(ctx context.Context, pr Provider, v Voice, segs []Segment, req Request) (*media.Prompt, error) {
	voice := v.Flite
	if pr != s.cfg.Embedded {
		voice = v.PollyID + "/" + v.LanguageCode
	}
	k := key{provider: pr.Name(), voice: voice, textType: strings.ToLower(req.TextType), text: req.Text}
	s.mu.Lock()
	if e, ok := s.entries[k]; ok {
		if e.elem != nil {
			s.lru.MoveToFront(e.elem)
		}
		s.stats.Hits++
		s.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return e.prompt, e.err
	}
	s.stats.Misses++
	e := &entry{k: k, ready: make(chan struct{})}
	s.entries[k] = e
	s.mu.Unlock()

	// The synthesis is shared by every waiter: it must not end because
	// the first caller hung up.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	pcm, err := render(sctx, pr, v, segs)
	cancel()
	if err == nil {
		e.prompt = media.NewPrompt(pcm)
	}
	e.err = err

	s.mu.Lock()
	if err != nil || e.prompt.Size() > s.cfg.CacheBytes {
		delete(s.entries, k) // errors are not cached; nor is what cannot fit
	} else {
		e.elem = s.lru.PushFront(e)
		s.bytes += e.prompt.Size()
		for s.bytes > s.cfg.CacheBytes {
			old := s.lru.Back().Value.(*entry)
			s.lru.Remove(old.elem)
			delete(s.entries, old.k)
			s.bytes -= old.prompt.Size()
		}
	}
	s.mu.Unlock()
	close(e.ready)
	return e.prompt, e.err
}

// Engines pad their audio with silence (flite: about 200 ms before the
// speech); trim keeps at most this much, so the first word comes soon and a
// <break> lasts what it says.
const (
	keepLead  = 40 * codec.SampleRate / 1000  // samples
	keepTrail = 100 * codec.SampleRate / 1000 // samples
	quiet     = 100                           // |sample| under this (-50 dBFS) is silence
)

// trim cuts the silence at both ends of pcm down to keepLead and keepTrail.
func trim(pcm codec.PCM16) codec.PCM16 {
	loud := func(v int16) bool { return v > quiet || v < -quiet }
	first := slices.IndexFunc(pcm, loud)
	if first < 0 {
		return pcm[:0]
	}
	last := len(pcm) - 1
	for last > first && !loud(pcm[last]) {
		last--
	}
	return pcm[max(0, first-keepLead):min(len(pcm), last+1+keepTrail)]
}

// render speaks the segments one after the other, pauses as silence.
func render(ctx context.Context, pr Provider, v Voice, segs []Segment) (codec.PCM16, error) {
	var out codec.PCM16
	for _, sg := range segs {
		if sg.Pause > 0 {
			out = append(out, make(codec.PCM16, int(sg.Pause.Seconds()*codec.SampleRate))...)
			continue
		}
		pcm, err := pr.Synthesize(ctx, sg.Text, v, sg.Rate)
		if err != nil {
			return nil, err
		}
		out = append(out, trim(pcm)...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: nothing to say", ErrText)
	}
	return out, nil
}
