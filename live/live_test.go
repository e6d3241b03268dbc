// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

func TestDetectHostFake(t *testing.T) {
	h, err := DetectHost(HostOptions{Root: "testdata/fakehost", Release: "6.18.44-test", NoBTF: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.Arch != kernel.X86_64 || h.Version != "6.18" || h.ProfileName() != "v6.18" {
		t.Errorf("arch %s version %s profile %s, want x86_64 6.18 v6.18", h.Arch, h.Version, h.ProfileName())
	}
	if h.Config["CONFIG_X86_KERNEL_IBT"] != "n" || h.Config["CONFIG_MITIGATION_RETPOLINE"] != "y" || h.Config["CONFIG_CC_VERSION_TEXT"] != "gcc (GCC) 15.3.0" {
		t.Errorf("config %v", h.Config)
	}
	// The first CPU's flags speak for all; family 25 (Zen 3) takes the
	// SRSO alias thunk.
	if strings.Join(h.CPUFlags, " ") != "bmi2 fpu ssbd" {
		t.Errorf("flags %v", h.CPUFlags)
	}
	if h.ReturnThunk != "srso_alias_return_thunk" || h.IndirectThunk != "__x86_indirect_thunk_rcx" {
		t.Errorf("thunks %q %q", h.ReturnThunk, h.IndirectThunk)
	}
	cfg := h.PlacementConfig()
	if cfg["cpu:bmi2"] != "y" || cfg["observed:return_thunk"] != "srso_alias_return_thunk" || cfg["sysctl:bpf_jit_enable"] != "1" {
		t.Errorf("placement config %v", cfg)
	}
	// The profile compiles with what the host says.
	p, err := jit.LookupProfile(kernel.X86_64, h.ProfileName())
	if err != nil {
		t.Fatal(err)
	}
	if p.Kernel != "6.18" {
		t.Errorf("profile kernel %s", p.Kernel)
	}

	// Overrides win.
	h, err = DetectHost(HostOptions{Root: "testdata/fakehost", Release: "6.18.1", NoBTF: true,
		Overrides: map[string]string{"observed:return_thunk": "none"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.PlacementConfig()["observed:return_thunk"]; got != "none" {
		t.Errorf("override: observed:return_thunk = %q", got)
	}
	if _, err := DetectHost(HostOptions{Root: "testdata/fakehost", Release: "6.18", ConfigFile: "testdata/nonexistent", NoBTF: true}); err == nil {
		t.Error("a missing --config-file was accepted")
	}
	if _, err := DetectHost(HostOptions{Root: "testdata/fakehost", Release: "linux", NoBTF: true}); err == nil {
		t.Error("a release without a version was accepted")
	}
}

func TestDeriveThunks(t *testing.T) {
	for _, c := range []struct {
		vulns         map[string]string
		family        int
		ret, indirect string
	}{
		{map[string]string{"retbleed": "Mitigation: Enhanced IBRS", "spectre_v2": "Mitigation: Enhanced / Automatic IBRS; IBPB: conditional"}, 6, "", ""},
		{map[string]string{"spec_rstack_overflow": "Mitigation: Safe RET", "spectre_v2": "Mitigation: Retpolines"}, 0x17, "srso_return_thunk", "__x86_indirect_thunk_rcx"},
		{map[string]string{"retbleed": "Mitigation: untrained return thunk", "spectre_v2": "Mitigation: LFENCE"}, 0x17, "retbleed_return_thunk", "lfence"},
		{map[string]string{"retbleed": "Mitigation: Stuffing"}, 6, "call_depth_return_thunk", ""},
		{map[string]string{"indirect_target_selection": "Mitigation: Aligned branch/return thunks", "spectre_v2": "Mitigation: Retpolines"}, 6, "its_return_thunk", "__x86_indirect_its_thunk_rcx"},
	} {
		h := &Host{Vulnerabilities: c.vulns, family: c.family}
		h.deriveThunks()
		if h.ReturnThunk != c.ret || h.IndirectThunk != c.indirect {
			t.Errorf("%v: return %q indirect %q, want %q %q", c.vulns, h.ReturnThunk, h.IndirectThunk, c.ret, c.indirect)
		}
	}
}

func TestConditionsCheck(t *testing.T) {
	root := Conditions{EUID: 0, KptrRestrict: 0, JITEnable: 1, BPFSyscall: true}
	if err := root.Check(); err != nil {
		t.Fatalf("root: %v", err)
	}
	caps := Conditions{EUID: 1000, CapEff: 1<<capSysAdmin | 1<<capBPF | 1<<capPerfmon, KptrRestrict: 1, JITEnable: 1, BPFSyscall: true}
	if err := caps.Check(); err == nil || !strings.Contains(err.Error(), "kptr_restrict") {
		t.Errorf("kptr_restrict=1 without CAP_SYSLOG: %v", err)
	}
	caps.CapEff |= 1 << capSyslog
	if err := caps.Check(); err != nil {
		t.Errorf("CAP_SYS_ADMIN+CAP_SYSLOG: %v", err)
	}
	for _, c := range []struct {
		c    Conditions
		want []string
	}{
		{Conditions{EUID: 1000, KptrRestrict: 0, JITEnable: 1, BPFSyscall: true}, []string{"root (CAP_SYS_ADMIN, or CAP_BPF+CAP_PERFMON"}},
		{Conditions{EUID: 1000, CapEff: 1<<capBPF | 1<<capPerfmon, KptrRestrict: 0, JITEnable: 1, BPFSyscall: true}, []string{"CAP_SYS_ADMIN to list"}},
		{Conditions{EUID: 0, KptrRestrict: 2, JITEnable: 1, BPFSyscall: true}, []string{"kernel.kptr_restrict=0 (it is 2"}},
		{Conditions{EUID: 0, KptrRestrict: 0, JITEnable: 0, BPFSyscall: true}, []string{"net.core.bpf_jit_enable=1"}},
		{Conditions{EUID: 0, KptrRestrict: 0, JITEnable: -1, BPFSyscall: true}, []string{"a BPF JIT"}},
		{Conditions{EUID: 1000, KptrRestrict: 2, JITEnable: -1, BPFSyscall: false}, []string{"bpf() system call", "a BPF JIT", "root", "kptr_restrict"}},
	} {
		err := c.c.Check()
		if err == nil {
			t.Errorf("%+v: allowed", c.c)
			continue
		}
		if !errors.Is(err, ErrPrivilege) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %q is not one ErrPrivilege line", c.c, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %q does not name %q", c.c, err, w)
			}
		}
	}
}

func TestKallsyms(t *testing.T) {
	k, err := ReadKallsyms("testdata/fakehost/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := k.Addr("__bpf_call_base"); !ok || a != 0xffffffff814cc810 {
		t.Errorf("__bpf_call_base = %#x %v", a, ok)
	}
	if n, ok := k.Name(0xffffffffc0025c1c); !ok || n != "bpf_prog_ca3b51d29e4ef135_entry" {
		t.Errorf("name at 0xffffffffc0025c1c = %q %v", n, ok)
	}
	if _, ok := k.Name(0xffffffffc0025c1d); ok {
		t.Error("a name between symbols")
	}
	if _, err := ParseKallsyms(strings.NewReader("0000000000000000 T a\n0000000000000000 T b\n")); err == nil {
		t.Error("all-zero kallsyms (kptr_restrict) accepted")
	}
	if _, err := ParseKallsyms(strings.NewReader("zz T a\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad address: %v", err)
	}
}

func TestParseStackDepths(t *testing.T) {
	got := parseStackDepths("verification time 7 usec\nstack depth 8+0+216\nprocessed 12 insns")
	if len(got) != 3 || got[0] != 8 || got[1] != 0 || got[2] != 216 {
		t.Errorf("got %v", got)
	}
	if parseStackDepths("processed 2 insns") != nil {
		t.Error("depths from a log without them")
	}
}

func TestMovSequence(t *testing.T) {
	// movz x1, #0xba00; movk x1, #0x4738, lsl #16; movk x1, #0x8882, lsl #32; movk x1, #0xffff, lsl #48
	words := []uint32{0xd2974001, 0xf2a8e701, 0xf2d11041, 0xf2ffffe1}
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	v, ok := movSequence(b)
	if !ok || v != 0xffff88824738ba00 {
		t.Errorf("movSequence = %#x %v, want 0xffff88824738ba00", v, ok)
	}
	// movn x1, #0 = all ones
	binary.LittleEndian.PutUint32(b, 0x92800001)
	if v, ok := movSequence(b[:4]); !ok || v != ^uint64(0) {
		t.Errorf("movn: %#x %v", v, ok)
	}
	binary.LittleEndian.PutUint32(b, 0xd503201f) // nop
	if _, ok := movSequence(b[:4]); ok {
		t.Error("a nop decoded as a move")
	}
}

func TestFuncStarts(t *testing.T) {
	// r0 = 0; call pc+1 (src=1); exit; r0 = 1; exit
	insn := func(code, regs uint8, off int16, imm int32) []byte {
		b := make([]byte, 8)
		b[0], b[1] = code, regs
		binary.LittleEndian.PutUint16(b[2:], uint16(off))
		binary.LittleEndian.PutUint32(b[4:], uint32(imm))
		return b
	}
	var x []byte
	x = append(x, insn(0xb7, 0, 0, 0)...)
	x = append(x, insn(0x85, 0x10, 1, 1)...)
	x = append(x, insn(0x95, 0, 0, 0)...)
	x = append(x, insn(0xb7, 0, 0, 1)...)
	x = append(x, insn(0x95, 0, 0, 0)...)
	s, err := funcStarts(&RawInfo{Xlated: x}, 2)
	if err != nil || len(s) != 2 || s[0] != 0 || s[1] != 3 {
		t.Errorf("funcStarts = %v, %v; want [0 3]", s, err)
	}
	if _, err := funcStarts(&RawInfo{Xlated: x}, 3); err == nil {
		t.Error("3 JITed functions for 2 starts accepted")
	}
}

// TestPairFromImageArm64 takes real 6.1 arm64 captures, forgets the map
// addresses and has them read back from the kernel's image. The addresses
// take four instructions (0xffff0000_080f_f600: movz, movk, movk, movk)
// where the JIT's stand-in may take fewer, so the fields after the first
// move: the rounds of pairFromImage must find them all the same.
func TestPairFromImageArm64(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/captures/arm64-6.1*/*/*/capture.json")
	n := 0
	for _, cf := range dirs {
		dir := filepath.Dir(cf)
		js, err := os.ReadFile(cf)
		if err != nil {
			t.Fatal(err)
		}
		var cj cJSON
		if err := json.Unmarshal(js, &cj); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for i := range cj.Maps {
			m := &cj.Maps[i]
			if m.Address != nil {
				want["map "+m.Name] = *m.Address
			}
			if m.ValueAddress != nil {
				want["value "+m.Name] = *m.ValueAddress
			}
			m.Address, m.ValueAddress = nil, nil
		}
		if len(want) == 0 {
			continue
		}
		xl, err1 := os.ReadFile(filepath.Join(dir, "xlated.bin"))
		ji, err2 := os.ReadFile(filepath.Join(dir, "jited.bin"))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		prof := "v6.1"
		r := &Reader{Host: &Host{Arch: kernel.ARM64, Release: "6.1.0"}, ProfileName: prof}
		snap := &Snapshot{Info: &RawInfo{Xlated: xl, Jited: ji}}
		if err := r.pairFromImage(snap, &cj); err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		for i := range cj.Maps {
			m := &cj.Maps[i]
			for key, got := range map[string]*string{"map " + m.Name: m.Address, "value " + m.Name: m.ValueAddress} {
				w, ok := want[key]
				if !ok {
					continue
				}
				if got == nil || *got != w {
					t.Errorf("%s: %s: read %v from the image, want %s (read: %q)", dir, key, deref(got), w, snap.FromImage)
				}
			}
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d arm64 captures with map addresses checked", n)
	}
}

func deref(s *string) string {
	if s == nil {
		return "nothing"
	}
	return *s
}
