// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"math/rand/v2"
	"testing"
)

// TestA64Branch: the branch printer agrees with DecodeA64 (text, mnemonic,
// kind, target) on B, BL and every B.cond, at offsets of every size in both
// directions and at addresses across the kernel's and the low half, and
// refuses what it does not print (BC.cond, CBZ, TBZ, others).
func TestA64Branch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pcs := []uint64{0, 0x1000, 0xffff800008000000, 0xffffffffc0001234 &^ 3, 0xfffffffffffffffc, 0x7ffffffc}
	check := func(w uint32, pc uint64) {
		b, op, kind, target, ok := appendA64Branch([]byte("x"), w, pc)
		in, err := DecodeA64(w, pc)
		isBranch := w&0xfc000000 == 0x14000000 || w&0xfc000000 == 0x94000000 || w&0xff000010 == 0x54000000
		if !ok {
			if isBranch {
				t.Fatalf("%#08x at %#x: refused, DecodeA64 gives %q", w, pc, in.Text)
			}
			return
		}
		if !isBranch || err != nil || "x"+in.Text != string(b) || in.Op != op || in.Kind != kind || !in.HasTarget || in.Target != target {
			t.Fatalf("%#08x at %#x: %q %q %v %#x, DecodeA64 %q %q %v %#x %v", w, pc, b, op, kind, target, in.Text, in.Op, in.Kind, in.Target, err)
		}
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		pc := pcs[i%len(pcs)]
		if i%3 == 0 {
			pc = rng.Uint64() &^ 3
		}
		imm26 := rng.Uint32() & (1<<26 - 1)
		imm19 := rng.Uint32() & (1<<19 - 1)
		if i%2 == 0 { // short distances, as most are
			imm26 = uint32(int32(rng.IntN(4000)-2000)) & (1<<26 - 1)
			imm19 = uint32(int32(rng.IntN(4000)-2000)) & (1<<19 - 1)
		}
		check(0x14000000|imm26, pc)
		check(0x94000000|imm26, pc)
		check(0x54000000|imm19<<5|uint32(i&15), pc)
		check(0x54000010|imm19<<5|uint32(i&15), pc) // BC.cond: not ours
		check(rng.Uint32(), pc)                     // anything
	}
	for _, w := range []uint32{0x34000000, 0xb5000040, 0x36000020, 0xd65f03c0, 0xd61f0200, 0xd63f0200} {
		check(w, 0x1000)
	}
}

// TestX86Table: the decode cache's table finds what was put, under the
// same key only, across growth, as a map does.
func TestX86Table(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tab x86Table
	want := map[x86Bytes]int{}
	code := make([]byte, 16)
	for i := 0; i < 50000; i++ {
		for j := range code {
			code[j] = byte(rng.IntN(4)) // few distinct bytes: keys that share prefixes
		}
		n := 1 + rng.IntN(15)
		k := x86Key(code, n)
		if short := x86Key(code[:n], n); short != k {
			t.Fatalf("x86Key(% x, %d) = %v from 16 bytes, %v from %d", code, n, k, short, n)
		}
		if v, ok := want[k]; ok {
			got, found := tab.get(k)
			if !found || got.Len != v {
				t.Fatalf("get(%v) = %v %v, want Len %d", k, got, found, v)
			}
		}
		tab.put(k, X86Inst{Len: i})
		want[k] = i
	}
	for k, v := range want {
		if got, found := tab.get(k); !found || got.Len != v {
			t.Fatalf("get(%v) = %v %v, want Len %d", k, got, found, v)
		}
		k.n ^= 16 // a key never put
		if _, found := tab.get(k); found {
			t.Fatalf("get(%v) found a key never put", k)
		}
	}
}
