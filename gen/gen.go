// SPDX-License-Identifier: GPL-2.0-only

// Package gen generates large, valid, realistic BPF programs for
// benchmarks and for users who want to see jitscope on programs the size of
// Cilium's datapath or a big XDP load balancer: a main program split into
// bpf-to-bpf functions (a call tree three levels deep, each function
// placed after its caller, so the verifier's combined stack stays small),
// mixing 64- and 32-bit ALU work with
// immediates of every width, loads and stores on the stack, the context and
// map values (found with bpf_map_lookup_elem, checked against NULL, or
// addressed directly as global data), atomic adds, conditional and
// unconditional branches of all distances (a few instructions up to the
// 16-bit limit), bounded loops, early exits, helper calls, bpf2bpf calls
// and tail calls from the main function (direct ones into a filled and an
// empty prog array slot, and indirect ones).
//
// Programs are deterministic: the same Options give the same instructions.
// Every jump lands on the start of a "snippet", a short self-contained
// sequence that sets the scratch registers it reads, so the registers the
// verifier would track are initialised on every path: r6 holds the
// context, r0 and r7-r9 always hold scalars, r1-r5 are scratch.
package gen

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/bpfasm"
	"github.com/jitscope/jitscope/kernel"
)

// Options choose the program.
type Options struct {
	// Insns is the size of the main program in instruction slots, as the
	// kernel counts them (an ld_imm64 takes two): the generated program
	// has exactly this many. At least MinInsns.
	Insns int
	// Seed selects the program; the same seed gives the same program.
	Seed uint64
	// NoTailCalls leaves tail calls out: arm64 before 6.0 (profile v5.10)
	// refuses programs that mix tail calls and bpf2bpf calls.
	NoTailCalls bool
	// NoCalls leaves bpf-to-bpf calls out: one function.
	NoCalls bool
	// Funcs, when not zero, is the number of functions, all of about the
	// same size (by default 1 + min(24, Insns/2000), the main function
	// larger). x86 kernels without jump padding (before 5.11) need more
	// passes than they allow on large functions: many small ones keep a
	// 1M-instruction program within their 20 passes.
	Funcs int
}

// MinInsns is the smallest program Generate makes.
const MinInsns = 64

// Names of what a generated set contains.
const (
	MainProg  = "gen"      // the generated program
	TailProg  = "gen_tail" // the program the prog array's filled slots hold
	ProgArray = "jmp_table"
	ValueMap  = "values" // array map looked up with bpf_map_lookup_elem
	DataMap   = ".data"  // global data, addressed with map-value ld_imm64
	valueSize = 64
	dataSize  = 256
)

// Set returns the generated programs as a kernel.Set: MainProg, and the
// small TailProg that tail calls enter.
func Set(opt Options) (*kernel.Set, error) {
	if opt.Insns < MinInsns {
		return nil, fmt.Errorf("gen: %d instructions: at least %d", opt.Insns, MinInsns)
	}
	if opt.Insns > 1<<24 {
		return nil, fmt.Errorf("gen: %d instructions: at most %d", opt.Insns, 1<<24)
	}
	if opt.Funcs < 0 || opt.Funcs > opt.Insns/MinInsns {
		return nil, fmt.Errorf("gen: %d functions for %d instructions: between 1 and %d (%d instructions each at least)", opt.Funcs, opt.Insns, opt.Insns/MinInsns, MinInsns)
	}
	if opt.Funcs > 1 && opt.NoCalls {
		return nil, fmt.Errorf("gen: %d functions without bpf-to-bpf calls: a program without calls has one function", opt.Funcs)
	}
	g := &generator{opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, 0x6a697473636f7065))}
	main := g.program()
	set := &kernel.Set{
		Name:        Name(opt),
		Description: description(opt),
		Programs: []*kernel.Program{
			{Name: MainProg, Type: "sched_cls", Insns: main},
			{Name: TailProg, Type: "sched_cls", Insns: tailTarget()},
		},
		Maps: []*kernel.Map{
			{Name: ProgArray, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 4,
				Progs: map[uint32]string{0: TailProg, 2: TailProg}},
			{Name: ValueMap, Type: "array", KeySize: 4, ValueSize: valueSize, MaxEntries: 256},
			{Name: DataMap, Type: "array", KeySize: 4, ValueSize: dataSize, MaxEntries: 1},
		},
	}
	if opt.NoTailCalls {
		set.Programs = set.Programs[:1]
		set.Maps = set.Maps[1:]
	}
	return set, nil
}

