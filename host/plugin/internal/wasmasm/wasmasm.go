// Package wasmasm assembles small WebAssembly binary modules for tests:
// fixtures whose exact instructions matter (a recursion with no loop, a
// bulk fill in a loop) and which a C compiler would rewrite.
package wasmasm

// Value types.
const (
	I32 = 0x7F
	I64 = 0x7E
)

// Export kinds.
const (
	KindFunc   = 0x00
	KindMemory = 0x02
	KindGlobal = 0x03
)

// FuncType is a function signature.
type FuncType struct{ Params, Results []byte }

// Import is a function import.
type Import struct {
	Module, Name string
	Type         uint32
}

// Func is a defined function; Body is its expression without the final end.
type Func struct {
	Type   uint32
	Locals []byte // one value type per local
	// I32Locals adds that many i32 locals after Locals, in one
	// declaration (a module asking for many locals in a few bytes).
	I32Locals uint32
	Body      []byte
	Name      string // for the name section; empty: unnamed
}

// Global is a defined global; Init is its constant expression without end.
type Global struct {
	Type    byte
	Mutable bool
	Init    []byte
}

// Export names a function, memory or global.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
}

// Module is a module to assemble. Function indices count imports first.
type Module struct {
	Types      []FuncType
	Imports    []Import
	Funcs      []Func
	Table      []uint32 // a funcref table holding these functions, from 0
	TableMin   uint32   // when Table is empty: an empty table of this size, no maximum
	MemoryMin  uint32   // pages; a memory exists when HasMemory
	HasMemory  bool
	Globals    []Global
	Exports    []Export
	Start      *uint32
	DataOffset uint32 // an active data segment when Data is set
	Data       []byte
}

