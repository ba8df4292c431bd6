package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

func TestNewInboundCallEvent(t *testing.T) {
	h := newHarness(t, bySeq(noActions)).start()
	h.plugin.mu.Lock()
	raw := string(h.plugin.raw[0])
	h.plugin.mu.Unlock()
	tx := h.call.TransactionID()
	want := `{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL",
	"CallDetails":{"TransactionId":"` + tx + `","AwsAccountId":"tenant-1","AwsRegion":"local-1",
	"SipRuleId":"rule-1","SipMediaApplicationId":"sma-1",
	"Participants":[{"CallId":"leg-1","ParticipantTag":"LEG-A","To":"+15550100","From":"+15550001",
	"Direction":"Inbound","StartTimeInMilliseconds":"1641998241509","Status":"Connected",
	"SipHeaders":{"X-Foo":"bar","User-to-User":"uui","Diversion":"<sip:x>"}}]}}`
	if got, w := compactJSON(t, raw), compactJSON(t, want); got != w {
		t.Fatalf("event:\n got %s\nwant %s", got, w)
	}
	if len(tx) != 36 || tx[14] != '4' || !strings.ContainsAny(tx[19:20], "89ab") {
		t.Fatalf("transaction id %q is not a UUID v4", tx)
	}
	// An empty list does nothing: the call waits, unanswered.
	h.wantOps()
	if h.ended() {
		t.Fatal("call ended")
	}
}

func TestActionsRunInOrderAndSuccessEchoesLast(t *testing.T) {
	last := act("Pause", `{"DurationInMilliseconds":200,"CallId":"leg-1"}`)
	h := newHarness(t, bySeq(actions(pauseAct(100), act("PlayAudio", hello), last))).start()
	h.wantOps("answer")
	h.advance(100 * time.Millisecond)
	h.wantOps("answer", "play hello.wav")
	h.wantTypes("NEW_INBOUND_CALL")
	h.finishPlay(nil)
	h.wantTypes("NEW_INBOUND_CALL")
	h.advance(199 * time.Millisecond)
	h.wantTypes("NEW_INBOUND_CALL")
	h.advance(time.Millisecond)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	ev := h.last()
	if ev.Sequence != 2 || ev.ActionData.Type != abi.ActionPause {
		t.Fatalf("got sequence %d type %q", ev.Sequence, ev.ActionData.Type)
	}
	if got, want := string(ev.ActionData.Parameters), `{"DurationInMilliseconds":200,"CallId":"leg-1"}`; got != want {
		t.Fatalf("parameters %s, want %s", got, want)
	}
}

func TestFailureDropsTheRest(t *testing.T) {
	h := newHarness(t, bySeq(actions(
		act("PlayAudio", `{"AudioSource":{"Type":"S3","BucketName":"b","Key":"missing.wav"}}`),
		pauseAct(100),
	)))
	h.leg.playErrs["missing.wav"] = fmt.Errorf("bucket b: key missing.wav: %w", ErrAudioSource)
	h.start()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	ad := h.last().ActionData
	if ad.Type != abi.ActionPlayAudio || ad.ErrorType != abi.InvalidAudioSource ||
		ad.ErrorMessage != "PlayAudio: bucket b: key missing.wav: invalid audio source" {
		t.Fatalf("action data %+v", ad)
	}
	if n := h.clock.Pending(); n != 0 {
		t.Fatalf("%d timers pending: the Pause after the failure ran", n)
	}
	h.wantOps("answer", "play missing.wav")
}

func TestAudioErrorDuringPlayback(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantType abi.ErrorType
	}{
		{name: "unreadable wav", err: fmt.Errorf("not a wav: %w", ErrAudioSource), wantType: abi.InvalidAudioSource},
		{name: "media failure", err: errors.New("socket closed"), wantType: abi.SystemException},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(act("PlayAudio", hello)))).start()
			h.finishPlay(tt.err)
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
			if got := h.last().ActionData.ErrorType; got != tt.wantType {
				t.Fatalf("error type %q, want %q", got, tt.wantType)
			}
		})
	}
}

