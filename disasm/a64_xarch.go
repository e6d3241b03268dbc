package disasm

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/arch/arm64/arm64asm"
)

// xarchMu serialises arm64asm.Decode, which writes a package variable
// (decoderCover) on every call.
var xarchMu sync.Mutex

// xarchDecode decodes w with golang.org/x/arch and prints it the way
// objdump 2.40 does. x/arch's own GNUSyntax follows an older objdump
// ("[x0,#8]", ".+0x10" for PC-relative operands, "al" for condition 0b1111).
func xarchDecode(w uint32, pc uint64) (string, []string, bool) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], w)
	xarchMu.Lock() // arm64asm.Decode records coverage in a global
	inst, err := arm64asm.Decode(b[:])
	xarchMu.Unlock()
	if err != nil {
		return "", nil, false
	}
	for _, r := range a64Reserved {
		if w&r.mask == r.value && r.reserved(w) {
			return "", nil, false
		}
	}
	op := strings.ToLower(inst.Op.String())
	var args []string
	for _, a := range inst.Args {
		if a == nil {
			break
		}
		if s := a64Arg(a, inst.Op, pc); s != "" { // CLREX #15, DCPS #0 print no operand
			args = append(args, s)
		}
	}
	switch inst.Op {
	case arm64asm.RET:
		if len(args) == 1 && args[0] == "x30" {
			args = nil
		}
	case arm64asm.B:
		if _, ok := inst.Args[0].(arm64asm.Cond); ok {
			op, args = "b."+args[0], args[1:]
		}
	case arm64asm.ISB:
		if len(args) == 1 && args[0] == "sy" {
			args = nil
		}
	case arm64asm.FCMEQ, arm64asm.FCMGE, arm64asm.FCMGT, arm64asm.FCMLE, arm64asm.FCMLT,
		arm64asm.FCMP, arm64asm.FCMPE:
		if n := len(args); args[n-1] == "#0" { // compare with zero
			args[n-1] = "#0.0"
		}
	}
	for _, f := range a64Fixes {
		if w&f.mask == f.value {
			op, args = f.fix(w, op, args)
		}
	}
	return op, args, true
}

// a64Arg prints one x/arch operand in objdump syntax.
func a64Arg(a arm64asm.Arg, op arm64asm.Op, pc uint64) string {
	switch a := a.(type) {
	case arm64asm.PCRel:
		if op == arm64asm.ADRP {
			return fmt.Sprintf("%#x", pc&^0xfff+uint64(a))
		}
		return fmt.Sprintf("%#x", pc+uint64(a))
	case arm64asm.Cond:
		if a.Value == 15 && !a.Invert {
			return "nv" // x/arch says "al" for both 0b1110 and 0b1111
		}
	case arm64asm.MemImmediate, arm64asm.MemExtend:
		return spaceAfterCommas(strings.ToLower(a.String()))
	case arm64asm.Imm_c:
		return a.String() // objdump keeps "C2" upper case in SYSL
	}
	return strings.ToLower(a.String())
}

// spaceAfterCommas turns "[x0,#8]" into "[x0, #8]".
func spaceAfterCommas(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == ',' && (i+1 == len(s) || s[i+1] != ' ') {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// a64Reserved lists encodings x/arch decodes although they are reserved
// (objdump: ".inst ... ; undefined").
var a64Reserved = []struct {
	mask, value uint32
	reserved    func(w uint32) bool
}{
	// Data processing (register), add/subtract (extended register): imm3 > 4.
	{0x1fe00000, 0x0b200000, func(w uint32) bool { return w>>10&7 > 4 }},
	// Data processing (immediate), logical (immediate): an element of all ones.
	{0x1f800000, 0x12000000, func(w uint32) bool {
		n, imms := w>>22&1, w>>10&0x3f
		size := uint32(64)
		if n == 0 {
			for size = 32; size > 1 && imms&size != 0; size >>= 1 {
			}
		}
		return imms&(size-1) == size-1
	}},
	// Loads and stores, load/store register pair: LDPSW with Rt = Rt2, or
	// with writeback into Rt or Rt2, is constrained unpredictable.
	{0xfe400000, 0x68400000, func(w uint32) bool {
		rt, rt2, rn, wb := field(w, 0), field(w, 10), field(w, 5), w>>23&1 == 1
		return rt == rt2 || wb && rn != 31 && (rn == rt || rn == rt2)
	}},
}

// a64Fixes rewrite x/arch's result where objdump 2.40 prefers another
// form of the same encoding.
var a64Fixes = []struct {
	mask, value uint32
	fix         func(w uint32, op string, args []string) (string, []string)
}{
	// BFC (Arm ARM C6.2): BFM with Rn = zero register and imms < immr.
	{0x7f8003e0, 0x330003e0, func(w uint32, op string, args []string) (string, []string) {
		sf, immr, imms := w>>31 == 1, w>>16&0x3f, w>>10&0x3f
		if imms >= immr {
			return op, args
		}
		width := uint32(32)
		if sf {
			width = 64
		}
		return "bfc", []string{reg(field(w, 0), sf), fmt.Sprintf("#%d", (width-immr)%width), fmt.Sprintf("#%d", imms+1)}
	}},
	// MOV (bitmask immediate) (Arm ARM C6.2), ORR with Rn = zero register:
	// binutils keeps ORR when MOVZ or MOVN could load the same value into
	// the same register (they cannot write SP).
	{0x7f8003e0, 0x320003e0, func(w uint32, op string, args []string) (string, []string) {
		rd, imm := args[0], args[len(args)-1] // x/arch gives "orr rd, zr, #imm" or "mov rd, #imm"
		v, err := strconv.ParseUint(strings.TrimPrefix(imm, "#"), 0, 64)
		if err != nil {
			return op, args
		}
		sf := w>>31 == 1
		if field(w, 0) != 31 && (moveWideImm(v, sf) || moveWideImm(^v, sf)) {
			return "orr", []string{rd, reg(31, sf), imm}
		}
		return "mov", []string{rd, imm}
	}},
}

// moveWideImm reports whether MOVZ can load v: all its set bits lie in
// one aligned halfword of the 32- or 64-bit register.
func moveWideImm(v uint64, sf bool) bool {
	if !sf {
		v &= 0xffffffff
	}
	for shift := 0; shift < 64; shift += 16 {
		if v&^(0xffff<<shift) == 0 {
			return true
		}
	}
	return false
}
