package speech

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// HTTPConfig configures an HTTP text-to-speech endpoint that speaks the
// OpenAI-compatible protocol (POST /v1/audio/speech), which local neural
// servers implement too: a JSON body {model, input, voice, speed,
// response_format:"wav"} answered by audio (WAV of any PCM kind, or mp3).
type HTTPConfig struct {
	URL   string
	Model string // default "tts-1"
	// Voice is the endpoint's voice for every request; empty means the
	// Polly VoiceId lower-cased, unless Voices maps it.
	Voice  string
	Voices map[string]string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	// Timeout bounds one request, answer included (default 5 s).
	Timeout time.Duration
	// MaxBytes caps the answer (default 16 MiB).
	MaxBytes int64
}

// HTTP is the provider for an HTTP endpoint. Its client must come from the
// server's egress policy (netguard), so the endpoint is checked like any
// other outbound URL.
type HTTP struct {
	cfg    HTTPConfig
	client *http.Client
}

// NewHTTP returns the provider; client is used as is.
func NewHTTP(cfg HTTPConfig, client *http.Client) *HTTP {
	cfg.Model = cmpOr(cfg.Model, "tts-1")
	cfg.Timeout = cmpOr(cfg.Timeout, 5*time.Second)
	cfg.MaxBytes = cmpOr(cfg.MaxBytes, 16<<20)
	return &HTTP{cfg: cfg, client: client}
}

// Name implements Provider.
func (h *HTTP) Name() string { return "http" }

func (h *HTTP) voice(v Voice) string {
	if s, ok := h.cfg.Voices[v.PollyID]; ok {
		return s
	}
	if h.cfg.Voice != "" {
		return h.cfg.Voice
	}
	return strings.ToLower(v.PollyID)
}

// Synthesize implements Provider.
func (h *HTTP) Synthesize(ctx context.Context, text string, v Voice, rate float64) (codec.PCM16, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]any{
		"model": h.cfg.Model, "input": text, "voice": h.voice(v),
		"speed": max(0.25, min(4, rate)), "response_format": "wav",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHTTP, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if h.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.cfg.APIKey)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHTTP, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: status %d", ErrHTTP, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHTTP, err)
	}
	if int64(len(data)) > h.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrHTTP, h.cfg.MaxBytes)
	}
	pcm, err := media.DecodeAudio(data)
	if err != nil {
		return nil, fmt.Errorf("%w: answer: %w", ErrHTTP, err)
	}
	return pcm, nil
}
