package mediaserver

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRawJSONString(t *testing.T) {
	params := RawJSON(`{"Arguments":{"JoinToken":"t\u00e9k","Empty":"","Null":null,"Num":1},"Deep":{"A":{"B":"c"}},"Arr":[1]}`)
	tests := []struct {
		name    string
		path    []string
		want    string
		wantErr error
	}{
		{name: "nested", path: []string{"Arguments", "JoinToken"}, want: "ték"},
		{name: "three levels", path: []string{"Deep", "A", "B"}, want: "c"},
		{name: "empty string", path: []string{"Arguments", "Empty"}, want: ""},
		{name: "missing member", path: []string{"Arguments", "Nope"}, wantErr: ErrNotFound},
		{name: "null is absent", path: []string{"Arguments", "Null"}, wantErr: ErrNotFound},
		{name: "number", path: []string{"Arguments", "Num"}, wantErr: ErrType},
		{name: "through an array", path: []string{"Arr", "x"}, wantErr: ErrNotFound},
		{name: "object", path: []string{"Deep"}, wantErr: ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := params.String(tt.path...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("String(%q) error = %v, want %v", tt.path, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("String(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestRawJSONGetAndStringMap(t *testing.T) {
	params := RawJSON(`{"Arguments": {"a":"1","b":"2"}, "List": [1, 2]}`)
	tests := []struct {
		name    string
		get     func() (any, error)
		want    any
		wantErr error
	}{
		{name: "get raw array", get: func() (any, error) { v, err := params.Get("List"); return string(v), err }, want: "[1, 2]"},
		{name: "get whole", get: func() (any, error) { v, err := params.Get(); return string(v), err }, want: string(params)},
		{name: "get missing", get: func() (any, error) { v, err := params.Get("X"); return string(v), err }, want: "", wantErr: ErrNotFound},
		{name: "string map", get: func() (any, error) { return params.StringMap("Arguments") }, want: map[string]string{"a": "1", "b": "2"}},
		{name: "string map of non-strings", get: func() (any, error) { return RawJSON(`{"a":1}`).StringMap() }, want: map[string]string(nil), wantErr: ErrType},
		{name: "string map missing", get: func() (any, error) { return params.StringMap("X") }, want: map[string]string(nil), wantErr: ErrNotFound},
		{name: "malformed", get: func() (any, error) { v, err := RawJSON(`{"a":`).Get("a"); return string(v), err }, want: "", wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEventArgument(t *testing.T) {
	e, err := DecodeEvent([]byte(`{"InvocationEventType":"CALL_UPDATE_REQUESTED","ActionData":{"Type":"CallUpdateRequest","Parameters":{"Arguments":{"JoinToken":"abc"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Argument("JoinToken"); got != "abc" {
		t.Fatalf("Argument(JoinToken) = %q, want abc", got)
	}
	if got := e.Argument("Other"); got != "" {
		t.Fatalf("Argument(Other) = %q, want empty", got)
	}
	if got := (&Event{}).Argument("JoinToken"); got != "" {
		t.Fatalf("Argument without ActionData = %q, want empty", got)
	}
}

// FuzzRawJSONString compares RawJSON.String with encoding/json on the
// documents where both must agree: valid JSON without duplicate keys (String
// takes the first, encoding/json the last).
func FuzzRawJSONString(f *testing.F) {
	f.Add(`{"Arguments":{"JoinToken":"t\u00e9k"}}`, "Arguments", "JoinToken")
	f.Add(`{"a":{"b":"\ud83d\ude00"}}`, "a", "b")
	f.Add(`{"a":[1],"b":{"c":null}}`, "b", "c")
	f.Fuzz(func(t *testing.T, doc, p1, p2 string) {
		if !json.Valid([]byte(doc)) || hasDuplicateKeys(doc) {
			return
		}
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		for _, path := range [][]string{{p1}, {p1, p2}} {
			want, wantOK := lookupString(v, path)
			got, err := RawJSON(doc).String(path...)
			if wantOK != (err == nil) || got != want {
				t.Fatalf("doc %q path %q: got %q, %v; want %q (found %v)", doc, path, got, err, want, wantOK)
			}
		}
	})
}

func lookupString(v any, path []string) (string, bool) {
	for _, seg := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[seg]; !ok {
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok
}

// hasDuplicateKeys reports whether an object in the valid JSON doc repeats
// a member name.
func hasDuplicateKeys(doc string) bool {
	dec := json.NewDecoder(strings.NewReader(doc))
	type frame struct {
		keys      map[string]bool
		object    bool
		expectKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			if k, ok := tok.(string); ok {
				if stack[n-1].keys[k] {
					return true
				}
				stack[n-1].keys[k] = true
				stack[n-1].expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, object: true, expectKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
}