func TestTransactionAttributes(t *testing.T) {
	tests := []struct {
		name   string
		second string // response to the first ACTION_SUCCESSFUL
		want   map[string]string
	}{
		{name: "absent keeps", second: actions(pauseAct(10)), want: map[string]string{"a": "1"}},
		{name: "null keeps", second: `{"Actions":[` + pauseAct(10) + `],"TransactionAttributes":null}`, want: map[string]string{"a": "1"}},
		{name: "new map replaces", second: `{"Actions":[` + pauseAct(10) + `],"TransactionAttributes":{"b":"2"}}`, want: map[string]string{"b": "2"}},
		{name: "empty map clears", second: `{"Actions":[` + pauseAct(10) + `],"TransactionAttributes":{}}`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := `{"Actions":[` + pauseAct(10) + `],"TransactionAttributes":{"a":"1"}}`
			h := newHarness(t, bySeq(first, tt.second)).start()
			h.advance(10 * time.Millisecond)
			if got := h.last().CallDetails.TransactionAttributes; !equalMaps(got, map[string]string{"a": "1"}) {
				t.Fatalf("after first response: %v", got)
			}
			h.advance(10 * time.Millisecond)
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL")
			if got := h.last().CallDetails.TransactionAttributes; !equalMaps(got, tt.want) {
				t.Fatalf("attributes %v, want %v", got, tt.want)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNilVersusEmptyActionList(t *testing.T) {
	tests := []struct {
		name       string
		update     string
		wantPlay   bool // the PlayAudio is still running after the update
		wantEvents []string
	}{
		{
			name:       "nil keeps the running action",
			update:     `{"SchemaVersion":"1.0"}`,
			wantPlay:   true,
			wantEvents: []string{"NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED", "ACTION_SUCCESSFUL"},
		},
		{
			name:       "null keeps the running action",
			update:     `{"Actions":null}`,
			wantPlay:   true,
			wantEvents: []string{"NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED", "ACTION_SUCCESSFUL"},
		},
		{
			// An empty list drops the queue; the running action ends unreported.
			name:       "empty does nothing new",
			update:     noActions,
			wantPlay:   true,
			wantEvents: []string{"NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(act("PlayAudio", hello), pauseAct(10)), tt.update)).start()
			if err := h.e.Update(h.call.TransactionID(), nil); err != nil {
				t.Fatal(err)
			}
			h.settle()
			p := h.leg.lastPlay(t)
			if p.stopped == tt.wantPlay {
				t.Fatalf("playback stopped = %v", p.stopped)
			}
			h.finishPlay(nil)
			h.advance(10 * time.Millisecond)
			h.wantTypes(tt.wantEvents...)
		})
	}
}

func TestInvalidResponse(t *testing.T) {
	t.Run("reported then recovered", func(t *testing.T) {
		h := newHarness(t, bySeq(`{"Actions":[`, actions(pauseAct(5)))).start()
		h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE")
		ev := h.last()
		if ev.Sequence != 2 || ev.ErrorType != abi.InvalidActionParameter || ev.ErrorMessage != "invalid JSON: unexpected end of input" {
			t.Fatalf("event %+v", ev)
		}
		if ev.ActionData != nil {
			t.Fatalf("ActionData %+v, want none", ev.ActionData)
		}
		h.advance(5 * time.Millisecond)
		h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE", "ACTION_SUCCESSFUL")
	})
	t.Run("unknown action type", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(act("Dance", `{}`)))).start()
		h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE")
		if got := h.last().ErrorMessage; got != `Type "Dance" is not a supported action` {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("too many actions", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(pauseAct(1), pauseAct(1), pauseAct(1))))
		h.withLimits(Limits{MaxActions: 2, MaxInvocations: 1000}).start()
		h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE")
		if got := h.last().ErrorMessage; got != "Actions has 3 actions: must be at most 2" {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("three in a row end the call", func(t *testing.T) {
		h := newHarness(t, func(*abi.Event) (string, error) { return "[]", nil }).start()
		h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE", "INVALID_LAMBDA_RESPONSE")
		h.wantOps("reject 480")
		if !h.ended() {
			t.Fatal("call still up")
		}
	})
	t.Run("three in a row after answer send BYE", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(pauseAct(5)), "x", "x", "x")).start()
		h.advance(5 * time.Millisecond)
		h.wantOps("answer", "bye")
		if !h.ended() {
			t.Fatal("call still up")
		}
	})
}

func TestInvocationLimit(t *testing.T) {
	h := newHarness(t, func(*abi.Event) (string, error) { return actions(pauseAct(10)), nil })
	h.withLimits(Limits{MaxActions: 10, MaxInvocations: 3}).start()
	for range 3 {
		h.advance(10 * time.Millisecond)
	}
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL")
	h.wantOps("answer", "bye")
	if !h.ended() {
		t.Fatal("call still up")
	}
}

func TestPluginFailureRetriedOnce(t *testing.T) {
	tests := []struct {
		name      string
		failOn    int // Sequence that fails
		failures  int // how many times it fails
		wantOps   []string
		wantSeqs  []int
		wantEnded bool
	}{
		{name: "one failure is retried", failOn: 1, failures: 1, wantOps: []string{"answer"}, wantSeqs: []int{1, 1, 2}},
		{name: "two failures on NEW_INBOUND_CALL reject 480", failOn: 1, failures: 2, wantOps: []string{"reject 480"}, wantSeqs: []int{1, 1}, wantEnded: true},
		{name: "two failures after answer send BYE", failOn: 2, failures: 2, wantOps: []string{"answer", "bye"}, wantSeqs: []int{1, 2, 2}, wantEnded: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed := 0
			h := newHarness(t, func(ev *abi.Event) (string, error) {
				if ev.Sequence == tt.failOn && failed < tt.failures {
					failed++
					return "", errPluginTrap
				}
				if ev.Sequence == 1 {
					return actions(pauseAct(10)), nil
				}
				return noActions, nil
			}).start()
			h.advance(10 * time.Millisecond)
			h.wantOps(tt.wantOps...)
			var seqs []int
			for _, ev := range h.plugin.Events() {
				seqs = append(seqs, ev.Sequence)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.wantSeqs) {
				t.Fatalf("sequences %v, want %v", seqs, tt.wantSeqs)
			}
			if h.ended() != tt.wantEnded {
				t.Fatalf("ended = %v", h.ended())
			}
		})
	}
}

