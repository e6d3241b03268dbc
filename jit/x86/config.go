// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// inlineRetpoline is Config.IndirectThunk for 5.10's RETPOLINE_RCX_BPF_JIT:
// the retpoline sequence emitted inline instead of a jump to a thunk.
const inlineRetpoline = "inline-retpoline"

// lfenceJump is Config.IndirectThunk for X86_FEATURE_RETPOLINE_LFENCE:
// "lfence; jmp *%rcx".
const lfenceJump = "lfence"

// Config is what one kernel build and CPU change in the code the x86 JIT
// emits. ConfigFor derives it from a profile and a placement's
// configuration (a capture's .config, CPU flags and observed thunks).
type Config struct {
	// IBT is CONFIG_X86_KERNEL_IBT: EMIT_ENDBR at the entry and at
	// X86_TAIL_CALL_OFFSET (which grows by 4).
	IBT bool
	// CFI is CONFIG_CFI_CLANG: kCFI/FineIBT preambles (6.6+ emit_cfi).
	CFI bool
	// Retpoline is CONFIG_RETPOLINE / CONFIG_MITIGATION_RETPOLINE: built
	// with retpolines (a plain "jmp *%rcx" is then followed by int3).
	Retpoline bool
	// SLS is CONFIG_SLS / CONFIG_MITIGATION_SLS: int3 after ret and after
	// "jmp *%rcx".
	SLS bool
	// IndirectThunk is how emit_indirect_jump leaves a tail call: the name
	// of the thunk it jumps to (__x86_indirect_thunk_rcx for retpolines,
	// __x86_indirect_its_thunk_rcx for ITS, __x86_indirect_jump_thunk_rcx
	// with call depth tracking), "lfence" for "lfence; jmp *%rcx", "" for a
	// plain "jmp *%rcx", "inline-retpoline" for 5.10's inline sequence.
	IndirectThunk string
	// ReturnThunk is x86_return_thunk's name when the kernel returns
	// through it ("jmp srso_alias_return_thunk"), "" for ret.
	ReturnThunk string
	// BMI2 is X86_FEATURE_BMI2: shifts by a register use shlx/shrx/sarx.
	BMI2 bool
	// LA57 is 5-level paging, which moves TASK_SIZE_MAX (BPF_PROBE_MEM).
	LA57 bool
}

// ConfigFor returns the configuration profile p compiles with when the
// placement's configuration is cfg.
//
// Keys read: CONFIG_X86_KERNEL_IBT, CONFIG_CFI_CLANG, CONFIG_RETPOLINE /
// CONFIG_MITIGATION_RETPOLINE, CONFIG_SLS / CONFIG_MITIGATION_SLS,
// CONFIG_RETHUNK / CONFIG_MITIGATION_RETHUNK, cpu:bmi2,
// cpu:la57, cpu:ibrs_enhanced, observed:return_thunk and observed:indirect_thunk (a thunk
// name, "lfence" or "none"). A placement from a kernel capture (one that
// records CONFIG_BPF_JIT) describes the whole kernel: a CPU flag it does not
// list is absent, and no observed:return_thunk means a plain ret.
func ConfigFor(p *jit.Profile, cfg map[string]string) (Config, error) {
	v, err := versionOf(p)
	if err != nil {
		return Config{}, err
	}
	return configFor(v, cfg), nil
}

func versionOf(p *jit.Profile) (*version, error) {
	v := versions[p.Name]
	if v == nil || p.Arch != kernel.X86_64 {
		return nil, fmt.Errorf("%s is not an x86-64 profile", p.Name)
	}
	return v, nil
}

