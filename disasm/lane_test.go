// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"math/rand/v2"
	"testing"
)

// TestLaneSet holds laneSet to a plain list of intervals on random
// insertions, enough of them that chunks split many times.
func TestLaneSet(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	var s laneSet
	var plain []interval
	for i := range 200_000 {
		lo := rnd.IntN(1_000_000)
		hi := lo + rnd.IntN(1+rnd.IntN(50))
		fits := true
		for _, v := range plain {
			if v.hi >= lo && v.lo <= hi {
				fits = false
				break
			}
		}
		if got := s.insert(lo, hi); got != fits {
			t.Fatalf("insertion %d: insert(%d, %d) = %v, want %v", i, lo, hi, got, fits)
		}
		if fits {
			plain = append(plain, interval{lo, hi})
		}
		if len(plain) > 5000 {
			break
		}
	}
	n, prev := 0, interval{-1, -1}
	for _, ch := range s.chunks {
		if len(ch) == 0 || len(ch) > 2*laneChunk {
			t.Fatalf("chunk of %d intervals", len(ch))
		}
		for _, v := range ch {
			if v.lo <= prev.hi {
				t.Fatalf("intervals out of order or overlapping: %v then %v", prev, v)
			}
			prev = v
			n++
		}
	}
	if n != len(plain) || len(s.chunks) < 5 {
		t.Fatalf("%d intervals in %d chunks, want %d in several", n, len(s.chunks), len(plain))
	}
}
