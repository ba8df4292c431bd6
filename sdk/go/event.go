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

// Event is the envelope the host sends for every invocation.
//
// ActionData and CallDetails are decoded on first use: an event's JSON is
// mostly CallDetails, and in a Go Wasm guest decoding costs about as much
// per token as the host's whole call (see the README's performance notes).
//
// The SDK reuses the Event, its maps, slices and ActionData for the next
// event, and reads the lazy parts from the event buffer: use the Event only
// while the handler runs, and keep copies, not references. Its strings are
// never reused and may be kept.
type Event struct {
	SchemaVersion       string
	Sequence            int64 // a JSON number, or a string holding one
	InvocationEventType string
	// ErrorType and ErrorMessage are set at the top level only for
	// INVALID_LAMBDA_RESPONSE; ACTION_FAILED carries them in ActionData.
	ErrorType    string
	ErrorMessage string

	actionData  *ActionData
	callDetails CallDetails

	// Lazy decoding: where each ActionData and CallDetails member starts in
	// raw (duplicates are decoded in order, as encoding/json does), which of
	// the two are still to decode, and the first error doing so.
	raw      []byte
	dec      *decoder
	actionAt []int
	callAt   []int
	pending  uint8
	err      error
}

const (
	pendingAction = 1 << iota
	pendingCall
)

// ActionData returns the action the event is about, with its results; nil
// when the event has none.
func (e *Event) ActionData() *ActionData {
	if e.pending&pendingAction != 0 {
		e.pending &^= pendingAction
		for _, at := range e.actionAt {
			e.dec.at(e.raw, at)
			a, err := e.dec.actionData(e.actionData)
			if err != nil {
				e.fail(err)
				break
			}
			e.actionData = a
		}
	}
	return e.actionData
}

// CallDetails returns the call (transaction) and its legs.
func (e *Event) CallDetails() *CallDetails {
	if e.pending&pendingCall != 0 {
		e.pending &^= pendingCall
		for _, at := range e.callAt {
			e.dec.at(e.raw, at)
			if err := e.dec.callDetails(&e.callDetails); err != nil {
				e.fail(err)
				break
			}
		}
	}
	return &e.callDetails
}

// fail keeps the first error of a lazy decoding; the event then fails
// with it after the handler returns.
func (e *Event) fail(err error) {
	if e.err == nil {
		e.err = err
	}
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
	// CallRecordingDestination is StartCallRecording's result:
	// {"Type":"S3","Location":"bucket/key"}.
	CallRecordingDestination RawJSON
}

// Attribute returns the transaction attribute k of the call ("" if unset).
func (e *Event) Attribute(k string) string { return e.CallDetails().TransactionAttributes[k] }

// Participant returns the leg with the given tag, or nil.
func (e *Event) Participant(tag string) *Participant {
	ps := e.CallDetails().Participants
	for i := range ps {
		if ps[i].ParticipantTag == tag {
			return &ps[i]
		}
	}
	return nil
}

// Argument returns ActionData.Parameters.Arguments[name] of a
// CALL_UPDATE_REQUESTED event ("" if absent).
func (e *Event) Argument(name string) string {
	a := e.ActionData()
	if a == nil {
		return ""
	}
	if e.dec == nil {
		s, _ := a.Parameters.String("Arguments", name)
		return s
	}
	// As Parameters.String, but the result goes to the event's arena: no
	// allocation of its own.
	d := e.dec
	saved := d.detour(a.Parameters, 0, 0)
	s := ""
	// The host writes {"Arguments":{"name":"value",…}}: try the first
	// argument with word compares before the general lookup.
	const pre = `{"Arguments":{"`
	ok := false
	if p, n := a.Parameters, len(pre)+len(name); len(p) > n+1 && eq(p[:len(pre)], pre) &&
		eq(p[len(pre):n], name) && p[n] == '"' && p[n+1] == ':' {
		d.pos, ok = n+2, true
	} else {
		ok = d.seek([]string{"Arguments", name}) == nil
	}
	if ok && d.peek() == '"' {
		if b, err := d.readString(); err == nil {
			s = d.save(b)
		}
	}
	d.back(saved)
	return s
}

