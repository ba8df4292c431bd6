package mediaserver

import (
	"strconv"
	"unsafe"
)

// The 11 invocation event types.
const (
	EventNewInboundCall        = "NEW_INBOUND_CALL"
	EventNewOutboundCall       = "NEW_OUTBOUND_CALL"
	EventRinging               = "RINGING"
	EventCallAnswered          = "CALL_ANSWERED"
	EventActionSuccessful      = "ACTION_SUCCESSFUL"
	EventActionFailed          = "ACTION_FAILED"
	EventActionInterrupted     = "ACTION_INTERRUPTED"
	EventHangup                = "HANGUP"
	EventDigitsReceived        = "DIGITS_RECEIVED"
	EventCallUpdateRequested   = "CALL_UPDATE_REQUESTED"
	EventInvalidLambdaResponse = "INVALID_LAMBDA_RESPONSE"
)

// Leg tags.
const (
	LegA = "LEG-A"
	LegB = "LEG-B"
)

// Event is the envelope the host sends for every invocation. The handler
// may keep it: nothing in it aliases the SDK's buffers.
type Event struct {
	SchemaVersion       string
	Sequence            int64 // a JSON number, or a string holding one
	InvocationEventType string
	ActionData          *ActionData // nil when absent
	CallDetails         CallDetails
	// ErrorType and ErrorMessage are set at the top level only for
	// INVALID_LAMBDA_RESPONSE; ACTION_FAILED carries them in ActionData.
	ErrorType    string
	ErrorMessage string
}

// CallDetails describes the call (transaction) and its legs. JSON names:
// TransactionId, AwsAccountId, SipRuleId, SipMediaApplicationId.
type CallDetails struct {
	TransactionID         string
	TransactionAttributes map[string]string
	AwsAccountID          string
	AwsRegion             string
	SipRuleID             string
	SipMediaApplicationID string
	Participants          []Participant
}

// Participant is one leg of the call. JSON name of CallID: CallId.
type Participant struct {
	CallID                  string
	ParticipantTag          string // LegA or LegB
	To                      string
	From                    string
	Direction               string // Inbound or Outbound
	StartTimeInMilliseconds string // a decimal string, as Chime sends it
	Status                  string // Connected or Disconnected
	SipHeaders              map[string]string
}

// ActionData is the action an event is about, with its results.
type ActionData struct {
	Type                    string
	Parameters              RawJSON // verbatim; read it with Get/String/StringMap
	ReceivedDigits          string
	ErrorType               string
	ErrorMessage            string
	RecordingDestination    RawJSON // RecordAudio results
	RecordingTerminatorUsed string
}

// Attribute returns the transaction attribute k of the call ("" if unset).
func (e *Event) Attribute(k string) string { return e.CallDetails.TransactionAttributes[k] }

// Participant returns the leg with the given tag, or nil.
func (e *Event) Participant(tag string) *Participant {
	for i := range e.CallDetails.Participants {
		if e.CallDetails.Participants[i].ParticipantTag == tag {
			return &e.CallDetails.Participants[i]
		}
	}
	return nil
}

// Argument returns ActionData.Parameters.Arguments[name] of a
// CALL_UPDATE_REQUESTED event ("" if absent).
func (e *Event) Argument(name string) string {
	if e.ActionData == nil {
		return ""
	}
	s, _ := e.ActionData.Parameters.String("Arguments", name)
	return s
}

// ReceivedDigits returns ActionData.ReceivedDigits ("" if absent).
func (e *Event) ReceivedDigits() string {
	if e.ActionData == nil {
		return ""
	}
	return e.ActionData.ReceivedDigits
}

// ActionType returns ActionData.Type ("" if absent).
func (e *Event) ActionType() string {
	if e.ActionData == nil {
		return ""
	}
	return e.ActionData.Type
}

// DecodeEvent decodes the event JSON into a fresh Event.
func DecodeEvent(data []byte) (*Event, error) {
	var d decoder
	e := new(Event)
	if err := d.decodeEvent(data, e); err != nil {
		return nil, err
	}
	return e, nil
}

