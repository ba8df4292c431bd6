package callleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/denoise"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/sip"
)

// Leg is engine.Leg over one SIP call and its RTP endpoint (also
// engine.CallRecorder, engine.Speaker and engine.VoiceFocuser).
//
// The engine calls Answer, Play, Record… from the call's goroutine; the SIP
// event pump (Run) and the media clock (digits) run on others, so the
// media state sits under mu.
type Leg struct {
	ls     *Legs
	sc     *sip.Call
	tenant string
	log    *slog.Logger

	// call is set once Engine.Inbound returned. The engine may call Answer
	// before that, so media callbacks load it atomically and drop input
	// that arrives before it is set (none can: the caller has no RTP
	// address for us until the 200 OK).
	call atomic.Pointer[engine.Call]

	mu       sync.Mutex
	ep       *media.Endpoint
	onHold   bool
	players  map[*media.Player]struct{}
	records  map[*media.Recorder]struct{}
	focus    *denoise.Stage // VoiceFocus, when on
	srtp     sip.SRTP       // the keys the endpoint uses (zero: plain RTP)
	released bool

	// For the call's summary line (Outcome).
	answeredAt time.Time
	rejectCode int
	sipEnd     string // the SIP dialog's end reason: bye, hangup, cancel, …
}

var _ engine.Leg = (*Leg)(nil)

func (ls *Legs) newLeg(c *sip.Call, tenant string, log *slog.Logger) *Leg {
	return &Leg{ls: ls, sc: c, tenant: tenant, log: log,
		players: map[*media.Player]struct{}{}, records: map[*media.Recorder]struct{}{}}
}

// ID is the SIP Call-ID.
func (l *Leg) ID() string { return l.sc.ID }

// Run pumps the SIP events into the engine call until both have ended,
// then releases the media. It runs on the handler goroutine of the call.
func (l *Leg) Run(call *engine.Call) {
	l.call.Store(call)
	events := l.sc.Events()
	for events != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			l.onEvent(call, ev)
		case <-call.Done():
			// The engine is finished with the call; make sure the dialog
			// is too (a no-op when it already ended), then drain.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = l.sc.Hangup(ctx)
			cancel()
			l.release()
			for ev := range events {
				l.onEvent(call, ev)
			}
			events = nil
		}
	}
	<-call.Done()
	l.release()
}

// onEvent handles one SIP event, in order.
func (l *Leg) onEvent(call *engine.Call, ev sip.Event) {
	switch ev.Type {
	case sip.EventAck:
		if ev.Media.Addr.IsValid() { // offerless INVITE: the answer came in the ACK
			l.setRemote(ev.Media)
		}
	case sip.EventReInvite:
		// Through the session, in order with its connection changes.
		m := ev.Media
		call.Reinvite(func() { l.setRemote(m) })
	case sip.EventDTMF:
		call.Digit(ev.DTMF.Digit)
	case sip.EventBye, sip.EventCancel:
		call.RemoteHangup()
	case sip.EventTerminated:
		l.log.Debug("sip dialog ended", "reason", ev.Reason)
		l.ended(ev.Reason)
		switch ev.Reason {
		case "bye", "cancel", "hangup", "rejected":
		default: // no-ack, shutdown, bad answer: the engine must end the call too
			call.RemoteHangup()
		}
		l.release()
	}
}

// setRemote applies the remote media of an SDP (answer or re-INVITE):
// address, codec, packet time and direction. Hold (the peer sendonly,
// inactive or at 0.0.0.0) stops our sending; unhold resumes it.
func (l *Leg) setRemote(m sip.Media) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ep == nil || l.released {
		return
	}
	dir := ourDirection(m)
	// Keys first: nothing may go to a new address in clear.
	if m.SRTP != l.srtp {
		if err := l.ep.SetSRTP(mediaSRTP(m.SRTP)); err != nil {
			l.log.Warn("srtp: keys of the new sdp refused", "err", err)
		} else {
			l.log.Info("srtp keys set", "suite", m.SRTP.Suite, "on", m.SRTP.On())
			l.srtp = m.SRTP
		}
	}
	if m.Addr.IsValid() && !m.Addr.Addr().IsUnspecified() {
		l.ep.SetRemote(m.Addr)
	}
	if c, err := codec.Parse(m.Codec.Name); err == nil {
		if err := l.ep.SetCodec(c, m.Codec.PayloadType, m.DTMFPayloadType); err != nil {
			l.log.Warn("rtp: codec of the new sdp refused", "codec", m.Codec.Name, "payload_type", m.Codec.PayloadType, "err", err)
		}
	}
	if pt := packetTime(m); pt > 0 {
		_ = l.ep.SetPacketTime(pt) // an odd ptime keeps the current one
	}
	hold := !dir.Sends()
	if hold != l.onHold {
		l.log.Info(map[bool]string{true: "call on hold", false: "call resumed"}[hold], "direction", dir)
	}
	l.onHold = hold
	_ = l.ep.SetDirection(dir)
}

