// Package arm64 is the arm64 eBPF JIT, modelled on the Linux kernel's
// arch/arm64/net/bpf_jit_comp.c (instruction forms from bpf_jit.h and
// arch/arm64/lib/insn.c). The encoders in this file are small pure
// functions, one per A64 encoding class (Arm ARM C4.1); the mnemonic layer
// in insn.go is named after the kernel's A64_* macros.
package arm64

import (
	"fmt"
	"math/bits"
)

// Reg is an A64 general-purpose register number. 31 is SP or ZR depending
// on the instruction, as in the architecture.
type Reg uint8

// Registers with a role.
const (
	SP Reg = 31
	ZR Reg = 31
	FP Reg = 29
	LR Reg = 30
)

// Cond is an A64 condition code.
type Cond uint8

// Condition codes (Arm ARM C1.2.4).
const (
	CondEQ Cond = 0x0
	CondNE Cond = 0x1
	CondCS Cond = 0x2 // unsigned >=
	CondCC Cond = 0x3 // unsigned <
	CondMI Cond = 0x4
	CondPL Cond = 0x5
	CondHI Cond = 0x8 // unsigned >
	CondLS Cond = 0x9 // unsigned <=
	CondGE Cond = 0xa
	CondLT Cond = 0xb
	CondGT Cond = 0xc
	CondLE Cond = 0xd
)

// errNotEncodable is what the kernel's generators signal with
// AARCH64_BREAK_FAULT: the operands do not fit the encoding.
type errNotEncodable struct {
	what string
	// imm, when hex is set, follows what in hexadecimal: formatted only
	// when the message is wanted, as most of these errors only choose
	// another encoding.
	imm uint64
	hex bool
}

func (e errNotEncodable) Error() string {
	if e.hex {
		return fmt.Sprintf("not encodable: %s %#x", e.what, e.imm)
	}
	return "not encodable: " + e.what
}

func sf(is64 bool) uint32 {
	if is64 {
		return 1 << 31
	}
	return 0
}

func reg(r Reg) uint32 { return uint32(r) & 31 }

// signedField checks that v fits a signed field of n bits and returns it masked.
func signedField(v int64, n uint, what string) (uint32, error) {
	lim := int64(1) << (n - 1)
	if v < -lim || v >= lim {
		return 0, errNotEncodable{what: fmt.Sprintf("%s %d does not fit %d bits", what, v, n)}
	}
	return uint32(v) & (1<<n - 1), nil
}

// addSubImm: sf op S 100010 sh imm12 Rn Rd (C4.1.86, Add/subtract immediate).
// The kernel's aarch64_insn_gen_add_sub_imm accepts imm12 or imm12<<12.
func addSubImm(is64 bool, sub, setFlags bool, rd, rn Reg, imm uint32) (uint32, error) {
	ins := sf(is64) | 0b100010<<23 | reg(rn)<<5 | reg(rd)
	if sub {
		ins |= 1 << 30
	}
	if setFlags {
		ins |= 1 << 29
	}
	if imm&^(1<<24-1) != 0 {
		return 0, errNotEncodable{what: "add/sub immediate", imm: uint64(imm), hex: true}
	}
	if imm&^0xfff != 0 {
		if imm&0xfff != 0 {
			return 0, errNotEncodable{what: "add/sub immediate", imm: uint64(imm), hex: true}
		}
		imm >>= 12
		ins |= 1 << 22
	}
	return ins | imm<<10, nil
}

// addSubShiftedReg: sf op S 01011 shift 0 Rm imm6 Rn Rd (shift LSL #0).
func addSubShiftedReg(is64 bool, sub, setFlags bool, rd, rn, rm Reg) uint32 {
	ins := sf(is64) | 0b01011<<24 | reg(rm)<<16 | reg(rn)<<5 | reg(rd)
	if sub {
		ins |= 1 << 30
	}
	if setFlags {
		ins |= 1 << 29
	}
	return ins
}

// Logical operations: opc and N of the logical encodings.
type logicOp uint8

const (
	logicAND logicOp = iota
	logicORR
	logicEOR
	logicANDS
	logicORN // ORR with N=1 (shifted register form only)
)

// logicalShiftedReg: sf opc 01010 shift N Rm imm6 Rn Rd (LSL #0).
func logicalShiftedReg(is64 bool, op logicOp, rd, rn, rm Reg) uint32 {
	opc := uint32(op)
	n := uint32(0)
	if op == logicORN {
		opc, n = uint32(logicORR), 1
	}
	return sf(is64) | opc<<29 | 0b01010<<24 | n<<21 | reg(rm)<<16 | reg(rn)<<5 | reg(rd)
}

