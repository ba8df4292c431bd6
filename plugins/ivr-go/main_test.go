//go:build !wasip1

package main

import (
	"encoding/json"
	"testing"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the golden files natively through the SDK's host
// emulator (the root module runs them against the Wasm builds).
func TestGolden(t *testing.T) { mstest.Golden(t, "../../sdk/conformance/ivr/*.golden") }

// response is the part of a response the call flow test follows.
type response struct {
	Actions []struct {
		Type       string
		Parameters map[string]any
	}
	TransactionAttributes map[string]string
}

// TestCallFlow plays a caller through the menu the way the host would:
// each response's attributes come back in the next event.
func TestCallFlow(t *testing.T) {
	tests := []struct {
		name       string
		digits     []string // "" = the digits action failed
		wantPrompt string   // the prompt played before the hangup
		wantTries  string
	}{
		{name: "sales at once", digits: []string{"1"}, wantPrompt: "ivr/sales.wav", wantTries: "1"},
		{name: "support after a repeat", digits: []string{"0", "2"}, wantPrompt: "ivr/support.wav", wantTries: "2"},
		{name: "repeats exhausted", digits: []string{"0", "0", "0"}, wantPrompt: "ivr/goodbye.wav", wantTries: "3"},
		{name: "no input", digits: []string{""}, wantPrompt: "ivr/goodbye.wav", wantTries: "1"},
		{name: "unexpected digit replays", digits: []string{"9", "1"}, wantPrompt: "ivr/sales.wav", wantTries: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ms.NewHost()
			resp := invoke(t, h, event("NEW_INBOUND_CALL", nil, nil))
			for i, d := range tt.digits {
				if len(resp.Actions) != 1 || resp.Actions[0].Type != "PlayAudioAndGetDigits" {
					t.Fatalf("step %d: actions %+v, want the menu", i, resp.Actions)
				}
				data := map[string]any{"Type": "PlayAudioAndGetDigits", "Parameters": resp.Actions[0].Parameters}
				typ := "ACTION_SUCCESSFUL"
				if d == "" {
					typ = "ACTION_FAILED"
					data["ErrorType"] = "InvalidActionParameter"
				} else {
					data["ReceivedDigits"] = d
				}
				resp = invoke(t, h, event(typ, data, resp.TransactionAttributes))
			}
			if len(resp.Actions) != 2 || resp.Actions[0].Type != "PlayAudio" || resp.Actions[1].Type != "Hangup" {
				t.Fatalf("final actions %+v, want PlayAudio + Hangup", resp.Actions)
			}
			src, _ := resp.Actions[0].Parameters["AudioSource"].(map[string]any)
			if got := src["Key"]; got != tt.wantPrompt {
				t.Fatalf("final prompt %v, want %s", got, tt.wantPrompt)
			}
			if got := resp.TransactionAttributes["tries"]; got != tt.wantTries {
				t.Fatalf("tries %q, want %q", got, tt.wantTries)
			}
		})
	}
}

func event(typ string, actionData map[string]any, attrs map[string]string) []byte {
	e := map[string]any{
		"SchemaVersion":       "1.0",
		"InvocationEventType": typ,
		"CallDetails": map[string]any{
			"TransactionId":         "t1",
			"TransactionAttributes": attrs,
			"Participants":          []any{map[string]any{"CallId": "c1", "ParticipantTag": "LEG-A"}},
		},
	}
	if actionData != nil {
		e["ActionData"] = actionData
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

func invoke(t *testing.T, h *ms.Host, event []byte) response {
	t.Helper()
	out, err := h.Invoke(event)
	if err != nil {
		t.Fatalf("Invoke(%s): %v", event, err)
	}
	var r response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return r
}
