package api

import (
	"context"
	"time"
)

// Calls is what only the server can do with calls. Implementations return
// errors wrapping ErrNotFound, ErrInvalid, ErrLimitExceeded or
// ErrUnavailable; the handler has already authenticated the tenant,
// checked that appID is one of its applications and validated the request.
type Calls interface {
	// CreateCall places an outbound call (Chime's
	// CreateSipMediaApplicationCall) and returns at once, while it rings.
	CreateCall(ctx context.Context, tenant, appID string, req CreateCallRequest) (txID string, err error)
	// UpdateCall queues CALL_UPDATE_REQUESTED for a live call of tenant's
	// application appID. ErrNotFound for an unknown or finished call, a
	// call of another application, or another tenant's call.
	UpdateCall(ctx context.Context, tenant, appID, txID string, args map[string]string) error
	// HangupCall ends one of tenant's calls, also while it still rings.
	// tenant "" (an admin key) may hang up any call.
	HangupCall(ctx context.Context, tenant, txID string) error
	// ListCalls lists tenant's live calls; tenant "" lists every call
	// (only an admin key gets there).
	ListCalls(tenant string) []Call
}

// Plugins is what only the server can do with plugin modules.
type Plugins interface {
	// Check validates and compiles a module (warming the compilation
	// cache) before it is stored. A module that is not acceptable is an
	// error wrapping ErrInvalid whose text tells the author why.
	Check(ctx context.Context, tenant string, wasm []byte) (PluginInfo, error)
	// Logs returns up to n of the most recent log lines of tenant's
	// application appID, oldest first.
	Logs(tenant, appID string, n int) []LogLine
	// Stats returns the counters of tenant's application appID.
	Stats(tenant, appID string) PluginStats
}

// Chime's limits on CreateSipMediaApplicationCall and
// UpdateSipMediaApplicationCall, and ours on the entries' sizes.
const (
	MaxArguments      = 20
	MaxSipHeaders     = 20
	MaxArgKeyBytes    = 128
	MaxArgValueBytes  = 2048
	MaxHeaderValueLen = 1024
)

// CreateCallRequest is the body of CreateSipMediaApplicationCall.
type CreateCallRequest struct {
	FromPhoneNumber string
	ToPhoneNumber   string
	// SipHeaders go on the INVITE: only X-…, User-to-User and Diversion.
	SipHeaders map[string]string `json:",omitempty"`
	// ArgumentsMap reaches the plugin in NEW_OUTBOUND_CALL's ActionData.
	ArgumentsMap map[string]string `json:",omitempty"`
}

// UpdateCallRequest is the body of UpdateSipMediaApplicationCall.
type UpdateCallRequest struct {
	Arguments map[string]string
}

// SipMediaApplicationCall is Chime's answer to both call requests.
type SipMediaApplicationCall struct {
	TransactionID string `json:"TransactionId"`
}

// CallResponse wraps SipMediaApplicationCall as Chime does.
type CallResponse struct {
	SipMediaApplicationCall SipMediaApplicationCall
}

// Call is one live call in GET /calls.
type Call struct {
	TransactionID         string `json:"TransactionId"`
	TenantID              string `json:"TenantId"`
	SipMediaApplicationID string `json:"SipMediaApplicationId"`
	CallID                string `json:"CallId,omitempty"`
	From                  string
	To                    string
	Direction             string // "Inbound" or "Outbound"
	StartTime             time.Time
}

// CallList is the answer of GET /calls.
type CallList struct {
	Calls []Call
}

// SipMediaApplication is a tenant's application, in Chime's shape (its
// id, AwsRegion, Name, Endpoints and timestamps) plus this server's
// Webhook, Plugin and PluginHistory.
type SipMediaApplication struct {
	SipMediaApplicationID string `json:"SipMediaApplicationId"`
	AwsRegion             string
	Name                  string
	// Endpoints holds one endpoint: the current plugin version as a
	// LambdaArn (see ParseLambdaArn), else the webhook URL; none when the
	// application has neither.
	Endpoints []SipMediaApplicationEndpoint
	// Webhook receives the events while no plugin is assigned.
	Webhook string `json:",omitempty"`
	// Plugin is the SHA-256 of the current plugin version.
	Plugin string `json:",omitempty"`
	// PluginHistory holds the earlier versions, most recent last.
	PluginHistory []string `json:",omitempty"`
	// Model is the programming model of its calls: "chime" or "iotcomms"
	// (this server's extension).
	Model            string
	CreatedTimestamp time.Time
	UpdatedTimestamp time.Time
}

// SipMediaApplicationEndpoint is Chime's endpoint: where events go.
type SipMediaApplicationEndpoint struct {
	LambdaArn string
}

// Tag is Chime's resource tag. This server stores no tags: a request that
// sets any is refused.
type Tag struct {
	Key, Value string
}

