// Package engine runs calls: it turns call events into plugin invocations
// and executes the actions the plugin returns, following the rules of the
// Amazon Chime SDK "SIP media application" (PSTN audio) service. It is pure
// logic: SIP and RTP sit behind the Leg interface, joined media behind
// Connector, the plugin behind Invoker, time behind Clock.
//
// # Sessions: participants and connections
//
// A call (Chime: transaction) is a session of participants joined by
// connections; the Chime rules below are a model (model.go) running on
// that core.
//
//   - A participant (participant.go) is a SIP leg that called in or that the
//     session dialled, or an IVR participant, which has no SIP leg: it
//     plays, listens for digits and records through the SIP participants of
//     its connection (ivrLeg). Each participant has its own running action
//     (runOn) and ReceiveDigits listener; a digit of a SIP participant goes
//     to its own action, then its listener, then to the IVR participants of
//     its connection. A monitor is a dialled participant that listens only
//     and that the model's events never show.
//   - A connection (connection.go) is a set of participants with roles,
//     speak+listen or listen-only. Its media is a MediaConnection from the
//     Connector: a relay or transcoding bridge for two speakers, a mix for
//     three or more or any listener (each hears the sum of the others, never
//     itself). Operations: connect, join, move (no gap in the mover's
//     media), split (members unconnected, the model told of each), drop;
//     a participant that hangs up leaves its connection.
//   - Digits, hang-ups and re-INVITEs reach a participant through the
//     session's inbox (Call.Digit, RemoteHangup, Reinvite; DialEvents for
//     dialled legs), so media changes never race connection changes.
//
// In the Chime model LEG-A and LEG-B are participants, CallAndBridge
// connects them, a conference room (JoinChimeMeeting) is a conference
// connection shared by the sessions of one tenant, and Engine.Monitor
// dials a listener into LEG-A's connection.
//
// # One call, one goroutine
//
// Each call (Chime: transaction) is a state machine owned by one goroutine
// that reads one inbox. Every input is a message to it: digits, playback
// finished, silence reports, remote hangup, timers, updates from the API.
// Nothing else touches call state, so there are no locks around it and the
// order of events is deterministic. Leg callbacks and timers only post to
// the inbox, which is unbounded, so posting never blocks. The plugin is
// invoked synchronously from that goroutine: while it runs, new input waits
// in the inbox.
//
// # Events and responses (Chime's rules)
//
//   - Sequence grows by one per invocation (a retry keeps its Sequence).
//   - A list of actions runs in order. After the whole list, ACTION_SUCCESSFUL
//     echoes the last action (Type and Parameters) with its results. On the
//     first failure, ACTION_FAILED carries ErrorType/ErrorMessage in
//     ActionData and the rest of the list is dropped.
//   - A response without an action list (absent or null) keeps the current
//     actions; an empty list does nothing. TransactionAttributes, when
//     present, replace the call's attributes ({} clears them).
//   - A response that fails abi.ParseResponse or abi.ValidateResponse (this
//     includes a missing required parameter or a bad value in any action) is
//     rejected as a whole, before any of its actions runs, with
//     INVALID_LAMBDA_RESPONSE (ErrorType/ErrorMessage at the top level). So is
//     a response the plugin runtime refuses (an Invoker error wrapping
//     ErrInvalidResponse); it is not retried. After 3 invalid responses in a
//     row the call ends, so a broken plugin cannot loop forever.
//   - At most Limits.MaxInvocations invocations per call (1000); the call
//     ends when one more is needed. At most Limits.MaxActions (10) actions
//     per response.
//   - CallDetails: AwsAccountId is the tenant id and AwsRegion is
//     Config.Region (this server has no AWS account). Participants[0] is
//     LEG-A (Direction Inbound, or Outbound for Engine.Outbound), then LEG-B
//     once CallAndBridge dialled it; CallId = Leg.ID(); Status Connected or
//     Disconnected; SipHeaders keep only X- headers, User-to-User and
//     Diversion (for dialled legs: the headers the engine sent).
//
// # Ending a call
//
// Before the call is answered the engine rejects it with a SIP code; after,
// it sends BYE; a dialled leg that still rings is cancelled. A plugin invocation that fails (timeout, trap, no response…)
// is retried once on the same event (the runtime discards the bad instance,
// so the retry runs on a fresh one); a second failure ends the call with
// 480 Temporarily Unavailable (Chime's code for failed calls) or BYE. The
// same applies to 3 invalid responses in a row and to the invocation limit.
// A plugin that fails on NEW_INBOUND_CALL thus gets the call rejected with
// 480, and the reason is logged. An inbound call that no action has
// answered after Config.RingTimeout (60 s) is rejected with 480 too.
//
// The Hangup action rejects an unanswered call with its SipResponseCode
// (480 or 486; 0, "normal clearing", becomes 480 because a call that was
// never answered cannot be cleared normally), cancels a ringing dialled leg
// (reported as 487) or sends BYE on an answered one. Then, as in Chime, the
// plugin gets a HANGUP event (ActionData {Type:"Hangup",
// Parameters:{SipResponseCode, CallId, ParticipantTag}}, the participant
// Disconnected); actions after Hangup are dropped. Its response is ignored
// when no leg is left (the call ends), executed otherwise (see Legs). When
// the caller hangs up, the plugin gets the same HANGUP event with
// SipResponseCode "0". Engine.Hangup ends every leg the same way (one HANGUP
// per leg, responses ignored). Calls that end because the plugin failed or
// the engine closed get no HANGUP event.
//
// # Legs
//
// A call has LEG-A and, after CallAndBridge, LEG-B. An action addresses
// the leg named by its CallId, which wins over ParticipantTag (Chime says
// not to give both; abi.ValidateResponse checks that they name a
// participant). With neither, it addresses the first leg still up, LEG-A
// first, so the usual response to a bridged leg's HANGUP (Hangup without
// parameters) ends the other leg. An action that needs media on a leg that
// has hung up, or that still rings, fails with InvalidActionParameter.
// Digits are per leg: a leg's digit goes to the running action if it runs
// on that leg, else to the ReceiveDigits listener if it listens on that leg
// (one listener per call; a new ReceiveDigits replaces it).
//
// When a leg hangs up (BYE, or a failed outbound call), the running action
// and the queued ones are dropped, the bridge is undone, the leg's call
// recording is stopped, and the plugin gets HANGUP for that leg
// (SipResponseCode, CallId, ParticipantTag). If another leg is still up its
// response is executed, as in Chime; the remaining leg stays up until the
// plugin hangs it up. The call (transaction) ends when no leg is left.
//
// # Answering
//
// An inbound LEG-A is answered (Leg.Answer) just before the first action
// that needs media on it: every supported action except Hangup, the
// recording controls and ModifyChimeMeetingAttendees. A first action of
// Hangup rejects the call instead; an action this server does not support
// fails without answering. Dialled legs are answered by the far end.
//
// # Outbound calls
//
// Engine.Outbound (Chime's CreateSipMediaApplicationCall) dials LEG-A
// through Config.Dialer. NEW_OUTBOUND_CALL carries ActionData
// {Type:"CallCreateRequest", Parameters:{Arguments:{…}}} with the request's
// ArgumentsMap, as Chime sends it; its response and RINGING's (sent once per
// 180/183) are ignored except for TransactionAttributes. CALL_ANSWERED's
// response is the first action list. A call that fails gets HANGUP with the
// final SIP code (486, 480, 603…; 480 for a transport failure), and the call
// ends. Unlike Chime, a ringing call can be hung up: a Hangup action or
// Engine.Hangup sends CANCEL and the HANGUP event says 487; after
// Config.RingTimeout (60 s) the engine cancels it and says 408. The
// request's SipHeaders reach the plugin in Participants[0].SipHeaders, which
// Chime does not do.
//
// # CallAndBridge
//
// CallAndBridge answers LEG-A if needed, dials Endpoints[0].Uri from
// CallerIdNumber with SipHeaders, and plays RingbackTone to LEG-A in a loop
// while LEG-B rings (a tone that cannot be played is only logged). On
// answer the tone stops, the legs are connected (a bridge) and the action
// succeeds; no CALL_ANSWERED or RINGING is sent for LEG-B. A final failure
// fails it with CallNotAnswered "CallAndBridge: call not answered: SIP 486"
// (SystemException for a transport error); CallTimeoutSeconds (30) without
// answer cancels LEG-B and fails it with CallNotAnswered. LEG-B then shows
// as Disconnected until a new CallAndBridge replaces it. A call has at most
// two legs. If LEG-A hangs up while LEG-B rings, LEG-B is cancelled (no
// HANGUP for it) and the call ends.
//
// # Call recording
//
// StartCallRecording records the leg named by CallId in the background
// (CallRecorder) and succeeds at once; ACTION_SUCCESSFUL carries
// ActionData.CallRecordingDestination {Type:"S3", Location:"bucket/key"}.
// The key follows Chime: {prefix}/{yyyy}/{mm}/{dd}/{yyyy-mm-dd-hh-mm-ss-mmm}_{TransactionId}_{CallId}.wav,
// with Location "bucket/prefix" and prefix "Amazon-Chime-SMA-Call-Recordings"
// when Location is only a bucket; the time is the Clock's, in UTC, at the
// start. A leg is recorded at most once (a second start fails with
// InvalidActionParameter, even after a stop, as in Chime). Pause, Resume and
// Stop fail with InvalidActionParameter when no recording runs on the leg.
// The recording stops when its leg or the call ends.
//
// # Conferences
//
// JoinChimeMeeting puts the leg into a local conference room named by its
// JoinToken (a Connector conference): rooms are created on first join and closed
// when the last attendee leaves; the MeetingId given with the first join is
// an alias of the room. The attendee id is the leg's CallId, so
// ModifyChimeMeetingAttendees (MeetingId = that alias or the JoinToken)
// mutes or unmutes legs by CallId; an unknown meeting or attendee fails with
// ResourceNotFound and changes nothing. A leg is in one room at a time and
// leaves it when it hangs up. Without Config.Connector both actions fail
// with SystemException.
//
// # Updates and interruptions
//
// Engine.Update posts CALL_UPDATE_REQUESTED (ActionData
// {Type:"CallUpdateRequest", Parameters:{Arguments:{…}}}). A non-empty list
// in its response replaces the queue: a running PlayAudio, RecordAudio or
// Pause stops at once and ACTION_INTERRUPTED is sent (its response ignored);
// any other running action finishes first (its result is not reported) and
// then the new list runs. An empty list drops the queued actions but lets a
// running one finish, unreported. The response to DIGITS_RECEIVED is applied
// the same way, since it too can arrive while actions run.
//
// # Actions
//
// A dispatch table maps action types to implementations (actions.go); types
// without one fail with SystemException "X is not supported by this server
// yet". Audio errors reported by the Leg (wrapping ErrAudioSource) fail with
// InvalidAudioSource. Per action:
//
//   - PlayAudio plays Repeat times (default 1); a PlaybackTerminators digit
//     stops it and the action succeeds.
//   - PlayAudioAndGetDigits plays AudioSource; a digit stops the prompt
//     (barge-in). Input ends on a TerminatorDigits digit (default #, not part
//     of ReceivedDigits), at MaxNumberOfDigits (128), after
//     InBetweenDigitsDurationInMilliseconds (3000) without a digit, or, when
//     no digit came at all, RepeatDurationInMilliseconds after the prompt
//     ended. Input is valid when its length is within
//     [MinNumberOfDigits, MaxNumberOfDigits] and InputDigitsRegex (if any)
//     matches the digits, or the digits plus the terminator that ended them
//     (Chime's own example writes "^\d{2}#$"). Invalid input plays
//     FailureAudioSource (digits pressed during it are ignored) and starts the
//     next try; after Repeat tries the action fails with
//     InvalidActionParameter "no valid digits received after N attempts".
//     Success carries ReceivedDigits.
//   - Speak and SpeakAndGetDigits are PlayAudio (once, no terminators) and
//     PlayAudioAndGetDigits with speech (SpeechParameters,
//     FailureSpeechParameters) in place of the AudioSources, through the
//     Leg's optional Speaker (speech.go); a Leg without it fails them with
//     SystemException. Speak is not interruptible by an update, as in Chime.
//   - VoiceFocus switches the Leg's noise suppression (VoiceFocuser) on or
//     off and succeeds at once.
//   - Pause waits DurationInMilliseconds on the engine's Clock.
//   - SendDigits hands the digits to the Leg (default tone 250 ms) and
//     succeeds when they have been sent.
//   - ReceiveDigits installs a background listener (replacing any previous
//     one) and succeeds at once. The listener stays active for the rest of
//     the call. The first digit starts the flush window
//     (FlushDigitsDurationInMilliseconds); each digit restarts the
//     in-between timer (InBetweenDigitsDurationInMilliseconds). When the
//     in-between timer or the flush window expires and InputDigitsRegex
//     matches the collected digits, DIGITS_RECEIVED is sent with
//     ReceivedDigits; at the end of the flush window the digits are dropped
//     in any case. Without a listener, digits are discarded. A digit is
//     offered to the running action first (its terminators, or all digits
//     for PlayAudioAndGetDigits); only digits it does not use reach the
//     listener.
//   - RecordAudio records the caller into RecordingDestination.BucketName
//     under the key {Prefix}/{TransactionId}/{unix-ms}.wav (no "/" is added
//     when the prefix is empty or already ends with one; unix-ms is the
//     Clock's time at the start). It stops after DurationInSeconds, after
//     SilenceDurationInSeconds of silence (the Leg reports silence at
//     SilenceThreshold, default 200), or on a RecordingTerminators digit.
//     Success carries RecordingDestination {Type, BucketName, Key} and, only
//     when a terminator stopped it, RecordingTerminatorUsed. A recording
//     that cannot be stored fails with InvalidActionParameter.
package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wasmvoice/mediaserver/abi"
)

