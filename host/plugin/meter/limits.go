package meter

import (
	"errors"
	"fmt"
)

// ErrLimit is wrapped by every error about a module over one of the
// Limits: a well-formed module that would cost the compiler too much.
var ErrLimit = errors.New("over a compile limit")

// Limits bound what compiling a module may cost, checked while Instrument
// reads it, so a module over them never reaches the compiler. A zero
// field is no limit.
//
// wazero's optimizing compiler costs memory and time roughly in
// proportion to the code's size, except where a small module can blow it
// up (measured with wazero 1.12, see RATIONALE.md in the parent folder):
//
//   - every local of every function is zeroed by code of its own, kept
//     while the module is loaded (Locals);
//   - a branch passes the values of the function's locals (and of the
//     block's signature) to its target as arguments: memory grows with
//     branch labels × (locals + block values) (FunctionCost, Cost);
//   - time grows with the square of the branches aimed at one block,
//     times the values each passes, and with the square of the nesting
//     depth (Work);
//   - every type (more with each parameter and result), import, export,
//     global (more: every instance holds it), data or element segment and
//     element item costs a few hundred bytes, twenty to a hundred times
//     its size in the module (Declarations).
type Limits struct {
	Functions      int   // functions, imported and defined
	Declarations   int   // types (1 + parameters + results each), imports, globals (4 each), exports, segments and element items
	FunctionLocals int   // parameters and locals of one function
	Locals         int   // parameters and locals, summed over the functions
	FunctionBytes  int   // the body of one function
	BrTableTargets int   // labels of one br_table (its default included)
	FunctionCost   int64 // branch labels × (locals + widest block signature) of one function
	Cost           int64 // FunctionCost summed over the functions
	// Work estimates compile time (a few nanoseconds a unit): per block,
	// loop and if, (branches to it)² × (locals + widest block signature
	// + 4) plus 8 × its nesting depth, summed over the module.
	Work int64
}

// DefaultLimits returns limits that every module seen from Go 1.26
// (wasip1, up to 9 MB), clang, zig, Rust, TinyGo and AssemblyScript stays
// at least four times below (see TestRealModules), while the costliest
// module within them takes wazero 1.12 a few hundred MiB and a few
// seconds to compile: about what a real module at the 32 MiB size limit
// costs.
func DefaultLimits() Limits {
	return Limits{
		Functions:      100_000,
		Declarations:   500_000,
		FunctionLocals: 50_000,
		Locals:         1_000_000,
		FunctionBytes:  1 << 20,
		BrTableTargets: 16_384,
		FunctionCost:   500_000,
		Cost:           16_000_000,
		Work:           1_000_000_000,
	}
}

// Size is what Instrument measured of a module, in the terms of Limits.
type Size struct {
	Functions         int
	Declarations      int
	MaxFunctionLocals int
	Locals            int
	MaxFunctionBytes  int
	MaxBrTableTargets int
	MaxFunctionCost   int64
	Cost              int64
	Work              int64
}

// globalWeight is what a global counts in Declarations: every instance
// holds it too.
const globalWeight = 4

// limitError is raised (panicked) like decodeError, for a module over a
// limit.
type limitError string

// over fails when v is over the limit lim (0: none); format and args say
// what v counts, as in "function 12: 60000 locals".
func over[T int | int64](v, lim T, format string, args ...any) {
	if lim > 0 && v > lim {
		panic(limitError(fmt.Sprintf(format, args...) + fmt.Sprintf(", over the limit of %d", lim)))
	}
}

// declare counts n more declarations.
func (m *module) declare(n int) {
	m.size.Declarations += n
	over(m.size.Declarations, m.lim.Declarations, "%d declarations (types by their width, imports, globals, exports, segments, element items)", m.size.Declarations)
}

// fnSize is what one function body costs.
type fnSize struct {
	index   uint32 // in the function index space, as the name section and wazero's errors count
	locals  int
	arity   int   // widest block signature, the function's own included
	targets int64 // labels of branch instructions, ifs counted once
	preds2  int64 // Σ over blocks of (branches to it)²
	depths  int64 // Σ over blocks of their nesting depth
}

// addFunction checks a measured function against the limits and adds it
// to the module's totals.
func (m *module) addFunction(f *fnSize) {
	l, s := &m.lim, &m.size
	cost := f.targets * int64(f.locals+f.arity)
	over(cost, l.FunctionCost, "function %d: branch cost %d (%d branch labels × (%d locals + %d block values))",
		f.index, cost, f.targets, f.locals, f.arity)
	s.MaxFunctionCost = max(s.MaxFunctionCost, cost)
	s.Cost += cost
	over(s.Cost, l.Cost, "branch cost %d in all functions", s.Cost)
	s.Work += f.preds2*int64(f.locals+f.arity+4) + 8*f.depths
	over(s.Work, l.Work, "compile work %d in all functions (function %d: branches to the same block, nesting)", s.Work, f.index)
}
