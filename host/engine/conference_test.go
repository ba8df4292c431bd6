package engine

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
)

// fakeConnector logs every room operation, in order; a two-member
// connection of one session logs "bridge <other>" and "unbridge" on its
// first member's fakeLeg, which can also refuse it (bridgeErr).
type fakeConnector struct {
	mu  sync.Mutex
	ops []string
}

type fakeConn struct {
	f       *fakeConnector
	id      string
	conf    bool
	mu      sync.Mutex // members: a conference is shared by sessions
	members []fakeMember
}

// memberIDs lists the members' ids.
func (k *fakeConn) memberIDs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, m := range k.members {
		out = append(out, m.id)
	}
	return out
}

type fakeMember struct {
	id   string
	leg  Leg
	role Role
}

func (f *fakeConnector) op(format string, args ...any) {
	f.mu.Lock()
	f.ops = append(f.ops, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fakeConnector) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

func (f *fakeConnector) NewConnection(spec ConnectionSpec) (MediaConnection, error) {
	k := &fakeConn{f: f, id: spec.Name, conf: spec.Conference}
	if spec.Conference {
		k.id = spec.TenantID + "/" + spec.Name
		f.op("new %s", k.id)
	}
	return k, nil
}

// first is the fakeLeg of the first member (bridge ops are logged there).
func (k *fakeConn) first() *fakeLeg {
	if len(k.members) == 0 {
		return nil
	}
	switch l := k.members[0].leg.(type) {
	case *fakeLeg:
		return l
	case plainLeg:
		return l.Leg.(*fakeLeg)
	}
	return nil
}

func (k *fakeConn) Add(id string, leg Leg, role Role) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conf {
		k.f.op("add %s %s %s", k.id, id, leg.ID())
		k.members = append(k.members, fakeMember{id, leg, role})
		return nil
	}
	if fl := k.first(); fl != nil && len(k.members) == 1 {
		fl.mu.Lock()
		err := fl.bridgeErr
		fl.mu.Unlock()
		if err != nil {
			return err
		}
		fl.op("bridge %s", leg.ID())
	}
	k.members = append(k.members, fakeMember{id, leg, role})
	if len(k.members) > 2 || role == RoleListen {
		k.f.op("mix %s %d", k.id, len(k.members))
	}
	return nil
}

func (k *fakeConn) Remove(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	i := slices.IndexFunc(k.members, func(m fakeMember) bool { return m.id == id })
	if i < 0 {
		return fmt.Errorf("not a member: %s", id)
	}
	if k.conf {
		k.f.op("remove %s %s", k.id, id)
	} else if len(k.members) == 2 {
		k.first().op("unbridge")
	}
	k.members = slices.Delete(k.members, i, i+1)
	return nil
}

func (k *fakeConn) SetMuted(id string, muted bool) error {
	k.f.op("mute %s %s %v", k.id, id, muted)
	return nil
}

func (k *fakeConn) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conf {
		k.f.op("close %s", k.id)
		return nil
	}
	if len(k.members) == 2 {
		k.first().op("unbridge")
	}
	k.members = nil
	return nil
}

func join(token, meeting string) string {
	return act("JoinChimeMeeting", `{"JoinToken":"`+token+`","MeetingId":"`+meeting+`"}`)
}

func modify(op, meeting string, attendees ...string) string {
	list := ""
	for i, a := range attendees {
		if i > 0 {
			list += ","
		}
		list += `"` + a + `"`
	}
	return act("ModifyChimeMeetingAttendees", `{"Operation":"`+op+`","MeetingId":"`+meeting+`","AttendeeList":[`+list+`]}`)
}

