package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Response is what a handler returns for an event.
//
// Actions: nil means "keep the current actions" (Chime's missing/null
// list); a non-nil pointer to an empty slice means "do nothing". The
// distinction survives decoding and encoding.
//
// TransactionAttributes: nil means "unchanged"; a non-nil pointer replaces
// the call's attributes, and a pointer to an empty map clears them.
type Response struct {
	SchemaVersion         string
	Actions               *[]Action
	TransactionAttributes *map[string]string
}

// NewResponse returns a response with SchemaVersion "1.0" and the given
// actions (an empty, non-nil list when none are given: "do nothing").
func NewResponse(actions ...Action) *Response {
	if actions == nil {
		actions = []Action{}
	}
	return &Response{SchemaVersion: SchemaVersion, Actions: &actions}
}

// ActionList returns the actions, or nil when the list is absent.
func (r *Response) ActionList() []Action {
	if r == nil || r.Actions == nil {
		return nil
	}
	return *r.Actions
}

type responseWire struct {
	SchemaVersion         string             `json:"SchemaVersion,omitempty"`
	Actions               *[]Action          `json:"Actions,omitempty"`
	TransactionAttributes *map[string]string `json:"TransactionAttributes,omitempty"`
}

// MarshalJSON writes "Actions": [] for an empty non-nil list and
// "TransactionAttributes": {} for an empty non-nil map (plain encoding/json
// would write null for a pointer to a nil slice or map, which means
// something else).
func (r Response) MarshalJSON() ([]byte, error) {
	w := responseWire{SchemaVersion: r.SchemaVersion}
	if r.Actions != nil {
		a := *r.Actions
		if a == nil {
			a = []Action{}
		}
		w.Actions = &a
	}
	if r.TransactionAttributes != nil {
		m := *r.TransactionAttributes
		if m == nil {
			m = map[string]string{}
		}
		w.TransactionAttributes = &m
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a response; null and absent are the same (nil).
func (r *Response) UnmarshalJSON(b []byte) error {
	var w responseWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Response(w)
	return nil
}

// Marshal encodes the response as JSON.
func (r *Response) Marshal() ([]byte, error) {
	return json.Marshal(r)
}

// ParseResponse decodes a handler's response strictly: exactly one JSON
// object, nothing but white space after it. SchemaVersion may be absent (it
// is then set to "1.0", because plenty of handlers omit it and there is only
// one version); any other value than "1.0" is rejected. Action parameters
// are kept raw: call ValidateResponse next.
//
// Every error is a *ActionError with Index -1 and Type
// InvalidActionParameter, wrapping ErrMalformedJSON, ErrNotObject,
// ErrTrailingData or ErrSchemaVersion.
func ParseResponse(b []byte) (*Response, error) {
	var r Response
	if err := strictUnmarshal(b, &r); err != nil {
		return nil, err
	}
	switch r.SchemaVersion {
	case "":
		r.SchemaVersion = SchemaVersion
	case SchemaVersion:
	default:
		return nil, &ActionError{
			Type:    InvalidActionParameter,
			Message: fmt.Sprintf("SchemaVersion %q is not supported: must be %q", truncate(r.SchemaVersion, 32), SchemaVersion),
			Index:   -1,
			Err:     ErrSchemaVersion,
		}
	}
	return &r, nil
}

// strictUnmarshal decodes exactly one JSON object into v.
func strictUnmarshal(b []byte, v any) error {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if len(trimmed) > 0 && !json.Valid(b) {
			return envelopeError(ErrMalformedJSON, "invalid JSON")
		}
		return envelopeError(ErrNotObject, "expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return envelopeError(ErrMalformedJSON, jsonMessage(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return envelopeError(ErrTrailingData, "unexpected data after the JSON object")
	}
	return nil
}

func envelopeError(sentinel error, msg string) *ActionError {
	return &ActionError{Type: InvalidActionParameter, Message: msg, Index: -1, Err: sentinel}
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s must be %s, not %s", te.Field, jsonKind(te.Type), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "invalid JSON: unexpected end of input"
	}
	return "invalid JSON: " + err.Error()
}
