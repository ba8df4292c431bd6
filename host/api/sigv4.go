package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

// AWS Signature Version 4, as AWS clients sign Chime's APIs: the
// credential scope names the service "chime" (both the chime-sdk-voice and
// the older chime namespace sign with it). The access key id is the API
// key's id and the secret access key is its whole secret.
//
// See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	// SigV4Service is the service name of the credential scope.
	SigV4Service = "chime"
	// SigV4MaxSkew is how far X-Amz-Date may be from the server's clock.
	SigV4MaxSkew  = 15 * time.Minute
	amzDateFormat = "20060102T150405Z"
	// emptySHA256 is the payload hash of a request without a body.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sigV4Auth is a parsed "Authorization: AWS4-HMAC-SHA256 …" header.
type sigV4Auth struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    []byte
}

// parseSigV4 parses the header after the algorithm name:
// "Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseSigV4(params string) (sigV4Auth, error) {
	var a sigV4Auth
	var cred, signed, sig string
	for _, part := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("%q is not name=value", strings.TrimSpace(part))
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	switch {
	case cred == "":
		return a, errors.New("no Credential")
	case signed == "":
		return a, errors.New("no SignedHeaders")
	case sig == "":
		return a, errors.New("no Signature")
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return a, fmt.Errorf("Credential %q: want ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request", cred)
	}
	a.keyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	a.signedHeaders = strings.Split(signed, ";")
	for i, name := range a.signedHeaders {
		if name == "" || name != strings.ToLower(name) || (i > 0 && name <= a.signedHeaders[i-1]) {
			return a, fmt.Errorf("SignedHeaders %q: want sorted, distinct, lower-case names", signed)
		}
	}
	var err error
	if a.signature, err = hex.DecodeString(sig); err != nil || len(a.signature) != sha256.Size {
		return a, fmt.Errorf("Signature %q: want 64 hex digits", sig)
	}
	return a, nil
}

