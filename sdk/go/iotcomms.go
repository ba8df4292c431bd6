package mediaserver

import (
	"errors"
	"math"
	"strconv"
)

// The iotcomms SIP Mediaserver model (ABI SPEC section 16): the media server
// sends a callback per change in a session (newCall, callEvent,
// getIvrCommand, …) and acts on the answer. A plugin registers one handler
// with HandleIot; it gets every callback, with the callback's name in
// IotRequest.Callback, and returns an *IotAnswer (newCall, callEvent), an
// *IvrCommand (getIvrCommand) or nil (no action: the informational
// callbacks). The JSON names are iotcomms' (camelCase), as abi/iotcomms.go
// defines them; sdk/gen's tests fail when they disagree.

// The callbacks (IotRequest.Callback, and the path a webhook is POSTed).
const (
	CallbackNewCall          = "newCall"
	CallbackCallNotify       = "callNotify"
	CallbackCallAnswered     = "callAnswered"
	CallbackCallEvent        = "callEvent"
	CallbackGetIvrCommand    = "getIvrCommand"
	CallbackSessionCompleted = "sessionCompleted"
	CallbackRecordingReady   = "recordingReady"
)

// iotCallbacks are the seven callbacks, for the webhook's routes.
var iotCallbacks = [...]string{CallbackNewCall, CallbackCallNotify, CallbackCallAnswered, CallbackCallEvent,
	CallbackGetIvrCommand, CallbackSessionCompleted, CallbackRecordingReady}

// Events of callEvent (IotRequest.Event).
const (
	EventCallingPartyDrop      = "callingPartyDrop"      // the caller side of the connection left
	EventCalledPartyDrop       = "calledPartyDrop"       // the callee side (a dialled party, an IVR) left
	EventCallerConnectionSplit = "callerConnectionSplit" // the connection was split; this participant was its caller side
	EventCalleeConnectionSplit = "calleeConnectionSplit" // … its callee side
	EventCallFailed            = "callFailed"            // a party dialled for this participant did not answer (Code)
)

// Events of callNotify (IotRequest.Event).
const (
	NotifyTrying  = "trying"
	NotifyRinging = "ringing"
)

// Why digit collection ended (DtmfParams.Reason).
const (
	DtmfMaxDigits   = "maxDigits"
	DtmfTerminator  = "terminator"
	DtmfInterDigit  = "interDigitTimeout"
	DtmfTimeout     = "timeout" // no digit at all
	DtmfInterrupted = "interrupted"
)

// Actions of an answer (IotAnswer.Action; IvrCommand.Action is only
// IotCall).
const (
	IotDrop                     = "drop"
	IotCall                     = "call"
	IotIVR                      = "ivr"
	IotConnect                  = "connect"
	IotJoinConferenceConnection = "joinconferenceconnection"
)

// Phrase formats (Phrase.Format).
const (
	PhraseFile   = "file"
	PhraseURL    = "url"
	PhraseAwsTTS = "awstts"
)

// IotRequest is the body of every callback; the members a callback does
// not use are empty. JSON names: callback, sessionId, tenantId,
// applicationId, participantId, user, from, to, direction, headers, event,
// code, connectionId, callerParticipantId, calleeParticipantId,
// conferenceConnection, replyId, previousCommandFailed, dtmfParams,
// fileName, location, durationSeconds.
//
// Like Event, the SDK reuses the IotRequest, its Headers map and its
// DtmfParams for the next callback: use them while the handler runs and
// keep copies. Its strings are never reused and may be kept.
type IotRequest struct {
	// Callback is the callback's name (CallbackNewCall, …). A webhook
	// gets it as the path; the SDK fills it in.
	Callback      string
	SessionID     string
	TenantID      string
	ApplicationID string
	// ParticipantID is the participant the callback is about (newCall:
	// the caller; callNotify, callEvent: the one whose state changed;
	// callAnswered: the callee; getIvrCommand: the IVR participant), and
	// User its SIP user (the number part).
	ParticipantID string
	User          string
	From          string
	To            string
	Direction     string // newCall: "inbound", or "outbound" for /placeivrcall
	Headers       map[string]string
	Event         string // callNotify's and callEvent's event
	Code          int    // callEvent: the SIP status of callFailed
	// The connection the callback concerns (callAnswered, callEvent,
	// getIvrCommand) and its sides.
	ConnectionID          string
	CallerParticipantID   string
	CalleeParticipantID   string
	ConferenceConnection  bool
	ReplyID               string
	PreviousCommandFailed string
	// DtmfParams are the digits the previous IVR command collected
	// (getIvrCommand); nil when it collected none.
	DtmfParams *DtmfParams
	// recordingReady: the file's name, where to fetch it
	// (/promptfile/<fileName>) and its length.
	FileName        string
	Location        string
	DurationSeconds int
}

