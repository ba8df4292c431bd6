package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/internal/tlsfiles"
)

var testKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcd")) // 30 bytes

func TestParseCrypto(t *testing.T) {
	tests := []struct {
		in      string
		want    Crypto
		wantErr bool
	}{
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, want: Crypto{Tag: 1, Suite: SuiteAES128SHA1_80}},
		{in: "7 AES_CM_128_HMAC_SHA1_32 inline:" + testKey + "|2^31", want: Crypto{Tag: 7, Suite: SuiteAES128SHA1_32}},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|1048576 WSH=64 KDR=0", want: Crypto{Tag: 1, Suite: SuiteAES128SHA1_80}},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(testKey, "="), want: Crypto{Tag: 1, Suite: SuiteAES128SHA1_80}},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20|1:4", wantErr: true},          // MKI
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|1:4", wantErr: true},               // MKI without lifetime
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + ";inline:" + testKey, wantErr: true}, // two keys
		{in: "1 AES_256_CM_HMAC_SHA1_80 inline:" + testKey, wantErr: true},                        // suite
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=", wantErr: true},                          // short key
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:!!!", wantErr: true},                               // not base64
		{in: "1 AES_CM_128_HMAC_SHA1_80 uri:http://x", wantErr: true},                             // key method
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + " UNENCRYPTED_SRTP", wantErr: true},  // weakened
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + " KDR=24", wantErr: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^x", wantErr: true},
		{in: "-1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, wantErr: true},
		{in: "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, wantErr: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		c, err := ParseCrypto(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrCrypto) {
				t.Errorf("ParseCrypto(%q) = %+v, %v; want ErrCrypto", tt.in, c, err)
			}
			continue
		}
		if err != nil || c.Tag != tt.want.Tag || c.Suite != tt.want.Suite || string(c.Key[:]) != "0123456789abcdef0123456789abcd" {
			t.Errorf("ParseCrypto(%q) = %+v, %v; want %+v with the test key", tt.in, c, err, tt.want)
		}
	}
}

// FuzzParseCrypto: the a=crypto value comes from the network. Never a
// panic; what parses prints back to an equivalent line.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20 WSH=64")
	f.Add("2 AES_CM_128_HMAC_SHA1_32 inline:" + testKey + "|2^20|1:4")
	f.Add("1 F8_128_HMAC_SHA1_80 inline:" + testKey + ";inline:" + testKey)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCrypto(s)
		if err != nil {
			if !errors.Is(err, ErrCrypto) {
				t.Fatalf("error %v does not wrap ErrCrypto", err)
			}
			return
		}
		back, err := ParseCrypto(c.String())
		if err != nil || back != c {
			t.Fatalf("%q parsed to %+v, which prints as %q and parses to %+v, %v", s, c, c.String(), back, err)
		}
	})
}

func offerWith(proto string, cryptos ...string) []byte {
	s := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 " + proto + " 0 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	for _, c := range cryptos {
		s += "a=crypto:" + c + "\r\n"
	}
	return []byte(s)
}

