package server

import (
	"fmt"
	"sync"

	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/media"
)

// conferences is the engine's Conferences: one media.Mixer per room
// (JoinChimeMeeting), on the server's media clock.
type conferences struct{ s *Server }

var _ engine.Conferences = conferences{}

// NewRoom opens an empty room of the tenant.
func (c conferences) NewRoom(tenantID, token string) (engine.Room, error) {
	if c.s.clock == nil {
		return nil, ErrNotStarted
	}
	c.s.log.Info("conference room opened", "tenant", tenantID, "room", token)
	return &room{id: token, tenant: tenantID, s: c.s, mix: media.NewMixer(c.s.clock), members: map[string]*media.Endpoint{}}, nil
}

// room is one conference: attendees by their leg's CallId.
type room struct {
	id     string
	tenant string
	s      *Server
	mix    *media.Mixer

	mu      sync.Mutex
	members map[string]*media.Endpoint
}

// Add puts the attendee's endpoint in the mixer.
func (r *room) Add(attendee string, l engine.Leg) error {
	ep, err := legEndpoint(l)
	if err != nil {
		return fmt.Errorf("conference %s: %w", r.id, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[attendee]; ok {
		return nil
	}
	if err := r.mix.Add(ep, media.Participant); err != nil {
		return fmt.Errorf("conference %s: %w", r.id, err)
	}
	r.members[attendee] = ep
	return nil
}

// Remove gives the attendee's endpoint back to the clock.
func (r *room) Remove(attendee string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ep, ok := r.members[attendee]
	if !ok {
		return fmt.Errorf("conference %s: %w: %s", r.id, media.ErrNotMember, attendee)
	}
	delete(r.members, attendee)
	return r.mix.Remove(ep)
}

// SetMuted stops or restarts the attendee's contribution to the mix.
func (r *room) SetMuted(attendee string, muted bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ep, ok := r.members[attendee]
	if !ok {
		return fmt.Errorf("conference %s: %w: %s", r.id, media.ErrNotMember, attendee)
	}
	return r.mix.SetMuted(ep, muted)
}

// Close stops the mixer.
func (r *room) Close() error {
	r.s.log.Info("conference room closed", "tenant", r.tenant, "room", r.id)
	return r.mix.Close()
}
