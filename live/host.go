// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// Host is the running kernel as far as its JIT is concerned: version,
// build configuration, CPU features and mitigations, and the struct
// offsets the JIT bakes into tail calls. It becomes the placement
// configuration of every program read from this kernel.
type Host struct {
	Arch    kernel.Arch
	Release string // uname -r
	Version string // "6.18"
	Uname   string // uname -v
	// Config is the kernel's .config ("y", "m", "n" for "is not set", or
	// the value); ConfigSource says where it was read.
	Config       map[string]string
	ConfigSource string
	CPU          string   // model name
	CPUFlags     []string // /proc/cpuinfo flags (x86) or Features (arm64)
	// Vulnerabilities is /sys/devices/system/cpu/vulnerabilities/*.
	Vulnerabilities map[string]string
	Sysctl          map[string]string // bpf_jit_enable, bpf_jit_harden, kptr_restrict
	// ReturnThunk and IndirectThunk are what the x86 JIT's emit_return and
	// emit_indirect_jump use, derived from the mitigations the kernel
	// reports ("" for ret / jmp *%rcx); Derivation says how.
	ReturnThunk, IndirectThunk string
	Derivation                 []string
	// Layout holds struct offsets from the kernel's BTF, keyed as in
	// kernel.Placement.Layout; LayoutSource says where they came from.
	Layout       map[string]int
	LayoutSource string
	// Overrides are the user's --config KEY=VALUE settings, applied last.
	Overrides map[string]string
	family    int // x86 cpu family (SRSO's alias thunk is Zen 3/4's)
}

// HostOptions choose where DetectHost reads.
type HostOptions struct {
	// Root prefixes every /proc and /sys path (tests use a fake tree);
	// "" is the real system.
	Root string
	// ConfigFile is the kernel .config to use instead of /proc/config.gz
	// or /boot/config-<release> (plain or gzip).
	ConfigFile string
	// Release overrides uname -r (with Root: the fake system's release).
	Release string
	// Overrides set configuration keys last (CONFIG_*, cpu:FLAG,
	// observed:return_thunk, observed:indirect_thunk, sysctl:NAME).
	Overrides map[string]string
	// NoBTF skips reading /sys/kernel/btf/vmlinux (the profile's default
	// struct offsets are used).
	NoBTF bool
}

// DetectHost reads the running kernel's facts.
func DetectHost(o HostOptions) (*Host, error) {
	h := &Host{Config: map[string]string{}, Vulnerabilities: map[string]string{}, Sysctl: map[string]string{},
		Overrides: o.Overrides}
	p := func(s string) string { return filepath.Join(o.Root, s) }
	var uts unix.Utsname
	if o.Release != "" {
		h.Release = o.Release
	} else if err := unix.Uname(&uts); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	} else {
		h.Release = unix.ByteSliceToString(uts.Release[:])
		h.Uname = unix.ByteSliceToString(uts.Version[:])
	}
	machine := unix.ByteSliceToString(uts.Machine[:])
	if o.Root != "" || machine == "" {
		machine = "x86_64"
		if b, err := os.ReadFile(p("/proc/sys/kernel/arch")); err == nil {
			machine = strings.TrimSpace(string(b))
		}
	}
	arch, err := kernel.ParseArch(machine)
	if err != nil {
		return nil, fmt.Errorf("this machine: %w", err)
	}
	h.Arch = arch
	h.Version = capture.MajorMinor(h.Release)
	if h.Version == "" {
		return nil, fmt.Errorf("kernel release %q: no major.minor version", h.Release)
	}
	if err := h.readConfig(o, p); err != nil {
		return nil, err
	}
	h.readCPU(p("/proc/cpuinfo"))
	if ents, err := os.ReadDir(p("/sys/devices/system/cpu/vulnerabilities")); err == nil {
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(p("/sys/devices/system/cpu/vulnerabilities"), e.Name())); err == nil {
				h.Vulnerabilities[e.Name()] = strings.TrimSpace(string(b))
			}
		}
	}
	for name, f := range map[string]string{
		"bpf_jit_enable": "/proc/sys/net/core/bpf_jit_enable",
		"bpf_jit_harden": "/proc/sys/net/core/bpf_jit_harden",
		"kptr_restrict":  "/proc/sys/kernel/kptr_restrict",
	} {
		if b, err := os.ReadFile(p(f)); err == nil {
			h.Sysctl[name] = strings.TrimSpace(string(b))
		}
	}
	if h.Arch == kernel.X86_64 {
		h.deriveThunks()
	}
	if !o.NoBTF {
		h.readLayout(p("/sys/kernel/btf/vmlinux"))
	}
	return h, nil
}

