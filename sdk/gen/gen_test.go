package main

import (
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

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGeneratedUpToDate fails when a file derived from abi (the Rust and
// AssemblyScript builders, the READMEs' action reference) is stale.
func TestGeneratedUpToDate(t *testing.T) {
	r := root(t)
	files, err := generate(r)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(r, path))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is stale: run make generate (go generate ./sdk/...)", path)
		}
	}
}

// goKinds are the Go SDK's writer methods that can write each kind.
var goKinds = map[kind][]string{
	kString:    {"str", "strAlways"},
	kInt:       {"int"},
	kBool:      {"bool"},
	kStrings:   {"strs"},
	kMap:       {"strMap"},
	kStruct:    {"value"},
	kOptStruct: {"value"},
	kStructs:   {"key"},
	kRaw:       {"raw"},
}

// TestGoSDKMatchesABI compares the Go SDK's hand-written wire code with abi:
// every action has a builder, every parameter type writes exactly abi's
// members (Chime's names) with a writer of the right kind, required
// strings are always written and optional ones left out when empty.
func TestGoSDKMatchesABI(t *testing.T) {
	r := root(t)
	m, err := loadModel(r)
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadGoSDK(r)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	var check func(goType string, o *object)
	check = func(goType string, o *object) {
		if checked[goType] {
			return
		}
		checked[goType] = true
		members := map[string]goMember{}
		for _, gm := range g.members[goType] {
			members[gm.JSON] = gm
		}
		for _, f := range o.Fields {
			gm, ok := members[f.JSON]
			if !ok {
				t.Errorf("sdk/go %s does not write %s.%s", goType, o.GoName, f.JSON)
				continue
			}
			delete(members, f.JSON)
			if !slices.Contains(goKinds[f.Kind], gm.Method) {
				t.Errorf("sdk/go %s writes %s with %s, want one of %v", goType, f.JSON, gm.Method, goKinds[f.Kind])
			}
			if f.Kind == kString && (gm.Method == "strAlways") != (f.Required || f.DefaultS3) {
				t.Errorf("sdk/go %s writes %s with %s; abi has it required=%v", goType, f.JSON, gm.Method, f.Required)
			}
			if f.Elem != nil {
				check(nestedGoType(f.Elem), f.Elem)
			}
		}
		for name := range members {
			t.Errorf("sdk/go %s writes %q, which abi's %s lacks", goType, name, o.GoName)
		}
	}
	for _, a := range m.Actions {
		goType, ok := g.builders[string(a.Type)]
		if !ok {
			t.Errorf("sdk/go has no builder for %s", a.Type)
			continue
		}
		check(goType, a.Params)
	}
	var extra []string
	for typ := range g.builders {
		if !abi.ActionType(typ).Valid() {
			extra = append(extra, typ)
		}
	}
	if len(extra) > 0 {
		t.Errorf("sdk/go builds actions abi does not know: %v", extra)
	}
}

// nestedGoType is the Go SDK's name of a nested abi type: the same name.
func nestedGoType(o *object) string { return o.GoName }

// TestGoSDKReadsABIEvent compares the members the Go SDK's event reader
// knows with abi's event types.
func TestGoSDKReadsABIEvent(t *testing.T) {
	g, err := loadGoSDK(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for list, v := range map[string]any{
		"eventFields": abi.Event{}, "callDetailsFields": abi.CallDetails{},
		"participantFields": abi.Participant{}, "actionDataFields": abi.ActionData{},
	} {
		var want []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			want = append(want, name)
		}
		got := slices.Clone(g.fields[list])
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("sdk/go %s = %v, abi %s has %v", list, got, rt.Name(), want)
		}
	}
}

// TestCHeaderMatchesABI checks the constants and import names that
// sdk/c/mediaserver.h repeats from abi.
func TestCHeaderMatchesABI(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "sdk", "c", "mediaserver.h"))
	if err != nil {
		t.Fatal(err)
	}
	h := string(b)
	defines := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define (MS_[A-Z_]+) \(?(-?\d+)\)?`).FindAllStringSubmatch(h, -1) {
		n, _ := strconv.Atoi(m[2])
		defines[m[1]] = n
	}
	codes := map[string]abi.ErrCode{
		"MS_ERR_TOO_LARGE": abi.ErrCodeTooLarge, "MS_ERR_ALREADY_WRITTEN": abi.ErrCodeAlreadyWritten,
		"MS_ERR_BAD_POINTER": abi.ErrCodeBadPointer, "MS_ERR_NOT_FOUND": abi.ErrCodeNotFound,
		"MS_ERR_QUOTA": abi.ErrCodeQuota, "MS_ERR_UNAVAILABLE": abi.ErrCodeUnavailable, "MS_ERR_INTERNAL": abi.ErrCodeInternal,
	}
	for name, want := range codes {
		if got, ok := defines[name]; !ok || got != int(want) {
			t.Errorf("mediaserver.h %s = %d (defined %v), abi says %d", name, got, ok, want)
		}
	}
	levels := map[string]int32{"MS_LOG_DEBUG": abi.LogDebug, "MS_LOG_INFO": abi.LogInfo, "MS_LOG_WARN": abi.LogWarn, "MS_LOG_ERROR": abi.LogError}
	for name, want := range levels {
		if got, ok := defines[name]; !ok || got != int(want) {
			t.Errorf("mediaserver.h %s = %d (defined %v), abi says %d", name, got, ok, want)
		}
	}
	var imports []string
	for _, m := range regexp.MustCompile(`MS__IMPORT\("([a-z_]+)"\)`).FindAllStringSubmatch(h, -1) {
		imports = append(imports, m[1])
	}
	want := []string{abi.FuncEventRead, abi.FuncResponseWrite, abi.FuncLog, abi.FuncKVGet, abi.FuncKVSet, abi.FuncKVDelete}
	sort.Strings(imports)
	sort.Strings(want)
	if !slices.Equal(imports, want) {
		t.Errorf("mediaserver.h imports %v, abi names %v", imports, want)
	}
	for _, name := range []string{abi.ImportModule, abi.ExportVersionV1, abi.ExportHandleEvent} {
		if !strings.Contains(h, `"`+name+`"`) {
			t.Errorf("mediaserver.h lacks %q", name)
		}
	}
}