var (
	eventFields       = []string{"SchemaVersion", "Sequence", "InvocationEventType", "ActionData", "CallDetails", "ErrorType", "ErrorMessage"}
	callDetailsFields = []string{"TransactionId", "TransactionAttributes", "AwsAccountId", "AwsRegion", "SipRuleId", "SipMediaApplicationId", "Participants"}
	participantFields = []string{"CallId", "ParticipantTag", "To", "From", "Direction", "StartTimeInMilliseconds", "Status", "SipHeaders"}
	actionDataFields  = []string{"Type", "Parameters", "ReceivedDigits", "ErrorType", "ErrorMessage", "RecordingDestination", "RecordingTerminatorUsed"}
)

// The field lookups: exact matches by length without loops, then the
// case-insensitive fallback.

func eventField(k []byte) int {
	switch len(k) {
	case 8:
		if eq(k, "Sequence") {
			return 1
		}
	case 9:
		if eq(k, "ErrorType") {
			return 5
		}
	case 10:
		if eq(k, "ActionData") {
			return 3
		}
	case 11:
		if eq(k, "CallDetails") {
			return 4
		}
	case 12:
		if eq(k, "ErrorMessage") {
			return 6
		}
	case 13:
		if eq(k, "SchemaVersion") {
			return 0
		}
	case 19:
		if eq(k, "InvocationEventType") {
			return 2
		}
	}
	return foldField(k, eventFields)
}

func callDetailsField(k []byte) int {
	switch len(k) {
	case 9:
		if eq(k, "AwsRegion") {
			return 3
		}
		if eq(k, "SipRuleId") {
			return 4
		}
	case 12:
		if eq(k, "AwsAccountId") {
			return 2
		}
		if eq(k, "Participants") {
			return 6
		}
	case 13:
		if eq(k, "TransactionId") {
			return 0
		}
	case 21:
		if eq(k, "TransactionAttributes") {
			return 1
		}
		if eq(k, "SipMediaApplicationId") {
			return 5
		}
	}
	return foldField(k, callDetailsFields)
}

func participantField(k []byte) int {
	switch len(k) {
	case 2:
		if eq(k, "To") {
			return 2
		}
	case 4:
		if eq(k, "From") {
			return 3
		}
	case 6:
		if eq(k, "CallId") {
			return 0
		}
		if eq(k, "Status") {
			return 6
		}
	case 9:
		if eq(k, "Direction") {
			return 4
		}
	case 10:
		if eq(k, "SipHeaders") {
			return 7
		}
	case 14:
		if eq(k, "ParticipantTag") {
			return 1
		}
	case 23:
		if eq(k, "StartTimeInMilliseconds") {
			return 5
		}
	}
	return foldField(k, participantFields)
}

func actionDataField(k []byte) int {
	switch len(k) {
	case 4:
		if eq(k, "Type") {
			return 0
		}
	case 9:
		if eq(k, "ErrorType") {
			return 3
		}
	case 10:
		if eq(k, "Parameters") {
			return 1
		}
	case 12:
		if eq(k, "ErrorMessage") {
			return 4
		}
	case 14:
		if eq(k, "ReceivedDigits") {
			return 2
		}
	case 20:
		if eq(k, "RecordingDestination") {
			return 5
		}
	case 23:
		if eq(k, "RecordingTerminatorUsed") {
			return 6
		}
	}
	return foldField(k, actionDataFields)
}

// decodeEvent decodes data into e, which should be zero.
func (d *decoder) decodeEvent(data []byte, e *Event) error {
	d.reset(data)
	null, err := d.beginObject()
	if err != nil {
		return err
	}
	var seq []byte // the last Sequence, parsed at the end like encoding/json's Number
	if !null {
		for i := 0; ; i++ {
			key, more, err := d.objectNext(i)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			switch eventField(key) {
			case 0:
				e.SchemaVersion, err = d.str(e.SchemaVersion)
			case 1:
				seq, err = d.sequence(seq)
			case 2:
				e.InvocationEventType, err = d.str(e.InvocationEventType)
			case 3:
				e.ActionData, err = d.actionData(e.ActionData)
			case 4:
				err = d.callDetails(&e.CallDetails)
			case 5:
				e.ErrorType, err = d.str(e.ErrorType)
			case 6:
				e.ErrorMessage, err = d.str(e.ErrorMessage)
			default:
				err = d.skipValue()
			}
			if err != nil {
				return err
			}
		}
	}
	if err := d.end(); err != nil {
		return err
	}
	if seq != nil {
		n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(seq), len(seq)), 10, 64)
		if err != nil {
			// Again on a copy: the error keeps the text, which aliases the input.
			_, err = strconv.ParseInt(string(seq), 10, 64)
			return &JSONError{Offset: 0, Err: err}
		}
		e.Sequence = n
	}
	return nil
}

