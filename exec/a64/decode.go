package a64

import (
	"fmt"
	"math/bits"
)

// opcode selects the execution routine of a decoded instruction.
type opcode uint8

const (
	opUndef opcode = iota

	// Data processing (immediate)
	opADDi
	opSUBi
	opADDSi
	opSUBSi
	opANDi
	opORRi
	opEORi
	opANDSi
	opMOVN
	opMOVZ
	opMOVK
	opADR // Rd = PC + imm21, resolved at decode
	opSBFM
	opBFM
	opUBFM

	// Data processing (register)
	opADDr // shifted register
	opSUBr
	opADDSr
	opSUBSr
	opADDx // extended register
	opSUBx
	opADDSx
	opSUBSx
	opANDr // shifted register; sx = 1 inverts the operand (BIC, ORN, EON, BICS)
	opORRr
	opEORr
	opANDSr
	opUDIV
	opSDIV
	opLSLV
	opLSRV
	opASRV
	opRORV
	opRBIT
	opREV16
	opREV32
	opREV
	opCLZ
	opCLS
	opMADD
	opMSUB
	opSMADDL
	opSMSUBL
	opUMADDL
	opUMSUBL
	opSMULH
	opUMULH
	opCSEL
	opCSINC
	opCSINV
	opCSNEG

	// Loads and stores
	opLDimm // base + imm (with pre/post-index writeback)
	opSTimm
	opLDreg // base + extended, shifted register
	opSTreg
	opLDlit
	opPRFM
	opLDP
	opSTP
	opLDXR
	opSTXR
	opLDAR
	opSTLR
	opCAS
	opLSE // LD<op>, ST<op>: shift is the operation
	opSWP

	// Branches
	opB
	opBL
	opBcond
	opCBZ
	opCBNZ
	opTBZ
	opTBNZ
	opBR
	opBLR
	opRET

	// System
	opNOP
	opPACIASP
	opAUTIASP
	opPACOther // PAC hints other than paciasp/autiasp
	opBTI      // amt: bit 0 c, bit 1 j
	opCLREX
	opMRS // shift: which system register
	opBRK
)

// Writeback modes of loads and stores.
const (
	wbNone = iota
	wbPre
	wbPost
)

// Sign extension of loads.
const (
	sxNone = iota
	sx64   // to 64 bits (ldrsb/ldrsh/ldrsw x, ldpsw)
	sx32   // to 32 bits, upper half zero (ldrsb/ldrsh w)
)

// System registers mrs can read.
const (
	sysSPEL0 = iota
	sysTPIDREL1
	sysTPIDREL2
	sysNZCV
)

// dec is one decoded instruction (32 bytes).
type dec struct {
	op    opcode
	valid bool
	sf    bool  // 64-bit operation
	rd    uint8 // destination / Rt; rZR or rSP for encoding 31
	rn    uint8
	rm    uint8 // also Rs
	ra    uint8 // also Rt2
	shift uint8 // shift type, extend option, condition, LSE operation, sysreg, S of bitfields
	amt   uint8 // shift amount, bit number, R of bitfields, BTI targets
	size  uint8 // access size in bytes
	sx    uint8 // sign extension of loads; inversion of logical ops
	wb    uint8 // writeback mode
	word  uint32
	imm   uint64 // immediate, offset, target, wmask
	imm2  uint64 // tmask, movk mask
}

func unimpl(w uint32, what string) (dec, error) {
	return dec{word: w}, fmt.Errorf("%w: %s", ErrUnimplemented, what)
}

func unpredictable(w uint32, what string) (dec, error) {
	return dec{word: w}, fmt.Errorf("%w: %s", ErrUnpredictable, what)
}

// spReg maps a register field where 31 is the stack pointer.
func spReg(n uint32) uint8 {
	if n&31 == 31 {
		return rSP
	}
	return uint8(n & 31)
}

// zrReg maps a register field where 31 is the zero register.
func zrReg(n uint32) uint8 { return uint8(n & 31) }

// sext sign-extends the n-bit field of w starting at bit lo.
func sext(w uint32, lo, n uint) int64 { return int64(w>>lo) << (64 - n) >> (64 - n) }

