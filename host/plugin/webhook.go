package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/wasmvoice/mediaserver/host/netguard"
)

// DefaultWebhookResponseMaxBytes caps a webhook's response like a plugin's.
const DefaultWebhookResponseMaxBytes = 256 << 10

// Webhook is a Handler that POSTs each event to an HTTP endpoint: for
// applications that cannot be compiled to Wasm yet, and as the latency
// baseline for plugins.
type Webhook struct {
	url      string
	timeout  time.Duration
	client   *http.Client
	maxBytes int
	log      *slog.Logger
}

var _ Handler = (*Webhook)(nil)

// WebhookOption configures NewWebhook.
type WebhookOption func(*Webhook)

// WithWebhookLogger logs the network detail of each failure (address,
// system error) for the operator; the error returned, which a tenant
// sees, names only the kind of failure (netguard.Reason).
func WithWebhookLogger(l *slog.Logger) WebhookOption { return func(w *Webhook) { w.log = l } }

// NewWebhook returns a Handler posting to url with a per-event timeout
// (0 = the default plugin deadline). client nil uses a dedicated client
// that may reach any address: servers pass their egress policy's client
// (host/netguard).
func NewWebhook(url string, timeout time.Duration, client *http.Client, opts ...WebhookOption) Handler {
	if timeout <= 0 {
		timeout = DefaultLimits().Deadline
	}
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}
	}
	w := &Webhook{url: url, timeout: timeout, client: client, maxBytes: DefaultWebhookResponseMaxBytes,
		log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(w)
	}
	return w
}

func (w *Webhook) fail(kind Kind, format string, args ...any) *Error {
	return newError(kind, "", w.url, format, args...)
}

// Invoke posts the event and returns the response body.
func (w *Webhook) Invoke(ctx context.Context, event []byte) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(event))
	if err != nil {
		return nil, w.fail(KindWebhook, ": %s", netguard.Reason(ctx, fmt.Errorf("%w: %v", netguard.ErrBadURL, err)))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, w.classify(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(w.maxBytes)+1))
	if err != nil {
		return nil, w.classify(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, w.fail(KindWebhook, ": status %d", resp.StatusCode)
	}
	if len(body) > w.maxBytes {
		return nil, w.fail(KindResponseTooLarge, " (over %d bytes)", w.maxBytes)
	}
	if !isJSONObject(body) {
		return nil, w.fail(KindInvalidResponse, ": not a JSON object")
	}
	return &Result{Response: body}, nil
}

// classify turns a transport error into the error a tenant sees: its
// kind, never the network detail, which goes to the operator's log.
func (w *Webhook) classify(ctx context.Context, err error) *Error {
	w.log.Warn("webhook request failed", "url", w.url, "err", err)
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return w.fail(KindTimeout, " after %v", w.timeout)
	}
	return w.fail(KindWebhook, ": %s", netguard.Reason(ctx, err))
}

// Close releases idle connections.
func (w *Webhook) Close(context.Context) error {
	w.client.CloseIdleConnections()
	return nil
}

// String names the endpoint.
func (w *Webhook) String() string { return fmt.Sprintf("webhook %s", w.url) }
