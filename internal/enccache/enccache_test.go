// SPDX-License-Identifier: GPL-2.0-only

package enccache

import (
	"testing"

	"github.com/jitscope/jitscope/kernel"
)

func TestKeyDistinguishesFields(t *testing.T) {
	base := kernel.BPFInsn{Code: 0x07, Dst: 1, Src: 2, Off: -3, Imm: -4}
	seen := map[uint64]bool{Key(base): true}
	for _, r := range []kernel.BPFInsn{
		{Code: 0x0f, Dst: 1, Src: 2, Off: -3, Imm: -4},
		{Code: 0x07, Dst: 2, Src: 2, Off: -3, Imm: -4},
		{Code: 0x07, Dst: 1, Src: 3, Off: -3, Imm: -4},
		{Code: 0x07, Dst: 1, Src: 2, Off: 3, Imm: -4},
		{Code: 0x07, Dst: 1, Src: 2, Off: -3, Imm: 4},
		{Code: 0x07, Dst: 1, Src: 2, Off: -3, Imm: -4 + 1<<20},
	} {
		k := Key(r)
		if seen[k] {
			t.Errorf("%+v: key %#x already taken", r, k)
		}
		seen[k] = true
	}
}

func TestTable(t *testing.T) {
	tab := New(1000)
	if _, _, ok := tab.Get(Key(kernel.BPFInsn{Code: 7})); ok {
		t.Fatal("empty table hit")
	}
	want := map[uint64][2]int{}
	for i := range 5000 {
		k := Key(kernel.BPFInsn{Code: 7, Imm: int32(i)})
		tab.Put(k, i*3, i%200)
		want[k] = [2]int{i * 3, i % 200}
	}
	hits := 0
	for k, w := range want {
		if at, n, ok := tab.Get(k); ok {
			hits++
			if at != w[0] || n != w[1] {
				t.Fatalf("key %#x: got %d+%d, want %d+%d", k, at, n, w[0], w[1])
			}
		}
	}
	if hits == 0 || hits > len(tab.keys) {
		t.Errorf("%d hits for %d entries", hits, len(tab.keys))
	}
	tab.Put(Key(kernel.BPFInsn{Code: 7}), 1<<24, 1) // not recorded
	tab.Put(0, 1, 1)
	if _, _, ok := tab.Get(0); ok {
		t.Error("key 0 recorded")
	}
}
