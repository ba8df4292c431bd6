package engine

import (
	"fmt"
	"slices"
	"strconv"
)

// Role is how a participant takes part in a connection.
type Role uint8

const (
	// RoleSpeakListen hears the other members and is heard by them.
	RoleSpeakListen Role = iota
	// RoleListen hears the other members and is never heard: a monitor.
	RoleListen
)

func (r Role) String() string {
	if r == RoleListen {
		return "listen"
	}
	return "speak+listen"
}

// Connector provides the media of connections (Config.Connector). The
// media layer decides how: two members who both speak are relayed (or
// transcoded) to each other; three or more, or any listen-only member, are
// mixed, each hearing the sum of the others, never itself. A conference
// room is always mixed.
type Connector interface {
	NewConnection(spec ConnectionSpec) (MediaConnection, error)
}

// ConnectionSpec describes a connection to open.
type ConnectionSpec struct {
	TenantID string
	// Name identifies the connection in logs: a session connection's id,
	// or a conference room's JoinToken.
	Name string
	// Conference opens a room (JoinChimeMeeting): mixed however many
	// members it has, shared by the participants of several sessions.
	Conference bool
}

// MediaConnection is the media of one connection. Its members are the
// connection's participants that have media of their own (SIP legs), by
// id; an IVR participant acts through theirs instead. The engine calls it
// from one goroutine at a time (a session's, or, for a room, under the
// room registry's lock); it must be quick and must not call back into the
// engine.
type MediaConnection interface {
	// Add connects leg's media: it hears the other members and, with
	// RoleSpeakListen and unless muted, they hear it.
	Add(id string, leg Leg, role Role) error
	// Remove disconnects a member; its leg is then on its own again.
	Remove(id string) error
	// SetMuted stops (true) or restarts (false) a member's contribution.
	SetMuted(id string, muted bool) error
	// Close releases the connection (every member is removed).
	Close() error
}

// connection is a set of participants of one session with their roles.
// Its media (when at least one member has media) is a MediaConnection.
type connection struct {
	id      string
	members []*participant
	media   MediaConnection
	replyID string // iotcomms: the token its callbacks carry
}

func (k *connection) has(p *participant) bool { return slices.Contains(k.members, p) }

// mediaMember reports whether p's media takes part in connections: a SIP
// leg that is up (an IVR participant has none of its own).
func (p *participant) mediaMember() bool {
	return p.kind != KindIVR && p.leg != nil && p.answered && !p.gone
}

// connect puts ps, with role, in a new connection of the session; each
// leaves the connection (or room) it was in first. The media connects at
// once: there is no moment at which a participant that moves hears nothing
// because of the move.
func (c *Call) connect(role Role, ps ...*participant) (*connection, error) {
	if c.e.cfg.Connector == nil {
		return nil, ErrNoConnector
	}
	c.nextConn++
	k := &connection{id: c.txID + "/" + strconv.Itoa(c.nextConn)}
	mc, err := c.e.cfg.Connector.NewConnection(ConnectionSpec{TenantID: c.app.TenantID, Name: k.id})
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	k.media = mc
	c.conns = append(c.conns, k)
	for _, p := range ps {
		if err := c.join(p, k, role); err != nil {
			c.dissolve(k)
			return nil, err
		}
	}
	return k, nil
}

// join adds p to k with role, taking it out of its current connection or
// room first.
func (c *Call) join(p *participant, k *connection, role Role) error {
	if p.gone {
		return fmt.Errorf("%w: %s", ErrParticipantGone, p.tag)
	}
	if p.conn == k {
		return c.setRole(p, role)
	}
	c.leave(p)
	c.leaveRooms(p)
	if p.mediaMember() {
		if err := k.media.Add(p.id(), p.leg, role); err != nil {
			return err
		}
		p.inMedia = true
	}
	p.conn, p.role = k, role
	k.members = append(k.members, p)
	return nil
}

// setRole changes p's role in its connection.
func (c *Call) setRole(p *participant, role Role) error {
	if p.role == role || p.conn == nil {
		p.role = role
		return nil
	}
	k := p.conn
	if p.inMedia {
		p.inMedia = false
		if err := k.media.Remove(p.id()); err != nil {
			return err
		}
		if err := k.media.Add(p.id(), p.leg, role); err != nil {
			return err
		}
		p.inMedia = true
	}
	p.role = role
	return nil
}

// mediaUp adds p's media to its connection once p has media (a dialled
// participant that answered after it was connected).
func (c *Call) mediaUp(p *participant) {
	if p.conn == nil || p.inMedia || !p.mediaMember() {
		return
	}
	if err := p.conn.media.Add(p.id(), p.leg, p.role); err != nil {
		c.log.Warn("connecting the answered participant failed", "participant", p.tag, "err", err)
		return
	}
	p.inMedia = true
}

// leave takes p out of its connection, if any. The connection stays, even
// with one member (an iotcomms caller connected to nobody); models that
// want it gone dissolve it.
func (c *Call) leave(p *participant) {
	k := p.conn
	if k == nil {
		return
	}
	p.conn = nil
	k.members = slices.DeleteFunc(k.members, func(x *participant) bool { return x == p })
	for _, x := range k.members {
		if ivr, ok := x.leg.(*ivrLeg); ok {
			ivr.detach(p) // p no longer hears the connection's IVR
		}
	}
	if p.inMedia {
		p.inMedia = false
		if err := k.media.Remove(p.id()); err != nil {
			c.log.Debug("leaving the connection", "participant", p.tag, "err", err)
		}
	}
}

// dissolve ends connection k: its members are unconnected and its media
// closes. No event is sent (split does that).
func (c *Call) dissolve(k *connection) {
	for _, p := range k.members {
		for _, x := range k.members {
			if ivr, ok := x.leg.(*ivrLeg); ok {
				ivr.detach(p)
			}
		}
	}
	for _, p := range k.members {
		p.conn, p.inMedia = nil, false
	}
	k.members = nil
	if k.media != nil {
		if err := k.media.Close(); err != nil {
			c.log.Warn("closing a connection failed", "connection", k.id, "err", err)
		}
		k.media = nil
	}
	c.conns = slices.DeleteFunc(c.conns, func(x *connection) bool { return x == k })
}

// split dissolves k and tells the model about each member that was in it,
// in order.
func (c *Call) split(k *connection) {
	members := slices.Clone(k.members)
	c.dissolve(k)
	for _, p := range members {
		c.model.split(p, k)
	}
}

// move takes p from its connection into k without a gap in its media.
func (c *Call) move(p *participant, k *connection, role Role) error { return c.join(p, k, role) }

// connectedTo lists the other members of p's connection.
func (c *Call) connectedTo(p *participant) []*participant {
	if p.conn == nil {
		return nil
	}
	var out []*participant
	for _, x := range p.conn.members {
		if x != p && !x.gone {
			out = append(out, x)
		}
	}
	return out
}

// dissolveAll ends every connection of the session (the session ends).
func (c *Call) dissolveAll() {
	for len(c.conns) > 0 {
		c.dissolve(c.conns[0])
	}
}
