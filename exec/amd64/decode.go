package amd64

import (
	"errors"
	"fmt"
)

const maxInsnLen = 15

// noReg marks an absent base or index register.
const noReg = 0xff

// Register operand ids: 0..15 are the GPRs; hiByte|n (n = 0..3) is
// ah, ch, dh, bh (8-bit operands without a REX prefix).
const hiByte = 0x10

// Segment overrides that matter in 64-bit mode.
const (
	segNone = iota
	segFS
	segGS
)

// Operation classes of a decoded instruction.
const (
	opInvalid uint8 = iota
	opNop
	opAluRmReg // sub = ALU op (add or adc sbb and sub xor cmp); rm op= reg
	opAluRegRm // reg op= rm
	opAluRmImm // rm op= imm
	opTestRmReg
	opTestRmImm
	opMovRmReg
	opMovRegRm
	opMovRmImm // also mov r, imm and movabs
	opMovzx    // reg = zx(rm of size2)
	opMovsx    // reg = sx(rm of size2)
	opLea
	opXchg
	opXadd
	opCmpxchg
	opShift  // sub = /r: rol ror rcl rcr shl shr shl sar; count imm or cl
	opShiftX // shlx/shrx/sarx: reg = rm shift vreg; sub = VEX.pp
	opNot
	opNeg
	opMul
	opImul1
	opDiv
	opIdiv
	opImul2 // reg *= rm
	opImul3 // reg = rm * imm
	opInc
	opDec
	opBswap // rm is the register
	opPush  // push rm (register or memory)
	opPushImm
	opPop // pop rm
	opCall
	opCallInd
	opJmp
	opJmpInd
	opJcc
	opRet // imm = bytes to release
	opLeave
	opCwd // cwd/cdq/cqo
	opCbw // cbw/cwde/cdqe
	opCmov
	opSetcc
	opInt3
	opUd2
	opHlt
)

// inst is one decoded instruction.
type inst struct {
	op     uint8
	sub    uint8 // ALU op, condition code, shift op, VEX.pp
	size   uint8 // operand size in bytes
	size2  uint8 // source size of movzx/movsx
	len    uint8
	reg    uint8 // register operand id
	rm     uint8 // register id when !mem
	mem    bool
	base   uint8
	index  uint8
	scale  uint8 // log2
	seg    uint8
	addr32 bool
	lock   bool
	cl     bool  // shift count in cl
	endbr  bool  // endbr64
	fast   bool  // register-only 32/64-bit ALU op or shift: execRegALU
	vreg   uint8 // VEX.vvvv register
	disp   int64 // displacement; for rip-relative it includes the next RIP
	imm    uint64
	raw    [maxInsnLen]byte
}

var errTruncated = errors.New("truncated instruction")

type decoder struct {
	b   []byte
	i   int
	in  *inst
	rex uint8
	err error
}