// decode decodes word w found at address pc. On error the dec has opUndef.
func decode(w uint32, pc uint64) (dec, error) {
	switch {
	case w&0x1f800000 == 0x11000000:
		return decodeAddSubImm(w)
	case w&0x1f800000 == 0x12000000:
		return decodeLogicalImm(w)
	case w&0x1f800000 == 0x12800000:
		return decodeMoveWide(w)
	case w&0x1f800000 == 0x13000000:
		return decodeBitfield(w)
	case w&0x9f000000 == 0x10000000: // ADR (the arm64 trampolines' "adr lr, #8")
		off := sext(w, 5, 19)<<2 | int64(w>>29&3)
		return dec{op: opADR, word: w, sf: true, rd: zrReg(w), imm: pc + uint64(off)}, nil
	case w&0x7c000000 == 0x14000000: // B, BL
		d := dec{op: opB, word: w, imm: pc + uint64(sext(w, 0, 26)<<2)}
		if w>>31 != 0 {
			d.op = opBL
		}
		return d, nil
	case w&0x7e000000 == 0x34000000: // CBZ, CBNZ
		d := dec{op: opCBZ, word: w, sf: w>>31 != 0, rd: zrReg(w), imm: pc + uint64(sext(w, 5, 19)<<2)}
		if w>>24&1 != 0 {
			d.op = opCBNZ
		}
		return d, nil
	case w&0x7e000000 == 0x36000000: // TBZ, TBNZ
		d := dec{op: opTBZ, word: w, rd: zrReg(w), amt: uint8(w>>31<<5 | w>>19&31), imm: pc + uint64(sext(w, 5, 14)<<2)}
		if w>>24&1 != 0 {
			d.op = opTBNZ
		}
		return d, nil
	case w&0xff000010 == 0x54000000: // B.cond
		return dec{op: opBcond, word: w, shift: uint8(w & 15), imm: pc + uint64(sext(w, 5, 19)<<2)}, nil
	case w&0xfffffc1f == 0xd61f0000:
		return dec{op: opBR, word: w, rn: zrReg(w >> 5)}, nil
	case w&0xfffffc1f == 0xd63f0000:
		return dec{op: opBLR, word: w, rn: zrReg(w >> 5)}, nil
	case w&0xfffffc1f == 0xd65f0000:
		return dec{op: opRET, word: w, rn: zrReg(w >> 5)}, nil
	case w&0xfffff01f == 0xd503201f:
		return decodeHint(w)
	case w&0xfffff01f == 0xd503301f:
		return decodeBarrier(w)
	case w&0xfff00000 == 0xd5300000:
		return decodeMRS(w)
	case w&0xffe0001f == 0xd4200000: // BRK
		return dec{op: opBRK, word: w, imm: uint64(w >> 5 & 0xffff)}, nil
	case w&0x1f000000 == 0x0a000000:
		return decodeLogicalReg(w)
	case w&0x1f200000 == 0x0b000000:
		return decodeAddSubShifted(w)
	case w&0x1f200000 == 0x0b200000:
		return decodeAddSubExtended(w)
	case w&0x1fe00000 == 0x1a800000:
		return decodeCondSelect(w)
	case w&0x5fe00000 == 0x1ac00000:
		return decodeDP2(w)
	case w&0x5fe00000 == 0x5ac00000:
		return decodeDP1(w)
	case w&0x1f000000 == 0x1b000000:
		return decodeDP3(w)
	case w&0x3f000000 == 0x08000000:
		return decodeExclusive(w)
	case w&0x3f000000 == 0x18000000:
		return decodeLiteral(w, pc)
	case w&0x3e000000 == 0x28000000:
		return decodePair(w)
	case w&0x3f000000 == 0x39000000:
		return decodeLoadStoreUImm(w)
	case w&0x3f200000 == 0x38000000:
		return decodeLoadStoreImm9(w)
	case w&0x3f200c00 == 0x38200800:
		return decodeLoadStoreReg(w)
	case w&0x3f200c00 == 0x38200000:
		return decodeAtomic(w)
	}
	return unimpl(w, "encoding not implemented")
}

func decodeAddSubImm(w uint32) (dec, error) {
	sub, s := w>>30&1 != 0, w>>29&1 != 0
	imm := uint64(w >> 10 & 0xfff)
	if w>>22&1 != 0 {
		imm <<= 12
	}
	d := dec{word: w, sf: w>>31 != 0, rn: spReg(w >> 5), rd: spReg(w), imm: imm}
	switch {
	case !sub && !s:
		d.op = opADDi
	case sub && !s:
		d.op = opSUBi
	case !sub:
		d.op, d.rd = opADDSi, zrReg(w)
	default:
		d.op, d.rd = opSUBSi, zrReg(w)
	}
	return d, nil
}

