package sip

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        DTMF
		wantErr     error
	}{
		{name: "dtmf-relay", contentType: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n", want: DTMF{Digit: '5', Duration: 160 * time.Millisecond}},
		{name: "dtmf-relay with LF and spaces", contentType: "application/dtmf-relay", body: "Signal= #\nDuration= 250\n", want: DTMF{Digit: '#', Duration: 250 * time.Millisecond}},
		{name: "dtmf-relay lower case letter", contentType: "Application/DTMF-Relay; charset=utf-8", body: "signal=b\r\nduration=100", want: DTMF{Digit: 'B', Duration: 100 * time.Millisecond}},
		{name: "dtmf-relay event number", contentType: "application/dtmf-relay", body: "Signal=11\r\nDuration=100", want: DTMF{Digit: '#', Duration: 100 * time.Millisecond}},
		{name: "dtmf-relay without duration", contentType: "application/dtmf-relay", body: "Signal=*", want: DTMF{Digit: '*'}},
		{name: "dtmf plain digit", contentType: "application/dtmf", body: "5", want: DTMF{Digit: '5'}},
		{name: "dtmf plain star with newline", contentType: "application/dtmf", body: "*\r\n", want: DTMF{Digit: '*'}},
		{name: "dtmf flash event", contentType: "application/dtmf", body: "16", want: DTMF{Digit: '!'}},
		{name: "dtmf-relay missing signal", contentType: "application/dtmf-relay", body: "Duration=160", wantErr: ErrDTMFMalformed},
		{name: "dtmf-relay bad signal", contentType: "application/dtmf-relay", body: "Signal=X\r\nDuration=160", wantErr: ErrDTMFMalformed},
		{name: "dtmf-relay bad duration", contentType: "application/dtmf-relay", body: "Signal=1\r\nDuration=-5", wantErr: ErrDTMFMalformed},
		{name: "dtmf empty", contentType: "application/dtmf", body: "", wantErr: ErrDTMFMalformed},
		{name: "dtmf two digits", contentType: "application/dtmf", body: "55", wantErr: ErrDTMFMalformed},
		{name: "other content type", contentType: "text/plain", body: "5", wantErr: ErrDTMFMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDTMFInfo(tt.contentType, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay", []byte("Signal=\r\n=\r\nDuration=99999999999999999999"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, err := ParseDTMFInfo(ct, body)
		if err != nil {
			if !errors.Is(err, ErrDTMFMalformed) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		const digits = "0123456789*#ABCD!"
		found := false
		for _, r := range digits {
			found = found || r == d.Digit
		}
		if !found || d.Duration < 0 || d.Duration > time.Minute {
			t.Fatalf("out of range: %+v", d)
		}
	})
}

func FuzzBadRequest(f *testing.F) {
	f.Add([]byte(rawRequest("INVITE", "UDP", "x", "", nil, "application/sdp", "v=0", 99)))
	f.Add([]byte("INVITE sip:a SIP/2.0\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := badRequest(data, 400, "Bad Request", "fuzz")
		if res == nil {
			return
		}
		if !strings.HasPrefix(string(res), "SIP/2.0 400 Bad Request\r\n") || !strings.HasSuffix(string(res), "\r\n\r\n") {
			t.Fatalf("not a framed 400:\n%q", res)
		}
		if len(res) > 2*len(data)+200 {
			t.Fatalf("response larger than request: %d > %d", len(res), len(data))
		}
	})
}
