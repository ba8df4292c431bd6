package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

const ringback = `{"Type":"S3","BucketName":"b","Key":"ringback.wav"}`

func bridgeAct(extra string) string {
	return act("CallAndBridge", `{"CallerIdNumber":"+15550100","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+15550222"}]`+extra+`}`)
}

func TestBridgeSuccess(t *testing.T) {
	h := newHarness(t, bySeq(actions(bridgeAct(`,"RingbackTone":`+ringback+`,"SipHeaders":{"X-Ref":"42"}`)))).start()
	d := h.dialer.dial(t, 1)
	if d.req.From != "+15550100" || d.req.To != "+15550222" || !equalMaps(d.req.SipHeaders, map[string]string{"X-Ref": "42"}) ||
		d.req.TransactionID != h.call.TransactionID() {
		t.Fatalf("dial request %+v", d.req)
	}
	h.wantOps("answer", "play ringback.wav")
	h.finishPlay(nil) // the tone loops while LEG-B rings
	h.wantOps("answer", "play ringback.wav", "play ringback.wav")
	d.ev.Ringing()
	d.ev.Answered()
	h.settle()
	h.wantOps("answer", "play ringback.wav", "play ringback.wav", "stop play ringback.wav", "bridge dial-1")
	wantLegOps(t, d.leg)
	// No CALL_ANSWERED and no RINGING for a bridged leg.
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	ev := h.last()
	if ev.ActionData.Type != abi.ActionCallAndBridge {
		t.Fatalf("action %s", ev.ActionData.Type)
	}
	if got := participantSummary(ev); !equalStrings(got, []string{"LEG-A leg-1 Inbound Connected", "LEG-B dial-1 Outbound Connected"}) {
		t.Fatalf("participants %q", got)
	}
	b := ev.CallDetails.Participants[1]
	if b.From != "+15550100" || b.To != "+15550222" || !equalMaps(b.SipHeaders, map[string]string{"X-Ref": "42"}) ||
		b.StartTimeInMilliseconds != "1767323045000" {
		t.Fatalf("LEG-B %+v", b)
	}
}

func TestBridgeFailure(t *testing.T) {
	tests := []struct {
		name     string
		extra    string
		fail     func(h *harness, d *fakeDial)
		wantOpsB []string
		wantType abi.ErrorType
		wantMsg  string
	}{
		{
			name:     "busy",
			fail:     func(h *harness, d *fakeDial) { d.ev.Failed(486, nil); h.settle() },
			wantType: abi.CallNotAnswered, wantMsg: "CallAndBridge: call not answered: SIP 486",
		},
		{
			name:     "declined",
			fail:     func(h *harness, d *fakeDial) { d.ev.Failed(603, nil); h.settle() },
			wantType: abi.CallNotAnswered, wantMsg: "CallAndBridge: call not answered: SIP 603",
		},
		{
			name:     "transport error",
			fail:     func(h *harness, d *fakeDial) { d.ev.Failed(0, errors.New("no route")); h.settle() },
			wantType: abi.SystemException, wantMsg: "CallAndBridge: dial +15550222: no route",
		},
		{
			name: "default timeout",
			fail: func(h *harness, d *fakeDial) {
				h.advance(29 * time.Second)
				if n := len(h.plugin.Events()); n != 1 {
					t.Fatalf("%d events before the timeout", n)
				}
				h.advance(time.Second)
			},
			wantOpsB: []string{"cancel"},
			wantType: abi.CallNotAnswered, wantMsg: "CallAndBridge: call not answered within 30 seconds",
		},
		{
			name:     "custom timeout",
			extra:    `,"CallTimeoutSeconds":"5"`,
			fail:     func(h *harness, d *fakeDial) { h.advance(5 * time.Second) },
			wantOpsB: []string{"cancel"},
			wantType: abi.CallNotAnswered, wantMsg: "CallAndBridge: call not answered within 5 seconds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(bridgeAct(`,"RingbackTone":`+ringback+tt.extra), pauseAct(1)))).start()
			d := h.dialer.dial(t, 1)
			tt.fail(h, d)
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			ev := h.last()
			if ad := ev.ActionData; ad.Type != abi.ActionCallAndBridge || ad.ErrorType != tt.wantType || ad.ErrorMessage != tt.wantMsg {
				t.Fatalf("action data %s %q %q", ad.Type, ad.ErrorType, ad.ErrorMessage)
			}
			if got := participantSummary(ev); !equalStrings(got, []string{"LEG-A leg-1 Inbound Connected", "LEG-B dial-1 Outbound Disconnected"}) {
				t.Fatalf("participants %q", got)
			}
			h.wantOps("answer", "play ringback.wav", "stop play ringback.wav")
			wantLegOps(t, d.leg, tt.wantOpsB...)
			d.ev.Answered() // late: ignored
			h.settle()
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			if h.ended() {
				t.Fatal("LEG-A was hung up")
			}
		})
	}
}

