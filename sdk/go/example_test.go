//go:build !wasip1

package mediaserver_test

import (
	"fmt"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// A plugin's handler; a real plugin registers it in init with ms.Handle.
func handle(e *ms.Event) (*ms.Response, error) {
	switch e.InvocationEventType {
	case ms.EventNewInboundCall:
		return ms.Respond(ms.PlayAudio(ms.PlayAudioParams{
			ParticipantTag: ms.LegA,
			AudioSource:    ms.S3Audio("prompts", "welcome.wav"),
		})).SetAttribute("state", "welcome"), nil
	case ms.EventCallUpdateRequested:
		ms.Log(ms.LevelInfo, "joining "+e.Argument("JoinToken"))
		return ms.Respond(ms.JoinChimeMeeting(ms.JoinChimeMeetingParams{JoinToken: e.Argument("JoinToken")})), nil
	}
	return ms.Respond(), nil
}

// Host runs the handler natively, as the media server would run the Wasm
// build: event JSON in, response JSON out.
func ExampleHost() {
	ms.Handle(handle)
	h := ms.NewHost()
	out, err := h.Invoke([]byte(`{"SchemaVersion":"1.0","Sequence":1,"InvocationEventType":"NEW_INBOUND_CALL",
		"CallDetails":{"TransactionId":"t1","Participants":[{"CallId":"c1","ParticipantTag":"LEG-A"}]}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))

	out, _ = h.Invoke([]byte(`{"InvocationEventType":"CALL_UPDATE_REQUESTED",
		"ActionData":{"Type":"CallUpdateRequest","Parameters":{"Arguments":{"JoinToken":"tok-1"}}}}`))
	fmt.Println(string(out))
	fmt.Println(h.Logs())
	// Output:
	// {"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"ParticipantTag":"LEG-A","AudioSource":{"Type":"S3","BucketName":"prompts","Key":"welcome.wav"}}}],"TransactionAttributes":{"state":"welcome"}}
	// {"SchemaVersion":"1.0","Actions":[{"Type":"JoinChimeMeeting","Parameters":{"JoinToken":"tok-1"}}]}
	// [{INFO joining tok-1}]
}

func ExampleRespond() {
	r := ms.Respond(
		ms.PlayAudio(ms.PlayAudioParams{CallID: "c1", AudioSource: ms.S3Audio("prompts", "bye.wav")}),
		ms.Hangup(ms.HangupParams{CallID: "c1"}),
	).SetAttribute("done", "yes")
	fmt.Println(string(r.AppendJSON(nil)))
	// Output:
	// {"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"CallId":"c1","AudioSource":{"Type":"S3","BucketName":"prompts","Key":"bye.wav"}}},{"Type":"Hangup","Parameters":{"CallId":"c1"}}],"TransactionAttributes":{"done":"yes"}}
}

func ExampleRawJSON_String() {
	e, _ := ms.DecodeEvent([]byte(`{"ActionData":{"Parameters":{"Arguments":{"JoinToken":"t\u00e9k"}}}}`))
	token, err := e.ActionData().Parameters.String("Arguments", "JoinToken")
	fmt.Println(token, err)
	// Output:
	// ték <nil>
}
