// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// Synthetic returns a target with one program of about n BPF instructions:
// straight-line ALU work with a conditional forward branch every few
// instructions and a backward-free structure the JITs accept. It exists to
// measure the viewer on programs far larger than the scenarios.
func Synthetic(n int) *Target {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Imm(asm.R2, 1),
		asm.Mov.Imm(asm.R3, 2),
		asm.Mov.Imm(asm.R4, 3),
		asm.Mov.Imm(asm.R5, 4),
	}
	for i := 0; len(insns) < n-1; i++ {
		switch i % 8 {
		case 0:
			insns = append(insns, asm.Add.Imm(asm.R0, int32(i&0xff)))
		case 1:
			insns = append(insns, asm.Xor.Reg(asm.R2, asm.R3))
		case 2:
			insns = append(insns, asm.LSh.Imm(asm.R3, 3))
		case 3:
			insns = append(insns, asm.Sub.Reg32(asm.R4, asm.R5))
		case 4:
			insns = append(insns, asm.Mov.Reg(asm.R5, asm.R0))
		case 5:
			insns = append(insns, asm.And.Imm(asm.R0, 0x7fff))
		case 6:
			// Mostly short hops, and every 5th a longer one, so
			// arrows nest over several lanes.
			j := asm.JGT.Imm(asm.R0, int32(i&0xfff), "")
			j.Offset = int16(1 + i%5)
			if i%40 == 6 {
				j.Offset = int16(12 + i%37)
			}
			insns = append(insns, j)
		case 7:
			insns = append(insns, asm.Add.Reg(asm.R0, asm.R2))
		}
	}
	// Keep every branch inside the program: pad with moves.
	for range 64 {
		insns = append(insns, asm.Mov.Imm(asm.R1, 0))
	}
	insns = append(insns, asm.Return())
	set := &kernel.Set{
		Name:     "synthetic",
		Programs: []*kernel.Program{{Name: "synthetic", Type: "sched_cls", Insns: insns}},
	}
	return &Target{Name: "synthetic", Set: set}
}
