package arm64_test

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// listing compiles every program of set with profile name and returns the
// text of each function's instructions, keyed by function name.
func listing(t *testing.T, set *kernel.Set, name string) map[string][]string {
	t.Helper()
	prof, err := jit.LookupProfile(kernel.ARM64, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, p := range set.Programs {
		l, err := kernel.Load(set, p.Name, kernel.ARM64, kernel.Options{Layout: prof.Layout})
		if err != nil {
			t.Fatal(err)
		}
		img, err := jit.Compile(l, prof)
		if err != nil {
			t.Fatal(err)
		}
		lp, err := disasm.List(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range lp.Funcs {
			for _, line := range f.Lines {
				out[f.Image.Name] = append(out[f.Image.Name], line.Text)
			}
		}
	}
	return out
}

func hasSeq(got []string, want ...string) int {
	for i := 0; i+len(want) <= len(got); i++ {
		ok := true
		for j, w := range want {
			if got[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// TestV618Sequences holds the v6.18 profile to the instruction sequences of
// arch/arm64/net/bpf_jit_comp.c @ v6.12 (Debian linux-source-6.12): the
// "generated main prog prologue" comment above prepare_bpf_tail_call_cnt,
// push_callee_regs/pop_callee_regs, emit_bpf_tail_call and build_epilogue.
// These are unchanged in the 6.16 bpf_jit_comp.c (search index file id
// 17771758); 6.17's private stack only changes them for tracing programs
// with a 64-byte stack and no tail calls (v618_changes_test.go), and the
// tail call sequence is still 6.12's in the context of the January 2026
// patch "bpf, arm64: tailcall: Eliminate max_entries and bpf_func access at
// runtime" (Leon Hwang, bpf-next, not in 6.18).
func TestV618Sequences(t *testing.T) {
	got := listing(t, seedSet(), "v6.18")
	cases := []struct {
		fn   string
		want []string
		at   int // expected index of the sequence, -1 for anywhere
	}{
		// Main program: bti jc (BTI) / mov x9, lr / nop / paciasp /
		// stp x29, lr / mov x29, sp / stp xzr, x26 / mov x26, sp, then
		// PROLOGUE_OFFSET (BTI + 2 + PAC + 4 = 8 insns) and bti j.
		{"entry", []string{"bti jc", "add x9, x30, #0x0", "nop", "paciasp", "stp x29, x30, [sp, #-16]!", "mov x29, sp",
			"stp xzr, x26, [sp, #-16]!", "mov x26, sp", "bti j"}, 0},
		// entry uses r10 only (r2 is a scratch register): push_callee_regs
		// saves x25 with xzr to keep sp aligned, then mov x25, sp.
		{"entry", []string{"bti j", "stp x25, xzr, [sp, #-16]!", "mov x25, sp", "sub sp, sp, #0x10"}, 8},
		// A subprogram keeps the caller's pointer: stp x26, x26.
		{"subprog_tail", []string{"bti jc", "add x9, x30, #0x0", "nop", "paciasp", "stp x29, x30, [sp, #-16]!", "mov x29, sp",
			"stp x26, x26, [sp, #-16]!", "stp x19, x20, [sp, #-16]!", "stp x25, xzr, [sp, #-16]!", "mov x25, sp", "sub sp, sp, #0x10"}, 0},
		// The stack slot r10-4 is reached through sp: off + stack_size = 12.
		{"subprog_tail", []string{"str w0, [sp, #12]"}, -1},
		// emit_bpf_tail_call: the count through the pointer, stored back
		// only once the slot proved non-empty, callee regs popped first.
		{"subprog_tail", []string{"mov w10, #0x21", "ldr x12, [x26]", "cmp x12, x10"}, -1},
		{"subprog_tail", []string{"add x12, x12, #0x1", "mov w10, #0x138", "add x10, x1, x10", "lsl x11, x2, #3",
			"ldr x11, [x10, x11]"}, -1},
		{"subprog_tail", []string{"str x12, [x26]", "add sp, sp, #0x10", "ldp x25, xzr, [sp], #16", "ldp x19, x20, [sp], #16",
			"mov w10, #0x48", "ldr x10, [x11, x10]", "add x10, x10, #0x20", "br x10"}, -1},
		// build_epilogue: pop callee regs, then the tcc pointer slot.
		{"subprog_tail", []string{"ldp x25, xzr, [sp], #16", "ldp x19, x20, [sp], #16", "ldp xzr, x26, [sp], #16",
			"ldp x29, x30, [sp], #16", "add x0, x7, #0x0", "autiasp", "ret"}, -1},
		// classifier_0 uses no callee-saved register and no stack.
		{"classifier_0", []string{"mov x26, sp", "bti j", "mov x0, #0xffffffc0ffffffff"}, -1},
	}
	for _, c := range cases {
		i := hasSeq(got[c.fn], c.want...)
		if i < 0 || (c.at >= 0 && i != c.at) {
			t.Errorf("%s: sequence %q at %d (want %d); listing:\n%s", c.fn, c.want, i, c.at, strings.Join(got[c.fn], "\n"))
		}
	}
	// The bpf2bpf call: entry and subprog_tail are 100 MiB apart at the
	// seed's addresses, so 6.12's emit_call uses a direct bl.
	if hasSeq(got["entry"], "bl 0xffffffc00902d25c") < 0 {
		t.Errorf("entry: no direct bl to subprog_tail:\n%s", strings.Join(got["entry"], "\n"))
	}
}