// logicalImm: sf opc 100100 N immr imms Rn Rd. imm is the value to encode
// (already truncated to 32 bits for the 32-bit variant). Mirrors the
// kernel's aarch64_encode_immediate (arch/arm64/lib/insn.c).
func logicalImm(is64 bool, op logicOp, rd, rn Reg, imm uint64) (uint32, error) {
	esz := uint(32)
	if is64 {
		esz = 64
	}
	mask := uint64(1)<<esz - 1
	if esz == 64 {
		mask = ^uint64(0)
	}
	if imm == 0 || imm == mask || imm&^mask != 0 {
		return 0, errNotEncodable{what: "logical immediate", imm: uint64(imm), hex: true}
	}
	// Inverse of Replicate(): find the smallest repeating element.
	for tmp := esz / 2; tmp >= 2; tmp /= 2 {
		emask := uint64(1)<<tmp - 1
		if imm&emask != (imm>>tmp)&emask {
			break
		}
		esz, mask = tmp, emask
	}
	n := uint32(0)
	if esz == 64 {
		n = 1
	}
	imm &= mask
	ones := uint32(bits.OnesCount64(imm))
	imms := ones - 1
	imms |= 0xf << uint32(bits.TrailingZeros(uint(esz))+1) // ffs(esz)
	imms &= 1<<6 - 1
	var ror uint
	if rangeOfOnes(imm) {
		ror = uint(bits.TrailingZeros64(imm))
	} else {
		imm |= ^mask
		if !rangeOfOnes(^imm) {
			return 0, errNotEncodable{what: "logical immediate", imm: uint64(imm), hex: true}
		}
		ror = uint(64 - bits.LeadingZeros64(^imm)) // fls64
	}
	immr := uint32((esz - ror) % esz)
	return sf(is64) | uint32(op)<<29 | 0b100100<<23 | n<<22 | immr<<16 | imms<<10 | reg(rn)<<5 | reg(rd), nil
}

func rangeOfOnes(v uint64) bool {
	if v == 0 {
		return false
	}
	s := v >> uint(bits.TrailingZeros64(v))
	return (s+1)&s == 0
}

// Move wide opc values.
const (
	moveN uint32 = 0b00
	moveZ uint32 = 0b10
	moveK uint32 = 0b11
)

// moveWide: sf opc 100101 hw imm16 Rd (C4.1.91).
func moveWide(is64 bool, opc uint32, rd Reg, imm16 uint16, shift int) (uint32, error) {
	if shift%16 != 0 || shift < 0 || shift > 48 || (!is64 && shift > 16) {
		return 0, errNotEncodable{what: fmt.Sprintf("move wide shift %d", shift)}
	}
	return sf(is64) | opc<<29 | 0b100101<<23 | uint32(shift/16)<<21 | uint32(imm16)<<5 | reg(rd), nil
}

// bitfield: sf opc 100110 N immr imms Rn Rd; opc 00 SBFM, 10 UBFM.
func bitfield(is64 bool, signed bool, rd, rn Reg, immr, imms uint32) (uint32, error) {
	lim := uint32(32)
	if is64 {
		lim = 64
	}
	if immr >= lim || imms >= lim {
		return 0, errNotEncodable{what: fmt.Sprintf("bitfield immr %d imms %d", immr, imms)}
	}
	opc := uint32(0b10)
	if signed {
		opc = 0
	}
	n := uint32(0)
	if is64 {
		n = 1
	}
	return sf(is64) | opc<<29 | 0b100110<<23 | n<<22 | immr<<16 | imms<<10 | reg(rn)<<5 | reg(rd), nil
}

// dataProc1: sf 1 0 11010110 00000 opcode Rn Rd (REV16 000001, REV/REV32 000010, REV 000011).
func dataProc1(is64 bool, opcode uint32, rd, rn Reg) uint32 {
	return sf(is64) | 0x5ac00000 | opcode<<10 | reg(rn)<<5 | reg(rd)
}

// dataProc2: sf 0 0 11010110 Rm opcode Rn Rd (UDIV 000010, SDIV 000011, LSLV 001000, LSRV 001001, ASRV 001010).
func dataProc2(is64 bool, opcode uint32, rd, rn, rm Reg) uint32 {
	return sf(is64) | 0x1ac00000 | reg(rm)<<16 | opcode<<10 | reg(rn)<<5 | reg(rd)
}

// dataProc3: sf 00 11011 000 Rm o0 Ra Rn Rd (MADD o0=0, MSUB o0=1).
func dataProc3(is64 bool, sub bool, rd, ra, rn, rm Reg) uint32 {
	ins := sf(is64) | 0x1b000000 | reg(rm)<<16 | reg(ra)<<10 | reg(rn)<<5 | reg(rd)
	if sub {
		ins |= 1 << 15
	}
	return ins
}

// Access sizes as the size field of load/store encodings.
const (
	size8  uint32 = 0
	size16 uint32 = 1
	size32 uint32 = 2
	size64 uint32 = 3
)