// Invoker runs the plugin for one event JSON and returns its response JSON.
// InvokerFunc adapts a function.
// An error wrapping ErrInvalidResponse means the plugin answered with
// something unusable; any other error is a failed invocation (retried once).
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, event []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	return f(ctx, event)
}

// Limits are Chime's per-call limits, configurable.
type Limits struct {
	MaxActions     int // actions per response (Chime: 10)
	MaxInvocations int // invocations per call (Chime: 1000)
	// MaxRecording caps one RecordAudio, also when the action gives no
	// DurationInSeconds (default 1 hour).
	MaxRecording time.Duration
}

// DefaultLimits returns Chime's limits and a one-hour recording cap.
func DefaultLimits() Limits {
	return Limits{MaxActions: 10, MaxInvocations: 1000, MaxRecording: time.Hour}
}

// maxInvalidInARow invalid responses end the call.
const maxInvalidInARow = 3

// maxUpdateArguments is Chime's limit on UpdateSipMediaApplicationCall.
const maxUpdateArguments = 20

// Config configures an Engine. Zero fields take defaults.
type Config struct {
	Clock  Clock        // default RealClock()
	Logger *slog.Logger // default discards
	Region string       // AwsRegion in events
	Limits Limits       // zero fields: DefaultLimits
	// InvokeTimeout bounds one plugin invocation as a safety net over the
	// runtime's own deadline (default 20 s, after which Chime hangs up).
	InvokeTimeout time.Duration
	// SignalTimeout bounds Leg.Answer, Reject and Hangup (default 10 s).
	SignalTimeout time.Duration
	// Dialer places outbound legs (Engine.Outbound, CallAndBridge); nil
	// means this server cannot dial out.
	Dialer Dialer
	// RingTimeout bounds how long an inbound call may wait unanswered for
	// its plugin to start media (then it is rejected with 480), and how
	// long the LEG-A of an outbound call may ring
	// before the engine cancels it (default 60 s; CallAndBridge has its own
	// CallTimeoutSeconds).
	RingTimeout time.Duration
	// Connector provides the media of connections: bridged legs
	// (CallAndBridge), conference rooms (JoinChimeMeeting), monitors. nil
	// means those actions fail with SystemException.
	Connector Connector
	// NewTransactionID makes the id of each new call (default: a random
	// UUID). A node of a cluster puts its node id inside, so any node
	// knows which one owns a call (host/cluster).
	NewTransactionID func() string
}

