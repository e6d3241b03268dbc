package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Text pokes of x86 direct tail calls, modelled on the kernel's
// bpf_arch_poke_desc_update and __bpf_arch_text_poke
// (arch/x86/net/bpf_jit_comp.c, 5.10 through 6.18) driven by
// prog_array_map_poke_run (kernel/bpf/arraymap.c).
//
// A direct tail call has two 5-byte sites. tailcall_bypass sits before the
// unwind (pop callee-saved registers, pop rax, add rsp) and either jumps
// over it ("skip") or is a nop5; tailcall_target sits after the unwind and
// is either a nop5 or a jmp into the target program past its prologue
// ("tail"). Seed 001 names the four combinations:
//
//	A  nop,  unwind, nop   forbidden: unwinds the frame, then falls through
//	B  nop,  unwind, tail  a target is installed
//	C  skip, unwind, nop   no target
//	D  skip, unwind, tail  transitional
//
// and the kernel orders its writes so that A is never visible:
// install C->D->B, update B->B, remove B->D, RCU grace period, ->C.

// PokeState is one of the four states of a direct tail call's patch sites.
type PokeState byte

// The states of seed 001.
const (
	PokeA PokeState = 'A'
	PokeB PokeState = 'B'
	PokeC PokeState = 'C'
	PokeD PokeState = 'D'
)

// Describe spells the state out as seed 001 does.
func (s PokeState) Describe() string {
	switch s {
	case PokeA:
		return "nop, unwind, nop (forbidden)"
	case PokeB:
		return "nop, unwind, tail"
	case PokeC:
		return "skip, unwind, nop"
	case PokeD:
		return "skip, unwind, tail"
	}
	return "?"
}

// ErrForbiddenState is returned for any write that would expose state A:
// the CPU would unwind the stack and then run on with no tail call target.
var ErrForbiddenState = errors.New("state A (nop, unwind, nop) is forbidden: the frame would be unwound with no tail call target")

// Nop5 is the kernel's x86_nops[5] (nopl 0x0(%rax,%rax,1)).
var Nop5 = []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}

// PokeSite is one direct tail call's patch sites in a loaded image.
type PokeSite struct {
	Func       string // function the sites are in
	TargetAddr uint64 // address of tailcall_target
	BypassAddr uint64 // address of tailcall_bypass
	Map        string
	Key        uint32
	AdjOff     int // X86_TAIL_CALL_OFFSET: where the jump enters the target
}

// BypassTo is where the bypass jump goes: just past tailcall_target.
func (p *PokeSite) BypassTo() uint64 { return p.TargetAddr + 5 }

// Text is the code a poke reads and writes: addresses to 5-byte windows.
type Text interface {
	ReadText(addr uint64, n int) ([]byte, error)
	WriteText(addr uint64, b []byte) error
}

// jmp5 encodes "jmp target" at ip (emit_jump).
func jmp5(ip, target uint64) ([]byte, error) {
	off := int64(target) - int64(ip+5)
	if off != int64(int32(off)) {
		return nil, fmt.Errorf("jump from %#x to %#x is out of rel32 range", ip, target)
	}
	b := []byte{0xe9, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], uint32(int32(off)))
	return b, nil
}

// decodeSite says whether the 5 bytes at ip are a nop5 or a jmp, and where
// the jmp goes.
func decodeSite(ip uint64, b []byte) (jump bool, to uint64, err error) {
	if bytes.Equal(b, Nop5) {
		return false, 0, nil
	}
	if len(b) == 5 && b[0] == 0xe9 {
		return true, ip + 5 + uint64(int64(int32(binary.LittleEndian.Uint32(b[1:])))), nil
	}
	return false, 0, fmt.Errorf("%#x: % x is neither a nop5 nor a jmp rel32", ip, b)
}

// State reads the current state of a site.
func (p *PokeSite) State(t Text) (PokeState, uint64, error) {
	tb, err := t.ReadText(p.TargetAddr, 5)
	if err != nil {
		return 0, 0, err
	}
	bb, err := t.ReadText(p.BypassAddr, 5)
	if err != nil {
		return 0, 0, err
	}
	tail, to, err := decodeSite(p.TargetAddr, tb)
	if err != nil {
		return 0, 0, fmt.Errorf("tailcall_target %w", err)
	}
	skip, bto, err := decodeSite(p.BypassAddr, bb)
	if err != nil {
		return 0, 0, fmt.Errorf("tailcall_bypass %w", err)
	}
	if skip && bto != p.BypassTo() {
		return 0, 0, fmt.Errorf("tailcall_bypass at %#x jumps to %#x, not past tailcall_target (%#x)", p.BypassAddr, bto, p.BypassTo())
	}
	switch {
	case !skip && !tail:
		return PokeA, 0, nil
	case !skip && tail:
		return PokeB, to, nil
	case skip && !tail:
		return PokeC, 0, nil
	}
	return PokeD, to, nil
}

// PokeStep is one write the kernel makes (or the grace period it waits).
type PokeStep struct {
	Site     string // "tailcall_target", "tailcall_bypass" or "synchronize_rcu"
	Addr     uint64
	Old, New []byte
	From, To PokeState
	Detail   string
}

