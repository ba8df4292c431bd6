package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// decodeJSON reads one JSON object into v, strictly: a body over the cap,
// an unknown field, a wrong type, malformed JSON or anything after the
// object is a BadRequest that says exactly which.
func (h *Handler) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return h.decodeBody(w, r, v, true)
}

// decodeLenient is decodeJSON that ignores members v does not have: the
// iotcomms routes, whose clients may send members of iotcomms' own API
// that mean nothing here.
func (h *Handler) decodeLenient(w http.ResponseWriter, r *http.Request, v any) error {
	return h.decodeBody(w, r, v, false)
}

func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request, v any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/x-amz-json-1.1") {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
				Message: fmt.Sprintf("Content-Type %q: want application/json", ct)}
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.o.maxBody)
	return decodeObject(r.Body, v, strict)
}

// decodeStrict is decodeJSON's parser, separate so it can be fuzzed. The
// body must be an object: encoding/json would take `null` for an empty
// request and create, say, an application with every field left out.
func decodeStrict(body io.Reader, v any) error { return decodeObject(body, v, true) }

// decodeObject reads one JSON object into v; strict refuses members v
// does not have.
func decodeObject(body io.Reader, v any, strict bool) error {
	br := bufio.NewReader(body)
	for {
		c, err := br.ReadByte()
		if err != nil {
			return jsonError(err)
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		_ = br.UnreadByte()
		if c != '{' {
			return badRequest("body: want a JSON object, got %s", jsonValueKind(c))
		}
		break
	}
	dec := json.NewDecoder(br)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		var e *Error
		if errors.As(err, &mbe) || errors.As(err, &e) {
			return err
		}
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
		e   *Error
	)
	switch {
	case errors.As(err, &mbe), errors.As(err, &e):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("truncated JSON body")
	case errors.As(err, &syn):
		return badRequest("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("body: want a JSON object, got %s", typ.Value)
		}
		return badRequest("field %s: want %s, got %s", typ.Field, jsonType(typ.Type.Kind().String()), typ.Value)
	}
	// encoding/json reports an unknown field only by its text:
	// `json: unknown field "Foo"`.
	const prefix = "json: unknown field "
	if msg := err.Error(); len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return badRequest("unknown field %s", msg[len(prefix):])
	}
	return badRequest("invalid JSON: %v", err)
}

// jsonValueKind names the JSON value that starts with c.
func jsonValueKind(c byte) string {
	switch {
	case c == 'n':
		return "null"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == '-' || c >= '0' && c <= '9':
		return "number"
	}
	return fmt.Sprintf("%q", c)
}

func jsonType(kind string) string {
	switch kind {
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}