// DtmfParams report the digits an IVR command collected.
type DtmfParams struct {
	DtmfMatch string
	Reason    string // DtmfMaxDigits, DtmfTerminator, …
}

// Digits returns the digits the previous IVR command collected ("" when
// none, or no collection).
func (r *IotRequest) Digits() string {
	if r.DtmfParams == nil {
		return ""
	}
	return r.DtmfParams.DtmfMatch
}

// Split reports a callEvent for a split connection (either side).
func (r *IotRequest) Split() bool {
	return r.Event == EventCallerConnectionSplit || r.Event == EventCalleeConnectionSplit
}

// Dropped reports a callEvent whose other side left the connection.
func (r *IotRequest) Dropped() bool {
	return r.Event == EventCallingPartyDrop || r.Event == EventCalledPartyDrop
}

// IotReply is a callback's answer: *IotAnswer, *IvrCommand, or RawJSON for
// anything else.
type IotReply interface {
	// AppendJSON appends the answer as one JSON object to dst.
	AppendJSON(dst []byte) []byte
}

// IotHandlerFunc handles one iotcomms callback.
type IotHandlerFunc func(*IotRequest) (IotReply, error)

// HandleIot registers the plugin's handler of iotcomms callbacks. Call it
// from init. A plugin serves one model: HandleIot replaces a handler
// registered with Handle, and Handle one registered with HandleIot.
func HandleIot(fn func(*IotRequest) (IotReply, error)) {
	guest.iotHandler = fn
	guest.handler = nil
}

// IotAnswer answers newCall and callEvent. JSON names: action, destAddr,
// fromAddr, timeout, participantId, connectionId, replyId, callRecording,
// filename, monitorDestAddr. Empty members are left out.
type IotAnswer struct {
	Action   string // IotDrop, IotCall, IotIVR, IotConnect, IotJoinConferenceConnection
	DestAddr string // call: a number (through the trunks) or a SIP URI
	FromAddr string // call: the caller id (default: the session's)
	Timeout  int    // call: ringing limit in seconds (default 30)
	// ParticipantID is connect's other participant; ConnectionID
	// joinconferenceconnection's conference.
	ParticipantID string
	ConnectionID  string
	// ReplyID echoes the callback's replyId (optional; it must match).
	ReplyID string
	// CallRecording records the session once connected, into the prompt
	// file FileName (JSON "filename"; newCall).
	CallRecording bool
	FileName      string
	// MonitorDestAddr is dialled after the first callAnswered and hears
	// every participant (newCall).
	MonitorDestAddr string
}

// AppendJSON implements IotReply; a nil answer is {}.
func (a *IotAnswer) AppendJSON(dst []byte) []byte {
	if a == nil {
		return append(dst, '{', '}')
	}
	o := beginObject(dst)
	o.str("action", a.Action)
	o.str("destAddr", a.DestAddr)
	o.str("fromAddr", a.FromAddr)
	o.int("timeout", a.Timeout)
	o.str("participantId", a.ParticipantID)
	o.str("connectionId", a.ConnectionID)
	o.str("replyId", a.ReplyID)
	o.flag("callRecording", a.CallRecording)
	o.str("filename", a.FileName)
	o.str("monitorDestAddr", a.MonitorDestAddr)
	return o.end()
}

