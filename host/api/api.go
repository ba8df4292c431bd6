// Package api is the server's HTTP control API: Chime's
// CreateSipMediaApplicationCall and UpdateSipMediaApplicationCall, call
// listing and hang-up, and the management of a tenant's applications,
// phone numbers, plugin versions, API keys and bucket objects, plus tenant
// administration for operator keys. openapi.yaml documents every route.
//
// Every request but GET /healthz carries an API key ("Authorization: Bearer
// <secret>" or "X-Api-Key: <secret>") or is signed with it the way AWS
// clients sign Chime's APIs (AWS Signature Version 4, service "chime",
// access key id = key id, secret access key = secret: sigv4.go), so the
// AWS CLI and SDKs work with only their endpoint changed. A tenant key acts for its tenant
// only: another tenant's objects are NotFound, exactly like missing ones.
// An admin key manages tenants, sees every call, and acts for one tenant
// when the request names it in the X-Tenant-Id header.
//
// The handler owns validation, authentication, rate limiting and the wire
// format; the server supplies what only it can do through the Calls and
// Plugins interfaces.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// Defaults of the options.
const (
	DefaultMaxBodyBytes   = 64 << 10
	DefaultMaxModuleBytes = 32 << 20
	DefaultMaxObjectBytes = 64 << 20
	DefaultRate           = 50
	DefaultBurst          = 100
	// MaxLogLines caps n of GET /sip-media-applications/{id}/logs.
	MaxLogLines = 1000
	// DefaultLogLines is n when the query does not give it.
	DefaultLogLines = 100
)

// TenantHeader names the tenant an admin key acts for.
const TenantHeader = "X-Tenant-Id"

// Option configures New.
type Option func(*options)

type options struct {
	log           *slog.Logger
	now           func() time.Time
	maxBody       int64
	maxModule     int64
	maxObject     int64
	rate          float64
	burst         int
	store         store.Store
	kv            KV
	callerIDCheck bool
	newID         func() string
	checkURL      func(string) error
	regions       []string
	region        string
	uploadDir     string // plugins.go
	uploadSlots   int
	uploadWait    time.Duration
}

// WithLogger sets where server-side failures are logged (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock of the rate limiter.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMaxBodyBytes caps JSON request bodies (default 64 KiB).
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMaxModuleBytes caps plugin uploads of tenants whose quota sets no
// MaxModuleBytes (default 32 MiB).
func WithMaxModuleBytes(n int64) Option { return func(o *options) { o.maxModule = n } }

// WithMaxObjectBytes caps one bucket object upload (default 64 MiB); the
// tenant's storage quota is the store's business (store.Metered).
func WithMaxObjectBytes(n int64) Option { return func(o *options) { o.maxObject = n } }

// WithRateLimit sets each tenant's (and each admin key's) token bucket:
// perSecond requests per second on average, bursts of burst. perSecond 0
// turns limiting off. Default 50/s, burst 100.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(o *options) { o.rate, o.burst = perSecond, burst }
}

// WithStore serves the tenants' bucket objects (prompts, recordings) under
// /buckets. Without it those routes answer ServiceUnavailable.
func WithStore(s store.Store) Option { return func(o *options) { o.store = s } }

// WithCallerIDCheck decides whether CreateSipMediaApplicationCall's
// FromPhoneNumber must be one of the tenant's numbers, as in Chime (default
// true: a tenant cannot present someone else's number).
func WithCallerIDCheck(on bool) Option { return func(o *options) { o.callerIDCheck = on } }

// WithURLCheck vets every URL a tenant gives (an application's webhook):
// an error refuses the request with BadRequest and its text. The server
// passes its egress policy (host/netguard), so a tenant cannot point the
// server at internal addresses.
func WithURLCheck(check func(string) error) Option { return func(o *options) { o.checkURL = check } }

// WithIDGenerator sets how application ids are made when a request gives
// none (default: random UUIDs).
func WithIDGenerator(f func() string) Option { return func(o *options) { o.newID = f } }

// WithRegion sets the region of applications created without an
// AwsRegion, shown in their LambdaArn (default "local", the server's
// default region).
func WithRegion(region string) Option { return func(o *options) { o.region = region } }

// WithSigV4Regions sets the regions a signed request's credential scope
// may name (default: any; the AWS CLI and SDKs sign with the region they
// are configured with).
func WithSigV4Regions(regions ...string) Option {
	return func(o *options) { o.regions = slices.Clone(regions) }
}

