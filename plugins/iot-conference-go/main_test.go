//go:build !wasip1

package main

import (
	"testing"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the conference suite natively through the SDK's host emulator,
// in order on one store (the root module runs it against the Wasm and
// webhook builds). Every session ends with sessionCompleted, which must
// leave nothing in the store.
func TestGolden(t *testing.T) {
	h := mstest.GoldenSequence(t, "../../sdk/conformance/iotcomms/conference/*.golden")
	if kv := h.KV(); len(kv) != 0 {
		t.Fatalf("the sessions left %q in the store", kv)
	}
}

// TestControllerState checks what the controller reads from the store
// before each of its API calls: the ids in the callAnswered bodies of the
// suite.
func TestControllerState(t *testing.T) {
	h := ms.NewHost()
	for _, c := range mstest.Cases(t, "../../sdk/conformance/iotcomms/conference/*.golden") {
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
	"02_conf_a_with_b": {{"iot/sess-conf/A", "sess-conf/p1"}, {"iot/sess-conf/B", "sess-conf/p2"},
		{"iot/sess-conf/AwithB/connectionId", "sess-conf/1"}, {"iot/sess-conf/AwithB/replyId", "reply-1"}},
	"05_conf_b_with_ivr": {{"iot/sess-conf/BwithIVR/connectionId", "sess-conf/2"}, {"iot/sess-conf/BwithIVR/replyId", "reply-2"}},
	"08_conf_a_with_c": {{"iot/sess-conf/C", "sess-conf/p3"},
		{"iot/sess-conf/AwithC/connectionId", "sess-conf/3"}, {"iot/sess-conf/AwithC/replyId", "reply-3"}},
	"20_retrieve_a_with_b": {{"iot/sess-retrieve/AwithB/connectionId", "sess-retrieve/3"}, {"iot/sess-retrieve/C", ""}},
}
