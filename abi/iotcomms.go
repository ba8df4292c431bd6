package abi

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The iotcomms SIP Mediaserver model: the server drives a session with
// callbacks (a JSON body each) and acts on their JSON answers. A webhook
// application gets them as POST <base>/<callback>; a Wasm plugin gets the
// same body as its event, with the callback's name in the member
// "callback", and answers through response_write. Field names follow
// iotcomms' (camelCase); where iotcomms' documentation is silent, SPEC.md's
// mapping table says what we chose.

// Callback names an iotcomms callback (the path of its POST).
type Callback string

// The callbacks.
const (
	CallbackNewCall          Callback = "newCall"
	CallbackCallNotify       Callback = "callNotify"
	CallbackCallAnswered     Callback = "callAnswered"
	CallbackCallEvent        Callback = "callEvent"
	CallbackGetIvrCommand    Callback = "getIvrCommand"
	CallbackSessionCompleted Callback = "sessionCompleted"
	CallbackRecordingReady   Callback = "recordingReady"
)

// AllCallbacks returns the seven callbacks.
func AllCallbacks() []Callback {
	return []Callback{CallbackNewCall, CallbackCallNotify, CallbackCallAnswered, CallbackCallEvent,
		CallbackGetIvrCommand, CallbackSessionCompleted, CallbackRecordingReady}
}

// Valid reports whether c is one of the callbacks.
func (c Callback) Valid() bool {
	for _, v := range AllCallbacks() {
		if v == c {
			return true
		}
	}
	return false
}

// Answered reports whether the server acts on this callback's answer
// (newCall, callEvent, getIvrCommand); the others are informational.
func (c Callback) Answered() bool {
	return c == CallbackNewCall || c == CallbackCallEvent || c == CallbackGetIvrCommand
}

// CallEvent values of IotRequest.Event for callEvent.
const (
	EventCallingPartyDrop      = "callingPartyDrop"      // the caller side of a connection left
	EventCalledPartyDrop       = "calledPartyDrop"       // the callee side (a dialled party, an IVR) left
	EventCallerConnectionSplit = "callerConnectionSplit" // the caller side's connection was split
	EventCalleeConnectionSplit = "calleeConnectionSplit" // the callee side's connection was split
	EventCallFailed            = "callFailed"            // a dialled party did not answer (Code: the SIP code)
)

// CallNotify values of IotRequest.Event for callNotify.
const (
	NotifyTrying  = "trying"
	NotifyRinging = "ringing"
)

// IotRequest is the body of every iotcomms callback: the members a given
// callback does not use are left out.
type IotRequest struct {
	// Callback is the callback's name (a webhook gets it as the path
	// too).
	Callback  Callback `json:"callback,omitempty"`
	SessionID string   `json:"sessionId"`
	// TenantID and ApplicationID say whose session it is.
	TenantID      string `json:"tenantId,omitempty"`
	ApplicationID string `json:"applicationId,omitempty"`

	// The participant the callback is about (newCall: the caller;
	// callNotify, callEvent: the one whose state changed; getIvrCommand:
	// the IVR participant).
	ParticipantID string `json:"participantId,omitempty"`
	// User is that participant's SIP user (the number part), as iotcomms
	// names parties in callEvent.
	User string `json:"user,omitempty"`
	// From and To of the SIP call (newCall; placeivrcall's newCall has
	// the called device in To).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Direction is "inbound" or "outbound" (newCall).
	Direction string `json:"direction,omitempty"`
	// Headers are the INVITE's X-… headers, User-to-User and Diversion.
	Headers map[string]string `json:"headers,omitempty"`

	// Event is callNotify's and callEvent's event.
	Event string `json:"event,omitempty"`
	// Code is a SIP status for callEvent's callFailed and drops.
	Code int `json:"code,omitempty"`

	// Connection members (callAnswered; callEvent for a split or a
	// drop; getIvrCommand: the IVR's connection).
	ConnectionID          string `json:"connectionId,omitempty"`
	CallerParticipantID   string `json:"callerParticipantId,omitempty"`
	CalleeParticipantID   string `json:"calleeParticipantId,omitempty"`
	ConferenceConnection  bool   `json:"conferenceConnection,omitempty"`
	ReplyID               string `json:"replyId,omitempty"`
	PreviousCommandFailed string `json:"previousCommandFailed,omitempty"`

	// DtmfParams are the digits the previous IVR command collected
	// (getIvrCommand).
	DtmfParams *DtmfParams `json:"dtmfParams,omitempty"`

	// Recording (recordingReady): the file's name and where to fetch it
	// (GET /promptfile/{fileName}).
	FileName string `json:"fileName,omitempty"`
	Location string `json:"location,omitempty"`
	Duration int    `json:"durationSeconds,omitempty"`
}

