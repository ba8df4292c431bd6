package mediaserver

// The typed parameters of the 18 Chime actions. Field names follow Chime's
// JSON names, with Go's initialisms (CallID is "CallId", VoiceID "VoiceId",
// URI "Uri", ARN "Arn"). Zero values of optional fields are omitted so the
// host applies Chime's defaults; numbers are written as JSON numbers.
// See https://docs.aws.amazon.com/chime-sdk/latest/dg/specify-actions.html

// AudioSource is a prompt: in the tenant's bucket store (Type "S3", the
// default), or, an extension of this server, fetched from an http(s) URL
// (Type "URL", URI).
type AudioSource struct {
	Type       string
	BucketName string
	Key        string
	URI        string
}

// S3Audio returns the AudioSource of key in bucket.
func S3Audio(bucket, key string) AudioSource {
	return AudioSource{Type: "S3", BucketName: bucket, Key: key}
}

// URLAudio returns the AudioSource of a prompt at an http(s) URL (WAV or
// mp3), which the server fetches within its egress policy.
func URLAudio(uri string) AudioSource {
	return AudioSource{Type: "URL", URI: uri}
}

// AppendJSON implements Parameters.
func (a *AudioSource) AppendJSON(dst []byte) []byte {
	t := a.Type
	if t == "" {
		t = "S3"
	}
	o := beginObject(dst)
	o.strAlways("Type", t)
	if t == "URL" {
		o.str("Uri", a.URI)
		return o.end()
	}
	o.str("BucketName", a.BucketName)
	o.str("Key", a.Key)
	return o.end()
}

// PlayAudioParams: play AudioSource Repeat times.
type PlayAudioParams struct {
	CallID              string
	ParticipantTag      string
	PlaybackTerminators []string
	Repeat              int
	AudioSource         AudioSource
}

// AppendJSON implements Parameters.
func (p *PlayAudioParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.strs("PlaybackTerminators", p.PlaybackTerminators)
	o.int("Repeat", p.Repeat)
	o.value("AudioSource", &p.AudioSource)
	return o.end()
}

// PlayAudio returns a PlayAudio action.
func PlayAudio(p PlayAudioParams) Action {
	return Action{Type: "PlayAudio", Parameters: box(&guest.params.playAudio, p)}
}

// PlayAudioAndGetDigitsParams: play AudioSource and collect digits.
type PlayAudioAndGetDigitsParams struct {
	CallID                                string
	ParticipantTag                        string
	InputDigitsRegex                      string
	AudioSource                           AudioSource
	FailureAudioSource                    *AudioSource
	MinNumberOfDigits                     int
	MaxNumberOfDigits                     int
	TerminatorDigits                      []string
	InBetweenDigitsDurationInMilliseconds int
	Repeat                                int
	RepeatDurationInMilliseconds          int
}

// AppendJSON implements Parameters.
func (p *PlayAudioAndGetDigitsParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.str("InputDigitsRegex", p.InputDigitsRegex)
	o.value("AudioSource", &p.AudioSource)
	if p.FailureAudioSource != nil {
		o.value("FailureAudioSource", p.FailureAudioSource)
	}
	o.int("MinNumberOfDigits", p.MinNumberOfDigits)
	o.int("MaxNumberOfDigits", p.MaxNumberOfDigits)
	o.strs("TerminatorDigits", p.TerminatorDigits)
	o.int("InBetweenDigitsDurationInMilliseconds", p.InBetweenDigitsDurationInMilliseconds)
	o.int("Repeat", p.Repeat)
	o.int("RepeatDurationInMilliseconds", p.RepeatDurationInMilliseconds)
	return o.end()
}

// PlayAudioAndGetDigits returns a PlayAudioAndGetDigits action.
func PlayAudioAndGetDigits(p PlayAudioAndGetDigitsParams) Action {
	return Action{Type: "PlayAudioAndGetDigits", Parameters: box(&guest.params.playAudioAndGetDigits, p)}
}

// SpeechParameters is what SpeakAndGetDigits says.
type SpeechParameters struct {
	Text         string
	Engine       string
	LanguageCode string
	TextType     string
	VoiceID      string
}

// AppendJSON implements Parameters.
func (s *SpeechParameters) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("Text", s.Text)
	o.str("Engine", s.Engine)
	o.str("LanguageCode", s.LanguageCode)
	o.str("TextType", s.TextType)
	o.str("VoiceId", s.VoiceID)
	return o.end()
}

