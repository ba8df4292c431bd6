package abi

import "testing"

func TestSIPNames(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		e164, token  bool
		passedHeader bool
	}{
		{name: "E.164", in: "+15550100", e164: true, token: true},
		{name: "E.164 longest", in: "+123456789012345", e164: true, token: true},
		{name: "too long", in: "+1234567890123456", token: true},
		{name: "no plus", in: "15550100", token: true},
		{name: "leading zero", in: "+05550100", token: true},
		{name: "X- header", in: "X-Campaign", token: true, passedHeader: true},
		{name: "x- lowercase", in: "x-id", token: true, passedHeader: true},
		{name: "bare X-", in: "X-", token: true},
		{name: "User-to-User", in: "user-to-user", token: true, passedHeader: true},
		{name: "Diversion", in: "Diversion", token: true, passedHeader: true},
		{name: "Contact", in: "Contact", token: true},
		{name: "injection", in: "X-A\r\nVia", passedHeader: true},
		{name: "colon", in: "X-A:b", passedHeader: true},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsE164(tt.in); got != tt.e164 {
				t.Errorf("IsE164(%q) = %v", tt.in, got)
			}
			if got := IsSIPToken(tt.in); got != tt.token {
				t.Errorf("IsSIPToken(%q) = %v", tt.in, got)
			}
			if got := PassedSipHeader(tt.in); got != tt.passedHeader {
				t.Errorf("PassedSipHeader(%q) = %v", tt.in, got)
			}
		})
	}
}
