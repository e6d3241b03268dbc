// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"
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