func TestBridgeNotPossible(t *testing.T) {
	tests := []struct {
		name    string
		leg     func(*fakeLeg) Leg
		dialer  bool
		dialErr error
		// noConnector: the engine cannot connect legs.
		noConnector bool
		wantMsg     string
	}{
		{name: "no dialer", leg: func(l *fakeLeg) Leg { return l }, wantMsg: "CallAndBridge: this server has no dialer for outbound legs"},
		{name: "no bridging", leg: func(l *fakeLeg) Leg { return l }, dialer: true, noConnector: true, wantMsg: "CallAndBridge: bridging is not supported by this server"},
		{name: "dial error", leg: func(l *fakeLeg) Leg { return l }, dialer: true, dialErr: errors.New("no trunk"), wantMsg: "CallAndBridge: dial +15550222: no trunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(bridgeAct(""))))
			if !tt.dialer {
				h.e.cfg.Dialer = nil
			}
			if tt.noConnector {
				h.e.cfg.Connector = nil
			}
			h.dialer.err = tt.dialErr
			c, err := h.e.Inbound(App{Handler: h.plugin}, tt.leg(h.leg), CallInfo{})
			if err != nil {
				t.Fatal(err)
			}
			h.call = c
			h.settle()
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			ev := h.last()
			if ad := ev.ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != tt.wantMsg {
				t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
			}
			if n := len(ev.CallDetails.Participants); n != 1 {
				t.Fatalf("%d participants", n)
			}
		})
	}
}

func TestBridgeFailsWhenMediaCannotBridge(t *testing.T) {
	h := newHarness(t, bySeq(actions(bridgeAct(""))))
	h.leg.bridgeErr = errors.New("codec mismatch")
	h.start()
	d := h.dialer.dial(t, 1)
	d.ev.Answered()
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	if ad := h.last().ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != "CallAndBridge: bridge: codec mismatch" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
	wantLegOps(t, d.leg, "bye")
}

// bridged answers the bridge, then runs script for later events.
func bridged(t *testing.T, script func(ev *abi.Event) string) (*harness, *fakeDial) {
	t.Helper()
	h := newHarness(t, func(ev *abi.Event) (string, error) {
		if ev.Sequence == 1 {
			return actions(bridgeAct("")), nil
		}
		return script(ev), nil
	}).start()
	d := h.dialer.dial(t, 1)
	d.ev.Answered()
	h.settle()
	return h, d
}

func TestBridgedHangup(t *testing.T) {
	tests := []struct {
		name      string
		first     func(h *harness, d *fakeDial) // one leg hangs up
		firstLeg  string                        // HANGUP's CallId/ParticipantTag
		response  string                        // to that HANGUP
		wantOpsA  []string
		wantOpsB  []string
		secondLeg string
		playsBye  bool
	}{
		{
			name:     "caller hangs up, handler hangs up LEG-B",
			first:    func(h *harness, d *fakeDial) { h.call.RemoteHangup() },
			firstLeg: `"CallId":"leg-1","ParticipantTag":"LEG-A"`,
			response: actions(act("Hangup", `{"CallId":"dial-1","SipResponseCode":"0"}`)),
			wantOpsA: []string{"answer", "bridge dial-1", "unbridge"},
			wantOpsB: []string{"bye"}, secondLeg: `"CallId":"dial-1","ParticipantTag":"LEG-B"`,
		},
		{
			name:     "callee hangs up, handler plays to LEG-A then hangs up",
			first:    func(h *harness, d *fakeDial) { d.ev.Hangup() },
			firstLeg: `"CallId":"dial-1","ParticipantTag":"LEG-B"`,
			response: actions(act("PlayAudio", `{"ParticipantTag":"LEG-A","AudioSource":{"Type":"S3","BucketName":"b","Key":"bye.wav"}}`), act("Hangup", "")),
			wantOpsA: []string{"answer", "bridge dial-1", "unbridge", "play bye.wav", "bye"},
			wantOpsB: nil, secondLeg: `"CallId":"leg-1","ParticipantTag":"LEG-A"`, playsBye: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, d := bridged(t, func(ev *abi.Event) string {
				if ev.InvocationEventType == abi.EventHangup && ev.Sequence == 3 {
					return tt.response
				}
				return noActions
			})
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
			tt.first(h, d)
			h.settle()
			if tt.playsBye {
				h.finishPlay(nil)
			}
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "HANGUP", "HANGUP")
			evs := h.plugin.Events()
			for i, wantLeg := range []string{tt.firstLeg, tt.secondLeg} {
				want := `{` + wantLeg + `,"SipResponseCode":"0"}`
				if got := string(evs[2+i].ActionData.Parameters); got != want {
					t.Fatalf("HANGUP %d parameters %s, want %s", i+1, got, want)
				}
			}
			// In the first HANGUP one leg is gone, in the second both.
			if got := participantSummary(evs[2]); got[0] == got[1] || len(got) != 2 {
				t.Fatalf("participants %q", got)
			}
			for _, p := range evs[3].CallDetails.Participants {
				if p.Status != abi.StatusDisconnected {
					t.Fatalf("participant %s still %s", p.ParticipantTag, p.Status)
				}
			}
			h.wantOps(tt.wantOpsA...)
			wantLegOps(t, d.leg, tt.wantOpsB...)
			if !h.ended() {
				t.Fatal("call still up")
			}
		})
	}
}

