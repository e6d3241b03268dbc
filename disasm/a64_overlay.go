package disasm

import (
	"fmt"
	"strings"
)

// An a64Overlay decodes one whole encoding class itself, either because
// x/arch refuses it or because x/arch prints it differently from objdump.
// decode reports false for words objdump prints as ".inst ... ; undefined".
type a64Overlay struct {
	mask, value uint32
	decode      func(w uint32) (op string, args []string, ok bool)
}

// a64Overlays are tried in order before x/arch. The comments name the
// encoding group and class in the Arm Architecture Reference Manual for
// A-profile (DDI 0487), section C4.1 "A64 instruction set encoding" (by
// title: the subsection numbers change between issues).
var a64Overlays = []a64Overlay{
	{0xffff0000, 0x00000000, a64UDF},         // Reserved: UDF #imm16
	{0xff000000, 0xd4000000, a64Exception},   // Branches, exception generating and system: exception generation
	{0xfffff01f, 0xd503201f, a64Hint},        // ... hints (NOP, PAC, BTI...)
	{0xfffff01f, 0xd503301f, a64Barrier},     // ... barriers (DMB, DSB, ISB, SB, SSBB, CLREX)
	{0xffd00000, 0xd5100000, a64SysRegMove},  // ... system register move (MRS, MSR) with op0 = 2 or 3
	{0xfe1ff800, 0xd61f0800, a64PACBranch},   // ... unconditional branch (register) with pointer authentication
	{0xffff0000, 0xdac10000, a64PACData},     // Data processing (register): data-processing (1 source) PAC*, AUT*, XPAC*
	{0xffe0fc00, 0x9ac03000, a64PACGA},       // ... data-processing (2 source) PACGA
	{0x3f000000, 0x08000000, a64Exclusive},   // Loads and stores: load/store exclusive and ordered, CAS, CASP
	{0x3f200c00, 0x38200000, a64AtomicMemOp}, // ... atomic memory operations (LSE), SWP, LDAPR
}

// field returns the 5-bit register field of w starting at bit lo.
func field(w uint32, lo uint) uint32 { return w >> lo & 31 }

// reg names general-purpose register n of a 64-bit (x) or 32-bit operand;
// 31 is the zero register.
func reg(n uint32, x bool) string {
	switch {
	case n == 31 && x:
		return "xzr"
	case n == 31:
		return "wzr"
	case x:
		return fmt.Sprintf("x%d", n)
	}
	return fmt.Sprintf("w%d", n)
}

// regSP is reg with 31 meaning the stack pointer.
func regSP(n uint32, x bool) string {
	switch {
	case n == 31 && x:
		return "sp"
	case n == 31:
		return "wsp"
	}
	return reg(n, x)
}

// acqRel is the ordering suffix of LSE instructions: "a" for acquire,
// "l" for release.
func acqRel(acquire, release uint32) string {
	return [2][2]string{{"", "l"}, {"a", "al"}}[acquire][release]
}

// sizeSuffix is the b/h mnemonic suffix of a load/store size field.
var sizeSuffix = [4]string{"b", "h", "", ""}

// a64UDF decodes UDF #imm16 (x/arch only knows UDF #0).
func a64UDF(w uint32) (string, []string, bool) {
	return "udf", []string{fmt.Sprintf("#%d", w&0xffff)}, true
}

// a64Exception decodes SVC, HVC, SMC, BRK, HLT, TCANCEL and DCPS1-3:
// 11010100 opc(3) imm16 op2(3) LL(2). x/arch refuses HVC, SMC and TCANCEL.
func a64Exception(w uint32) (string, []string, bool) {
	imm := w >> 5 & 0xffff
	hex := []string{fmt.Sprintf("#%#x", imm)}
	switch w & 0x00e0001f { // opc, op2, LL
	case 0x00000001:
		return "svc", hex, true
	case 0x00000002:
		return "hvc", hex, true
	case 0x00000003:
		return "smc", hex, true
	case 0x00200000:
		return "brk", hex, true
	case 0x00400000:
		return "hlt", hex, true
	case 0x00600000:
		return "tcancel", []string{fmt.Sprintf("#%d", imm)}, true
	case 0x00a00001, 0x00a00002, 0x00a00003:
		if imm == 0 {
			hex = nil
		}
		return fmt.Sprintf("dcps%d", w&3), hex, true
	}
	return "", nil, false
}

// a64Hints names HINT #imm by CRm:op2, as binutils 2.40 does; the others
// print as "hint #0x..". (x/arch prints PAC and BTI hints as "hint".)
var a64Hints = map[uint32]string{
	0: "nop", 1: "yield", 2: "wfe", 3: "wfi", 4: "sev", 5: "sevl",
	7: "xpaclri", 8: "pacia1716", 10: "pacib1716", 12: "autia1716", 14: "autib1716",
	16: "esb", 17: "psb csync", 18: "tsb csync", 20: "csdb", 22: "clearbhb",
	24: "paciaz", 25: "paciasp", 26: "pacibz", 27: "pacibsp",
	28: "autiaz", 29: "autiasp", 30: "autibz", 31: "autibsp",
	32: "bti", 34: "bti c", 36: "bti j", 38: "bti jc",
}