// MarshalJSON implements json.Marshaler without reflection.
func (a *IotAnswer) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil), nil }

func newAnswer(action string) *IotAnswer {
	a := guest.iotAnswers.new()
	*a = IotAnswer{Action: action}
	return a
}

// DropAnswer hangs the participant up (newCall: rejects the call).
func DropAnswer() *IotAnswer { return newAnswer(IotDrop) }

// CallAnswer dials destAddr (a number or a SIP URI) and connects the
// participant to it when it answers.
func CallAnswer(destAddr string) *IotAnswer {
	a := newAnswer(IotCall)
	a.DestAddr = destAddr
	return a
}

// IvrAnswer connects the participant to a new IVR participant, which then
// asks getIvrCommand for its commands.
func IvrAnswer() *IotAnswer { return newAnswer(IotIVR) }

// ConnectAnswer connects the participant to another of the session's.
func ConnectAnswer(participantID string) *IotAnswer {
	a := newAnswer(IotConnect)
	a.ParticipantID = participantID
	return a
}

// JoinConferenceAnswer adds the participant to a conference connection
// (from /createconferenceconnection).
func JoinConferenceAnswer(connectionID string) *IotAnswer {
	a := newAnswer(IotJoinConferenceConnection)
	a.ConnectionID = connectionID
	return a
}

// WithRecording records the session into the prompt file fileName once
// its first connection is up (newCall); recordingReady follows the
// session's end.
func (a *IotAnswer) WithRecording(fileName string) *IotAnswer {
	a.CallRecording, a.FileName = true, fileName
	return a
}

// WithMonitor dials destAddr after the first callAnswered; it hears every
// participant and nobody hears it (newCall).
func (a *IotAnswer) WithMonitor(destAddr string) *IotAnswer {
	a.MonitorDestAddr = destAddr
	return a
}

// WithFrom sets the caller id of a call.
func (a *IotAnswer) WithFrom(fromAddr string) *IotAnswer {
	a.FromAddr = fromAddr
	return a
}

// WithTimeout bounds a call's ringing, in seconds.
func (a *IotAnswer) WithTimeout(seconds int) *IotAnswer {
	a.Timeout = seconds
	return a
}

// WithReplyID echoes the callback's replyId: the server then checks that
// the answer is for that callback.
func (a *IotAnswer) WithReplyID(replyID string) *IotAnswer {
	a.ReplyID = replyID
	return a
}

// IvrCommand answers getIvrCommand: what the IVR participant does next.
// JSON names: dtmf, phrases, backgroundPrompt, hangup, getIVRCommandAfter,
// action, destAddr, fromAddr, record. Empty members are left out; an empty
// command asks for the next one at once (or after GetIVRCommandAfter).
type IvrCommand struct {
	// Dtmf collects digits while the phrases play (a digit stops them)
	// and after; the next getIvrCommand reports them in DtmfParams.
	Dtmf *DtmfCommand
	// Phrases play in order.
	Phrases []Phrase
	// BackgroundPrompt loops between commands (music on hold).
	BackgroundPrompt *Phrase
	// Hangup makes the IVR leave after this command; its caller's
	// participant then gets callEvent calledPartyDrop.
	Hangup bool
	// GetIVRCommandAfter waits this many seconds before the next
	// getIvrCommand.
	GetIVRCommandAfter float64
	// Action IotCall with DestAddr makes the IVR leave and connects its
	// caller to DestAddr instead (the /placeivrcall flow).
	Action   string
	DestAddr string
	FromAddr string
	// Record records the caller; recordingReady follows.
	Record *RecordCommand
}