// Name is the scenario name of the program opt describes.
func Name(opt Options) string {
	s := fmt.Sprintf("gen-%d-seed%d", opt.Insns, opt.Seed)
	if opt.NoTailCalls {
		s += "-notail"
	}
	if opt.NoCalls {
		s += "-nocalls"
	}
	if opt.Funcs > 0 {
		s += fmt.Sprintf("-funcs%d", opt.Funcs)
	}
	return s
}

func description(opt Options) string {
	return fmt.Sprintf("A generated program of %d BPF instructions (jitscope gen, seed %d).", opt.Insns, opt.Seed)
}

// Scenario returns the generated set as a scenario file (.scn).
func Scenario(opt Options) ([]byte, error) {
	set, err := Set(opt)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# SPDX-License-Identifier: GPL-2.0-only\n#\n# Generated by `jitscope gen --insns %d --seed %d", opt.Insns, opt.Seed)
	if opt.NoTailCalls {
		b.WriteString(" --no-tail-calls")
	}
	if opt.NoCalls {
		b.WriteString(" --no-calls")
	}
	if opt.Funcs > 0 {
		fmt.Fprintf(&b, " --funcs %d", opt.Funcs)
	}
	b.WriteString("`.\n\n")
	fmt.Fprintf(&b, "name = %q\nentry = %q\ndescription = \"\"\"\n%s\n\nMixes ALU work, stack, context and map value accesses, branches of all distances,\nbounded loops, helper calls, bpf2bpf calls and tail calls.\n\"\"\"\n", set.Name, MainProg, set.Description)
	for _, p := range set.Programs {
		fmt.Fprintf(&b, "\n[[program]]\nname = %q\ntype = %q\nasm = \"\"\"\n", p.Name, p.Type)
		b.WriteString(bpfasm.FormatProgram(p.Insns))
		b.WriteString("\"\"\"\n")
	}
	for _, m := range set.Maps {
		fmt.Fprintf(&b, "\n[[map]]\nname = %q\ntype = %q\nkey_size = %d\nvalue_size = %d\nmax_entries = %d\n", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries)
		if len(m.Progs) > 0 {
			keys := make([]int, 0, len(m.Progs))
			for k := range m.Progs {
				keys = append(keys, int(k))
			}
			sort.Ints(keys)
			var es []string
			for _, k := range keys {
				es = append(es, fmt.Sprintf("%q = %q", fmt.Sprint(k), m.Progs[uint32(k)]))
			}
			fmt.Fprintf(&b, "entries = { %s }\n", strings.Join(es, ", "))
		}
	}
	return []byte(b.String()), nil
}

// tailTarget is the program in the prog array: it reads the context and
// returns.
func tailTarget() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1).WithSymbol(TailProg),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word),
		asm.Mov.Imm(asm.R0, 0),
		jumpImm(asm.JGT, asm.R2, 1500, 1),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
	}
}

type generator struct {
	opt Options
	rnd *rand.Rand
}

// tailSites is about how many tail calls the main function makes.
func (g *generator) tailSites() int { return min(32, 4+g.opt.Insns/40000) }

// fn is one function being generated.
type fn struct {
	name  string
	level int
	size  int // slots
	stack int // bytes of stack it uses (multiple of 8, at least 16)
	// callees are the functions it may call; mustCall those it must call
	// at least once, so that every function is reachable (a function is
	// only a function if some call targets it).
	callees, mustCall []int
}