func TestPlayAudio(t *testing.T) {
	t.Run("repeat", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(act("PlayAudio", helloTwice)))).start()
		h.finishPlay(nil)
		h.wantTypes("NEW_INBOUND_CALL")
		h.finishPlay(nil)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
		h.wantOps("answer", "play hello.wav", "play hello.wav")
	})
	t.Run("terminator stops and succeeds", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(act("PlayAudio", helloTwice)))).start()
		h.press("5") // not a terminator
		h.wantTypes("NEW_INBOUND_CALL")
		h.press("1")
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
		h.wantOps("answer", "play hello.wav", "stop play hello.wav")
		// A late "finished" from the stopped playback changes nothing.
		h.finishPlay(nil)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
	})
}

func pagd(extra string) string {
	return act("PlayAudioAndGetDigits", `{"AudioSource":{"Type":"S3","BucketName":"b","Key":"menu.wav"},
		"FailureAudioSource":{"Type":"S3","BucketName":"b","Key":"fail.wav"},
		"RepeatDurationInMilliseconds":5000,"InBetweenDigitsDurationInMilliseconds":2000`+extra+`}`)
}

func TestPlayAudioAndGetDigits(t *testing.T) {
	type step struct {
		press   string
		advance time.Duration
		finish  bool // finish the current playback
	}
	tests := []struct {
		name       string
		extra      string
		steps      []step
		wantEvent  string
		wantDigits string
		wantErr    string
		wantOps    []string
	}{
		{
			name:       "terminator ends input",
			extra:      `,"MinNumberOfDigits":2,"InputDigitsRegex":"^\\d+$"`,
			steps:      []step{{finish: true}, {press: "12#"}},
			wantEvent:  "ACTION_SUCCESSFUL",
			wantDigits: "12",
			wantOps:    []string{"answer", "play menu.wav"},
		},
		{
			name:       "barge-in stops the prompt",
			steps:      []step{{press: "4"}, {press: "2#"}},
			wantEvent:  "ACTION_SUCCESSFUL",
			wantDigits: "42",
			wantOps:    []string{"answer", "play menu.wav", "stop play menu.wav"},
		},
		{
			name:       "regex may include the terminator",
			extra:      `,"InputDigitsRegex":"^\\d{2}#$"`,
			steps:      []step{{finish: true}, {press: "12#"}},
			wantEvent:  "ACTION_SUCCESSFUL",
			wantDigits: "12",
			wantOps:    []string{"answer", "play menu.wav"},
		},
		{
			name:       "max digits end input",
			extra:      `,"MaxNumberOfDigits":3`,
			steps:      []step{{finish: true}, {press: "123"}},
			wantEvent:  "ACTION_SUCCESSFUL",
			wantDigits: "123",
			wantOps:    []string{"answer", "play menu.wav"},
		},
		{
			name:       "in-between timeout ends input",
			steps:      []step{{finish: true}, {press: "77"}, {advance: 1999 * time.Millisecond}, {advance: time.Millisecond}},
			wantEvent:  "ACTION_SUCCESSFUL",
			wantDigits: "77",
			wantOps:    []string{"answer", "play menu.wav"},
		},
		{
			name:  "regex failure then retry succeeds",
			extra: `,"InputDigitsRegex":"^1\\d$","Repeat":2`,
			steps: []step{{finish: true}, {press: "23#"}, {finish: true}, {finish: true}, {press: "15#"}},
			// fail.wav, then menu.wav again.
			wantEvent:  "ACTION_SUCCESSFUL",
			wantDigits: "15",
			wantOps:    []string{"answer", "play menu.wav", "play fail.wav", "play menu.wav"},
		},
		{
			name:    "too few digits on the last try fails",
			extra:   `,"MinNumberOfDigits":3`,
			steps:   []step{{finish: true}, {press: "12#"}},
			wantErr: "PlayAudioAndGetDigits: no valid digits received after 1 attempts",
			wantOps: []string{"answer", "play menu.wav"},
		},
		{
			name:  "no input repeats with failure prompt then fails",
			extra: `,"MinNumberOfDigits":1,"Repeat":3`,
			steps: []step{
				{finish: true}, {advance: 5000 * time.Millisecond}, {press: "9"}, {finish: true}, // try 1; a digit during fail.wav is ignored
				{finish: true}, {advance: 5000 * time.Millisecond}, {finish: true}, // try 2, fail.wav
				{finish: true}, {advance: 5000 * time.Millisecond}, // try 3
			},
			wantErr: "PlayAudioAndGetDigits: no valid digits received after 3 attempts",
			wantOps: []string{"answer", "play menu.wav", "play fail.wav", "play menu.wav", "play fail.wav", "play menu.wav"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(pagd(tt.extra)))).start()
			for _, s := range tt.steps {
				switch {
				case s.finish:
					h.finishPlay(nil)
				case s.press != "":
					h.press(s.press)
				default:
					h.advance(s.advance)
				}
			}
			h.wantOps(tt.wantOps...)
			if tt.wantErr != "" {
				h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
				ad := h.last().ActionData
				if ad.ErrorType != abi.InvalidActionParameter || ad.ErrorMessage != tt.wantErr {
					t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
				}
				return
			}
			h.wantTypes("NEW_INBOUND_CALL", tt.wantEvent)
			if got := h.last().ActionData.ReceivedDigits; got != tt.wantDigits {
				t.Fatalf("digits %q, want %q", got, tt.wantDigits)
			}
		})
	}
}

