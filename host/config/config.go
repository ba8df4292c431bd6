// Package config holds the server's static settings, read from a TOML file
// (mediaserver.toml) on top of embedded defaults. With no file the server
// runs on loopback with a demo tenant, the demo IVR plugin on +15550100 and
// everything under ./data.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/netguard"
)

// Config is the whole file.
type Config struct {
	// DataDir holds the database, the bucket store, the compilation cache
	// and recordings.
	DataDir string `toml:"data_dir"`
	// Region fills CallDetails.AwsRegion (the server has no AWS region).
	Region  string  `toml:"region"`
	SIP     SIP     `toml:"sip"`
	RTP     RTP     `toml:"rtp"`
	API     API     `toml:"api"`
	Plugins Plugins `toml:"plugins"`
	Storage Storage `toml:"storage"`
	Limits  Limits  `toml:"limits"`
	Quotas  Quotas  `toml:"quotas"`
	Egress  Egress  `toml:"egress"`
	// Dial is what every tenant's calls may dial unless its [tenant.dial]
	// says otherwise.
	Dial    Dial    `toml:"dial"`
	Speech  Speech  `toml:"speech"`
	Prompts Prompts `toml:"prompts"`
	// VoiceFocus is the noise suppression of the VoiceFocus action.
	VoiceFocus VoiceFocus `toml:"voicefocus"`
	Tenants    []Tenant   `toml:"tenant"`
	// Trunks carry outbound calls (CreateSipMediaApplicationCall,
	// CallAndBridge). The first trunk whose prefixes match the dialled
	// number is used.
	Trunks []Trunk `toml:"trunk"`
	// Cluster makes this server one node of several; empty (the default)
	// is a single server with everything in data_dir.
	Cluster Cluster `toml:"cluster"`
	// Shutdown is what SIGTERM does: see Shutdown.
	Shutdown Shutdown `toml:"shutdown"`
}

// Shutdown is the graceful stop: new calls get 503 and readiness is
// false at once; calls in progress may go on for DrainTime, then get a
// BYE (their recordings finished).
type Shutdown struct {
	DrainTime Duration `toml:"drain_time"` // default 30s; 0s ends calls at once
}

// Cluster makes the server one node of a cluster (deploy/README.md):
// Kamailio in front spreads calls over the nodes, the registry and the
// plugins' key-value store live in PostgreSQL, blobs in S3 ([storage]),
// and the nodes reach each other through NATS. Postgres alone (no NATS,
// no node name) keeps one server's state in PostgreSQL.
type Cluster struct {
	// Node names this node: unique in the cluster, it is part of every
	// TransactionId (and iotcomms session id) the node makes, so any node
	// knows which one owns a call. 1-32 of a-z, 0-9 and '-'.
	Node string `toml:"node"`
	// Postgres is the database URL of the registry and the key-value
	// store, e.g. "postgres://mediaserver@db:5432/mediaserver"; a
	// password may come from PGPASSWORD instead of the URL.
	Postgres string `toml:"postgres"`
	// NATS is the URL of the NATS server (several: comma-separated).
	NATS string `toml:"nats"`
	// RequestTimeout bounds a request forwarded to another node (default
	// 2s).
	RequestTimeout Duration `toml:"request_timeout"`
	// Heartbeat is how often a node announces itself and its tenants'
	// calls in progress (default 1s); a node silent for three heartbeats
	// is gone.
	Heartbeat Duration `toml:"heartbeat"`
}

// Enabled reports whether the server is one node of a cluster (NATS
// between nodes).
func (c Cluster) Enabled() bool { return c.NATS != "" }

var nodeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Trunk is a SIP destination for outbound calls.
type Trunk struct {
	Name string `toml:"name"`
	// Address is the trunk's host:port (IP literal or name).
	Address string `toml:"address"`
	// Transport is "udp" (default), "tcp" or "tls".
	Transport string `toml:"transport"`
	// SRTP is "off" (default), "optional" or "mandatory" (sip.SRTPPolicy).
	SRTP string `toml:"srtp"`
	// Domain is the host part of the Request-URI; Address when empty.
	Domain string `toml:"domain"`
	// Prefixes of E.164 numbers this trunk serves ("+1", "+46"); empty
	// serves every number.
	Prefixes []string `toml:"prefixes"`
	// Username and Password answer the trunk's digest challenge.
	Username string `toml:"username"`
	Password string `toml:"password"`
	// CallerIDs the trunk accepts as From (E.164 or a trailing '*' wildcard
	// like "+1555*"); empty accepts any. DefaultCallerID replaces a caller id
	// that is not allowed, or refuses the call when empty.
	CallerIDs       []string `toml:"caller_ids"`
	DefaultCallerID string   `toml:"default_caller_id"`
}

// Serves reports whether the trunk carries calls to number.
func (t Trunk) Serves(number string) bool {
	if len(t.Prefixes) == 0 {
		return true
	}
	for _, p := range t.Prefixes {
		if strings.HasPrefix(number, p) {
			return true
		}
	}
	return false
}

// CallerID applies the trunk's caller-id rules to from: it returns the
// caller id to send, or false when the call must be refused.
func (t Trunk) CallerID(from string) (string, bool) {
	if len(t.CallerIDs) == 0 {
		return from, true
	}
	for _, c := range t.CallerIDs {
		if c == from || (strings.HasSuffix(c, "*") && strings.HasPrefix(from, strings.TrimSuffix(c, "*"))) {
			return from, true
		}
	}
	if t.DefaultCallerID != "" {
		return t.DefaultCallerID, true
	}
	return "", false
}

// TrunkFor returns the first trunk that serves number.
func (c *Config) TrunkFor(number string) (Trunk, bool) {
	for _, t := range c.Trunks {
		if t.Serves(number) {
			return t, true
		}
	}
	return Trunk{}, false
}

// SIP is the signalling side.
type SIP struct {
	UDP       []string `toml:"udp"`
	TCP       []string `toml:"tcp"`
	UserAgent string   `toml:"user_agent"`
	// TLS listen addresses. TLSCert and TLSKey are the PEM files of their
	// certificate, reloaded when the files change; left empty, a
	// self-signed certificate is made in <data_dir>/tls. TLSCA is a PEM
	// file of CAs trusted (beside the system's) for TLS trunks. A
	// configuration file listens on TLS only where it says so.
	TLS     []string `toml:"tls"`
	TLSCert string   `toml:"tls_cert"`
	TLSKey  string   `toml:"tls_key"`
	TLSCA   string   `toml:"tls_ca"`
	// SRTP is the SRTP policy of the calls on the UDP and TCP listeners,
	// TLSSRTP of those on the TLS listeners (default: SRTP): "off",
	// "optional" (the default) or "mandatory".
	SRTP    string `toml:"srtp"`
	TLSSRTP string `toml:"tls_srtp"`
	// Codecs in order of preference: "PCMU", "PCMA".
	Codecs []string `toml:"codecs"`
	// SourceInviteRate is the INVITEs per second one source IP may send
	// (0 = 20; -1 = no limit); more get 503 with Retry-After.
	SourceInviteRate float64 `toml:"source_invite_rate"`
	// Trusted networks (an SBC or Kamailio in front, carriers) are exempt
	// from the per-source limits. The embedded demo trusts loopback; a
	// configuration file trusts nothing it does not list.
	Trusted []string `toml:"trusted"`
	// TCP connections: idle timeout (0 = 2m; a connection carrying a call
	// stays), at most MaxTCPConnections (0 = 8192) and
	// MaxTCPConnectionsPerIP (0 = 64) open.
	TCPIdleTimeout         Duration `toml:"tcp_idle_timeout"`
	MaxTCPConnections      int      `toml:"max_tcp_connections"`
	MaxTCPConnectionsPerIP int      `toml:"max_tcp_connections_per_ip"`
}

