// Package netguard keeps the server's outbound HTTP (webhooks, and any
// other URL a tenant gives it) away from networks a tenant must not reach:
// loopback, private and link-local addresses, cloud metadata services,
// multicast and the other special-purpose ranges. The operator allows
// exceptions by network (config [egress] allow).
//
// The check runs when a connection is made, on the address actually
// dialled, so a host name that resolves (or re-resolves, or redirects) to a
// forbidden address is refused too; proxies from the environment are not
// used, since the check would then see only the proxy.
package netguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is returned for an address the policy refuses.
var ErrForbidden = errors.New("address not allowed by the server's egress policy")

// ErrBadURL is returned for a URL that is not an absolute http(s) URL.
var ErrBadURL = errors.New("not an http or https URL")

// denied are the networks no tenant URL may reach unless allowed.
// See https://www.iana.org/assignments/iana-ipv4-special-registry and
// https://www.iana.org/assignments/iana-ipv6-special-registry
var denied = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments
		"2001:db8::/32",   // documentation
		"fc00::/7",        // unique local (AWS metadata fd00:ec2::254)
		"fe80::/10",       // link-local
		"ff00::/8",        // multicast
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// nat64 is the well-known NAT64 prefix: its addresses embed an IPv4
// address, which is checked instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Policy says which addresses outbound HTTP may reach. The zero value
// refuses every special-purpose network.
type Policy struct {
	allow []netip.Prefix
}

// New returns a policy that also allows the given networks (CIDR, or a
// single address).
func New(allow []string) (*Policy, error) {
	p := &Policy{}
	for _, a := range allow {
		pfx, err := ParsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("egress allow %q: %w", a, err)
		}
		p.allow = append(p.allow, pfx)
	}
	return p, nil
}

// ParsePrefix reads a CIDR network or a single address (a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ValidatePrefixes checks an allow list without building a policy.
func ValidatePrefixes(allow []string) error {
	_, err := New(allow)
	return err
}

// Check returns nil when ip may be reached, else an error wrapping
// ErrForbidden.
func (p *Policy) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	if p != nil {
		for _, a := range p.allow {
			if a.Contains(ip) {
				return nil
			}
		}
	}
	if !ip.IsValid() {
		return fmt.Errorf("%w: no address", ErrForbidden)
	}
	for _, d := range denied {
		if d.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrForbidden, ip, d)
		}
	}
	return nil
}

// CheckURL checks that raw is an absolute http(s) URL and, when its host
// is an IP literal, that the policy allows it. Host names are checked when
// they are dialled.
func (p *Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q", ErrBadURL, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL are not supported", ErrBadURL)
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.Check(ip)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return p.Check(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	return nil
}

// control is the net.Dialer Control function: it runs after name
// resolution, on the address about to be connected.
func (p *Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	return p.Check(ap.Addr())
}

// Dialer returns a dialer that refuses forbidden addresses.
func (p *Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
}

// Transport returns an HTTP transport that dials through the policy and
// never uses a proxy.
func (p *Policy) Transport() *http.Transport {
	d := p.Dialer()
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Client returns an HTTP client on Transport that follows at most 5
// redirects (each new connection is checked again).
func (p *Policy) Client() *http.Client {
	return &http.Client{
		Transport: p.Transport(),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// Reason turns an error from a request through the policy into a short
// description that is safe to show a tenant: it says what kind of failure
// happened without the network detail (addresses, ports, system error
// text) that would let a tenant map the server's network.
func Reason(ctx context.Context, err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrForbidden):
		return "address not allowed by the server's egress policy"
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, ErrBadURL):
		return "not an http or https URL"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "host name not resolved"
	}
	var (
		verify *tls.CertificateVerificationError
		record tls.RecordHeaderError
		alert  tls.AlertError
		unk    x509.UnknownAuthorityError
		host   x509.HostnameError
	)
	if errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) || errors.As(err, &unk) || errors.As(err, &host) {
		return "TLS handshake failed"
	}
	return "connection failed"
}
