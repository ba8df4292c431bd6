package abi

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits bounds a response. A zero field means the default.
type Limits struct {
	// MaxActions is the longest action list (Chime: 10).
	MaxActions int
	// MaxAttributePairs is the most TransactionAttributes pairs.
	MaxAttributePairs int
	// MaxAttributeBytes bounds the summed byte length of all keys and values.
	MaxAttributeBytes int
}

// DefaultLimits returns 10 actions, 100 attribute pairs and 20 KiB of
// attributes. Chime's docs state both "100 pairs / 20 KB" (the limits page)
// and "10" (an example error message); the limits page is the normative one
// and the larger limit never breaks a handler written against the smaller.
func DefaultLimits() Limits {
	return Limits{MaxActions: 10, MaxAttributePairs: 100, MaxAttributeBytes: 20 * 1024}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxActions <= 0 {
		l.MaxActions = d.MaxActions
	}
	if l.MaxAttributePairs <= 0 {
		l.MaxAttributePairs = d.MaxAttributePairs
	}
	if l.MaxAttributeBytes <= 0 {
		l.MaxAttributeBytes = d.MaxAttributeBytes
	}
	return l
}

// Bounds used by the validation rules that Chime does not document. They
// keep every duration convertible to a time.Duration and every string a
// sane size for SIP and the bucket store.
const (
	MaxDurationMilliseconds = 24 * 60 * 60 * 1000 // 24 h
	MaxDurationSeconds      = 24 * 60 * 60        // 24 h
	MaxRepeat               = 100
	MaxDigitsRegexLength    = 1000
	MaxSpeakTextLength      = 1000 // characters (runes), Chime's limit
	MaxSendDigits           = 50
	MaxPrefixLength         = 979  // Chime's limit for RecordingDestination.Prefix
	MaxKeyLength            = 1024 // S3's object key limit, in bytes
	MaxURILength            = 2048 // an AudioSource's Uri, in bytes
	MaxAttendees            = 100
	MaxNumberOfDigits       = 128
	MaxStringLength         = 1024 // any other free-form identifier
	MaxSipHeaderValue       = 2048
)

