package engine

import (
	"github.com/wasmvoice/mediaserver/abi"
)

// event is the envelope sent to the plugin: abi.Event with ActionData
// extended by the fields abi.ActionData lacks. encoding/json prefers the
// shallower ActionData field, so this one replaces the embedded one.
type event struct {
	abi.Event
	ActionData *eventData `json:"ActionData,omitempty"`
}

// eventData is abi.ActionData plus CallRecordingDestination, which Chime
// sends in the ACTION_SUCCESSFUL of StartCallRecording ({Type:"S3",
// Location:"bucket/key"}).
type eventData struct {
	abi.ActionData
	CallRecordingDestination *abi.CallRecordingDestination `json:"CallRecordingDestination,omitempty"`
}

// actionCallCreateRequest is the ActionData Type of NEW_OUTBOUND_CALL,
// whose Parameters.Arguments carry CreateSipMediaApplicationCall's
// ArgumentsMap (as Chime sends it).
const actionCallCreateRequest abi.ActionType = "CallCreateRequest"

// legRef returns the CallId and ParticipantTag an action's parameters
// address; empty for actions without them.
func legRef(params any) (callID, tag string) {
	switch p := params.(type) {
	case *abi.PlayAudioParameters:
		return p.CallID, p.ParticipantTag
	case *abi.PlayAudioAndGetDigitsParameters:
		return p.CallID, p.ParticipantTag
	case *abi.SpeakParameters:
		return p.CallID, p.ParticipantTag
	case *abi.SpeakAndGetDigitsParameters:
		return p.CallID, p.ParticipantTag
	case *abi.PauseParameters:
		return p.CallID, p.ParticipantTag
	case *abi.HangupParameters:
		return p.CallID, p.ParticipantTag
	case *abi.SendDigitsParameters:
		return p.CallID, ""
	case *abi.ReceiveDigitsParameters:
		return p.CallID, p.ParticipantTag
	case *abi.RecordAudioParameters:
		return p.CallID, p.ParticipantTag
	case *abi.JoinChimeMeetingParameters:
		return p.CallID, p.ParticipantTag
	case *abi.ModifyChimeMeetingAttendeesParameters:
		return p.CallID, p.ParticipantTag
	case *abi.StartBotConversationParameters:
		return p.CallID, p.ParticipantTag
	case *abi.StartCallRecordingParameters:
		return p.CallID, ""
	case *abi.StopCallRecordingParameters:
		return p.CallID, ""
	case *abi.PauseCallRecordingParameters:
		return p.CallID, ""
	case *abi.ResumeCallRecordingParameters:
		return p.CallID, ""
	case *abi.VoiceFocusParameters:
		return p.CallID, p.ParticipantTag
	}
	return "", ""
}
