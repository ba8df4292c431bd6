// Command iot-transfer-go is the iotcomms seed's attended transfer: A
// calls in and is connected to B. To transfer, the application's controller
// splits A–B (/splitconnection): A is parked with hold music, B calls C.
// When the controller splits B–C, B is dropped and C is connected to A. If C
// hangs up or does not answer, B goes back to A; if B hangs up while
// talking to C, C is connected to A.
//
// The plugin answers the callbacks; the controller (a test, an operator's
// console) makes the /splitconnection calls. They share the session's part
// of the key-value store: the plugin keeps there the participant ids of A,
// B and C, and the connectionId and replyId of each connection
// (iot/<sessionId>/AwithB/connectionId, …), which the controller needs for
// /splitconnection.
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

// B and C: numbers, dialled through the server's trunks.
const (
	numberB = "+15550202"
	numberC = "+15550203"
)

// holdMusic is the prompt file A hears while parked (upload it with
// /promptfile; buckets/promptfiles/holdmusic.wav here).
const holdMusic = "holdmusic.wav"

// Session state (ms.Session keys): the participants A, B and C; whom B
// talks to (A or C); and the connections by the roles they connect
// (AwithB, AwithIVR, BwithC, AwithC, …), each with its connectionId and
// replyId.
const (
	keyA     = "A"
	keyB     = "B"
	keyC     = "C"
	keyBWith = "Bwith"
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
		return nil, s.Delete(keyA, keyB, keyC, keyBWith)
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

// role names a participant: A, B, C, or IVR for any other (the parking
// IVR).
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
// A's first call reaches is B, a party B's call reaches is C.
func answered(r *ms.IotRequest, s ms.SessionStore) error {
	ro, err := load(s)
	if err != nil {
		return err
	}
	caller, callee := r.CallerParticipantID, r.CalleeParticipantID
	switch {
	case caller == ro.a && ro.b == "":
		ro.b = callee
		err = s.Set(keyB, callee)
	case caller == ro.b && ro.role(callee) == "IVR":
		ro.c = callee
		err = s.Set(keyC, callee)
	}
	if err != nil {
		return err
	}
	x, y := ro.role(caller), ro.role(callee)
	if x > y {
		x, y = y, x // A < B < C < IVR
	}
	switch {
	case x == "B":
		err = s.Set(keyBWith, y)
	case y == "B":
		err = s.Set(keyBWith, x)
	}
	if err != nil {
		return err
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
		switch {
		case p == ro.a:
			return ms.IvrAnswer(), nil // park A
		case p == ro.b:
			with, err := s.Get(keyBWith)
			if with == "A" {
				return ms.CallAnswer(numberC), err // B's inquiry call
			}
			return ms.DropAnswer(), err // B split from C: the transfer completes
		case p == ro.c:
			return ms.ConnectAnswer(ro.a).WithReplyID(r.ReplyID), nil
		}
		return ms.DropAnswer(), nil
	}
	inquiry, _, err := s.Connection("BwithC")
	if err != nil {
		return nil, err
	}
	switch {
	case p == ro.b && (r.Event == ms.EventCallFailed || r.Event == ms.EventCalledPartyDrop && r.ConnectionID == inquiry):
		return ms.ConnectAnswer(ro.a), nil // C did not answer or hung up: back to A
	case p == ro.c && r.Event == ms.EventCallingPartyDrop && r.ConnectionID == inquiry:
		return ms.ConnectAnswer(ro.a), nil // B hung up while talking to C: C takes A
	}
	return ms.DropAnswer(), nil // the other side hung up
}
