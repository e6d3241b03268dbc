// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// captureObject is the committed object (testdata/captures-src/build.sh)
// compiled from the source a capture's program came from.
func captureObject(c *capture.Capture) (string, error) {
	dir, file := filepath.Split(c.Info.Source)
	prefix := map[string]string{"src-arm64/": "arm64-", "src-qemu/": "qemu-"}[dir]
	if prefix == "" {
		return "", fmt.Errorf("%s: no object for source %s", c.Dir, c.Info.Source)
	}
	return filepath.Join("../testdata/captures-src/obj", prefix+strings.TrimSuffix(file, ".c")+".bpf.o"), nil
}

func captures61(t testing.TB) []*capture.Capture {
	t.Helper()
	dirs, err := filepath.Glob("../testdata/captures/*-6.1/*/*/capture.json")
	more, err2 := filepath.Glob("../testdata/captures/*-6.1-*/*/*/capture.json")
	dirs = append(dirs, more...)
	if err != nil || err2 != nil || len(dirs) == 0 {
		t.Fatalf("6.1 captures: %v %v", dirs, err)
	}
	var out []*capture.Capture
	for _, d := range dirs {
		c, err := capture.Load(filepath.Dir(d))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func rewriteCapture(c *capture.Capture) (*Program, error) {
	obj, err := captureObject(c)
	if err != nil {
		return nil, err
	}
	set, err := scenarios.LoadELF(obj)
	if err != nil {
		return nil, err
	}
	name := CaptureProgram(set, c.Program)
	if name == "" {
		return nil, fmt.Errorf("%s: no program %s in %s", c.Dir, c.Program, obj)
	}
	f, err := FactsFromCapture(c)
	if err != nil {
		return nil, err
	}
	return Rewrite(set, name, f)
}

// The rewrites of every 6.1 capture's program, compiled from its source
// (testdata/captures-src/obj), with the facts of that capture, equal the
// xlated instructions the 6.1 kernel gave its JIT, byte for byte: arm64
// (Debian -cpu max and cortex-a57, the clang-built BTI kernel) and x86-64.
func TestRewriteMatches61Captures(t *testing.T) {
	matched := map[string]int{}
	for _, c := range captures61(t) {
		rel, _ := filepath.Rel("../testdata/captures", c.Dir)
		p, err := rewriteCapture(c)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		got, want := p.Bytes(), c.Xlated
		if string(got) != string(want) {
			n := min(len(got), len(want)) / 8
			s := 0
			for s < n && string(got[8*s:8*s+8]) == string(want[8*s:8*s+8]) {
				s++
			}
			t.Errorf("%s: differs at insn %d (%d insns, the kernel %d)", rel, s, len(got)/8, len(want)/8)
			continue
		}
		matched[c.Kernel.Name]++
	}
	// Every 6.1 kernel's programs were compared (the BTI kernel has no
	// bpf_trace_printk, so no printk program).
	want := map[string]int{"arm64-6.1": 8, "arm64-6.1-bti": 8, "x86_64-6.1": 8,
		"arm64-6.1-src": 30, "arm64-6.1-a57": 30, "arm64-6.1-bti-src": 29}
	for k, n := range want {
		if matched[k] != n {
			t.Errorf("%s: %d programs identical, want %d", k, matched[k], n)
		}
	}
}

// What 6.1's verifier does differently from 6.18's, on small programs:
// it keeps the NULL test of a constant-key array lookup, calls the per-CPU
// array lookup and bpf_get_smp_processor_id instead of inlining them, and
// rejects instruction forms that came later; LD_ABS is modelled for 6.1
// only.
func TestVersion61Differs(t *testing.T) {
	maps := []*kernel.Map{{Name: "arr", Type: "array", KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "pc", Type: "percpu_array", KeySize: 4, ValueSize: 8, MaxEntries: 4}}
	lookup := func(m string) asm.Instructions {
		jeq := asm.JEq.Imm(asm.R0, 0, "")
		jeq.Offset = 2
		return asm.Instructions{
			asm.LoadMapPtr(asm.R1, 0).WithReference(m).WithSymbol("prog"),
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			jeq,
			asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		}
	}
	prog := func(insns asm.Instructions) *kernel.Set {
		return &kernel.Set{Name: "t", Maps: maps, Programs: []*kernel.Program{{Name: "prog", Type: "sched_cls", Insns: insns}}}
	}
	v61, v618 := Offline(V61(kernel.ARM64)), Offline(V618())
	rw := func(set *kernel.Set, f Facts) (*Program, error) { return Rewrite(set, "prog", f) }
	hasCall := func(p *Program, name string) bool { _, ok := p.Calls[name]; return ok }

	a61, err := rw(prog(lookup("arr")), v61)
	if err != nil {
		t.Fatal(err)
	}
	a618, err := rw(prog(lookup("arr")), v618)
	if err != nil {
		t.Fatal(err)
	}
	// 11 slots (ld_imm64 takes two), the lookup inlined as 7: 6.1 keeps
	// the NULL test, 6.18 drops it and the NULL path
	// (can_elide_value_nullness).
	if len(a61.Insns) != 17 || len(a618.Insns) != 14 {
		t.Errorf("constant-key array lookup: 6.1 %d slots (want 17), 6.18 %d (want 14)", len(a61.Insns), len(a618.Insns))
	}

	p61, err := rw(prog(lookup("pc")), v61)
	if err != nil {
		t.Fatal(err)
	}
	p618, err := rw(prog(lookup("pc")), v618)
	if err != nil {
		t.Fatal(err)
	}
	if !hasCall(p61, "percpu_array_map_lookup_elem") || hasCall(p618, "percpu_array_map_lookup_elem") {
		t.Errorf("per-CPU array lookup: 6.1 calls %v, 6.18 calls %v", p61.CallNames(), p618.CallNames())
	}

	cpu := asm.Instructions{asm.FnGetSmpProcessorId.Call().WithSymbol("prog"), asm.Return()}
	c61, err := rw(prog(cpu), v61)
	if err != nil {
		t.Fatal(err)
	}
	c618, err := rw(prog(cpu), v618)
	if err != nil {
		t.Fatal(err)
	}
	if !hasCall(c61, "bpf_get_smp_processor_id") || len(c61.Insns) != 2 || len(c618.Insns) != 4 {
		t.Errorf("bpf_get_smp_processor_id: 6.1 %d insns calling %v, 6.18 %d insns", len(c61.Insns), c61.CallNames(), len(c618.Insns))
	}

	sdiv := asm.Div.Reg(asm.R0, asm.R1)
	sdiv.Offset = 1
	mayGoto := asm.Instruction{OpCode: asm.OpCode(clsJMP | 0xe0), Offset: 0}
	for name, in := range map[string]asm.Instruction{"sdiv": sdiv, "may_goto": mayGoto} {
		set := prog(asm.Instructions{asm.Mov.Imm(asm.R0, 1).WithSymbol("prog"), in, asm.Return()})
		if _, err := rw(set, v61); err == nil || !strings.Contains(err.Error(), "not in Linux 6.1") {
			t.Errorf("%s on 6.1: %v, want a refusal", name, err)
		}
		if _, err := rw(set, v618); err != nil {
			t.Errorf("%s on 6.18: %v", name, err)
		}
	}

	ldabs := prog(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("prog"), asm.LoadAbs(12, asm.Half), asm.Return()})
	l61, err := rw(ldabs, v61)
	if err != nil {
		t.Fatal(err)
	}
	// r6 = r1; r2 = 12; r1 = r6; call; if r0 s>= 0 goto +2; w0 ^= w0; exit; exit
	if len(l61.Insns) != 8 || !hasCall(l61, "bpf_skb_load_helper_16_no_cache") || l61.Insns[1].Imm != 12 || l61.Insns[2].Src != 6 {
		t.Errorf("LD_ABS on 6.1: %+v", l61.Insns)
	}
	if _, err := rw(ldabs, v618); err == nil {
		t.Error("LD_ABS on 6.18 was rewritten, but only 6.1's form is modelled")
	}
}

// FactsFromCapture takes the capture's own facts, not the built-in ones:
// another __bpf_call_base moves every helper call's imm.
func TestFactsFromCapture(t *testing.T) {
	c, err := capture.Load("../testdata/captures/arm64-6.1-src/calls/helpers")
	if err != nil {
		t.Fatal(err)
	}
	f, err := FactsFromCapture(c)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != Version61 || f.Arch != kernel.ARM64 || f.MapIDs["hash"] != 9 || f.StackDepths[0] != 16 || f.Layout["sk_buff.len"] != 112 {
		t.Errorf("facts: %s %s maps %v stack %v", f.Version, f.Arch, f.MapIDs, f.StackDepths)
	}
	p, err := rewriteCapture(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Placement().Symbols["__bpf_call_base"] -= 8
	q, err := rewriteCapture(c)
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range p.Insns {
		if p.Insns[i] != q.Insns[i] {
			diff++
			if p.Insns[i].Code != clsJMP|jmpCall || q.Insns[i].Imm != p.Insns[i].Imm+8 {
				t.Errorf("insn %d: %+v became %+v", i, p.Insns[i], q.Insns[i])
			}
		}
	}
	if diff != 4 { // bpf_ktime_get_ns, __htab_map_lookup_elem, htab_map_update_elem, bpf_user_rnd_u32
		t.Errorf("%d insns changed, want the 4 helper calls", diff)
	}
	c.Kernel.Version = "5.15"
	if _, err := FactsFromCapture(c); err == nil {
		t.Error("facts of a 5.15 capture were accepted")
	}
	f.Version = "5.15"
	if _, err := Rewrite(&kernel.Set{Name: "t", Programs: []*kernel.Program{{Name: "p", Insns: asm.Instructions{asm.Return()}}}}, "p", f); err == nil {
		t.Error("a rewrite for 5.15 was made")
	}
	// A 6.18 capture: the built-in offsets of its kernel, its own ids.
	c, err = capture.Load("../testdata/captures/x86_64-6.18-src/tailcalls/tc_direct")
	if err != nil {
		t.Fatal(err)
	}
	if f, err = FactsFromCapture(c); err != nil || f.version() != Version618 || f.Layout["sk_buff.len"] != V618().Layout["sk_buff.len"] || f.CPUNumber != V618().CPUNumber {
		t.Errorf("6.18 capture: %v %s %v %#x", err, f.version(), f.Layout["sk_buff.len"], f.CPUNumber)
	}
}

// bpf_loop is inlined only when every path passes one callback and flags
// 0 (update_loop_inline_state); otherwise it stays a call of bpf_loop.
// The spill slots lie below the function's own stack when no verifier
// depth is known. 6.18's inlining is not modelled.
func TestBPFLoop61(t *testing.T) {
	prog := func(flags int32) *kernel.Set {
		insns := asm.Instructions{
			asm.Instruction{OpCode: asm.OpCode(clsST | szDW | modeMEM), Dst: asm.RFP, Offset: -8}.WithSymbol("prog"),
			asm.Mov.Imm(asm.R1, 4),
			asm.LoadMapPtr(asm.R2, 0), // replaced below by a function pointer
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -8),
			asm.Mov.Imm(asm.R4, flags),
			asm.FnLoop.Call(),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("cb"),
			asm.Return(),
		}
		insns[2] = asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R2, Src: asm.PseudoFunc}.WithReference("cb")
		return &kernel.Set{Name: "t", Programs: []*kernel.Program{{Name: "prog", Type: "sched_cls", Insns: insns}}}
	}
	f := Offline(V61(kernel.X86_64))
	p, err := Rewrite(prog(0), "prog", f)
	if err != nil {
		t.Fatal(err)
	}
	// 9 slots before the callback (ld_imm64 takes two), the call becomes 19.
	if len(p.Insns) != 9+18+2 || p.Funcs[1].Start != 27 {
		t.Fatalf("inlined: %d slots, callback at %d: %+v", len(p.Insns), p.Funcs[1].Start, p.Insns)
	}
	// r6-r8 below the 8 bytes of the program's stack: r10-32..-16; the
	// call reaches the callback (index 1); the function pointer is relative.
	spill, call, ld := p.Insns[10], p.Insns[19], p.Insns[2]
	if spill.Off != -32 || call.Src != 1 || call.Imm != 1 || 19+1+int(call.Off) != 27 || ld.Imm != 27-3 || p.Insns[3].Imm != 1 {
		t.Errorf("spill %+v, call %+v, function pointer %+v %+v", spill, call, ld, p.Insns[3])
	}
	q, err := Rewrite(prog(1), "prog", f)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Insns) != 11 || len(q.CallNames()) != 1 || q.CallNames()[0] != "bpf_loop" {
		t.Errorf("flags 1: %d slots calling %v, want the helper call kept", len(q.Insns), q.CallNames())
	}
	if _, err := Rewrite(prog(0), "prog", Offline(V618())); err == nil {
		t.Error("a callback on 6.18 was rewritten")
	}
}

// The committed objects are their sources compiled as the captures'
// programs were (clang 14): rebuilt, they are the same bytes. Other
// compilers emit other code, so the check needs clang 14.
func TestCaptureObjectsUpToDate(t *testing.T) {
	out, err := exec.Command("clang", "--version").Output()
	if err != nil || !strings.Contains(string(out), "clang version 14.") {
		t.Skip("clang 14 (the captures' compiler) is not installed: the committed objects are not rebuilt")
	}
	dir := t.TempDir()
	if msg, err := exec.Command("sh", "../testdata/captures-src/build.sh", dir).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, msg)
	}
	built, err := filepath.Glob(filepath.Join(dir, "*.bpf.o"))
	if err != nil || len(built) != 10 {
		t.Fatalf("built %v %v, want 10 objects", built, err)
	}
	for _, b := range built {
		want, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("../testdata/captures-src/obj", filepath.Base(b)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: the committed object is not its source's (%v): go generate ./verifier", filepath.Base(b), err)
		}
	}
}