// sigV4Error is a rejection: the answer, and the reason for the log.
func sigV4Error(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// authenticateSigV4 verifies a signed request and returns the key's tenant
// and key. The body is read (up to the JSON cap) to hash it and replaced by
// a copy, or, for a larger body that comes with X-Amz-Content-Sha256,
// checked against that hash as the handler reads it.
func (h *Handler) authenticateSigV4(w http.ResponseWriter, r *http.Request, params string) (string, tenant.Key, *Error) {
	a, err := parseSigV4(params)
	if err != nil {
		return h.sigV4Reject(r, a.keyID, "malformed Authorization header: "+err.Error(),
			sigV4Error(http.StatusUnauthorized, CodeUnauthorized, "malformed AWS4-HMAC-SHA256 Authorization header: "+err.Error()))
	}
	reject := func(msg string) (string, tenant.Key, *Error) {
		return h.sigV4Reject(r, a.keyID, msg, sigV4Error(http.StatusForbidden, CodeForbidden, msg))
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	switch {
	case amzDate == "":
		return reject("signed requests need an X-Amz-Date header")
	case err != nil:
		return reject(fmt.Sprintf("X-Amz-Date %q: want YYYYMMDDTHHMMSSZ", amzDate))
	case a.date != amzDate[:8]:
		return reject(fmt.Sprintf("credential scope date %s does not match X-Amz-Date %s", a.date, amzDate))
	case a.service != SigV4Service:
		return reject(fmt.Sprintf("credential scope service %q: sign requests to this API for service %q", a.service, SigV4Service))
	case len(h.o.regions) > 0 && !slices.Contains(h.o.regions, a.region):
		return reject(fmt.Sprintf("credential scope region %q is not one of this server's regions (%s)", a.region, strings.Join(h.o.regions, ", ")))
	case !slices.Contains(a.signedHeaders, "host") || !slices.Contains(a.signedHeaders, "x-amz-date"):
		return reject("SignedHeaders must include host and x-amz-date")
	}
	now := h.o.now().UTC()
	if t.Before(now.Add(-SigV4MaxSkew)) {
		return reject(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-SigV4MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}
	if t.After(now.Add(SigV4MaxSkew)) {
		return reject(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(SigV4MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}
	payloadHash, perr := h.payloadHash(w, r)
	if perr != nil {
		return h.sigV4Reject(r, a.keyID, perr.Message, perr)
	}
	var missing string
	canon := canonicalRequest(r, a.signedHeaders, payloadHash, &missing)
	if missing != "" {
		return reject(fmt.Sprintf("signed header %q is not in the request", missing))
	}
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	crHash := sha256.Sum256([]byte(canon))
	toSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])

	tid, key, err := h.reg.AuthenticateSigned(a.keyID, func(secret []byte) bool {
		mac := hmacSHA256(signingKey(secret, a.date, a.region, a.service), []byte(toSign))
		return hmac.Equal(mac, a.signature)
	})
	switch {
	case err == nil:
		return tid, key, nil
	case errors.Is(err, tenant.ErrUnauthorized):
		return reject("The request signature we calculated does not match the signature you provided. " +
			"Check your secret access key and signing method.")
	case errors.Is(err, tenant.ErrUnknownKey):
		return reject(fmt.Sprintf("The security token included in the request is invalid: no access key %q", a.keyID))
	case errors.Is(err, tenant.ErrNoSigningSecret):
		return reject(fmt.Sprintf("access key %s was made before request signing was available: "+
			"send it as a Bearer key, or create a new key (POST /keys) to sign requests", a.keyID))
	case errors.Is(err, tenant.ErrMasterKey):
		h.o.log.Error("api: signed request: the key's secret does not open (wrong master key?)", "access_key_id", a.keyID, "err", err)
		return reject(fmt.Sprintf("the secret of access key %s cannot be read on this server: ask its operator", a.keyID))
	}
	h.o.log.Error("api: authenticate", "err", err)
	return "", tenant.Key{}, &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "the key store is unavailable"}
}

// sigV4Reject logs a rejected signed request, without any secret, and
// returns the answer.
func (h *Handler) sigV4Reject(r *http.Request, keyID, reason string, e *Error) (string, tenant.Key, *Error) {
	h.o.log.Warn("api: signed request rejected", "access_key_id", keyID, "reason", reason,
		"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	return "", tenant.Key{}, e
}

// payloadHash returns the hex SHA-256 of the body that the canonical
// request names. A body up to the JSON cap is read, hashed and replaced;
// a larger one must come with X-Amz-Content-Sha256, and is checked against
// it while the handler reads (a mismatch fails the read at its end, so
// nothing is stored).
func (h *Handler) payloadHash(w http.ResponseWriter, r *http.Request) (string, *Error) {
	declared := strings.ToLower(r.Header.Get("X-Amz-Content-Sha256"))
	if declared != "" {
		if b, err := hex.DecodeString(declared); err != nil || len(b) != sha256.Size {
			return "", sigV4Error(http.StatusForbidden, CodeForbidden,
				fmt.Sprintf("X-Amz-Content-Sha256 %q: want the body's SHA-256 in hex (unsigned payloads are not accepted)", declared))
		}
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return emptySHA256, nil
	}
	if r.ContentLength < 0 || r.ContentLength > h.o.maxBody {
		if declared == "" {
			return "", &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest,
				Message: fmt.Sprintf("a signed request body over %d bytes must carry X-Amz-Content-Sha256", h.o.maxBody)}
		}
		r.Body = &hashCheckReader{r: r.Body, h: sha256.New(), want: declared}
		return declared, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.maxBody))
	if err != nil {
		return "", badRequest("reading the request body: %v", err)
	}
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	if declared != "" && declared != got {
		return "", sigV4Error(http.StatusForbidden, CodeForbidden, "the body does not match X-Amz-Content-Sha256")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return got, nil
}

// hashCheckReader fails the read that reaches the end of a body whose
// SHA-256 is not the declared one.
type hashCheckReader struct {
	r    io.ReadCloser
	h    hash.Hash
	want string
}

func (c *hashCheckReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if errors.Is(err, io.EOF) && hex.EncodeToString(c.h.Sum(nil)) != c.want {
		return n, sigV4Error(http.StatusForbidden, CodeForbidden, "the body does not match X-Amz-Content-Sha256")
	}
	return n, err
}

func (c *hashCheckReader) Close() error { return c.r.Close() }

// canonicalRequest builds SigV4's canonical request. A signed header that
// the request lacks is reported in *missing.
func canonicalRequest(r *http.Request, signed []string, payloadHash string, missing *string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signed {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			if vals = r.Header.Values(name); len(vals) == 0 && r.ContentLength >= 0 {
				vals = []string{fmt.Sprint(r.ContentLength)}
			}
		default:
			vals = r.Header.Values(name)
		}
		if len(vals) == 0 && *missing == "" {
			*missing = name
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI is the path as the client sent it, dot segments and empty
// segments removed, then URI-encoded once more: AWS services other than S3
// sign the encoded path encoded again.
func canonicalURI(r *http.Request) string {
	raw := r.RequestURI
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if !strings.HasPrefix(raw, "/") {
		raw = r.URL.EscapedPath()
	}
	var segs []string
	for _, s := range strings.Split(raw, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	p := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(raw, "/") {
		p += "/"
	}
	return awsEscape(p, true)
}

// canonicalQuery sorts the decoded parameters by name, then value, each
// encoded the AWS way.
func canonicalQuery(raw string) string {
	type kv struct{ k, v string }
	var ps []kv
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		ps = append(ps, kv{awsEscape(k, false), awsEscape(v, false)})
	}
	slices.SortFunc(ps, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// awsEscape percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/'
// when keepSlash), with upper-case hex.
func awsEscape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// signingKey derives the key of one day, region and service from the secret.
func signingKey(secret []byte, date, region, service string) []byte {
	seed := append([]byte("AWS4"), secret...)
	k := hmacSHA256(seed, []byte(date))
	clear(seed)
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}
