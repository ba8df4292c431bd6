package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/wasmvoice/mediaserver/host/api"
)

// The iotcomms SIP Mediaserver operations, the prompt files and the
// tenant's key-value store (host/api/iotcomms.go, kv.go).

// ErrBadKey is returned, before any request, for a key or file name a URL
// path cannot carry unchanged: empty, or with an empty, "." or ".."
// segment (the server's router would clean the path and redirect to
// another key).
var ErrBadKey = errors.New("not usable in a URL path (empty, or an empty, \".\" or \"..\" segment)")

// keyPath escapes each '/'-separated segment of key under prefix, refusing
// keys the router would rewrite. A trailing '/' is kept as it is.
func keyPath(prefix, key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("client: key %q: %w", key, ErrBadKey)
	}
	parts := strings.Split(key, "/")
	for i, p := range parts {
		if (p == "" && i != len(parts)-1) || p == "." || p == ".." {
			return "", fmt.Errorf("client: key %q: %w", key, ErrBadKey)
		}
		parts[i] = seg(p)
	}
	return prefix + strings.Join(parts, "/"), nil
}

// PlaceIvrCall is POST /placeivrcall: it calls req.DestAddr in a new
// session of an iotcomms application, connected to an IVR participant,
// and returns at once while the device rings.
func (c *Client) PlaceIvrCall(ctx context.Context, req api.PlaceIvrCallRequest) (api.PlaceIvrCallResponse, error) {
	var out api.PlaceIvrCallResponse
	err := c.doJSON(ctx, "POST", "/placeivrcall", req, &out)
	return out, err
}

// SplitConnection is POST /splitconnection; replyID may be empty.
func (c *Client) SplitConnection(ctx context.Context, connectionID, replyID string) error {
	return c.doJSON(ctx, "POST", "/splitconnection", api.SplitConnectionRequest{ConnectionID: connectionID, ReplyID: replyID}, nil)
}

// Connect is POST /connect: it connects two answered participants of one
// session.
func (c *Client) Connect(ctx context.Context, participantID, participantID2 string) error {
	return c.doJSON(ctx, "POST", "/connect", api.ConnectRequest{ParticipantID: participantID, ParticipantID2: participantID2}, nil)
}

// CreateConferenceConnection is POST /createconferenceconnection; it
// returns the new connection's id.
func (c *Client) CreateConferenceConnection(ctx context.Context, sessionID string) (string, error) {
	var out api.ConnectionResponse
	err := c.doJSON(ctx, "POST", "/createconferenceconnection", api.SessionRequest{SessionID: sessionID}, &out)
	return out.ConnectionID, err
}

// InterruptIvrCommand is POST /interruptivrcommand.
func (c *Client) InterruptIvrCommand(ctx context.Context, participantID string) error {
	return c.doJSON(ctx, "POST", "/interruptivrcommand", api.ParticipantRequest{ParticipantID: participantID}, nil)
}

// HangupParticipant is POST /hangupparticipant.
func (c *Client) HangupParticipant(ctx context.Context, participantID string) error {
	return c.doJSON(ctx, "POST", "/hangupparticipant", api.ParticipantRequest{ParticipantID: participantID}, nil)
}

// StopRecording is POST /stoprecording.
func (c *Client) StopRecording(ctx context.Context, sessionID string) error {
	return c.doJSON(ctx, "POST", "/stoprecording", api.SessionRequest{SessionID: sessionID}, nil)
}

// PutPromptFile uploads r as prompt file name; the server refuses audio
// it cannot decode (WAV or MP3).
func (c *Client) PutPromptFile(ctx context.Context, name string, r io.Reader) (api.PromptFile, error) {
	var out api.PromptFile
	p, err := keyPath("/promptfile/", name)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, "PUT", p, nil, r, "application/octet-stream", &out)
	return out, err
}

// GetPromptFile copies a prompt file or a finished recording into w.
func (c *Client) GetPromptFile(ctx context.Context, name string, w io.Writer) error {
	p, err := keyPath("/promptfile/", name)
	if err != nil {
		return err
	}
	return c.do(ctx, "GET", p, nil, nil, "", w)
}

// ListPromptFiles lists the prompt files and recordings whose name starts
// with prefix.
func (c *Client) ListPromptFiles(ctx context.Context, prefix string) ([]api.PromptFile, error) {
	var q url.Values
	if prefix != "" {
		q = url.Values{"prefix": {prefix}}
	}
	var out api.PromptFileList
	err := c.do(ctx, "GET", "/promptfile", q, nil, "", &out)
	return out.PromptFiles, err
}

// DeletePromptFile deletes a prompt file or recording.
func (c *Client) DeletePromptFile(ctx context.Context, name string) error {
	p, err := keyPath("/promptfile/", name)
	if err != nil {
		return err
	}
	return c.do(ctx, "DELETE", p, nil, nil, "", nil)
}

// GetKV reads a key of the tenant's key-value store.
func (c *Client) GetKV(ctx context.Context, key string) ([]byte, error) {
	p, err := keyPath("/kv/", key)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.do(ctx, "GET", p, nil, nil, "", &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PutKV sets a key of the tenant's key-value store.
func (c *Client) PutKV(ctx context.Context, key string, val []byte) error {
	p, err := keyPath("/kv/", key)
	if err != nil {
		return err
	}
	return c.do(ctx, "PUT", p, nil, bytes.NewReader(val), "application/octet-stream", nil)
}

// DeleteKV deletes a key of the tenant's key-value store.
func (c *Client) DeleteKV(ctx context.Context, key string) error {
	p, err := keyPath("/kv/", key)
	if err != nil {
		return err
	}
	return c.do(ctx, "DELETE", p, nil, nil, "", nil)
}

// ListKVPage returns one page of the keys starting with prefix, after
// nextToken ("" for the first page); maxResults 0 takes the server's
// page size.
func (c *Client) ListKVPage(ctx context.Context, prefix, nextToken string, maxResults int) (api.KVList, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if nextToken != "" {
		q.Set("next-token", nextToken)
	}
	if maxResults > 0 {
		q.Set("max-results", strconv.Itoa(maxResults))
	}
	var out api.KVList
	err := c.do(ctx, "GET", "/kv", q, nil, "", &out)
	return out, err
}

// ListKV lists every key starting with prefix, following the pages.
func (c *Client) ListKV(ctx context.Context, prefix string) ([]api.KVEntry, error) {
	all := []api.KVEntry{}
	token := ""
	for {
		page, err := c.ListKVPage(ctx, prefix, token, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Entries...)
		if page.NextToken == "" {
			return all, nil
		}
		if page.NextToken == token || len(page.Entries) == 0 {
			// A server repeating itself would loop forever.
			return nil, fmt.Errorf("client: GET /kv: next-token %q makes no progress", page.NextToken)
		}
		token = page.NextToken
	}
}
