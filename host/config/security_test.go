package config

import (
	"strings"
	"testing"
	"time"
)

func TestSecuritySettings(t *testing.T) {
	d := Default()
	if len(d.SIP.TLS) != 1 || d.SIP.TLS[0] != "127.0.0.1:5061" || d.SIP.SRTP != "optional" || d.Shutdown.DrainTime.Duration != 30*time.Second {
		t.Fatalf("defaults: tls %v, srtp %q, drain %v", d.SIP.TLS, d.SIP.SRTP, d.Shutdown.DrainTime)
	}
	// A file listens on TLS only where it says so.
	c, err := Parse("[sip]\nudp = [\"127.0.0.1:5070\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SIP.TLS) != 0 {
		t.Fatalf("a file without tls listens on %v", c.SIP.TLS)
	}
	c, err = Parse(`[sip]
tls = ["127.0.0.1:5071"]
tls_cert = "c.pem"
tls_key = "k.pem"
tls_srtp = "mandatory"
[shutdown]
drain_time = "5s"
[[trunk]]
name = "t"
address = "127.0.0.1:5081"
transport = "tls"
srtp = "optional"
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP.TLSSRTP != "mandatory" || c.Trunks[0].SRTP != "optional" || c.Trunks[0].Transport != "tls" || c.Shutdown.DrainTime.Duration != 5*time.Second {
		t.Fatalf("parsed %+v %+v %+v", c.SIP, c.Trunks, c.Shutdown)
	}
}

func TestSecurityErrors(t *testing.T) {
	tests := []struct{ toml, want string }{
		{"[sip]\nsrtp = \"always\"", `srtp "always"`},
		{"[sip]\ntls_srtp = \"yes\"", `tls_srtp "yes"`},
		{"[sip]\ntls_cert = \"c.pem\"", "set both tls_cert and tls_key"},
		{"[shutdown]\ndrain_time = \"-1s\"", "shutdown.drain_time"},
		{"[[trunk]]\nname = \"a\"\naddress = \"127.0.0.1:5060\"\nsrtp = \"on\"", `srtp "on"`},
		{"[sip]\nudp = []\ntcp = []\n", "at least one udp, tcp or tls listen address"},
		{"[sip]\ntls = [\"nowhere\"]", `listen address "nowhere"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.toml)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.toml, err, tt.want)
		}
	}
}
