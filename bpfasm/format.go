// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cilium/ebpf/asm"
)

var sizeNames = map[asm.Size]string{asm.Byte: "u8", asm.Half: "u16", asm.Word: "u32", asm.DWord: "u64"}
var sxSizeNames = map[asm.Size]string{asm.Byte: "s8", asm.Half: "s16", asm.Word: "s32"}

var aluOpNames = map[asm.ALUOp]string{}
var jumpOpNames = map[asm.JumpOp]string{}

func init() {
	for s, op := range aluOps {
		aluOpNames[op] = s
	}
	for s, op := range jumpOps {
		jumpOpNames[op] = s
	}
}

var reIdent = regexp.MustCompile(`^[A-Za-z_.$][A-Za-z0-9_.$]*$`)

func regName(r asm.Register, w bool) string {
	if w {
		return fmt.Sprintf("w%d", r)
	}
	return fmt.Sprintf("r%d", r)
}

// memRef formats "(r10 - 4)" / "(r1 + 0)".
func memRef(r asm.Register, off int16) string {
	if off < 0 {
		return fmt.Sprintf("(%s - %d)", regName(r, false), -int(off))
	}
	return fmt.Sprintf("(%s + %d)", regName(r, false), off)
}

func signed(n int64) string {
	return fmt.Sprintf("%+d", n)
}

// annotate appends " <ref>" if ins has a reference.
func annotate(s string, ins asm.Instruction) string {
	if ref := ins.Reference(); ref != "" {
		return s + " <" + ref + ">"
	}
	return s
}

// Format prints one instruction in llvm-objdump syntax, for example
// "r2 = 0", "*(u8 *)(r10 - 1) = r2", "if r2 >= r3 goto +5",
// "call bpf_tail_call", "call subprog_tail", "r2 = map[jmp_table]",
// "r1 = map[.bss][0]+4", "lock *(u32 *)(r1 + 0) += r2", "r1 = 0x123456789 ll"
// or "exit". Jumps that carry a reference print it as llvm-objdump does:
// "goto +3 <LBB0_4>". Parse reads the result back into the same instruction;
// instructions that have no textual form print as "<invalid ...>", which
// Parse rejects.
func Format(ins asm.Instruction) string {
	if s, ok := format(ins); ok {
		return s
	}
	return fmt.Sprintf("<invalid %v>", ins)
}

func format(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	if op == asm.InvalidOpCode {
		return "", false
	}
	switch cls := op.Class(); {
	case cls.IsALU():
		return formatALU(ins)
	case cls.IsJump():
		return formatJump(ins)
	case cls == asm.LdClass:
		return formatLd(ins)
	case cls == asm.LdXClass:
		switch op.Mode() {
		case asm.MemMode:
			return fmt.Sprintf("%s = *(%s *)%s", regName(ins.Dst, false), sizeNames[op.Size()], memRef(ins.Src, ins.Offset)), true
		case asm.MemSXMode:
			if name, ok := sxSizeNames[op.Size()]; ok {
				return fmt.Sprintf("%s = *(%s *)%s", regName(ins.Dst, false), name, memRef(ins.Src, ins.Offset)), true
			}
		}
	case cls == asm.StClass:
		if op.Mode() == asm.MemMode {
			return fmt.Sprintf("*(%s *)%s = %d", sizeNames[op.Size()], memRef(ins.Dst, ins.Offset), ins.Constant), true
		}
	case cls == asm.StXClass:
		return formatStX(ins)
	}
	return "", false
}

func formatALU(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	w := op.Class() == asm.ALUClass
	dst := regName(ins.Dst, w)
	aop := op.ALUOp()
	switch aop {
	case asm.Swap:
		if op.Class() == asm.ALU64Class {
			return fmt.Sprintf("%s = bswap%d %s", regName(ins.Dst, false), ins.Constant, regName(ins.Dst, false)), true
		}
		e := "le"
		if op.Endianness() == asm.BE {
			e = "be"
		}
		return fmt.Sprintf("%s = %s%d %s", regName(ins.Dst, false), e, ins.Constant, regName(ins.Dst, false)), true
	case asm.Neg:
		return fmt.Sprintf("%s = -%s", dst, dst), true
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		n := map[asm.ALUOp]int{asm.MovSX8: 8, asm.MovSX16: 16, asm.MovSX32: 32}[aop]
		return fmt.Sprintf("%s = (s%d)%s", dst, n, regName(ins.Src, w)), true
	}
	name, ok := "=", aop == asm.Mov
	if !ok {
		name, ok = aluOpNames[aop]
	}
	if !ok {
		return "", false
	}
	if op.Source() == asm.RegSource {
		return fmt.Sprintf("%s %s %s", dst, name, regName(ins.Src, w)), true
	}
	return fmt.Sprintf("%s %s %d", dst, name, ins.Constant), true
}

func formatJump(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	w := op.Class() == asm.Jump32Class
	jop := op.JumpOp()
	switch {
	case jop == asm.Exit:
		return "exit", true
	case jop == asm.Call:
		return formatCall(ins), true
	case jop == asm.Ja && w:
		return annotate("gotol "+signed(ins.Constant), ins), true
	case jop == asm.Ja:
		return annotate("goto "+signed(int64(ins.Offset)), ins), true
	case jop == asm.JCOND && ins.Src == asm.PseudoMayGoto:
		return annotate("may_goto "+signed(int64(ins.Offset)), ins), true
	}
	name, ok := jumpOpNames[jop]
	if !ok {
		return "", false
	}
	var rhs string
	if op.Source() == asm.RegSource {
		rhs = regName(ins.Src, w)
	} else {
		rhs = fmt.Sprint(ins.Constant)
	}
	return annotate(fmt.Sprintf("if %s %s %s goto %s", regName(ins.Dst, w), name, rhs, signed(int64(ins.Offset))), ins), true
}

