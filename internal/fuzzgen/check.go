// SPDX-License-Identifier: GPL-2.0-only

package fuzzgen

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
)

// CheckImage checks what a listing and a run rely on in one function image:
//   - the code decodes completely, instruction after instruction, to its
//     last byte (no undefined encodings);
//   - every direct jump lands on an instruction boundary inside the image,
//     or is a relocated jump to kernel text (x86 return and retpoline
//     thunks); every direct call lands on an instruction boundary inside the
//     image or is relocated (helpers, other functions);
//   - every BPF instruction maps to a byte range that starts on an
//     instruction boundary: BPFOffsets has one entry per instruction plus
//     the end of the body, never decreases and stays inside the code;
//   - the code of every BPF jump holds a branch to the code of the jump's
//     target instruction;
//   - regions, relocations and poke sites lie inside the code.
func CheckImage(arch kernel.Arch, f *jit.FuncImage) error {
	lf, err := disasm.ListFunc(arch, f)
	if err != nil {
		return fmt.Errorf("%s: does not decode: %w", f.Name, err)
	}
	start := map[int]bool{}
	end := 0
	for _, l := range lf.Lines {
		if l.Offset != end {
			return fmt.Errorf("%s: instruction at +%#x, previous one ended at +%#x", f.Name, l.Offset, end)
		}
		if l.Op == "udf" || l.Op == "(bad)" || len(l.Bytes) == 0 {
			return fmt.Errorf("%s: +%#x: undefined instruction %q (% x)", f.Name, l.Offset, l.Text, l.Bytes)
		}
		start[l.Offset] = true
		end += len(l.Bytes)
	}
	if end != len(f.Code) {
		return fmt.Errorf("%s: instructions cover %d of %d bytes", f.Name, end, len(f.Code))
	}
	relocated := map[int]bool{}
	for _, r := range f.Relocs {
		if r.Offset < 0 || r.Offset >= len(f.Code) || r.Field < 0 || r.Field+r.Size > len(f.Code) {
			return fmt.Errorf("%s: relocation %+v outside the code", f.Name, r)
		}
		relocated[r.Offset] = true
	}
	// x86 direct tail calls: the poke site (a poke-target region) jumps
	// into another program's image once the slot is filled (the run checks
	// where it lands).
	for _, p := range f.Pokes {
		if p.Target < 0 || p.Target >= len(f.Code) || !start[p.Target] {
			return fmt.Errorf("%s: poke target site at +%#x is not an instruction", f.Name, p.Target)
		}
		relocated[p.Target] = true
	}
	inside := func(a uint64) (int, bool) {
		if a < f.Address || a >= f.Address+uint64(len(f.Code)) {
			return 0, false
		}
		return int(a - f.Address), true
	}
	for _, l := range lf.Lines {
		if !l.HasTarget {
			continue
		}
		switch l.Kind {
		case disasm.Jump, disasm.CondJump, disasm.Call:
		default:
			continue
		}
		off, in := inside(l.Target)
		switch {
		case in && !start[off]:
			return fmt.Errorf("%s: +%#x %s: target +%#x is inside an instruction", f.Name, l.Offset, l.Text, off)
		case !in && !relocated[l.Offset] && f.RegionAt(l.Offset) != jit.RegionPokeTarget:
			return fmt.Errorf("%s: +%#x %s: target %#x is outside the image and not relocated", f.Name, l.Offset, l.Text, l.Target)
		}
	}
	if len(f.BPFOffsets) != len(f.Insns)+1 {
		return fmt.Errorf("%s: %d BPF offsets for %d instructions", f.Name, len(f.BPFOffsets), len(f.Insns))
	}
	for i, o := range f.BPFOffsets {
		if o < 0 || o > len(f.Code) || (o < len(f.Code) && !start[o]) {
			return fmt.Errorf("%s: BPF insn %d at +%#x: not an instruction boundary of the %d-byte image", f.Name, i, o, len(f.Code))
		}
		if i > 0 && o < f.BPFOffsets[i-1] {
			return fmt.Errorf("%s: BPF insn %d at +%#x before insn %d at +%#x", f.Name, i, o, i-1, f.BPFOffsets[i-1])
		}
	}
	// Each BPF jump's machine code holds a branch to its target's code.
	bySlot := map[int]int{}
	for i, in := range f.Insns {
		bySlot[in.Index] = i
	}
	for i, in := range f.Insns {
		op := in.OpCode
		if !op.Class().IsJump() || op.JumpOp() == asm.Call || op.JumpOp() == asm.Exit {
			continue
		}
		off := int(in.Offset)
		if op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja {
			off = int(int32(in.Constant))
		}
		j, ok := bySlot[in.Index+1+off]
		lo, hi := f.BPFOffsets[i], f.BPFOffsets[i+1]
		if !ok || lo == hi {
			continue // out of the function (the loader refuses it) or no code (goto +0)
		}
		want := f.Address + uint64(f.BPFOffsets[j])
		found := false
		for _, l := range lf.Lines {
			if l.Offset >= lo && l.Offset < hi && l.HasTarget && (l.Kind == disasm.Jump || l.Kind == disasm.CondJump) && l.Target == want {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s: BPF insn %d (jump to insn %d at +%#x): no branch there in its code [+%#x, +%#x)", f.Name, i, j, f.BPFOffsets[j], lo, hi)
		}
	}
	for _, r := range f.Regions {
		if r.Start < 0 || r.Start > r.End || r.End > len(f.Code) {
			return fmt.Errorf("%s: region %s [%d, %d) outside the %d-byte image", f.Name, r.Kind, r.Start, r.End, len(f.Code))
		}
	}
	for _, p := range f.Pokes {
		if _, ok := inside(f.Address + uint64(p.Bypass)); !ok || !start[p.Bypass] {
			return fmt.Errorf("%s: poke bypass at +%#x is not an instruction", f.Name, p.Bypass)
		}
	}
	if f.TailCallEntry >= 0 && f.TailCallEntry != len(f.Code) && !start[f.TailCallEntry] {
		return fmt.Errorf("%s: tail call entry +%#x is not an instruction boundary", f.Name, f.TailCallEntry)
	}
	return nil
}

// Limits bound a run of fuzzed code.
const (
	RunSteps  = 5000
	RunMemory = 16 << 20
)

// Run executes program prog of images on the emulator with the step and
// memory limits above and checks the run stayed inside them: at most
// RunSteps instructions, no more emulated memory mapped than the loader
// mapped, every store inside a writable region. A fault is a result, not a
// failure; an error is returned only for a broken invariant.
func Run(set *kernel.Set, arch kernel.Arch, p *jit.Profile, images []*jit.Image, prog string) (*machine.Run, error) {
	byName := map[string]*jit.Image{}
	for _, img := range images {
		byName[img.Program] = img
	}
	k, err := machine.New(set, arch, p.Layout, byName, machine.Options{MemoryLimit: RunMemory})
	if err != nil {
		if errors.Is(err, mem.ErrLimit) {
			return nil, nil
		}
		return nil, fmt.Errorf("laying out the machine: %w", err)
	}
	r, err := machine.NewRunner(k, p)
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
	if err != nil {
		return nil, err
	}
	before := k.Mem.Regions()
	k.Mem.Record(true)
	run := r.Run(cpu, prog, machine.RunOptions{StepLimit: RunSteps, Thunks: session.Thunks(images)})
	if len(run.Steps) > RunSteps {
		return run, fmt.Errorf("%d steps, limit %d", len(run.Steps), RunSteps)
	}
	after := k.Mem.Regions()
	if len(after) != len(before) {
		return run, fmt.Errorf("the run mapped memory: %d regions before, %d after", len(before), len(after))
	}
	for _, w := range k.Mem.Journal() {
		reg, ok := k.Mem.RegionAt(w.Addr)
		if !ok {
			return run, fmt.Errorf("a store at %#x outside every region", w.Addr)
		}
		if reg.Perm&mem.Write == 0 {
			return run, fmt.Errorf("a store at %#x into %s, which is not writable", w.Addr, reg.Name)
		}
	}
	return run, nil
}
