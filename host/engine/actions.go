package engine

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// actionHandler implements one action type. start returns a runner for an
// action that goes on (it later calls Call.actionDone), or nil and the
// outcome of an action that is already over.
type actionHandler struct {
	needsMedia bool // the call is answered before the action starts
	start      func(c *Call, a abi.Action, params any) (runner, outcome)
}

// runner is an action in progress. Its methods run in the call's goroutine.
type runner interface {
	// digit offers a caller digit; true when the action used it.
	digit(d rune) bool
	// stop ends the action at once, without reporting an outcome.
	stop()
}

// outcome is how an action ended, and its results for ActionData.
type outcome struct {
	failed     bool
	errType    abi.ErrorType
	errMsg     string
	digits     string
	dest       *abi.RecordingDestination
	terminator string
	// callRecording is StartCallRecording's CallRecordingDestination.
	callRecording *abi.CallRecordingDestination
}

func failed(t abi.ErrorType, msg string) outcome {
	return outcome{failed: true, errType: t, errMsg: msg}
}

// defaultActions is the dispatch table; a later action is one more entry.
func defaultActions() map[abi.ActionType]actionHandler {
	return map[abi.ActionType]actionHandler{
		abi.ActionPlayAudio:                   {needsMedia: true, start: startPlayAudio},
		abi.ActionPlayAudioAndGetDigits:       {needsMedia: true, start: startPlayAndGetDigits},
		abi.ActionPause:                       {needsMedia: true, start: startPause},
		abi.ActionHangup:                      {needsMedia: false, start: startHangup},
		abi.ActionSendDigits:                  {needsMedia: true, start: startSendDigits},
		abi.ActionReceiveDigits:               {needsMedia: true, start: startReceiveDigits},
		abi.ActionRecordAudio:                 {needsMedia: true, start: startRecordAudio},
		abi.ActionCallAndBridge:               {needsMedia: true, start: startCallAndBridge},
		abi.ActionStartCallRecording:          {needsMedia: true, start: startCallRecording},
		abi.ActionStopCallRecording:           {needsMedia: false, start: stopCallRecording},
		abi.ActionPauseCallRecording:          {needsMedia: false, start: pauseCallRecording},
		abi.ActionResumeCallRecording:         {needsMedia: false, start: resumeCallRecording},
		abi.ActionJoinChimeMeeting:            {needsMedia: true, start: startJoinMeeting},
		abi.ActionModifyChimeMeetingAttendees: {needsMedia: false, start: startModifyAttendees},
		abi.ActionSpeak:                       {needsMedia: true, start: startSpeak},
		abi.ActionSpeakAndGetDigits:           {needsMedia: true, start: startSpeakAndGetDigits},
		abi.ActionVoiceFocus:                  {needsMedia: true, start: startVoiceFocus},
	}
}

func missing(t abi.ActionType, param string) outcome {
	return failed(abi.MissingRequiredActionParameter, fmt.Sprintf("%s: %s parameter is required", t, param))
}

func invalid(t abi.ActionType, param, why string) outcome {
	return failed(abi.InvalidActionParameter, fmt.Sprintf("%s: %s parameter value is invalid: %s", t, param, why))
}

// mediaFailure turns a Leg error into an outcome.
func mediaFailure(t abi.ActionType, err error) outcome {
	if errors.Is(err, ErrAudioSource) {
		return failed(abi.InvalidAudioSource, fmt.Sprintf("%s: %v", t, err))
	}
	return failed(abi.SystemException, fmt.Sprintf("%s: %v", t, err))
}

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

// isTerminator reports whether d is one of terms (single-character strings).
func isTerminator(terms []string, d rune) bool {
	return slices.Contains(terms, string(d))
}

// callTimer is a restartable timer on the call's clock whose firing runs in
// the call's goroutine; firings of a stopped or restarted timer are ignored.
type callTimer struct {
	c   *Call
	t   Timer
	gen uint64
}

func (t *callTimer) start(d time.Duration, f func()) {
	t.stop()
	g := t.gen
	c := t.c
	t.t = c.e.cfg.Clock.AfterFunc(d, func() {
		c.post(func() {
			if t.gen == g {
				t.t = nil
				t.gen++
				f()
			}
		})
	})
}

// pending reports whether the timer is set and has not fired.
func (t *callTimer) pending() bool { return t.t != nil }

