// SPDX-License-Identifier: GPL-2.0-only

// Package difftest is jitscope's differential test: a generator of valid
// BPF programs (deterministic from a seed) and a harness that runs each of
// them on the BPF reference interpreter (exec/bpf) and, JITed by every
// profile of both backends, on the arm64 and x86-64 emulators, and compares
// what the runs did: the return value, the contents of every map, the
// number of tail calls, and the helper calls, tail calls and tail call
// misses in order.
//
// A generated case is a set of programs sharing maps: an entry program,
// up to three tail-called programs (which tail-call on through the prog
// array "jmp", the entry among its slots unless its subprograms tail-call)
// and up to two leaf programs (reached through "jmp2" from subprograms of
// tail-called programs, so that chains cannot multiply), each with up to
// three subprograms taking scalar, context or caller-stack arguments.
// Functions are random sequences of blocks: ALU and ALU32 operations in
// register and immediate forms on edge constants, divisions, shifts, byte
// swaps, forward conditional jumps of every condition (JMP and JMP32,
// register and immediate, over short and long stretches of code), bounded
// loops, stack stores and loads of every size, atomics on the stack and in
// map values, array map values through bpf_map_lookup_elem (keys in and
// out of range, NULL checked) and through ld_imm64 map values, a hash map
// updated (every flag), looked up and deleted, deterministic helpers
// (bpf_get_prandom_u32 is seeded alike in every kernel), bpf-to-bpf calls
// and tail calls with constant, computed, empty-slot and out-of-range
// keys. Every computed value is folded into r9 (r9 = r9 * K ^ value, K
// odd), which each function returns, so a wrong intermediate result cannot
// hide. cpu v4, atomics beyond BPF_XADD, gotol, load-acquire/store-release
// and BPF_NOSPEC appear only in cases whose feature tier allows them; a
// profile whose kernel lacks a feature must refuse the program with a
// *jit.Error.
//
// The programs are what the verifier would hand a JIT. Where the kernel's
// verifier patches a program before the JIT sees it (do_misc_fixups in
// kernel/bpf/verifier.c), the generator emits the patched form itself:
//
//   - division and modulo by a register are preceded by the verifier's
//     6.12 guard sequences (chk_and_div, chk_and_mod, chk_and_sdiv,
//     chk_and_smod), so a zero (or, signed, a -1) divisor never reaches a
//     div/idiv instruction, and registers that are 0 or -1 are used as
//     divisors on purpose; sdiv/smod use BPF_REG_AX exactly as the
//     verifier's patchlet does (Feature AX) or, in programs that must not
//     use AX, jump over the division themselves;
//   - division by an immediate never uses 0 (the verifier refuses it), and
//     a signed division by the immediate -1 is emitted as the verifier's
//     replacement (neg for sdiv, mov32 0 for smod);
//   - a 32-bit cmpxchg is followed by the verifier's BPF_ZEXT_REG(R0)
//     (opt_subreg_zext_lo32_rnd_hi32 inserts it for every JIT since 5.13:
//     x86-64's cmpxchg does not write eax when the comparison succeeds,
//     so without it R0 keeps its upper half).
//
// Everything else is generated within the verifier's rules: registers are
// written before they are read (TestGeneratorValid checks it on every
// path), the stack is read only where it was written (with aligned
// accesses: the verifier is strict about stack alignment), map values are
// accessed within value_size after a NULL check, R1-R5 are dead after a
// call (and R0 after a tail call that returns), jumps go forward except
// for bounded loops, shift immediates stay
// below the width (shift registers hold any value: the interpreter masks
// the amount as the kernel's does, and so do both CPUs), and a call chain
// stays within 512 bytes of stack.
//
// go test ./exec/difftest/ runs 300 cases (-difftest.n=N or
// $JITSCOPE_DIFFTEST_N for more, -difftest.seed for another range,
// -difftest.only=SEED with -run TestShowSeed to look at one).
package difftest