func ones(n uint32) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// decodeBitMasks is DecodeBitMasks of the Arm ARM (shared pseudocode).
func decodeBitMasks(immN, imms, immr uint32, immediate bool, datasize uint32) (wmask, tmask uint64, ok bool) {
	n := bits.Len32(immN<<6|^imms&0x3f) - 1
	if n < 1 || 1<<n > datasize {
		return 0, 0, false
	}
	levels := uint32(1)<<n - 1
	if immediate && imms&levels == levels {
		return 0, 0, false
	}
	s, r := imms&levels, immr&levels
	diff := (s - r) & 0x3f
	esize := uint32(1) << n
	dd := diff & levels
	welem, telem := ones(s+1), ones(dd+1)
	emask := ones(esize)
	if r != 0 {
		welem = (welem>>r | welem<<(esize-r)) & emask
	}
	wmask, tmask = welem, telem
	for e := esize; e < datasize; e *= 2 {
		wmask |= wmask << e
		tmask |= tmask << e
	}
	return wmask, tmask, true
}

func decodeLogicalImm(w uint32) (dec, error) {
	sf, n := w>>31, w>>22&1
	if sf == 0 && n == 1 {
		return unimpl(w, "logical immediate with N=1 in a 32-bit operation")
	}
	size := uint32(32)
	if sf == 1 {
		size = 64
	}
	wmask, _, ok := decodeBitMasks(n, w>>10&0x3f, w>>16&0x3f, true, size)
	if !ok {
		return unimpl(w, "reserved logical immediate")
	}
	d := dec{word: w, sf: sf == 1, rd: spReg(w), rn: zrReg(w >> 5), imm: wmask}
	switch w >> 29 & 3 {
	case 0:
		d.op = opANDi
	case 1:
		d.op = opORRi
	case 2:
		d.op = opEORi
	case 3:
		d.op, d.rd = opANDSi, zrReg(w)
	}
	return d, nil
}

func decodeMoveWide(w uint32) (dec, error) {
	sf, hw := w>>31, w>>21&3
	if sf == 0 && hw >= 2 {
		return unimpl(w, "move wide shift beyond 32 bits")
	}
	d := dec{word: w, sf: sf == 1, rd: zrReg(w), imm: uint64(w>>5&0xffff) << (hw * 16), imm2: 0xffff << (hw * 16)}
	switch w >> 29 & 3 {
	case 0:
		d.op = opMOVN
	case 2:
		d.op = opMOVZ
	case 3:
		d.op = opMOVK
	default:
		return unimpl(w, "unallocated move wide opc")
	}
	return d, nil
}

func decodeBitfield(w uint32) (dec, error) {
	sf, n, immr, imms := w>>31, w>>22&1, w>>16&0x3f, w>>10&0x3f
	if n != sf || (sf == 0 && (immr >= 32 || imms >= 32)) {
		return unimpl(w, "unallocated bitfield encoding")
	}
	size := uint32(32)
	if sf == 1 {
		size = 64
	}
	wmask, tmask, ok := decodeBitMasks(n, imms, immr, false, size)
	if !ok {
		return unimpl(w, "unallocated bitfield encoding")
	}
	d := dec{word: w, sf: sf == 1, rd: zrReg(w), rn: zrReg(w >> 5), amt: uint8(immr), shift: uint8(imms), imm: wmask, imm2: tmask}
	switch w >> 29 & 3 {
	case 0:
		d.op = opSBFM
	case 1:
		d.op = opBFM
	case 2:
		d.op, d.imm = opUBFM, wmask&tmask
	default:
		return unimpl(w, "unallocated bitfield opc")
	}
	return d, nil
}

func decodeLogicalReg(w uint32) (dec, error) {
	sf, amt := w>>31, w>>10&0x3f
	if sf == 0 && amt >= 32 {
		return unimpl(w, "32-bit shift amount beyond 31")
	}
	d := dec{word: w, sf: sf == 1, rd: zrReg(w), rn: zrReg(w >> 5), rm: zrReg(w >> 16),
		shift: uint8(w >> 22 & 3), amt: uint8(amt), sx: uint8(w >> 21 & 1)}
	d.op = [4]opcode{opANDr, opORRr, opEORr, opANDSr}[w>>29&3]
	return d, nil
}

