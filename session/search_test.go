// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/scenarios"
)

// TestContainsLower holds containsLower to what Matches did before it:
// strings.Contains(strings.ToLower(s), q) for an all-lowercase q.
func TestContainsLower(t *testing.T) {
	texts := []string{"", "mov x0, #0x1", "MOV X0, #0x1", "callq  0xffffffffc0001234", "Bl fn_1",
		"ldr w1, [x0, #8]", "İstanbul", "straße", "ÄÖÜ äöü", "x\xffy", "tail call landing pad +36", "JMP"}
	queries := []string{"mov", "x0", "#0x1", "call", "bl fn_1", "i̇stanbul", "istanbul", "straße", "äöü", "pad +36", "jmp", "y", "zzz"}
	for _, s := range texts {
		for _, q := range queries {
			if strings.ToLower(q) != q {
				t.Fatalf("query %q is not lowercase", q)
			}
			if got, want := containsLower(s, q), strings.Contains(strings.ToLower(s), q); got != want {
				t.Errorf("containsLower(%q, %q) = %v, want %v", s, q, got, want)
			}
		}
	}
}

// TestSearchMatchesScan holds Search to the loop it replaced (Matches on
// row (from + step*i) mod n for i = 1..n) on both listings of the default
// scenario, from every row and from outside the rows, both ways, for
// queries that match often, once, in capitals and never.
func TestSearchMatchesScan(t *testing.T) {
	s, err := Load(scenarios.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	scan := func(l *Listing, q string, from, dir int) int {
		n := len(l.Rows)
		step := 1
		if dir < 0 {
			step = -1
		}
		for i := 1; i <= n; i++ {
			if r := ((from+step*i)%n + n) % n; l.Matches(r, q) {
				return r
			}
		}
		return -1
	}
	for _, l := range s.Listings {
		if l.Err != nil {
			t.Fatalf("%s: %v", l.Arch, l.Err)
		}
		n := len(l.Rows)
		for _, q := range []string{"mov", "ret", "BL", "Mov", "classifier_0", "no such text", "tail call"} {
			for _, from := range []int{-2 * n, -n - 1, -1, 0, 1, n / 2, n - 1, n, n + 1, 3 * n} {
				for _, dir := range []int{1, -1} {
					if got, want := l.Search(q, from, dir), scan(l, q, from, dir); got != want {
						t.Errorf("%s: Search(%q, %d, %d) = %d, want %d", l.Arch, q, from, dir, got, want)
					}
				}
			}
			for from := range n {
				if got, want := l.Search(q, from, 1), scan(l, q, from, 1); got != want {
					t.Fatalf("%s: Search(%q, %d, 1) = %d, want %d", l.Arch, q, from, got, want)
				}
			}
		}
	}
}
