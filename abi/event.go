package abi

import (
	"encoding/json"
)

// SchemaVersion is the only schema version of events and responses.
const SchemaVersion = "1.0"

// EventType is the InvocationEventType of an event.
type EventType string

// The 11 invocation event types.
const (
	EventNewInboundCall        EventType = "NEW_INBOUND_CALL"
	EventNewOutboundCall       EventType = "NEW_OUTBOUND_CALL"
	EventRinging               EventType = "RINGING"
	EventCallAnswered          EventType = "CALL_ANSWERED"
	EventActionSuccessful      EventType = "ACTION_SUCCESSFUL"
	EventActionFailed          EventType = "ACTION_FAILED"
	EventActionInterrupted     EventType = "ACTION_INTERRUPTED"
	EventHangup                EventType = "HANGUP"
	EventDigitsReceived        EventType = "DIGITS_RECEIVED"
	EventCallUpdateRequested   EventType = "CALL_UPDATE_REQUESTED"
	EventInvalidLambdaResponse EventType = "INVALID_LAMBDA_RESPONSE"
)

// AllEventTypes returns the 11 event types.
func AllEventTypes() []EventType {
	return []EventType{
		EventNewInboundCall, EventNewOutboundCall, EventRinging, EventCallAnswered,
		EventActionSuccessful, EventActionFailed, EventActionInterrupted, EventHangup,
		EventDigitsReceived, EventCallUpdateRequested, EventInvalidLambdaResponse,
	}
}

// Valid reports whether t is one of the 11 event types.
func (t EventType) Valid() bool {
	for _, v := range AllEventTypes() {
		if v == t {
			return true
		}
	}
	return false
}

// Leg tags.
const (
	LegA = "LEG-A"
	LegB = "LEG-B"
)

// Participant directions and statuses.
const (
	DirectionInbound   = "Inbound"
	DirectionOutbound  = "Outbound"
	StatusConnected    = "Connected"
	StatusDisconnected = "Disconnected"
)

// Event is the envelope sent to the handler for every invocation.
type Event struct {
	SchemaVersion       string      `json:"SchemaVersion"`
	Sequence            int         `json:"Sequence"`
	InvocationEventType EventType   `json:"InvocationEventType"`
	ActionData          *ActionData `json:"ActionData,omitempty"`
	CallDetails         CallDetails `json:"CallDetails"`
	// ErrorType and ErrorMessage are set at the top level only for
	// INVALID_LAMBDA_RESPONSE; ACTION_FAILED carries them in ActionData.
	ErrorType    ErrorType `json:"ErrorType,omitempty"`
	ErrorMessage string    `json:"ErrorMessage,omitempty"`
}

// CallDetails describes the call (transaction) and its legs. This server has
// no AWS account: AwsAccountID carries the tenant id and AwsRegion a
// configured region name.
type CallDetails struct {
	TransactionID         string            `json:"TransactionId"`
	TransactionAttributes map[string]string `json:"TransactionAttributes,omitempty"`
	AwsAccountID          string            `json:"AwsAccountId"`
	AwsRegion             string            `json:"AwsRegion"`
	SipRuleID             string            `json:"SipRuleId"`
	SipMediaApplicationID string            `json:"SipMediaApplicationId"`
	Participants          []Participant     `json:"Participants"`
}

// Participant is one leg of the call.
type Participant struct {
	CallID         string `json:"CallId"`
	ParticipantTag string `json:"ParticipantTag"` // LegA or LegB
	To             string `json:"To"`
	From           string `json:"From"`
	Direction      string `json:"Direction"` // DirectionInbound or DirectionOutbound
	// StartTimeInMilliseconds is a decimal string of Unix milliseconds, as Chime sends it.
	StartTimeInMilliseconds string `json:"StartTimeInMilliseconds"`
	Status                  string `json:"Status"` // StatusConnected or StatusDisconnected
	// SipHeaders holds only X- headers, User-to-User and Diversion.
	SipHeaders map[string]string `json:"SipHeaders,omitempty"`
}

// ActionData is the action an event is about, with its results.
type ActionData struct {
	Type                    ActionType            `json:"Type,omitempty"`
	Parameters              json.RawMessage       `json:"Parameters,omitempty"`
	ReceivedDigits          string                `json:"ReceivedDigits,omitempty"`
	ErrorType               ErrorType             `json:"ErrorType,omitempty"`
	ErrorMessage            string                `json:"ErrorMessage,omitempty"`
	RecordingDestination    *RecordingDestination `json:"RecordingDestination,omitempty"`
	RecordingTerminatorUsed string                `json:"RecordingTerminatorUsed,omitempty"`
	// CallRecordingDestination is set in the ACTION_SUCCESSFUL of
	// StartCallRecording: {Type:"S3", Location:"bucket/key"}.
	CallRecordingDestination *CallRecordingDestination `json:"CallRecordingDestination,omitempty"`
}

// Decode returns the typed parameters of the action data: the same types as
// Action.Decode, plus *CallUpdateRequestParameters for CallUpdateRequest.
func (d ActionData) Decode() (any, error) {
	return Action{Type: d.Type, Parameters: d.Parameters}.Decode()
}

// RecordingDestination is where RecordAudio stores its file; Key is set in
// the ACTION_SUCCESSFUL event, Prefix in the action.
type RecordingDestination struct {
	Type       string `json:"Type"`
	BucketName string `json:"BucketName"`
	Prefix     string `json:"Prefix,omitempty"`
	Key        string `json:"Key,omitempty"`
}

// CallUpdateRequestParameters are the ActionData parameters of
// CALL_UPDATE_REQUESTED: the Arguments of UpdateSipMediaApplicationCall.
type CallUpdateRequestParameters struct {
	Arguments map[string]string `json:"Arguments"`
}

// HangupEventParameters are the ActionData parameters of a HANGUP event.
// They decode as *HangupParameters (same fields).
type HangupEventParameters = HangupParameters

// ParseEvent decodes one event with the same strictness as ParseResponse
// (one JSON object, nothing after it). It does not check field values: the
// host produced the event.
func ParseEvent(b []byte) (*Event, error) {
	var e Event
	if err := strictUnmarshal(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Marshal encodes the event as JSON.
func (e *Event) Marshal() ([]byte, error) {
	return json.Marshal(e)
}
