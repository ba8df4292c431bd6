//go:build !wasip1

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// TestGolden runs the shared meeting-join golden files natively through the
// SDK's host emulator (the root module runs them against the Wasm builds).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/meetingjoin/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".golden"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			event, want, ok := strings.Cut(string(b), "\n----\n")
			if !ok {
				t.Fatalf("%s: no ---- separator", f)
			}
			got, err := ms.NewHost().Invoke([]byte(event))
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, got, want)
		})
	}
}

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

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("golden response is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("response\n got: %s\nwant: %s", got, want)
	}
}
