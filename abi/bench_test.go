package abi

import "testing"

// BenchmarkParseValidate measures the host's per-response cost:
// go test -run XXX -bench ParseValidate -benchtime 2000x ./abi/
func BenchmarkParseValidate(b *testing.B) {
	body := []byte(`{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudioAndGetDigits","Parameters":{"ParticipantTag":"LEG-A","InputDigitsRegex":"^[0-9]$","AudioSource":{"Type":"S3","BucketName":"prompts","Key":"menu.wav"},"MinNumberOfDigits":1,"MaxNumberOfDigits":1,"Repeat":"3","RepeatDurationInMilliseconds":5000}},{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}],"TransactionAttributes":{"menu":"main"}}`)
	parts := twoLegs()
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseResponse(body)
		if err != nil {
			b.Fatal(err)
		}
		if err := ValidateResponse(r, DefaultLimits(), parts); err != nil {
			b.Fatal(err)
		}
	}
}
