// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"fmt"
	"strconv"
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

// isIdentName reports whether s is a name as the syntax writes it bare:
// ^[A-Za-z_.$][A-Za-z0-9_.$]*$ (TestIsIdentName holds it to that
// expression).
func isIdentName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// The printer appends to a byte slice: Format and FormatProgram ran
// fmt.Sprintf several times per instruction (a million-instruction
// program took a second to print), and the viewer formats the BPF
// instruction of every row it draws. formatref_test.go keeps the fmt
// version as the reference.

func appendReg(b []byte, r asm.Register, w bool) []byte {
	if w {
		b = append(b, 'w')
	} else {
		b = append(b, 'r')
	}
	return strconv.AppendUint(b, uint64(r), 10)
}

// appendMemRef appends "(r10 - 4)" / "(r1 + 0)".
func appendMemRef(b []byte, r asm.Register, off int16) []byte {
	b = append(b, '(')
	b = appendReg(b, r, false)
	if off < 0 {
		b = append(b, " - "...)
		b = strconv.AppendInt(b, -int64(off), 10)
	} else {
		b = append(b, " + "...)
		b = strconv.AppendInt(b, int64(off), 10)
	}
	return append(b, ')')
}

// appendMemRefOpen appends appendMemRef's text without its closing
// parenthesis: "(r1 + 0".
func appendMemRefOpen(b []byte, r asm.Register, off int16) []byte {
	b = appendMemRef(b, r, off)
	return b[:len(b)-1]
}

// appendSigned appends n as "%+d" prints it.
func appendSigned(b []byte, n int64) []byte {
	if n >= 0 {
		b = append(b, '+')
	}
	return strconv.AppendInt(b, n, 10)
}

// appendHex appends n as "%#x" prints it.
func appendHex(b []byte, n uint64) []byte {
	return strconv.AppendUint(append(b, "0x"...), n, 16)
}

// annotate appends " <ref>" if ins has a reference.
func annotate(b []byte, ins asm.Instruction) []byte {
	if ref := ins.Reference(); ref != "" {
		b = append(b, " <"...)
		b = append(b, ref...)
		b = append(b, '>')
	}
	return b
}

// appendSizeCast appends "*(u32 *)" for a size name.
func appendSizeCast(b []byte, name string) []byte {
	b = append(b, "*("...)
	b = append(b, name...)
	return append(b, " *)"...)
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
	var buf [64]byte
	if b, ok := appendFormat(buf[:0], ins); ok {
		return string(b)
	}
	return fmt.Sprintf("<invalid %v>", ins)
}

// AppendFormat appends Format(ins) to b.
func AppendFormat(b []byte, ins asm.Instruction) []byte {
	if b2, ok := appendFormat(b, ins); ok {
		return b2
	}
	return fmt.Appendf(b, "<invalid %v>", ins)
}

// format is Format without the "<invalid ...>" text: ok is false when ins
// has no textual form.
func format(ins asm.Instruction) (string, bool) {
	var buf [64]byte
	b, ok := appendFormat(buf[:0], ins)
	if !ok {
		return "", false
	}
	return string(b), true
}

// appendFormat appends the text of ins to b; ok is false (and b unchanged)
// when ins has no textual form.
func appendFormat(b []byte, ins asm.Instruction) ([]byte, bool) {
	op := ins.OpCode
	if op == asm.InvalidOpCode {
		return b, false
	}
	n := len(b)
	var ok bool
	switch cls := op.Class(); {
	case cls.IsALU():
		b, ok = appendALU(b, ins)
	case cls.IsJump():
		b, ok = appendJump(b, ins)
	case cls == asm.LdClass:
		b, ok = appendLd(b, ins)
	case cls == asm.LdXClass:
		switch op.Mode() {
		case asm.MemMode:
			b = appendReg(b, ins.Dst, false)
			b = append(b, " = "...)
			b = appendSizeCast(b, sizeNames[op.Size()])
			b, ok = appendMemRef(b, ins.Src, ins.Offset), true
		case asm.MemSXMode:
			if name, has := sxSizeNames[op.Size()]; has {
				b = appendReg(b, ins.Dst, false)
				b = append(b, " = "...)
				b = appendSizeCast(b, name)
				b, ok = appendMemRef(b, ins.Src, ins.Offset), true
			}
		}
	case cls == asm.StClass:
		if op.Mode() == asm.MemMode {
			b = appendSizeCast(b, sizeNames[op.Size()])
			b = appendMemRef(b, ins.Dst, ins.Offset)
			b = append(b, " = "...)
			b, ok = strconv.AppendInt(b, ins.Constant, 10), true
		}
	case cls == asm.StXClass:
		b, ok = appendStX(b, ins)
	}
	if !ok {
		return b[:n], false
	}
	return b, true
}

