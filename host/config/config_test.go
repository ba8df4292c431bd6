package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SIP.UDP[0] != "127.0.0.1:5060" || c.API.Listen != "127.0.0.1:8080" {
		t.Fatalf("defaults must be loopback: %+v %+v", c.SIP, c.API)
	}
	if got := c.Tenants[0].Applications[0].Numbers[0]; got != DemoNumber {
		t.Fatalf("demo number = %s", got)
	}
}

func TestParse(t *testing.T) {
	c, err := Parse(`
data_dir = "/tmp/x"
[sip]
udp = ["127.0.0.1:5070"]
tcp = []
[plugins]
deadline = "20ms"
[[tenant]]
id = "acme"
[[tenant.application]]
id = "support"
plugin = "support.wasm"
numbers = ["+4686001000"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/tmp/x" || c.SIP.UDP[0] != "127.0.0.1:5070" || len(c.SIP.TCP) != 0 {
		t.Fatalf("got %+v", c)
	}
	if c.Plugins.Deadline.Duration != 20*time.Millisecond {
		t.Fatalf("deadline = %s", c.Plugins.Deadline)
	}
	if c.Plugins.MemoryMiB != 64 {
		t.Fatalf("unset key lost its default: memory_mib = %d", c.Plugins.MemoryMiB)
	}
	if len(c.Tenants) != 1 || c.Tenants[0].ID != "acme" {
		t.Fatalf("tenants = %+v, want only acme", c.Tenants)
	}
}

func TestParseKeepsDemoTenantWhenNoneDeclared(t *testing.T) {
	c, err := Parse(`region = "eu-local"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tenants) != 1 || c.Tenants[0].ID != "demo" {
		t.Fatalf("tenants = %+v, want the demo tenant", c.Tenants)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want string
	}{
		{"syntax", `data_dir = `, "config: toml"},
		{"unknown key", "[sip]\nudpp = []", "unknown key(s): sip.udpp"},
		{"bad listen", `[sip]` + "\n" + `udp = ["localhost"]`, `listen address "localhost"`},
		{"bad codec", `[sip]` + "\n" + `codecs = ["OPUS"]`, `unknown codec "OPUS"`},
		{"bad port range", "[rtp]\nport_min = 30000\nport_max = 20000", "port range 30000-20000"},
		{"bad deadline", `[plugins]` + "\n" + `deadline = "fast"`, "time: invalid duration"},
		{"zero deadline", `[plugins]` + "\n" + `deadline = "0s"`, "plugins.deadline 0s"},
		{"bad number", "[[tenant]]\nid = \"a\"\n[[tenant.application]]\nid = \"x\"\nplugin = \"p.wasm\"\nnumbers = [\"5550100\"]", `number "5550100" is not E.164`},
		{"duplicate number", "[[tenant]]\nid = \"a\"\n[[tenant.application]]\nid = \"x\"\nplugin = \"p.wasm\"\nnumbers = [\"+15550100\"]\n[[tenant.application]]\nid = \"y\"\nplugin = \"p.wasm\"\nnumbers = [\"+15550100\"]", "number +15550100 is already routed"},
		{"plugin and webhook", "[[tenant]]\nid = \"a\"\n[[tenant.application]]\nid = \"x\"\nplugin = \"p.wasm\"\nwebhook = \"http://127.0.0.1:1/\"", "set exactly one of plugin or webhook"},
		{"bad tenant id", "[[tenant]]\nid = \"A B\"", `tenant id "A B"`},
		{"internal webhook", "[[tenant]]\nid = \"a\"\n[[tenant.application]]\nid = \"x\"\nwebhook = \"http://127.0.0.1:9000/\"",
			`webhook "http://127.0.0.1:9000/": address not allowed by the server's egress policy: 127.0.0.1 is in 127.0.0.0/8 (add its network to [egress] allow)`},
		{"bad egress", "[egress]\nallow = [\"10.0.0.0/99\"]", `egress allow "10.0.0.0/99"`},
		{"bad storage", "[storage]\ntype = \"ftp\"", `storage.type "ftp"`},
		{"bad dial host", "[dial]\nallowed_hosts = [\"pbx example\"]", `dial.allowed_hosts: "pbx example"`},
		{"bad dial prefix", "[[tenant]]\nid = \"a\"\n[tenant.dial]\nallowed_prefixes = [\"+46x\"]", `tenant "a" dial.allowed_prefixes: "+46x"`},
		{"unknown model", "[[tenant]]\nid = \"a\"\n[[tenant.application]]\nid = \"x\"\nplugin = \"p.wasm\"\nmodel = \"twilio\"", `model "twilio": want chime or iotcomms`},
		{"s3 without bucket", "[storage]\ntype = \"s3\"\nendpoint = \"127.0.0.1:7070\"\naccess_key = \"a\"\nsecret_key = \"b\"", "needs endpoint and bucket"},
		{"s3 without secret", "[storage]\ntype = \"s3\"\nendpoint = \"127.0.0.1:7070\"\nbucket = \"media\"\naccess_key = \"a\"", "needs access_key and secret_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.toml)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// The demo allows webhooks on loopback; a file allows only what it lists.
func TestEgress(t *testing.T) {
	if got := Default().Egress.Allow; len(got) != 2 {
		t.Fatalf("demo egress allow %v, want loopback", got)
	}
	c, err := Parse("[sip]\nudp = [\"127.0.0.1:5060\"]")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Egress.Allow) != 0 {
		t.Fatalf("a file without [egress] allows %v", c.Egress.Allow)
	}
	c, err = Parse("[egress]\nallow = [\"127.0.0.0/8\"]\n[[tenant]]\nid = \"a\"\n[[tenant.application]]\nid = \"x\"\nwebhook = \"http://127.0.0.1:9000/\"")
	if err != nil {
		t.Fatalf("allowed loopback webhook: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("data_dir = \"x\"\n[sip]\nudp=[\"127.0.0.1:5060\"]")
	f.Add("[[tenant]]\nid=\"a\"")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err == nil && c.Validate() != nil {
			t.Fatalf("Parse accepted an invalid config")
		}
	})
}

func TestTrunks(t *testing.T) {
	c, err := Parse(`
[[trunk]]
name = "us"
address = "127.0.0.1:5080"
prefixes = ["+1"]
caller_ids = ["+1555*"]
default_caller_id = "+15550100"
[[trunk]]
name = "any"
address = "127.0.0.1:5090"
transport = "tcp"
username = "u"
password = "p"
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		to, from  string
		wantTrunk string
		wantFrom  string
		wantOK    bool
	}{
		{"us allowed caller", "+12065550100", "+15551234", "us", "+15551234", true},
		{"us caller replaced", "+12065550100", "+4686001000", "us", "+15550100", true},
		{"other country", "+4686001000", "+4686001001", "any", "+4686001001", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, ok := c.TrunkFor(tt.to)
			if !ok || tr.Name != tt.wantTrunk {
				t.Fatalf("TrunkFor(%s) = %q, %v; want %q", tt.to, tr.Name, ok, tt.wantTrunk)
			}
			from, ok := tr.CallerID(tt.from)
			if ok != tt.wantOK || from != tt.wantFrom {
				t.Fatalf("CallerID(%s) = %q, %v; want %q, %v", tt.from, from, ok, tt.wantFrom, tt.wantOK)
			}
		})
	}
	strict := Trunk{CallerIDs: []string{"+15550100"}}
	if _, ok := strict.CallerID("+15550199"); ok {
		t.Fatal("a caller id outside the list without a default must be refused")
	}
}

func TestTrunkErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want string
	}{
		{"no address", "[[trunk]]\nname = \"a\"", `address "": want host:port`},
		{"bad transport", "[[trunk]]\nname = \"a\"\naddress = \"127.0.0.1:5060\"\ntransport = \"sctp\"", `transport "sctp"`},
		{"bad prefix", "[[trunk]]\nname = \"a\"\naddress = \"127.0.0.1:5060\"\nprefixes = [\"1\"]", `prefix "1" must start with '+'`},
		{"half credentials", "[[trunk]]\nname = \"a\"\naddress = \"127.0.0.1:5060\"\nusername = \"u\"", "set both username and password"},
		{"duplicate", "[[trunk]]\nname = \"a\"\naddress = \"127.0.0.1:5060\"\n[[trunk]]\nname = \"a\"\naddress = \"127.0.0.1:5061\"", "name is used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.toml)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestQuotas(t *testing.T) {
	c, err := Parse("[quotas]\nmax_concurrent_calls = 5\nmax_calls_per_second = 2\nmax_storage_mib = 10\n" +
		"max_kv_mib = 3\nmax_applications = 4\nmax_plugin_versions = 2")
	if err != nil {
		t.Fatal(err)
	}
	if c.Quotas != (Quotas{MaxConcurrentCalls: 5, MaxCallsPerSecond: 2, MaxStorageMiB: 10, MaxKVMiB: 3, MaxApplications: 4, MaxPluginVersions: 2}) {
		t.Fatalf("quotas = %+v", c.Quotas)
	}
	for _, bad := range []string{"max_calls_per_second", "max_kv_mib", "max_applications", "max_plugin_versions"} {
		if _, err := Parse("[quotas]\n" + bad + " = -1"); err == nil || !strings.Contains(err.Error(), "quotas: values must be >= 0") {
			t.Fatalf("negative %s: %v", bad, err)
		}
	}
}

// The demo dials loopback SIP hosts; a file dials only the hosts it lists,
// and a tenant's own [tenant.dial] replaces [dial] for it.
func TestDial(t *testing.T) {
	if got := Default().Dial.AllowedHosts; len(got) != 3 || got[0] != "127.0.0.0/8" {
		t.Fatalf("demo dial hosts %v, want loopback", got)
	}
	c, err := Parse("[sip]\nudp = [\"127.0.0.1:5070\"]")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dial.AllowedHosts) != 0 || len(c.Dial.AllowedPrefixes) != 0 {
		t.Fatalf("a file without [dial] allows %+v", c.Dial)
	}
	c, err = Parse(`
[dial]
allowed_hosts = ["pbx.example.com", "10.1.0.0/16"]
allowed_prefixes = ["+46"]
[[tenant]]
id = "a"
[tenant.dial]
allowed_hosts = ["*.a.example.com"]
[[tenant]]
id = "b"
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dial.AllowedHosts[1] != "10.1.0.0/16" || c.Dial.AllowedPrefixes[0] != "+46" {
		t.Fatalf("[dial] = %+v", c.Dial)
	}
	if d := c.Tenants[0].Dial; d == nil || d.AllowedHosts[0] != "*.a.example.com" || len(d.AllowedPrefixes) != 0 {
		t.Fatalf("tenant a dial = %+v", d)
	}
	if c.Tenants[1].Dial != nil {
		t.Fatalf("tenant b has a dial of its own: %+v", c.Tenants[1].Dial)
	}
}
