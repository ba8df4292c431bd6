// Package callleg is the call-leg adapter: the SIP dialog and the RTP
// endpoint of one participant, as the call engine sees it.
//
//   - Leg (leg.go) is engine.Leg over an inbound sip.Call and its
//     media.Endpoint: answer, reject, hang up, play (bucket objects, URLs),
//     speak, send digits, record, call recording, VoiceFocus; its SIP events
//     (re-INVITE, digits, BYE) reach the engine call through its inbox.
//   - Legs.Dialer (dial.go) is engine.Dialer over the SIP server's Dial and
//     the configured trunks; a dialled leg is the same Leg.
//   - Legs.Connector (connector.go) is engine.Connector: the media of a
//     connection is a media.Bridge or a media.Mixer, by membership.
//
// Everything the legs need comes through Config: the media clock, port
// pool and targets, the prompt cache, the tenants' storage, the audio
// services, trunk selection, the SIP server, a hook for the RTP counters of
// ended legs and a logger. Legs keeps the live legs, so the server can
// refuse new ones while it closes, wait for them, and count them.
package callleg

import (
	"context"
	"log/slog"
	"sync"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/denoise"
	"github.com/wasmvoice/mediaserver/sip"
)

// Storage holds the tenants' bucket objects as local files, which media
// code reads and writes.
type Storage interface {
	// PromptFile returns the local file of a prompt (fetched first when
	// the objects live elsewhere); an error wrapping os.ErrNotExist when
	// there is no such object.
	PromptFile(tenant, bucket, key string) (string, error)
	// RecordingFile returns the file a recording of bucket/key is written
	// to, or an error when the tenant may not store more.
	RecordingFile(tenant, bucket, key string) (string, error)
	// RecordingDone finishes the recording written to path (err is the
	// recorder's own result) and returns the recording's result.
	RecordingDone(path string, err error) error
}

// Prompts loads decoded prompts from local files (a media.PromptCache).
type Prompts interface {
	Load(path string) (*media.Prompt, error)
}

// Audio is speech, prompts by URL and VoiceFocus (host/audio).
type Audio interface {
	URLPrompt(ctx context.Context, uri string) (*media.Prompt, error)
	Speak(ctx context.Context, req speech.Request) (*media.Prompt, error)
	NewFocus() (*denoise.Stage, error)
}

// DialPolicy says what a tenant may dial (host/tenancy: the tenant's own
// policy, else the configuration's [dial]).
type DialPolicy interface {
	// DialHost reports whether tenant may send an INVITE straight to host
	// (a SIP URI's host).
	DialHost(tenant, host string) bool
	// DialNumber reports whether tenant may call number through a trunk.
	DialNumber(tenant, number string) bool
}

// Trunks picks the trunk of a dialled number.
type Trunks interface {
	// Trunk returns the dialled number in its routed form and the trunk
	// that serves it.
	Trunk(to string) (number string, t config.Trunk, ok bool)
}

// SIP places outbound calls (a sip.Server).
type SIP interface {
	Dial(ctx context.Context, p sip.DialParams) (*sip.Call, error)
}

// Config is what the legs need. Clock, Ports, Targets, Prompts, Storage
// and Audio are required; Trunks and SIP for dialling.
type Config struct {
	Clock   *media.Clock
	Ports   *media.PortPool
	Targets *media.Targets // where media may go
	// Symmetric sends media to where the peer's media comes from
	// ([rtp] symmetric).
	Symmetric bool
	Prompts   Prompts
	Storage   Storage
	Audio     Audio
	Trunks    Trunks
	// Dial is the tenants' dial policy; nil dials no SIP host directly
	// and every number a trunk serves.
	Dial DialPolicy
	SIP  SIP
	// LegEnded, when set, gets the RTP counters of every leg whose media
	// is released (the metrics of ended legs).
	LegEnded func(media.Stats)
	Logger   *slog.Logger
}

// Legs makes the call legs of a server and keeps the live ones. Its
// methods are safe for concurrent use.
type Legs struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	closed bool
	live   map[*Leg]struct{}
	wg     sync.WaitGroup
}

// New returns the legs of a server over cfg.
func New(cfg Config) *Legs {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Legs{cfg: cfg, log: log, live: map[*Leg]struct{}{}}
}

// Inbound makes the leg of an inbound call and counts it live until
// Remove. log is the call's logger. ErrClosed once Close was called.
func (ls *Legs) Inbound(c *sip.Call, tenant string, log *slog.Logger) (*Leg, error) {
	l := ls.newLeg(c, tenant, log)
	if !ls.add(l) {
		return nil, ErrClosed
	}
	return l, nil
}

// Remove ends the count of a leg Inbound made, once its call is handled.
func (ls *Legs) Remove(l *Leg) {
	ls.mu.Lock()
	delete(ls.live, l)
	ls.mu.Unlock()
	ls.wg.Done()
}

func (ls *Legs) add(l *Leg) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed {
		return false
	}
	ls.live[l] = struct{}{}
	ls.wg.Add(1)
	return true
}

// Close refuses new legs (inbound calls get ErrClosed, dials fail with
// it); the live ones go on.
func (ls *Legs) Close() {
	ls.mu.Lock()
	ls.closed = true
	ls.mu.Unlock()
}

// Wait returns once every live leg is removed, or with ctx's error.
func (ls *Legs) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { ls.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Len returns the number of live legs: SIP calls still being handled.
func (ls *Legs) Len() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.live)
}

// Endpoints returns the RTP endpoints of the live legs that have media
// and have not released it: their counters, read at scrape time, complete
// those LegEnded reported.
func (ls *Legs) Endpoints() []*media.Endpoint {
	ls.mu.Lock()
	legs := make([]*Leg, 0, len(ls.live))
	for l := range ls.live {
		legs = append(legs, l)
	}
	ls.mu.Unlock()
	var out []*media.Endpoint
	for _, l := range legs {
		l.mu.Lock()
		if l.ep != nil && !l.released {
			out = append(out, l.ep)
		}
		l.mu.Unlock()
	}
	return out
}

// Dialer returns the engine's Dialer over the SIP server and the trunks.
func (ls *Legs) Dialer() engine.Dialer { return dialer{ls} }

// Connector returns the engine's Connector: bridges and mixers.
func (ls *Legs) Connector() engine.Connector { return connector{ls} }

// trunkSRTP is a trunk's SRTP policy (validated by config; off otherwise).
func trunkSRTP(s string) sip.SRTPPolicy {
	p, _ := sip.ParseSRTPPolicy(s)
	return p
}
