// SPDX-License-Identifier: GPL-2.0-only

package fuzzgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// FeaturesOf says which instructions profile p's kernel accepts.
func FeaturesOf(p *jit.Profile) Features {
	return Features{CPUv4: p.CPUv4, AtomicFetch: atLeast(p.Kernel, 5, 12), SubprogTailCalls: p.SubprogTailCalls}
}

// atLeast reports whether a profile's kernel ("5.10", "6.18 (...)", "5.19
// (bpf-next, June 2022)") is at least major.minor; "none" is not.
func atLeast(k string, major, minor int) bool {
	v, _, _ := strings.Cut(k, " ")
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// MaxInsns bounds each generated function, so one input stays fast.
const MaxInsns = 600

// CheckJIT is the body of the JIT fuzz targets: data[0] picks a profile of
// arch, the rest a program set (Set). Every program must load and JIT (the
// set is valid for the profile), every function image must pass
// CheckImage, and running the main program must stay inside the limits
// (Run).
func CheckJIT(arch kernel.Arch, data []byte) error {
	ps := jit.Profiles(arch)
	if len(ps) == 0 {
		return fmt.Errorf("no %s profiles registered", arch)
	}
	if len(data) == 0 {
		data = []byte{0}
	}
	p := ps[int(data[0])%len(ps)]
	set := Set(data[1:], FeaturesOf(p), MaxInsns)
	var images []*jit.Image
	for _, prog := range set.Programs {
		l, err := kernel.Load(set, prog.Name, arch, p.LoadOptions())
		if err != nil {
			return fmt.Errorf("%s %s: load %s: %w", arch, p.Name, prog.Name, err)
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			return fmt.Errorf("%s %s: JIT %s: %w", arch, p.Name, prog.Name, err)
		}
		for _, f := range img.Funcs {
			if err := CheckImage(arch, f); err != nil {
				return fmt.Errorf("%s %s: %s: %w", arch, p.Name, prog.Name, err)
			}
		}
		images = append(images, img)
	}
	if _, err := Run(set, arch, p, images, Main); err != nil {
		return fmt.Errorf("%s %s: run: %w", arch, p.Name, err)
	}
	return nil
}

// Seeds are starting inputs for the JIT fuzz targets: one per profile
// slot with each kind of instruction the generator knows, a program with a
// bpf-to-bpf call and tail calls, and long runs of additions for the long
// branch forms.
func Seeds() [][]byte {
	var seeds [][]byte
	for p := range 5 {
		for op := range 24 {
			// flags 3: a callee and tail calls; n = 40; then op, its bytes.
			s := []byte{byte(p), 3, 40, 0}
			for range 40 {
				s = append(s, byte(op), byte(p*7+op), 0x81, 0x7f, 0xff, 0x10, 3)
			}
			seeds = append(seeds, s)
		}
		seeds = append(seeds, []byte{byte(p), 1, 0xff, 0x01, 20, 3, 0xff, 0xff, 13, 0, 0x20, 0, 20, 1, 0xff, 0xff, 14, 2, 0, 0x10, 0, 15})
	}
	return seeds
}

// CheckJITRaw is the body of the raw-instruction JIT fuzz targets: data[0]
// picks a profile, the rest is raw BPF instructions (8 bytes each, an exit
// appended), decoded by cilium/ebpf as from an object file. The loader may
// refuse the program and the JIT may refuse it (as the kernel would), but
// neither may panic, and whatever the JIT accepts must pass CheckImage and
// run within the limits.
func CheckJITRaw(arch kernel.Arch, data []byte) error {
	ps := jit.Profiles(arch)
	if len(ps) == 0 {
		return fmt.Errorf("no %s profiles registered", arch)
	}
	if len(data) == 0 {
		return nil
	}
	p := ps[int(data[0])%len(ps)]
	raw := data[1:]
	raw = raw[:len(raw)/8*8]
	var insns asm.Instructions
	r := bytes.NewReader(raw)
	for r.Len() > 0 {
		var in asm.Instruction
		if err := in.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
			return nil // a truncated ld_imm64
		}
		insns = append(insns, in)
	}
	for i := range insns {
		// Symbolic references are what the loader resolves: raw map
		// loads and calls refer to nothing, so name what exists.
		if insns[i].IsLoadFromMap() {
			insns[i] = insns[i].WithReference(".bss")
		}
	}
	insns = append(insns, asm.Return())
	insns[0] = insns[0].WithSymbol(Main)
	set := &kernel.Set{
		Name:     "fuzz",
		Programs: []*kernel.Program{{Name: Main, Type: "sched_cls", Insns: insns}},
		Maps:     []*kernel.Map{{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 64, MaxEntries: 1}},
	}
	l, err := kernel.Load(set, Main, arch, p.LoadOptions())
	if err != nil {
		return nil
	}
	img, err := jit.Compile(l, p)
	if err != nil {
		if err.Error() == "" {
			return fmt.Errorf("%s %s: an empty JIT error", arch, p.Name)
		}
		return nil
	}
	for _, f := range img.Funcs {
		if err := CheckImage(arch, f); err != nil {
			return fmt.Errorf("%s %s: %w", arch, p.Name, err)
		}
	}
	if _, err := Run(set, arch, p, []*jit.Image{img}, Main); err != nil {
		return fmt.Errorf("%s %s: run: %w", arch, p.Name, err)
	}
	return nil
}

// RawSeeds are starting inputs for CheckJITRaw: programs of Seeds for
// arch's profiles, marshalled without the instructions that need the
// loader's references.
func RawSeeds(arch kernel.Arch) [][]byte {
	ps := jit.Profiles(arch)
	var out [][]byte
	for i, s := range Seeds() {
		if i%6 != 0 || len(ps) == 0 {
			continue
		}
		set := Set(s[1:], FeaturesOf(ps[int(s[0])%len(ps)]), MaxInsns)
		var buf bytes.Buffer
		prog := set.Programs[0].Insns
		// Calls to labels and map references need the loader: keep the
		// instructions without references.
		var plain asm.Instructions
		for _, in := range prog {
			if in.Reference() == "" {
				plain = append(plain, in)
			}
		}
		if err := plain.Marshal(&buf, binary.LittleEndian); err != nil {
			continue
		}
		out = append(out, append([]byte{s[0]}, buf.Bytes()...))
	}
	return out
}
