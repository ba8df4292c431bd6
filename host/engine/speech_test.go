package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
)

// speakingLeg is a fakeLeg that speaks: each Speak is a fakePlay keyed
// "speak:<text>", and VoiceFocus is an op.
type speakingLeg struct {
	*fakeLeg
	speakErr error
	focusErr error
}

func (l *speakingLeg) Speak(req SpeechRequest, done func(error)) (func(), error) {
	l.op("speak %s/%s/%s %s", req.TextType, req.VoiceID, req.LanguageCode, req.Text)
	if l.speakErr != nil {
		return nil, l.speakErr
	}
	l.mu.Lock()
	p := &fakePlay{key: "speak:" + req.Text, done: done}
	l.plays = append(l.plays, p)
	l.mu.Unlock()
	return func() { l.op("stop speak %s", req.Text) }, nil
}

func (l *speakingLeg) SetVoiceFocus(on bool) error {
	l.op("voicefocus %v", on)
	return l.focusErr
}

func startSpeaking(t *testing.T, h *harness, leg Leg) *harness {
	t.Helper()
	c, err := h.e.Inbound(App{Handler: h.plugin}, leg, CallInfo{})
	if err != nil {
		t.Fatal(err)
	}
	h.call = c
	h.settle()
	return h
}

func TestSpeak(t *testing.T) {
	h := newHarness(t, bySeq(actions(
		act("Speak", `{"Text":"<speak>Hello</speak>","TextType":"ssml","VoiceId":"Matthew","LanguageCode":"en-US"}`),
		act("Speak", `{"Text":"Bye"}`))))
	startSpeaking(t, h, &speakingLeg{fakeLeg: h.leg})
	h.finishPlay(nil)
	h.finishPlay(nil)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	h.wantOps("answer", "speak ssml/Matthew/en-US <speak>Hello</speak>", "speak // Bye")
	if got := string(h.last().ActionData.Parameters); got != `{"Text":"Bye"}` {
		t.Fatalf("ActionData.Parameters %s", got)
	}
}

func TestSpeakFailures(t *testing.T) {
	tests := []struct {
		name     string
		leg      func(*fakeLeg) Leg
		wantType abi.ErrorType
		wantMsg  string
	}{
		{"not supported", func(l *fakeLeg) Leg { return plainLeg{l} }, abi.SystemException, "Speak: speech is not supported by this leg"},
		{"synthesis failed", func(l *fakeLeg) Leg { return &speakingLeg{fakeLeg: l, speakErr: errors.New("flite: trap")} },
			abi.SystemException, "Speak: flite: trap"},
		{"audio source", func(l *fakeLeg) Leg {
			return &speakingLeg{fakeLeg: l, speakErr: fmt.Errorf("%w: nothing to say", ErrAudioSource)}
		}, abi.InvalidAudioSource, "Speak: invalid audio source: nothing to say"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(act("Speak", `{"Text":"Hi"}`))))
			startSpeaking(t, h, tt.leg(h.leg))
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			if ad := h.last().ActionData; ad.ErrorType != tt.wantType || ad.ErrorMessage != tt.wantMsg {
				t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
			}
		})
	}
	// A failure reported later (done with an error) fails the action too.
	h := newHarness(t, bySeq(actions(act("Speak", `{"Text":"Hi"}`))))
	startSpeaking(t, h, &speakingLeg{fakeLeg: h.leg})
	h.finishPlay(fmt.Errorf("%w: undecodable", ErrAudioSource))
	if ad := h.last().ActionData; ad.ErrorType != abi.InvalidAudioSource || ad.ErrorMessage != "Speak: invalid audio source: undecodable" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}

const sagd = `{"SpeechParameters":{"Text":"Enter your pin"},"FailureSpeechParameters":{"Text":"Wrong"},` +
	`"InputDigitsRegex":"^\\d{2}$","MinNumberOfDigits":2,"MaxNumberOfDigits":2,"Repeat":2,"RepeatDurationInMilliseconds":3000}`

func TestSpeakAndGetDigits(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("SpeakAndGetDigits", sagd))))
	startSpeaking(t, h, &speakingLeg{fakeLeg: h.leg})
	h.press("9") // barge-in: the speech stops
	h.press("#") // one digit is too few: the failure speech plays
	h.finishPlay(nil)
	h.press("42")
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	if got := h.last().ActionData.ReceivedDigits; got != "42" {
		t.Fatalf("ReceivedDigits %q", got)
	}
	h.wantOps("answer", "speak // Enter your pin", "stop speak Enter your pin", "speak // Wrong", "speak // Enter your pin", "stop speak Enter your pin")
}

func TestSpeakAndGetDigitsFailsAfterRepeats(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("SpeakAndGetDigits", sagd))))
	startSpeaking(t, h, &speakingLeg{fakeLeg: h.leg})
	h.finishPlay(nil)
	h.advance(3000 * 1e6)
	h.finishPlay(nil) // "Wrong"
	h.finishPlay(nil) // the second try
	h.advance(3000 * 1e6)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	if ad := h.last().ActionData; ad.ErrorType != abi.InvalidActionParameter ||
		ad.ErrorMessage != "SpeakAndGetDigits: no valid digits received after 2 attempts" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}

func TestVoiceFocus(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("VoiceFocus", `{"Enable":true}`), act("VoiceFocus", `{"Enable":false}`))))
	startSpeaking(t, h, &speakingLeg{fakeLeg: h.leg})
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	h.wantOps("answer", "voicefocus true", "voicefocus false")

	h = newHarness(t, bySeq(actions(act("VoiceFocus", `{"Enable":true}`))))
	startSpeaking(t, h, plainLeg{h.leg})
	if ad := h.last().ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != "VoiceFocus: noise suppression is not supported by this leg" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
	h = newHarness(t, bySeq(actions(act("VoiceFocus", `{"Enable":true}`))))
	startSpeaking(t, h, &speakingLeg{fakeLeg: h.leg, focusErr: errors.New("rnnoise unavailable")})
	if ad := h.last().ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != "VoiceFocus: rnnoise unavailable" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}
