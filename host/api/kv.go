package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/wasmvoice/mediaserver/host/kv"
)

// The tenant's key-value store, the one its plugins use (kv_get, kv_set):
// so the tenant's own systems can read what its plugins keep (an iotcomms
// controller reads the connection ids a plugin stored before calling
// /splitconnection) and seed what they read.

// KV is the store behind the /kv routes (a *kv.Store).
type KV interface {
	Get(tenant, key string) (val []byte, ok bool, err error)
	Set(tenant, key string, val []byte) error
	Delete(tenant, key string) (existed bool, err error)
	List(tenant, prefix, after string, limit int) (entries []kv.Entry, more bool, err error)
	MaxValueBytes() int
}

// WithKV serves the tenants' key-value store under /kv. Without it those
// routes answer ServiceUnavailable.
func WithKV(s KV) Option { return func(o *options) { o.kv = s } }

// KVEntry is one key of GET /kv.
type KVEntry struct {
	Key  string `json:"Key"`
	Size int    `json:"Size"`
}

// KVList is GET /kv: keys in order, NextToken set when more follow.
type KVList struct {
	Entries   []KVEntry `json:"Entries"`
	NextToken string    `json:"NextToken,omitempty"`
}

var errNoKV = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "the key-value store is not available on this server"}

// kvError maps the store's errors: its limits are the client's mistakes.
func kvError(err error) error {
	switch {
	case errors.Is(err, kv.ErrEmptyKey), errors.Is(err, kv.ErrKeyTooLarge), errors.Is(err, kv.ErrValueTooLarge):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, kv.ErrQuotaExceeded):
		return fmt.Errorf("%w: %w", ErrLimitExceeded, err)
	}
	return err
}

func (h *Handler) listKV(w http.ResponseWriter, r *http.Request, p principal) error {
	if h.o.kv == nil {
		return errNoKV
	}
	q := r.URL.Query()
	limit := 1000
	if s := q.Get("max-results"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("max-results %q: want 1..1000", s)
		}
		limit = n
	}
	entries, more, err := h.o.kv.List(p.tenant, q.Get("prefix"), q.Get("next-token"), limit)
	if err != nil {
		return kvError(err)
	}
	out := KVList{Entries: make([]KVEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, KVEntry{Key: e.Key, Size: e.Size})
	}
	if more && len(entries) > 0 {
		out.NextToken = entries[len(entries)-1].Key
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getKV(w http.ResponseWriter, r *http.Request, p principal) error {
	if h.o.kv == nil {
		return errNoKV
	}
	key := r.PathValue("key")
	val, ok, err := h.o.kv.Get(p.tenant, key)
	if err != nil {
		return kvError(err)
	}
	if !ok {
		return notFound("key %q not found", key)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(val)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(val)
	return nil
}

func (h *Handler) putKV(w http.ResponseWriter, r *http.Request, p principal) error {
	if h.o.kv == nil {
		return errNoKV
	}
	max := h.o.kv.MaxValueBytes()
	val, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(max)))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest,
				Message: fmt.Sprintf("value larger than the limit of %d bytes", max)}
		}
		return err
	}
	if err := h.o.kv.Set(p.tenant, r.PathValue("key"), val); err != nil {
		return kvError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteKV(w http.ResponseWriter, r *http.Request, p principal) error {
	if h.o.kv == nil {
		return errNoKV
	}
	key := r.PathValue("key")
	existed, err := h.o.kv.Delete(p.tenant, key)
	if err != nil {
		return kvError(err)
	}
	if !existed {
		return notFound("key %q not found", key)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