// program generates the main program and its functions.
func (g *generator) program() asm.Instructions {
	n := g.opt.Insns
	nf := 1
	if !g.opt.NoCalls {
		// Real programs have a few tens of functions at most (and the
		// listing draws every call and return as a long arrow).
		nf = max(1, min(1+min(24, max(3, n/2000)), n/64))
		if g.opt.Funcs > 0 {
			nf = g.opt.Funcs
		}
	}
	// Sizes: the main function takes a larger share, so that its long
	// branches reach far; the others vary between half and one and a half
	// times the average. Every function has at least 32 slots.
	weights := make([]float64, nf)
	total := 0.0
	for i := range weights {
		weights[i] = 0.5 + g.rnd.Float64()
		if i == 0 && g.opt.Funcs == 0 {
			weights[i] = float64(max(2, nf/8))
		}
		total += weights[i]
	}
	fns := make([]*fn, nf)
	left := n
	for i := range fns {
		size := int(float64(n) * weights[i] / total)
		if i == nf-1 {
			size = left
		}
		size = max(size, 32)
		left -= size
		fns[i] = &fn{name: MainProg, size: size, stack: 8 * (2 + g.rnd.IntN(7))}
		if i > 0 {
			fns[i].name = fmt.Sprintf("fn_%d", i)
			// Levels 1, 2, 3 in thirds: level k calls level k+1 only.
			// Names follow the order in the program (below).
			fns[i].level = 1 + 3*(i-1)/(nf-1)
		}
	}
	// The rounding above may leave the total off by a few slots: the last
	// function absorbs it (it keeps at least 32).
	sum := 0
	for _, f := range fns {
		sum += f.size
	}
	if d := n - sum; d != 0 {
		if fns[nf-1].size+d >= 32 {
			fns[nf-1].size += d
		} else {
			fns[0].size += d
		}
	}
	// A call tree: each function of level k+1 has a parent of level k,
	// which calls it at least once (and now and then again). Functions
	// follow their parent in the program (depth first), as a compiler
	// keeps a file's functions together, so calls and returns stay near.
	children := make([][]int, nf)
	for j := 1; j < nf; j++ {
		var parents []int
		for i, f := range fns {
			if f.level == fns[j].level-1 {
				parents = append(parents, i)
			}
		}
		c := parents[g.rnd.IntN(len(parents))]
		children[c] = append(children[c], j)
	}
	var order []int
	var walk func(int)
	walk = func(i int) {
		order = append(order, i)
		for _, j := range children[i] {
			walk(j)
		}
	}
	walk(0)
	for k, i := range order {
		if k > 0 {
			fns[i].name = fmt.Sprintf("fn_%d", k)
		}
		fns[i].callees = children[i]
		fns[i].mustCall = children[i]
	}
	var out asm.Instructions
	for _, i := range order {
		out = append(out, g.function(fns[i], fns)...)
	}
	return out
}

// body accumulates one function's instructions with their slot positions
// and the jumps to resolve once the function is complete.
type body struct {
	insns  asm.Instructions
	slot   int   // slots so far
	bounds []int // slot positions where a snippet starts: the jump targets
	jumps  []pendingJump
}

type pendingJump struct {
	at   int // index into insns
	slot int // its slot
	dist int // wanted distance in slots past the jump
}

func (b *body) add(ins ...asm.Instruction) {
	for _, in := range ins {
		b.insns = append(b.insns, in)
		b.slot += int(in.Size() / asm.InstructionSize)
	}
}

// boundary marks the current position as a snippet start.
func (b *body) boundary() { b.bounds = append(b.bounds, b.slot) }

// jump adds a forward jump whose target is the first snippet start at
// least dist slots past it.
func (b *body) jump(ins asm.Instruction, dist int) {
	b.jumps = append(b.jumps, pendingJump{at: len(b.insns), slot: b.slot, dist: dist})
	b.add(ins)
}