// ValidateResponse checks a parsed response and returns a *ActionError for
// the first problem found, or nil. Index is -1 for the envelope, else the
// action's position. Checks, in order:
//
// Envelope:
//   - TransactionAttributes: at most lim.MaxAttributePairs pairs and
//     lim.MaxAttributeBytes bytes summed over keys and values, else
//     TransactionAttributesInvalidMapSize.
//   - at most lim.MaxActions actions (InvalidActionParameter).
//
// Every action:
//   - Type is required (MissingRequiredActionParameter) and must be one of
//     the 18 action types (InvalidActionParameter); Parameters, if present,
//     must be an object whose fields have the right JSON types (numbers may
//     be strings holding integers, booleans may be "true"/"false").
//   - Leg: if CallId is given it must name a participant and wins over
//     ParticipantTag (which is then ignored). Otherwise ParticipantTag, if
//     given, must be LEG-A or LEG-B and name an existing participant. The
//     "name a participant" checks are skipped when participants is nil.
//     Neither given: the engine uses the leg the event is about.
//     StartCallRecording, StopCallRecording, PauseCallRecording,
//     ResumeCallRecording and SendDigits require CallId (Chime's rule).
//   - Digit lists (PlaybackTerminators, TerminatorDigits,
//     RecordingTerminators): at most 12 entries, each one of 0-9 * #.
//   - Regexes (InputDigitsRegex): at most 1000 bytes, compile with Go's
//     regexp (RE2 syntax, a subset of what Chime accepts).
//   - AudioSource, FailureAudioSource, RingbackTone: Type "S3" with
//     BucketName and Key (at most 1024 bytes), or Type "URL" with Uri, an
//     http:// or https:// URL of at most 2048 bytes.
//   - Durations in milliseconds: 1 to 86,400,000; in seconds: 1 to 86,400.
//
// Per action (required fields are MissingRequiredActionParameter, bad
// values InvalidActionParameter):
//   - PlayAudio: AudioSource required; Repeat 1–100.
//   - PlayAudioAndGetDigits / SpeakAndGetDigits: AudioSource /
//     SpeechParameters required; RepeatDurationInMilliseconds required;
//     Repeat 1–100; MinNumberOfDigits 0–128; MaxNumberOfDigits 1–128 and
//     not below MinNumberOfDigits; InBetweenDigitsDurationInMilliseconds a
//     duration.
//   - Speak (and SpeechParameters): Text required, at most 1000 characters;
//     TextType text or ssml; Engine standard or neural.
//   - Pause: DurationInMilliseconds required.
//   - Hangup: SipResponseCode 0, 480 or 486.
//   - SendDigits: CallId and Digits required; Digits at most 50 of 0-9 * #
//     A-D and ',' (a 500 ms pause); ToneDurationInMilliseconds 50–24000.
//   - ReceiveDigits: InputDigitsRegex, InBetweenDigitsDurationInMilliseconds
//     and FlushDigitsDurationInMilliseconds required.
//   - RecordAudio: RecordingDestination with Type "S3" and BucketName
//     required; Prefix at most 979 characters; RecordingTerminators
//     required (non-empty); DurationInSeconds a duration;
//     SilenceDurationInSeconds and SilenceThreshold 1–1000.
//   - CallAndBridge: CallerIdNumber required; CallTimeoutSeconds 1–120;
//     Endpoints required, exactly one, BridgeEndpointType PSTN (Uri an
//     E.164 number) or AWS (Uri and Arn required); SipHeaders names X-…,
//     User-to-User or Diversion, values at most 2048 bytes without control
//     characters.
//   - JoinChimeMeeting: JoinToken required.
//   - ModifyChimeMeetingAttendees: Operation Mute or Unmute; MeetingId
//     required; AttendeeList 1–100 non-empty entries.
//   - StartBotConversation: BotAliasArn and LocaleId required; welcome
//     message ContentType PlainText or SSML; DialogAction Type ElicitIntent
//     or Delegate.
//   - StartCallRecording: Track BOTH, INCOMING or OUTGOING; Destination
//     Type "S3" and Location required.
//   - VoiceFocus: Enable required.
//
// Every free-form string is at most 1024 bytes and has no control
// characters unless a rule above says otherwise.
func ValidateResponse(r *Response, lim Limits, participants []Participant) error {
	if r == nil {
		return &ActionError{Type: InvalidActionParameter, Message: "the response is empty", Index: -1}
	}
	lim = lim.withDefaults()
	if r.TransactionAttributes != nil {
		m := *r.TransactionAttributes
		if len(m) > lim.MaxAttributePairs {
			return &ActionError{
				Type:    TransactionAttributesInvalidMapSize,
				Message: fmt.Sprintf("TransactionAttributes has %d pairs: must be at most %d", len(m), lim.MaxAttributePairs),
				Index:   -1,
			}
		}
		size := 0
		for k, v := range m {
			size += len(k) + len(v)
		}
		if size > lim.MaxAttributeBytes {
			return &ActionError{
				Type:    TransactionAttributesInvalidMapSize,
				Message: fmt.Sprintf("TransactionAttributes has %d bytes: must be at most %d", size, lim.MaxAttributeBytes),
				Index:   -1,
			}
		}
	}
	actions := r.ActionList()
	if len(actions) > lim.MaxActions {
		return &ActionError{
			Type:    InvalidActionParameter,
			Message: fmt.Sprintf("Actions has %d actions: must be at most %d", len(actions), lim.MaxActions),
			Index:   -1,
		}
	}
	for i, a := range actions {
		if err := validateAction(i, a, participants); err != nil {
			return err
		}
	}
	return nil
}

// checker records the first problem of one action.
type checker struct {
	action       ActionType
	index        int
	participants []Participant
	err          *ActionError
}

func (c *checker) fail(t ErrorType, msg string) {
	if c.err == nil {
		c.err = &ActionError{Type: t, Message: msg, Index: c.index}
	}
}

func (c *checker) missing(field string) {
	c.fail(MissingRequiredActionParameter, fmt.Sprintf("%s: %s is required", c.action, field))
}

