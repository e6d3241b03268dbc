// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// version holds what one kernel's x86-64 JIT does differently from the
// others: data, plus the few switches a version really changed. Every field
// cites the source it models.
type version struct {
	// tailCallBase is X86_TAIL_CALL_OFFSET without the ENDBR: 11 (nop5;
	// xor eax,eax|nop2; push rbp; mov rbp,rsp) before 6.11, 12 after
	// (xor rax,rax|nop3).
	tailCallBase int
	// tccPtr: the 6.11 "tail call hierarchy" design. The main program keeps
	// the counter on its stack and passes a pointer to it in rax
	// (emit_prologue_tail_call, LOAD_TAIL_CALL_CNT_PTR); before, the counter
	// itself travelled in rax and lived in the push rax slot.
	tccPtr bool
	// ibt: the JIT has EMIT_ENDBR (CONFIG_X86_KERNEL_IBT, 5.18+).
	ibt bool
	// cfi: emit_cfi at the entry (6.6+): kCFI/FineIBT preambles.
	cfi bool
	// labels: tail-call "out" offsets come from ctx->tail_call_*_label,
	// recorded on the previous pass (5.19+); 5.10 adds up byte counts.
	labels bool
	// imm8Limit is the largest positive 8-bit jump offset: 127 (is_imm8) in
	// 5.10, 123 (is_imm8_jmp_offset) once the convergence fix is in.
	imm8Limit int
	// padding: jmp_padding after PADDING_PASSES (MAX_PASSES - 5) passes.
	padding bool
	// emitReturn: emit_return (ret [+int3 with SLS] or jmp x86_return_thunk)
	// and emit_indirect_jump (thunk/lfence/ITS); 5.10 has a bare ret and the
	// inline RETPOLINE_RCX_BPF_JIT sequence.
	emitReturn bool
	// its: emit_indirect_jump knows the ITS thunks (CONFIG_MITIGATION_ITS).
	its bool
	// atomics: BPF_ATOMIC with fetch/xchg/cmpxchg (5.12+); 5.10 only has
	// BPF_XADD.
	atomics bool
	// loadAcqStoreRel: BPF_LOAD_ACQ/BPF_STORE_REL (6.15+).
	loadAcqStoreRel bool
	// imul: multiplication with imul (5.15+); 5.10 goes through rax/rdx
	// with mul r11.
	imul bool
	// divNoAux: division keeps the divisor in its own register and pushes
	// only what it clobbers (5.15+); 5.10 always uses r11 and both pushes.
	divNoAux bool
	// shiftV2: the 6.3+ shift-by-register sequence (r11 only when dst is
	// rcx, no push then) and BMI2 shlx/shrx/sarx when the CPU has BMI2.
	shiftV2 bool
	// nospec: BPF_ST | BPF_NOSPEC emits lfence (5.13+, not in 5.10.13).
	nospec bool
	// stackAlways: "sub rsp"/"add rsp" are emitted even for a zero stack
	// depth (v1 of the 2020 prologue rework, seed 001; 5.10 merged the
	// "if (stack_depth)" the review asked for).
	stackAlways bool
	// pushAfterTarget is not a kernel: it is the layout seed 001 rejects
	// ("why simply can not be pushes after the nop5?"): no bypass; the
	// unwind always runs, and with an empty slot the frame is rebuilt after
	// the target nop5 — by pushing the callee-saved registers the unwind
	// just restored to the caller's values.
	pushAfterTarget bool
	// probeMem selects the BPF_PROBE_MEM address check: 0 none (5.10),
	// 1 src+off >= TASK_SIZE_MAX + PAGE_SIZE (5.15-6.1), 2 the
	// VSYSCALL_ADDR-relative range check (6.8+).
	probeMem int
	// gotol: BPF_JMP32 | BPF_JA (6.6+, and in Debian's 6.1.176).
	gotol bool
	// cpuv4: movsx, sdiv/smod, bswap, ldsx (6.6+).
	cpuv4 bool
	// movImm64Simm32: emit_mov_imm64 uses a sign-extended mov imm32 for
	// simm32 values (6.9+).
	movImm64Simm32 bool
	// tccAllCalls: the tail call count (pointer) is reloaded into rax before
	// every call, helper calls included; 6.15+ only before bpf2bpf calls.
	tccAllCalls bool
	// tccRoundedReload: RESTORE_TAIL_CALL_CNT uses round_up(stack_depth, 8)
	// (5.17+); 5.10 loads from rbp - (stack_depth + 8), unrounded.
	tccRoundedReload bool
	// privateStack: the JIT can give tracing programs a private stack (6.13+).
	privateStack bool
	// deltas are symbol addresses relative to __bpf_call_base in the
	// captured build of this kernel, for placements that do not name them.
	deltas map[string]int64
	// Configuration defaults for placements without a capture.
	def Config
}