// CreateAppRequest is the body of POST /sip-media-applications: Chime's
// CreateSipMediaApplication (AwsRegion, Name, Endpoints), or this server's
// form with a Webhook. An empty SipMediaApplicationId gets a generated one.
type CreateAppRequest struct {
	SipMediaApplicationID string                        `json:"SipMediaApplicationId,omitempty"`
	AwsRegion             string                        `json:",omitempty"`
	Name                  string                        `json:",omitempty"`
	Endpoints             []SipMediaApplicationEndpoint `json:",omitempty"`
	Webhook               string                        `json:",omitempty"`
	Tags                  []Tag                         `json:",omitempty"`
	// Model is "chime" (the default) or "iotcomms".
	Model string `json:",omitempty"`
}

// UpdateAppRequest is the body of PUT /sip-media-applications/{id}
// (Chime's UpdateSipMediaApplication): fields left out are kept.
type UpdateAppRequest struct {
	Name      *string                       `json:",omitempty"`
	Endpoints []SipMediaApplicationEndpoint `json:",omitempty"`
	Webhook   *string                       `json:",omitempty"`
	Model     *string                       `json:",omitempty"`
}

// AppResponse wraps one application.
type AppResponse struct {
	SipMediaApplication SipMediaApplication
}

// AppList is the answer of GET /sip-media-applications, one page of it.
type AppList struct {
	SipMediaApplications []SipMediaApplication
	NextToken            string `json:",omitempty"`
}

// SipRule is Chime's SIP rule: which applications a call reaches, by the
// number called (ToPhoneNumber) or the host of its Request-URI
// (RequestUriHostname).
type SipRule struct {
	SipRuleID          string `json:"SipRuleId"`
	Name               string
	Disabled           bool
	TriggerType        string
	TriggerValue       string
	TargetApplications []SipRuleTargetApplication
	CreatedTimestamp   time.Time
	UpdatedTimestamp   time.Time
}

// SipRuleTargetApplication is one application of a rule. Calls go to the
// target with the lowest Priority whose application has a plugin or a
// webhook.
type SipRuleTargetApplication struct {
	SipMediaApplicationID string `json:"SipMediaApplicationId"`
	Priority              int
	AwsRegion             string `json:",omitempty"`
}

// CreateRuleRequest is the body of POST /sip-rules (Chime's CreateSipRule).
type CreateRuleRequest struct {
	Name               string
	TriggerType        string
	TriggerValue       string
	Disabled           *bool `json:",omitempty"`
	TargetApplications []SipRuleTargetApplication
}

// UpdateRuleRequest is the body of PUT /sip-rules/{id} (Chime's
// UpdateSipRule): Name is required, the rest is kept when left out.
type UpdateRuleRequest struct {
	Name               string
	Disabled           *bool                      `json:",omitempty"`
	TargetApplications []SipRuleTargetApplication `json:",omitempty"`
}

// RuleResponse wraps one SIP rule.
type RuleResponse struct {
	SipRule SipRule
}

// RuleList is the answer of GET /sip-rules, one page of it.
type RuleList struct {
	SipRules  []SipRule
	NextToken string `json:",omitempty"`
}

// PhoneNumber is a number a tenant owns, with its SIP rule.
type PhoneNumber struct {
	E164PhoneNumber string
	// SipMediaApplicationId is where calls to the number go ("" = nowhere).
	SipMediaApplicationID string `json:"SipMediaApplicationId,omitempty"`
	CreatedTimestamp      time.Time
}

// AddNumberRequest is the body of POST /phone-numbers.
type AddNumberRequest struct {
	E164PhoneNumber string
}

// SetRuleRequest is the body of PUT /phone-numbers/{number}/rule; an empty
// SipMediaApplicationId removes the rule.
type SetRuleRequest struct {
	SipMediaApplicationID string `json:"SipMediaApplicationId"`
}

// NumberResponse wraps one phone number.
type NumberResponse struct {
	PhoneNumber PhoneNumber
}

// NumberList is the answer of GET /phone-numbers.
type NumberList struct {
	PhoneNumbers []PhoneNumber
}

// PluginInfo describes a checked module.
type PluginInfo struct {
	Mode           string   // "reactor" or "command"
	ABIVersion     int      `json:",omitempty"`
	Exports        []string `json:",omitempty"`
	Imports        []string `json:",omitempty"`
	MemoryMinPages uint32   `json:",omitempty"`
	MemoryMaxPages uint32   `json:",omitempty"`
}

// Plugin is one stored plugin version.
type Plugin struct {
	Sha256           string
	Size             int64
	CreatedTimestamp time.Time
	// Info is present in the answer to an upload only.
	Info *PluginInfo `json:",omitempty"`
}

// PluginResponse wraps one plugin version.
type PluginResponse struct {
	Plugin Plugin
}

// PluginList is the answer of GET /plugins.
type PluginList struct {
	Plugins []Plugin
}

// AssignPluginRequest is the body of PUT /sip-media-applications/{id}/plugin.
type AssignPluginRequest struct {
	Sha256 string
}