import (
	"fmt"
	"math/rand/v2"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// Feature is an optional part of the instruction set a program uses; the
// profiles differ in which they accept.
type Feature uint32

// Features a generated program may use.
const (
	// Atomics: BPF_ATOMIC beyond BPF_XADD (and/or/xor, the fetch forms,
	// xchg, cmpxchg): x86-64 5.12+, arm64 5.18+.
	Atomics Feature = 1 << iota
	// CPUv4: sdiv/smod, movsx, the unconditional bswap, ldsx (6.6+).
	CPUv4
	// Gotol: BPF_JMP32 | BPF_JA (6.6+; x86-64 in Debian's 6.1 too).
	Gotol
	// SubprogTailCalls: a tail call in a program with bpf-to-bpf calls
	// (arm64 before 5.19 refuses it; x86-64 has it since 5.10).
	SubprogTailCalls
	// AX: BPF_REG_AX, in the verifier's sdiv/smod patchlet.
	AX
	// AcqRel: load-acquire and store-release (BPF_ATOMIC with
	// BPF_LOAD_ACQ/BPF_STORE_REL, 6.15).
	AcqRel
	// Nospec: BPF_ST | BPF_NOSPEC, the speculation barrier (5.14; in
	// 5.10 stable from 5.10.56).
	Nospec
)

var featureNames = []struct {
	f    Feature
	name string
}{{Atomics, "atomics"}, {CPUv4, "cpuv4"}, {Gotol, "gotol"}, {SubprogTailCalls, "subprog-tailcalls"}, {AX, "reg-ax"},
	{AcqRel, "load-acq/store-rel"}, {Nospec, "nospec"}}

func (f Feature) String() string {
	s := ""
	for _, n := range featureNames {
		if f&n.f != 0 {
			if s != "" {
				s += ","
			}
			s += n.name
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// AllFeatures is every optional feature.
const AllFeatures = Atomics | CPUv4 | Gotol | SubprogTailCalls | AX | AcqRel | Nospec

// Case is one generated set of programs. Programs[0] is the entry.
type Case struct {
	Seed uint64
	Set  *kernel.Set
	// Uses gives the optional features each program uses.
	Uses map[string]Feature
	// Args gives the number of arguments of every function ("prog/func").
	Args map[string]int
}

// Features reports the features of every program together.
func (c *Case) Features() Feature {
	var f Feature
	for _, u := range c.Uses {
		f |= u
	}
	return f
}

// Options shape the generator.
type Options struct {
	// Allowed limits the optional features; 0 lets the seed choose a tier
	// (none; subprog tail calls; atomics; everything).
	Allowed Feature
}

// Register roles. r6 keeps the context (for tail calls), r9 accumulates
// every computed value, r10 is the frame pointer; the rest are scratch.
const (
	rCtx = asm.R6
	rAcc = asm.R9
	rAX  = asm.Register(11) // BPF_REG_AX
)

var scratchRegs = []asm.Register{asm.R0, asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R7, asm.R8}

// Map names.
const (
	mapVals = "vals" // array: looked up with bpf_map_lookup_elem
	mapGlob = "glob" // array of one value: accessed through ld_imm64 map value
	mapJmp  = "jmp"  // prog array
	mapJmp2 = "jmp2" // prog array of leaf programs
	mapHash = "hsh"  // hash: updated, looked up and deleted by key
)

const (
	valsValueSize  = 64
	valsMaxEntries = 4
	globValueSize  = 128
	// globLog is where tail-called programs add their accumulator.
	globLog = 120
	// globRuns counts the runs of tail-called programs.
	globRuns = 112
	// globTop is the end of the region blocks use freely.
	globTop = 112

	hashValueSize  = 16
	hashMaxEntries = 4
	// HashKeys is the range of keys the programs use (0..7): more than
	// fit, so that updates fail with -E2BIG too.
	HashKeys = 8
)

type regKind uint8

const (
	kUninit regKind = iota
	kScalar
	kPtr
)

// fstate is what the verifier knows at a point of a function.
type fstate struct {
	reg   [12]regKind
	stack [512]bool // stack[i]: the byte at fp-1-i was written
}

// join is the state after two paths meet: what both guarantee.
func join(a, b fstate) fstate {
	var s fstate
	for i := range s.reg {
		if a.reg[i] == b.reg[i] && a.reg[i] != kPtr {
			s.reg[i] = a.reg[i]
		}
	}
	for i := range s.stack {
		s.stack[i] = a.stack[i] && b.stack[i]
	}
	return s
}

type fixup struct {
	at    int
	label string
}

// fn is one function being generated.
type fn struct {
	g        *gen
	prog     *progGen
	name     string
	index    int // function index within its program
	insns    asm.Instructions
	labels   map[string]int
	fixups   []fixup
	st       fstate
	stackMax int // bytes of stack the function may use (multiple of 8)
	nargs    int
	ctxArg   bool // r1 is the context (the function may tail call)
	ptrArgs  uint // bit i: ri points to 8 written bytes of the caller's stack
	canTail  bool
	tailMap  string                // the prog array its tail calls use
	reserved map[asm.Register]bool // loop counters
	depth    int                   // nesting of blocks
	inLoop   bool
}

// progGen is one program being generated.
type progGen struct {
	name  string
	funcs []*fn
	uses  Feature
}

type gen struct {
	rng     *rand.Rand
	allowed Feature
	labelN  int
	set     *kernel.Set
	jmpMax  uint32
	nTC     int
	nLeaf   int
}

// Generate builds the case of seed.
func Generate(seed uint64, opt Options) *Case {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x6a17_5c09e))}
	g.allowed = opt.Allowed
	if g.allowed == 0 {
		switch g.rng.IntN(4) {
		case 0:
			g.allowed = 0
		case 1:
			g.allowed = SubprogTailCalls
		case 2:
			g.allowed = Atomics | SubprogTailCalls
			if g.rng.IntN(2) == 0 {
				g.allowed |= Nospec
			}
		default:
			g.allowed = AllFeatures
			if g.rng.IntN(3) == 0 {
				g.allowed &^= AX
			}
		}
	}
	g.set = &kernel.Set{Name: fmt.Sprintf("difftest-%d", seed)}
	vals := &kernel.Map{Name: mapVals, Type: "array", KeySize: 4, ValueSize: valsValueSize, MaxEntries: valsMaxEntries,
		Data: g.bytes(valsValueSize * valsMaxEntries)}
	glob := &kernel.Map{Name: mapGlob, Type: "array", KeySize: 4, ValueSize: globValueSize, MaxEntries: 1, Data: g.bytes(globValueSize)}
	for i := globRuns; i < globValueSize; i++ {
		glob.Data[i] = 0
	}
	g.jmpMax = uint32(1 + g.rng.IntN(4))
	jmp := &kernel.Map{Name: mapJmp, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: g.jmpMax, Progs: map[uint32]string{}}
	hsh := &kernel.Map{Name: mapHash, Type: "hash", KeySize: 4, ValueSize: hashValueSize, MaxEntries: hashMaxEntries}
	g.set.Maps = []*kernel.Map{vals, glob, jmp, hsh}

	// Leaf programs never tail-call; subprograms of tail-called programs
	// reach them through a second prog array, so that such tail calls
	// (which before 6.11 start from the count of the subprogram's
	// caller) cannot multiply.
	g.nLeaf = g.rng.IntN(3)
	jmp2 := &kernel.Map{Name: mapJmp2, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: uint32(1 + g.rng.IntN(2)), Progs: map[uint32]string{}}
	g.set.Maps = append(g.set.Maps, jmp2)
	g.nTC = g.rng.IntN(4)
	c := &Case{Seed: seed, Set: g.set, Uses: map[string]Feature{}, Args: map[string]int{}}
	entrySubTail := false
	var progs []*progGen
	for i := 0; i <= g.nTC+g.nLeaf; i++ {
		name, kind := "entry", kindEntry
		switch {
		case i > g.nTC:
			name, kind = fmt.Sprintf("leaf%d", i-g.nTC-1), kindLeaf
		case i > 0:
			name, kind = fmt.Sprintf("tc%d", i-1), kindTC
		}
		p := g.program(name, kind)
		if i == 0 {
			for _, f := range p.funcs[1:] {
				entrySubTail = entrySubTail || f.canTail
			}
		}
		progs = append(progs, p)
	}
	// Fill the prog arrays: tail-called programs, sometimes the entry
	// (which then runs again until the limit), empty slots. The entry is
	// kept out when its subprograms tail-call: before 6.11 every call of
	// such a subprogram starts a new chain of up to 33 tail calls, and a
	// chain back into the entry would multiply them.
	for k := uint32(0); k < g.jmpMax; k++ {
		switch r := g.rng.IntN(5); {
		case r == 0:
		case r == 1 && !entrySubTail:
			jmp.Progs[k] = "entry"
		case r == 2 && g.nLeaf > 0:
			jmp.Progs[k] = fmt.Sprintf("leaf%d", g.rng.IntN(g.nLeaf))
		case g.nTC > 0:
			jmp.Progs[k] = fmt.Sprintf("tc%d", g.rng.IntN(g.nTC))
		}
	}
	for k := uint32(0); k < jmp2.MaxEntries; k++ {
		if g.nLeaf > 0 && g.rng.IntN(4) != 0 {
			jmp2.Progs[k] = fmt.Sprintf("leaf%d", g.rng.IntN(g.nLeaf))
		}
	}
	for _, p := range progs {
		g.set.Programs = append(g.set.Programs, p.finish())
		c.Uses[p.name] = p.uses
		for _, f := range p.funcs {
			c.Args[p.name+"/"+f.name] = f.nargs
			if f.index == 0 {
				c.Args[p.name+"/"+f.name] = 1
			}
		}
	}
	return c
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

func (g *gen) allow(f Feature) bool { return g.allowed&f != 0 }

func (g *gen) label(what string) string {
	g.labelN++
	return fmt.Sprintf("%s%d", what, g.labelN)
}

type progKind int

const (
	kindEntry progKind = iota
	kindTC             // tail-called, tail-calls through jmp (and its subprograms through jmp2)
	kindLeaf           // tail-called, never tail-calls
)

// program generates one program: its main function and subprograms.
func (g *gen) program(name string, kind progKind) *progGen {
	p := &progGen{name: name}
	entry := kind == kindEntry
	nsub := g.rng.IntN(4)
	if !entry {
		nsub = g.rng.IntN(3)
	}
	// A program with bpf-to-bpf calls may tail-call only where the JIT
	// supports it.
	tail := kind == kindTC || (entry && (g.nTC > 0 || g.rng.IntN(3) == 0))
	if nsub > 0 && !g.allow(SubprogTailCalls) {
		if g.rng.IntN(2) == 0 {
			nsub = 0
		} else {
			tail = false
		}
	}
	stack := 8 * (2 + g.rng.IntN(25))
	if nsub == 0 && g.rng.IntN(4) == 0 {
		stack = 8 * (26 + g.rng.IntN(38)) // up to 504: offsets past every short form
	}
	main := &fn{g: g, prog: p, name: name, index: 0, stackMax: stack, canTail: tail, ctxArg: true, tailMap: mapJmp}
	p.funcs = append(p.funcs, main)
	for i := 0; i < nsub; i++ {
		f := &fn{g: g, prog: p, name: fmt.Sprintf("%s_sub%d", name, i), index: i + 1, stackMax: 8 * g.rng.IntN(9), nargs: g.rng.IntN(6)}
		// Some arguments point into the caller's stack.
		for a := 2; a <= f.nargs; a++ {
			if g.rng.IntN(4) == 0 {
				f.ptrArgs |= 1 << a
			}
		}
		// The first two subprograms may tail-call (they are called from
		// the main function only): the entry's through jmp, a
		// tail-called program's through jmp2. The verifier wants less
		// than 256 bytes of stack above a tail-calling subprogram.
		if tail && i < 2 && g.rng.IntN(2) == 0 && main.stackMax <= 200 {
			f.canTail, f.ctxArg = true, true
			f.tailMap = mapJmp2
			if entry && g.rng.IntN(3) != 0 {
				f.tailMap = mapJmp
			}
			if f.nargs == 0 {
				f.nargs = 1
			}
		}
		p.funcs = append(p.funcs, f)
	}
	// Generate callees first so callers know their signatures: function
	// i calls only functions j > i.
	for i := len(p.funcs) - 1; i >= 0; i-- {
		p.funcs[i].generate(entry)
	}
	return p
}

// finish links the program's functions into one instruction stream.
func (p *progGen) finish() *kernel.Program {
	prog := &kernel.Program{Name: p.name, Type: "sched_cls"}
	for _, f := range p.funcs {
		start := len(prog.Insns)
		f.link()
		prog.Insns = append(prog.Insns, f.insns...)
		prog.Funcs = append(prog.Funcs, kernel.Func{Name: f.name, Start: start, StackDepth: -1,
			Prototype: fmt.Sprintf("u64 %s(%d args)", f.name, f.nargs)})
	}
	return prog
}

// link resolves the function's jump labels to slot offsets.
func (f *fn) link() {
	slot := make([]int, len(f.insns)+1)
	s := 0
	for i, ins := range f.insns {
		slot[i] = s
		s += int(ins.Size() / asm.InstructionSize)
	}
	slot[len(f.insns)] = s
	for _, fx := range f.fixups {
		t, ok := f.labels[fx.label]
		if !ok {
			panic("difftest: unknown label " + fx.label)
		}
		off := slot[t] - slot[fx.at] - 1
		ins := &f.insns[fx.at]
		if ins.OpCode.Class() == asm.Jump32Class && ins.OpCode.JumpOp() == asm.Ja {
			ins.Constant = int64(off)
		} else {
			if off != int(int16(off)) {
				panic("difftest: jump out of range")
			}
			ins.Offset = int16(off)
		}
	}
}

func (f *fn) emit(ins ...asm.Instruction) {
	f.insns = append(f.insns, ins...)
}

func (f *fn) here(label string) { f.labels[label] = len(f.insns) }

// jmp emits a conditional or unconditional jump to label.
func (f *fn) jmp(ins asm.Instruction, label string) {
	f.fixups = append(f.fixups, fixup{at: len(f.insns), label: label})
	f.emit(ins)
}

func jmpImm(op asm.JumpOp, is32 bool, dst asm.Register, imm int32) asm.Instruction {
	cls := asm.JumpClass
	if is32 {
		cls = asm.Jump32Class
	}
	return asm.Instruction{OpCode: asm.OpCode(cls).SetJumpOp(op).SetSource(asm.ImmSource), Dst: dst, Constant: int64(imm)}
}

func jmpReg(op asm.JumpOp, is32 bool, dst, src asm.Register) asm.Instruction {
	cls := asm.JumpClass
	if is32 {
		cls = asm.Jump32Class
	}
	return asm.Instruction{OpCode: asm.OpCode(cls).SetJumpOp(op).SetSource(asm.RegSource), Dst: dst, Src: src}
}

func ja() asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)}
}

