package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// panicLeg panics when asked to play.
type panicLeg struct{ *fakeLeg }

func (panicLeg) Play(abi.AudioSource, func(error)) (func(), error) { panic("media bug") }

func TestPanicEndsOnlyThatCall(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("PlayAudio", hello))))
	c, err := h.e.Inbound(App{Handler: h.plugin}, panicLeg{h.leg}, CallInfo{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("call did not end")
	}
	h.wantOps("answer", "bye")
	// The engine still takes calls.
	h.leg = newFakeLeg("leg-2")
	h.start()
	if h.ended() {
		t.Fatal("second call ended")
	}
}

func TestInvalidRunResetsOnValidResponse(t *testing.T) {
	h := newHarness(t, bySeq("x", actions(pauseAct(5)), "x", "x", actions(pauseAct(5)))).start()
	h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE")
	h.advance(5 * time.Millisecond)
	h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE", "ACTION_SUCCESSFUL",
		"INVALID_LAMBDA_RESPONSE", "INVALID_LAMBDA_RESPONSE")
	if h.ended() {
		t.Fatal("call ended after 2 invalid responses in a row")
	}
	h.wantOps("answer")
}

func TestActionFailedResponseRunsNewList(t *testing.T) {
	h := newHarness(t, bySeq(
		actions(act("Speak", `{"Text":"hi"}`), pauseAct(99)),
		actions(pauseAct(5)),
	)).start()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	h.advance(5 * time.Millisecond)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED", "ACTION_SUCCESSFUL")
	evs := h.plugin.Events()
	if got := string(evs[1].ActionData.Parameters); got != `{"Text":"hi"}` {
		t.Fatalf("failed action parameters %s", got)
	}
	if got := string(evs[2].ActionData.Parameters); got != `{"DurationInMilliseconds":5}` {
		t.Fatalf("success parameters %s", got)
	}
	for i, ev := range evs {
		if ev.Sequence != i+1 {
			t.Fatalf("event %d has Sequence %d", i, ev.Sequence)
		}
	}
}

func TestDigitsNotUsedByTheActionReachTheListener(t *testing.T) {
	h := newHarness(t, bySeq(actions(receiveDigits(`^\d\d$`), act("PlayAudio", helloTwice)))).start()
	h.press("42") // "1" and "#" are the terminators; "4" and "2" are not
	h.advance(time.Second)
	h.wantTypes("NEW_INBOUND_CALL", "DIGITS_RECEIVED")
	if got := h.last().ActionData.ReceivedDigits; got != "42" {
		t.Fatalf("digits %q", got)
	}
}

func TestPluginFailureOnHangupEventSendsNoBye(t *testing.T) {
	h := newHarness(t, func(ev *abi.Event) (string, error) {
		if ev.InvocationEventType == abi.EventHangup {
			return "", errPluginTrap
		}
		return actions(act("PlayAudio", hello)), nil
	}).start()
	h.call.RemoteHangup()
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "HANGUP", "HANGUP")
	h.wantOps("answer", "play hello.wav", "stop play hello.wav")
	if !h.ended() {
		t.Fatal("call still up")
	}
}