// textPoke models __bpf_arch_text_poke: the site must hold the expected old
// instruction (else -EBUSY); writing the same bytes is a no-op (ret 1).
func textPoke(t Text, ip uint64, oldTo, newTo uint64) (old, nw []byte, changed bool, err error) {
	want := Nop5
	if oldTo != 0 {
		if want, err = jmp5(ip, oldTo); err != nil {
			return nil, nil, false, err
		}
	}
	nw = Nop5
	if newTo != 0 {
		if nw, err = jmp5(ip, newTo); err != nil {
			return nil, nil, false, err
		}
	}
	cur, err := t.ReadText(ip, 5)
	if err != nil {
		return nil, nil, false, err
	}
	if !bytes.Equal(cur, want) {
		return nil, nil, false, fmt.Errorf("text poke at %#x: found % x, expected % x (-EBUSY)", ip, cur, want)
	}
	if bytes.Equal(cur, nw) {
		return cur, nw, false, nil
	}
	return cur, nw, true, t.WriteText(ip, nw)
}

// Update models bpf_arch_poke_desc_update for one site when the prog array
// slot changes from old to new (bpf_func addresses; 0 for an empty slot).
// It returns the steps in the kernel's order. Every intermediate state is
// checked: a sequence that would expose state A is refused before writing.
func (p *PokeSite) Update(t Text, oldFunc, newFunc uint64) ([]PokeStep, error) {
	if oldFunc == 0 && newFunc == 0 {
		return nil, nil // prog_array_map_poke_run: nothing to do
	}
	from, _, err := p.State(t)
	if err != nil {
		return nil, err
	}
	if from == PokeA {
		return nil, fmt.Errorf("%s: site already in %w", p.Func, ErrForbiddenState)
	}
	var oldAddr, newAddr uint64
	if oldFunc != 0 {
		oldAddr = oldFunc + uint64(p.AdjOff)
	}
	if newFunc != 0 {
		newAddr = newFunc + uint64(p.AdjOff)
	}
	var steps []PokeStep
	poke := func(site string, ip, oldTo, newTo uint64, detail string) error {
		before, _, _ := p.State(t)
		old, nw, changed, err := textPoke(t, ip, oldTo, newTo)
		if err != nil {
			return err
		}
		after, _, err := p.State(t)
		if err != nil {
			return err
		}
		if after == PokeA {
			t.WriteText(ip, old) // the kernel never gets here; undo and refuse
			return fmt.Errorf("%s: %s write would leave the %w", p.Func, site, ErrForbiddenState)
		}
		if changed {
			steps = append(steps, PokeStep{Site: site, Addr: ip, Old: old, New: nw, From: before, To: after, Detail: detail})
		}
		return nil
	}
	if newFunc != 0 {
		if err := poke("tailcall_target", p.TargetAddr, oldAddr, newAddr, "point the tail call at the new program"); err != nil {
			return steps, err
		}
		if oldFunc == 0 {
			if err := poke("tailcall_bypass", p.BypassAddr, p.BypassTo(), 0, "remove the skip: the unwind and the jump now run"); err != nil {
				return steps, err
			}
		}
		return steps, nil
	}
	var oldBypass uint64
	if oldFunc == 0 {
		oldBypass = p.BypassTo()
	}
	n := len(steps)
	if err := poke("tailcall_bypass", p.BypassAddr, oldBypass, p.BypassTo(), "skip the unwind again"); err != nil {
		return steps, err
	}
	if len(steps) > n { // the kernel waits only when the bypass changed
		st, _, _ := p.State(t)
		steps = append(steps, PokeStep{Site: "synchronize_rcu", From: st, To: st,
			Detail: "wait for an RCU grace period: CPUs still between the bypass and the target finish first"})
	}
	if err := poke("tailcall_target", p.TargetAddr, oldAddr, 0, "the target is no longer reachable: make it a nop5"); err != nil {
		return steps, err
	}
	return steps, nil
}

// ForceState writes a state directly, as a broken kernel would; it exists
// so that state A can be shown, and refuses to produce it.
func (p *PokeSite) ForceState(t Text, s PokeState, targetFunc uint64) error {
	if s == PokeA {
		return fmt.Errorf("%s: %w", p.Func, ErrForbiddenState)
	}
	bypass := Nop5
	if s == PokeC || s == PokeD {
		b, err := jmp5(p.BypassAddr, p.BypassTo())
		if err != nil {
			return err
		}
		bypass = b
	}
	target := Nop5
	if s == PokeB || s == PokeD {
		if targetFunc == 0 {
			return fmt.Errorf("%s: state %c needs a target program", p.Func, s)
		}
		b, err := jmp5(p.TargetAddr, targetFunc+uint64(p.AdjOff))
		if err != nil {
			return err
		}
		target = b
	}
	if err := t.WriteText(p.BypassAddr, bypass); err != nil {
		return err
	}
	return t.WriteText(p.TargetAddr, target)
}
