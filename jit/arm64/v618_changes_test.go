package arm64_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// The tests below hold the v6.18 profile to what the arm64 JIT emits after
// 6.12. Each expected text is written from the kernel source or patch named
// in the comment (the A64_* macro, then the instruction as objdump prints
// it), not from this package's encoder.

// oneProg builds a set with one program of type typ whose functions start
// at the given instruction indexes (stack depths computed by Load).
func oneProg(typ string, insns asm.Instructions, cfg map[string]string, funcs ...kernel.Func) *kernel.Set {
	if len(funcs) == 0 {
		funcs = []kernel.Func{{Name: "prog", Start: 0, StackDepth: -1}}
	}
	s := &kernel.Set{
		Name:     "v618",
		Programs: []*kernel.Program{{Name: "prog", Type: typ, Insns: insns, Funcs: funcs}},
		Maps:     []*kernel.Map{{Name: "jmp_table", Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 1}},
	}
	pl := s.Placement(kernel.ARM64)
	pl.Config = map[string]string{"CONFIG_ARM64_PTR_AUTH_KERNEL": "y", "CONFIG_ARM64_BTI_KERNEL": "n"}
	for k, v := range cfg {
		pl.Config[k] = v
	}
	return s
}

// compileErr compiles the set's only program and returns the JIT's error.
func compileErr(t *testing.T, set *kernel.Set, name string) error {
	t.Helper()
	prof, err := jit.LookupProfile(kernel.ARM64, name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := kernel.Load(set, set.Programs[0].Name, kernel.ARM64, kernel.Options{Layout: prof.Layout})
	if err != nil {
		t.Fatal(err)
	}
	_, err = jit.Compile(l, prof)
	return err
}

func expectSeqs(t *testing.T, what string, got []string, seqs ...[]string) {
	t.Helper()
	for _, want := range seqs {
		if hasSeq(got, want...) < 0 {
			t.Errorf("%s: no sequence %q in:\n%s", what, want, strings.Join(got, "\n"))
		}
	}
}

func expectNone(t *testing.T, what string, got []string, texts ...string) {
	t.Helper()
	for _, line := range got {
		for _, bad := range texts {
			if strings.HasPrefix(line, bad) {
				t.Errorf("%s: unexpected %q in:\n%s", what, line, strings.Join(got, "\n"))
			}
		}
	}
}

// atomicInsn builds an atomic instruction with the kernel's imm (see
// kernel.RawOf for why the builders' encoding needs it).
func atomicInsn(ins asm.Instruction) asm.Instruction {
	if op := ins.OpCode.AtomicOp(); op != asm.InvalidAtomic {
		ins.Constant = int64(uint32(op) >> 8)
	}
	return ins
}

var atomicsProg = asm.Instructions{
	asm.Mov.Imm(asm.R2, 1),
	atomicInsn(asm.AddAtomic.Mem(asm.R1, asm.R2, asm.DWord, 8)),
	atomicInsn(asm.AddAtomic.Mem(asm.R1, asm.R2, asm.Word, -16)),
	atomicInsn(asm.AddAtomic.Mem(asm.R1, asm.R2, asm.DWord, 0x2000)),
	atomicInsn(asm.FetchAdd.Mem(asm.R1, asm.R2, asm.DWord, 0x1234)),
	atomicInsn(asm.AddAtomic.Mem(asm.R1, asm.R2, asm.DWord, 0)),
	asm.Mov.Imm(asm.R0, 0),
	asm.Return(),
}

// TestV618AtomicOffsets: 6.14's emit_a64_add_i in the atomics.
//
// "bpf, arm64: Emit A64_{ADD,SUB}_I when possible in
// emit_{lse,ll_sc}_atomic()" (8c21f88407d2) and "Factor out
// emit_a64_add_i()" (66bb58ac06c2), as in bpf_jit_comp.c of 6.16 (stored
// copy, file id 17771758):
//
//	if (off) { emit_a64_add_i(1, tmp, reg, tmp, off, ctx); reg = tmp; }
//	emit_a64_add_i: is_addsub_imm(imm) ? A64_ADD_I(is64, dst, src, imm)
//	  : is_addsub_imm(-(u32)imm) ? A64_SUB_I(is64, dst, src, -imm)
//	  : emit_a64_mov_i(is64, tmp, imm); A64_ADD(is64, dst, src, tmp)
//
// 6.12 (and 6.1) emitted emit_a64_mov_i(1, tmp, off); A64_ADD(1, tmp, tmp,
// dst) for every nonzero offset. r1 = x0, r2 = x1, tmp = x10.
func TestV618AtomicOffsets(t *testing.T) {
	set := oneProg("sched_cls", atomicsProg, nil)
	got := listing(t, set, "v6.18")["prog"]
	expectSeqs(t, "v6.18 LSE", got,
		// A64_ADD_I(1, x10, x0, 8); A64_STADD(1, x10, x1)
		[]string{"add x10, x0, #0x8", "stadd x1, [x10]"},
		// A64_SUB_I(1, x10, x0, 16); A64_STADD(0, x10, w1)
		[]string{"sub x10, x0, #0x10", "stadd w1, [x10]"},
		// 0x2000 is a shifted imm12: A64_ADD_I(1, x10, x0, 0x2000)
		[]string{"add x10, x0, #0x2, lsl #12", "stadd x1, [x10]"},
		// 0x1234 fits neither: movz x10, #0x1234; A64_ADD(1, x10, x0, x10);
		// A64_LDADDAL(1, x1, x10, x1)
		[]string{"mov x10, #0x1234", "add x10, x0, x10", "ldaddal x1, x1, [x10]"},
		// off == 0: the register itself
		[]string{"stadd x1, [x0]", "mov x7, #0x0"},
	)

	// 6.1's emit_lse_atomic: emit_a64_mov_i(1, tmp, off);
	// emit(A64_ADD(1, tmp, tmp, dst)) — unchanged for the older profiles.
	old := listing(t, set, "v6.1")["prog"]
	expectSeqs(t, "v6.1 LSE", old,
		[]string{"mov x10, #0x8", "add x10, x10, x0", "stadd x1, [x10]"},
		[]string{"mov x10, #0xfffffffffffffff0", "add x10, x10, x0", "stadd w1, [x10]"},
		[]string{"mov x10, #0x2000", "add x10, x10, x0", "stadd x1, [x10]"},
	)

	// emit_ll_sc_atomic without LSE: the same address computation, then
	// A64_LDXR(1, x11, x10); A64_ADD(1, x11, x11, x1); A64_STXR(1, x11,
	// x10, x12); A64_CBNZ(0, x12, -3).
	llsc := listing(t, oneProg("sched_cls", atomicsProg, map[string]string{"CONFIG_ARM64_LSE_ATOMICS": "n"}), "v6.18")["prog"]
	expectSeqs(t, "v6.18 LL/SC", llsc,
		[]string{"add x10, x0, #0x8", "ldxr x11, [x10]", "add x11, x11, x1", "stxr w12, x11, [x10]"},
		[]string{"sub x10, x0, #0x10", "ldxr w11, [x10]", "add w11, w11, w1", "stxr w12, w11, [x10]"},
		// BPF_ADD | BPF_FETCH: A64_MOV(1, x9, x1) (an add #0, which objdump
		// prints as such); A64_LDXR(1, x1, x10);
		// A64_ADD(1, x11, x1, x9); A64_STLXR(1, x11, x10, x12)
		[]string{"mov x10, #0x1234", "add x10, x0, x10", "add x9, x1, #0x0", "ldxr x1, [x10]", "add x11, x1, x9", "stlxr w12, x11, [x10]"},
	)
}

// TestV618LoadAcquireStoreRelease: 6.15's emit_atomic_ld_st.
//
// "bpf, arm64: Support load-acquire and store-release instructions"
// (Peilin Ye, bpf-next v4 07/10; bpf_jit_comp.c of 6.16): BPF_LOAD_ACQ
// reads through src, BPF_STORE_REL writes through dst, the offset added
// with emit_a64_add_i(1, tmp, reg, tmp, off); then A64_LDAR{B,H,32,64}(dst,
// reg) or A64_STLR{B,H,32,64}(src, reg). bpf_jit.h: A64_LDAR/A64_STLR are
// aarch64_insn_gen_load_acq_store_rel, LDAR 0x08DFFC00 and STLR 0x089FFC00
// with the size in bits 31-30 ("arm64: insn: Add load-acquire and
// store-release instructions"). r0 = x7, r1 = x0, r2 = x1.
func TestV618LoadAcquireStoreRelease(t *testing.T) {
	prog := asm.Instructions{
		asm.Mov.Imm(asm.R2, 7),
		atomicInsn(asm.LoadAcquire(asm.R0, asm.R1, asm.Byte, 0)),
		atomicInsn(asm.LoadAcquire(asm.R0, asm.R1, asm.Half, 2)),
		atomicInsn(asm.LoadAcquire(asm.R0, asm.R1, asm.Word, -4)),
		atomicInsn(asm.LoadAcquire(asm.R0, asm.R1, asm.DWord, 0)),
		atomicInsn(asm.StoreRelease(asm.R1, asm.R2, asm.Byte, 0)),
		atomicInsn(asm.StoreRelease(asm.R1, asm.R2, asm.Half, 0)),
		atomicInsn(asm.StoreRelease(asm.R1, asm.R2, asm.Word, 0x1001)),
		atomicInsn(asm.StoreRelease(asm.R1, asm.R2, asm.DWord, 8)),
		asm.Return(),
	}
	set := oneProg("sched_cls", prog, nil)
	got := listing(t, set, "v6.18")["prog"]
	expectSeqs(t, "v6.18", got, []string{
		"ldarb w7, [x0]",                       // A64_LDARB(x7, x0)
		"add x10, x0, #0x2", "ldarh w7, [x10]", // A64_ADD_I(1, x10, x0, 2); A64_LDARH
		"sub x10, x0, #0x4", "ldar w7, [x10]", // A64_SUB_I(1, x10, x0, 4); A64_LDAR32
		"ldar x7, [x0]",                                          // A64_LDAR64
		"stlrb w1, [x0]",                                         // A64_STLRB(x1, x0)
		"stlrh w1, [x0]",                                         // A64_STLRH
		"mov x10, #0x1001", "add x10, x0, x10", "stlr w1, [x10]", // mov_i + A64_ADD(1, x10, x0, x10); A64_STLR32
		"add x10, x0, #0x8", "stlr x1, [x10]", // A64_STLR64
	})
	// 6.1 has no BPF_LOAD_ACQ/BPF_STORE_REL: its JIT refuses them.
	if err := compileErr(t, set, "v6.1"); err == nil {
		t.Errorf("v6.1 compiled load-acquire/store-release")
	}
}

// TestV618Nospec: BPF_ST | BPF_NOSPEC.
//
// "bpf, arm64, powerpc: Change nospec to include v1 barrier" (dff883d9e93a,
// 6.17; the arm64 hunk as posted in v2/v3 06/11):
//
//	if (alternative_has_cap_likely(ARM64_HAS_SB)) emit(A64_SB, ctx);
//	else { emit(A64_DSB_NSH, ctx); emit(A64_ISB, ctx); }
//
// bpf_jit.h: A64_SB = aarch64_insn_get_sb_value() (0xD50330FF, "sb"),
// A64_DSB_NSH = dsb base 0xD503309F | 0x7 << 8 ("dsb nsh"), A64_ISB =
// aarch64_insn_get_isb_value(), insn.h's isb value 0xD50330DF: CRm 0, which
// objdump prints "isb #0x0". Up to 6.16 the case emitted nothing.
func TestV618Nospec(t *testing.T) {
	prog := asm.Instructions{
		asm.Mov.Imm(asm.R0, 1),
		asm.Instruction{OpCode: asm.OpCode(kernel.CodeNOSPEC)},
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	}
	noSB := listing(t, oneProg("sched_cls", prog, nil), "v6.18")["prog"]
	expectSeqs(t, "v6.18 without SB", noSB, []string{"mov x7, #0x1", "dsb nsh", "isb #0x0", "mov x7, #0x2"})
	sb := listing(t, oneProg("sched_cls", prog, map[string]string{"cpu:sb": "y"}), "v6.18")["prog"]
	expectSeqs(t, "v6.18 with SB", sb, []string{"mov x7, #0x1", "sb", "mov x7, #0x2"})
	old := listing(t, oneProg("sched_cls", prog, nil), "v6.1")["prog"]
	expectSeqs(t, "v6.1", old, []string{"mov x7, #0x1", "mov x7, #0x2"})
}

// privProg stores r6 at the bottom of a 64-byte stack and calls a
// subprogram whose stack holds 8 bytes.
var privProg = asm.Instructions{
	asm.Mov.Reg(asm.R6, asm.R1),
	asm.StoreMem(asm.R10, -64, asm.R6, asm.DWord),
	asm.Call.Label("small"),
	asm.LoadMem(asm.R0, asm.R10, -64, asm.DWord),
	asm.Return(),
	asm.Mov.Imm(asm.R2, 3).WithSymbol("small"),
	asm.StoreMem(asm.R10, -8, asm.R2, asm.DWord),
	asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord),
	asm.Return(),
}

