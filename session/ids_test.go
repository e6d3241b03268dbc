// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/jitscope/jitscope/jit"
)

// TestBPFIDs holds BPFIDs to a map of every key: the same ids in the same
// order of first sight, for instructions met in any order (backwards too)
// and regions.
func TestBPFIDs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	b := NewBPFIDs()
	want := map[BPFKey]int32{}
	progs, funcs := []string{"p", "q"}, []string{"entry", "fn_1", "fn_2"}
	regions := []jit.RegionKind{jit.RegionBody, "prologue", "epilogue", ""}
	for range 50_000 {
		k := BPFKey{Prog: progs[rnd.IntN(2)], Func: funcs[rnd.IntN(3)], Index: -1}
		if rnd.IntN(8) == 0 {
			k.Region = regions[rnd.IntN(len(regions))]
		} else {
			k.Index = 1000 + rnd.IntN(3000) - rnd.IntN(1000)
		}
		id, ok := want[k]
		if !ok {
			id = int32(len(want))
			want[k] = id
		}
		if got := b.ID(k); got != id {
			t.Fatalf("ID(%+v) = %d, want %d", k, got, id)
		}
	}
}

// TestRowSize holds a Row to 16 bytes: a million-instruction program has
// 1.3 million rows per architecture.
func TestRowSize(t *testing.T) {
	if got := unsafe.Sizeof(Row{}); got != 16 {
		t.Errorf("session.Row is %d bytes, want 16", got)
	}
}
