// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

func loadFixtures(t testing.TB) []*Fixture {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	var out []*Fixture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fx := &Fixture{}
		if err := json.Unmarshal(b, fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, fx)
	}
	return out
}

// The rewrites of every test object's program equal the xlated
// instructions a real 6.18 kernel produced (testdata, written by
// live's TestWriteVerifierFixtures), byte for byte.
func TestRewriteMatchesKernel(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		set, err := scenarios.LoadELF(filepath.Join("../live/testdata", fx.Object))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Rewrite(set, fx.Program, fx.Facts())
		if err != nil {
			t.Errorf("%s: %v", fx.Program, err)
			continue
		}
		want, _ := hex.DecodeString(fx.Xlated)
		got := p.Bytes()
		if string(got) != string(want) {
			for s := 0; s < min(len(got), len(want))/8; s++ {
				if string(got[8*s:8*s+8]) != string(want[8*s:8*s+8]) {
					t.Errorf("%s (%s): insn %d = %x, kernel %s has %x", fx.Program, fx.Object, s, got[8*s:8*s+8], fx.Kernel, want[8*s:8*s+8])
					break
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s: %d insns, kernel %d", fx.Program, len(got)/8, len(want)/8)
			}
		}
	}
}

// The facts are used, not assumed: another kernel's offsets and an
// unprivileged loader give other instructions.
func TestRewriteFollowsFacts(t *testing.T) {
	var skb, helpers *Fixture
	for _, fx := range loadFixtures(t) {
		switch fx.Program {
		case "skb_fields":
			skb = fx
		case "helpers":
			helpers = fx
		}
	}
	set, err := scenarios.LoadELF("../live/testdata/ctx.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	f := skb.Facts()
	base, err := Rewrite(set, "skb_fields", f)
	if err != nil {
		t.Fatal(err)
	}
	f.Layout = map[string]int{}
	for k, v := range skb.Layout {
		f.Layout[k] = v
	}
	f.Layout["sk_buff.mark"] += 8
	moved, err := Rewrite(set, "skb_fields", f)
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range base.Insns {
		if base.Insns[i] != moved.Insns[i] {
			diff++
			if moved.Insns[i].Off != base.Insns[i].Off+8 {
				t.Errorf("insn %d: %+v became %+v, want the offset 8 further", i, base.Insns[i], moved.Insns[i])
			}
		}
	}
	if diff != 1 { // skb->mark = 0x55 (clang folds the read back to 0x55)
		t.Errorf("moving sk_buff.mark changed %d insns, want 1", diff)
	}
	delete(f.Layout, "sk_buff.len")
	if _, err := Rewrite(set, "skb_fields", f); err == nil {
		t.Error("a missing struct offset was not reported")
	}

	mset, err := scenarios.LoadELF("../live/testdata/maps.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	hf := helpers.Facts()
	priv, err := Rewrite(mset, "helpers", hf)
	if err != nil {
		t.Fatal(err)
	}
	hf.Unprivileged = true
	unpriv, err := Rewrite(mset, "helpers", hf)
	if err != nil {
		t.Fatal(err)
	}
	// array_map_gen_lookup masks the index without bypass_spec_v1: one
	// instruction more (w0 &= index_mask) and the bounds jump over 4.
	if len(unpriv.Insns) != len(priv.Insns)+1 {
		t.Errorf("unprivileged: %d insns, privileged %d", len(unpriv.Insns), len(priv.Insns))
	}
	found := false
	for i, in := range unpriv.Insns {
		if in.Code == clsJMP|jmpJGE|srcK && in.Imm == 4 && in.Off == 4 && unpriv.Insns[i+1].Code == clsALU|opAnd|srcK && unpriv.Insns[i+1].Imm == 3 {
			found = true
		}
	}
	if !found {
		t.Error("no masked array lookup (if r0 >= 4 goto +4; w0 &= 3)")
	}
}

// Branches are adjusted around patches as bpf_adj_branches does: a jump
// over a patched instruction grows, one into it lands on its start.
func TestBranchAdjust(t *testing.T) {
	jeq := func(r asm.Register, k int32, off int16) asm.Instruction {
		in := asm.JEq.Imm(r, k, "")
		in.Offset = off
		return in
	}
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, 1).WithSymbol("prog"),
		jeq(asm.R1, 0, 1),           // jumps over the division
		asm.Div.Reg(asm.R0, asm.R1), // becomes 4 insns
		asm.Mov.Imm(asm.R2, 2),      // target
		jeq(asm.R2, 5, 1),
		asm.Return(),
		asm.Mod.Reg32(asm.R0, asm.R2), // 32-bit mod: 4 insns
		asm.Return(),
	}
	set := &kernel.Set{Name: "t", Programs: []*kernel.Program{{Name: "prog", Type: "sched_cls", Insns: insns}}}
	p, err := Rewrite(set, "prog", Facts{Layout: map[string]int{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Insns) != 8+3+3 {
		t.Fatalf("%d insns, want 14", len(p.Insns))
	}
	// insn 1: if r1 == 0 goto over: over is now at 6, so +4.
	if p.Insns[1].Off != 4 {
		t.Errorf("jump over the division: off %d, want 4", p.Insns[1].Off)
	}
	// chk_and_div at 2..5: if r1 != 0 goto +2; w0 ^= w0; goto +1; r0 /= r1
	if p.Insns[2].Code != clsJMP|jmpJNE|srcK || p.Insns[2].Dst != 1 || p.Insns[2].Off != 2 || p.Insns[4].Code != clsJMP|jmpJA || p.Insns[5].Code != clsALU64|opDiv|srcX {
		t.Errorf("chk_and_div: %+v", p.Insns[2:6])
	}
	// insn 7 (if r2 == 5 goto back): back is at 9, so +1.
	if p.Insns[7].Off != 1 {
		t.Errorf("jump to the patched mod: off %d, want 1", p.Insns[7].Off)
	}
	// chk_and_mod, 32-bit: if w2 == 0 goto +2; w0 %= w2; goto +1; w0 = w0
	if p.Insns[9].Code != clsJMP32|jmpJEQ|srcK || p.Insns[9].Off != 2 || p.Insns[12].Code != clsALU|opMov|srcX {
		t.Errorf("chk_and_mod: %+v", p.Insns[9:13])
	}
	// Every slot knows the instruction it came from: the division (2)
	// became slots 2..5, the mod (6) slots 9..12.
	wantOrigin := []int{0, 1, 2, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6, 7}
	for i, o := range wantOrigin {
		if p.Origin[i] != o {
			t.Errorf("origin of slot %d = %d, want %d", i, p.Origin[i], o)
		}
	}
	if len(p.Rewrites) != 2 {
		t.Errorf("rewrites %q", p.Rewrites)
	}
}

func TestRewriteErrors(t *testing.T) {
	insns := asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 2, asm.Byte).WithSymbol("prog"), // 1 byte of skb->len's second byte... offset 2
		asm.Return(),
	}
	set := &kernel.Set{Name: "t", Programs: []*kernel.Program{{Name: "prog", Type: "sched_cls", Insns: insns}}}
	if _, err := Rewrite(set, "prog", Facts{Layout: map[string]int{"sk_buff.len": 112}}); err == nil {
		t.Error("an unmodelled context access was accepted")
	}
	if _, err := Rewrite(set, "nope", Facts{}); err == nil {
		t.Error("a missing program was accepted")
	}
}