// TransactionID returns CallDetails.TransactionId. In the reactor it
// reads only that member when the host wrote it first (as it does: ABI
// SPEC section 13), so a handler that keys its state by transaction does
// not pay for decoding the participants.
func (e *Event) TransactionID() string {
	const pre = `{"TransactionId":"`
	if e.pending&pendingCall == 0 || e.dec == nil || !e.dec.trustLayout || len(e.callAt) != 1 ||
		!hasAt(e.raw, e.callAt[0], pre) {
		return e.CallDetails().TransactionID
	}
	d := e.dec
	saved := d.detour(e.raw, e.callAt[0]+len(pre)-1, 1) // at the value's quote
	s, ok := "", false
	if b, err := d.readString(); err == nil {
		s, ok = d.save(b), true
	}
	d.back(saved)
	if !ok {
		return e.CallDetails().TransactionID // which records the error
	}
	return s
}

// ReceivedDigits returns ActionData.ReceivedDigits ("" if absent).
func (e *Event) ReceivedDigits() string {
	if a := e.ActionData(); a != nil {
		return a.ReceivedDigits
	}
	return ""
}

// ActionType returns ActionData.Type ("" if absent).
func (e *Event) ActionType() string {
	if a := e.ActionData(); a != nil {
		return a.Type
	}
	return ""
}

// DecodeEvent decodes the whole event JSON into a fresh Event, which does
// not refer to data and may be kept.
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
	actionDataFields  = []string{"Type", "Parameters", "ReceivedDigits", "ErrorType", "ErrorMessage", "RecordingDestination", "RecordingTerminatorUsed", "CallRecordingDestination"}
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
	case 24:
		if eq(k, "CallRecordingDestination") {
			return 7
		}
	}
	return foldField(k, actionDataFields)
}

// recycle empties e for the next event. Its map, slice and ActionData
// become the decoder's spares, used when the next event has those members,
// so a steady stream of events allocates none of them again.
func (d *decoder) recycle(e *Event) {
	if m := e.callDetails.TransactionAttributes; m != nil {
		clear(m)
		d.spareAttrs = m
	}
	if ps := e.callDetails.Participants; cap(ps) > 0 {
		d.spareParts = ps[:0] // participants zeroes each element it reuses
	}
	if a := e.actionData; a != nil {
		*a = ActionData{}
		d.spareAction = a
	}
	actionAt, callAt := e.actionAt[:0], e.callAt[:0]
	*e = Event{actionAt: actionAt, callAt: callAt}
}

// eventKeys are the members of the envelope as the host writes them, in
// its order (abi.Event), quoted and with their colon: decodeEventLazy
// first tries the one expected next, a word compare instead of a key scan
// and lookup. Any other order, spacing or spelling takes the general path.
var eventKeys = [...]string{`"SchemaVersion":`, `"Sequence":`, `"InvocationEventType":`, `"ActionData":`,
	`"CallDetails":`, `"ErrorType":`, `"ErrorMessage":`}

// skipKey consumes lit (after a comma when comma is set) if the input has
// it exactly at d.pos.
func (d *decoder) skipKey(lit string, comma bool) bool {
	p := d.pos
	if comma {
		if p >= len(d.data) || d.data[p] != ',' {
			return false
		}
		p++
	}
	if len(d.data)-p < len(lit) || !eq(d.data[p:p+len(lit)], lit) {
		return false
	}
	d.pos = p + len(lit)
	return true
}

// The members of the other objects in the host's order, as eventKeys.
var (
	callDetailsKeys = [...]string{`"TransactionId":`, `"TransactionAttributes":`, `"AwsAccountId":`, `"AwsRegion":`,
		`"SipRuleId":`, `"SipMediaApplicationId":`, `"Participants":`}
	participantKeys = [...]string{`"CallId":`, `"ParticipantTag":`, `"To":`, `"From":`, `"Direction":`,
		`"StartTimeInMilliseconds":`, `"Status":`, `"SipHeaders":`}
	actionDataKeys = [...]string{`"Type":`, `"Parameters":`, `"ReceivedDigits":`, `"ErrorType":`, `"ErrorMessage":`,
		`"RecordingDestination":`, `"RecordingTerminatorUsed":`, `"CallRecordingDestination":`}
)

// member moves to member i of an object, as objectNext, and returns its
// field: the index of keys (quoted, with the colon, in the host's order)
// or -1. It first tries keys[*expect], the member the host writes next,
// which costs a word compare instead of a key scan and lookup.
func (d *decoder) member(i int, keys []string, expect *int, lookup func([]byte) int) (field int, more bool, err error) {
	if x := *expect; x < len(keys) && d.skipKey(keys[x], i > 0) {
		*expect = x + 1
		return x, true, nil
	}
	key, more, err := d.objectNext(i)
	if err != nil || !more {
		return -1, more, err
	}
	field = lookup(key)
	if field >= 0 {
		*expect = field + 1
	}
	return field, true, nil
}