// SpeakParams: say Text.
type SpeakParams struct {
	CallID         string
	ParticipantTag string
	Text           string
	Engine         string
	LanguageCode   string
	TextType       string
	VoiceID        string
}

// AppendJSON implements Parameters.
func (p *SpeakParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.strAlways("Text", p.Text)
	o.str("Engine", p.Engine)
	o.str("LanguageCode", p.LanguageCode)
	o.str("TextType", p.TextType)
	o.str("VoiceId", p.VoiceID)
	return o.end()
}

// Speak returns a Speak action.
func Speak(p SpeakParams) Action {
	return Action{Type: "Speak", Parameters: box(&guest.params.speak, p)}
}

// SpeakAndGetDigitsParams: say SpeechParameters and collect digits.
type SpeakAndGetDigitsParams struct {
	CallID                                string
	ParticipantTag                        string
	InputDigitsRegex                      string
	SpeechParameters                      SpeechParameters
	FailureSpeechParameters               *SpeechParameters
	MinNumberOfDigits                     int
	MaxNumberOfDigits                     int
	TerminatorDigits                      []string
	InBetweenDigitsDurationInMilliseconds int
	Repeat                                int
	RepeatDurationInMilliseconds          int
}

// AppendJSON implements Parameters.
func (p *SpeakAndGetDigitsParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.str("InputDigitsRegex", p.InputDigitsRegex)
	o.value("SpeechParameters", &p.SpeechParameters)
	if p.FailureSpeechParameters != nil {
		o.value("FailureSpeechParameters", p.FailureSpeechParameters)
	}
	o.int("MinNumberOfDigits", p.MinNumberOfDigits)
	o.int("MaxNumberOfDigits", p.MaxNumberOfDigits)
	o.strs("TerminatorDigits", p.TerminatorDigits)
	o.int("InBetweenDigitsDurationInMilliseconds", p.InBetweenDigitsDurationInMilliseconds)
	o.int("Repeat", p.Repeat)
	o.int("RepeatDurationInMilliseconds", p.RepeatDurationInMilliseconds)
	return o.end()
}

// SpeakAndGetDigits returns a SpeakAndGetDigits action.
func SpeakAndGetDigits(p SpeakAndGetDigitsParams) Action {
	return Action{Type: "SpeakAndGetDigits", Parameters: box(&guest.params.speakAndGetDigits, p)}
}

// PauseParams: silence for DurationInMilliseconds.
type PauseParams struct {
	CallID                 string
	ParticipantTag         string
	DurationInMilliseconds int
}

// AppendJSON implements Parameters.
func (p *PauseParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.int("DurationInMilliseconds", p.DurationInMilliseconds)
	return o.end()
}

// Pause returns a Pause action.
func Pause(p PauseParams) Action {
	return Action{Type: "Pause", Parameters: box(&guest.params.pause, p)}
}

// HangupParams: end a leg. SipResponseCode is 0 (normal, omitted), 480 or 486.
type HangupParams struct {
	CallID          string
	ParticipantTag  string
	SipResponseCode int
}

// AppendJSON implements Parameters.
func (p *HangupParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.int("SipResponseCode", p.SipResponseCode)
	return o.end()
}

// Hangup returns a Hangup action.
func Hangup(p HangupParams) Action {
	return Action{Type: "Hangup", Parameters: box(&guest.params.hangup, p)}
}

// SendDigitsParams: send DTMF on the leg CallID.
type SendDigitsParams struct {
	CallID                     string
	Digits                     string
	ToneDurationInMilliseconds int
}

// AppendJSON implements Parameters.
func (p *SendDigitsParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.strAlways("Digits", p.Digits)
	o.int("ToneDurationInMilliseconds", p.ToneDurationInMilliseconds)
	return o.end()
}

// SendDigits returns a SendDigits action.
func SendDigits(p SendDigitsParams) Action {
	return Action{Type: "SendDigits", Parameters: box(&guest.params.sendDigits, p)}
}

// ReceiveDigitsParams: a background digit listener (DIGITS_RECEIVED events).
type ReceiveDigitsParams struct {
	CallID                                string
	ParticipantTag                        string
	InputDigitsRegex                      string
	InBetweenDigitsDurationInMilliseconds int
	FlushDigitsDurationInMilliseconds     int
}

// AppendJSON implements Parameters.
func (p *ReceiveDigitsParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.strAlways("InputDigitsRegex", p.InputDigitsRegex)
	o.int("InBetweenDigitsDurationInMilliseconds", p.InBetweenDigitsDurationInMilliseconds)
	o.int("FlushDigitsDurationInMilliseconds", p.FlushDigitsDurationInMilliseconds)
	return o.end()
}