// sequence reads a number or a string holding a number; null keeps old.
func (d *decoder) sequence(old []byte) ([]byte, error) {
	switch c := d.peek(); {
	case c == 'n':
		return old, d.literal("null")
	case c == '"':
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		if !validNumber(b) {
			return nil, d.fail(ErrType)
		}
		return d.saveBytes(b), nil
	case c == '-' || isDigit(c):
		return d.number() // aliases the input, which outlives the decoding
	}
	return nil, d.wrongType()
}

func (d *decoder) callDetails(c *CallDetails) error {
	null, err := d.beginObject()
	if err != nil || null {
		return err
	}
	for i := 0; ; i++ {
		key, more, err := d.objectNext(i)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		switch callDetailsField(key) {
		case 0:
			c.TransactionID, err = d.str(c.TransactionID)
		case 1:
			c.TransactionAttributes, err = d.stringMap(c.TransactionAttributes)
		case 2:
			c.AwsAccountID, err = d.str(c.AwsAccountID)
		case 3:
			c.AwsRegion, err = d.str(c.AwsRegion)
		case 4:
			c.SipRuleID, err = d.str(c.SipRuleID)
		case 5:
			c.SipMediaApplicationID, err = d.str(c.SipMediaApplicationID)
		case 6:
			c.Participants, err = d.participants(c.Participants)
		default:
			err = d.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

// participants decodes into ps element by element, as encoding/json does:
// elements within the current length are decoded into, [] gives an empty
// non-nil slice.
func (d *decoder) participants(ps []Participant) ([]Participant, error) {
	null, err := d.beginArray()
	if err != nil || null {
		return nil, err
	}
	i := 0
	for ; ; i++ {
		more, err := d.arrayNext(i)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if i >= cap(ps) {
			ps = append(ps[:cap(ps)], Participant{})
		}
		if i >= len(ps) {
			ps = ps[:i+1]
			ps[i] = Participant{} // stale capacity is zeroed, as encoding/json does
		}
		if err := d.participant(&ps[i]); err != nil {
			return nil, err
		}
	}
	if ps == nil {
		ps = []Participant{}
	}
	return ps[:i], nil
}

func (d *decoder) participant(p *Participant) error {
	null, err := d.beginObject()
	if err != nil || null {
		return err
	}
	for i := 0; ; i++ {
		key, more, err := d.objectNext(i)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		switch participantField(key) {
		case 0:
			p.CallID, err = d.str(p.CallID)
		case 1:
			p.ParticipantTag, err = d.str(p.ParticipantTag)
		case 2:
			p.To, err = d.str(p.To)
		case 3:
			p.From, err = d.str(p.From)
		case 4:
			p.Direction, err = d.str(p.Direction)
		case 5:
			p.StartTimeInMilliseconds, err = d.str(p.StartTimeInMilliseconds)
		case 6:
			p.Status, err = d.str(p.Status)
		case 7:
			p.SipHeaders, err = d.stringMap(p.SipHeaders)
		default:
			err = d.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) actionData(a *ActionData) (*ActionData, error) {
	null, err := d.beginObject()
	if err != nil || null {
		return nil, err
	}
	if a == nil {
		a = new(ActionData)
	}
	for i := 0; ; i++ {
		key, more, err := d.objectNext(i)
		if err != nil {
			return nil, err
		}
		if !more {
			return a, nil
		}
		switch actionDataField(key) {
		case 0:
			a.Type, err = d.str(a.Type)
		case 1:
			a.Parameters, err = d.rawValue(a.Parameters)
		case 2:
			a.ReceivedDigits, err = d.str(a.ReceivedDigits)
		case 3:
			a.ErrorType, err = d.str(a.ErrorType)
		case 4:
			a.ErrorMessage, err = d.str(a.ErrorMessage)
		case 5:
			a.RecordingDestination, err = d.rawValue(a.RecordingDestination)
		case 6:
			a.RecordingTerminatorUsed, err = d.str(a.RecordingTerminatorUsed)
		default:
			err = d.skipValue()
		}
		if err != nil {
			return nil, err
		}
	}
}