func receiveDigits(regex string) string {
	return act("ReceiveDigits", fmt.Sprintf(`{"InputDigitsRegex":%q,"InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":5000}`, regex))
}

func TestReceiveDigits(t *testing.T) {
	t.Run("digits before the listener are discarded", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(pauseAct(100)), actions(receiveDigits(`^\d{2}$`)))).start()
		h.press("12")
		h.advance(100 * time.Millisecond) // Pause done, ReceiveDigits installed
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL")
		h.advance(2 * time.Second)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "ACTION_SUCCESSFUL")
	})
	t.Run("match raises DIGITS_RECEIVED", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(receiveDigits(`^\d{2}#$`)))).start()
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
		h.press("45#")
		h.advance(999 * time.Millisecond)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
		h.advance(time.Millisecond)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "DIGITS_RECEIVED")
		ad := h.last().ActionData
		if ad.Type != abi.ActionReceiveDigits || ad.ReceivedDigits != "45#" {
			t.Fatalf("action data %+v", ad)
		}
		// The listener stays: a second entry is reported too.
		h.press("67#")
		h.advance(time.Second)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "DIGITS_RECEIVED", "DIGITS_RECEIVED")
		if got := h.last().ActionData.ReceivedDigits; got != "67#" {
			t.Fatalf("digits %q", got)
		}
	})
	t.Run("flush drops a non-matching entry", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(receiveDigits(`^\d{2}#$`)))).start()
		// A lone "9" never matches; the flush window drops it, so the
		// next entry is matched on its own.
		h.press("9")
		h.advance(1 * time.Second) // "9" alone does not match
		h.advance(4 * time.Second) // flush window over: "9" dropped
		h.press("12#")
		h.advance(time.Second)
		h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL", "DIGITS_RECEIVED")
		if got := h.last().ActionData.ReceivedDigits; got != "12#" {
			t.Fatalf("digits %q", got)
		}
	})
	t.Run("DIGITS_RECEIVED response interrupts a running PlayAudio", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(receiveDigits(`^\*$`), act("PlayAudio", hello)), actions(pauseAct(10)))).start()
		h.press("*")
		h.advance(time.Second)
		h.wantTypes("NEW_INBOUND_CALL", "DIGITS_RECEIVED", "ACTION_INTERRUPTED")
		h.advance(10 * time.Millisecond)
		h.wantTypes("NEW_INBOUND_CALL", "DIGITS_RECEIVED", "ACTION_INTERRUPTED", "ACTION_SUCCESSFUL")
	})
}

