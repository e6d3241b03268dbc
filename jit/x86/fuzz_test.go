// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"testing"

	"github.com/jitscope/jitscope/internal/fuzzgen"
	"github.com/jitscope/jitscope/kernel"
)

// FuzzJIT compiles random valid programs with every x86-64 profile: the
// image decodes completely, branches land on instruction boundaries inside
// it, every BPF instruction maps to its bytes, and the emulator runs it
// within its step and memory limits (internal/fuzzgen).
func FuzzJIT(f *testing.F) {
	for _, s := range fuzzgen.Seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzgen.CheckJIT(kernel.X86_64, data); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzJITRaw compiles raw BPF instructions the loader accepts: the JIT may
// refuse them, never panic, and what it compiles passes the same checks.
func FuzzJITRaw(f *testing.F) {
	for _, s := range fuzzgen.RawSeeds(kernel.X86_64) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzgen.CheckJITRaw(kernel.X86_64, data); err != nil {
			t.Fatal(err)
		}
	})
}
