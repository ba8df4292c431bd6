package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// The iotcomms SIP Mediaserver model: the session core driven by iotcomms'
// callbacks (abi.IotRequest) and their answers (abi.IotAnswer,
// abi.IvrCommand). SPEC.md's iotcomms section is the normative text; the
// rules in short:
//
//   - newCall for an inbound call (the caller not answered yet): drop
//     rejects it (603), call answers it and dials destAddr, ivr answers it
//     and connects it to a new IVR participant. An invalid or failed answer
//     rejects with 480 and is logged.
//   - A connection made by call, ivr or connect has a caller side (the
//     participant that was there) and a callee side (the one dialled, the
//     IVR, the one connected to); callAnswered reports it with its
//     connectionId and a replyId.
//   - callEvent reports a change to the participant it is about (the
//     answer acts on it): its connection's other side dropped
//     (callingPartyDrop, calledPartyDrop: which side left), its connection
//     was split (callerConnectionSplit, calleeConnectionSplit: its own side),
//     or a party it dialled failed (callFailed, with the SIP code). Answers:
//     drop, call, ivr, connect (participantId), joinconferenceconnection
//     (connectionId). No action, an invalid answer or a failed callback
//     drops the participant, with a log line (a participant is never left
//     connected to nothing).
//   - An IVR participant asks getIvrCommand after its connection is made
//     and after each command, with the digits the previous command
//     collected; a command plays phrases (collecting digits while and after
//     they play), loops a background prompt between commands, records,
//     waits getIVRCommandAfter, or leaves (hangup) or dials (action call),
//     after which its caller gets callEvent calledPartyDrop (or callAnswered
//     for the call). An invalid command makes the IVR leave the same way.
//   - A conference connection (created through the API) mixes every member;
//     a member that leaves it causes no callEvent.
//   - sessionCompleted when the last SIP participant has left, then
//     recordingReady for each recording made.

// Where iotcomms prompt files and recordings live: a bucket of the
// tenant's bucket store (the /promptfile API serves it).
const PromptFileBucket = "promptfiles"

// sides of a connection.
const (
	sideCaller = "caller"
	sideCallee = "callee"
)

// iotModel runs one session with iotcomms' callbacks.
type iotModel struct {
	c         *Call
	nextP     int
	byID      map[string]*participant // iotcomms participant ids
	conns     map[string]*connection  // session connections by id
	conf      map[*connection]bool    // conference connections
	side      map[*participant]string // side in its connection
	replies   map[string]string       // replyId -> what it is for (a connection id or a participant id)
	ivrs      map[*participant]*ivrState
	pending   map[*participant]*participant // dialled callee -> caller waiting for it
	monitor   string                        // newCall's monitorDestAddr, dialled after the first callAnswered
	recFile   string                        // newCall's filename, recorded once the first connection is up
	recs      []iotRecording
	connected bool // a first connection was made (recording, monitor)
	done      bool
	// silent > 0 while the model itself takes a participant out (an IVR
	// whose caller moves on): the core's shrunk is then not a drop to
	// report.
	silent int
}

type iotRecording struct {
	p        *participant
	rec      CallRecording
	fileName string
	start    time.Time
	stopped  bool
	err      error
	dur      time.Duration
}

// ivrState is an IVR participant's command loop.
type ivrState struct {
	caller *participant // the SIP participant it serves
	cmd    *iotCommand  // the command running, if any
	bg     *abi.Phrase
	bgPB   *playback
	wait   callTimer
	// parked: the last command asked for nothing to do or wait for (at
	// most a background prompt), so the IVR waits for
	// /interruptivrcommand, a split or a hang-up instead of asking again.
	parked bool
	// failed is why the last command failed ("" when it did not): the
	// next getIvrCommand carries it as previousCommandFailed. failures
	// counts the commands that failed in a row.
	failed   string
	failures int
}

// maxIvrFailures is how many commands in a row may fail before the IVR
// leaves (its caller then gets callEvent): an application that answers
// each failure with the same failing command does not loop.
const maxIvrFailures = 3

func newIotModel(c *Call) *iotModel {
	return &iotModel{c: c, byID: map[string]*participant{}, conns: map[string]*connection{}, conf: map[*connection]bool{},
		side: map[*participant]string{}, replies: map[string]string{}, ivrs: map[*participant]*ivrState{},
		pending: map[*participant]*participant{}}
}