var privFuncs = []kernel.Func{
	{Name: "prog", Start: 0, StackDepth: -1},
	{Name: "small", Start: 5, StackDepth: -1},
}

// TestV618PrivateStack: 6.17's private stack.
//
// "bpf, arm64: JIT support for private stack" (6c17a882d380, bpf-next v2
// 2/3): PRIVATE_SP = x27, pushed right after fp by find_used_callee_regs;
// build_prologue then emits, when fp is used,
//
//	emit_percpu_ptr(priv_sp, priv_stack_ptr + PRIV_STACK_GUARD_SZ (16)):
//	  emit_a64_mov_i64(x27, ptr); A64_MRS_TPIDR_EL1(x10) (EL2 with VHE);
//	  A64_ADD(1, x27, x27, x10)
//	A64_ADD_I(1, fp, priv_sp, ctx->stack_size)
//
// and no "sub sp" ("if (ctx->stack_size && !ctx->priv_sp_used)"; the
// epilogue likewise); fp-relative loads and stores use priv_sp with off +
// stack_size. Which functions get one: kernel/bpf/verifier.c (a76ab5731e32,
// 6.13) bpf_enable_priv_stack gives kprobe programs PRIV_STACK_ADAPTIVE,
// check_max_stack_depth_subprog uses it for a function whose rounded stack
// is >= BPF_PRIV_STACK_MIN_SIZE (64), and none in programs with tail calls.
//
// The per-CPU pointer is allocated at load time; the test pins it with the
// placement symbol "priv_stack_ptr" = 0xffff800083000000, so x27 gets
// 0xffff800083000010: emit_a64_mov_i64 picks movn (three halfwords differ
// from 0xffff) at the top halfword below the all-ones one: movn x27,
// #0x7fff, lsl #32; movk x27, #0x8300, lsl #16; movk x27, #0x10.
func TestV618PrivateStack(t *testing.T) {
	set := oneProg("kprobe", privProg, nil, privFuncs...)
	set.Placement(kernel.ARM64).Symbols = map[string]uint64{"priv_stack_ptr": 0xffff800083000000}
	got := listing(t, set, "v6.18")
	expectSeqs(t, "kprobe prog (64-byte stack)", got["prog"],
		[]string{
			"add x9, x30, #0x0", "nop", "paciasp", "stp x29, x30, [sp, #-16]!", "mov x29, sp",
			"stp xzr, x26, [sp, #-16]!", "mov x26, sp",
			"stp x19, x25, [sp, #-16]!", "stp x27, xzr, [sp, #-16]!", // push_callee_regs: r6, fp, priv_sp
			"mov x27, #0xffff8000ffffffff", "movk x27, #0x8300, lsl #16", "movk x27, #0x10",
			"mrs x10, tpidr_el1", "add x27, x27, x10",
			"add x25, x27, #0x40", // A64_ADD_I(1, fp, priv_sp, 64); no sub sp
			"add x19, x0, #0x0",
			"str x19, [x27]", // STX: dst_adj = priv_sp, off_adj = -64 + 64
		},
		[]string{"ldr x7, [x27]"},
		// build_epilogue: no add sp, pop_callee_regs, the tcc slot.
		[]string{"ldp x27, xzr, [sp], #16", "ldp x19, x25, [sp], #16", "ldp xzr, x26, [sp], #16",
			"ldp x29, x30, [sp], #16", "add x0, x7, #0x0", "autiasp", "ret"},
	)
	expectNone(t, "kprobe prog", got["prog"], "sub sp, sp", "add sp, sp")
	// The 8-byte subprogram stays on the kernel stack (below
	// BPF_PRIV_STACK_MIN_SIZE): mov x25, sp; sub sp, sp, #16.
	expectSeqs(t, "kprobe subprog (8-byte stack)", got["small"],
		[]string{"stp x26, x26, [sp, #-16]!", "stp x25, xzr, [sp, #-16]!", "mov x25, sp", "sub sp, sp, #0x10"},
		[]string{"str x1, [sp, #8]"})
	expectNone(t, "kprobe subprog", got["small"], "mrs x10, tpidr_el1")

	// With VHE the per-CPU offset is in TPIDR_EL2.
	vhe := oneProg("kprobe", privProg, map[string]string{"cpu:vhe": "y"}, privFuncs...)
	vhe.Placement(kernel.ARM64).Symbols = map[string]uint64{"priv_stack_ptr": 0xffff800083000000}
	expectSeqs(t, "kprobe prog, VHE", listing(t, vhe, "v6.18")["prog"], []string{"mrs x10, tpidr_el2", "add x27, x27, x10"})

	// A sched_cls program gets no private stack (bpf_enable_priv_stack:
	// NO_PRIV_STACK), and neither does a kprobe program with a tail call.
	cls := listing(t, oneProg("sched_cls", privProg, nil, privFuncs...), "v6.18")["prog"]
	expectSeqs(t, "sched_cls prog", cls, []string{"stp x19, x25, [sp, #-16]!", "mov x25, sp", "sub sp, sp, #0x40", "add x19, x0, #0x0", "str x19, [sp]"})
	tail := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreMem(asm.R10, -64, asm.R6, asm.DWord),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.LoadMem(asm.R0, asm.R10, -64, asm.DWord),
		asm.Return(),
	}
	tc := listing(t, oneProg("kprobe", tail, nil), "v6.18")["prog"]
	expectSeqs(t, "kprobe prog with a tail call", tc, []string{"mov x25, sp", "sub sp, sp, #0x40"})
	expectNone(t, "kprobe prog with a tail call", tc, "mrs x10, tpidr_el1")

	// 6.1 has no private stack.
	expectNone(t, "v6.1 kprobe prog", listing(t, oneProg("kprobe", privProg, nil, privFuncs...), "v6.1")["prog"], "mrs x10, tpidr_el1")
}

