package plugin

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "response", in: `{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"Repeat":2}}]}`, want: true},
		{name: "empty object", in: `{}`, want: true},
		{name: "empty array", in: ` [ ] `, want: true},
		{name: "nested empties", in: `{"a":[{},[],{"b":[]}]}`, want: true},
		{name: "scalars", in: `[true,false,null,0,-0.5e+10,1E3,"x"]`, want: true},
		{name: "escapes", in: `{"a":"\"\\\/\b\f\n\r\t\u00e9 long enough to use words"}`, want: true},
		{name: "invalid utf-8 is accepted like json.Valid", in: "\"\xff\"", want: true},
		{name: "empty", in: ``},
		{name: "only whitespace", in: "  \n"},
		{name: "trailing comma", in: `{"a":1,}`},
		{name: "trailing comma in array", in: `[1,]`},
		{name: "missing colon", in: `{"a" 1}`},
		{name: "non-string key", in: `{1:2}`},
		{name: "mismatched close", in: `{"a":[1}`},
		{name: "unclosed", in: `{"a":1`},
		{name: "two values", in: `{} {}`},
		{name: "leading zero", in: `[01]`},
		{name: "bare minus", in: `[-]`},
		{name: "dot without digits", in: `[1.]`},
		{name: "exponent without digits", in: `[1e+]`},
		{name: "bad escape", in: `["\q"]`},
		{name: "short unicode escape", in: `["\u12"]`},
		{name: "control character", in: "[\"a\x01b\"]"},
		{name: "control character after a word", in: "[\"abcdefghij\x1f\"]"},
		{name: "unterminated string", in: `["abcdefghijklmnop`},
		{name: "bad literal", in: `[nul]`},
		{name: "max nesting", in: strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting), want: true},
		{name: "over max nesting", in: strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validJSON([]byte(tt.in)); got != tt.want {
				t.Fatalf("validJSON(%.60q) = %v, want %v", tt.in, got, tt.want)
			}
			if std := json.Valid([]byte(tt.in)); std != tt.want {
				t.Fatalf("json.Valid(%.60q) = %v: the table is wrong", tt.in, std)
			}
		})
	}
}

// FuzzValidJSON checks validJSON against json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u0041"]}`, `[true,false,null]`, `{"a":}`, `"\\"`, `[-0]`, `{"SchemaVersion":"1.0","Actions":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}
