package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/media"
)

// The iotcomms SIP Mediaserver REST API (abi/SPEC.md section 16): the
// operations on live sessions, tenant-scoped like every route, with
// iotcomms' camelCase members, and the prompt files (bucket
// "promptfiles": prompts and finished recordings).

// IotCalls is what the iotcomms operations need from the server; the
// Calls given to New implements it when the server runs iotcomms
// sessions (host/control). Ids of another tenant are ErrNotFound, like
// missing ones.
type IotCalls interface {
	PlaceIvrCall(ctx context.Context, tenant, appID string, req PlaceIvrCallRequest) (PlaceIvrCallResponse, error)
	SplitConnection(ctx context.Context, tenant, connectionID, replyID string) error
	Connect(ctx context.Context, tenant, participantID, participantID2 string) error
	CreateConferenceConnection(ctx context.Context, tenant, sessionID string) (connectionID string, err error)
	InterruptIvrCommand(ctx context.Context, tenant, participantID string) error
	HangupParticipant(ctx context.Context, tenant, participantID string) error
	StopRecording(ctx context.Context, tenant, sessionID string) error
}

// PromptFileBucket is the bucket of iotcomms' prompt files.
const PromptFileBucket = "promptfiles"

// PlaceIvrCallRequest is POST /placeivrcall: call a device and connect it
// to an IVR participant of a new session of an iotcomms application.
type PlaceIvrCallRequest struct {
	// DestAddr is the device: a number (through the trunks) or a SIP URI
	// the tenant's dial policy allows.
	DestAddr string `json:"destAddr"`
	// FromAddr is the caller id.
	FromAddr string `json:"fromAddr,omitempty"`
	// ApplicationID names the iotcomms application whose callbacks run
	// the session; it may be left out when the tenant has exactly one.
	ApplicationID string `json:"applicationId,omitempty"`
	// Timeout bounds the ringing, in seconds (default 60, at most 300).
	Timeout int `json:"timeout,omitempty"`
	// Headers are added to the INVITE (X-…, User-to-User, Diversion).
	Headers map[string]string `json:"headers,omitempty"`
}

// PlaceIvrCallResponse names the new session and the device's participant.
type PlaceIvrCallResponse struct {
	SessionID     string `json:"sessionId"`
	ParticipantID string `json:"participantId"`
}

// SplitConnectionRequest is POST /splitconnection.
type SplitConnectionRequest struct {
	ConnectionID string `json:"connectionId"`
	// ReplyID, when given, must be the connection's (from callAnswered).
	ReplyID string `json:"replyId,omitempty"`
}

// ConnectRequest is POST /connect: connect two answered participants of
// one session.
type ConnectRequest struct {
	ParticipantID  string `json:"participantId"`
	ParticipantID2 string `json:"participantId2"`
}

// SessionRequest names a session (/createconferenceconnection,
// /stoprecording).
type SessionRequest struct {
	SessionID string `json:"sessionId"`
}

// ParticipantRequest names a participant (/interruptivrcommand,
// /hangupparticipant).
type ParticipantRequest struct {
	ParticipantID string `json:"participantId"`
}

// ConnectionResponse is /createconferenceconnection's answer.
type ConnectionResponse struct {
	ConnectionID string `json:"connectionId"`
}

// PromptFile is one prompt file or recording.
type PromptFile struct {
	FileName     string    `json:"fileName"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"lastModified,omitzero"`
}

// PromptFileList is GET /promptfile.
type PromptFileList struct {
	PromptFiles []PromptFile `json:"promptFiles"`
}

// maxIotID bounds an id in a request (ids are a UUID and a short suffix).
const maxIotID = 128

func requireID(name, v string) error {
	switch {
	case v == "":
		return badRequest("%s is required", name)
	case len(v) > maxIotID:
		return badRequest("%s is longer than %d bytes", name, maxIotID)
	}
	return nil
}

var errNoIot = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "iotcomms sessions are not available on this server"}

func (h *Handler) iotCalls() (IotCalls, error) {
	ic, ok := h.calls.(IotCalls)
	if !ok || h.calls == nil {
		return nil, errNoIot
	}
	return ic, nil
}

// iotApp picks the application /placeivrcall runs: the one named, which
// must be an iotcomms application, or the tenant's only one.
func (h *Handler) iotApp(tenantID, appID string) (string, error) {
	if appID != "" {
		a, err := h.reg.GetApp(tenantID, appID)
		if err != nil {
			return "", err
		}
		if a.Model != tenant.ModelIotcomms {
			return "", badRequest("application %s has model %q: /placeivrcall needs an iotcomms application", appID, modelOf(a.Model))
		}
		return appID, nil
	}
	apps, err := h.reg.ListApps(tenantID)
	if err != nil {
		return "", err
	}
	var found []string
	for _, a := range apps {
		if a.Model == tenant.ModelIotcomms {
			found = append(found, a.ID)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", badRequest("no iotcomms application: create one with Model \"iotcomms\"")
	}
	return "", badRequest("%d iotcomms applications: name one with applicationId", len(found))
}

func modelOf(m string) string {
	if m == "" {
		return tenant.ModelChime
	}
	return m
}

