package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

func TestCallRecordingKey(t *testing.T) {
	at := time.Date(2019, 3, 1, 17, 10, 0, 10*int(time.Millisecond), time.FixedZone("X", 3600))
	tests := []struct {
		name       string
		location   string
		wantBucket string
		wantKey    string
	}{
		{name: "bucket only", location: "rec", wantBucket: "rec",
			wantKey: "Amazon-Chime-SMA-Call-Recordings/2019/03/01/2019-03-01-16-10-00-010_tx_call.wav"},
		{name: "bucket and slash", location: "rec/", wantBucket: "rec",
			wantKey: "Amazon-Chime-SMA-Call-Recordings/2019/03/01/2019-03-01-16-10-00-010_tx_call.wav"},
		{name: "prefix", location: "rec/support/en", wantBucket: "rec",
			wantKey: "support/en/2019/03/01/2019-03-01-16-10-00-010_tx_call.wav"},
		{name: "prefix with slash", location: "rec/support/", wantBucket: "rec",
			wantKey: "support/2019/03/01/2019-03-01-16-10-00-010_tx_call.wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, k := callRecordingKey(tt.location, "tx", "call", at)
			if b != tt.wantBucket || k != tt.wantKey {
				t.Fatalf("got %q %q", b, k)
			}
		})
	}
}

func startRec(callID, track, location string) string {
	return act("StartCallRecording", `{"CallId":"`+callID+`","Track":"`+track+`","Destination":{"Type":"S3","Location":"`+location+`"}}`)
}

func recAct(typ, callID string) string {
	return act(typ, `{"CallId":"`+callID+`"}`)
}