// TrustedPrefixes returns SIP.Trusted as prefixes (validated by Validate).
func (s SIP) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, t := range s.Trusted {
		if p, err := netguard.ParsePrefix(t); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// RTP is the media side.
type RTP struct {
	// IP is the address RTP sockets bind to and the SDP announces.
	IP      string `toml:"ip"`
	PortMin int    `toml:"port_min"`
	PortMax int    `toml:"port_max"`
	// Symmetric latches the remote address on the first packet received
	// when it differs from the SDP (phones behind NAT).
	Symmetric bool `toml:"symmetric"`
	// TenantShare is the fraction of the port range one tenant may hold
	// (0 < share <= 1; default 0.5), so one tenant's calls cannot leave
	// the others without media ports.
	TenantShare float64 `toml:"tenant_share"`
}

// API is the HTTP control API.
type API struct {
	Listen string `toml:"listen"`
	// At most MaxConnections open (0 = 1024), MaxConnectionsPerIP from
	// one client address (0 = 64); more are closed at once.
	MaxConnections      int `toml:"max_connections"`
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// Regions are the regions a signed request (AWS Signature Version 4)
	// may name in its credential scope; empty accepts any.
	Regions []string `toml:"regions"`
}

// Storage says where blobs (plugins, prompts, recordings) live: a folder
// under data_dir (the default) or an S3-compatible object store.
type Storage struct {
	// Type is "folder" or "s3".
	Type string `toml:"type"`
	// S3 settings, used when Type is "s3". The secret may be given in the
	// environment variable named by SecretKeyEnv instead of the file.
	Endpoint     string `toml:"endpoint"`
	Secure       bool   `toml:"secure"`
	Region       string `toml:"region"`
	Bucket       string `toml:"bucket"`
	Prefix       string `toml:"prefix"`
	AccessKey    string `toml:"access_key"`
	SecretKey    string `toml:"secret_key"`
	SecretKeyEnv string `toml:"secret_key_env"`
	CreateBucket bool   `toml:"create_bucket"`
}

// Plugins are the defaults of the plugin runtime.
type Plugins struct {
	Deadline     Duration `toml:"deadline"`
	MemoryMiB    int      `toml:"memory_mib"`
	PoolSize     int      `toml:"pool_size"`
	MaxModuleMiB int      `toml:"max_module_mib"`
}

// Limits are Chime's per-call limits, kept configurable.
type Limits struct {
	MaxActions     int `toml:"max_actions"`
	MaxInvocations int `toml:"max_invocations"`
}

// Quotas are the per-tenant defaults: a tenant whose own quota (set
// through the API) is zero gets these. Zero here means the server's
// built-in default (1000 concurrent calls, 100 calls per second, unlimited
// storage, a 16 MiB key-value store, 20 applications, 10 plugin versions
// assigned at once); plugin memory, deadline and module size default to
// [plugins].
type Quotas struct {
	MaxConcurrentCalls int `toml:"max_concurrent_calls"`
	MaxCallsPerSecond  int `toml:"max_calls_per_second"`
	MaxStorageMiB      int `toml:"max_storage_mib"`
	MaxKVMiB           int `toml:"max_kv_mib"`
	MaxApplications    int `toml:"max_applications"`
	MaxPluginVersions  int `toml:"max_plugin_versions"`
}

// Egress limits where the server's own HTTP requests go: webhooks (and
// every other URL a tenant gives). Loopback, private, link-local (cloud
// metadata), CGNAT, multicast and the other special-purpose networks are
// refused unless Allow names them. The embedded demo configuration allows
// loopback; a configuration file allows nothing it does not list.
type Egress struct {
	// Allow lists networks (CIDR, or single addresses) that may be reached
	// although they are special-purpose, e.g. ["127.0.0.0/8", "10.1.0.0/16"].
	Allow []string `toml:"allow"`
}

// Speech configures Speak and SpeakAndGetDigits (host/speech).
type Speech struct {
	// Flite is the path of flite.wasm; empty finds third_party/wasm/flite.wasm
	// from the working directory up (make assets fetches it).
	Flite string `toml:"flite"`
	// CacheMiB caps the synthesised prompts kept in memory (default 64).
	CacheMiB int `toml:"cache_mib"`
	// Timeout bounds one synthesis by the embedded engine (default 10s).
	Timeout Duration `toml:"timeout"`
	// HTTP, when its url is set, is asked first; the embedded voice speaks
	// when it fails or is too slow.
	HTTP SpeechHTTP `toml:"http"`
}

// SpeechHTTP is an OpenAI-compatible text-to-speech endpoint
// (POST /v1/audio/speech). It is reached through the [egress] policy.
type SpeechHTTP struct {
	URL   string `toml:"url"`
	Model string `toml:"model"` // default "tts-1"
	// Voice is the endpoint's voice for every request; empty sends the
	// Polly VoiceId in lower case unless Voices maps it.
	Voice  string            `toml:"voice"`
	Voices map[string]string `toml:"voices"`
	// APIKeyEnv names the environment variable holding a bearer token.
	APIKeyEnv string   `toml:"api_key_env"`
	Timeout   Duration `toml:"timeout"` // default 5s
}

// Prompts configures prompts given by URL (AudioSource Type "URL").
type Prompts struct {
	MaxMiB   int      `toml:"max_mib"`   // per prompt (default 50, Chime's limit)
	Timeout  Duration `toml:"timeout"`   // per fetch (default 5s)
	CacheMiB int      `toml:"cache_mib"` // decoded URL prompts kept (default 64)
}

// VoiceFocus configures the noise suppressor (RNNoise as Wasm).
type VoiceFocus struct {
	// RNNoise is the path of rnnoise.wasm; empty finds
	// third_party/wasm/rnnoise.wasm like [speech] flite.
	RNNoise string `toml:"rnnoise"`
}

// Tenant is a customer with its applications.
type Tenant struct {
	ID           string        `toml:"id"`
	Applications []Application `toml:"application"`
	// Dial, when set, replaces [dial] for this tenant.
	Dial *Dial `toml:"dial"`
}

// Dial says what calls may dial: SIP hosts a destination URI may name to
// be called directly (iotcomms' destAddr "sip:user@host"), and the number
// prefixes that may be called through the trunks. The embedded demo
// configuration allows loopback hosts; a configuration file allows no SIP
// host it does not list.
type Dial struct {
	// AllowedHosts are host names ("pbx.example.com", "*.example.com" for
	// subdomains) or networks (CIDR or addresses) a URI's IP literal must
	// be in. Empty: no SIP URI is dialled directly (its user part is then
	// routed as a number).
	AllowedHosts []string `toml:"allowed_hosts"`
	// AllowedPrefixes are the number prefixes ("+46", "+1555") that may
	// be called through a trunk. Empty: every number a trunk serves.
	AllowedPrefixes []string `toml:"allowed_prefixes"`
}

// Application is a tenant's named SIP media application bound to a plugin;
// its Numbers are its SIP rules: calls to them reach the plugin.
type Application struct {
	ID      string `toml:"id"`
	Plugin  string `toml:"plugin"`
	Webhook string `toml:"webhook"`
	// Model is the programming model of its calls: "chime" (the default,
	// Chime's SIP media application) or "iotcomms" (iotcomms' SIP
	// Mediaserver callbacks; a webhook is then the callbacks' base URL).
	Model   string   `toml:"model"`
	Numbers []string `toml:"numbers"`
	// Prompts is a folder whose files are copied into the tenant's bucket
	// store at start-up (bucket/key = sub-folder/file), if missing there.
	Prompts string `toml:"prompts"`
}

// Duration is a time.Duration written as "50ms" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

var regionName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// DemoTrunk is where the demo's outbound calls go.
const DemoTrunk = "127.0.0.1:5080"

// DemoNumber is the number of the demo IVR.
const DemoNumber = "+15550100"

// DemoIotNumber is the demo tenant's iotcomms IVR (plugins/iot-ivr-go).
const DemoIotNumber = "+15550160"

// Default returns the embedded defaults: loopback only, the demo tenant and
// the demo IVR plugin built by `make plugins`.
func Default() *Config {
	return &Config{
		DataDir: "./data",
		Region:  "local",
		SIP: SIP{
			UDP:       []string{"127.0.0.1:5060"},
			TCP:       []string{"127.0.0.1:5060"},
			TLS:       []string{"127.0.0.1:5061"},
			SRTP:      "optional",
			UserAgent: "wasmvoice-mediaserver",
			Codecs:    []string{"PCMU", "PCMA"},
			// Every caller of the demo is on this machine.
			Trusted: []string{"127.0.0.0/8", "::1"},
		},
		RTP:     RTP{IP: "127.0.0.1", PortMin: 20000, PortMax: 29998, Symmetric: true, TenantShare: 0.5},
		Storage: Storage{Type: "folder"},
		API:     API{Listen: "127.0.0.1:8080"},
		Plugins: Plugins{Deadline: Duration{50 * time.Millisecond}, MemoryMiB: 64, MaxModuleMiB: 32},
		Limits:  Limits{MaxActions: 10, MaxInvocations: 1000},
		// Calls in progress get this long to end when the server stops.
		Shutdown: Shutdown{DrainTime: Duration{30 * time.Second}},
		// The demo's webhooks (and the README's examples) run on this machine.
		Egress: Egress{Allow: []string{"127.0.0.0/8", "::1"}},
		// The demo's iotcomms destinations (sip:user@127.0.0.1:port) are on
		// this machine.
		Dial: Dial{AllowedHosts: []string{"127.0.0.0/8", "::1", "localhost"}},
		// The demo's outbound calls go to loopback port 5080, where
		// `sipp -sn uas -p 5080` answers (the README's examples).
		Trunks: []Trunk{{Name: "demo", Address: DemoTrunk}},
		Tenants: []Tenant{{
			ID: "demo",
			Applications: []Application{{
				ID:      "demo-ivr",
				Plugin:  "plugins/bin/ivr-go.wasm",
				Numbers: []string{DemoNumber},
				Prompts: "plugins/ivr-go/buckets",
			}, {
				// The same IVR in the iotcomms model: callbacks and
				// answers, prompt files in bucket "promptfiles".
				ID:      "demo-iot",
				Model:   "iotcomms",
				Plugin:  "plugins/bin/iot-ivr-go.wasm",
				Numbers: []string{DemoIotNumber},
				Prompts: "plugins/iot-ivr-go/buckets",
			}},
		}},
	}
}

// Load reads a TOML file over the defaults. Keys the file sets replace the
// default; a file that declares any [[tenant]] replaces the demo tenant.
// Unknown keys are errors, so a typo never passes silently.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(string(b))
}

