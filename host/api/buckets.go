package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

var errNoStore = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "bucket objects are not available on this server"}

// bucketOf validates the {bucket} of a request. The registry's plugin
// bucket is refused: plugin versions change only through /plugins, where
// they are checked and recorded.
func (h *Handler) bucketOf(r *http.Request) (string, error) {
	if h.o.store == nil {
		return "", errNoStore
	}
	b := r.PathValue("bucket")
	if err := store.ValidateBucket(b); err != nil {
		return "", err
	}
	if b == tenant.PluginBucket {
		return "", &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: fmt.Sprintf("bucket %q is reserved for plugin versions: use /plugins", b)}
	}
	return b, nil
}

func objectJSON(i store.Info) Object {
	return Object{Bucket: i.Bucket, Key: i.Key, Size: i.Size, LastModified: i.ModTime}
}

func (h *Handler) listObjects(w http.ResponseWriter, r *http.Request, p principal) error {
	b, err := h.bucketOf(r)
	if err != nil {
		return err
	}
	infos, err := h.o.store.List(r.Context(), p.tenant, b, r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	out := ObjectList{Objects: make([]Object, 0, len(infos))}
	for _, i := range infos {
		out.Objects = append(out.Objects, objectJSON(i))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getObject(w http.ResponseWriter, r *http.Request, p principal) error {
	b, err := h.bucketOf(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	rc, info, err := h.o.store.Open(r.Context(), p.tenant, b, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if !info.ModTime.IsZero() {
		w.Header().Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc) // a failure mid-body can only cut the answer short
	return nil
}

func (h *Handler) putObject(w http.ResponseWriter, r *http.Request, p principal) error {
	b, err := h.bucketOf(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	if r.ContentLength > h.o.maxObject {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeResourceLimitExceeded,
			Message: fmt.Sprintf("object of %d bytes is over the limit of %d bytes", r.ContentLength, h.o.maxObject)}
	}
	info, err := h.o.store.Put(r.Context(), p.tenant, b, key, http.MaxBytesReader(w, r.Body, h.o.maxObject))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeResourceLimitExceeded,
				Message: fmt.Sprintf("object over the limit of %d bytes", h.o.maxObject)}
		}
		return err
	}
	writeJSON(w, http.StatusOK, ObjectResponse{objectJSON(info)})
	return nil
}

func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request, p principal) error {
	b, err := h.bucketOf(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	if err := h.o.store.Delete(r.Context(), p.tenant, b, key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
