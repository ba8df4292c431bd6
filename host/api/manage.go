package api

import (
	"net/http"
	"time"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

func numberJSON(n tenant.Number) PhoneNumber {
	return PhoneNumber{E164PhoneNumber: n.Number, SipMediaApplicationID: n.App, CreatedTimestamp: n.Created}
}

func (h *Handler) listNumbers(w http.ResponseWriter, _ *http.Request, p principal) error {
	ns, err := h.reg.ListNumbers(p.tenant)
	if err != nil {
		return err
	}
	out := NumberList{PhoneNumbers: make([]PhoneNumber, 0, len(ns))}
	for _, n := range ns {
		out.PhoneNumbers = append(out.PhoneNumbers, numberJSON(n))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) addNumber(w http.ResponseWriter, r *http.Request, p principal) error {
	var req AddNumberRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := validateNumber("E164PhoneNumber", req.E164PhoneNumber); err != nil {
		return err
	}
	n, err := h.reg.AddNumber(p.tenant, req.E164PhoneNumber)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NumberResponse{numberJSON(n)})
	return nil
}

func (h *Handler) removeNumber(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := h.reg.RemoveNumber(p.tenant, r.PathValue("number")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) setRule(w http.ResponseWriter, r *http.Request, p principal) error {
	var req SetRuleRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	number := r.PathValue("number")
	if err := h.reg.SetRule(p.tenant, number, req.SipMediaApplicationID); err != nil {
		return err
	}
	n, err := h.reg.GetNumber(p.tenant, number)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, NumberResponse{numberJSON(n)})
	return nil
}

func keyJSON(k tenant.Key) Key {
	return Key{KeyID: k.ID, TenantID: k.Tenant, Name: k.Name, Admin: k.Admin, CreatedTimestamp: k.Created, LastUsed: k.LastUsed}
}

// listKeys lists the keys of the tenant the request acts for; an admin key
// without X-Tenant-Id lists the admin keys.
func (h *Handler) listKeys(w http.ResponseWriter, _ *http.Request, p principal) error {
	ks, err := h.reg.ListKeys(p.tenant)
	if err != nil {
		return err
	}
	out := KeyList{Keys: make([]Key, 0, len(ks))}
	for _, k := range ks {
		out.Keys = append(out.Keys, keyJSON(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createKey makes a key for the tenant the request acts for; an admin key
// without X-Tenant-Id makes another admin key.
func (h *Handler) createKey(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateKeyRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	var (
		secret string
		k      tenant.Key
		err    error
	)
	if p.tenant == "" {
		secret, k, err = h.reg.CreateAdminKey(req.Name)
	} else {
		secret, k, err = h.reg.CreateKey(p.tenant, req.Name)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreateKeyResponse{Key: keyJSON(k), Secret: secret})
	return nil
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := h.reg.RevokeKey(p.tenant, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func tenantJSON(t tenant.Tenant) Tenant {
	q := t.Quotas
	return Tenant{TenantID: t.ID, Name: t.Name, CreatedTimestamp: t.Created, Quotas: Quotas{
		MaxConcurrentCalls: q.MaxConcurrentCalls, MaxCallsPerSecond: q.MaxCallsPerSecond,
		PluginMemoryMiB: q.PluginMemoryMiB, EventDeadlineMs: q.EventDeadline.Milliseconds(),
		MaxModuleBytes: q.MaxModuleBytes, MaxStorageBytes: q.MaxStorageBytes,
		MaxKVBytes: q.MaxKVBytes, MaxApps: q.MaxApps, MaxPluginVersions: q.MaxPluginVersions,
	}, DialPolicy: dialJSON(t.Dial)}
}

func dialJSON(d *tenant.DialPolicy) *DialPolicy {
	if d == nil {
		return nil
	}
	return &DialPolicy{AllowedHosts: d.AllowedHosts, AllowedPrefixes: d.AllowedPrefixes}
}

func dialOf(d *DialPolicy) *tenant.DialPolicy {
	if d == nil {
		return nil
	}
	return &tenant.DialPolicy{AllowedHosts: d.AllowedHosts, AllowedPrefixes: d.AllowedPrefixes}
}

// setDialPolicy is PUT /tenants/{id}/dial-policy: the tenant's own dial
// policy replaces the server's default.
func (h *Handler) setDialPolicy(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req DialPolicy
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := h.reg.SetDialPolicy(r.PathValue("id"), dialOf(&req))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, TenantResponse{tenantJSON(t)})
	return nil
}

// deleteDialPolicy returns the tenant to the server's default policy.
func (h *Handler) deleteDialPolicy(w http.ResponseWriter, r *http.Request, _ principal) error {
	if _, err := h.reg.SetDialPolicy(r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listTenants(w http.ResponseWriter, _ *http.Request, _ principal) error {
	ts, err := h.reg.ListTenants()
	if err != nil {
		return err
	}
	out := TenantList{Tenants: make([]Tenant, 0, len(ts))}
	for _, t := range ts {
		out.Tenants = append(out.Tenants, tenantJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createTenant(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req CreateTenantRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	q := req.Quotas
	// Larger values would overflow time.Duration; a day is far past any use.
	const maxMs = int64(24 * time.Hour / time.Millisecond)
	if q.EventDeadlineMs > maxMs {
		return badRequest("Quotas.EventDeadlineMs %d is over the limit of %d", q.EventDeadlineMs, maxMs)
	}
	if err := dialOf(req.DialPolicy).Validate(); err != nil {
		return err // before the tenant exists: a bad policy creates nothing
	}
	t, err := h.reg.CreateTenant(req.TenantID, req.Name, tenant.Quotas{
		MaxConcurrentCalls: q.MaxConcurrentCalls, MaxCallsPerSecond: q.MaxCallsPerSecond,
		PluginMemoryMiB: q.PluginMemoryMiB, EventDeadline: time.Duration(q.EventDeadlineMs) * time.Millisecond,
		MaxModuleBytes: q.MaxModuleBytes, MaxStorageBytes: q.MaxStorageBytes,
		MaxKVBytes: q.MaxKVBytes, MaxApps: q.MaxApps, MaxPluginVersions: q.MaxPluginVersions,
	})
	if err != nil {
		return err
	}
	if req.DialPolicy != nil {
		if t, err = h.reg.SetDialPolicy(t.ID, dialOf(req.DialPolicy)); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, TenantResponse{tenantJSON(t)})
	return nil
}

func (h *Handler) createTenantKey(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req CreateKeyRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	secret, k, err := h.reg.CreateKey(r.PathValue("id"), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreateKeyResponse{Key: keyJSON(k), Secret: secret})
	return nil
}