// mediaSRTP is the endpoint's SRTP of negotiated keys (nil: plain RTP).
func mediaSRTP(s sip.SRTP) *media.SRTP {
	if !s.On() {
		return nil
	}
	p, err := media.ParseSRTPProfile(s.Suite)
	if err != nil {
		return &media.SRTP{} // refused by the endpoint, never sent in clear
	}
	return &media.SRTP{Profile: p, Local: append([]byte(nil), s.Local[:]...), Remote: append([]byte(nil), s.Remote[:]...)}
}

// ourDirection is the media direction we answer the peer's media with.
func ourDirection(m sip.Media) media.Direction {
	d, err := media.ParseDirection(string(m.Direction))
	if err != nil {
		d = media.SendRecv
	}
	ours := d.Answer()
	if !m.Addr.IsValid() || m.Addr.Addr().IsUnspecified() {
		// RFC 2543 hold: nowhere to send to, but keep receiving.
		switch ours {
		case media.SendRecv:
			ours = media.RecvOnly
		case media.SendOnly:
			ours = media.Inactive
		}
	}
	return ours
}

// packetTime is the peer's a=ptime, 0 when absent.
func packetTime(m sip.Media) time.Duration {
	return time.Duration(m.PTime) * time.Millisecond
}

// Answer allocates the RTP endpoint, sends 200 OK naming it and waits for
// the ACK.
func (l *Leg) Answer(ctx context.Context) error {
	remote := l.sc.Remote
	cd := codec.PCMU
	if remote.Codec.Name != "" {
		c, err := codec.Parse(remote.Codec.Name)
		if err != nil {
			return err
		}
		cd = c
	}
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return sip.ErrCallTerminated
	}
	dir := ourDirection(remote)
	target := remote.Addr
	if !target.IsValid() || target.Addr().IsUnspecified() {
		target = netip.AddrPort{} // offerless INVITE or RFC 2543 hold: set by a later SDP
	}
	ep, err := media.NewEndpoint(media.EndpointConfig{
		Clock:          l.ls.cfg.Clock,
		Ports:          l.ls.cfg.Ports,
		Owner:          l.tenant,
		Codec:          cd,
		PayloadType:    remote.Codec.PayloadType,
		TelephoneEvent: remote.DTMFPayloadType,
		Remote:         target,
		Symmetric:      l.ls.cfg.Symmetric,
		Targets:        l.ls.cfg.Targets,
		OnDigit:        l.onDigit,
		Logger:         l.log,
		Direction:      dir,
		SRTP:           mediaSRTP(remote.SRTP),
	})
	if err != nil {
		l.mu.Unlock()
		return err
	}
	l.srtp = remote.SRTP
	if pt := packetTime(remote); pt > 0 {
		_ = ep.SetPacketTime(pt)
	}
	l.ep = ep
	l.onHold = !dir.Sends()
	l.mu.Unlock()

	if err := l.sc.Answer(ep.LocalAddr()); err != nil {
		l.release()
		return err
	}
	// Answer returns once the ACK arrived: the caller really is at the
	// address it gave (a forged INVITE gets no ACK), so media may flow.
	ep.Confirm()
	l.answered()
	l.log.Info("call answered", "rtp", ep.LocalAddr(), "remote", remote.Addr, "codec", cd, "telephone_event", remote.DTMFPayloadType,
		"transport", l.sc.Transport, "srtp", srtpName(remote.SRTP))
	return nil
}