func decodeAddSubShifted(w uint32) (dec, error) {
	sf, amt, sh := w>>31, w>>10&0x3f, w>>22&3
	if sh == 3 {
		return unimpl(w, "add/sub with ROR shift")
	}
	if sf == 0 && amt >= 32 {
		return unimpl(w, "32-bit shift amount beyond 31")
	}
	d := dec{word: w, sf: sf == 1, rd: zrReg(w), rn: zrReg(w >> 5), rm: zrReg(w >> 16), shift: uint8(sh), amt: uint8(amt)}
	d.op = [4]opcode{opADDr, opADDSr, opSUBr, opSUBSr}[w>>29&3]
	return d, nil
}

func decodeAddSubExtended(w uint32) (dec, error) {
	if w>>22&3 != 0 {
		return unimpl(w, "add/sub extended register with opt != 0")
	}
	amt := w >> 10 & 7
	if amt > 4 {
		return unimpl(w, "add/sub extended register shift beyond 4")
	}
	d := dec{word: w, sf: w>>31 != 0, rd: spReg(w), rn: spReg(w >> 5), rm: zrReg(w >> 16), shift: uint8(w >> 13 & 7), amt: uint8(amt)}
	switch w >> 29 & 3 {
	case 0:
		d.op = opADDx
	case 1:
		d.op, d.rd = opADDSx, zrReg(w)
	case 2:
		d.op = opSUBx
	case 3:
		d.op, d.rd = opSUBSx, zrReg(w)
	}
	return d, nil
}

func decodeCondSelect(w uint32) (dec, error) {
	if w>>29&1 != 0 || w>>11&1 != 0 {
		return unimpl(w, "unallocated conditional select")
	}
	d := dec{word: w, sf: w>>31 != 0, rd: zrReg(w), rn: zrReg(w >> 5), rm: zrReg(w >> 16), shift: uint8(w >> 12 & 15)}
	d.op = [4]opcode{opCSEL, opCSINC, opCSINV, opCSNEG}[w>>29&2|w>>10&1]
	return d, nil
}

func decodeDP2(w uint32) (dec, error) {
	if w>>29&1 != 0 {
		return unimpl(w, "data-processing (2 source) with S=1")
	}
	d := dec{word: w, sf: w>>31 != 0, rd: zrReg(w), rn: zrReg(w >> 5), rm: zrReg(w >> 16)}
	switch w >> 10 & 0x3f {
	case 2:
		d.op = opUDIV
	case 3:
		d.op = opSDIV
	case 8:
		d.op = opLSLV
	case 9:
		d.op = opLSRV
	case 10:
		d.op = opASRV
	case 11:
		d.op = opRORV
	default:
		return unimpl(w, "data-processing (2 source) opcode")
	}
	return d, nil
}

func decodeDP1(w uint32) (dec, error) {
	if w>>29&1 != 0 || w>>16&31 != 0 {
		return unimpl(w, "data-processing (1 source) with S=1 or opcode2 != 0 (PAC)")
	}
	sf := w>>31 != 0
	d := dec{word: w, sf: sf, rd: zrReg(w), rn: zrReg(w >> 5)}
	switch op := w >> 10 & 0x3f; {
	case op == 0:
		d.op = opRBIT
	case op == 1:
		d.op = opREV16
	case op == 2 && sf:
		d.op = opREV32
	case op == 2 || op == 3 && sf:
		d.op = opREV
	case op == 4:
		d.op = opCLZ
	case op == 5:
		d.op = opCLS
	default:
		return unimpl(w, "data-processing (1 source) opcode")
	}
	return d, nil
}

func decodeDP3(w uint32) (dec, error) {
	sf := w>>31 != 0
	if w>>29&3 != 0 {
		return unimpl(w, "data-processing (3 source) with op54 != 0")
	}
	d := dec{word: w, sf: sf, rd: zrReg(w), rn: zrReg(w >> 5), rm: zrReg(w >> 16), ra: zrReg(w >> 10)}
	o0 := w >> 15 & 1
	switch op31 := w >> 21 & 7; {
	case op31 == 0:
		d.op = [2]opcode{opMADD, opMSUB}[o0]
		return d, nil
	case !sf:
		return unimpl(w, "32-bit multiply-long or multiply-high")
	case op31 == 1:
		d.op = [2]opcode{opSMADDL, opSMSUBL}[o0]
	case op31 == 5:
		d.op = [2]opcode{opUMADDL, opUMSUBL}[o0]
	case (op31 == 2 || op31 == 6) && o0 == 0:
		if w>>10&31 != 31 {
			return unpredictable(w, "smulh/umulh with Ra != 31")
		}
		d.op = opSMULH
		if op31 == 6 {
			d.op = opUMULH
		}
	default:
		return unimpl(w, "data-processing (3 source) opcode")
	}
	return d, nil
}

