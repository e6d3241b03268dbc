// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// The expected bytes in this file are read off the 5.10 sources, not taken
// from jitscope: arch/x86/net/bpf_jit_comp.c @ v5.10 (Rtoax/linux-5.10.13)
// emit_prologue, push_callee_regs, emit_bpf_tail_call_direct,
// emit_bpf_tail_call_indirect and the BPF_JMP | BPF_CALL case of do_jit,
// and arch/x86/include/asm/nospec-branch.h @ v5.10 RETPOLINE_RCX_BPF_JIT.

// TestV510Prologue holds emit_prologue @ v5.10: "nop5; xor eax,eax (main,
// tail call reachable) | nop2; push rbp; mov rbp,rsp; sub rsp,N (if
// stack_depth); push rax (if tail call reachable)", then push_callee_regs.
func TestV510Prologue(t *testing.T) {
	exit := insn(0x95, 0, 0, 0, 0)
	r0 := insn(0xb7, 0, 0, 0, 0) // r0 = 0
	cases := []struct {
		name  string
		l     *kernel.Loaded
		want  string
		entry int
	}{
		{"main, tail call, stack 16", loaded(16, false, r0, tailCall(false, 0), exit),
			"0f 1f 44 00 00 31 c0 55 48 89 e5 48 81 ec 10 00 00 00 50", 11},
		{"main, tail call, stack 0: no sub", loaded(0, false, r0, tailCall(false, 0), exit),
			"0f 1f 44 00 00 31 c0 55 48 89 e5 50", 11},
		{"no tail call, stack 12 (round_up to 16)", loaded(12, false, r0, exit),
			"0f 1f 44 00 00 66 90 55 48 89 e5 48 81 ec 10 00 00 00", 11},
		{"callee-saved r6, r9", loaded(0, false, insn(0xbf, 6, 1, 0, 0), insn(0xbf, 9, 1, 0, 0), r0, exit),
			"0f 1f 44 00 00 66 90 55 48 89 e5 53 41 57", 11},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fi := compile(t, "v5.10", tc.l).Funcs[0]
			want := unhex(t, tc.want)
			if got := fi.Code[:fi.BPFOffsets[0]]; !bytes.Equal(got, want) {
				t.Errorf("Compile(%s) prologue = %s, want %s", tc.name, spaced(got), spaced(want))
			}
			if fi.TailCallEntry != tc.entry {
				t.Errorf("TailCallEntry = %d, want %d (X86_TAIL_CALL_OFFSET @ v5.10)", fi.TailCallEntry, tc.entry)
			}
		})
	}
}

// seed001Set is the program of seed 001's example ("only R6 of callee
// saved registers is used"): ctx kept in rbx, a direct tail call to
// jmp_table[0], then "mov %rbx,%rdi" (r1 = r6) after it. entry is placed
// so that the bypass lands at the seed's 0xffffffffc0513aa1.
func seed001Set(stack int, filled bool) *kernel.Set {
	entry := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("entry"),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	target := asm.Instructions{
		asm.Mov.Imm(asm.R0, 7).WithSymbol("target"),
		asm.Return(),
	}
	jt := &kernel.Map{Name: "jmp_table", Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 1}
	if filled {
		jt.Progs = map[uint32]string{0: "target"}
	}
	s := &kernel.Set{
		Name: "seed001",
		Programs: []*kernel.Program{
			{Name: "entry", Type: "sched_cls", Insns: entry, Funcs: []kernel.Func{{Name: "entry", StackDepth: stack}}},
			{Name: "target", Type: "sched_cls", Insns: target, Funcs: []kernel.Func{{Name: "target", StackDepth: 0}}},
		},
		Maps: []*kernel.Map{jt},
	}
	// The bypass is 58 bytes into the image with a stack, 51 without.
	addr := uint64(0xffffffffc0513aa1 - 58)
	if stack == 0 {
		addr = 0xffffffffc0513aa1 - 51
	}
	pl := s.Placement(kernel.X86_64)
	pl.Funcs = map[string]uint64{"entry": addr, "target": 0xffffffffc0512000}
	pl.Maps = map[string]uint64{"jmp_table": 0xffff888003d4c000}
	return s
}

