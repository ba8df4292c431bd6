//go:build !wasip1

package main

import (
	"testing"

	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the ivr suite natively through the SDK's host emulator
// (the root module runs it against the Wasm and webhook builds).
func TestGolden(t *testing.T) {
	mstest.GoldenSequence(t, "../../sdk/conformance/iotcomms/ivr/*.golden")
}
