package arm64

import (
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Struct offsets of the kernels modelled here, for a default (non-debug)
// arm64 build. Source: BTF of Debian's linux-image-6.1.0-50-arm64 (the
// arm64-6.1 capture's layout) and the seed 000 listing (mov w10, #0x24 /
// #0x110 / #0x30), which agree.
var layout61 = kernel.Layout{ArrayMaxEntries: 0x24, ArrayPtrs: 0x110, ProgBPFFunc: 0x30}

// Struct offsets of 6.18, where struct bpf_map gained sha[32] and struct
// bpf_prog a SHA-256 digest. Source: the BTF of this machine's x86-64 6.18
// kernel (the x86_64-6.18 capture's layout), confirmed by its tail call
// code; the fields before these offsets hold no architecture-dependent
// types, but no arm64 6.18 BTF was available to confirm them.
var layout618 = kernel.Layout{ArrayMaxEntries: 0x4c, ArrayPtrs: 0x138, ProgBPFFunc: 0x48}

// Profiles of the arm64 JIT. Each switch cites the kernel source it models.
var profiles = []*jit.Profile{
	{
		Name:    "v5.10",
		Arch:    kernel.ARM64,
		Kernel:  "5.10",
		Summary: "Linux 5.10: TCC in x26, no fp-bottom register, tail calls refused in programs with bpf-to-bpf calls",
		Sources: []string{
			"arch/arm64/net/bpf_jit_comp.c @ v5.10: build_prologue (bti c; stp x29,x30; 3 callee pairs; mov x25,sp; mov x26,#0; PROLOGUE_OFFSET 7, 8 with BTI)",
			"arch/arm64/net/bpf_jit_comp.c @ v5.10: emit_bpf_tail_call (mov x10,#MAX_TAIL_CALL_CNT; cmp x26,x10; b.hi out)",
			"include/linux/bpf.h @ v5.10: MAX_TAIL_CALL_CNT 32",
			"kernel/bpf/verifier.c @ v5.10: check_map_func_compatibility: tail calls with bpf-to-bpf calls only on x86-64 JIT",
		},
		MaxTailCallCnt:      32,
		TailCallCountGT:     true,
		LSE:                 true,
		StackDepthUnrounded: true, // kernel/bpf/verifier.c @ 5.10: update_stack_depth stores -off as is
		Layout:              layout61,
	},
	{
		Name:    "bpf-next-2022-06",
		Arch:    kernel.ARM64,
		Kernel:  "5.19 (bpf-next, June 2022)",
		Summary: "seed 000's tree (d4609a5d8c70): TCC in x26 kept across bpf2bpf calls, PROLOGUE_OFFSET 9 with PAC/BTI",
		Sources: []string{
			"commit d4609a5d8c70 \"bpf, arm64: Keep tail call count across bpf2bpf calls\" (seed 000): TCC initialised only in the main program's prologue, bti j landing pad only there",
			"arch/arm64/net/bpf_jit_comp.c @ 5.19: PROLOGUE_OFFSET 9 if BTI or PAC else 8; paciasp else bti c as the first instruction",
			"commit 5b3d19b9bd40 \"bpf, arm64: Adjust the offset of str/ldr(immediate) to positive number\" (5.19): x27 = fp bottom, find_fpb_offset",
			"include/linux/bpf.h @ 5.17+: MAX_TAIL_CALL_CNT 33, checked with b.cs",
		},
		MaxTailCallCnt:   33,
		PAC:              true,
		BTI:              true,
		LSE:              true,
		SubprogTailCalls: true,
		FPBottom:         true,
		Layout:           layout61,
	},
	{
		Name:    "v6.1",
		Arch:    kernel.ARM64,
		Kernel:  "6.1",
		Summary: "Linux 6.1: patchable entry (mov x9, lr; nop) for trampolines, PLT after the epilogue, PROLOGUE_OFFSET = BTI + 2 + PAC + 8",
		Sources: []string{
			"arch/arm64/net/bpf_jit_comp.c @ v6.1 (Debian linux-source-6.1): build_prologue, build_plt, emit_bpf_tail_call, emit_lse_atomic",
			"groundtruth captures arm64-6.1 (Debian 6.1.176, PAC, LSE) and arm64-6.1-bti",
		},
		MaxTailCallCnt:   33,
		PAC:              true,
		LSE:              true,
		SubprogTailCalls: true,
		PatchableEntry:   true,
		FPBottom:         true,
		EntryBTIJC:       true,
		Layout:           layout61,
	},
	{
		Name:    "v6.18",
		Arch:    kernel.ARM64,
		Kernel:  "6.18 (6.12 source + the 6.13-6.18 arm64 JIT patches)",
		Summary: "6.12's JIT (x26 = tail call counter pointer, used callee regs only, bl for near calls, cpu v4) plus emit_a64_add_i in atomics (6.14), load-acquire/store-release (6.15), private stack and nospec barriers (6.17), timed may_goto calls (6.18)",
		Sources: []string{
			"arch/arm64/net/bpf_jit_comp.c @ v6.12 (Debian linux-source-6.12 6.12.117): prepare_bpf_tail_call_cnt, find_used_callee_regs, push/pop_callee_regs, PROLOGUE_OFFSET = BTI + 2 + PAC + 4, emit_bpf_tail_call through *x26, emit_call (bl within +-128 MiB), inlined bpf_get_smp_processor_id/bpf_get_current_task, cpu v4 (sxt*, sdiv, rev, ldrs*, gotol)",
			"\"bpf, arm64: Fix tailcall hierarchy\" (Leon Hwang, 6.11): x26 = tail_call_cnt_ptr, counter in the main program's frame",
			"arch/arm64/net/bpf_jit_comp.c of v6.16 (stored copy, search index file id 17771758: load-acquire and the 12-argument trampoline, no private stack): prologue, epilogue, tail call, emit_call and loads/stores unchanged from 6.12",
			"6.14 (bpf-next 2025-01, \"BPF changes for v6.14\"): 66bb58ac06c2 \"bpf, arm64: Factor out emit_a64_add_i()\", 8c21f88407d2 \"bpf, arm64: Emit A64_{ADD,SUB}_I when possible in emit_{lse,ll_sc}_atomic()\", 0a5807219a86 \"bpf, arm64: Simplify if logic in emit_lse_atomic()\": an atomic's offset is added with add/sub #imm, else mov + add tmp, dst, tmp",
			"6.15: \"bpf, arm64: Support load-acquire and store-release instructions\" (Peilin Ye, as posted in bpf-next v4 07/10) and \"arm64: insn: Add load-acquire and store-release instructions\": emit_atomic_ld_st, ldar{b,h}/stlr{b,h} of every size",
			"6.17 (\"BPF changes for 6.17\"): 6c17a882d380 \"bpf, arm64: JIT support for private stack\" (v2 2/3): x27 = per-CPU private stack, fp = x27 + stack_size, no sub sp; dff883d9e93a \"bpf, arm64, powerpc: Change nospec to include v1 barrier\" (arm64 hunk as posted in v2/v3 06/11): BPF_NOSPEC is sb with ARM64_HAS_SB (cpu:sb), else dsb nsh; isb (insn.h isb value 0xD50330DF)",
			"kernel/bpf/verifier.c (a76ab5731e32 \"bpf: Find eligible subprogs for private stack support\", 6.13): bpf_enable_priv_stack (kprobe, tracepoint, perf_event, raw_tracepoint; tracing unless an iterator), BPF_PRIV_STACK_MIN_SIZE 64, no private stack in programs with tail calls",
			"6.18 (\"BPF changes for 6.18\"): 16175375da36 \"bpf, arm64: Add JIT support for timed may_goto\" (v3 1/2): no mov x7, x0 after a call to arch_bpf_timed_may_goto (result in BPF_REG_AX, x9)",
			"not modelled: arena (PROBE_MEM32/PROBE_ATOMIC, 6.18 signed arena loads, the 6.19 BPF_ST arena fix), exception boundaries and callbacks (bpf_throw, 6.17 fp fix), private stacks of async callbacks and of struct_ops programs that request one, the real per-CPU address of a private stack (a placeholder unless the placement names a \"priv_stack_ptr\" symbol), the exception table, trampolines, the cBPF BHB epilogue; the default struct layout is still 6.1's although 6.18 grew struct bpf_map (sha[32]) and bpf_prog (SHA256 digest): the x86_64-6.18 capture's BTF has max_entries 0x4c, ptrs 0x138, bpf_func 0x48, unconfirmed for arm64; no 6.17/6.18 arm64 source file or 6.18 arm64 kernel capture was available",
		},
		MaxTailCallCnt:   33,
		PAC:              true,
		LSE:              true,
		SubprogTailCalls: true,
		PatchableEntry:   true,
		EntryBTIJC:       true,
		TCCPtr:           true,
		UsedCalleeRegs:   true,
		DirectCalls:      true,
		CPUv4:            true,
		InlineHelpers:    true,
		Layout:           layout618,
	},
}

// version holds what one arm64 kernel's JIT does beyond the switches of
// jit.Profile, keyed by profile name (profiles without an entry have none
// of these). Every field cites the change it models.
type version struct {
	// addImmAtomics: emit_{lse,ll_sc}_atomic and emit_atomic_ld_st add a
	// nonzero offset with emit_a64_add_i(1, tmp, dst, tmp, off): "add tmp,
	// dst, #off", "sub tmp, dst, #-off", else "mov tmp, #off; add tmp, dst,
	// tmp" (6.14, 8c21f88407d2). Before: "mov tmp, #off; add tmp, tmp, dst".
	addImmAtomics bool
	// loadAcqStoreRel: BPF_LOAD_ACQ/BPF_STORE_REL of every size become
	// ldar/stlr (6.15, emit_atomic_ld_st).
	loadAcqStoreRel bool
	// nospecBarrier: BPF_ST | BPF_NOSPEC emits "sb" on CPUs with
	// ARM64_HAS_SB, else "dsb nsh; isb" (6.17, dff883d9e93a); before it
	// emitted nothing.
	nospecBarrier bool
	// privateStack: tracing-type functions with a stack of 64 bytes or
	// more run on a per-CPU private stack in x27 (6.17, 6c17a882d380).
	privateStack bool
	// timedMayGoto: a call to arch_bpf_timed_may_goto is not followed by
	// "mov x7, x0" (6.18, 16175375da36).
	timedMayGoto bool
	// noNospec: the JIT predates BPF_ST | BPF_NOSPEC and refuses it as an
	// unknown opcode (build_insn's default case, -EINVAL). The opcode came
	// with 5.13's f5e81d111750 "bpf: Introduce BPF nospec instruction for
	// mitigating Spectre v4" (arch/arm64/net/bpf_jit_comp.c @ v5.10 has no
	// BPF_ST | BPF_NOSPEC case; 5.10.56 backported it).
	noNospec bool
}

var versions = map[string]version{
	"v5.10": {noNospec: true},
	"v6.18": {addImmAtomics: true, loadAcqStoreRel: true, nospecBarrier: true, privateStack: true, timedMayGoto: true},
}

// versionOf returns the version switches of profile p.
func versionOf(p *jit.Profile) version { return versions[p.Name] }
