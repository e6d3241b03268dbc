// SPDX-License-Identifier: GPL-2.0-only

package fuzzgen

import (
	"fmt"
	"strconv"
	"strings"

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
