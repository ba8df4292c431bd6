package abi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func twoLegs() []Participant {
	return []Participant{
		{CallID: "call-id-1", ParticipantTag: LegA, Direction: DirectionInbound, Status: StatusConnected},
		{CallID: "call-id-2", ParticipantTag: LegB, Direction: DirectionOutbound, Status: StatusConnected},
	}
}

const s3 = `{"Type":"S3","BucketName":"b","Key":"k.wav"}`

func TestValidateAction(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name     string
		typ      ActionType
		params   string
		oneLeg   bool // participants = only LEG-A
		unknown  bool // participants = nil
		wantType ErrorType
		wantMsg  string
	}{
		// PlayAudio
		{name: "PlayAudio valid", typ: ActionPlayAudio, params: `{"CallId":"call-id-1","ParticipantTag":"LEG-A","PlaybackTerminators":["1","8","#"],"Repeat":"5","AudioSource":` + s3 + `}`},
		{name: "PlayAudio missing AudioSource", typ: ActionPlayAudio, params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudio: AudioSource is required"},
		{name: "PlayAudio AudioSource type", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"HTTP","BucketName":"b","Key":"k"}}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: AudioSource.Type parameter value is invalid: must be S3 or URL"},
		{name: "PlayAudio URL", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"URL","Uri":"https://prompts.example.com/menu.mp3"}}`},
		{name: "PlayAudio URL missing Uri", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"URL","BucketName":"b"}}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudio: AudioSource.Uri is required"},
		{name: "PlayAudio URL not http", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"URL","Uri":"file:///etc/passwd"}}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: AudioSource.Uri parameter value is invalid: must be an http:// or https:// URL"},
		{name: "PlayAudio URL empty host", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"URL","Uri":"http://"}}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: AudioSource.Uri parameter value is invalid: must be an http:// or https:// URL"},
		{name: "PlayAudio URL control", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"URL","Uri":"http://a/\u0000"}}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: AudioSource.Uri parameter value is invalid: must not contain spaces, backslashes or control characters"},
		{name: "PlayAudio URL too long", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"URL","Uri":"http://a/` + long(2048) + `"}}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: AudioSource.Uri parameter value is invalid: must be at most 2048 bytes"},
		{name: "PlayAudioAndGetDigits failure URL", typ: ActionPlayAudioAndGetDigits, params: `{"RepeatDurationInMilliseconds":1000,"AudioSource":` + s3 + `,"FailureAudioSource":{"Type":"URL"}}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudioAndGetDigits: FailureAudioSource.Uri is required"},
		{name: "PlayAudio missing BucketName", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"S3","Key":"k"}}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudio: AudioSource.BucketName is required"},
		{name: "PlayAudio missing Key", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"S3","BucketName":"b"}}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudio: AudioSource.Key is required"},
		{name: "PlayAudio Key too long", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"S3","BucketName":"b","Key":"` + long(1025) + `"}}`, wantType: InvalidActionParameter, wantMsg: "AudioSource.Key parameter value is invalid: must be at most 1024 bytes"},
		{name: "PlayAudio Repeat zero", typ: ActionPlayAudio, params: `{"Repeat":0,"AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: Repeat parameter value is invalid: must be between 1 and 100"},
		{name: "PlayAudio Repeat 101", typ: ActionPlayAudio, params: `{"Repeat":"101","AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: Repeat parameter value is invalid: must be between 1 and 100"},
		{name: "PlayAudio Repeat not a number", typ: ActionPlayAudio, params: `{"Repeat":"many","AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: Repeat parameter value is invalid: not an integer"},
		{name: "PlayAudio terminator", typ: ActionPlayAudio, params: `{"PlaybackTerminators":["A"],"AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: `PlayAudio: PlaybackTerminators parameter value is invalid: "A" is not one of 0-9, * and #`},
		{name: "PlayAudio terminators not a list", typ: ActionPlayAudio, params: `{"PlaybackTerminators":"#","AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: PlaybackTerminators parameter value is invalid: must be an array, not string"},
		{name: "PlayAudio unknown CallId", typ: ActionPlayAudio, params: `{"CallId":"nope","AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: CallId parameter value is invalid: no participant with this CallId in this call"},
		{name: "PlayAudio bad tag", typ: ActionPlayAudio, params: `{"ParticipantTag":"LEG-C","AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: ParticipantTag parameter value is invalid: must be LEG-A or LEG-B"},
		{name: "PlayAudio absent leg", typ: ActionPlayAudio, oneLeg: true, params: `{"ParticipantTag":"LEG-B","AudioSource":` + s3 + `}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: ParticipantTag parameter value is invalid: no participant LEG-B in this call"},
		{name: "PlayAudio CallId wins over bad tag", typ: ActionPlayAudio, params: `{"CallId":"call-id-2","ParticipantTag":"LEG-X","AudioSource":` + s3 + `}`},
		{name: "PlayAudio participants unknown", typ: ActionPlayAudio, unknown: true, params: `{"CallId":"anything","ParticipantTag":"LEG-B","AudioSource":` + s3 + `}`},
		{name: "PlayAudio parameters not an object", typ: ActionPlayAudio, params: `[]`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: Parameters are invalid: parameters must be a json object"},
		{name: "PlayAudio nested wrong type", typ: ActionPlayAudio, params: `{"AudioSource":{"Type":"S3","BucketName":"b","Key":5}}`, wantType: InvalidActionParameter, wantMsg: "PlayAudio: AudioSource parameter value is invalid: Key must be a string, not number"},

		// PlayAudioAndGetDigits
		{name: "PlayAudioAndGetDigits valid", typ: ActionPlayAudioAndGetDigits, params: `{"ParticipantTag":"LEG-A","InputDigitsRegex":"^\\d{2}#$","AudioSource":` + s3 + `,"FailureAudioSource":` + s3 + `,"MinNumberOfDigits":3,"MaxNumberOfDigits":5,"TerminatorDigits":["#"],"InBetweenDigitsDurationInMilliseconds":5000,"Repeat":3,"RepeatDurationInMilliseconds":10000}`},
		{name: "PlayAudioAndGetDigits missing RepeatDuration", typ: ActionPlayAudioAndGetDigits, params: `{"AudioSource":` + s3 + `}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudioAndGetDigits: RepeatDurationInMilliseconds is required"},
		{name: "PlayAudioAndGetDigits missing AudioSource", typ: ActionPlayAudioAndGetDigits, params: `{"RepeatDurationInMilliseconds":1000}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudioAndGetDigits: AudioSource is required"},
		{name: "PlayAudioAndGetDigits bad failure source", typ: ActionPlayAudioAndGetDigits, params: `{"AudioSource":` + s3 + `,"FailureAudioSource":{"Type":"S3","Key":"k"},"RepeatDurationInMilliseconds":1000}`, wantType: MissingRequiredActionParameter, wantMsg: "PlayAudioAndGetDigits: FailureAudioSource.BucketName is required"},
		{name: "PlayAudioAndGetDigits bad regex", typ: ActionPlayAudioAndGetDigits, params: `{"InputDigitsRegex":"(","AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "PlayAudioAndGetDigits: InputDigitsRegex parameter value is invalid: does not compile"},
		{name: "PlayAudioAndGetDigits regex too long", typ: ActionPlayAudioAndGetDigits, params: `{"InputDigitsRegex":"` + long(1001) + `","AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "InputDigitsRegex parameter value is invalid: must be at most 1000 bytes"},
		{name: "PlayAudioAndGetDigits min negative", typ: ActionPlayAudioAndGetDigits, params: `{"MinNumberOfDigits":-1,"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "MinNumberOfDigits parameter value is invalid: must be between 0 and 128"},
		{name: "PlayAudioAndGetDigits max too big", typ: ActionPlayAudioAndGetDigits, params: `{"MaxNumberOfDigits":129,"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "MaxNumberOfDigits parameter value is invalid: must be between 1 and 128"},
		{name: "PlayAudioAndGetDigits min above max", typ: ActionPlayAudioAndGetDigits, params: `{"MinNumberOfDigits":5,"MaxNumberOfDigits":4,"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "MaxNumberOfDigits parameter value is invalid: must not be less than MinNumberOfDigits"},
		{name: "PlayAudioAndGetDigits terminator", typ: ActionPlayAudioAndGetDigits, params: `{"TerminatorDigits":["##"],"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "TerminatorDigits parameter value is invalid"},
		{name: "PlayAudioAndGetDigits in-between zero", typ: ActionPlayAudioAndGetDigits, params: `{"InBetweenDigitsDurationInMilliseconds":0,"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "InBetweenDigitsDurationInMilliseconds parameter value is invalid: must be between 1 and 86400000"},
		{name: "PlayAudioAndGetDigits repeat zero", typ: ActionPlayAudioAndGetDigits, params: `{"Repeat":0,"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "PlayAudioAndGetDigits: Repeat parameter value is invalid: must be between 1 and 100"},
		{name: "PlayAudioAndGetDigits repeat duration huge", typ: ActionPlayAudioAndGetDigits, params: `{"AudioSource":` + s3 + `,"RepeatDurationInMilliseconds":86400001}`, wantType: InvalidActionParameter, wantMsg: "RepeatDurationInMilliseconds parameter value is invalid: must be between 1 and 86400000"},

		// Speak
		{name: "Speak valid", typ: ActionSpeak, params: `{"CallId":"call-id-1","Text":"Hello","Engine":"neural","LanguageCode":"en-US","TextType":"text","VoiceId":"Joanna"}`},
		{name: "Speak ssml valid", typ: ActionSpeak, params: `{"Text":"<speak>Hi</speak>","TextType":"ssml"}`},
		{name: "Speak missing text", typ: ActionSpeak, params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "Speak: Text is required"},
		{name: "Speak text too long", typ: ActionSpeak, params: `{"Text":"` + long(1001) + `"}`, wantType: InvalidActionParameter, wantMsg: "Speak: Text parameter value is invalid: must be at most 1000 characters, not 1001"},
		{name: "Speak text 1000 runes ok", typ: ActionSpeak, params: `{"Text":"` + strings.Repeat("é", 1000) + `"}`},
		{name: "Speak text type", typ: ActionSpeak, params: `{"Text":"x","TextType":"html"}`, wantType: InvalidActionParameter, wantMsg: "Speak: TextType parameter value is invalid: must be text or ssml"},
		{name: "Speak engine", typ: ActionSpeak, params: `{"Text":"x","Engine":"fancy"}`, wantType: InvalidActionParameter, wantMsg: "Speak: Engine parameter value is invalid: must be standard or neural"},
		{name: "Speak voice control char", typ: ActionSpeak, params: `{"Text":"x","VoiceId":"a\nb"}`, wantType: InvalidActionParameter, wantMsg: "Speak: VoiceId parameter value is invalid: must not contain control characters"},
		{name: "Speak language too long", typ: ActionSpeak, params: `{"Text":"x","LanguageCode":"` + long(1025) + `"}`, wantType: InvalidActionParameter, wantMsg: "Speak: LanguageCode parameter value is invalid: must be at most 1024 bytes"},

		// SpeakAndGetDigits
		{name: "SpeakAndGetDigits valid", typ: ActionSpeakAndGetDigits, params: `{"CallId":"call-id-1","InputDigitsRegex":"^[0-9]+$","SpeechParameters":{"Text":"Enter","Engine":"standard"},"FailureSpeechParameters":{"Text":"Again","TextType":"text"},"MinNumberOfDigits":1,"MaxNumberOfDigits":4,"TerminatorDigits":["#"],"InBetweenDigitsDurationInMilliseconds":3000,"Repeat":2,"RepeatDurationInMilliseconds":4000}`},
		{name: "SpeakAndGetDigits missing speech", typ: ActionSpeakAndGetDigits, params: `{"RepeatDurationInMilliseconds":1000}`, wantType: MissingRequiredActionParameter, wantMsg: "SpeakAndGetDigits: SpeechParameters.Text is required"},
		{name: "SpeakAndGetDigits failure text missing", typ: ActionSpeakAndGetDigits, params: `{"SpeechParameters":{"Text":"x"},"FailureSpeechParameters":{},"RepeatDurationInMilliseconds":1000}`, wantType: MissingRequiredActionParameter, wantMsg: "SpeakAndGetDigits: FailureSpeechParameters.Text is required"},
		{name: "SpeakAndGetDigits text type", typ: ActionSpeakAndGetDigits, params: `{"SpeechParameters":{"Text":"x","TextType":"xml"},"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "SpeechParameters.TextType parameter value is invalid: must be text or ssml"},
		{name: "SpeakAndGetDigits missing repeat duration", typ: ActionSpeakAndGetDigits, params: `{"SpeechParameters":{"Text":"x"}}`, wantType: MissingRequiredActionParameter, wantMsg: "SpeakAndGetDigits: RepeatDurationInMilliseconds is required"},
		{name: "SpeakAndGetDigits bad regex", typ: ActionSpeakAndGetDigits, params: `{"InputDigitsRegex":"[","SpeechParameters":{"Text":"x"},"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "InputDigitsRegex parameter value is invalid: does not compile"},
		{name: "SpeakAndGetDigits max digits", typ: ActionSpeakAndGetDigits, params: `{"MaxNumberOfDigits":0,"SpeechParameters":{"Text":"x"},"RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "MaxNumberOfDigits parameter value is invalid: must be between 1 and 128"},
		{name: "SpeakAndGetDigits speech wrong type", typ: ActionSpeakAndGetDigits, params: `{"SpeechParameters":"hello","RepeatDurationInMilliseconds":1000}`, wantType: InvalidActionParameter, wantMsg: "SpeakAndGetDigits: SpeechParameters parameter value is invalid: must be an object, not string"},

		// Pause
		{name: "Pause valid", typ: ActionPause, params: `{"ParticipantTag":"LEG-A","DurationInMilliseconds":"3000"}`},
		{name: "Pause missing duration", typ: ActionPause, params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "Pause: DurationInMilliseconds is required"},
		{name: "Pause zero duration", typ: ActionPause, params: `{"DurationInMilliseconds":0}`, wantType: InvalidActionParameter, wantMsg: "Pause: DurationInMilliseconds parameter value is invalid: must be between 1 and 86400000"},
		{name: "Pause duration bool", typ: ActionPause, params: `{"DurationInMilliseconds":true}`, wantType: InvalidActionParameter, wantMsg: "Pause: DurationInMilliseconds parameter value is invalid: not an integer"},

		// Hangup
		{name: "Hangup valid", typ: ActionHangup, params: `{"CallId":"call-id-2","SipResponseCode":"486"}`},
		{name: "Hangup no parameters", typ: ActionHangup, params: ``},
		{name: "Hangup code", typ: ActionHangup, params: `{"SipResponseCode":404}`, wantType: InvalidActionParameter, wantMsg: "Hangup: SipResponseCode parameter value is invalid: must be 0, 480 or 486"},
		{name: "Hangup tag", typ: ActionHangup, params: `{"ParticipantTag":"leg-a"}`, wantType: InvalidActionParameter, wantMsg: "Hangup: ParticipantTag parameter value is invalid: must be LEG-A or LEG-B"},

		// SendDigits
		{name: "SendDigits valid", typ: ActionSendDigits, params: `{"CallId":"call-id-1","Digits":",,*1234,56,7890ABCD#","ToneDurationInMilliseconds":100}`},
		{name: "SendDigits missing CallId", typ: ActionSendDigits, params: `{"Digits":"1"}`, wantType: MissingRequiredActionParameter, wantMsg: "SendDigits: CallId is required"},
		{name: "SendDigits missing digits", typ: ActionSendDigits, params: `{"CallId":"call-id-1"}`, wantType: MissingRequiredActionParameter, wantMsg: "SendDigits: Digits is required"},
		{name: "SendDigits bad digit", typ: ActionSendDigits, params: `{"CallId":"call-id-1","Digits":"12E"}`, wantType: InvalidActionParameter, wantMsg: "SendDigits: Digits parameter value is invalid: must contain only 0-9, *, #, A-D and ','"},
		{name: "SendDigits too many", typ: ActionSendDigits, params: `{"CallId":"call-id-1","Digits":"` + strings.Repeat("1", 51) + `"}`, wantType: InvalidActionParameter, wantMsg: "SendDigits: Digits parameter value is invalid: must be at most 50 characters"},
		{name: "SendDigits tone short", typ: ActionSendDigits, params: `{"CallId":"call-id-1","Digits":"1","ToneDurationInMilliseconds":49}`, wantType: InvalidActionParameter, wantMsg: "SendDigits: ToneDurationInMilliseconds parameter value is invalid: must be between 50 and 24000"},
		{name: "SendDigits tone long", typ: ActionSendDigits, params: `{"CallId":"call-id-1","Digits":"1","ToneDurationInMilliseconds":24001}`, wantType: InvalidActionParameter, wantMsg: "must be between 50 and 24000"},
		{name: "SendDigits unknown CallId", typ: ActionSendDigits, params: `{"CallId":"x","Digits":"1"}`, wantType: InvalidActionParameter, wantMsg: "SendDigits: CallId parameter value is invalid"},

		// ReceiveDigits
		{name: "ReceiveDigits valid", typ: ActionReceiveDigits, params: `{"ParticipantTag":"LEG-A","InputDigitsRegex":"^\\*\\d{1}$","InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":10000}`},
		{name: "ReceiveDigits missing regex", typ: ActionReceiveDigits, params: `{"InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":10000}`, wantType: MissingRequiredActionParameter, wantMsg: "ReceiveDigits: InputDigitsRegex is required"},
		{name: "ReceiveDigits missing in-between", typ: ActionReceiveDigits, params: `{"InputDigitsRegex":"1","FlushDigitsDurationInMilliseconds":10000}`, wantType: MissingRequiredActionParameter, wantMsg: "ReceiveDigits: InBetweenDigitsDurationInMilliseconds is required"},
		{name: "ReceiveDigits missing flush", typ: ActionReceiveDigits, params: `{"InputDigitsRegex":"1","InBetweenDigitsDurationInMilliseconds":1000}`, wantType: MissingRequiredActionParameter, wantMsg: "ReceiveDigits: FlushDigitsDurationInMilliseconds is required"},
		{name: "ReceiveDigits bad regex", typ: ActionReceiveDigits, params: `{"InputDigitsRegex":"a**{","InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":10000}`, wantType: InvalidActionParameter, wantMsg: "ReceiveDigits: InputDigitsRegex parameter value is invalid: does not compile"},
		{name: "ReceiveDigits flush negative", typ: ActionReceiveDigits, params: `{"InputDigitsRegex":"1","InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":-5}`, wantType: InvalidActionParameter, wantMsg: "FlushDigitsDurationInMilliseconds parameter value is invalid: must be between 1 and 86400000"},

		// RecordAudio
		{name: "RecordAudio valid", typ: ActionRecordAudio, params: `{"CallId":"call-id-1","DurationInSeconds":"10","SilenceDurationInSeconds":3,"SilenceThreshold":100,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"valid-bucket-name","Prefix":"valid-prefix-name"}}`},
		{name: "RecordAudio missing terminators", typ: ActionRecordAudio, params: `{"RecordingDestination":{"Type":"S3","BucketName":"b"}}`, wantType: MissingRequiredActionParameter, wantMsg: "RecordAudio: RecordingTerminators is required"},
		{name: "RecordAudio bad terminator", typ: ActionRecordAudio, params: `{"RecordingTerminators":["x"],"RecordingDestination":{"Type":"S3","BucketName":"b"}}`, wantType: InvalidActionParameter, wantMsg: `RecordAudio: RecordingTerminators parameter value is invalid: "x" is not one of 0-9, * and #`},
		{name: "RecordAudio missing destination", typ: ActionRecordAudio, params: `{"RecordingTerminators":["#"]}`, wantType: MissingRequiredActionParameter, wantMsg: "RecordAudio: RecordingDestination is required"},
		{name: "RecordAudio destination type", typ: ActionRecordAudio, params: `{"RecordingTerminators":["#"],"RecordingDestination":{"Type":"GCS","BucketName":"b"}}`, wantType: InvalidActionParameter, wantMsg: "RecordAudio: RecordingDestination.Type parameter value is invalid: must be S3"},
		{name: "RecordAudio missing bucket", typ: ActionRecordAudio, params: `{"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3"}}`, wantType: MissingRequiredActionParameter, wantMsg: "RecordAudio: RecordingDestination.BucketName is required"},
		{name: "RecordAudio prefix 979 ok", typ: ActionRecordAudio, params: `{"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"b","Prefix":"` + long(979) + `"}}`},
		{name: "RecordAudio prefix too long", typ: ActionRecordAudio, params: `{"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"b","Prefix":"` + long(980) + `"}}`, wantType: InvalidActionParameter, wantMsg: "RecordAudio: RecordingDestination.Prefix parameter value is invalid: must be at most 979 characters"},
		{name: "RecordAudio duration zero", typ: ActionRecordAudio, params: `{"DurationInSeconds":0,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"b"}}`, wantType: InvalidActionParameter, wantMsg: "RecordAudio: DurationInSeconds parameter value is invalid: must be between 1 and 86400"},
		{name: "RecordAudio silence duration", typ: ActionRecordAudio, params: `{"SilenceDurationInSeconds":1001,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"b"}}`, wantType: InvalidActionParameter, wantMsg: "RecordAudio: SilenceDurationInSeconds parameter value is invalid: must be between 1 and 1000"},
		{name: "RecordAudio silence threshold", typ: ActionRecordAudio, params: `{"SilenceThreshold":0,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"b"}}`, wantType: InvalidActionParameter, wantMsg: "RecordAudio: SilenceThreshold parameter value is invalid: must be between 1 and 1000"},

		// CallAndBridge
		{name: "CallAndBridge valid", typ: ActionCallAndBridge, params: `{"CallTimeoutSeconds":30,"CallerIdNumber":"+12065550100","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}],"RingbackTone":` + s3 + `,"SipHeaders":{"X-Foo":"bar","User-to-User":"abc;encoding=hex","Diversion":"<sip:+1@x>"}}`},
		{name: "CallAndBridge AWS valid", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+12065550100","Endpoints":[{"BridgeEndpointType":"AWS","Uri":"5550101","Arn":"arn:aws:chime:us-east-1:1:vc/abc"}]}`},
		{name: "CallAndBridge missing caller id", typ: ActionCallAndBridge, params: `{"Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}]}`, wantType: MissingRequiredActionParameter, wantMsg: "CallAndBridge: CallerIdNumber is required"},
		{name: "CallAndBridge timeout zero", typ: ActionCallAndBridge, params: `{"CallTimeoutSeconds":0,"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}]}`, wantType: InvalidActionParameter, wantMsg: "CallAndBridge: CallTimeoutSeconds parameter value is invalid: must be between 1 and 120"},
		{name: "CallAndBridge timeout 121", typ: ActionCallAndBridge, params: `{"CallTimeoutSeconds":"121","CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}]}`, wantType: InvalidActionParameter, wantMsg: "must be between 1 and 120"},
		{name: "CallAndBridge missing endpoints", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1"}`, wantType: MissingRequiredActionParameter, wantMsg: "CallAndBridge: Endpoints is required"},
		{name: "CallAndBridge two endpoints", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"},{"BridgeEndpointType":"PSTN","Uri":"+12065550102"}]}`, wantType: InvalidActionParameter, wantMsg: "CallAndBridge: Endpoints parameter value is invalid: must have exactly one endpoint"},
		{name: "CallAndBridge endpoint type", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"SIP","Uri":"x"}]}`, wantType: InvalidActionParameter, wantMsg: "CallAndBridge: Endpoints.BridgeEndpointType parameter value is invalid: must be PSTN or AWS"},
		{name: "CallAndBridge PSTN uri missing", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN"}]}`, wantType: MissingRequiredActionParameter, wantMsg: "CallAndBridge: Endpoints.Uri is required"},
		{name: "CallAndBridge PSTN uri not E164", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"sip:bob@x"}]}`, wantType: InvalidActionParameter, wantMsg: "CallAndBridge: Endpoints.Uri parameter value is invalid: must be an E.164 number"},
		{name: "CallAndBridge AWS arn missing", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"AWS","Uri":"1"}]}`, wantType: MissingRequiredActionParameter, wantMsg: "CallAndBridge: Endpoints.Arn is required"},
		{name: "CallAndBridge ringback", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}],"RingbackTone":{"Type":"S3","BucketName":"b"}}`, wantType: MissingRequiredActionParameter, wantMsg: "CallAndBridge: RingbackTone.Key is required"},
		{name: "CallAndBridge header not allowed", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}],"SipHeaders":{"Via":"x"}}`, wantType: InvalidActionParameter, wantMsg: `CallAndBridge: SipHeaders parameter value is invalid: header "Via" is not allowed`},
		{name: "CallAndBridge header name injection", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}],"SipHeaders":{"X-A: b\r\nVia":"x"}}`, wantType: InvalidActionParameter, wantMsg: "is not allowed"},
		{name: "CallAndBridge header value injection", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}],"SipHeaders":{"X-A":"b\r\nVia: x"}}`, wantType: InvalidActionParameter, wantMsg: "CallAndBridge: SipHeaders parameter value is invalid: header X-A must not contain control characters"},
		{name: "CallAndBridge caller id injection", typ: ActionCallAndBridge, params: `{"CallerIdNumber":"+1\r\n","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+12065550101"}]}`, wantType: InvalidActionParameter, wantMsg: "CallAndBridge: CallerIdNumber parameter value is invalid: must not contain control characters"},

		// JoinChimeMeeting
		{name: "JoinChimeMeeting valid", typ: ActionJoinChimeMeeting, params: `{"JoinToken":"abc123","CallId":"call-id-1","MeetingId":"m1"}`},
		{name: "JoinChimeMeeting missing token", typ: ActionJoinChimeMeeting, params: `{"MeetingId":"m1"}`, wantType: MissingRequiredActionParameter, wantMsg: "JoinChimeMeeting: JoinToken is required"},
		{name: "JoinChimeMeeting token control", typ: ActionJoinChimeMeeting, params: `{"JoinToken":"a\u0000b"}`, wantType: InvalidActionParameter, wantMsg: "JoinChimeMeeting: JoinToken parameter value is invalid: must not contain control characters"},
		{name: "JoinChimeMeeting bad leg", typ: ActionJoinChimeMeeting, oneLeg: true, params: `{"JoinToken":"a","ParticipantTag":"LEG-B"}`, wantType: InvalidActionParameter, wantMsg: "JoinChimeMeeting: ParticipantTag parameter value is invalid: no participant LEG-B in this call"},

		// ModifyChimeMeetingAttendees
		{name: "ModifyChimeMeetingAttendees valid", typ: ActionModifyChimeMeetingAttendees, params: `{"Operation":"Mute","MeetingId":"m1","CallId":"call-id-1","AttendeeList":["a1","a2"]}`},
		{name: "ModifyChimeMeetingAttendees missing operation", typ: ActionModifyChimeMeetingAttendees, params: `{"MeetingId":"m1","AttendeeList":["a1"]}`, wantType: MissingRequiredActionParameter, wantMsg: "ModifyChimeMeetingAttendees: Operation is required"},
		{name: "ModifyChimeMeetingAttendees operation", typ: ActionModifyChimeMeetingAttendees, params: `{"Operation":"Kick","MeetingId":"m1","AttendeeList":["a1"]}`, wantType: InvalidActionParameter, wantMsg: "ModifyChimeMeetingAttendees: Operation parameter value is invalid: must be Mute or Unmute"},
		{name: "ModifyChimeMeetingAttendees missing meeting", typ: ActionModifyChimeMeetingAttendees, params: `{"Operation":"Unmute","AttendeeList":["a1"]}`, wantType: MissingRequiredActionParameter, wantMsg: "ModifyChimeMeetingAttendees: MeetingId is required"},
		{name: "ModifyChimeMeetingAttendees missing list", typ: ActionModifyChimeMeetingAttendees, params: `{"Operation":"Unmute","MeetingId":"m1"}`, wantType: MissingRequiredActionParameter, wantMsg: "ModifyChimeMeetingAttendees: AttendeeList is required"},
		{name: "ModifyChimeMeetingAttendees list too long", typ: ActionModifyChimeMeetingAttendees, params: `{"Operation":"Unmute","MeetingId":"m1","AttendeeList":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 101), ",") + `]}`, wantType: InvalidActionParameter, wantMsg: "ModifyChimeMeetingAttendees: AttendeeList parameter value is invalid: must have at most 100 entries"},
		{name: "ModifyChimeMeetingAttendees empty attendee", typ: ActionModifyChimeMeetingAttendees, params: `{"Operation":"Unmute","MeetingId":"m1","AttendeeList":[""]}`, wantType: MissingRequiredActionParameter, wantMsg: "ModifyChimeMeetingAttendees: AttendeeList is required"},

		// StartBotConversation
		{name: "StartBotConversation valid", typ: ActionStartBotConversation, params: `{"ParticipantTag":"LEG-A","BotAliasArn":"arn:aws:lex:x","LocaleId":"en_US","Configuration":{"SessionState":{"SessionAttributes":{"k":"v"},"DialogAction":{"Type":"ElicitIntent"},"Intent":{"Name":"Order","Slots":{},"State":"InProgress"}},"WelcomeMessages":[{"Content":"Hi","ContentType":"PlainText"}]}}`},
		{name: "StartBotConversation missing arn", typ: ActionStartBotConversation, params: `{"LocaleId":"en_US"}`, wantType: MissingRequiredActionParameter, wantMsg: "StartBotConversation: BotAliasArn is required"},
		{name: "StartBotConversation missing locale", typ: ActionStartBotConversation, params: `{"BotAliasArn":"a"}`, wantType: MissingRequiredActionParameter, wantMsg: "StartBotConversation: LocaleId is required"},
		{name: "StartBotConversation content type", typ: ActionStartBotConversation, params: `{"BotAliasArn":"a","LocaleId":"en_US","Configuration":{"WelcomeMessages":[{"Content":"x","ContentType":"HTML"}]}}`, wantType: InvalidActionParameter, wantMsg: "StartBotConversation: Configuration.WelcomeMessages.ContentType parameter value is invalid: must be PlainText or SSML"},
		{name: "StartBotConversation empty content", typ: ActionStartBotConversation, params: `{"BotAliasArn":"a","LocaleId":"en_US","Configuration":{"WelcomeMessages":[{"ContentType":"SSML"}]}}`, wantType: MissingRequiredActionParameter, wantMsg: "StartBotConversation: Configuration.WelcomeMessages.Content is required"},
		{name: "StartBotConversation dialog action", typ: ActionStartBotConversation, params: `{"BotAliasArn":"a","LocaleId":"en_US","Configuration":{"SessionState":{"DialogAction":{"Type":"Close"}}}}`, wantType: InvalidActionParameter, wantMsg: "Configuration.SessionState.DialogAction.Type parameter value is invalid: must be ElicitIntent or Delegate"},
		{name: "StartBotConversation intent name", typ: ActionStartBotConversation, params: `{"BotAliasArn":"a","LocaleId":"en_US","Configuration":{"SessionState":{"Intent":{}}}}`, wantType: MissingRequiredActionParameter, wantMsg: "StartBotConversation: Configuration.SessionState.Intent.Name is required"},

		// StartCallRecording
		{name: "StartCallRecording valid", typ: ActionStartCallRecording, params: `{"CallId":"call-id-1","Track":"BOTH","Destination":{"Type":"S3","Location":"bucket/prefix"}}`},
		{name: "StartCallRecording missing CallId", typ: ActionStartCallRecording, params: `{"Track":"BOTH","Destination":{"Type":"S3","Location":"b"}}`, wantType: MissingRequiredActionParameter, wantMsg: "StartCallRecording: CallId is required"},
		{name: "StartCallRecording missing track", typ: ActionStartCallRecording, params: `{"CallId":"call-id-1","Destination":{"Type":"S3","Location":"b"}}`, wantType: MissingRequiredActionParameter, wantMsg: "StartCallRecording: Track is required"},
		{name: "StartCallRecording track", typ: ActionStartCallRecording, params: `{"CallId":"call-id-1","Track":"both","Destination":{"Type":"S3","Location":"b"}}`, wantType: InvalidActionParameter, wantMsg: "StartCallRecording: Track parameter value is invalid: must be BOTH, INCOMING or OUTGOING"},
		{name: "StartCallRecording destination type", typ: ActionStartCallRecording, params: `{"CallId":"call-id-1","Track":"INCOMING","Destination":{"Type":"FTP","Location":"b"}}`, wantType: InvalidActionParameter, wantMsg: "StartCallRecording: Destination.Type parameter value is invalid: must be S3"},
		{name: "StartCallRecording missing location", typ: ActionStartCallRecording, params: `{"CallId":"call-id-1","Track":"OUTGOING","Destination":{"Type":"S3"}}`, wantType: MissingRequiredActionParameter, wantMsg: "StartCallRecording: Destination.Location is required"},

		// StopCallRecording, PauseCallRecording, ResumeCallRecording
		{name: "StopCallRecording valid", typ: ActionStopCallRecording, params: `{"CallId":"call-id-1"}`},
		{name: "StopCallRecording missing CallId", typ: ActionStopCallRecording, params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "StopCallRecording: CallId is required"},
		{name: "StopCallRecording unknown CallId", typ: ActionStopCallRecording, params: `{"CallId":"zz"}`, wantType: InvalidActionParameter, wantMsg: "StopCallRecording: CallId parameter value is invalid: no participant with this CallId in this call"},
		{name: "PauseCallRecording valid", typ: ActionPauseCallRecording, params: `{"CallId":"call-id-2"}`},
		{name: "PauseCallRecording missing CallId", typ: ActionPauseCallRecording, params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "PauseCallRecording: CallId is required"},
		{name: "PauseCallRecording CallId wrong type", typ: ActionPauseCallRecording, params: `{"CallId":7}`, wantType: InvalidActionParameter, wantMsg: "PauseCallRecording: CallId parameter value is invalid: must be a string, not number"},
		{name: "ResumeCallRecording valid", typ: ActionResumeCallRecording, params: `{"CallId":"call-id-1"}`},
		{name: "ResumeCallRecording missing CallId", typ: ActionResumeCallRecording, params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "ResumeCallRecording: CallId is required"},
		{name: "ResumeCallRecording unknown CallId", typ: ActionResumeCallRecording, params: `{"CallId":"call-id-3"}`, wantType: InvalidActionParameter, wantMsg: "ResumeCallRecording: CallId parameter value is invalid"},

		// VoiceFocus
		{name: "VoiceFocus valid", typ: ActionVoiceFocus, params: `{"Enable":true,"CallId":"call-id-1"}`},
		{name: "VoiceFocus string bool valid", typ: ActionVoiceFocus, params: `{"Enable":"False","ParticipantTag":"LEG-B"}`},
		{name: "VoiceFocus missing enable", typ: ActionVoiceFocus, params: `{"CallId":"call-id-1"}`, wantType: MissingRequiredActionParameter, wantMsg: "VoiceFocus: Enable is required"},
		{name: "VoiceFocus enable wrong", typ: ActionVoiceFocus, params: `{"Enable":"on"}`, wantType: InvalidActionParameter, wantMsg: "VoiceFocus: Enable parameter value is invalid: not a boolean"},
		{name: "VoiceFocus bad leg", typ: ActionVoiceFocus, params: `{"Enable":true,"ParticipantTag":"B"}`, wantType: InvalidActionParameter, wantMsg: "VoiceFocus: ParticipantTag parameter value is invalid: must be LEG-A or LEG-B"},

		// Any action
		{name: "missing type", typ: "", params: `{}`, wantType: MissingRequiredActionParameter, wantMsg: "Type is required"},
		{name: "unknown type", typ: "Dance", params: `{}`, wantType: InvalidActionParameter, wantMsg: `Type "Dance" is not a supported action`},
		{name: "CallUpdateRequest is not an action", typ: ActionCallUpdateRequest, params: `{}`, wantType: InvalidActionParameter, wantMsg: `Type "CallUpdateRequest" is not a supported action`},
		{name: "unknown fields ignored", typ: ActionPause, params: `{"DurationInMilliseconds":1,"Future":{"x":[1,2]}}`},
	}
	covered := map[ActionType]bool{}
	for _, tt := range tests {
		if tt.wantType == "" {
			covered[tt.typ] = true
		}
		t.Run(tt.name, func(t *testing.T) {
			parts := twoLegs()
			switch {
			case tt.oneLeg:
				parts = parts[:1]
			case tt.unknown:
				parts = nil
			}
			a := Action{Type: tt.typ}
			if tt.params != "" {
				a.Parameters = []byte(tt.params)
			}
			resp := NewResponse(a)
			err := ValidateResponse(resp, DefaultLimits(), parts)
			if tt.wantType == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ae *ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *ActionError", err)
			}
			if ae.Type != tt.wantType {
				t.Errorf("Type = %s, want %s (message %q)", ae.Type, tt.wantType, ae.Message)
			}
			if !strings.Contains(ae.Message, tt.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", ae.Message, tt.wantMsg)
			}
			if ae.Index != 0 {
				t.Errorf("Index = %d, want 0", ae.Index)
			}
		})
	}
	for _, at := range AllActionTypes() {
		if !covered[at] {
			t.Errorf("no valid case for %s", at)
		}
	}
}

func TestValidateResponseEnvelope(t *testing.T) {
	attrs := func(n, size int) *map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%03d", i)] = strings.Repeat("v", size)
		}
		return &m
	}
	pause := Action{Type: ActionPause, Parameters: []byte(`{"DurationInMilliseconds":10}`)}
	bad := Action{Type: ActionPause, Parameters: []byte(`{}`)}
	list := func(n int) *[]Action {
		l := make([]Action, n)
		for i := range l {
			l[i] = pause
		}
		return &l
	}
	tests := []struct {
		name      string
		resp      *Response
		lim       Limits
		wantType  ErrorType
		wantMsg   string
		wantIndex int
	}{
		{name: "nil actions ok", resp: &Response{}, lim: DefaultLimits()},
		{name: "ten actions ok", resp: &Response{Actions: list(10)}, lim: DefaultLimits()},
		{name: "eleven actions", resp: &Response{Actions: list(11)}, lim: DefaultLimits(), wantType: InvalidActionParameter, wantMsg: "Actions has 11 actions: must be at most 10", wantIndex: -1},
		{name: "zero limits mean defaults", resp: &Response{Actions: list(11)}, wantType: InvalidActionParameter, wantMsg: "must be at most 10", wantIndex: -1},
		{name: "custom action limit", resp: &Response{Actions: list(3)}, lim: Limits{MaxActions: 2}, wantType: InvalidActionParameter, wantMsg: "Actions has 3 actions: must be at most 2", wantIndex: -1},
		{name: "100 pairs ok", resp: &Response{TransactionAttributes: attrs(100, 1)}, lim: DefaultLimits()},
		{name: "101 pairs", resp: &Response{TransactionAttributes: attrs(101, 1)}, lim: DefaultLimits(), wantType: TransactionAttributesInvalidMapSize, wantMsg: "TransactionAttributes has 101 pairs: must be at most 100", wantIndex: -1},
		{name: "too many bytes", resp: &Response{TransactionAttributes: attrs(2, 10240)}, lim: DefaultLimits(), wantType: TransactionAttributesInvalidMapSize, wantMsg: "TransactionAttributes has 20488 bytes: must be at most 20480", wantIndex: -1},
		{name: "exactly 20 KiB ok", resp: &Response{TransactionAttributes: attrs(1, 20480-4)}, lim: DefaultLimits()},
		{name: "second action bad", resp: &Response{Actions: &[]Action{pause, bad}}, lim: DefaultLimits(), wantType: MissingRequiredActionParameter, wantMsg: "Pause: DurationInMilliseconds is required", wantIndex: 1},
		{name: "nil response", resp: nil, wantType: InvalidActionParameter, wantMsg: "the response is empty", wantIndex: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateResponse(tt.resp, tt.lim, nil)
			if tt.wantType == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ae *ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *ActionError", err)
			}
			if ae.Type != tt.wantType || !strings.Contains(ae.Message, tt.wantMsg) || ae.Index != tt.wantIndex {
				t.Fatalf("got %s %q index %d, want %s %q index %d", ae.Type, ae.Message, ae.Index, tt.wantType, tt.wantMsg, tt.wantIndex)
			}
		})
	}
}

func TestActionErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  *ActionError
		want string
	}{
		{name: "envelope", err: &ActionError{Type: TransactionAttributesInvalidMapSize, Message: "too big", Index: -1}, want: "TransactionAttributesInvalidMapSize: too big"},
		{name: "action", err: &ActionError{Type: MissingRequiredActionParameter, Message: "RecordAudio: RecordingTerminators is required", Index: 2}, want: "MissingRequiredActionParameter: action 2: RecordAudio: RecordingTerminators is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantType ErrorType
		wantMsg  string
	}{
		{name: "action error", err: fmt.Errorf("wrapped: %w", &ActionError{Type: CallNotAnswered, Message: "Call not answered"}), wantType: CallNotAnswered, wantMsg: "Call not answered"},
		{name: "other error", err: errors.New("disk full"), wantType: SystemException, wantMsg: "disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gt, gm := ErrorFields(tt.err)
			if gt != tt.wantType || gm != tt.wantMsg {
				t.Fatalf("got %s %q, want %s %q", gt, gm, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// validateOne checks one action with the rules of ValidateResponse.
func validateOne(a Action, participants []Participant) error {
	if err := validateAction(0, a, participants); err != nil {
		return err
	}
	return nil
}
