package mediaserver

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestAppendStringRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "empty", in: ""},
		{name: "ascii", in: "hello world"},
		{name: "quote and backslash", in: `a"b\c`},
		{name: "control characters", in: "\x00\x01\b\f\n\r\t\x1f"},
		{name: "utf-8", in: "héllo 中文 😀"},
		{name: "line separators", in: "a\u2028b\u2029c"},
		{name: "html characters", in: "<a href='x'>&</a>"},
		{name: "slash", in: "a/b"},
		{name: "del", in: "\x7f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := appendString(nil, tt.in)
			var back string
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("appendString(%q) = %s: not JSON: %v", tt.in, out, err)
			}
			if back != tt.in {
				t.Fatalf("appendString(%q) = %s, decodes to %q", tt.in, out, back)
			}
		})
	}
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "lone continuation byte", in: "a\x80b", want: "a\ufffdb"},
		{name: "truncated sequence", in: "\xe4\xb8", want: "\ufffd\ufffd"},
		{name: "encoded surrogate", in: "\xed\xa0\x80", want: "\ufffd\ufffd\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := appendString(nil, tt.in)
			if !utf8.Valid(out) {
				t.Fatalf("appendString(%q) = %q: invalid UTF-8", tt.in, out)
			}
			var back string
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatal(err)
			}
			if back != tt.want {
				t.Fatalf("appendString(%q) decodes to %q, want %q", tt.in, back, tt.want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\x00\u2028")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("appendString(%q) = %q: %v", s, out, err)
		}
		// encoding/json maps invalid UTF-8 to U+FFFD the same way.
		want, _ := json.Marshal(s)
		var wantBack string
		if err := json.Unmarshal(want, &wantBack); err != nil {
			t.Fatal(err)
		}
		if back != wantBack {
			t.Fatalf("appendString(%q) decodes to %q, encoding/json to %q", s, back, wantBack)
		}
	})
}

// assertJSON compares got with the hand-written want as JSON values.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected JSON is invalid: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON mismatch\n got: %s\nwant: %s", got, want)
	}
}

func TestResponseJSON(t *testing.T) {
	tests := []struct {
		name string
		resp *Response
		want string
	}{
		{name: "empty action list", resp: Respond(), want: `{"SchemaVersion":"1.0","Actions":[]}`},
		{name: "nil actions keep the current list", resp: &Response{}, want: `{"SchemaVersion":"1.0"}`},
		{name: "schema version kept", resp: &Response{SchemaVersion: "2.0", Actions: []Action{}}, want: `{"SchemaVersion":"2.0","Actions":[]}`},
		{
			name: "attributes sorted and escaped",
			resp: Respond().SetAttribute("z", "1").SetAttribute("a\"", "x\ny"),
			want: `{"SchemaVersion":"1.0","Actions":[],"TransactionAttributes":{"a\"":"x\ny","z":"1"}}`,
		},
		{name: "empty attributes clear", resp: Respond().WithAttributes(map[string]string{}), want: `{"SchemaVersion":"1.0","Actions":[],"TransactionAttributes":{}}`},
		{name: "nil parameters", resp: Respond(Action{Type: "Custom"}), want: `{"SchemaVersion":"1.0","Actions":[{"Type":"Custom","Parameters":{}}]}`},
		{name: "custom action", resp: Respond(CustomAction("X", RawJSON(`{"a":[1]}`))), want: `{"SchemaVersion":"1.0","Actions":[{"Type":"X","Parameters":{"a":[1]}}]}`},
		{
			name: "add appends",
			resp: Respond(Pause(PauseParams{DurationInMilliseconds: 10})).Add(Hangup(HangupParams{})),
			want: `{"SchemaVersion":"1.0","Actions":[{"Type":"Pause","Parameters":{"DurationInMilliseconds":10}},{"Type":"Hangup","Parameters":{}}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.resp.AppendJSON(nil)
			assertJSON(t, got, tt.want)
			// MarshalJSON lets encoding/json embed a Response unchanged.
			viaJSON, err := json.Marshal(tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, viaJSON, tt.want)
		})
	}
}

func TestAppendStringMapManyKeys(t *testing.T) {
	m := map[string]string{}
	for i := range 40 {
		k := string(rune('A'+i%26)) + string(rune('a'+i/26))
		m[k] = k
	}
	got := appendStringMap(nil, m)
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("round trip of %d keys lost data: %s", len(m), got)
	}
}
