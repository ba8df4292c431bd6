package server

import "errors"

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("server already started")
	// ErrNotStarted is returned when a method needs a started server.
	ErrNotStarted = errors.New("server not started")
	// ErrNotAnswered is returned by media methods of a leg that has no
	// media yet (the engine answers before any media action).
	ErrNotAnswered = errors.New("leg not answered")
	// ErrUnsupportedSource is wrapped (with engine.ErrAudioSource) for an
	// AudioSource whose Type is not "S3".
	ErrUnsupportedSource = errors.New("unsupported audio source type")
	// ErrNoTrunk is returned by the dialer when no trunk serves the number.
	ErrNoTrunk = errors.New("no trunk serves the number")
	// ErrCallerID is returned by the dialer when the trunk refuses the
	// caller id and has no default one.
	ErrCallerID = errors.New("caller id not allowed on the trunk")
	// ErrNoMedia is returned when a leg handed to a bridge or a
	// conference room has no RTP endpoint of this server.
	ErrNoMedia = errors.New("leg has no media of this server")
	// ErrStorage is returned by Start when the configured blob storage
	// cannot be used.
	ErrStorage = errors.New("storage unavailable")
	// ErrAppUnavailable is wrapped when an application can take no calls
	// (its plugin could not be stored or loaded); its numbers answer 503.
	ErrAppUnavailable = errors.New("application unavailable")
	// ErrTenantCPU fails an invocation that waited too long for its
	// tenant's CPU share (WithTenantCPU): the tenant's own plugin keeps it
	// busy.
	ErrTenantCPU = errors.New("tenant cpu share exhausted")
	// ErrMasterKey is returned by Start when the master key (MasterKeyEnv
	// or MasterKeyFile) is malformed or its file is readable by others.
	ErrMasterKey = errors.New("unusable master key")
	// ErrTooManyVersions fails the load of a plugin version when the
	// tenant has as many loaded as its MaxPluginVersions quota allows
	// (twice the quota: the assigned ones and as many still ending calls).
	ErrTooManyVersions = errors.New("too many plugin versions loaded")
)
