package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/wasmvoice/mediaserver/abi"
)

// kind is how a parameter field is written.
type kind int

const (
	kString    kind = iota // string
	kInt                   // abi.Int: a JSON number
	kBool                  // abi.Bool: always written
	kStrings               // []string
	kMap                   // map[string]string
	kStruct                // a nested object (always written)
	kOptStruct             // a pointer to a nested object (written when set)
	kStructs               // an array of nested objects
	kRaw                   // verbatim JSON (a pointer to a nested model the SDKs pass through)
)

// field is one member of a parameter object.
type field struct {
	JSON      string // Chime's name
	GoName    string // the abi field name
	Kind      kind
	Elem      *object // kStruct, kOptStruct, kStructs
	Required  bool    // written even when empty
	DefaultS3 bool    // a "Type" that is written as "S3" when empty
	Note      string  // the comment in abi/params.go
}

// object is a parameter struct or a nested type.
type object struct {
	Name   string // SDK type name: PlayAudioParams, AudioSource, …
	GoName string // abi type name
	Doc    string // first sentence of the abi doc comment
	Fields []field
}

// action is one of the 18 actions.
type action struct {
	Type   abi.ActionType
	Params *object
}

// model is abi's action parameters, as the generators see them.
type model struct {
	Actions []action
	Nested  []*object // in first-use order
	byName  map[string]*object
	docs    map[string]string            // abi type → doc comment
	notes   map[string]map[string]string // abi type → field → trailing comment
}

// Fields the SDKs never write: results the host sets in events.
var skipFields = map[string]bool{"RecordingDestination.Key": true}

// Types whose "Type" member is "S3" unless set.
var s3Types = map[string]bool{"AudioSource": true, "RecordingDestination": true, "CallRecordingDestination": true}

// rawTypes are nested models the SDKs take as verbatim JSON (the bot
// configuration is deep and passed through to a bot).
var rawTypes = map[string]bool{"BotConfiguration": true}

// loadModel reflects over abi's parameter types and reads the comments of
// abi/params.go (root is the repository).
func loadModel(root string) (*model, error) {
	m := &model{byName: map[string]*object{}, docs: map[string]string{}, notes: map[string]map[string]string{}}
	if err := m.readComments(filepath.Join(root, "abi", "params.go")); err != nil {
		return nil, err
	}
	for _, t := range abi.AllActionTypes() {
		a, err := abi.Action{Type: t}.Decode()
		if err != nil {
			return nil, err
		}
		rt := reflect.TypeOf(a).Elem()
		o, err := m.object(rt, string(t)+"Params")
		if err != nil {
			return nil, err
		}
		m.Actions = append(m.Actions, action{Type: t, Params: o})
	}
	return m, nil
}

func (m *model) readComments(path string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			doc := gd.Doc
			if ts.Doc != nil {
				doc = ts.Doc
			}
			if doc != nil {
				m.docs[ts.Name.Name] = strings.TrimSpace(doc.Text())
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			notes := map[string]string{}
			for _, fl := range st.Fields.List {
				if fl.Comment == nil {
					continue
				}
				for _, n := range fl.Names {
					notes[n.Name] = strings.TrimSpace(fl.Comment.Text())
				}
			}
			m.notes[ts.Name.Name] = notes
		}
	}
	return nil
}

var (
	intType  = reflect.TypeOf(abi.Int{})
	boolType = reflect.TypeOf(abi.Bool{})
	rawType  = reflect.TypeOf(json.RawMessage{})
	strsType = reflect.TypeOf([]string{})
	mapType  = reflect.TypeOf(map[string]string{})
	strType  = reflect.TypeOf("")
)

func (m *model) object(rt reflect.Type, name string) (*object, error) {
	if o, ok := m.byName[rt.Name()]; ok {
		return o, nil
	}
	o := &object{Name: name, GoName: rt.Name(), Doc: firstSentence(m.docs[rt.Name()])}
	for i := range rt.NumField() {
		sf := rt.Field(i)
		tag, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			return nil, fmt.Errorf("%s.%s: no json name", rt.Name(), sf.Name)
		}
		if skipFields[rt.Name()+"."+tag] {
			continue
		}
		f := field{JSON: tag, GoName: sf.Name, Note: m.notes[rt.Name()][sf.Name],
			Required: !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero")}
		switch t := sf.Type; {
		case t == strType:
			f.Kind = kString
			f.DefaultS3 = tag == "Type" && s3Types[rt.Name()]
		case t == intType:
			f.Kind = kInt
		case t == boolType:
			f.Kind, f.Required = kBool, true
		case t == strsType:
			f.Kind = kStrings
		case t == mapType:
			f.Kind = kMap
		case t.Kind() == reflect.Pointer && rawTypes[t.Elem().Name()]:
			f.Kind = kRaw
		case t == rawType:
			f.Kind = kRaw
		case t.Kind() == reflect.Struct, t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct,
			t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
			et := t
			f.Kind = kStruct
			if t.Kind() == reflect.Pointer {
				et, f.Kind = t.Elem(), kOptStruct
			} else if t.Kind() == reflect.Slice {
				et, f.Kind = t.Elem(), kStructs
			}
			e, err := m.object(et, et.Name())
			if err != nil {
				return nil, err
			}
			f.Elem = e
		default:
			return nil, fmt.Errorf("%s.%s: type %s has no SDK mapping", rt.Name(), sf.Name, sf.Type)
		}
		o.Fields = append(o.Fields, f)
	}
	m.byName[rt.Name()] = o
	if !strings.HasSuffix(name, "Params") {
		m.Nested = append(m.Nested, o)
	}
	return o, nil
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}

// snake turns a JSON name into snake_case: CallId → call_id.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lowerCamel turns a JSON name into lowerCamelCase: CallId → callId.
func lowerCamel(s string) string {
	return strings.ToLower(s[:1]) + s[1:]
}

// repoRoot finds the repository from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "abi", "SPEC.md")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no abi/SPEC.md above the working directory")
		}
		dir = parent
	}
}