// Handler is the control API. It is safe for concurrent use.
type Handler struct {
	reg     tenant.Registrar
	calls   Calls
	plugins Plugins
	o       options
	mux     *http.ServeMux
	limiter *limiter
	uploads chan struct{} // plugins.go: one token per module being checked
}

// New returns the API handler over the registry. calls and plugins may be
// nil: their routes then answer ServiceUnavailable.
func New(reg tenant.Registrar, calls Calls, plugins Plugins, opts ...Option) *Handler {
	o := options{
		log: slog.New(slog.DiscardHandler), now: time.Now,
		maxBody: DefaultMaxBodyBytes, maxModule: DefaultMaxModuleBytes, maxObject: DefaultMaxObjectBytes,
		rate: DefaultRate, burst: DefaultBurst, callerIDCheck: true, newID: tenant.NewID, region: "local",
		uploadDir: os.TempDir(), uploadSlots: DefaultUploadSlots, uploadWait: defaultUploadWait,
	}
	for _, opt := range opts {
		opt(&o)
	}
	h := &Handler{reg: reg, calls: calls, plugins: plugins, o: o, mux: http.NewServeMux(), uploads: make(chan struct{}, max(1, o.uploadSlots))}
	if o.rate > 0 {
		h.limiter = newLimiter(o.rate, o.burst, o.now)
	}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern(), h.wrap(rt))
	}
	return h
}

// access is who may use a route.
type access int

const (
	public      access = iota // no key
	tenantScope               // a tenant key, or an admin key with X-Tenant-Id
	anyScope                  // as tenantScope, but an admin key without X-Tenant-Id acts for "" (all / admin)
	adminOnly                 // an admin key
)

// principal is the authenticated caller.
type principal struct {
	// tenant the request acts for; "" for an admin key without X-Tenant-Id.
	tenant string
	key    tenant.Key
}

func (p principal) admin() bool { return p.key.Admin }

type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

type route struct {
	method, path string
	access       access
	fn           handlerFunc
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// routes is the one table the mux is built from (and openapi_test checks).
func (h *Handler) routes() []route {
	return []route{
		{"GET", "/healthz", public, h.healthz},

		{"POST", "/sip-media-applications/{id}/calls", tenantScope, h.createCall},
		{"POST", "/sip-media-applications/{id}/calls/{transactionId}", tenantScope, h.updateCall},
		{"GET", "/calls", anyScope, h.listCalls},
		{"DELETE", "/calls/{transactionId}", anyScope, h.hangupCall},

		{"GET", "/sip-media-applications", tenantScope, h.listApps},
		{"POST", "/sip-media-applications", tenantScope, h.createApp},
		{"GET", "/sip-media-applications/{id}", tenantScope, h.getApp},
		{"PUT", "/sip-media-applications/{id}", tenantScope, h.updateApp},
		{"DELETE", "/sip-media-applications/{id}", tenantScope, h.deleteApp},
		{"PUT", "/sip-media-applications/{id}/plugin", tenantScope, h.assignPlugin},
		{"POST", "/sip-media-applications/{id}/plugin/rollback", tenantScope, h.rollback},
		{"GET", "/sip-media-applications/{id}/logs", tenantScope, h.logs},
		{"GET", "/sip-media-applications/{id}/stats", tenantScope, h.stats},

		{"GET", "/phone-numbers", tenantScope, h.listNumbers},
		{"POST", "/phone-numbers", tenantScope, h.addNumber},
		{"DELETE", "/phone-numbers/{number}", tenantScope, h.removeNumber},
		{"PUT", "/phone-numbers/{number}/rule", tenantScope, h.setRule},

		{"GET", "/sip-rules", tenantScope, h.listRules},
		{"POST", "/sip-rules", tenantScope, h.createRule},
		{"GET", "/sip-rules/{id}", tenantScope, h.getRule},
		{"PUT", "/sip-rules/{id}", tenantScope, h.updateRule},
		{"DELETE", "/sip-rules/{id}", tenantScope, h.deleteRule},

		{"GET", "/plugins", tenantScope, h.listPlugins},
		{"POST", "/plugins", tenantScope, h.uploadPlugin},
		{"DELETE", "/plugins/{sha}", tenantScope, h.deletePlugin},

		{"GET", "/keys", anyScope, h.listKeys},
		{"POST", "/keys", anyScope, h.createKey},
		{"DELETE", "/keys/{id}", anyScope, h.revokeKey},

		{"GET", "/tenants", adminOnly, h.listTenants},
		{"POST", "/tenants", adminOnly, h.createTenant},
		{"POST", "/tenants/{id}/keys", adminOnly, h.createTenantKey},
		{"PUT", "/tenants/{id}/dial-policy", adminOnly, h.setDialPolicy},
		{"DELETE", "/tenants/{id}/dial-policy", adminOnly, h.deleteDialPolicy},

		{"POST", "/placeivrcall", tenantScope, h.placeIvrCall},
		{"POST", "/splitconnection", tenantScope, h.splitConnection},
		{"POST", "/connect", tenantScope, h.connectParticipants},
		{"POST", "/createconferenceconnection", tenantScope, h.createConferenceConnection},
		{"POST", "/interruptivrcommand", tenantScope, h.interruptIvrCommand},
		{"POST", "/hangupparticipant", tenantScope, h.hangupParticipant},
		{"POST", "/stoprecording", tenantScope, h.stopRecording},
		{"GET", "/promptfile", tenantScope, h.listPromptFiles},
		{"GET", "/promptfile/{name...}", tenantScope, h.getPromptFile},
		{"PUT", "/promptfile/{name...}", tenantScope, h.putPromptFile},
		{"DELETE", "/promptfile/{name...}", tenantScope, h.deletePromptFile},

		{"GET", "/kv", tenantScope, h.listKV},
		{"GET", "/kv/{key...}", tenantScope, h.getKV},
		{"PUT", "/kv/{key...}", tenantScope, h.putKV},
		{"DELETE", "/kv/{key...}", tenantScope, h.deleteKV},

		{"GET", "/buckets/{bucket}/objects", tenantScope, h.listObjects},
		{"GET", "/buckets/{bucket}/objects/{key...}", tenantScope, h.getObject},
		{"PUT", "/buckets/{bucket}/objects/{key...}", tenantScope, h.putObject},
		{"DELETE", "/buckets/{bucket}/objects/{key...}", tenantScope, h.deleteObject},
	}
}

// ServeHTTP answers unknown routes and wrong methods with JSON errors
// instead of the mux's plain text.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		rec := &statusRecorder{header: http.Header{}}
		h.mux.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeBadRequest,
				Message: fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))})
			return
		}
		if rec.status >= 300 && rec.status < 400 {
			// The mux's redirect to the cleaned path.
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			return
		}
		writeError(w, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
		return
	}
	h.mux.ServeHTTP(w, r)
}

