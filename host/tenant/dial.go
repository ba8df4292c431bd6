package tenant

import (
	"fmt"
	"net/netip"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmvoice/mediaserver/host/config"
)

// DialPolicy says what a tenant's calls may dial: the SIP hosts a URI may
// name to be called directly (iotcomms' destAddr "sip:user@host"), and the
// number prefixes it may call through the trunks. A tenant without one
// has the server's default ([dial] in the configuration).
type DialPolicy struct {
	// AllowedHosts are host names (exact, case-insensitive; "*.example.com"
	// for its subdomains) or networks (CIDR or single addresses) a SIP
	// URI's IP literal must fall in. Empty: no SIP host.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	// AllowedPrefixes are the prefixes ("+46", "+1555") of the numbers it
	// may call through a trunk. Empty: every number a trunk serves.
	AllowedPrefixes []string `json:"allowed_prefixes,omitempty"`
}

// maxDialEntries bounds each list of a dial policy.
const maxDialEntries = 256

// Validate reports the first entry that cannot be used.
func (d *DialPolicy) Validate() error {
	if d == nil {
		return nil
	}
	if len(d.AllowedHosts) > maxDialEntries || len(d.AllowedPrefixes) > maxDialEntries {
		return fmt.Errorf("%w: dial policy: at most %d hosts and %d prefixes", ErrInvalid, maxDialEntries, maxDialEntries)
	}
	for _, h := range d.AllowedHosts {
		if !config.ValidDialHost(h) {
			return fmt.Errorf("%w: dial policy: allowed host %q: want a host name, *.domain, an address or a CIDR network", ErrInvalid, h)
		}
	}
	for _, p := range d.AllowedPrefixes {
		if !config.ValidDialPrefix(p) {
			return fmt.Errorf("%w: dial policy: allowed prefix %q: want digits, optionally after a '+'", ErrInvalid, p)
		}
	}
	return nil
}

// AllowsHost reports whether host (a SIP URI's host: a name, an IP
// literal, an IPv6 literal in brackets) is one of the allowed hosts.
func (d *DialPolicy) AllowsHost(host string) bool {
	if d == nil || host == "" {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "."))
	ip, ipErr := netip.ParseAddr(host)
	for _, h := range d.AllowedHosts {
		if ipErr == nil {
			if pfx, err := netip.ParsePrefix(h); err == nil && pfx.Contains(ip.Unmap()) {
				return true
			}
			if a, err := netip.ParseAddr(h); err == nil && a.Unmap() == ip.Unmap() {
				return true
			}
			continue
		}
		h = strings.ToLower(h)
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if h == host {
			return true
		}
	}
	return false
}

// AllowsNumber reports whether number (E.164, as routed to a trunk) has
// one of the allowed prefixes; every number when none is listed.
func (d *DialPolicy) AllowsNumber(number string) bool {
	if d == nil || len(d.AllowedPrefixes) == 0 {
		return true
	}
	bare := strings.TrimPrefix(number, "+")
	for _, p := range d.AllowedPrefixes {
		if strings.HasPrefix(number, p) || (!strings.HasPrefix(p, "+") && strings.HasPrefix(bare, p)) {
			return true
		}
	}
	return false
}

// SetDialPolicy gives tenant its own dial policy; nil returns it to the
// server's default.
func (r *Registry) SetDialPolicy(id string, d *DialPolicy) (Tenant, error) {
	if err := d.Validate(); err != nil {
		return Tenant{}, err
	}
	var t Tenant
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		var err error
		if t, err = tenantIn(tx, id); err != nil {
			return err
		}
		t.Dial = d
		return put(tx, bucketTenants, []byte(id), t)
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: set dial policy: %w", err)
	}
	return t, nil
}

// DialPolicy returns tenant's own dial policy from the in-memory snapshot
// (no disk access); ok is false when it has none (the server's default
// applies) or is unknown.
func (r *Registry) DialPolicy(tenant string) (*DialPolicy, bool) {
	d, ok := r.snap.Load().dial[tenant]
	return d, ok
}