// TestV618TimedMayGoto: 6.18's timed may_goto.
//
// do_misc_fixups (6.15, "bpf: Add support for timed may_goto") rewrites
// may_goto into
//
//	AX = *(u64 *)(r10 - 16); if AX == 0 goto ...; AX -= 1;
//	if AX != 0 goto +2; AX = -16; call arch_bpf_timed_may_goto;
//	*(u64 *)(r10 - 16) = AX
//
// and "bpf, arm64: Add JIT support for timed may_goto" (16175375da36,
// bpf-next v3 1/2) keeps the call's result in BPF_REG_AX (x9):
//
//	emit_call(func_addr, ctx);
//	if (func_addr != (u64)arch_bpf_timed_may_goto)
//		emit(A64_MOV(1, r0, A64_R(0)), ctx);
//
// The program is given in xlated form (the call's imm is the address
// relative to __bpf_call_base); the target is within 128 MiB, so emit_call
// is a bl. stack_size 16: r10 - 16 is [sp].
func TestV618TimedMayGoto(t *testing.T) {
	const ax = asm.Register(11)
	call := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Constant: 0x1000}
	prog := asm.Instructions{
		asm.LoadMem(ax, asm.R10, -16, asm.DWord),
		asm.JEq.Imm(ax, 0, "out"),
		asm.Sub.Imm(ax, 1),
		asm.JNE.Imm(ax, 0, "store"),
		asm.Mov.Imm(ax, -16),
		call,
		asm.StoreMem(asm.R10, -16, ax, asm.DWord).WithSymbol("store"),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	set := oneProg("sched_cls", prog, nil, kernel.Func{Name: "prog", Start: 0, StackDepth: 16})
	set.Programs[0].Xlated = true
	set.Placement(kernel.ARM64).Symbols = map[string]uint64{
		"__bpf_call_base":         0xffff800008222f40,
		"arch_bpf_timed_may_goto": 0xffff800008222f40 + 0x1000,
	}
	got := listing(t, set, "v6.18")["prog"]
	if len(got) == 0 {
		t.Fatal("no listing")
	}
	var bl int = -1
	for i, line := range got {
		if strings.HasPrefix(line, "bl ") {
			bl = i
		}
	}
	if bl < 0 || bl+1 >= len(got) {
		t.Fatalf("no bl to arch_bpf_timed_may_goto:\n%s", strings.Join(got, "\n"))
	}
	expectSeqs(t, "v6.18", got,
		[]string{"ldr x9, [sp]"},                // LDX AX from r10 - 16
		[]string{"sub x9, x9, #0x1"},            // AX -= 1
		[]string{"mov x9, #0xfffffffffffffff0"}, // emit_a64_mov_i(1, x9, -16): movn x9, #0xf
		[]string{got[bl], "str x9, [sp]"},       // no mov x7, x0 after the call
	)
	// Any other call still moves x0 into r0 (x7).
	other := oneProg("sched_cls", prog, nil, kernel.Func{Name: "prog", Start: 0, StackDepth: 16})
	other.Programs[0].Xlated = true
	other.Placement(kernel.ARM64).Symbols = map[string]uint64{"__bpf_call_base": 0xffff800008222f40, "some_kfunc": 0xffff800008222f40 + 0x1000}
	og := listing(t, other, "v6.18")["prog"]
	for i, line := range og {
		if strings.HasPrefix(line, "bl ") && (i+1 >= len(og) || og[i+1] != "add x7, x0, #0x0") {
			t.Errorf("call without mov x7, x0:\n%s", strings.Join(og, "\n"))
		}
	}
}

// TestV618Encodings checks the new instruction words against the kernel's
// numbers directly: A64_SB, A64_DSB_NSH, A64_ISB and LDAR/STLR.
func TestV618Encodings(t *testing.T) {
	for _, c := range []struct {
		word uint32
		want string
	}{
		{0xd50330ff, "sb"},
		{0xd503309f | 0x7<<8, "dsb nsh"},
		{0xd50330df, "isb #0x0"},
		{0x08dffc00 | 3<<30 | 0<<5 | 7, "ldar x7, [x0]"},
		{0x089ffc00 | 0<<30 | 10<<5 | 1, "stlrb w1, [x10]"},
	} {
		in, err := disasm.DecodeA64(c.word, 0)
		if err != nil || in.Text != c.want {
			t.Errorf("%#08x: %q (%v), want %q", c.word, in.Text, err, c.want)
		}
	}
}