func (d *decoder) next() byte {
	if d.i >= len(d.b) || d.i >= maxInsnLen {
		if d.err == nil {
			d.err = errTruncated
		}
		d.i++
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

func (d *decoder) imm8() uint64  { return uint64(int64(int8(d.next()))) }
func (d *decoder) uimm8() uint64 { return uint64(d.next()) }
func (d *decoder) imm16() uint64 {
	lo := uint16(d.next())
	return uint64(lo | uint16(d.next())<<8)
}
func (d *decoder) imm32() uint64 {
	var v uint32
	for k := 0; k < 4; k++ {
		v |= uint32(d.next()) << (8 * k)
	}
	return uint64(int64(int32(v)))
}
func (d *decoder) imm64() uint64 {
	var v uint64
	for k := 0; k < 8; k++ {
		v |= uint64(d.next()) << (8 * k)
	}
	return v
}

// immz reads an immediate of the operand size (imm16 for 16-bit, else
// imm32 sign-extended).
func (d *decoder) immz(size uint8) uint64 {
	if size == 2 {
		return d.imm16()
	}
	return d.imm32()
}

func (d *decoder) immSize(size uint8) uint64 {
	if size == 1 {
		return d.imm8()
	}
	return d.immz(size)
}

// byteReg maps an 8-bit register number to its operand id: without a REX
// prefix, 4..7 are ah, ch, dh, bh.
func (d *decoder) byteReg(r uint8) uint8 {
	if d.rex == 0 && r >= 4 && r < 8 {
		return hiByte | (r - 4)
	}
	return r
}

// modrm decodes ModRM, SIB and displacement; it returns the raw reg field.
func (d *decoder) modrm(rexR, rexX, rexB uint8) uint8 {
	in := d.in
	m := d.next()
	mod, regf, rmf := m>>6, (m>>3)&7, m&7
	in.reg = regf | rexR
	if mod == 3 {
		in.rm = rmf | rexB
		return regf
	}
	in.mem = true
	in.base, in.index = noReg, noReg
	switch {
	case rmf == 4:
		sib := d.next()
		idx := (sib>>3)&7 | rexX
		if idx != 4 {
			in.index = idx
			in.scale = sib >> 6
		}
		if sib&7 == 5 && mod == 0 {
			in.disp = d.imm32AsInt()
		} else {
			in.base = sib&7 | rexB
		}
	case rmf == 5 && mod == 0:
		in.disp = d.imm32AsInt()
		in.base = ripBase
	default:
		in.base = rmf | rexB
	}
	switch mod {
	case 1:
		in.disp += int64(int8(d.next()))
	case 2:
		in.disp += d.imm32AsInt()
	}
	return regf
}

// ripBase marks a rip-relative operand until the length is known.
const ripBase = 0xfe

func (d *decoder) imm32AsInt() int64 { return int64(d.imm32()) }

// lockable lists the operations a lock prefix may precede (with a memory
// destination).
func lockable(in *inst) bool {
	if !in.mem {
		return false
	}
	switch in.op {
	case opAluRmReg, opAluRmImm:
		return in.sub != 7 // not cmp
	case opXchg, opXadd, opCmpxchg, opInc, opDec, opNot, opNeg:
		return true
	}
	return false
}

func unimpl(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnimplemented}, a...)...)
}

func undef(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOpcode}, a...)...)
}

// decode decodes the instruction at b (address pc) into in.
func decode(b []byte, pc uint64, in *inst) error {
	*in = inst{base: noReg, index: noReg}
	d := decoder{b: b, in: in}
	err := d.decode()
	if d.err != nil {
		err = d.err
	}
	n := d.i
	if n > maxInsnLen {
		n = maxInsnLen
	}
	if n > len(b) {
		n = len(b)
	}
	in.len = uint8(n)
	copy(in.raw[:], b[:n])
	if err != nil {
		return err
	}
	if in.base == ripBase {
		in.base = noReg
		in.disp += int64(pc + uint64(in.len))
	}
	switch in.op {
	case opCall, opJmp, opJcc:
		in.imm += pc + uint64(in.len)
	}
	if in.lock && !lockable(in) {
		return undef("lock prefix not allowed here")
	}
	switch in.op {
	case opAluRmReg, opAluRmImm, opAluRegRm, opShift:
		in.fast = !in.mem && in.size >= 4
	}
	return nil
}

