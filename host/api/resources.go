package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

// Chime SDK Voice's SIP media application and SIP rule APIs, on Chime's
// paths and with Chime's JSON and pagination, over the registry.

// Pagination of the list routes, as in Chime: max-results 1-100 (default
// 100) and an opaque next-token.
const (
	MaxResults     = 100
	nextTokenParam = "next-token"
	maxResultsParm = "max-results"
)

// lambdaArn is the form of an endpoint that names a plugin version: a
// Lambda function ARN whose qualifier (version) is the version's SHA-256.
// Partition, region, account and function name are not used.
var lambdaArn = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]*:[^:]*:function:[a-zA-Z0-9-_]+:([0-9a-f]{64})$`)

// endpoint is what an application's one endpoint names.
type endpoint struct {
	plugin  string // a plugin version's SHA-256
	webhook string // an http(s) URL
}

// ParseLambdaArn reads an endpoint's LambdaArn, in one of two forms:
//
//	arn:aws:lambda:REGION:ACCOUNT:function:NAME:SHA256   a plugin version (uploaded with POST /plugins)
//	https://host/path (or http://)                       a webhook
//
// and returns the plugin version's SHA-256 or the webhook URL.
func ParseLambdaArn(arn string) (sha, webhook string, err error) {
	if m := lambdaArn.FindStringSubmatch(arn); m != nil {
		return m[1], "", nil
	}
	if u, ok := cutScheme(arn); ok && u != "" {
		return "", arn, nil
	}
	return "", "", fmt.Errorf("%w: LambdaArn %q: want arn:aws:lambda:REGION:ACCOUNT:function:NAME:SHA256 "+
		"naming an uploaded plugin version by its SHA-256, or an http(s) webhook URL", ErrInvalid, arn)
}

func cutScheme(s string) (string, bool) {
	for _, p := range []string{"https://", "http://"} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):], true
		}
	}
	return "", false
}

func parseEndpoints(eps []SipMediaApplicationEndpoint) (endpoint, error) {
	if len(eps) != 1 {
		return endpoint{}, badRequest("Endpoints has %d entries: want exactly one", len(eps))
	}
	sha, hook, err := ParseLambdaArn(eps[0].LambdaArn)
	return endpoint{plugin: sha, webhook: hook}, err
}

func (h *Handler) appJSON(a tenant.Application) SipMediaApplication {
	region := a.Region
	if region == "" {
		region = h.o.region
	}
	out := SipMediaApplication{
		SipMediaApplicationID: a.ID, AwsRegion: region, Name: a.Name, Endpoints: []SipMediaApplicationEndpoint{},
		Webhook: a.Webhook, Plugin: a.Plugin, PluginHistory: a.History, Model: a.Model, CreatedTimestamp: a.Created, UpdatedTimestamp: a.Updated,
	}
	if out.Model == "" {
		out.Model = tenant.ModelChime
	}
	switch {
	case a.Plugin != "":
		out.Endpoints = append(out.Endpoints, SipMediaApplicationEndpoint{
			LambdaArn: "arn:aws:lambda:" + region + ":" + a.Tenant + ":function:plugin:" + a.Plugin})
	case a.Webhook != "":
		out.Endpoints = append(out.Endpoints, SipMediaApplicationEndpoint{LambdaArn: a.Webhook})
	}
	return out
}

// page cuts one page out of items (sorted by id) after the request's
// next-token, and returns the token of the following page ("" at the end).
func page[T any](r *http.Request, items []T, id func(T) string) ([]T, string, error) {
	q := r.URL.Query()
	max := MaxResults
	if v := q.Get(maxResultsParm); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxResults {
			return nil, "", badRequest("%s %q: want 1 to %d", maxResultsParm, v, MaxResults)
		}
		max = n
	}
	start := 0
	if tok := q.Get(nextTokenParam); tok != "" {
		after, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(after) == 0 {
			return nil, "", badRequest("%s %q is not a token this server gave", nextTokenParam, tok)
		}
		for start < len(items) && id(items[start]) <= string(after) {
			start++
		}
	}
	items = items[start:]
	if len(items) <= max {
		return items, "", nil
	}
	return items[:max], base64.RawURLEncoding.EncodeToString([]byte(id(items[max-1]))), nil
}

func (h *Handler) listApps(w http.ResponseWriter, r *http.Request, p principal) error {
	apps, err := h.reg.ListApps(p.tenant)
	if err != nil {
		return err
	}
	apps, next, err := page(r, apps, func(a tenant.Application) string { return a.ID })
	if err != nil {
		return err
	}
	out := AppList{SipMediaApplications: make([]SipMediaApplication, 0, len(apps)), NextToken: next}
	for _, a := range apps {
		out.SipMediaApplications = append(out.SipMediaApplications, h.appJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createApp(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateAppRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Tags) > 0 {
		return badRequest("Tags: this server stores no tags; leave them out")
	}
	spec := tenant.AppSpec{ID: req.SipMediaApplicationID, Name: req.Name, Region: req.AwsRegion, Webhook: req.Webhook, Model: req.Model}
	if req.Endpoints != nil {
		if req.Webhook != "" {
			return badRequest("give Endpoints or Webhook, not both")
		}
		ep, err := parseEndpoints(req.Endpoints)
		if err != nil {
			return err
		}
		spec.Plugin, spec.Webhook = ep.plugin, ep.webhook
	}
	if spec.ID == "" {
		spec.ID = h.o.newID()
	}
	if err := h.checkWebhook(spec.Webhook); err != nil {
		return err
	}
	a, err := h.reg.NewApp(p.tenant, spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, AppResponse{h.appJSON(a)})
	return nil
}

// checkWebhook applies WithURLCheck to a webhook URL (the registry
// checks the scheme).
func (h *Handler) checkWebhook(url string) error {
	if url == "" || h.o.checkURL == nil || !strings.HasPrefix(url, "http") {
		return nil
	}
	if err := h.o.checkURL(url); err != nil {
		return badRequest("webhook %q: %v", url, err)
	}
	return nil
}

func (h *Handler) getApp(w http.ResponseWriter, r *http.Request, p principal) error {
	a, err := h.reg.GetApp(p.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AppResponse{h.appJSON(a)})
	return nil
}

// updateApp is Chime's UpdateSipMediaApplication: a plugin endpoint
// assigns that version; a webhook endpoint sets the webhook and unassigns
// the plugin (kept in the history, so rollback returns to it).
func (h *Handler) updateApp(w http.ResponseWriter, r *http.Request, p principal) error {
	var req UpdateAppRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	c := tenant.AppChange{Name: req.Name, Webhook: req.Webhook, Model: req.Model}
	if req.Endpoints != nil {
		if req.Webhook != nil {
			return badRequest("give Endpoints or Webhook, not both")
		}
		ep, err := parseEndpoints(req.Endpoints)
		if err != nil {
			return err
		}
		c.Plugin = &ep.plugin
		if ep.webhook != "" {
			c.Webhook = &ep.webhook
		}
	}
	if c.Webhook != nil {
		if err := h.checkWebhook(*c.Webhook); err != nil {
			return err
		}
	}
	a, err := h.reg.ChangeApp(p.tenant, r.PathValue("id"), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AppResponse{h.appJSON(a)})
	return nil
}

func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := h.reg.DeleteApp(p.tenant, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func ruleJSON(rule tenant.Rule) SipRule {
	out := SipRule{SipRuleID: rule.ID, Name: rule.Name, Disabled: rule.Disabled, TriggerType: rule.TriggerType,
		TriggerValue: rule.TriggerValue, TargetApplications: make([]SipRuleTargetApplication, 0, len(rule.Targets)),
		CreatedTimestamp: rule.Created, UpdatedTimestamp: rule.Updated}
	for _, t := range rule.Targets {
		out.TargetApplications = append(out.TargetApplications,
			SipRuleTargetApplication{SipMediaApplicationID: t.App, Priority: t.Priority, AwsRegion: t.Region})
	}
	return out
}

func ruleTargets(ts []SipRuleTargetApplication) []tenant.RuleTarget {
	if ts == nil {
		return nil
	}
	out := make([]tenant.RuleTarget, 0, len(ts))
	for _, t := range ts {
		out = append(out, tenant.RuleTarget{App: t.SipMediaApplicationID, Priority: t.Priority, Region: t.AwsRegion})
	}
	return out
}

func (h *Handler) listRules(w http.ResponseWriter, r *http.Request, p principal) error {
	rules, err := h.reg.ListRules(p.tenant, r.URL.Query().Get("sip-media-application"))
	if err != nil {
		return err
	}
	rules, next, err := page(r, rules, func(rule tenant.Rule) string { return rule.ID })
	if err != nil {
		return err
	}
	out := RuleList{SipRules: make([]SipRule, 0, len(rules)), NextToken: next}
	for _, rule := range rules {
		out.SipRules = append(out.SipRules, ruleJSON(rule))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) createRule(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateRuleRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	rule := tenant.Rule{ID: h.o.newID(), Name: req.Name, TriggerType: req.TriggerType, TriggerValue: req.TriggerValue,
		Targets: ruleTargets(req.TargetApplications)}
	if req.Disabled != nil {
		rule.Disabled = *req.Disabled
	}
	rule, err := h.reg.CreateRule(p.tenant, rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, RuleResponse{ruleJSON(rule)})
	return nil
}

func (h *Handler) getRule(w http.ResponseWriter, r *http.Request, p principal) error {
	rule, err := h.reg.GetRule(p.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RuleResponse{ruleJSON(rule)})
	return nil
}

// updateRule is Chime's UpdateSipRule, which answers 202.
func (h *Handler) updateRule(w http.ResponseWriter, r *http.Request, p principal) error {
	var req UpdateRuleRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	rule, err := h.reg.UpdateRule(p.tenant, r.PathValue("id"), tenant.RuleUpdate{
		Name: req.Name, Disabled: req.Disabled, Targets: ruleTargets(req.TargetApplications)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, RuleResponse{ruleJSON(rule)})
	return nil
}

func (h *Handler) deleteRule(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := h.reg.DeleteRule(p.tenant, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