// Parse is Load on a string.
func Parse(text string) (*Config, error) {
	c := Default()
	c.Tenants, c.Trunks = nil, nil // a file's own, never the demo's
	c.Egress.Allow = nil           // a file allows only what it lists
	c.Dial.AllowedHosts = nil      // and dials only the hosts it lists
	c.SIP.Trusted = nil            // and trusts only what it lists
	c.SIP.TLS = nil                // and listens on TLS only where it says
	md, err := toml.Decode(text, c)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("config: unknown key(s): %s", strings.Join(keys, ", "))
	}
	if !md.IsDefined("tenant") {
		c.Tenants = Default().Tenants
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// validSRTP reports whether s names an SRTP policy ("" is the default).
func validSRTP(s string) bool {
	switch s {
	case "", "off", "optional", "mandatory":
		return true
	}
	return false
}

// validateSecurity checks the TLS, SRTP and shutdown settings.
func (c *Config) validateSecurity(add func(string, ...any)) {
	if !validSRTP(c.SIP.SRTP) || !validSRTP(c.SIP.TLSSRTP) {
		add("sip: srtp %q, tls_srtp %q: want off, optional or mandatory", c.SIP.SRTP, c.SIP.TLSSRTP)
	}
	if (c.SIP.TLSCert == "") != (c.SIP.TLSKey == "") {
		add("sip: set both tls_cert and tls_key, or neither (a self-signed certificate)")
	}
	if c.Shutdown.DrainTime.Duration < 0 {
		add("shutdown.drain_time %s: want >= 0", c.Shutdown.DrainTime)
	}
}

var idRegex = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidE164 reports whether s is an E.164 number such as +15550100.
func ValidE164(s string) bool { return abi.IsE164(s) }

// Validate checks every value and returns all problems at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf("config: "+format, a...)) }
	if c.DataDir == "" {
		add("data_dir must not be empty")
	}
	if len(c.SIP.UDP)+len(c.SIP.TCP)+len(c.SIP.TLS) == 0 {
		add("sip: at least one udp, tcp or tls listen address is needed")
	}
	c.validateSecurity(add)
	for _, a := range append(append(append([]string{}, c.SIP.UDP...), c.SIP.TCP...), c.SIP.TLS...) {
		if _, err := netip.ParseAddrPort(a); err != nil {
			add("sip: listen address %q: want IP:port (%v)", a, err)
		}
	}
	for _, t := range c.SIP.Trusted {
		if _, err := netguard.ParsePrefix(t); err != nil {
			add("sip.trusted %q: want a CIDR network or an IP address", t)
		}
	}
	if c.SIP.SourceInviteRate < -1 || c.SIP.TCPIdleTimeout.Duration < 0 || c.SIP.MaxTCPConnections < 0 || c.SIP.MaxTCPConnectionsPerIP < 0 {
		add("sip: source_invite_rate, tcp_idle_timeout and the connection limits must be >= 0 (source_invite_rate -1 = off)")
	}
	if len(c.SIP.Codecs) == 0 {
		add("sip.codecs must name at least one codec")
	}
	for _, k := range c.SIP.Codecs {
		if k != "PCMU" && k != "PCMA" {
			add("sip.codecs: unknown codec %q (PCMU, PCMA)", k)
		}
	}
	if _, err := netip.ParseAddr(c.RTP.IP); err != nil {
		add("rtp.ip %q is not an IP address", c.RTP.IP)
	}
	if c.RTP.PortMin < 1024 || c.RTP.PortMax > 65534 || c.RTP.PortMin >= c.RTP.PortMax {
		add("rtp: port range %d-%d: want 1024 <= port_min < port_max <= 65534", c.RTP.PortMin, c.RTP.PortMax)
	}
	if c.RTP.TenantShare <= 0 || c.RTP.TenantShare > 1 {
		add("rtp.tenant_share %v: want > 0 and <= 1", c.RTP.TenantShare)
	}
	if c.API.MaxConnections < 0 || c.API.MaxConnectionsPerIP < 0 {
		add("api: max_connections and max_connections_per_ip must be >= 0 (0 = default)")
	}
	if c.API.Listen != "" {
		if _, err := netip.ParseAddrPort(c.API.Listen); err != nil {
			add("api.listen %q: want IP:port (%v)", c.API.Listen, err)
		}
	}
	for _, r := range c.API.Regions {
		if !regionName.MatchString(r) {
			add("api.regions: %q is not a region name like us-east-1", r)
		}
	}
	if c.Plugins.Deadline.Duration <= 0 || c.Plugins.Deadline.Duration > 30*time.Second {
		add("plugins.deadline %s: want > 0 and <= 30s", c.Plugins.Deadline)
	}
	if c.Plugins.MemoryMiB < 1 || c.Plugins.MemoryMiB > 4096 {
		add("plugins.memory_mib %d: want 1..4096", c.Plugins.MemoryMiB)
	}
	if c.Plugins.MaxModuleMiB < 1 || c.Plugins.MaxModuleMiB > 512 {
		add("plugins.max_module_mib %d: want 1..512", c.Plugins.MaxModuleMiB)
	}
	if c.Plugins.PoolSize < 0 {
		add("plugins.pool_size %d: want >= 0 (0 = automatic)", c.Plugins.PoolSize)
	}
	switch c.Storage.Type {
	case "folder":
	case "s3":
		if c.Storage.Endpoint == "" || c.Storage.Bucket == "" {
			add("storage: type s3 needs endpoint and bucket")
		}
		if c.Storage.AccessKey == "" || (c.Storage.SecretKey == "" && c.Storage.SecretKeyEnv == "") {
			add("storage: type s3 needs access_key and secret_key (or secret_key_env)")
		}
		if c.Storage.Prefix != "" && !strings.HasSuffix(c.Storage.Prefix, "/") {
			add("storage.prefix %q must end with '/'", c.Storage.Prefix)
		}
	default:
		add("storage.type %q: want folder or s3", c.Storage.Type)
	}
	if c.Limits.MaxActions < 1 || c.Limits.MaxActions > 1000 {
		add("limits.max_actions %d: want 1..1000", c.Limits.MaxActions)
	}
	if q := c.Quotas; q.MaxConcurrentCalls < 0 || q.MaxCallsPerSecond < 0 || q.MaxStorageMiB < 0 ||
		q.MaxKVMiB < 0 || q.MaxApplications < 0 || q.MaxPluginVersions < 0 {
		add("quotas: values must be >= 0 (0 = built-in default)")
	}
	if c.Limits.MaxInvocations < 1 {
		add("limits.max_invocations %d: want >= 1", c.Limits.MaxInvocations)
	}
	egress, err := netguard.New(c.Egress.Allow)
	if err != nil {
		add("%v: want a CIDR network or an IP address", err)
	}
	if c.Speech.CacheMiB < 0 || c.Speech.Timeout.Duration < 0 || c.Speech.HTTP.Timeout.Duration < 0 {
		add("speech: cache_mib and timeouts must be >= 0")
	}
	if u := c.Speech.HTTP.URL; u != "" && egress != nil {
		if err := egress.CheckURL(u); err != nil {
			add("speech.http.url %q: %v", u, err)
		}
	}
	if c.Prompts.MaxMiB < 0 || c.Prompts.CacheMiB < 0 || c.Prompts.Timeout.Duration < 0 {
		add("prompts: values must be >= 0 (0 = default)")
	}
	checkDial := func(where string, d Dial) {
		for _, h := range d.AllowedHosts {
			if !ValidDialHost(h) {
				add("%sallowed_hosts: %q: want a host name, *.domain, an IP address or a CIDR network", where, h)
			}
		}
		for _, p := range d.AllowedPrefixes {
			if !ValidDialPrefix(p) {
				add("%sallowed_prefixes: %q: want digits, optionally after a '+'", where, p)
			}
		}
	}
	checkDial("dial.", c.Dial)
	tenants := map[string]bool{}
	apps := map[string]bool{}
	numbers := map[string]string{}
	for _, t := range c.Tenants {
		if !idRegex.MatchString(t.ID) {
			add("tenant id %q: want 1-64 of a-z, 0-9, '-', '_'", t.ID)
		}
		if tenants[t.ID] {
			add("tenant %q is declared twice", t.ID)
		}
		tenants[t.ID] = true
		if t.Dial != nil {
			checkDial(fmt.Sprintf("tenant %q dial.", t.ID), *t.Dial)
		}
		for _, a := range t.Applications {
			where := fmt.Sprintf("tenant %q application %q", t.ID, a.ID)
			if !idRegex.MatchString(a.ID) {
				add("%s: id: want 1-64 of a-z, 0-9, '-', '_'", where)
			}
			if apps[a.ID] {
				add("%s: application id is used twice", where)
			}
			apps[a.ID] = true
			if a.Model != "" && a.Model != "chime" && a.Model != "iotcomms" {
				add("%s: model %q: want chime or iotcomms", where, a.Model)
			}
			if (a.Plugin == "") == (a.Webhook == "") {
				add("%s: set exactly one of plugin or webhook", where)
			}
			if a.Webhook != "" && !strings.HasPrefix(a.Webhook, "http://") && !strings.HasPrefix(a.Webhook, "https://") {
				add("%s: webhook %q must be an http(s) URL", where, a.Webhook)
			} else if a.Webhook != "" && egress != nil {
				if err := egress.CheckURL(a.Webhook); err != nil {
					add("%s: webhook %q: %v (add its network to [egress] allow)", where, a.Webhook, err)
				}
			}
			for _, n := range a.Numbers {
				if !ValidE164(n) {
					add("%s: number %q is not E.164 (like +15550100)", where, n)
				}
				if prev, dup := numbers[n]; dup {
					add("%s: number %s is already routed to %s", where, n, prev)
				}
				numbers[n] = where
			}
		}
	}
	if cl := c.Cluster; cl.Node != "" || cl.NATS != "" {
		if !nodeName.MatchString(cl.Node) {
			add("cluster.node %q: want 1-32 of a-z, 0-9, '-', starting with a letter or digit", cl.Node)
		}
		if cl.NATS == "" || cl.Postgres == "" {
			add("cluster: a node needs node, nats and postgres")
		}
		if c.Storage.Type != "s3" {
			add("cluster: the nodes share plugins, prompts and recordings through [storage] type = \"s3\"")
		}
	}
	if cl := c.Cluster; cl.RequestTimeout.Duration < 0 || cl.Heartbeat.Duration < 0 {
		add("cluster: request_timeout and heartbeat must be >= 0 (0 = default)")
	}
	trunks := map[string]bool{}
	for i, t := range c.Trunks {
		where := fmt.Sprintf("trunk %d %q", i+1, t.Name)
		if t.Name == "" {
			add("%s: name must not be empty", where)
		}
		if trunks[t.Name] {
			add("%s: name is used twice", where)
		}
		trunks[t.Name] = true
		if _, _, err := net.SplitHostPort(t.Address); err != nil {
			add("%s: address %q: want host:port (%v)", where, t.Address, err)
		}
		switch strings.ToLower(t.Transport) {
		case "", "udp", "tcp", "tls":
		default:
			add("%s: transport %q: want udp, tcp or tls", where, t.Transport)
		}
		if !validSRTP(t.SRTP) {
			add("%s: srtp %q: want off, optional or mandatory", where, t.SRTP)
		}
		for _, p := range t.Prefixes {
			if !strings.HasPrefix(p, "+") {
				add("%s: prefix %q must start with '+'", where, p)
			}
		}
		for _, id := range t.CallerIDs {
			if !ValidE164(strings.TrimSuffix(id, "*")) && id != "+*" {
				add("%s: caller id %q: want E.164, optionally ending in '*'", where, id)
			}
		}
		if t.DefaultCallerID != "" && !ValidE164(t.DefaultCallerID) {
			add("%s: default_caller_id %q is not E.164", where, t.DefaultCallerID)
		}
		if (t.Username == "") != (t.Password == "") {
			add("%s: set both username and password, or neither", where)
		}
	}
	return errors.Join(errs...)
}

// ValidDialHost reports whether h can be a dial policy's allowed host: a
// host name, "*." and a domain, an IP address or a CIDR network.
func ValidDialHost(h string) bool {
	if _, err := netip.ParsePrefix(h); err == nil {
		return true
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	name := strings.TrimPrefix(h, "*.")
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ValidDialPrefix reports whether p can be a dial policy's number prefix:
// 1-15 digits, optionally after a '+'.
func ValidDialPrefix(p string) bool {
	digits := strings.TrimPrefix(p, "+")
	if digits == "" || len(digits) > 15 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