func appendALU(b []byte, ins asm.Instruction) ([]byte, bool) {
	op := ins.OpCode
	w := op.Class() == asm.ALUClass
	aop := op.ALUOp()
	switch aop {
	case asm.Swap:
		b = appendReg(b, ins.Dst, false)
		if op.Class() == asm.ALU64Class {
			b = append(b, " = bswap"...)
		} else if op.Endianness() == asm.BE {
			b = append(b, " = be"...)
		} else {
			b = append(b, " = le"...)
		}
		b = strconv.AppendInt(b, ins.Constant, 10)
		b = append(b, ' ')
		return appendReg(b, ins.Dst, false), true
	case asm.Neg:
		b = appendReg(b, ins.Dst, w)
		b = append(b, " = -"...)
		return appendReg(b, ins.Dst, w), true
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		b = appendReg(b, ins.Dst, w)
		switch aop {
		case asm.MovSX8:
			b = append(b, " = (s8)"...)
		case asm.MovSX16:
			b = append(b, " = (s16)"...)
		default:
			b = append(b, " = (s32)"...)
		}
		return appendReg(b, ins.Src, w), true
	}
	name, ok := "=", aop == asm.Mov
	if !ok {
		name, ok = aluOpNames[aop]
	}
	if !ok {
		return b, false
	}
	b = appendReg(b, ins.Dst, w)
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, ' ')
	if op.Source() == asm.RegSource {
		return appendReg(b, ins.Src, w), true
	}
	return strconv.AppendInt(b, ins.Constant, 10), true
}

func appendJump(b []byte, ins asm.Instruction) ([]byte, bool) {
	op := ins.OpCode
	w := op.Class() == asm.Jump32Class
	jop := op.JumpOp()
	switch {
	case jop == asm.Exit:
		return append(b, "exit"...), true
	case jop == asm.Call:
		return appendCall(b, ins), true
	case jop == asm.Ja && w:
		b = appendSigned(append(b, "gotol "...), ins.Constant)
		return annotate(b, ins), true
	case jop == asm.Ja:
		b = appendSigned(append(b, "goto "...), int64(ins.Offset))
		return annotate(b, ins), true
	case jop == asm.JCOND && ins.Src == asm.PseudoMayGoto:
		b = appendSigned(append(b, "may_goto "...), int64(ins.Offset))
		return annotate(b, ins), true
	}
	name, ok := jumpOpNames[jop]
	if !ok {
		return b, false
	}
	b = appendReg(append(b, "if "...), ins.Dst, w)
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, ' ')
	if op.Source() == asm.RegSource {
		b = appendReg(b, ins.Src, w)
	} else {
		b = strconv.AppendInt(b, ins.Constant, 10)
	}
	b = appendSigned(append(b, " goto "...), int64(ins.Offset))
	return annotate(b, ins), true
}

func appendCall(b []byte, ins asm.Instruction) []byte {
	ref := ins.Reference()
	switch ins.Src {
	case asm.PseudoCall:
		if ref != "" && ins.Constant == -1 && isIdentName(ref) && !isRegName(ref) && ref != "pc" && ref != "kernel" && ref != "unknown" {
			if _, helper := helperByName[ref]; !helper {
				return append(append(b, "call "...), ref...)
			}
		}
		return annotate(appendSigned(append(b, "call pc"...), ins.Constant), ins)
	case asm.PseudoKfuncCall:
		return annotate(strconv.AppendInt(append(b, "call kernel-function#"...), ins.Constant, 10), ins)
	}
	if name, ok := helperByID[asm.BuiltinFunc(ins.Constant)]; ok && ins.Constant >= 0 {
		return append(append(b, "call "...), name...)
	}
	return strconv.AppendInt(append(b, "call "...), ins.Constant, 10)
}

func appendLd(b []byte, ins asm.Instruction) ([]byte, bool) {
	op := ins.OpCode
	switch op.Mode() {
	case asm.ImmMode:
		if op.Size() != asm.DWord {
			return b, false
		}
		ref := ins.Reference()
		fd := uint32(ins.Constant)
		switch ins.Src {
		case asm.R0:
			b = appendHex(append(appendReg(b, ins.Dst, false), " = "...), uint64(ins.Constant))
			return append(b, " ll"...), true
		case asm.PseudoMapFD, asm.PseudoMapValue:
			if (ref != "" && fd != 0) || strings.Contains(ref, "]") {
				return b, false
			}
			if ins.Src == asm.PseudoMapFD && uint64(ins.Constant)>>32 != 0 {
				return b, false
			}
			b = append(appendReg(b, ins.Dst, false), " = map["...)
			if ref == "" {
				b = strconv.AppendUint(append(b, "fd:"...), uint64(fd), 10)
			} else {
				b = append(b, ref...)
			}
			b = append(b, ']')
			if ins.Src == asm.PseudoMapValue {
				b = strconv.AppendUint(append(b, "[0]+"...), uint64(ins.Constant)>>32, 10)
			}
			return b, true
		}
	case asm.AbsMode:
		b = appendSizeCast(append(appendReg(b, ins.Dst, false), " = "...), sizeNames[op.Size()])
		b = strconv.AppendInt(append(b, "skb["...), ins.Constant, 10)
		return append(b, ']'), true
	case asm.IndMode:
		b = appendSizeCast(append(appendReg(b, ins.Dst, false), " = "...), sizeNames[op.Size()])
		b = appendReg(append(b, "skb["...), ins.Src, false)
		if ins.Constant < 0 {
			b = strconv.AppendInt(append(b, " - "...), -ins.Constant, 10)
		} else {
			b = strconv.AppendInt(append(b, " + "...), ins.Constant, 10)
		}
		return append(b, ']'), true
	}
	return b, false
}