// AppendJSON implements IotReply; a nil command is {}.
func (c *IvrCommand) AppendJSON(dst []byte) []byte {
	if c == nil {
		return append(dst, '{', '}')
	}
	o := beginObject(dst)
	if c.Dtmf != nil {
		o.value("dtmf", c.Dtmf)
	}
	if len(c.Phrases) > 0 {
		o.key("phrases")
		o.b = append(o.b, '[')
		for i := range c.Phrases {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = c.Phrases[i].AppendJSON(o.b)
		}
		o.b = append(o.b, ']')
	}
	if c.BackgroundPrompt != nil {
		o.value("backgroundPrompt", c.BackgroundPrompt)
	}
	o.flag("hangup", c.Hangup)
	o.num("getIVRCommandAfter", c.GetIVRCommandAfter)
	o.str("action", c.Action)
	o.str("destAddr", c.DestAddr)
	o.str("fromAddr", c.FromAddr)
	if c.Record != nil {
		o.value("record", c.Record)
	}
	return o.end()
}

// MarshalJSON implements json.Marshaler without reflection.
func (c *IvrCommand) MarshalJSON() ([]byte, error) { return c.AppendJSON(nil), nil }

// Ivr starts an IVR command: chain Say, PlayFile, CollectDigits, …
func Ivr() *IvrCommand {
	c := guest.ivrCommands.new()
	*c = IvrCommand{}
	return c
}

// IvrCall is the command that connects the IVR's caller to destAddr (a
// number or a SIP URI); the IVR leaves.
func IvrCall(destAddr string) *IvrCommand {
	c := Ivr()
	c.Action, c.DestAddr = IotCall, destAddr
	return c
}

// Play adds a phrase.
func (c *IvrCommand) Play(p Phrase) *IvrCommand {
	c.Phrases = append(c.Phrases, p)
	return c
}

// Say adds text to speak (format awstts, the server's voice).
func (c *IvrCommand) Say(text string) *IvrCommand { return c.Play(TTSPhrase(text)) }

// SayWith adds text to speak with a voice, language or SSML.
func (c *IvrCommand) SayWith(p AwsTTSParameters) *IvrCommand {
	return c.Play(Phrase{Format: PhraseAwsTTS, AwsTTSParameters: &p})
}

// PlayFile adds a prompt file (uploaded with /promptfile).
func (c *IvrCommand) PlayFile(fileName string) *IvrCommand { return c.Play(FilePhrase(fileName)) }

// PlayURL adds audio the server fetches over http(s).
func (c *IvrCommand) PlayURL(url string) *IvrCommand { return c.Play(URLPhrase(url)) }

// CollectDigits listens for up to maxDigits digits (the other settings
// default: see DtmfCommand).
func (c *IvrCommand) CollectDigits(maxDigits int) *IvrCommand {
	return c.CollectDigitsWith(DtmfCommand{MaxDigits: maxDigits})
}

// CollectDigitsWith listens for digits as d says.
func (c *IvrCommand) CollectDigitsWith(d DtmfCommand) *IvrCommand {
	c.Dtmf = &d
	return c
}

// Background loops p between commands, with repeatPause seconds of
// silence between loops (music on hold).
func (c *IvrCommand) Background(p Phrase, repeatPause float64) *IvrCommand {
	p.RepeatPause = repeatPause
	c.BackgroundPrompt = &p
	return c
}

// ThenHangup makes the IVR leave once the command is done.
func (c *IvrCommand) ThenHangup() *IvrCommand {
	c.Hangup = true
	return c
}

// NextCommandAfter waits seconds before asking for the next command.
func (c *IvrCommand) NextCommandAfter(seconds float64) *IvrCommand {
	c.GetIVRCommandAfter = seconds
	return c
}

// RecordCaller records the caller as r says.
func (c *IvrCommand) RecordCaller(r RecordCommand) *IvrCommand {
	c.Record = &r
	return c
}

