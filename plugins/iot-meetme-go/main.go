// Command iot-meetme-go is a meet-me conference in the iotcomms model:
// every caller, each in a session of its own, waits in a silent IVR
// ("parked") until the application's controller opens the conference.
// The controller creates a conference connection in one session
// (/createconferenceconnection), writes its connectionId to each
// caller's session key iot/<sessionId>/conference, and splits each
// caller's waiting connection (/splitconnection with the ids this plugin
// keeps under iot/<sessionId>/waiting/): each caller then joins the
// conference, whichever session it was created in. A caller split while
// no conference is set goes back to waiting.
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

// keyConference is the session key holding the conference to join.
const keyConference = "conference"

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	s := ms.Session(r.SessionID)
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.IvrAnswer(), nil
	case ms.CallbackCallAnswered:
		// The caller meets the waiting IVR: keep the connection for the
		// controller's split.
		return nil, s.SetConnection("waiting", r)
	case ms.CallbackGetIvrCommand:
		return ms.Ivr(), nil // nothing to play: wait, silent, until split
	case ms.CallbackCallEvent:
		if r.Event != ms.EventCallerConnectionSplit {
			return ms.DropAnswer(), nil
		}
		conf, err := s.Get(keyConference)
		if err != nil {
			return nil, err
		}
		if conf == "" {
			return ms.IvrAnswer(), nil // no conference yet: back to waiting
		}
		return ms.JoinConferenceAnswer(conf), nil
	case ms.CallbackSessionCompleted:
		if err := s.Delete(keyConference); err != nil {
			return nil, err
		}
		return nil, s.DeleteConnections("waiting")
	}
	return nil, nil // callNotify
}