func compileSeed001(t *testing.T, stack int, filled bool) *jit.FuncImage {
	t.Helper()
	p, err := jit.LookupProfile(kernel.X86_64, "v5.10")
	if err != nil {
		t.Fatal(err)
	}
	l, err := kernel.Load(seed001Set(stack, filled), "entry", kernel.X86_64, kernel.Options{Layout: p.Layout})
	if err != nil {
		t.Fatal(err)
	}
	img, err := jit.Compile(l, p)
	if err != nil {
		t.Fatal(err)
	}
	return img.Funcs[0]
}

// TestV510Seed001 holds the direct tail call of 5.10 to seed 001's listing
// ("ffffffffc0513aa1: e9 0e 00 00 00 jmpq; 5b pop %rbx; 58 pop %rax;
// 48 81 c4 00 00 00 00 add $0x0,%rsp; 0f 1f 44 00 00 nopl; 48 89 df mov
// %rbx,%rdi"), and to the 5.10 source where they differ: the seed is v1 of
// the patch (2020-07-16), whose epilogue of the tail call emitted
// "add rsp, 0" for every stack depth; v5.10 emits it only "if (stack_depth)",
// so the seed's bytes come back with a non-zero stack (here 8), and with
// stack depth 0 the bypass jumps 7 bytes (pop rbx, pop rax, nop5).
func TestV510Seed001(t *testing.T) {
	cases := []struct {
		name   string
		stack  int
		filled bool
		want   string // from the bypass to the end of "mov %rbx,%rdi"
	}{
		{"seed's bytes, stack 8, slot empty", 8, false, "e9 0e 00 00 00 5b 58 48 81 c4 08 00 00 00 0f 1f 44 00 00 48 89 df"},
		{"stack 0, slot empty (v5.10: no add rsp)", 0, false, "e9 07 00 00 00 5b 58 0f 1f 44 00 00 48 89 df"},
		// Filled: bypass nop5, target "jmp target + 11" (0xffffffffc051200b
		// from 0xffffffffc0513ab4).
		{"stack 8, slot filled", 8, true, "0f 1f 44 00 00 5b 58 48 81 c4 08 00 00 00 e9 57 e5 ff ff 48 89 df"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fi := compileSeed001(t, tc.stack, tc.filled)
			pokes := x86.Pokes(fi)
			if len(pokes) != 1 {
				t.Fatalf("Pokes = %+v, want one direct tail call", pokes)
			}
			p := pokes[0]
			if got := fi.Address + uint64(p.Bypass); got != 0xffffffffc0513aa1 {
				t.Errorf("tailcall_bypass at %#x, want 0xffffffffc0513aa1 (seed 001)", got)
			}
			want := unhex(t, tc.want)
			got := fi.Code[p.Bypass:min(p.Bypass+len(want), len(fi.Code))]
			if !bytes.Equal(got, want) {
				t.Errorf("Compile(seed001, stack %d) = %s, want %s", tc.stack, spaced(got), spaced(want))
			}
			// The tail call check in front of the bypass: mov eax, [rbp -
			// (4 + round_up(stack, 8))]; cmp eax, 32; ja out (off1 = 20 +
			// pop_bytes + 7 with a stack); add eax, 1; mov [rbp - tcc_off], eax.
			var check string
			if tc.stack == 8 {
				check = "8b 85 f4 ff ff ff 83 f8 20 77 1c 83 c0 01 89 85 f4 ff ff ff"
			} else {
				check = "8b 85 fc ff ff ff 83 f8 20 77 15 83 c0 01 89 85 fc ff ff ff"
			}
			wantCheck := unhex(t, check)
			if got := fi.Code[p.Bypass-len(wantCheck) : p.Bypass]; !bytes.Equal(got, wantCheck) {
				t.Errorf("Compile(seed001) TCC check = %s, want %s", spaced(got), spaced(wantCheck))
			}
			if tc.filled {
				if p.Dest != 0xffffffffc0512000+11 {
					t.Errorf("poke target jumps to %#x, want target + X86_TAIL_CALL_OFFSET = %#x", p.Dest, uint64(0xffffffffc0512000+11))
				}
				empty := x86.EmptyState(fi)
				if want := compileSeed001(t, tc.stack, false).Code; !bytes.Equal(empty, want) {
					t.Errorf("EmptyState = %s\nwant (the image compiled with the slot empty) %s", spaced(empty), spaced(want))
				}
			}
		})
	}
}

