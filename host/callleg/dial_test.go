package callleg

import (
	"errors"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/engine"
)

type testTrunks struct{}

func (testTrunks) Trunk(to string) (string, config.Trunk, bool) {
	if !strings.HasPrefix(to, "+") {
		return "", config.Trunk{}, false
	}
	return to, config.Trunk{Name: "pstn", Address: "127.0.0.1:5080"}, true
}

// testPolicy: tenant "a" may dial host 127.0.0.1 and numbers +46…;
// others nothing but numbers.
type testPolicy struct{}

func (testPolicy) DialHost(tenant, host string) bool {
	return tenant == "a" && (host == "127.0.0.1" || host == "[::1]")
}
func (testPolicy) DialNumber(tenant, number string) bool {
	return tenant != "a" || strings.HasPrefix(number, "+46")
}

func TestResolve(t *testing.T) {
	d := dialer{ls: &Legs{cfg: Config{Trunks: testTrunks{}, Dial: testPolicy{}}}}
	tests := []struct {
		tenant, to            string
		uri, proxy, transport string
		err                   error
	}{
		{tenant: "a", to: "sip:arc@127.0.0.1:5090", uri: "sip:arc@127.0.0.1:5090"},
		{tenant: "a", to: "sip:arc@127.0.0.1;transport=tcp?Subject=x", uri: "sip:arc@127.0.0.1", transport: "TCP"},
		{tenant: "a", to: "sip:127.0.0.1:5090", uri: "sip:127.0.0.1:5090"},
		{tenant: "a", to: "sip:b@[::1]:5070", uri: "sip:b@[::1]:5070"},
		// A host the policy does not allow: the user part is a number.
		{tenant: "a", to: "sip:+46701234@10.0.0.1", uri: "sip:+46701234@127.0.0.1:5080", proxy: "127.0.0.1:5080"},
		{tenant: "a", to: "sip:arc@10.0.0.1", err: ErrNoTrunk},
		{tenant: "b", to: "sip:arc@127.0.0.1:5090", err: ErrNoTrunk},
		// Numbers outside the tenant's prefixes.
		{tenant: "a", to: "+19005551234", err: ErrNotAllowed},
		{tenant: "a", to: "sip:+19005551234@127.0.0.1.evil", err: ErrNotAllowed},
		{tenant: "b", to: "+19005551234", uri: "sip:+19005551234@127.0.0.1:5080", proxy: "127.0.0.1:5080"},
	}
	for _, tt := range tests {
		got, err := d.resolve(engine.DialRequest{TenantID: tt.tenant, To: tt.to, From: "+15550100"})
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s %s: err %v, want %v", tt.tenant, tt.to, err, tt.err)
			}
			continue
		}
		if err != nil || got.uri != tt.uri || got.proxy != tt.proxy || got.transport != tt.transport {
			t.Errorf("%s %s: %+v %v, want uri %s proxy %q transport %q", tt.tenant, tt.to, got, err, tt.uri, tt.proxy, tt.transport)
		}
	}
}