func recordAct(extra string) string {
	return act("RecordAudio", `{"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"rec","Prefix":"vm"}`+extra+`}`)
}

func TestRecordAudio(t *testing.T) {
	tests := []struct {
		name           string
		extra          string
		run            func(h *harness)
		wantThreshold  int
		wantTerminator string
	}{
		{
			name:  "duration",
			extra: `,"DurationInSeconds":10`,
			run: func(h *harness) {
				h.advance(9 * time.Second)
				h.wantTypes("NEW_INBOUND_CALL")
				h.advance(time.Second)
			},
		},
		{
			name:  "no duration: the server's cap",
			extra: ``,
			run: func(h *harness) {
				h.advance(time.Hour - time.Second)
				h.wantTypes("NEW_INBOUND_CALL")
				h.advance(time.Second)
			},
		},
		{
			name:  "duration above the cap",
			extra: `,"DurationInSeconds":7200`,
			run: func(h *harness) {
				h.advance(time.Hour - time.Second)
				h.wantTypes("NEW_INBOUND_CALL")
				h.advance(time.Second)
			},
		},
		{
			name:          "silence",
			extra:         `,"SilenceDurationInSeconds":3,"SilenceThreshold":100`,
			wantThreshold: 100,
			run: func(h *harness) {
				r := h.leg.lastRec(h.t)
				r.ev.Silence(true)
				h.settle()
				h.advance(2 * time.Second)
				r.ev.Silence(false) // speech again: the silence timer stops
				h.settle()
				h.advance(2 * time.Second)
				r.ev.Silence(true)
				h.settle()
				h.advance(2 * time.Second)
				h.wantTypes("NEW_INBOUND_CALL")
				h.advance(time.Second)
			},
		},
		{
			name:          "silence default threshold",
			extra:         `,"SilenceDurationInSeconds":1`,
			wantThreshold: 200,
			run: func(h *harness) {
				h.leg.lastRec(h.t).ev.Silence(true)
				h.settle()
				h.advance(time.Second)
			},
		},
		{
			name:           "terminator",
			extra:          `,"DurationInSeconds":10`,
			wantTerminator: "#",
			run:            func(h *harness) { h.press("5#") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(recordAct(tt.extra)))).start()
			key := "vm/" + h.call.TransactionID() + "/" + fmt.Sprint(t0.UnixMilli()) + ".wav"
			tt.run(h)
			h.wantOps("answer", fmt.Sprintf("record rec/%s threshold=%d", key, tt.wantThreshold), "stop record")
			h.wantTypes("NEW_INBOUND_CALL", "ACTION_SUCCESSFUL")
			ad := h.last().ActionData
			want := abi.RecordingDestination{Type: "S3", BucketName: "rec", Key: key}
			if ad.RecordingDestination == nil || *ad.RecordingDestination != want {
				t.Fatalf("destination %+v, want %+v", ad.RecordingDestination, want)
			}
			if ad.RecordingTerminatorUsed != tt.wantTerminator {
				t.Fatalf("terminator %q, want %q", ad.RecordingTerminatorUsed, tt.wantTerminator)
			}
		})
	}
}

