// Package meter instruments a WebAssembly module so that its host can stop
// it at a deadline cheaply.
//
// wazero's own mechanism (WithCloseOnContextDone) leaves the compiled code at
// every loop header to ask Go whether the module was closed: tens of
// nanoseconds per loop iteration, and Go's wasm backend wraps every function
// that makes a call in a loop. Instrument instead gives the module a private
// fuel counter (a mutable i64 global) that the module itself decrements:
//
//   - on entry to every function, by the number of instructions of the
//     function outside any loop;
//   - at the header of every loop, by the number of instructions of that
//     loop's body outside nested loops;
//   - before every bulk operation (memory.fill, memory.copy, memory.init,
//     memory.grow, table.fill, table.copy, table.init, table.grow), by the
//     size it is about to touch.
//
// So every instruction executed is charged at least once, and recursion,
// which has no loop header, is charged too. When the counter drops below
// zero the code calls the imported host function tick (module
// ImportModule, name ImportName, type () -> i64). The host decides there
// whether the event is past its deadline (and traps by panicking) and
// returns the fuel for the next stretch. Fuel is a schedule for checks, not
// a budget: overcharging only makes checks more frequent.
//
// The instrumented module can neither reach the counter nor the tick
// function: Instrument refuses code that names a global, function, type or
// local index the original module does not have (indices that would
// otherwise land on the additions), and imports from ImportModule.
//
// While it reads the module, Instrument also measures what compiling it
// will cost and refuses a module over Options.Limits (see Limits), so a
// small module cannot make the compiler take gigabytes or minutes.
package meter

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Version changes whenever Instrument's output for the same input does:
// hosts that cache instrumented modules key them by it.
const Version = 1

// The host function the instrumented code imports.
const (
	ImportModule = "mediaserver_meter"
	ImportName   = "tick"
)

// Charges for bulk operations, in instructions: one per 16 bytes of
// memory, one per table element, 4096 per page of memory.grow.
const (
	bulkMemoryShift = 4
	memoryGrowShift = 16 - bulkMemoryShift
)

// ErrInvalid is wrapped by every error about the input module.
var ErrInvalid = errors.New("meter: cannot instrument module")

// Stats counts what Instrument inserted, and measured.
type Stats struct {
	Functions int  // functions charged on entry
	Loops     int  // loop headers charged
	Bulk      int  // bulk operations charged
	Size      Size // the input, in the terms of Limits
}

// Options configure Instrument.
type Options struct {
	// Fuel is the counter's initial value; the host's tick sets the next.
	Fuel int64
	// MaxTableElements caps every table: a table whose minimum is larger
	// is refused, and one without a maximum, or with a larger one, gets
	// this maximum (table.grow past it then fails, returning -1, as
	// memory.grow does past the memory cap). Tables are outside the linear
	// memory cap, and a runtime allocates a table's elements at once.
	// Zero: no cap.
	MaxTableElements uint32
	// Limits bound what the module may cost the compiler; a module over
	// one is refused with an error wrapping ErrLimit.
	Limits Limits
}

// Instrument returns a copy of the binary module wasm with fuel metering
// inserted. It supports the WebAssembly 2.0 core features wazero enables
// by default and refuses anything else with an error wrapping ErrInvalid,
// and a module over opt.Limits with one wrapping ErrLimit.
// Every vector length it reads is checked against the bytes left, so the
// output is safe to hand to a decoder that preallocates by declared length.
func Instrument(wasm []byte, opt Options) (out []byte, st Stats, err error) {
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case decodeError:
				out, st, err = nil, Stats{}, fmt.Errorf("%w: %s", ErrInvalid, string(e))
			case limitError:
				out, st, err = nil, Stats{}, fmt.Errorf("%w: %s", ErrLimit, string(e))
			default:
				panic(r)
			}
		}
	}()
	m := parse(wasm, opt.Limits)
	out = m.write(opt, &st)
	st.Size = m.size
	return out, st, nil
}

// decodeError is raised (panicked) by the decoder and turned into an error
// by Instrument; nothing else is recovered but a limitError.
type decodeError string

func fail(format string, args ...any) {
	panic(decodeError(fmt.Sprintf(format, args...)))
}

// Section ids, and the order non-custom sections must come in.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

var sectionRank = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6, secGlobal: 7,
	secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

type section struct {
	id   byte
	body []byte
}