var (
	persistent = []asm.Register{asm.R0, asm.R7, asm.R8, asm.R9} // always scalars
	scratch    = []asm.Register{asm.R1, asm.R2, asm.R3, asm.R4} // r5 counts loops
	aluOps     = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Mod, asm.Or, asm.And, asm.Xor, asm.LSh, asm.RSh, asm.ArSh, asm.Mov}
	jumpOps    = []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE, asm.JSet}
	ctxOffsets = []int16{0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48} // struct __sk_buff: len, pkt_type, mark, queue_mapping, protocol...
	helpers    = []asm.BuiltinFunc{asm.FnKtimeGetNs, asm.FnGetPrandomU32, asm.FnGetSmpProcessorId, asm.FnGetCurrentPidTgid, asm.FnGetCurrentTask}
	sizes      = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}
)

func (g *generator) pick(rs []asm.Register) asm.Register { return rs[g.rnd.IntN(len(rs))] }

// imm returns an immediate of a random width: zero, imm8, imm16, imm32,
// negative.
func (g *generator) imm() int32 {
	switch g.rnd.IntN(6) {
	case 0:
		return 0
	case 1, 2:
		return int32(g.rnd.IntN(128))
	case 3:
		return int32(g.rnd.IntN(1 << 16))
	case 4:
		return int32(g.rnd.Uint32())
	default:
		return -int32(1 + g.rnd.IntN(1000))
	}
}

// function generates f: a prologue that sets every register and stack
// slot it will read, snippets up to its size, and an epilogue.
func (g *generator) function(f *fn, fns []*fn) asm.Instructions {
	b := &body{}
	first := asm.Mov.Reg(asm.R6, asm.R1).WithSymbol(f.name)
	b.add(first)
	b.add(asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R7, g.imm()), asm.Mov.Imm(asm.R8, g.imm()), asm.Mov.Imm32(asm.R9, g.imm()))
	for off := 8; off <= f.stack; off += 8 {
		b.add(storeImm(int16(-off), 0, asm.DWord))
	}
	must := append([]int(nil), f.mustCall...)
	const epilogue = 3 // r0 = r7; r0 &= 0xff... ; exit
	for {
		left := f.size - b.slot - epilogue
		if left <= 0 {
			break
		}
		// Calls the function still owes, spread over its body.
		if len(must) > 0 && left >= 4 && (left <= 80*len(must) || g.rnd.IntN(max(1, left/(40*len(must)))) == 0) {
			b.boundary()
			g.callSnippet(b, fns[must[0]].name)
			must = must[1:]
			continue
		}
		if left < 64 {
			// The tail: single-slot ALU work, exactly up to the size.
			b.boundary()
			r := g.pick(persistent[1:])
			b.add(aluOps[g.rnd.IntN(3)].Imm(r, int32(1+g.rnd.IntN(100))))
			continue
		}
		b.boundary()
		g.snippet(b, f, fns, left)
	}
	b.boundary()
	b.add(asm.Mov.Reg(asm.R0, asm.R7), asm.And.Imm(asm.R0, 1), asm.Return())
	if b.slot != f.size {
		panic(fmt.Sprintf("gen: function %s: %d slots, want %d", f.name, b.slot, f.size))
	}
	// Resolve the forward jumps to snippet starts.
	for _, j := range b.jumps {
		want := j.slot + 1 + j.dist
		k := sort.SearchInts(b.bounds, want)
		if k == len(b.bounds) {
			k = len(b.bounds) - 1 // the epilogue
		}
		for k > 0 && b.bounds[k]-j.slot-1 > 32767 {
			k--
		}
		t := b.bounds[k]
		if t <= j.slot {
			panic("gen: no jump target")
		}
		b.insns[j.at].Offset = int16(t - j.slot - 1)
	}
	return b.insns
}