// App is what handles a call: the tenant's SIP media application and the
// plugin that implements it.
type App struct {
	TenantID              string // AwsAccountId in events
	SipMediaApplicationID string
	SipRuleID             string
	Handler               Invoker
	// Model is ModelChime (the default) or ModelIotcomms.
	Model string
}

// The programming models an application runs its calls with.
const (
	ModelChime    = "chime"
	ModelIotcomms = "iotcomms"
)

// CallInfo describes an inbound call.
type CallInfo struct {
	From, To string
	// SipHeaders of the INVITE; only X-*, User-to-User and Diversion reach
	// the plugin.
	SipHeaders map[string]string
	StartTime  time.Time // default: Clock.Now()
}

// CallSummary describes a live call, for the control API.
type CallSummary struct {
	TransactionID         string
	TenantID              string
	SipMediaApplicationID string
	CallID                string
	From, To              string
	StartTime             time.Time
	Direction             string // abi.DirectionInbound or abi.DirectionOutbound
}

// Engine runs calls. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	actions map[abi.ActionType]actionHandler
	rooms   *roomRegistry
	confs   sharedConfs // iotcomms conference connections (iotconf.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	calls  map[string]*Call
	closed bool
}

// New returns an Engine.
func New(cfg Config) *Engine {
	if cfg.Clock == nil {
		cfg.Clock = RealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := DefaultLimits()
	if cfg.Limits.MaxActions <= 0 {
		cfg.Limits.MaxActions = def.MaxActions
	}
	if cfg.Limits.MaxInvocations <= 0 {
		cfg.Limits.MaxInvocations = def.MaxInvocations
	}
	if cfg.Limits.MaxRecording <= 0 {
		cfg.Limits.MaxRecording = def.MaxRecording
	}
	if cfg.InvokeTimeout <= 0 {
		cfg.InvokeTimeout = 20 * time.Second
	}
	if cfg.SignalTimeout <= 0 {
		cfg.SignalTimeout = 10 * time.Second
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 60 * time.Second
	}
	if cfg.NewTransactionID == nil {
		cfg.NewTransactionID = uuid.NewString
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:     cfg,
		log:     cfg.Logger,
		actions: defaultActions(),
		rooms:   newRoomRegistry(cfg.Connector),
		ctx:     ctx,
		cancel:  cancel,
		calls:   make(map[string]*Call),
	}
}

// Inbound starts a call that arrived on leg for app: it sends
// NEW_INBOUND_CALL to the plugin and runs the call until it ends. It returns
// at once; the returned *Call takes the leg's digits and remote hangup.
func (e *Engine) Inbound(app App, leg Leg, info CallInfo) (*Call, error) {
	if app.Handler == nil || leg == nil {
		return nil, ErrInvalidCall
	}
	if info.StartTime.IsZero() {
		info.StartTime = e.cfg.Clock.Now()
	}
	c := newCall(e, app, &participant{
		leg:       leg,
		tag:       abi.LegA,
		direction: abi.DirectionInbound,
		from:      info.From,
		to:        info.To,
		start:     info.StartTime,
		headers:   info.SipHeaders,
	})
	c.init()
	c.legs[0].kind = KindInbound
	c.first = func() {
		// A caller is not left ringing forever by a plugin that answers
		// nothing: after RingTimeout the call is rejected with 480.
		c.ringTimer.start(e.cfg.RingTimeout, c.onInboundTimeout)
		c.deliver(c.newEvent(abi.EventNewInboundCall, nil), applyIdle)
	}
	if app.Model == ModelIotcomms {
		m := newIotModel(c)
		c.model = m
		c.first = func() {
			c.ringTimer.start(e.cfg.RingTimeout, c.onInboundTimeout)
			m.start()
		}
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	e.calls[c.txID] = c
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		c.run()
	}()
	return c, nil
}

func (e *Engine) remove(c *Call) {
	e.mu.Lock()
	delete(e.calls, c.txID)
	e.mu.Unlock()
}

// Calls lists the live calls, oldest first.
func (e *Engine) Calls() []CallSummary {
	e.mu.Lock()
	out := make([]CallSummary, 0, len(e.calls))
	for _, c := range e.calls {
		out = append(out, c.summary)
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartTime.Equal(out[j].StartTime) {
			return out[i].StartTime.Before(out[j].StartTime)
		}
		return out[i].TransactionID < out[j].TransactionID
	})
	return out
}

// Update sends CALL_UPDATE_REQUESTED with args to the call's plugin
// (Chime's UpdateSipMediaApplicationCall). It returns once the update is
// queued, like Chime's 202; ErrCallNotFound for an unknown or finished call.
func (e *Engine) Update(txID string, args map[string]string) error {
	if len(args) > maxUpdateArguments {
		return fmt.Errorf("%w: %d arguments, at most %d", ErrTooManyArguments, len(args), maxUpdateArguments)
	}
	e.mu.Lock()
	c := e.calls[txID]
	e.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%w: %s", ErrCallNotFound, txID)
	}
	args = maps.Clone(args)
	if args == nil {
		args = map[string]string{}
	}
	if !c.post(func() { c.onUpdate(args) }) {
		return fmt.Errorf("%w: %s", ErrCallNotFound, txID)
	}
	return nil
}

// Close ends every call (480 before answer, BYE after), refuses new ones
// and waits for the calls' goroutines, or for ctx.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("engine close: %w", ctx.Err())
	}
}
