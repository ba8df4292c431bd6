package abi

import "encoding/json"

// The typed parameters of the 18 actions. Field names and JSON names follow
// Chime's developer guide; numbers are Int and booleans Bool so that both
// Chime spellings decode. Optional fields are omitted when encoding.
// Defaults are applied by the engine (Int.Or), not here. The validation
// rules are listed on ValidateResponse.

// AudioSource is a prompt: Type "S3" names an object in the tenant's
// bucket store (BucketName, Key); Type "URL", an extension of this server,
// names an http(s) URL (Uri) the server fetches, within its egress policy.
type AudioSource struct {
	Type       string `json:"Type"`
	BucketName string `json:"BucketName,omitempty"`
	Key        string `json:"Key,omitempty"`
	URI        string `json:"Uri,omitempty"`
}

// PlayAudioParameters: play AudioSource Repeat times (default 1).
type PlayAudioParameters struct {
	CallID              string      `json:"CallId,omitempty"`
	ParticipantTag      string      `json:"ParticipantTag,omitempty"`
	PlaybackTerminators []string    `json:"PlaybackTerminators,omitempty"`
	Repeat              Int         `json:"Repeat,omitzero"`
	AudioSource         AudioSource `json:"AudioSource"`
}

// PlayAudioAndGetDigitsParameters: play AudioSource and collect digits.
type PlayAudioAndGetDigitsParameters struct {
	CallID                                string       `json:"CallId,omitempty"`
	ParticipantTag                        string       `json:"ParticipantTag,omitempty"`
	InputDigitsRegex                      string       `json:"InputDigitsRegex,omitempty"`
	AudioSource                           AudioSource  `json:"AudioSource"`
	FailureAudioSource                    *AudioSource `json:"FailureAudioSource,omitempty"`
	MinNumberOfDigits                     Int          `json:"MinNumberOfDigits,omitzero"`                     // default 0
	MaxNumberOfDigits                     Int          `json:"MaxNumberOfDigits,omitzero"`                     // default 128
	TerminatorDigits                      []string     `json:"TerminatorDigits,omitempty"`                     // default ["#"]
	InBetweenDigitsDurationInMilliseconds Int          `json:"InBetweenDigitsDurationInMilliseconds,omitzero"` // default 3000
	Repeat                                Int          `json:"Repeat,omitzero"`                                // default 1
	RepeatDurationInMilliseconds          Int          `json:"RepeatDurationInMilliseconds,omitzero"`          // required
}

// SpeechParameters is what SpeakAndGetDigits says.
type SpeechParameters struct {
	Text         string `json:"Text"`
	Engine       string `json:"Engine,omitempty"`       // standard (default) or neural
	LanguageCode string `json:"LanguageCode,omitempty"` // default en-US
	TextType     string `json:"TextType,omitempty"`     // text (default) or ssml
	VoiceID      string `json:"VoiceId,omitempty"`      // default Joanna
}

// SpeakParameters: say Text with local text-to-speech.
type SpeakParameters struct {
	CallID         string `json:"CallId,omitempty"`
	ParticipantTag string `json:"ParticipantTag,omitempty"`
	Text           string `json:"Text"`
	Engine         string `json:"Engine,omitempty"`
	LanguageCode   string `json:"LanguageCode,omitempty"`
	TextType       string `json:"TextType,omitempty"`
	VoiceID        string `json:"VoiceId,omitempty"`
}

