// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"bytes"
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// TestIBT holds the prologue with CONFIG_X86_KERNEL_IBT to emit_prologue
// @ 6.1 and 6.12: an endbr64 at the entry and one where
// X86_TAIL_CALL_OFFSET lands (11 + ENDBR_INSN_SIZE, 12 + ENDBR_INSN_SIZE
// from 6.11), which the indirect tail call adds to bpf_func.
func TestIBT(t *testing.T) {
	cases := []struct {
		profile  string
		prologue string
		entry    int
	}{
		{"v6.1", "f3 0f 1e fa 0f 1f 44 00 00 31 c0 55 48 89 e5 f3 0f 1e fa 50", 15},
		{"v6.18", "f3 0f 1e fa 0f 1f 44 00 00 48 31 c0 55 48 89 e5 f3 0f 1e fa 48 83 f8 21 77 06 50 48 89 e0 eb 01 50 50", 16},
	}
	for _, tc := range cases {
		l := loaded(0, false, ldMap(2, "jmp_table", testMap), insn(0xb7, 3, 0, 0, 1), tailCall(false, 0), insn(0x95, 0, 0, 0, 0))
		l.Config["CONFIG_X86_KERNEL_IBT"] = "y"
		fi := compile(t, tc.profile, l).Funcs[0]
		want := unhex(t, tc.prologue)
		if got := fi.Code[:fi.BPFOffsets[0]]; !bytes.Equal(got, want) {
			t.Errorf("Compile(IBT, %s) prologue = %s, want %s", tc.profile, spaced(got), spaced(want))
		}
		if fi.TailCallEntry != tc.entry {
			t.Errorf("%s: TailCallEntry = %d, want %d", tc.profile, fi.TailCallEntry, tc.entry)
		}
		if r := fi.RegionAt(tc.entry); r != jit.RegionLandingPad {
			t.Errorf("%s: region at X86_TAIL_CALL_OFFSET = %q, want %q", tc.profile, r, jit.RegionLandingPad)
		}
		// add rcx, X86_TAIL_CALL_OFFSET
		if add := []byte{0x48, 0x83, 0xc1, byte(tc.entry)}; !bytes.Contains(fi.Code, add) {
			t.Errorf("%s: no %s in the indirect tail call", tc.profile, spaced(add))
		}
	}
}

// TestIndirectJump holds emit_indirect_jump @ 6.1 for each mitigation: a
// jump to the retpoline thunk, "lfence; jmp *%rcx", and "jmp *%rcx"
// followed by int3 when the kernel is built with retpolines or SLS.
func TestIndirectJump(t *testing.T) {
	cases := []struct {
		name   string
		config map[string]string
		want   string
	}{
		{"retpoline thunk", nil, "e9"},
		{"lfence", map[string]string{"observed:indirect_thunk": "lfence"}, "0f ae e8 ff e1"},
		{"eIBRS, built with retpolines", map[string]string{"cpu:ibrs_enhanced": "y"}, "ff e1 cc"},
		{"no retpoline, no SLS", map[string]string{"CONFIG_RETPOLINE": "n", "CONFIG_SLS": "n"}, "ff e1"},
	}
	for _, tc := range cases {
		l := loaded(0, false, tailCall(false, 0), insn(0x95, 0, 0, 0, 0))
		for k, v := range tc.config {
			l.Config[k] = v
		}
		fi := compile(t, "v6.1", l).Funcs[0]
		tail := fi.Code[fi.BPFOffsets[0]:fi.BPFOffsets[1]]
		// the sequence ends with "add rcx, 0xb" and the jump
		add := bytes.LastIndex(tail, []byte{0x48, 0x83, 0xc1, 0x0b})
		want := unhex(t, tc.want)
		if add < 0 || !bytes.HasPrefix(tail[add+4:], want) || (tc.want != "e9" && len(tail[add+4:]) != len(want)) {
			t.Errorf("Compile(%s) tail call = %s, want it to end with add rcx, 0xb; %s", tc.name, spaced(tail), tc.want)
		}
		if tc.want == "e9" {
			found := false
			for _, r := range fi.Relocs {
				found = found || (r.Kind == "jmp_rel32" && r.Name == "__x86_indirect_thunk_rcx" && r.Offset == fi.BPFOffsets[0]+add+4)
			}
			if !found {
				t.Errorf("Compile(%s): no jmp_rel32 reloc for __x86_indirect_thunk_rcx in %+v", tc.name, fi.Relocs)
			}
		}
	}
}

