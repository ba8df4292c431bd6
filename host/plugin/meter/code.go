package meter

// Instruction kinds the rewrite of a function body cares about.
type kind uint8

const (
	kCopy    kind = iota // copied as is
	kBlock               // block, if: opens a frame
	kLoop                // opens a loop frame: charged after its header
	kEnd                 // closes a frame
	kCall                // call f: f moves
	kRefFunc             // ref.func f: f moves
	kBulk                // charged by its count operand (top of stack, i32)
	kGrow                // memory.grow: charged by its page count
)

// instr is one decoded instruction of a function body.
type instr struct {
	start, end int // bytes in the body
	kind       kind
	op         byte
	fn         uint32 // kCall, kRefFunc: the function index
	shift      uint8  // kBulk: charge = count >> shift
}

// funcDecoder walks a function body's instructions and checks every index
// the rewrite could make valid by adding to the module. It also measures
// the body against the Limits (fnSize).
type funcDecoder struct {
	ed      *editor
	r       reader
	nLocals uint64
	size    fnSize
	// preds counts, per open frame (the function's first), the branch
	// labels aimed at it; nil when not measuring (the second pass).
	preds []int
}

// maxLocals bounds a function's locals whatever the Limits: the rewrite
// numbers its scratch local after them.
const maxLocals = 50000

// function rewrites the body of the i-th defined function (locals and
// expression).
func (ed *editor) function(i uint32, body []byte, st *Stats) []byte {
	m := ed.m
	typ := m.funcs[i]
	d := funcDecoder{ed: ed, r: reader{b: body}, nLocals: uint64(m.types[typ])}
	d.size = fnSize{index: m.nFuncImp + i, arity: m.arity[typ]}
	over(len(body), m.lim.FunctionBytes, "function %d: body of %d bytes", d.size.index, len(body))
	m.size.MaxFunctionBytes = max(m.size.MaxFunctionBytes, len(body))
	nDecl := d.r.count()
	declStart := d.r.off
	for range nDecl {
		d.nLocals += uint64(d.r.u32())
		d.r.valtype()
		if d.nLocals > maxLocals {
			fail("function %d has over %d locals", d.size.index, maxLocals)
		}
	}
	d.size.locals = int(d.nLocals)
	over(d.size.locals, m.lim.FunctionLocals, "function %d: %d parameters and locals", d.size.index, d.size.locals)
	m.size.MaxFunctionLocals = max(m.size.MaxFunctionLocals, d.size.locals)
	m.size.Locals += d.size.locals
	over(m.size.Locals, m.lim.Locals, "%d parameters and locals in all functions", m.size.Locals)
	exprStart := d.r.off

	// Pass 1: the cost of each region (the function outside loops, each
	// loop outside nested loops) and whether a scratch local is needed.
	var loopCost []int64
	// stack holds, per open frame, the region its instructions belong to:
	// -1 for the function outside loops, else the loop's ordinal (a block
	// or if inherits its parent's).
	var stack []int
	fnCost := int64(0)
	charge := func() {
		if r := stack[len(stack)-1]; r >= 0 {
			loopCost[r]++
		} else {
			fnCost++
		}
	}
	needScratch := false
	firstIsLoop := false
	stack = append(stack, -1)
	d.preds = append(d.preds, 0)
	for n := 0; len(stack) > 0; n++ {
		if d.r.eof() {
			fail("function body ends inside a block")
		}
		in := d.next()
		charge()
		switch in.kind {
		case kBlock:
			stack = append(stack, stack[len(stack)-1])
			d.preds = append(d.preds, 0)
			d.size.depths += int64(len(stack) - 1)
		case kLoop:
			firstIsLoop = firstIsLoop || n == 0
			stack = append(stack, len(loopCost))
			loopCost = append(loopCost, 0)
			d.preds = append(d.preds, 0)
			d.size.depths += int64(len(stack) - 1)
		case kEnd:
			stack = stack[:len(stack)-1]
			p := int64(d.preds[len(d.preds)-1])
			d.size.preds2 += p * p
			d.preds = d.preds[:len(d.preds)-1]
		case kBulk, kGrow:
			needScratch = true
		}
	}
	if !d.r.eof() {
		fail("bytes after the end of a function body")
	}
	m.addFunction(&d.size)
	d.preds = nil

	// Pass 2: emit.
	w := make([]byte, 0, len(body)+len(body)/4+32)
	scratch := uint32(d.nLocals)
	if needScratch {
		w = appendU32(w, uint32(nDecl+1))
		w = append(w, body[declStart:exprStart]...)
		w = append(w, 0x01, valI32)
	} else {
		w = append(w, body[:exprStart]...)
	}
	if !firstIsLoop {
		w = ed.charge(w, max(fnCost, 1))
		st.Functions++
	}
	d.r.off = exprStart
	loop := 0
	for !d.r.eof() {
		in := d.next()
		switch in.kind {
		case kLoop:
			w = append(w, body[in.start:in.end]...)
			c := loopCost[loop]
			if loop == 0 && firstIsLoop {
				c += fnCost
			}
			w = ed.charge(w, max(c, 1))
			loop++
			st.Loops++
		case kCall, kRefFunc:
			w = append(w, in.op)
			w = appendU32(w, ed.fn(in.fn))
		case kBulk, kGrow:
			w = ed.chargeDynamic(w, scratch, in.kind == kGrow, in.shift)
			w = append(w, body[in.start:in.end]...)
			st.Bulk++
		default:
			w = append(w, body[in.start:in.end]...)
		}
	}
	return w
}

