package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/engine"
)

// The iotcomms operations (api.IotCalls) over the engine's session API.

// IotOps are the operations on live iotcomms sessions: the engine's
// (host/engine/iotcomms_api.go), or a cluster's (host/cluster.Sessions).
type IotOps interface {
	IotSplitConnection(tenant, connectionID, replyID string) error
	IotConnect(tenant, participantA, participantB string) error
	IotCreateConference(tenant, sessionID string) (string, error)
	IotInterruptIvrCommand(tenant, participantID string) error
	IotHangupParticipant(tenant, participantID string) error
	IotStopRecording(tenant, sessionID string) error
}

var _ IotOps = (*engine.Engine)(nil)

var _ api.IotCalls = (*Calls)(nil)

// iotError maps the engine's session errors to the API's classes.
func iotError(err error) error {
	if errors.Is(err, engine.ErrInvalidArgument) {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return apiError(err)
}

func (c *Calls) started() error {
	if c.engine == nil {
		return fmt.Errorf("%w: %w", api.ErrUnavailable, ErrNotStarted)
	}
	return nil
}

// PlaceIvrCall dials req.DestAddr in a new session of tenant's iotcomms
// application appID and returns at once, while the device rings.
func (c *Calls) PlaceIvrCall(_ context.Context, tenant, appID string, req api.PlaceIvrCallRequest) (api.PlaceIvrCallResponse, error) {
	if err := c.started(); err != nil {
		return api.PlaceIvrCallResponse{}, err
	}
	app, found, err := c.apps.OutboundApp(tenant, appID)
	if err != nil {
		return api.PlaceIvrCallResponse{}, fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	if !found {
		return api.PlaceIvrCallResponse{}, fmt.Errorf("%w: application %s", api.ErrNotFound, appID)
	}
	sid, pid, err := c.engine.PlaceIvrCall(app, engine.PlaceIvrCallRequest{
		DestAddr: req.DestAddr, FromAddr: req.FromAddr, SipHeaders: req.Headers,
		Timeout: time.Duration(req.Timeout) * time.Second,
	})
	if err != nil {
		return api.PlaceIvrCallResponse{}, iotError(err)
	}
	return api.PlaceIvrCallResponse{SessionID: sid, ParticipantID: pid}, nil
}

// SplitConnection splits a connection of one of tenant's sessions.
func (c *Calls) SplitConnection(_ context.Context, tenant, connectionID, replyID string) error {
	if err := c.started(); err != nil {
		return err
	}
	return iotError(c.sessions.IotSplitConnection(tenant, connectionID, replyID))
}

// Connect connects two answered participants of one session.
func (c *Calls) Connect(_ context.Context, tenant, a, b string) error {
	if err := c.started(); err != nil {
		return err
	}
	return iotError(c.sessions.IotConnect(tenant, a, b))
}

// CreateConferenceConnection adds an empty conference connection to a
// session.
func (c *Calls) CreateConferenceConnection(_ context.Context, tenant, sessionID string) (string, error) {
	if err := c.started(); err != nil {
		return "", err
	}
	id, err := c.sessions.IotCreateConference(tenant, sessionID)
	return id, iotError(err)
}

// InterruptIvrCommand ends an IVR participant's command (or its wait).
func (c *Calls) InterruptIvrCommand(_ context.Context, tenant, participantID string) error {
	if err := c.started(); err != nil {
		return err
	}
	return iotError(c.sessions.IotInterruptIvrCommand(tenant, participantID))
}

// HangupParticipant hangs a participant up.
func (c *Calls) HangupParticipant(_ context.Context, tenant, participantID string) error {
	if err := c.started(); err != nil {
		return err
	}
	return iotError(c.sessions.IotHangupParticipant(tenant, participantID))
}

// StopRecording stops a session's call recordings.
func (c *Calls) StopRecording(_ context.Context, tenant, sessionID string) error {
	if err := c.started(); err != nil {
		return err
	}
	return iotError(c.sessions.IotStopRecording(tenant, sessionID))
}
