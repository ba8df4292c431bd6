package engine

import (
	"errors"
	"fmt"
	"sync"
)

// iotcomms conference connections across sessions. A conference
// connection belongs to the session that created it
// (/createconferenceconnection), but participants of the tenant's other
// sessions may join it too (joinconferenceconnection with its
// connectionId): many callers, each in a session of its own, meet in one
// conference. Each joining session gets a connection of its own with the
// conference's id, whose media is a handle on the one shared
// MediaConnection; the media is closed when the last handle is. A session
// that leaves (its connection split or dissolved) takes only its own
// members out.

// sharedConfs are the live conference connections, by connection id.
type sharedConfs struct {
	mu    sync.Mutex
	confs map[string]*sharedConf
}

type sharedConf struct {
	tenant string
	media  MediaConnection
	refs   int
}

// open registers a new conference connection's media and returns the
// creating session's handle on it.
func (s *sharedConfs) open(id, tenant string, media MediaConnection) MediaConnection {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.confs == nil {
		s.confs = map[string]*sharedConf{}
	}
	sc := &sharedConf{tenant: tenant, media: media, refs: 1}
	s.confs[id] = sc
	return &confHandle{s: s, id: id, sc: sc, added: map[string]bool{}}
}

// join returns a handle on the live conference id for another session of
// tenant; false when there is no such conference of that tenant.
func (s *sharedConfs) join(id, tenant string) (MediaConnection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.confs[id]
	if sc == nil || sc.tenant != tenant {
		return nil, false
	}
	sc.refs++
	return &confHandle{s: s, id: id, sc: sc, added: map[string]bool{}}, true
}

// confHandle is one session's view of a shared conference: the members it
// added, which its Close removes.
type confHandle struct {
	s      *sharedConfs
	id     string
	sc     *sharedConf
	added  map[string]bool
	closed bool
}

func (h *confHandle) Add(id string, leg Leg, role Role) error {
	if err := h.sc.media.Add(id, leg, role); err != nil {
		return err
	}
	h.added[id] = true
	return nil
}

func (h *confHandle) Remove(id string) error {
	delete(h.added, id)
	return h.sc.media.Remove(id)
}

func (h *confHandle) SetMuted(id string, muted bool) error { return h.sc.media.SetMuted(id, muted) }

// Close takes this session's members out, and closes the conference's
// media when no other session holds it.
func (h *confHandle) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	var errs []error
	for id := range h.added {
		errs = append(errs, h.sc.media.Remove(id))
	}
	clear(h.added)
	h.s.mu.Lock()
	h.sc.refs--
	last := h.sc.refs == 0
	if last && h.s.confs[h.id] == h.sc {
		delete(h.s.confs, h.id)
	}
	h.s.mu.Unlock()
	if last {
		errs = append(errs, h.sc.media.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("conference %s: %w", h.id, err)
	}
	return nil
}
