// Package kernel models what a BPF JIT works with inside the kernel: programs
// and their functions as the verifier hands them over, maps and prog arrays,
// the addresses everything was placed at, and the struct layout and
// configuration of one kernel.
//
// A Set is what a user loads (a scenario file, a BPF object, a kernel
// capture). Load turns one program of a Set into a Loaded program for one
// architecture: exactly the input a kernel JIT receives, with every address
// the machine code will reference already resolved.
package kernel

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// Arch names a JIT backend.
type Arch string

// The architectures jitscope models.
const (
	ARM64  Arch = "arm64"
	X86_64 Arch = "x86_64"
)

// ParseArch accepts the usual spellings of an architecture name.
func ParseArch(s string) (Arch, error) {
	switch s {
	case "arm64", "aarch64":
		return ARM64, nil
	case "x86_64", "x86-64", "amd64", "x64":
		return X86_64, nil
	}
	return "", fmt.Errorf("unknown architecture %q (want arm64 or x86_64)", s)
}

// Set is a collection of BPF programs and maps, as a scenario file, an ELF
// object or a kernel capture describes them.
type Set struct {
	Name        string
	Description string
	Source      string // where the set came from (file or directory)
	Programs    []*Program
	Maps        []*Map
	// Placements pins addresses, struct layout and kernel configuration per
	// architecture, so that a document's listing can be reproduced at its own
	// addresses. Architectures without a placement get jitscope's defaults.
	Placements map[Arch]*Placement
}

// Program is one BPF program: a main function followed by its subprograms.
type Program struct {
	Name string
	Type string // program type as libbpf names it: "sched_cls", "xdp", ...
	// Insns holds all functions concatenated, main function first. Unless
	// Xlated is set, references are symbolic: calls to subprograms and map
	// loads carry asm references (WithReference) and helper calls carry the
	// helper id, as a compiler or assembler produced them.
	Insns asm.Instructions
	// Xlated marks instructions that are already the kernel's translated
	// form (a capture's xlated.bin): see Loaded for what the fields mean.
	Xlated bool
	// Funcs lists the functions; Funcs[0] is the main program. When empty,
	// Load derives the functions from the targets of bpf-to-bpf calls.
	Funcs []Func
	// Tag is the kernel's program tag where known (captures).
	Tag string
}

// Func describes one function of a Program.
type Func struct {
	Name      string
	Start     int    // index into Program.Insns of the function's first instruction
	Prototype string // C prototype, e.g. "int entry(struct __sk_buff *skb)"
	// StackDepth is the verifier's stack depth in bytes (not rounded); -1
	// means unknown, and Load computes it as the verifier does.
	StackDepth int
	Ksym       string // kallsyms name, where known
	// Lines maps instruction indexes (relative to the program) to source
	// lines, where known.
	Lines []LineInfo
}

// LineInfo is one BTF line_info record.
type LineInfo struct {
	Insn int
	File string
	Line int
	Col  int
	Text string
}

// Map is a BPF map.
type Map struct {
	Name       string
	Type       string // "prog_array", "array", "hash", ...
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	ID         int // kernel map id, where the set came from a real kernel
	// Progs holds the filled slots of a prog array: key → program name.
	Progs map[uint32]string
	// Data is the initial contents of an array map's values (global data).
	Data []byte
}

// IsProgArray reports whether m is a BPF_MAP_TYPE_PROG_ARRAY.
func (m *Map) IsProgArray() bool { return m.Type == "prog_array" }

// Placement pins where things are in one kernel of one architecture.
type Placement struct {
	// Funcs maps a function name (or "program/function") to the address of
	// its JIT image.
	Funcs map[string]uint64
	// Maps maps a map name to its struct bpf_map address.
	Maps map[string]uint64
	// Values maps a map name to the address of its first value (array maps
	// used through map-value ld_imm64, i.e. global data).
	Values map[string]uint64
	// Symbols maps kernel symbol names (helpers, __bpf_call_base, thunks) to
	// addresses.
	Symbols map[string]uint64
	// Layout overrides struct offsets, keyed like "bpf_array.ptrs".
	Layout map[string]int
	// Config overrides kernel configuration and CPU features, keyed like
	// "CONFIG_ARM64_BTI_KERNEL" or "cpu:atomics"; values "y" or "n".
	Config map[string]string
	// Kernel names the kernel this placement was captured from, if any.
	Kernel string
	// Profile names the JIT profile that reproduces this placement's kernel
	// (e.g. "bpf-next-2022-06"); the CLI uses it when --profile is not given.
	Profile string
}

// Placement returns the placement for arch, creating an empty one.
func (s *Set) Placement(arch Arch) *Placement {
	if s.Placements == nil {
		s.Placements = map[Arch]*Placement{}
	}
	p := s.Placements[arch]
	if p == nil {
		p = &Placement{}
		s.Placements[arch] = p
	}
	return p
}

// Program returns the program called name, or nil.
func (s *Set) Program(name string) *Program {
	for _, p := range s.Programs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Map returns the map called name, or nil.
func (s *Set) Map(name string) *Map {
	for _, m := range s.Maps {
		if m.Name == name {
			return m
		}
	}
	return nil
}