// iotID names p for iotcomms: the session id, a slash and a number, so
// the API finds the session from the id alone.
func (m *iotModel) iotID(p *participant) string {
	if p.iotID == "" {
		m.nextP++
		p.iotID = m.c.txID + "/p" + strconv.Itoa(m.nextP)
		m.byID[p.iotID] = p
	}
	return p.iotID
}

func newReplyID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// user is the SIP user of a participant (its number), as iotcomms names
// parties.
func user(p *participant) string {
	if p.kind == KindInbound {
		return p.from
	}
	u := strings.TrimPrefix(strings.TrimPrefix(p.to, "sip:"), "sips:")
	u, _, _ = strings.Cut(u, "@")
	return u
}

// send delivers a callback and returns the answer's bytes; nil when the
// invocation failed (logged).
func (m *iotModel) send(req *abi.IotRequest) ([]byte, error) {
	c := m.c
	req.SessionID = c.txID
	req.TenantID = c.app.TenantID
	req.ApplicationID = c.app.SipMediaApplicationID
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if c.seq >= c.e.cfg.Limits.MaxInvocations {
		return nil, fmt.Errorf("%w (%d)", ErrInvocationLimit, c.e.cfg.Limits.MaxInvocations)
	}
	c.seq++
	ans, err := c.invokeRaw(string(req.Callback), b)
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("iotcomms callback", "callback", req.Callback, "participant", req.ParticipantID, "event", req.Event,
			"answer", string(ans[:min(len(ans), 300)]), "err", err)
	}
	return ans, err
}

// start sends newCall for an inbound call.
func (m *iotModel) start() {
	c := m.c
	a := c.legs[0]
	raw, err := m.send(&abi.IotRequest{Callback: abi.CallbackNewCall, ParticipantID: m.iotID(a), User: user(a),
		From: a.from, To: a.to, Direction: "inbound", Headers: filterHeaders(a.headers)})
	ans, err := m.answer(raw, err, abi.CallbackNewCall)
	if err != nil {
		c.log.Warn("iotcomms: newCall answer unusable, rejecting the call", "err", err)
		m.reject(a, sipTemporarilyUnavailable)
		return
	}
	m.monitor = ans.MonitorDestAddr
	if ans.CallRecording {
		m.recFile = ans.FileName
	}
	switch ans.Action {
	case abi.IotCall, abi.IotIVR:
		if err := c.answer(a); err != nil {
			c.fail(fmt.Errorf("answer: %w", err))
			return
		}
		m.act(a, ans)
	default: // drop, or nothing
		m.reject(a, 603)
	}
}

// startOutbound is placeivrcall's flow: newCall (informational), the
// device rings (callNotify), answers: it is connected to an IVR participant
// (callAnswered, getIvrCommand).
func (m *iotModel) startOutbound(p *participant) {
	_, _ = m.send(&abi.IotRequest{Callback: abi.CallbackNewCall, ParticipantID: m.iotID(p), User: user(p),
		From: p.from, To: p.to, Direction: "outbound", Headers: filterHeaders(p.headers)})
}

// answer parses an answer to newCall or callEvent.
func (m *iotModel) answer(raw []byte, err error, cb abi.Callback) (*abi.IotAnswer, error) {
	if err != nil {
		return nil, err
	}
	return abi.ParseIotAnswer(raw, cb)
}

// reject ends an inbound participant that was never answered.
func (m *iotModel) reject(p *participant, code int) {
	c := m.c
	c.terminate(p, code)
	m.participantLeft(p)
}

