package server

// JoinChimeMeeting with real legs: two callers join one room through the
// media mixer and hear each other; muting one (ModifyChimeMeetingAttendees
// from an update) silences it for the other.

import (
	"context"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
)

// countTone counts the packets of pkts that carry freq.
func countTone(pkts []rtpPacket, freq float64) int {
	n := 0
	for _, p := range pkts {
		if frameTone(p, freq) {
			n++
		}
	}
	return n
}

func TestConferenceRoomRealLegs(t *testing.T) {
	const number = "+15550180"
	sc := newScript(func(ev *abi.Event) string {
		switch ev.InvocationEventType {
		case abi.EventNewInboundCall:
			return actions(`{"Type":"JoinChimeMeeting","Parameters":{"JoinToken":"room-1","MeetingId":"m1"}}`)
		case abi.EventCallUpdateRequested:
			return actions(`{"Type":"ModifyChimeMeetingAttendees","Parameters":{"MeetingId":"m1","Operation":"Mute","AttendeeList":["` +
				ev.CallDetails.Participants[0].CallID + `"]}}`)
		}
		return ""
	})
	ts := startTestServer(t, nil, []config.Application{webhookApp(t, "conf", number, sc.handle)})
	peerA, remoteA := loopbackCall(t, ts, number)
	txA := sc.waitFor(t, abi.EventActionSuccessful, abi.ActionJoinChimeMeeting).CallDetails.TransactionID
	peerB, remoteB := loopbackCall(t, ts, number)
	sc.waitFor(t, abi.EventActionSuccessful, abi.ActionJoinChimeMeeting)
	peerA.send(remoteA, tone(toneX, time.Second, 8000))
	peerB.send(remoteB, tone(toneY, time.Second, 8000))

	time.Sleep(1500 * time.Millisecond)
	a, b := peerA.Received(), peerB.Received()
	if n := countTone(a, toneY); n < 25 {
		t.Errorf("A heard B's tone in %d packets, want ≥ 25 of ~75", n)
	}
	if n := countTone(b, toneX); n < 25 {
		t.Errorf("B heard A's tone in %d packets, want ≥ 25 of ~75", n)
	}
	if n := countTone(a, toneX); n != 0 {
		t.Errorf("A heard itself in %d packets", n)
	}

	// Mute A: B must stop hearing X.
	if err := ts.CallsAPI().UpdateCall(context.Background(), "demo", "conf", txA, map[string]string{"op": "mute"}); err != nil {
		t.Fatalf("UpdateCall: %v", err)
	}
	sc.waitFor(t, abi.EventActionSuccessful, abi.ActionModifyChimeMeetingAttendees)
	time.Sleep(200 * time.Millisecond) // frames in flight and in B's jitter buffer
	from := len(peerB.Received())
	time.Sleep(time.Second)
	after := peerB.Received()[from:]
	if n := countTone(after, toneX); n != 0 {
		t.Errorf("B still heard muted A in %d of %d packets", n, len(after))
	}
	if len(after) < 25 {
		t.Errorf("B received %d packets in 1 s after the mute, want the stream to go on", len(after))
	}
	if n := countTone(peerA.Received()[len(a):], toneY); n < 25 {
		t.Errorf("muted A no longer hears B (%d packets of Y)", n)
	}
}
