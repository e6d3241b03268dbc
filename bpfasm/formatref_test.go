// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"fmt"
	"regexp"
	"strings"

	"math/rand/v2"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// The printer as it was before it appended into buffers (fmt.Sprintf per
// instruction), kept as the reference for TestFormatMatchesReference.

var reIdent = regexp.MustCompile(`^[A-Za-z_.$][A-Za-z0-9_.$]*$`)

func refRegName(r asm.Register, w bool) string {
	if w {
		return fmt.Sprintf("w%d", r)
	}
	return fmt.Sprintf("r%d", r)
}

// memRef formats "(r10 - 4)" / "(r1 + 0)".
func refMemRef(r asm.Register, off int16) string {
	if off < 0 {
		return fmt.Sprintf("(%s - %d)", refRegName(r, false), -int(off))
	}
	return fmt.Sprintf("(%s + %d)", refRegName(r, false), off)
}

func refSigned(n int64) string {
	return fmt.Sprintf("%+d", n)
}

// annotate appends " <ref>" if ins has a reference.
func refAnnotate(s string, ins asm.Instruction) string {
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
func refFormatOne(ins asm.Instruction) string {
	if s, ok := refFormat(ins); ok {
		return s
	}
	return fmt.Sprintf("<invalid %v>", ins)
}

func refFormat(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	if op == asm.InvalidOpCode {
		return "", false
	}
	switch cls := op.Class(); {
	case cls.IsALU():
		return refFormatALU(ins)
	case cls.IsJump():
		return refFormatJump(ins)
	case cls == asm.LdClass:
		return refFormatLd(ins)
	case cls == asm.LdXClass:
		switch op.Mode() {
		case asm.MemMode:
			return fmt.Sprintf("%s = *(%s *)%s", refRegName(ins.Dst, false), sizeNames[op.Size()], refMemRef(ins.Src, ins.Offset)), true
		case asm.MemSXMode:
			if name, ok := sxSizeNames[op.Size()]; ok {
				return fmt.Sprintf("%s = *(%s *)%s", refRegName(ins.Dst, false), name, refMemRef(ins.Src, ins.Offset)), true
			}
		}
	case cls == asm.StClass:
		if op.Mode() == asm.MemMode {
			return fmt.Sprintf("*(%s *)%s = %d", sizeNames[op.Size()], refMemRef(ins.Dst, ins.Offset), ins.Constant), true
		}
	case cls == asm.StXClass:
		return refFormatStX(ins)
	}
	return "", false
}

func refFormatALU(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	w := op.Class() == asm.ALUClass
	dst := refRegName(ins.Dst, w)
	aop := op.ALUOp()
	switch aop {
	case asm.Swap:
		if op.Class() == asm.ALU64Class {
			return fmt.Sprintf("%s = bswap%d %s", refRegName(ins.Dst, false), ins.Constant, refRegName(ins.Dst, false)), true
		}
		e := "le"
		if op.Endianness() == asm.BE {
			e = "be"
		}
		return fmt.Sprintf("%s = %s%d %s", refRegName(ins.Dst, false), e, ins.Constant, refRegName(ins.Dst, false)), true
	case asm.Neg:
		return fmt.Sprintf("%s = -%s", dst, dst), true
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		n := map[asm.ALUOp]int{asm.MovSX8: 8, asm.MovSX16: 16, asm.MovSX32: 32}[aop]
		return fmt.Sprintf("%s = (s%d)%s", dst, n, refRegName(ins.Src, w)), true
	}
	name, ok := "=", aop == asm.Mov
	if !ok {
		name, ok = aluOpNames[aop]
	}
	if !ok {
		return "", false
	}
	if op.Source() == asm.RegSource {
		return fmt.Sprintf("%s %s %s", dst, name, refRegName(ins.Src, w)), true
	}
	return fmt.Sprintf("%s %s %d", dst, name, ins.Constant), true
}

func refFormatJump(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	w := op.Class() == asm.Jump32Class
	jop := op.JumpOp()
	switch {
	case jop == asm.Exit:
		return "exit", true
	case jop == asm.Call:
		return refFormatCall(ins), true
	case jop == asm.Ja && w:
		return refAnnotate("gotol "+refSigned(ins.Constant), ins), true
	case jop == asm.Ja:
		return refAnnotate("goto "+refSigned(int64(ins.Offset)), ins), true
	case jop == asm.JCOND && ins.Src == asm.PseudoMayGoto:
		return refAnnotate("may_goto "+refSigned(int64(ins.Offset)), ins), true
	}
	name, ok := jumpOpNames[jop]
	if !ok {
		return "", false
	}
	var rhs string
	if op.Source() == asm.RegSource {
		rhs = refRegName(ins.Src, w)
	} else {
		rhs = fmt.Sprint(ins.Constant)
	}
	return refAnnotate(fmt.Sprintf("if %s %s %s goto %s", refRegName(ins.Dst, w), name, rhs, refSigned(int64(ins.Offset))), ins), true
}

func refFormatCall(ins asm.Instruction) string {
	ref := ins.Reference()
	switch ins.Src {
	case asm.PseudoCall:
		if ref != "" && ins.Constant == -1 && reIdent.MatchString(ref) && !isRegName(ref) && ref != "pc" && ref != "kernel" && ref != "unknown" {
			if _, helper := helperByName[ref]; !helper {
				return "call " + ref
			}
		}
		return refAnnotate("call pc"+refSigned(ins.Constant), ins)
	case asm.PseudoKfuncCall:
		return refAnnotate(fmt.Sprintf("call kernel-function#%d", ins.Constant), ins)
	}
	if name, ok := helperByID[asm.BuiltinFunc(ins.Constant)]; ok && ins.Constant >= 0 {
		return "call " + name
	}
	return fmt.Sprintf("call %d", ins.Constant)
}

func refFormatLd(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	dst := refRegName(ins.Dst, false)
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
			return fmt.Sprintf("%s = *(%s *)skb[%s - %d]", dst, sizeNames[op.Size()], refRegName(ins.Src, false), -ins.Constant), true
		}
		return fmt.Sprintf("%s = *(%s *)skb[%s + %d]", dst, sizeNames[op.Size()], refRegName(ins.Src, false), ins.Constant), true
	}
	return "", false
}