// decodeEventLazy decodes the top level of data into e, which recycle has
// emptied, and notes where ActionData and CallDetails start for their
// accessors. data must stay unchanged while e is used. The members it
// does not decode are crossed with skipFast, which checks less than a
// decoding would: their errors surface when (if) they are decoded.
func (d *decoder) decodeEventLazy(data []byte, e *Event) error {
	d.reset(data)
	d.lazy = true
	e.raw, e.dec = data, d
	if d.hostLayout(e) {
		return nil
	}
	d.pos, d.depth = 0, 0
	null, err := d.beginObject()
	if err != nil {
		return err
	}
	var seq []byte
	if !null {
		expect := 0
		for i := 0; ; i++ {
			field, more, err := d.member(i, eventKeys[:], &expect, eventField)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			switch field {
			case 0:
				e.SchemaVersion, err = d.str(e.SchemaVersion)
			case 1:
				seq, err = d.sequence(seq)
			case 2:
				e.InvocationEventType, err = d.str(e.InvocationEventType)
			case 3:
				d.ws()
				e.actionAt = append(e.actionAt, d.pos)
				e.pending |= pendingAction
				err = d.skipFast()
			case 4:
				d.ws()
				e.callAt = append(e.callAt, d.pos)
				e.pending |= pendingCall
				err = d.skipFast()
			case 5:
				e.ErrorType, err = d.str(e.ErrorType)
			case 6:
				e.ErrorMessage, err = d.str(e.ErrorMessage)
			default:
				err = d.skipFast()
			}
			if err != nil {
				return err
			}
		}
	}
	if err := d.end(); err != nil {
		return err
	}
	return d.setSequence(e, seq)
}

// The envelope as the host writes it (abi.Event: its field order, compact
// JSON, schema 1.0), for hostLayout.
const (
	hostPrefix    = `{"SchemaVersion":"1.0","Sequence":`
	hostTypeKey   = `,"InvocationEventType":`
	hostActionKey = `,"ActionData":`
	hostCallKey   = `,"CallDetails":`
)

// hostLayout is decodeEventLazy's fast path for an event exactly as the
// host writes it: a few word compares instead of a member loop, and the
// event type is one of the constants instead of an arena copy. In a Go
// Wasm guest every call and taken branch is costly, and the general path
// takes several per member. On any deviation it returns false having
// changed nothing but d.pos and d.depth, and the general path decodes the
// event; for the host's layout both give the same result.
func (d *decoder) hostLayout(e *Event) bool {
	data := d.data
	p := len(hostPrefix)
	if len(data) <= p || !eq(data[:p], hostPrefix) {
		return false
	}
	var seq int64
	start := p
	for p < len(data) && p-start < 18 && isDigit(data[p]) {
		seq = seq*10 + int64(data[p]-'0')
		p++
	}
	if p == start || data[start] == '0' && p > start+1 || !hasAt(data, p, hostTypeKey) {
		return false
	}
	d.pos, d.depth = p+len(hostTypeKey), 1
	name, err := d.readString()
	if err != nil {
		return false
	}
	typ := eventType(name)
	if typ == "" {
		return false
	}
	actionAt, callAt := -1, -1
	if hasAt(data, d.pos, hostActionKey) {
		d.pos += len(hostActionKey)
		actionAt = d.pos
		if d.skipFast() != nil {
			return false
		}
	}
	if hasAt(data, d.pos, hostCallKey) {
		d.pos += len(hostCallKey)
		callAt = d.pos
		if d.trustLayout && data[callAt] == '{' && len(data)-callAt >= 3 && data[len(data)-2] == '}' {
			// The host writes CallDetails last but for ErrorType and
			// ErrorMessage, which are strings: an event ending in "}}"
			// ends with CallDetails. Crossing it, most of the event, is
			// left to CallDetails(), which decodes and checks it in full;
			// a handler that never asks never pays.
			d.pos = len(data) - 1
		} else if d.skipFast() != nil {
			return false
		}
	}
	if d.pos != len(data)-1 || data[d.pos] != '}' {
		return false
	}
	d.pos, d.depth = len(data), 0
	e.SchemaVersion, e.Sequence, e.InvocationEventType = SchemaVersion, seq, typ
	if actionAt >= 0 {
		e.actionAt = append(e.actionAt, actionAt)
		e.pending |= pendingAction
	}
	if callAt >= 0 {
		e.callAt = append(e.callAt, callAt)
		e.pending |= pendingCall
	}
	return true
}

