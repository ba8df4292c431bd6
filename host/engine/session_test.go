package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
)

// Tests of the session core: participants with their own runners, and
// connections (connect, split, move, drop), driven directly through the
// session's goroutine with a recording model instead of Chime's.

// recModel records what the core tells the model.
type recModel struct {
	mu  sync.Mutex
	log []string
	c   *Call
}

func (m *recModel) add(format string, args ...any) {
	m.mu.Lock()
	m.log = append(m.log, fmt.Sprintf(format, args...))
	m.mu.Unlock()
}

func (m *recModel) events() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.log...)
}

func (m *recModel) split(p *participant, _ *connection) { m.add("split %s", p.tag) }
func (m *recModel) shrunk(k *connection)                { m.add("shrunk %d", len(k.members)) }
func (m *recModel) ringing(p *participant)              { m.add("ringing %s", p.tag) }
func (m *recModel) answered(p *participant)             { m.add("answered %s", p.tag) }
func (m *recModel) gone(p *participant, code int)       { m.add("gone %s %d", p.tag, code) }
func (m *recModel) reinvited(p *participant)            { m.add("reinvited %s", p.tag) }
func (m *recModel) String() string                      { return strings.Join(m.events(), ", ") }

// session is a started call whose model is a recModel, with its inbound
// participant answered.
type session struct {
	*harness
	m    *recModel
	conn *fakeConnector
}

func newSession(t *testing.T) *session {
	t.Helper()
	h := newHarness(t, bySeq(noActions))
	conn := &fakeConnector{}
	h.e.cfg.Connector = conn
	h.start()
	s := &session{harness: h, m: &recModel{c: h.call}, conn: conn}
	s.do(func(c *Call) {
		c.model = s.m
		if err := c.answer(c.legs[0]); err != nil {
			t.Fatal(err)
		}
	})
	return s
}

// do runs f in the session's goroutine and waits for everything it set
// off.
func (s *session) do(f func(c *Call)) {
	s.t.Helper()
	if !s.call.post(func() { f(s.call) }) {
		s.t.Fatal("the session has ended")
	}
	s.settle()
}

// a is the inbound participant.
func (s *session) a() *participant { return s.call.legs[0] }

// dialAnswered dials a participant and answers it.
func (s *session) dialAnswered(tag string) (*participant, *fakeDial) {
	s.t.Helper()
	var p *participant
	s.do(func(c *Call) {
		var err error
		if p, err = c.dialParticipant(dialSpec{Tag: tag, From: "+15550100", To: "+1555020" + tag[len(tag)-1:]}); err != nil {
			s.t.Fatal(err)
		}
	})
	d := s.dialer.dial(s.t, s.dialer.count())
	d.ev.Answered()
	s.settle()
	return p, d
}

// members lists "tag:role" of k's fake media members.
func (s *session) mediaOf(k *connection) string {
	fk := k.media.(*fakeConn)
	var out []string
	for _, m := range fk.members {
		out = append(out, m.id+":"+m.role.String())
	}
	return strings.Join(out, " ")
}

func hold(key string, repeat int) abi.Action {
	return abi.Action{Type: abi.ActionPlayAudio,
		Parameters: []byte(fmt.Sprintf(`{"AudioSource":{"Type":"S3","BucketName":"b","Key":%q},"Repeat":%d}`, key, repeat))}
}

// A hears hold music from an IVR participant while B dials C; when C
// answers, A is connected to C: the music stops and A and C are bridged.
func TestSessionHoldWhileDialling(t *testing.T) {
	s := newSession(t)
	b, _ := s.dialAnswered("B")
	var ivr, c2 *participant
	var holdConn *connection
	s.do(func(c *Call) {
		ivr = c.addIVR()
		var err error
		if holdConn, err = c.connect(RoleSpeakListen, s.a(), ivr); err != nil {
			t.Fatal(err)
		}
		c.runOn(ivr, hold("hold.wav", 100), func(out outcome) { s.m.add("hold ended failed=%v", out.failed) })
		if c2, err = c.dialParticipant(dialSpec{Tag: "C", From: "+15550100", To: "+15550203"}); err != nil {
			t.Fatal(err)
		}
	})
	wantLegOps(t, s.leg, "answer", "play hold.wav")
	if s.mediaOf(holdConn) != "leg-1:speak+listen" {
		t.Fatalf("hold connection media %q: the IVR has none of its own", s.mediaOf(holdConn))
	}
	// C rings: A still hears the music, B is untouched.
	d := s.dialer.dial(t, 2)
	d.ev.Ringing()
	s.settle()
	wantLegOps(t, s.leg, "answer", "play hold.wav")
	d.ev.Answered()
	s.settle()
	if got := s.m.events(); !equalStrings(got, []string{"answered B", "ringing C", "answered C"}) {
		t.Fatalf("model events %q", got)
	}
	var ac *connection
	s.do(func(c *Call) {
		var err error
		if ac, err = c.connect(RoleSpeakListen, s.a(), c2); err != nil {
			t.Fatal(err)
		}
	})
	wantLegOps(t, s.leg, "answer", "play hold.wav", "stop play hold.wav", "bridge dial-2")
	if s.mediaOf(ac) != "leg-1:speak+listen dial-2:speak+listen" {
		t.Fatalf("A-C media %q", s.mediaOf(ac))
	}
	if s.a().conn != ac || ivr.conn != holdConn || b.conn != nil {
		t.Fatal("connections after the move are wrong")
	}
	// A digit from A reaches nobody now (the IVR is no longer connected).
	s.press("5")
	if len(s.m.events()) != 3 {
		t.Fatalf("model events %q", s.m.events())
	}
}

