// Command iot-ivr-go is the smallest iotcomms IVR, the counterpart of the
// Chime example ivr-go: the caller meets an IVR that plays the prompt file
// welcome.wav and collects one digit; 1 plays sales.wav, 2 support.wav,
// anything else (or none) goodbye.wav, and the IVR hangs up, which ends
// the session. It keeps no state, so it answers each callback in
// microseconds: the benchmarks measure the server's callback-to-action
// path with it, in-process and as its webhook build.
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.IvrAnswer(), nil
	case ms.CallbackGetIvrCommand:
		if r.DtmfParams == nil {
			return ms.Ivr().PlayFile("welcome.wav").CollectDigits(1), nil
		}
		switch r.Digits() {
		case "1":
			return ms.Ivr().PlayFile("sales.wav").ThenHangup(), nil
		case "2":
			return ms.Ivr().PlayFile("support.wav").ThenHangup(), nil
		}
		return ms.Ivr().PlayFile("goodbye.wav").ThenHangup(), nil
	case ms.CallbackCallEvent:
		return ms.DropAnswer(), nil // the IVR left: the caller is dropped
	}
	return nil, nil // callNotify, callAnswered, sessionCompleted
}
