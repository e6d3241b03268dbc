// SPDX-License-Identifier: GPL-2.0-only

// Package memtest checks, for the emulators' fuzz targets, what the code
// they ran did to its memory.
package memtest

import (
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// Guard remembers a memory's regions and a stretch of its code.
type Guard struct {
	m       *mem.Memory
	text    uint64
	n       int
	code    []byte
	regions int
}

// Watch remembers m's regions and the n bytes of code at text, and turns
// on m's write journal: call it before running the code.
func Watch(m *mem.Memory, text uint64, n int) *Guard {
	code, _ := m.ReadBytes(text, n)
	g := &Guard{m: m, text: text, n: n, code: code, regions: len(m.Regions())}
	m.Record(true)
	return g
}

// Check fails t if the code mapped memory, stored outside the writable
// regions or changed its own text.
func (g *Guard) Check(t testing.TB) {
	t.Helper()
	if got := g.m.Regions(); len(got) != g.regions {
		t.Fatalf("the code mapped memory: %v", got)
	}
	for _, w := range g.m.Journal() {
		r, ok := g.m.RegionAt(w.Addr)
		if !ok || r.Perm&mem.Write == 0 {
			t.Fatalf("a store at %#x outside the writable regions (%v)", w.Addr, r)
		}
	}
	if now, _ := g.m.ReadBytes(g.text, g.n); string(now) != string(g.code) {
		t.Fatal("the code changed its text")
	}
}