func (t *callTimer) stop() {
	if t.t != nil {
		t.t.Stop()
		t.t = nil
	}
	t.gen++
}

// playback is one Leg.Play; its done callback is dropped once stopped.
type playback struct {
	stopFn func()
	live   bool
}

func (c *Call) play(leg Leg, src abi.AudioSource, onDone func(error)) (*playback, error) {
	p := &playback{live: true}
	stop, err := leg.Play(src, func(err error) {
		c.post(func() {
			if p.live {
				p.live = false
				onDone(err)
			}
		})
	})
	if err != nil {
		p.live = false
		return nil, err
	}
	p.stopFn = stop
	return p, nil
}

func (p *playback) stop() {
	if p != nil && p.live {
		p.live = false
		if p.stopFn != nil {
			p.stopFn()
		}
	}
}

// PlayAudio.

// playAudio also runs Speak (speech.go): source is what one round plays.
type playAudio struct {
	c      *Call
	action abi.ActionType
	terms  []string
	source func(onDone func(error)) (*playback, error)
	left   int
	pb     *playback
}

func startPlayAudio(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.PlayAudioParameters)
	r := &playAudio{c: c, action: a.Type, terms: p.PlaybackTerminators, left: p.Repeat.Or(1)}
	if r.left < 1 {
		return nil, invalid(a.Type, "Repeat", "must be at least 1")
	}
	leg := c.target.leg
	r.source = func(onDone func(error)) (*playback, error) { return c.play(leg, p.AudioSource, onDone) }
	if err := r.next(); err != nil {
		return nil, mediaFailure(a.Type, err)
	}
	return r, outcome{}
}

func (r *playAudio) next() error {
	pb, err := r.source(r.done)
	r.pb = pb
	return err
}

func (r *playAudio) done(err error) {
	if err != nil {
		r.c.actionDone(r, mediaFailure(r.action, err))
		return
	}
	r.left--
	if r.left == 0 {
		r.c.actionDone(r, outcome{})
		return
	}
	if err := r.next(); err != nil {
		r.c.actionDone(r, mediaFailure(r.action, err))
	}
}

func (r *playAudio) digit(d rune) bool {
	if !isTerminator(r.terms, d) {
		return false
	}
	r.pb.stop()
	r.c.actionDone(r, outcome{})
	return true
}

func (r *playAudio) stop() { r.pb.stop() }

// PlayAudioAndGetDigits.

type pagdPhase int

const (
	phasePrompt  pagdPhase = iota // the main prompt plays
	phaseInput                    // waiting for digits
	phaseFailure                  // the failure prompt plays
)

// playAndGetDigits also runs SpeakAndGetDigits (speech.go): prompt and
// failure (nil when there is none) start the main and the failure prompt.
type playAndGetDigits struct {
	c        *Call
	action   abi.ActionType
	leg      Leg
	prompt   promptFunc
	failure  promptFunc
	re       *regexp.Regexp
	min, max int
	terms    []string
	between  time.Duration
	wait     time.Duration
	tries    int
	attempt  int
	phase    pagdPhase
	digits   []byte
	pb       *playback
	timer    callTimer
}

func startPlayAndGetDigits(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.PlayAudioAndGetDigitsParameters)
	var failure promptFunc
	if p.FailureAudioSource != nil {
		failure = func(c *Call, leg Leg, onDone func(error)) (*playback, error) {
			return c.play(leg, *p.FailureAudioSource, onDone)
		}
	}
	return startGetDigits(c, a, getDigitsParams{
		regex: p.InputDigitsRegex, min: p.MinNumberOfDigits, max: p.MaxNumberOfDigits,
		terms: p.TerminatorDigits, between: p.InBetweenDigitsDurationInMilliseconds,
		repeat: p.Repeat, repeatDuration: p.RepeatDurationInMilliseconds,
	}, func(c *Call, leg Leg, onDone func(error)) (*playback, error) {
		return c.play(leg, p.AudioSource, onDone)
	}, failure)
}

// promptFunc starts one prompt of a get-digits action on leg.
type promptFunc func(c *Call, leg Leg, onDone func(error)) (*playback, error)

// getDigitsParams are the digit parameters PlayAudioAndGetDigits and
// SpeakAndGetDigits share.
type getDigitsParams struct {
	regex                                     string
	min, max, between, repeat, repeatDuration abi.Int
	terms                                     []string
}