// readConfig reads the .config: the given file, else /proc/config.gz,
// else /boot/config-<release>.
func (h *Host) readConfig(o HostOptions, p func(string) string) error {
	cands := []string{p("/proc/config.gz"), p("/boot/config-" + h.Release)}
	if o.ConfigFile != "" {
		cands = []string{o.ConfigFile}
	}
	for _, f := range cands {
		b, err := os.ReadFile(f)
		if err != nil {
			if o.ConfigFile != "" {
				return fmt.Errorf("kernel config: %w", err)
			}
			continue
		}
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		h.Config = parseConfig(b)
		if _, ok := h.Config["CONFIG_BPF_JIT"]; !ok && len(h.Config) > 0 {
			h.Config["CONFIG_BPF_JIT"] = "n"
		}
		if len(h.Config) == 0 {
			return fmt.Errorf("%s: no CONFIG_ options (not a kernel .config)", f)
		}
		h.ConfigSource = f
		return nil
	}
	// Without a .config the profile's defaults stand: say so, the
	// comparison will show what that costs.
	h.ConfigSource = "none found (" + strings.Join(cands, ", ") + "): the profile's defaults"
	return nil
}

// parseConfig reads .config lines: CONFIG_X=v and "# CONFIG_X is not set".
func parseConfig(b []byte) map[string]string {
	cfg := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(k, " is not set"); ok && strings.HasPrefix(name, "CONFIG_") {
				cfg[name] = "n"
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "CONFIG_") {
			continue
		}
		cfg[k] = strings.Trim(v, `"`)
	}
	return cfg
}

func (h *Host) readCPU(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		switch k {
		case "cpu family":
			if h.family == 0 {
				fmt.Sscanf(strings.TrimSpace(v), "%d", &h.family)
			}
		case "model name", "CPU implementer":
			if h.CPU == "" {
				h.CPU = strings.TrimSpace(v)
			}
		case "flags", "Features":
			if len(seen) > 0 {
				continue // the first CPU speaks for all
			}
			for _, f := range strings.Fields(v) {
				seen[f] = true
			}
		}
	}
	for f := range seen {
		h.CPUFlags = append(h.CPUFlags, f)
	}
	sort.Strings(h.CPUFlags)
}

func (h *Host) hasFlag(f string) bool {
	i := sort.SearchStrings(h.CPUFlags, f)
	return i < len(h.CPUFlags) && h.CPUFlags[i] == f
}

// deriveThunks works out x86_return_thunk and the indirect jump the JIT
// uses from the mitigations the kernel reports, following
// arch/x86/kernel/cpu/bugs.c (6.18): X86_FEATURE_RETHUNK (and with it a
// "jmp x86_return_thunk" in emit_return) is set only when a return-thunk
// mitigation is selected: retbleed "untrained return thunk"
// (retbleed_return_thunk), retbleed "Stuffing" (call_depth_return_thunk),
// SRSO "Safe RET" (srso_return_thunk; srso_alias_return_thunk on family
// 0x19), ITS "Aligned branch/return thunks" (its_return_thunk).
// emit_indirect_jump (arch/x86/net/bpf_jit_comp.c) takes the ITS thunk, else
// "lfence; jmp" for spectre_v2 LFENCE, else the retpoline thunk for
// spectre_v2 Retpolines, else a plain jmp.
func (h *Host) deriveThunks() {
	v := h.Vulnerabilities
	its := strings.Contains(v["indirect_target_selection"], "Aligned branch/return thunks")
	switch {
	case strings.Contains(v["spec_rstack_overflow"], "Safe RET"):
		h.ReturnThunk = "srso_return_thunk"
		if h.family == 0x19 {
			h.ReturnThunk = "srso_alias_return_thunk"
		}
		h.Derivation = append(h.Derivation, "spec_rstack_overflow: Safe RET -> "+h.ReturnThunk)
	case strings.Contains(v["retbleed"], "untrained return thunk"):
		h.ReturnThunk = "retbleed_return_thunk"
		h.Derivation = append(h.Derivation, "retbleed: untrained return thunk -> "+h.ReturnThunk)
	case strings.Contains(v["retbleed"], "Stuffing"):
		h.ReturnThunk = "call_depth_return_thunk"
		h.Derivation = append(h.Derivation, "retbleed: Stuffing -> "+h.ReturnThunk)
	case its:
		h.ReturnThunk = "its_return_thunk"
		h.Derivation = append(h.Derivation, "indirect_target_selection: aligned thunks -> "+h.ReturnThunk)
	default:
		h.Derivation = append(h.Derivation, "no return-thunk mitigation reported -> ret")
	}
	s2 := v["spectre_v2"]
	switch {
	case its:
		h.IndirectThunk = "__x86_indirect_its_thunk_rcx"
	case strings.Contains(s2, "LFENCE"):
		h.IndirectThunk = "lfence"
	case strings.Contains(s2, "Retpolines"):
		h.IndirectThunk = "__x86_indirect_thunk_rcx"
	default:
		h.IndirectThunk = ""
	}
	if h.IndirectThunk == "" {
		h.Derivation = append(h.Derivation, fmt.Sprintf("spectre_v2 %q -> jmp *%%rcx", s2))
	} else {
		h.Derivation = append(h.Derivation, fmt.Sprintf("spectre_v2 %q -> %s", s2, h.IndirectThunk))
	}
}