// module is what the rewrite needs to know of the input.
type module struct {
	sections []section
	types    []int    // parameter count of each type
	arity    []int    // parameters plus results of each type
	funcs    []uint32 // type index of each defined function
	nTypes   uint32
	nFuncImp uint32 // imported functions; defined ones follow
	nFuncs   uint32 // imported + defined
	nGlobals uint32 // imported + defined

	lim  Limits
	size Size
}

var header = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

func parse(wasm []byte, lim Limits) *module {
	if len(wasm) < 8 || string(wasm[:8]) != string(header) {
		fail("not a WebAssembly 1.0 binary module")
	}
	m := &module{lim: lim}
	r := &reader{b: wasm, off: 8}
	lastRank := 0
	for !r.eof() {
		id := r.byte1()
		n := r.u32()
		body := r.bytes(int(n))
		if id != secCustom {
			rank, ok := sectionRank[id]
			if !ok {
				fail("unknown section id %d", id)
			}
			if rank <= lastRank {
				fail("section %d out of order or repeated", id)
			}
			lastRank = rank
		}
		m.sections = append(m.sections, section{id, body})
	}
	for _, s := range m.sections {
		r := &reader{b: s.body}
		switch s.id {
		case secType:
			n := r.count()
			for range n {
				if r.byte1() != 0x60 {
					fail("type section: only function types are supported")
				}
				params := r.count()
				for range params {
					r.valtype()
				}
				results := r.count()
				for range results {
					r.valtype()
				}
				m.types = append(m.types, params)
				m.arity = append(m.arity, params+results)
				m.size.Declarations += 1 + params + results
			}
			r.end("type section")
			m.nTypes = uint32(len(m.types))
		case secImport:
			n := r.count()
			m.size.Declarations += n
			for range n {
				mod := r.name()
				r.name()
				if mod == ImportModule {
					fail("imports from the reserved module %q", ImportModule)
				}
				switch kind := r.byte1(); kind {
				case 0x00:
					r.u32()
					m.nFuncImp++
				case 0x01:
					r.reftype()
					r.limits()
				case 0x02:
					r.limits()
				case 0x03:
					r.valtype()
					r.byte1()
					m.nGlobals++
					m.size.Declarations += globalWeight - 1
				default:
					fail("import kind %d is not supported", kind)
				}
			}
			r.end("import section")
		case secFunction:
			for range r.count() {
				t := r.u32()
				if t >= m.nTypes {
					fail("function type %d out of range", t)
				}
				m.funcs = append(m.funcs, t)
			}
			r.end("function section")
		case secGlobal:
			n := r.count()
			m.size.Declarations += globalWeight * n
			m.nGlobals += uint32(n)
		case secExport, secData:
			m.size.Declarations += r.count()
		case secMemory:
			for range r.count() {
				r.limits()
			}
			r.end("memory section")
		case secTag:
			fail("exception handling (the tag section) is not supported")
		}
	}
	m.nFuncs = m.nFuncImp + uint32(len(m.funcs))
	m.size.Functions = int(m.nFuncs)
	over(m.size.Functions, m.lim.Functions, "%d functions", m.size.Functions)
	m.declare(0)
	return m
}

// Opcodes the rewrite emits or looks at.
const (
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opElse         = 0x05
	opEnd          = 0x0B
	opCall         = 0x10
	opLocalGet     = 0x20
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opMemoryGrow   = 0x40
	opI64Const     = 0x42
	opI64LtS       = 0x53
	opI64Sub       = 0x7D
	opI64Shl       = 0x86
	opI64ShrU      = 0x88
	opI64ExtendU   = 0xAD
	opRefFunc      = 0xD2
	opPrefixFC     = 0xFC
	opPrefixSIMD   = 0xFD
	blockTypeEmpty = 0x40
	valI32         = 0x7F
	valI64         = 0x7E
)

// write assembles the instrumented module.
func (m *module) write(opt Options, st *Stats) []byte {
	ed := &editor{
		m:        m,
		fuelType: m.nTypes,
		tick:     m.nFuncImp,
		fuel:     m.nGlobals,
		fuelInit: opt.Fuel,
		maxTable: opt.MaxTableElements,
	}
	out := append([]byte(nil), header...)
	added := map[byte]bool{}
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// addMissing writes the sections this rewrite needs that the module
	// lacks, in their place before a section of rank next.
	addMissing := func(next int) {
		for _, id := range []byte{secType, secImport, secGlobal} {
			if sectionRank[id] < next && !added[id] {
				added[id] = true
				emit(id, ed.section(id, nil, st))
			}
		}
	}
	for _, s := range m.sections {
		if s.id == secCustom {
			if body, keep := ed.custom(s.body); keep {
				emit(secCustom, body)
			}
			continue
		}
		addMissing(sectionRank[s.id])
		added[s.id] = true
		emit(s.id, ed.section(s.id, s.body, st))
	}
	addMissing(len(sectionRank) + 1)
	return out
}

