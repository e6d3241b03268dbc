// SPDX-License-Identifier: GPL-2.0-only

// Package jittest holds checks both JIT backends' tests run on their own
// internals.
package jittest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// MemoMatchesFullPasses compiles generated programs (one and many
// functions, sizes that converge at once and ones that need jump padding)
// with every profile of a backend, with and without its memoised passes
// (setNoMemo switches them off), and requires identical images: code,
// offsets, regions, relocations, notes, edges, pokes.
func MemoMatchesFullPasses(t *testing.T, profiles []*jit.Profile, setNoMemo func(bool)) {
	t.Helper()
	sizes := []int{200, 3000, 40_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		for _, noCalls := range []bool{false, true} {
			for _, p := range profiles {
				opt := gen.Options{Insns: n, Seed: uint64(n), NoCalls: noCalls, NoTailCalls: !p.SubprogTailCalls}
				set, err := gen.Set(opt)
				if err != nil {
					t.Fatal(err)
				}
				for _, prog := range set.Programs {
					l, err := kernel.Load(set, prog.Name, p.Arch, kernel.Options{Layout: p.Layout})
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%s/n=%d/nocalls=%v/%s", p.Name, n, noCalls, prog.Name)
					got, gotErr := jit.Compile(l, p)
					setNoMemo(true)
					want, wantErr := jit.Compile(l, p)
					setNoMemo(false)
					if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
						t.Fatalf("%s: error %v, without memo %v", name, gotErr, wantErr)
					}
					if gotErr != nil {
						continue
					}
					for i := range want.Funcs {
						if !reflect.DeepEqual(got.Funcs[i], want.Funcs[i]) {
							t.Fatalf("%s: function %s differs from the full passes'", name, want.Funcs[i].Name)
						}
					}
				}
			}
		}
	}
}
