package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// autoLeg completes playbacks and digit sending by itself, from other
// goroutines, like a real media stack.
type autoLeg struct {
	*fakeLeg
}

func (l autoLeg) Play(src abi.AudioSource, done func(error)) (func(), error) {
	stop, err := l.fakeLeg.Play(src, done)
	if err == nil {
		go done(nil)
	}
	return stop, err
}

func (l autoLeg) SendDigits(digits string, tone time.Duration, done func(error)) error {
	err := l.fakeLeg.SendDigits(digits, tone, done)
	go done(nil)
	return err
}

// hammerScript plays and sends digits until updated, then hangs up.
func hammerScript(ev *abi.Event) (string, error) {
	switch ev.InvocationEventType {
	case abi.EventNewInboundCall:
		return actions(receiveDigits(`^\d#$`), act("PlayAudio", hello)), nil
	case abi.EventActionSuccessful, abi.EventDigitsReceived:
		return actions(act("SendDigits", `{"CallId":"`+ev.CallDetails.Participants[0].CallID+`","Digits":"1"}`), act("PlayAudio", hello)), nil
	case abi.EventCallUpdateRequested:
		return actions(act("Hangup", `{"SipResponseCode":0}`)), nil
	}
	return noActions, nil
}

func TestHammer(t *testing.T) {
	const calls = 200
	e := New(Config{Clock: RealClock(), Limits: Limits{MaxInvocations: 100000}})
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	type one struct {
		call   *Call
		leg    *fakeLeg
		plugin *fakePlugin
	}
	all := make([]one, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			leg := newFakeLeg(fmt.Sprintf("leg-%d", i))
			p := &fakePlugin{script: hammerScript}
			c, err := e.Inbound(App{TenantID: "t", Handler: p}, autoLeg{leg}, CallInfo{From: "+1", To: "+2"})
			if err != nil {
				t.Error(err)
				return
			}
			all[i] = one{call: c, leg: leg, plugin: p}
			for _, d := range "5#12" {
				c.Digit(d)
			}
			_ = e.Calls()
			if err := e.Update(c.TransactionID(), map[string]string{"n": fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, o := range all {
		if o.call == nil {
			continue
		}
		select {
		case <-o.call.Done():
		case <-time.After(30 * time.Second):
			t.Fatalf("call %d did not end; events %q", i, o.plugin.Types())
		}
		evs := o.plugin.Events()
		for j, ev := range evs {
			if ev.Sequence != j+1 {
				t.Fatalf("call %d: event %d has Sequence %d", i, j, ev.Sequence)
			}
			if ev.CallDetails.TransactionID != o.call.TransactionID() {
				t.Fatalf("call %d: event for transaction %s", i, ev.CallDetails.TransactionID)
			}
		}
		if last := evs[len(evs)-1]; last.InvocationEventType != abi.EventHangup {
			t.Fatalf("call %d: last event %s", i, last.InvocationEventType)
		}
		ops := o.leg.Ops()
		if ops[len(ops)-1] != "bye" {
			t.Fatalf("call %d: last op %q", i, ops[len(ops)-1])
		}
	}
	if n := len(e.Calls()); n != 0 {
		t.Fatalf("%d calls left", n)
	}
}

// BenchmarkInvocations measures the engine's own cost per plugin
// invocation: event encoding, response parsing and validation, running one
// action and the inbox round trip, with a trivial in-process plugin.
//
//	go test -run '^$' -bench Invocations ./host/engine/
func BenchmarkInvocations(b *testing.B) {
	resp := []byte(actions(act("SendDigits", `{"CallId":"leg-1","Digits":"1"}`)))
	hangup := []byte(actions(act("Hangup", "")))
	n := b.N
	plugin := InvokerFunc(func(_ context.Context, event []byte) ([]byte, error) {
		ev, err := abi.ParseEvent(event)
		if err != nil {
			return nil, err
		}
		if ev.Sequence >= n {
			return hangup, nil
		}
		return resp, nil
	})
	e := New(Config{Limits: Limits{MaxInvocations: n + 2}})
	defer e.Close(context.Background())
	b.ResetTimer()
	start := time.Now()
	c, err := e.Inbound(App{Handler: plugin}, autoLeg{newFakeLeg("leg-1")}, CallInfo{})
	if err != nil {
		b.Fatal(err)
	}
	<-c.Done()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

// autoDialer answers every dial from another goroutine, like a real UAC.
type autoDialer struct{ fakeDialer }

func (d *autoDialer) Dial(req DialRequest, ev DialEvents) (Leg, func(), error) {
	leg, cancel, err := d.fakeDialer.Dial(req, ev)
	if err == nil {
		go func() {
			ev.Ringing()
			ev.Answered()
		}()
	}
	return autoLeg{leg.(*fakeLeg)}, cancel, err
}

// TestHammerOutboundConference races outbound calls that all join one room,
// bridge a second leg, and are hung up through the API, against the room
// registry's lock.
func TestHammerOutboundConference(t *testing.T) {
	const calls = 50
	conf := &fakeConnector{}
	e := New(Config{Clock: RealClock(), Dialer: &autoDialer{}, Connector: conf})
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	script := func(ev *abi.Event) (string, error) {
		switch {
		case ev.InvocationEventType == abi.EventCallAnswered:
			return actions(join("room", "meeting"), modify("Mute", "meeting", ev.CallDetails.Participants[0].CallID)), nil
		case ev.InvocationEventType == abi.EventActionSuccessful && ev.ActionData.Type == abi.ActionModifyChimeMeetingAttendees:
			return actions(bridgeAct("")), nil
		}
		return noActions, nil
	}
	all := make([]*Call, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			c, err := e.Outbound(App{TenantID: "t", Handler: &fakePlugin{script: script}}, OutboundRequest{From: "+15550100", To: fmt.Sprintf("+1555%07d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			all[i] = c
			_ = e.Calls()
		})
	}
	wg.Wait()
	for _, c := range all {
		if c == nil {
			continue
		}
		wg.Go(func() {
			c.settle()
			_ = e.Hangup(c.TransactionID())
		})
	}
	wg.Wait()
	for i, c := range all {
		if c == nil {
			continue
		}
		select {
		case <-c.Done():
		case <-time.After(30 * time.Second):
			t.Fatalf("call %d did not end", i)
		}
	}
	if n := e.rooms.size(); n != 0 {
		t.Fatalf("%d rooms left", n)
	}
	if n := len(e.Calls()); n != 0 {
		t.Fatalf("%d calls left", n)
	}
}