// loadStoreRegOffset: size 111 0 00 opc 1 Rm option(011=LSL) S(0) 10 Rn Rt.
func loadStoreRegOffset(size uint32, load bool, rt, rn, rm Reg) uint32 {
	ins := size<<30 | 0x38206800 | reg(rm)<<16 | reg(rn)<<5 | reg(rt)
	if load {
		ins |= 1 << 22
	}
	return ins
}

// loadStoreUnsignedImm: size 111 0 01 opc imm12 Rn Rt; off is the byte
// offset, scaled by the access size.
func loadStoreUnsignedImm(size uint32, load bool, rt, rn Reg, off int) (uint32, error) {
	if off < 0 || off&(1<<size-1) != 0 || off>>size > 0xfff {
		return 0, errNotEncodable{what: fmt.Sprintf("load/store offset %d", off)}
	}
	ins := size<<30 | 0x39000000 | uint32(off>>size)<<10 | reg(rn)<<5 | reg(rt)
	if load {
		ins |= 1 << 22
	}
	return ins, nil
}

// loadLiteral: opc 011 0 00 imm19 Rt (LDR literal), off in bytes from the instruction.
func loadLiteral(is64 bool, rt Reg, off int64) (uint32, error) {
	if off&3 != 0 {
		return 0, errNotEncodable{what: fmt.Sprintf("literal offset %d", off)}
	}
	imm, err := signedField(off>>2, 19, "literal offset")
	if err != nil {
		return 0, err
	}
	ins := uint32(0x18000000) | imm<<5 | reg(rt)
	if is64 {
		ins |= 1 << 30
	}
	return ins, nil
}

// loadStorePair64: opc(10) 101 0 type L imm7 Rt2 Rn Rt, 64-bit registers.
// preIndex selects type 011 (pre-index) else 001 (post-index).
func loadStorePair64(load, preIndex bool, rt, rt2, rn Reg, off int) (uint32, error) {
	if off%8 != 0 {
		return 0, errNotEncodable{what: fmt.Sprintf("pair offset %d", off)}
	}
	imm, err := signedField(int64(off/8), 7, "pair offset")
	if err != nil {
		return 0, err
	}
	ins := uint32(0xa8800000) | imm<<15 | reg(rt2)<<10 | reg(rn)<<5 | reg(rt)
	if preIndex {
		ins |= 1 << 24
	}
	if load {
		ins |= 1 << 22
	}
	return ins, nil
}

// loadStoreExclusive: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt, with Rt2 = 11111.
// LDXR: L=1 Rs=11111; STXR: L=0; STLXR: L=0 o0=1.
func loadStoreExclusive(is64 bool, load, release bool, rt, rn, rs Reg) uint32 {
	size := size32
	if is64 {
		size = size64
	}
	ins := size<<30 | 0x08000000 | reg(rs)<<16 | 31<<10 | reg(rn)<<5 | reg(rt)
	if load {
		ins |= 1 << 22
	}
	if release {
		ins |= 1 << 15
	}
	return ins
}

// LSE atomic memory operations: size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt.
type atomicOp uint32

const (
	atomicADD atomicOp = 0b0000
	atomicCLR atomicOp = 0b0001
	atomicEOR atomicOp = 0b0010
	atomicSET atomicOp = 0b0011
	atomicSWP atomicOp = 0b1000 // o3=1, opc=000
)

func atomicMemOp(is64 bool, op atomicOp, acquire, release bool, rs, rt, rn Reg) uint32 {
	size := size32
	if is64 {
		size = size64
	}
	ins := size<<30 | 0x38200000 | reg(rs)<<16 | uint32(op)<<12 | reg(rn)<<5 | reg(rt)
	if acquire {
		ins |= 1 << 23
	}
	if release {
		ins |= 1 << 22
	}
	return ins
}

// cas: size 001000 1 L 1 Rs o0 11111 Rn Rt (CASAL: L=1, o0=1).
func casal(is64 bool, rs, rt, rn Reg) uint32 {
	size := size32
	if is64 {
		size = size64
	}
	return size<<30 | 0x08e0fc00 | reg(rs)<<16 | reg(rn)<<5 | reg(rt)
}

// branchImm: B (0x14000000) or BL (0x94000000) with a word offset.
func branchImm(link bool, words int) (uint32, error) {
	imm, err := signedField(int64(words), 26, "branch offset")
	if err != nil {
		return 0, err
	}
	ins := uint32(0x14000000) | imm
	if link {
		ins |= 1 << 31
	}
	return ins, nil
}

// condBranch: 0101010 0 imm19 0 cond.
func condBranch(c Cond, words int) (uint32, error) {
	imm, err := signedField(int64(words), 19, "conditional branch offset")
	if err != nil {
		return 0, err
	}
	return 0x54000000 | imm<<5 | uint32(c), nil
}