// Struct offsets for a default x86-64 build.
var (
	// BTF of Debian's linux-image-6.1.0-50-amd64 (x86_64-6.1 capture's
	// layout), the same values the seed 001 era images use
	// (cmp [rsi+0x24]; ptrs at 0x110; bpf_func at 0x30). 5.10 has the same
	// struct layout (struct bpf_map is cacheline aligned, 256 bytes;
	// bpf_prog: pages, flags, type, expected_attach_type, len, jited_len,
	// tag[8], aux, orig_prog, bpf_func), so v5.10 uses it too.
	layout61 = kernel.Layout{ArrayMaxEntries: 0x24, ArrayPtrs: 0x110, ProgBPFFunc: 0x30}
	// BTF of the x86_64-6.18 capture's kernel (6.18.44): max_entries 0x4c,
	// ptrs 0x138, bpf_func 0x48.
	layout618 = kernel.Layout{ArrayMaxEntries: 0x4c, ArrayPtrs: 0x138, ProgBPFFunc: 0x48}
)

// Symbol addresses of the captured kernels relative to their
// __bpf_call_base; KASLR moves the kernel text as a whole, so these hold
// for any boot of the same build.
var (
	// x86_64-6.1 capture symbols: __bpf_call_base 0xffffffff811ffc30,
	// __x86_indirect_thunk_rcx 0xffffffff81e015a0.
	deltas61 = map[string]int64{
		"__x86_indirect_thunk_rcx": 0xffffffff81e015a0 - 0xffffffff811ffc30,
	}
	// x86_64-6.18 capture symbols: __bpf_call_base 0xffffffff814ca4d0,
	// srso_alias_return_thunk 0xffffffff8110410b, __x86_indirect_thunk_rcx
	// 0xffffffff821ff520 (tailcall_simple/entry_idx).
	// this_cpu_off: the x86_64-6.18-src captures (6.18.44-fc-v669, another
	// build of 6.18): 0xffffffff83b0e028 with __bpf_call_base
	// 0xffffffff814cc810.
	deltas618 = map[string]int64{
		"__x86_indirect_thunk_rcx": 0xffffffff821ff520 - 0xffffffff814ca4d0,
		"srso_alias_return_thunk":  0xffffffff8110410b - 0xffffffff814ca4d0,
		"this_cpu_off":             0xffffffff83b0e028 - 0xffffffff814cc810,
	}
)

