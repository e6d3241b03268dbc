// SPDX-License-Identifier: GPL-2.0-only

package arm64_test

import (
	"testing"

	"github.com/jitscope/jitscope/internal/fuzzgen"
	"github.com/jitscope/jitscope/kernel"
)

// FuzzJIT compiles random valid programs with every arm64 profile: the
// image decodes completely, branches land on instruction boundaries inside
// it, every BPF instruction maps to its bytes, and the emulator runs it
// within its step and memory limits (internal/fuzzgen).
func FuzzJIT(f *testing.F) { fuzzgen.FuzzJIT(f, kernel.ARM64) }

// FuzzJITRaw compiles raw BPF instructions the loader accepts: the JIT may
// refuse them, never panic, and what it compiles passes the same checks.
func FuzzJITRaw(f *testing.F) { fuzzgen.FuzzJITRaw(f, kernel.ARM64) }