// DtmfParams report digits an IVR command collected.
type DtmfParams struct {
	DtmfMatch string `json:"dtmfMatch"`
	// Reason is why collection ended: "maxDigits", "terminator",
	// "interDigitTimeout", "timeout" (no digit at all) or "interrupted".
	Reason string `json:"reason"`
}

// Reasons of DtmfParams.Reason.
const (
	DtmfMaxDigits   = "maxDigits"
	DtmfTerminator  = "terminator"
	DtmfInterDigit  = "interDigitTimeout"
	DtmfTimeout     = "timeout"
	DtmfInterrupted = "interrupted"
)

// Actions of an iotcomms answer (IotAnswer.Action).
const (
	IotDrop                     = "drop"
	IotCall                     = "call"
	IotIVR                      = "ivr"
	IotConnect                  = "connect"
	IotJoinConferenceConnection = "joinconferenceconnection"
)

// IotAnswer is the answer to newCall and callEvent, and what an IVR
// command may carry besides its media (getIvrCommand's action "call").
type IotAnswer struct {
	// Action: drop | call | ivr | connect | joinconferenceconnection
	// (newCall: drop, call, ivr).
	Action string `json:"action,omitempty"`
	// DestAddr is where "call" dials: a SIP URI (dialled directly) or a
	// number (through the trunks).
	DestAddr string `json:"destAddr,omitempty"`
	// FromAddr is the caller id of "call" (default: the session's).
	FromAddr string `json:"fromAddr,omitempty"`
	// Timeout bounds "call"'s ringing, in seconds (default 30).
	Timeout int `json:"timeout,omitempty"`
	// ParticipantID is "connect"'s other participant.
	ParticipantID string `json:"participantId,omitempty"`
	// ConnectionID is "joinconferenceconnection"'s conference.
	ConnectionID string `json:"connectionId,omitempty"`
	// ReplyID echoes the callback's replyId (optional; when given it must
	// match).
	ReplyID string `json:"replyId,omitempty"`
	// CallRecording records the session's connection to FileName (a
	// prompt file name) once it is up (newCall).
	CallRecording bool   `json:"callRecording,omitempty"`
	FileName      string `json:"filename,omitempty"`
	// MonitorDestAddr is dialled after the first callAnswered; it hears
	// the mix of every active participant (newCall).
	MonitorDestAddr string `json:"monitorDestAddr,omitempty"`
}

// IvrCommand is the answer to getIvrCommand.
type IvrCommand struct {
	Dtmf             *DtmfCommand `json:"dtmf,omitempty"`
	Phrases          []Phrase     `json:"phrases,omitempty"`
	BackgroundPrompt *Phrase      `json:"backgroundPrompt,omitempty"`
	Hangup           bool         `json:"hangup,omitempty"`
	// GetIVRCommandAfter waits this many seconds before the next
	// getIvrCommand (0: as soon as the command is done).
	GetIVRCommandAfter float64 `json:"getIVRCommandAfter,omitempty"`
	// Action "call" with DestAddr connects the IVR's caller to a new party
	// instead (placeivrcall's flow); the IVR leaves.
	Action   string `json:"action,omitempty"`
	DestAddr string `json:"destAddr,omitempty"`
	FromAddr string `json:"fromAddr,omitempty"`
	// Record records the caller to FileName until MaxSeconds (or a
	// terminator digit); recordingReady follows.
	Record *RecordCommand `json:"record,omitempty"`
}