// TestNegotiateSRTPPolicies answers each kind of offer under each policy.
func TestNegotiateSRTPPolicies(t *testing.T) {
	good := "3 AES_CM_128_HMAC_SHA1_32 inline:" + testKey
	unusable := "1 AES_256_CM_HMAC_SHA1_80 inline:" + testKey
	offers := map[string][]byte{
		"savp":             offerWith("RTP/SAVP", unusable, good),
		"savp unusable":    offerWith("RTP/SAVP", unusable),
		"avp with crypto":  offerWith("RTP/AVP", good),
		"avp plain":        offerWith("RTP/AVP"),
		"savpf with crypt": offerWith("RTP/SAVPF", good),
	}
	// want: "srtp", "rtp", or the error.
	tests := []struct {
		offer  string
		policy SRTPPolicy
		want   any
	}{
		{"savp", SRTPOff, ErrSRTPRefused},
		{"savp", SRTPOptional, "srtp"},
		{"savp", SRTPMandatory, "srtp"},
		{"savp unusable", SRTPOptional, ErrSRTPRequired},
		{"savp unusable", SRTPMandatory, ErrSRTPRequired},
		{"avp with crypto", SRTPOff, "rtp"},
		{"avp with crypto", SRTPOptional, "srtp"},
		{"avp with crypto", SRTPMandatory, "srtp"},
		{"avp plain", SRTPOff, "rtp"},
		{"avp plain", SRTPOptional, "rtp"},
		{"avp plain", SRTPMandatory, ErrSRTPRequired},
		{"savpf with crypt", SRTPOptional, "srtp"},
	}
	for _, tt := range tests {
		n, err := NegotiateSRTP(offers[tt.offer], []string{"PCMU"}, tt.policy)
		if werr, ok := tt.want.(error); ok {
			if !errors.Is(err, werr) {
				t.Errorf("%s under %s: %v, want %v", tt.offer, tt.policy, err, werr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s under %s: %v", tt.offer, tt.policy, err)
			continue
		}
		ans := string(n.Answer(netip.MustParseAddrPort("127.0.0.1:30000"), 1, 1))
		if tt.want == "rtp" {
			if n.Remote.SRTP.On() || strings.Contains(ans, "crypto") || !strings.Contains(ans, "RTP/AVP") {
				t.Errorf("%s under %s: srtp %+v, answer\n%s\nwant plain rtp", tt.offer, tt.policy, n.Remote.SRTP, ans)
			}
			continue
		}
		s := n.Remote.SRTP
		if s.Suite != SuiteAES128SHA1_32 || string(s.Remote[:]) != "0123456789abcdef0123456789abcd" || s.Local == s.Remote || s.Local == ([SRTPKeyLen]byte{}) {
			t.Errorf("%s under %s: srtp %+v", tt.offer, tt.policy, s)
		}
		wantProto := "RTP/AVP"
		if strings.Contains(tt.offer, "savp") {
			wantProto = "RTP/SAVP"
		}
		wantLine := "a=crypto:" + Crypto{Tag: 3, Suite: SuiteAES128SHA1_32, Key: s.Local}.String()
		if !strings.Contains(ans, "m=audio 30000 "+wantProto+" ") || !strings.Contains(ans, wantLine) || strings.Count(ans, "a=crypto") != 1 {
			t.Errorf("%s under %s: answer\n%s\nwant %s with %s", tt.offer, tt.policy, ans, wantProto, wantLine)
		}
	}
}

// TestSRTPAnswerToOurOffer: the answer to our offer picks one of our
// lines by tag; its key becomes the remote one, ours the local one.
func TestSRTPAnswerToOurOffer(t *testing.T) {
	offered := offerCryptos()
	l := localSDP{sessionID: 1, version: 1, addr: netip.MustParseAddrPort("127.0.0.1:4000")}
	for _, policy := range []SRTPPolicy{SRTPOptional, SRTPMandatory} {
		offer := string(offerSDP(l, []string{"PCMU"}, policy, offered))
		wantProto := map[SRTPPolicy]string{SRTPOptional: "RTP/AVP", SRTPMandatory: "RTP/SAVP"}[policy]
		if !strings.Contains(offer, "m=audio 4000 "+wantProto+" ") || strings.Count(offer, "a=crypto:") != 2 {
			t.Fatalf("offer under %s:\n%s", policy, offer)
		}
		// The peer answers with our tag 2 and its own key.
		side := srtpSide{policy: policy, isAnswer: true, offered: offered}
		n, err := negotiate(offerWith(wantProto, "2 AES_CM_128_HMAC_SHA1_32 inline:"+testKey), []string{"PCMU"}, side)
		if err != nil {
			t.Fatal(err)
		}
		if n.Remote.SRTP.Local != offered[1].Key || string(n.Remote.SRTP.Remote[:]) != "0123456789abcdef0123456789abcd" {
			t.Fatalf("keys %+v, want ours of tag 2 and the answer's", n.Remote.SRTP)
		}
		// A tag we never offered, or a suite that does not match its tag.
		for _, bad := range []string{"9 AES_CM_128_HMAC_SHA1_80 inline:" + testKey, "1 AES_CM_128_HMAC_SHA1_32 inline:" + testKey} {
			if _, err := negotiate(offerWith(wantProto, bad), []string{"PCMU"}, side); !errors.Is(err, ErrSRTPRequired) && policy == SRTPMandatory {
				t.Errorf("answer %q under %s: %v, want ErrSRTPRequired", bad, policy, err)
			}
		}
	}
	// Mandatory: a plain answer is refused; optional: it is plain RTP.
	if _, err := negotiate(offerWith("RTP/AVP"), []string{"PCMU"}, srtpSide{policy: SRTPMandatory, isAnswer: true, offered: offered}); !errors.Is(err, ErrSRTPRequired) {
		t.Errorf("plain answer under mandatory: %v", err)
	}
	if n, err := negotiate(offerWith("RTP/AVP"), []string{"PCMU"}, srtpSide{policy: SRTPOptional, isAnswer: true, offered: offered}); err != nil || n.Remote.SRTP.On() {
		t.Errorf("plain answer under optional: %v, %+v", err, n)
	}
}

// TestReofferKeepsKey: a re-offer with the same suite keeps our key, so a
// session refresh changes nothing; the peer's new key shows as a change.
func TestReofferKeepsKey(t *testing.T) {
	first, err := NegotiateSRTP(offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey), []string{"PCMU"}, SRTPMandatory)
	if err != nil {
		t.Fatal(err)
	}
	again, err := negotiate(offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey), []string{"PCMU"}, srtpSide{policy: SRTPMandatory, keep: first.Remote.SRTP})
	if err != nil {
		t.Fatal(err)
	}
	if again.Remote != first.Remote {
		t.Fatalf("same re-offer changed the media: %+v vs %+v", again.Remote, first.Remote)
	}
	newKey := base64.StdEncoding.EncodeToString([]byte("ZYXWVUTSRQPONMLKJIHGFEDCBA9876"))
	rekey, err := negotiate(offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+newKey), []string{"PCMU"}, srtpSide{policy: SRTPMandatory, keep: first.Remote.SRTP})
	if err != nil {
		t.Fatal(err)
	}
	if rekey.Remote.SRTP.Local != first.Remote.SRTP.Local || rekey.Remote.SRTP.Remote == first.Remote.SRTP.Remote {
		t.Fatalf("rekey: %+v", rekey.Remote.SRTP)
	}
}