// editor rewrites sections: the new type, import and global are appended;
// every reference to a defined function moves up by one because the tick
// import comes before them.
type editor struct {
	m        *module
	fuelType uint32 // index of the () -> i64 type
	tick     uint32 // function index of the tick import
	fuel     uint32 // global index of the counter
	fuelInit int64
	maxTable uint32
}

func (ed *editor) fn(idx uint32) uint32 {
	if idx >= ed.m.nFuncs {
		fail("function index %d out of range", idx)
	}
	if idx >= ed.tick { // defined functions follow the imports, tick last of them
		return idx + 1
	}
	return idx
}

func (ed *editor) global(idx uint32) uint32 {
	if idx >= ed.m.nGlobals {
		fail("global index %d out of range", idx)
	}
	return idx
}

// section returns the rewritten body of a section (body nil: the module
// has none).
func (ed *editor) section(id byte, body []byte, st *Stats) []byte {
	r := &reader{b: body}
	var w []byte
	switch id {
	case secType:
		n := uint32(0)
		if body != nil {
			n = uint32(r.count())
		}
		w = appendU32(w, n+1)
		w = append(w, r.rest()...)
		w = append(w, 0x60, 0x00, 0x01, valI64) // () -> i64
	case secImport:
		n := uint32(0)
		if body != nil {
			n = uint32(r.count())
		}
		w = appendU32(w, n+1)
		w = append(w, r.rest()...)
		w = appendName(w, ImportModule)
		w = appendName(w, ImportName)
		w = append(w, 0x00)
		w = appendU32(w, ed.fuelType)
	case secGlobal:
		n := uint32(0)
		if body != nil {
			n = uint32(r.count())
		}
		w = appendU32(w, n+1)
		for range n {
			start := r.off
			r.valtype()
			r.byte1()
			w = append(w, r.b[start:r.off]...)
			w = ed.constExpr(r, w)
		}
		r.end("global section")
		w = append(w, valI64, 0x01, opI64Const)
		w = appendS64(w, ed.fuelInit)
		w = append(w, opEnd)
	case secExport:
		n := r.count()
		w = appendU32(w, uint32(n))
		for range n {
			w = appendName(w, r.name())
			kind := r.byte1()
			idx := r.u32()
			switch kind {
			case 0x00:
				idx = ed.fn(idx)
			case 0x03:
				ed.global(idx)
			}
			w = append(w, kind)
			w = appendU32(w, idx)
		}
		r.end("export section")
	case secStart:
		w = appendU32(w, ed.fn(r.u32()))
		r.end("start section")
	case secElement:
		w = ed.elements(r)
	case secTable:
		w = ed.tables(r)
	case secData:
		n := r.count()
		w = appendU32(w, uint32(n))
		for range n {
			flags := r.u32()
			w = appendU32(w, flags)
			switch flags {
			case 0:
				w = ed.constExpr(r, w)
			case 1:
			case 2:
				w = appendU32(w, r.u32())
				w = ed.constExpr(r, w)
			default:
				fail("data segment flags %d", flags)
			}
			size := r.u32()
			w = appendU32(w, size)
			w = append(w, r.bytes(int(size))...)
		}
		r.end("data section")
	case secCode:
		n := r.count()
		if n != len(ed.m.funcs) {
			fail("code section has %d bodies for %d functions", n, len(ed.m.funcs))
		}
		w = appendU32(w, uint32(n))
		for i := range n {
			size := r.u32()
			fb := ed.function(uint32(i), r.bytes(int(size)), st)
			w = appendU32(w, uint32(len(fb)))
			w = append(w, fb...)
		}
		r.end("code section")
	default: // memory, data count: nothing to change
		return body
	}
	return w
}

// tables caps the tables' sizes.
func (ed *editor) tables(r *reader) []byte {
	n := r.count()
	w := appendU32(nil, uint32(n))
	for range n {
		w = append(w, r.reftype())
		flags := r.byte1()
		if flags > 1 {
			fail("table limits flags 0x%02x are not supported", flags)
		}
		lo, hi := r.u32(), uint32(0)
		if flags == 1 {
			hi = r.u32()
		}
		if ed.maxTable > 0 {
			if lo > ed.maxTable {
				fail("table of %d elements, over the limit of %d", lo, ed.maxTable)
			}
			if flags == 0 || hi > ed.maxTable {
				flags, hi = 1, ed.maxTable
			}
		}
		w = appendU32(append(w, flags), lo)
		if flags == 1 {
			w = appendU32(w, hi)
		}
	}
	r.end("table section")
	return w
}

