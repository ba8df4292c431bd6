package engine

import (
	"errors"
	"fmt"

	"github.com/wasmvoice/mediaserver/abi"
)

// Speak, SpeakAndGetDigits and VoiceFocus. They run on the PlayAudio and
// PlayAudioAndGetDigits machinery (actions.go) with a spoken prompt in
// place of an AudioSource; synthesis is the Leg's business (Speaker).

// Speaker is implemented by a Leg that can speak text. The engine calls it
// from the call's goroutine; like Play it returns at once (synthesis runs in
// the background, never on the call's goroutine or the media clock), done
// is called once when the speech has been played to the end or with an
// error (an error wrapping ErrAudioSource becomes InvalidAudioSource, any
// other SystemException), and stop ends it early, also while it is still
// being synthesised.
type Speaker interface {
	Speak(req SpeechRequest, done func(err error)) (stop func(), err error)
}

// SpeechRequest is Polly's view of one utterance (Chime's Speak
// parameters, already validated by abi: Text ≤ 1,000 characters, TextType
// text or ssml, Engine standard or neural).
type SpeechRequest struct {
	Text         string
	TextType     string
	Engine       string
	LanguageCode string
	VoiceID      string
}

// VoiceFocuser is implemented by a Leg that can suppress the noise of its
// incoming audio (Chime's VoiceFocus): on or off, before recording,
// bridging, mixing and digit detection.
type VoiceFocuser interface {
	SetVoiceFocus(on bool) error
}

var errNoSpeech = errors.New("speech is not supported by this leg")

func speechRequest(s abi.SpeechParameters) SpeechRequest {
	return SpeechRequest{Text: s.Text, TextType: s.TextType, Engine: s.Engine, LanguageCode: s.LanguageCode, VoiceID: s.VoiceID}
}

// speak is play for a spoken prompt.
func (c *Call) speak(leg Leg, req SpeechRequest, onDone func(error)) (*playback, error) {
	sp, ok := leg.(Speaker)
	if !ok {
		return nil, errNoSpeech
	}
	p := &playback{live: true}
	stop, err := sp.Speak(req, func(err error) {
		c.post(func() {
			if p.live {
				p.live = false
				onDone(err)
			}
		})
	})
	if err != nil {
		p.live = false
		return nil, err
	}
	p.stopFn = stop
	return p, nil
}

func startSpeak(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.SpeakParameters)
	if p.Text == "" {
		return nil, missing(a.Type, "Text")
	}
	req := speechRequest(abi.SpeechParameters{Text: p.Text, TextType: p.TextType, Engine: p.Engine, LanguageCode: p.LanguageCode, VoiceID: p.VoiceID})
	leg := c.target.leg
	r := &playAudio{c: c, action: a.Type, left: 1,
		source: func(onDone func(error)) (*playback, error) { return c.speak(leg, req, onDone) }}
	if err := r.next(); err != nil {
		return nil, mediaFailure(a.Type, err)
	}
	return r, outcome{}
}

func startSpeakAndGetDigits(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.SpeakAndGetDigitsParameters)
	if p.SpeechParameters.Text == "" {
		return nil, missing(a.Type, "SpeechParameters.Text")
	}
	main := speechRequest(p.SpeechParameters)
	var failure promptFunc
	if p.FailureSpeechParameters != nil && p.FailureSpeechParameters.Text != "" {
		fr := speechRequest(*p.FailureSpeechParameters)
		failure = func(c *Call, leg Leg, onDone func(error)) (*playback, error) { return c.speak(leg, fr, onDone) }
	}
	return startGetDigits(c, a, getDigitsParams{
		regex: p.InputDigitsRegex, min: p.MinNumberOfDigits, max: p.MaxNumberOfDigits,
		terms: p.TerminatorDigits, between: p.InBetweenDigitsDurationInMilliseconds,
		repeat: p.Repeat, repeatDuration: p.RepeatDurationInMilliseconds,
	}, func(c *Call, leg Leg, onDone func(error)) (*playback, error) { return c.speak(leg, main, onDone) }, failure)
}

func startVoiceFocus(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.VoiceFocusParameters)
	if !p.Enable.Set {
		return nil, missing(a.Type, "Enable")
	}
	vf, ok := c.target.leg.(VoiceFocuser)
	if !ok {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: noise suppression is not supported by this leg", a.Type))
	}
	if err := vf.SetVoiceFocus(p.Enable.Value); err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	return nil, outcome{}
}