func TestRecordingKey(t *testing.T) {
	tests := []struct {
		name, prefix, want string
	}{
		{name: "no prefix", prefix: "", want: "tx/1641998241509.wav"},
		{name: "prefix", prefix: "vm", want: "vm/tx/1641998241509.wav"},
		{name: "prefix with slash", prefix: "a/b/", want: "a/b/tx/1641998241509.wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recordingKey(tt.prefix, "tx", time.UnixMilli(1641998241509)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRecordingStoreFailure(t *testing.T) {
	h := newHarness(t, bySeq(actions(recordAct(`,"DurationInSeconds":1`))))
	h.leg.recStopErr = errors.New("disk full")
	h.start()
	h.advance(time.Second)
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	ad := h.last().ActionData
	if ad.ErrorType != abi.InvalidActionParameter ||
		ad.ErrorMessage != "RecordAudio: Error occurred while uploading recording to S3 bucket: disk full" {
		t.Fatalf("error %q %q", ad.ErrorType, ad.ErrorMessage)
	}
}

func TestHangup(t *testing.T) {
	tests := []struct {
		name     string
		response string
		wantOps  []string
		wantCode string
		wait     time.Duration
	}{
		{name: "before answer, 0 rejects 480", response: actions(act("Hangup", `{"SipResponseCode":"0"}`)), wantOps: []string{"reject 480"}, wantCode: "0"},
		{name: "before answer, no code rejects 480", response: actions(act("Hangup", "")), wantOps: []string{"reject 480"}, wantCode: "0"},
		{name: "before answer, 486", response: actions(act("Hangup", `{"SipResponseCode":486}`)), wantOps: []string{"reject 486"}, wantCode: "486"},
		{name: "after answer sends BYE and drops the rest", response: actions(pauseAct(1), act("Hangup", `{"SipResponseCode":"0"}`), act("PlayAudio", hello)), wantOps: []string{"answer", "bye"}, wantCode: "0", wait: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(tt.response)).start()
			h.advance(tt.wait)
			h.wantOps(tt.wantOps...)
			h.wantTypes("NEW_INBOUND_CALL", "HANGUP")
			ev := h.last()
			want := `{"SipResponseCode":"` + tt.wantCode + `","CallId":"leg-1","ParticipantTag":"LEG-A"}`
			if ev.ActionData.Type != abi.ActionHangup || compactJSON(t, string(ev.ActionData.Parameters)) != compactJSON(t, want) {
				t.Fatalf("action data %s %s", ev.ActionData.Type, ev.ActionData.Parameters)
			}
			if got := ev.CallDetails.Participants[0].Status; got != abi.StatusDisconnected {
				t.Fatalf("status %q", got)
			}
			if !h.ended() {
				t.Fatal("call still up")
			}
		})
	}
}

