package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	tests := []struct {
		name    string
		ct      string
		body    string
		want    Received
		wantErr error
	}{
		{name: "relay", ct: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n", want: Received{Digit: '5', Duration: 160 * time.Millisecond, Source: SourceSIPInfo}},
		{name: "relay spaces and lf", ct: "Application/DTMF-Relay", body: "Signal= #\nDuration= 250", want: Received{Digit: '#', Duration: 250 * time.Millisecond, Source: SourceSIPInfo}},
		{name: "relay numeric star", ct: "application/dtmf-relay", body: "Signal=10\r\nDuration=100", want: Received{Digit: '*', Duration: 100 * time.Millisecond, Source: SourceSIPInfo}},
		{name: "relay no duration", ct: "application/dtmf-relay", body: "Signal=a", want: Received{Digit: 'A', Duration: DefaultToneDuration, Source: SourceSIPInfo}},
		{name: "relay bad duration", ct: "application/dtmf-relay", body: "Signal=1\r\nDuration=-5", want: Received{Digit: '1', Duration: DefaultToneDuration, Source: SourceSIPInfo}},
		{name: "dtmf plain", ct: "application/dtmf", body: "7\r\n", want: Received{Digit: '7', Duration: DefaultToneDuration, Source: SourceSIPInfo}},
		{name: "content type params", ct: "application/dtmf; charset=utf-8", body: "9", want: Received{Digit: '9', Duration: DefaultToneDuration, Source: SourceSIPInfo}},
		{name: "relay no signal", ct: "application/dtmf-relay", body: "Duration=160", wantErr: ErrBadBody},
		{name: "relay bad signal", ct: "application/dtmf-relay", body: "Signal=X", wantErr: ErrBadBody},
		{name: "dtmf empty", ct: "application/dtmf", body: "", wantErr: ErrBadBody},
		{name: "dtmf two digits", ct: "application/dtmf", body: "12", wantErr: ErrBadBody},
		{name: "wrong type", ct: "text/plain", body: "Signal=1", wantErr: ErrBadBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInfo(tt.ct, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160"))
	f.Add("application/dtmf", []byte("5"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r, err := ParseInfo(ct, body)
		if err != nil {
			return
		}
		if _, ok := Code(r.Digit); !ok || r.Duration <= 0 {
			t.Fatalf("accepted %+v", r)
		}
	})
}