// ReceiveDigits returns a ReceiveDigits action.
func ReceiveDigits(p ReceiveDigitsParams) Action {
	return Action{Type: "ReceiveDigits", Parameters: box(&guest.params.receiveDigits, p)}
}

// RecordingDestination is where RecordAudio writes; Type defaults to "S3".
type RecordingDestination struct {
	Type       string
	BucketName string
	Prefix     string
}

// AppendJSON implements Parameters.
func (r *RecordingDestination) AppendJSON(dst []byte) []byte {
	t := r.Type
	if t == "" {
		t = "S3"
	}
	o := beginObject(dst)
	o.strAlways("Type", t)
	o.strAlways("BucketName", r.BucketName)
	o.str("Prefix", r.Prefix)
	return o.end()
}

// RecordAudioParams: record one leg into RecordingDestination.
type RecordAudioParams struct {
	CallID                   string
	ParticipantTag           string
	DurationInSeconds        int
	SilenceDurationInSeconds int
	SilenceThreshold         int
	RecordingTerminators     []string // required by Chime: nil is written as []
	RecordingDestination     RecordingDestination
}

// AppendJSON implements Parameters.
func (p *RecordAudioParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.int("DurationInSeconds", p.DurationInSeconds)
	o.int("SilenceDurationInSeconds", p.SilenceDurationInSeconds)
	o.int("SilenceThreshold", p.SilenceThreshold)
	terms := p.RecordingTerminators
	if terms == nil {
		terms = []string{}
	}
	o.strs("RecordingTerminators", terms)
	o.value("RecordingDestination", &p.RecordingDestination)
	return o.end()
}

// RecordAudio returns a RecordAudio action.
func RecordAudio(p RecordAudioParams) Action {
	return Action{Type: "RecordAudio", Parameters: box(&guest.params.recordAudio, p)}
}

// BridgeEndpoint is the party CallAndBridge calls: BridgeEndpointType is
// "PSTN" (URI is a number) or "AWS" (ARN names a trunk).
type BridgeEndpoint struct {
	BridgeEndpointType string
	URI                string
	ARN                string
}

// AppendJSON implements Parameters.
func (b *BridgeEndpoint) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("BridgeEndpointType", b.BridgeEndpointType)
	o.str("Uri", b.URI)
	o.str("Arn", b.ARN)
	return o.end()
}

// CallAndBridgeParams: place leg B and bridge it with leg A.
type CallAndBridgeParams struct {
	CallTimeoutSeconds int
	CallerIDNumber     string
	Endpoints          []BridgeEndpoint
	RingbackTone       *AudioSource
	SipHeaders         map[string]string
}

// AppendJSON implements Parameters.
func (p *CallAndBridgeParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.int("CallTimeoutSeconds", p.CallTimeoutSeconds)
	o.strAlways("CallerIdNumber", p.CallerIDNumber)
	o.key("Endpoints")
	o.b = append(o.b, '[')
	for i := range p.Endpoints {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = p.Endpoints[i].AppendJSON(o.b)
	}
	o.b = append(o.b, ']')
	if p.RingbackTone != nil {
		o.value("RingbackTone", p.RingbackTone)
	}
	o.strMap("SipHeaders", p.SipHeaders)
	return o.end()
}

// CallAndBridge returns a CallAndBridge action.
func CallAndBridge(p CallAndBridgeParams) Action {
	return Action{Type: "CallAndBridge", Parameters: box(&guest.params.callAndBridge, p)}
}

// JoinChimeMeetingParams: join the conference room of JoinToken.
type JoinChimeMeetingParams struct {
	CallID         string
	ParticipantTag string
	JoinToken      string
	MeetingID      string
}

// AppendJSON implements Parameters.
func (p *JoinChimeMeetingParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.strAlways("JoinToken", p.JoinToken)
	o.str("MeetingId", p.MeetingID)
	return o.end()
}

// JoinChimeMeeting returns a JoinChimeMeeting action.
func JoinChimeMeeting(p JoinChimeMeetingParams) Action {
	return Action{Type: "JoinChimeMeeting", Parameters: box(&guest.params.joinChimeMeeting, p)}
}

// ModifyChimeMeetingAttendeesParams: Operation "Mute" or "Unmute" the
// attendees of MeetingID.
type ModifyChimeMeetingAttendeesParams struct {
	CallID         string
	ParticipantTag string
	Operation      string
	MeetingID      string
	AttendeeList   []string
}

