// SPDX-License-Identifier: GPL-2.0-only

package abi

import (
	"fmt"
	"strings"
)

// Conv is a calling convention.
type Conv string

// The calling conventions of the two architectures.
const (
	AAPCS64 Conv = "AAPCS64"
	SysV    Conv = "SysV x86-64"
)

// Loc is where one 8-byte part of an argument lives at the call: a
// register, or an offset from the stack pointer at the call instruction
// (the first stacked argument is at sp+0 on both architectures; on x86-64
// the call then pushes the return address, so the callee sees it at
// rsp+8).
type Loc struct {
	Reg   string // "x3", "rdi"; "" for a stack slot
	Stack int
	// Pad marks an 8-byte part of a struct that holds only padding: SysV
	// classifies it NO_CLASS and passes it nowhere.
	Pad bool
}

func (l Loc) String() string {
	if l.Pad {
		return "-"
	}
	if l.Reg != "" {
		return l.Reg
	}
	return fmt.Sprintf("sp+%d", l.Stack)
}

// Placement is where one argument is passed.
type Placement struct {
	Arg   int
	Size  int
	Align int   // the alignment the convention applied
	Parts []Loc // one per 8-byte part, in memory order
	// ByRef: the argument is copied by the caller and a pointer to the copy
	// is passed in Parts[0] (AAPCS64 composites over 16 bytes).
	ByRef bool
	// Memory: SysV class MEMORY (on the stack although registers are free).
	Memory bool
	Note   string
}

// OnStack reports whether the argument is passed on the stack.
func (p Placement) OnStack() bool { return len(p.Parts) > 0 && p.Parts[0].Reg == "" && !p.Parts[0].Pad }

// Where is the placement as one short string: "x0", "x2:x3", "sp+16 (16 bytes)".
func (p Placement) Where() string {
	if len(p.Parts) == 0 {
		return "-"
	}
	if p.OnStack() {
		if p.Size > 8 {
			return fmt.Sprintf("%s..+%d", p.Parts[0], p.Parts[0].Stack+p.Size-1)
		}
		return p.Parts[0].String()
	}
	var regs []string
	for _, l := range p.Parts {
		regs = append(regs, l.String())
	}
	s := strings.Join(regs, ":")
	if p.ByRef {
		s = "*" + s
	}
	return s
}

// Call is a whole function's argument placement.
type Call struct {
	Conv  Conv
	Args  []Placement
	Stack int // bytes of stack arguments (the NSAA at the end, rounded to 8)
}

// Place lays out f's arguments under convention c. Floating-point
// arguments are refused: the trampolines only save general registers.
func Place(f *Func, c Conv) (*Call, error) {
	for i, a := range f.Args {
		if a.Type.Kind == Float {
			return nil, fmt.Errorf("%s: %s is floating point: passed in SIMD/FP registers, not modelled", f.Name, f.ArgName(i))
		}
		if a.Type.Kind == Void {
			return nil, fmt.Errorf("%s: %s has type void", f.Name, f.ArgName(i))
		}
	}
	switch c {
	case AAPCS64:
		return placeAAPCS64(f), nil
	case SysV:
		return placeSysV(f), nil
	}
	return nil, fmt.Errorf("unknown calling convention %q", c)
}

func roundUp(v, a int) int { return (v + a - 1) / a * a }

// naturalAlign is the alignment AAPCS64 uses for an argument: the type's
// alignment, for a composite the largest of its top-level members'
// (§5.6: an aligned attribute on the composite type itself does not
// count; GCC 9+ and clang agree, see testdata/oracle.txt), at most 16.
func naturalAlign(t *Type) int {
	a := t.Align
	switch {
	case t.Kind == Pointer:
		a = 8
	case t.Kind == Struct && t.MemberAlign > 0:
		a = t.MemberAlign
	}
	if a > 16 {
		a = 16
	}
	if a < 1 {
		a = 1
	}
	return a
}

