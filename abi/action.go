package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ActionType is the Type of an action in a response (and of ActionData).
type ActionType string

// The 18 actions, plus CallUpdateRequest (only ever in ActionData).
const (
	ActionPlayAudio                   ActionType = "PlayAudio"
	ActionPlayAudioAndGetDigits       ActionType = "PlayAudioAndGetDigits"
	ActionSpeak                       ActionType = "Speak"
	ActionSpeakAndGetDigits           ActionType = "SpeakAndGetDigits"
	ActionPause                       ActionType = "Pause"
	ActionHangup                      ActionType = "Hangup"
	ActionSendDigits                  ActionType = "SendDigits"
	ActionReceiveDigits               ActionType = "ReceiveDigits"
	ActionRecordAudio                 ActionType = "RecordAudio"
	ActionCallAndBridge               ActionType = "CallAndBridge"
	ActionJoinChimeMeeting            ActionType = "JoinChimeMeeting"
	ActionModifyChimeMeetingAttendees ActionType = "ModifyChimeMeetingAttendees"
	ActionStartBotConversation        ActionType = "StartBotConversation"
	ActionStartCallRecording          ActionType = "StartCallRecording"
	ActionStopCallRecording           ActionType = "StopCallRecording"
	ActionPauseCallRecording          ActionType = "PauseCallRecording"
	ActionResumeCallRecording         ActionType = "ResumeCallRecording"
	ActionVoiceFocus                  ActionType = "VoiceFocus"

	// ActionCallUpdateRequest is the ActionData type of CALL_UPDATE_REQUESTED;
	// it is not an action a handler may return.
	ActionCallUpdateRequest ActionType = "CallUpdateRequest"
	// ActionCallCreateRequest is the ActionData type of NEW_OUTBOUND_CALL;
	// its Parameters.Arguments carry CreateSipMediaApplicationCall's
	// ArgumentsMap, as Chime sends them.
	ActionCallCreateRequest ActionType = "CallCreateRequest"
)

// AllActionTypes returns the 18 action types a handler may return.
func AllActionTypes() []ActionType {
	return []ActionType{
		ActionPlayAudio, ActionPlayAudioAndGetDigits, ActionSpeak, ActionSpeakAndGetDigits,
		ActionPause, ActionHangup, ActionSendDigits, ActionReceiveDigits, ActionRecordAudio,
		ActionCallAndBridge, ActionJoinChimeMeeting, ActionModifyChimeMeetingAttendees,
		ActionStartBotConversation, ActionStartCallRecording, ActionStopCallRecording,
		ActionPauseCallRecording, ActionResumeCallRecording, ActionVoiceFocus,
	}
}

// Valid reports whether t is one of the 18 action types.
func (t ActionType) Valid() bool {
	_, ok := newParams(t)
	return ok && t != ActionCallUpdateRequest
}

// Interruptible reports whether an update (CALL_UPDATE_REQUESTED) stops the
// action at once; every other action completes before the new list starts.
func (t ActionType) Interruptible() bool {
	return t == ActionPlayAudio || t == ActionRecordAudio || t == ActionPause
}

// Action is one entry of a response's action list.
type Action struct {
	Type       ActionType      `json:"Type"`
	Parameters json.RawMessage `json:"Parameters,omitempty"`
}

// NewAction encodes params (a parameter struct or a pointer to one, or any
// JSON-encodable value such as a map) as an action of type t.
func NewAction(t ActionType, params any) (Action, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return Action{}, fmt.Errorf("%s: encode parameters: %w", t, err)
	}
	return Action{Type: t, Parameters: b}, nil
}

// Decode returns a pointer to the typed parameter struct of the action's
// type (e.g. *PlayAudioParameters). Unknown fields are ignored, for forward
// compatibility; a field of the wrong type is an error wrapping
// ErrInvalidParameters that names the field. Absent or null Parameters
// decode as the zero struct. It checks types only, not values: see
// ValidateResponse.
func (a Action) Decode() (any, error) {
	p, ok := newParams(a.Type)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownActionType, a.Type)
	}
	if err := decodeParams(a.Parameters, p); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Type, err)
	}
	return p, nil
}