// Branches every value decides the same way lose their dead side, as
// opt_hard_wire_dead_code_branches, opt_remove_dead_code and
// opt_remove_nops do; a branch whose dead edge leads to an instruction
// reached anyway stays.
func TestDeadCode(t *testing.T) {
	jmp := func(op asm.JumpOp, r asm.Register, k int32, off int16) asm.Instruction {
		in := op.Imm(r, k, "")
		in.Offset = off
		return in
	}
	insns := asm.Instructions{
		jmp(asm.JGE, asm.R1, 0, 1).WithSymbol("prog"), // always taken: insn 1 is never reached
		asm.Mov.Imm(asm.R0, 1),
		asm.Mov.Imm(asm.R0, 2),
		jmp(asm.JLT, asm.R1, 0, 1), // never taken, but its target is reached by falling through
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
	}
	set := &kernel.Set{Name: "t", Programs: []*kernel.Program{{Name: "prog", Type: "sched_cls", Insns: insns}}}
	p, err := Rewrite(set, "prog", Facts{Layout: map[string]int{}})
	if err != nil {
		t.Fatal(err)
	}
	// r0 = 2; if r1 < 0 goto +1; r0 = 3; exit
	want := []uint8{clsALU64 | opMov | srcK, clsJMP | 0xa0 | srcK, clsALU64 | opMov | srcK, clsJMP | jmpExit}
	if len(p.Insns) != len(want) {
		t.Fatalf("%d insns, want %d: %+v", len(p.Insns), len(want), p.Insns)
	}
	for i, c := range want {
		if p.Insns[i].Code != c {
			t.Errorf("insn %d: code %#x, want %#x", i, p.Insns[i].Code, c)
		}
	}
	if p.Insns[0].Imm != 2 || p.Insns[1].Off != 1 {
		t.Errorf("got %+v", p.Insns)
	}
	// An unprivileged loader keeps dead code (sanitize_dead_code).
	up, err := Rewrite(set, "prog", Facts{Layout: map[string]int{}, Unprivileged: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Insns) != len(insns) {
		t.Errorf("unprivileged: %d insns, want %d", len(up.Insns), len(insns))
	}
	for _, c := range []struct {
		cls, op uint8
		imm     int32
		taken   bool
		ok      bool
	}{
		{clsJMP, jmpJGE, 0, true, true}, {clsJMP, 0xa0, 0, false, true}, {clsJMP, 0xb0, -1, true, true},
		{clsJMP, jmpJGT, -1, false, true}, {clsJMP32, 0xd0, 0x7fffffff, true, true}, {clsJMP, 0xd0, 0x7fffffff, false, false},
		{clsJMP, jmpJGE, 1, false, false}, {clsJMP, jmpJEQ, 0, false, false},
	} {
		taken, ok := decided(c.cls, c.op, c.imm)
		if taken != c.taken || ok != c.ok {
			t.Errorf("decided(%#x, %#x, %d) = %v %v, want %v %v", c.cls, c.op, c.imm, taken, ok, c.taken, c.ok)
		}
	}
}