// DtmfCommand collects digits while the command's phrases play (a digit
// stops them) and after.
type DtmfCommand struct {
	MaxDigits int `json:"maxDigits,omitempty"` // default 1
	MinDigits int `json:"minDigits,omitempty"`
	// Terminator ends collection (not part of the match), e.g. "#".
	Terminator string `json:"terminator,omitempty"`
	// Timeout is how long to wait for the first digit after the phrases,
	// InterDigitTimeout between digits, both in seconds (default 5, 3).
	Timeout           float64 `json:"timeout,omitempty"`
	InterDigitTimeout float64 `json:"interDigitTimeout,omitempty"`
}

// Phrase formats.
const (
	PhraseFile   = "file"
	PhraseURL    = "url"
	PhraseAwsTTS = "awstts"
)

// Phrase is audio for an IVR participant to play: a prompt file, a URL
// or text to speech.
type Phrase struct {
	Format           string            `json:"format"`
	FileName         string            `json:"fileName,omitempty"`
	URL              string            `json:"url,omitempty"`
	AwsTTSParameters *AwsTTSParameters `json:"awsTTSParameters,omitempty"`
	// RepeatPause is the silence between loops of a background prompt, in
	// seconds.
	RepeatPause float64 `json:"repeatPause,omitempty"`
}

// AwsTTSParameters are Polly's SynthesizeSpeech parameters.
type AwsTTSParameters struct {
	Text         string `json:"Text"`
	TextType     string `json:"TextType,omitempty"`
	VoiceID      string `json:"VoiceId,omitempty"`
	LanguageCode string `json:"LanguageCode,omitempty"`
	Engine       string `json:"Engine,omitempty"`
}

// RecordCommand records the caller.
type RecordCommand struct {
	FileName   string `json:"fileName"`
	MaxSeconds int    `json:"maxSeconds,omitempty"` // default 60, at most 3600
	Terminator string `json:"terminator,omitempty"`
}

// ParseIotRequest reads a callback body.
func ParseIotRequest(b []byte) (*IotRequest, error) {
	var r IotRequest
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if r.Callback != "" && !r.Callback.Valid() {
		return nil, fmt.Errorf("%w: unknown callback %q", ErrInvalidEvent, r.Callback)
	}
	return &r, nil
}

// ParseIotAnswer reads and checks an answer to newCall or callEvent: an
// empty body or {} is no action.
func ParseIotAnswer(b []byte, cb Callback) (*IotAnswer, error) {
	var a IotAnswer
	if err := decodeAnswer(b, &a); err != nil {
		return nil, err
	}
	allowed := []string{"", IotDrop, IotCall, IotIVR, IotConnect, IotJoinConferenceConnection}
	if cb == CallbackNewCall {
		allowed = []string{"", IotDrop, IotCall, IotIVR}
	}
	if !contains(allowed, a.Action) {
		return nil, fmt.Errorf("%w: %s: unknown action %q (want one of %s)", ErrInvalidResponse, cb, a.Action, strings.Join(allowed[1:], ", "))
	}
	switch {
	case a.Action == IotCall && a.DestAddr == "":
		return nil, fmt.Errorf("%w: action call needs destAddr", ErrInvalidResponse)
	case a.Action == IotConnect && a.ParticipantID == "":
		return nil, fmt.Errorf("%w: action connect needs participantId", ErrInvalidResponse)
	case a.CallRecording && a.FileName == "":
		return nil, fmt.Errorf("%w: callRecording needs filename", ErrInvalidResponse)
	case a.Timeout < 0 || a.Timeout > 300:
		return nil, fmt.Errorf("%w: timeout %d: want 0..300 seconds", ErrInvalidResponse, a.Timeout)
	}
	return &a, nil
}

