package tenancy

import "github.com/wasmvoice/mediaserver/host/tenant"

// The tenants' dial policy (callleg.DialPolicy): a tenant's own, set
// through the API or its [tenant.dial], else the configuration's [dial].

// dialPolicy returns the policy that applies to tenantID.
func (t *Tenancy) dialPolicy(tenantID string) *tenant.DialPolicy {
	if t.reg != nil {
		if d, ok := t.reg.DialPolicy(tenantID); ok {
			return d
		}
	}
	return &tenant.DialPolicy{AllowedHosts: t.cfg.Dial.AllowedHosts, AllowedPrefixes: t.cfg.Dial.AllowedPrefixes}
}

// DialHost reports whether tenantID may send an INVITE straight to host.
func (t *Tenancy) DialHost(tenantID, host string) bool {
	return t.dialPolicy(tenantID).AllowsHost(host)
}

// DialNumber reports whether tenantID may call number through a trunk.
func (t *Tenancy) DialNumber(tenantID, number string) bool {
	return t.dialPolicy(tenantID).AllowsNumber(number)
}