// elements rewrites the element section's function references.
func (ed *editor) elements(r *reader) []byte {
	n := r.count()
	ed.m.declare(n)
	w := appendU32(nil, uint32(n))
	for range n {
		flags := r.u32()
		w = appendU32(w, flags)
		if flags > 7 {
			fail("element segment flags %d", flags)
		}
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			w = appendU32(w, r.u32())
		}
		if flags&1 == 0 { // active: an offset
			w = ed.constExpr(r, w)
		}
		exprs := flags&4 != 0
		if flags&3 != 0 { // elemkind or reftype
			w = append(w, r.byte1())
		}
		k := r.count()
		ed.m.declare(k)
		w = appendU32(w, uint32(k))
		for range k {
			if exprs {
				w = ed.constExpr(r, w)
			} else {
				w = appendU32(w, ed.fn(r.u32()))
			}
		}
	}
	r.end("element section")
	return w
}

// constExpr copies a constant expression, moving ref.func indices.
func (ed *editor) constExpr(r *reader, w []byte) []byte {
	for {
		op := r.byte1()
		switch op {
		case opEnd:
			return append(w, opEnd)
		case 0x41: // i32.const
			start := r.off
			r.leb(5)
			w = append(append(w, op), r.b[start:r.off]...)
		case opI64Const:
			start := r.off
			r.leb(10)
			w = append(append(w, op), r.b[start:r.off]...)
		case 0x43:
			w = append(append(w, op), r.bytes(4)...)
		case 0x44:
			w = append(append(w, op), r.bytes(8)...)
		case opGlobalGet:
			w = appendU32(append(w, op), ed.global(r.u32()))
		case 0xD0: // ref.null t
			w = append(w, op, r.reftype())
		case opRefFunc:
			w = appendU32(append(w, op), ed.fn(r.u32()))
		case opPrefixSIMD:
			if r.u32() != 12 {
				fail("constant expression: unsupported SIMD instruction")
			}
			w = append(append(w, op, 12), r.bytes(16)...)
		default:
			fail("constant expression: unsupported opcode 0x%02x", op)
		}
	}
}

// custom keeps custom sections, except DWARF (its code offsets would be
// wrong), and moves the function indices of the name section. A name
// section that does not parse is dropped: names are optional.
func (ed *editor) custom(body []byte) (out []byte, keep bool) {
	r := &reader{b: body}
	name := r.name()
	if !utf8.ValidString(name) {
		fail("custom section name is not valid UTF-8")
	}
	if len(name) >= 7 && name[:7] == ".debug_" {
		return nil, false
	}
	if name != "name" {
		return body, true
	}
	defer func() {
		if rec := recover(); rec != nil {
			if _, ok := rec.(decodeError); !ok {
				panic(rec)
			}
			out, keep = nil, false
		}
	}()
	w := appendName(nil, name)
	for !r.eof() {
		id := r.byte1()
		sub := &reader{b: r.bytes(int(r.u32()))}
		var sw []byte
		switch id {
		case 0: // module name: checked, because wazero decodes it by its
			// content and not by the subsection's size, and would read
			// on into the sections that follow
			sw = appendName(nil, validName(sub.name()))
		case 1: // function names: namemap
			sw = ed.nameMap(sub, nil)
		case 2, 3: // local and label names: indirect namemap
			n := sub.count()
			sw = appendU32(nil, uint32(n))
			for range n {
				sw = appendU32(sw, ed.fn(sub.u32()))
				sw = ed.nameMap(sub, sw)
			}
		default:
			sw = sub.rest()
		}
		sub.end("name subsection")
		w = append(w, id)
		w = appendU32(w, uint32(len(sw)))
		w = append(w, sw...)
	}
	return w, true
}

func (ed *editor) nameMap(r *reader, w []byte) []byte {
	n := r.count()
	w = appendU32(w, uint32(n))
	for range n {
		w = appendU32(w, ed.fn(r.u32()))
		w = appendName(w, validName(r.name()))
	}
	return w
}

// validName fails on a name that is not UTF-8, as wazero would refuse the
// name section for it (custom then drops the section).
func validName(s string) string {
	if !utf8.ValidString(s) {
		fail("name is not valid UTF-8")
	}
	return s
}