func configFor(v *version, cfg map[string]string) Config {
	c := v.def
	_, captured := cfg["CONFIG_BPF_JIT"]
	// anyOn reports whether any of keys is "y" and whether any is present.
	anyOn := func(keys ...string) (on, present bool) {
		for _, k := range keys {
			if val, ok := cfg[k]; ok {
				present = true
				on = on || val == "y"
			}
		}
		return on, present
	}
	if on, ok := anyOn("CONFIG_X86_KERNEL_IBT"); ok {
		c.IBT = on
	}
	if on, ok := anyOn("CONFIG_CFI_CLANG"); ok {
		c.CFI = on
	}
	if on, ok := anyOn("CONFIG_SLS", "CONFIG_MITIGATION_SLS"); ok {
		c.SLS = on
	}
	if on, ok := anyOn("CONFIG_RETPOLINE", "CONFIG_MITIGATION_RETPOLINE"); ok {
		c.Retpoline = on
		switch {
		case !on:
			c.IndirectThunk = ""
		case !v.emitReturn:
			c.IndirectThunk = inlineRetpoline
		case c.IndirectThunk == "":
			c.IndirectThunk = "__x86_indirect_thunk_rcx"
		}
	}
	if cfg["cpu:ibrs_enhanced"] == "y" && v.emitReturn && c.IndirectThunk != "" {
		// spectre_v2=auto picks Enhanced IBRS over retpolines on CPUs
		// that have it (spectre_v2_select_mitigation): no
		// X86_FEATURE_RETPOLINE, so emit_indirect_jump emits
		// "jmp *%rcx; int3" (the x86_64-6.18-src captures, Intel Xeon).
		c.IndirectThunk = ""
	}
	if name, ok := cfg["observed:indirect_thunk"]; ok && v.emitReturn {
		if name == "none" {
			name = ""
		}
		c.IndirectThunk = name
	}
	rethunk, rethunkSet := anyOn("CONFIG_RETHUNK", "CONFIG_MITIGATION_RETHUNK")
	switch name, ok := cfg["observed:return_thunk"]; {
	case ok:
		if name == "none" {
			name = ""
		}
		c.ReturnThunk = name
	case captured, rethunkSet && !rethunk:
		c.ReturnThunk = ""
	}
	if !v.emitReturn {
		// 5.10 ends with a bare ret; no return thunks, no SLS int3.
		c.ReturnThunk, c.SLS = "", false
	}
	if !v.ibt {
		c.IBT = false
	}
	if _, ok := cfg["cpu:bmi2"]; ok || captured {
		c.BMI2 = cfg["cpu:bmi2"] == "y"
	}
	if _, ok := cfg["cpu:la57"]; ok || captured {
		// The kernel clears the la57 flag when it does not run with 5-level
		// paging (no CONFIG_X86_5LEVEL in 6.1, or no5lvl).
		c.LA57 = cfg["cpu:la57"] == "y"
	}
	return c
}

// String describes c in one line, as a profile summary would.
func (c Config) String() string {
	var parts []string
	if c.IBT {
		parts = append(parts, "IBT")
	}
	switch c.IndirectThunk {
	case "":
		parts = append(parts, "jmp *%rcx")
	case inlineRetpoline:
		parts = append(parts, "inline retpoline")
	case lfenceJump:
		parts = append(parts, "lfence; jmp *%rcx")
	default:
		parts = append(parts, "jmp "+c.IndirectThunk)
	}
	if c.ReturnThunk != "" {
		parts = append(parts, "jmp "+c.ReturnThunk)
	} else if c.SLS {
		parts = append(parts, "ret; int3")
	} else {
		parts = append(parts, "ret")
	}
	if c.BMI2 {
		parts = append(parts, "BMI2")
	}
	return strings.Join(parts, ", ")
}

// symbolAddr finds a kernel symbol: in the placement's symbols (by name),
// else at its offset from __bpf_call_base in the captured build of the
// profile's kernel.
func symbolAddr(l *kernel.Loaded, v *version, name string) (uint64, bool) {
	for a, n := range l.Symbols {
		if n == name {
			return a, true
		}
	}
	if d, ok := v.deltas[name]; ok {
		return l.CallBase + uint64(d), true
	}
	return 0, false
}
