// Command meetingjoin-go is the meeting-join handler of the Chime SDK
// developer guide's sample: welcome the caller, then join the meeting whose
// token arrives with CALL_UPDATE_REQUESTED.
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

func init() { ms.Handle(handle) }

func main() { ms.Main() }

func handle(e *ms.Event) (*ms.Response, error) {
	switch e.InvocationEventType {
	case ms.EventNewInboundCall:
		// The sample's "addPendingCall(TransactionId)": remember the call
		// for the meeting service. The store is optional; the call goes on
		// without it.
		if err := ms.KVSet("pending-call/"+e.TransactionID(), nil); err != nil {
			ms.Log(ms.LevelWarn, "pending call not stored: "+err.Error())
		}
		return ms.Respond(ms.PlayAudio(ms.PlayAudioParams{
			ParticipantTag: ms.LegA,
			AudioSource:    ms.S3Audio("chime-meetings-audio-files-bucket-name", "welcome.wav"),
		})), nil
	case ms.EventCallUpdateRequested:
		token := e.Argument("JoinToken")
		if token == "" {
			ms.Log(ms.LevelWarn, "CALL_UPDATE_REQUESTED without a JoinToken")
			return ms.Respond(), nil
		}
		return ms.Respond(ms.JoinChimeMeeting(ms.JoinChimeMeetingParams{JoinToken: token})), nil
	}
	return ms.Respond(), nil
}
