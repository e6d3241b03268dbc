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
		MaxTailCallCnt:  32,
		TailCallCountGT: true,
		LSE:             true,
		Layout:          layout61,
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
		Kernel:  "6.18 (modelled on the 6.12 source)",
		Summary: "tail call counter pointer in x26 (6.11 hierarchy fix), only used callee-saved regs pushed, bl for near calls, cpu v4",
		Sources: []string{
			"arch/arm64/net/bpf_jit_comp.c @ v6.12 (Debian linux-source-6.12 6.12.117): prepare_bpf_tail_call_cnt, find_used_callee_regs, push/pop_callee_regs, PROLOGUE_OFFSET = BTI + 2 + PAC + 4, emit_bpf_tail_call through *x26, emit_call (bl within +-128 MiB), inlined bpf_get_smp_processor_id/bpf_get_current_task, cpu v4 (sxt*, sdiv, rev, ldrs*, gotol)",
			"\"bpf, arm64: Fix tailcall hierarchy\" (Leon Hwang, 6.11): x26 = tail_call_cnt_ptr, counter in the main program's frame",
			"no 6.13-6.18 arm64 source or kernel is available here: changes to the JIT after 6.12 (private stack, load-acquire/store-release, timed may_goto) are not modelled",
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
		Layout:           layout61,
	},
}