func startGetDigits(c *Call, a abi.Action, p getDigitsParams, prompt, failure promptFunc) (runner, outcome) {
	r := &playAndGetDigits{
		c:       c,
		action:  a.Type,
		prompt:  prompt,
		failure: failure,
		min:     p.min.Or(0),
		max:     p.max.Or(128),
		terms:   p.terms,
		between: ms(p.between.Or(3000)),
		tries:   p.repeat.Or(1),
		timer:   callTimer{c: c},
	}
	if r.terms == nil {
		r.terms = []string{"#"}
	}
	if !p.repeatDuration.Set {
		return nil, missing(a.Type, "RepeatDurationInMilliseconds")
	}
	r.wait = ms(p.repeatDuration.Value)
	switch {
	case r.tries < 1:
		return nil, invalid(a.Type, "Repeat", "must be at least 1")
	case r.min < 0 || r.max < 1 || r.min > r.max:
		return nil, invalid(a.Type, "MinNumberOfDigits", "must be between 0 and MaxNumberOfDigits")
	case r.wait <= 0:
		return nil, invalid(a.Type, "RepeatDurationInMilliseconds", "must be positive")
	case r.between <= 0:
		return nil, invalid(a.Type, "InBetweenDigitsDurationInMilliseconds", "must be positive")
	}
	if p.regex != "" {
		re, err := regexp.Compile(p.regex)
		if err != nil {
			return nil, invalid(a.Type, "InputDigitsRegex", err.Error())
		}
		r.re = re
	}
	r.leg = c.target.leg
	if err := r.startAttempt(); err != nil {
		return nil, mediaFailure(a.Type, err)
	}
	return r, outcome{}
}

func (r *playAndGetDigits) startAttempt() error {
	r.attempt++
	r.digits = r.digits[:0]
	r.phase = phasePrompt
	pb, err := r.prompt(r.c, r.leg, r.promptDone)
	r.pb = pb
	return err
}

func (r *playAndGetDigits) promptDone(err error) {
	if err != nil {
		r.c.actionDone(r, mediaFailure(r.action, err))
		return
	}
	r.phase = phaseInput
	r.timer.start(r.wait, func() { r.evaluate("") })
}

func (r *playAndGetDigits) digit(d rune) bool {
	switch r.phase {
	case phaseFailure:
		return true // ignored while the failure prompt plays
	case phasePrompt:
		r.pb.stop() // barge-in
		r.phase = phaseInput
	}
	if isTerminator(r.terms, d) {
		r.evaluate(string(d))
		return true
	}
	r.digits = append(r.digits, byte(d))
	if len(r.digits) >= r.max {
		r.evaluate("")
		return true
	}
	r.timer.start(r.between, func() { r.evaluate("") })
	return true
}

// evaluate ends the current try; terminator is the digit that ended it.
func (r *playAndGetDigits) evaluate(terminator string) {
	r.timer.stop()
	got := string(r.digits)
	ok := len(got) >= r.min && len(got) <= r.max
	if ok && r.re != nil {
		ok = r.re.MatchString(got) || (terminator != "" && r.re.MatchString(got+terminator))
	}
	if ok {
		r.c.actionDone(r, outcome{digits: got})
		return
	}
	if r.attempt >= r.tries {
		r.c.actionDone(r, failed(abi.InvalidActionParameter,
			fmt.Sprintf("%s: no valid digits received after %d attempts", r.action, r.attempt)))
		return
	}
	if r.failure != nil {
		r.phase = phaseFailure
		pb, err := r.failure(r.c, r.leg, r.failureDone)
		r.pb = pb
		if err != nil {
			r.c.actionDone(r, mediaFailure(r.action, err))
		}
		return
	}
	r.retry()
}

func (r *playAndGetDigits) failureDone(err error) {
	if err != nil {
		r.c.actionDone(r, mediaFailure(r.action, err))
		return
	}
	r.retry()
}

func (r *playAndGetDigits) retry() {
	if err := r.startAttempt(); err != nil {
		r.c.actionDone(r, mediaFailure(r.action, err))
	}
}

func (r *playAndGetDigits) stop() {
	r.pb.stop()
	r.timer.stop()
}

// Pause.

type pause struct {
	timer callTimer
}

