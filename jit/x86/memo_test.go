// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"

	"github.com/jitscope/jitscope/internal/jittest"
)

// TestMemoMatchesFullPasses holds the memoised passes to the full ones on
// every profile (jittest.MemoMatchesFullPasses).
func TestMemoMatchesFullPasses(t *testing.T) {
	jittest.MemoMatchesFullPasses(t, profiles, func(off bool) { noMemo = off })
}

// TestMemoMatchesFullPassesPadded does the same on one function of 40k
// instructions: the sizing passes after PADDING_PASSES pad the jumps that
// would have shrunk (6.1, 6.18: 17 passes, all made by itemPass); the
// kernels without padding give up on it, with the same error both ways.
func TestMemoMatchesFullPassesPadded(t *testing.T) {
	set, err := gen.Set(gen.Options{Insns: 40_000, Seed: 1, Funcs: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles {
		l, err := kernel.Load(set, gen.MainProg, kernel.X86_64, p.LoadOptions())
		if err != nil {
			t.Fatal(err)
		}
		got, gotErr := jit.Compile(l, p)
		noMemo = true
		want, wantErr := jit.Compile(l, p)
		noMemo = false
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%s: error %v, without memo %v", p.Name, gotErr, wantErr)
		}
		if gotErr != nil {
			continue // no convergence in 20 passes without padding
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the image differs from the full passes'", p.Name)
		}
		c := &ctx{l: l, f: l.Funcs[0], p: p, v: versions[p.Name], cfg: configFor(versions[p.Name], l.Config), layout: l.Layout}
		if _, err := c.compile(); err != nil {
			t.Fatal(err)
		}
		if c.padding != c.v.padding || c.passes != 17 || c.slow != 0 {
			t.Errorf("%s: %d passes (want 17), jump padding %v (want %v), %d sizing passes the long way (want none)",
				p.Name, c.passes, c.padding, c.v.padding, c.slow)
		}
	}
}
