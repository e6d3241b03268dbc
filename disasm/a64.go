package disasm

import (
	"errors"
	"fmt"
	"strings"
)

// A64Inst is one decoded arm64 instruction.
type A64Inst struct {
	Word uint32
	PC   uint64
	// Text is the instruction as GNU objdump prints it, with a single space
	// between mnemonic and operands and without objdump's trailing
	// "// ..." comment, e.g. "stp x29, x30, [sp, #-16]!".
	Text string
	// Op is the mnemonic as printed, e.g. "b.cs", "ldr", "paciasp".
	Op string
	// Target is the absolute address a PC-relative instruction refers to:
	// the destination of b, bl, b.cond, cbz/cbnz, tbz/tbnz, the address
	// computed by adr/adrp, or the literal loaded by ldr (literal).
	Target    uint64
	HasTarget bool
	Kind      BranchKind
}

// BranchKind says how an instruction changes the flow of control.
type BranchKind uint8

const (
	None         BranchKind = iota // falls through
	Jump                           // b: direct unconditional jump
	CondJump                       // b.cond, cbz, cbnz, tbz, tbnz
	Call                           // bl, blr (and blraa...)
	IndirectJump                   // br (and braa...)
	Return                         // ret (and retaa, retab)
)

func (k BranchKind) String() string {
	switch k {
	case None:
		return "none"
	case Jump:
		return "jump"
	case CondJump:
		return "cond-jump"
	case Call:
		return "call"
	case IndirectJump:
		return "indirect-jump"
	case Return:
		return "return"
	}
	return fmt.Sprintf("BranchKind(%d)", uint8(k))
}

// ErrA64Decode is wrapped by every error DecodeA64 returns: the word is
// either undefined (objdump prints ".inst 0x... ; undefined") or an encoding
// this package does not print, none of which the eBPF JIT emits.
var ErrA64Decode = errors.New("cannot decode arm64 instruction")

// DecodeA64 decodes the little-endian instruction word found at address pc
// and renders it as GNU objdump 2.40 would. It never panics; words it cannot
// render exactly return an error wrapping ErrA64Decode.
func DecodeA64(word uint32, pc uint64) (A64Inst, error) {
	op, args, ok := a64Decode(word, pc)
	if !ok {
		return A64Inst{Word: word, PC: pc}, fmt.Errorf("disasm: word %#08x at %#x: %w", word, pc, ErrA64Decode)
	}
	inst := A64Inst{Word: word, PC: pc, Op: op, Text: op, Kind: a64Kind(word)}
	if len(args) > 0 {
		inst.Text += " " + strings.Join(args, ", ")
	}
	inst.Target, inst.HasTarget = a64Target(word, pc)
	return inst, nil
}

// a64Decode returns the mnemonic and operands of word. Overlays own their
// encoding class completely; everything else goes through x/arch.
func a64Decode(w uint32, pc uint64) (op string, args []string, ok bool) {
	for _, o := range a64Overlays {
		if w&o.mask == o.value {
			return o.decode(w)
		}
	}
	return xarchDecode(w, pc)
}

// a64Branches classifies control flow (Arm ARM C4.1 "Branches, Exception
// Generating and System instructions").
var a64Branches = []struct {
	mask, value uint32
	kind        BranchKind
}{
	{0xfc000000, 0x14000000, Jump},         // B
	{0xfc000000, 0x94000000, Call},         // BL
	{0xff000000, 0x54000000, CondJump},     // B.cond, BC.cond
	{0x7e000000, 0x34000000, CondJump},     // CBZ, CBNZ
	{0x7e000000, 0x36000000, CondJump},     // TBZ, TBNZ
	{0xfffffc1f, 0xd61f0000, IndirectJump}, // BR
	{0xfefff800, 0xd61f0800, IndirectJump}, // BRAAZ, BRABZ, BRAA, BRAB
	{0xfffffc1f, 0xd63f0000, Call},         // BLR
	{0xfefff800, 0xd63f0800, Call},         // BLRAAZ, BLRABZ, BLRAA, BLRAB
	{0xfffffc1f, 0xd65f0000, Return},       // RET
	{0xfffffbff, 0xd65f0bff, Return},       // RETAA, RETAB
}

func a64Kind(w uint32) BranchKind {
	for _, b := range a64Branches {
		if w&b.mask == b.value {
			return b.kind
		}
	}
	return None
}

// a64Target computes the address a PC-relative instruction refers to.
func a64Target(w uint32, pc uint64) (uint64, bool) {
	switch {
	case w&0x7c000000 == 0x14000000: // B, BL: imm26
		return pc + uint64(sext(w, 0, 26)<<2), true
	case w&0xff000000 == 0x54000000, // B.cond: imm19
		w&0x7e000000 == 0x34000000, // CBZ, CBNZ
		w&0x3b000000 == 0x18000000: // load register (literal)
		return pc + uint64(sext(w, 5, 19)<<2), true
	case w&0x7e000000 == 0x36000000: // TBZ, TBNZ: imm14
		return pc + uint64(sext(w, 5, 14)<<2), true
	case w&0x1f000000 == 0x10000000: // ADR, ADRP: immhi:immlo
		imm := sext(w, 5, 19)<<2 | int64(w>>29&3)
		if w&0x80000000 == 0 {
			return pc + uint64(imm), true
		}
		return pc&^0xfff + uint64(imm<<12), true
	}
	return 0, false
}

// sext returns the n-bit field of w starting at bit lo, sign-extended.
func sext(w uint32, lo, n uint) int64 {
	return int64(w>>lo) << (64 - n) >> (64 - n)
}
