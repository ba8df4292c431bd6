package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
)

// iotField is one JSON member of an abi iotcomms type.
type iotField struct {
	JSON      string
	OmitEmpty bool
	Type      reflect.Type
}

// iotFields lists the JSON members of an abi struct type.
func iotFields(rt reflect.Type) []iotField {
	var fs []iotField
	for i := range rt.NumField() {
		sf := rt.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fs = append(fs, iotField{JSON: name, OmitEmpty: strings.Contains(opts, "omitempty"), Type: sf.Type})
	}
	return fs
}

// iotWriter is the writer method of sdk/go that writes an abi member of
// type t: empty members are left out as abi's omitempty does, required
// strings always written.
func iotWriter(f iotField) string {
	switch t := f.Type; {
	case t.Kind() == reflect.String && f.OmitEmpty:
		return "str"
	case t.Kind() == reflect.String:
		return "strAlways"
	case t.Kind() == reflect.Int && f.OmitEmpty:
		return "int"
	case t.Kind() == reflect.Bool && f.OmitEmpty:
		return "flag"
	case t.Kind() == reflect.Float64 && f.OmitEmpty:
		return "num"
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		return "value"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "key"
	case t.Kind() == reflect.Map && f.OmitEmpty:
		return "strMap"
	}
	return "(no writer for " + f.Type.String() + ")"
}

// TestGoSDKIotcommsMatchesABI compares sdk/go's iotcomms wire code with
// abi/iotcomms.go: the answers' writers write exactly abi's members with
// the writer its type and omitempty call for, nested types included; the
// request reader knows exactly abi's members.
func TestGoSDKIotcommsMatchesABI(t *testing.T) {
	g, err := loadGoSDK(root(t))
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	var check func(rt reflect.Type)
	check = func(rt reflect.Type) {
		if checked[rt.Name()] {
			return
		}
		checked[rt.Name()] = true
		written := map[string]goMember{}
		for _, m := range g.members[rt.Name()] {
			written[m.JSON] = m
		}
		if len(written) == 0 {
			t.Errorf("sdk/go has no AppendJSON writing abi's %s", rt.Name())
			return
		}
		for _, f := range iotFields(rt) {
			m, ok := written[f.JSON]
			if !ok {
				t.Errorf("sdk/go %s does not write %s", rt.Name(), f.JSON)
				continue
			}
			delete(written, f.JSON)
			if want := iotWriter(f); m.Method != want {
				t.Errorf("sdk/go %s writes %s with %s, want %s (abi: %s, omitempty %v)", rt.Name(), f.JSON, m.Method, want, f.Type, f.OmitEmpty)
			}
			switch f.Type.Kind() {
			case reflect.Pointer, reflect.Slice:
				check(f.Type.Elem())
			}
		}
		for name := range written {
			t.Errorf("sdk/go %s writes %q, which abi's %s lacks", rt.Name(), name, rt.Name())
		}
	}
	check(reflect.TypeOf(abi.IotAnswer{}))
	check(reflect.TypeOf(abi.IvrCommand{}))

	for list, v := range map[string]any{"iotRequestFields": abi.IotRequest{}, "dtmfParamsFields": abi.DtmfParams{}} {
		var want []string
		for _, f := range iotFields(reflect.TypeOf(v)) {
			want = append(want, f.JSON)
		}
		got := slices.Clone(g.fields[list])
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("sdk/go reads %s = %v, abi %T has %v", list, got, v, want)
		}
	}
}

// stringConsts returns the string constants a Go file declares.
func stringConsts(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					consts[n.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return consts
}

// TestGoSDKIotcommsConstants checks that sdk/go/iotcomms.go declares
// abi/iotcomms.go's constants (callbacks, events, actions, formats, DTMF
// reasons) under the same names, with the same values, and no others.
func TestGoSDKIotcommsConstants(t *testing.T) {
	r := root(t)
	want := stringConsts(t, filepath.Join(r, "abi", "iotcomms.go"))
	got := stringConsts(t, filepath.Join(r, "sdk", "go", "iotcomms.go"))
	if len(want) < 25 {
		t.Fatalf("abi/iotcomms.go: only %d string constants found", len(want))
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("sdk/go %s = %q (declared %v), abi %q", name, g, ok, v)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("sdk/go declares %s, which abi/iotcomms.go lacks", name)
		}
	}
	for _, cb := range abi.AllCallbacks() {
		if !slices.Contains(slices.Collect(maps.Values(got)), string(cb)) {
			t.Errorf("sdk/go lacks callback %s", cb)
		}
	}
}

