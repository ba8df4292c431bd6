package mediaserver

import "testing"

// The expected JSON follows the Chime SDK developer guide's action
// reference (https://docs.aws.amazon.com/chime-sdk/latest/dg/specify-actions.html).
func TestActionJSON(t *testing.T) {
	failure := S3Audio("b", "fail.wav")
	failSpeech := SpeechParameters{Text: "again"}
	tests := []struct {
		name   string
		action Action
		want   string
	}{
		{
			name: "PlayAudio",
			action: PlayAudio(PlayAudioParams{
				CallID: "c1", ParticipantTag: LegA, PlaybackTerminators: []string{"1", "#"}, Repeat: 5,
				AudioSource: S3Audio("valid-S3-bucket-name", "wave-file.wav"),
			}),
			want: `{"Type":"PlayAudio","Parameters":{"CallId":"c1","ParticipantTag":"LEG-A","PlaybackTerminators":["1","#"],"Repeat":5,"AudioSource":{"Type":"S3","BucketName":"valid-S3-bucket-name","Key":"wave-file.wav"}}}`,
		},
		{
			name:   "PlayAudio audio type defaults to S3",
			action: PlayAudio(PlayAudioParams{AudioSource: AudioSource{BucketName: "b", Key: "k"}}),
			want:   `{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"b","Key":"k"}}}`,
		},
		{
			name:   "PlayAudio from a URL",
			action: PlayAudio(PlayAudioParams{AudioSource: URLAudio("https://prompts.example.com/menu.mp3")}),
			want:   `{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"URL","Uri":"https://prompts.example.com/menu.mp3"}}}`,
		},
		{
			name: "PlayAudioAndGetDigits",
			action: PlayAudioAndGetDigits(PlayAudioAndGetDigitsParams{
				CallID: "c1", InputDigitsRegex: "^\\d{2}#$", AudioSource: S3Audio("b", "p.wav"), FailureAudioSource: &failure,
				MinNumberOfDigits: 3, MaxNumberOfDigits: 5, TerminatorDigits: []string{"#"},
				InBetweenDigitsDurationInMilliseconds: 5000, Repeat: 3, RepeatDurationInMilliseconds: 10000,
			}),
			want: `{"Type":"PlayAudioAndGetDigits","Parameters":{"CallId":"c1","InputDigitsRegex":"^\\d{2}#$","AudioSource":{"Type":"S3","BucketName":"b","Key":"p.wav"},"FailureAudioSource":{"Type":"S3","BucketName":"b","Key":"fail.wav"},"MinNumberOfDigits":3,"MaxNumberOfDigits":5,"TerminatorDigits":["#"],"InBetweenDigitsDurationInMilliseconds":5000,"Repeat":3,"RepeatDurationInMilliseconds":10000}}`,
		},
		{
			name:   "Speak",
			action: Speak(SpeakParams{CallID: "c1", Text: "Hello", Engine: "neural", LanguageCode: "en-US", TextType: "text", VoiceID: "Joanna"}),
			want:   `{"Type":"Speak","Parameters":{"CallId":"c1","Text":"Hello","Engine":"neural","LanguageCode":"en-US","TextType":"text","VoiceId":"Joanna"}}`,
		},
		{
			name: "SpeakAndGetDigits",
			action: SpeakAndGetDigits(SpeakAndGetDigitsParams{
				CallID: "c1", InputDigitsRegex: "^[0-9]$", SpeechParameters: SpeechParameters{Text: "Press", VoiceID: "Joanna"},
				FailureSpeechParameters: &failSpeech, MinNumberOfDigits: 1, MaxNumberOfDigits: 1, Repeat: 2, RepeatDurationInMilliseconds: 3000,
			}),
			want: `{"Type":"SpeakAndGetDigits","Parameters":{"CallId":"c1","InputDigitsRegex":"^[0-9]$","SpeechParameters":{"Text":"Press","VoiceId":"Joanna"},"FailureSpeechParameters":{"Text":"again"},"MinNumberOfDigits":1,"MaxNumberOfDigits":1,"Repeat":2,"RepeatDurationInMilliseconds":3000}}`,
		},
		{
			name:   "Pause",
			action: Pause(PauseParams{CallID: "c1", DurationInMilliseconds: 3000}),
			want:   `{"Type":"Pause","Parameters":{"CallId":"c1","DurationInMilliseconds":3000}}`,
		},
		{
			name:   "Hangup",
			action: Hangup(HangupParams{CallID: "c1", ParticipantTag: LegA, SipResponseCode: 486}),
			want:   `{"Type":"Hangup","Parameters":{"CallId":"c1","ParticipantTag":"LEG-A","SipResponseCode":486}}`,
		},
		{
			name:   "SendDigits",
			action: SendDigits(SendDigitsParams{CallID: "c1", Digits: ",,*1234,56,7890ABCD#", ToneDurationInMilliseconds: 100}),
			want:   `{"Type":"SendDigits","Parameters":{"CallId":"c1","Digits":",,*1234,56,7890ABCD#","ToneDurationInMilliseconds":100}}`,
		},
		{
			name: "ReceiveDigits",
			action: ReceiveDigits(ReceiveDigitsParams{
				CallID: "c1", InputDigitsRegex: "^\\d{2}#$", InBetweenDigitsDurationInMilliseconds: 1000, FlushDigitsDurationInMilliseconds: 10000,
			}),
			want: `{"Type":"ReceiveDigits","Parameters":{"CallId":"c1","InputDigitsRegex":"^\\d{2}#$","InBetweenDigitsDurationInMilliseconds":1000,"FlushDigitsDurationInMilliseconds":10000}}`,
		},
		{
			name: "RecordAudio",
			action: RecordAudio(RecordAudioParams{
				CallID: "call-id-1", DurationInSeconds: 10, SilenceDurationInSeconds: 3, SilenceThreshold: 100,
				RecordingTerminators: []string{"#"},
				RecordingDestination: RecordingDestination{BucketName: "valid-bucket-name", Prefix: "valid-prefix-name"},
			}),
			want: `{"Type":"RecordAudio","Parameters":{"CallId":"call-id-1","DurationInSeconds":10,"SilenceDurationInSeconds":3,"SilenceThreshold":100,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"valid-bucket-name","Prefix":"valid-prefix-name"}}}`,
		},
		{
			name:   "RecordAudio terminators required",
			action: RecordAudio(RecordAudioParams{RecordingDestination: RecordingDestination{BucketName: "b"}}),
			want:   `{"Type":"RecordAudio","Parameters":{"RecordingTerminators":[],"RecordingDestination":{"Type":"S3","BucketName":"b"}}}`,
		},
		{
			name: "CallAndBridge",
			action: CallAndBridge(CallAndBridgeParams{
				CallTimeoutSeconds: 30, CallerIDNumber: "+12225550100",
				Endpoints:    []BridgeEndpoint{{BridgeEndpointType: "PSTN", URI: "+13335550100"}},
				RingbackTone: &AudioSource{BucketName: "b", Key: "ring.wav"},
				SipHeaders:   map[string]string{"X-Example": "1", "User-to-User": "u"},
			}),
			want: `{"Type":"CallAndBridge","Parameters":{"CallTimeoutSeconds":30,"CallerIdNumber":"+12225550100","Endpoints":[{"BridgeEndpointType":"PSTN","Uri":"+13335550100"}],"RingbackTone":{"Type":"S3","BucketName":"b","Key":"ring.wav"},"SipHeaders":{"User-to-User":"u","X-Example":"1"}}}`,
		},
		{
			name:   "CallAndBridge AWS endpoint",
			action: CallAndBridge(CallAndBridgeParams{CallerIDNumber: "+1", Endpoints: []BridgeEndpoint{{BridgeEndpointType: "AWS", URI: "5550100", ARN: "arn:vc"}}}),
			want:   `{"Type":"CallAndBridge","Parameters":{"CallerIdNumber":"+1","Endpoints":[{"BridgeEndpointType":"AWS","Uri":"5550100","Arn":"arn:vc"}]}}`,
		},
		{
			name:   "JoinChimeMeeting",
			action: JoinChimeMeeting(JoinChimeMeetingParams{CallID: "c1", JoinToken: "tok", MeetingID: "m1"}),
			want:   `{"Type":"JoinChimeMeeting","Parameters":{"CallId":"c1","JoinToken":"tok","MeetingId":"m1"}}`,
		},
		{
			name:   "ModifyChimeMeetingAttendees",
			action: ModifyChimeMeetingAttendees(ModifyChimeMeetingAttendeesParams{CallID: "c1", Operation: "Mute", MeetingID: "m1", AttendeeList: []string{"a1", "a2"}}),
			want:   `{"Type":"ModifyChimeMeetingAttendees","Parameters":{"CallId":"c1","Operation":"Mute","MeetingId":"m1","AttendeeList":["a1","a2"]}}`,
		},
		{
			name: "StartBotConversation",
			action: StartBotConversation(StartBotConversationParams{
				CallID: "c1", BotAliasARN: "arn:bot", LocaleID: "en_US",
				Configuration: RawJSON(`{"SessionState":{"DialogAction":{"Type":"ElicitIntent"}}}`),
			}),
			want: `{"Type":"StartBotConversation","Parameters":{"CallId":"c1","BotAliasArn":"arn:bot","LocaleId":"en_US","Configuration":{"SessionState":{"DialogAction":{"Type":"ElicitIntent"}}}}}`,
		},
		{
			name:   "StartCallRecording",
			action: StartCallRecording(StartCallRecordingParams{CallID: "c1", Track: "BOTH", Destination: CallRecordingDestination{Location: "bucket/prefix"}}),
			want:   `{"Type":"StartCallRecording","Parameters":{"CallId":"c1","Track":"BOTH","Destination":{"Type":"S3","Location":"bucket/prefix"}}}`,
		},
		{name: "StopCallRecording", action: StopCallRecording("c1"), want: `{"Type":"StopCallRecording","Parameters":{"CallId":"c1"}}`},
		{name: "PauseCallRecording", action: PauseCallRecording("c1"), want: `{"Type":"PauseCallRecording","Parameters":{"CallId":"c1"}}`},
		{name: "ResumeCallRecording", action: ResumeCallRecording("c1"), want: `{"Type":"ResumeCallRecording","Parameters":{"CallId":"c1"}}`},
		{name: "VoiceFocus on", action: VoiceFocus(VoiceFocusParams{CallID: "c1", Enable: true}), want: `{"Type":"VoiceFocus","Parameters":{"CallId":"c1","Enable":true}}`},
		{name: "VoiceFocus off is written", action: VoiceFocus(VoiceFocusParams{CallID: "c1"}), want: `{"Type":"VoiceFocus","Parameters":{"CallId":"c1","Enable":false}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertJSON(t, tt.action.AppendJSON(nil), tt.want)
		})
	}
}