// ParseIvrCommand reads and checks an answer to getIvrCommand.
func ParseIvrCommand(b []byte) (*IvrCommand, error) {
	var c IvrCommand
	if err := decodeAnswer(b, &c); err != nil {
		return nil, err
	}
	if len(c.Phrases) > 20 {
		return nil, fmt.Errorf("%w: %d phrases, at most 20", ErrInvalidResponse, len(c.Phrases))
	}
	for i, p := range c.Phrases {
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("%w: phrases[%d]: %v", ErrInvalidResponse, i, err)
		}
	}
	if c.BackgroundPrompt != nil {
		if err := c.BackgroundPrompt.check(); err != nil {
			return nil, fmt.Errorf("%w: backgroundPrompt: %v", ErrInvalidResponse, err)
		}
		if c.BackgroundPrompt.RepeatPause < 0 || c.BackgroundPrompt.RepeatPause > 60 {
			return nil, fmt.Errorf("%w: backgroundPrompt.repeatPause: want 0..60 seconds", ErrInvalidResponse)
		}
	}
	if d := c.Dtmf; d != nil {
		switch {
		case d.MaxDigits < 0 || d.MaxDigits > 128 || d.MinDigits < 0 || d.MinDigits > 128:
			return nil, fmt.Errorf("%w: dtmf: minDigits and maxDigits want 0..128", ErrInvalidResponse)
		case d.MaxDigits > 0 && d.MinDigits > d.MaxDigits:
			return nil, fmt.Errorf("%w: dtmf: minDigits above maxDigits", ErrInvalidResponse)
		case d.Terminator != "" && !isDigitString(d.Terminator, 1):
			return nil, fmt.Errorf("%w: dtmf.terminator %q: want one of 0-9 * #", ErrInvalidResponse, d.Terminator)
		case d.Timeout < 0 || d.Timeout > 300 || d.InterDigitTimeout < 0 || d.InterDigitTimeout > 300:
			return nil, fmt.Errorf("%w: dtmf timeouts: want 0..300 seconds", ErrInvalidResponse)
		}
	}
	if c.GetIVRCommandAfter < 0 || c.GetIVRCommandAfter > 3600 {
		return nil, fmt.Errorf("%w: getIVRCommandAfter: want 0..3600 seconds", ErrInvalidResponse)
	}
	if c.Action != "" && (c.Action != IotCall || c.DestAddr == "") {
		return nil, fmt.Errorf("%w: an IVR command's action must be call, with destAddr", ErrInvalidResponse)
	}
	if r := c.Record; r != nil {
		if r.FileName == "" || r.MaxSeconds < 0 || r.MaxSeconds > 3600 || (r.Terminator != "" && !isDigitString(r.Terminator, 1)) {
			return nil, fmt.Errorf("%w: record: want fileName, maxSeconds 0..3600 and a one-digit terminator", ErrInvalidResponse)
		}
	}
	return &c, nil
}

func (p Phrase) check() error {
	switch p.Format {
	case PhraseFile:
		if p.FileName == "" {
			return fmt.Errorf("format file needs fileName")
		}
	case PhraseURL:
		if !strings.HasPrefix(p.URL, "http://") && !strings.HasPrefix(p.URL, "https://") {
			return fmt.Errorf("format url needs an http(s) url")
		}
	case PhraseAwsTTS:
		if p.AwsTTSParameters == nil || p.AwsTTSParameters.Text == "" {
			return fmt.Errorf("format awstts needs awsTTSParameters.Text")
		}
		if len(p.AwsTTSParameters.Text) > 3000 {
			return fmt.Errorf("awsTTSParameters.Text is over 3000 characters")
		}
	default:
		return fmt.Errorf("unknown format %q (want file, url or awstts)", p.Format)
	}
	return nil
}

// decodeAnswer unmarshals an answer; an empty body is an empty answer.
func decodeAnswer(b []byte, v any) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if !isJSONObjectStart(b) {
		return fmt.Errorf("%w: not a JSON object", ErrInvalidResponse)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	return nil
}

func isJSONObjectStart(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

func isDigitString(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '*' || r == '#') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