// charge emits: fuel -= c; if fuel < 0 { fuel = tick() }.
func (ed *editor) charge(w []byte, c int64) []byte {
	w = appendU32(append(w, opGlobalGet), ed.fuel)
	w = appendS64(append(w, opI64Const), c)
	w = append(w, opI64Sub)
	w = appendU32(append(w, opGlobalSet), ed.fuel)
	return ed.check(w)
}

// chargeDynamic emits, with the i32 count on top of the stack (kept there):
// fuel -= count >> shift (memory.grow: count << memoryGrowShift), then the check.
func (ed *editor) chargeDynamic(w []byte, scratch uint32, grow bool, shift uint8) []byte {
	w = appendU32(append(w, opLocalTee), scratch)
	w = appendU32(append(w, opGlobalGet), ed.fuel)
	w = appendU32(append(w, opLocalGet), scratch)
	w = append(w, opI64ExtendU)
	if grow {
		w = append(w, opI64Const, memoryGrowShift, opI64Shl)
	} else if shift > 0 {
		w = append(w, opI64Const, shift, opI64ShrU)
	}
	w = append(w, opI64Sub)
	w = appendU32(append(w, opGlobalSet), ed.fuel)
	return ed.check(w)
}

func (ed *editor) check(w []byte) []byte {
	w = appendU32(append(w, opGlobalGet), ed.fuel)
	w = append(w, opI64Const, 0x00, opI64LtS, opIf, blockTypeEmpty, opCall)
	w = appendU32(w, ed.tick)
	w = appendU32(append(w, opGlobalSet), ed.fuel)
	return append(w, opEnd)
}

