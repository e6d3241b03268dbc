package jit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/kernel"
)

// Profile is one kernel version's JIT for one architecture: data, plus the
// few switches a version really changed. Every fact cites its source in the
// profile tables (jit/arm64/profiles.go, jit/x86/profiles.go).
type Profile struct {
	Name    string // "v6.1", "bpf-next-2022-06"
	Arch    kernel.Arch
	Kernel  string // kernel version the profile models, e.g. "6.1"
	Summary string // one line for `jitscope list`
	Sources []string

	// MaxTailCallCnt is the kernel's MAX_TAIL_CALL_CNT (32 before 5.17, 33 after).
	MaxTailCallCnt int
	// TailCallCountGT is set when the limit check is "count > MAX" (5.10:
	// b.hi / ja); later kernels check "count >= MAX" (b.cs / jae).
	TailCallCountGT bool

	// Configuration defaults: a capture or a scenario placement can override
	// them with the kernel's .config and CPU features.
	PAC bool // CONFIG_ARM64_PTR_AUTH_KERNEL: paciasp/autiasp
	BTI bool // CONFIG_ARM64_BTI_KERNEL: bti landing pads
	LSE bool // CONFIG_ARM64_LSE_ATOMICS and a CPU with LSE atomics

	// SubprogTailCalls: the JIT supports tail calls from programs with
	// bpf-to-bpf calls (bpf_jit_supports_subprog_tailcalls).
	SubprogTailCalls bool
	// PatchableEntry: arm64 6.0+ emits "mov x9, lr; nop" for fentry
	// trampolines and a PLT after the epilogue.
	PatchableEntry bool
	// FPBottom: arm64 5.19+ keeps the bottom of the BPF stack in x27 and uses
	// unsigned-offset loads/stores for stack slots.
	FPBottom bool
	// EntryBTIJC: the entry landing pad is "bti jc" (6.0+) rather than "bti c".
	EntryBTIJC bool
	// TCCPtr: 6.11+ "tail call hierarchy" design: the counter lives in the
	// main program's frame and functions pass a pointer to it (arm64 x26,
	// x86 rax).
	TCCPtr bool
	// UsedCalleeRegs: only the callee-saved registers a function uses are
	// saved (arm64 find_used_callee_regs, 6.12; x86 has always done this).
	UsedCalleeRegs bool
	// DirectCalls: arm64 6.12+ calls targets within +-128 MiB with bl.
	DirectCalls bool
	// CPUv4: the JIT knows the cpu v4 instructions (6.6+): sign-extending
	// moves and loads, sdiv/smod, unconditional bswap, gotol.
	CPUv4 bool
	// InlineHelpers: the JIT inlines bpf_get_smp_processor_id and
	// bpf_get_current_task(_btf) (arm64 6.12 bpf_jit_inlines_helper_call).
	InlineHelpers bool

	// Counterexample marks a profile that is not a kernel but a layout a
	// document rejects, kept to show why (seed 001's pushes after the nop5).
	// Tests that check kernel behaviour across profiles leave it out.
	Counterexample bool

	// StackDepthUnrounded: the verifier records the deepest stack offset
	// as is (5.10 update_stack_depth: stack_depth = -off); from 5.11 on
	// grow_stack_state records it rounded up to 8 bytes.
	StackDepthUnrounded bool

	// Layout holds the default struct offsets (a placement may override them).
	Layout kernel.Layout
}

// WithConfig returns a copy of p with the configuration overrides of a
// placement applied ("y"/"n" values for the CONFIG_ keys and cpu: features).
func (p *Profile) WithConfig(cfg map[string]string) *Profile {
	q := *p
	on := func(key string) (bool, bool) {
		v, ok := cfg[key]
		if !ok {
			return false, false
		}
		return v == "y" || v == "m", true
	}
	if v, ok := on("CONFIG_ARM64_PTR_AUTH_KERNEL"); ok {
		q.PAC = v
	}
	if v, ok := on("CONFIG_ARM64_BTI_KERNEL"); ok {
		q.BTI = v
	}
	// A placement that lists CPU features (a capture) lists all of them:
	// a missing "cpu:atomics" means the CPU has no LSE atomics.
	hasCPU := false
	for k := range cfg {
		if strings.HasPrefix(k, "cpu:") {
			hasCPU = true
			break
		}
	}
	lse, okc := on("CONFIG_ARM64_LSE_ATOMICS")
	cpu, _ := on("cpu:atomics")
	if okc || hasCPU {
		q.LSE = (lse || !okc) && (cpu || !hasCPU)
	}
	return &q
}

// LoadOptions are the kernel.Load options that reproduce this profile's
// verifier (struct layout, how it records stack depth).
func (p *Profile) LoadOptions() kernel.Options {
	return kernel.Options{Layout: p.Layout, UnroundedStackDepth: p.StackDepthUnrounded}
}

// WithLayout returns the profile's layout with a placement's overrides.
func (p *Profile) WithLayout(over map[string]int) kernel.Layout {
	l := p.Layout
	for k, v := range over {
		switch k {
		case "bpf_array.map.max_entries":
			l.ArrayMaxEntries = v
		case "bpf_array.ptrs":
			l.ArrayPtrs = v
		case "bpf_prog.bpf_func":
			l.ProgBPFFunc = v
		}
	}
	return l
}

// Backend compiles loaded programs for one architecture.
type Backend interface {
	Arch() kernel.Arch
	Profiles() []*Profile
	Compile(prog *kernel.Loaded, p *Profile) (*Image, error)
}

var backends = map[kernel.Arch]Backend{}

// Register makes a backend available to Compile; backends call it from init.
func Register(b Backend) { backends[b.Arch()] = b }

// Profiles lists the profiles of arch in a stable order.
func Profiles(arch kernel.Arch) []*Profile {
	b := backends[arch]
	if b == nil {
		return nil
	}
	return b.Profiles()
}

// Arches lists the architectures with a registered backend.
func Arches() []kernel.Arch {
	var out []kernel.Arch
	for a := range backends {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// LookupProfile finds a profile by name.
func LookupProfile(arch kernel.Arch, name string) (*Profile, error) {
	b := backends[arch]
	if b == nil {
		return nil, fmt.Errorf("no JIT backend for architecture %q", arch)
	}
	var names []string
	for _, p := range b.Profiles() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return nil, fmt.Errorf("unknown %s profile %q (have %s)", arch, name, strings.Join(names, ", "))
}

// Compile JITs prog with profile p.
func Compile(prog *kernel.Loaded, p *Profile) (*Image, error) {
	b := backends[p.Arch]
	if b == nil {
		return nil, fmt.Errorf("no JIT backend for architecture %q", p.Arch)
	}
	if prog.Arch != p.Arch {
		return nil, fmt.Errorf("%s: program was loaded for %s, profile %s is for %s", prog.Name, prog.Arch, p.Name, p.Arch)
	}
	return b.Compile(prog, p)
}

// Error is a JIT refusal: the kernel would not JIT (or load) the program.
type Error struct {
	Prog string
	Func string
	Insn int // program-wide slot index, -1 when not about one instruction
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Prog)
	if e.Func != "" && e.Func != e.Prog {
		b.WriteString("/" + e.Func)
	}
	if e.Insn >= 0 {
		fmt.Fprintf(&b, ": insn %d", e.Insn)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}