func gotol() asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja)}
}

func alu(op asm.ALUOp, is32 bool, dst asm.Register, src asm.Register) asm.Instruction {
	if is32 {
		return op.Reg32(dst, src)
	}
	return op.Reg(dst, src)
}

func aluImm(op asm.ALUOp, is32 bool, dst asm.Register, imm int32) asm.Instruction {
	if is32 {
		return op.Imm32(dst, imm)
	}
	return op.Imm(dst, imm)
}

// Constants with the edges JITs treat specially: movz/movk/movn and
// logical immediates on arm64, imm8/imm32/movabs on x86-64.
var imm32Edges = []int32{0, 1, -1, -2, 2, 7, 31, 32, 63, 64, 0x7f, 0x80, -0x80, -0x81, 0xff, 0x7fff, -0x8000, 0xffff, 0x10000, -0x10000,
	0xfff, 0x1000, 0xfff000, 0x7fffffff, -0x80000000, 0x00ff00ff, 0x55555555, -0x0f0f0f10, 0x12345678, 0x1ffff}

var imm64Edges = []uint64{0, 1, ^uint64(0), 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0xffffffff80000000,
	1 << 63, 1<<63 - 1, 0xffff, 0xffff0000, 0xffff00000000, 0xffff000000000000, 0x0000ffff0000ffff, 0xffff0000ffff0000,
	0x123456789abcdef0, 0x8000000000000001, 0xfffffffffffeffff, 0x00000001ffffffff, 0xdeadbeef, 0x5555555555555555}

func (g *gen) imm32() int32 {
	switch g.rng.IntN(4) {
	case 0, 1:
		return imm32Edges[g.rng.IntN(len(imm32Edges))]
	case 2:
		return int32(g.rng.IntN(512)) - 256
	}
	return int32(g.rng.Uint32())
}

func (g *gen) imm64() uint64 {
	switch g.rng.IntN(4) {
	case 0, 1:
		return imm64Edges[g.rng.IntN(len(imm64Edges))]
	case 2:
		return uint64(int64(g.imm32()))
	}
	return g.rng.Uint64()
}

// setConst writes a constant into r: mov, mov32 or ld_imm64.
func (f *fn) setConst(r asm.Register) {
	g := f.g
	switch g.rng.IntN(3) {
	case 0:
		f.emit(asm.Mov.Imm(r, g.imm32()))
	case 1:
		f.emit(asm.Mov.Imm32(r, g.imm32()))
	default:
		f.emit(asm.LoadImm(r, int64(g.imm64()), asm.DWord))
	}
	f.st.reg[r] = kScalar
}

// free lists the scratch registers the function may write.
func (f *fn) free() []asm.Register {
	var out []asm.Register
	for _, r := range scratchRegs {
		if !f.reserved[r] {
			out = append(out, r)
		}
	}
	return out
}

// dst picks a register to write; if it will be read first, it is made a
// scalar.
func (f *fn) dst(read bool) asm.Register {
	fr := f.free()
	r := fr[f.g.rng.IntN(len(fr))]
	if read && f.st.reg[r] != kScalar {
		f.setConst(r)
	}
	f.st.reg[r] = kScalar
	return r
}

// scalar picks a register holding a scalar to read (the accumulator and
// loop counters included), making one if there is none.
func (f *fn) scalar() asm.Register {
	var c []asm.Register
	for r := asm.R0; r <= asm.R9; r++ {
		if f.st.reg[r] == kScalar {
			c = append(c, r)
		}
	}
	if len(c) == 0 || f.g.rng.IntN(8) == 0 {
		r := f.dst(false)
		f.setConst(r)
		return r
	}
	return c[f.g.rng.IntN(len(c))]
}

// fold mixes r into the accumulator: r9 = r9 * K ^ r (K odd: nothing is
// lost).
func (f *fn) fold(r asm.Register) {
	if r == rAcc {
		f.emit(asm.Mul.Imm(rAcc, 0x2545f491))
		return
	}
	f.emit(asm.Mul.Imm(rAcc, 0x5bd1e995), asm.Xor.Reg(rAcc, r))
}

