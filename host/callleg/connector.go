package callleg

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/media"
)

// mediaLeg is a leg of these Legs: Leg and dialLeg (which embeds it).
type mediaLeg interface {
	endpoint() (*media.Endpoint, error)
}

// legEndpoint returns the RTP endpoint of one of this server's legs.
func legEndpoint(l engine.Leg) (*media.Endpoint, error) {
	ml, ok := l.(mediaLeg)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNoMedia, l)
	}
	return ml.endpoint()
}

// connector is the engine's Connector: the media of a connection is a
// media.Bridge while it has two members who both speak (G.711 bytes
// relayed when their codecs match, PCMU and PCMA transcoded otherwise,
// RFC 4733 digits passed on), and a media.Mixer otherwise (three or more
// members, a listen-only monitor, or a conference room, which always
// mixes). When the membership changes the media is rebuilt at once: a
// member's endpoint goes back to the clock for at most the instant in
// between, so its stream keeps its cadence.
type connector struct{ ls *Legs }

var _ engine.Connector = connector{}

// NewConnection opens an empty connection.
func (c connector) NewConnection(spec engine.ConnectionSpec) (engine.MediaConnection, error) {
	if spec.Conference {
		c.ls.log.Info("conference room opened", "tenant", spec.TenantID, "room", spec.Name)
	}
	return &mediaConn{ls: c.ls, spec: spec}, nil
}

// mediaConn is one connection's media.
type mediaConn struct {
	ls   *Legs
	spec engine.ConnectionSpec

	mu      sync.Mutex
	members []*connMember
	bridge  *media.Bridge
	mixer   *media.Mixer
}

type connMember struct {
	id    string
	ep    *media.Endpoint
	role  engine.Role
	muted bool
	inMix bool // added to m.mixer
}

func (m *mediaConn) find(id string) int {
	return slices.IndexFunc(m.members, func(x *connMember) bool { return x.id == id })
}

// Add connects the member's endpoint.
func (m *mediaConn) Add(id string, l engine.Leg, role engine.Role) error {
	ep, err := legEndpoint(l)
	if err != nil {
		return fmt.Errorf("connection %s: %w", m.spec.Name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.find(id) >= 0 {
		return nil
	}
	m.members = append(m.members, &connMember{id: id, ep: ep, role: role})
	if err := m.rebuild(); err != nil {
		m.members = m.members[:len(m.members)-1]
		if rerr := m.rebuild(); rerr != nil {
			m.ls.log.Warn("connection: restoring the media failed", "connection", m.spec.Name, "err", rerr)
		}
		return err
	}
	return nil
}

// Remove disconnects the member; its endpoint goes back to the clock.
func (m *mediaConn) Remove(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(id)
	if i < 0 {
		return fmt.Errorf("connection %s: %w: %s", m.spec.Name, media.ErrNotMember, id)
	}
	gone := m.members[i]
	m.members = slices.Delete(m.members, i, i+1)
	if m.mixer != nil && gone.inMix && !m.wantBridge() && (len(m.members) > 0 || m.spec.Conference) {
		// Still a mix: only this member leaves it.
		return m.mixer.Remove(gone.ep)
	}
	return m.rebuild()
}

// SetMuted stops or restarts a member's contribution to the mix. A
// muted member of a two-party connection turns the bridge into a mix.
func (m *mediaConn) SetMuted(id string, muted bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(id)
	if i < 0 {
		return fmt.Errorf("connection %s: %w: %s", m.spec.Name, media.ErrNotMember, id)
	}
	m.members[i].muted = muted
	if m.mixer != nil {
		return m.mixer.SetMuted(m.members[i].ep, muted)
	}
	return m.rebuild()
}

// Close releases the media; the members' endpoints go back to the clock.
func (m *mediaConn) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members = nil
	err := m.teardown()
	if m.spec.Conference {
		m.ls.log.Info("conference room closed", "tenant", m.spec.TenantID, "room", m.spec.Name)
	}
	return err
}

// wantBridge: two members who both speak, unmuted, in a session
// connection (not a room).
func (m *mediaConn) wantBridge() bool {
	if m.spec.Conference || len(m.members) != 2 {
		return false
	}
	for _, x := range m.members {
		if x.role != engine.RoleSpeakListen || x.muted {
			return false
		}
	}
	return true
}

// teardown undoes the current bridge or mix. Caller holds mu.
func (m *mediaConn) teardown() error {
	var err error
	if m.bridge != nil {
		if e := m.bridge.Close(); e != nil && !errors.Is(e, media.ErrClosed) {
			err = e
		}
		m.bridge = nil
	}
	if m.mixer != nil {
		if e := m.mixer.Close(); e != nil && !errors.Is(e, media.ErrClosed) {
			err = errors.Join(err, e)
		}
		m.mixer = nil
	}
	for _, x := range m.members {
		x.inMix = false
	}
	return err
}

// rebuild makes the media match the members: a bridge, a mix (adding
// members the mix lacks), or nothing. Caller holds mu.
func (m *mediaConn) rebuild() error {
	switch {
	case m.wantBridge():
		a, b := m.members[0].ep, m.members[1].ep
		if m.bridge != nil {
			return nil
		}
		if err := m.teardown(); err != nil {
			m.ls.log.Debug("connection: undoing the previous media", "connection", m.spec.Name, "err", err)
		}
		br, err := media.NewBridge(a, b, media.BridgeConfig{})
		if err != nil {
			return fmt.Errorf("bridge: %w", err)
		}
		m.bridge = br
		m.ls.log.Info("legs bridged", "connection", m.spec.Name, "a", m.members[0].id, "b", m.members[1].id)
		return nil
	case len(m.members) >= 2 || m.spec.Conference && len(m.members) > 0:
		if m.bridge != nil {
			if err := m.teardown(); err != nil {
				m.ls.log.Debug("connection: undoing the bridge", "connection", m.spec.Name, "err", err)
			}
		}
		if m.mixer == nil {
			m.mixer = media.NewMixer(m.ls.cfg.Clock)
		}
		for _, x := range m.members {
			if x.inMix {
				continue
			}
			role := media.Participant
			if x.role == engine.RoleListen {
				role = media.Monitor
			}
			if err := m.mixer.Add(x.ep, role); err != nil {
				return fmt.Errorf("mix: %w", err)
			}
			x.inMix = true
			if err := m.mixer.SetMuted(x.ep, x.muted); err != nil {
				return fmt.Errorf("mix: %w", err)
			}
		}
		return nil
	default:
		return m.teardown()
	}
}
