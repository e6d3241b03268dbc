package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// platformLinux is cilium/ebpf's platform name for Linux (its
// internal/platform.Linux, not exported).
const platformLinux = "linux"

// decodeXlated decodes xlated.bin with cilium/ebpf's decoder. slotIndex maps
// each 8-byte slot to the index of the instruction starting there, or -1 for
// the second slot of an ld_imm64.
//
// Helper calls are decoded here: their imm is the helper's address minus
// __bpf_call_base (any s32), which cilium would take for a helper id and
// reject when it does not fit its platform-tagged encoding (>= 1<<28).
// Below that bound both give the same Instruction.
func decodeXlated(b []byte) (asm.Instructions, []int, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("empty (no instructions)")
	}
	if len(b)%asm.InstructionSize != 0 {
		return nil, nil, fmt.Errorf("%d bytes, not a whole number of %d-byte instructions", len(b), asm.InstructionSize)
	}
	n := len(b) / asm.InstructionSize
	slotIndex := make([]int, n)
	insns := make(asm.Instructions, 0, n)
	for s := 0; s < n; {
		raw := b[s*asm.InstructionSize:]
		var ins asm.Instruction
		width := 1
		if raw[0] == byte(asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call)) && raw[1] == 0 {
			ins = asm.Instruction{
				OpCode:   asm.OpCode(raw[0]),
				Offset:   int16(binary.LittleEndian.Uint16(raw[2:4])),
				Constant: int64(int32(binary.LittleEndian.Uint32(raw[4:8]))),
			}
		} else {
			r := bytes.NewReader(raw)
			if err := ins.Unmarshal(r, binary.LittleEndian, platformLinux); err != nil {
				return nil, nil, fmt.Errorf("slot %d (byte %d): %v", s, s*asm.InstructionSize, err)
			}
			width = (len(raw) - r.Len()) / asm.InstructionSize
			if width < 1 || s+width > n {
				return nil, nil, fmt.Errorf("slot %d (byte %d): cannot decode", s, s*asm.InstructionSize)
			}
		}
		slotIndex[s] = len(insns)
		for k := 1; k < width; k++ {
			slotIndex[s+k] = -1
		}
		insns = append(insns, ins)
		s += width
	}
	return insns, slotIndex, nil
}