func (d *decoder) decode() error {
	in := d.in
	var opsize16, rep, repne bool
prefixes:
	for {
		c := d.next()
		if d.err != nil {
			return d.err
		}
		switch c {
		case 0x66:
			opsize16 = true
		case 0x67:
			in.addr32 = true
		case 0xf0:
			in.lock = true
		case 0xf2:
			repne, rep = true, false
		case 0xf3:
			rep, repne = true, false
		case 0x26, 0x2e, 0x36, 0x3e:
			in.seg = segNone
		case 0x64:
			in.seg = segFS
		case 0x65:
			in.seg = segGS
		default:
			if c&0xf0 == 0x40 {
				d.rex = c
				continue
			}
			d.i--
			break prefixes
		}
		d.rex = 0 // a legacy prefix after REX cancels it
	}
	rexW := d.rex & 8
	rexR := (d.rex >> 2 & 1) << 3
	rexX := (d.rex >> 1 & 1) << 3
	rexB := (d.rex & 1) << 3
	osz := uint8(4)
	if opsize16 {
		osz = 2
	}
	if rexW != 0 {
		osz = 8
	}
	// Default 64-bit operand size (push, pop, near branches, leave).
	osz64 := uint8(8)
	if opsize16 && rexW == 0 {
		osz64 = 2
	}

	op := d.next()
	if d.err != nil {
		return d.err
	}
	switch {
	case op < 0x40 && op&7 < 6:
		in.sub = op >> 3
		switch op & 7 {
		case 0, 1, 2, 3:
			in.size = osz
			if op&1 == 0 {
				in.size = 1
			}
			d.modrm(rexR, rexX, rexB)
			if in.size == 1 {
				in.reg = d.byteReg(in.reg)
				if !in.mem {
					in.rm = d.byteReg(in.rm)
				}
			}
			in.op = opAluRmReg
			if op&2 != 0 {
				in.op = opAluRegRm
			}
		case 4:
			in.op, in.size, in.rm, in.imm = opAluRmImm, 1, RAX, d.imm8()
		case 5:
			in.op, in.size, in.rm = opAluRmImm, osz, RAX
			in.imm = d.immz(osz)
		}
		return nil
	case op >= 0x50 && op <= 0x57:
		in.op, in.size, in.rm = opPush, osz64, op&7|rexB
		return nil
	case op >= 0x58 && op <= 0x5f:
		in.op, in.size, in.rm = opPop, osz64, op&7|rexB
		return nil
	case op == 0x63:
		d.modrm(rexR, rexX, rexB)
		if rexW != 0 {
			in.op, in.size, in.size2 = opMovsx, 8, 4
		} else {
			in.op, in.size = opMovRegRm, osz
		}
		return nil
	case op == 0x68:
		in.op, in.size, in.imm = opPushImm, osz64, d.immz(osz64)
		return nil
	case op == 0x6a:
		in.op, in.size, in.imm = opPushImm, osz64, d.imm8()
		return nil
	case op == 0x69 || op == 0x6b:
		d.modrm(rexR, rexX, rexB)
		in.op, in.size = opImul3, osz
		if op == 0x6b {
			in.imm = d.imm8()
		} else {
			in.imm = d.immz(osz)
		}
		return nil
	case op >= 0x70 && op <= 0x7f:
		if opsize16 {
			return unimpl("16-bit operand size on a branch")
		}
		in.op, in.sub, in.imm = opJcc, op&15, d.imm8()
		return nil
	case op >= 0x80 && op <= 0x83 && op != 0x82:
		in.size = osz
		if op == 0x80 {
			in.size = 1
		}
		in.sub = d.modrm(rexR, rexX, rexB)
		if in.size == 1 && !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		in.op = opAluRmImm
		if op == 0x81 {
			in.imm = d.immz(osz)
		} else {
			in.imm = d.imm8()
		}
		return nil
	case op >= 0x84 && op <= 0x8b:
		in.size = osz
		if op&1 == 0 {
			in.size = 1
		}
		d.modrm(rexR, rexX, rexB)
		if in.size == 1 {
			in.reg = d.byteReg(in.reg)
			if !in.mem {
				in.rm = d.byteReg(in.rm)
			}
		}
		switch op {
		case 0x84, 0x85:
			in.op = opTestRmReg
		case 0x86, 0x87:
			in.op = opXchg
		case 0x88, 0x89:
			in.op = opMovRmReg
		default:
			in.op = opMovRegRm
		}
		return nil
	case op == 0x8d:
		d.modrm(rexR, rexX, rexB)
		in.op, in.size = opLea, osz
		if !in.mem {
			return undef("lea with a register operand")
		}
		return nil
	case op == 0x8f:
		if d.modrm(rexR, rexX, rexB) != 0 {
			return undef("8f /%d", in.reg&7)
		}
		in.op, in.size = opPop, osz64
		return nil
	case op == 0x90 && rexB == 0:
		in.op = opNop // nop, pause (f3 90)
		return nil
	case op >= 0x90 && op <= 0x97:
		in.op, in.size, in.rm, in.reg = opXchg, osz, op&7|rexB, RAX
		return nil
	case op == 0x98:
		in.op, in.size = opCbw, osz
		return nil
	case op == 0x99:
		in.op, in.size = opCwd, osz
		return nil
	case op == 0xa8:
		in.op, in.size, in.rm, in.imm = opTestRmImm, 1, RAX, d.imm8()
		return nil
	case op == 0xa9:
		in.op, in.size, in.rm = opTestRmImm, osz, RAX
		in.imm = d.immz(osz)
		return nil
	case op >= 0xb0 && op <= 0xb7:
		in.op, in.size, in.rm, in.imm = opMovRmImm, 1, d.byteReg(op&7|rexB), d.uimm8()
		return nil
	case op >= 0xb8 && op <= 0xbf:
		in.op, in.size, in.rm = opMovRmImm, osz, op&7|rexB
		switch osz {
		case 8:
			in.imm = d.imm64()
		case 2:
			in.imm = d.imm16()
		default:
			in.imm = d.imm32() & 0xffffffff
		}
		return nil
	case op == 0xc0 || op == 0xc1 || (op >= 0xd0 && op <= 0xd3):
		in.size = osz
		if op&1 == 0 {
			in.size = 1
		}
		in.op = opShift
		in.sub = d.modrm(rexR, rexX, rexB)
		if in.size == 1 && !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		switch op {
		case 0xc0, 0xc1:
			in.imm = d.uimm8()
		case 0xd0, 0xd1:
			in.imm = 1
		default:
			in.cl = true
		}
		return nil
	case op == 0xc2:
		in.op, in.imm = opRet, d.imm16()
		if opsize16 {
			return unimpl("16-bit ret")
		}
		return nil
	case op == 0xc3:
		in.op = opRet
		if opsize16 {
			return unimpl("16-bit ret")
		}
		return nil
	case op == 0xc6 || op == 0xc7:
		in.size = osz
		if op == 0xc6 {
			in.size = 1
		}
		if r := d.modrm(rexR, rexX, rexB); r != 0 {
			return unimpl("%02x /%d", op, r)
		}
		if in.size == 1 && !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		in.op, in.imm = opMovRmImm, d.immSize(in.size)
		return nil
	case op == 0xc9:
		if opsize16 {
			return unimpl("16-bit leave")
		}
		in.op = opLeave
		return nil
	case op == 0xcc:
		in.op = opInt3
		return nil
	case op == 0xe8 || op == 0xe9:
		if opsize16 {
			return unimpl("16-bit operand size on a branch")
		}
		in.op, in.imm = opCall, d.imm32()
		if op == 0xe9 {
			in.op = opJmp
		}
		return nil
	case op == 0xeb:
		if opsize16 {
			return unimpl("16-bit operand size on a branch")
		}
		in.op, in.imm = opJmp, d.imm8()
		return nil
	case op == 0xf4:
		in.op = opHlt
		return nil
	case op == 0xf6 || op == 0xf7:
		in.size = osz
		if op == 0xf6 {
			in.size = 1
		}
		r := d.modrm(rexR, rexX, rexB)
		if in.size == 1 && !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		switch r {
		case 0, 1:
			in.op, in.imm = opTestRmImm, d.immSize(in.size)
		case 2:
			in.op = opNot
		case 3:
			in.op = opNeg
		case 4:
			in.op = opMul
		case 5:
			in.op = opImul1
		case 6:
			in.op = opDiv
		case 7:
			in.op = opIdiv
		}
		return nil
	case op == 0xfe:
		in.size = 1
		r := d.modrm(rexR, rexX, rexB)
		if !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		switch r {
		case 0:
			in.op = opInc
		case 1:
			in.op = opDec
		default:
			return undef("fe /%d", r)
		}
		return nil
	case op == 0xff:
		r := d.modrm(rexR, rexX, rexB)
		switch r {
		case 0, 1:
			in.op, in.size = opInc, osz
			if r == 1 {
				in.op = opDec
			}
		case 2, 4:
			if opsize16 {
				return unimpl("16-bit operand size on a branch")
			}
			in.op, in.size = opCallInd, 8
			if r == 4 {
				in.op = opJmpInd
			}
		case 6:
			in.op, in.size = opPush, osz64
		case 3, 5:
			return unimpl("far call/jmp")
		default:
			return undef("ff /7")
		}
		return nil
	case op == 0x0f:
		return d.decode0f(osz, opsize16, rep, repne, rexR, rexX, rexB)
	case op == 0xc4:
		if d.rex != 0 || opsize16 || rep || repne || in.lock {
			return undef("VEX after a REX, 66, f2, f3 or lock prefix")
		}
		return d.decodeVEX()
	}
	return unimpl("opcode %02x", op)
}

