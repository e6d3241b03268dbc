package arm64

// The mnemonic layer: one function per A64_* macro of the kernel's
// arch/arm64/net/bpf_jit.h (v6.1), built on the encoding classes in
// encode.go. Each returns the instruction word and an error when the
// operands do not fit (where the kernel would produce AARCH64_BREAK_FAULT).

/* Rd = Rn + imm12 (optionally << 12) */
func a64ADDI(is64 bool, rd, rn Reg, imm uint32) (uint32, error) {
	return addSubImm(is64, false, false, rd, rn, imm)
}

/* Rd = Rn - imm12 */
func a64SUBI(is64 bool, rd, rn Reg, imm uint32) (uint32, error) {
	return addSubImm(is64, true, false, rd, rn, imm)
}

/* flags = Rn - imm12 */
func a64CMPI(is64 bool, rn Reg, imm uint32) (uint32, error) {
	return addSubImm(is64, true, true, ZR, rn, imm)
}

/* flags = Rn + imm12 */
func a64CMNI(is64 bool, rn Reg, imm uint32) (uint32, error) {
	return addSubImm(is64, false, true, ZR, rn, imm)
}

/* Rd = Rn (add Rd, Rn, #0: the kernel's A64_MOV, which also moves SP) */
func a64MOV(is64 bool, rd, rn Reg) uint32 {
	w, _ := addSubImm(is64, false, false, rd, rn, 0)
	return w
}

/* Rd = Rn + Rm */
func a64ADD(is64 bool, rd, rn, rm Reg) uint32 {
	return addSubShiftedReg(is64, false, false, rd, rn, rm)
}

/* Rd = Rn - Rm */
func a64SUB(is64 bool, rd, rn, rm Reg) uint32 { return addSubShiftedReg(is64, true, false, rd, rn, rm) }

/* flags = Rn - Rm */
func a64CMP(is64 bool, rn, rm Reg) uint32 { return addSubShiftedReg(is64, true, true, ZR, rn, rm) }

/* Rd = -Rm */
func a64NEG(is64 bool, rd, rm Reg) uint32 { return addSubShiftedReg(is64, true, false, rd, ZR, rm) }

/* Rd = Rn & Rm, |, ^ */
func a64AND(is64 bool, rd, rn, rm Reg) uint32 { return logicalShiftedReg(is64, logicAND, rd, rn, rm) }
func a64ORR(is64 bool, rd, rn, rm Reg) uint32 { return logicalShiftedReg(is64, logicORR, rd, rn, rm) }
func a64EOR(is64 bool, rd, rn, rm Reg) uint32 { return logicalShiftedReg(is64, logicEOR, rd, rn, rm) }

/* flags = Rn & Rm */
func a64TST(is64 bool, rn, rm Reg) uint32 { return logicalShiftedReg(is64, logicANDS, ZR, rn, rm) }

/* Rd = ~Rm */
func a64MVN(is64 bool, rd, rm Reg) uint32 { return logicalShiftedReg(is64, logicORN, rd, ZR, rm) }

// logicImmValue widens a BPF imm as A64_LOGIC_IMM does: sign-extended for
// 64-bit operations, zero-extended 32 bits otherwise.
func logicImmValue(is64 bool, imm int32) uint64 {
	if is64 {
		return uint64(int64(imm))
	}
	return uint64(uint32(imm))
}

/* Rd = Rn & imm, |, ^ (bitmask immediate) */
func a64ANDI(is64 bool, rd, rn Reg, imm int32) (uint32, error) {
	return logicalImm(is64, logicAND, rd, rn, logicImmValue(is64, imm))
}
func a64ORRI(is64 bool, rd, rn Reg, imm int32) (uint32, error) {
	return logicalImm(is64, logicORR, rd, rn, logicImmValue(is64, imm))
}
func a64EORI(is64 bool, rd, rn Reg, imm int32) (uint32, error) {
	return logicalImm(is64, logicEOR, rd, rn, logicImmValue(is64, imm))
}

/* flags = Rn & imm */
func a64TSTI(is64 bool, rn Reg, imm int32) (uint32, error) {
	return logicalImm(is64, logicANDS, ZR, rn, logicImmValue(is64, imm))
}

/* Rd = ~(imm16 << shift) */
func a64MOVN(is64 bool, rd Reg, imm16 uint16, shift int) (uint32, error) {
	return moveWide(is64, moveN, rd, imm16, shift)
}

