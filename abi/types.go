// SPDX-License-Identifier: GPL-2.0-only

// Package abi models a C function's arguments as the calling conventions
// place them and as the kernel's BPF trampolines describe them.
//
// A Func comes from a C prototype (ParsePrototype) or from BTF in an object
// file (FromBTF). AAPCS64 and SysV place its arguments in registers and on
// the caller's stack exactly as the ABI documents say; Model gives the
// kernel's struct btf_func_model for it (what the trampoline JITs see:
// argument sizes and the struct flag, nothing about alignment).
package abi

import (
	"fmt"
	"strings"
)

// Kind classifies a type as the calling conventions do.
type Kind int

// Kinds of types.
const (
	Void   Kind = iota
	Int         // integers, enums, _Bool (1, 2, 4 or 8 bytes)
	Int128      // __int128 and unsigned __int128
	Pointer
	Struct // struct or union passed by value
	Float  // float, double, long double: not passed in general registers
)

// Type is one C type as far as argument passing cares.
type Type struct {
	Name   string // as written: "__int128", "struct s16", "u32 *"
	Kind   Kind
	Size   int
	Align  int  // the type's alignment (_Alignof), attributes included
	Signed bool // integers
	// Packed is set for a struct or union declared packed; Unaligned for
	// one with a member at an offset that is not a multiple of the member's
	// natural alignment (SysV classifies those as MEMORY).
	Packed    bool
	Unaligned bool
	Union     bool
	Members   []Member
	// AlignAttr is an explicit aligned(N) on the struct type itself.
	AlignAttr int
	// MemberAlign is the largest alignment of the top-level members (after
	// their own attributes and packing): AAPCS64's "natural alignment" of
	// a composite, which ignores an aligned attribute on the type itself.
	MemberAlign int
}

// Member is a struct member and where it sits.
type Member struct {
	Name   string
	Type   *Type
	Offset int
}

// Arg is one parameter.
type Arg struct {
	Name string
	Type *Type
}

// Func is a function's prototype.
type Func struct {
	Name string
	Ret  *Type
	Args []Arg
	// Source says where the prototype came from ("prototype", "BTF of FILE").
	Source string
}

// String prints the prototype back as C.
func (f *Func) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s(", typeDecl(f.Ret), f.Name)
	if len(f.Args) == 0 {
		b.WriteString("void")
	}
	for i, a := range f.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(typeDecl(a.Type))
		if a.Name != "" {
			if !strings.HasSuffix(a.Type.Name, "*") {
				b.WriteByte(' ')
			}
			b.WriteString(a.Name)
		}
	}
	b.WriteString(")")
	return b.String()
}

func typeDecl(t *Type) string {
	if t == nil {
		return "void"
	}
	return t.Name
}

// ArgName is the name of argument i, or "argN" (1-based) when unnamed.
func (f *Func) ArgName(i int) string {
	if f.Args[i].Name != "" {
		return f.Args[i].Name
	}
	return fmt.Sprintf("arg%d", i+1)
}

// Slots is the number of 8-byte slots an argument of type t takes in the
// BPF program's context (the verifier's get_ctx_arg_idx: pointers 8,
// everything else its size rounded up to 8).
func (t *Type) Slots() int {
	if t.Kind == Pointer {
		return 1
	}
	return (t.Size + 7) / 8
}

// MaxBPFFuncArgs is MAX_BPF_FUNC_ARGS (include/linux/bpf.h, 5.17+): the
// verifier refuses to describe functions with more arguments.
const MaxBPFFuncArgs = 12

// FuncModel is the kernel's struct btf_func_model (include/linux/bpf.h):
// what btf_distill_func_proto (kernel/bpf/btf.c) records for a function
// and all a trampoline JIT knows about it.
type FuncModel struct {
	RetSize  int
	NrArgs   int
	ArgSize  []int
	ArgFlags []uint8 // FmodelStructArg
}

// FmodelStructArg is BTF_FMODEL_STRUCT_ARG: the argument is a struct or
// union passed by value.
const FmodelStructArg = 1 << 0

// ModelError is the verifier's refusal to model a function for a
// trampoline (btf_distill_func_proto, -EINVAL).
type ModelError struct {
	Func string
	Msg  string
}

func (e *ModelError) Error() string {
	return fmt.Sprintf("%s: verifier refuses the function (btf_distill_func_proto, -EINVAL): %s", e.Func, e.Msg)
}

// Model distills f as btf_distill_func_proto does (kernel/bpf/btf.c,
// 6.x): at most MAX_BPF_FUNC_ARGS arguments, each 1 to 16 bytes; a struct
// or union gets BTF_FMODEL_STRUCT_ARG; its alignment is not recorded
// (BTF cannot say), which is why the JITs cannot know where a stack
// argument with a larger alignment sits.
func (f *Func) Model() (*FuncModel, error) {
	if len(f.Args) > MaxBPFFuncArgs {
		return nil, &ModelError{f.Name, fmt.Sprintf("%d arguments, more than MAX_BPF_FUNC_ARGS (%d)", len(f.Args), MaxBPFFuncArgs)}
	}
	m := &FuncModel{NrArgs: len(f.Args)}
	if f.Ret != nil && f.Ret.Kind != Void {
		m.RetSize = f.Ret.Size
		if f.Ret.Kind == Pointer {
			m.RetSize = 8
		}
	}
	for i, a := range f.Args {
		t := a.Type
		size := t.Size
		if t.Kind == Pointer {
			size = 8
		}
		switch {
		case t.Kind == Void:
			return nil, &ModelError{f.Name, fmt.Sprintf("arg%d has type void", i)}
		case t.Kind == Float:
			return nil, &ModelError{f.Name, fmt.Sprintf("arg%d type %s is unsupported (floating point)", i, t.Name)}
		case size > 16:
			return nil, &ModelError{f.Name, fmt.Sprintf("arg%d type %s is unsupported: %d bytes, more than 16", i, t.Name, size)}
		}
		var flags uint8
		if t.Kind == Struct {
			flags = FmodelStructArg
		}
		m.ArgSize = append(m.ArgSize, size)
		m.ArgFlags = append(m.ArgFlags, flags)
	}
	return m, nil
}
