package mediaserver

// SchemaVersion is the schema version of events and responses.
const SchemaVersion = "1.0"

// Parameters is the parameters object of an action. The typed parameters
// of this package implement it; RawJSON does for anything else.
type Parameters interface {
	// AppendJSON appends the parameters as one JSON object to dst.
	AppendJSON(dst []byte) []byte
}

// Action is one entry of a response's action list.
type Action struct {
	Type       string
	Parameters Parameters // nil is written as {}
}

// Response is what a handler returns.
type Response struct {
	// SchemaVersion defaults to "1.0".
	SchemaVersion string
	// Actions run in order. nil omits the list, which keeps the call's
	// current actions; an empty non-nil list means "do nothing".
	Actions []Action
	// TransactionAttributes replace the call's attributes when non-nil;
	// an empty map clears them.
	TransactionAttributes map[string]string

	one [1]Action // Respond's storage for a single action
}

// Respond returns a response with the given actions; with none it is an
// empty action list (Actions: []).
func Respond(actions ...Action) *Response {
	// The actions are copied, so the variadic slice stays on the stack;
	// one action (the usual case) lives in the Response itself.
	r := guest.responses.new()
	if len(actions) <= len(r.one) {
		r.Actions = append(r.one[:0], actions...)
	} else {
		r.Actions = append(make([]Action, 0, len(actions)), actions...)
	}
	return r
}

// Add appends actions to the response.
func (r *Response) Add(actions ...Action) *Response {
	r.Actions = append(r.Actions, actions...)
	return r
}

// SetAttribute sets one transaction attribute in the response.
func (r *Response) SetAttribute(k, v string) *Response {
	if r.TransactionAttributes == nil {
		r.TransactionAttributes = make(map[string]string)
	}
	r.TransactionAttributes[k] = v
	return r
}

// WithAttributes replaces the response's transaction attributes with m.
func (r *Response) WithAttributes(m map[string]string) *Response {
	r.TransactionAttributes = m
	return r
}

// Attribute returns the transaction attribute k set in the response.
func (r *Response) Attribute(k string) string { return r.TransactionAttributes[k] }

// AppendJSON appends the response JSON to dst.
func (r *Response) AppendJSON(dst []byte) []byte {
	// The common head in one append: each append is several calls and
	// branches in a Go Wasm guest.
	o := object{b: dst, n: 1}
	if sv := r.SchemaVersion; sv == "" || sv == SchemaVersion {
		if r.Actions != nil && len(r.Actions) == 0 && r.TransactionAttributes == nil {
			return append(dst, `{"SchemaVersion":"1.0","Actions":[]}`...)
		}
		o.b = append(o.b, `{"SchemaVersion":"1.0"`...)
	} else {
		o = beginObject(dst)
		o.strAlways("SchemaVersion", sv)
	}
	if r.Actions != nil {
		o.b = append(o.b, `,"Actions":[`...)
		for i, a := range r.Actions {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = a.AppendJSON(o.b)
		}
		o.b = append(o.b, ']')
	}
	o.strMap("TransactionAttributes", r.TransactionAttributes)
	return o.end()
}

// MarshalJSON implements json.Marshaler without reflection.
func (r *Response) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the action JSON to dst.
func (a Action) AppendJSON(dst []byte) []byte {
	dst = appendString(append(dst, `{"Type":`...), a.Type)
	dst = append(dst, `,"Parameters":`...)
	if a.Parameters == nil {
		dst = append(dst, '{', '}')
	} else {
		dst = a.Parameters.AppendJSON(dst)
	}
	return append(dst, '}')
}
