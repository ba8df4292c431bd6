package engine

// model is the programming model that runs a session on the core's
// participants and connections: Chime's SIP media application (events and
// action lists, chime.go) by default. The core calls it from the session's
// goroutine when something happens that the model must act on or report.
type model interface {
	// split tells that p's connection was split: p is unconnected now.
	split(p *participant, k *connection)
	// shrunk tells that a member left k (it hung up or was dropped).
	shrunk(k *connection)
	// ringing, answered and gone report a participant dialled with
	// dialParticipant; gone also reports one that hung up (code 0) or
	// failed (its final SIP code).
	ringing(p *participant)
	answered(p *participant)
	gone(p *participant, code int)
	// reinvited tells that p's media changed (hold, resume, new address).
	reinvited(p *participant)
}

// chimeModel is Chime's rules for connections: a call is LEG-A bridged to
// LEG-B, and the bridge is undone when either leaves.
type chimeModel struct{ c *Call }

// split cannot happen in a Chime call: no action splits a connection.
func (m chimeModel) split(*participant, *connection) {}

// Chime dials participants only through CallAndBridge and Outbound,
// which follow them themselves.
func (m chimeModel) ringing(*participant)  {}
func (m chimeModel) answered(*participant) {}

// gone: a participant that hangs up is reported as Chime does for a leg.
// A monitor is not a Chime participant: it leaves silently.
func (m chimeModel) gone(p *participant, code int) {
	if p.hidden {
		m.c.log.Info("monitor left", "sip_response_code", code)
		return
	}
	m.c.legEnded(p, code)
}

// reinvited needs nothing: hold and resume are media matters.
func (m chimeModel) reinvited(*participant) {}

// shrunk undoes a bridge that lost one of its two legs.
func (m chimeModel) shrunk(k *connection) {
	if len(k.members) < 2 {
		m.c.dissolve(k)
	}
}
