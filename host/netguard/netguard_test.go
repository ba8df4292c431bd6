package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestCheck(t *testing.T) {
	p, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ip   string
		ok   bool
	}{
		{name: "public v4", ip: "93.184.216.34", ok: true},
		{name: "public v6", ip: "2606:2800:220:1:248:1893:25c8:1946", ok: true},
		{name: "loopback", ip: "127.0.0.1"},
		{name: "loopback elsewhere in 127/8", ip: "127.1.2.3"},
		{name: "v6 loopback", ip: "::1"},
		{name: "v4-mapped loopback", ip: "::ffff:127.0.0.1"},
		{name: "private 10", ip: "10.1.2.3"},
		{name: "private 172.16", ip: "172.20.0.1"},
		{name: "private 192.168", ip: "192.168.1.1"},
		{name: "metadata", ip: "169.254.169.254"},
		{name: "aws v6 metadata", ip: "fd00:ec2::254"},
		{name: "link-local v6", ip: "fe80::1"},
		{name: "cgnat", ip: "100.64.0.1"},
		{name: "unspecified", ip: "0.0.0.0"},
		{name: "this network", ip: "0.1.2.3"},
		{name: "multicast", ip: "239.1.1.1"},
		{name: "broadcast", ip: "255.255.255.255"},
		{name: "nat64 of private", ip: "64:ff9b::a00:1"},
		{name: "nat64 of public", ip: "64:ff9b::5db8:d822", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(netip.MustParseAddr(tt.ip))
			if tt.ok != (err == nil) {
				t.Fatalf("Check(%s) = %v, want ok=%v", tt.ip, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrForbidden) {
				t.Fatalf("err %v does not wrap ErrForbidden", err)
			}
		})
	}
}

func TestAllow(t *testing.T) {
	p, err := New([]string{"127.0.0.0/8", "::1", "10.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"127.0.0.1", "::1", "10.20.3.4"} {
		if err := p.Check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("%s: %v", ip, err)
		}
	}
	for _, ip := range []string{"10.21.0.1", "169.254.169.254"} {
		if err := p.Check(netip.MustParseAddr(ip)); err == nil {
			t.Errorf("%s allowed", ip)
		}
	}
	if _, err := New([]string{"not-a-network"}); err == nil {
		t.Error("a bad allow entry was accepted")
	}
}

func TestCheckURL(t *testing.T) {
	p, _ := New(nil)
	tests := []struct {
		url  string
		want error
	}{
		{url: "https://hooks.example.com/call", want: nil},
		{url: "http://93.184.216.34:8080/x", want: nil},
		{url: "http://127.0.0.1:8080/", want: ErrForbidden},
		{url: "http://[::1]/", want: ErrForbidden},
		{url: "http://localhost:9000/", want: ErrForbidden},
		{url: "http://169.254.169.254/latest/meta-data/", want: ErrForbidden},
		{url: "ftp://example.com/", want: ErrBadURL},
		{url: "/relative", want: ErrBadURL},
		{url: "http://user:pw@example.com/", want: ErrBadURL},
	}
	for _, tt := range tests {
		err := p.CheckURL(tt.url)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("CheckURL(%q) = %v, want %v", tt.url, err, tt.want)
		}
	}
}

// A request through the policy's client to a loopback server is refused at
// connect time, including when a name resolves there and when an allowed
// server redirects there; the reason shown to a tenant names no address.
func TestClientRefusesAtDial(t *testing.T) {
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secret")
	}))
	defer internal.Close()
	strict, _ := New(nil)
	ctx := context.Background()
	for _, u := range []string{internal.URL, "http://localhost:" + internal.URL[len("http://127.0.0.1:"):]} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := strict.Client().Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: reached the internal server", u)
		}
		if !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s: %v, want ErrForbidden", u, err)
		}
		if r := Reason(ctx, err); r != "address not allowed by the server's egress policy" {
			t.Fatalf("reason %q", r)
		}
	}

	// An allowed front server (127.0.0.2 is allowed, 127.0.0.1 is not)
	// redirecting to the internal one.
	front := httptest.NewUnstartedServer(http.RedirectHandler(internal.URL, http.StatusFound))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	front.Listener = ln
	front.Start()
	defer front.Close()
	partial, _ := New([]string{"127.0.0.2"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL, nil)
	resp, err := partial.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the redirect reached the internal server")
	}
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("redirect: %v, want ErrForbidden", err)
	}

	open, _ := New([]string{"127.0.0.0/8"})
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, internal.URL, nil)
	resp, err = open.Client().Do(req)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	resp.Body.Close()
}

func TestReason(t *testing.T) {
	p, _ := New([]string{"127.0.0.0/8"})
	ctx := context.Background()
	// A closed port on an allowed address: the tenant sees only that the
	// connection failed, not "connection refused" and the address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	_, err = p.Client().Do(req)
	if err == nil {
		t.Fatal("closed port answered")
	}
	if r := Reason(ctx, err); r != "connection failed" {
		t.Fatalf("reason %q for %v", r, err)
	}
}