// answered notes the answer, for Outcome.
func (l *Leg) answered() {
	l.mu.Lock()
	l.answeredAt = time.Now()
	l.mu.Unlock()
}

// ended notes the SIP dialog's end reason, for Outcome.
func (l *Leg) ended(reason string) {
	l.mu.Lock()
	l.sipEnd = reason
	l.mu.Unlock()
}

// Outcome summarises the ended call for its log line: whether it was
// answered, how long it lasted from the answer, and why it ended
// (hangup_cause: remote (the far end's BYE), server (our BYE: the application or a
// shutdown), canceled, rejected with sip_code, no-ack, shutdown).
func (l *Leg) Outcome() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	cause := l.sipEnd
	switch cause {
	case "bye":
		cause = "remote"
	case "hangup":
		cause = "server"
	case "cancel":
		cause = "canceled"
	case "":
		cause = "unknown"
	}
	out := []any{"answered", !l.answeredAt.IsZero()}
	if !l.answeredAt.IsZero() {
		out = append(out, "duration", time.Since(l.answeredAt).Round(time.Millisecond))
	}
	out = append(out, "hangup_cause", cause)
	if l.rejectCode != 0 {
		out = append(out, "sip_code", l.rejectCode)
	}
	out = append(out, "srtp", srtpName(l.srtp))
	return out
}

// srtpName is the SRTP suite for logs, "off" for plain RTP.
func srtpName(s sip.SRTP) string {
	if !s.On() {
		return "off"
	}
	return s.Suite
}

// onDigit runs on the media clock: RFC 4733 or in-band digits.
func (l *Leg) onDigit(d dtmf.Received) {
	if c := l.call.Load(); c != nil {
		c.Digit(rune(d.Digit))
	}
}

// Reject refuses the unanswered call.
func (l *Leg) Reject(ctx context.Context, code int) error {
	defer l.release()
	l.mu.Lock()
	l.rejectCode = code
	l.mu.Unlock()
	return l.sc.Reject(code, reasonPhrase(code))
}

// reasonPhrase is the RFC 3261 reason phrase of the codes the engine uses.
func reasonPhrase(code int) string {
	switch code {
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return ""
}

// Hangup sends BYE and frees the media.
func (l *Leg) Hangup(ctx context.Context) error {
	l.release()
	return l.sc.Hangup(ctx)
}

// endpoint returns the answered endpoint.
func (l *Leg) endpoint() (*media.Endpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ep == nil || l.released {
		return nil, ErrNotAnswered
	}
	return l.ep, nil
}

// Play resolves src in the tenant's bucket store and plays it.
func (l *Leg) Play(src abi.AudioSource, done func(err error)) (func(), error) {
	ep, err := l.endpoint()
	if err != nil {
		return nil, err
	}
	if src.Type == "URL" { // an extension: fetched in the background (Audio, playAsync)
		return l.playAsync(func(ctx context.Context) (*media.Prompt, error) {
			p, err := l.ls.cfg.Audio.URLPrompt(ctx, src.URI)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", engine.ErrAudioSource, err)
			}
			return p, nil
		}, done)
	}
	if src.Type != "S3" {
		return nil, fmt.Errorf("%w: %w %q", engine.ErrAudioSource, ErrUnsupportedSource, src.Type)
	}
	path, err := l.ls.cfg.Storage.PromptFile(l.tenant, src.BucketName, src.Key) // fetched from S3 if needed
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", engine.ErrAudioSource, err)
	}
	prompt, err := l.ls.cfg.Prompts.Load(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s/%s not found", engine.ErrAudioSource, src.BucketName, src.Key)
		}
		return nil, fmt.Errorf("%w: %s/%s: %w", engine.ErrAudioSource, src.BucketName, src.Key, err)
	}
	return l.attach(ep, prompt, done)
}

// attach plays prompt once on ep.
func (l *Leg) attach(ep *media.Endpoint, prompt *media.Prompt, done func(err error)) (func(), error) {
	var p *media.Player
	p = media.NewPlayer(prompt, 1, func(r media.PlayResult) {
		l.mu.Lock()
		delete(l.players, p)
		l.mu.Unlock()
		if r.Reason == media.ReasonFinished {
			done(nil)
		}
	})
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil, ErrNotAnswered
	}
	l.players[p] = struct{}{}
	l.mu.Unlock()
	ep.SetSource(p)
	return p.Stop, nil
}

