package disasm

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/bpfasm"
	"github.com/jitscope/jitscope/kernel"
)

// BPFText prints a translated instruction in llvm-objdump syntax, naming
// what the verifier resolved: helpers and functions by name, map pointers
// as map[name], map values as map_value(name) + offset.
func BPFText(in kernel.Insn) string {
	switch in.Kind {
	case kernel.HelperCall, kernel.FuncCall:
		if in.Ref != "" {
			return "call " + in.Ref
		}
	case kernel.TailCall:
		return "call bpf_tail_call"
	case kernel.MapPtr:
		return fmt.Sprintf("%s = map[%s]", regName(in.Dst), in.Ref)
	case kernel.MapValue:
		return fmt.Sprintf("%s = %#x ll  /* map value of %s */", regName(in.Dst), uint64(in.Constant), in.Ref)
	case kernel.FuncPtr:
		return fmt.Sprintf("%s = %s ll", regName(in.Dst), in.Ref)
	}
	return bpfasm.Format(in.Instruction)
}

func regName(r asm.Register) string { return fmt.Sprintf("r%d", r) }