// AppendJSON implements Parameters.
func (p *ModifyChimeMeetingAttendeesParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.strAlways("Operation", p.Operation)
	o.strAlways("MeetingId", p.MeetingID)
	list := p.AttendeeList
	if list == nil {
		list = []string{}
	}
	o.strs("AttendeeList", list)
	return o.end()
}

// ModifyChimeMeetingAttendees returns a ModifyChimeMeetingAttendees action.
func ModifyChimeMeetingAttendees(p ModifyChimeMeetingAttendeesParams) Action {
	return Action{Type: "ModifyChimeMeetingAttendees", Parameters: box(&guest.params.modifyChimeMeetingAttendees, p)}
}

// StartBotConversationParams: hand the leg to a conversational bot.
// Configuration is passed verbatim.
type StartBotConversationParams struct {
	CallID         string
	ParticipantTag string
	BotAliasARN    string
	LocaleID       string
	Configuration  RawJSON
}

// AppendJSON implements Parameters.
func (p *StartBotConversationParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.strAlways("BotAliasArn", p.BotAliasARN)
	o.strAlways("LocaleId", p.LocaleID)
	o.raw("Configuration", p.Configuration)
	return o.end()
}

// StartBotConversation returns a StartBotConversation action.
func StartBotConversation(p StartBotConversationParams) Action {
	return Action{Type: "StartBotConversation", Parameters: box(&guest.params.startBotConversation, p)}
}

// CallRecordingDestination is where StartCallRecording writes: Type "S3"
// (the default), Location "bucket" or "bucket/prefix".
type CallRecordingDestination struct {
	Type     string
	Location string
}

// AppendJSON implements Parameters.
func (c *CallRecordingDestination) AppendJSON(dst []byte) []byte {
	t := c.Type
	if t == "" {
		t = "S3"
	}
	o := beginObject(dst)
	o.strAlways("Type", t)
	o.strAlways("Location", c.Location)
	return o.end()
}

// StartCallRecordingParams: record a leg in the background. Track is
// "BOTH" (stereo: incoming left, outgoing right), "INCOMING" or "OUTGOING".
type StartCallRecordingParams struct {
	CallID      string
	Track       string
	Destination CallRecordingDestination
}

// AppendJSON implements Parameters.
func (p *StartCallRecordingParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("CallId", p.CallID)
	o.strAlways("Track", p.Track)
	o.value("Destination", &p.Destination)
	return o.end()
}

// StartCallRecording returns a StartCallRecording action.
func StartCallRecording(p StartCallRecordingParams) Action {
	return Action{Type: "StartCallRecording", Parameters: box(&guest.params.startCallRecording, p)}
}

// CallIDParams are the parameters of the actions that take only a CallId.
type CallIDParams struct {
	CallID string
}

// AppendJSON implements Parameters.
func (p *CallIDParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("CallId", p.CallID)
	return o.end()
}

// StopCallRecording returns a StopCallRecording action for the leg callID.
func StopCallRecording(callID string) Action {
	return Action{Type: "StopCallRecording", Parameters: &CallIDParams{CallID: callID}}
}

// PauseCallRecording returns a PauseCallRecording action for the leg callID.
func PauseCallRecording(callID string) Action {
	return Action{Type: "PauseCallRecording", Parameters: &CallIDParams{CallID: callID}}
}

// ResumeCallRecording returns a ResumeCallRecording action for the leg callID.
func ResumeCallRecording(callID string) Action {
	return Action{Type: "ResumeCallRecording", Parameters: &CallIDParams{CallID: callID}}
}

// VoiceFocusParams: switch noise suppression on or off for a leg.
type VoiceFocusParams struct {
	CallID         string
	ParticipantTag string
	Enable         bool
}

// AppendJSON implements Parameters.
func (p *VoiceFocusParams) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.str("CallId", p.CallID)
	o.str("ParticipantTag", p.ParticipantTag)
	o.bool("Enable", p.Enable)
	return o.end()
}

// VoiceFocus returns a VoiceFocus action.
func VoiceFocus(p VoiceFocusParams) Action {
	return Action{Type: "VoiceFocus", Parameters: box(&guest.params.voiceFocus, p)}
}

// CustomAction returns an action of any type with verbatim parameters.
func CustomAction(typ string, params RawJSON) Action {
	return Action{Type: typ, Parameters: params}
}
