// Package jit compiles BPF programs the way the Linux kernel's JITs do.
//
// Compile takes a kernel.Loaded program (the verifier's output, addresses
// resolved) and a Profile (one kernel version and configuration) and returns
// an Image: per function the machine code bytes, where each BPF instruction
// landed, the regions of the code (prologue, tail-call counter set-up, the
// tail-call landing pad, epilogue...), the fields that depend on where the
// kernel placed things, and the control-flow edges that leave the function.
// The backends live in jit/arm64 and jit/x86 and register themselves here.
package jit

import (
	"fmt"

	"github.com/jitscope/jitscope/kernel"
)

// Image is one program compiled for one architecture and profile.
type Image struct {
	Arch    kernel.Arch
	Profile *Profile
	Program string
	Type    string
	Funcs   []*FuncImage
}

// FuncImage is the machine code of one function.
type FuncImage struct {
	Name      string
	Ksym      string
	Prototype string
	Index     int // func_idx: 0 is the main program
	Address   uint64
	Code      []byte
	// Insns are the BPF instructions this image was compiled from; Lines
	// maps some of them to source lines (BTF line info), LineInfo.Insn
	// counting from the program's first instruction, FirstInsn being
	// Insns[0]'s number.
	Insns     []kernel.Insn
	Lines     []kernel.LineInfo
	FirstInsn int
	// BPFOffsets[i] is the byte offset in Code where Insns[i] starts;
	// BPFOffsets[len(Insns)] is where the body ends (the epilogue starts).
	BPFOffsets []int
	Regions    []Region
	Relocs     []Reloc
	Notes      []Note
	Edges      []Edge
	// Pokes are the direct tail call patch sites (x86): the kernel's
	// bpf_jit_poke_descriptor, offsets relative to Code.
	Pokes []Poke
	// TailCallEntry is the byte offset at which a tail call enters this
	// function's image (the kernel's PROLOGUE_OFFSET / X86_TAIL_CALL_OFFSET),
	// or -1 when tail calls cannot enter it.
	TailCallEntry int
}

// RegionKind classifies a byte range of a function image.
type RegionKind string

// Regions of a JIT image.
const (
	RegionPrologue     RegionKind = "prologue"
	RegionPatchSite    RegionKind = "patch-site"  // fentry/trampoline poke site
	RegionTCCInit      RegionKind = "tcc-init"    // tail call counter initialisation
	RegionLandingPad   RegionKind = "landing-pad" // where a tail call enters
	RegionStackSetup   RegionKind = "stack-setup" // BPF stack frame set-up after the landing pad
	RegionBody         RegionKind = "body"        // code of BPF instructions
	RegionTailCall     RegionKind = "tail-call"   // the tail-call sequence of a BPF instruction
	RegionEpilogue     RegionKind = "epilogue"
	RegionPLT          RegionKind = "plt"         // arm64 long-jump PLT for trampolines
	RegionPokeTarget   RegionKind = "poke-target" // x86 direct tail call patch site
	RegionPokeBypass   RegionKind = "poke-bypass" // x86 direct tail call bypass jump
	RegionExtraPadding RegionKind = "padding"
)

// Region is a byte range [Start, End) of a function image.
type Region struct {
	Start, End int
	Kind       RegionKind
}

// Reloc is a field of the image whose value depends on where the kernel
// placed something (helper, function, map, global, program).
type Reloc struct {
	Offset int    // instruction start within the function
	Field  int    // first byte of the value within the function
	Size   int    // bytes covered (for arm64 mov sequences: the whole sequence)
	Kind   string // "imm64", "blr_imm64", "br_imm64", "call_rel32", "jmp_rel32", ...
	Target uint64
	What   string // "map", "map_value", "bpf function", "bpf program", "kernel"
	Name   string // symbol, map or function name
}

// Note is an annotation attached to the instruction at byte Offset.
type Note struct {
	Offset int
	Text   string
}

// EdgeKind classifies control flow leaving an instruction.
type EdgeKind string

// Edge kinds.
const (
	EdgeCall     EdgeKind = "call"      // bpf-to-bpf call (or helper call)
	EdgeTailCall EdgeKind = "tail_call" // tail call into another program's landing pad
	EdgeReturn   EdgeKind = "return"
)

// Edge is a control-flow edge from the instruction at byte offset From to
// the absolute address To (another function or program).
type Edge struct {
	From   int
	To     uint64
	Kind   EdgeKind
	Target string // name of the function or program at To
	Detail string
}

// Poke is one direct tail call's pair of 5-byte patch sites. Code holds the
// state the prog array had when the image was made (slot filled: bypass is a
// nop5 and target a jmp into the target program; slot empty: bypass jumps
// over the unwind and target is a nop5).
type Poke struct {
	Target int    // offset of poke->tailcall_target
	Bypass int    // offset of poke->tailcall_bypass
	Map    string // the prog array
	Key    uint32
	AdjOff int // poke->adj_off: X86_TAIL_CALL_OFFSET
}

// NoteText is the text of a note: format as it is without arguments (the
// backends' notes without arguments have no %; fmt costs on every call),
// else fmt.Sprintf(format, args...).
func NoteText(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// AppendRegion appends r to rs. Body code that continues the last region,
// when that is body code too, extends it instead: regions are read byte by
// byte (RegionAt, the listings), and one per BPF instruction would be a
// million of them.
func AppendRegion(rs []Region, r Region) []Region {
	if n := len(rs); n > 0 && r.Kind == RegionBody && rs[n-1].Kind == r.Kind && rs[n-1].End == r.Start {
		rs[n-1].End = r.End
		return rs
	}
	return append(rs, r)
}

// RegionAt returns the kind of the region containing byte offset off.
func (f *FuncImage) RegionAt(off int) RegionKind {
	for _, r := range f.Regions {
		if off >= r.Start && off < r.End {
			return r.Kind
		}
	}
	return ""
}

// BPFAt returns the index into Insns of the BPF instruction whose code
// contains byte offset off, or -1 for code outside the body.
func (f *FuncImage) BPFAt(off int) int {
	n := len(f.Insns)
	if n == 0 || off < f.BPFOffsets[0] || off >= f.BPFOffsets[n] {
		return -1
	}
	lo, hi := 0, n-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if f.BPFOffsets[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	// Instructions that emit no code share their offset with the next one:
	// the last instruction starting at or before off is the one that has code.
	return lo
}