// SendDigits sends RFC 4733 events, or in-band tones when the peer
// offered no telephone-event (the endpoint decides).
func (l *Leg) SendDigits(digits string, tone time.Duration, done func(err error)) error {
	ep, err := l.endpoint()
	if err != nil {
		return err
	}
	return ep.SendDigits(digits, tone, func() { done(nil) })
}

// Record writes the caller's audio as a mono WAV into the bucket store,
// incrementally, and reports silence edges when asked to.
func (l *Leg) Record(req engine.RecordRequest, ev engine.RecordEvents) (func() error, error) {
	ep, err := l.endpoint()
	if err != nil {
		return nil, err
	}
	path, err := l.ls.cfg.Storage.RecordingFile(l.tenant, req.BucketName, req.Key) // quota, S3 upload
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	var rec *media.Recorder
	rec, err = media.NewRecorder(media.RecorderConfig{
		Path:  path,
		Track: media.TrackIncoming,
		OnDone: func(r media.RecordResult) {
			if r.Err != nil && ev.Failed != nil {
				ev.Failed(r.Err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	var sil *media.SilenceDetector
	if req.SilenceThreshold > 0 && ev.Silence != nil {
		sil = media.NewSilenceDetector(req.SilenceThreshold, ev.Silence)
	}
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		rec.Stop()
		rec.Wait()
		return nil, ErrNotAnswered
	}
	l.records[rec] = struct{}{}
	l.mu.Unlock()
	ep.AddSink(rec)
	if sil != nil {
		ep.AddSink(sil)
	}
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() {
			ep.RemoveSink(rec)
			if sil != nil {
				ep.RemoveSink(sil)
			}
			rec.Stop()
			result = l.ls.cfg.Storage.RecordingDone(path, rec.Wait().Err)
			l.mu.Lock()
			delete(l.records, rec)
			l.mu.Unlock()
		})
		return result
	}
	return stop, nil
}

// release stops every player and recorder and frees the endpoint (its
// port goes back to the pool). Safe to call more than once.
func (l *Leg) release() {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return
	}
	l.released = true
	ep := l.ep
	players := l.players
	records := l.records
	l.players, l.records = map[*media.Player]struct{}{}, map[*media.Recorder]struct{}{}
	l.mu.Unlock()
	for p := range players {
		p.Stop()
	}
	l.stopFocus(ep)
	for r := range records {
		r.Stop()
		res := r.Wait()
		if err := l.ls.cfg.Storage.RecordingDone(res.Path, res.Err); err != nil {
			l.log.Warn("recording failed", "path", res.Path, "err", err)
		}
	}
	if ep != nil {
		if err := ep.Close(); err != nil && !errors.Is(err, media.ErrClosed) {
			l.log.Warn("closing rtp endpoint", "err", err)
		}
		st := ep.Stats()
		if f := l.ls.cfg.LegEnded; f != nil {
			f(st)
		}
		l.log.Debug("rtp stats", "rx", st.RxPackets, "tx", st.TxPackets, "foreign", st.RxForeign,
			"malformed", st.RxMalformed, "unknown_pt", st.RxUnknownPT, "bad_size", st.RxBadSize)
	}
}

// StartCallRecording records the leg in the background until Stop or the
// end of the call (engine.CallRecorder).
func (l *Leg) StartCallRecording(req engine.CallRecordingRequest, failed func(err error)) (engine.CallRecording, error) {
	ep, err := l.endpoint()
	if err != nil {
		return nil, err
	}
	var track media.Track
	switch req.Track {
	case abi.TrackIncoming:
		track = media.TrackIncoming
	case abi.TrackOutgoing:
		track = media.TrackOutgoing
	case abi.TrackBoth:
		track = media.TrackBoth
	default:
		return nil, fmt.Errorf("call recording: unknown track %q", req.Track)
	}
	path, err := l.ls.cfg.Storage.RecordingFile(l.tenant, req.BucketName, req.Key) // quota, S3 upload
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("call recording: %w", err)
	}
	rec, err := media.NewRecorder(media.RecorderConfig{
		Path:  path,
		Track: track,
		OnDone: func(r media.RecordResult) {
			if r.Err != nil && failed != nil {
				failed(r.Err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("call recording: %w", err)
	}
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		rec.Stop()
		rec.Wait()
		return nil, ErrNotAnswered
	}
	l.records[rec] = struct{}{}
	l.mu.Unlock()
	ep.AddSink(rec)
	return &callRecording{l: l, ep: ep, rec: rec}, nil
}

// callRecording is an engine.CallRecording over a media.Recorder.
type callRecording struct {
	l    *Leg
	ep   *media.Endpoint
	rec  *media.Recorder
	once sync.Once
	err  error
}

func (c *callRecording) Pause() error  { c.rec.Pause(); return nil }
func (c *callRecording) Resume() error { c.rec.Resume(); return nil }

// Stop detaches the recorder and waits for the file to be complete.
func (c *callRecording) Stop() error {
	c.once.Do(func() {
		c.ep.RemoveSink(c.rec)
		c.rec.Stop()
		res := c.rec.Wait()
		c.err = c.l.ls.cfg.Storage.RecordingDone(res.Path, res.Err)
		c.l.mu.Lock()
		delete(c.l.records, c.rec)
		c.l.mu.Unlock()
	})
	return c.err
}

var _ engine.CallRecorder = (*Leg)(nil)

// Speak synthesises req in the background (host/audio: cached by provider,
// voice and text) and plays it (engine.Speaker).
func (l *Leg) Speak(req engine.SpeechRequest, done func(err error)) (func(), error) {
	return l.playAsync(func(ctx context.Context) (*media.Prompt, error) {
		return l.ls.cfg.Audio.Speak(ctx, speech.Request{Text: req.Text, TextType: req.TextType, Engine: req.Engine,
			LanguageCode: req.LanguageCode, VoiceID: req.VoiceID})
	}, done)
}

// playAsync plays the prompt load returns. load runs on its own goroutine
// (a synthesis or a fetch never blocks the call's goroutine or the media
// clock); stop cancels it, or stops the player once it plays.
func (l *Leg) playAsync(load func(ctx context.Context) (*media.Prompt, error), done func(err error)) (func(), error) {
	ep, err := l.endpoint()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	stopped := false
	var stopPlayer func()
	go func() {
		p, err := load(ctx)
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if err == nil {
			stopPlayer, err = l.attach(ep, p, done)
		}
		if err != nil {
			done(err)
		}
	}()
	return func() {
		mu.Lock()
		stopped = true
		sp := stopPlayer
		mu.Unlock()
		cancel()
		if sp != nil {
			sp()
		}
	}, nil
}

// SetVoiceFocus switches noise suppression of the caller's audio on or
// off (engine.VoiceFocuser): a media/denoise stage running RNNoise as Wasm,
// the endpoint's first receive stage.
func (l *Leg) SetVoiceFocus(on bool) error {
	ep, err := l.endpoint()
	if err != nil {
		return err
	}
	if !on {
		l.stopFocus(ep)
		return nil
	}
	l.mu.Lock()
	has := l.focus != nil
	l.mu.Unlock()
	if has {
		return nil
	}
	st, err := l.ls.cfg.Audio.NewFocus()
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.released || l.focus != nil {
		l.mu.Unlock()
		st.Close()
		return nil
	}
	l.focus = st
	l.mu.Unlock()
	ep.SetFilter(st)
	l.log.Info("voicefocus on")
	return nil
}

// stopFocus removes and frees the VoiceFocus stage, if any.
func (l *Leg) stopFocus(ep *media.Endpoint) {
	l.mu.Lock()
	st := l.focus
	l.focus = nil
	l.mu.Unlock()
	if st == nil {
		return
	}
	if ep != nil {
		ep.SetFilter(nil) // no FilterFrame runs after this returns
	}
	if err := st.Err(); err != nil {
		l.log.Warn("voicefocus failed during the call; audio passed unfiltered", "err", err)
	}
	st.Close()
	l.log.Info("voicefocus off")
}

var (
	_ engine.Speaker      = (*Leg)(nil)
	_ engine.VoiceFocuser = (*Leg)(nil)
)
