// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"github.com/jitscope/jitscope/internal/par"
	"slices"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

type backend struct{}

func init() { jit.Register(backend{}) }

func (backend) Arch() kernel.Arch        { return kernel.X86_64 }
func (backend) Profiles() []*jit.Profile { return profiles }

// Pass limits of bpf_int_jit_compile (6.1+: MAX_PASSES, PADDING_PASSES;
// 5.10: "pass < 20").
const (
	maxPasses     = 20
	paddingPasses = maxPasses - 5
	// bpfMaxInsnSize is BPF_MAX_INSN_SIZE: no BPF instruction may need more.
	bpfMaxInsnSize = 128
	// x86PatchSize is X86_PATCH_SIZE, the size of a poke site.
	x86PatchSize = 5
)

// TailCallOffset is the kernel's X86_TAIL_CALL_OFFSET for profile p with
// configuration cfg: the bytes of the callee's prologue a tail call skips.
func TailCallOffset(p *jit.Profile, cfg Config) int {
	v := versions[p.Name]
	if v == nil {
		return -1
	}
	return tailCallOffset(v, cfg)
}

func tailCallOffset(v *version, cfg Config) int {
	if cfg.IBT {
		return v.tailCallBase + len(endbr64) // + ENDBR_INSN_SIZE
	}
	return v.tailCallBase
}

// privStackTypes are the program types 6.13+ may give a private stack
// (bpf_enable_priv_stack: PRIV_STACK_ADAPTIVE without trampolines).
var privStackTypes = map[string]bool{"kprobe": true, "tracepoint": true, "perf_event": true, "raw_tracepoint": true}

