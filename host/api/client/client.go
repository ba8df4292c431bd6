// Package client is a typed Go client of the control API (host/api), used
// by mediactl. Every method maps to one route; an error answer comes back
// as an *Error carrying the HTTP status and Chime's error code.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
)

// Client talks to one server with one API key. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	secret string
	tenant string
	hc     *http.Client
}

// Option configures New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTenant makes an admin key act for tenant (the X-Tenant-Id header).
func WithTenant(tenant string) Option { return func(c *Client) { c.tenant = tenant } }

// New returns a client of the API at baseURL (e.g. "http://127.0.0.1:8080")
// authenticating with secret.
func New(baseURL, secret string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: %w", baseURL, ErrBadURL)
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, secret: secret, hc: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an error answer of the API.
type Error struct {
	Status     int
	Code       string // api.CodeNotFound, api.CodeBadRequest, …
	Message    string
	RetryAfter time.Duration // for ThrottledClient
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) and friends work on an *Error.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == api.CodeNotFound
	case ErrUnauthorized:
		return e.Code == api.CodeUnauthorized
	case ErrForbidden:
		return e.Code == api.CodeForbidden
	case ErrConflict:
		return e.Code == api.CodeConflict
	case ErrThrottled:
		return e.Code == api.CodeThrottled
	case ErrBadRequest:
		return e.Code == api.CodeBadRequest || e.Code == api.CodeResourceLimitExceeded
	}
	return false
}

// Sentinels to test an *Error with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrConflict     = errors.New("conflict")
	ErrThrottled    = errors.New("throttled")
	ErrBadRequest   = errors.New("bad request")
	// ErrBadURL is returned by New for a base URL that is not http(s).
	ErrBadURL = errors.New("base URL must be an http(s) URL")
)