// generate emits the whole function.
func (f *fn) generate(entry bool) {
	g := f.g
	f.labels = map[string]int{}
	f.reserved = map[asm.Register]bool{}
	if f.index == 0 {
		f.st.reg[asm.R1] = kPtr
	} else {
		for i := 1; i <= f.nargs; i++ {
			f.st.reg[i] = kScalar
			if f.ptrArgs&(1<<i) != 0 {
				f.st.reg[i] = kPtr
			}
		}
	}
	f.st.reg[asm.R10] = kPtr
	if f.ctxArg {
		f.st.reg[asm.R1] = kPtr
		f.emit(asm.Mov.Reg(rCtx, asm.R1))
		f.st.reg[rCtx] = kPtr
		f.st.reg[asm.R1] = kUninit
	}
	f.emit(asm.LoadImm(rAcc, int64(g.rng.Uint64()), asm.DWord))
	f.st.reg[rAcc] = kScalar
	// The arguments count from the start.
	for i := 1; i <= f.nargs; i++ {
		if f.st.reg[i] == kScalar {
			f.fold(asm.Register(i))
		}
	}
	// Pointer arguments are used first, before a call kills them; all
	// are kept from the generator until each has been used.
	for i := 2; i <= f.nargs; i++ {
		if f.ptrArgs&(1<<i) != 0 {
			f.pin(asm.Register(i))
		}
	}
	for i := 2; i <= f.nargs; i++ {
		if f.ptrArgs&(1<<i) != 0 {
			r := asm.Register(i)
			f.memOps(r, 0, 8, true)
			f.unpin(r)
		}
	}
	n := 3 + g.rng.IntN(8)
	switch {
	case f.index == 0 && entry:
		n = 8 + g.rng.IntN(20)
	case f.index == 0:
		n = 3 + g.rng.IntN(10)
	}
	for i := 0; i < n; i++ {
		f.block()
	}
	f.epilogue(entry)
}

// epilogue folds every live scalar into r9 and returns it.
func (f *fn) epilogue(entry bool) {
	for _, r := range scratchRegs {
		if f.st.reg[r] == kScalar {
			f.fold(r)
		}
	}
	if f.index == 0 && !entry {
		// A tail-called program leaves its mark in glob: it counts
		// its runs and adds its accumulator (BPF_XADD, which every
		// version has).
		f.emit(asm.LoadMapValue(asm.R1, 0, 0).WithReference(mapGlob))
		f.emit(asm.Mov.Imm(asm.R2, 1))
		f.emit(atomicOp(asm.AddAtomic, asm.R1, asm.R2, asm.DWord, globRuns))
		f.emit(atomicOp(asm.AddAtomic, asm.R1, rAcc, asm.DWord, globLog))
	}
	f.emit(asm.Mov.Reg(asm.R0, rAcc), asm.Return())
}

func atomicOp(op asm.AtomicOp, dst, src asm.Register, size asm.Size, off int16) asm.Instruction {
	ins := op.Mem(dst, src, size, off)
	ins.Constant = int64(uint32(op) >> 8)
	return ins
}

// block emits one randomly chosen piece of code.
func (f *fn) block() {
	g := f.g
	type choice struct {
		w  int
		fn func()
	}
	leaf := f.depth > 1 || f.inLoop
	choices := []choice{
		{6, f.aluBlock},
		{2, f.constBlock},
		{3, f.divBlock},
		{2, f.shiftBlock},
		{1, f.endianBlock},
		{3, f.stackBlock},
		{2, f.stackAtomicBlock},
		{2, f.globBlock},
	}
	if f.depth < 3 {
		choices = append(choices, choice{4, f.condBlock})
	}
	if !f.inLoop && f.depth < 2 {
		choices = append(choices, choice{1, f.loopBlock})
	}
	if g.allow(CPUv4) {
		choices = append(choices, choice{2, f.v4Block})
	}
	if !leaf || g.rng.IntN(2) == 0 {
		if !f.inLoop {
			choices = append(choices, choice{2, f.mapBlock}, choice{2, f.helperBlock}, choice{2, f.hashBlock})
			if f.callees() != nil {
				choices = append(choices, choice{3, f.callBlock})
			}
			if f.canTail {
				choices = append(choices, choice{3, f.tailBlock})
				if !leaf {
					choices = append(choices, choice{1, f.tailLoopBlock})
				}
			}
		}
	}
	total := 0
	for _, c := range choices {
		total += c.w
	}
	n := g.rng.IntN(total)
	for _, c := range choices {
		if n < c.w {
			c.fn()
			return
		}
		n -= c.w
	}
}

var aluOps = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Or, asm.And, asm.Xor, asm.Mov, asm.Neg, asm.LSh, asm.RSh, asm.ArSh}

// aluBlock: a few ALU or ALU64 operations, register and immediate forms.
func (f *fn) aluBlock() {
	g := f.g
	for n := 1 + g.rng.IntN(4); n > 0; n-- {
		op := aluOps[g.rng.IntN(len(aluOps))]
		is32 := g.rng.IntN(2) == 0
		switch op {
		case asm.LSh, asm.RSh, asm.ArSh:
			f.shift(op, is32)
			continue
		case asm.Neg:
			d := f.dst(true)
			f.emit(aluImm(asm.Neg, is32, d, 0))
			f.fold(d)
			continue
		}
		if g.rng.IntN(2) == 0 {
			s := f.scalar()
			var d asm.Register
			if g.rng.IntN(6) == 0 && !f.reserved[s] && s != rAcc {
				d = s // dst == src
			} else {
				d = f.dst(op != asm.Mov)
			}
			f.emit(alu(op, is32, d, s))
			f.fold(d)
		} else {
			d := f.dst(op != asm.Mov)
			f.emit(aluImm(op, is32, d, g.imm32()))
			f.fold(d)
		}
	}
}

func (f *fn) constBlock() {
	r := f.dst(false)
	f.setConst(r)
	f.fold(r)
}

// shift: immediates within the width (the verifier refuses others),
// registers with any value (the interpreter masks with 63/31 as the
// kernel's does, and so do both CPUs' shifts).
func (f *fn) shift(op asm.ALUOp, is32 bool) {
	g := f.g
	w := 64
	if is32 {
		w = 32
	}
	if g.rng.IntN(2) == 0 {
		d := f.dst(true)
		amt := int32(g.rng.IntN(w))
		if g.rng.IntN(3) == 0 {
			amt = []int32{0, 1, int32(w - 1), int32(w / 2)}[g.rng.IntN(4)]
		}
		f.emit(aluImm(op, is32, d, amt))
		f.fold(d)
		return
	}
	var s asm.Register
	if g.rng.IntN(2) == 0 {
		s = f.dst(false)
		f.emit(asm.Mov.Imm(s, int32(g.rng.IntN(w+8))))
	} else {
		s = f.scalar()
	}
	d := f.dst(true)
	f.emit(alu(op, is32, d, s))
	f.fold(d)
}

func (f *fn) shiftBlock() {
	ops := []asm.ALUOp{asm.LSh, asm.RSh, asm.ArSh}
	for n := 1 + f.g.rng.IntN(3); n > 0; n-- {
		f.shift(ops[f.g.rng.IntN(3)], f.g.rng.IntN(2) == 0)
	}
}

// divBlock: unsigned division and modulo; signed ones with cpu v4.
func (f *fn) divBlock() { f.div(f.g.allow(CPUv4) && f.g.rng.IntN(3) == 0) }

