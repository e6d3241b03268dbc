// SPDX-License-Identifier: GPL-2.0-only

package kernel

import (
	"math/rand/v2"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// TestRawDirectMatchesMarshal: the direct encoding gives what the
// cilium/ebpf encoder gives, for every one-byte opcode with registers,
// offsets and constants of every kind.
func TestRawDirectMatchesMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	consts := []int64{0, 1, -1, 12, 0x7fffffff, -0x80000000, 0x123456789abcdef0, -0x123456789, 0xffffffff}
	offs := []int16{0, 1, -1, 8, -8, 32767, -32768}
	n := 0
	for op := 0; op <= 0xff; op++ {
		for k := 0; k < 40; k++ {
			ins := asm.Instruction{
				OpCode:   asm.OpCode(op),
				Dst:      asm.Register(rnd.IntN(11)),
				Src:      asm.Register(rnd.IntN(11)),
				Offset:   offs[rnd.IntN(len(offs))],
				Constant: consts[rnd.IntN(len(consts))],
			}
			if k%5 == 0 {
				ins.Src, ins.Dst = 0, 0 // builtin calls
			}
			d, ok := rawDirect(&ins)
			if !ok {
				continue
			}
			m, err := rawOfMarshal(ins)
			if err != nil {
				t.Fatalf("%v (op %#x): direct %+v, marshal refuses it: %v", ins, op, d, err)
			}
			n++
			if d != m {
				t.Fatalf("%v (op %#x): direct %+v, marshal %+v", ins, op, d, m)
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d instructions compared", n)
	}
}
