// SPDX-License-Identifier: GPL-2.0-only

package machine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Replacement is an attached extension (freplace) program: the entry of
// its target function jumps to the extension.
type Replacement struct {
	Ext            string // the extension program
	Target, Func   string // the program and function it replaces
	Site           uint64 // the patched instruction
	Old, New       []byte
	Insn           string // the instruction written, in words
	TargetAddr     uint64 // the target function's image
	ExtAddr        uint64 // the extension's bpf_func
	TargetFuncName string // "prog/func" as the run loop names it
}

// ErrNoTextPoke is bpf_arch_text_poke's answer where the architecture's
// JIT does not implement it (the kernel's weak default, -ENOTSUPP).
var ErrNoTextPoke = errors.New("-ENOTSUPP")

// x86 instructions the attachment reads and writes.
var (
	x86Nop5            = []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}
	x86Endbr           = []byte{0xf3, 0x0f, 0x1e, 0xfa}
	a64Nop             = uint32(0xd503201f)
	a64BTIMask, a64BTI = uint32(0xffffff3f), uint32(0xd503241f) // bti, bti c, bti j, bti jc
	a64MovX9           = uint32(0x910003c9)                     // add x9, x30, #0 (mov x9, lr)
	a64BImm26          = uint32(0x14000000)
)

// AttachExtension models attaching the extension program ext in place of
// function fn of program target: bpf_tracing_prog_attach ->
// bpf_trampoline_link_prog, which for BPF_TRAMP_REPLACE makes no
// trampoline but patches the target function's entry into a jump to the
// extension, bpf_arch_text_poke(tr->func.addr, BPF_MOD_JUMP, NULL,
// prog->bpf_func) (kernel/bpf/trampoline.c, 5.7 on; tr->func.addr is
// tgt_prog->aux->func[subprog]->bpf_func, bpf_check_attach_target in
// kernel/bpf/verifier.c). Per architecture, as p's kernel does it:
//
//   - x86-64 (arch/x86/net/bpf_jit_comp.c bpf_arch_text_poke): the nop5
//     every JITed function starts with (after an ENDBR with IBT, skipped
//     since 6.2) becomes "jmp rel32" (e9) to the extension.
//   - arm64 6.0+ (arch/arm64/net/bpf_jit_comp.c bpf_arch_text_poke, commit
//     b2ad54e1533e): the nop of the patchable entry "[bti;] mov x9, lr;
//     nop" (ip + POKE_OFFSET instructions) becomes "b" to the extension
//     when within +-128 MiB (gen_branch_or_nop; farther targets go through
//     the PLT, which jitscope does not model and reports).
//   - arm64 before 6.0: no bpf_arch_text_poke: the kernel's weak default
//     answers -ENOTSUPP and the link fails.
//
// The CPU must be created after the attachment (or drop its decoded code).
func (k *Kernel) AttachExtension(p *jit.Profile, ext, target, fn string) (*Replacement, error) {
	ep := k.Progs[ext]
	if ep == nil {
		return nil, fmt.Errorf("attach %s: no program %q", ext, ext)
	}
	timg := k.Images[target]
	if timg == nil {
		return nil, fmt.Errorf("attach %s: no program %q", ext, target)
	}
	var f *jit.FuncImage
	for _, g := range timg.Funcs {
		if g.Name == fn {
			f = g
		}
	}
	if f == nil {
		return nil, fmt.Errorf("attach %s: %s has no function %q", ext, target, fn)
	}
	r := &Replacement{Ext: ext, Target: target, Func: fn, TargetAddr: f.Address, ExtAddr: ep.BPFFunc, TargetFuncName: target + "/" + fn}
	if fn == target {
		r.TargetFuncName = target
	}
	switch k.Arch {
	case kernel.X86_64:
		site := f.Address
		if hasPrefix(f.Code, x86Endbr) {
			site += uint64(len(x86Endbr))
		}
		old, err := k.Mem.ReadBytes(site, 5)
		if err != nil {
			return nil, err
		}
		if !equalBytes(old, x86Nop5) {
			return nil, fmt.Errorf("attach %s: %s/%s has no nop5 patch site at %#x (found % x): bpf_arch_text_poke answers -EBUSY", ext, target, fn, site, old)
		}
		rel := int64(ep.BPFFunc) - int64(site+5)
		if rel != int64(int32(rel)) {
			return nil, fmt.Errorf("attach %s: %s is out of rel32 range of %#x", ext, ext, site)
		}
		nw := []byte{0xe9, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(nw[1:], uint32(int32(rel)))
		r.Site, r.Old, r.New = site, old, nw
		r.Insn = fmt.Sprintf("nop5 -> jmp %#x <%s>", ep.BPFFunc, ext)
	case kernel.ARM64:
		if !p.PatchableEntry {
			return nil, fmt.Errorf("attach %s: the %s arm64 JIT has no bpf_arch_text_poke (arm64 pokes BPF text from 6.0): %w", ext, p.Name, ErrNoTextPoke)
		}
		site := f.Address
		if first := binary.LittleEndian.Uint32(f.Code); first&a64BTIMask == a64BTI {
			site += 4 // the landing pad (bti c; bti jc from 6.0 on)
		}
		mov, err := k.Mem.Load(site, 4)
		if err != nil {
			return nil, err
		}
		old, err := k.Mem.ReadBytes(site+4, 4)
		if err != nil {
			return nil, err
		}
		if uint32(mov) != a64MovX9 || binary.LittleEndian.Uint32(old) != a64Nop {
			return nil, fmt.Errorf("attach %s: %s/%s has no patchable entry (mov x9, lr; nop) at %#x: bpf_arch_text_poke answers -EFAULT", ext, target, fn, site)
		}
		site += 4
		off := int64(ep.BPFFunc) - int64(site)
		if off < -(1<<27) || off >= 1<<27 {
			return nil, fmt.Errorf("attach %s: %s is beyond +-128 MiB of %#x: the kernel would branch through the PLT, which jitscope does not model", ext, ext, site)
		}
		nw := make([]byte, 4)
		binary.LittleEndian.PutUint32(nw, a64BImm26|uint32(off>>2)&0x03ffffff)
		r.Site, r.Old, r.New = site, old, nw
		r.Insn = fmt.Sprintf("nop -> b %#x <%s>", ep.BPFFunc, ext)
	default:
		return nil, fmt.Errorf("attach %s: no text poke model for %s", ext, k.Arch)
	}
	if err := k.Mem.WriteBytes(r.Site, r.New); err != nil {
		return nil, err
	}
	if k.Replaced == nil {
		k.Replaced = map[uint64]*Replacement{}
	}
	k.Replaced[r.Site] = r
	return r, nil
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && equalBytes(b[:len(p)], p) }

func equalBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
