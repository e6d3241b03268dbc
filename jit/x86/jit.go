// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"encoding/binary"
	"fmt"
	"sort"

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
	if l.UsesTailCalls() {
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
	for _, f := range l.Funcs {
		c := &ctx{l: l, f: f, p: p, v: v, cfg: cfg, layout: layout}
		fi, err := c.compile()
		if err != nil {
			return nil, err
		}
		img.Funcs = append(img.Funcs, fi)
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

	slots      []*kernel.Insn // per BPF slot of the function; nil for ld_imm64's second slot
	addrs      []int          // addrs[i]: end of slot i-1's code (the kernel's addrs[])
	image      uint64         // where the image is loaded
	emitting   bool           // the kernel's image != NULL: the final pass
	padding    bool           // jmp_padding
	oldproglen int

	// struct jit_context
	cleanupAddr     int
	tcDirectLabel   int
	tcIndirectLabel int

	calleeRegs        [4]bool // rbx, r13, r14, r15 (detect_reg_usage)
	tailCallReachable bool
	isSubprog         bool

	code []byte

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

func (c *ctx) pos() int { return len(c.code) }

func (c *ctx) emit(b ...byte) { c.code = append(c.code, b...) }

// emit32 appends a little-endian 32-bit value (EMIT(off, 4)).
func (c *ctx) emit32(v int32) {
	c.code = binary.LittleEndian.AppendUint32(c.code, uint32(v))
}

func (c *ctx) region(start int, kind jit.RegionKind) {
	if c.emitting && c.pos() > start {
		c.regions = append(c.regions, jit.Region{Start: start, End: c.pos(), Kind: kind})
	}
}

func (c *ctx) note(at int, format string, args ...any) {
	if c.emitting {
		c.notes = append(c.notes, jit.Note{Offset: at, Text: fmt.Sprintf(format, args...)})
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
	n := 0
	if len(f.Insns) > 0 {
		last := f.Insns[len(f.Insns)-1]
		n = last.Index - f.Insns[0].Index + 1
		if last.Raw.Code == kernel.CodeLdImm64 {
			n++
		}
	}
	c.slots = make([]*kernel.Insn, n)
	for i := range f.Insns {
		in := &f.Insns[i]
		if r := rawInsn(in); r != in.Raw {
			fixed := *in
			fixed.Raw = r
			in = &fixed
		}
		c.slots[in.Index-f.Insns[0].Index] = in
	}
	c.image = f.Address
	c.isSubprog = f.Index != 0
	c.tailCallReachable = f.TailCallReachable
	c.tcOffset = tailCallOffset(c.v, c.cfg)
	c.detectRegUsage()
	if err := c.resolveThunks(); err != nil {
		return nil, err
	}

	c.addrs = make([]int, n+1)
	proglen := 0
	for i := range c.addrs {
		proglen += 64
		c.addrs[i] = proglen
	}
	c.cleanupAddr = proglen
	for pass := 0; pass < maxPasses || c.emitting; pass++ {
		if c.v.padding && !c.padding && pass >= paddingPasses {
			c.padding = true
		}
		n, err := c.doJIT()
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
		n, err := c.doJIT()
		if err != nil {
			return nil, err
		}
		if n != c.oldproglen {
			return nil, c.errorf(nil, "bpf_jit: proglen=%d != oldproglen=%d", n, c.oldproglen)
		}
	}
	c.fixupTailCalls()
	sort.SliceStable(c.relocs, func(a, b int) bool { return c.relocs[a].Offset < c.relocs[b].Offset })
	sort.SliceStable(c.notes, func(a, b int) bool { return c.notes[a].Offset < c.notes[b].Offset })
	sort.SliceStable(c.edges, func(a, b int) bool { return c.edges[a].From < c.edges[b].From })

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
	for i, in := range f.Insns {
		fi.BPFOffsets[i] = c.addrs[in.Index-f.Insns[0].Index]
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
		if c.l.UsesTailCalls() {
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

// detectRegUsage models detect_reg_usage: which callee-saved registers the
// function touches, and (5.10, 6.1) whether it contains a tail call, which
// makes it tail-call reachable.
func (c *ctx) detectRegUsage() {
	for _, in := range c.f.Insns {
		r := in.Raw
		if in.Kind == kernel.TailCall {
			// "tail call's presence in current prog implies it is reachable"
			c.tailCallReachable = true
		}
		for k, reg := range [4]uint8{r6, r7, r8, r9} {
			if r.Dst == reg || r.Src == reg {
				c.calleeRegs[k] = true
			}
		}
	}
}

// doJIT is one pass of do_jit: the prologue, then every BPF instruction,
// addrs[i] recording where slot i ends. It returns proglen.
func (c *ctx) doJIT() (int, error) {
	c.code = c.code[:0]
	c.regions, c.notes, c.relocs, c.edges, c.pokes = nil, nil, nil, nil, nil
	c.entry = -1
	if err := c.prologue(); err != nil {
		return 0, err
	}
	proglen := c.pos()
	c.addrs[0] = proglen
	seenExit := false
	for i := 1; i <= len(c.slots); i++ {
		in := c.slots[i-1]
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
	}
	return proglen, nil
}