// next decodes one instruction. Only the WebAssembly 2.0 instruction set
// is accepted: an unknown opcode could have immediates this decoder would
// misread.
func (d *funcDecoder) next() instr {
	r := &d.r
	in := instr{start: r.off}
	op := r.byte1()
	in.op = op
	switch {
	case op == 0x00 || op == 0x01 || op == opElse || op == 0x0F || op == 0x1A || op == 0x1B,
		op >= 0x45 && op <= 0xC4, op == 0xD1:
		// no immediates
	case op == opEnd:
		in.kind = kEnd
	case op == opBlock || op == opIf:
		d.blockType()
		in.kind = kBlock
		if op == opIf {
			d.size.targets++ // to the else or the end
		}
	case op == opLoop:
		d.blockType()
		in.kind = kLoop
	case op == 0x0C || op == 0x0D: // br, br_if
		d.branch(r.u32())
		d.size.targets++
	case op == 0x0E: // br_table
		n := r.count()
		over(n+1, d.ed.m.lim.BrTableTargets, "function %d: br_table of %d labels", d.size.index, n+1)
		for range n + 1 {
			d.branch(r.u32())
		}
		d.size.targets += int64(n) + 1
		d.ed.m.size.MaxBrTableTargets = max(d.ed.m.size.MaxBrTableTargets, n+1)
	case op == opCall:
		in.kind, in.fn = kCall, r.u32()
		d.ed.fn(in.fn)
	case op == 0x11: // call_indirect
		d.typeIndex(r.u32())
		r.u32()
	case op == 0x1C: // select t*
		for range r.count() {
			r.valtype()
		}
	case op >= 0x20 && op <= 0x22: // local.get/set/tee
		if uint64(r.u32()) >= d.nLocals {
			fail("local index out of range")
		}
	case op == opGlobalGet || op == opGlobalSet:
		d.ed.global(r.u32())
	case op == 0x25 || op == 0x26: // table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3E: // loads and stores
		d.memarg()
	case op == 0x3F: // memory.size
		r.u32()
	case op == opMemoryGrow:
		r.u32()
		in.kind = kGrow
	case op == 0x41:
		r.leb(5)
	case op == opI64Const:
		r.leb(10)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xD0: // ref.null
		r.reftype()
	case op == opRefFunc:
		in.kind, in.fn = kRefFunc, r.u32()
		d.ed.fn(in.fn)
	case op == opPrefixFC:
		d.prefixFC(&in)
	case op == opPrefixSIMD:
		d.prefixSIMD()
	default:
		fail("opcode 0x%02x is not supported", op)
	}
	in.end = r.off
	return in
}

func (d *funcDecoder) prefixFC(in *instr) {
	r := &d.r
	sub := r.u32()
	switch {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init data mem
		r.u32()
		r.u32()
		in.kind, in.shift = kBulk, bulkMemoryShift
	case sub == 9: // data.drop
		r.u32()
	case sub == 10: // memory.copy mem mem
		r.u32()
		r.u32()
		in.kind, in.shift = kBulk, bulkMemoryShift
	case sub == 11: // memory.fill mem
		r.u32()
		in.kind, in.shift = kBulk, bulkMemoryShift
	case sub == 12 || sub == 14: // table.init elem table, table.copy table table
		r.u32()
		r.u32()
		in.kind = kBulk
	case sub == 13 || sub == 16: // elem.drop, table.size
		r.u32()
	case sub == 15 || sub == 17: // table.grow, table.fill
		r.u32()
		in.kind = kBulk
	default:
		fail("instruction 0xfc %d is not supported", sub)
	}
}

func (d *funcDecoder) prefixSIMD() {
	r := &d.r
	sub := r.u32()
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // loads and stores
		d.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		r.byte1()
	case sub >= 84 && sub <= 91: // load_lane, store_lane
		d.memarg()
		r.byte1()
	case sub <= 255:
		// no immediates (wazero refuses the unassigned ones)
	default:
		fail("SIMD instruction %d is not supported", sub)
	}
}

func (d *funcDecoder) memarg() {
	if align := d.r.u32(); align >= 64 {
		fail("memory argument names a memory index (multiple memories are not supported)")
	}
	d.r.u32()
}

// blockType reads a block type and notes its signature's width.
func (d *funcDecoder) blockType() {
	r := &d.r
	b := r.peek()
	switch b {
	case blockTypeEmpty:
		r.byte1()
		return
	case valI32, valI64, 0x7D, 0x7C, 0x7B, 0x70, 0x6F:
		r.byte1()
		d.size.arity = max(d.size.arity, 1)
		return
	}
	v := r.s33()
	if v < 0 {
		fail("block type %d is not supported", v)
	}
	d.typeIndex(uint32(v))
	d.size.arity = max(d.size.arity, d.ed.m.arity[v])
}

// branch notes a branch to label.
func (d *funcDecoder) branch(label uint32) {
	if d.preds == nil {
		return
	}
	i := len(d.preds) - 1 - int(label)
	if i < 0 {
		fail("function %d: branch label %d out of range", d.size.index, label)
	}
	d.preds[i]++
}

func (d *funcDecoder) typeIndex(t uint32) {
	if t >= d.ed.m.nTypes {
		fail("type index %d out of range", t)
	}
}
