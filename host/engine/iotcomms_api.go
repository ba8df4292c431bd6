package engine

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// The iotcomms REST operations (placeivrcall, splitconnection, connect,
// createconferenceconnection, interruptivrcommand, hangupparticipant,
// stoprecording). Ids name their session (its id, a slash and more), so
// each operation finds the session at once; another tenant's id is not
// found, like a missing one.

// PlaceIvrCallRequest is iotcomms' /placeivrcall.
type PlaceIvrCallRequest struct {
	// DestAddr is the device to call (a number, or a SIP URI); FromAddr
	// the caller id.
	DestAddr, FromAddr string
	SipHeaders         map[string]string
	// Timeout bounds its ringing (0: Config.RingTimeout).
	Timeout time.Duration
}

// PlaceIvrCall starts an iotcomms session by dialling a device: newCall
// (informational), callNotify while it rings; when it answers it is
// connected to an IVR participant (callAnswered, getIvrCommand); when it
// fails, callEvent callFailed and sessionCompleted. It returns the session
// and participant ids at once, while the device rings.
func (e *Engine) PlaceIvrCall(app App, req PlaceIvrCallRequest) (sessionID, participantID string, err error) {
	if app.Handler == nil {
		return "", "", ErrInvalidCall
	}
	if e.cfg.Dialer == nil {
		return "", "", ErrNoDialer
	}
	if req.DestAddr == "" {
		return "", "", fmt.Errorf("%w: destAddr is required", ErrInvalidNumber)
	}
	if err := checkHeaders(req.SipHeaders); err != nil {
		return "", "", err
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return "", "", ErrClosed
	}
	app.Model = ModelIotcomms
	p := &participant{
		kind:      KindDialled,
		tag:       "device",
		direction: abi.DirectionOutbound,
		from:      req.FromAddr,
		to:        req.DestAddr,
		start:     e.cfg.Clock.Now(),
		headers:   maps.Clone(req.SipHeaders),
		dialing:   true,
	}
	c := newCall(e, app, p)
	m := newIotModel(c)
	c.model = m
	m.iotID(p)
	timer := &callTimer{c: c}
	leg, cancel, err := e.cfg.Dialer.Dial(DialRequest{
		From: req.FromAddr, To: req.DestAddr, SipHeaders: maps.Clone(req.SipHeaders),
		TenantID: app.TenantID, SipMediaApplicationID: app.SipMediaApplicationID, TransactionID: c.txID,
	}, c.dialEvents(p, timer))
	if err != nil {
		c.cancel()
		return "", "", fmt.Errorf("dial %s: %w", req.DestAddr, err)
	}
	if leg == nil {
		c.cancel()
		if cancel != nil {
			cancel()
		}
		return "", "", fmt.Errorf("dial %s: %w", req.DestAddr, ErrInvalidCall)
	}
	p.leg, p.cancelDial = leg, cancel
	c.init()
	ring := req.Timeout
	if ring <= 0 {
		ring = e.cfg.RingTimeout
	}
	c.first = func() {
		timer.start(ring, func() {
			if !p.dialing || c.ended {
				return
			}
			c.log.Info("iotcomms: the device did not answer in time", "timeout", ring)
			c.terminate(p, 0)
			m.gone(p, sipRequestTimeout)
		})
		m.startOutbound(p)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		c.cancel()
		if cancel != nil {
			cancel()
		}
		return "", "", ErrClosed
	}
	e.calls[c.txID] = c
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		c.run()
	}()
	return c.txID, p.iotID, nil
}

// iotSession finds the live iotcomms session an id names, for tenant.
func (e *Engine) iotSession(tenant, id string) (*Call, error) {
	txID, _, _ := strings.Cut(id, "/")
	e.mu.Lock()
	c := e.calls[txID]
	e.mu.Unlock()
	if c == nil || c.app.TenantID != tenant || c.app.Model != ModelIotcomms {
		return nil, fmt.Errorf("%w: %s", ErrCallNotFound, id)
	}
	return c, nil
}

