package abi_test

import (
	"errors"
	"fmt"

	"github.com/wasmvoice/mediaserver/abi"
)

func ExampleParseResponse() {
	body := []byte(`{"SchemaVersion":"1.0","Actions":[
		{"Type":"PlayAudio","Parameters":{"Repeat":"500","AudioSource":{"Type":"S3","BucketName":"b","Key":"hello.wav"}}}]}`)
	r, err := abi.ParseResponse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = abi.ValidateResponse(r, abi.DefaultLimits(), nil)
	var ae *abi.ActionError
	if errors.As(err, &ae) {
		fmt.Println(ae.Type)
		fmt.Println(ae.Message)
	}
	// Output:
	// InvalidActionParameter
	// PlayAudio: Repeat parameter value is invalid: must be between 1 and 100
}

func ExampleAction_Decode() {
	a := abi.Action{Type: abi.ActionRecordAudio, Parameters: []byte(
		`{"DurationInSeconds":"10","RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"vm"}}`)}
	p, err := a.Decode()
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := p.(*abi.RecordAudioParameters)
	fmt.Println(rec.DurationInSeconds.Or(0), rec.SilenceThreshold.Or(200), rec.RecordingTerminators)
	// Output: 10 200 [#]
}

func ExampleNewAction() {
	play, _ := abi.NewAction(abi.ActionPlayAudio, abi.PlayAudioParameters{
		ParticipantTag: abi.LegA,
		Repeat:         abi.NewInt(2),
		AudioSource:    abi.AudioSource{Type: "S3", BucketName: "prompts", Key: "welcome.wav"},
	})
	hangup, _ := abi.NewAction(abi.ActionHangup, abi.HangupParameters{SipResponseCode: abi.NewInt(0)})
	b, _ := abi.NewResponse(play, hangup).Marshal()
	fmt.Println(string(b))
	// Output: {"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"ParticipantTag":"LEG-A","Repeat":2,"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"welcome.wav"}}},{"Type":"Hangup","Parameters":{"SipResponseCode":0}}]}
}

func ExampleErrorFields() {
	_, err := abi.ParseResponse([]byte(`{"Actions":[]} trailing`))
	t, msg := abi.ErrorFields(err)
	fmt.Println(t, "/", msg)
	// Output: InvalidActionParameter / unexpected data after the JSON object
}