// readLayout reads the struct offsets the JITs use from the kernel's BTF.
func (h *Host) readLayout(file string) {
	f, err := os.Open(file)
	if err != nil {
		h.LayoutSource = "profile defaults (" + err.Error() + ")"
		return
	}
	defer f.Close()
	spec, err := btf.LoadSpecFromReader(f)
	if err != nil {
		h.LayoutSource = "profile defaults (" + file + ": " + err.Error() + ")"
		return
	}
	h.Layout = map[string]int{}
	var problems []string
	set := func(key, structName string, path ...string) {
		off, err := memberOffset(spec, structName, path...)
		if err != nil {
			problems = append(problems, key+": "+err.Error())
			return
		}
		h.Layout[key] = off
	}
	set("bpf_array.map.max_entries", "bpf_array", "map", "max_entries")
	set("bpf_array.ptrs", "bpf_array", "ptrs")
	set("bpf_array.value", "bpf_array", "value")
	set("bpf_array.elem_size", "bpf_array", "elem_size")
	set("bpf_array.index_mask", "bpf_array", "index_mask")
	set("bpf_prog.bpf_func", "bpf_prog", "bpf_func")
	set("bpf_prog.aux", "bpf_prog", "aux")
	// The struct offsets of the verifier's rewrites (context fields, map
	// lookups), for predicting a program's xlated form.
	for _, key := range verifier.Required {
		st, member, _ := strings.Cut(key, ".")
		if _, done := h.Layout[key]; done {
			continue
		}
		if off, err := memberOffset(spec, st, member); err == nil {
			h.Layout[key] = off
		}
	}
	h.LayoutSource = "BTF: " + file
	if len(problems) > 0 {
		h.LayoutSource += " (missing: " + strings.Join(problems, "; ") + ")"
	}
}

// memberOffset finds the byte offset of a member path in a struct,
// looking through anonymous structs and unions.
func memberOffset(spec *btf.Spec, structName string, path ...string) (int, error) {
	var s *btf.Struct
	if err := spec.TypeByName(structName, &s); err != nil {
		return 0, err
	}
	var t btf.Type = s
	off := 0
	for _, name := range path {
		o, mt, ok := findMember(t, name)
		if !ok {
			return 0, fmt.Errorf("no member %s", name)
		}
		off += o
		t = mt
	}
	return off, nil
}

func findMember(t btf.Type, name string) (int, btf.Type, bool) {
	var members []btf.Member
	switch c := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return 0, nil, false
	}
	for _, m := range members {
		if m.Name == name {
			return int(m.Offset.Bytes()), m.Type, true
		}
		if m.Name == "" {
			if o, mt, ok := findMember(m.Type, name); ok {
				return int(m.Offset.Bytes()) + o, mt, true
			}
		}
	}
	return 0, nil, false
}

// PlacementConfig is the host as kernel.Placement.Config keys: the
// .config, cpu:FLAG, sysctl:NAME and observed thunks, then the overrides.
func (h *Host) PlacementConfig() map[string]string {
	cfg := map[string]string{}
	for k, v := range h.Config {
		cfg[k] = v
	}
	for _, f := range h.CPUFlags {
		cfg["cpu:"+f] = "y"
	}
	for k, v := range h.Sysctl {
		cfg["sysctl:"+k] = v
	}
	if h.Arch == kernel.X86_64 {
		rt, it := h.ReturnThunk, h.IndirectThunk
		if rt == "" {
			rt = "none"
		}
		if it == "" {
			it = "none"
		}
		cfg["observed:return_thunk"] = rt
		cfg["observed:indirect_thunk"] = it
	}
	for k, v := range h.Overrides {
		cfg[k] = v
	}
	return cfg
}

// ProfileName is the jitscope profile for this kernel: "v" + major.minor.
func (h *Host) ProfileName() string { return "v" + h.Version }
