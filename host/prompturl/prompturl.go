// Package prompturl fetches prompts given by URL (Chime's AudioSource of
// Type "URL", an extension of this server, and iotcomms' url phrases):
// over HTTP(S), through the server's egress policy (host/netguard: no
// private, link-local or metadata addresses unless the configuration
// allows them), with a size cap and a timeout, decoded once (WAV or mp3,
// media.DecodeAudio) and cached by URL. A cached prompt is revalidated
// with If-None-Match / If-Modified-Since when the server gave an ETag or
// Last-Modified, and reused for max-age seconds when it gave
// Cache-Control: max-age; a 304 keeps the decoded frames.
package prompturl

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/media"
)

var (
	// ErrStatus is returned for an answer other than 200 (or 304).
	ErrStatus = errors.New("prompt url answered")
	// ErrTooLarge is returned for a body over Config.MaxBytes.
	ErrTooLarge = errors.New("prompt url body too large")
	// ErrFetch is returned when the request fails (timeout, refused).
	ErrFetch = errors.New("prompt url fetch failed")
	// ErrDecode is returned for a body that is not audio this server plays.
	ErrDecode = errors.New("prompt url is not playable audio")
)

// Config configures a Fetcher.
type Config struct {
	// Policy is the egress policy; its Client is used unless Client is set.
	Policy *netguard.Policy
	Client *http.Client
	// MaxBytes caps a prompt's body (default 50 MB, Chime's prompt limit).
	MaxBytes int64
	// Timeout bounds one fetch (default 5 s).
	Timeout time.Duration
	// CacheBytes caps the cached prompts' decoded audio (default 64 MiB).
	CacheBytes int64
}

// Stats counts a Fetcher's work.
type Stats struct {
	Fetches     uint64 // 200 answers decoded
	NotModified uint64 // 304 answers: the cached frames were kept
	Fresh       uint64 // served from the cache without a request (max-age)
	Entries     int
	Bytes       int64
}

// Fetcher fetches and caches URL prompts. Safe for concurrent use;
// concurrent requests for one URL share one fetch.
type Fetcher struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	lru     *list.List // of *entry, front = most recent
	bytes   int64
	busy    map[string]*flight
	stats   Stats
}

type entry struct {
	url          string
	prompt       *media.Prompt
	etag         string
	lastModified string
	freshUntil   time.Time
	elem         *list.Element
}

type flight struct {
	done   chan struct{}
	prompt *media.Prompt
	err    error
}

// New returns a Fetcher.
func New(cfg Config) *Fetcher {
	if cfg.Policy == nil {
		cfg.Policy = &netguard.Policy{}
	}
	client := cfg.Client
	if client == nil {
		client = cfg.Policy.Client()
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 50 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 64 << 20
	}
	return &Fetcher{cfg: cfg, client: client, now: time.Now, entries: map[string]*entry{},
		lru: list.New(), busy: map[string]*flight{}}
}

// Stats returns the counters.
func (f *Fetcher) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.stats
	st.Entries, st.Bytes = f.lru.Len(), f.bytes
	return st
}

// Prompt returns the prompt at rawURL, from the cache when still valid.
func (f *Fetcher) Prompt(ctx context.Context, rawURL string) (*media.Prompt, error) {
	if err := f.cfg.Policy.CheckURL(rawURL); err != nil {
		return nil, err
	}
	f.mu.Lock()
	if e, ok := f.entries[rawURL]; ok && f.now().Before(e.freshUntil) {
		f.lru.MoveToFront(e.elem)
		f.stats.Fresh++
		f.mu.Unlock()
		return e.prompt, nil
	}
	if fl, ok := f.busy[rawURL]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.prompt, fl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	f.busy[rawURL] = fl
	var cached entry
	if e, ok := f.entries[rawURL]; ok {
		cached = *e
	}
	f.mu.Unlock()

	// Shared by every waiter: not cancelled when the first caller goes.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.Timeout)
	fl.prompt, fl.err = f.fetch(fctx, rawURL, cached)
	cancel()

	f.mu.Lock()
	delete(f.busy, rawURL)
	f.mu.Unlock()
	close(fl.done)
	return fl.prompt, fl.err
}

func (f *Fetcher) fetch(ctx context.Context, rawURL string, cached entry) (*media.Prompt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if cached.prompt != nil {
		if cached.etag != "" {
			req.Header.Set("If-None-Match", cached.etag)
		}
		if cached.lastModified != "" {
			req.Header.Set("If-Modified-Since", cached.lastModified)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrForbidden) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached.prompt != nil:
		f.store(rawURL, cached.prompt, resp, cached)
		f.mu.Lock()
		f.stats.NotModified++
		f.mu.Unlock()
		return cached.prompt, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w %d %s", ErrStatus, resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.ContentLength > f.cfg.MaxBytes:
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, resp.ContentLength, f.cfg.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if int64(len(data)) > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, f.cfg.MaxBytes)
	}
	pcm, err := media.DecodeAudio(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	p := media.NewPrompt(pcm)
	f.store(rawURL, p, resp, entry{})
	f.mu.Lock()
	f.stats.Fetches++
	f.mu.Unlock()
	return p, nil
}

// store caches p with the validators of resp (falling back to old's).
func (f *Fetcher) store(rawURL string, p *media.Prompt, resp *http.Response, old entry) {
	e := &entry{url: rawURL, prompt: p,
		etag:         firstNonEmpty(resp.Header.Get("ETag"), old.etag),
		lastModified: firstNonEmpty(resp.Header.Get("Last-Modified"), old.lastModified),
	}
	if age, ok := maxAge(resp.Header.Get("Cache-Control")); ok {
		e.freshUntil = f.now().Add(age)
	}
	cc := strings.ToLower(resp.Header.Get("Cache-Control"))
	if strings.Contains(cc, "no-store") || e.etag == "" && e.lastModified == "" && e.freshUntil.IsZero() {
		return // not to be kept, or nothing to revalidate with: fetched each time
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.entries[rawURL]; ok {
		f.lru.Remove(prev.elem)
		f.bytes -= prev.prompt.Size()
		delete(f.entries, rawURL)
	}
	if p.Size() > f.cfg.CacheBytes {
		return
	}
	e.elem = f.lru.PushFront(e)
	f.entries[rawURL] = e
	f.bytes += p.Size()
	for f.bytes > f.cfg.CacheBytes {
		old := f.lru.Back().Value.(*entry)
		f.lru.Remove(old.elem)
		delete(f.entries, old.url)
		f.bytes -= old.prompt.Size()
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxAge reads Cache-Control's max-age; no-cache and no-store mean 0.
func maxAge(cc string) (time.Duration, bool) {
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-cache" || d == "no-store" {
			return 0, false
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			n, err := strconv.Atoi(v)
			if err == nil && n > 0 {
				return time.Duration(min(n, 86400)) * time.Second, true
			}
		}
	}
	return 0, false
}