// WithFrom sets the caller id of IvrCall's call.
func (c *IvrCommand) WithFrom(fromAddr string) *IvrCommand {
	c.FromAddr = fromAddr
	return c
}

// DtmfCommand says how an IVR command collects digits. JSON names:
// maxDigits, minDigits, terminator, timeout, interDigitTimeout. Zero
// members are left out, so the server's defaults apply (1 digit, first
// digit within 5 s of the phrases' end, 3 s between digits).
type DtmfCommand struct {
	MaxDigits         int
	MinDigits         int
	Terminator        string  // ends collection, not part of the match: "#"
	Timeout           float64 // seconds
	InterDigitTimeout float64 // seconds
}

// AppendJSON writes the command's dtmf object.
func (d *DtmfCommand) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.int("maxDigits", d.MaxDigits)
	o.int("minDigits", d.MinDigits)
	o.str("terminator", d.Terminator)
	o.num("timeout", d.Timeout)
	o.num("interDigitTimeout", d.InterDigitTimeout)
	return o.end()
}

// Phrase is audio an IVR plays: a prompt file, a URL or text to speech.
// JSON names: format, fileName, url, awsTTSParameters, repeatPause.
type Phrase struct {
	Format           string // PhraseFile, PhraseURL, PhraseAwsTTS
	FileName         string
	URL              string
	AwsTTSParameters *AwsTTSParameters
	// RepeatPause is the silence between loops of a background prompt,
	// in seconds.
	RepeatPause float64
}

// FilePhrase is a prompt file (uploaded with /promptfile).
func FilePhrase(fileName string) Phrase { return Phrase{Format: PhraseFile, FileName: fileName} }

// URLPhrase is audio the server fetches over http(s) (WAV or MP3).
func URLPhrase(url string) Phrase { return Phrase{Format: PhraseURL, URL: url} }

// TTSPhrase is text the server speaks.
func TTSPhrase(text string) Phrase {
	return Phrase{Format: PhraseAwsTTS, AwsTTSParameters: &AwsTTSParameters{Text: text}}
}

// AppendJSON writes the phrase object.
func (p *Phrase) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("format", p.Format)
	o.str("fileName", p.FileName)
	o.str("url", p.URL)
	if p.AwsTTSParameters != nil {
		o.value("awsTTSParameters", p.AwsTTSParameters)
	}
	o.num("repeatPause", p.RepeatPause)
	return o.end()
}

// AwsTTSParameters are Polly's SynthesizeSpeech parameters, which the
// server's own speech engine takes. JSON names (Polly's): Text, TextType,
// VoiceId, LanguageCode, Engine.
type AwsTTSParameters struct {
	Text         string
	TextType     string // text (default) or ssml
	VoiceID      string
	LanguageCode string
	Engine       string
}

// AppendJSON writes the awsTTSParameters object.
func (t *AwsTTSParameters) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("Text", t.Text)
	o.str("TextType", t.TextType)
	o.str("VoiceId", t.VoiceID)
	o.str("LanguageCode", t.LanguageCode)
	o.str("Engine", t.Engine)
	return o.end()
}

// RecordCommand records the caller into the prompt file FileName, for at
// most MaxSeconds (default 60) or until the Terminator digit. JSON names:
// fileName, maxSeconds, terminator.
type RecordCommand struct {
	FileName   string
	MaxSeconds int
	Terminator string
}

// AppendJSON writes the record object.
func (r *RecordCommand) AppendJSON(dst []byte) []byte {
	o := beginObject(dst)
	o.strAlways("fileName", r.FileName)
	o.int("maxSeconds", r.MaxSeconds)
	o.str("terminator", r.Terminator)
	return o.end()
}

// flag writes a boolean member, omitted when false.
func (o *object) flag(name string, v bool) {
	if v {
		o.key(name)
		o.b = append(o.b, "true"...)
	}
}