func appendStX(b []byte, ins asm.Instruction) ([]byte, bool) {
	op := ins.OpCode
	size := sizeNames[op.Size()]
	switch op.Mode() {
	case asm.MemMode:
		b = appendSizeCast(b, size)
		b = append(appendMemRef(b, ins.Dst, ins.Offset), " = "...)
		return appendReg(b, ins.Src, false), true
	case asm.AtomicMode:
	default:
		return b, false
	}
	w := op.Size() != asm.DWord
	// mem appends "(u32 *)(r1 + 0)".
	mem := func(b []byte, r asm.Register) []byte {
		b = append(append(append(b, '('), size...), " *)"...)
		return appendMemRef(b, r, ins.Offset)
	}
	switch aop := op.AtomicOp(); aop {
	case asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic:
		name := aluOpNames[asm.ALUOp(aop>>8)]
		b = mem(append(b, "lock *"...), ins.Dst)
		b = append(append(append(b, ' '), name...), ' ')
		return appendReg(b, ins.Src, false), true
	case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor:
		name := map[asm.AtomicOp]string{asm.FetchAdd: "add", asm.FetchAnd: "and", asm.FetchOr: "or", asm.FetchXor: "xor"}[aop]
		b = append(appendReg(b, ins.Src, w), " = atomic_fetch_"...)
		b = mem(append(append(b, name...), '('), ins.Dst)
		b = append(b, ", "...)
		return append(appendReg(b, ins.Src, w), ')'), true
	case asm.Xchg:
		b = appendReg(b, ins.Src, w)
		if w {
			b = append(b, " = xchg32_32"...)
		} else {
			b = append(b, " = xchg_64"...)
		}
		b = append(appendMemRefOpen(b, ins.Dst, ins.Offset), ", "...)
		return append(appendReg(b, ins.Src, w), ')'), true
	case asm.CmpXchg:
		if w {
			b = append(b, "w0 = cmpxchg32_32"...)
		} else {
			b = append(b, "r0 = cmpxchg_64"...)
		}
		b = appendMemRefOpen(b, ins.Dst, ins.Offset)
		if w {
			b = append(b, ", w0, "...)
		} else {
			b = append(b, ", r0, "...)
		}
		return append(appendReg(b, ins.Src, w), ')'), true
	case atomicLoadAcquire:
		// Dst receives the value loaded from Src + Offset.
		b = append(appendReg(b, ins.Dst, w), " = load_acquire("...)
		return append(mem(b, ins.Src), ')'), true
	case atomicStoreRelease:
		b = append(mem(append(b, "store_release("...), ins.Dst), ", "...)
		return append(appendReg(b, ins.Src, w), ')'), true
	}
	return b, false
}

// FormatProgram prints insns one instruction per line, indented by a tab,
// with a "name:" line before every instruction that carries a symbol. Parse
// reads the result back into the same instructions. Calls to functions that
// are not in insns print as "call pc-1 <name>", since "call name" would not
// parse.
func FormatProgram(insns asm.Instructions) string {
	// The symbols in insns; unnamed says whether an instruction has none
	// (a call without a reference is then "known", as it always was).
	syms := map[string]bool{}
	unnamed := false
	for _, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			syms[sym] = true
		} else {
			unnamed = true
		}
	}
	// About 16 bytes a line.
	b := make([]byte, 0, 20*len(insns)+64)
	for _, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			if isIdentName(sym) {
				b = append(append(b, sym...), ":\n"...)
			} else {
				b = append(append(append(b, '<'), sym...), ">:\n"...)
			}
		}
		b = append(b, '\t')
		if ref := ins.Reference(); ins.IsFunctionCall() && !(ref == "" && unnamed || syms[ref]) {
			b = annotate(appendSigned(append(b, "call pc"...), ins.Constant), ins)
		} else {
			b = AppendFormat(b, ins)
		}
		b = append(b, '\n')
	}
	return string(b)
}
