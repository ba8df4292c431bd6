//go:build !wasip1

package main

import (
	"testing"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the transfer suite natively through the SDK's host emulator,
// in order on one store (the root module runs it against the Wasm and
// webhook builds). Every session ends with sessionCompleted, which must
// leave nothing in the store.
func TestGolden(t *testing.T) {
	h := mstest.GoldenSequence(t, "../../sdk/conformance/iotcomms/transfer/*.golden")
	if kv := h.KV(); len(kv) != 0 {
		t.Fatalf("the sessions left %q in the store", kv)
	}
}

// TestControllerState checks what the controller reads from the store
// before each of its API calls: the ids in the callAnswered bodies of the
// suite.
func TestControllerState(t *testing.T) {
	h := ms.NewHost()
	for _, c := range mstest.Cases(t, "../../sdk/conformance/iotcomms/transfer/*.golden") {
		mstest.Run(t, h, c)
		for _, w := range controllerNeeds[c.Name] {
			if got := string(h.KV()[w[0]]); got != w[1] {
				t.Fatalf("after %s: %s = %q, want %q", c.Name, w[0], got, w[1])
			}
		}
	}
}

// controllerNeeds: after the step named, the store holds these values.
var controllerNeeds = map[string][][2]string{
	"03_xfer_a_with_b": {{"iot/sess-xfer/A", "sess-xfer/p1"}, {"iot/sess-xfer/B", "sess-xfer/p2"},
		{"iot/sess-xfer/AwithB/connectionId", "sess-xfer/1"}, {"iot/sess-xfer/AwithB/replyId", "reply-1"}},
	"05_xfer_a_with_ivr": {{"iot/sess-xfer/AwithIVR/connectionId", "sess-xfer/2"}, {"iot/sess-xfer/AwithIVR/replyId", "reply-2"}},
	"09_xfer_b_with_c": {{"iot/sess-xfer/C", "sess-xfer/p4"}, {"iot/sess-xfer/Bwith", "C"},
		{"iot/sess-xfer/BwithC/connectionId", "sess-xfer/3"}, {"iot/sess-xfer/BwithC/replyId", "reply-3"}},
	"13_xfer_c_with_a":   {{"iot/sess-xfer/AwithC/connectionId", "sess-xfer/4"}, {"iot/sess-xfer/AwithC/replyId", "reply-4"}},
	"22_cancel_b_with_a": {{"iot/sess-cancel/AwithB/connectionId", "sess-cancel/3"}, {"iot/sess-cancel/Bwith", "A"}},
}