// do sends a request (path escaped) and decodes a 2xx JSON answer into out (nil: ignore).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string, out any) error {
	// path is already escaped segment by segment (see seg).
	target := c.base.String() + path
	if query != nil {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	if c.tenant != "" {
		req.Header.Set(api.TenantHeader, c.tenant)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func readError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body api.ErrorResponse
	if json.Unmarshal(b, &body) == nil && body.Code != "" {
		e.Code, e.Message = body.Code, body.Message
	} else {
		e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(b))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	return c.do(ctx, method, path, nil, body, ct, out)
}

func seg(s string) string { return url.PathEscape(s) }

// CreateCall is CreateSipMediaApplicationCall; it returns the TransactionId.
func (c *Client) CreateCall(ctx context.Context, appID string, req api.CreateCallRequest) (string, error) {
	var out api.CallResponse
	err := c.doJSON(ctx, "POST", "/sip-media-applications/"+seg(appID)+"/calls", req, &out)
	return out.SipMediaApplicationCall.TransactionID, err
}

// UpdateCall is UpdateSipMediaApplicationCall.
func (c *Client) UpdateCall(ctx context.Context, appID, txID string, args map[string]string) error {
	if args == nil {
		args = map[string]string{}
	}
	return c.doJSON(ctx, "POST", "/sip-media-applications/"+seg(appID)+"/calls/"+seg(txID), api.UpdateCallRequest{Arguments: args}, nil)
}

// ListCalls lists the live calls the key may see.
func (c *Client) ListCalls(ctx context.Context) ([]api.Call, error) {
	var out api.CallList
	err := c.doJSON(ctx, "GET", "/calls", nil, &out)
	return out.Calls, err
}

// Hangup ends a call, also while it rings.
func (c *Client) Hangup(ctx context.Context, txID string) error {
	return c.doJSON(ctx, "DELETE", "/calls/"+seg(txID), nil, nil)
}

// ListApps lists the tenant's applications, following the pages.
func (c *Client) ListApps(ctx context.Context) ([]api.SipMediaApplication, error) {
	var all []api.SipMediaApplication
	q := url.Values{}
	for {
		var out api.AppList
		if err := c.do(ctx, "GET", "/sip-media-applications", q, nil, "", &out); err != nil {
			return nil, err
		}
		all = append(all, out.SipMediaApplications...)
		if out.NextToken == "" {
			return all, nil
		}
		q.Set("next-token", out.NextToken)
	}
}

// CreateApp creates an application (an empty id gets a generated one).
func (c *Client) CreateApp(ctx context.Context, req api.CreateAppRequest) (api.SipMediaApplication, error) {
	var out api.AppResponse
	err := c.doJSON(ctx, "POST", "/sip-media-applications", req, &out)
	return out.SipMediaApplication, err
}

// GetApp returns one application.
func (c *Client) GetApp(ctx context.Context, id string) (api.SipMediaApplication, error) {
	var out api.AppResponse
	err := c.doJSON(ctx, "GET", "/sip-media-applications/"+seg(id), nil, &out)
	return out.SipMediaApplication, err
}

// UpdateApp replaces an application's name and webhook.
func (c *Client) UpdateApp(ctx context.Context, id string, req api.UpdateAppRequest) (api.SipMediaApplication, error) {
	var out api.AppResponse
	err := c.doJSON(ctx, "PUT", "/sip-media-applications/"+seg(id), req, &out)
	return out.SipMediaApplication, err
}

// DeleteApp deletes an application.
func (c *Client) DeleteApp(ctx context.Context, id string) error {
	return c.doJSON(ctx, "DELETE", "/sip-media-applications/"+seg(id), nil, nil)
}

// AssignPlugin makes a stored version the application's current plugin.
func (c *Client) AssignPlugin(ctx context.Context, appID, sha256 string) (api.SipMediaApplication, error) {
	var out api.AppResponse
	err := c.doJSON(ctx, "PUT", "/sip-media-applications/"+seg(appID)+"/plugin", api.AssignPluginRequest{Sha256: sha256}, &out)
	return out.SipMediaApplication, err
}

// Rollback makes the previous plugin version current again.
func (c *Client) Rollback(ctx context.Context, appID string) (api.SipMediaApplication, error) {
	var out api.AppResponse
	err := c.doJSON(ctx, "POST", "/sip-media-applications/"+seg(appID)+"/plugin/rollback", nil, &out)
	return out.SipMediaApplication, err
}

// Logs returns up to n recent log lines of an application (n 0: default).
func (c *Client) Logs(ctx context.Context, appID string, n int) ([]api.LogLine, error) {
	var q url.Values
	if n > 0 {
		q = url.Values{"n": {strconv.Itoa(n)}}
	}
	var out api.LogList
	err := c.do(ctx, "GET", "/sip-media-applications/"+seg(appID)+"/logs", q, nil, "", &out)
	return out.Logs, err
}

// Stats returns an application's plugin counters.
func (c *Client) Stats(ctx context.Context, appID string) (api.PluginStats, error) {
	var out api.StatsResponse
	err := c.doJSON(ctx, "GET", "/sip-media-applications/"+seg(appID)+"/stats", nil, &out)
	return out.Stats, err
}

// ListNumbers lists the tenant's phone numbers.
func (c *Client) ListNumbers(ctx context.Context) ([]api.PhoneNumber, error) {
	var out api.NumberList
	err := c.doJSON(ctx, "GET", "/phone-numbers", nil, &out)
	return out.PhoneNumbers, err
}

// AddNumber adds a phone number (E.164).
func (c *Client) AddNumber(ctx context.Context, number string) (api.PhoneNumber, error) {
	var out api.NumberResponse
	err := c.doJSON(ctx, "POST", "/phone-numbers", api.AddNumberRequest{E164PhoneNumber: number}, &out)
	return out.PhoneNumber, err
}

// RemoveNumber releases a phone number.
func (c *Client) RemoveNumber(ctx context.Context, number string) error {
	return c.doJSON(ctx, "DELETE", "/phone-numbers/"+seg(number), nil, nil)
}

// SetRule routes number to appID ("" removes the rule).
func (c *Client) SetRule(ctx context.Context, number, appID string) (api.PhoneNumber, error) {
	var out api.NumberResponse
	err := c.doJSON(ctx, "PUT", "/phone-numbers/"+seg(number)+"/rule", api.SetRuleRequest{SipMediaApplicationID: appID}, &out)
	return out.PhoneNumber, err
}

// UploadPlugin uploads a module; the server checks and compiles it first.
func (c *Client) UploadPlugin(ctx context.Context, wasm []byte) (api.Plugin, error) {
	var out api.PluginResponse
	err := c.do(ctx, "POST", "/plugins", nil, bytes.NewReader(wasm), "application/wasm", &out)
	return out.Plugin, err
}

// ListPlugins lists the tenant's plugin versions.
func (c *Client) ListPlugins(ctx context.Context) ([]api.Plugin, error) {
	var out api.PluginList
	err := c.doJSON(ctx, "GET", "/plugins", nil, &out)
	return out.Plugins, err
}

// DeletePlugin deletes a plugin version.
func (c *Client) DeletePlugin(ctx context.Context, sha256 string) error {
	return c.doJSON(ctx, "DELETE", "/plugins/"+seg(sha256), nil, nil)
}

// ListKeys lists API keys (without secrets).
func (c *Client) ListKeys(ctx context.Context) ([]api.Key, error) {
	var out api.KeyList
	err := c.doJSON(ctx, "GET", "/keys", nil, &out)
	return out.Keys, err
}

// CreateKey creates an API key; the secret is in the answer only.
func (c *Client) CreateKey(ctx context.Context, name string) (api.CreateKeyResponse, error) {
	var out api.CreateKeyResponse
	err := c.doJSON(ctx, "POST", "/keys", api.CreateKeyRequest{Name: name}, &out)
	return out, err
}

// RevokeKey revokes an API key.
func (c *Client) RevokeKey(ctx context.Context, keyID string) error {
	return c.doJSON(ctx, "DELETE", "/keys/"+seg(keyID), nil, nil)
}

// ListTenants lists tenants (admin key).
func (c *Client) ListTenants(ctx context.Context) ([]api.Tenant, error) {
	var out api.TenantList
	err := c.doJSON(ctx, "GET", "/tenants", nil, &out)
	return out.Tenants, err
}

// CreateTenant creates a tenant (admin key).
func (c *Client) CreateTenant(ctx context.Context, req api.CreateTenantRequest) (api.Tenant, error) {
	var out api.TenantResponse
	err := c.doJSON(ctx, "POST", "/tenants", req, &out)
	return out.Tenant, err
}

// CreateTenantKey creates an API key for a tenant (admin key).
func (c *Client) CreateTenantKey(ctx context.Context, tenantID, name string) (api.CreateKeyResponse, error) {
	var out api.CreateKeyResponse
	err := c.doJSON(ctx, "POST", "/tenants/"+seg(tenantID)+"/keys", api.CreateKeyRequest{Name: name}, &out)
	return out, err
}

// SetDialPolicy sets a tenant's own dial policy, which replaces the
// server's default (admin key).
func (c *Client) SetDialPolicy(ctx context.Context, tenantID string, p api.DialPolicy) (api.Tenant, error) {
	var out api.TenantResponse
	err := c.doJSON(ctx, "PUT", "/tenants/"+seg(tenantID)+"/dial-policy", p, &out)
	return out.Tenant, err
}

// ClearDialPolicy returns a tenant to the server's default dial policy
// (admin key).
func (c *Client) ClearDialPolicy(ctx context.Context, tenantID string) error {
	return c.doJSON(ctx, "DELETE", "/tenants/"+seg(tenantID)+"/dial-policy", nil, nil)
}

// objectPath escapes each segment of key but keeps its '/'.
func objectPath(bucket, key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = seg(p)
	}
	return "/buckets/" + seg(bucket) + "/objects/" + strings.Join(parts, "/")
}