// act executes an answer for participant p (newCall's caller, or the
// participant a callEvent was about).
func (m *iotModel) act(p *participant, ans *abi.IotAnswer) {
	c := m.c
	if p.gone {
		return
	}
	switch ans.Action {
	case abi.IotCall:
		m.callOut(p, ans.DestAddr, ans.FromAddr, ans.Timeout)
	case abi.IotIVR:
		m.startIVR(p)
	case abi.IotConnect:
		q := m.byID[ans.ParticipantID]
		if q == nil || q == p || q.gone || q.kind == KindIVR {
			m.drop(p, fmt.Sprintf("connect: no participant %q in this session to connect to", ans.ParticipantID))
			return
		}
		m.connectPair(p, q)
	case abi.IotJoinConferenceConnection:
		k := m.conns[ans.ConnectionID]
		if ans.ConnectionID == "" {
			k = m.onlyConference()
		} else if k == nil {
			k = m.joinOtherConference(ans.ConnectionID)
		}
		if k == nil || !m.conf[k] {
			m.drop(p, fmt.Sprintf("joinconferenceconnection: no conference connection %q in this session (without connectionId: the session must have exactly one)", ans.ConnectionID))
			return
		}
		m.stopIVRsOf(p)
		if err := c.join(p, k, RoleSpeakListen); err != nil {
			m.drop(p, "joinconferenceconnection: "+err.Error())
			return
		}
		m.side[p] = sideCallee
	case abi.IotDrop:
		m.hangup(p)
	default:
		m.drop(p, "no action")
	}
}

// joinOtherConference makes a connection in this session for the
// conference connection id of another session of the tenant (nil when
// there is none): the participant joins the same media.
func (m *iotModel) joinOtherConference(id string) *connection {
	c := m.c
	media, ok := c.e.confs.join(id, c.app.TenantID)
	if !ok {
		return nil
	}
	k := &connection{id: id, replyID: newReplyID(), media: media}
	c.conns = append(c.conns, k)
	m.conns[id] = k
	m.conf[k] = true
	return k
}

// onlyConference is the session's conference connection when it has
// exactly one (joinconferenceconnection without a connectionId).
func (m *iotModel) onlyConference() *connection {
	var only *connection
	for k := range m.conf {
		if only != nil {
			return nil
		}
		only = k
	}
	return only
}

// drop ends p because of a bad or missing answer, saying so.
func (m *iotModel) drop(p *participant, why string) {
	m.c.log.Warn("iotcomms: dropping participant", "participant", p.iotID, "reason", why)
	m.hangup(p)
}

// hangup ends p at the application's request: a SIP participant gets BYE
// (or a reject, or a CANCEL), an IVR participant stops. Its connection's
// other side is not told (the application asked).
func (m *iotModel) hangup(p *participant) {
	c := m.c
	if p.gone {
		return
	}
	if st := m.ivrs[p]; st != nil {
		m.stopIVR(p, st)
	}
	k := p.conn
	c.drop(p)
	if k != nil && !m.conf[k] && len(k.members) == 0 {
		m.dissolve(k)
	}
	m.participantLeft(p)
}

// callOut dials dest for p; when it answers p and it are connected.
func (m *iotModel) callOut(p *participant, dest, from string, timeout int) {
	c := m.c
	if from == "" {
		from = p.to
		if p.kind != KindInbound {
			from = p.from
		}
	}
	spec := dialSpec{Tag: "callee", From: from, To: dest}
	if timeout > 0 {
		spec.Timeout = time.Duration(timeout) * time.Second
	} else {
		spec.Timeout = 30 * time.Second
	}
	q, err := c.dialParticipant(spec)
	if err != nil {
		// A dial refused before any INVITE (a destination the dial
		// policy forbids, no trunk) says with which SIP status.
		code := sipTemporarilyUnavailable
		var sc interface{ SIPCode() int }
		if errors.As(err, &sc) {
			code = sc.SIPCode()
		}
		c.log.Warn("iotcomms: call failed to start", "dest", dest, "code", code, "err", err)
		m.callEvent(p, abi.EventCallFailed, nil, code)
		return
	}
	m.iotID(q)
	m.pending[q] = p
}

// startIVR connects p to a new IVR participant and asks for its first
// command.
func (m *iotModel) startIVR(p *participant) {
	c := m.c
	ivr := c.addIVR()
	m.iotID(ivr)
	k := m.connectPair(p, ivr) // ends the IVRs that served p before
	if k == nil {
		return
	}
	m.ivrs[ivr] = &ivrState{caller: p, wait: callTimer{c: c}}
	m.nextCommand(ivr, nil)
}