func TestBridgedLegStaysUpUntilHandlerHangsUp(t *testing.T) {
	h, d := bridged(t, func(*abi.Event) string { return noActions })
	d.ev.Hangup()
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "HANGUP")
	if h.ended() {
		t.Fatal("LEG-A was hung up")
	}
	h.wantOps("answer", "bridge dial-1", "unbridge")
	// Actions without CallId/ParticipantTag now address LEG-A.
	if err := h.e.Update(h.call.TransactionID(), nil); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.e.Hangup(h.call.TransactionID()); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.wantOps("answer", "bridge dial-1", "unbridge", "bye")
	if !h.ended() {
		t.Fatal("call still up")
	}
}

func TestActionsAddressTheirLeg(t *testing.T) {
	h, d := bridged(t, func(ev *abi.Event) string {
		if ev.Sequence == 2 {
			return actions(
				act("PlayAudio", `{"ParticipantTag":"LEG-B","AudioSource":{"Type":"S3","BucketName":"b","Key":"b.wav"}}`),
				act("SendDigits", `{"CallId":"dial-1","Digits":"9"}`),
				receiveDigits(`^\d#$`), // no leg given: LEG-A
				act("PlayAudio", `{"CallId":"leg-1","PlaybackTerminators":["#"],"AudioSource":{"Type":"S3","BucketName":"b","Key":"a.wav"}}`),
			)
		}
		return noActions
	})
	wantLegOps(t, d.leg, "play b.wav")
	d.leg.lastPlay(t).done(nil)
	h.settle()
	wantLegOps(t, d.leg, "play b.wav", "send 9 250ms")
	d.leg.mu.Lock()
	send := d.leg.sends[0]
	d.leg.mu.Unlock()
	send.done(nil)
	h.settle()
	h.wantOps("answer", "bridge dial-1", "play a.wav")
	// LEG-B's '#' is not LEG-A's terminator, nor does it reach LEG-A's listener.
	d.ev.Digit('5')
	d.ev.Digit('#')
	h.settle()
	h.advance(10 * time.Second)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	h.press("#") // LEG-A's terminator
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL")
	h.press("5#")
	h.advance(10 * time.Second)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL", "DIGITS_RECEIVED")
	if got := h.last().ActionData.ReceivedDigits; got != "5#" {
		t.Fatalf("digits %q", got)
	}
}

func TestCallerHangsUpWhileLegBRings(t *testing.T) {
	h := newHarness(t, bySeq(actions(bridgeAct(`,"RingbackTone":`+ringback)))).start()
	d := h.dialer.dial(t, 1)
	h.call.RemoteHangup()
	h.settle()
	wantLegOps(t, d.leg, "cancel")
	h.wantOps("answer", "play ringback.wav", "stop play ringback.wav")
	h.wantTypes("NEW_INBOUND_CALL", "HANGUP")
	if !h.ended() {
		t.Fatal("call still up")
	}
	if n := h.clock.Pending(); n != 0 {
		t.Fatalf("%d timers pending", n)
	}
}

func TestSecondBridgeAfterFailure(t *testing.T) {
	h := newHarness(t, bySeq(actions(bridgeAct("")), actions(bridgeAct("")))).start()
	h.dialer.dial(t, 1).ev.Failed(486, nil)
	h.settle()
	d := h.dialer.dial(t, 2)
	d.ev.Answered()
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED", "ACTION_SUCCESSFUL")
	if got := participantSummary(h.last()); !equalStrings(got, []string{"LEG-A leg-1 Inbound Connected", "LEG-B dial-2 Outbound Connected"}) {
		t.Fatalf("participants %q", got)
	}
}

func TestThirdLegRefused(t *testing.T) {
	h, _ := bridged(t, func(ev *abi.Event) string {
		if ev.Sequence == 2 {
			return actions(bridgeAct(""))
		}
		return noActions
	})
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_FAILED")
	if ad := h.last().ActionData; ad.ErrorType != abi.InvalidActionParameter || ad.ErrorMessage != "CallAndBridge: the call already has two legs" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
	if n := h.dialer.count(); n != 1 {
		t.Fatalf("%d dials", n)
	}
}