func (c *checker) invalid(field, why string) {
	c.fail(InvalidActionParameter, fmt.Sprintf("%s: %s parameter value is invalid: %s", c.action, field, why))
}

func validateAction(index int, a Action, participants []Participant) *ActionError {
	c := &checker{action: a.Type, index: index, participants: participants}
	if a.Type == "" {
		c.fail(MissingRequiredActionParameter, "Type is required")
		return c.err
	}
	p, err := a.Decode()
	if err != nil {
		if !a.Type.Valid() {
			c.fail(InvalidActionParameter, fmt.Sprintf("Type %q is not a supported action", truncate(string(a.Type), 64)))
			return c.err
		}
		var fe *FieldError
		if asFieldError(err, &fe) && fe.Field != "" {
			c.invalid(fe.Field, fe.Err.Error())
		} else {
			c.fail(InvalidActionParameter, fmt.Sprintf("%s: Parameters are invalid: %v", a.Type, unwrapFieldError(err)))
		}
		return c.err
	}
	if !a.Type.Valid() { // CallUpdateRequest decodes but is not an action
		c.fail(InvalidActionParameter, fmt.Sprintf("Type %q is not a supported action", truncate(string(a.Type), 64)))
		return c.err
	}
	switch p := p.(type) {
	case *PlayAudioParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.audioSource("AudioSource", &p.AudioSource, true)
		c.digitList("PlaybackTerminators", p.PlaybackTerminators, false)
		c.intRange("Repeat", p.Repeat, 1, MaxRepeat, false)
	case *PlayAudioAndGetDigitsParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.audioSource("AudioSource", &p.AudioSource, true)
		c.audioSource("FailureAudioSource", p.FailureAudioSource, false)
		c.getDigits(p.InputDigitsRegex, p.MinNumberOfDigits, p.MaxNumberOfDigits, p.TerminatorDigits,
			p.InBetweenDigitsDurationInMilliseconds, p.Repeat, p.RepeatDurationInMilliseconds)
	case *SpeakParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.speech("", SpeechParameters{Text: p.Text, Engine: p.Engine, LanguageCode: p.LanguageCode, TextType: p.TextType, VoiceID: p.VoiceID}, true)
	case *SpeakAndGetDigitsParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.speech("SpeechParameters.", p.SpeechParameters, true)
		if p.FailureSpeechParameters != nil {
			c.speech("FailureSpeechParameters.", *p.FailureSpeechParameters, true)
		}
		c.getDigits(p.InputDigitsRegex, p.MinNumberOfDigits, p.MaxNumberOfDigits, p.TerminatorDigits,
			p.InBetweenDigitsDurationInMilliseconds, p.Repeat, p.RepeatDurationInMilliseconds)
	case *PauseParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.intRange("DurationInMilliseconds", p.DurationInMilliseconds, 1, MaxDurationMilliseconds, true)
	case *HangupParameters:
		c.leg(p.CallID, p.ParticipantTag)
		if p.SipResponseCode.Set {
			switch p.SipResponseCode.Value {
			case 0, 480, 486:
			default:
				c.invalid("SipResponseCode", "must be 0, 480 or 486")
			}
		}
	case *SendDigitsParameters:
		c.requiredCallID(p.CallID)
		c.sendDigits(p.Digits)
		c.intRange("ToneDurationInMilliseconds", p.ToneDurationInMilliseconds, 50, 24000, false)
	case *ReceiveDigitsParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.regex("InputDigitsRegex", p.InputDigitsRegex, true)
		c.intRange("InBetweenDigitsDurationInMilliseconds", p.InBetweenDigitsDurationInMilliseconds, 1, MaxDurationMilliseconds, true)
		c.intRange("FlushDigitsDurationInMilliseconds", p.FlushDigitsDurationInMilliseconds, 1, MaxDurationMilliseconds, true)
	case *RecordAudioParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.recordingDestination(p.RecordingDestination)
		c.intRange("DurationInSeconds", p.DurationInSeconds, 1, MaxDurationSeconds, false)
		c.intRange("SilenceDurationInSeconds", p.SilenceDurationInSeconds, 1, 1000, false)
		c.intRange("SilenceThreshold", p.SilenceThreshold, 1, 1000, false)
		c.digitList("RecordingTerminators", p.RecordingTerminators, true)
	case *CallAndBridgeParameters:
		c.callAndBridge(p)
	case *JoinChimeMeetingParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.text("JoinToken", p.JoinToken, true)
		c.text("MeetingId", p.MeetingID, false)
	case *ModifyChimeMeetingAttendeesParameters:
		c.leg(p.CallID, p.ParticipantTag)
		c.enum("Operation", p.Operation, true, OperationMute, OperationUnmute)
		c.text("MeetingId", p.MeetingID, true)
		switch {
		case len(p.AttendeeList) == 0:
			c.missing("AttendeeList")
		case len(p.AttendeeList) > MaxAttendees:
			c.invalid("AttendeeList", fmt.Sprintf("must have at most %d entries", MaxAttendees))
		}
		for _, id := range p.AttendeeList {
			c.text("AttendeeList", id, true)
		}
	case *StartBotConversationParameters:
		c.startBot(p)
	case *StartCallRecordingParameters:
		c.requiredCallID(p.CallID)
		c.enum("Track", p.Track, true, TrackBoth, TrackIncoming, TrackOutgoing)
		c.enum("Destination.Type", p.Destination.Type, true, "S3")
		c.text("Destination.Location", p.Destination.Location, true)
	case *StopCallRecordingParameters:
		c.requiredCallID(p.CallID)
	case *PauseCallRecordingParameters:
		c.requiredCallID(p.CallID)
	case *ResumeCallRecordingParameters:
		c.requiredCallID(p.CallID)
	case *VoiceFocusParameters:
		if !p.Enable.Set {
			c.missing("Enable")
		}
		c.leg(p.CallID, p.ParticipantTag)
	}
	return c.err
}