func (h *Handler) placeIvrCall(w http.ResponseWriter, r *http.Request, p principal) error {
	var req PlaceIvrCallRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("destAddr", req.DestAddr); err != nil {
		return err
	}
	if len(req.FromAddr) > maxIotID {
		return badRequest("fromAddr is longer than %d bytes", maxIotID)
	}
	if req.Timeout < 0 || req.Timeout > 300 {
		return badRequest("timeout %d: want 0..300 seconds", req.Timeout)
	}
	if err := validateHeaders(req.Headers); err != nil {
		return err
	}
	ic, err := h.iotCalls()
	if err != nil {
		return err
	}
	appID, err := h.iotApp(p.tenant, req.ApplicationID)
	if err != nil {
		return err
	}
	res, err := ic.PlaceIvrCall(r.Context(), p.tenant, appID, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handler) splitConnection(w http.ResponseWriter, r *http.Request, p principal) error {
	var req SplitConnectionRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("connectionId", req.ConnectionID); err != nil {
		return err
	}
	return h.iotDo(w, func(ic IotCalls) error {
		return ic.SplitConnection(r.Context(), p.tenant, req.ConnectionID, req.ReplyID)
	})
}

func (h *Handler) connectParticipants(w http.ResponseWriter, r *http.Request, p principal) error {
	var req ConnectRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("participantId", req.ParticipantID); err != nil {
		return err
	}
	if err := requireID("participantId2", req.ParticipantID2); err != nil {
		return err
	}
	return h.iotDo(w, func(ic IotCalls) error {
		return ic.Connect(r.Context(), p.tenant, req.ParticipantID, req.ParticipantID2)
	})
}

func (h *Handler) createConferenceConnection(w http.ResponseWriter, r *http.Request, p principal) error {
	var req SessionRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("sessionId", req.SessionID); err != nil {
		return err
	}
	ic, err := h.iotCalls()
	if err != nil {
		return err
	}
	id, err := ic.CreateConferenceConnection(r.Context(), p.tenant, req.SessionID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ConnectionResponse{ConnectionID: id})
	return nil
}

func (h *Handler) interruptIvrCommand(w http.ResponseWriter, r *http.Request, p principal) error {
	var req ParticipantRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("participantId", req.ParticipantID); err != nil {
		return err
	}
	return h.iotDo(w, func(ic IotCalls) error {
		return ic.InterruptIvrCommand(r.Context(), p.tenant, req.ParticipantID)
	})
}

func (h *Handler) hangupParticipant(w http.ResponseWriter, r *http.Request, p principal) error {
	var req ParticipantRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("participantId", req.ParticipantID); err != nil {
		return err
	}
	return h.iotDo(w, func(ic IotCalls) error {
		return ic.HangupParticipant(r.Context(), p.tenant, req.ParticipantID)
	})
}

func (h *Handler) stopRecording(w http.ResponseWriter, r *http.Request, p principal) error {
	var req SessionRequest
	if err := h.decodeLenient(w, r, &req); err != nil {
		return err
	}
	if err := requireID("sessionId", req.SessionID); err != nil {
		return err
	}
	return h.iotDo(w, func(ic IotCalls) error {
		return ic.StopRecording(r.Context(), p.tenant, req.SessionID)
	})
}

// iotDo runs an operation that answers an empty object.
func (h *Handler) iotDo(w http.ResponseWriter, f func(IotCalls) error) error {
	ic, err := h.iotCalls()
	if err != nil {
		return err
	}
	if err := f(ic); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// Prompt files.

func (h *Handler) promptName(r *http.Request) (string, error) {
	if h.o.store == nil {
		return "", errNoStore
	}
	name := r.PathValue("name")
	if err := store.ValidateKey(name); err != nil {
		return "", err
	}
	return name, nil
}

func (h *Handler) listPromptFiles(w http.ResponseWriter, r *http.Request, p principal) error {
	if h.o.store == nil {
		return errNoStore
	}
	infos, err := h.o.store.List(r.Context(), p.tenant, PromptFileBucket, r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	out := PromptFileList{PromptFiles: make([]PromptFile, 0, len(infos))}
	for _, i := range infos {
		out.PromptFiles = append(out.PromptFiles, PromptFile{FileName: i.Key, Size: i.Size, LastModified: i.ModTime.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getPromptFile(w http.ResponseWriter, r *http.Request, p principal) error {
	name, err := h.promptName(r)
	if err != nil {
		return err
	}
	rc, info, err := h.o.store.Open(r.Context(), p.tenant, PromptFileBucket, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", audioType(name))
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if !info.ModTime.IsZero() {
		w.Header().Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc) // a failure mid-body can only cut the answer short
	return nil
}

func audioType(name string) string {
	switch {
	case len(name) > 4 && name[len(name)-4:] == ".mp3":
		return "audio/mpeg"
	case len(name) > 4 && name[len(name)-4:] == ".wav":
		return "audio/wav"
	}
	return "application/octet-stream"
}

// putPromptFile stores a prompt the server can play: WAV or MP3, checked
// by decoding it before it is stored, so a bad file is refused here
// rather than failing a call later.
func (h *Handler) putPromptFile(w http.ResponseWriter, r *http.Request, p principal) error {
	name, err := h.promptName(r)
	if err != nil {
		return err
	}
	if r.ContentLength > h.o.maxObject {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeResourceLimitExceeded,
			Message: fmt.Sprintf("prompt file of %d bytes is over the limit of %d bytes", r.ContentLength, h.o.maxObject)}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.maxObject))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeResourceLimitExceeded,
				Message: fmt.Sprintf("prompt file over the limit of %d bytes", h.o.maxObject)}
		}
		return err
	}
	pcm, err := media.DecodeAudio(data)
	if err != nil {
		return badRequest("prompt file %s: %v", name, err)
	}
	if len(pcm) == 0 {
		return badRequest("prompt file %s holds no audio", name)
	}
	info, err := h.o.store.Put(r.Context(), p.tenant, PromptFileBucket, name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PromptFile{FileName: info.Key, Size: info.Size, LastModified: info.ModTime.UTC()})
	return nil
}

func (h *Handler) deletePromptFile(w http.ResponseWriter, r *http.Request, p principal) error {
	name, err := h.promptName(r)
	if err != nil {
		return err
	}
	if err := h.o.store.Delete(r.Context(), p.tenant, PromptFileBucket, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
