// Command ivr-go is an auto-attendant: a caller hears a menu (1 sales,
// 2 support, 0 the menu again), the choice plays a department prompt and
// the call ends. Its state (menu, tries) travels in TransactionAttributes,
// so any instance can handle any event.
package main

import (
	"strconv"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// Prompts live in the tenant's bucket "prompts" (see make-prompts.sh; the files are in buckets/prompts/ivr/).
const (
	bucket        = "prompts"
	promptWelcome = "ivr/welcome.wav"
	promptInvalid = "ivr/invalid.wav"
	promptSales   = "ivr/sales.wav"
	promptSupport = "ivr/support.wav"
	promptGoodbye = "ivr/goodbye.wav"
)

// maxMenus is how often the menu plays (the first time included) before the
// caller is let go.
const maxMenus = 3

// Transaction attributes.
const (
	attrMenu  = "menu"  // main, sales, support, goodbye
	attrTries = "tries" // how often the menu was played
)

func init() { ms.Handle(handle) }

func main() { ms.Main() }

func handle(e *ms.Event) (*ms.Response, error) {
	callID := ""
	if leg := e.Participant(ms.LegA); leg != nil {
		callID = leg.CallID
	}
	switch e.InvocationEventType {
	case ms.EventNewInboundCall:
		return menu(callID, 1), nil
	case ms.EventActionSuccessful:
		if e.ActionType() != "PlayAudioAndGetDigits" {
			return ms.Respond(), nil // a prompt or hangup finished: nothing to do
		}
		return choice(e, callID), nil
	case ms.EventActionFailed:
		if e.ActionType() != "PlayAudioAndGetDigits" {
			// A prompt could not be played: there is no point going on.
			ms.Log(ms.LevelError, "action "+e.ActionType()+" failed: "+e.ActionData().ErrorType)
			return ms.Respond(hangup(callID)).SetAttribute(attrMenu, "failed"), nil
		}
		// No valid choice after every repeat.
		return goodbye(callID, e.Attribute(attrTries)), nil
	}
	return ms.Respond(), nil
}

// choice acts on the digit the caller pressed.
func choice(e *ms.Event, callID string) *ms.Response {
	tries, err := strconv.Atoi(e.Attribute(attrTries))
	if err != nil || tries < 1 {
		tries = 1
	}
	switch e.ReceivedDigits() {
	case "1":
		return department(callID, "sales", promptSales, tries)
	case "2":
		return department(callID, "support", promptSupport, tries)
	case "0":
		if tries >= maxMenus {
			return goodbye(callID, strconv.Itoa(tries))
		}
		return menu(callID, tries+1)
	}
	// The regex admits only 0-2; anything else is a host bug or a spoof.
	ms.Log(ms.LevelWarn, "unexpected digits "+strconv.Quote(e.ReceivedDigits()))
	return menu(callID, tries+1)
}

// menu plays the greeting and collects one digit.
func menu(callID string, tries int) *ms.Response {
	invalid := ms.S3Audio(bucket, promptInvalid)
	return ms.Respond(ms.PlayAudioAndGetDigits(ms.PlayAudioAndGetDigitsParams{
		CallID:                       callID,
		InputDigitsRegex:             "^[012]$",
		AudioSource:                  ms.S3Audio(bucket, promptWelcome),
		FailureAudioSource:           &invalid,
		MinNumberOfDigits:            1,
		MaxNumberOfDigits:            1,
		TerminatorDigits:             []string{"#"},
		Repeat:                       maxMenus,
		RepeatDurationInMilliseconds: 5000,
	})).
		SetAttribute(attrMenu, "main").
		SetAttribute(attrTries, strconv.Itoa(tries))
}

func department(callID, name, prompt string, tries int) *ms.Response {
	return ms.Respond(
		ms.PlayAudio(ms.PlayAudioParams{CallID: callID, AudioSource: ms.S3Audio(bucket, prompt)}),
		hangup(callID),
	).
		SetAttribute(attrMenu, name).
		SetAttribute(attrTries, strconv.Itoa(tries))
}

func goodbye(callID, tries string) *ms.Response {
	r := ms.Respond(
		ms.PlayAudio(ms.PlayAudioParams{CallID: callID, AudioSource: ms.S3Audio(bucket, promptGoodbye)}),
		hangup(callID),
	).SetAttribute(attrMenu, "goodbye")
	if tries != "" {
		r.SetAttribute(attrTries, tries)
	}
	return r
}

func hangup(callID string) ms.Action {
	return ms.Hangup(ms.HangupParams{CallID: callID})
}