// connectPair connects p (caller side) and q (callee side) in a new
// connection and reports it; nil when it failed (p is dropped).
func (m *iotModel) connectPair(p, q *participant) *connection {
	c := m.c
	m.stopIVRsOf(p)
	m.stopIVRsOf(q)
	old := []*connection{p.conn, q.conn}
	k, err := c.connect(RoleSpeakListen, p, q)
	if err != nil {
		m.drop(p, "connect: "+err.Error())
		return nil
	}
	for _, o := range old {
		if o != nil && !m.conf[o] && len(o.members) < 2 {
			m.dissolveQuietly(o)
		}
	}
	m.conns[k.id] = k
	m.side[p], m.side[q] = sideCaller, sideCallee
	reply := newReplyID()
	m.replies[reply] = k.id
	k.replyID = reply
	_, _ = m.send(&abi.IotRequest{Callback: abi.CallbackCallAnswered, ConnectionID: k.id, ReplyID: reply,
		CallerParticipantID: m.iotID(p), CalleeParticipantID: m.iotID(q), ParticipantID: m.iotID(q), User: user(q)})
	if !m.connected {
		m.connected = true
		m.firstConnection(k, p)
	}
	return k
}

// firstConnection starts what newCall asked for once a connection is up:
// the call recording and the monitor.
func (m *iotModel) firstConnection(k *connection, p *participant) {
	c := m.c
	if m.recFile != "" {
		m.startRecording(p, m.recFile)
	}
	if m.monitor != "" {
		mon, err := c.dialParticipant(dialSpec{Tag: "monitor", From: p.to, To: m.monitor})
		if err != nil {
			c.log.Warn("iotcomms: monitor not dialled", "to", m.monitor, "err", err)
			return
		}
		mon.hidden = true
		if err := c.join(mon, k, RoleListen); err != nil {
			c.log.Warn("iotcomms: monitor not connected", "err", err)
			c.drop(mon)
		}
	}
}

// startRecording records p's connection (p's audio left, what p hears
// right) into the prompt file fileName.
func (m *iotModel) startRecording(p *participant, fileName string) {
	c := m.c
	cr, ok := p.leg.(CallRecorder)
	if !ok {
		c.log.Warn("iotcomms: call recording is not supported by this leg")
		return
	}
	rec, err := cr.StartCallRecording(CallRecordingRequest{BucketName: PromptFileBucket, Key: fileName, Track: abi.TrackBoth},
		func(err error) {
			c.post(func() { c.log.Warn("iotcomms: call recording broke off", "file", fileName, "err", err) })
		})
	if err != nil {
		c.log.Warn("iotcomms: call recording not started", "file", fileName, "err", err)
		return
	}
	m.recs = append(m.recs, iotRecording{p: p, rec: rec, fileName: fileName, start: c.e.cfg.Clock.Now()})
}

// stopRecordings finishes the recordings (of p, or all when nil).
func (m *iotModel) stopRecordings(p *participant) {
	for i := range m.recs {
		r := &m.recs[i]
		if r.stopped || (p != nil && r.p != p) {
			continue
		}
		r.stopped = true
		r.dur = m.c.e.cfg.Clock.Now().Sub(r.start)
		r.err = r.rec.Stop()
	}
}

// dissolve ends a session connection and forgets it; a monitor of it
// is hung up.
func (m *iotModel) dissolve(k *connection) {
	for _, x := range slices.Clone(k.members) {
		if x.hidden && !x.gone {
			m.c.drop(x)
		}
	}
	delete(m.conns, k.id)
	delete(m.conf, k)
	delete(m.replies, k.replyID)
	if slices.Contains(m.c.conns, k) {
		m.c.dissolve(k)
	}
}

// dissolveQuietly ends a connection left with fewer than two members.
func (m *iotModel) dissolveQuietly(k *connection) {
	for _, x := range slices.Clone(k.members) {
		if x.kind == KindIVR {
			m.hangupIVRSilently(x)
		}
	}
	m.dissolve(k)
}

// callEvent sends callEvent about p and acts on the answer.
func (m *iotModel) callEvent(p *participant, event string, k *connection, code int) {
	if p.gone || m.c.ended {
		return
	}
	reply := newReplyID()
	m.replies[reply] = p.iotID
	req := &abi.IotRequest{Callback: abi.CallbackCallEvent, Event: event, ParticipantID: m.iotID(p), User: user(p),
		ReplyID: reply, Code: code}
	if k != nil {
		req.ConnectionID = k.id
	}
	raw, err := m.send(req)
	delete(m.replies, reply)
	ans, err := m.answer(raw, err, abi.CallbackCallEvent)
	if err != nil {
		m.drop(p, "callEvent answer unusable: "+err.Error())
		return
	}
	if ans.ReplyID != "" && ans.ReplyID != reply {
		m.drop(p, fmt.Sprintf("callEvent answer has replyId %q, not this event's", ans.ReplyID))
		return
	}
	m.act(p, ans)
}