func TestRemoteHangup(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("PlayAudio", hello)), actions(act("PlayAudio", hello)))).start()
	h.call.RemoteHangup()
	h.settle()
	h.wantTypes("NEW_INBOUND_CALL", "HANGUP")
	ev := h.last()
	want := `{"SipResponseCode":"0","CallId":"leg-1","ParticipantTag":"LEG-A"}`
	if ev.ActionData.Type != abi.ActionHangup || compactJSON(t, string(ev.ActionData.Parameters)) != compactJSON(t, want) {
		t.Fatalf("action data %s %s", ev.ActionData.Type, ev.ActionData.Parameters)
	}
	// The HANGUP response is ignored: no new playback, no BYE.
	h.wantOps("answer", "play hello.wav", "stop play hello.wav")
	if !h.ended() {
		t.Fatal("call still up")
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name            string
		first           string
		interrupt       bool
		wantOpsAtUpdate []string
		finish          func(h *harness) // completes a non-interruptible action
	}{
		{name: "PlayAudio", first: act("PlayAudio", hello), interrupt: true,
			wantOpsAtUpdate: []string{"answer", "play hello.wav", "stop play hello.wav"}},
		{name: "Pause", first: pauseAct(60000), interrupt: true,
			wantOpsAtUpdate: []string{"answer"}},
		{name: "RecordAudio", first: recordAct(""), interrupt: true},
		{name: "SendDigits", first: act("SendDigits", `{"CallId":"leg-1","Digits":"12,3","ToneDurationInMilliseconds":100}`), interrupt: false,
			wantOpsAtUpdate: []string{"answer", "send 12,3 100ms"},
			finish: func(h *harness) {
				h.leg.mu.Lock()
				s := h.leg.sends[0]
				h.leg.mu.Unlock()
				s.done(nil)
				h.settle()
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(ev *abi.Event) (string, error) {
				switch ev.InvocationEventType {
				case abi.EventNewInboundCall:
					return actions(tt.first, pauseAct(5)), nil
				case abi.EventCallUpdateRequested:
					return actions(act("PlayAudio", `{"AudioSource":{"Type":"S3","BucketName":"b","Key":"new.wav"}}`)), nil
				}
				return noActions, nil
			}).start()
			if err := h.e.Update(h.call.TransactionID(), map[string]string{"JoinToken": "abc"}); err != nil {
				t.Fatal(err)
			}
			h.settle()
			evs := h.plugin.Events()
			if len(evs) < 2 {
				t.Fatalf("events %q", h.plugin.Types())
			}
			upd := evs[1]
			if upd.InvocationEventType != abi.EventCallUpdateRequested || upd.Sequence != 2 ||
				upd.ActionData.Type != abi.ActionCallUpdateRequest ||
				string(upd.ActionData.Parameters) != `{"Arguments":{"JoinToken":"abc"}}` {
				t.Fatalf("update event %+v %s", upd, upd.ActionData.Parameters)
			}
			if tt.interrupt {
				h.wantTypes("NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED", "ACTION_INTERRUPTED")
				ad := h.last().ActionData
				if ad.Type != abi.ActionType(tt.name) || h.last().Sequence != 3 {
					t.Fatalf("interrupted %q seq %d", ad.Type, h.last().Sequence)
				}
				if tt.name == "RecordAudio" {
					ops := h.leg.Ops()
					if len(ops) != 4 || ops[2] != "stop record" || ops[3] != "play new.wav" {
						t.Fatalf("ops %q", ops)
					}
				} else {
					h.wantOps(append(tt.wantOpsAtUpdate, "play new.wav")...)
				}
			} else {
				h.wantTypes("NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED")
				h.wantOps(tt.wantOpsAtUpdate...)
				tt.finish(h)
				h.wantTypes("NEW_INBOUND_CALL", "CALL_UPDATE_REQUESTED")
				h.wantOps(append(tt.wantOpsAtUpdate, "play new.wav")...)
			}
			// The old Pause(5) is gone; the new list ends with new.wav.
			h.finishPlay(nil)
			h.advance(5 * time.Millisecond)
			types := h.plugin.Types()
			if types[len(types)-1] != "ACTION_SUCCESSFUL" {
				t.Fatalf("events %q", types)
			}
			var key string
			if ad := h.last().ActionData; ad.Type == abi.ActionPlayAudio {
				key = string(ad.Parameters)
			}
			if !strings.Contains(key, "new.wav") {
				t.Fatalf("success echoes %s %s", h.last().ActionData.Type, h.last().ActionData.Parameters)
			}
			if n := h.clock.Pending(); n != 0 {
				t.Fatalf("%d timers pending", n)
			}
		})
	}
}

func TestUpdateUnknownCall(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("Hangup", "")))).start()
	if !h.ended() {
		t.Fatal("call still up")
	}
	tests := []struct {
		name string
		tx   string
		args map[string]string
		want error
	}{
		{name: "finished call", tx: h.call.TransactionID(), want: ErrCallNotFound},
		{name: "unknown call", tx: "nope", want: ErrCallNotFound},
		{name: "too many arguments", tx: "nope", args: manyArgs(21), want: ErrTooManyArguments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.e.Update(tt.tx, tt.args); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func manyArgs(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprint(i)] = "v"
	}
	return m
}

func TestCalls(t *testing.T) {
	h := newHarness(t, bySeq(noActions)).start()
	got := h.e.Calls()
	want := CallSummary{
		TransactionID: h.call.TransactionID(), TenantID: "tenant-1", SipMediaApplicationID: "sma-1",
		CallID: "leg-1", From: "+15550001", To: "+15550100", StartTime: time.UnixMilli(1641998241509),
		Direction: abi.DirectionInbound,
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("calls %+v", got)
	}
	h.call.RemoteHangup()
	h.settle()
	if got := h.e.Calls(); len(got) != 0 {
		t.Fatalf("calls after hangup %+v", got)
	}
}

func TestUnsupportedAction(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("StartBotConversation", `{"BotAliasArn":"arn:bot","LocaleId":"en_US"}`), pauseAct(1)))).start()
	h.wantTypes("NEW_INBOUND_CALL", "ACTION_FAILED")
	ad := h.last().ActionData
	if ad.Type != abi.ActionStartBotConversation || ad.ErrorType != abi.SystemException ||
		ad.ErrorMessage != "StartBotConversation is not supported by this server yet" {
		t.Fatalf("action data %+v", ad)
	}
	h.wantOps()
}

