// SPDX-License-Identifier: GPL-2.0-only

package fuzzgen

import (
	"testing"

	"github.com/jitscope/jitscope/kernel"
)

// FuzzJIT is the body of a backend's FuzzJIT target: Seeds as the seed
// corpus, CheckJIT for arch on every input.
func FuzzJIT(f *testing.F, arch kernel.Arch) {
	for _, s := range Seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckJIT(arch, data); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzJITRaw is the body of a backend's FuzzJITRaw target: RawSeeds for
// arch as the seed corpus, CheckJITRaw on every input.
func FuzzJITRaw(f *testing.F, arch kernel.Arch) {
	for _, s := range RawSeeds(arch) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckJITRaw(arch, data); err != nil {
			t.Fatal(err)
		}
	})
}