// nextCommand asks for the IVR's next command (after waiting, if asked)
// and runs it.
func (m *iotModel) nextCommand(ivr *participant, dtmf *abi.DtmfParams) {
	c := m.c
	st := m.ivrs[ivr]
	if st == nil || ivr.gone || c.ended {
		return
	}
	k := ivr.conn
	req := &abi.IotRequest{Callback: abi.CallbackGetIvrCommand, ParticipantID: m.iotID(ivr), DtmfParams: dtmf,
		PreviousCommandFailed: st.failed}
	st.failed = ""
	if k != nil {
		req.ConnectionID = k.id
		req.ReplyID = k.replyID
	}
	if st.caller != nil {
		req.CallerParticipantID = m.iotID(st.caller)
		req.User = user(st.caller)
	}
	raw, err := m.send(req)
	if err != nil {
		c.log.Warn("iotcomms: getIvrCommand failed, the IVR leaves", "participant", ivr.iotID, "err", err)
		m.ivrLeaves(ivr)
		return
	}
	cmd, err := abi.ParseIvrCommand(raw)
	if err != nil {
		c.log.Warn("iotcomms: IVR command unusable, the IVR leaves", "participant", ivr.iotID, "err", err)
		m.ivrLeaves(ivr)
		return
	}
	if ivr.gone || m.ivrs[ivr] == nil {
		return // the answer hung it up meanwhile (an API call)
	}
	if cmd.Action == abi.IotCall {
		caller := st.caller
		m.hangupIVRSilently(ivr)
		if caller != nil && !caller.gone {
			m.callOut(caller, cmd.DestAddr, cmd.FromAddr, 0)
		}
		return
	}
	if cmd.BackgroundPrompt != nil {
		st.bg = cmd.BackgroundPrompt
	}
	run := &iotCommand{m: m, ivr: ivr, st: st, cmd: cmd}
	st.cmd = run
	run.start()
}

// commandDone continues an IVR after its command: it leaves, waits or
// asks for the next.
func (m *iotModel) commandDone(ivr *participant, cmd *abi.IvrCommand, dtmf *abi.DtmfParams) {
	st := m.ivrs[ivr]
	if st == nil {
		return
	}
	st.cmd = nil
	if st.failed == "" {
		st.failures = 0
	}
	if cmd.Hangup {
		m.ivrLeaves(ivr)
		return
	}
	if st.failures >= maxIvrFailures {
		m.c.log.Warn("iotcomms: IVR commands keep failing, the IVR leaves", "participant", ivr.iotID, "failures", st.failures)
		m.ivrLeaves(ivr)
		return
	}
	m.playBackground(ivr)
	if len(cmd.Phrases) == 0 && cmd.Dtmf == nil && cmd.Record == nil && cmd.GetIVRCommandAfter == 0 {
		st.parked = true
		return
	}
	if cmd.GetIVRCommandAfter > 0 {
		st.wait.start(time.Duration(cmd.GetIVRCommandAfter*float64(time.Second)), func() { m.nextCommand(ivr, dtmf) })
		return
	}
	m.nextCommand(ivr, dtmf)
}

// playBackground loops the IVR's background prompt between commands.
func (m *iotModel) playBackground(ivr *participant) {
	c := m.c
	st := m.ivrs[ivr]
	if st == nil || st.bg == nil || st.bgPB != nil || st.cmd != nil {
		return
	}
	var loop func()
	loop = func() {
		if st.bgPB == nil || ivr.gone {
			return
		}
		pb, err := m.playPhrase(ivr, *st.bg, func(err error) {
			if err != nil {
				c.log.Warn("iotcomms: background prompt failed", "participant", ivr.iotID, "err", err)
				st.bgPB = nil
				return
			}
			if st.bg.RepeatPause > 0 {
				t := &callTimer{c: c}
				t.start(time.Duration(st.bg.RepeatPause*float64(time.Second)), loop)
				return
			}
			loop()
		})
		if err != nil {
			c.log.Warn("iotcomms: background prompt failed", "participant", ivr.iotID, "err", err)
			st.bgPB = nil
			return
		}
		*st.bgPB = *pb
	}
	st.bgPB = &playback{live: true}
	loop()
}