func (f *fn) div(signed bool) {
	g := f.g
	is32 := g.rng.IntN(2) == 0
	op := asm.Div
	if g.rng.IntN(2) == 0 {
		op = asm.Mod
	}
	if signed {
		op = map[asm.ALUOp]asm.ALUOp{asm.Div: asm.SDiv, asm.Mod: asm.SMod}[op]
	}
	if g.rng.IntN(3) == 0 {
		// Immediate divisor: never 0 (refused), and a signed -1 as
		// the verifier rewrites it.
		imm := g.imm32()
		for imm == 0 {
			imm = g.imm32()
		}
		d := f.dst(true)
		switch {
		case signed && imm == -1 && op == asm.SDiv:
			f.emit(aluImm(asm.Neg, is32, d, 0))
		case signed && imm == -1:
			f.emit(asm.Mov.Imm32(d, 0))
		default:
			if signed {
				f.use(CPUv4)
			}
			f.emit(aluImm(op, is32, d, imm))
		}
		f.fold(d)
		return
	}
	// Register divisor: sometimes 0 or -1 on purpose.
	var s asm.Register
	switch g.rng.IntN(4) {
	case 0:
		s = f.dst(false)
		f.emit(asm.Mov.Imm(s, []int32{0, -1, 1, -0x80000000}[g.rng.IntN(4)]))
	default:
		s = f.scalar()
	}
	d := f.dst(true)
	if d == s && g.rng.IntN(2) == 0 {
		d = f.dst(true)
	}
	f.divReg(op, is32, d, s)
	f.fold(d)
}

// divReg emits "d op= s" behind the verifier's guard (do_misc_fixups,
// Linux 6.12), as the JIT receives it.
func (f *fn) divReg(op asm.ALUOp, is32 bool, d, s asm.Register) {
	g := f.g
	insn := alu(op, is32, d, s)
	L := func(n int) string { return g.label(fmt.Sprintf("div%d_", n)) }
	switch op {
	case asm.Div:
		// chk_and_div: if src != 0 goto +2; w_dst ^= w_dst; goto +1; insn
		l1, l2 := L(1), L(2)
		f.jmp(jmpImm(asm.JNE, is32, s, 0), l1)
		f.emit(asm.Xor.Reg32(d, d))
		f.jmp(ja(), l2)
		f.here(l1)
		f.emit(insn)
		f.here(l2)
	case asm.Mod:
		// chk_and_mod: if src == 0 goto +1 (+2 for 32-bit); insn; and
		// for 32-bit: goto +1; w_dst = w_dst.
		l1 := L(1)
		f.jmp(jmpImm(asm.JEq, is32, s, 0), l1)
		f.emit(insn)
		if is32 {
			l2 := L(2)
			f.jmp(ja(), l2)
			f.here(l1)
			f.emit(asm.Mov.Reg32(d, d))
			f.here(l2)
		} else {
			f.here(l1)
		}
	case asm.SDiv, asm.SMod:
		f.use(CPUv4)
		if !g.allow(AX) {
			// Not the verifier's patchlet: a program that must not use
			// BPF_REG_AX jumps over divisors 0 and -1 itself.
			l := L(0)
			f.jmp(jmpImm(asm.JEq, is32, s, 0), l)
			f.jmp(jmpImm(asm.JEq, is32, s, -1), l)
			f.emit(insn)
			f.here(l)
			return
		}
		f.use(AX)
		// BPF_MOV64_REG(AX, src); AX += 1 (ALU or ALU64);
		f.emit(asm.Mov.Reg(rAX, s), aluImm(asm.Add, is32, rAX, 1))
		if op == asm.SDiv {
			// chk_and_sdiv: if AX > 1 goto +4; if AX == 0 goto +1;
			// dst = 0; dst = -dst; goto +1; insn
			lIns, lNeg, lEnd := L(1), L(2), L(3)
			f.jmp(jmpImm(asm.JGT, is32, rAX, 1), lIns)
			f.jmp(jmpImm(asm.JEq, is32, rAX, 0), lNeg)
			f.emit(aluImm(asm.Mov, is32, d, 0))
			f.here(lNeg)
			f.emit(aluImm(asm.Neg, is32, d, 0))
			f.jmp(ja(), lEnd)
			f.here(lIns)
			f.emit(insn)
			f.here(lEnd)
			return
		}
		// chk_and_smod: if AX > 1 goto +3; if AX == 1 goto +3 (+4);
		// w_dst = 0; goto +1; insn; and for 32-bit: goto +1; w_dst = w_dst.
		lIns, lZero, lEnd := L(1), L(2), L(3)
		f.jmp(jmpImm(asm.JGT, is32, rAX, 1), lIns)
		f.jmp(jmpImm(asm.JEq, is32, rAX, 1), lZero)
		f.emit(asm.Mov.Imm32(d, 0))
		f.jmp(ja(), lEnd)
		f.here(lIns)
		f.emit(insn)
		if is32 {
			f.jmp(ja(), lEnd)
			f.here(lZero)
			f.emit(asm.Mov.Reg32(d, d))
		} else {
			f.here(lZero)
		}
		f.here(lEnd)
	}
}

// endianBlock: to_le/to_be of every width.
func (f *fn) endianBlock() {
	g := f.g
	d := f.dst(true)
	e := asm.LE
	if g.rng.IntN(2) == 0 {
		e = asm.BE
	}
	f.emit(asm.HostTo(e, d, []asm.Size{asm.Half, asm.Word, asm.DWord}[g.rng.IntN(3)]))
	f.fold(d)
}

// v4Block: the cpu v4 ALU additions: movsx, bswap, sdiv/smod.
func (f *fn) v4Block() {
	g := f.g
	switch g.rng.IntN(4) {
	case 0:
		f.use(CPUv4)
		s := f.scalar()
		d := f.dst(false)
		switch g.rng.IntN(5) {
		case 0:
			f.emit(asm.MovSX8.Reg(d, s))
		case 1:
			f.emit(asm.MovSX16.Reg(d, s))
		case 2:
			f.emit(asm.MovSX32.Reg(d, s))
		case 3:
			f.emit(asm.MovSX8.Reg32(d, s))
		default:
			f.emit(asm.MovSX16.Reg32(d, s))
		}
		f.fold(d)
	case 1:
		f.use(CPUv4)
		d := f.dst(true)
		f.emit(asm.BSwap(d, []asm.Size{asm.Half, asm.Word, asm.DWord}[g.rng.IntN(3)]))
		f.fold(d)
	default:
		f.div(true)
	}
}

func (f *fn) use(ft Feature) { f.prog.uses |= ft }

var condOps = []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSet, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE}

// cond emits a conditional jump to label on random operands.
func (f *fn) cond(label string) {
	g := f.g
	op := condOps[g.rng.IntN(len(condOps))]
	is32 := g.rng.IntN(3) == 0
	d := f.scalar()
	if g.rng.IntN(2) == 0 {
		f.jmp(jmpReg(op, is32, d, f.scalar()), label)
	} else {
		f.jmp(jmpImm(op, is32, d, g.imm32()), label)
	}
}

// condBlock: "if cond goto skip; A; skip:" or "if cond goto else; A;
// goto end; else: B; end:" with gotol for the goto when allowed.
func (f *fn) condBlock() {
	g := f.g
	f.depth++
	defer func() { f.depth-- }()
	lElse := g.label("else")
	f.cond(lElse)
	before := f.st
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		f.block()
	}
	if g.rng.IntN(5) == 0 {
		// Filler: jumps over 100 to 500 bytes of machine code, around
		// x86-64's imm8 limit.
		for n := 2 + g.rng.IntN(12); n > 0; n-- {
			f.aluBlock()
		}
	}
	if g.rng.IntN(8) == 0 && f.depth == 1 && !f.inLoop {
		// An early exit on one path.
		f.epilogueExit()
		f.here(lElse)
		f.st = before
		return
	}
	if g.rng.IntN(2) == 0 {
		f.here(lElse)
		f.st = join(before, f.st)
		return
	}
	lEnd := g.label("end")
	if g.allow(Gotol) && g.rng.IntN(2) == 0 {
		f.use(Gotol)
		f.jmp(gotol(), lEnd)
	} else {
		f.jmp(ja(), lEnd)
	}
	then := f.st
	f.st = before
	f.here(lElse)
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		f.block()
	}
	f.here(lEnd)
	f.st = join(then, f.st)
}

