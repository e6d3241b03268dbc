// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"errors"
	"fmt"
	"strings"
)

// X86Inst is one decoded x86-64 instruction.
type X86Inst struct {
	PC    uint64
	Len   int
	Bytes []byte // the instruction's bytes, a sub-slice of the decoded code
	// Text is the instruction in AT&T syntax as GNU objdump 2.40 prints it
	// for the same bytes at the same address, with the run of blanks
	// between mnemonic and operands collapsed to one space and without
	// the "# 0x..." comment objdump appends to RIP-relative operands
	// (that address is Target), e.g. "mov -0x10(%rbp),%rax",
	// "lock xadd %rax,(%rdi)", "jmp 0xffffffffc0513ab4".
	Text string
	// Intel is the same instruction as objdump -M intel prints it, with
	// the same normalisation: "mov rax,QWORD PTR [rbp-0x10]".
	Intel string
	// Legacy is Text as binutils 2.35 and earlier printed it, with the
	// "q" suffix those versions put on 64-bit near branches, ret, leave
	// and friends: "jmpq 0xffffffffc0513ab4", "callq *%rax", "retq".
	// See x86LegacyOp for the rules.
	Legacy string
	// Op is the AT&T mnemonic without prefixes or branch hints, e.g.
	// "jmp", "push", "nopl", "endbr64", "call", "movzbl".
	Op string
	// Target is the absolute address of a rel8/rel32 jump or call, or the
	// effective address of a RIP-relative memory operand.
	Target    uint64
	HasTarget bool
	// RIPRelative is set when Target comes from a RIP-relative memory
	// operand (objdump prints it as a trailing "# 0x..." comment).
	RIPRelative bool
	Kind        BranchKind
}

// X86Opts selects the dialect DecodeX86Opts prints.
type X86Opts struct {
	// Legacy makes Text and Op use the pre-2.36 objdump spelling
	// (jmpq, callq, retq, leaveq, pushq $imm, ...), the one found in
	// kernel commit messages written before 2021.
	Legacy bool
}

// ErrX86Decode is wrapped by every error DecodeX86 returns: the bytes
// are not a valid instruction, are truncated, or use an encoding this
// package deliberately does not print (x87, SSE/AVX beyond the BMI
// general-purpose forms, system instructions, odd prefix combinations),
// none of which the eBPF JIT emits.
var ErrX86Decode = errors.New("cannot decode x86-64 instruction")

// DecodeX86 decodes the one instruction at the start of code, found at
// address pc, and renders it as GNU objdump 2.40 would. It never panics.
func DecodeX86(code []byte, pc uint64) (X86Inst, error) {
	return DecodeX86Opts(code, pc, X86Opts{})
}

// DecodeX86Opts is DecodeX86 with a choice of dialect.
func DecodeX86Opts(code []byte, pc uint64, opts X86Opts) (X86Inst, error) {
	return decodeX86(code, pc, opts, x86All)
}

// decodeX86 is DecodeX86Opts rendering only the texts in want: Text (in
// the dialect opts selects) for x86ATT or x86Legacy, Intel for x86Intel.
// The other texts are left empty; the rest of the result is the same.
func decodeX86(code []byte, pc uint64, opts X86Opts, want x86Syntax) (X86Inst, error) {
	d := x86Decoder{code: code, pc: pc}
	if err := d.decode(); err != nil {
		n := min(len(code), 15)
		if d.pos > 0 && d.pos < n {
			n = d.pos
		}
		return X86Inst{PC: pc}, fmt.Errorf("disasm: x86 bytes % x at %#x: %v: %w", code[:n], pc, err, ErrX86Decode)
	}
	if opts.Legacy && want&x86ATT != 0 {
		want = want&^x86ATT | x86Legacy // Text is the legacy spelling
	}
	inst := d.render(want)
	if opts.Legacy {
		inst.Text = inst.Legacy
		inst.Op = d.legacyOp()
	}
	return inst, nil
}

// X86LegacySuffix rewrites an objdump 2.40 AT&T line (DecodeX86's Text)
// to the pre-2.36 spelling where the text alone decides it: call, ret,
// leave, enter, pushf, popf and indirect jmp gain "q"; push/pop
// of memory and push of an immediate become pushq/popq. A direct jmp
// gains "q" only when rel32 is true, as objdump 2.35 printed "jmp" for
// the two-byte eb form and "jmpq" for e9. DecodeX86's Legacy field
// applies the same rules from the decoded instruction and is to be
// preferred.
func X86LegacySuffix(text string, rel32 bool) string {
	prefix := ""
	rest := text
	for {
		w, r, _ := strings.Cut(rest, " ")
		if !x86PrefixWords[w] || r == "" {
			break
		}
		prefix += w + " "
		rest = r
	}
	op, args, _ := strings.Cut(rest, " ")
	lop := x86LegacyOp(op, args, rel32)
	if lop == op {
		return text
	}
	if args == "" {
		return prefix + lop
	}
	return prefix + lop + " " + args
}

// x86PrefixWords are the prefix names objdump prints before a mnemonic.
var x86PrefixWords = map[string]bool{
	"lock": true, "rep": true, "repz": true, "repnz": true, "bnd": true, "notrack": true,
	"data16": true, "addr32": true, "cs": true, "ds": true, "es": true, "ss": true, "fs": true, "gs": true,
	"rex": true, "rex.B": true, "rex.X": true, "rex.XB": true, "rex.R": true, "rex.RB": true, "rex.RX": true,
	"rex.RXB": true, "rex.W": true, "rex.WB": true, "rex.WX": true, "rex.WXB": true, "rex.WR": true,
	"rex.WRB": true, "rex.WRX": true, "rex.WRXB": true,
}

// x86LegacyOp returns the binutils <= 2.35 spelling of the 2.40 AT&T
// mnemonic op with operands args.
//
// Up to 2.35, i386-dis.c's templates for the instructions whose operand
// size cannot vary in 64-bit mode printed the "q" suffix anyway (the
// 'T'/'U' template letters: "print 'q' in 64bit mode"); binutils 2.36
// dropped it (Jan Beulich's 2020 series making the disassembler stop
// attaching suffixes to unambiguous instructions). The affected
// instructions are near call and jmp through e8/e9/ff /2/ff /4, ret,
// leave, enter, pushf/popf, and push/pop of memory or of an immediate.
// The two-byte jmp (eb), jcc, and push/pop of a register never had a
// suffix. Sources: the seed 001 listing (a 2020 kernel mail: "jmpq",
// "callq" next to "pop %rbx", "push %rax"), and golang.org/x/arch's
// x86asm GNUSyntax, written against objdump 2.24 (gnu.go: CALL, ENTER,
// JMP except opcode EB, LEAVE, RET get "q" in 64-bit mode; PUSH/POP get
// it when no register operand gives the size; PUSHF/POPF print
// pushfq/popfq).
func x86LegacyOp(op, args string, rel32 bool) string {
	switch op {
	case "call", "ret", "leave", "enter", "pushf", "popf":
		return op + "q"
	case "jmp":
		if rel32 || strings.HasPrefix(args, "*") {
			return "jmpq"
		}
	case "push", "pop":
		if args != "" && !strings.HasPrefix(args, "%") {
			return op + "q"
		}
	}
	return op
}
