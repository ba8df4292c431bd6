package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

var errNoPlugins = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "plugins are not available on this server"}

func pluginJSON(v tenant.Version) Plugin {
	return Plugin{Sha256: v.SHA256, Size: v.Size, CreatedTimestamp: v.Created}
}

// uploadPlugin stores a module: size cap (the tenant's MaxModuleBytes
// quota), Plugins.Check (validate and compile, so a broken module is
// refused here and not at the first call), then the registry. 201 for a
// new version, 200 when the same bytes were stored already.
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
	wasm, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooBig("more than " + strconv.FormatInt(limit, 10))
		}
		return err
	}
	if len(wasm) == 0 {
		return badRequest("empty body: send the module's bytes")
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