// TestV510Indirect holds emit_bpf_tail_call_indirect @ v5.10 with
// CONFIG_RETPOLINE: the out offsets are counted, off1 = 42, off2 = 31,
// off3 = 9, plus pop_bytes, RETPOLINE_RCX_BPF_JIT_SIZE (17) and 7 for
// "add rsp" with a stack.
func TestV510Indirect(t *testing.T) {
	l := loaded(0, false,
		insn(0xbf, 6, 1, 0, 0), // r6 = r1: pop_bytes = 1
		insn(0xb7, 3, 0, 0, 1), // r3 = 1
		ldMap(2, "jmp_table", testMap),
		tailCall(false, 0),
		insn(0x95, 0, 0, 0, 0),
	)
	fi := compile(t, "v5.10", l).Funcs[0]
	want := unhex(t, `89 d2  39 56 24  76 3c
		8b 85 fc ff ff ff  83 f8 20  77 31  83 c0 01  89 85 fc ff ff ff
		48 8b 8c d6 10 01 00 00  48 85 c9  74 1b
		5b  58  48 8b 49 30  48 83 c1 0b
		e8 07 00 00 00  f3 90  0f ae e8  eb f9  48 89 0c 24  c3`)
	got := fi.Code[fi.BPFOffsets[3]:fi.BPFOffsets[4]]
	if !bytes.Equal(got, want) {
		t.Errorf("Compile(indirect tail call, v5.10) = %s\nwant %s", spaced(got), spaced(want))
	}
	if r := fi.RegionAt(fi.BPFOffsets[3]); r != jit.RegionTailCall {
		t.Errorf("region of the tail call = %q, want %q", r, jit.RegionTailCall)
	}
}

// TestTCCReloadBeforeCall holds the reload of the tail call count before a
// call in a tail-call-reachable function: 5.10 loads from rbp -
// (stack_depth + 8) unrounded, 6.1 from rbp - round_up(stack_depth, 8) - 8
// (RESTORE_TAIL_CALL_CNT), 6.18 the tcc_ptr from rbp - 16 -
// round_up(stack_depth, 8), and only before bpf-to-bpf calls.
func TestTCCReloadBeforeCall(t *testing.T) {
	helper := insn(0x85, 0, 0, 0, 0x1000) // a helper at __bpf_call_base + 0x1000
	helper.Kind = kernel.HelperCall
	cases := []struct {
		profile string
		want    string
	}{
		{"v5.10", "48 8b 85 ec ff ff ff e8"},
		{"v6.1", "48 8b 85 e8 ff ff ff e8"},
		{"v6.18", "e8"},
	}
	for _, tc := range cases {
		l := loaded(12, false, helper, tailCall(false, 0), insn(0x95, 0, 0, 0, 0))
		fi := compile(t, tc.profile, l).Funcs[0]
		want := unhex(t, tc.want)
		got := fi.Code[fi.BPFOffsets[0] : fi.BPFOffsets[0]+len(want)]
		if !bytes.Equal(got, want) {
			t.Errorf("Compile(call, %s) = %s, want %s", tc.profile, spaced(got), spaced(want))
		}
		call := fi.BPFOffsets[1] - 5
		if len(fi.Relocs) == 0 || fi.Relocs[0].Offset != call || fi.Relocs[0].Target != testCallBase+0x1000 {
			t.Errorf("%s: relocs %+v, want a call_rel32 at %d to %#x", tc.profile, fi.Relocs, call, uint64(testCallBase+0x1000))
		}
	}
}