// Splitting a connection leaves its members unconnected, each with an
// event, in order; the media is undone.
func TestSessionSplit(t *testing.T) {
	s := newSession(t)
	b, _ := s.dialAnswered("B")
	var k *connection
	s.do(func(c *Call) {
		var err error
		if k, err = c.connect(RoleSpeakListen, s.a(), b); err != nil {
			t.Fatal(err)
		}
	})
	s.do(func(c *Call) { c.split(k) })
	wantLegOps(t, s.leg, "answer", "bridge dial-1", "unbridge")
	if got := s.m.events(); !equalStrings(got, []string{"answered B", "split LEG-A", "split B"}) {
		t.Fatalf("model events %q", got)
	}
	if s.a().conn != nil || b.conn != nil || len(s.call.conns) != 0 {
		t.Fatal("members still connected after the split")
	}
}

// Moving a participant from one connection to another: the first falls
// back to a bridge of two... here to one member, the second becomes a mix
// of three; each member hears the others.
func TestSessionMoveAndThreeParty(t *testing.T) {
	s := newSession(t)
	b, _ := s.dialAnswered("B")
	c3, _ := s.dialAnswered("C")
	d4, _ := s.dialAnswered("D")
	var ab, cd *connection
	s.do(func(c *Call) {
		var err error
		if ab, err = c.connect(RoleSpeakListen, s.a(), b); err != nil {
			t.Fatal(err)
		}
		if cd, err = c.connect(RoleSpeakListen, c3, d4); err != nil {
			t.Fatal(err)
		}
	})
	s.do(func(c *Call) {
		if err := c.move(s.a(), cd, RoleSpeakListen); err != nil {
			t.Fatal(err)
		}
	})
	if s.mediaOf(cd) != "dial-2:speak+listen dial-3:speak+listen leg-1:speak+listen" {
		t.Fatalf("three-party media %q", s.mediaOf(cd))
	}
	if s.mediaOf(ab) != "dial-1:speak+listen" || len(ab.members) != 1 {
		t.Fatalf("the connection A left: %q", s.mediaOf(ab))
	}
	if got := s.conn.Ops(); !equalStrings(got, []string{"mix " + cd.id + " 3"}) {
		t.Fatalf("connector ops %q", got)
	}
	wantLegOps(t, s.leg, "answer", "bridge dial-1", "unbridge")
}

// A monitor dialled into a two-party connection listens only: its media
// joins as listen-only once it answers, so the connection is mixed.
func TestSessionMonitor(t *testing.T) {
	s := newSession(t)
	b, _ := s.dialAnswered("B")
	var k *connection
	var mon *participant
	s.do(func(c *Call) {
		var err error
		if k, err = c.connect(RoleSpeakListen, s.a(), b); err != nil {
			t.Fatal(err)
		}
		if mon, err = c.dialParticipant(dialSpec{Tag: "M", From: "+15550100", To: "+15550209"}); err != nil {
			t.Fatal(err)
		}
		if err := c.join(mon, k, RoleListen); err != nil {
			t.Fatal(err)
		}
	})
	// Ringing: not in the media yet.
	if s.mediaOf(k) != "leg-1:speak+listen dial-1:speak+listen" {
		t.Fatalf("media while the monitor rings: %q", s.mediaOf(k))
	}
	s.dialer.dial(t, 2).ev.Answered()
	s.settle()
	if s.mediaOf(k) != "leg-1:speak+listen dial-1:speak+listen dial-2:listen" {
		t.Fatalf("media with the monitor: %q", s.mediaOf(k))
	}
	// The monitor hangs up: the two parties stay connected.
	s.dialer.dial(t, 2).ev.Hangup()
	s.settle()
	if s.mediaOf(k) != "leg-1:speak+listen dial-1:speak+listen" || mon.conn != nil {
		t.Fatalf("media after the monitor left: %q", s.mediaOf(k))
	}
	if got := s.m.events(); !equalStrings(got, []string{"answered B", "answered M", "shrunk 2", "gone M 0"}) {
		t.Fatalf("model events %q", got)
	}
}

