package mediaserver

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSkipFast(t *testing.T) {
	long := strings.Repeat("x", 70)
	tests := []struct {
		name    string
		input   string // the value to skip, then ",1"
		want    int    // where the skip ends
		wantErr error
	}{
		{name: "empty object", input: `{},1`, want: 2},
		{name: "nested", input: `{"a":[1,{"b":[]}],"c":{}},1`, want: 25},
		{name: "brackets in strings", input: `{"a":"}]{[","b":"]"},1`, want: 20},
		{name: "string across blocks", input: `{"a":"` + long + `}"},1`, want: 79},
		{name: "brackets across blocks", input: `[` + strings.Repeat(`[1],`, 40) + `[]],1`, want: 164},
		{name: "escaped quote", input: `{"a":"\"}"},1`, want: 11},
		{name: "escape in a later block", input: `{"a":"` + long + `\\"},1`, want: 80},
		{name: "scalar", input: `"s",1`, want: 3},
		{name: "unterminated", input: `{"a":[1,2`, wantErr: ErrSyntax},
		{name: "unterminated string", input: `{"a":"]}`, wantErr: ErrSyntax},
		{name: "too deep", input: strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), wantErr: ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decoder{data: []byte(tt.input), depth: 1}
			err := d.skipFast()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("skipFast(%q) error = %v, want %v", tt.input, err, tt.wantErr)
			}
			if err == nil && d.pos != tt.want {
				t.Fatalf("skipFast(%q) ends at %d (%q), want %d", tt.input, d.pos, tt.input[d.pos:], tt.want)
			}
		})
	}
}

// argumentLazy runs Event.Argument on an event decoded as dispatch does.
func argumentLazy(t *testing.T, params, name string) string {
	t.Helper()
	var d decoder
	var e Event
	d.recycle(&e)
	ev := `{"SchemaVersion":"1.0","InvocationEventType":"CALL_UPDATE_REQUESTED","ActionData":{"Type":"CallUpdateRequest","Parameters":` +
		params + `}}`
	if err := d.decodeEventLazy([]byte(ev), &e); err != nil {
		t.Fatalf("%s: %v", ev, err)
	}
	return e.Argument(name)
}

func TestArgumentLazy(t *testing.T) {
	tests := []struct {
		name   string
		params string
		arg    string
	}{
		{name: "first", params: `{"Arguments":{"JoinToken":"tok"}}`, arg: "JoinToken"},
		{name: "second", params: `{"Arguments":{"A":"1","JoinToken":"tok"}}`, arg: "JoinToken"},
		{name: "escaped value", params: `{"Arguments":{"JoinToken":"t\u00e9k\""}}`, arg: "JoinToken"},
		{name: "escaped key", params: `{"Arguments":{"\u004aoinToken":"tok"}}`, arg: "JoinToken"},
		{name: "prefix of a longer key", params: `{"Arguments":{"JoinTokenX":"x","JoinToken":"tok"}}`, arg: "JoinToken"},
		{name: "number", params: `{"Arguments":{"JoinToken":1}}`, arg: "JoinToken"},
		{name: "null", params: `{"Arguments":{"JoinToken":null}}`, arg: "JoinToken"},
		{name: "missing", params: `{"Arguments":{}}`, arg: "JoinToken"},
		{name: "no arguments", params: `{}`, arg: "JoinToken"},
		{name: "arguments later", params: `{"X":{"JoinToken":"no"},"Arguments":{"JoinToken":"tok"}}`, arg: "JoinToken"},
		{name: "spaced", params: `{ "Arguments" : { "JoinToken" : "tok" } }`, arg: "JoinToken"},
		{name: "empty name", params: `{"Arguments":{"":"e"}}`, arg: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _ := RawJSON(tt.params).String("Arguments", tt.arg)
			if got := argumentLazy(t, tt.params, tt.arg); got != want {
				t.Fatalf("Argument(%q) in %s = %q, want %q", tt.arg, tt.params, got, want)
			}
		})
	}
}

// FuzzArgument checks Event.Argument against RawJSON.String, its general
// path, on parameters that encoding/json accepts.
func FuzzArgument(f *testing.F) {
	f.Add(`{"Arguments":{"JoinToken":"tok"}}`, "JoinToken")
	f.Add(`{"Arguments":{"A":"\u0041"}}`, "A")
	f.Fuzz(func(t *testing.T, params, name string) {
		if !json.Valid([]byte(params)) || !strings.HasPrefix(params, "{") {
			return
		}
		want, _ := RawJSON(params).String("Arguments", name)
		if got := argumentLazy(t, params, name); got != want {
			t.Fatalf("Argument(%q) in %s = %q, want %q", name, params, got, want)
		}
	})
}