// SpeakAndGetDigitsParameters: say SpeechParameters and collect digits.
type SpeakAndGetDigitsParameters struct {
	CallID                                string            `json:"CallId,omitempty"`
	ParticipantTag                        string            `json:"ParticipantTag,omitempty"`
	InputDigitsRegex                      string            `json:"InputDigitsRegex,omitempty"`
	SpeechParameters                      SpeechParameters  `json:"SpeechParameters"`
	FailureSpeechParameters               *SpeechParameters `json:"FailureSpeechParameters,omitempty"`
	MinNumberOfDigits                     Int               `json:"MinNumberOfDigits,omitzero"`
	MaxNumberOfDigits                     Int               `json:"MaxNumberOfDigits,omitzero"`
	TerminatorDigits                      []string          `json:"TerminatorDigits,omitempty"`
	InBetweenDigitsDurationInMilliseconds Int               `json:"InBetweenDigitsDurationInMilliseconds,omitzero"`
	Repeat                                Int               `json:"Repeat,omitzero"`
	RepeatDurationInMilliseconds          Int               `json:"RepeatDurationInMilliseconds,omitzero"`
}

// PauseParameters: silence for DurationInMilliseconds (required).
type PauseParameters struct {
	CallID                 string `json:"CallId,omitempty"`
	ParticipantTag         string `json:"ParticipantTag,omitempty"`
	DurationInMilliseconds Int    `json:"DurationInMilliseconds,omitzero"`
}

// HangupParameters: end a leg with SipResponseCode 0 (normal), 480 or 486.
// Also the ActionData parameters of a HANGUP event.
type HangupParameters struct {
	CallID          string `json:"CallId,omitempty"`
	ParticipantTag  string `json:"ParticipantTag,omitempty"`
	SipResponseCode Int    `json:"SipResponseCode,omitzero"`
}

// SendDigitsParameters: send DTMF (RFC 4733) on the leg CallID (required).
type SendDigitsParameters struct {
	CallID                     string `json:"CallId,omitempty"`
	Digits                     string `json:"Digits"`
	ToneDurationInMilliseconds Int    `json:"ToneDurationInMilliseconds,omitzero"` // default 250
}

// ReceiveDigitsParameters: a background digit listener (DIGITS_RECEIVED).
type ReceiveDigitsParameters struct {
	CallID                                string `json:"CallId,omitempty"`
	ParticipantTag                        string `json:"ParticipantTag,omitempty"`
	InputDigitsRegex                      string `json:"InputDigitsRegex"`
	InBetweenDigitsDurationInMilliseconds Int    `json:"InBetweenDigitsDurationInMilliseconds,omitzero"`
	FlushDigitsDurationInMilliseconds     Int    `json:"FlushDigitsDurationInMilliseconds,omitzero"`
}

// RecordAudioParameters: record one leg into RecordingDestination.
type RecordAudioParameters struct {
	CallID                   string               `json:"CallId,omitempty"`
	ParticipantTag           string               `json:"ParticipantTag,omitempty"`
	DurationInSeconds        Int                  `json:"DurationInSeconds,omitzero"`
	SilenceDurationInSeconds Int                  `json:"SilenceDurationInSeconds,omitzero"` // absent: no silence detection
	SilenceThreshold         Int                  `json:"SilenceThreshold,omitzero"`         // default 200
	RecordingTerminators     []string             `json:"RecordingTerminators"`
	RecordingDestination     RecordingDestination `json:"RecordingDestination"`
}

// Bridge endpoint types.
const (
	BridgeEndpointPSTN = "PSTN"
	BridgeEndpointAWS  = "AWS"
)

// BridgeEndpoint is the party CallAndBridge calls.
type BridgeEndpoint struct {
	BridgeEndpointType string `json:"BridgeEndpointType"`
	URI                string `json:"Uri,omitempty"`
	Arn                string `json:"Arn,omitempty"`
}

// CallAndBridgeParameters: place leg B and bridge it with leg A.
type CallAndBridgeParameters struct {
	CallTimeoutSeconds Int               `json:"CallTimeoutSeconds,omitzero"` // default 30
	CallerIDNumber     string            `json:"CallerIdNumber"`
	Endpoints          []BridgeEndpoint  `json:"Endpoints"`
	RingbackTone       *AudioSource      `json:"RingbackTone,omitempty"`
	SipHeaders         map[string]string `json:"SipHeaders,omitempty"`
}