// TestConfigFor holds the configuration read off the captures' kernels.
func TestConfigFor(t *testing.T) {
	p61, _ := jit.LookupProfile(kernel.X86_64, "v6.1")
	p618, _ := jit.LookupProfile(kernel.X86_64, "v6.18")
	cases := []struct {
		name string
		p    *jit.Profile
		cfg  map[string]string
		want x86.Config
	}{
		{"v6.1 default (Debian 6.1 under qemu)", p61, nil,
			x86.Config{Retpoline: true, SLS: true, IndirectThunk: "__x86_indirect_thunk_rcx"}},
		{"v6.18 default (this machine)", p618, nil,
			x86.Config{Retpoline: true, IndirectThunk: "__x86_indirect_thunk_rcx", ReturnThunk: "srso_alias_return_thunk", BMI2: true}},
		{"6.1 capture: RETHUNK built, none observed", p61,
			map[string]string{"CONFIG_BPF_JIT": "y", "CONFIG_RETPOLINE": "y", "CONFIG_RETHUNK": "y", "CONFIG_SLS": "y", "CONFIG_X86_KERNEL_IBT": "n", "CONFIG_X86_5LEVEL": "y", "cpu:bmi2": "y", "cpu:la57": "y"},
			x86.Config{Retpoline: true, SLS: true, IndirectThunk: "__x86_indirect_thunk_rcx", BMI2: true, LA57: true}},
		{"6.18 capture, AMD: MITIGATION_ names, observed return thunk", p618,
			map[string]string{"CONFIG_BPF_JIT": "y", "CONFIG_RETPOLINE": "n", "CONFIG_MITIGATION_RETPOLINE": "y", "CONFIG_SLS": "n", "CONFIG_MITIGATION_SLS": "n", "observed:return_thunk": "srso_alias_return_thunk", "cpu:bmi2": "y"},
			x86.Config{Retpoline: true, IndirectThunk: "__x86_indirect_thunk_rcx", ReturnThunk: "srso_alias_return_thunk", BMI2: true}},
		{"6.18 capture, Intel eIBRS", p618,
			map[string]string{"CONFIG_BPF_JIT": "y", "CONFIG_MITIGATION_RETPOLINE": "y", "cpu:ibrs_enhanced": "y", "cpu:bmi2": "y"},
			x86.Config{Retpoline: true, BMI2: true}},
	}
	for _, tc := range cases {
		got, err := x86.ConfigFor(tc.p, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("ConfigFor(%s) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestPokeStates steps seed 001's poke state machine on the 5.10 image:
// C (as loaded) -> D (target poked) -> B (bypass removed), and A.
func TestPokeStates(t *testing.T) {
	fi := compileSeed001(t, 8, false)
	p := x86.Pokes(fi)[0]
	const dest = 0xffffffffc051200b
	cases := []struct {
		s            x86.PokeState
		bypass, tgt  string
		destInTarget bool
	}{
		{x86.PokeC, "e9 0e 00 00 00", "0f 1f 44 00 00", false},
		{x86.PokeD, "e9 0e 00 00 00", "e9 57 e5 ff ff", true},
		{x86.PokeB, "0f 1f 44 00 00", "e9 57 e5 ff ff", true},
		{x86.PokeA, "0f 1f 44 00 00", "0f 1f 44 00 00", false},
	}
	for _, tc := range cases {
		code, err := x86.WithPoke(fi, fi.Code, p, tc.s, dest)
		if err != nil {
			t.Fatal(err)
		}
		if got := code[p.Bypass : p.Bypass+5]; !bytes.Equal(got, unhex(t, tc.bypass)) {
			t.Errorf("WithPoke(%v) bypass = %s, want %s", tc.s, spaced(got), tc.bypass)
		}
		if got := code[p.Target : p.Target+5]; !bytes.Equal(got, unhex(t, tc.tgt)) {
			t.Errorf("WithPoke(%v) target = %s, want %s", tc.s, spaced(got), tc.tgt)
		}
	}
	if c, _ := x86.WithPoke(fi, fi.Code, p, x86.PokeC, 0); !bytes.Equal(c, fi.Code) {
		t.Errorf("WithPoke(C) of the image as loaded changed it")
	}
}