// epilogueExit returns from the middle of the function.
func (f *fn) epilogueExit() {
	saved := f.st
	if f.index == 0 && f.prog.name != "entry" {
		f.epilogue(false)
	} else {
		f.epilogue(true)
	}
	f.st = saved
}

// loopBlock: a bounded loop, "i = 0; head: body; i += 1; if i < n goto
// head", the counter kept out of the body's reach.
func (f *fn) loopBlock() {
	g := f.g
	var cands []asm.Register
	for _, r := range []asm.Register{asm.R7, asm.R8} {
		if !f.reserved[r] {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		f.aluBlock()
		return
	}
	c := cands[g.rng.IntN(len(cands))]
	f.emit(asm.Mov.Imm(c, 0))
	f.st.reg[c] = kScalar
	f.reserved[c] = true
	f.inLoop = true
	f.depth++
	head := g.label("loop")
	f.here(head)
	entry := f.st
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		f.block()
	}
	// The next iteration must find what the first did.
	for r := asm.R0; r <= asm.R9; r++ {
		if entry.reg[r] == kScalar && f.st.reg[r] != kScalar {
			f.setConst(r)
		}
	}
	f.emit(asm.Add.Imm(c, 1))
	is32 := g.rng.IntN(2) == 0
	f.jmp(jmpImm(asm.JLT, is32, c, int32(2+g.rng.IntN(5))), head)
	f.depth--
	f.inLoop = false
	delete(f.reserved, c)
	f.fold(c)
}

var sizes = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}

// slotFor picks an aligned stack offset for size bytes, optionally one
// that was written.
func (f *fn) slotFor(n int, written bool) (int16, bool) {
	if f.stackMax < n {
		return 0, false
	}
	for try := 0; try < 16; try++ {
		k := 1 + f.g.rng.IntN(f.stackMax/n)
		off := -k * n
		if !written || f.stackWritten(off, n) {
			return int16(off), true
		}
	}
	return 0, false
}

func (f *fn) stackWritten(off, n int) bool {
	for i := 0; i < n; i++ {
		if !f.st.stack[-off-1-i] {
			return false
		}
	}
	return true
}

func (f *fn) markStack(off, n int) {
	for i := 0; i < n; i++ {
		f.st.stack[-off-1-i] = true
	}
}

func stImm(size asm.Size, dst asm.Register, off int16, imm int32) asm.Instruction {
	// cilium/ebpf's StoreImm refuses BPF_DW; the kernel sign-extends imm.
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: int64(imm)}
}

// stackBlock: stores of every size (register and immediate), then loads
// of written bytes, zero- or (cpu v4) sign-extending.
func (f *fn) stackBlock() {
	g := f.g
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		sz := sizes[g.rng.IntN(4)]
		off, ok := f.slotFor(sz.Sizeof(), false)
		if !ok {
			break
		}
		switch {
		case g.rng.IntN(3) == 0:
			f.emit(stImm(sz, asm.R10, off, g.imm32()))
		case g.allow(AcqRel) && g.rng.IntN(4) == 0:
			f.use(AcqRel)
			f.emit(asm.StoreRelease(asm.R10, f.scalar(), sz, off))
		default:
			f.emit(asm.StoreMem(asm.R10, off, f.scalar(), sz))
		}
		f.markStack(int(off), sz.Sizeof())
		if g.allow(Nospec) && g.rng.IntN(4) == 0 {
			f.use(Nospec)
			f.emit(nospec())
		}
	}
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		sz := sizes[g.rng.IntN(4)]
		off, ok := f.slotFor(sz.Sizeof(), true)
		if !ok {
			continue
		}
		d := f.dst(false)
		if sz != asm.DWord && g.allow(CPUv4) && g.rng.IntN(3) == 0 {
			f.use(CPUv4)
			f.emit(asm.LoadMemSX(d, asm.R10, off, sz))
		} else if g.allow(AcqRel) && g.rng.IntN(4) == 0 {
			f.use(AcqRel)
			f.emit(asm.LoadAcquire(d, asm.R10, sz, off))
		} else {
			f.emit(asm.LoadMem(d, asm.R10, off, sz))
		}
		f.fold(d)
	}
}

var fetchOps = []asm.AtomicOp{asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor, asm.Xchg, asm.CmpXchg}
var plainAtomics = []asm.AtomicOp{asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic}

// atomic emits one atomic operation on *(base + off) and folds what it
// returns.
//
// With base R0 a cmpxchg compares the pointer itself and overwrites it
// with the old value: atomic then reports that base is gone.
func (f *fn) atomic(base asm.Register, off int16, size asm.Size) (baseGone bool) {
	g := f.g
	op := asm.AddAtomic
	if g.allow(Atomics) && g.rng.IntN(5) != 0 {
		if g.rng.IntN(3) == 0 {
			op = plainAtomics[g.rng.IntN(len(plainAtomics))]
		} else {
			op = fetchOps[g.rng.IntN(len(fetchOps))]
		}
	}
	var src asm.Register
	switch {
	case op == asm.CmpXchg && base == asm.R0:
		src = f.scalar()
		baseGone = true
	case op == asm.CmpXchg:
		// R0 is compared and receives the old value; sometimes equal
		// to the memory (loaded first).
		if f.reserved[asm.R0] {
			return false
		}
		if g.rng.IntN(2) == 0 {
			f.emit(asm.LoadMem(asm.R0, base, off, size))
		} else if f.st.reg[asm.R0] != kScalar {
			f.setConst(asm.R0)
		}
		f.st.reg[asm.R0] = kScalar
		src = f.scalar()
		if src == asm.R0 && g.rng.IntN(2) == 0 {
			src = f.dst(true)
		}
	case op&0x100 != 0: // fetch and xchg write src
		src = f.dst(true)
	default:
		src = f.scalar()
	}
	if src == base {
		return false
	}
	if op != asm.AddAtomic {
		f.use(Atomics)
	}
	f.emit(atomicOp(op, base, src, size, off))
	switch {
	case op == asm.CmpXchg:
		if size == asm.Word {
			// The verifier's zero extension after a 32-bit cmpxchg
			// (opt_subreg_zext_lo32_rnd_hi32, 5.13+): x86-64's
			// cmpxchg leaves eax alone when the values are equal.
			f.emit(zext(asm.R0))
		}
		f.st.reg[asm.R0] = kScalar
		f.fold(asm.R0)
	case op&0x100 != 0:
		f.fold(src)
	}
	return baseGone
}

// stackAtomicBlock: atomics on written stack slots (through r10 or a
// copy of it), then a load back.
func (f *fn) stackAtomicBlock() {
	g := f.g
	sz := asm.Word
	if g.rng.IntN(2) == 0 {
		sz = asm.DWord
	}
	off, ok := f.slotFor(sz.Sizeof(), true)
	if !ok {
		if off, ok = f.slotFor(sz.Sizeof(), false); !ok {
			return
		}
		f.emit(asm.StoreMem(asm.R10, off, f.scalar(), sz))
		f.markStack(int(off), sz.Sizeof())
	}
	base := asm.R10
	if g.rng.IntN(2) == 0 {
		if b, ok := f.ptrReg(); ok {
			f.emit(asm.Mov.Reg(b, asm.R10))
			f.pin(b)
			base = b
		}
	}
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		f.atomic(base, off, sz)
	}
	if base != asm.R10 {
		// Dead now: another path may use it as a scalar (the case of
		// TestStackDepthPaths).
		f.unpin(base)
	}
	d := f.dst(false)
	f.emit(asm.LoadMem(d, asm.R10, off, sz))
	f.fold(d)
}