// The actions check their own parameters too, so they stay safe if the
// abi validation is relaxed; these checks run before the call is touched.
func TestActionParameterChecks(t *testing.T) {
	tests := []struct {
		name     string
		start    func(*Call, abi.Action, any) (runner, outcome)
		typ      abi.ActionType
		params   any
		wantType abi.ErrorType
		wantMsg  string
	}{
		{name: "pause missing", start: startPause, typ: abi.ActionPause, params: &abi.PauseParameters{},
			wantType: abi.MissingRequiredActionParameter, wantMsg: "Pause: DurationInMilliseconds parameter is required"},
		{name: "pause negative", start: startPause, typ: abi.ActionPause, params: &abi.PauseParameters{DurationInMilliseconds: abi.NewInt(-1)},
			wantType: abi.InvalidActionParameter, wantMsg: "Pause: DurationInMilliseconds parameter value is invalid: must not be negative"},
		{name: "play repeat", start: startPlayAudio, typ: abi.ActionPlayAudio, params: &abi.PlayAudioParameters{Repeat: abi.NewInt(0)},
			wantType: abi.InvalidActionParameter, wantMsg: "PlayAudio: Repeat parameter value is invalid: must be at least 1"},
		{name: "get digits repeat duration", start: startPlayAndGetDigits, typ: abi.ActionPlayAudioAndGetDigits, params: &abi.PlayAudioAndGetDigitsParameters{},
			wantType: abi.MissingRequiredActionParameter, wantMsg: "PlayAudioAndGetDigits: RepeatDurationInMilliseconds parameter is required"},
		{name: "get digits min above max", start: startPlayAndGetDigits, typ: abi.ActionPlayAudioAndGetDigits,
			params:   &abi.PlayAudioAndGetDigitsParameters{RepeatDurationInMilliseconds: abi.NewInt(1), MinNumberOfDigits: abi.NewInt(3), MaxNumberOfDigits: abi.NewInt(2)},
			wantType: abi.InvalidActionParameter, wantMsg: "PlayAudioAndGetDigits: MinNumberOfDigits parameter value is invalid: must be between 0 and MaxNumberOfDigits"},
		{name: "get digits bad regex", start: startPlayAndGetDigits, typ: abi.ActionPlayAudioAndGetDigits,
			params:   &abi.PlayAudioAndGetDigitsParameters{RepeatDurationInMilliseconds: abi.NewInt(1), InputDigitsRegex: "("},
			wantType: abi.InvalidActionParameter, wantMsg: "PlayAudioAndGetDigits: InputDigitsRegex parameter value is invalid: error parsing regexp: missing closing ): `(`"},
		{name: "receive regex", start: startReceiveDigits, typ: abi.ActionReceiveDigits, params: &abi.ReceiveDigitsParameters{},
			wantType: abi.MissingRequiredActionParameter, wantMsg: "ReceiveDigits: InputDigitsRegex parameter is required"},
		{name: "receive flush", start: startReceiveDigits, typ: abi.ActionReceiveDigits,
			params:   &abi.ReceiveDigitsParameters{InputDigitsRegex: "1", InBetweenDigitsDurationInMilliseconds: abi.NewInt(1)},
			wantType: abi.MissingRequiredActionParameter, wantMsg: "ReceiveDigits: FlushDigitsDurationInMilliseconds parameter is required"},
		{name: "receive gap", start: startReceiveDigits, typ: abi.ActionReceiveDigits,
			params:   &abi.ReceiveDigitsParameters{InputDigitsRegex: "1", InBetweenDigitsDurationInMilliseconds: abi.NewInt(0), FlushDigitsDurationInMilliseconds: abi.NewInt(1)},
			wantType: abi.InvalidActionParameter, wantMsg: "ReceiveDigits: InBetweenDigitsDurationInMilliseconds parameter value is invalid: must be positive"},
		{name: "record bucket", start: startRecordAudio, typ: abi.ActionRecordAudio, params: &abi.RecordAudioParameters{},
			wantType: abi.MissingRequiredActionParameter, wantMsg: "RecordAudio: RecordingDestination.BucketName parameter is required"},
		{name: "record silence", start: startRecordAudio, typ: abi.ActionRecordAudio,
			params:   &abi.RecordAudioParameters{RecordingDestination: abi.RecordingDestination{BucketName: "b"}, SilenceDurationInSeconds: abi.NewInt(0)},
			wantType: abi.InvalidActionParameter, wantMsg: "RecordAudio: SilenceDurationInSeconds parameter value is invalid: must be between 1 and 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, out := tt.start(nil, abi.Action{Type: tt.typ}, tt.params)
			if r != nil {
				t.Fatal("action started")
			}
			if !out.failed || out.errType != tt.wantType || out.errMsg != tt.wantMsg {
				t.Fatalf("outcome %+v", out)
			}
		})
	}
}

func TestRecordingBreaksOff(t *testing.T) {
	h := newHarness(t, bySeq(actions(recordAct("")))).start()
	h.leg.lastRec(t).ev.Failed(errors.New("disk full"))
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	ad := h.last().ActionData
	if ad.ErrorType != abi.SystemException || ad.ErrorMessage != "RecordAudio: recording failed: disk full" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}

func TestSendDigitsFailure(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("SendDigits", `{"CallId":"leg-1","Digits":"1"}`)))).start()
	h.leg.mu.Lock()
	s := h.leg.sends[0]
	h.leg.mu.Unlock()
	s.done(errors.New("no rtp"))
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	if ad := h.last().ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != "SendDigits: no rtp" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}
