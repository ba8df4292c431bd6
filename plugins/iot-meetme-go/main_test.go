//go:build !wasip1

package main

import (
	"testing"

	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the meetme suite natively through the SDK's host emulator,
// in order on one store (the root module runs it against the Wasm and
// webhook builds). Every session ends with sessionCompleted, which must
// leave nothing in the store.
func TestGolden(t *testing.T) {
	h := mstest.GoldenSequence(t, "../../sdk/conformance/iotcomms/meetme/*.golden")
	if kv := h.KV(); len(kv) != 0 {
		t.Fatalf("the sessions left %q in the store", kv)
	}
}
