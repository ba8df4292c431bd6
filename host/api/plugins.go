package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

var errNoPlugins = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "plugins are not available on this server"}

func pluginJSON(v tenant.Version) Plugin {
	return Plugin{Sha256: v.SHA256, Size: v.Size, CreatedTimestamp: v.Created}
}

// DefaultUploadSlots is how many uploaded modules are checked at once by
// default (WithUploadSlots).
const DefaultUploadSlots = 2

// defaultUploadWait bounds the wait for an upload slot; uploadRetry is the
// Retry-After of an upload that found none.
const (
	defaultUploadWait = 10 * time.Second
	uploadRetry       = 5 * time.Second
)

// WithUploadDir sets where plugin uploads are streamed while they arrive
// (default: the system's temporary directory); it is created if missing.
func WithUploadDir(dir string) Option { return func(o *options) { o.uploadDir = dir } }

// WithUploadSlots bounds the uploaded modules checked at once (default
// DefaultUploadSlots): each is held in memory, at most the module size
// limit, while Plugins.Check compiles and starts it. An upload that finds
// no slot within 10 s is refused with 503 and a Retry-After.
func WithUploadSlots(n int) Option { return func(o *options) { o.uploadSlots = n } }

// withUploadWait sets the wait for an upload slot (tests).
func withUploadWait(d time.Duration) Option { return func(o *options) { o.uploadWait = d } }

// uploadPlugin stores a module: streamed to a temporary file under the
// size cap (the tenant's MaxModuleBytes quota), so an upload in progress
// holds no memory however slow it is; then, in one of the upload slots,
// read back, checked by Plugins.Check (validate, compile and start, so a
// broken module is refused here and not at the first call), and stored
// in the registry. 201 for a new version, 200 when the same bytes were
// stored already.
func (h *Handler) uploadPlugin(w http.ResponseWriter, r *http.Request, p principal) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/wasm" && mt != "application/octet-stream") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: fmt.Sprintf("Content-Type %q: send the module's bytes as application/wasm", r.Header.Get("Content-Type"))}
	}
	if h.plugins == nil {
		return errNoPlugins
	}
	limit := h.o.maxModule
	if q, ok := h.reg.Quotas(p.tenant); ok && q.MaxModuleBytes > 0 {
		limit = q.MaxModuleBytes
	}
	tooBig := func(n string) error {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeResourceLimitExceeded,
			Message: fmt.Sprintf("module of %s bytes is over the limit of %d bytes", n, limit)}
	}
	if r.ContentLength > limit {
		return tooBig(strconv.FormatInt(r.ContentLength, 10))
	}
	if err := os.MkdirAll(h.o.uploadDir, 0o700); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	f, err := os.CreateTemp(h.o.uploadDir, "upload-*.wasm")
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	n, err := io.Copy(f, http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooBig("more than " + strconv.FormatInt(limit, 10))
		}
		return err
	}
	if n == 0 {
		return badRequest("empty body: send the module's bytes")
	}
	release, err := h.uploadSlot(r)
	if err != nil {
		return err
	}
	defer release()
	wasm := make([]byte, n)
	if _, err := f.ReadAt(wasm, 0); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	info, err := h.plugins.Check(r.Context(), p.tenant, wasm)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(wasm)
	status := http.StatusCreated
	if _, err := h.reg.GetPlugin(p.tenant, hex.EncodeToString(sum[:])); err == nil {
		status = http.StatusOK
	}
	v, err := h.reg.PutPlugin(r.Context(), p.tenant, wasm)
	if err != nil {
		return err
	}
	out := pluginJSON(v)
	out.Info = &info
	writeJSON(w, status, PluginResponse{out})
	return nil
}

// uploadSlot waits for an upload slot, at most the upload wait.
func (h *Handler) uploadSlot(r *http.Request) (release func(), err error) {
	release = func() { <-h.uploads }
	select {
	case h.uploads <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(h.o.uploadWait)
	defer t.Stop()
	select {
	case h.uploads <- struct{}{}:
		return release, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	case <-t.C:
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, RetryAfter: uploadRetry,
			Message: fmt.Sprintf("the server is checking %d other plugin uploads; retry in a few seconds", cap(h.uploads))}
	}
}

func (h *Handler) listPlugins(w http.ResponseWriter, _ *http.Request, p principal) error {
	vs, err := h.reg.ListPlugins(p.tenant)
	if err != nil {
		return err
	}
	out := PluginList{Plugins: make([]Plugin, 0, len(vs))}
	for _, v := range vs {
		out.Plugins = append(out.Plugins, pluginJSON(v))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) deletePlugin(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := h.reg.DeletePlugin(r.Context(), p.tenant, r.PathValue("sha")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) assignPlugin(w http.ResponseWriter, r *http.Request, p principal) error {
	var req AssignPluginRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := h.reg.AssignPlugin(p.tenant, id, req.Sha256); err != nil {
		return err
	}
	return h.writeApp(w, p, id)
}

func (h *Handler) rollback(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("id")
	if _, err := h.reg.Rollback(p.tenant, id); err != nil {
		return err
	}
	return h.writeApp(w, p, id)
}

func (h *Handler) writeApp(w http.ResponseWriter, p principal, id string) error {
	a, err := h.reg.GetApp(p.tenant, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AppResponse{h.appJSON(a)})
	return nil
}

func (h *Handler) logs(w http.ResponseWriter, r *http.Request, p principal) error {
	n := DefaultLogLines
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > MaxLogLines {
			return badRequest("n %q: want a whole number from 1 to %d", s, MaxLogLines)
		}
		n = v
	}
	id := r.PathValue("id")
	if _, err := h.reg.GetApp(p.tenant, id); err != nil {
		return err
	}
	if h.plugins == nil {
		return errNoPlugins
	}
	lines := h.plugins.Logs(p.tenant, id, n)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if lines == nil {
		lines = []LogLine{}
	}
	writeJSON(w, http.StatusOK, LogList{Logs: lines})
	return nil
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("id")
	if _, err := h.reg.GetApp(p.tenant, id); err != nil {
		return err
	}
	if h.plugins == nil {
		return errNoPlugins
	}
	writeJSON(w, http.StatusOK, StatsResponse{h.plugins.Stats(p.tenant, id)})
	return nil
}