// cName is the C macro of an abi/iotcomms.go constant: MS_IOT_ and its name
// in upper snake case, without the Iot prefix (IotDrop: MS_IOT_DROP,
// CallbackNewCall: MS_IOT_CALLBACK_NEW_CALL, PhraseAwsTTS:
// MS_IOT_PHRASE_AWS_TTS).
func cName(goName string) string {
	goName = strings.TrimPrefix(goName, "Iot")
	var b strings.Builder
	rs := []rune(goName)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if i > 0 && upper {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return "MS_IOT_" + b.String()
}

// cFunc returns the body of the C function name in header h.
func cFunc(t *testing.T, h, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^(?:MS__API|static) void ` + name + `\(`).FindStringIndex(h)
	if m == nil {
		t.Fatalf("mediaserver.h has no function %s", name)
	}
	end := strings.Index(h[m[0]:], "\n}\n")
	if end < 0 {
		t.Fatalf("mediaserver.h: no end of %s", name)
	}
	return h[m[0] : m[0]+end]
}

// TestCHeaderIotcommsMatchesABI checks mediaserver.h's iotcomms part
// against abi/iotcomms.go: a macro for each constant (same value), the
// request paths (MS_IOT_REQ_*) for exactly abi's members, and writers that
// write exactly abi's answer and command members, empty ones left out as
// abi's omitempty does.
func TestCHeaderIotcommsMatchesABI(t *testing.T) {
	r := root(t)
	b, err := os.ReadFile(filepath.Join(r, "sdk", "c", "mediaserver.h"))
	if err != nil {
		t.Fatal(err)
	}
	h := string(b)
	macros := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define (MS_IOT_[A-Z_]+) "([^"]*)"`).FindAllStringSubmatch(h, -1) {
		macros[m[1]] = m[2]
	}
	for name, v := range stringConsts(t, filepath.Join(r, "abi", "iotcomms.go")) {
		if got, ok := macros[cName(name)]; !ok || got != v {
			t.Errorf("mediaserver.h %s = %q (defined %v), abi %s = %q", cName(name), got, ok, name, v)
		}
	}

	var want, got []string
	for _, f := range iotFields(reflect.TypeOf(abi.IotRequest{})) {
		want = append(want, f.JSON)
	}
	for _, f := range iotFields(reflect.TypeOf(abi.DtmfParams{})) {
		want = append(want, "dtmfParams."+f.JSON)
	}
	for name, v := range macros {
		if strings.HasPrefix(name, "MS_IOT_REQ_") {
			got = append(got, v)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("mediaserver.h MS_IOT_REQ_ paths %v, abi has %v", got, want)
	}

	// The writers: ms__obj_<kind>(&o, "name", …) for each member.
	writers := map[string]string{"IotAnswer": "ms_iot_answer_json", "IvrCommand": "ms_iot_command_json",
		"DtmfCommand": "ms__iot_dtmf_json", "Phrase": "ms__iot_phrase_json", "AwsTTSParameters": "ms__iot_tts_json",
		"RecordCommand": "ms__iot_record_json"}
	cKinds := map[string]string{"str": "str", "strAlways": "str_always", "int": "int", "flag": "flag", "num": "num",
		"value": "key", "key": "key"}
	call := regexp.MustCompile(`ms__obj_([a-z_]+)\(&o, "([A-Za-z]+)"`)
	checked := map[string]bool{}
	var check func(rt reflect.Type)
	check = func(rt reflect.Type) {
		if checked[rt.Name()] {
			return
		}
		checked[rt.Name()] = true
		fn, ok := writers[rt.Name()]
		if !ok {
			t.Errorf("no C writer known for abi's %s", rt.Name())
			return
		}
		written := map[string]string{}
		for _, m := range call.FindAllStringSubmatch(cFunc(t, h, fn), -1) {
			written[m[2]] = m[1]
		}
		for _, f := range iotFields(rt) {
			kind, ok := written[f.JSON]
			if !ok {
				t.Errorf("mediaserver.h %s does not write %s.%s", fn, rt.Name(), f.JSON)
				continue
			}
			delete(written, f.JSON)
			if want := cKinds[iotWriter(f)]; kind != want {
				t.Errorf("mediaserver.h %s writes %s with ms__obj_%s, want ms__obj_%s", fn, f.JSON, kind, want)
			}
			switch f.Type.Kind() {
			case reflect.Pointer, reflect.Slice:
				check(f.Type.Elem())
			}
		}
		for name := range written {
			t.Errorf("mediaserver.h %s writes %q, which abi's %s lacks", fn, name, rt.Name())
		}
	}
	check(reflect.TypeOf(abi.IotAnswer{}))
	check(reflect.TypeOf(abi.IvrCommand{}))
}
