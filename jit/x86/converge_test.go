// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// TestLargeFunctionsConverge holds the pass limit of bpf_int_jit_compile
// ("for (pass = 0; pass < 20 || image; pass++)", arch/x86/net/bpf_jit_comp.c
// @ v5.10; MAX_PASSES 20 with jump padding from PADDING_PASSES 15 since
// 5.11). A forward jump's size is chosen from the previous pass's addrs[],
// so a jump that shrinks lets the jumps spanning it shrink one pass later:
// the passes a function needs grow with its size (generated programs: 13
// passes at 20k instructions, 21 at 40k, 46 at 100k). A kernel without
// padding gives up on the 50k-instruction function (and falls back to the
// interpreter); one with padding converges; split into five functions the
// same program converges everywhere.
func TestLargeFunctionsConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("JITs 50k-instruction programs with every x86 profile")
	}
	const n = 50_000
	for _, funcs := range []int{1, 5} {
		set, err := gen.Set(gen.Options{Insns: n, Seed: 1, Funcs: funcs})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range jit.Profiles(kernel.X86_64) {
			l, err := kernel.Load(set, gen.MainProg, kernel.X86_64, p.LoadOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Funcs) != funcs {
				t.Fatalf("funcs=%d: %d functions loaded", funcs, len(l.Funcs))
			}
			_, err = jit.Compile(l, p)
			padding := p.Name == "v6.1" || p.Name == "v6.18"
			switch {
			case funcs == 1 && !padding:
				if err == nil || !strings.Contains(err.Error(), "did not converge in 20 passes") {
					t.Errorf("%s, one function of %d: error %v, want no convergence in 20 passes", p.Name, n, err)
				}
			case err != nil:
				t.Errorf("%s, %d functions: %v", p.Name, funcs, err)
			}
		}
	}
}