func asFieldError(err error, fe **FieldError) bool {
	for err != nil {
		if f, ok := err.(*FieldError); ok {
			*fe = f
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func unwrapFieldError(err error) error {
	var fe *FieldError
	if asFieldError(err, &fe) {
		return fe.Err
	}
	return err
}

// leg applies the CallId / ParticipantTag rule.
func (c *checker) leg(callID, tag string) {
	if callID != "" {
		c.callID(callID)
		return
	}
	if tag == "" {
		return
	}
	if tag != LegA && tag != LegB {
		c.invalid("ParticipantTag", "must be LEG-A or LEG-B")
		return
	}
	if c.participants == nil {
		return
	}
	for _, p := range c.participants {
		if p.ParticipantTag == tag {
			return
		}
	}
	c.invalid("ParticipantTag", fmt.Sprintf("no participant %s in this call", tag))
}

func (c *checker) requiredCallID(callID string) {
	if callID == "" {
		c.missing("CallId")
		return
	}
	c.callID(callID)
}

func (c *checker) callID(callID string) {
	if c.participants == nil {
		c.text("CallId", callID, true)
		return
	}
	for _, p := range c.participants {
		if p.CallID == callID {
			return
		}
	}
	c.invalid("CallId", "no participant with this CallId in this call")
}

// text checks a free-form identifier: presence, length, no control characters.
func (c *checker) text(field, s string, required bool) {
	if s == "" {
		if required {
			c.missing(field)
		}
		return
	}
	if len(s) > MaxStringLength {
		c.invalid(field, fmt.Sprintf("must be at most %d bytes", MaxStringLength))
		return
	}
	if hasControl(s) {
		c.invalid(field, "must not contain control characters")
	}
}

func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func (c *checker) enum(field, v string, required bool, allowed ...string) {
	if v == "" {
		if required {
			c.missing(field)
		}
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.invalid(field, "must be "+orList(allowed))
}

func orList(s []string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 2:
		return s[0] + " or " + s[1]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func (c *checker) intRange(field string, v Int, lo, hi int, required bool) {
	if !v.Set {
		if required {
			c.missing(field)
		}
		return
	}
	if v.Value < lo || v.Value > hi {
		c.invalid(field, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
}

func isDTMFDigit(s string) bool {
	return len(s) == 1 && (s[0] >= '0' && s[0] <= '9' || s[0] == '*' || s[0] == '#')
}

func (c *checker) digitList(field string, list []string, required bool) {
	if len(list) == 0 {
		if required {
			c.missing(field)
		}
		return
	}
	if len(list) > 12 {
		c.invalid(field, "must have at most 12 entries")
		return
	}
	for _, d := range list {
		if !isDTMFDigit(d) {
			c.invalid(field, fmt.Sprintf("%q is not one of 0-9, * and #", truncate(d, 8)))
			return
		}
	}
}

func (c *checker) regex(field, expr string, required bool) {
	if expr == "" {
		if required {
			c.missing(field)
		}
		return
	}
	if len(expr) > MaxDigitsRegexLength {
		c.invalid(field, fmt.Sprintf("must be at most %d bytes", MaxDigitsRegexLength))
		return
	}
	if _, err := regexp.Compile(expr); err != nil {
		c.invalid(field, "does not compile: "+err.Error())
	}
}

func (c *checker) audioSource(field string, s *AudioSource, required bool) {
	if s == nil || *s == (AudioSource{}) {
		if required {
			c.missing(field)
		}
		return
	}
	c.enum(field+".Type", s.Type, true, "S3", "URL")
	if s.Type == "URL" {
		c.uri(field+".Uri", s.URI)
		return
	}
	c.text(field+".BucketName", s.BucketName, true)
	if s.Key == "" {
		c.missing(field + ".Key")
		return
	}
	if len(s.Key) > MaxKeyLength {
		c.invalid(field+".Key", fmt.Sprintf("must be at most %d bytes", MaxKeyLength))
		return
	}
	if hasControl(s.Key) {
		c.invalid(field+".Key", "must not contain control characters")
	}
}

// uri checks an AudioSource's Uri: an absolute http(s) URL.
func (c *checker) uri(field, u string) {
	switch {
	case u == "":
		c.missing(field)
	case len(u) > MaxURILength:
		c.invalid(field, fmt.Sprintf("must be at most %d bytes", MaxURILength))
	case hasControl(u) || strings.ContainsAny(u, " \\"):
		c.invalid(field, "must not contain spaces, backslashes or control characters")
	case !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || len(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")) == 0:
		c.invalid(field, "must be an http:// or https:// URL")
	}
}

func (c *checker) getDigits(regex string, minDigits, maxDigits Int, terminators []string, inBetween, repeat, repeatDuration Int) {
	c.regex("InputDigitsRegex", regex, false)
	c.intRange("MinNumberOfDigits", minDigits, 0, MaxNumberOfDigits, false)
	c.intRange("MaxNumberOfDigits", maxDigits, 1, MaxNumberOfDigits, false)
	if minDigits.Set && maxDigits.Set && minDigits.Value > maxDigits.Value {
		c.invalid("MaxNumberOfDigits", "must not be less than MinNumberOfDigits")
	}
	c.digitList("TerminatorDigits", terminators, false)
	c.intRange("InBetweenDigitsDurationInMilliseconds", inBetween, 1, MaxDurationMilliseconds, false)
	c.intRange("Repeat", repeat, 1, MaxRepeat, false)
	c.intRange("RepeatDurationInMilliseconds", repeatDuration, 1, MaxDurationMilliseconds, true)
}

func (c *checker) speech(prefix string, s SpeechParameters, required bool) {
	if s.Text == "" {
		if required {
			c.missing(prefix + "Text")
		}
		return
	}
	if n := utf8.RuneCountInString(s.Text); n > MaxSpeakTextLength {
		c.invalid(prefix+"Text", fmt.Sprintf("must be at most %d characters, not %d", MaxSpeakTextLength, n))
	}
	c.enum(prefix+"TextType", s.TextType, false, "text", "ssml")
	c.enum(prefix+"Engine", s.Engine, false, "standard", "neural")
	c.text(prefix+"LanguageCode", s.LanguageCode, false)
	c.text(prefix+"VoiceId", s.VoiceID, false)
}

func (c *checker) sendDigits(digits string) {
	if digits == "" {
		c.missing("Digits")
		return
	}
	if len(digits) > MaxSendDigits {
		c.invalid("Digits", fmt.Sprintf("must be at most %d characters", MaxSendDigits))
		return
	}
	for _, r := range digits {
		ok := r >= '0' && r <= '9' || r >= 'A' && r <= 'D' || r == '*' || r == '#' || r == ','
		if !ok {
			c.invalid("Digits", "must contain only 0-9, *, #, A-D and ','")
			return
		}
	}
}

func (c *checker) recordingDestination(d RecordingDestination) {
	if d == (RecordingDestination{}) {
		c.missing("RecordingDestination")
		return
	}
	c.enum("RecordingDestination.Type", d.Type, true, "S3")
	c.text("RecordingDestination.BucketName", d.BucketName, true)
	if utf8.RuneCountInString(d.Prefix) > MaxPrefixLength {
		c.invalid("RecordingDestination.Prefix", fmt.Sprintf("must be at most %d characters", MaxPrefixLength))
	} else if hasControl(d.Prefix) {
		c.invalid("RecordingDestination.Prefix", "must not contain control characters")
	}
}

func (c *checker) callAndBridge(p *CallAndBridgeParameters) {
	c.intRange("CallTimeoutSeconds", p.CallTimeoutSeconds, 1, 120, false)
	c.text("CallerIdNumber", p.CallerIDNumber, true)
	switch len(p.Endpoints) {
	case 0:
		c.missing("Endpoints")
	case 1:
		e := p.Endpoints[0]
		c.enum("Endpoints.BridgeEndpointType", e.BridgeEndpointType, true, BridgeEndpointPSTN, BridgeEndpointAWS)
		switch e.BridgeEndpointType {
		case BridgeEndpointPSTN:
			if e.URI == "" {
				c.missing("Endpoints.Uri")
			} else if !IsE164(e.URI) {
				c.invalid("Endpoints.Uri", "must be an E.164 number such as +12065550100")
			}
		case BridgeEndpointAWS:
			c.text("Endpoints.Uri", e.URI, true)
			c.text("Endpoints.Arn", e.Arn, true)
		}
	default:
		c.invalid("Endpoints", "must have exactly one endpoint")
	}
	c.audioSource("RingbackTone", p.RingbackTone, false)
	for name, v := range p.SipHeaders {
		if !PassedSipHeader(name) || !IsSIPToken(name) {
			c.invalid("SipHeaders", fmt.Sprintf("header %q is not allowed: only X- headers, User-to-User and Diversion", truncate(name, 64)))
			return
		}
		if len(v) > MaxSipHeaderValue {
			c.invalid("SipHeaders", fmt.Sprintf("header %s must be at most %d bytes", name, MaxSipHeaderValue))
			return
		}
		if hasControl(v) {
			c.invalid("SipHeaders", fmt.Sprintf("header %s must not contain control characters", name))
			return
		}
	}
}

func (c *checker) startBot(p *StartBotConversationParameters) {
	c.leg(p.CallID, p.ParticipantTag)
	c.text("BotAliasArn", p.BotAliasArn, true)
	c.text("LocaleId", p.LocaleID, true)
	if p.Configuration == nil {
		return
	}
	for _, m := range p.Configuration.WelcomeMessages {
		c.enum("Configuration.WelcomeMessages.ContentType", m.ContentType, true, "PlainText", "SSML")
		if m.Content == "" {
			c.missing("Configuration.WelcomeMessages.Content")
		}
	}
	if s := p.Configuration.SessionState; s != nil {
		if s.DialogAction != nil {
			c.enum("Configuration.SessionState.DialogAction.Type", s.DialogAction.Type, true, "ElicitIntent", "Delegate")
		}
		if s.Intent != nil {
			c.text("Configuration.SessionState.Intent.Name", s.Intent.Name, true)
		}
	}
}