// JoinChimeMeetingParameters: join a local conference room by JoinToken.
type JoinChimeMeetingParameters struct {
	CallID         string `json:"CallId,omitempty"`
	ParticipantTag string `json:"ParticipantTag,omitempty"`
	JoinToken      string `json:"JoinToken"`
	MeetingID      string `json:"MeetingId,omitempty"`
}

// Meeting attendee operations.
const (
	OperationMute   = "Mute"
	OperationUnmute = "Unmute"
)

// ModifyChimeMeetingAttendeesParameters: mute or unmute attendees.
type ModifyChimeMeetingAttendeesParameters struct {
	CallID         string   `json:"CallId,omitempty"`
	ParticipantTag string   `json:"ParticipantTag,omitempty"`
	Operation      string   `json:"Operation"`
	MeetingID      string   `json:"MeetingId"`
	AttendeeList   []string `json:"AttendeeList"`
}

// BotMessage is a welcome message of a bot conversation.
type BotMessage struct {
	Content     string `json:"Content"`
	ContentType string `json:"ContentType"` // PlainText or SSML
}

// BotDialogAction is the first dialog action of a bot conversation.
type BotDialogAction struct {
	Type string `json:"Type"` // ElicitIntent or Delegate
}

// BotIntent is the intent a bot conversation starts in.
type BotIntent struct {
	Name  string          `json:"Name"`
	Slots json.RawMessage `json:"Slots,omitempty"`
	State string          `json:"State,omitempty"`
}

// BotSessionState is the initial state of a bot conversation.
type BotSessionState struct {
	SessionAttributes map[string]string `json:"SessionAttributes,omitempty"`
	DialogAction      *BotDialogAction  `json:"DialogAction,omitempty"`
	Intent            *BotIntent        `json:"Intent,omitempty"`
}

// BotConfiguration configures a bot conversation.
type BotConfiguration struct {
	SessionState    *BotSessionState `json:"SessionState,omitempty"`
	WelcomeMessages []BotMessage     `json:"WelcomeMessages,omitempty"`
}

// StartBotConversationParameters: hand the leg to a conversational bot.
type StartBotConversationParameters struct {
	CallID         string            `json:"CallId,omitempty"`
	ParticipantTag string            `json:"ParticipantTag,omitempty"`
	BotAliasArn    string            `json:"BotAliasArn"`
	LocaleID       string            `json:"LocaleId"`
	Configuration  *BotConfiguration `json:"Configuration,omitempty"`
}

// Call recording tracks.
const (
	TrackBoth     = "BOTH"
	TrackIncoming = "INCOMING"
	TrackOutgoing = "OUTGOING"
)

// CallRecordingDestination is where StartCallRecording writes. Type is "S3";
// Location is "bucket" or "bucket/prefix".
type CallRecordingDestination struct {
	Type     string `json:"Type"`
	Location string `json:"Location"`
}

// StartCallRecordingParameters: record a leg in the background until
// StopCallRecording or call end. BOTH is stereo: incoming left, outgoing right.
type StartCallRecordingParameters struct {
	CallID      string                   `json:"CallId"`
	Track       string                   `json:"Track"`
	Destination CallRecordingDestination `json:"Destination"`
}

// StopCallRecordingParameters: stop the recording of CallID.
type StopCallRecordingParameters struct {
	CallID string `json:"CallId"`
}

// PauseCallRecordingParameters: record silence until resumed.
type PauseCallRecordingParameters struct {
	CallID string `json:"CallId"`
}

// ResumeCallRecordingParameters: resume a paused recording.
type ResumeCallRecordingParameters struct {
	CallID string `json:"CallId"`
}

// VoiceFocusParameters: switch noise suppression on or off for a leg.
type VoiceFocusParameters struct {
	Enable         Bool   `json:"Enable,omitzero"`
	CallID         string `json:"CallId,omitempty"`
	ParticipantTag string `json:"ParticipantTag,omitempty"`
}