var versions = map[string]*version{
	// arch/x86/net/bpf_jit_comp.c @ v5.10 (Rtoax/linux-5.10.13, a study copy
	// of 5.10.13): emit_prologue, emit_bpf_tail_call_{indirect,direct},
	// do_jit, bpf_int_jit_compile ("for (pass = 0; pass < 20 || image;
	// pass++)"); arch/x86/include/asm/nospec-branch.h @ v5.10:
	// RETPOLINE_RCX_BPF_JIT.
	"v5.10": {
		tailCallBase:     11,
		imm8Limit:        127,
		tccRoundedReload: false,
		tccAllCalls:      true,
		def: Config{
			Retpoline:     true, // Debian 5.10: CONFIG_RETPOLINE=y
			IndirectThunk: inlineRetpoline,
		},
	},
	// Seed 001: v1 of "bpf, x64: rework pro/epilogue and tailcall handling
	// in JIT" (Maciej Fijalkowski, bpf-next, 2020-07-16), as its listing
	// shows it: the 5.10 design, with the stack adjustments emitted even
	// for a zero stack depth ("48 81 c4 00 00 00 00 add $0x0,%rsp").
	"bpf-next-2020-07": {
		tailCallBase:     11,
		imm8Limit:        127,
		tccRoundedReload: false,
		tccAllCalls:      true,
		stackAlways:      true,
		def: Config{
			Retpoline:     true,
			IndirectThunk: inlineRetpoline,
		},
	},
	// The counter-example of seed 001: bpf-next-2020-07 with the pushes after
	// the nop5 instead of the tailcall_bypass. Broken on purpose.
	"counterexample-push-after-nop5": {
		tailCallBase:    11,
		imm8Limit:       127,
		tccAllCalls:     true,
		stackAlways:     true,
		labels:          true,
		pushAfterTarget: true,
		def: Config{
			Retpoline:     true,
			IndirectThunk: inlineRetpoline,
		},
	},
	// arch/x86/net/bpf_jit_comp.c @ 6.1 (Debian linux-source-6.1, 6.1.176):
	// EMIT_ENDBR, X86_TAIL_CALL_OFFSET (11 + ENDBR_INSN_SIZE),
	// tail_call_{direct,indirect}_label, is_imm8_jmp_offset,
	// PADDING_PASSES, emit_indirect_jump with ITS, emit_return,
	// RESTORE_TAIL_CALL_CNT, BPF_JMP32 | BPF_JA.
	"v6.1": {
		tailCallBase:     11,
		ibt:              true,
		labels:           true,
		imm8Limit:        123,
		padding:          true,
		emitReturn:       true,
		its:              true,
		atomics:          true,
		imul:             true,
		divNoAux:         true,
		nospec:           true,
		probeMem:         1,
		gotol:            true,
		tccAllCalls:      true,
		tccRoundedReload: true,
		deltas:           deltas61,
		// The x86_64-6.1 capture (Debian 6.1.176 under qemu): retpolines
		// through __x86_indirect_thunk_rcx, plain ret + int3 (CONFIG_SLS,
		// no return thunk on that CPU), no IBT.
		def: Config{
			Retpoline:     true,
			SLS:           true,
			IndirectThunk: "__x86_indirect_thunk_rcx",
		},
	},
	// arch/x86/net/bpf_jit_comp.c @ 6.12 (Debian linux-source-6.12) for the
	// 6.11 tail call hierarchy (emit_prologue_tail_call,
	// BPF_TAIL_CALL_CNT_PTR_STACK_OFF, LOAD_TAIL_CALL_CNT_PTR), cpuv4, BMI2
	// shifts and the 6.8 PROBE_MEM check; a 6.15-era bpf_jit_comp.c for
	// "src_reg == BPF_PSEUDO_CALL && tail_call_reachable" and the private
	// stack; "[PATCH bpf-next v5 5/6] bpf, x86: Support load-acquire and
	// store-release instructions" (6.15); the x86_64-6.18 capture for
	// everything they show.
	"v6.18": {
		tailCallBase:     12,
		tccPtr:           true,
		ibt:              true,
		cfi:              true,
		labels:           true,
		imm8Limit:        123,
		padding:          true,
		emitReturn:       true,
		its:              true,
		atomics:          true,
		loadAcqStoreRel:  true,
		imul:             true,
		divNoAux:         true,
		shiftV2:          true,
		nospec:           true,
		probeMem:         2,
		gotol:            true,
		cpuv4:            true,
		movImm64Simm32:   true,
		tccRoundedReload: true,
		privateStack:     true,
		deltas:           deltas618,
		// The x86_64-6.18 capture (this machine, AMD EPYC Zen 3): no IBT,
		// retpolines via __x86_indirect_thunk_rcx, srso_alias_return_thunk,
		// BMI2, no SLS.
		def: Config{
			Retpoline:     true,
			IndirectThunk: "__x86_indirect_thunk_rcx",
			ReturnThunk:   "srso_alias_return_thunk",
			BMI2:          true,
		},
	},
}

