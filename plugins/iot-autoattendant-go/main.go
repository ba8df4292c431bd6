// Command iot-autoattendant-go is the iotcomms seed's auto-attendant: the
// caller meets an IVR that says "Press 1 for sales and 2 for support",
// collects one digit, says who the caller will be connected to and hangs
// up; the application then calls the department and, when either side
// hangs up, drops the other. What it remembers between callbacks (the
// department to call, how often the menu played) is in the session's part
// of the key-value store, so any instance can serve any callback.
package main

import (
	"strconv"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// The departments: numbers, dialled through the server's trunks.
const (
	sales   = "+15550201"
	support = "+15550202"
)

// What the IVR says (the server's text to speech).
const (
	menuText     = "Welcome. Press 1 for sales and 2 for support."
	notAChoice   = "Sorry, that is not a choice. "
	salesText    = "Thank you, you will get connected to sales."
	supportText  = "Thank you, you will get connected to support."
	goodbyeText  = "Goodbye."
	noAnswerText = "Sorry, nobody can take your call now. Goodbye."
)

// maxMenus is how often the menu plays before the IVR gives up.
const maxMenus = 3

// Session state (ms.Session keys).
const (
	keyDest   = "dest"   // the department to call when the IVR has hung up
	keyMenus  = "menus"  // how often the menu played
	keyFailed = "failed" // the department did not answer: the IVR says so
)

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	s := ms.Session(r.SessionID)
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.IvrAnswer(), nil
	case ms.CallbackGetIvrCommand:
		return command(r, s)
	case ms.CallbackCallEvent:
		return event(r, s)
	case ms.CallbackSessionCompleted:
		return nil, s.Delete(keyDest, keyMenus, keyFailed)
	}
	return nil, nil // callNotify, callAnswered: nothing to decide
}

// command is the IVR's next command: the menu, the connection phrase for
// a choice, or goodbye.
func command(r *ms.IotRequest, s ms.SessionStore) (ms.IotReply, error) {
	failed, err := s.Get(keyFailed)
	if err != nil {
		return nil, err
	}
	if failed != "" {
		return ms.Ivr().Say(noAnswerText).ThenHangup(), s.Delete(keyFailed)
	}
	switch r.Digits() {
	case "1":
		return ms.Ivr().Say(salesText).ThenHangup(), s.Set(keyDest, sales)
	case "2":
		return ms.Ivr().Say(supportText).ThenHangup(), s.Set(keyDest, support)
	}
	v, err := s.Get(keyMenus)
	if err != nil {
		return nil, err
	}
	menus, _ := strconv.Atoi(v)
	if menus >= maxMenus {
		return ms.Ivr().Say(goodbyeText).ThenHangup(), nil
	}
	if err := s.Set(keyMenus, strconv.Itoa(menus+1)); err != nil {
		return nil, err
	}
	text := menuText
	if r.Digits() != "" {
		text = notAChoice + menuText
	}
	return ms.Ivr().Say(text).CollectDigits(1), nil
}

// event decides about the participant a callEvent is about.
func event(r *ms.IotRequest, s ms.SessionStore) (ms.IotReply, error) {
	switch r.Event {
	case ms.EventCalledPartyDrop:
		// The IVR hung up (or the department did): call the department
		// chosen, once.
		dest, err := s.Get(keyDest)
		if err != nil || dest == "" {
			return ms.DropAnswer(), err
		}
		return ms.CallAnswer(dest), s.Delete(keyDest)
	case ms.EventCallFailed:
		// The department did not answer: an IVR tells the caller.
		ms.Log(ms.LevelInfo, "department did not answer: SIP "+strconv.Itoa(r.Code))
		return ms.IvrAnswer(), s.Set(keyFailed, "1")
	}
	return ms.DropAnswer(), nil // the other side hung up
}