// num writes a number member, omitted when zero (or not a finite number,
// which JSON cannot carry).
func (o *object) num(name string, v float64) {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	o.key(name)
	o.b = appendFloat(o.b, v)
}

// appendFloat writes f as encoding/json does: plain decimals, exponents
// only for very small or large magnitudes.
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a < 1e-6 || a >= 1e21 {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// checkReply refuses an answer of the wrong kind for its callback: the
// server would take an *IotAnswer to getIvrCommand as an unusable command
// (the IVR leaves) and an *IvrCommand to callEvent as no action (the
// participant is dropped).
func checkReply(callback string, reply IotReply) error {
	switch reply.(type) {
	case *IotAnswer:
		if callback == CallbackGetIvrCommand {
			return &wrapError{ErrWrongAnswer, errorString("getIvrCommand answered with an *IotAnswer, not an *IvrCommand")}
		}
	case *IvrCommand:
		if callback == CallbackNewCall || callback == CallbackCallEvent {
			return &wrapError{ErrWrongAnswer, errorString(callback + " answered with an *IvrCommand, not an *IotAnswer")}
		}
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// dispatchIot decodes a callback, runs the iotcomms handler and encodes its
// answer. callback is the webhook's path ("" for the ABI, where the body
// names it); a body naming another callback is refused.
func dispatchIot(body []byte, callback string) ([]byte, error) {
	r := &guest.iot
	guest.dec.recycleIot(r)
	if err := guest.dec.decodeIotRequest(body, r); err != nil {
		return nil, err
	}
	if callback != "" {
		if r.Callback != "" && r.Callback != callback {
			return nil, &wrapError{ErrCallback, errorString("body " + strconv.Quote(r.Callback) + ", path " + strconv.Quote(callback))}
		}
		r.Callback = callback
	}
	reply, err := guest.iotHandler(r)
	if err != nil {
		return nil, &wrapError{ErrHandler, err}
	}
	if err := checkReply(r.Callback, reply); err != nil {
		return nil, err
	}
	if reply == nil {
		guest.out = append(guest.out[:0], '{', '}')
		return guest.out, nil
	}
	guest.out = reply.AppendJSON(guest.out[:0])
	return guest.out, nil
}

// The JSON names the decoder reads, in abi.IotRequest's order (sdk/gen's
// tests compare them with abi).
var (
	iotRequestFields = []string{"callback", "sessionId", "tenantId", "applicationId", "participantId", "user", "from", "to",
		"direction", "headers", "event", "code", "connectionId", "callerParticipantId", "calleeParticipantId",
		"conferenceConnection", "replyId", "previousCommandFailed", "dtmfParams", "fileName", "location", "durationSeconds"}
	dtmfParamsFields = []string{"dtmfMatch", "reason"}
)

// iotRequestField returns the index of key in iotRequestFields: exact
// matches by length, then the case-insensitive fallback.
func iotRequestField(k []byte) int {
	switch len(k) {
	case 2:
		if eq(k, "to") {
			return 7
		}
	case 4:
		if eq(k, "user") {
			return 5
		}
		if eq(k, "from") {
			return 6
		}
		if eq(k, "code") {
			return 11
		}
	case 5:
		if eq(k, "event") {
			return 10
		}
	case 7:
		if eq(k, "headers") {
			return 9
		}
		if eq(k, "replyId") {
			return 16
		}
	case 8:
		if eq(k, "callback") {
			return 0
		}
		if eq(k, "tenantId") {
			return 2
		}
		if eq(k, "fileName") {
			return 19
		}
		if eq(k, "location") {
			return 20
		}
	case 9:
		if eq(k, "sessionId") {
			return 1
		}
		if eq(k, "direction") {
			return 8
		}
	case 10:
		if eq(k, "dtmfParams") {
			return 18
		}
	case 12:
		if eq(k, "connectionId") {
			return 12
		}
	case 13:
		if eq(k, "applicationId") {
			return 3
		}
		if eq(k, "participantId") {
			return 4
		}
	case 15:
		if eq(k, "durationSeconds") {
			return 21
		}
	case 19:
		if eq(k, "callerParticipantId") {
			return 13
		}
		if eq(k, "calleeParticipantId") {
			return 14
		}
	case 20:
		if eq(k, "conferenceConnection") {
			return 15
		}
	case 21:
		if eq(k, "previousCommandFailed") {
			return 17
		}
	}
	return foldField(k, iotRequestFields)
}

// recycleIot empties r for the next callback, keeping its Headers map and
// DtmfParams as spares.
func (d *decoder) recycleIot(r *IotRequest) {
	if r.Headers != nil {
		clear(r.Headers)
		d.spareHeaders = r.Headers
	}
	if r.DtmfParams != nil {
		*r.DtmfParams = DtmfParams{}
		d.spareDtmf = r.DtmfParams
	}
	*r = IotRequest{}
}

// decodeIotRequest decodes a callback body into r, which recycleIot has
// emptied: every member is checked (a body is small, nothing is left for
// later).
func (d *decoder) decodeIotRequest(data []byte, r *IotRequest) error {
	d.reset(data)
	d.lazy = false
	null, err := d.beginObject()
	if err != nil {
		return err
	}
	if !null {
		for i := 0; ; i++ {
			key, more, err := d.objectNext(i)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			switch iotRequestField(key) {
			case 0:
				r.Callback, err = d.str(r.Callback)
			case 1:
				r.SessionID, err = d.str(r.SessionID)
			case 2:
				r.TenantID, err = d.str(r.TenantID)
			case 3:
				r.ApplicationID, err = d.str(r.ApplicationID)
			case 4:
				r.ParticipantID, err = d.str(r.ParticipantID)
			case 5:
				r.User, err = d.str(r.User)
			case 6:
				r.From, err = d.str(r.From)
			case 7:
				r.To, err = d.str(r.To)
			case 8:
				r.Direction, err = d.str(r.Direction)
			case 9:
				m := r.Headers
				if m == nil && d.peek() == '{' {
					m, d.spareHeaders = d.spareHeaders, nil
				}
				r.Headers, err = d.stringMap(m)
			case 10:
				r.Event, err = d.str(r.Event)
			case 11:
				r.Code, err = d.intValue(r.Code)
			case 12:
				r.ConnectionID, err = d.str(r.ConnectionID)
			case 13:
				r.CallerParticipantID, err = d.str(r.CallerParticipantID)
			case 14:
				r.CalleeParticipantID, err = d.str(r.CalleeParticipantID)
			case 15:
				r.ConferenceConnection, err = d.boolValue(r.ConferenceConnection)
			case 16:
				r.ReplyID, err = d.str(r.ReplyID)
			case 17:
				r.PreviousCommandFailed, err = d.str(r.PreviousCommandFailed)
			case 18:
				r.DtmfParams, err = d.dtmfParams(r.DtmfParams)
			case 19:
				r.FileName, err = d.str(r.FileName)
			case 20:
				r.Location, err = d.str(r.Location)
			case 21:
				r.DurationSeconds, err = d.intValue(r.DurationSeconds)
			default:
				err = d.skipValue()
			}
			if err != nil {
				return err
			}
		}
	}
	return d.end()
}

// dtmfParams decodes a dtmfParams object into p (or a fresh one); null
// yields nil. An existing p is decoded into, as encoding/json does.
func (d *decoder) dtmfParams(p *DtmfParams) (*DtmfParams, error) {
	null, err := d.beginObject()
	if err != nil || null {
		return nil, err
	}
	if p == nil {
		if p, d.spareDtmf = d.spareDtmf, nil; p == nil {
			p = new(DtmfParams)
		}
	}
	for i := 0; ; i++ {
		key, more, err := d.objectNext(i)
		if err != nil {
			return nil, err
		}
		if !more {
			return p, nil
		}
		f := -1
		switch {
		case eq(key, "dtmfMatch"):
			f = 0
		case eq(key, "reason"):
			f = 1
		default:
			f = foldField(key, dtmfParamsFields)
		}
		switch f {
		case 0:
			p.DtmfMatch, err = d.str(p.DtmfMatch)
		case 1:
			p.Reason, err = d.str(p.Reason)
		default:
			err = d.skipValue()
		}
		if err != nil {
			return nil, err
		}
	}
}

// intValue decodes an integer; null keeps old. A fraction, an exponent or
// a value out of int's range is ErrType, as encoding/json has it.
func (d *decoder) intValue(old int) (int, error) {
	switch c := d.peek(); {
	case c == 'n':
		return old, d.literal("null")
	case c == '-' || isDigit(c):
		start := d.pos
		b, err := d.number()
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(string(b), 10, strconv.IntSize)
		if err != nil {
			d.pos = start
			return 0, d.fail(ErrType)
		}
		return int(n), nil
	}
	return 0, d.wrongType()
}

// boolValue decodes true or false; null keeps old.
func (d *decoder) boolValue(old bool) (bool, error) {
	switch d.peek() {
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return old, d.literal("null")
	}
	return false, d.wrongType()
}

// DecodeIotRequest decodes a callback body into a fresh IotRequest, which
// does not refer to data and may be kept.
func DecodeIotRequest(data []byte) (*IotRequest, error) {
	var d decoder
	r := new(IotRequest)
	if err := d.decodeIotRequest(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

// SessionStore is the part of the tenant's key-value store a plugin keeps
// for one iotcomms session: key "iot/<sessionId>/<name>". A session's
// callbacks may reach different plugin instances (and a webhook different
// processes), so what a plugin must remember between them (participant
// ids to connect later, a conference's connection id) lives here; delete
// it on sessionCompleted.
type SessionStore struct{ prefix string }

// Session returns the store of session sessionID.
func Session(sessionID string) SessionStore { return SessionStore{prefix: "iot/" + sessionID + "/"} }

// Key returns the store key of name.
func (s SessionStore) Key(name string) string { return s.prefix + name }

// Get returns the value of name, "" when it is not set.
func (s SessionStore) Get(name string) (string, error) {
	v, err := KVGet(s.prefix + name)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return string(v), err
}

// Set stores value under name.
func (s SessionStore) Set(name, value string) error { return KVSet(s.prefix+name, []byte(value)) }

// Delete removes names (absent ones are no error).
func (s SessionStore) Delete(names ...string) error {
	for _, n := range names {
		if err := KVDelete(s.prefix + n); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// GetAll returns the values of names, in order ("" for those not set).
func (s SessionStore) GetAll(names ...string) ([]string, error) {
	vs := make([]string, len(names))
	for i, n := range names {
		v, err := s.Get(n)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// SetConnection keeps what a callAnswered reports of its connection under
// name: the connectionId and replyId that /splitconnection takes (keys
// name/connectionId and name/replyId), for whoever makes that call.
func (s SessionStore) SetConnection(name string, r *IotRequest) error {
	if err := s.Set(name+"/connectionId", r.ConnectionID); err != nil {
		return err
	}
	return s.Set(name+"/replyId", r.ReplyID)
}

// Connection returns the connectionId and replyId SetConnection kept
// under name ("" when none).
func (s SessionStore) Connection(name string) (connectionID, replyID string, err error) {
	if connectionID, err = s.Get(name + "/connectionId"); err == nil {
		replyID, err = s.Get(name + "/replyId")
	}
	return connectionID, replyID, err
}

// DeleteConnections deletes what SetConnection kept under names.
func (s SessionStore) DeleteConnections(names ...string) error {
	for _, n := range names {
		if err := s.Delete(n+"/connectionId", n+"/replyId"); err != nil {
			return err
		}
	}
	return nil
}