// Profiles of the x86-64 JIT, oldest first. The x86-specific facts of each
// live in versions, under the same name.
var profiles = []*jit.Profile{
	{
		Name:    "v5.10",
		Arch:    kernel.X86_64,
		Kernel:  "5.10",
		Summary: "Linux 5.10: variable prologue (nop5; xor eax,eax|nop2; ...; push rax), TCC by value in rax, MAX 32 with ja, inline retpoline",
		Sources: []string{
			"arch/x86/net/bpf_jit_comp.c @ v5.10 (Rtoax/linux-5.10.13): emit_prologue, emit_bpf_tail_call_indirect (off1 = 42, off2 = 31, off3 = 9), emit_bpf_tail_call_direct (off1 = 20, poke_off), X86_TAIL_CALL_OFFSET 11",
			"arch/x86/include/asm/nospec-branch.h @ v5.10: RETPOLINE_RCX_BPF_JIT (17 bytes with CONFIG_RETPOLINE, else jmp *%rcx)",
			"include/linux/bpf.h @ v5.10: MAX_TAIL_CALL_CNT 32, checked with ja (count > MAX)",
			"seed 001 (2020-07, v1 of \"bpf, x64: rework pro/epilogue and tailcall handling in JIT\"): the tailcall_bypass poke and its states",
		},
		MaxTailCallCnt:      32,
		TailCallCountGT:     true,
		SubprogTailCalls:    true,
		StackDepthUnrounded: true, // kernel/bpf/verifier.c @ 5.10: update_stack_depth stores -off as is
		Layout:              layout61,
	},
	{
		Name:    "bpf-next-2020-07",
		Arch:    kernel.X86_64,
		Kernel:  "5.9 (bpf-next, July 2020)",
		Summary: "seed 001's tree: v1 of the prologue rework (tailcall_bypass pokes), the 5.10 design with unconditional sub/add rsp",
		Sources: []string{
			"seed 001: \"[PATCH bpf-next] bpf, x64: rework pro/epilogue and tailcall handling in JIT\" v1 (2020-07-16) and its listing (add $0x0,%rsp with no stack)",
			"arch/x86/net/bpf_jit_comp.c @ v5.10 for everything the patch did not change",
		},
		MaxTailCallCnt:      32,
		TailCallCountGT:     true,
		SubprogTailCalls:    true,
		StackDepthUnrounded: true, // kernel/bpf/verifier.c @ 5.10: update_stack_depth stores -off as is
		Layout:              layout61,
	},
	{
		Name:    "counterexample-push-after-nop5",
		Arch:    kernel.X86_64,
		Kernel:  "none (seed 001's rejected layout)",
		Summary: "NOT A KERNEL: the layout seed 001 rejects, pops + nop5 + re-push instead of tailcall_bypass; shows why it is broken",
		Sources: []string{
			"seed 001: \"One might ask why there simply can not be pushes after the nop5?\" — the snippet at ffffffffc0370332 (pop %rbx; pop %rax; add $0x0,%rsp; nopl; sub $0x0,%rsp; push %rax; push %rbx; mov %rbx,%rdi)",
		},
		MaxTailCallCnt:      32,
		TailCallCountGT:     true,
		SubprogTailCalls:    true,
		StackDepthUnrounded: true,
		Counterexample:      true,
		Layout:              layout61,
	},
	{
		Name:    "v6.1",
		Arch:    kernel.X86_64,
		Kernel:  "6.1",
		Summary: "Linux 6.1: ENDBR with IBT, X86_TAIL_CALL_OFFSET 11(+4), TCC by value in rax, MAX 33 with jae, retpoline/return thunks",
		Sources: []string{
			"arch/x86/net/bpf_jit_comp.c @ 6.1 (Debian linux-source-6.1, 6.1.176)",
			"include/linux/bpf.h @ 5.17+: MAX_TAIL_CALL_CNT 33, checked with jae",
			"groundtruth capture x86_64-6.1 (Debian 6.1.0-50-amd64 under qemu)",
		},
		MaxTailCallCnt:   33,
		SubprogTailCalls: true,
		Layout:           layout61,
	},
	{
		Name:    "v6.18",
		Arch:    kernel.X86_64,
		Kernel:  "6.18",
		Summary: "Linux 6.18: tail call count pointer (6.11 hierarchy fix), X86_TAIL_CALL_OFFSET 12(+4), cpuv4, BMI2 shifts, return thunks",
		Sources: []string{
			"arch/x86/net/bpf_jit_comp.c @ 6.12 (Debian linux-source-6.12): emit_prologue_tail_call, LOAD_TAIL_CALL_CNT_PTR, emit_shiftx, emit_movsx_reg, emit_ldsx",
			"arch/x86/net/bpf_jit_comp.c, 6.15 era: tcc pointer reload only for BPF_PSEUDO_CALL; load-acquire/store-release (Peilin Ye, bpf-next v5 5/6)",
			"Leon Hwang, \"[PATCH v6 bpf-next 1/3] bpf, x64: Fix tailcall hierarchy\" (6.11)",
			"groundtruth capture x86_64-6.18 (6.18.44, AMD EPYC Zen 3)",
		},
		MaxTailCallCnt:   33,
		SubprogTailCalls: true,
		TCCPtr:           true,
		Layout:           layout618,
	},
}