func a64Hint(w uint32) (string, []string, bool) {
	imm := w >> 5 & 0x7f
	name, ok := a64Hints[imm]
	if !ok {
		return "hint", []string{fmt.Sprintf("#%#x", imm)}, true
	}
	op, arg, _ := strings.Cut(name, " ")
	if arg == "" {
		return op, nil, true
	}
	return op, []string{arg}, true
}

// a64BarrierOptions names the CRm option of DMB and DSB.
var a64BarrierOptions = [16]string{
	1: "oshld", 2: "oshst", 3: "osh", 5: "nshld", 6: "nshst", 7: "nsh",
	9: "ishld", 10: "ishst", 11: "ish", 13: "ld", 14: "st", 15: "sy",
}

// a64Barrier decodes the barriers: 1101010100 0 00 011 0011 CRm op2 11111.
// x/arch prints SSBB and PSSBB as "dsb #0x00" and lacks SB, TCOMMIT and
// DSB nXS. Unallocated op2/CRm pairs print as a generic MSR.
func a64Barrier(w uint32) (string, []string, bool) {
	crm, op2 := w>>8&15, w>>5&7
	switch {
	case op2 == 1 && crm&3 == 2: // DSB <option>nXS
		return "dsb", []string{[4]string{"osh", "nsh", "ish", "sy"}[crm>>2] + "nxs"}, true
	case op2 == 2 && crm == 15:
		return "clrex", nil, true
	case op2 == 2:
		return "clrex", []string{fmt.Sprintf("#%#x", crm)}, true
	case op2 == 3 && crm == 0:
		return "tcommit", nil, true
	case op2 == 4 && crm == 0:
		return "ssbb", nil, true
	case op2 == 4 && crm == 4:
		return "pssbb", nil, true
	case op2 == 4 || op2 == 5:
		op, opt := [2]string{"dsb", "dmb"}[op2-4], a64BarrierOptions[crm]
		if opt == "" {
			opt = fmt.Sprintf("#0x%02x", crm)
		}
		return op, []string{opt}, true
	case op2 == 6 && crm == 15:
		return "isb", nil, true
	case op2 == 6:
		return "isb", []string{fmt.Sprintf("#%#x", crm)}, true
	case op2 == 7 && crm == 0:
		return "sb", nil, true
	}
	return "msr", []string{fmt.Sprintf("s0_3_c3_c%d_%d", crm, op2), "xzr"}, true
}

// a64SysRegMove decodes MRS and MSR (register) with op0 = 2 or 3:
// 1101010100 L 1 o0 op1(3) CRn(4) CRm(4) op2(3) Rt. Registers objdump
// knows print by name (a64SysRegs), the rest as s<op0>_<op1>_c<n>_c<m>_<op2>.
func a64SysRegMove(w uint32) (string, []string, bool) {
	key, read := uint16(w>>5&0x7fff), w&(1<<21) != 0 // o0:op1:CRn:CRm:op2, L
	name, ok := a64SysRegs[key]
	if wname, wok := a64SysRegsWriteOnly[key]; wok && !read {
		name, ok = wname, true
	}
	if !ok {
		name = fmt.Sprintf("s%d_%d_c%d_c%d_%d", 2+key>>14, key>>11&7, key>>7&15, key>>3&15, key&7)
	}
	rt := reg(field(w, 0), true)
	if read {
		return "mrs", []string{rt, name}, true
	}
	return "msr", []string{name, rt}, true
}

// a64Exclusive decodes the load/store exclusive and ordered class:
// size 001000 o2 L o1 Rs o0 Rt2 Rn Rt. x/arch ignores the fields that
// objdump requires to be all ones and lacks CAS, CASP, LDLAR and STLLR.
func a64Exclusive(w uint32) (string, []string, bool) {
	sz, o2, l, o1, o0 := w>>30, w>>23&1, w>>22&1, w>>21&1, w>>15&1
	rs, rt2, rn, rt := field(w, 16), field(w, 10), field(w, 5), field(w, 0)
	x := sz == 3
	mem := "[" + regSP(rn, true) + "]"
	switch {
	case o2 == 0 && o1 == 0: // STXR, STLXR, LDXR, LDAXR
		op := [2][2]string{{"stxr", "stlxr"}, {"ldxr", "ldaxr"}}[l][o0] + sizeSuffix[sz]
		if l == 1 {
			return op, []string{reg(rt, x), mem}, true
		}
		return op, []string{reg(rs, false), reg(rt, x), mem}, true
	case o2 == 0 && sz >= 2: // STXP, STLXP, LDXP, LDAXP
		op := [2][2]string{{"stxp", "stlxp"}, {"ldxp", "ldaxp"}}[l][o0]
		if l == 1 {
			return op, []string{reg(rt, x), reg(rt2, x), mem}, true
		}
		return op, []string{reg(rs, false), reg(rt, x), reg(rt2, x), mem}, true
	case o2 == 0: // CASP: register pairs must start even
		if rt2 != 31 || rs&1 != 0 || rt&1 != 0 {
			return "", nil, false
		}
		x := sz == 1
		return "casp" + acqRel(l, o0), []string{reg(rs, x), reg(rs+1, x), reg(rt, x), reg(rt+1, x), mem}, true
	case o1 == 0: // STLLR, STLR, LDLAR, LDAR
		// LDAR needs Rs and Rt2 all ones, yet binutils 2.40 also takes
		// Rs = 0b01111 except in LDARH.
		if l == 1 && o0 == 1 && (rt2 != 31 || rs != 31 && (rs != 15 || sz == 1)) {
			return "", nil, false
		}
		op := [2][2]string{{"stllr", "stlr"}, {"ldlar", "ldar"}}[l][o0] + sizeSuffix[sz]
		return op, []string{reg(rt, x), mem}, true
	default: // CAS
		if rt2 != 31 {
			return "", nil, false
		}
		return "cas" + acqRel(l, o0) + sizeSuffix[sz], []string{reg(rs, x), reg(rt, x), mem}, true
	}
}