// A response that breaks an action's rules is rejected as a whole with
// INVALID_LAMBDA_RESPONSE (the abi validation), before anything runs.
func TestMissingRequiredParameter(t *testing.T) {
	tests := []struct {
		name   string
		action string
		field  string
	}{
		{name: "Pause", action: act("Pause", `{}`), field: "DurationInMilliseconds"},
		{name: "PlayAudioAndGetDigits", action: act("PlayAudioAndGetDigits", hello), field: "RepeatDurationInMilliseconds"},
		{name: "ReceiveDigits", action: act("ReceiveDigits", `{"InputDigitsRegex":"1"}`), field: "InBetweenDigitsDurationInMilliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, bySeq(actions(pauseAct(1), tt.action))).start()
			h.wantTypes("NEW_INBOUND_CALL", "INVALID_LAMBDA_RESPONSE")
			ev := h.last()
			if ev.ErrorType != abi.MissingRequiredActionParameter || !strings.Contains(ev.ErrorMessage, tt.field) {
				t.Fatalf("error %q %q", ev.ErrorType, ev.ErrorMessage)
			}
			h.wantOps()
		})
	}
}

func TestAnswerFailureEndsCall(t *testing.T) {
	h := newHarness(t, bySeq(actions(act("PlayAudio", hello))))
	h.leg.answerErr = errors.New("no media port")
	h.start()
	h.wantOps("answer", "reject 480")
	if !h.ended() {
		t.Fatal("call still up")
	}
}

func TestEngineClose(t *testing.T) {
	h := newHarness(t, bySeq(actions(pauseAct(1000)))).start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h.wantOps("answer", "bye")
	if _, err := h.e.Inbound(App{Handler: h.plugin}, newFakeLeg("x"), CallInfo{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want %v", err, ErrClosed)
	}
}

func TestInboundInvalid(t *testing.T) {
	e := New(Config{})
	if _, err := e.Inbound(App{}, newFakeLeg("x"), CallInfo{}); !errors.Is(err, ErrInvalidCall) {
		t.Fatalf("err %v, want %v", err, ErrInvalidCall)
	}
}

// A caller who hangs up (CANCEL) while the plugin is still answering
// NEW_INBOUND_CALL must not be answered afterwards: the call just ends.
func TestCancelWhilePluginAnswers(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := newHarness(t, func(ev *abi.Event) (string, error) {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			close(entered)
			<-release
			return actions(act("PlayAudio", hello)), nil
		}
		return actions(), nil
	})
	// Not h.start(): it waits for the call to settle, and the plugin is
	// held inside NEW_INBOUND_CALL on purpose.
	c, err := h.e.Inbound(App{TenantID: "tenant-1", SipMediaApplicationID: "sma-1", Handler: h.plugin}, h.leg, CallInfo{From: "+15550001", To: "+15550100"})
	if err != nil {
		t.Fatal(err)
	}
	h.call = c
	<-entered
	c.RemoteHangup()
	close(release)
	h.settle()
	for _, op := range h.leg.Ops() {
		if strings.HasPrefix(op, "answer") || strings.HasPrefix(op, "play") {
			t.Fatalf("leg ops %q: a call whose caller left was answered or played to", h.leg.Ops())
		}
	}
	h.wantTypes("NEW_INBOUND_CALL", "HANGUP")
	if !h.ended() {
		t.Fatal("call did not end")
	}
}

// A plugin that answers NEW_INBOUND_CALL with no actions does not leave the
// caller ringing forever: after RingTimeout the call is rejected with 480.
// A call whose plugin started media is not affected.
func TestInboundRingTimeout(t *testing.T) {
	t.Run("unanswered", func(t *testing.T) {
		h := newHarness(t, bySeq(actions())).start()
		h.advance(59 * time.Second)
		h.wantOps()
		h.advance(time.Second)
		h.wantOps("reject 480")
		h.wantTypes("NEW_INBOUND_CALL", "HANGUP")
		if !h.ended() {
			t.Fatal("call did not end")
		}
	})
	t.Run("answered", func(t *testing.T) {
		h := newHarness(t, bySeq(actions(act("PlayAudio", hello)))).start()
		h.advance(2 * time.Minute)
		for _, op := range h.leg.Ops() {
			if strings.HasPrefix(op, "reject") || strings.HasPrefix(op, "hangup") {
				t.Fatalf("leg ops %q: an answered call was ended by the ring timeout", h.leg.Ops())
			}
		}
	})
}