func TestCallRecordingLifecycle(t *testing.T) {
	h := newHarness(t, bySeq(
		actions(startRec("leg-1", "BOTH", "rec/calls")),
		actions(recAct("PauseCallRecording", "leg-1"), recAct("PauseCallRecording", "leg-1")),
		actions(recAct("ResumeCallRecording", "leg-1")),
		actions(recAct("StopCallRecording", "leg-1")),
		actions(startRec("leg-1", "INCOMING", "rec")),
		actions(recAct("StopCallRecording", "leg-1")),
	)).start()
	key := "calls/2026/01/02/2026-01-02-03-04-05-000_" + h.call.TransactionID() + "_leg-1.wav"
	var ev struct {
		ActionData struct {
			Type                     string
			CallRecordingDestination abi.CallRecordingDestination
		}
	}
	if err := json.Unmarshal([]byte(h.plugin.raw[1]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ActionData.Type != "StartCallRecording" ||
		ev.ActionData.CallRecordingDestination != (abi.CallRecordingDestination{Type: "S3", Location: "rec/" + key}) {
		t.Fatalf("action data %+v", ev.ActionData)
	}
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL",
		"ACTION_SUCCESSFUL", "ACTION_FAILED", "ACTION_FAILED")
	evs := h.plugin.Events()
	if ad := evs[5].ActionData; ad.ErrorType != abi.InvalidActionParameter ||
		ad.ErrorMessage != "StartCallRecording: call leg LEG-A has already been recorded" {
		t.Fatalf("second start: %q %q", ad.ErrorType, ad.ErrorMessage)
	}
	if ad := evs[6].ActionData; ad.ErrorType != abi.InvalidActionParameter ||
		ad.ErrorMessage != "StopCallRecording: no call recording in progress on call leg LEG-A" {
		t.Fatalf("stop without recording: %q %q", ad.ErrorType, ad.ErrorMessage)
	}
	h.wantOps("answer", "callrec BOTH rec "+key, "callrec pause", "callrec pause", "callrec resume", "callrec stop")
	// Only StartCallRecording's success carries the destination.
	for seq := 3; seq <= 5; seq++ {
		if containsCallRecordingDestination(h.rawLastOf(seq)) {
			t.Fatalf("event %d carries CallRecordingDestination", seq)
		}
	}
	if !containsCallRecordingDestination(h.rawLastOf(2)) {
		t.Fatal("the check above cannot see the field")
	}
}

func (h *harness) rawLastOf(seq int) string {
	h.plugin.mu.Lock()
	defer h.plugin.mu.Unlock()
	return string(h.plugin.raw[seq-1])
}

func containsCallRecordingDestination(raw string) bool {
	var ev struct{ ActionData map[string]json.RawMessage }
	_ = json.Unmarshal([]byte(raw), &ev)
	_, ok := ev.ActionData["CallRecordingDestination"]
	return ok
}

func TestCallRecordingStopsAtCallEnd(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *harness)
		want []string
	}{
		{name: "caller hangs up", end: func(h *harness) { h.call.RemoteHangup() }, want: []string{"callrec stop"}},
		{name: "plugin hangs up", end: func(h *harness) { _ = h.e.Update(h.call.TransactionID(), nil) }, want: []string{"callrec stop", "bye"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(startRec("leg-1", "OUTGOING", "rec")), noActions, actions(act("Hangup", "")))).start()
			tt.end(h)
			h.settle()
			if !h.ended() {
				t.Fatal("call still up")
			}
			ops := h.leg.Ops()
			if got := ops[2:]; !equalStrings(got, tt.want) {
				t.Fatalf("ops after start %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCallRecordingOfLegB(t *testing.T) {
	h, d := bridged(t, func(ev *abi.Event) string {
		if ev.Sequence == 2 {
			return actions(startRec("dial-1", "INCOMING", "rec"))
		}
		return noActions
	})
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL")
	wantLegOps(t, d.leg, "callrec INCOMING rec Amazon-Chime-SMA-Call-Recordings/2026/01/02/2026-01-02-03-04-05-000_"+h.call.TransactionID()+"_dial-1.wav")
	d.ev.Hangup()
	h.settle()
	wantLegOps(t, d.leg, "callrec INCOMING rec Amazon-Chime-SMA-Call-Recordings/2026/01/02/2026-01-02-03-04-05-000_"+h.call.TransactionID()+"_dial-1.wav", "callrec stop")
	h.wantOps("answer", "bridge dial-1", "unbridge")
}

func TestCallRecordingNotSupported(t *testing.T) {
	h := newHarness(t, bySeq(actions(startRec("leg-1", "BOTH", "rec"))))
	c, err := h.e.Inbound(App{Handler: h.plugin}, plainLeg{h.leg}, CallInfo{})
	if err != nil {
		t.Fatal(err)
	}
	h.call = c
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	if ad := h.last().ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != "StartCallRecording: call recording is not supported by this leg" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}

func TestCallRecordingBreakOffIsOnlyLogged(t *testing.T) {
	h := newHarness(t, bySeq(actions(startRec("leg-1", "BOTH", "rec")))).start()
	h.leg.mu.Lock()
	r := h.leg.callRecs[0]
	h.leg.mu.Unlock()
	r.failed(errFake)
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	h.call.RemoteHangup()
	h.settle()
	h.wantOps("answer", "callrec BOTH rec Amazon-Chime-SMA-Call-Recordings/2026/01/02/2026-01-02-03-04-05-000_"+h.call.TransactionID()+"_leg-1.wav", "callrec stop")
}

func TestCallRecordingBadLocation(t *testing.T) {
	tests := []struct {
		name     string
		location string
	}{
		{name: "parent", location: "rec/../other"},
		{name: "empty segment", location: "rec//x"},
		{name: "leading slash", location: "/rec"},
		{name: "backslash", location: `rec\x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, _ := json.Marshal(tt.location)
			h := newHarness(t, bySeq(actions(act("StartCallRecording",
				`{"CallId":"leg-1","Track":"BOTH","Destination":{"Type":"S3","Location":`+string(loc)+`}}`)))).start()
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			if ad := h.last().ActionData; ad.ErrorType != abi.InvalidActionParameter ||
				ad.ErrorMessage != "StartCallRecording: Destination.Location parameter value is invalid: must be a bucket name and an optional prefix" {
				t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
			}
			h.wantOps("answer")
		})
	}
}
