// Package sdkc_test tests the JSON helpers of mediaserver.h: they are
// compiled to Wasm with clang and driven under wazero.
package sdkc_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/wasmvoice/mediaserver/abi"
)

// Status codes of mediaserver.h.
const (
	msOK          = 0
	msErrTooLarge = -1
	msErrNotFound = -4
	msErrSyntax   = -100
	msErrType     = -101
)

const (
	pathOff = 1 << 18
	outOff  = 1 << 19
)

// helpers is an instance of testdata/helpers.c.
type helpers struct {
	mod  api.Module
	area uint32
}

// The two builds of the scanners: SIMD (16-byte blocks) and SWAR (8-byte
// words, when -msimd128 is not given).
var variants = []struct {
	name  string
	flags []string
}{
	{name: "simd", flags: []string{"-O3", "-msimd128", "-mbulk-memory"}},
	{name: "swar", flags: []string{"-O2"}},
}

// forEachBuild runs f on an instance of each build.
func forEachBuild(t *testing.T, f func(t *testing.T, h *helpers)) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { f(t, buildHelpers(t, v.flags...)) })
	}
}

func buildHelpers(tb testing.TB, flags ...string) *helpers {
	tb.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("clang not found: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32")
		}
		tb.Skip("clang not found: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32")
	}
	out := filepath.Join(tb.TempDir(), "helpers.wasm")
	args := append([]string{"--target=wasm32-wasi", "-mexec-model=reactor", "-Wall", "-Wextra", "-Werror"}, flags...)
	cmd := exec.Command(clang, append(args, "-I.", "-o", out, "testdata/helpers.c")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("clang: %v\n%s", err, b)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { rt.Close(context.Background()) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := mod.ExportedFunction("area").Call(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return &helpers{mod: mod, area: uint32(res[0])}
}

func (h *helpers) call(tb testing.TB, name string, args ...uint64) int32 {
	tb.Helper()
	res, err := h.mod.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return int32(uint32(res[0]))
}

func (h *helpers) write(tb testing.TB, off uint32, b []byte) {
	tb.Helper()
	if !h.mod.Memory().Write(h.area+off, b) {
		tb.Fatal("write out of range")
	}
}

func (h *helpers) read(tb testing.TB, off, n uint32) []byte {
	tb.Helper()
	b, ok := h.mod.Memory().Read(h.area+off, n)
	if !ok {
		tb.Fatal("read out of range")
	}
	return append([]byte(nil), b...)
}

// getString runs ms_json_get_string.
func (h *helpers) getString(tb testing.TB, doc, path string, capacity int) (string, int32) {
	tb.Helper()
	h.write(tb, 0, []byte(doc))
	h.write(tb, pathOff, append([]byte(path), 0))
	rc := h.call(tb, "get_string", uint64(len(doc)), pathOff, outOff, uint64(capacity))
	if rc != msOK {
		return "", rc
	}
	n := uint32(h.call(tb, "out_len"))
	return string(h.read(tb, outOff, n)), rc
}

const event = `{"SchemaVersion":"1.0","InvocationEventType":"CALL_UPDATE_REQUESTED",
 "ActionData":{"Type":"CallUpdateRequest","Parameters":{"Arguments":{"Other":{"JoinToken":"nested"},"JoinToken":"t\u00e9k\ud83d\ude00\"\\\/"}}},
 "CallDetails":{"TransactionId":"tx","Participants":[{"CallId":"a","From":"+1"},{"CallId":"b","From":"+2"}],
 "TransactionAttributes":{"n":null,"num":12,"obj":{}}}}`

func TestGetString(t *testing.T) { forEachBuild(t, testGetString) }

func testGetString(t *testing.T, h *helpers) {
	tests := []struct {
		name     string
		doc      string
		path     string
		capacity int
		want     string
		wantRC   int32
	}{
		{name: "top level", doc: event, path: "InvocationEventType", capacity: 64, want: "CALL_UPDATE_REQUESTED"},
		{name: "deep with escapes", doc: event, path: "ActionData.Parameters.Arguments.JoinToken", capacity: 64, want: "ték😀\"\\/"},
		{name: "array index", doc: event, path: "CallDetails.Participants.1.From", capacity: 64, want: "+2"},
		{name: "array index zero", doc: event, path: "CallDetails.Participants.0.CallId", capacity: 64, want: "a"},
		{name: "array index past the end", doc: event, path: "CallDetails.Participants.2.From", capacity: 64, wantRC: msErrNotFound},
		{name: "missing", doc: event, path: "ActionData.Nope", capacity: 64, wantRC: msErrNotFound},
		{name: "null is absent", doc: event, path: "CallDetails.TransactionAttributes.n", capacity: 64, wantRC: msErrNotFound},
		{name: "number", doc: event, path: "CallDetails.TransactionAttributes.num", capacity: 64, wantRC: msErrType},
		{name: "object", doc: event, path: "CallDetails.TransactionAttributes.obj", capacity: 64, wantRC: msErrType},
		{name: "through a string", doc: event, path: "SchemaVersion.X", capacity: 64, wantRC: msErrNotFound},
		{name: "too small", doc: event, path: "InvocationEventType", capacity: 21, wantRC: msErrTooLarge},
		{name: "exactly fits with NUL", doc: event, path: "InvocationEventType", capacity: 22, want: "CALL_UPDATE_REQUESTED"},
		{name: "lone surrogate", doc: `{"a":"x\ud800y"}`, path: "a", capacity: 64, want: "x\uFFFDy"},
		{name: "escaped key", doc: `{"\u0061b":"v"}`, path: "ab", capacity: 64, want: "v"},
		{name: "first duplicate wins", doc: `{"a":"1","a":"2"}`, path: "a", capacity: 64, want: "1"},
		{name: "empty object", doc: `{}`, path: "a", capacity: 64, wantRC: msErrNotFound},
		{name: "truncated", doc: `{"x":"1","a":`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "bad escape", doc: `{"a":"\q"}`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "control character", doc: "{\"a\":\"x\x01\"}", path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "bad skipped value", doc: `{"x":01,"a":"v"}`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "too deep", doc: `{"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `,"a":"v"}`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "empty input", doc: ``, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "long value across blocks", doc: `{"a":"` + strings.Repeat("0123456789", 7) + `"}`, path: "a", capacity: 128, want: strings.Repeat("0123456789", 7)},
		{name: "escapes across blocks", doc: `{"a":"` + strings.Repeat(`ab\ncd\"`, 9) + `"}`, path: "a", capacity: 128, want: strings.Repeat("ab\ncd\"", 9)},
		{name: "string to the last byte", doc: `{"k":"` + strings.Repeat("x", 40), path: "k", capacity: 64, wantRC: msErrSyntax},
		{name: "brackets in skipped strings", doc: `{"x":{"s":"}]\"{","t":["]"]},"a":"v"}`, path: "a", capacity: 64, want: "v"},
		{name: "mismatched brackets", doc: `{"x":[1}],"a":"v"}`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "unclosed skipped container", doc: `{"x":[[1],"a":"v"}`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "bad escape in skipped string", doc: `{"x":["\q"],"a":"v"}`, path: "a", capacity: 64, wantRC: msErrSyntax},
		{name: "long keys", doc: `{"` + strings.Repeat("k", 40) + `x":1,"` + strings.Repeat("k", 40) + `":"v"}`, path: strings.Repeat("k", 40), capacity: 64, want: "v"},
		{name: "same length keys", doc: `{"abcdefghij":"1","abcdefghik":"2"}`, path: "abcdefghik", capacity: 64, want: "2"},
		{name: "whitespace", doc: " {\n \"a\" :\t[ 1 , { \"b\" : \"w\" } ] } ", path: "a.1.b", capacity: 64, want: "w"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rc := h.getString(t, tt.doc, tt.path, tt.capacity)
			if rc != tt.wantRC || got != tt.want {
				t.Fatalf("ms_json_get_string(%q) = %q, %d; want %q, %d", tt.path, got, rc, tt.want, tt.wantRC)
			}
		})
	}
}

func TestGetRaw(t *testing.T) { forEachBuild(t, testGetRaw) }

func testGetRaw(t *testing.T, h *helpers) {
	doc := `{"a": {"b": [1, {"c": true}] }, "d": -1.5e3}`
	tests := []struct {
		name   string
		path   string
		want   string
		wantRC int32
	}{
		{name: "object", path: "a", want: `{"b": [1, {"c": true}] }`},
		{name: "array", path: "a.b", want: `[1, {"c": true}]`},
		{name: "literal in array", path: "a.b.1.c", want: `true`},
		{name: "number", path: "d", want: `-1.5e3`},
		{name: "index into an object", path: "a.0", wantRC: msErrNotFound},
	}
	h.write(t, 0, []byte(doc))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.write(t, pathOff, append([]byte(tt.path), 0))
			rc := h.call(t, "get_raw", uint64(len(doc)), pathOff, outOff)
			if rc != tt.wantRC {
				t.Fatalf("ms_json_get(%q) = %d, want %d", tt.path, rc, tt.wantRC)
			}
			if rc != msOK {
				return
			}
			pos := h.read(t, outOff, 8)
			off, n := binary.LittleEndian.Uint32(pos), binary.LittleEndian.Uint32(pos[4:])
			if got := doc[off : off+n]; got != tt.want {
				t.Fatalf("ms_json_get(%q) = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) { forEachBuild(t, testEscape) }

func testEscape(t *testing.T, h *helpers) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "plain", in: "hello"},
		{name: "quote and backslash", in: `a"b\c`},
		{name: "controls", in: "\x00\x01\n\r\t\x1f\x7f"},
		{name: "utf-8", in: "ték😀"},
		{name: "long", in: strings.Repeat("ab\"", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.write(t, 0, []byte(tt.in))
			n := h.call(t, "escape", uint64(len(tt.in)), outOff)
			if n < 0 {
				t.Fatal("escape failed")
			}
			out := h.read(t, outOff, uint32(n))
			var got []any
			if err := json.Unmarshal(append(append([]byte("["), out...), ']'), &got); err != nil {
				t.Fatalf("output %q is not JSON: %v", out, err)
			}
			want := []any{tt.in, -9223372036854775808.0}
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Fatalf("escape(%q) gives %q = %v, want %v", tt.in, out, got, want)
			}
		})
	}
}

// FuzzGetString compares ms_json_get_string with encoding/json on the
// documents both can judge: valid JSON without duplicate keys or invalid
// UTF-8, where the first and the last duplicate would agree.
func FuzzGetString(f *testing.F) {
	f.Add(event, "ActionData.Parameters.Arguments.JoinToken")
	f.Add(`{"a":{"b":"\ud83d\ude00"}}`, "a.b")
	f.Add(`{"a":[{"b":"x"}]}`, "a.0.b")
	h := buildHelpers(f, variants[0].flags...)
	f.Fuzz(func(t *testing.T, doc, path string) {
		if len(doc) >= pathOff || len(path) > 1000 || strings.ContainsRune(path, 0) || !utf8.ValidString(doc) ||
			!json.Valid([]byte(doc)) || hasDuplicateKeys(doc) {
			return
		}
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		want, wantOK := lookup(v, strings.Split(path, "."))
		got, rc := h.getString(t, doc, path, 1<<16)
		if !wantOK {
			if rc == msOK {
				t.Fatalf("doc %q path %q: got %q, want no string", doc, path, got)
			}
			return
		}
		if rc != msOK || got != want {
			t.Fatalf("doc %q path %q: got %q (%d), want %q", doc, path, got, rc, want)
		}
	})
}

// lookup walks a decoded document like ms_json_get: member names, and
// decimal indexes into arrays.
func lookup(v any, path []string) (string, bool) {
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return "", false
			}
		case []any:
			i := 0
			if seg == "" || len(seg) > 6 {
				return "", false
			}
			for _, c := range seg {
				if c < '0' || c > '9' {
					return "", false
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok
}

func hasDuplicateKeys(doc string) bool {
	dec := json.NewDecoder(strings.NewReader(doc))
	type frame struct {
		keys   map[string]bool
		object bool
		expect bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, object: true, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expect = true
		}
	}
}

func TestIotCallback(t *testing.T) { forEachBuild(t, testIotCallback) }

func testIotCallback(t *testing.T, h *helpers) {
	tests := []struct {
		body string
		want int32
	}{
		{`{"callback":"newCall","sessionId":"s1"}`, 1},
		{`{"sessionId":"s1","callback":"callNotify"}`, 2},
		{`{"callback":"callAnswered"}`, 3},
		{`{"callback":"callEvent"}`, 4},
		{`{"callback":"getIvrCommand"}`, 5},
		{`{"callback":"sessionCompleted"}`, 6},
		{`{"callback":"recordingReady"}`, 7},
		{`{"callback":"newcall"}`, 0},
		{`{"callback":"newCallX"}`, 0},
		{`{"callback":null}`, 0},
		{`{"callback":1}`, 0},
		{`{}`, 0},
		{`{"callback":"` + strings.Repeat("x", 100) + `"}`, 0},
		{`{"callback":"newCall"`, 1}, // found before the malformed end: like any lookup
		{`not json`, 0},
	}
	for _, tt := range tests {
		h.write(t, 0, []byte(tt.body))
		if got := h.call(t, "iot_callback", uint64(len(tt.body))); got != tt.want {
			t.Errorf("ms_iot_callback(%s) = %d, want %d", tt.body, got, tt.want)
		}
	}
}

func TestIotGet(t *testing.T) { forEachBuild(t, testIotGet) }

func testIotGet(t *testing.T, h *helpers) {
	body := `{"callback":"getIvrCommand","sessionId":"s1","participantId":"s1/p2","code":486,"durationSeconds":-12,` +
		`"dtmfParams":{"dtmfMatch":"12#","reason":"terminator"},"headers":{"X-Case":"4\u00e9"},"user":null,"to":5,` +
		`"big":1234567890123456789,"frac":1.5}`
	str := []struct {
		path   string
		want   string
		wantRC int32
	}{
		{"sessionId", "s1", msOK},
		{"participantId", "s1/p2", msOK},
		{"dtmfParams.dtmfMatch", "12#", msOK},
		{"dtmfParams.reason", "terminator", msOK},
		{"headers.X-Case", "4é", msOK},
		{"replyId", "", msErrNotFound},
		{"user", "", msErrNotFound},
		{"to", "", msErrType},
	}
	for _, tt := range str {
		h.write(t, 0, []byte(body))
		h.write(t, pathOff, append([]byte(tt.path), 0))
		h.write(t, outOff, []byte("garbage"))
		rc := h.call(t, "iot_get", uint64(len(body)), pathOff, outOff, 64)
		got := string(h.read(t, outOff, uint32(h.call(t, "out_len"))))
		if rc != tt.wantRC || got != tt.want {
			t.Errorf("ms_iot_get(%s) = %q, %d; want %q, %d", tt.path, got, rc, tt.want, tt.wantRC)
		}
	}
	ints := []struct {
		path   string
		want   int64
		wantRC int32
	}{
		{"code", 486, msOK},
		{"durationSeconds", -12, msOK},
		{"replyId", 0, msErrNotFound},
		{"user", 0, msErrNotFound},
		{"sessionId", 0, msErrType},
		{"big", 0, msErrType},
		{"frac", 0, msErrType},
	}
	for _, tt := range ints {
		h.write(t, 0, []byte(body))
		h.write(t, pathOff, append([]byte(tt.path), 0))
		h.write(t, outOff, make([]byte, 8))
		rc := h.call(t, "iot_get_int", uint64(len(body)), pathOff, outOff)
		got := int64(binary.LittleEndian.Uint64(h.read(t, outOff, 8)))
		if rc != tt.wantRC || got != tt.want {
			t.Errorf("ms_iot_get_int(%s) = %d, %d; want %d, %d", tt.path, got, rc, tt.want, tt.wantRC)
		}
	}
}

func TestIotWriters(t *testing.T) { forEachBuild(t, testIotWriters) }

// The answers and commands of testdata/helpers.c's iot_write, byte for
// byte; abi's parsers must take each (answers: for callEvent).
func testIotWriters(t *testing.T, h *helpers) {
	tests := []struct {
		want    string
		command bool
	}{
		{`{"action":"ivr"}`, false},
		{`{"action":"call","destAddr":"+15550202","fromAddr":"+15550100","timeout":20,"callRecording":true,"filename":"call-1.wav","monitorDestAddr":"sip:mon@127.0.0.1"}`, false},
		{`{"action":"connect","participantId":"s1/p1","replyId":"r\"9"}`, false},
		{`{"action":"joinconferenceconnection","connectionId":"s1/4"}`, false},
		{`{"dtmf":{"maxDigits":1},"phrases":[{"format":"awstts","awsTTSParameters":{"Text":"Welcome. Press 1 for sales and 2 for support."}}]}`, true},
		{`{"backgroundPrompt":{"format":"file","fileName":"holdmusic.mp3","repeatPause":0.5},"getIVRCommandAfter":300}`, true},
		{`{"dtmf":{"maxDigits":4,"minDigits":2,"terminator":"#","timeout":7.25,"interDigitTimeout":2},"phrases":[{"format":"file","fileName":"a.wav"},` +
			`{"format":"url","url":"https://example.com/b.mp3"},{"format":"awstts","awsTTSParameters":{"Text":"<speak>hi</speak>","TextType":"ssml","VoiceId":"Joanna","LanguageCode":"en-US","Engine":"neural"}}],"hangup":true}`, true},
		{`{"action":"call","destAddr":"+15550911","fromAddr":"+15550777"}`, true},
		{`{"phrases":[{"format":"file","fileName":"beep.wav"}],"record":{"fileName":"msg.wav","maxSeconds":30,"terminator":"#"}}`, true},
		{`{"dtmf":{}}`, true},
		{`{"dtmf":{"timeout":-2.5,"interDigitTimeout":0.000001},"getIVRCommandAfter":3599.999999}`, true},
		{`{}`, true},
	}
	for i, tt := range tests {
		n := h.call(t, "iot_write", uint64(i), outOff)
		if n < 0 {
			t.Fatalf("iot_write(%d): allocation failed", i)
		}
		got := string(h.read(t, outOff, uint32(n)))
		if got != tt.want {
			t.Errorf("iot_write(%d)\n got %s\nwant %s", i, got, tt.want)
			continue
		}
		switch {
		case i == 10: // negative timeouts are written as given; the server refuses them
			if _, err := abi.ParseIvrCommand([]byte(got)); err == nil {
				t.Errorf("abi took the negative timeout of %s", got)
			}
		case tt.command:
			if _, err := abi.ParseIvrCommand([]byte(got)); err != nil {
				t.Errorf("abi refuses command %s: %v", got, err)
			}
		default:
			if _, err := abi.ParseIotAnswer([]byte(got), abi.CallbackCallEvent); err != nil {
				t.Errorf("abi refuses answer %s: %v", got, err)
			}
		}
	}
}

// FuzzIotGetInt compares ms_iot_get_int with encoding/json decoding the
// member into an int64 (up to 18 digits: the helper refuses longer
// numbers as MS_ERR_TYPE).
func FuzzIotGetInt(f *testing.F) {
	for _, v := range []string{"486", "-12", "0", "1.5", "1e3", `"486"`, "null", "123456789012345678", "-0", "[]"} {
		f.Add(v)
	}
	h := buildHelpers(f, variants[0].flags...)
	f.Fuzz(func(t *testing.T, value string) {
		doc := `{"sessionId":"s","code":` + value + `}`
		if len(doc) >= pathOff || !json.Valid([]byte(doc)) {
			return
		}
		var m struct {
			Code *json.RawMessage `json:"code"`
		}
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		var want int64
		wantErr := m.Code == nil || json.Unmarshal(*m.Code, &want) != nil || string(*m.Code) == "null"
		h.write(t, 0, []byte(doc))
		h.write(t, pathOff, []byte("code\x00"))
		rc := h.call(t, "iot_get_int", uint64(len(doc)), pathOff, outOff)
		got := int64(binary.LittleEndian.Uint64(h.read(t, outOff, 8)))
		digits := strings.TrimPrefix(strings.TrimSpace(value), "-")
		switch {
		case wantErr && rc == msOK:
			t.Fatalf("code %s: got %d, encoding/json refuses it", value, got)
		case !wantErr && len(digits) <= 18 && (rc != msOK || got != want):
			t.Fatalf("code %s: got %d (%d), want %d", value, got, rc, want)
		case !wantErr && len(digits) > 18 && rc == msOK && got != want:
			t.Fatalf("code %s: got %d, want %d", value, got, want)
		}
	})
}