// placeAAPCS64 follows the Procedure Call Standard for the Arm 64-bit
// Architecture (AAPCS64, 2023Q3), §6.8.2 "Parameter passing rules", stage
// C for integral, pointer and composite arguments (no SIMD/FP ones):
//
//	C.9  integral/pointer <= 8 bytes and NGRN < 8: x[NGRN], NGRN++
//	C.10 alignment 16: NGRN rounded up to an even number
//	C.11 integral of 16 bytes and NGRN < 7: x[NGRN], x[NGRN+1]
//	C.12 composite of n double-words, n <= 8 - NGRN: x[NGRN..], NGRN += n
//	C.13 NGRN = 8 (a 16-byte argument is never split between x7 and the stack)
//	C.14 NSAA rounded up to max(8, natural alignment)
//	C.15-17 copied to the stack at NSAA, NSAA += size rounded up to 8
//
// and B.4: a composite larger than 16 bytes is copied by the caller and
// passed as a pointer.
func placeAAPCS64(f *Func) *Call {
	call := &Call{Conv: AAPCS64}
	ngrn, nsaa := 0, 0
	for i, a := range f.Args {
		t := a.Type
		size := t.Size
		if t.Kind == Pointer {
			size = 8
		}
		al := naturalAlign(t)
		pl := Placement{Arg: i, Size: size, Align: al}
		byRef := t.Kind == Struct && size > 16
		if byRef {
			pl.ByRef = true
			size, al = 8, 8
		}
		n := (size + 7) / 8
		if al == 16 && !byRef {
			ngrn = roundUp(ngrn, 2) // C.10
		}
		fits := false
		switch {
		case byRef || t.Kind == Int || t.Kind == Pointer:
			fits = ngrn < 8
		case t.Kind == Int128:
			fits = ngrn < 7
		case t.Kind == Struct:
			fits = n <= 8-ngrn
		}
		if fits {
			for j := 0; j < n; j++ {
				pl.Parts = append(pl.Parts, Loc{Reg: fmt.Sprintf("x%d", ngrn)})
				ngrn++
			}
		} else {
			ngrn = 8 // C.13
			sa := al
			if sa < 8 {
				sa = 8
			}
			if pad := roundUp(nsaa, sa) - nsaa; pad > 0 {
				pl.Note = fmt.Sprintf("%d bytes of padding before it (sp+%d)", pad, nsaa)
			}
			nsaa = roundUp(nsaa, sa) // C.14
			for j := 0; j < n; j++ {
				pl.Parts = append(pl.Parts, Loc{Stack: nsaa + 8*j})
			}
			nsaa += roundUp(size, 8)
		}
		call.Args = append(call.Args, pl)
	}
	call.Stack = roundUp(nsaa, 8)
	return call
}

var sysvRegs = [6]string{"rdi", "rsi", "rdx", "rcx", "r8", "r9"}

// placeSysV follows the System V AMD64 psABI (1.0, §3.2.3 "Parameter
// Passing") for INTEGER and MEMORY classes: an aggregate over 16 bytes or
// with an unaligned field is MEMORY; each eightbyte of an INTEGER argument
// takes the next of rdi, rsi, rdx, rcx, r8, r9; when not all eightbytes
// fit, the whole argument goes to the stack and later arguments may still
// use registers. Stack arguments are 8-byte aligned, or 16 for types
// aligned to 16 (__int128, aligned(16) aggregates), in argument order.
func placeSysV(f *Func) *Call {
	call := &Call{Conv: SysV}
	gp, stack := 0, 0
	for i, a := range f.Args {
		t := a.Type
		size := t.Size
		if t.Kind == Pointer {
			size = 8
		}
		al := t.Align
		if t.Kind == Pointer {
			al = 8
		}
		pl := Placement{Arg: i, Size: size, Align: al}
		n := (size + 7) / 8
		memory := t.Kind == Struct && (size > 16 || t.Unaligned)
		if memory {
			pl.Memory = true
			if t.Unaligned {
				pl.Note = "class MEMORY: a member is not at its natural alignment"
			} else {
				pl.Note = "class MEMORY: larger than 16 bytes"
			}
		}
		// An eightbyte of an aggregate that holds no member is NO_CLASS:
		// it takes no register.
		data := make([]bool, n)
		for j := range data {
			data[j] = t.Kind != Struct || hasData(t, 8*j, 8*j+8)
		}
		need := 0
		for _, d := range data {
			if d {
				need++
			}
		}
		if !memory && gp+need <= 6 {
			for j := 0; j < n; j++ {
				if !data[j] {
					pl.Parts = append(pl.Parts, Loc{Pad: true})
					if pl.Note == "" {
						pl.Note = fmt.Sprintf("eightbyte %d is padding only (NO_CLASS): no register", j)
					}
					continue
				}
				pl.Parts = append(pl.Parts, Loc{Reg: sysvRegs[gp]})
				gp++
			}
		} else {
			sa := 8
			if al > 8 {
				sa = 16
			}
			if pad := roundUp(stack, sa) - stack; pad > 0 && pl.Note == "" {
				pl.Note = fmt.Sprintf("%d bytes of padding before it (sp+%d)", pad, stack)
			}
			stack = roundUp(stack, sa)
			for j := 0; j < n; j++ {
				pl.Parts = append(pl.Parts, Loc{Stack: stack + 8*j})
			}
			stack += roundUp(size, 8)
		}
		call.Args = append(call.Args, pl)
	}
	call.Stack = stack
	return call
}

// hasData reports whether any member of t (recursively) has bytes in
// [lo, hi).
func hasData(t *Type, lo, hi int) bool {
	if t.Kind != Struct || len(t.Members) == 0 {
		size := t.Size
		if t.Kind == Pointer {
			size = 8
		}
		return size > 0 && lo < size && hi > 0
	}
	for _, m := range t.Members {
		if hasData(m.Type, lo-m.Offset, hi-m.Offset) {
			return true
		}
	}
	return false
}