func (d *decoder) decode0f(osz uint8, opsize16, rep, repne bool, rexR, rexX, rexB uint8) error {
	in := d.in
	op := d.next()
	if d.err != nil {
		return d.err
	}
	switch {
	case op == 0x0b:
		in.op, in.sub = opUd2, 2
		return nil
	case op == 0xb9 || op == 0xff: // ud1, ud0 (with a ModRM)
		d.modrm(rexR, rexX, rexB)
		in.mem = false
		in.op, in.sub = opUd2, 1
		if op == 0xff {
			in.sub = 0
		}
		return nil
	case op == 0x0d || (op >= 0x18 && op <= 0x1f):
		// prefetch / hint nops with a ModRM; f3 0f 1e fa is endbr64.
		start := d.i
		d.modrm(rexR, rexX, rexB)
		in.mem = false
		in.op = opNop
		if d.err == nil && op == 0x1e && rep && d.b[start] == 0xfa && d.rex == 0 {
			in.endbr = true
		}
		return nil
	case op >= 0x40 && op <= 0x4f:
		d.modrm(rexR, rexX, rexB)
		in.op, in.sub, in.size = opCmov, op&15, osz
		return nil
	case op >= 0x80 && op <= 0x8f:
		if opsize16 {
			return unimpl("16-bit operand size on a branch")
		}
		in.op, in.sub, in.imm = opJcc, op&15, d.imm32()
		return nil
	case op >= 0x90 && op <= 0x9f:
		d.modrm(rexR, rexX, rexB)
		in.op, in.sub, in.size = opSetcc, op&15, 1
		if !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		return nil
	case op == 0xae:
		m := d.next()
		if d.err != nil {
			return d.err
		}
		if m >= 0xe8 { // lfence, mfence, sfence
			in.op = opNop
			return nil
		}
		return unimpl("0f ae %02x", m)
	case op == 0xaf:
		d.modrm(rexR, rexX, rexB)
		in.op, in.size = opImul2, osz
		return nil
	case op == 0xb0 || op == 0xb1 || op == 0xc0 || op == 0xc1:
		in.size = osz
		if op&1 == 0 {
			in.size = 1
		}
		d.modrm(rexR, rexX, rexB)
		if in.size == 1 {
			in.reg = d.byteReg(in.reg)
			if !in.mem {
				in.rm = d.byteReg(in.rm)
			}
		}
		in.op = opCmpxchg
		if op >= 0xc0 {
			in.op = opXadd
		}
		return nil
	case op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf:
		d.modrm(rexR, rexX, rexB)
		in.op, in.size, in.size2 = opMovzx, osz, 1
		if op >= 0xbe {
			in.op = opMovsx
		}
		if op&1 == 1 {
			in.size2 = 2
		} else if !in.mem {
			in.rm = d.byteReg(in.rm)
		}
		return nil
	case op >= 0xc8 && op <= 0xcf:
		in.op, in.size, in.rm = opBswap, osz, op&7|rexB
		return nil
	}
	return unimpl("opcode 0f %02x", op)
}

// decodeVEX decodes the 3-byte VEX forms the JIT emits: BMI2 shlx, sarx,
// shrx (VEX.0F38 f7 with pp = 66, f3, f2).
func (d *decoder) decodeVEX() error {
	in := d.in
	b1 := d.next()
	b2 := d.next()
	op := d.next()
	if d.err != nil {
		return d.err
	}
	rexR := (^b1 >> 7 & 1) << 3
	rexX := (^b1 >> 6 & 1) << 3
	rexB := (^b1 >> 5 & 1) << 3
	mmmmm := b1 & 0x1f
	w := b2 >> 7
	vvvv := ^b2 >> 3 & 15
	l := b2 >> 2 & 1
	pp := b2 & 3
	if mmmmm == 2 && op == 0xf7 && pp != 0 {
		d.modrm(rexR, rexX, rexB)
		if l != 0 {
			return undef("VEX.L=1 on a BMI2 shift")
		}
		in.op, in.sub, in.vreg, in.size = opShiftX, pp, vvvv, 4
		if w != 0 {
			in.size = 8
		}
		return nil
	}
	return unimpl("VEX map %d opcode %02x pp %d", mmmmm, op, pp)
}
