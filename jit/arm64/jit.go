package arm64

import (
	"encoding/binary"
	"fmt"
	"github.com/jitscope/jitscope/internal/par"
	"slices"
	"unsafe"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// BPF registers and JIT temporaries mapped to A64 registers: bpf2a64[] of
// arch/arm64/net/bpf_jit_comp.c (identical from v5.10 to v6.18). Index 11
// is BPF_REG_AX, which only verifier rewrites use (constant blinding, the
// 6.18 timed may_goto sequence).
var bpf2a64 = [12]Reg{
	0:  7,  // R0: return value
	1:  0,  // R1-R5: arguments
	2:  1,  //
	3:  2,  //
	4:  3,  //
	5:  4,  //
	6:  19, // R6-R9: callee saved
	7:  20, //
	8:  21, //
	9:  22, //
	10: 25, // R10: read-only frame pointer
	11: 9,  // BPF_REG_AX
}

// regAX is BPF_REG_AX (MAX_BPF_REG) in the kernel's register numbering.
const regAX = 11

const (
	tmp1 Reg = 10 // TMP_REG_1
	tmp2 Reg = 11 // TMP_REG_2
	tmp3 Reg = 12 // TMP_REG_3
	tcc  Reg = 26 // TCALL_CNT
	ax   Reg = 9  // BPF_REG_AX
	fpb  Reg = 27 // FP_BOTTOM (5.19-6.10)
	// privSP is PRIVATE_SP (6.17+): the private stack pointer, x27 again
	// since "bpf, arm64: Get rid of fpb" freed it.
	privSP Reg = 27
)

// RegNames gives the BPF name of A64 registers the JIT assigns, for
// annotations and the state pane.
var RegNames = map[Reg]string{
	7: "r0", 0: "r1", 1: "r2", 2: "r3", 3: "r4", 4: "r5",
	19: "r6", 20: "r7", 21: "r8", 22: "r9", 25: "r10 (fp)",
	10: "tmp", 11: "tmp2", 12: "tmp3", 26: "tcc", 9: "ax", 27: "fp bottom",
}

type backend struct{}

func init() { jit.Register(backend{}) }

func (backend) Arch() kernel.Arch        { return kernel.ARM64 }
func (backend) Profiles() []*jit.Profile { return profiles }

// PrologueOffset is the kernel's PROLOGUE_OFFSET for profile p: the number
// of instructions a tail call skips.
func PrologueOffset(p *jit.Profile) int {
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	switch {
	case p.TCCPtr:
		// 6.12: #define PROLOGUE_OFFSET (BTI_INSNS + 2 + PAC_INSNS + 4)
		return b2i(p.BTI) + 2 + b2i(p.PAC) + 4
	case p.PatchableEntry:
		// v6.0+: #define PROLOGUE_OFFSET (BTI_INSNS + 2 + PAC_INSNS + 8)
		return b2i(p.BTI) + 2 + b2i(p.PAC) + 8
	case p.FPBottom:
		// 5.19: 9 if CONFIG_ARM64_BTI_KERNEL || CONFIG_ARM64_PTR_AUTH_KERNEL, else 8
		if p.BTI || p.PAC {
			return 9
		}
		return 8
	default:
		// 5.10: #define PROLOGUE_OFFSET 7, plus the leading bti c
		return 7 + b2i(p.BTI)
	}
}

// Compile JITs every function of l, as bpf_int_jit_compile does for each
// subprogram after jit_subprogs, with the final addresses known.
func (backend) Compile(l *kernel.Loaded, prof *jit.Profile) (*jit.Image, error) {
	p := prof.WithConfig(l.Config)
	if !p.PatchableEntry && !p.FPBottom {
		// 5.10's JIT has no pointer authentication (added in 5.17 by
		// "bpf, arm64: Sign return address for JITed code").
		p.PAC = false
	}
	if !p.SubprogTailCalls && l.HasCalls() && l.UsesTailCalls() {
		return nil, &jit.Error{Prog: l.Name, Insn: firstTailCall(l),
			Msg: "tail_calls are not allowed in programs with bpf-to-bpf calls (verifier, -EINVAL: this kernel's arm64 JIT cannot keep the tail call count across calls)"}
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
	img := &jit.Image{Arch: kernel.ARM64, Profile: p, Program: l.Name, Type: l.Type}
	v := versionOf(p)
	privOK := v.privateStack && privStackTypes[l.Type] && !l.UsesTailCalls()
	img.Funcs = make([]*jit.FuncImage, len(l.Funcs))
	err := par.ForEach(len(l.Funcs), func(i int) error {
		f := l.Funcs[i]
		fi, err := compileFunc(l, f, p, v, privOK && usesPrivStack(f), layout)
		img.Funcs[i] = fi
		return err
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// privStackTypes are the program types whose functions the verifier may
// give a private stack: bpf_enable_priv_stack (6.13, a76ab5731e32) returns
// PRIV_STACK_ADAPTIVE for kprobe, tracepoint, perf_event and raw_tracepoint,
// and for tracing programs when bpf_prog_check_recur() holds, that is
// unless they are iterators (BPF_TRACE_ITER): the expected attach type is
// not modelled, so every tracing program is taken for a non-iterator. LSM
// programs never get one; struct_ops ones only on request (not modelled).
var privStackTypes = map[string]bool{"kprobe": true, "tracepoint": true, "perf_event": true, "raw_tracepoint": true, "tracing": true}

// usesPrivStack models check_max_stack_depth_subprog's choice for one
// function of an eligible program: a private stack when the function's own
// stack, rounded up to 16 bytes, is at least BPF_PRIV_STACK_MIN_SIZE (64).
// jit_subprogs then sets aux->jits_use_priv_stack per function. Async
// callbacks (which keep the kernel stack) are not told apart.
func usesPrivStack(f *kernel.LoadedFunc) bool {
	return (f.StackDepth+15)&^15 >= 64
}

func firstTailCall(l *kernel.Loaded) int {
	for _, f := range l.Funcs {
		for _, in := range f.Insns {
			if in.Kind == kernel.TailCall {
				return in.Index
			}
		}
	}
	return -1
}

// ctx is the kernel's struct jit_ctx plus what jitscope records about the code.
type ctx struct {
	p      *jit.Profile
	v      version
	l      *kernel.Loaded
	f      *kernel.LoadedFunc
	layout kernel.Layout

	emitting  bool     // false in the sizing pass (the kernel's ctx->image == NULL)
	code      []uint32 // the image (also filled while sizing, then discarded)
	offset    []int    // per function-local slot: index of its first A64 instruction
	epilogue  int      // ctx->epilogue_offset
	stackSize int
	fpbOffset int
	outOffset int // tail call "out" label, relative to the start of the sequence
	err       error

	// memo is the sizing pass's code, and plain[i] says that Insns[i]
	// came out there exactly as the real pass would emit it, recording
	// nothing but its body region (no offset-dependent field, no
	// relocation or note, no encoding error): the real pass copies it.
	memo    []uint32
	plain   []bool
	sizeErr bool // emitE saw an encoding error (counted only when emitting)
	// The calls, and the calls and ld_imm64 with an address (the scan
	// counts them).
	calls, refs int
	slotOf      []int32 // slotOf[i]: the function-local slot of Insns[i]

	regions []jit.Region
	notes   []jit.Note
	relocs  []jit.Reloc
	edges   []jit.Edge
	entry   int

	// 6.12+: the callee-saved registers this function uses, and whether
	// it uses the BPF frame pointer at all (find_used_callee_regs).
	usedCallee []Reg
	fpUsed     bool
	// 6.17+: the function runs on a private stack (ctx->priv_sp_used) at
	// the per-CPU address privStackPtr (prog->aux->priv_stack_ptr).
	privSP       bool
	privStackPtr uint64
}

func (c *ctx) idx() int { return len(c.code) }

func (c *ctx) emit(w uint32) { c.code = append(c.code, w) }

// emitE emits an instruction whose encoding may fail (branch offsets out of
// range). While sizing, offsets are not final, so failures only count when
// emitting — as the kernel's check_imm on the final pass.
func (c *ctx) emitE(w uint32, err error) {
	if err != nil {
		c.sizeErr = true
		if c.emitting && c.err == nil {
			c.err = err
		}
	}
	c.emit(w)
}

func (c *ctx) region(start int, kind jit.RegionKind) {
	if c.emitting && c.idx() > start {
		c.addRegion(4*start, 4*c.idx(), kind)
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
		c.notes = append(c.notes, jit.Note{Offset: at * 4, Text: text})
	}
}

func compileFunc(l *kernel.Loaded, f *kernel.LoadedFunc, p *jit.Profile, v version, privSP bool, layout kernel.Layout) (*jit.FuncImage, error) {
	slots := 0
	if n := len(f.Insns); n > 0 {
		last := f.Insns[n-1]
		slots = last.Index - f.Insns[0].Index + 1
		if last.Raw.Code == kernel.ClassLD|0x18 {
			slots++
		}
	}
	sc := scratchPool.Get().(*scratch)
	defer func() {
		// The sizing pass's code goes back with the rest; the real
		// pass's is the image.
		sc.code = sc.code[:0]
		scratchPool.Put(sc)
	}()
	c := &ctx{p: p, v: v, l: l, f: f, layout: layout, outOffset: -1, entry: -1}
	// ctx->offset[] starts at zero (kcalloc): the sizing pass reads the
	// offsets of forward targets before it has set them.
	sc.offset = slices.Grow(sc.offset[:0], slots+1)[:slots+1]
	clear(sc.offset)
	c.offset = sc.offset
	if privSP {
		c.privSP = true
		c.privStackPtr = privStackPtr(l, f)
	}
	if p.FPBottom && !p.TCCPtr {
		c.fpbOffset = findFPBOffset(f)
	}
	// One walk over the instructions for what the passes need of them
	// before reading them (they are large: each walk costs).
	sc.slotOf = slices.Grow(sc.slotOf[:0], len(f.Insns))[:len(f.Insns)]
	c.slotOf = sc.slotOf
	used := c.scan()
	if p.UsedCalleeRegs {
		c.findUsedCalleeRegs(used)
	}
	// 1. Sizing pass: compute ctx->offset[] and the epilogue offset.
	c.code = slices.Grow(sc.code[:0], 2*slots+64) // about 1.5 A64 instructions a slot
	if !noMemo {
		sc.plain = slices.Grow(sc.plain[:0], len(f.Insns))[:len(f.Insns)]
		clear(sc.plain)
		c.plain = sc.plain
	}
	if err := c.build(); err != nil {
		return nil, err
	}
	size := c.idx()
	// 2. The real pass, with every offset known.
	c.emitting = true
	c.memo, c.code = c.code, make([]uint32, 0, size)
	sc.code = c.memo
	if err := c.build(); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, &jit.Error{Prog: l.Name, Func: f.Name, Insn: -1, Msg: c.err.Error()}
	}
	if c.idx() != size {
		return nil, &jit.Error{Prog: l.Name, Func: f.Name, Insn: -1, Msg: fmt.Sprintf("JIT bug: image size changed between passes (%d != %d)", c.idx(), size)}
	}
	code := wordBytes(c.code)
	fi := &jit.FuncImage{
		Name:          f.Name,
		Ksym:          f.Ksym,
		Prototype:     f.Prototype,
		Index:         f.Index,
		Address:       f.Address,
		Code:          code,
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
	for i, s := range c.slotOf {
		fi.BPFOffsets[i] = 4 * c.offset[s]
	}
	fi.BPFOffsets[len(f.Insns)] = 4 * c.offset[slots]
	return fi, nil
}

// build runs one pass: prologue, body, epilogue and (v6.0+) the PLT.
func (c *ctx) build() error {
	c.code = c.code[:0]
	c.regions, c.notes, c.relocs, c.edges = nil, nil, nil, nil
	if c.emitting {
		// Room for what the scan counted (a relocation per call and
		// ld_imm64, a note per call), so that appending does not copy
		// them over and over.
		c.relocs = make([]jit.Reloc, 0, c.refs+16)
		c.notes = make([]jit.Note, 0, c.calls+64)
	}
	if err := c.prologue(); err != nil {
		return err
	}
	if err := c.body(); err != nil {
		return err
	}
	if !c.emitting {
		c.epilogue = c.idx()
	}
	c.buildEpilogue()
	if c.p.PatchableEntry {
		c.plt()
	}
	return nil
}

// prologue models build_prologue.
func (c *ctx) prologue() error {
	if c.p.TCCPtr {
		return c.prologueTCCPtr()
	}
	p := c.p
	isMain := c.f.Index == 0
	start := c.idx()
	r6, r7, r8, r9, fp := bpf2a64[6], bpf2a64[7], bpf2a64[8], bpf2a64[9], bpf2a64[10]

	if p.PatchableEntry {
		// v6.0+: the entry is patchable by bpf_arch_text_poke.
		if p.BTI {
			if p.EntryBTIJC {
				c.emit(a64BTIJC)
			} else {
				c.emit(a64BTIC)
			}
		}
		site := c.idx()
		c.emit(a64MOV(true, 9, LR))
		c.emit(a64NOP)
		c.region(site, jit.RegionPatchSite)
		c.note(site+1, "fentry patch site (POKE_OFFSET)")
		if p.PAC {
			c.emit(a64PACIASP)
		}
	} else if p.PAC {
		// 5.17-5.19: paciasp is also a BTI landing pad, so bti c is not needed.
		c.emit(a64PACIASP)
	} else if p.BTI {
		c.emit(a64BTIC)
	}
	c.emit(a64PUSH(FP, LR, SP))
	c.emit(a64MOV(true, FP, SP))
	c.emit(a64PUSH(r6, r7, SP))
	c.emit(a64PUSH(r8, r9, SP))
	c.emit(a64PUSH(fp, tcc, SP))
	if p.FPBottom {
		c.emit(a64PUSH(fpb, 28, SP))
	}
	c.emit(a64MOV(true, fp, SP))
	c.region(start, jit.RegionPrologue)

	// The tail call count is initialised by every function in 5.10; since
	// seed 000's commit only by the main program, so that bpf-to-bpf
	// callees keep their caller's count.
	if isMain || !p.SubprogTailCalls {
		at := c.idx()
		z, _ := a64MOVZ(true, tcc, 0, 0)
		c.emit(z)
		c.region(at, jit.RegionTCCInit)
		if p.SubprogTailCalls {
			c.note(at, "init TCC (main program only)")
		} else {
			c.note(at, "init TCC")
		}
		if cur := c.idx() - start; cur != PrologueOffset(p) {
			return &jit.Error{Prog: c.l.Name, Func: c.f.Name, Insn: -1,
				Msg: fmt.Sprintf("PROLOGUE_OFFSET = %d, expected %d!", cur, PrologueOffset(p))}
		}
		c.entry = 4 * c.idx()
		land := c.idx()
		if p.BTI {
			c.emit(a64BTIJ)
			c.region(land, jit.RegionLandingPad)
		}
		c.note(land, "tail call landing pad: PROLOGUE_OFFSET = %d insns (+%d bytes)", PrologueOffset(p), 4*PrologueOffset(p))
	}
	setup := c.idx()
	if p.FPBottom {
		w, err := a64SUBI(true, fpb, fp, uint32(c.fpbOffset))
		c.emitE(w, err)
	}
	c.stackSize = (c.f.StackDepth + 15) &^ 15
	w, err := a64SUBI(true, SP, SP, uint32(c.stackSize))
	c.emitE(w, err)
	c.region(setup, jit.RegionStackSetup)
	if !isMain && p.SubprogTailCalls {
		c.note(c.idx()-1, "end of prologue: TCC not touched, no tail call landing pad")
	}
	return nil
}

// buildEpilogue models build_epilogue.
func (c *ctx) buildEpilogue() {
	if c.p.TCCPtr {
		c.epilogueTCCPtr()
		return
	}
	start := c.idx()
	r6, r7, r8, r9, fp := bpf2a64[6], bpf2a64[7], bpf2a64[8], bpf2a64[9], bpf2a64[10]
	w, err := a64ADDI(true, SP, SP, uint32(c.stackSize))
	c.emitE(w, err)
	if c.p.FPBottom {
		c.emit(a64POP(fpb, 28, SP))
	}
	c.emit(a64POP(fp, tcc, SP))
	c.emit(a64POP(r8, r9, SP))
	c.emit(a64POP(r6, r7, SP))
	c.emit(a64POP(FP, LR, SP))
	c.emit(a64MOV(true, 0, bpf2a64[0]))
	if c.p.PAC {
		c.emit(a64AUTIASP)
	}
	c.emit(a64RET(LR))
	c.region(start, jit.RegionEpilogue)
}

// plt models build_plt (v6.0+): "ldr x10, target; br x10", aligned so the
// 8-byte target that follows it in memory is naturally aligned. The target
// itself is not part of the image's jited_len.
func (c *ctx) plt() {
	start := c.idx()
	if (c.idx()+2)%2 != 0 { // PLT_TARGET_OFFSET / AARCH64_INSN_SIZE == 2
		c.emit(a64NOP)
	}
	w, err := a64LDR64LIT(tmp1, 2*4)
	c.emitE(w, err)
	c.emit(a64BR(tmp1))
	c.region(start, jit.RegionPLT)
	c.note(start, "PLT for long jumps to a BPF trampoline (target literal follows, not in jited_len)")
}

// findFPBOffset models find_fpb_offset: 0 if the frame pointer may change,
// else the most negative fp offset used, made positive and aligned down to 8.
func findFPBOffset(f *kernel.LoadedFunc) int {
	const fpReg = 10
	offset := 0
	for i := range f.Insns {
		r := &f.Insns[i].Raw
		class := r.Class()
		mode := r.Mode()
		switch class {
		case kernel.ClassSTX, kernel.ClassST:
			if class == kernel.ClassSTX && mode == kernel.ModeAtomic &&
				(r.Imm == kernel.AtomicXchg || r.Imm == (kernel.OpADD|kernel.AtomicFetch) || r.Imm == (kernel.OpAND|kernel.AtomicFetch) ||
					r.Imm == (kernel.OpXOR|kernel.AtomicFetch) || r.Imm == (kernel.OpOR|kernel.AtomicFetch)) && r.Src == fpReg {
				return 0
			}
			if mode == kernel.ModeMem && r.Dst == fpReg && int(r.Off) < offset {
				offset = int(r.Off)
			}
		case kernel.ClassJMP, kernel.ClassJMP32:
		case kernel.ClassLDX, kernel.ClassLD:
			if r.Dst == fpReg {
				return 0
			}
			if class == kernel.ClassLDX && mode == kernel.ModeMem && r.Src == fpReg && int(r.Off) < offset {
				offset = int(r.Off)
			}
		default:
			if r.Dst == fpReg {
				return 0
			}
		}
	}
	if offset < 0 {
		offset = -offset
		offset &^= 7
	}
	return offset
}

// littleEndian is true on hosts that store a uint32 as arm64 does.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// wordBytes returns the A64 instruction words w as the image's bytes
// (little-endian): on a little-endian host the words' own memory (the
// real pass's buffer is the image's size, and nothing writes it after),
// else a copy.
func wordBytes(w []uint32) []byte {
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 4*len(w))
	}
	code := make([]byte, 4*len(w))
	for i, x := range w {
		binary.LittleEndian.PutUint32(code[4*i:], x)
	}
	return code
}
