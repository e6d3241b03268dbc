// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
)

// TestVerifyRunsWhatItLoads: verify skips freplace programs (they need a
// target to load against), so its emulator run must not attach them
// either. Found on arm64 6.1 under QEMU: selftest-tailcall-freplace's
// entry_tc returned 1 in the kernel (nothing attached) and 34 on the
// emulator, which attached entry_freplace as 6.1 allows.
func TestVerifyRunsWhatItLoads(t *testing.T) {
	tg, err := session.LoadTarget("selftest-tailcall-freplace")
	if err != nil {
		t.Fatal(err)
	}
	_, skipped := loadable(tg.Set)
	if _, ok := skipped["entry_freplace"]; !ok {
		t.Fatalf("entry_freplace not skipped: %v", skipped)
	}
	nprogs := len(tg.Set.Programs)
	tl := asLoaded(tg, skipped)
	if len(tl.Set.Programs) != nprogs-1 || len(tg.Set.Programs) != nprogs {
		t.Fatalf("programs: as loaded %d, target %d (was %d)", len(tl.Set.Programs), len(tg.Set.Programs), nprogs)
	}
	for _, m := range tl.Set.Maps {
		for k, prog := range m.Progs {
			if _, skip := skipped[prog]; skip {
				t.Errorf("%s[%d] still names the skipped %s", m.Name, k, prog)
			}
		}
	}
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		p, err := jit.LookupProfile(arch, "v6.1")
		if err != nil {
			t.Fatal(err)
		}
		lim := runLimits{steps: verifyMaxSteps, mem: DefaultMaxMem}
		all, err := runTarget(tg, arch, p, "entry_tc", lim, nil, verifyPacket, nil)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := runTarget(tl, arch, p, "entry_tc", lim, nil, verifyPacket, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 1: what the arm64 and x86-64 6.1 kernels returned (live/qemu).
		if loaded.Retval != 1 || loaded.Error != "" {
			t.Errorf("%s: as loaded: retval %d (%s), want 1 as the kernel", arch, loaded.Retval, loaded.Error)
		}
		if all.Retval == loaded.Retval {
			t.Errorf("%s: with the extension attached the run also returns %d: the test shows nothing", arch, all.Retval)
		}
	}
}