// snippet adds one self-contained sequence. left is how many slots remain
// before the epilogue (at least 64, more than any snippet takes).
func (g *generator) snippet(b *body, f *fn, fns []*fn, left int) {
	switch k := g.rnd.IntN(100); {
	case k < 30:
		g.aluSnippet(b)
	case k < 45:
		g.stackSnippet(b, f)
	case k < 50:
		g.ctxSnippet(b)
	case k < 66:
		g.branchSnippet(b, left)
	case k < 70:
		g.loopSnippet(b, f)
	case k < 75:
		g.lookupSnippet(b, f)
	case k < 78:
		g.globalSnippet(b)
	case k < 81:
		g.wideSnippet(b)
	case k < 86:
		b.add(helpers[g.rnd.IntN(len(helpers))].Call(), asm.Xor.Reg(g.pick(persistent[1:]), asm.R0))
	case k < 89:
		// Each function is called from a few sites: the calls it must
		// make, and now and then another.
		if len(f.callees) > 0 && g.rnd.IntN(max(1, f.size/300)) == 0 {
			g.callSnippet(b, fns[f.callees[g.rnd.IntN(len(f.callees))]].name)
		} else {
			g.aluSnippet(b)
		}
	case k < 91:
		// Tail calls from the main function only, a few tens at most.
		if !g.opt.NoTailCalls && f.level == 0 && g.rnd.IntN(max(1, f.size/(250*g.tailSites()))) == 0 {
			g.tailCallSnippet(b)
		} else {
			g.aluSnippet(b)
		}
	case k < 92:
		// An early return.
		r := g.pick(persistent[1:])
		b.add(jumpImm(asm.JNE, r, int32(g.rnd.IntN(64)), 2), asm.Mov.Imm(asm.R0, 2), asm.Return())
	default:
		g.atomicSnippet(b, f)
	}
}

// aluSnippet: 64- and 32-bit arithmetic on the persistent registers, with
// immediates or through a scratch register.
func (g *generator) aluSnippet(b *body) {
	for n := 1 + g.rnd.IntN(4); n > 0; n-- {
		dst := g.pick(persistent[1:])
		if g.rnd.IntN(4) == 0 {
			dst = asm.R0
		}
		op := aluOps[g.rnd.IntN(len(aluOps))]
		alu32 := g.rnd.IntN(4) == 0
		switch g.rnd.IntN(8) {
		case 0:
			// Through a scratch register.
			s := g.pick(scratch)
			b.add(asm.Mov.Reg(s, g.pick(persistent)), asm.Add.Imm(s, g.imm()))
			if alu32 {
				b.add(op.Reg32(dst, s))
			} else {
				b.add(op.Reg(dst, s))
			}
		case 1:
			src := g.pick(persistent)
			if alu32 {
				b.add(op.Reg32(dst, src))
			} else {
				b.add(op.Reg(dst, src))
			}
		case 2:
			if g.rnd.IntN(2) == 0 {
				b.add(asm.Neg.Imm(dst, 0))
			} else {
				sz := []int64{16, 32, 64}[g.rnd.IntN(3)]
				e := asm.HostTo(asm.BE, dst, asm.Word)
				if g.rnd.IntN(2) == 0 {
					e = asm.HostTo(asm.LE, dst, asm.Word)
				}
				e.Constant = sz
				b.add(e)
			}
		default:
			v := g.imm()
			switch op {
			case asm.LSh, asm.RSh, asm.ArSh:
				v = int32(g.rnd.IntN(32))
			case asm.Div, asm.Mod:
				if v == 0 {
					v = 7
				}
			}
			if alu32 {
				b.add(op.Imm32(dst, v))
			} else {
				b.add(op.Imm(dst, v))
			}
		}
	}
}

