//go:build !wasip1

package main

import (
	"testing"

	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the recording suite natively through the SDK's host
// emulator, in order on one store (the root module runs it against the Wasm
// and webhook builds); the plugin keeps nothing in the store, and logs
// where the recording is.
func TestGolden(t *testing.T) {
	h := mstest.GoldenSequence(t, "../../sdk/conformance/iotcomms/recording/*.golden")
	if kv := h.KV(); len(kv) != 0 {
		t.Fatalf("the sessions left %q in the store", kv)
	}
	want := "recording call-sess-rec.wav ready at /promptfile/call-sess-rec.wav (42 s)"
	found := false
	for _, l := range h.Logs() {
		found = found || l.Message == want
	}
	if !found {
		t.Fatalf("logs %v, want %q", h.Logs(), want)
	}
}
