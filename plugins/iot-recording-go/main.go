// Command iot-recording-go is the iotcomms seed's call recording: each
// call is connected to the callee with recording on, into the prompt file
// call-<sessionId>.wav; when the session is over the server sends
// recordingReady, and the recording can be fetched with GET
// /promptfile/<fileName>. When either side hangs up the other is dropped.
package main

import (
	"strconv"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// callee is the party every call is connected to: a number, dialled
// through the server's trunks.
const callee = "+15550202"

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.CallAnswer(callee).WithRecording("call-" + r.SessionID + ".wav"), nil
	case ms.CallbackCallEvent:
		return ms.DropAnswer(), nil // one side hung up, or the callee did not answer
	case ms.CallbackRecordingReady:
		ms.Log(ms.LevelInfo, "recording "+r.FileName+" ready at "+r.Location+" ("+strconv.Itoa(r.DurationSeconds)+" s)")
	}
	return nil, nil // callNotify, callAnswered, sessionCompleted
}