// compBranch: sf 011010 op imm19 Rt (CBZ op=0, CBNZ op=1).
func compBranch(is64, nonZero bool, rt Reg, words int) (uint32, error) {
	imm, err := signedField(int64(words), 19, "compare-and-branch offset")
	if err != nil {
		return 0, err
	}
	ins := sf(is64) | 0x34000000 | imm<<5 | reg(rt)
	if nonZero {
		ins |= 1 << 24
	}
	return ins, nil
}

// branchReg: 1101011 opc 11111 000000 Rn 00000 (BR 0000, BLR 0001, RET 0010).
func branchReg(opc uint32, rn Reg) uint32 {
	return 0xd61f0000 | opc<<21 | reg(rn)<<5
}

// hint: 1101010100 0 00 011 0010 CRm op2 11111.
func hint(imm uint32) uint32 { return 0xd503201f | (imm&0x7f)<<5 }

// Hint immediates (CRm:op2).
const (
	hintNOP     = 0
	hintPACIASP = 25
	hintAUTIASP = 29
	hintBTIC    = 34
	hintBTIJ    = 36
	hintBTIJC   = 38
)

// dmbISH is "dmb ish".
const dmbISH uint32 = 0xd5033bbf

// loadSignedRegOffset: LDRSB/LDRSH/LDRSW (register) into a 64-bit register:
// size 111 0 00 opc(10) 1 Rm 011 0 10 Rn Rt.
func loadSignedRegOffset(size uint32, rt, rn, rm Reg) uint32 {
	return size<<30 | 0x38a06800 | reg(rm)<<16 | reg(rn)<<5 | reg(rt)
}

// loadSignedUnsignedImm: LDRSB/LDRSH/LDRSW (unsigned offset) into a 64-bit
// register: size 111 0 01 opc(10) imm12 Rn Rt.
func loadSignedUnsignedImm(size uint32, rt, rn Reg, off int) (uint32, error) {
	if off < 0 || off&(1<<size-1) != 0 || off>>size > 0xfff {
		return 0, errNotEncodable{what: fmt.Sprintf("load offset %d", off)}
	}
	return size<<30 | 0x39800000 | uint32(off>>size)<<10 | reg(rn)<<5 | reg(rt), nil
}

// System registers for MRS, as op0:op1:CRn:CRm:op2 in bits 19..5.
const (
	sysregSPEL0    uint32 = 0x384100 // S3_0_C4_C1_0
	sysregTPIDREL1 uint32 = 0x38d080 // S3_0_C13_C0_4
	sysregTPIDREL2 uint32 = 0x3cd040 // S3_4_C13_C0_2
)

// mrs: 1101010100 1 1 o0 op1 CRn CRm op2 Rt.
func mrs(rt Reg, sysreg uint32) uint32 { return 0xd5000000 | sysreg | reg(rt) }

// loadAcqStoreRel: LDAR/STLR (no offset), size 001000 1 L 0 11111 1 11111
// Rn Rt: aarch64_insn_gen_load_acq_store_rel (6.15, "arm64: insn: Add
// load-acquire and store-release instructions"), whose load_acq value is
// 0x08DFFC00 and store_rel value 0x089FFC00 under mask 0x3FDFFC00, with
// the size in bits 31-30.
func loadAcqStoreRel(size uint32, load bool, rt, rn Reg) uint32 {
	ins := size<<30 | 0x089ffc00 | reg(rn)<<5 | reg(rt)
	if load {
		ins |= 1 << 22
	}
	return ins
}

// Speculation barriers of arch/arm64/include/asm/insn.h, as bpf_jit.h
// (6.17, "bpf, arm64, powerpc: Change nospec to include v1 barrier") uses
// them: A64_SB is aarch64_insn_get_sb_value() (0xD50330FF), A64_DSB_NSH is
// aarch64_insn_get_dsb_base_value() | 0x7 << 8 (0xD503309F | 0x700) and
// A64_ISB is aarch64_insn_get_isb_value(), the isb value 0xD50330DF: CRm 0,
// not the assembler's default "isb" (CRm 0xf).
const (
	a64SB     uint32 = 0xd50330ff
	a64DSBNSH uint32 = 0xd503309f | 0x7<<8
	a64ISB    uint32 = 0xd50330df
)

// pcRelAdr: ADR, 0 immlo(2) 10000 immhi(19) Rd: Rd = PC + imm21 (bytes).
func pcRelAdr(rd Reg, off int) (uint32, error) {
	imm, err := signedField(int64(off), 21, "adr offset")
	if err != nil {
		return 0, err
	}
	return 0x10000000 | (imm&3)<<29 | (imm>>2)<<5 | reg(rd), nil
}