func (m *iotModel) stopBackground(st *ivrState) {
	if st.bgPB != nil {
		pb := st.bgPB
		st.bgPB = nil
		pb.stop()
	}
}

// ivrLeaves hangs the IVR up and asks what to do with its caller
// (callEvent calledPartyDrop).
func (m *iotModel) ivrLeaves(ivr *participant) {
	st := m.ivrs[ivr]
	k := ivr.conn
	var caller *participant
	if st != nil {
		caller = st.caller
	}
	m.hangupIVRSilently(ivr)
	if caller != nil && !caller.gone {
		if k != nil && !m.conf[k] && len(k.members) < 2 {
			m.dissolve(k)
		}
		m.callEvent(caller, abi.EventCalledPartyDrop, k, 0)
	}
}

// stopIVR stops what an IVR runs.
func (m *iotModel) stopIVR(ivr *participant, st *ivrState) {
	st.wait.stop()
	m.stopBackground(st)
	if st.cmd != nil {
		st.cmd.stop()
		st.cmd = nil
	}
	delete(m.ivrs, ivr)
}

// hangupIVRSilently ends an IVR participant without any callback.
func (m *iotModel) hangupIVRSilently(ivr *participant) {
	if st := m.ivrs[ivr]; st != nil {
		m.stopIVR(ivr, st)
	}
	if !ivr.gone {
		m.silent++
		m.c.drop(ivr)
		m.silent--
	}
}

// stopIVRsOf ends the IVR participants serving p (p moves on).
func (m *iotModel) stopIVRsOf(p *participant) {
	for ivr, st := range m.ivrs {
		if st.caller == p {
			m.hangupIVRSilently(ivr)
		}
	}
}

// participantLeft finishes the session when no SIP participant is left.
func (m *iotModel) participantLeft(p *participant) {
	c := m.c
	delete(m.pending, p)
	m.stopRecordings(p)
	if len(c.live()) > 0 || m.done {
		return
	}
	m.finish()
}

// finish sends sessionCompleted and the recordings' recordingReady.
func (m *iotModel) finish() {
	c := m.c
	if m.done {
		return
	}
	m.done = true
	for ivr := range maps.Clone(m.ivrs) {
		m.hangupIVRSilently(ivr)
	}
	m.stopRecordings(nil)
	_, _ = m.send(&abi.IotRequest{Callback: abi.CallbackSessionCompleted})
	for _, r := range m.recs {
		if r.err != nil {
			c.log.Warn("iotcomms: recording not stored", "file", r.fileName, "err", r.err)
			continue
		}
		_, _ = m.send(&abi.IotRequest{Callback: abi.CallbackRecordingReady, FileName: r.fileName,
			Location: "/promptfile/" + r.fileName, Duration: int(r.dur.Round(time.Second) / time.Second)})
	}
	c.ended = true
}

// The core's model hooks.

func (m *iotModel) split(p *participant, k *connection) {
	if p.kind == KindIVR {
		m.hangupIVRSilently(p)
		return
	}
	ev := abi.EventCalleeConnectionSplit
	if m.side[p] == sideCaller {
		ev = abi.EventCallerConnectionSplit
	}
	m.stopIVRsOf(p)
	m.later(func() { m.callEvent(p, ev, k, 0) })
}

// shrunk: a member left k. In a two-party connection the one left gets
// callEvent (which side dropped); an IVR left alone leaves too; a
// conference goes on.
func (m *iotModel) shrunk(k *connection) {
	if m.conf[k] || m.silent > 0 {
		return
	}
	var members []*participant
	for _, x := range k.members {
		if !x.hidden {
			members = append(members, x)
		}
	}
	if len(members) >= 2 {
		return
	}
	var rest *participant
	if len(members) == 1 {
		rest = members[0]
	}
	gone := sideCallee
	if rest != nil && m.side[rest] == sideCallee {
		gone = sideCaller
	}
	m.dissolve(k)
	if rest == nil {
		return
	}
	if rest.kind == KindIVR {
		m.hangupIVRSilently(rest)
		return
	}
	ev := abi.EventCalledPartyDrop
	if gone == sideCaller {
		ev = abi.EventCallingPartyDrop
	}
	m.later(func() { m.callEvent(rest, ev, k, 0) })
}

