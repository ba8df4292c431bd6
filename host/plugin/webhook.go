package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
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
	// callbackPath: POST to <url>/<callback> (the event's "callback"
	// member), and take an empty answer as {} (iotcomms webhooks).
	callbackPath bool
}

var _ Handler = (*Webhook)(nil)

// WebhookOption configures NewWebhook.
type WebhookOption func(*Webhook)

// WithWebhookLogger logs the network detail of each failure (address,
// system error) for the operator; the error returned, which a tenant
// sees, names only the kind of failure (netguard.Reason).
func WithWebhookLogger(l *slog.Logger) WebhookOption { return func(w *Webhook) { w.log = l } }

// WithCallbackPath makes the webhook an iotcomms one: each event goes to
// <url>/<callback>, callback being the event's "callback" member (one of
// abi.AllCallbacks, else the event is refused before any request), and a
// 200 or 204 with an empty body answers {} (iotcomms' informational
// callbacks need no answer).
func WithCallbackPath() WebhookOption { return func(w *Webhook) { w.callbackPath = true } }

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
	url := w.url
	if w.callbackPath {
		var e struct {
			Callback abi.Callback `json:"callback"`
		}
		if json.Unmarshal(event, &e) != nil || !e.Callback.Valid() {
			return nil, w.fail(KindWebhook, ": event names no iotcomms callback")
		}
		url = strings.TrimSuffix(url, "/") + "/" + string(e.Callback)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
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
	if w.callbackPath && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent) &&
		len(bytes.TrimSpace(body)) == 0 {
		return &Result{Response: []byte("{}")}, nil
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
