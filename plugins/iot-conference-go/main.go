// Command iot-conference-go is the iotcomms seed's conference with park
// and retrieve: A calls in and is connected to B. The application's
// controller splits A–B (/splitconnection): B is parked with hold music and
// A calls C. Once A talks to C, the controller creates a conference
// connection (/createconferenceconnection), stores its connectionId in the
// session's key "conference" and splits A–C and B's parking connection:
// each participant split from then on joins the conference, where all hear
// each other. If C hangs up or does not answer before that, B is retrieved
// from the park and connected to A again.
//
// The plugin answers the callbacks; the controller (a test, an operator's
// console) makes the API calls. They share the session's part of the
// key-value store (iot/<sessionId>/…): the plugin keeps there the
// participant ids of A, B and C and the connectionId and replyId of each
// connection (AwithB, BwithIVR, AwithC), which /splitconnection needs; the
// controller stores the conference's connectionId under "conference".
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

// B and C: numbers, dialled through the server's trunks.
const (
	numberB = "+15550202"
	numberC = "+15550203"
)

// holdMusic is the prompt file B hears while parked (upload it with
// /promptfile; ../iot-transfer-go/buckets/promptfiles/holdmusic.wav).
const holdMusic = "holdmusic.wav"

// Session state (ms.Session keys): the participants A, B and C; the
// conference (stored by the controller); and the connections by the roles
// they connect, each with its connectionId and replyId.
const (
	keyA          = "A"
	keyB          = "B"
	keyC          = "C"
	keyConference = "conference"
)

var connections = []string{"AwithB", "AwithC", "AwithIVR", "BwithC", "BwithIVR", "CwithIVR"}

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	s := ms.Session(r.SessionID)
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.CallAnswer(numberB), s.Set(keyA, r.ParticipantID)
	case ms.CallbackCallAnswered:
		return nil, answered(r, s)
	case ms.CallbackGetIvrCommand:
		// The parking IVR: music until the next command (asked again
		// after 5 minutes, which keeps the music going).
		return ms.Ivr().Background(ms.FilePhrase(holdMusic), 0.5).NextCommandAfter(300), nil
	case ms.CallbackCallEvent:
		return event(r, s)
	case ms.CallbackSessionCompleted:
		if err := s.DeleteConnections(connections...); err != nil {
			return nil, err
		}
		return nil, s.Delete(keyA, keyB, keyC, keyConference)
	}
	return nil, nil // callNotify
}

// roles are the session's participants as the plugin knows them.
type roles struct{ a, b, c string }

func load(s ms.SessionStore) (roles, error) {
	v, err := s.GetAll(keyA, keyB, keyC)
	if err != nil {
		return roles{}, err
	}
	return roles{v[0], v[1], v[2]}, nil
}

// role names a participant: A, B, C, or IVR for any other (a parking IVR).
func (ro roles) role(id string) string {
	switch id {
	case ro.a:
		return "A"
	case ro.b:
		return "B"
	case ro.c:
		return "C"
	}
	return "IVR"
}

// answered records a connection under the roles it connects: the party
// A's first call reaches is B, the party its second call reaches is C.
func answered(r *ms.IotRequest, s ms.SessionStore) error {
	ro, err := load(s)
	if err != nil {
		return err
	}
	caller, callee := r.CallerParticipantID, r.CalleeParticipantID
	if caller == ro.a && ro.role(callee) == "IVR" {
		// A's call: B first, then C. Its parking IVR, if ever, only
		// after B is known, and only where C is.
		switch {
		case ro.b == "":
			ro.b, err = callee, s.Set(keyB, callee)
		case ro.c == "":
			ro.c, err = callee, s.Set(keyC, callee)
		}
		if err != nil {
			return err
		}
	}
	x, y := ro.role(caller), ro.role(callee)
	if x > y {
		x, y = y, x // A < B < C < IVR
	}
	return s.SetConnection(x+"with"+y, r)
}

// event decides about the participant a callEvent is about.
func event(r *ms.IotRequest, s ms.SessionStore) (ms.IotReply, error) {
	ro, err := load(s)
	if err != nil {
		return nil, err
	}
	p := r.ParticipantID
	if r.Split() {
		conference, err := s.Get(keyConference)
		switch {
		case err != nil:
			return nil, err
		case conference != "":
			return ms.JoinConferenceAnswer(conference), nil
		case p == ro.b:
			return ms.IvrAnswer(), nil // park B
		case p == ro.a && ro.c == "":
			return ms.CallAnswer(numberC), nil
		}
		// Split before the controller stored the conference: park, so
		// nobody is left alone; a later split joins the conference.
		ms.Log(ms.LevelWarn, "split with no conference stored: parking "+p)
		return ms.IvrAnswer(), nil
	}
	withC, _, err := s.Connection("AwithC")
	if err != nil {
		return nil, err
	}
	if p == ro.a && ro.b != "" && (r.Event == ms.EventCallFailed || r.Event == ms.EventCalledPartyDrop && r.ConnectionID == withC) {
		// C did not answer or hung up before the conference: retrieve B.
		return ms.ConnectAnswer(ro.b), nil
	}
	return ms.DropAnswer(), nil // the other side hung up
}