// stackSnippet: loads and stores of every size on the function's stack.
func (g *generator) stackSnippet(b *body, f *fn) {
	for n := 1 + g.rnd.IntN(3); n > 0; n-- {
		size := sizes[g.rnd.IntN(len(sizes))]
		w := int16(size.Sizeof())
		off := -int16(8 * (1 + g.rnd.IntN(f.stack/8)))
		off += w * int16(g.rnd.IntN(int(8/w)))
		switch g.rnd.IntN(3) {
		case 0:
			b.add(asm.StoreMem(asm.R10, off, g.pick(persistent), size))
		case 1:
			b.add(storeImm(off, int64(g.rnd.IntN(256)), size))
		default:
			dst := g.pick(persistent)
			b.add(asm.LoadMem(dst, asm.R10, off, size))
		}
	}
}

// ctxSnippet reads fields of the context (struct __sk_buff).
func (g *generator) ctxSnippet(b *body) {
	s := g.pick(scratch)
	b.add(asm.LoadMem(s, asm.R6, ctxOffsets[g.rnd.IntN(len(ctxOffsets))], asm.Word), asm.Add.Reg(g.pick(persistent[1:]), s))
}

// branchSnippet: a conditional (or now and then unconditional) forward
// jump of a short, medium or long distance.
func (g *generator) branchSnippet(b *body, left int) {
	// Compiled code branches mostly a few instructions ahead; one branch
	// in a few hundred crosses thousands of instructions (and then
	// gets a lane of its own in the listing's arrows).
	var dist int
	switch k := g.rnd.IntN(1000); {
	case k < 720:
		dist = g.rnd.IntN(12)
	case k < 970:
		dist = 12 + g.rnd.IntN(200)
	case k < 996:
		dist = 200 + g.rnd.IntN(3000)
	default:
		dist = 3000 + g.rnd.IntN(3000)
		if g.rnd.IntN(4) == 0 {
			dist = 6000 + g.rnd.IntN(26700)
		}
	}
	dist = min(dist, left)
	op := jumpOps[g.rnd.IntN(len(jumpOps))]
	dst := g.pick(persistent)
	var j asm.Instruction
	switch g.rnd.IntN(6) {
	case 0:
		j = asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)}
	case 1:
		j = asm.Instruction{OpCode: op.Op(asm.RegSource), Dst: dst, Src: g.pick(persistent)}
	case 2:
		j = asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(op).SetSource(asm.ImmSource), Dst: dst, Constant: int64(g.imm())}
	case 3:
		j = asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(op).SetSource(asm.RegSource), Dst: dst, Src: g.pick(persistent)}
	default:
		j = asm.Instruction{OpCode: op.Op(asm.ImmSource), Dst: dst, Constant: int64(g.imm())}
	}
	b.jump(j, dist)
}

// loopSnippet: a bounded loop counting down r5 over straight-line work.
func (g *generator) loopSnippet(b *body, f *fn) {
	b.add(asm.Mov.Imm(asm.R5, int32(2+g.rnd.IntN(14))))
	start := b.slot
	for n := 1 + g.rnd.IntN(4); n > 0; n-- {
		if g.rnd.IntN(3) == 0 {
			g.stackSnippet(b, f)
		} else {
			g.aluSnippet(b)
		}
	}
	b.add(asm.Sub.Imm(asm.R5, 1))
	back := start - b.slot - 1
	b.add(jumpImm(asm.JNE, asm.R5, 0, int16(back)))
}