func refFormatStX(ins asm.Instruction) (string, bool) {
	op := ins.OpCode
	size := sizeNames[op.Size()]
	switch op.Mode() {
	case asm.MemMode:
		return fmt.Sprintf("*(%s *)%s = %s", size, refMemRef(ins.Dst, ins.Offset), refRegName(ins.Src, false)), true
	case asm.AtomicMode:
	default:
		return "", false
	}
	w := op.Size() != asm.DWord
	mem := fmt.Sprintf("(%s *)%s", size, refMemRef(ins.Dst, ins.Offset))
	src := refRegName(ins.Src, w)
	switch aop := op.AtomicOp(); aop {
	case asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic:
		name := aluOpNames[asm.ALUOp(aop>>8)]
		return fmt.Sprintf("lock *%s %s %s", mem, name, refRegName(ins.Src, false)), true
	case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor:
		name := map[asm.AtomicOp]string{asm.FetchAdd: "add", asm.FetchAnd: "and", asm.FetchOr: "or", asm.FetchXor: "xor"}[aop]
		return fmt.Sprintf("%s = atomic_fetch_%s(%s, %s)", src, name, mem, src), true
	case asm.Xchg:
		if w {
			return fmt.Sprintf("%s = xchg32_32%s, %s)", src, strings.Replace(refMemRef(ins.Dst, ins.Offset), ")", "", 1), src), true
		}
		return fmt.Sprintf("%s = xchg_64%s, %s)", src, strings.Replace(refMemRef(ins.Dst, ins.Offset), ")", "", 1), src), true
	case asm.CmpXchg:
		if w {
			return fmt.Sprintf("w0 = cmpxchg32_32%s, w0, %s)", strings.Replace(refMemRef(ins.Dst, ins.Offset), ")", "", 1), src), true
		}
		return fmt.Sprintf("r0 = cmpxchg_64%s, r0, %s)", strings.Replace(refMemRef(ins.Dst, ins.Offset), ")", "", 1), src), true
	case atomicLoadAcquire:
		// Dst receives the value loaded from Src + Offset.
		return fmt.Sprintf("%s = load_acquire((%s *)%s)", refRegName(ins.Dst, w), size, refMemRef(ins.Src, ins.Offset)), true
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
func refFormatProgram(insns asm.Instructions) string {
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
			b.WriteString(refAnnotate("call pc"+refSigned(ins.Constant), ins))
		} else {
			b.WriteString(refFormatOne(ins))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestIsIdentName holds isIdentName to the regular expression it replaced.
func TestIsIdentName(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "aZ_.$09 -:<>[]\x00\xc3\xa9"
	for i := 0; i < 100_000; i++ {
		b := make([]byte, r.IntN(6))
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
		}
		if got, want := isIdentName(string(b)), reIdent.MatchString(string(b)); got != want {
			t.Fatalf("isIdentName(%q) = %v, the expression says %v", b, got, want)
		}
	}
}

// randomInsn returns an instruction with random fields: every opcode byte,
// registers (valid or not), offsets, constants of every width, and
// sometimes a symbol or a reference.
func randomInsn(r *rand.Rand) asm.Instruction {
	ins := asm.Instruction{
		OpCode: asm.OpCode(r.IntN(256)),
		Dst:    asm.Register(r.IntN(16)),
		Src:    asm.Register(r.IntN(16)),
		Offset: int16(r.Uint32()),
	}
	switch r.IntN(4) {
	case 0:
		ins.Constant = int64(r.IntN(64)) - 32
	case 1:
		ins.Constant = int64(int32(r.Uint32()))
	case 2:
		ins.Constant = int64(r.Uint64())
	default:
		ins.Constant = -1
	}
	names := []string{"f", "map_a", ".bss", "r1", "pc", "bpf_tail_call", "a b", "x]", "<y>", ""}
	if r.IntN(4) == 0 {
		ins = ins.WithReference(names[r.IntN(len(names))])
	}
	if r.IntN(8) == 0 {
		ins = ins.WithSymbol(names[r.IntN(len(names))])
	}
	return ins
}

// TestFormatMatchesReference holds Format and FormatProgram to the fmt
// printer they replaced: the test programs, the format cases and 100 000
// random instructions (fast_test.go adds generated programs).
func TestFormatMatchesReference(t *testing.T) {
	check := func(ins asm.Instruction) {
		t.Helper()
		if got, want := Format(ins), refFormatOne(ins); got != want {
			t.Fatalf("Format(%v) = %q, reference %q", ins, got, want)
		}
		got, gotOK := format(ins)
		want, wantOK := refFormat(ins)
		if got != want || gotOK != wantOK {
			t.Fatalf("format(%v) = %q, %v, reference %q, %v", ins, got, gotOK, want, wantOK)
		}
		if got, want := string(AppendFormat([]byte("x"), ins)), "x"+refFormatOne(ins); got != want {
			t.Fatalf("AppendFormat(%v) = %q, reference %q", ins, got, want)
		}
	}
	for _, tc := range formatCases {
		check(tc.ins)
	}
	for _, src := range []string{seed000} {
		insns, err := Parse("t", 1, src)
		if err != nil {
			t.Fatal(err)
		}
		for _, ins := range insns {
			check(ins)
		}
		if got, want := FormatProgram(insns), refFormatProgram(insns); got != want {
			t.Fatalf("FormatProgram = %q, reference %q", got, want)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	var prog asm.Instructions
	for i := 0; i < n; i++ {
		ins := randomInsn(r)
		check(ins)
		if len(prog) < 5000 {
			prog = append(prog, ins)
		}
	}
	if got, want := FormatProgram(prog), refFormatProgram(prog); got != want {
		t.Fatalf("FormatProgram of random instructions differs from the reference")
	}
}
