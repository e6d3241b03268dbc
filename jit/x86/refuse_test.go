// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// TestRefusals holds instructions a version's JIT (or verifier) does not
// accept to a jit.Error naming the instruction, as the kernel's
// "bpf_jit: unknown opcode %02x" does.
func TestRefusals(t *testing.T) {
	cases := []struct {
		profile string
		in      kernel.Insn
		want    string
	}{
		{"v6.1", insn(0xbf, 1, 2, 8, 0), "unknown opcode bf"},       // r1 = (s8)r2: movsx
		{"v6.1", insn(0x3f, 1, 2, 1, 0), "unknown opcode 3f"},       // r1 s/= r2: sdiv
		{"v6.1", insn(0xd7, 1, 0, 0, 32), "unknown opcode d7"},      // r1 = bswap32 r1
		{"v6.1", insn(0x91, 0, 1, 0, 0), "unknown opcode 91"},       // r0 = *(s8 *)(r1 + 0): ldsx
		{"v6.1", insn(0xdb, 0, 1, 0, 0x100), "unknown atomic"},      // load-acquire (6.15)
		{"v6.1", insn(0xd3, 1, 2, 0, 0), "unknown opcode d3"},       // 1-byte atomic add
		{"v5.10", insn(0x06, 0, 0, 0, 0), "unknown opcode 06"},      // gotol
		{"v5.10", insn(0xc2, 0, 0, 0, 0), "unknown opcode c2"},      // BPF_NOSPEC (5.13)
		{"v5.10", insn(0xdb, 1, 2, 0, 0x01), "unknown opcode db"},   // atomic_fetch_add (5.12)
		{"v6.18", insn(0xb9, 0, 1, 0, 0), "arena"},                  // BPF_PROBE_MEM32 load
		{"v6.18", insn(0xcb, 1, 2, 0, 0), "2-byte RMW atomics"},     // lock *(u16 *) += r2
		{"v6.18", insn(0xe5, 0, 0, 0, 0), "unknown opcode e5"},      // may_goto: rewritten by the verifier
		{"v6.18", insn(0xbf, 1, 2, 1, 1<<16), "addr_space_cast"},    // arena cast to user
		{"v6.18", insn(0x18|0x20, 0, 0, 0, 0), "unknown opcode 38"}, // BPF_LD | BPF_ABS | BPF_DW
	}
	for _, tc := range cases {
		t.Run(tc.profile+"/"+tc.want, func(t *testing.T) {
			l := loaded(0, false, insn(0xb7, 0, 0, 0, 0), tc.in, insn(0x95, 0, 0, 0, 0))
			p, err := jit.LookupProfile(kernel.X86_64, tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			_, err = jit.Compile(l, p)
			var je *jit.Error
			if !errors.As(err, &je) {
				t.Fatalf("Compile(%02x) on %s = %v, want a *jit.Error", tc.in.Raw.Code, tc.profile, err)
			}
			if je.Insn != 1 || !strings.Contains(je.Msg, tc.want) {
				t.Errorf("Compile(%02x) on %s = %q (insn %d), want %q at insn 1", tc.in.Raw.Code, tc.profile, je.Msg, je.Insn, tc.want)
			}
		})
	}
}

// TestRefusedConfigurations holds what jitscope does not model to an error
// instead of wrong bytes.
func TestRefusedConfigurations(t *testing.T) {
	exit := []kernel.Insn{insn(0xb7, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0)}
	cfi := loaded(0, false, exit...)
	cfi.Config["CONFIG_CFI_CLANG"] = "y"
	priv := loaded(64, false, exit...)
	priv.Type = "kprobe"
	blind := loaded(0, false, exit...)
	blind.Config["sysctl:bpf_jit_harden"] = "2"
	for _, tc := range []struct {
		name string
		l    *kernel.Loaded
		want string
	}{
		{"kCFI preamble", cfi, "CONFIG_CFI_CLANG"},
		{"private stack (6.13+)", priv, "private per-CPU stack"},
		{"constant blinding", blind, "bpf_jit_harden=2"},
	} {
		p, _ := jit.LookupProfile(kernel.X86_64, "v6.18")
		_, err := jit.Compile(tc.l, p)
		var je *jit.Error
		if !errors.As(err, &je) || !strings.Contains(je.Msg, tc.want) {
			t.Errorf("Compile(%s) = %v, want a *jit.Error about %q", tc.name, err, tc.want)
		}
	}
}
