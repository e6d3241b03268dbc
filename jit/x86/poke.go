// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"encoding/binary"
	"fmt"

	"github.com/jitscope/jitscope/jit"
)

// Poke is one direct tail call's pair of patch sites in a function image
// (struct bpf_jit_poke_descriptor), found from its RegionPokeBypass and
// RegionPokeTarget regions.
type Poke struct {
	// Bypass is the offset of tailcall_bypass: "jmp out" over the unwind
	// while the slot is empty, a nop5 once it is filled.
	Bypass int
	// Target is the offset of tailcall_target: a nop5 while the slot is
	// empty, "jmp bpf_func + X86_TAIL_CALL_OFFSET" once it is filled.
	Target int
	// Dest is where Target jumps in the image, 0 while it is a nop5.
	Dest uint64
}

// Out is poke->bypass_addr, where the bypass jumps: right after the target.
func (p Poke) Out() int { return p.Target + x86PatchSize }

// PokeState is one of the four states of a direct tail call's patch sites
// that seed 001 names (bypass, unwind, target).
type PokeState int

// The states of a poke descriptor. Installing a program goes C -> D -> B,
// replacing it stays in B, removing it goes B -> C; A is never allowed (a
// CPU would unwind the frame and then not jump).
const (
	PokeA PokeState = iota // nop, unwind, nop: forbidden
	PokeB                  // nop, unwind, tail: slot filled
	PokeC                  // skip, unwind, nop: slot empty (the image as loaded)
	PokeD                  // skip, unwind, tail: target poked, bypass not yet
)

func (s PokeState) String() string {
	switch s {
	case PokeA:
		return "A (nop, unwind, nop: forbidden)"
	case PokeB:
		return "B (nop, unwind, tail)"
	case PokeC:
		return "C (skip, unwind, nop)"
	case PokeD:
		return "D (skip, unwind, tail)"
	}
	return fmt.Sprintf("PokeState(%d)", int(s))
}

// Pokes returns the direct tail calls' patch sites of fi, in code order.
func Pokes(fi *jit.FuncImage) []Poke {
	var out []Poke
	bypass := -1
	for _, r := range fi.Regions {
		switch r.Kind {
		case jit.RegionPokeBypass:
			bypass = r.Start
		case jit.RegionPokeTarget:
			if bypass < 0 || r.Start+x86PatchSize > len(fi.Code) {
				continue
			}
			p := Poke{Bypass: bypass, Target: r.Start}
			if fi.Code[r.Start] == 0xE9 {
				rel := int32(binary.LittleEndian.Uint32(fi.Code[r.Start+1:]))
				p.Dest = fi.Address + uint64(r.Start+x86PatchSize) + uint64(int64(rel))
			}
			out = append(out, p)
			bypass = -1
		}
	}
	return out
}

// EmptyState returns fi's code with every prog-array slot its direct tail
// calls use empty: the image right after loading, before
// bpf_tail_call_direct_fixup or a map update poked it (the kernel's image
// in jited.empty.bin). Code holds the state of the slots at load time.
func EmptyState(fi *jit.FuncImage) []byte {
	code := append([]byte(nil), fi.Code...)
	for _, p := range Pokes(fi) {
		setPoke(code, fi.Address, p, PokeC, 0)
	}
	return code
}

// WithPoke returns a copy of code (an image of fi) with the patch sites of
// p in state s; dest is the jump target for the states that jump (B, D),
// normally the target program's bpf_func + X86_TAIL_CALL_OFFSET.
func WithPoke(fi *jit.FuncImage, code []byte, p Poke, s PokeState, dest uint64) ([]byte, error) {
	if len(code) != len(fi.Code) {
		return nil, fmt.Errorf("%s: image of %d bytes, want %d", fi.Name, len(code), len(fi.Code))
	}
	if p.Bypass < 0 || p.Out() > len(code) || p.Bypass+x86PatchSize > p.Target {
		return nil, fmt.Errorf("%s: no poke site at %#x/%#x", fi.Name, p.Bypass, p.Target)
	}
	out := append([]byte(nil), code...)
	if err := setPoke(out, fi.Address, p, s, dest); err != nil {
		return nil, fmt.Errorf("%s: %w", fi.Name, err)
	}
	return out, nil
}

// setPoke writes the two patch sites of p as __bpf_arch_text_poke would.
func setPoke(code []byte, base uint64, p Poke, s PokeState, dest uint64) error {
	jumps := s == PokeB || s == PokeD
	skips := s == PokeC || s == PokeD
	if jumps {
		b, ok := jmpRel32(base+uint64(p.Target), dest)
		if !ok {
			return fmt.Errorf("tail call target %#x out of range of %#x", dest, base+uint64(p.Target))
		}
		copy(code[p.Target:], b[:])
	} else {
		copy(code[p.Target:], nop5)
	}
	if skips {
		b, _ := jmpRel32(base+uint64(p.Bypass), base+uint64(p.Out()))
		copy(code[p.Bypass:], b[:])
	} else {
		copy(code[p.Bypass:], nop5)
	}
	return nil
}