func newParams(t ActionType) (any, bool) {
	switch t {
	case ActionPlayAudio:
		return &PlayAudioParameters{}, true
	case ActionPlayAudioAndGetDigits:
		return &PlayAudioAndGetDigitsParameters{}, true
	case ActionSpeak:
		return &SpeakParameters{}, true
	case ActionSpeakAndGetDigits:
		return &SpeakAndGetDigitsParameters{}, true
	case ActionPause:
		return &PauseParameters{}, true
	case ActionHangup:
		return &HangupParameters{}, true
	case ActionSendDigits:
		return &SendDigitsParameters{}, true
	case ActionReceiveDigits:
		return &ReceiveDigitsParameters{}, true
	case ActionRecordAudio:
		return &RecordAudioParameters{}, true
	case ActionCallAndBridge:
		return &CallAndBridgeParameters{}, true
	case ActionJoinChimeMeeting:
		return &JoinChimeMeetingParameters{}, true
	case ActionModifyChimeMeetingAttendees:
		return &ModifyChimeMeetingAttendeesParameters{}, true
	case ActionStartBotConversation:
		return &StartBotConversationParameters{}, true
	case ActionStartCallRecording:
		return &StartCallRecordingParameters{}, true
	case ActionStopCallRecording:
		return &StopCallRecordingParameters{}, true
	case ActionPauseCallRecording:
		return &PauseCallRecordingParameters{}, true
	case ActionResumeCallRecording:
		return &ResumeCallRecordingParameters{}, true
	case ActionVoiceFocus:
		return &VoiceFocusParameters{}, true
	case ActionCallUpdateRequest:
		return &CallUpdateRequestParameters{}, true
	}
	return nil, false
}

// FieldError is a parameter that failed to decode; it wraps
// ErrInvalidParameters.
type FieldError struct {
	Field string // top-level parameter name, "" when Parameters itself is wrong
	Err   error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %v", ErrInvalidParameters, e.Err)
	}
	return fmt.Sprintf("%v: %s: %v", ErrInvalidParameters, e.Field, e.Err)
}

// Is makes errors.Is(err, ErrInvalidParameters) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidParameters }

// Unwrap returns the cause (e.g. ErrInvalidInt).
func (e *FieldError) Unwrap() error { return e.Err }

// decodeParams unmarshals raw into the struct pointed to by dst. On failure
// it finds the first top-level field that fails on its own, so the error
// can name it (encoding/json does not name fields for errors returned by
// UnmarshalJSON methods).
func decodeParams(raw json.RawMessage, dst any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '{' {
		return &FieldError{Err: errors.New("parameters must be a json object")}
	}
	err := json.Unmarshal(raw, dst)
	if err == nil {
		return nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return &FieldError{Err: err}
	}
	rt := reflect.TypeOf(dst).Elem()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		v, ok := lookupFold(fields, name)
		if !ok {
			continue
		}
		if ferr := json.Unmarshal(v, reflect.New(f.Type).Interface()); ferr != nil {
			return &FieldError{Field: name, Err: cleanJSONError(ferr)}
		}
	}
	return &FieldError{Err: cleanJSONError(err)}
}

// lookupFold finds a key the way encoding/json matches field names: exact
// first, then case-insensitively.
func lookupFold(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// cleanJSONError turns encoding/json's type errors into a short "must be X".
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := te.Field
		if where != "" {
			where += " "
		}
		return fmt.Errorf("%smust be %s, not %s", where, jsonKind(te.Type), te.Value)
	}
	return err
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// LegOf returns the CallId and ParticipantTag of a parameter struct (or a
// pointer to one), empty where the action has no such field. The engine
// resolves them with the rule of ValidateResponse: CallId wins.
func LegOf(params any) (callID, participantTag string) {
	v := reflect.ValueOf(params)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return "", ""
	}
	if f := v.FieldByName("CallID"); f.IsValid() && f.Kind() == reflect.String {
		callID = f.String()
	}
	if f := v.FieldByName("ParticipantTag"); f.IsValid() && f.Kind() == reflect.String {
		participantTag = f.String()
	}
	return callID, participantTag
}