// hasAt reports whether data holds lit at p.
func hasAt(data []byte, p int, lit string) bool {
	return len(data)-p >= len(lit) && eq(data[p:p+len(lit)], lit)
}

// eventType returns the constant of the event type name, or "".
func eventType(name []byte) string {
	var c string
	switch len(name) {
	case 6:
		c = EventHangup
	case 7:
		c = EventRinging
	case 13:
		c = EventCallAnswered
		if name[0] == 'A' {
			c = EventActionFailed
		}
	case 15:
		c = EventDigitsReceived
	case 16:
		c = EventNewInboundCall
	case 17:
		c = EventNewOutboundCall
		if name[0] == 'A' {
			c = EventActionSuccessful
		}
	case 18:
		c = EventActionInterrupted
	case 21:
		c = EventCallUpdateRequested
	case 23:
		c = EventInvalidLambdaResponse
	default:
		return ""
	}
	if !eq(name, c) {
		return ""
	}
	return c
}

// decodeEvent decodes data into e, which should be zero.
func (d *decoder) decodeEvent(data []byte, e *Event) error {
	d.reset(data)
	d.lazy = false
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
				e.actionData, err = d.actionData(e.actionData)
			case 4:
				err = d.callDetails(&e.callDetails)
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
	return d.setSequence(e, seq)
}

// setSequence parses the last Sequence (nil: none), like encoding/json's
// Number into an int64. Plain short numbers take a fast path without
// strconv.
func (d *decoder) setSequence(e *Event, seq []byte) error {
	if seq == nil {
		return nil
	}
	if len(seq) > 0 && len(seq) < 19 {
		var n int64
		ok := true
		for _, c := range seq {
			ok = ok && isDigit(c)
			n = n*10 + int64(c-'0')
		}
		if ok {
			e.Sequence = n
			return nil
		}
	}
	n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(seq), len(seq)), 10, 64)
	if err != nil {
		// Again on a copy: the error keeps the text, which aliases the input.
		_, err = strconv.ParseInt(string(seq), 10, 64)
		return &JSONError{Offset: 0, Err: err}
	}
	e.Sequence = n
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
	expect := 0
	for i := 0; ; i++ {
		field, more, err := d.member(i, callDetailsKeys[:], &expect, callDetailsField)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		switch field {
		case 0:
			c.TransactionID, err = d.str(c.TransactionID)
		case 1:
			m := c.TransactionAttributes
			if m == nil {
				m, d.spareAttrs = d.spareAttrs, nil
			}
			c.TransactionAttributes, err = d.stringMap(m)
		case 2:
			c.AwsAccountID, err = d.str(c.AwsAccountID)
		case 3:
			c.AwsRegion, err = d.str(c.AwsRegion)
		case 4:
			c.SipRuleID, err = d.str(c.SipRuleID)
		case 5:
			c.SipMediaApplicationID, err = d.str(c.SipMediaApplicationID)
		case 6:
			ps := c.Participants
			if ps == nil {
				ps, d.spareParts = d.spareParts, nil
			}
			c.Participants, err = d.participants(ps)
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
	expect := 0
	for i := 0; ; i++ {
		field, more, err := d.member(i, participantKeys[:], &expect, participantField)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		switch field {
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
		a, d.spareAction = d.spareAction, nil
	}
	if a == nil {
		a = new(ActionData)
	}
	expect, i := 0, 0
	if d.lazy {
		// The host writes Type and Parameters first: take them without the
		// member loop (see hostLayout).
		const typeKey, paramsKey = `"Type":"`, `,"Parameters":`
		if hasAt(d.data, d.pos, typeKey) {
			d.pos += len(typeKey) - 1
			b, err := d.readString()
			if err != nil {
				return nil, err
			}
			a.Type = d.save(b)
			expect, i = 1, 1
			if hasAt(d.data, d.pos, paramsKey) {
				d.pos += len(paramsKey)
				if a.Parameters, err = d.rawValue(a.Parameters); err != nil {
					return nil, err
				}
				expect, i = 2, 2
			}
		}
	}
	for ; ; i++ {
		field, more, err := d.member(i, actionDataKeys[:], &expect, actionDataField)
		if err != nil {
			return nil, err
		}
		if !more {
			return a, nil
		}
		switch field {
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
		case 7:
			a.CallRecordingDestination, err = d.rawValue(a.CallRecordingDestination)
		default:
			err = d.skipValue()
		}
		if err != nil {
			return nil, err
		}
	}
}
