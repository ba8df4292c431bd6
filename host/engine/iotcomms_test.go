package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// fakeIot is an iotcomms application: it answers each callback from a
// script and keeps every request.
type fakeIot struct {
	mu     sync.Mutex
	reqs   []*abi.IotRequest
	script func(r *abi.IotRequest) string
}

func (f *fakeIot) Invoke(_ context.Context, b []byte) ([]byte, error) {
	r, err := abi.ParseIotRequest(b)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
	ans := f.script(r)
	if ans == "ERROR" {
		return nil, errPluginTrap
	}
	return []byte(ans), nil
}

func (f *fakeIot) requests() []*abi.IotRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*abi.IotRequest(nil), f.reqs...)
}

// flow is "callback:event" for each request, comma-separated.
func (f *fakeIot) flow() string {
	var out []string
	for _, r := range f.requests() {
		s := string(r.Callback)
		if r.Event != "" {
			s += ":" + r.Event
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// last returns the last request of callback cb.
func (f *fakeIot) last(t *testing.T, cb abi.Callback) *abi.IotRequest {
	t.Helper()
	rs := f.requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Callback == cb {
			return rs[i]
		}
	}
	t.Fatalf("no %s request in %s", cb, f.flow())
	return nil
}

type iotHarness struct {
	*harness
	app  *fakeIot
	conn *fakeConnector
}

// newIot starts an inbound iotcomms call from leg-1 to +15550100.
func newIot(t *testing.T, script func(r *abi.IotRequest) string) *iotHarness {
	t.Helper()
	h := newHarness(t, nil)
	conn := &fakeConnector{}
	h.e.cfg.Connector = conn
	app := &fakeIot{script: script}
	c, err := h.e.Inbound(App{TenantID: "tenant-1", SipMediaApplicationID: "iot-app", Handler: app, Model: ModelIotcomms},
		h.leg, CallInfo{From: "+15550001", To: "+15550100"})
	if err != nil {
		t.Fatal(err)
	}
	h.call = c
	c.settle()
	return &iotHarness{harness: h, app: app, conn: conn}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The seed's auto-attendant: greet and collect one digit, say the
// connection phrase and hang the IVR up, call the department; the caller
// hangs up, the application drops the callee.
func TestIotAutoAttendant(t *testing.T) {
	var h *iotHarness
	h = newIot(t, func(r *abi.IotRequest) string {
		switch r.Callback {
		case abi.CallbackNewCall:
			return `{"action":"ivr"}`
		case abi.CallbackGetIvrCommand:
			if r.DtmfParams == nil {
				return `{"dtmf":{"maxDigits":1},"phrases":[{"format":"file","fileName":"welcome.wav"}]}`
			}
			return `{"phrases":[{"format":"file","fileName":"connecting.wav"}],"hangup":true}`
		case abi.CallbackCallEvent:
			if r.Event == abi.EventCalledPartyDrop {
				return `{"action":"call","destAddr":"+15550202"}`
			}
			return `{"action":"drop"}`
		}
		return ""
	})
	h.wantOps("answer", "play welcome.wav")
	h.press("2")
	dt := h.app.last(t, abi.CallbackGetIvrCommand).DtmfParams
	if dt == nil || dt.DtmfMatch != "2" || dt.Reason != abi.DtmfMaxDigits {
		t.Fatalf("dtmfParams %+v", dt)
	}
	h.wantOps("answer", "play welcome.wav", "stop play welcome.wav", "play connecting.wav")
	h.finishPlay(nil) // the connection phrase ends: the IVR leaves
	d := h.dialer.dial(t, 1)
	if d.req.To != "+15550202" || d.req.From != "+15550100" {
		t.Fatalf("dialled %+v", d.req)
	}
	d.ev.Ringing()
	d.ev.Answered()
	h.settle()
	h.wantOps("answer", "play welcome.wav", "stop play welcome.wav", "play connecting.wav", "bridge dial-1")
	h.call.RemoteHangup() // the caller hangs up
	h.settle()
	want := "newCall,callAnswered,getIvrCommand,getIvrCommand,callEvent:calledPartyDrop,callNotify:ringing,callAnswered,callEvent:callingPartyDrop,sessionCompleted"
	if got := h.app.flow(); got != want {
		t.Fatalf("callbacks\n got %s\nwant %s", got, want)
	}
	wantLegOps(t, d.leg, "bye")
	if !h.ended() {
		t.Fatal("the session did not end")
	}
	// The ids hang together: the second callAnswered connects the caller
	// and the callee the callEvent was about.
	ans := h.app.requests()[6]
	ev := h.app.requests()[7]
	if ans.CallerParticipantID == "" || ans.CalleeParticipantID != ev.ParticipantID || ans.ConnectionID == "" ||
		!strings.HasPrefix(ans.ConnectionID, ans.SessionID+"/") || ans.ReplyID == "" {
		t.Fatalf("callAnswered %+v, callEvent %+v", ans, ev)
	}
}

// Attended transfer: A talks to B; the connection is split, A is parked
// with hold music, B calls C; then B and C are split, B dropped and C
// connected to A (the music stops).
func TestIotAttendedTransfer(t *testing.T) {
	var a string // A's participant id
	h := newIot(t, func(r *abi.IotRequest) string {
		switch {
		case r.Callback == abi.CallbackNewCall:
			a = r.ParticipantID
			return `{"action":"call","destAddr":"+15550202"}`
		case r.Callback == abi.CallbackCallEvent && r.Event == abi.EventCallerConnectionSplit && r.ParticipantID == a:
			return `{"action":"ivr"}`
		case r.Callback == abi.CallbackGetIvrCommand:
			// The seed's park command: hold music, no wait given. The IVR
			// parks (asks no more) until split or interrupted.
			return `{"backgroundPrompt":{"format":"file","fileName":"holdmusic.wav","repeatPause":0.5},"hangup":false}`
		case r.Callback == abi.CallbackCallEvent && r.Event == abi.EventCalleeConnectionSplit && r.User == "+15550202":
			return `{"action":"call","destAddr":"+15550203","fromAddr":"+15550202"}`
		case r.Callback == abi.CallbackCallEvent && r.Event == abi.EventCallerConnectionSplit:
			return `{"action":"drop"}` // B leaves
		case r.Callback == abi.CallbackCallEvent && r.Event == abi.EventCalleeConnectionSplit:
			return js(abi.IotAnswer{Action: abi.IotConnect, ParticipantID: a, ReplyID: r.ReplyID}) // C to A
		}
		return ""
	})
	b := h.dialer.dial(t, 1)
	b.ev.Answered()
	h.settle()
	ab := h.app.last(t, abi.CallbackCallAnswered)
	if err := h.e.IotSplitConnection("tenant-1", ab.ConnectionID, ab.ReplyID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.wantOps("answer", "bridge dial-1", "unbridge", "play holdmusic.wav")
	for _, r := range h.app.requests() {
		if r.Callback == abi.CallbackCallEvent && r.ConnectionID != ab.ConnectionID {
			t.Fatalf("split callEvent names connection %q, want the split one %q", r.ConnectionID, ab.ConnectionID)
		}
	}
	c := h.dialer.dial(t, 2)
	if c.req.To != "+15550203" || c.req.From != "+15550202" {
		t.Fatalf("inquiry call %+v", c.req)
	}
	c.ev.Answered()
	h.settle()
	bc := h.app.last(t, abi.CallbackCallAnswered)
	if err := h.e.IotSplitConnection("tenant-1", bc.ConnectionID, "wrong"); err == nil {
		t.Fatal("a split with another connection's replyId was accepted")
	}
	if err := h.e.IotSplitConnection("tenant-2", bc.ConnectionID, bc.ReplyID); err == nil {
		t.Fatal("another tenant split the connection")
	}
	if err := h.e.IotSplitConnection("tenant-1", bc.ConnectionID, bc.ReplyID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	wantLegOps(t, b.leg, "bridge dial-2", "unbridge", "bye")
	// A: the hold music stops; C (the caller side of the answer) and A
	// are bridged.
	h.wantOps("answer", "bridge dial-1", "unbridge", "play holdmusic.wav", "stop play holdmusic.wav")
	wantLegOps(t, c.leg, "bridge leg-1")
	ac := h.app.last(t, abi.CallbackCallAnswered)
	if ac.CallerParticipantID != c2id(h, c) || ac.CalleeParticipantID != a {
		t.Fatalf("final connection %+v (C %s, A %s)", ac, c2id(h, c), a)
	}
	want := "newCall,callAnswered,callEvent:callerConnectionSplit,callAnswered,getIvrCommand,callEvent:calleeConnectionSplit," +
		"callAnswered,callEvent:callerConnectionSplit,callEvent:calleeConnectionSplit,callAnswered"
	if got := h.app.flow(); got != want {
		t.Fatalf("callbacks\n got %s\nwant %s", got, want)
	}
}

// c2id is the iotcomms id of a dialled participant, from the callAnswered
// that connected it.
func c2id(h *iotHarness, d *fakeDial) string {
	for _, r := range h.app.requests() {
		if r.Callback == abi.CallbackCallAnswered && r.User == d.req.To {
			return r.CalleeParticipantID
		}
	}
	return ""
}

// A conference from existing legs: A with B, B parked, A calls C, then A,
// C and B join a conference connection.
func TestIotConference(t *testing.T) {
	var conf string
	var h *iotHarness
	h = newIot(t, func(r *abi.IotRequest) string {
		switch {
		case r.Callback == abi.CallbackNewCall:
			return `{"action":"call","destAddr":"+15550202"}`
		case r.Callback == abi.CallbackCallEvent && r.Event == abi.EventCalleeConnectionSplit && r.User == "+15550202" && conf == "":
			return `{"action":"ivr"}` // B parked
		case r.Callback == abi.CallbackGetIvrCommand:
			return `{"backgroundPrompt":{"format":"file","fileName":"holdmusic.wav"},"getIVRCommandAfter":600}`
		case r.Callback == abi.CallbackCallEvent && r.Event == abi.EventCallerConnectionSplit && conf == "":
			return `{"action":"call","destAddr":"+15550203"}`
		case r.Callback == abi.CallbackCallEvent && conf != "" && r.User == "+15550203":
			// Without a connectionId: the session's only conference.
			return `{"action":"joinconferenceconnection"}`
		case r.Callback == abi.CallbackCallEvent && conf != "":
			return js(abi.IotAnswer{Action: abi.IotJoinConferenceConnection, ConnectionID: conf})
		}
		return ""
	})
	h.dialer.dial(t, 1).ev.Answered()
	h.settle()
	ab := h.app.last(t, abi.CallbackCallAnswered)
	if err := h.e.IotSplitConnection("tenant-1", ab.ConnectionID, ab.ReplyID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.dialer.dial(t, 2).ev.Answered()
	h.settle()
	ac := h.app.last(t, abi.CallbackCallAnswered)
	id, err := h.e.IotCreateConference("tenant-1", ac.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	conf = id
	if err := h.e.IotSplitConnection("tenant-1", ac.ConnectionID, ac.ReplyID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	// Find B's parking connection: the callAnswered whose caller is B.
	var park *abi.IotRequest
	for _, r := range h.app.requests() {
		if r.Callback == abi.CallbackCallAnswered && r.CallerParticipantID == ab.CalleeParticipantID {
			park = r
		}
	}
	if park == nil {
		t.Fatalf("no parking connection for B in %s", h.app.flow())
	}
	if err := h.e.IotSplitConnection("tenant-1", park.ConnectionID, park.ReplyID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	var k *connection
	h.call.post(func() { k = h.call.model.(*iotModel).conns[conf] })
	h.settle()
	if k == nil || len(k.members) != 3 {
		t.Fatalf("conference %v, want A, B and C in it\n%s", k, h.app.flow())
	}
	fk := k.media.(*confHandle).sc.media.(*fakeConn)
	if !fk.conf || len(fk.members) != 3 {
		t.Fatalf("conference media %+v", fk.members)
	}
	if got := h.conn.Ops(); !strings.Contains(strings.Join(got, " "), "new tenant-1/"+conf) {
		t.Fatalf("connector ops %q", got)
	}
}

// Recording and monitoring from newCall: the connection is recorded from
// when it is up; a monitor is dialled after the first callAnswered and
// listens only; recordingReady follows sessionCompleted.
func TestIotRecordingAndMonitor(t *testing.T) {
	h := newIot(t, func(r *abi.IotRequest) string {
		switch r.Callback {
		case abi.CallbackNewCall:
			return `{"action":"call","destAddr":"+15550202","callRecording":true,"filename":"call-42.wav","monitorDestAddr":"+15550299"}`
		case abi.CallbackCallEvent:
			return `{"action":"drop"}`
		}
		return ""
	})
	b := h.dialer.dial(t, 1)
	b.ev.Answered()
	h.settle()
	mon := h.dialer.dial(t, 2)
	if mon.req.To != "+15550299" {
		t.Fatalf("monitor dialled %+v", mon.req)
	}
	mon.ev.Answered()
	h.settle()
	h.wantOps("answer", "bridge dial-1", "callrec BOTH promptfiles call-42.wav")
	var k *connection
	h.call.post(func() { k = h.call.legs[0].conn })
	h.settle()
	if fk := k.media.(*fakeConn); len(fk.members) != 3 || fk.members[2].role != RoleListen {
		t.Fatalf("media with the monitor %+v", fk.members)
	}
	b.ev.Hangup()
	h.settle()
	if !h.ended() {
		t.Fatalf("session not ended: %s", h.app.flow())
	}
	wantLegOps(t, mon.leg, "bye")
	want := "newCall,callAnswered,callEvent:calledPartyDrop,sessionCompleted,recordingReady"
	if got := h.app.flow(); got != want {
		t.Fatalf("callbacks\n got %s\nwant %s", got, want)
	}
	if rr := h.app.last(t, abi.CallbackRecordingReady); rr.FileName != "call-42.wav" || rr.Location != "/promptfile/call-42.wav" {
		t.Fatalf("recordingReady %+v", rr)
	}
}

// placeivrcall: the device is dialled, rings, answers and meets an IVR;
// the IVR command calls the alarm centre; the device hangs up and the
// application drops the centre.
func TestIotPlaceIvrCall(t *testing.T) {
	h := newHarness(t, nil)
	h.e.cfg.Connector = &fakeConnector{}
	app := &fakeIot{script: func(r *abi.IotRequest) string {
		switch r.Callback {
		case abi.CallbackGetIvrCommand:
			return `{"action":"call","destAddr":"+15550911"}`
		case abi.CallbackCallEvent:
			return `{"action":"drop"}`
		}
		return ""
	}}
	sid, pid, err := h.e.PlaceIvrCall(App{TenantID: "tenant-1", SipMediaApplicationID: "alarm", Handler: app},
		PlaceIvrCallRequest{DestAddr: "+15550777", FromAddr: "+15550100"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pid, sid+"/") {
		t.Fatalf("participant %s of session %s", pid, sid)
	}
	dev := h.dialer.dial(t, 1)
	dev.ev.Ringing()
	dev.ev.Answered()
	time.Sleep(10 * time.Millisecond)
	waitCallbacks(t, app, 4)
	arc := h.dialer.dial(t, 2)
	if arc.req.To != "+15550911" {
		t.Fatalf("alarm centre dialled %+v", arc.req)
	}
	arc.ev.Answered()
	waitCallbacks(t, app, 5)
	dev.ev.Hangup()
	waitCallbacks(t, app, 7)
	want := "newCall,callNotify:ringing,callAnswered,getIvrCommand,callAnswered,callEvent:callingPartyDrop,sessionCompleted"
	if got := app.flow(); got != want {
		t.Fatalf("callbacks\n got %s\nwant %s", got, want)
	}
	wantLegOps(t, arc.leg, "bye")
	if nc := app.requests()[0]; nc.Direction != "outbound" || nc.To != "+15550777" || nc.ParticipantID != pid {
		t.Fatalf("newCall %+v", nc)
	}
}

func waitCallbacks(t *testing.T, app *fakeIot, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(app.requests()) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks, want %d: %s", len(app.requests()), n, app.flow())
		}
	}
}

// A bad answer to callEvent (unknown action, a participant of another
// session, malformed JSON, a failed invocation) drops the participant it
// was about, with a log line; the session then completes.
func TestIotBadAnswers(t *testing.T) {
	for _, bad := range []string{`{"action":"park"}`, `{"action":"connect","participantId":"other-session/p1"}`, `not json`, "ERROR", ``} {
		t.Run(fmt.Sprintf("%.20s", bad), func(t *testing.T) {
			h := newIot(t, func(r *abi.IotRequest) string {
				switch r.Callback {
				case abi.CallbackNewCall:
					return `{"action":"call","destAddr":"+15550202"}`
				case abi.CallbackCallEvent:
					return bad
				}
				return ""
			})
			d := h.dialer.dial(t, 1)
			d.ev.Answered()
			h.settle()
			d.ev.Hangup() // the callee leaves: callEvent for the caller
			h.settle()
			if !h.ended() {
				t.Fatalf("the caller was kept: %s", h.app.flow())
			}
			h.wantOps("answer", "bridge dial-1", "unbridge", "bye")
			if got := h.app.flow(); !strings.HasSuffix(got, "callEvent:calledPartyDrop,sessionCompleted") {
				t.Fatalf("callbacks %s", got)
			}
		})
	}
	// newCall: a bad answer rejects the call with 480.
	h := newIot(t, func(r *abi.IotRequest) string { return `{"action":"connect","participantId":"x"}` })
	h.wantOps("reject 480")
}

// A parked IVR (a command with nothing to do and no wait) asks for no
// command until /interruptivrcommand, whose getIvrCommand says
// "interrupted"; an IVR waiting getIVRCommandAfter is interrupted too.
func TestIotParkAndInterrupt(t *testing.T) {
	n := 0
	h := newIot(t, func(r *abi.IotRequest) string {
		switch r.Callback {
		case abi.CallbackNewCall:
			return `{"action":"ivr"}`
		case abi.CallbackGetIvrCommand:
			n++
			switch n {
			case 1:
				return `{"backgroundPrompt":{"format":"file","fileName":"holdmusic.wav"}}`
			case 2:
				return `{"getIVRCommandAfter":3000}`
			}
			return `{"hangup":true}`
		}
		return ""
	})
	h.settle()
	ivr := h.app.last(t, abi.CallbackGetIvrCommand).ParticipantID
	if got := h.app.flow(); got != "newCall,callAnswered,getIvrCommand" {
		t.Fatalf("callbacks %s: the parked IVR asked again", got)
	}
	for i := 2; i <= 3; i++ {
		if err := h.e.IotInterruptIvrCommand("tenant-1", ivr); err != nil {
			t.Fatal(err)
		}
		h.settle()
		r := h.app.last(t, abi.CallbackGetIvrCommand)
		if n != i || r.DtmfParams == nil || r.DtmfParams.Reason != abi.DtmfInterrupted {
			t.Fatalf("after interrupt %d: %d commands asked, last %+v", i-1, n, r)
		}
	}
	if err := h.e.IotInterruptIvrCommand("tenant-2", ivr); err == nil {
		t.Fatal("another tenant interrupted the IVR")
	}
}

// An awstts phrase is spoken to the IVR's caller. A command that fails
// (here: the caller's leg cannot speak) is reported in the next
// getIvrCommand's previousCommandFailed; after three failures in a row the
// IVR leaves and its caller gets callEvent calledPartyDrop: an
// application that repeats a failing command does not loop.
func TestIotSpokenPhrase(t *testing.T) {
	for _, speaks := range []bool{true, false} {
		t.Run(fmt.Sprint("speaks=", speaks), func(t *testing.T) {
			h := newHarness(t, nil)
			h.e.cfg.Connector = &fakeConnector{}
			app := &fakeIot{script: func(r *abi.IotRequest) string {
				switch r.Callback {
				case abi.CallbackNewCall:
					return `{"action":"ivr"}`
				case abi.CallbackGetIvrCommand:
					return `{"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome","VoiceId":"Joanna"}}],"dtmf":{"maxDigits":1}}`
				case abi.CallbackCallEvent:
					return `{"action":"drop"}`
				}
				return ""
			}}
			var leg Leg = plainLeg{h.leg}
			if speaks {
				leg = &speakingLeg{fakeLeg: h.leg}
			}
			c, err := h.e.Inbound(App{TenantID: "tenant-1", Handler: app, Model: ModelIotcomms}, leg, CallInfo{From: "+15550001", To: "+15550100"})
			if err != nil {
				t.Fatal(err)
			}
			h.call = c
			h.settle()
			if speaks {
				h.wantOps("answer", "speak /Joanna/ Welcome")
				return
			}
			if got, want := app.flow(), "newCall,callAnswered,getIvrCommand,getIvrCommand,getIvrCommand,callEvent:calledPartyDrop,sessionCompleted"; got != want {
				t.Fatalf("callbacks %s, want %s", got, want)
			}
			rs := app.requests()
			if rs[2].PreviousCommandFailed != "" || rs[3].PreviousCommandFailed != "speech is not supported by this leg" {
				t.Fatalf("previousCommandFailed %q then %q", rs[2].PreviousCommandFailed, rs[3].PreviousCommandFailed)
			}
		})
	}
}

// Callers in sessions of their own meet in one conference connection:
// each session's participant joins it with joinconferenceconnection and
// the conference's id; the media stays open while any session holds it.
// Another tenant's session cannot join.
func TestIotConferenceAcrossSessions(t *testing.T) {
	var conf string
	var mu sync.Mutex
	script := func(r *abi.IotRequest) string {
		switch r.Callback {
		case abi.CallbackNewCall:
			return `{"action":"ivr"}`
		case abi.CallbackGetIvrCommand:
			return `{}` // parked, silent
		case abi.CallbackCallEvent:
			if r.Event == abi.EventCallerConnectionSplit {
				mu.Lock()
				defer mu.Unlock()
				return js(abi.IotAnswer{Action: abi.IotJoinConferenceConnection, ConnectionID: conf})
			}
			return `{"action":"drop"}`
		}
		return ""
	}
	h := newIot(t, script)
	conn := h.conn
	start := func(tenant, leg string) (*Call, *fakeIot) {
		app := &fakeIot{script: script}
		c, err := h.e.Inbound(App{TenantID: tenant, SipMediaApplicationID: "iot-app", Handler: app, Model: ModelIotcomms},
			newFakeLeg(leg), CallInfo{From: "+1555000" + leg[len(leg)-1:], To: "+15550100"})
		if err != nil {
			t.Fatal(err)
		}
		c.settle()
		return c, app
	}
	c2, app2 := start("tenant-1", "leg-2")
	c3, app3 := start("tenant-2", "leg-3")
	id, err := h.e.IotCreateConference("tenant-1", h.call.TransactionID())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	conf = id
	mu.Unlock()
	for _, s := range []struct {
		c   *Call
		app *fakeIot
		ten string
	}{{h.call, h.app, "tenant-1"}, {c2, app2, "tenant-1"}, {c3, app3, "tenant-2"}} {
		park := s.app.last(t, abi.CallbackCallAnswered)
		if err := h.e.IotSplitConnection(s.ten, park.ConnectionID, park.ReplyID); err != nil {
			t.Fatal(err)
		}
		s.c.settle()
	}
	var fk *fakeConn
	h.call.post(func() { fk = h.call.model.(*iotModel).conns[conf].media.(*confHandle).sc.media.(*fakeConn) })
	h.settle()
	if got := strings.Join(fk.memberIDs(), " "); got != "leg-1 leg-2" {
		t.Fatalf("conference members %q, want the callers of tenant-1's two sessions", got)
	}
	// Tenant-2's caller was dropped, not joined.
	if got := app3.flow(); !strings.HasSuffix(got, "callEvent:callerConnectionSplit,sessionCompleted") {
		t.Fatalf("tenant-2's session: %s", got)
	}
	// The creating session ends: the conference goes on for the other.
	h.call.RemoteHangup()
	h.settle()
	if got := strings.Join(fk.memberIDs(), " "); got != "leg-2" {
		t.Fatalf("after the first session ended: members %q", got)
	}
	if strings.Contains(strings.Join(conn.Ops(), " "), "close tenant-1/"+conf) {
		t.Fatal("the conference closed while a session was still in it")
	}
	c2.RemoteHangup()
	c2.settle()
	if !strings.Contains(strings.Join(conn.Ops(), " "), "close tenant-1/"+conf) {
		t.Fatalf("the conference did not close with its last session: %q", conn.Ops())
	}
}