// LogLine is one line a plugin logged.
type LogLine struct {
	Time          time.Time
	Level         string // "debug", "info", "warn", "error"
	Stream        string `json:",omitempty"` // "log", "stdout", "stderr"
	TransactionID string `json:"TransactionId,omitempty"`
	Text          string
}

// LogList is the answer of GET /sip-media-applications/{id}/logs.
type LogList struct {
	Logs []LogLine
}

// LatencyBucket counts the events whose handling took at most UpperBoundMs
// (and more than the previous bucket's bound).
type LatencyBucket struct {
	UpperBoundMs float64
	Count        uint64
}

// PluginStats are an application's plugin counters.
type PluginStats struct {
	Invocations   uint64
	Errors        map[string]uint64 `json:",omitempty"` // by error kind
	Latency       []LatencyBucket   `json:",omitempty"`
	LiveInstances int
	IdleInstances int
}

// StatsResponse is the answer of GET /sip-media-applications/{id}/stats.
type StatsResponse struct {
	Stats PluginStats
}

// Key is an API key, without its secret.
type Key struct {
	KeyID            string `json:"KeyId"`
	TenantID         string `json:"TenantId,omitempty"`
	Name             string
	Admin            bool `json:",omitempty"`
	CreatedTimestamp time.Time
	LastUsed         time.Time `json:",omitzero"`
}

// CreateKeyRequest is the body of POST /keys and POST /tenants/{id}/keys.
type CreateKeyRequest struct {
	Name string
}

// CreateKeyResponse carries the secret, shown this once.
type CreateKeyResponse struct {
	Key    Key
	Secret string
}

// KeyList is the answer of GET /keys.
type KeyList struct {
	Keys []Key
}

// Quotas limit one tenant; zero means the server default.
type Quotas struct {
	MaxConcurrentCalls int   `json:",omitempty"`
	MaxCallsPerSecond  int   `json:",omitempty"`
	PluginMemoryMiB    int   `json:",omitempty"`
	EventDeadlineMs    int64 `json:",omitempty"`
	MaxModuleBytes     int64 `json:",omitempty"`
	MaxStorageBytes    int64 `json:",omitempty"`
	MaxKVBytes         int64 `json:",omitempty"` // the plugins' key-value store
	MaxApps            int   `json:",omitempty"`
	MaxPluginVersions  int   `json:",omitempty"` // assigned across the applications at once
}

// DialPolicy says what a tenant's calls may dial: SIP hosts a destination
// URI may name to be called directly, and number prefixes callable
// through the trunks (empty: every number a trunk serves). A tenant
// without one has the server's [dial] configuration.
type DialPolicy struct {
	AllowedHosts    []string `json:",omitempty"`
	AllowedPrefixes []string `json:",omitempty"`
}

// Tenant is a customer.
type Tenant struct {
	TenantID         string `json:"TenantId"`
	Name             string
	Quotas           Quotas
	DialPolicy       *DialPolicy `json:",omitempty"` // nil: the server's default
	CreatedTimestamp time.Time
}

// CreateTenantRequest is the body of POST /tenants.
type CreateTenantRequest struct {
	TenantID   string `json:"TenantId"`
	Name       string
	Quotas     Quotas
	DialPolicy *DialPolicy `json:",omitempty"`
}

// TenantResponse wraps one tenant.
type TenantResponse struct {
	Tenant Tenant
}

// TenantList is the answer of GET /tenants.
type TenantList struct {
	Tenants []Tenant
}

// Object is one object of a tenant's bucket.
type Object struct {
	Bucket       string
	Key          string
	Size         int64
	LastModified time.Time
}

// ObjectResponse is the answer of PUT /buckets/{bucket}/objects/{key}.
type ObjectResponse struct {
	Object Object
}

// ObjectList is the answer of GET /buckets/{bucket}/objects.
type ObjectList struct {
	Objects []Object
}

// ErrorResponse is the body of every error answer, as in Chime.
type ErrorResponse struct {
	Code    string
	Message string
}

// Chime's error codes (its ErrorCode enumeration), sent in
// ErrorResponse.Code; the X-Amzn-ErrorType header carries the exception
// that AWS SDKs read to pick the error type (ExceptionType).
const (
	CodeBadRequest            = "BadRequest"
	CodeUnauthorized          = "Unauthorized"
	CodeForbidden             = "Forbidden"
	CodeNotFound              = "NotFound"
	CodeConflict              = "Conflict"
	CodeThrottled             = "Throttled"
	CodeResourceLimitExceeded = "ResourceLimitExceeded"
	CodeServiceFailure        = "ServiceFailure"
	CodeServiceUnavailable    = "ServiceUnavailable"
)

// ExceptionType is the X-Amzn-ErrorType of an error code: the name of
// Chime's exception shape (UnauthorizedClientException,
// ThrottledClientException, or the code with "Exception" appended).
func ExceptionType(code string) string {
	switch code {
	case CodeUnauthorized:
		return "UnauthorizedClientException"
	case CodeThrottled:
		return "ThrottledClientException"
	}
	return code + "Exception"
}