// Each participant has its own runner: an IVR collects digits from its
// caller while another participant's action runs, and a dropped
// participant leaves its connection.
func TestSessionRunnersAndDrop(t *testing.T) {
	s := newSession(t)
	b, _ := s.dialAnswered("B")
	var ivr *participant
	var got []string
	s.do(func(c *Call) {
		ivr = c.addIVR()
		if _, err := c.connect(RoleSpeakListen, s.a(), ivr); err != nil {
			t.Fatal(err)
		}
		c.runOn(ivr, abi.Action{Type: abi.ActionPlayAudioAndGetDigits, Parameters: []byte(
			`{"AudioSource":{"Type":"S3","BucketName":"b","Key":"menu.wav"},"MinNumberOfDigits":2,"MaxNumberOfDigits":2,"RepeatDurationInMilliseconds":3000}`)},
			func(out outcome) { got = append(got, "ivr digits "+out.digits) })
		c.runOn(b, hold("music.wav", 5), func(out outcome) { got = append(got, "music ended") })
	})
	wantLegOps(t, s.leg, "answer", "play menu.wav")
	wantLegOps(t, s.dialer.dial(t, 1).leg, "play music.wav")
	s.press("42")
	if !equalStrings(got, []string{"ivr digits 42"}) {
		t.Fatalf("outcomes %q", got)
	}
	s.do(func(c *Call) { c.drop(b) })
	wantLegOps(t, s.dialer.dial(t, 1).leg, "play music.wav", "stop play music.wav", "bye")
	s.do(func(c *Call) { c.drop(ivr) })
	if s.a().conn == nil || len(s.a().conn.members) != 1 {
		t.Fatal("dropping the IVR should leave A in its connection alone")
	}
}

// A re-INVITE is applied in the session's goroutine and reported.
func TestSessionReinvite(t *testing.T) {
	s := newSession(t)
	applied := false
	s.call.Reinvite(func() { applied = true })
	s.settle()
	if !applied || !equalStrings(s.m.events(), []string{"reinvited LEG-A"}) {
		t.Fatalf("applied %v, events %q", applied, s.m.events())
	}
}

// Engine.Monitor on a bridged Chime call: the monitor joins the bridge as
// a listener (it becomes a mix), the plugin never sees it, it leaves
// without a HANGUP event, and it is hung up when the call ends.
func TestEngineMonitor(t *testing.T) {
	h, d := bridged(t, func(*abi.Event) string { return noActions })
	if err := h.e.Monitor(h.call.TransactionID(), MonitorRequest{From: "+15550100", To: "+15550199"}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	mon := h.dialer.dial(t, 2)
	if mon.req.To != "+15550199" {
		t.Fatalf("monitor dialled %+v", mon.req)
	}
	mon.ev.Answered()
	h.settle()
	var k *connection
	h.call.post(func() { k = h.call.legs[0].conn })
	h.settle()
	fk := k.media.(*fakeConn)
	if len(fk.members) != 3 || fk.members[2].role != RoleListen || fk.members[2].id != "dial-2" {
		t.Fatalf("media members %+v", fk.members)
	}
	n := len(h.plugin.Events())
	// The monitor hangs up: no event, the call goes on.
	mon.ev.Hangup()
	h.settle()
	if len(h.plugin.Events()) != n || h.ended() {
		t.Fatalf("the monitor's hangup reached the plugin (%q) or ended the call", h.plugin.Types())
	}
	// A second monitor, then the call ends: the monitor is hung up too.
	if err := h.e.Monitor(h.call.TransactionID(), MonitorRequest{From: "+15550100", To: "+15550198"}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	mon2 := h.dialer.dial(t, 3)
	mon2.ev.Answered()
	h.settle()
	h.call.RemoteHangup()
	h.settle()
	d.ev.Hangup()
	h.settle()
	if !h.ended() {
		t.Fatal("the call did not end")
	}
	wantLegOps(t, mon2.leg, "bye")
	for _, ev := range h.plugin.Events() {
		for _, p := range ev.CallDetails.Participants {
			if p.CallID == "dial-2" || p.CallID == "dial-3" {
				t.Fatalf("the plugin saw a monitor: %+v", p)
			}
		}
	}
	if err := h.e.Monitor(h.call.TransactionID(), MonitorRequest{To: "+15550197"}); !errors.Is(err, ErrCallNotFound) {
		t.Fatalf("monitor of an ended call: %v", err)
	}
}
