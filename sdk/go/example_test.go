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

// An iotcomms handler: the seed's auto-attendant. A real plugin registers
// it in init with ms.HandleIot.
func attendant(r *ms.IotRequest) (ms.IotReply, error) {
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.IvrAnswer(), nil // connect the caller to an IVR participant
	case ms.CallbackGetIvrCommand:
		switch r.Digits() {
		case "":
			return ms.Ivr().Say("Welcome. Press 1 for sales and 2 for support.").CollectDigits(1), nil
		case "2":
			return ms.Ivr().Say("Thank you, you will get connected to support.").ThenHangup(), nil
		}
	case ms.CallbackCallEvent:
		if r.Event == ms.EventCalledPartyDrop { // the IVR hung up
			return ms.CallAnswer("+15550202"), nil
		}
		return ms.DropAnswer(), nil
	}
	return nil, nil // informational callbacks: {}
}

// Host runs an iotcomms handler natively: a callback body with its name in
// "callback" in, the answer out.
func ExampleHandleIot() {
	ms.HandleIot(attendant)
	h := ms.NewHost()
	for _, callback := range []string{
		`{"callback":"newCall","sessionId":"s1","participantId":"s1/p1","from":"+15550001","to":"+15550100"}`,
		`{"callback":"getIvrCommand","sessionId":"s1","participantId":"s1/p2"}`,
		`{"callback":"getIvrCommand","sessionId":"s1","participantId":"s1/p2","dtmfParams":{"dtmfMatch":"2","reason":"maxDigits"}}`,
		`{"callback":"callEvent","sessionId":"s1","participantId":"s1/p1","event":"calledPartyDrop"}`,
		`{"callback":"sessionCompleted","sessionId":"s1"}`,
	} {
		out, err := h.Invoke([]byte(callback))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(out))
	}
	// Output:
	// {"action":"ivr"}
	// {"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome. Press 1 for sales and 2 for support."}}]}
	// {"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Thank you, you will get connected to support."}}],"hangup":true}
	// {"action":"call","destAddr":"+15550202"}
	// {}
}

func ExampleCallAnswer() {
	a := ms.CallAnswer("+15550202").WithRecording("call-42.wav").WithMonitor("+15550299")
	fmt.Println(string(a.AppendJSON(nil)))
	// Output:
	// {"action":"call","destAddr":"+15550202","callRecording":true,"filename":"call-42.wav","monitorDestAddr":"+15550299"}
}

func ExampleIvr() {
	hold := ms.Ivr().Background(ms.FilePhrase("holdmusic.wav"), 0.5).NextCommandAfter(300)
	fmt.Println(string(hold.AppendJSON(nil)))
	// Output:
	// {"backgroundPrompt":{"format":"file","fileName":"holdmusic.wav","repeatPause":0.5},"getIVRCommandAfter":300}
}