// Compile JITs every function of l as bpf_int_jit_compile does, each at its
// final address, then applies bpf_tail_call_direct_fixup for the prog-array
// slots that are filled.
func (backend) Compile(l *kernel.Loaded, p *jit.Profile) (*jit.Image, error) {
	v, err := versionOf(p)
	if err != nil {
		return nil, err
	}
	cfg := configFor(v, l.Config)
	refuse := func(format string, args ...any) error {
		return &jit.Error{Prog: l.Name, Insn: -1, Msg: fmt.Sprintf(format, args...)}
	}
	if v.cfi && cfg.CFI {
		return nil, refuse("CONFIG_CFI_CLANG: the kCFI/FineIBT preamble (emit_cfi, cfi_bpf_hash) is not modelled")
	}
	if h := l.Config["sysctl:bpf_jit_harden"]; h == "2" {
		return nil, refuse("bpf_jit_harden=2: constant blinding rewrites the program before the JIT; not modelled")
	}
	layout := l.Layout
	if layout.ArrayMaxEntries == 0 {
		layout.ArrayMaxEntries = p.Layout.ArrayMaxEntries
	}
	if layout.ArrayPtrs == 0 {
		layout.ArrayPtrs = p.Layout.ArrayPtrs
	}
	if layout.ProgBPFFunc == 0 {
		layout.ProgBPFFunc = p.Layout.ProgBPFFunc
	}
	usesTail := l.UsesTailCalls()
	if usesTail {
		// "cmp dword ptr [rsi + 16], edx" and "mov rcx, qword ptr [rcx + 32]"
		// carry the offsets in a disp8 (EMIT3/EMIT4 of the offsetof()).
		if !isImm8(int64(layout.ArrayMaxEntries)) || !isImm8(int64(layout.ProgBPFFunc)) {
			return nil, refuse("struct layout: offsetof(struct bpf_array, map.max_entries) = %#x, offsetof(struct bpf_prog, bpf_func) = %#x; the tail call sequence encodes them in one byte",
				layout.ArrayMaxEntries, layout.ProgBPFFunc)
		}
	}
	if v.privateStack && privStackTypes[l.Type] {
		for _, f := range l.Funcs {
			if f.StackDepth >= 64 {
				return nil, &jit.Error{Prog: l.Name, Func: f.Name, Insn: -1,
					Msg: fmt.Sprintf("%s program with a %d-byte stack: 6.13+ gives it a private per-CPU stack (BPF_PRIV_STACK_MIN_SIZE 64, r9 as frame pointer); not modelled", l.Type, f.StackDepth)}
			}
		}
	}
	img := &jit.Image{Arch: kernel.X86_64, Profile: p, Program: l.Name, Type: l.Type}
	img.Funcs = make([]*jit.FuncImage, len(l.Funcs))
	err = par.ForEach(len(l.Funcs), func(i int) error {
		c := &ctx{l: l, f: l.Funcs[i], p: p, v: v, cfg: cfg, layout: layout, usesTail: usesTail}
		fi, err := c.compile()
		img.Funcs[i] = fi
		return err
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// ctx is the kernel's struct jit_context plus the state do_jit keeps on its
// stack (addrs[], callee_regs_used[]) and what jitscope records about the
// code.
type ctx struct {
	l      *kernel.Loaded
	f      *kernel.LoadedFunc
	p      *jit.Profile
	v      *version
	cfg    Config
	layout kernel.Layout

	// Resolved once per function.
	indirectThunk uint64 // address of cfg.IndirectThunk when it names a thunk
	returnThunk   uint64
	tcOffset      int // X86_TAIL_CALL_OFFSET

	// slots[s] is the index into f.Insns of the instruction at slot s of
	// the function, -1 for ld_imm64's second slot (an index, not a
	// pointer: a million pointers cost the GC and write barriers); see
	// slot.
	slots []int32
	// fixed holds the instructions whose Raw rawInsn corrects, by index.
	fixed      map[int32]*kernel.Insn
	addrs      []int  // addrs[i]: end of slot i-1's code (the kernel's addrs[])
	image      uint64 // where the image is loaded
	emitting   bool   // the kernel's image != NULL: the final pass
	padding    bool   // jmp_padding
	oldproglen int

	// struct jit_context
	cleanupAddr     int
	tcDirectLabel   int
	tcIndirectLabel int

	// The code of instructions that is the same on every pass (see
	// doJIT): the first pass's code, where each slot ended in it, and
	// whether a pass's outputs are the ones kept.
	memo    []byte
	memoEnd []int32 // memoEnd[i]: end of 1-based slot i in memo (-1 for an ld_imm64's first half)
	final   bool    // the pass whose code, notes and regions are kept
	// skip counts the bytes a sizing pass accounted for without writing
	// them (see doJIT): pos() is len(code) + skip.
	skip int
	// cls[i] classifies 1-based slot i (clsStatic...; cls[0] and
	// cls[n+1] are 0, so that runs end there).
	cls []uint8
	// jumps[i]: the jump at 1-based slot i, for sizing passes (jumpLen).
	jumps    []jumpInfo
	usesTail bool
	// sc holds the arrays above between compiles (see scratch);
	// lastItem is buildItems'.
	sc       *scratch
	lastItem []int32
	// The sizing passes' items (see itemPass): ends[k] is where item k
	// ended on the last pass (endsPrev: the one before), tailGap the
	// static bytes after the last one.
	items    []item
	ends     []int32
	endsPrev []int32
	tailGap  int
	passes   int // passes made, for the tests
	slow     int // sizing passes made the long way after itemPass gave up

	calleeRegs        [4]bool // rbx, r13, r14, r15 (detect_reg_usage)
	tailCallReachable bool
	isSubprog         bool

	code []byte
	// What the last pass records, as the set-up walk counted it.
	relocHint, noteHint int

	regions []jit.Region
	notes   []jit.Note
	relocs  []jit.Reloc
	edges   []jit.Edge
	pokes   []pokeSite
	entry   int
	err     error // a rel32 out of range on the final pass (emit_patch's -ERANGE)
}

// pokeSite is a direct tail call's pair of patch sites (struct
// bpf_jit_poke_descriptor): tailcall_bypass, the jump over the unwind, and
// tailcall_target, the nop5 that becomes "jmp target + X86_TAIL_CALL_OFFSET".
type pokeSite struct {
	bypass, target int
	in             *kernel.Insn
}

func (c *ctx) errorf(in *kernel.Insn, format string, args ...any) error {
	idx := -1
	if in != nil {
		idx = in.Index
	}
	return &jit.Error{Prog: c.l.Name, Func: c.f.Name, Insn: idx, Msg: fmt.Sprintf(format, args...)}
}

func (c *ctx) pos() int { return len(c.code) + c.skip }

// slot returns the instruction at slot s of the function, nil for the
// second half of an ld_imm64.
func (c *ctx) slot(s int) *kernel.Insn {
	i := c.slots[s]
	if i < 0 {
		return nil
	}
	if c.fixed != nil {
		if in := c.fixed[i]; in != nil {
			return in
		}
	}
	return &c.f.Insns[i]
}

// emit appends b. (Within capacity only the length changes: an append of
// a slice stores the slice's pointer back, with a write barrier while the
// GC runs, on every call.)
func (c *ctx) emit(b ...byte) {
	n := len(c.code)
	if n+len(b) > cap(c.code) {
		c.grow(len(b))
	}
	c.code = c.code[:n+len(b)]
	copy(c.code[n:], b)
}

// emit1 to emit4 append one to four bytes: emit would build them into an
// array on the stack and copy it with loads wider than the stores that
// built it, which wait for those stores to retire.
func (c *ctx) emit1(b0 byte) {
	n := len(c.code)
	if n+1 > cap(c.code) {
		c.grow(1)
	}
	c.code = c.code[:n+1]
	c.code[n] = b0
}

func (c *ctx) emit2(b0, b1 byte) {
	n := len(c.code)
	if n+2 > cap(c.code) {
		c.grow(2)
	}
	c.code = c.code[:n+2]
	code := c.code[n : n+2]
	code[0], code[1] = b0, b1
}

func (c *ctx) emit3(b0, b1, b2 byte) {
	n := len(c.code)
	if n+3 > cap(c.code) {
		c.grow(3)
	}
	c.code = c.code[:n+3]
	code := c.code[n : n+3]
	code[0], code[1], code[2] = b0, b1, b2
}

func (c *ctx) emit4(b0, b1, b2, b3 byte) {
	n := len(c.code)
	if n+4 > cap(c.code) {
		c.grow(4)
	}
	c.code = c.code[:n+4]
	code := c.code[n : n+4]
	code[0], code[1], code[2], code[3] = b0, b1, b2, b3
}

// grow makes room for n more bytes of code.
func (c *ctx) grow(n int) {
	c.code = append(c.code[:len(c.code):len(c.code)], make([]byte, n)...)[:len(c.code)]
}

// emit32 appends a little-endian 32-bit value (EMIT(off, 4)).
func (c *ctx) emit32(v int32) {
	n := len(c.code)
	if n+4 > cap(c.code) {
		c.grow(4)
	}
	c.code = c.code[:n+4]
	binary.LittleEndian.PutUint32(c.code[n:], uint32(v))
}

func (c *ctx) region(start int, kind jit.RegionKind) {
	if c.emitting && c.pos() > start {
		c.addRegion(start, c.pos(), kind)
	}
}

// addRegion records bytes [start, end) as kind (jit.AppendRegion: body
// code that continues the body extends its region).
func (c *ctx) addRegion(start, end int, kind jit.RegionKind) {
	c.regions = jit.AppendRegion(c.regions, jit.Region{Start: start, End: end, Kind: kind})
}

func (c *ctx) note(at int, format string, args ...any) {
	if c.emitting {
		c.noteText(at, jit.NoteText(format, args...))
	}
}

// noteText is note with the text as it is.
func (c *ctx) noteText(at int, text string) {
	if c.emitting {
		c.notes = append(c.notes, jit.Note{Offset: at, Text: text})
	}
}

func (c *ctx) reloc(r jit.Reloc) {
	if c.emitting {
		c.relocs = append(c.relocs, r)
	}
}

// addr is the address of byte offset off of the image.
func (c *ctx) addr(off int) uint64 { return c.image + uint64(off) }

// compile models bpf_int_jit_compile for one function: addrs[] starts at a
// rough 64 bytes per instruction, do_jit runs until the image stops
// changing size (with jump padding after PADDING_PASSES), then once more to
// emit; subprograms get the extra pass jit_subprogs asks for once every
// function has an address.
func (c *ctx) compile() (*jit.FuncImage, error) {
	l, f := c.l, c.f
	c.takeScratch()
	defer c.releaseScratch()
	n := 0
	if len(f.Insns) > 0 {
		last := f.Insns[len(f.Insns)-1]
		n = last.Index - f.Insns[0].Index + 1
		if last.Raw.Code == kernel.CodeLdImm64 {
			n++
		}
	}
	c.slots = slices.Grow(c.sc.slots[:0], n)[:n]
	for i := range c.slots {
		c.slots[i] = -1
	}
	c.cls = slices.Grow(c.sc.cls[:0], n+2)[:n+2]
	clear(c.cls)
	c.tailCallReachable = f.TailCallReachable
	// One walk over the instructions (they are large: each walk costs):
	// the slots, detect_reg_usage, and what planMemo needs.
	// The walk reads the compact instructions (kernel.CompactInsn), and
	// the full one only where rawInsn may correct it.
	// Branches that depend on the instruction cost a misprediction in
	// two with generated code: detect_reg_usage is a mask and classify a
	// table.
	var used uint8
	cs := f.CompactInsns()
	base := 0
	if len(f.Insns) > 0 {
		base = f.Insns[0].Index
	}
	for i := range cs {
		ci := &cs[i]
		if ci.OffDiffers {
			in := &f.Insns[i]
			if r := rawInsn(in); r != in.Raw {
				fixed := *in
				fixed.Raw = r
				if c.fixed == nil {
					c.fixed = map[int32]*kernel.Insn{}
				}
				c.fixed[int32(i)] = &fixed
				fci := kernel.CompactOf(&fixed)
				ci = &fci
			}
		}
		s := int(ci.Index) - base
		c.slots[s] = int32(i)
		used |= calleeRegBits[ci.Dst] | calleeRegBits[ci.Src]
		if ci.Kind == kernel.TailCall {
			// detect_reg_usage (5.10, 6.1): "tail call's presence in
			// current prog implies it is reachable"
			c.tailCallReachable = true
		}
		c.cls[s+1] = classify(ci)
		switch {
		case ci.Kind == kernel.HelperCall || ci.Kind == kernel.FuncCall:
			c.relocHint++
			c.noteHint++
		case ci.Code == kernel.CodeLdImm64:
			c.relocHint++
		case ci.Code == kernel.ClassJMP|kernel.JmpEXIT:
			c.noteHint++
		}
	}
	c.relocHint += 16
	c.noteHint += 64
	for k := range c.calleeRegs {
		c.calleeRegs[k] = used&(1<<k) != 0
	}
	c.image = f.Address
	c.isSubprog = f.Index != 0
	c.tcOffset = tailCallOffset(c.v, c.cfg)
	if err := c.resolveThunks(); err != nil {
		return nil, err
	}

	c.addrs = slices.Grow(c.sc.addrs[:0], n+1)[:n+1]
	proglen := 0
	for i := range c.addrs {
		proglen += 64
		c.addrs[i] = proglen
	}
	c.cleanupAddr = proglen
	c.planMemo()
	// JITed x86 averages under 5 bytes a slot. The buffer is the image's
	// own unless memo takes it (see releaseScratch).
	c.code, c.sc.code = slices.Grow(c.sc.code[:0], 6*n+512), nil
	for pass := 0; pass < maxPasses || c.emitting; pass++ {
		if c.v.padding && !c.padding && pass >= paddingPasses {
			c.padding = true
		}
		// The emitting pass is the last one, unless jit_subprogs' extra
		// pass follows.
		c.final = c.emitting && len(l.Funcs) == 1
		n, err := c.pass()
		if err != nil {
			return nil, err
		}
		if c.emitting {
			if n != c.oldproglen {
				return nil, c.errorf(nil, "bpf_jit: proglen=%d != oldproglen=%d", n, c.oldproglen)
			}
			break
		}
		if n == c.oldproglen {
			c.emitting = true
		}
		c.oldproglen = n
	}
	if !c.emitting {
		return nil, c.errorf(nil, "the image did not converge in %d passes (the kernel falls back to the interpreter, or fails with CONFIG_BPF_JIT_ALWAYS_ON)", maxPasses)
	}
	if len(l.Funcs) > 1 {
		// jit_subprogs: the extra pass, with jit_data kept and padding on,
		// now that every function's address is known.
		if c.v.padding {
			c.padding = true
		}
		c.final = true
		n, err := c.pass()
		if err != nil {
			return nil, err
		}
		if n != c.oldproglen {
			return nil, c.errorf(nil, "bpf_jit: proglen=%d != oldproglen=%d", n, c.oldproglen)
		}
	}
	c.fixupTailCalls()
	// In code order (they are, but for what a sequence records out of
	// order, such as the tail call's pokes).
	sortStable(c.relocs, func(a, b jit.Reloc) int { return cmp.Compare(a.Offset, b.Offset) })
	sortStable(c.notes, func(a, b jit.Note) int { return cmp.Compare(a.Offset, b.Offset) })
	sortStable(c.edges, func(a, b jit.Edge) int { return cmp.Compare(a.From, b.From) })

	fi := &jit.FuncImage{
		Name:          f.Name,
		Ksym:          f.Ksym,
		Prototype:     f.Prototype,
		Index:         f.Index,
		Address:       f.Address,
		Code:          c.code,
		Insns:         f.Insns,
		Lines:         f.Lines,
		FirstInsn:     f.Start,
		Regions:       c.regions,
		Relocs:        c.relocs,
		Notes:         c.notes,
		Edges:         c.edges,
		TailCallEntry: c.entry,
	}
	fi.BPFOffsets = make([]int, len(f.Insns)+1)
	for i := range cs {
		fi.BPFOffsets[i] = c.addrs[int(cs[i].Index)-base]
	}
	fi.BPFOffsets[len(f.Insns)] = len(c.code)
	// The poke descriptors, in the model's terms (kernel.PokeSite).
	for _, pk := range Pokes(fi) {
		jp := jit.Poke{Target: pk.Target, Bypass: pk.Bypass, AdjOff: c.tcOffset}
		if i := fi.BPFAt(pk.Bypass); i >= 0 {
			jp.Map, jp.Key = f.Insns[i].Map, f.Insns[i].Key
		}
		fi.Pokes = append(fi.Pokes, jp)
	}
	return fi, nil
}

// rawInsn returns the instruction as the kernel has it. kernel.RawOf
// re-encodes with cilium/ebpf, whose Marshal zeroes the off of ALU
// instructions other than sdiv/smod/movsx: the verifier's per-CPU address
// mov (off = BPF_ADDR_PERCPU) and the arena cast (off =
// BPF_ADDR_SPACE_CAST) would lose it. The decoded Instruction keeps it.
func rawInsn(in *kernel.Insn) kernel.BPFInsn {
	r := in.Raw
	if c := r.Class(); (c == kernel.ClassALU || c == kernel.ClassALU64) && r.Off == 0 && in.Instruction.Offset != 0 {
		r.Off = in.Instruction.Offset
	}
	return r
}

// resolveThunks finds the addresses of the thunks the configuration jumps
// to.
func (c *ctx) resolveThunks() error {
	need := func(name, what string) (uint64, error) {
		a, ok := symbolAddr(c.l, c.v, name)
		if !ok {
			return 0, c.errorf(nil, "%s %s: no address (name it in the placement's symbols)", what, name)
		}
		return a, nil
	}
	var err error
	switch c.cfg.IndirectThunk {
	case "", inlineRetpoline, lfenceJump:
	default:
		if c.usesTail {
			if c.indirectThunk, err = need(c.cfg.IndirectThunk, "indirect thunk"); err != nil {
				return err
			}
		}
	}
	if c.cfg.ReturnThunk != "" {
		if c.returnThunk, err = need(c.cfg.ReturnThunk, "return thunk"); err != nil {
			return err
		}
	}
	return nil
}

// calleeRegBits maps BPF registers to bits of the callee-saved registers
// detect_reg_usage looks for: r6..r9 (rbx, r13, r14, r15).
var calleeRegBits = [256]uint8{r6: 1, r7: 2, r8: 4, r9: 8}

// Classes of instructions (cls[]).
const (
	clsStatic  = 1 << iota // the same length on every pass (and bytes, but for calls)
	clsPlain               // and records nothing but its region
	clsLd                  // ld_imm64
	clsLdFirst             // planMemo: the first half of an ld_imm64 (static, as its second)
	clsALU                 // clsOfCode only: plain unless off != 0
	clsCall                // clsOfCode only: static if a helper, kfunc or bpf2bpf call
)

// clsOfCode classifies opcodes for classify.
var clsOfCode = func() (t [256]uint8) {
	for code := range 256 {
		r := kernel.BPFInsn{Code: uint8(code)}
		switch r.Class() {
		case kernel.ClassJMP:
			// Helper, kfunc and bpf2bpf calls: the TCC reload (or not)
			// and a call rel32, the same length on every pass, though
			// not the same bytes (the displacement follows the
			// position): sizing passes take their length, the last pass
			// emits them.
			if r.Op() == kernel.JmpCALL {
				t[code] = clsCall
			}
		case kernel.ClassALU, kernel.ClassALU64:
			// The per-CPU mov and the other off != 0 forms may note or
			// relocate: static, not plain.
			t[code] = clsStatic | clsPlain | clsALU
		case kernel.ClassLDX, kernel.ClassST, kernel.ClassSTX:
			t[code] = clsStatic | clsPlain
		case kernel.ClassLD:
			if r.Code == kernel.CodeLdImm64 {
				t[code] = clsLd
			}
		}
	}
	return t
}()

// classify returns the class of an instruction, without a branch on its
// opcode.
func classify(ci *kernel.CompactInsn) uint8 {
	k := clsOfCode[ci.Code]
	var offSet uint8
	if ci.Off != 0 {
		offSet = 1
	}
	k &^= clsPlain * (k / clsALU & 1 & offSet)
	if k&clsCall != 0 {
		if ci.Kind == kernel.HelperCall || ci.Kind == kernel.FuncCall {
			return clsStatic
		}
		return 0
	}
	return k &^ clsALU
}

// pass is one pass of do_jit: the first and the last in doJIT, the
// sizing passes between them over the items when nothing needs the long
// way.

func (c *ctx) pass() (int, error) {
	c.passes++
	if c.items != nil {
		if !c.final {
			n, ok, err := c.itemPass()
			if ok || err != nil {
				return n, err
			}
		}
		if !c.final {
			c.slow++
		}
		c.itemsToAddrs()
		n, err := c.doJIT()
		if err == nil {
			c.addrsToItems()
		}
		return n, err
	}
	n, err := c.doJIT()
	if err == nil && c.memo != nil {
		c.buildItems()
	}
	return n, err
}

// doJIT is one pass of do_jit: the prologue, then every BPF instruction,
// addrs[i] recording where slot i ends. It returns proglen.
//
// Only the last pass's code is kept; the passes before it compute
// addrs[]. The sizing passes after the first are itemPass's unless it
// gives up on one; made here, they skip the work whose outcome cannot
// change: instructions other than jumps take the length they had on the
// first pass (their encoding reads only the instruction), and conditional
// and unconditional jumps take the length the kernel's emit_cond_jmp /
// emit_jmp would choose from addrs[], without writing bytes. Anything
// unusual (an error to report) goes the long way. The last pass copies
// the first pass's code for plain instructions and ld_imm64.
func (c *ctx) doJIT() (int, error) {
	c.code = c.code[:0]
	c.skip = 0
	c.regions, c.notes, c.relocs, c.edges, c.pokes = nil, nil, nil, nil, nil
	if c.final && cap(c.code) < c.oldproglen {
		c.code = make([]byte, 0, c.oldproglen)
	}
	if c.final {
		// Room for what the walk counted (a relocation per call and
		// ld_imm64, a note per call and exit), so that appending does not
		// copy them over and over.
		c.relocs = make([]jit.Reloc, 0, c.relocHint)
		c.notes = make([]jit.Note, 0, c.noteHint)
	}
	c.entry = -1
	if err := c.prologue(); err != nil {
		return 0, err
	}
	proglen := c.pos()
	c.addrs[0] = proglen
	seenExit := false
	first := c.memo == nil
	if first {
		c.memoEnd[0] = int32(proglen)
	}
	useMemo := !first && !c.final
	for i := 1; i <= len(c.slots); i++ {
		if useMemo {
			if c.cls[i]&clsStatic != 0 {
				// Slots i..e-1 are the same bytes on every pass.
				e := i + 1
				for c.cls[e]&clsStatic != 0 {
					e++
				}
				lo, hi := int(c.memoEnd[i-1]), int(c.memoEnd[e-1])
				base := proglen - lo
				if c.emitting {
					for j := i; j < e; j++ {
						if m := int(c.memoEnd[j]); m >= 0 {
							if end := m + base; end > c.oldproglen || (c.v.labels && end != c.addrs[j]) {
								in := c.slot(j - 1)
								if in == nil {
									in = c.slot(j - 2)
								}
								return 0, c.errorf(in, "bpf_jit: fatal error (instruction moved on the final pass)")
							}
						}
					}
				}
				for j := i; j < e; j++ {
					if m := c.memoEnd[j]; m >= 0 {
						c.addrs[j] = int(m) + base
					}
				}
				c.skip += hi - lo
				proglen += hi - lo
				i = e - 1
				continue
			}
			if ilen, ok := c.jumpLen(i, proglen, seenExit); ok {
				if c.emitting && (proglen+ilen > c.oldproglen || (c.v.labels && proglen+ilen != c.addrs[i])) {
					return 0, c.errorf(c.slot(i-1), "bpf_jit: fatal error (instruction moved on the final pass)")
				}
				c.skip += ilen
				proglen += ilen
				c.addrs[i] = proglen
				continue
			}
		}
		if c.final && !first {
			if c.cls[i]&clsPlain != 0 {
				// The last pass: the bytes are the first pass's, in the
				// body, for the run of plain slots from i.
				lo := int(c.memoEnd[i-1])
				base := proglen - lo
				start := proglen
				e := i
				for ; c.cls[e]&clsPlain != 0; e++ {
					end := int(c.memoEnd[e]) + base
					if end > c.oldproglen || (c.v.labels && end != c.addrs[e]) {
						return 0, c.errorf(c.slot(e-1), "bpf_jit: fatal error (instruction moved on the final pass)")
					}
					c.addrs[e] = end
					proglen = end
				}
				if proglen > start {
					c.addRegion(start, proglen, jit.RegionBody)
				}
				c.code = append(c.code, c.memo[lo:int(c.memoEnd[e-1])]...)
				i = e - 1
				continue
			}
		}
		if c.final && !first && c.cls[i]&clsLdFirst != 0 {
			// An ld_imm64 is the same bytes on every pass (a mov of its
			// constant): copied from the first pass's code, with the
			// relocation ldImm64 records.
			lo, hi := int(c.memoEnd[i-1]), int(c.memoEnd[i+1])
			end := proglen + hi - lo
			if lo >= 0 && end <= c.oldproglen && (!c.v.labels || end == c.addrs[i+1]) {
				in := c.slot(i - 1)
				at := c.pos()
				c.code = append(c.code, c.memo[lo:hi]...)
				c.ldImm64Reloc(in, at, hi-lo == movabsLen)
				c.fillRegion(at, jit.RegionBody)
				proglen = end
				c.addrs[i+1] = proglen
				i++
				continue
			}
		}
		if c.final && !first && !noMemo {
			if ilen, ok := c.finalJump(i); ok {
				if proglen+ilen > c.oldproglen || (c.v.labels && proglen+ilen != c.addrs[i]) {
					return 0, c.errorf(c.slot(i-1), "bpf_jit: fatal error (instruction moved on the final pass)")
				}
				proglen += ilen
				c.addrs[i] = proglen
				continue
			}
		}
		in := c.slot(i - 1)
		if in == nil {
			return 0, c.errorf(nil, "slot %d: the second half of an ld_imm64 without its first", i-1)
		}
		start := c.pos()
		next, err := c.insn(in, i, &seenExit)
		if err == nil {
			err = c.err
		}
		if err != nil {
			return 0, err
		}
		i = next
		ilen := c.pos() - start
		if ilen > bpfMaxInsnSize {
			return 0, c.errorf(in, "bpf_jit: fatal insn size error (%d bytes)", ilen)
		}
		// 6.1+ also asserts that addrs[i] did not move on the final pass.
		if c.emitting && (proglen+ilen > c.oldproglen || (c.v.labels && proglen+ilen != c.addrs[i])) {
			return 0, c.errorf(in, "bpf_jit: fatal error (instruction moved on the final pass)")
		}
		proglen += ilen
		c.addrs[i] = proglen
		if first {
			c.memoEnd[i] = int32(proglen)
			if c.cls[i-1]&clsLdFirst != 0 {
				c.memoEnd[i-1] = -1 // no end of its own (see the static runs above)
			}
		}
	}
	if first && !noMemo {
		// Later passes take the static instructions' lengths from here.
		c.memo = c.code
		// Sizing passes write only what they emit the long way (the
		// prologue, tail calls); the last pass gets a buffer of the
		// image's size.
		c.code = make([]byte, 0, 4096)
	}
	return proglen, nil
}

// jumpLen is the length of the jump at 1-based slot i on a sizing pass,
// as jmp and emitJmp would emit it, or false when the instruction is not a
// plain conditional or unconditional jump or something needs reporting.
func (c *ctx) jumpLen(i, proglen int, seenExit bool) (int, bool) {
	jd := c.jumps[i]
	var off int
	switch jd.kind {
	case jumpNone:
		return 0, false
	case jumpExit:
		if !seenExit {
			return 0, false // the epilogue
		}
		off = c.cleanupAddr - c.addrs[i]
	case jumpCond:
		off = c.addrs[jd.target] - c.addrs[i]
		pre := int(jd.pre)
		switch {
		case c.isImm8Jmp(int64(off)):
			if c.padding {
				n := (c.addrs[i] - proglen - pre) - 2
				if n != 0 && n != 4 {
					return 0, false
				}
				return pre + n + 2, true
			}
			return pre + 2, true
		case isSimm32(int64(off)):
			return pre + 6, true
		}
		return 0, false
	case jumpBack2:
		off = -2
	case jumpJA:
		off = c.addrs[jd.target] - c.addrs[i]
		if off == 0 {
			if c.padding {
				n := c.addrs[i] - proglen
				if n != 0 && n != 2 && n != 5 {
					return 0, false
				}
				return n, true
			}
			return 0, true
		}
	}
	// emitJmp
	switch {
	case c.isImm8Jmp(int64(off)):
		if c.padding {
			n := (c.addrs[i] - proglen) - 2
			if n != 0 && n != 3 {
				return 0, false
			}
			return n + 2, true
		}
		return 2, true
	case isSimm32(int64(off)):
		return 5, true
	}
	return 0, false
}

// jumpInfo is what a sizing pass needs of a jump (see jumpLen), noted on
// the first pass.
type jumpInfo struct {
	kind   uint8
	pre    int8  // jumpCond: bytes of the cmp or test before the jcc
	cc     byte  // jumpCond: the jcc rel8 opcode
	target int32 // jumpCond, jumpJA: the slot whose addrs[] is the target
}

// Kinds of jumpInfo.
const (
	jumpNone  = iota // not a jump a sizing pass can size
	jumpCond         // jcc after a cmp or test
	jumpJA           // goto, gotol
	jumpBack2        // goto -1: always "jmp -2"
	jumpExit         // an exit after the first: jmp to cleanup_addr
)

// noMemo turns the memoisation of doJIT off: every pass emits every
// instruction, as the kernel does (the tests compare the two).
var noMemo = false

// planMemo finds the slots whose code cannot change from pass to pass:
// every class but the jumps (whose lengths follow addrs[], and whose calls
// and tail calls are position-dependent or record labels). Their encoding
// reads only the instruction and the function's configuration.
func (c *ctx) planMemo() {
	n := len(c.slots)
	c.memoEnd = slices.Grow(c.sc.memoEnd[:0], n+1)[:n+1]
	c.jumps = slices.Grow(c.sc.jumps[:0], n+2)[:n+2]
	clear(c.jumps) // jumpNone but where the first pass notes a jump
	for i := 1; i <= n; i++ {
		if c.cls[i]&clsLd != 0 && i < n && c.slots[i] < 0 {
			c.cls[i] |= clsStatic | clsLdFirst
			c.cls[i+1] |= clsStatic
		}
	}
}

// finalJump emits the conditional or unconditional jump at 1-based slot i
// on the last pass as jmp would, from what the first pass noted of it
// (jumps[i]): the cmp or test copied from the first pass's code (it reads
// only the instruction), then the padding and the jump for this pass's
// addrs[]. It returns the instruction's length, or false when the jump is
// not one of those or something needs reporting (jmp does that).
func (c *ctx) finalJump(i int) (int, bool) {
	jd := c.jumps[i]
	start := c.pos()
	var off int64
	switch jd.kind {
	case jumpCond:
		lo, pre := int(c.memoEnd[i-1]), int(jd.pre)
		if lo < 0 || lo+pre > len(c.memo) {
			return 0, false
		}
		off = int64(c.addrs[jd.target] - c.addrs[i])
		switch {
		case c.isImm8Jmp(off):
			n := 0
			if c.padding {
				// insnSzDiff once the cmp or test is out, less the jcc.
				n = (c.addrs[i] - c.addrs[i-1]) - pre - 2
				if n != 0 && n != 4 {
					return 0, false
				}
			}
			c.emit(c.memo[lo : lo+pre]...)
			c.emitNops(n)
			c.emit2(jd.cc, byte(off)) // jcc rel8
		case isSimm32(off):
			c.emit(c.memo[lo : lo+pre]...)
			c.emit2(0x0F, jd.cc+0x10) // jcc rel32
			c.emit32(int32(off))
		default:
			return 0, false
		}
		c.fillRegion(start, jit.RegionBody)
		return c.pos() - start, true
	case jumpJA:
		off = int64(c.addrs[jd.target] - c.addrs[i])
		if off == 0 {
			if c.padding {
				n := c.addrs[i] - c.addrs[i-1]
				if n != 0 && n != 2 && n != 5 {
					return 0, false
				}
				c.emitNops(n)
			}
			c.fillRegion(start, jit.RegionBody)
			return c.pos() - start, true
		}
	case jumpBack2:
		off = -2
	default:
		return 0, false
	}
	// emitJmp
	switch {
	case c.isImm8Jmp(off):
		if c.padding {
			n := (c.addrs[i] - c.addrs[i-1]) - 2
			if n != 0 && n != 3 {
				return 0, false
			}
			c.emitNops(n)
		}
		c.emit2(0xEB, byte(off)) // jmp rel8
	case isSimm32(off):
		c.emit1(0xE9) // jmp rel32
		c.emit32(int32(off))
	default:
		return 0, false
	}
	c.fillRegion(start, jit.RegionBody)
	return c.pos() - start, true
}

// sortStable sorts s stably by cmp unless it is sorted already.
func sortStable[T any](s []T, cmp func(a, b T) int) {
	if !slices.IsSortedFunc(s, cmp) {
		slices.SortStableFunc(s, cmp)
	}
}