// iotDo runs f in the session that id names and returns its error.
func (e *Engine) iotDo(tenant, id string, f func(c *Call, m *iotModel) error) error {
	c, err := e.iotSession(tenant, id)
	if err != nil {
		return err
	}
	res := make(chan error, 1)
	if !c.post(func() {
		m, ok := c.model.(*iotModel)
		if !ok || c.ended {
			res <- fmt.Errorf("%w: %s", ErrCallNotFound, id)
			return
		}
		res <- f(c, m)
	}) {
		return fmt.Errorf("%w: %s", ErrCallNotFound, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.SignalTimeout)
	defer cancel()
	select {
	case err := <-res:
		return err
	case <-c.done:
		return fmt.Errorf("%w: %s", ErrCallNotFound, id)
	case <-ctx.Done():
		return fmt.Errorf("iotcomms: %w", ctx.Err())
	}
}

// IotSplitConnection splits a connection: each member gets callEvent
// (callerConnectionSplit or calleeConnectionSplit). replyID must be the
// connection's (from callAnswered) when given.
func (e *Engine) IotSplitConnection(tenant, connectionID, replyID string) error {
	return e.iotDo(tenant, connectionID, func(c *Call, m *iotModel) error {
		k := m.conns[connectionID]
		if k == nil {
			return fmt.Errorf("%w: connection %s", ErrCallNotFound, connectionID)
		}
		if replyID != "" && replyID != k.replyID {
			return fmt.Errorf("%w: replyId does not match connection %s", ErrInvalidArgument, connectionID)
		}
		delete(m.conns, k.id)
		delete(m.conf, k)
		delete(m.replies, k.replyID)
		c.split(k)
		return nil
	})
}

// IotConnect connects two participants of a session (each leaves its
// connection; an IVR serving either leaves) and reports callAnswered.
func (e *Engine) IotConnect(tenant, participantA, participantB string) error {
	return e.iotDo(tenant, participantA, func(c *Call, m *iotModel) error {
		a, b := m.byID[participantA], m.byID[participantB]
		if a == nil || b == nil || a == b {
			return fmt.Errorf("%w: participants %s and %s of one session", ErrCallNotFound, participantA, participantB)
		}
		if a.gone || b.gone || a.kind == KindIVR || b.kind == KindIVR || !a.answered || !b.answered {
			return fmt.Errorf("%w: both participants must be answered callers", ErrInvalidArgument)
		}
		if m.connectPair(a, b) == nil {
			return fmt.Errorf("%w: the connection failed", ErrInvalidArgument)
		}
		return nil
	})
}

// IotCreateConference creates an empty conference connection in the
// session; participants join it with joinconferenceconnection.
func (e *Engine) IotCreateConference(tenant, sessionID string) (string, error) {
	var id string
	err := e.iotDo(tenant, sessionID, func(c *Call, m *iotModel) error {
		if c.e.cfg.Connector == nil {
			return ErrNoConnector
		}
		c.nextConn++
		k := &connection{id: c.txID + "/" + fmt.Sprint(c.nextConn), replyID: newReplyID()}
		mc, err := c.e.cfg.Connector.NewConnection(ConnectionSpec{TenantID: c.app.TenantID, Name: k.id, Conference: true})
		if err != nil {
			return err
		}
		k.media = c.e.confs.open(k.id, c.app.TenantID, mc)
		c.conns = append(c.conns, k)
		m.conns[k.id] = k
		m.conf[k] = true
		id = k.id
		return nil
	})
	return id, err
}

// IotInterruptIvrCommand ends the IVR participant's command at once: its
// next getIvrCommand reports dtmfParams reason "interrupted".
func (e *Engine) IotInterruptIvrCommand(tenant, participantID string) error {
	return e.iotDo(tenant, participantID, func(c *Call, m *iotModel) error {
		p := m.byID[participantID]
		st := m.ivrs[p]
		if p == nil || st == nil {
			return fmt.Errorf("%w: IVR participant %s", ErrCallNotFound, participantID)
		}
		switch {
		case st.cmd != nil:
			st.cmd.interrupt()
		case st.parked || st.wait.pending():
			// Parked, or waiting getIVRCommandAfter: ask now.
			st.parked = false
			st.wait.stop()
			m.nextCommand(p, &abi.DtmfParams{Reason: abi.DtmfInterrupted})
		}
		return nil
	})
}

// IotHangupParticipant hangs a participant up; the other side of its
// connection gets callEvent as if it had hung up itself.
func (e *Engine) IotHangupParticipant(tenant, participantID string) error {
	return e.iotDo(tenant, participantID, func(c *Call, m *iotModel) error {
		p := m.byID[participantID]
		if p == nil || p.gone {
			return fmt.Errorf("%w: participant %s", ErrCallNotFound, participantID)
		}
		if p.kind == KindIVR {
			m.ivrLeaves(p)
			return nil
		}
		c.terminate(p, 0)
		m.participantLeft(p)
		return nil
	})
}

// IotStopRecording stops the session's call recordings; recordingReady
// follows when the session completes.
func (e *Engine) IotStopRecording(tenant, sessionID string) error {
	return e.iotDo(tenant, sessionID, func(c *Call, m *iotModel) error {
		if len(m.recs) == 0 {
			return fmt.Errorf("%w: no recording in session %s", ErrCallNotFound, sessionID)
		}
		m.stopRecordings(nil)
		return nil
	})
}