// Encode returns the binary module.
func (m *Module) Encode() []byte {
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	sec := func(id byte, body []byte) {
		out = append(out, id)
		out = U32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if len(m.Types) > 0 {
		b := U32(nil, uint32(len(m.Types)))
		for _, t := range m.Types {
			b = append(b, 0x60)
			b = append(U32(b, uint32(len(t.Params))), t.Params...)
			b = append(U32(b, uint32(len(t.Results))), t.Results...)
		}
		sec(1, b)
	}
	if len(m.Imports) > 0 {
		b := U32(nil, uint32(len(m.Imports)))
		for _, im := range m.Imports {
			b = Name(Name(b, im.Module), im.Name)
			b = U32(append(b, 0x00), im.Type)
		}
		sec(2, b)
	}
	if len(m.Funcs) > 0 {
		b := U32(nil, uint32(len(m.Funcs)))
		for _, f := range m.Funcs {
			b = U32(b, f.Type)
		}
		sec(3, b)
	}
	if len(m.Table) > 0 {
		n := uint32(len(m.Table))
		sec(4, U32(U32([]byte{0x01, 0x70, 0x01}, n), n))
	} else if m.TableMin > 0 {
		sec(4, U32([]byte{0x01, 0x70, 0x00}, m.TableMin))
	}
	if m.HasMemory {
		sec(5, U32([]byte{0x01, 0x00}, m.MemoryMin))
	}
	if len(m.Globals) > 0 {
		b := U32(nil, uint32(len(m.Globals)))
		for _, g := range m.Globals {
			mut := byte(0)
			if g.Mutable {
				mut = 1
			}
			b = append(append(append(b, g.Type, mut), g.Init...), 0x0B)
		}
		sec(6, b)
	}
	if len(m.Exports) > 0 {
		b := U32(nil, uint32(len(m.Exports)))
		for _, e := range m.Exports {
			b = U32(append(Name(b, e.Name), e.Kind), e.Index)
		}
		sec(7, b)
	}
	if m.Start != nil {
		sec(8, U32(nil, *m.Start))
	}
	if len(m.Table) > 0 {
		b := []byte{0x01, 0x00, 0x41, 0x00, 0x0B}
		b = U32(b, uint32(len(m.Table)))
		for _, f := range m.Table {
			b = U32(b, f)
		}
		sec(9, b)
	}
	if len(m.Funcs) > 0 {
		b := U32(nil, uint32(len(m.Funcs)))
		for _, f := range m.Funcs {
			decls := uint32(len(f.Locals))
			if f.I32Locals > 0 {
				decls++
			}
			body := U32(nil, decls)
			for _, l := range f.Locals {
				body = append(body, 0x01, l)
			}
			if f.I32Locals > 0 {
				body = append(U32(body, f.I32Locals), I32)
			}
			body = append(append(body, f.Body...), 0x0B)
			b = append(U32(b, uint32(len(body))), body...)
		}
		sec(10, b)
	}
	if m.Data != nil {
		b := append([]byte{0x01, 0x00, 0x41}, S64(nil, int64(m.DataOffset))...)
		b = append(U32(append(b, 0x0B), uint32(len(m.Data))), m.Data...)
		sec(11, b)
	}
	var names []byte
	count := 0
	for i, f := range m.Funcs {
		if f.Name != "" {
			names = Name(U32(names, uint32(len(m.Imports)+i)), f.Name)
			count++
		}
	}
	if count > 0 {
		sub := append(U32(nil, uint32(count)), names...)
		b := append(U32(append(Name(nil, "name"), 0x01), uint32(len(sub))), sub...)
		sec(0, b)
	}
	return out
}

// U32 appends an unsigned LEB128.
func U32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// S64 appends a signed LEB128.
func S64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Name appends a length-prefixed string.
func Name(b []byte, s string) []byte { return append(U32(b, uint32(len(s))), s...) }

// Ops concatenates instruction bytes.
func Ops(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Instruction helpers.
func I32Const(v int32) []byte   { return S64([]byte{0x41}, int64(v)) }
func I64Const(v int64) []byte   { return S64([]byte{0x42}, v) }
func LocalGet(i uint32) []byte  { return U32([]byte{0x20}, i) }
func LocalSet(i uint32) []byte  { return U32([]byte{0x21}, i) }
func GlobalGet(i uint32) []byte { return U32([]byte{0x23}, i) }
func GlobalSet(i uint32) []byte { return U32([]byte{0x24}, i) }
func Call(f uint32) []byte      { return U32([]byte{0x10}, f) }
func RefFunc(f uint32) []byte   { return U32([]byte{0xD2}, f) }
func Br(l uint32) []byte        { return U32([]byte{0x0C}, l) }
func BrIf(l uint32) []byte      { return U32([]byte{0x0D}, l) }

// BrTable branches to labels[i] for i < len(labels), else to def.
func BrTable(def uint32, labels ...uint32) []byte {
	b := U32([]byte{0x0E}, uint32(len(labels)))
	for _, l := range labels {
		b = U32(b, l)
	}
	return U32(b, def)
}

// I32Store stores an i32 (address, value on the stack) at offset.
func I32Store(offset uint32) []byte { return U32([]byte{0x36, 0x02}, offset) }

// CallIndirect calls through table 0 with type t.
func CallIndirect(t uint32) []byte { return append(U32([]byte{0x11}, t), 0x00) }

// Fixed instructions.
var (
	Loop        = []byte{0x03, 0x40}
	Block       = []byte{0x02, 0x40}
	IfI32       = []byte{0x04, I32}
	Else        = []byte{0x05}
	End         = []byte{0x0B}
	Return      = []byte{0x0F}
	Drop        = []byte{0x1A}
	I32Add      = []byte{0x6A}
	I32Sub      = []byte{0x6B}
	I32Eqz      = []byte{0x45}
	I32GtU      = []byte{0x4B}
	MemoryFill  = []byte{0xFC, 0x0B, 0x00}
	MemoryCopy  = []byte{0xFC, 0x0A, 0x00, 0x00}
	MemoryGrow  = []byte{0x40, 0x00}
	TableGrow   = []byte{0xFC, 0x0F, 0x00}
	RefNullFunc = []byte{0xD0, 0x70}
	MemorySize  = []byte{0x3F, 0x00}
	I32Load     = []byte{0x28, 0x02, 0x00}
	Unreachable = []byte{0x00}
)
