//go:build !wasip1

package main

import (
	"reflect"
	"testing"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
	"github.com/wasmvoice/mediaserver/sdk/go/mstest"
)

// TestGolden runs the shared meeting-join golden files natively through the
// SDK's host emulator (the root module runs them against the Wasm builds).
func TestGolden(t *testing.T) { mstest.Golden(t, "../../sdk/conformance/meetingjoin/*.golden") }

func TestPendingCallStored(t *testing.T) {
	h := ms.NewHost()
	_, err := h.Invoke([]byte(`{"InvocationEventType":"NEW_INBOUND_CALL","CallDetails":{"TransactionId":"t-9",
		"Participants":[{"CallId":"c","ParticipantTag":"LEG-A","From":"+15550123"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	// As the sample's addPendingCall(TransactionId): the key is the record.
	got := h.KV()
	if v, ok := got["pending-call/t-9"]; len(got) != 1 || !ok || len(v) != 0 {
		t.Fatalf("KV = %q, want only pending-call/t-9 with an empty value", got)
	}
}

func TestMissingTokenLogged(t *testing.T) {
	h := ms.NewHost()
	if _, err := h.Invoke([]byte(`{"InvocationEventType":"CALL_UPDATE_REQUESTED","ActionData":{"Type":"CallUpdateRequest","Parameters":{}}}`)); err != nil {
		t.Fatal(err)
	}
	want := []ms.LogLine{{Level: ms.LevelWarn, Message: "CALL_UPDATE_REQUESTED without a JoinToken"}}
	if got := h.Logs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Logs = %v, want %v", got, want)
	}
}