// a64AtomicMemOp decodes the LSE atomic memory operations:
// size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt. With Rt = zero register and no
// acquire, LD<op> prints as its alias ST<op> ("stadd w1, [x0]").
func a64AtomicMemOp(w uint32) (string, []string, bool) {
	sz, a, r, o3, opc := w>>30, w>>23&1, w>>22&1, w>>15&1, w>>12&7
	rs, rn, rt := field(w, 16), field(w, 5), field(w, 0)
	x := sz == 3
	mem := "[" + regSP(rn, true) + "]"
	ops := [8]string{"add", "clr", "eor", "set", "smax", "smin", "umax", "umin"}
	switch {
	case o3 == 0 && a == 0 && rt == 31: // ST<op>
		return "st" + ops[opc] + acqRel(0, r) + sizeSuffix[sz], []string{reg(rs, x), mem}, true
	case o3 == 0: // LD<op>
		return "ld" + ops[opc] + acqRel(a, r) + sizeSuffix[sz], []string{reg(rs, x), reg(rt, x), mem}, true
	case opc == 0: // SWP
		return "swp" + acqRel(a, r) + sizeSuffix[sz], []string{reg(rs, x), reg(rt, x), mem}, true
	case opc == 4 && a == 1 && r == 0 && rs == 31: // LDAPR (FEAT_LRCPC)
		return "ldapr" + sizeSuffix[sz], []string{reg(rt, x), mem}, true
	}
	return "", nil, false // ST64B, LD64B, ST64BV, ST64BV0 (FEAT_LS64) are not printed
}

// a64PACBranch decodes BRAA, BLRAA, RETAA, ERETAA and their B and Z forms:
// 1101011 opc(4) 11111 00001 M Rn Rm, M choosing key A or B.
func a64PACBranch(w uint32) (string, []string, bool) {
	key := "a"
	if w&(1<<10) != 0 {
		key = "b"
	}
	rn, rm := field(w, 5), field(w, 0)
	switch w >> 21 & 15 {
	case 0: // BRAAZ
		if rm == 31 {
			return "bra" + key + "z", []string{reg(rn, true)}, true
		}
	case 1: // BLRAAZ
		if rm == 31 {
			return "blra" + key + "z", []string{reg(rn, true)}, true
		}
	case 2: // RETAA
		if rn == 31 && rm == 31 {
			return "reta" + key, nil, true
		}
	case 4: // ERETAA
		if rn == 31 && rm == 31 {
			return "ereta" + key, nil, true
		}
	case 8: // BRAA
		return "bra" + key, []string{reg(rn, true), regSP(rm, true)}, true
	case 9: // BLRAA
		return "blra" + key, []string{reg(rn, true), regSP(rm, true)}, true
	}
	return "", nil, false
}

// a64PACData decodes the pointer authentication data-processing
// instructions: 1 1 0 11010110 00001 opcode(6) Rn Rd.
func a64PACData(w uint32) (string, []string, bool) {
	opcode, rn, rd := w>>10&0x3f, field(w, 5), reg(field(w, 0), true)
	names := [8]string{"pacia", "pacib", "pacda", "pacdb", "autia", "autib", "autda", "autdb"}
	switch {
	case opcode < 8: // PACIA Xd, Xn|SP
		return names[opcode], []string{rd, regSP(rn, true)}, true
	case opcode < 16 && rn == 31: // PACIZA Xd: the modifier is zero
		name := names[opcode-8]
		return name[:4] + "z" + name[4:], []string{rd}, true
	case opcode == 16 && rn == 31:
		return "xpaci", []string{rd}, true
	case opcode == 17 && rn == 31:
		return "xpacd", []string{rd}, true
	}
	return "", nil, false
}

// a64PACGA decodes PACGA Xd, Xn, Xm|SP.
func a64PACGA(w uint32) (string, []string, bool) {
	return "pacga", []string{reg(field(w, 0), true), reg(field(w, 5), true), regSP(field(w, 16), true)}, true
}
