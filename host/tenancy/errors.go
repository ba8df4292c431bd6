package tenancy

import "errors"

var (
	// ErrStorage is returned by Start when the configured blob storage
	// cannot be used.
	ErrStorage = errors.New("storage unavailable")
	// ErrAppUnavailable is wrapped when an application can take no calls
	// (its plugin could not be stored or loaded); its numbers answer 503.
	ErrAppUnavailable = errors.New("application unavailable")
	// ErrTenantCPU fails an invocation that waited too long for its
	// tenant's CPU share (Options.CPUSlots): the tenant's own plugin keeps
	// it busy.
	ErrTenantCPU = errors.New("tenant cpu share exhausted")
	// ErrTenantWebhooks: the tenant has DefaultWebhookConcurrency webhook
	// requests in flight and none ended in time.
	ErrTenantWebhooks = errors.New("tenant webhook concurrency exhausted")
	// ErrMasterKey is returned by Start when the master key (MasterKeyEnv
	// or MasterKeyFile) is malformed or its file is readable by others.
	ErrMasterKey = errors.New("unusable master key")
	// ErrTooManyVersions fails the load of a plugin version when the
	// tenant has as many loaded as its MaxPluginVersions quota allows
	// (twice the quota: the assigned ones and as many still ending calls).
	ErrTooManyVersions = errors.New("too many plugin versions loaded")
)