// PutObject stores r as bucket/key.
func (c *Client) PutObject(ctx context.Context, bucket, key string, r io.Reader) (api.Object, error) {
	var out api.ObjectResponse
	err := c.do(ctx, "PUT", objectPath(bucket, key), nil, r, "application/octet-stream", &out)
	return out.Object, err
}

// GetObject copies bucket/key into w.
func (c *Client) GetObject(ctx context.Context, bucket, key string, w io.Writer) error {
	return c.do(ctx, "GET", objectPath(bucket, key), nil, nil, "", w)
}

// DeleteObject deletes bucket/key.
func (c *Client) DeleteObject(ctx context.Context, bucket, key string) error {
	return c.do(ctx, "DELETE", objectPath(bucket, key), nil, nil, "", nil)
}

// ListObjects lists bucket's objects whose key starts with prefix.
func (c *Client) ListObjects(ctx context.Context, bucket, prefix string) ([]api.Object, error) {
	var q url.Values
	if prefix != "" {
		q = url.Values{"prefix": {prefix}}
	}
	var out api.ObjectList
	err := c.do(ctx, "GET", "/buckets/"+seg(bucket)+"/objects", q, nil, "", &out)
	return out.Objects, err
}

// Healthz reports whether the server answers its liveness probe.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, "GET", "/healthz", nil, nil, "", nil)
}
