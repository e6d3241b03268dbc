// SPDX-License-Identifier: GPL-2.0-only

package machine_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

func bigMapSet(entries, valueSize uint32) *kernel.Set {
	return &kernel.Set{
		Name: "big",
		Programs: []*kernel.Program{{Name: "p", Type: "xdp", Insns: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0).WithSymbol("p"), asm.Return(),
		}}},
		Maps: []*kernel.Map{{Name: "big", Type: "array", KeySize: 4, ValueSize: valueSize, MaxEntries: entries}},
	}
}

// A big map is mapped as a few regions, not one per page; one beyond the
// memory limit is refused with ErrLimit; entries * value_size overflowing
// 64 bits is refused.
func TestBigMaps(t *testing.T) {
	p, err := jit.LookupProfile(kernel.ARM64, "v6.1")
	if err != nil {
		t.Fatal(err)
	}
	k, err := machine.New(bigMapSet(1<<20, 64), kernel.ARM64, p.Layout, nil, machine.Options{MemoryLimit: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(k.Mem.Regions()); n > 20 {
		t.Errorf("a 64 MiB map took %d regions", n)
	}
	if k.Mem.Mapped() < 64<<20 || k.Mem.Mapped() > k.Mem.Limit() {
		t.Errorf("%d bytes mapped, limit %d", k.Mem.Mapped(), k.Mem.Limit())
	}
	_, err = machine.New(bigMapSet(1<<20, 4096), kernel.ARM64, p.Layout, nil, machine.Options{MemoryLimit: 128 << 20})
	if !errors.Is(err, mem.ErrLimit) {
		t.Errorf("a 4 GiB map with a 128 MiB limit: %v", err)
	}
	_, err = machine.New(bigMapSet(0xffffffff, 0xffffffff), kernel.ARM64, p.Layout, nil, machine.Options{})
	if err == nil {
		t.Error("a map of 2^64 bytes was laid out")
	}
}