func (m *iotModel) ringing(p *participant) {
	_, _ = m.send(&abi.IotRequest{Callback: abi.CallbackCallNotify, Event: abi.NotifyRinging, ParticipantID: m.iotID(p), User: user(p)})
}

func (m *iotModel) answered(p *participant) {
	if p.hidden {
		return
	}
	if caller := m.pending[p]; caller != nil {
		delete(m.pending, p)
		if caller.gone {
			m.hangup(p)
			return
		}
		m.connectPair(caller, p)
		return
	}
	if p == m.c.legs[0] && p.kind == KindDialled {
		// placeivrcall: the device answered; an IVR takes it.
		m.startIVR(p)
	}
}

func (m *iotModel) gone(p *participant, code int) {
	if p.hidden {
		return
	}
	if caller := m.pending[p]; caller != nil {
		// A party dialled for caller did not answer.
		delete(m.pending, p)
		m.later(func() { m.callEvent(caller, abi.EventCallFailed, nil, code) })
	}
	m.participantLeft(p)
}

func (m *iotModel) reinvited(*participant) {}

// later runs f after the current message, so a callback is never sent
// from inside another's handling.
func (m *iotModel) later(f func()) { m.c.later = append(m.c.later, f) }

// iotCommand is one IVR command in progress: its phrases in order,
// collecting digits while and after they play, or a recording.
type iotCommand struct {
	m       *iotModel
	ivr     *participant
	st      *ivrState
	cmd     *abi.IvrCommand
	i       int
	pb      *playback
	digits  []byte
	dtmf    *abi.DtmfCommand
	timer   callTimer
	stopRec func() error
	over    bool
}

func (r *iotCommand) start() {
	c := r.m.c
	r.timer = callTimer{c: c}
	r.dtmf = r.cmd.Dtmf
	if r.dtmf != nil && r.dtmf.MaxDigits == 0 {
		d := *r.dtmf
		d.MaxDigits = 1
		r.dtmf = &d
	}
	r.ivr.act = &running{r: r, leg: r.ivr, done: func(outcome) {}}
	if len(r.cmd.Phrases) > 0 {
		r.m.stopBackground(r.st)
	}
	r.playNext()
}

// playNext plays the next phrase, then records or collects digits.
func (r *iotCommand) playNext() {
	if r.over {
		return
	}
	if r.i < len(r.cmd.Phrases) && len(r.digits) == 0 {
		ph := r.cmd.Phrases[r.i]
		r.i++
		pb, err := r.m.playPhrase(r.ivr, ph, func(err error) {
			if err != nil {
				r.fail(err)
				return
			}
			r.playNext()
		})
		if err != nil {
			r.fail(err)
			return
		}
		r.pb = pb
		return
	}
	r.pb = nil
	if r.cmd.Record != nil {
		r.record()
		return
	}
	if r.dtmf == nil {
		r.finish(nil)
		return
	}
	// Wait for (more) digits.
	wait := secondsOr(r.dtmf.Timeout, 5)
	if len(r.digits) > 0 {
		wait = secondsOr(r.dtmf.InterDigitTimeout, 3)
	}
	reason := abi.DtmfTimeout
	if len(r.digits) > 0 {
		reason = abi.DtmfInterDigit
	}
	r.timer.start(wait, func() { r.collected(reason) })
}

func secondsOr(v float64, def float64) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v * float64(time.Second))
}

// record records the caller into the command's file; recordingReady is
// sent at once when it ends.
func (r *iotCommand) record() {
	m, c := r.m, r.m.c
	rc := r.cmd.Record
	max := time.Duration(rc.MaxSeconds) * time.Second
	if max <= 0 {
		max = time.Minute
	}
	start := c.e.cfg.Clock.Now()
	stop, err := r.ivr.leg.Record(RecordRequest{BucketName: PromptFileBucket, Key: rc.FileName},
		RecordEvents{Failed: func(err error) { c.post(func() { r.fail(err) }) }})
	if err != nil {
		r.fail(err)
		return
	}
	r.stopRec = stop
	r.timer.start(max, func() { r.endRecording(start) })
	_ = m
}

