package api

import (
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
)

var errNoCalls = &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "calls are not available on this server"}

// createCall is Chime's CreateSipMediaApplicationCall. It answers 201
// Created as the API reference does (the developer guide's 202 is about
// UpdateSipMediaApplicationCall).
func (h *Handler) createCall(w http.ResponseWriter, r *http.Request, p principal) error {
	appID := r.PathValue("id")
	var req CreateCallRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := validateCreate(req); err != nil {
		return err
	}
	if _, err := h.reg.GetApp(p.tenant, appID); err != nil {
		return err
	}
	if h.o.callerIDCheck {
		if _, err := h.reg.GetNumber(p.tenant, req.FromPhoneNumber); err != nil {
			return badRequest("FromPhoneNumber %q is not one of your phone numbers", req.FromPhoneNumber)
		}
	}
	if h.calls == nil {
		return errNoCalls
	}
	txID, err := h.calls.CreateCall(r.Context(), p.tenant, appID, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CallResponse{SipMediaApplicationCall{TransactionID: txID}})
	return nil
}

// updateCall is Chime's UpdateSipMediaApplicationCall: 202 Accepted, the
// plugin runs asynchronously.
func (h *Handler) updateCall(w http.ResponseWriter, r *http.Request, p principal) error {
	appID, txID := r.PathValue("id"), r.PathValue("transactionId")
	var req UpdateCallRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := validateArgs("Arguments", req.Arguments); err != nil {
		return err
	}
	if req.Arguments == nil {
		req.Arguments = map[string]string{}
	}
	if _, err := h.reg.GetApp(p.tenant, appID); err != nil {
		return err
	}
	if h.calls == nil {
		return errNoCalls
	}
	if err := h.calls.UpdateCall(r.Context(), p.tenant, appID, txID, req.Arguments); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, CallResponse{SipMediaApplicationCall{TransactionID: txID}})
	return nil
}

func (h *Handler) listCalls(w http.ResponseWriter, _ *http.Request, p principal) error {
	out := CallList{Calls: []Call{}}
	if h.calls != nil {
		for _, c := range h.calls.ListCalls(p.tenant) {
			// Belt and braces: never show another tenant's call, whatever
			// the implementation returns.
			if p.tenant == "" || c.TenantID == p.tenant {
				out.Calls = append(out.Calls, c)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// hangupCall ends a call, also one still ringing (which Chime cannot).
// 202: the BYE or CANCEL goes out asynchronously.
func (h *Handler) hangupCall(w http.ResponseWriter, r *http.Request, p principal) error {
	txID := r.PathValue("transactionId")
	if h.calls == nil {
		return errNoCalls
	}
	if err := h.calls.HangupCall(r.Context(), p.tenant, txID); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, CallResponse{SipMediaApplicationCall{TransactionID: txID}})
	return nil
}

func validateCreate(req CreateCallRequest) error {
	if err := validateNumber("FromPhoneNumber", req.FromPhoneNumber); err != nil {
		return err
	}
	if err := validateNumber("ToPhoneNumber", req.ToPhoneNumber); err != nil {
		return err
	}
	if err := validateHeaders(req.SipHeaders); err != nil {
		return err
	}
	return validateArgs("ArgumentsMap", req.ArgumentsMap)
}

func validateNumber(field, n string) error {
	if n == "" {
		return badRequest("%s is required", field)
	}
	if !config.ValidE164(n) {
		return badRequest("%s %q is not an E.164 number like +15550100", field, n)
	}
	return nil
}

func validateArgs(field string, m map[string]string) error {
	if len(m) > MaxArguments {
		return badRequest("%s has %d entries, at most %d are allowed", field, len(m), MaxArguments)
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch {
		case k == "":
			return badRequest("%s has an empty key", field)
		case len(k) > MaxArgKeyBytes:
			return badRequest("%s key %.32q… is %d bytes, at most %d are allowed", field, k, len(k), MaxArgKeyBytes)
		case len(v) > MaxArgValueBytes:
			return badRequest("%s[%q] is %d bytes, at most %d are allowed", field, k, len(v), MaxArgValueBytes)
		}
	}
	return nil
}

func validateHeaders(m map[string]string) error {
	if len(m) > MaxSipHeaders {
		return badRequest("SipHeaders has %d entries, at most %d are allowed", len(m), MaxSipHeaders)
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		if !abi.IsSIPToken(k) {
			return badRequest("SipHeaders: %q is not a valid SIP header name", k)
		}
		if !abi.PassedSipHeader(k) {
			return badRequest("SipHeaders: header %q is not allowed: only X-… headers, User-to-User and Diversion", k)
		}
		if len(v) > MaxHeaderValueLen {
			return badRequest("SipHeaders[%q] is %d bytes, at most %d are allowed", k, len(v), MaxHeaderValueLen)
		}
		if !utf8.ValidString(v) || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 && c != '\t' || c == 0x7f }) {
			// A CR or LF would let the value inject headers into the INVITE.
			return badRequest("SipHeaders[%q] holds a control character", k)
		}
	}
	return nil
}

// sortedKeys makes validation report the same entry every time.
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
