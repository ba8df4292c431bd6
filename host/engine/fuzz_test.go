package engine

import (
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
	f.Fuzz(func(t *testing.T, first, rest []byte) {
		h := newHarness(t, func(ev *abi.Event) (string, error) {
			if ev.Sequence == 1 {
				return string(first), nil
			}
			return string(rest), nil
		}).start()
		h.press("1#")
		h.advance(2 * time.Second)
		_ = h.e.Update(h.call.TransactionID(), map[string]string{"k": "v"})
		h.settle()
		h.advance(10 * time.Second)
		h.call.RemoteHangup()
		h.settle()
		if !h.ended() {
			t.Fatal("call still up after remote hangup")
		}
	})
}