func startPause(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.PauseParameters)
	if !p.DurationInMilliseconds.Set {
		return nil, missing(a.Type, "DurationInMilliseconds")
	}
	if p.DurationInMilliseconds.Value < 0 {
		return nil, invalid(a.Type, "DurationInMilliseconds", "must not be negative")
	}
	r := &pause{timer: callTimer{c: c}}
	r.timer.start(ms(p.DurationInMilliseconds.Value), func() { c.actionDone(r, outcome{}) })
	return r, outcome{}
}

func (r *pause) digit(rune) bool { return false }
func (r *pause) stop()           { r.timer.stop() }

// Hangup.

func startHangup(c *Call, _ abi.Action, params any) (runner, outcome) {
	p := params.(*abi.HangupParameters)
	c.hangup(c.target, p.SipResponseCode.Or(0))
	return nil, outcome{}
}

// SendDigits.

type sendDigits struct {
	live bool
}

func startSendDigits(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.SendDigitsParameters)
	if p.Digits == "" {
		return nil, missing(a.Type, "Digits")
	}
	r := &sendDigits{live: true}
	err := c.target.leg.SendDigits(p.Digits, ms(p.ToneDurationInMilliseconds.Or(250)), func(err error) {
		c.post(func() {
			if !r.live {
				return
			}
			r.live = false
			if err != nil {
				c.actionDone(r, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err)))
				return
			}
			c.actionDone(r, outcome{})
		})
	})
	if err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	return r, outcome{}
}

func (r *sendDigits) digit(rune) bool { return false }
func (r *sendDigits) stop()           { r.live = false }

// ReceiveDigits.

func startReceiveDigits(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.ReceiveDigitsParameters)
	switch {
	case p.InputDigitsRegex == "":
		return nil, missing(a.Type, "InputDigitsRegex")
	case !p.InBetweenDigitsDurationInMilliseconds.Set:
		return nil, missing(a.Type, "InBetweenDigitsDurationInMilliseconds")
	case !p.FlushDigitsDurationInMilliseconds.Set:
		return nil, missing(a.Type, "FlushDigitsDurationInMilliseconds")
	case p.InBetweenDigitsDurationInMilliseconds.Value <= 0:
		return nil, invalid(a.Type, "InBetweenDigitsDurationInMilliseconds", "must be positive")
	case p.FlushDigitsDurationInMilliseconds.Value <= 0:
		return nil, invalid(a.Type, "FlushDigitsDurationInMilliseconds", "must be positive")
	}
	re, err := regexp.Compile(p.InputDigitsRegex)
	if err != nil {
		return nil, invalid(a.Type, "InputDigitsRegex", err.Error())
	}
	// One listener per call, as in Chime: a new ReceiveDigits replaces
	// the one of any participant.
	c.stopListeners()
	c.target.listener = &digitListener{
		c:       c,
		leg:     c.target,
		action:  a,
		re:      re,
		between: callTimer{c: c},
		flush:   callTimer{c: c},
		gap:     ms(p.InBetweenDigitsDurationInMilliseconds.Value),
		window:  ms(p.FlushDigitsDurationInMilliseconds.Value),
	}
	return nil, outcome{}
}

// digitListener is the background listener of ReceiveDigits.
type digitListener struct {
	c       *Call
	leg     *participant
	action  abi.Action
	re      *regexp.Regexp
	gap     time.Duration
	window  time.Duration
	between callTimer
	flush   callTimer
	buf     []byte
}

func (l *digitListener) add(d rune) {
	if len(l.buf) == 0 {
		l.flush.start(l.window, l.flushed)
	}
	l.buf = append(l.buf, byte(d))
	l.between.start(l.gap, func() { l.check(false) })
}

func (l *digitListener) flushed() { l.check(true) }

// check sends DIGITS_RECEIVED when the digits match; at the end of the
// flush window the digits are dropped either way.
func (l *digitListener) check(flush bool) {
	got := string(l.buf)
	if l.re.MatchString(got) {
		l.reset()
		ad := actionData(l.action)
		ad.ReceivedDigits = got
		l.c.deliver(l.c.newEvent(abi.EventDigitsReceived, ad), applyReplace)
		return
	}
	if flush {
		l.reset()
	}
}

func (l *digitListener) reset() {
	l.buf = l.buf[:0]
	l.between.stop()
	l.flush.stop()
}

func (l *digitListener) stop() { l.reset() }

// RecordAudio.

