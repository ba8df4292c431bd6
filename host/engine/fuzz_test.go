package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// FuzzPluginResponse feeds arbitrary plugin responses (untrusted bytes) to
// a call and drives it through digits, time, an update and a hangup: the
// engine must neither panic nor leave the call running.
func FuzzPluginResponse(f *testing.F) {
	f.Add([]byte(actions(act("PlayAudio", helloTwice), pauseAct(10))), []byte(noActions))
	f.Add([]byte(actions(pagd(`,"Repeat":2`))), []byte(actions(act("Hangup", ""))))
	f.Add([]byte(actions(receiveDigits(`^\d+$`), recordAct(`,"DurationInSeconds":1`))), []byte(`{"Actions":null}`))
	f.Add([]byte(`{"TransactionAttributes":{"a":"b"}}`), []byte(`{`))
	f.Add([]byte(`[]`), []byte(`null`))
	f.Add([]byte(actions(bridgeAct(`,"RingbackTone":`+ringback), startRec("leg-1", "BOTH", "r"))), []byte(actions(act("Hangup", `{"ParticipantTag":"LEG-B"}`))))
	f.Add([]byte(actions(startRec("leg-1", "BOTH", "r"), recAct("PauseCallRecording", "leg-1"))), []byte(actions(recAct("StopCallRecording", "leg-1"))))
	f.Fuzz(func(t *testing.T, first, rest []byte) {
		h := newHarness(t, func(ev *abi.Event) (string, error) {
			if ev.Sequence == 1 {
				return string(first), nil
			}
			return string(rest), nil
		}).start()
		h.press("1#")
		for i := range h.dialer.count() {
			h.dialer.dial(t, i+1).ev.Answered()
		}
		h.advance(2 * time.Second)
		_ = h.e.Update(h.call.TransactionID(), map[string]string{"k": "v"})
		h.settle()
		h.advance(10 * time.Second)
		h.call.RemoteHangup()
		for i := range h.dialer.count() {
			h.dialer.dial(t, i+1).ev.Hangup()
		}
		h.settle()
		if !h.ended() {
			t.Fatal("call still up after every leg hung up")
		}
	})
}

// FuzzCallRecordingKey: a Location the plugin sends never yields a key
// outside the bucket or a bucket with a separator.
func FuzzCallRecordingKey(f *testing.F) {
	for _, s := range []string{"rec", "rec/", "rec/a/b", "rec//x", "rec/../x", "/rec", "rec/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		if !validLocation(loc) {
			return
		}
		bucket, key := callRecordingKey(loc, "tx", "call", t0)
		if bucket == "" || strings.Contains(bucket, "/") || strings.HasPrefix(key, "/") ||
			!strings.HasSuffix(key, "_tx_call.wav") || strings.Contains("/"+key+"/", "/../") || strings.Contains(key, "//") {
			t.Fatalf("location %q gave bucket %q key %q", loc, bucket, key)
		}
	})
}

// FuzzCheckHeaders: an accepted header can never break the INVITE.
func FuzzCheckHeaders(f *testing.F) {
	f.Add("X-A", "v")
	f.Add("Contact", "v")
	f.Add("X-A\r\nVia", "v")
	f.Add("User-to-User", "a\nb")
	f.Fuzz(func(t *testing.T, name, value string) {
		if checkHeaders(map[string]string{name: value}) != nil {
			return
		}
		if strings.ContainsAny(name, "\r\n: ") || strings.ContainsAny(value, "\r\n\x00") {
			t.Fatalf("accepted %q: %q", name, value)
		}
		if len(filterHeaders(map[string]string{name: value})) != 1 {
			t.Fatalf("accepted %q but the plugin would not see it", name)
		}
	})
}
