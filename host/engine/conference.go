package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/wasmvoice/mediaserver/abi"
)

// Conference rooms: JoinChimeMeeting puts a participant into a local room
// named by its JoinToken, a conference connection (Connector with
// ConnectionSpec.Conference) shared by the participants of several
// sessions of one tenant.
//
// The engine keeps the registry of rooms: a room is created on its first
// join and closed when its last attendee leaves. A room is named by the
// tenant id and the JoinToken, so two tenants that use the same token get
// two rooms; the MeetingId given with the first join is an alias, within
// the tenant, for ModifyChimeMeetingAttendees. An attendee is named by its
// leg's CallId. A participant is in at most one connection or room; it
// leaves it when it joins another, hangs up, or the call ends. The room's
// MediaConnection is called under the registry's lock.

// roomKey names a room: rooms never cross tenants.
type roomKey struct{ tenant, token string }

// roomRegistry is the engine's set of live rooms.
type roomRegistry struct {
	conn    Connector
	mu      sync.Mutex
	rooms   map[roomKey]*roomEntry // by tenant and JoinToken
	aliases map[roomKey]roomKey    // tenant and MeetingId -> tenant and JoinToken
}

type roomEntry struct {
	room      MediaConnection
	meetingID string
	attendees map[string]bool
}

func newRoomRegistry(conn Connector) *roomRegistry {
	return &roomRegistry{conn: conn, rooms: make(map[roomKey]*roomEntry), aliases: make(map[roomKey]roomKey)}
}

// join adds attendee (leg) to the room token, creating it if needed.
func (g *roomRegistry) join(token roomKey, meetingID, attendee string, leg Leg) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.rooms[token]
	if r == nil {
		room, err := g.conn.NewConnection(ConnectionSpec{TenantID: token.tenant, Name: token.token, Conference: true})
		if err != nil {
			return err
		}
		r = &roomEntry{room: room, meetingID: meetingID, attendees: make(map[string]bool)}
		g.rooms[token] = r
		if meetingID != "" {
			g.aliases[roomKey{token.tenant, meetingID}] = token
		}
	}
	if err := r.room.Add(attendee, leg, RoleSpeakListen); err != nil {
		g.closeIfEmpty(token, r)
		return err
	}
	r.attendees[attendee] = true
	return nil
}

// leave removes attendee from the room token and closes the room when it
// is empty.
func (g *roomRegistry) leave(token roomKey, attendee string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.rooms[token]
	if r == nil || !r.attendees[attendee] {
		return nil
	}
	delete(r.attendees, attendee)
	err := r.room.Remove(attendee)
	return errors.Join(err, g.closeIfEmpty(token, r))
}

func (g *roomRegistry) closeIfEmpty(token roomKey, r *roomEntry) error {
	if len(r.attendees) > 0 {
		return nil
	}
	delete(g.rooms, token)
	alias := roomKey{token.tenant, r.meetingID}
	if r.meetingID != "" && g.aliases[alias] == token {
		delete(g.aliases, alias)
	}
	return r.room.Close()
}

// setMuted mutes or unmutes attendees of the tenant's meeting id (a
// MeetingId alias or a JoinToken). Unknown meetings and attendees wrap
// ErrRoomNotFound; nothing changes then.
func (g *roomRegistry) setMuted(id roomKey, attendees []string, muted bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.rooms[id]
	if tok, ok := g.aliases[id]; ok {
		r = g.rooms[tok]
	}
	if r == nil {
		return fmt.Errorf("%w: meeting %s", ErrRoomNotFound, id.token)
	}
	for _, a := range attendees {
		if !r.attendees[a] {
			return fmt.Errorf("%w: attendee %s is not in meeting %s", ErrRoomNotFound, a, id.token)
		}
	}
	for _, a := range attendees {
		if err := r.room.SetMuted(a, muted); err != nil {
			return err
		}
	}
	return nil
}

// size returns the number of live rooms (tests).
func (g *roomRegistry) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.rooms)
}

func startJoinMeeting(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.JoinChimeMeetingParameters)
	if p.JoinToken == "" {
		return nil, missing(a.Type, "JoinToken")
	}
	if c.e.cfg.Connector == nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: this server has no conference service", a.Type))
	}
	l := c.target
	c.leaveRooms(l)
	if k := l.conn; k != nil {
		// A bridged leg that joins a meeting leaves the bridge.
		c.leave(l)
		c.model.shrunk(k)
	}
	room := roomKey{c.app.TenantID, p.JoinToken}
	if err := c.e.rooms.join(room, p.MeetingID, l.id(), l.leg); err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	l.room = room
	return nil, outcome{}
}

// leaveRooms takes leg l out of its conference room, if any.
func (c *Call) leaveRooms(l *participant) {
	if l.room == (roomKey{}) {
		return
	}
	room := l.room
	l.room = roomKey{}
	if err := c.e.rooms.leave(room, l.id()); err != nil {
		c.log.Warn("leaving the conference room failed", "participant", l.tag, "err", err)
	}
}

func startModifyAttendees(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.ModifyChimeMeetingAttendeesParameters)
	switch {
	case p.MeetingID == "":
		return nil, missing(a.Type, "MeetingId")
	case len(p.AttendeeList) == 0:
		return nil, missing(a.Type, "AttendeeList")
	case p.Operation != abi.OperationMute && p.Operation != abi.OperationUnmute:
		return nil, invalid(a.Type, "Operation", "must be Mute or Unmute")
	}
	if c.e.cfg.Connector == nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: this server has no conference service", a.Type))
	}
	if err := c.e.rooms.setMuted(roomKey{c.app.TenantID, p.MeetingID}, p.AttendeeList, p.Operation == abi.OperationMute); err != nil {
		if errors.Is(err, ErrRoomNotFound) {
			return nil, failed(abi.ResourceNotFound, fmt.Sprintf("%s: %v", a.Type, err))
		}
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	return nil, outcome{}
}