/* Rd = imm16 << shift */
func a64MOVZ(is64 bool, rd Reg, imm16 uint16, shift int) (uint32, error) {
	return moveWide(is64, moveZ, rd, imm16, shift)
}

/* Rd<shift+15:shift> = imm16 */
func a64MOVK(is64 bool, rd Reg, imm16 uint16, shift int) (uint32, error) {
	return moveWide(is64, moveK, rd, imm16, shift)
}

/* Rd = Rn << shift (UBFM alias) */
func a64LSL(is64 bool, rd, rn Reg, shift int32) (uint32, error) {
	sz := int32(32)
	if is64 {
		sz = 64
	}
	if shift < 0 || shift >= sz {
		return 0, errNotEncodable{what: "shift out of range"}
	}
	return bitfield(is64, false, rd, rn, uint32((sz-shift)%sz), uint32(sz-1-shift))
}

/* Rd = Rn >> shift (logical) */
func a64LSR(is64 bool, rd, rn Reg, shift int32) (uint32, error) {
	top := uint32(31)
	if is64 {
		top = 63
	}
	return bitfield(is64, false, rd, rn, uint32(shift), top)
}

/* Rd = Rn >> shift (arithmetic) */
func a64ASR(is64 bool, rd, rn Reg, shift int32) (uint32, error) {
	top := uint32(31)
	if is64 {
		top = 63
	}
	return bitfield(is64, true, rd, rn, uint32(shift), top)
}

/* Rd = zero-extend Rn<15:0> */
func a64UXTH(is64 bool, rd, rn Reg) uint32 {
	w, _ := bitfield(is64, false, rd, rn, 0, 15)
	return w
}

/* Rd = zero-extend Rn<31:0> */
func a64UXTW(is64 bool, rd, rn Reg) uint32 {
	w, _ := bitfield(is64, false, rd, rn, 0, 31)
	return w
}

/* byte reversal */
func a64REV16(is64 bool, rd, rn Reg) uint32 { return dataProc1(is64, 0b000001, rd, rn) }
func a64REV32(is64 bool, rd, rn Reg) uint32 { return dataProc1(is64, 0b000010, rd, rn) }
func a64REV64(rd, rn Reg) uint32            { return dataProc1(true, 0b000011, rd, rn) }

/* Rd = Rn / Rm, shifts by register */
func a64UDIV(is64 bool, rd, rn, rm Reg) uint32 { return dataProc2(is64, 0b000010, rd, rn, rm) }
func a64LSLV(is64 bool, rd, rn, rm Reg) uint32 { return dataProc2(is64, 0b001000, rd, rn, rm) }
func a64LSRV(is64 bool, rd, rn, rm Reg) uint32 { return dataProc2(is64, 0b001001, rd, rn, rm) }
func a64ASRV(is64 bool, rd, rn, rm Reg) uint32 { return dataProc2(is64, 0b001010, rd, rn, rm) }

/* Rd = Rn * Rm; Rd = Ra - Rn * Rm */
func a64MUL(is64 bool, rd, rn, rm Reg) uint32      { return dataProc3(is64, false, rd, ZR, rn, rm) }
func a64MSUB(is64 bool, rd, ra, rn, rm Reg) uint32 { return dataProc3(is64, true, rd, ra, rn, rm) }

/* Rt = *(Xn + Xm), *(Xn + Xm) = Rt */
func a64LDR(size uint32, rt, rn, rm Reg) uint32 { return loadStoreRegOffset(size, true, rt, rn, rm) }
func a64STR(size uint32, rt, rn, rm Reg) uint32 { return loadStoreRegOffset(size, false, rt, rn, rm) }

/* Rt = *(Xn + imm), *(Xn + imm) = Rt (unsigned, scaled offset) */
func a64LDRI(size uint32, rt, rn Reg, off int) (uint32, error) {
	return loadStoreUnsignedImm(size, true, rt, rn, off)
}
func a64STRI(size uint32, rt, rn Reg, off int) (uint32, error) {
	return loadStoreUnsignedImm(size, false, rt, rn, off)
}

/* Xt = *(pc + off) */
func a64LDR64LIT(rt Reg, off int64) (uint32, error) { return loadLiteral(true, rt, off) }

/* stp Rt, Rt2, [Rn, #-16]! */
func a64PUSH(rt, rt2, rn Reg) uint32 {
	w, _ := loadStorePair64(false, true, rt, rt2, rn, -16)
	return w
}