// statusRecorder captures the mux's own 404/405/redirect answers.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

// wrap authenticates, rate-limits, runs the route and turns its error into
// a Chime error answer.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		var p principal
		if rt.access != public {
			var err *Error
			if p, err = h.authenticate(w, r, rt.access); err != nil {
				if err.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="mediaserver", AWS4-HMAC-SHA256`)
				}
				writeError(w, err)
				return
			}
		}
		if err := rt.fn(w, r, p); err != nil {
			h.fail(w, r, err)
		}
	})
}

var errBadKey = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
	Message: "missing or invalid API key: send \"Authorization: Bearer <secret>\" or \"X-Api-Key: <secret>\", or sign the request (AWS Signature Version 4)"}

// authenticate finds the key of a request, Bearer or signed, and decides
// whom it acts for.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, a access) (principal, *Error) {
	var (
		tid string
		key tenant.Key
	)
	secret := r.Header.Get("X-Api-Key")
	auth := r.Header.Get("Authorization")
	scheme, params, _ := strings.Cut(auth, " ")
	switch {
	case scheme == sigV4Algorithm:
		var e *Error
		if tid, key, e = h.authenticateSigV4(w, r, params); e != nil {
			return principal{}, e
		}
	case auth == "" && secret == "" && r.URL.Query().Has("X-Amz-Signature"):
		return principal{}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
			Message: "presigned URLs are not supported: sign the request in its Authorization header"}
	default:
		if auth != "" {
			if !strings.EqualFold(scheme, "Bearer") {
				return principal{}, errBadKey
			}
			secret = strings.TrimSpace(params)
		}
		if secret == "" {
			return principal{}, errBadKey
		}
		var err error
		if tid, key, err = h.reg.Authenticate(secret); err != nil {
			if !errors.Is(err, tenant.ErrUnauthorized) {
				h.o.log.Error("api: authenticate", "err", err)
				return principal{}, &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "the key store is unavailable"}
			}
			return principal{}, errBadKey
		}
	}
	// Limit before anything else is done for the key, whatever the route.
	if h.limiter != nil {
		bucket := "t:" + tid
		if key.Admin {
			bucket = "a:" + key.ID
		}
		if wait, ok := h.limiter.Allow(bucket); !ok {
			return principal{}, &Error{Status: http.StatusTooManyRequests, Code: CodeThrottled,
				Message:    fmt.Sprintf("request rate over %g/s (burst %d); retry after %s", h.o.rate, h.o.burst, wait),
				RetryAfter: wait}
		}
	}
	p := principal{tenant: tid, key: key}
	want := r.Header.Get(TenantHeader)
	switch {
	case a == adminOnly:
		if !key.Admin {
			return principal{}, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "this route needs an admin key"}
		}
		p.tenant = ""
	case !key.Admin:
		if want != "" && want != tid {
			return principal{}, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "a tenant key acts for its own tenant only: drop the " + TenantHeader + " header"}
		}
	case want != "":
		if _, err := h.reg.GetTenant(want); err != nil {
			return principal{}, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("tenant %q not found", want)}
		}
		p.tenant = want
	case a == tenantScope:
		return principal{}, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "an admin key must name the tenant it acts for in the " + TenantHeader + " header"}
	}
	return p, nil
}

func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request, _ principal) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
	return nil
}

// Error is an API error answer. Handlers return it (or an error that fail
// maps to one).
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf(format, a...)}
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	w.Header().Set("X-Amzn-ErrorType", ExceptionType(e.Code))
	writeJSON(w, e.Status, ErrorResponse{Code: e.Code, Message: e.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail maps a route's error to an answer: our *Error as is, the registry's,
// the store's and the interfaces' sentinels to their Chime codes, anything
// else to a ServiceFailure whose detail goes to the log only.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &mbe):
		e = &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest,
			Message: fmt.Sprintf("request body larger than the limit of %d bytes", mbe.Limit)}
	case errors.Is(err, tenant.ErrNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNotFound):
		e = notFound("%s", detail(err))
	case errors.Is(err, tenant.ErrInvalid), errors.Is(err, store.ErrInvalidName), errors.Is(err, ErrInvalid):
		e = badRequest("%s", detail(err, tenant.ErrInvalid, store.ErrInvalidName, ErrInvalid))
	case errors.Is(err, tenant.ErrExists), errors.Is(err, tenant.ErrNumberTaken), errors.Is(err, tenant.ErrInUse), errors.Is(err, tenant.ErrTaken),
		errors.Is(err, tenant.ErrNoHistory), errors.Is(err, ErrConflict):
		e = &Error{Status: http.StatusConflict, Code: CodeConflict, Message: detail(err)}
	case errors.Is(err, ErrForbidden):
		e = &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: detail(err)}
	case errors.Is(err, tenant.ErrQuotaExceeded), errors.Is(err, store.ErrQuotaExceeded), errors.Is(err, ErrLimitExceeded):
		e = &Error{Status: http.StatusBadRequest, Code: CodeResourceLimitExceeded, Message: detail(err)}
	case errors.Is(err, tenant.ErrClosed), errors.Is(err, ErrUnavailable):
		e = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "the service is unavailable; retry later"}
		h.o.log.Warn("api: unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	case errors.Is(err, context.Canceled):
		return // the client went away
	default:
		h.o.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: CodeServiceFailure, Message: "internal error"}
	}
	writeError(w, e)
}

// detail is the client-facing part of an error text: the registry and
// store prefix theirs with the package and operation ("tenant: add number:
// "), which says nothing to an API user.
func detail(err error, drop ...error) string {
	msg := err.Error()
	for _, p := range []string{"tenant: ", "store: "} {
		for strings.HasPrefix(msg, p) {
			msg = msg[len(p):]
		}
	}
	for _, op := range []string{"create application: ", "get application: ", "update application: ",
		"delete application: ", "add number: ", "remove number: ", "set rule: ", "put plugin: ",
		"get plugin: ", "assign plugin: ", "rollback: ", "delete plugin: ", "create key: ", "revoke key: ",
		"create rule: ", "get rule: ", "update rule: ", "delete rule: ",
		"create: ", "get: "} {
		msg = strings.TrimPrefix(msg, op)
	}
	for _, d := range drop {
		msg = strings.TrimPrefix(msg, d.Error()+": ")
	}
	return msg
}

// ServerRoutes are the routes documented in openapi.yaml that the server
// serves beside this API, on the same listener: readiness and metrics.
var ServerRoutes = []string{"GET /readyz", "GET /metrics"}
