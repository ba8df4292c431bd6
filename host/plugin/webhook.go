package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
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
}

var _ Handler = (*Webhook)(nil)

// NewWebhook returns a Handler posting to url with a per-event timeout
// (0 = the default plugin deadline). client nil uses a dedicated client.
func NewWebhook(url string, timeout time.Duration, client *http.Client) Handler {
	if timeout <= 0 {
		timeout = DefaultLimits().Deadline
	}
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}
	}
	return &Webhook{url: url, timeout: timeout, client: client, maxBytes: DefaultWebhookResponseMaxBytes}
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
		return nil, w.fail(KindWebhook, ": %v", err)
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

func (w *Webhook) classify(ctx context.Context, err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return w.fail(KindTimeout, " after %v", w.timeout)
	}
	return w.fail(KindWebhook, ": %v", err)
}

// Close releases idle connections.
func (w *Webhook) Close(context.Context) error {
	w.client.CloseIdleConnections()
	return nil
}

// String names the endpoint.
func (w *Webhook) String() string { return fmt.Sprintf("webhook %s", w.url) }