// tlsPair returns a server TLS config over a fresh self-signed
// certificate and a client config that trusts it.
func tlsPair(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	certFile, keyFile, err := tlsfiles.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certs, err := tlsfiles.Load(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(mustLeaf(t, certs))
	return certs.ServerConfig(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func mustLeaf(t testing.TB, c *tlsfiles.Certs) *x509.Certificate {
	cert, _ := c.GetCertificate(nil)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// TestTLSCallWithSRTP: one server dials another over TLS (sips:) with SRTP
// mandatory on both sides; each side's local key is the other's remote
// key, and the BYE travels back over the TLS connection.
func TestTLSCallWithSRTP(t *testing.T) {
	srvTLS, cliTLS := tlsPair(t)
	answered := make(chan *Call, 1)
	callee, err := NewServer(Config{TLS: []string{"127.0.0.1:0"}, TLSConfig: srvTLS,
		SRTP: map[string]SRTPPolicy{"TLS": SRTPMandatory}}, HandlerFunc(func(c *Call) {
		if err := c.Answer(netip.MustParseAddrPort("127.0.0.1:40002")); err != nil {
			t.Errorf("Answer: %v", err)
		}
		answered <- c
	}))
	if err != nil {
		t.Fatal(err)
	}
	caller, err := NewServer(Config{TLS: []string{"127.0.0.1:0"}, TLSConfig: srvTLS, TLSClientConfig: cliTLS}, HandlerFunc(func(c *Call) { c.Reject(603, "") }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go callee.ListenAndServe(ctx)
	go caller.ListenAndServe(ctx)
	addr, _ := callee.Addr("TLS")
	if got, ok := callee.Addr("tls"); !ok || got != addr {
		t.Fatal("Addr is not case-insensitive")
	}

	// SRTP off on a trunk to a mandatory callee: 488.
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	_, err = caller.Dial(dctx, DialParams{Target: "sips:+15550100@" + addr.String(), Local: netip.MustParseAddrPort("127.0.0.1:40000")})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 488 {
		t.Fatalf("plain offer to an srtp-mandatory listener: %v, want 488", err)
	}

	out, err := caller.Dial(dctx, DialParams{Target: "sips:+15550100@" + addr.String(), Local: netip.MustParseAddrPort("127.0.0.1:40000"), SRTP: SRTPMandatory})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	in := <-answered
	if in.Transport != "TLS" || out.Transport != "TLS" {
		t.Fatalf("transports %q / %q, want TLS", in.Transport, out.Transport)
	}
	a, b := out.Remote.SRTP, in.Remote.SRTP
	if !a.On() || a.Suite != b.Suite || a.Local != b.Remote || a.Remote != b.Local || a.Local == a.Remote {
		t.Fatalf("keys do not mirror: caller %+v, callee %+v", a, b)
	}
	if err := out.Hangup(dctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	var reasons []string
	for _, ev := range drain(in) {
		reasons = append(reasons, ev.Type.String()+":"+ev.Reason)
	}
	if got := strings.Join(reasons, ","); got != "ack:,bye:,terminated:bye" {
		t.Fatalf("callee events %s", got)
	}
}

// TestTLSUntrustedCertificate: a dial to a peer whose certificate the
// client does not trust fails; nothing is sent in clear.
func TestTLSUntrustedCertificate(t *testing.T) {
	srvTLS, _ := tlsPair(t)
	_, otherClient := tlsPair(t) // trusts another certificate
	callee, err := NewServer(Config{TLS: []string{"127.0.0.1:0"}, TLSConfig: srvTLS}, HandlerFunc(func(c *Call) {
		t.Error("call reached the handler over an untrusted connection")
		c.Reject(603, "")
	}))
	if err != nil {
		t.Fatal(err)
	}
	caller, err := NewServer(Config{TLS: []string{"127.0.0.1:0"}, TLSConfig: srvTLS, TLSClientConfig: otherClient}, HandlerFunc(func(c *Call) {}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go callee.ListenAndServe(ctx)
	go caller.ListenAndServe(ctx)
	addr, _ := callee.Addr("TLS")
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	_, err = caller.Dial(dctx, DialParams{Target: "sip:+15550100@" + addr.String() + ";transport=tls", Local: netip.MustParseAddrPort("127.0.0.1:40000")})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Dial to an untrusted certificate: %v, want a certificate error", err)
	}
}

func TestNoTLSCertificate(t *testing.T) {
	if _, err := NewServer(Config{TLS: []string{"127.0.0.1:0"}}, HandlerFunc(func(*Call) {})); !errors.Is(err, ErrNoTLS) {
		t.Fatalf("TLS listener without a certificate: %v, want ErrNoTLS", err)
	}
}

// TestOfferlessSRTP: an INVITE without SDP under SRTP optional gets our
// offer (RTP/AVP with both suites' a=crypto lines) in the 200; the answer
// in the ACK picks tag 2, and the call's media carries our key of that
// line and the caller's.
func TestOfferlessSRTP(t *testing.T) {
	acked := make(chan Event, 1)
	s := startServerConfig(t, Config{UDP: []string{"127.0.0.1:0"}, Logger: testLogger(t), SRTP: map[string]SRTPPolicy{"UDP": SRTPOptional}},
		HandlerFunc(func(c *Call) {
			_ = c.Answer(testRTP) // its result is the ack checked below
			for e := range c.Events() {
				if e.Type == EventAck {
					acked <- e
				}
			}
		}))
	addr, _ := s.Addr("UDP")
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(rawRequest("INVITE", "UDP", "offerless-srtp", "", nil, "", "", -1))); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8192)
	var ok string
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for ok == "" {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no 200 OK: %v", err)
		}
		if msg := string(buf[:n]); strings.HasPrefix(msg, "SIP/2.0 200") {
			ok = msg
		}
	}
	offers := regexp.MustCompile(`a=crypto:(\d) (\S+) inline:(\S+)`).FindAllStringSubmatch(ok, -1)
	if !strings.Contains(ok, "m=audio 40000 RTP/AVP ") || len(offers) != 2 {
		t.Fatalf("offer in the 200:\n%s", ok)
	}
	ours, err := ParseCrypto(offers[1][1] + " " + offers[1][2] + " inline:" + offers[1][3])
	if err != nil || ours.Tag != 2 {
		t.Fatalf("our second line: %+v, %v", ours, err)
	}
	toTag := regexp.MustCompile(`(?m)^To: .*;tag=([^;\r\n]+)`).FindStringSubmatch(ok)
	if toTag == nil {
		t.Fatalf("no To tag:\n%s", ok)
	}
	answer := "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4002 RTP/AVP 0\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=crypto:2 " + ours.Suite + " inline:" + testKey + "\r\n"
	if _, err := conn.Write([]byte(rawRequest("ACK", "UDP", "offerless-srtp", toTag[1], nil, "application/sdp", answer, -1))); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-acked:
		s := e.Media.SRTP
		if s.Suite != SuiteAES128SHA1_32 || s.Local != ours.Key || string(s.Remote[:]) != "0123456789abcdef0123456789abcd" {
			t.Fatalf("ack media srtp %+v, want our tag-2 key and the caller's", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EventAck")
	}
}

// TestDrainingRefusesInvites: SetDraining makes new INVITEs get 503.
func TestDrainingRefusesInvites(t *testing.T) {
	s := startServerConfig(t, Config{UDP: []string{"127.0.0.1:0"}, Logger: testLogger(t)}, HandlerFunc(func(c *Call) { c.Reject(486, "") }))
	addr, _ := s.Addr("UDP")
	codes, _ := exchange(t, "UDP", addr.String(), rawRequest("INVITE", "UDP", "before-drain", "", nil, "application/sdp", goodSDP, -1))
	if codes[len(codes)-1] != 486 {
		t.Fatalf("before draining: %v, want the handler's 486", codes)
	}
	s.SetDraining(true)
	codes, _ = exchange(t, "UDP", addr.String(), rawRequest("INVITE", "UDP", "while-draining", "", nil, "application/sdp", goodSDP, -1))
	if codes[len(codes)-1] != 503 {
		t.Fatalf("while draining: %v, want 503", codes)
	}
}