func decodeHint(w uint32) (dec, error) {
	d := dec{op: opNOP, word: w}
	switch imm := w >> 5 & 0x7f; imm {
	case 25:
		d.op = opPACIASP
	case 29:
		d.op = opAUTIASP
	case 7, 8, 10, 12, 14, 24, 26, 27, 28, 30, 31:
		d.op = opPACOther
	case 32, 34, 36, 38:
		d.op, d.amt = opBTI, uint8(imm>>1&3)
	}
	// Every other hint (nop, yield, wfe, wfi, sev, esb, csdb, ... and the
	// unallocated ones) executes as a NOP on a single core.
	return d, nil
}

func decodeBarrier(w uint32) (dec, error) {
	crm, op2 := w>>8&15, w>>5&7
	switch {
	case op2 == 2:
		return dec{op: opCLREX, word: w}, nil
	case op2 == 4 || op2 == 5 || op2 == 6 || op2 == 7 && crm == 0: // dsb, dmb, isb, sb
		return dec{op: opNOP, word: w}, nil
	}
	return unimpl(w, "barrier")
}

func decodeMRS(w uint32) (dec, error) {
	d := dec{op: opMRS, word: w, rd: zrReg(w)}
	switch w &^ 31 {
	case 0xd5384100:
		d.shift = sysSPEL0
	case 0xd538d080:
		d.shift = sysTPIDREL1
	case 0xd53cd040:
		d.shift = sysTPIDREL2
	case 0xd53b4200:
		d.shift = sysNZCV
	default:
		return unimpl(w, "mrs of a system register not modelled")
	}
	return d, nil
}

// loadStoreOpc decodes the size/opc pair of the single-register loads and
// stores. prfm reports PRFM (size 3, opc 2).
func loadStoreOpc(d *dec, size, opc uint32) (prfm, ok bool) {
	d.size = uint8(1) << size
	switch opc {
	case 0:
		d.op = opSTimm
	case 1:
		d.op = opLDimm
	case 2:
		if size == 3 {
			return true, true
		}
		d.op, d.sx = opLDimm, sx64
	case 3:
		if size >= 2 {
			return false, false
		}
		d.op, d.sx = opLDimm, sx32
	}
	return false, true
}

func decodeLoadStoreUImm(w uint32) (dec, error) {
	size := w >> 30
	d := dec{word: w, rd: zrReg(w), rn: spReg(w >> 5), imm: uint64(w>>10&0xfff) << size}
	prfm, ok := loadStoreOpc(&d, size, w>>22&3)
	switch {
	case !ok:
		return unimpl(w, "unallocated load/store opc")
	case prfm:
		return dec{op: opPRFM, word: w}, nil
	}
	return d, nil
}

func decodeLoadStoreImm9(w uint32) (dec, error) {
	size := w >> 30
	d := dec{word: w, rd: zrReg(w), rn: spReg(w >> 5), imm: uint64(sext(w, 12, 9))}
	switch w >> 10 & 3 {
	case 0:
	case 1:
		d.wb = wbPost
	case 3:
		d.wb = wbPre
	default:
		return unimpl(w, "unprivileged load/store (ldtr/sttr)")
	}
	prfm, ok := loadStoreOpc(&d, size, w>>22&3)
	switch {
	case !ok || prfm && d.wb != wbNone:
		return unimpl(w, "unallocated load/store opc")
	case prfm:
		return dec{op: opPRFM, word: w}, nil
	case d.wb != wbNone && d.rn == d.rd:
		return unpredictable(w, "load/store with writeback to its transfer register")
	}
	return d, nil
}