type recordAudio struct {
	c        *Call
	p        *abi.RecordAudioParameters
	key      string
	stopRec  func() error
	live     bool
	duration callTimer
	silence  callTimer
	quiet    time.Duration
}

// recordingKey is {Prefix}/{TransactionId}/{unix-ms}.wav.
func recordingKey(prefix, txID string, now time.Time) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix + txID + "/" + strconv.FormatInt(now.UnixMilli(), 10) + ".wav"
}

func startRecordAudio(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.RecordAudioParameters)
	dest := p.RecordingDestination
	switch {
	case dest.BucketName == "":
		return nil, missing(a.Type, "RecordingDestination.BucketName")
	case p.DurationInSeconds.Set && p.DurationInSeconds.Value <= 0:
		return nil, invalid(a.Type, "DurationInSeconds", "must be positive")
	case p.SilenceDurationInSeconds.Set && (p.SilenceDurationInSeconds.Value < 1 || p.SilenceDurationInSeconds.Value > 1000):
		return nil, invalid(a.Type, "SilenceDurationInSeconds", "must be between 1 and 1000")
	case p.SilenceThreshold.Set && (p.SilenceThreshold.Value < 1 || p.SilenceThreshold.Value > 1000):
		return nil, invalid(a.Type, "SilenceThreshold", "must be between 1 and 1000")
	}
	r := &recordAudio{
		c:        c,
		p:        p,
		key:      recordingKey(dest.Prefix, c.txID, c.e.cfg.Clock.Now()),
		live:     true,
		duration: callTimer{c: c},
		silence:  callTimer{c: c},
	}
	req := RecordRequest{BucketName: dest.BucketName, Key: r.key}
	if p.SilenceDurationInSeconds.Set {
		req.SilenceThreshold = p.SilenceThreshold.Or(200)
		r.quiet = time.Duration(p.SilenceDurationInSeconds.Value) * time.Second
	}
	stop, err := c.target.leg.Record(req, RecordEvents{
		Silence: func(silent bool) { c.post(func() { r.onSilence(silent) }) },
		Failed:  func(err error) { c.post(func() { r.onFailed(err) }) },
	})
	if err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	r.stopRec = stop
	// Without DurationInSeconds a recording still ends at MaxRecording, so
	// a caller who never stops talking cannot fill the disk.
	limit := c.e.cfg.Limits.MaxRecording
	if p.DurationInSeconds.Set {
		limit = min(limit, time.Duration(p.DurationInSeconds.Value)*time.Second)
	}
	{
		r.duration.start(limit, func() { r.end("") })
	}
	return r, outcome{}
}

func (r *recordAudio) onSilence(silent bool) {
	if !r.live || r.quiet == 0 {
		return
	}
	if silent {
		r.silence.start(r.quiet, func() { r.end("") })
	} else {
		r.silence.stop()
	}
}

func (r *recordAudio) onFailed(err error) {
	if !r.live {
		return
	}
	r.halt()
	r.c.actionDone(r, failed(abi.SystemException, fmt.Sprintf("%s: recording failed: %v", abi.ActionRecordAudio, err)))
}

func (r *recordAudio) digit(d rune) bool {
	if !r.live || !isTerminator(r.p.RecordingTerminators, d) {
		return false
	}
	r.end(string(d))
	return true
}

// halt stops timers and the recording; it returns the recording's error.
func (r *recordAudio) halt() error {
	r.live = false
	r.duration.stop()
	r.silence.stop()
	if r.stopRec != nil {
		return r.stopRec()
	}
	return nil
}

// end finishes a recording normally.
func (r *recordAudio) end(terminator string) {
	if !r.live {
		return
	}
	if err := r.halt(); err != nil {
		r.c.actionDone(r, failed(abi.InvalidActionParameter,
			fmt.Sprintf("%s: Error occurred while uploading recording to S3 bucket: %v", abi.ActionRecordAudio, err)))
		return
	}
	r.c.actionDone(r, outcome{
		dest: &abi.RecordingDestination{
			Type:       cmp.Or(r.p.RecordingDestination.Type, "S3"),
			BucketName: r.p.RecordingDestination.BucketName,
			Key:        r.key,
		},
		terminator: terminator,
	})
}

func (r *recordAudio) stop() {
	if r.live {
		if err := r.halt(); err != nil {
			r.c.log.Warn("stopping an interrupted recording failed", "key", r.key, "err", err)
		}
	}
}