// pin keeps a pointer register out of the generator's reach.
func (f *fn) pin(r asm.Register) {
	f.reserved[r] = true
	f.st.reg[r] = kPtr
}

func (f *fn) unpin(r asm.Register) {
	delete(f.reserved, r)
	if f.st.reg[r] == kPtr {
		f.st.reg[r] = kUninit
	}
}

// memOps does loads, stores and atomics on *(base + [lo, hi)) where base
// is 8-byte aligned; unaligned plain accesses unless strict (the stack).
func (f *fn) memOps(base asm.Register, lo, hi int, strict bool) {
	g := f.g
	for n := 1 + g.rng.IntN(5); n > 0; n-- {
		sz := sizes[g.rng.IntN(4)]
		w := sz.Sizeof()
		if hi-lo < w {
			continue
		}
		off := lo + w*g.rng.IntN((hi-lo)/w)
		if !strict && g.rng.IntN(6) == 0 {
			// Map values may be accessed unaligned (the verifier is
			// strict only about the stack): not for atomics.
			off = lo + g.rng.IntN(hi-lo-w+1)
		}
		if g.allow(AcqRel) && g.rng.IntN(6) == 0 && (off-lo)%w == 0 {
			f.use(AcqRel)
			if g.rng.IntN(2) == 0 {
				d := f.dst(false)
				f.emit(asm.LoadAcquire(d, base, sz, int16(off)))
				f.fold(d)
			} else {
				f.emit(asm.StoreRelease(base, f.scalar(), sz, int16(off)))
			}
			continue
		}
		switch k := g.rng.IntN(7); {
		case k < 2:
			d := f.dst(false)
			if sz != asm.DWord && g.allow(CPUv4) && g.rng.IntN(3) == 0 {
				f.use(CPUv4)
				f.emit(asm.LoadMemSX(d, base, int16(off), sz))
			} else {
				f.emit(asm.LoadMem(d, base, int16(off), sz))
			}
			f.fold(d)
		case k < 4:
			f.emit(asm.StoreMem(base, int16(off), f.scalar(), sz))
		case k < 5:
			f.emit(stImm(sz, base, int16(off), g.imm32()))
		default:
			if w < 4 {
				sz, w = asm.Word, 4
			}
			if hi-lo < w {
				continue
			}
			off = lo + w*g.rng.IntN((hi-lo)/w)
			if f.atomic(base, int16(off), sz) {
				return
			}
		}
	}
}

// ptrReg picks a register for a map value pointer.
func (f *fn) ptrReg() (asm.Register, bool) {
	var c []asm.Register
	for _, r := range []asm.Register{asm.R7, asm.R8, asm.R5} {
		if !f.reserved[r] {
			c = append(c, r)
		}
	}
	if len(c) == 0 {
		return 0, false
	}
	return c[f.g.rng.IntN(len(c))], true
}

// globBlock: the global map's value through ld_imm64 (BPF_PSEUDO_MAP_VALUE
// with an offset), sometimes moved by a constant.
func (f *fn) globBlock() {
	g := f.g
	p, ok := f.ptrReg()
	if !ok {
		return
	}
	base := 8 * g.rng.IntN(globTop/8)
	f.emit(asm.LoadMapValue(p, 0, uint32(base)).WithReference(mapGlob))
	f.pin(p)
	if g.rng.IntN(3) == 0 {
		adj := 8 * (g.rng.IntN(5) - 2)
		if base+adj >= 0 && base+adj < globTop {
			f.emit(asm.Add.Imm(p, int32(adj)))
			base += adj
		}
	}
	f.memOps(p, -base, globTop-base, false)
	f.unpin(p)
}

// mapBlock: bpf_map_lookup_elem on the array with a key that may be out
// of range, the NULL check, then accesses to the value.
func (f *fn) mapBlock() {
	g := f.g
	koff, ok := f.slotFor(4, false)
	if !ok {
		return
	}
	switch g.rng.IntN(3) {
	case 0:
		f.emit(stImm(asm.Word, asm.R10, koff, int32(g.rng.IntN(valsMaxEntries+2))))
	case 1:
		s := f.scalar()
		k := f.dst(false)
		f.emit(asm.Mov.Reg32(k, s), asm.And.Imm32(k, 7))
		f.emit(asm.StoreMem(asm.R10, koff, k, asm.Word))
	default:
		f.emit(asm.StoreMem(asm.R10, koff, f.scalar(), asm.Word))
	}
	f.markStack(int(koff), 4)
	f.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(mapVals))
	f.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(koff)))
	f.emit(asm.FnMapLookupElem.Call())
	f.afterCall()
	lNull := g.label("null")
	f.jmp(jmpImm(asm.JEq, false, asm.R0, 0), lNull)
	before := f.st
	p, ok := f.ptrReg()
	if !ok || g.rng.IntN(3) == 0 {
		p = asm.R0 // x86-64 atomics through rax take other paths
	} else {
		f.emit(asm.Mov.Reg(p, asm.R0))
	}
	f.st.reg[asm.R0] = kUninit
	f.pin(p)
	if g.rng.IntN(4) == 0 {
		// A variable offset the verifier bounds: p += x & 0x38.
		x := f.scalar()
		t := f.dst(false)
		f.emit(asm.Mov.Reg(t, x), asm.And.Imm(t, 0x38), asm.Add.Reg(p, t))
		f.memOps(p, 0, 8, false)
	} else {
		f.memOps(p, 0, valsValueSize, false)
	}
	f.unpin(p)
	if g.rng.IntN(3) == 0 {
		f.depth++
		f.block()
		f.depth--
	}
	f.here(lNull)
	f.st = join(before, f.st)
	f.st.reg[asm.R0] = kUninit
}

// afterCall: R0 holds the result, R1-R5 are dead.
func (f *fn) afterCall() {
	f.st.reg[asm.R0] = kScalar
	for r := asm.R1; r <= asm.R5; r++ {
		f.st.reg[r] = kUninit
	}
}

// helperBlock: helpers with a deterministic model (prandom is seeded per
// kernel, ktime steps by 1000).
func (f *fn) helperBlock() {
	g := f.g
	h := []asm.BuiltinFunc{asm.FnGetPrandomU32, asm.FnGetPrandomU32, asm.FnKtimeGetNs, asm.FnGetSmpProcessorId, asm.FnJiffies64, asm.FnGetNumaNodeId}[g.rng.IntN(6)]
	f.emit(h.Call())
	f.afterCall()
	f.fold(asm.R0)
}

func (f *fn) callees() []*fn {
	var out []*fn
	for _, c := range f.prog.funcs {
		if c.index > f.index {
			out = append(out, c)
		}
	}
	return out
}