func decodeLoadStoreReg(w uint32) (dec, error) {
	size, opt := w>>30, w>>13&7
	if opt&2 == 0 {
		return unimpl(w, "load/store register offset with a reserved extend")
	}
	d := dec{word: w, rd: zrReg(w), rn: spReg(w >> 5), rm: zrReg(w >> 16), shift: uint8(opt)}
	if w>>12&1 != 0 {
		d.amt = uint8(size)
	}
	prfm, ok := loadStoreOpc(&d, size, w>>22&3)
	switch {
	case !ok:
		return unimpl(w, "unallocated load/store opc")
	case prfm:
		return dec{op: opPRFM, word: w}, nil
	}
	d.op += opLDreg - opLDimm // opLDimm → opLDreg, opSTimm → opSTreg
	return d, nil
}

func decodeLiteral(w uint32, pc uint64) (dec, error) {
	d := dec{op: opLDlit, word: w, rd: zrReg(w), imm: pc + uint64(sext(w, 5, 19)<<2)}
	switch w >> 30 {
	case 0:
		d.size = 4
	case 1:
		d.size = 8
	case 2:
		d.size, d.sx = 4, sx64
	case 3:
		return dec{op: opPRFM, word: w}, nil
	}
	return d, nil
}

func decodePair(w uint32) (dec, error) {
	opc, load, mode := w>>30, w>>22&1 != 0, w>>23&3
	rt, rt2, rn := zrReg(w), zrReg(w>>10), spReg(w>>5)
	d := dec{word: w, rd: rt, ra: rt2, rn: rn}
	switch {
	case opc == 0:
		d.size = 4
	case opc == 2:
		d.size = 8
	case opc == 1 && load && mode != 0:
		d.size, d.sx = 4, sx64
	default:
		return unimpl(w, "load/store pair opc (stgp, 128-bit or unallocated)")
	}
	d.imm = uint64(sext(w, 15, 7) * int64(d.size))
	switch mode {
	case 1:
		d.wb = wbPost
	case 3:
		d.wb = wbPre
	}
	if load {
		d.op = opLDP
		if rt == rt2 {
			return unpredictable(w, "ldp into one register twice")
		}
	} else {
		d.op = opSTP
	}
	if d.wb != wbNone && (rt == rn || rt2 == rn) {
		return unpredictable(w, "load/store pair with writeback to a transfer register")
	}
	return d, nil
}

func decodeExclusive(w uint32) (dec, error) {
	sz, o2, l, o1 := w>>30, w>>23&1, w>>22&1, w>>21&1
	rs, rt2 := w>>16&31, w>>10&31
	d := dec{word: w, size: uint8(1) << sz, rd: zrReg(w), rn: spReg(w >> 5), rm: zrReg(rs)}
	switch {
	case o2 == 0 && o1 == 0: // LDXR, LDAXR, STXR, STLXR
		if rt2 != 31 || l == 1 && rs != 31 {
			return unpredictable(w, "exclusive load/store with Rt2 or Rs not 31")
		}
		if l == 1 {
			d.op = opLDXR
			return d, nil
		}
		if rs == w&31 || rs == w>>5&31 && rs != 31 {
			return unpredictable(w, "stxr status register equal to Rt or Rn")
		}
		d.op = opSTXR
		return d, nil
	case o2 == 1 && o1 == 0: // LDAR, LDLAR, STLR, STLLR
		if rt2 != 31 || rs != 31 {
			return unpredictable(w, "load-acquire/store-release with Rt2 or Rs not 31")
		}
		d.op = [2]opcode{opSTLR, opLDAR}[l]
		return d, nil
	case o2 == 1 && o1 == 1: // CAS
		if rt2 != 31 {
			return unpredictable(w, "cas with Rt2 not 31")
		}
		d.op = opCAS // acquire/release orderings are moot on one core
		return d, nil
	}
	return unimpl(w, "exclusive pair or casp")
}

func decodeAtomic(w uint32) (dec, error) {
	sz, a, r, o3, opc := w>>30, w>>23&1, w>>22&1, w>>15&1, w>>12&7
	rs := w >> 16 & 31
	d := dec{word: w, size: uint8(1) << sz, rd: zrReg(w), rn: spReg(w >> 5), rm: zrReg(rs), shift: uint8(opc)}
	switch {
	case o3 == 0:
		d.op = opLSE
	case opc == 0:
		d.op = opSWP
	case opc == 4 && a == 1 && r == 0 && rs == 31: // LDAPR
		d.op = opLDAR
	default:
		return unimpl(w, "atomic memory operation (ld64b/st64b/unallocated)")
	}
	return d, nil
}