// lookupSnippet: bpf_map_lookup_elem on the array map with a key on the
// stack, a NULL check, and accesses to the value.
func (g *generator) lookupSnippet(b *body, f *fn) {
	b.add(
		asm.Mov.Reg(asm.R2, g.pick(persistent)),
		asm.And.Imm(asm.R2, 0xff),
		asm.StoreMem(asm.R10, -8, asm.R2, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference(ValueMap),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
	)
	skip := len(b.insns)
	b.add(jumpImm(asm.JEq, asm.R0, 0, 0))
	from := b.slot
	for n := 1 + g.rnd.IntN(3); n > 0; n-- {
		size := sizes[g.rnd.IntN(len(sizes))]
		off := int16(size.Sizeof() * g.rnd.IntN(valueSize/size.Sizeof()))
		s := g.pick(scratch)
		if g.rnd.IntN(2) == 0 {
			b.add(asm.LoadMem(s, asm.R0, off, size), asm.Add.Reg(g.pick(persistent[1:]), s))
		} else {
			b.add(asm.Mov.Reg(s, g.pick(persistent[1:])), asm.StoreMem(asm.R0, off, s, size))
		}
	}
	if g.rnd.IntN(2) == 0 {
		b.add(asm.Mov.Reg(asm.R1, g.pick(persistent[1:])), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	}
	b.insns[skip].Offset = int16(b.slot - from)
	_ = f
	b.add(asm.Mov.Imm(asm.R0, 0))
}

// globalSnippet: global data through a map-value ld_imm64.
func (g *generator) globalSnippet(b *body) {
	off := uint32(8 * g.rnd.IntN(dataSize/8))
	s := g.pick(scratch[1:])
	b.add(asm.LoadMapValue(asm.R1, 0, off).WithReference(DataMap), asm.LoadMem(s, asm.R1, 0, asm.DWord), asm.Add.Reg(g.pick(persistent[1:]), s))
	if g.rnd.IntN(2) == 0 {
		b.add(asm.StoreMem(asm.R1, 0, g.pick(persistent[1:]), asm.DWord))
	}
}

// wideSnippet: a 64-bit constant (ld_imm64).
func (g *generator) wideSnippet(b *body) {
	s := g.pick(scratch)
	v := int64(g.rnd.Uint64())
	if g.rnd.IntN(3) == 0 {
		v = int64(g.rnd.Uint32()) // fits 32 bits: the JITs shorten it
	}
	b.add(asm.LoadImm(s, v, asm.DWord), asm.Xor.Reg(g.pick(persistent[1:]), s))
}

// callSnippet: a bpf-to-bpf call with the context and a scalar.
func (g *generator) callSnippet(b *body, callee string) {
	b.add(asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Reg(asm.R2, g.pick(persistent)), asm.Call.Label(callee), asm.Add.Reg(g.pick(persistent[1:]), asm.R0))
}

// tailCallSnippet: a direct tail call into slot 0 (filled) or 1 (empty),
// or an indirect one with the index in a register.
func (g *generator) tailCallSnippet(b *body) {
	b.add(asm.Mov.Reg(asm.R1, asm.R6), asm.LoadMapPtr(asm.R2, 0).WithReference(ProgArray))
	switch g.rnd.IntN(3) {
	case 0:
		b.add(asm.Mov.Imm(asm.R3, 0))
	case 1:
		b.add(asm.Mov.Imm(asm.R3, 1))
	default:
		b.add(asm.Mov.Reg(asm.R3, g.pick(persistent[1:])), asm.And.Imm(asm.R3, 3))
	}
	b.add(asm.FnTailCall.Call())
}

// atomicSnippet: an atomic add to a stack slot (BPF_XADD, which every
// modelled kernel has).
func (g *generator) atomicSnippet(b *body, f *fn) {
	off := -int16(8 * (1 + g.rnd.IntN(f.stack/8)))
	size := asm.DWord
	if g.rnd.IntN(3) == 0 {
		size = asm.Word
		off += 4 * int16(g.rnd.IntN(2))
	}
	x := asm.StoreXAdd(asm.R10, g.pick(persistent), size)
	x.Offset = off
	b.add(x)
}

// jumpImm is "if dst OP imm goto +off".
func jumpImm(op asm.JumpOp, dst asm.Register, imm int32, off int16) asm.Instruction {
	return asm.Instruction{OpCode: op.Op(asm.ImmSource), Dst: dst, Constant: int64(imm), Offset: off}
}

// storeImm is "*(size *)(r10 + off) = v" (cilium/ebpf's StoreImm refuses
// u64, which the kernel accepts: v is sign-extended).
func storeImm(off int16, v int64, size asm.Size) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: asm.R10, Offset: off, Constant: v}
}