/* ldp Rt, Rt2, [Rn], #16 */
func a64POP(rt, rt2, rn Reg) uint32 {
	w, _ := loadStorePair64(true, false, rt, rt2, rn, 16)
	return w
}

/* exclusive monitors */
func a64LDXR(is64 bool, rt, rn Reg) uint32 { return loadStoreExclusive(is64, true, false, rt, rn, ZR) }
func a64STXR(is64 bool, rt, rn, rs Reg) uint32 {
	return loadStoreExclusive(is64, false, false, rt, rn, rs)
}
func a64STLXR(is64 bool, rt, rn, rs Reg) uint32 {
	return loadStoreExclusive(is64, false, true, rt, rn, rs)
}

/* LSE: st<op> Rs, [Rn] (no result) */
func a64STOP(is64 bool, op atomicOp, rn, rs Reg) uint32 {
	return atomicMemOp(is64, op, false, false, rs, ZR, rn)
}

/* LSE: ld<op>al Rs, Rt, [Rn] */
func a64LDOPAL(is64 bool, op atomicOp, rt, rn, rs Reg) uint32 {
	return atomicMemOp(is64, op, true, true, rs, rt, rn)
}

/* LSE: casal Rs, Rt, [Rn] */
func a64CASAL(is64 bool, rt, rn, rs Reg) uint32 { return casal(is64, rs, rt, rn) }

/* branches */
func a64B(words int) (uint32, error)             { return branchImm(false, words) }
func a64BCond(c Cond, words int) (uint32, error) { return condBranch(c, words) }
func a64CBZ(is64 bool, rt Reg, words int) (uint32, error) {
	return compBranch(is64, false, rt, words)
}
func a64CBNZ(is64 bool, rt Reg, words int) (uint32, error) {
	return compBranch(is64, true, rt, words)
}
func a64BR(rn Reg) uint32  { return branchReg(0b0000, rn) }
func a64BLR(rn Reg) uint32 { return branchReg(0b0001, rn) }
func a64RET(rn Reg) uint32 { return branchReg(0b0010, rn) }

/* hints */
var (
	a64NOP     = hint(hintNOP)
	a64PACIASP = hint(hintPACIASP)
	a64AUTIASP = hint(hintAUTIASP)
	a64BTIC    = hint(hintBTIC)
	a64BTIJ    = hint(hintBTIJ)
	a64BTIJC   = hint(hintBTIJC)
)

/* Xt = sign-extend *(Xn + Xm) */
func a64LDRS(size uint32, rt, rn, rm Reg) uint32 { return loadSignedRegOffset(size, rt, rn, rm) }

/* Xt = sign-extend *(Xn + imm) */
func a64LDRSI(size uint32, rt, rn Reg, off int) (uint32, error) {
	return loadSignedUnsignedImm(size, rt, rn, off)
}

/* Rd = sign-extend Rn<7:0>, <15:0>, <31:0> (SBFM aliases) */
func a64SXTB(is64 bool, rd, rn Reg) uint32 { w, _ := bitfield(is64, true, rd, rn, 0, 7); return w }
func a64SXTH(is64 bool, rd, rn Reg) uint32 { w, _ := bitfield(is64, true, rd, rn, 0, 15); return w }
func a64SXTW(is64 bool, rd, rn Reg) uint32 { w, _ := bitfield(is64, true, rd, rn, 0, 31); return w }

/* Rd = Rn / Rm (signed) */
func a64SDIV(is64 bool, rd, rn, rm Reg) uint32 { return dataProc2(is64, 0b000011, rd, rn, rm) }

/* Xt = system register */
func a64MRS(rt Reg, sysreg uint32) uint32 { return mrs(rt, sysreg) }

/* bl with a word offset */
func a64BL(words int) (uint32, error) { return branchImm(true, words) }

/* Load-acquire & store-release (6.15 bpf_jit.h): A64_LDAR{B,H,32,64},
 * A64_STLR{B,H,32,64}; size is size8..size64. */
func a64LDAR(size uint32, rt, rn Reg) uint32 { return loadAcqStoreRel(size, true, rt, rn) }
func a64STLR(size uint32, rt, rn Reg) uint32 { return loadAcqStoreRel(size, false, rt, rn) }

/* Rd = PC + off (A64_ADR, 6.0+ bpf_jit.h) */
func a64ADR(rd Reg, off int) (uint32, error) { return pcRelAdr(rd, off) }
