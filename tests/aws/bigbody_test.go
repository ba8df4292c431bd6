package aws

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSignedLargeBody: a body over the JSON cap is signed through its
// X-Amz-Content-Sha256 and checked as the server reads it. The SDK's
// signer signs an object upload; the same signature over other bytes of
// the same length is refused, and nothing is stored.
func TestSignedLargeBody(t *testing.T) {
	s := startServer(t)
	cfg := sdkConfig(t, s)
	ctx := t.Context()
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("RIFF-not-really-audio "), 10000) // 220 kB
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	put := func(key string, payload []byte) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, "PUT", s.url+"/buckets/prompts/objects/"+key, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-Amz-Content-Sha256", hash)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "chime", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		req.Body, req.ContentLength = readCloser{bytes.NewReader(payload)}, int64(len(payload))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := put("big.wav", body); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed upload: %d, want 200", resp.StatusCode)
	}
	tampered := bytes.Clone(body)
	tampered[len(tampered)-1] ^= 1
	if resp := put("tampered.wav", tampered); resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "ForbiddenException" {
		t.Fatalf("tampered upload: %d %s, want 403 ForbiddenException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	for key, want := range map[string]int{"big.wav": http.StatusOK, "tampered.wav": http.StatusNotFound} {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/buckets/prompts/objects/"+key, nil)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "chime", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", key, resp.StatusCode, want)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