func TestConferenceRooms(t *testing.T) {
	conf := &fakeConnector{}
	h := newHarness(t, bySeq(actions(join("tok-1", "m-1"))))
	h.e = New(Config{Clock: h.clock, Connector: conf})
	h.start()
	leg2 := newFakeLeg("leg-2")
	p2 := &fakePlugin{script: bySeq(
		actions(join("tok-1", "")),
		actions(modify("Mute", "m-1", "leg-1")),
		actions(modify("Unmute", "tok-1", "leg-1")),
		actions(modify("Mute", "m-1", "nobody")),
		actions(modify("Mute", "m-9", "leg-1")),
	)}
	c2, err := h.e.Inbound(App{TenantID: "tenant-1", Handler: p2}, leg2, CallInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c2.settle()
	// Each response answers the previous event's outcome.
	got := p2.Types()
	want := []string{"NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL",
		"ACTION_FAILED", "ACTION_FAILED"}
	if !equalStrings(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	evs := p2.Events()
	for i, wantMsg := range map[int]string{
		4: "ModifyChimeMeetingAttendees: conference room not found: attendee nobody is not in meeting m-1",
		5: "ModifyChimeMeetingAttendees: conference room not found: meeting m-9",
	} {
		if ad := evs[i].ActionData; ad.ErrorType != abi.ResourceNotFound || ad.ErrorMessage != wantMsg {
			t.Fatalf("event %d: %q %q", i, ad.ErrorType, ad.ErrorMessage)
		}
	}
	h.call.RemoteHangup()
	h.settle()
	c2.RemoteHangup()
	c2.settle()
	wantConf := []string{
		"new tenant-1/tok-1", "add tenant-1/tok-1 leg-1 leg-1", "add tenant-1/tok-1 leg-2 leg-2",
		"mute tenant-1/tok-1 leg-1 true", "mute tenant-1/tok-1 leg-1 false",
		"remove tenant-1/tok-1 leg-1", "remove tenant-1/tok-1 leg-2", "close tenant-1/tok-1",
	}
	if got := conf.Ops(); !equalStrings(got, wantConf) {
		t.Fatalf("room ops:\n got %q\nwant %q", got, wantConf)
	}
	if n := h.e.rooms.size(); n != 0 {
		t.Fatalf("%d rooms left", n)
	}
}

func TestJoinAnotherRoomLeavesTheFirst(t *testing.T) {
	conf := &fakeConnector{}
	h := newHarness(t, bySeq(actions(join("a", ""), join("b", ""))))
	h.e = New(Config{Clock: h.clock, Connector: conf})
	h.start()
	want := []string{"new tenant-1/a", "add tenant-1/a leg-1 leg-1", "remove tenant-1/a leg-1", "close tenant-1/a",
		"new tenant-1/b", "add tenant-1/b leg-1 leg-1"}
	if got := conf.Ops(); !equalStrings(got, want) {
		t.Fatalf("room ops:\n got %q\nwant %q", got, want)
	}
}

// Two tenants that use the same JoinToken and MeetingId get two rooms, and
// neither can mute the other's attendees.
func TestConferenceRoomsAreTenantScoped(t *testing.T) {
	conf := &fakeConnector{}
	h := newHarness(t, bySeq(actions(join("shared", "m-1"))))
	h.e = New(Config{Clock: h.clock, Connector: conf})
	h.start()
	leg2 := newFakeLeg("leg-2")
	p2 := &fakePlugin{script: bySeq(
		actions(join("shared", "m-1")),
		actions(modify("Mute", "m-1", "leg-1")),
		actions(modify("Mute", "shared", "leg-1")),
	)}
	c2, err := h.e.Inbound(App{TenantID: "tenant-2", Handler: p2}, leg2, CallInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c2.settle()
	want := []string{"NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_FAILED", "ACTION_FAILED"}
	if got := p2.Types(); !equalStrings(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	for _, ev := range p2.Events()[2:] {
		if ev.ActionData.ErrorType != abi.ResourceNotFound {
			t.Fatalf("mute of another tenant's attendee: %q %q", ev.ActionData.ErrorType, ev.ActionData.ErrorMessage)
		}
	}
	if n := h.e.rooms.size(); n != 2 {
		t.Fatalf("%d rooms, want one per tenant", n)
	}
	wantConf := []string{"new tenant-1/shared", "add tenant-1/shared leg-1 leg-1", "new tenant-2/shared", "add tenant-2/shared leg-2 leg-2"}
	if got := conf.Ops(); !equalStrings(got, wantConf) {
		t.Fatalf("room ops:\n got %q\nwant %q", got, wantConf)
	}
}

func TestConferencesNotConfigured(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		wantMsg string
	}{
		{name: "join", action: join("t", ""), wantMsg: "JoinChimeMeeting: this server has no conference service"},
		{name: "modify", action: modify("Mute", "m", "a"), wantMsg: "ModifyChimeMeetingAttendees: this server has no conference service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(tt.action)))
			h.e.cfg.Connector = nil
			h.start()
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			if ad := h.last().ActionData; ad.ErrorType != abi.SystemException || ad.ErrorMessage != tt.wantMsg {
				t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
			}
		})
	}
}
