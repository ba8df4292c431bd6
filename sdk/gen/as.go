package main

import (
	"fmt"
	"strings"
)

func asField(f field) string { return lowerCamel(f.JSON) }

func asType(f field) (typ, init string) {
	switch f.Kind {
	case kString, kRaw:
		return "string", `""`
	case kInt:
		return "i64", "0"
	case kBool:
		return "bool", "false"
	case kStrings:
		return "string[]", "[]"
	case kMap:
		return "Map<string, string>", "new Map<string, string>()"
	case kStruct:
		return f.Elem.Name, "new " + f.Elem.Name + "()"
	case kOptStruct:
		return f.Elem.Name + " | null", "null"
	case kStructs:
		return f.Elem.Name + "[]", "[]"
	}
	panic("kind")
}

// genAS writes sdk/assemblyscript/assembly/actions.ts.
func genAS(m *model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// %s\n\n", generatedHeader)
	b.WriteString("// The typed parameters of the 18 actions and their builders. Empty strings,\n")
	b.WriteString("// zero numbers, empty lists and null are left out of the JSON, so the host\n")
	b.WriteString("// applies Chime's defaults; required members are always written.\n\n")
	b.WriteString("import { JSONWriter } from \"./json\";\nimport { Action } from \"./response\";\n")
	objs := append(append([]*object{}, m.Nested...), paramsOf(m)...)
	for _, o := range objs {
		fmt.Fprintf(&b, "\n/** %s */\nexport class %s {\n", strings.TrimSpace(o.Doc), o.Name)
		for _, f := range o.Fields {
			typ, init := asType(f)
			fmt.Fprintf(&b, "  /** %s */\n  %s: %s = %s;\n", fieldDoc(f), asField(f), typ, init)
		}
		b.WriteString("\n  /** Appends the parameters as one JSON object. */\n  writeJSON(w: JSONWriter): void {\n    w.beginObject();\n")
		for _, f := range o.Fields {
			name := "this." + asField(f)
			switch f.Kind {
			case kString:
				switch {
				case f.DefaultS3:
					fmt.Fprintf(&b, "    w.strAlways(%q, %s.length > 0 ? %s : \"S3\");\n", f.JSON, name, name)
				case f.Required:
					fmt.Fprintf(&b, "    w.strAlways(%q, %s);\n", f.JSON, name)
				default:
					fmt.Fprintf(&b, "    w.str(%q, %s);\n", f.JSON, name)
				}
			case kRaw:
				fmt.Fprintf(&b, "    w.raw(%q, %s);\n", f.JSON, name)
			case kInt:
				fmt.Fprintf(&b, "    w.int(%q, %s);\n", f.JSON, name)
			case kBool:
				fmt.Fprintf(&b, "    w.bool(%q, %s);\n", f.JSON, name)
			case kStrings:
				if f.Required {
					fmt.Fprintf(&b, "    w.strsAlways(%q, %s);\n", f.JSON, name)
				} else {
					fmt.Fprintf(&b, "    w.strs(%q, %s);\n", f.JSON, name)
				}
			case kMap:
				fmt.Fprintf(&b, "    w.map(%q, %s);\n", f.JSON, name)
			case kStruct:
				fmt.Fprintf(&b, "    w.key(%q);\n    %s.writeJSON(w);\n", f.JSON, name)
			case kOptStruct:
				v := asField(f)
				fmt.Fprintf(&b, "    const %s = %s;\n    if (%s !== null) {\n      w.key(%q);\n      %s.writeJSON(w);\n    }\n", v, name, v, f.JSON, v)
			case kStructs:
				fmt.Fprintf(&b, "    w.key(%q);\n    w.beginArray();\n", f.JSON)
				fmt.Fprintf(&b, "    for (let i = 0; i < %s.length; i++) {\n      w.element();\n      %s[i].writeJSON(w);\n    }\n", name, name)
				b.WriteString("    w.endArray();\n")
			}
		}
		b.WriteString("    w.endObject();\n  }\n}\n")
	}
	for _, a := range m.Actions {
		fmt.Fprintf(&b, "\n/** A `%s` action. */\n", a.Type)
		fmt.Fprintf(&b, "export function %s(p: %s): Action {\n", lowerCamel(string(a.Type)), a.Params.Name)
		fmt.Fprintf(&b, "  const w = new JSONWriter();\n  p.writeJSON(w);\n  return new Action(%q, w.toString());\n}\n", a.Type)
	}
	return b.String()
}