// callBlock: a bpf-to-bpf call with arguments; the result is folded and
// the caller's stack and R6-R9 survive it.
func (f *fn) callBlock() {
	g := f.g
	cs := f.callees()
	c := cs[g.rng.IntN(len(cs))]
	if c.canTail && f.index != 0 {
		return
	}
	// Arguments from the last: each one set is kept from the generator
	// until the call; the context goes into r1 last.
	var set []asm.Register
	defer func() {
		for _, r := range set {
			delete(f.reserved, r)
		}
	}()
	for i := c.nargs; i >= 1; i-- {
		r := asm.Register(i)
		switch {
		case i == 1 && c.ctxArg:
			f.emit(asm.Mov.Reg(asm.R1, rCtx))
			f.st.reg[r] = kPtr
			continue
		case c.ptrArgs&(1<<i) != 0:
			off, ok := f.slotFor(8, true)
			if !ok {
				if off, ok = f.slotFor(8, false); !ok {
					// No stack: a scalar would break the callee.
					return
				}
				f.emit(asm.StoreMem(asm.R10, off, f.scalar(), asm.DWord))
				f.markStack(int(off), 8)
			}
			f.emit(asm.Mov.Reg(r, asm.R10), asm.Add.Imm(r, int32(off)))
			f.st.reg[r] = kPtr
			f.reserved[r] = true
			set = append(set, r)
			continue
		case g.rng.IntN(2) == 0:
			s := f.scalar()
			if s != r {
				f.emit(asm.Mov.Reg(r, s))
			}
		default:
			f.setConst(r)
		}
		f.st.reg[r] = kScalar
		f.reserved[r] = true
		set = append(set, r)
	}
	f.emit(asm.Call.Label(c.name))
	f.afterCall()
	f.fold(asm.R0)
}

// tailBlock: bpf_tail_call(ctx, &jmp, key) with a constant key (a direct
// tail call on x86-64 when in range), a computed one, or one out of
// range; on a miss execution goes on with R0-R5 dead.
func (f *fn) tailBlock() {
	g := f.g
	if f.nonMainTailUse() {
		f.use(SubprogTailCalls)
	}
	// Work out the key first: it may need scratch registers.
	var setKey func()
	switch g.rng.IntN(5) {
	case 0, 1:
		k := int32(g.rng.IntN(int(g.jmpMax) + 2))
		setKey = func() { f.emit(asm.Mov.Imm(asm.R3, k)) }
	case 2:
		s := f.scalar()
		setKey = func() { f.emit(asm.Mov.Reg32(asm.R3, s), asm.And.Imm32(asm.R3, 3)) }
	case 3:
		s := f.scalar()
		setKey = func() { f.emit(asm.Mov.Reg(asm.R3, s)) }
	default:
		v := []uint64{1 << 32, 1<<32 + 1, ^uint64(0), 0x80000000}[g.rng.IntN(4)]
		setKey = func() { f.emit(asm.LoadImm(asm.R3, int64(v), asm.DWord)) }
	}
	setKey()
	f.emit(asm.Mov.Reg(asm.R1, rCtx))
	f.emit(asm.LoadMapPtr(asm.R2, 0).WithReference(f.tailMap))
	f.emit(asm.FnTailCall.Call())
	f.afterCall()
	f.st.reg[asm.R0] = kUninit
}

// nonMainTailUse: does a tail call here make the program one with tail
// calls and bpf-to-bpf calls?
func (f *fn) nonMainTailUse() bool { return len(f.prog.funcs) > 1 }

// hashBlock: bpf_map_update_elem (any flags, keys past max_entries),
// bpf_map_delete_elem, then bpf_map_lookup_elem of the same key and
// accesses to the value.
func (f *fn) hashBlock() {
	g := f.g
	koff, ok := f.slotFor(4, false)
	if !ok {
		return
	}
	if g.rng.IntN(2) == 0 {
		f.emit(stImm(asm.Word, asm.R10, koff, int32(g.rng.IntN(HashKeys))))
	} else {
		x := f.scalar()
		k := f.dst(false)
		f.emit(asm.Mov.Reg32(k, x), asm.And.Imm32(k, HashKeys-1))
		f.emit(asm.StoreMem(asm.R10, koff, k, asm.Word))
	}
	f.markStack(int(koff), 4)
	switch g.rng.IntN(4) {
	case 0, 1:
		voff, ok := f.slotFor(hashValueSize, false)
		if !ok || (voff <= koff && koff < voff+hashValueSize) {
			break
		}
		for i := int16(0); i < hashValueSize; i += 8 {
			if g.rng.IntN(2) == 0 {
				f.emit(stImm(asm.DWord, asm.R10, voff+i, g.imm32()))
			} else {
				f.emit(asm.StoreMem(asm.R10, voff+i, f.scalar(), asm.DWord))
			}
		}
		f.markStack(int(voff), hashValueSize)
		f.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(mapHash))
		f.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(koff)))
		f.emit(asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, int32(voff)))
		f.emit(asm.Mov.Imm(asm.R4, int32(g.rng.IntN(4)))) // BPF_ANY, NOEXIST, EXIST, invalid
		f.emit(asm.FnMapUpdateElem.Call())
		f.afterCall()
		f.fold(asm.R0)
	case 2:
		f.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(mapHash))
		f.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(koff)))
		f.emit(asm.FnMapDeleteElem.Call())
		f.afterCall()
		f.fold(asm.R0)
	}
	f.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(mapHash))
	f.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(koff)))
	f.emit(asm.FnMapLookupElem.Call())
	f.afterCall()
	lNull := g.label("hnull")
	f.jmp(jmpImm(asm.JEq, false, asm.R0, 0), lNull)
	before := f.st
	p, ok := f.ptrReg()
	if !ok || g.rng.IntN(3) == 0 {
		p = asm.R0
	} else {
		f.emit(asm.Mov.Reg(p, asm.R0))
	}
	f.st.reg[asm.R0] = kUninit
	f.pin(p)
	f.memOps(p, 0, hashValueSize, false)
	f.unpin(p)
	f.here(lNull)
	f.st = join(before, f.st)
	f.st.reg[asm.R0] = kUninit
}

// nospec is BPF_ST | BPF_NOSPEC, which the verifier inserts after
// speculatively bypassable stores.
func nospec() asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.StClass).SetMode(asm.AtomicMode)}
}

// tailLoopBlock: tail calls in a bounded loop, up to 45 of them: before
// 6.11 a tail call into an empty slot uses up the budget too, so later
// ones miss on the limit (exec/bpf TestEmptySlotsUseTheBudget).
func (f *fn) tailLoopBlock() {
	g := f.g
	var cands []asm.Register
	for _, r := range []asm.Register{asm.R7, asm.R8} {
		if !f.reserved[r] {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return
	}
	c := cands[g.rng.IntN(len(cands))]
	f.emit(asm.Mov.Imm(c, 0))
	f.st.reg[c] = kScalar
	f.reserved[c] = true
	head := g.label("tloop")
	f.here(head)
	entry := f.st
	switch k := int32(g.rng.IntN(int(g.jmpMax) + 2)); g.rng.IntN(3) {
	case 0:
		f.emit(asm.Mov.Imm(asm.R3, k))
	case 1:
		f.emit(asm.Mov.Reg32(asm.R3, c), asm.And.Imm32(asm.R3, 3))
	default:
		f.emit(asm.Mov.Reg(asm.R3, c), asm.Add.Imm(asm.R3, k))
	}
	f.emit(asm.Mov.Reg(asm.R1, rCtx))
	f.emit(asm.LoadMapPtr(asm.R2, 0).WithReference(f.tailMap))
	f.emit(asm.FnTailCall.Call())
	if f.nonMainTailUse() {
		f.use(SubprogTailCalls)
	}
	f.afterCall()
	f.st.reg[asm.R0] = kUninit
	for r := asm.R0; r <= asm.R9; r++ {
		if entry.reg[r] == kScalar && f.st.reg[r] != kScalar {
			f.setConst(r)
		}
	}
	f.emit(asm.Add.Imm(c, 1))
	f.jmp(jmpImm(asm.JLT, g.rng.IntN(2) == 0, c, int32(2+g.rng.IntN(44))), head)
	delete(f.reserved, c)
	f.fold(c)
}

// zext is BPF_ZEXT_REG(r): "w = w" marked with imm 1 (insn_is_zext), the
// verifier's explicit zero extension.
func zext(r asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.Mov.Op32(asm.RegSource), Dst: r, Src: r, Constant: 1}
}