func formatCall(ins asm.Instruction) string {
	ref := ins.Reference()
	switch ins.Src {
	case asm.PseudoCall:
		if ref != "" && ins.Constant == -1 && reIdent.MatchString(ref) && !isRegName(ref) && ref != "pc" && ref != "kernel" && ref != "unknown" {
			if _, helper := helperByName[ref]; !helper {
				return "call " + ref
			}
		}
		return annotate("call pc"+signed(ins.Constant), ins)
	case asm.PseudoKfuncCall:
		return annotate(fmt.Sprintf("call kernel-function#%d", ins.Constant), ins)
	}
	if name, ok := helperByID[asm.BuiltinFunc(ins.Constant)]; ok && ins.Constant >= 0 {
		return "call " + name
	}
	return fmt.Sprintf("call %d", ins.Constant)
}

func formatLd(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	dst := regName(ins.Dst, false)
	switch op.Mode() {
	case asm.ImmMode:
		if op.Size() != asm.DWord {
			return "", false
		}
		ref := ins.Reference()
		fd := uint32(ins.Constant)
		name := ref
		if ref == "" {
			name = fmt.Sprintf("fd:%d", fd)
		}
		switch ins.Src {
		case asm.R0:
			return fmt.Sprintf("%s = %#x ll", dst, uint64(ins.Constant)), true
		case asm.PseudoMapFD:
			if (ref != "" && fd != 0) || uint64(ins.Constant)>>32 != 0 || strings.ContainsAny(name, "]") {
				return "", false
			}
			return fmt.Sprintf("%s = map[%s]", dst, name), true
		case asm.PseudoMapValue:
			if (ref != "" && fd != 0) || strings.ContainsAny(name, "]") {
				return "", false
			}
			return fmt.Sprintf("%s = map[%s][0]+%d", dst, name, uint64(ins.Constant)>>32), true
		}
	case asm.AbsMode:
		return fmt.Sprintf("%s = *(%s *)skb[%d]", dst, sizeNames[op.Size()], ins.Constant), true
	case asm.IndMode:
		if ins.Constant < 0 {
			return fmt.Sprintf("%s = *(%s *)skb[%s - %d]", dst, sizeNames[op.Size()], regName(ins.Src, false), -ins.Constant), true
		}
		return fmt.Sprintf("%s = *(%s *)skb[%s + %d]", dst, sizeNames[op.Size()], regName(ins.Src, false), ins.Constant), true
	}
	return "", false
}

func formatStX(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	size := sizeNames[op.Size()]
	switch op.Mode() {
	case asm.MemMode:
		return fmt.Sprintf("*(%s *)%s = %s", size, memRef(ins.Dst, ins.Offset), regName(ins.Src, false)), true
	case asm.AtomicMode:
	default:
		return "", false
	}
	w := op.Size() != asm.DWord
	mem := fmt.Sprintf("(%s *)%s", size, memRef(ins.Dst, ins.Offset))
	src := regName(ins.Src, w)
	switch aop := op.AtomicOp(); aop {
	case asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic:
		name := aluOpNames[asm.ALUOp(aop>>8)]
		return fmt.Sprintf("lock *%s %s %s", mem, name, regName(ins.Src, false)), true
	case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor:
		name := map[asm.AtomicOp]string{asm.FetchAdd: "add", asm.FetchAnd: "and", asm.FetchOr: "or", asm.FetchXor: "xor"}[aop]
		return fmt.Sprintf("%s = atomic_fetch_%s(%s, %s)", src, name, mem, src), true
	case asm.Xchg:
		if w {
			return fmt.Sprintf("%s = xchg32_32%s, %s)", src, strings.Replace(memRef(ins.Dst, ins.Offset), ")", "", 1), src), true
		}
		return fmt.Sprintf("%s = xchg_64%s, %s)", src, strings.Replace(memRef(ins.Dst, ins.Offset), ")", "", 1), src), true
	case asm.CmpXchg:
		if w {
			return fmt.Sprintf("w0 = cmpxchg32_32%s, w0, %s)", strings.Replace(memRef(ins.Dst, ins.Offset), ")", "", 1), src), true
		}
		return fmt.Sprintf("r0 = cmpxchg_64%s, r0, %s)", strings.Replace(memRef(ins.Dst, ins.Offset), ")", "", 1), src), true
	case atomicLoadAcquire:
		// Dst receives the value loaded from Src + Offset.
		return fmt.Sprintf("%s = load_acquire((%s *)%s)", regName(ins.Dst, w), size, memRef(ins.Src, ins.Offset)), true
	case atomicStoreRelease:
		return fmt.Sprintf("store_release(%s, %s)", mem, src), true
	}
	return "", false
}

// FormatProgram prints insns one instruction per line, indented by a tab,
// with a "name:" line before every instruction that carries a symbol. Parse
// reads the result back into the same instructions. Calls to functions that
// are not in insns print as "call pc-1 <name>", since "call name" would not
// parse.
func FormatProgram(insns asm.Instructions) string {
	syms := map[string]bool{}
	for _, ins := range insns {
		syms[ins.Symbol()] = true
	}
	var b strings.Builder
	for _, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			if reIdent.MatchString(sym) {
				b.WriteString(sym + ":\n")
			} else {
				b.WriteString("<" + sym + ">:\n")
			}
		}
		b.WriteByte('\t')
		if ins.IsFunctionCall() && !syms[ins.Reference()] {
			b.WriteString(annotate("call pc"+signed(ins.Constant), ins))
		} else {
			b.WriteString(Format(ins))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