func (r *iotCommand) endRecording(start time.Time) {
	m, c := r.m, r.m.c
	stop := r.stopRec
	r.stopRec = nil
	if stop == nil {
		return
	}
	if err := stop(); err != nil {
		r.fail(err)
		return
	}
	file := r.cmd.Record.FileName
	dur := c.e.cfg.Clock.Now().Sub(start)
	_, _ = m.send(&abi.IotRequest{Callback: abi.CallbackRecordingReady, ParticipantID: r.ivr.iotID, FileName: file,
		Location: "/promptfile/" + file, Duration: int(dur.Round(time.Second) / time.Second)})
	r.finish(nil)
}

// digit takes the caller's digits: the first stops the phrases
// (barge-in); collection ends at maxDigits or the terminator.
func (r *iotCommand) digit(d rune) bool {
	if r.over {
		return false
	}
	if r.cmd.Record != nil && r.stopRec != nil && string(d) == r.cmd.Record.Terminator {
		r.timer.stop()
		r.endRecording(r.m.c.e.cfg.Clock.Now())
		return true
	}
	if r.dtmf == nil {
		return false
	}
	if r.pb != nil {
		r.pb.stop()
		r.pb = nil
	}
	if r.dtmf.Terminator != "" && string(d) == r.dtmf.Terminator {
		r.collected(abi.DtmfTerminator)
		return true
	}
	r.digits = append(r.digits, byte(d))
	if len(r.digits) >= r.dtmf.MaxDigits {
		r.collected(abi.DtmfMaxDigits)
		return true
	}
	r.timer.start(secondsOr(r.dtmf.InterDigitTimeout, 3), func() { r.collected(abi.DtmfInterDigit) })
	return true
}

func (r *iotCommand) collected(reason string) {
	r.finish(&abi.DtmfParams{DtmfMatch: string(r.digits), Reason: reason})
}

func (r *iotCommand) fail(err error) {
	if r.over {
		return
	}
	r.m.c.log.Warn("iotcomms: IVR command failed", "participant", r.ivr.iotID, "err", err)
	r.st.failed = err.Error()
	r.st.failures++
	r.finish(nil)
}

func (r *iotCommand) finish(dtmf *abi.DtmfParams) {
	if r.over {
		return
	}
	r.over = true
	r.timer.stop()
	if r.pb != nil {
		r.pb.stop()
	}
	if r.stopRec != nil {
		_ = r.stopRec()
		r.stopRec = nil
	}
	if r.ivr.act != nil && r.ivr.act.r == r {
		r.ivr.act = nil
	}
	r.m.later(func() { r.m.commandDone(r.ivr, r.cmd, dtmf) })
}

// stop ends the command without continuing (the IVR leaves, an
// interrupt).
func (r *iotCommand) stop() {
	if r.over {
		return
	}
	r.over = true
	r.timer.stop()
	if r.pb != nil {
		r.pb.stop()
	}
	if r.stopRec != nil {
		_ = r.stopRec()
		r.stopRec = nil
	}
	if r.ivr.act != nil && r.ivr.act.r == r {
		r.ivr.act = nil
	}
}

// interrupt ends the running command as if its digits were complete
// (reason "interrupted"), and the IVR asks for the next.
func (r *iotCommand) interrupt() {
	if r.over {
		return
	}
	r.finish(&abi.DtmfParams{DtmfMatch: string(r.digits), Reason: abi.DtmfInterrupted})
}

// playPhrase plays one phrase through the IVR participant's leg.
func (m *iotModel) playPhrase(ivr *participant, ph abi.Phrase, done func(error)) (*playback, error) {
	c := m.c
	switch ph.Format {
	case abi.PhraseFile:
		return c.play(ivr.leg, abi.AudioSource{Type: "S3", BucketName: PromptFileBucket, Key: ph.FileName}, done)
	case abi.PhraseURL:
		return c.play(ivr.leg, abi.AudioSource{Type: "URL", URI: ph.URL}, done)
	case abi.PhraseAwsTTS:
		t := ph.AwsTTSParameters
		return c.speak(ivr.leg, SpeechRequest{Text: t.Text, TextType: t.TextType, Engine: t.Engine,
			LanguageCode: t.LanguageCode, VoiceID: t.VoiceID}, done)
	}
	return nil, fmt.Errorf("%w: phrase format %q", ErrAudioSource, ph.Format)
}

var errIotNotFound = errors.New("iotcomms: not found")
