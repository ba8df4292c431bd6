package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
)

// goMember is one member an AppendJSON method of the Go SDK writes.
type goMember struct {
	JSON   string
	Method string // str, strAlways, int, bool, strs, strMap, raw, value, key (an array)
	Field  string // the Go SDK's field name
}

// goSDK is what sdk/go writes and reads, read from its source.
type goSDK struct {
	members  map[string][]goMember // type name → members written by its AppendJSON
	builders map[string]string     // action type → parameter type name
	fields   map[string][]string   // eventFields, callDetailsFields, … → JSON names read
}

// loadGoSDK parses sdk/go/actions.go, event.go and iotcomms.go. It does not import the
// SDK: it is its own module and has no dependency on abi, in either
// direction.
func loadGoSDK(root string) (*goSDK, error) {
	g := &goSDK{members: map[string][]goMember{}, builders: map[string]string{}, fields: map[string][]string{}}
	fset := token.NewFileSet()
	for _, name := range []string{"actions.go", "event.go", "iotcomms.go"} {
		f, err := parser.ParseFile(fset, filepath.Join(root, "sdk", "go", name), nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				g.funcDecl(d)
			case *ast.GenDecl:
				g.varDecl(d)
			}
		}
	}
	if len(g.builders) == 0 || len(g.members) == 0 {
		return nil, fmt.Errorf("sdk/go: no builders or AppendJSON methods found")
	}
	return g, nil
}

func (g *goSDK) funcDecl(d *ast.FuncDecl) {
	if d.Recv != nil && d.Name.Name == "AppendJSON" {
		star, ok := d.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			return
		}
		typ := star.X.(*ast.Ident).Name
		ast.Inspect(d.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "o" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			json, _ := strconv.Unquote(lit.Value)
			m := goMember{JSON: json, Method: sel.Sel.Name}
			if len(call.Args) > 1 {
				m.Field = selectorField(call.Args[1])
			}
			g.members[typ] = append(g.members[typ], m)
			return true
		})
		return
	}
	if d.Recv != nil || d.Type.Results == nil || len(d.Type.Results.List) != 1 {
		return
	}
	if id, ok := d.Type.Results.List[0].Type.(*ast.Ident); !ok || id.Name != "Action" {
		return
	}
	// return Action{Type: "PlayAudio", Parameters: box(…, p)} or &CallIDParams{…}
	ast.Inspect(d.Body, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if id, ok := cl.Type.(*ast.Ident); !ok || id.Name != "Action" {
			return true
		}
		var typ, params string
		for _, e := range cl.Elts {
			kv := e.(*ast.KeyValueExpr)
			switch kv.Key.(*ast.Ident).Name {
			case "Type":
				if lit, ok := kv.Value.(*ast.BasicLit); ok {
					typ, _ = strconv.Unquote(lit.Value)
				}
			case "Parameters":
				params = paramsType(kv.Value, d)
			}
		}
		if typ != "" && params != "" {
			g.builders[typ] = params
		}
		return false
	})
}

// paramsType finds the parameter type of a builder: the type of its
// parameter p, or of a &T{…} literal.
func paramsType(v ast.Expr, d *ast.FuncDecl) string {
	if u, ok := v.(*ast.UnaryExpr); ok {
		if cl, ok := u.X.(*ast.CompositeLit); ok {
			return cl.Type.(*ast.Ident).Name
		}
	}
	for _, p := range d.Type.Params.List {
		if id, ok := p.Type.(*ast.Ident); ok && id.Name != "string" {
			return id.Name
		}
	}
	return ""
}

func selectorField(e ast.Expr) string {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	if s, ok := e.(*ast.SelectorExpr); ok {
		return s.Sel.Name
	}
	if id, ok := e.(*ast.Ident); ok { // a local copy, as in RecordAudio's terms := p.RecordingTerminators
		return id.Name
	}
	return ""
}

func (g *goSDK) varDecl(d *ast.GenDecl) {
	for _, s := range d.Specs {
		vs, ok := s.(*ast.ValueSpec)
		if !ok {
			continue
		}
		for i, n := range vs.Names {
			if i >= len(vs.Values) {
				continue
			}
			cl, ok := vs.Values[i].(*ast.CompositeLit)
			if !ok {
				continue
			}
			if at, ok := cl.Type.(*ast.ArrayType); !ok || at.Len != nil {
				continue
			}
			var names []string
			for _, e := range cl.Elts {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					names = append(names, s)
				}
			}
			g.fields[n.Name] = names
		}
	}
}
