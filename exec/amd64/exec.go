package amd64

import (
	"fmt"
	"math/bits"

	"github.com/jitscope/jitscope/exec/mem"
)

var sizeMask = [9]uint64{1: 0xff, 2: 0xffff, 4: 0xffffffff, 8: ^uint64(0)}
var signBit = [9]uint64{1: 0x80, 2: 0x8000, 4: 0x80000000, 8: 1 << 63}

// parityTab[b] is PF when b has an even number of set bits.
var parityTab = func() (t [256]uint64) {
	for i := range t {
		if bits.OnesCount8(uint8(i))%2 == 0 {
			t[i] = PF
		}
	}
	return
}()

func sext(v uint64, size uint8) int64 {
	switch size {
	case 1:
		return int64(int8(v))
	case 2:
		return int64(int16(v))
	case 4:
		return int64(int32(v))
	}
	return int64(v)
}

// szp returns SF, ZF and PF for result r.
func szp(r uint64, size uint8) uint64 {
	f := parityTab[uint8(r)]
	if r&sizeMask[size] == 0 {
		f |= ZF
	}
	if r&signBit[size] != 0 {
		f |= SF
	}
	return f
}

type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// alu computes a op b (op: add or adc sbb and sub xor cmp) and the new
// flags word.
func alu(op uint8, a, b uint64, size uint8, flags uint64) (uint64, uint64) {
	switch size {
	case 8:
		return aluT(op, a, b, flags)
	case 4:
		r, f := aluT(op, uint32(a), uint32(b), flags)
		return uint64(r), f
	case 2:
		r, f := aluT(op, uint16(a), uint16(b), flags)
		return uint64(r), f
	}
	r, f := aluT(op, uint8(a), uint8(b), flags)
	return uint64(r), f
}

// aluT is alu at one operand width (instantiated per width, so the masks
// and sign bits are constants).
func aluT[T unsigned](op uint8, a, b T, flags uint64) (T, uint64) {
	sign := ^(^T(0) >> 1)
	var r T
	var f uint64
	switch op {
	case 0, 2: // add, adc
		r = a + b
		cf := r < a
		if op == 2 && flags&CF != 0 {
			r++
			cf = cf || r == 0
		}
		if cf {
			f = CF
		}
		if (a^r)&(b^r)&sign != 0 {
			f |= OF
		}
		f |= uint64(a^b^r) & AF
	case 1:
		r = a | b
	case 4:
		r = a & b
	case 6:
		r = a ^ b
	default: // 3 sbb, 5 sub, 7 cmp
		r = a - b
		cf := a < b
		if op == 3 && flags&CF != 0 {
			cf = cf || r == 0
			r--
		}
		if cf {
			f = CF
		}
		if (a^b)&(a^r)&sign != 0 {
			f |= OF
		}
		f |= uint64(a^b^r) & AF
	}
	f |= parityTab[uint8(r)]
	if r == 0 {
		f |= ZF
	}
	if r&sign != 0 {
		f |= SF
	}
	return r, flags&^ArithFlags | f
}

// shift computes a group-2 shift or rotate. ok is false when the masked
// count is zero (flags and destination unchanged).
func shift(op uint8, v, count uint64, size uint8, flags uint64) (r, f uint64, ok bool) {
	cnt := count & 0x1f
	if size == 8 {
		cnt = count & 0x3f
	}
	m := sizeMask[size]
	v &= m
	if cnt == 0 {
		return v, flags, false
	}
	width := uint64(size) * 8
	msb := signBit[size]
	var cf uint64
	switch op {
	case 4, 6: // shl, sal
		if cnt <= width {
			cf = v >> (width - cnt) & 1
		}
		r = v << cnt & m
		f = szp(r, size) | cf
		if cnt == 1 && (r&msb != 0) != (cf != 0) {
			f |= OF
		}
		return r, flags&^ArithFlags | f, true
	case 5: // shr
		cf = v >> (cnt - 1) & 1
		r = v >> cnt
		f = szp(r, size) | cf
		if cnt == 1 && v&msb != 0 {
			f |= OF
		}
		return r, flags&^ArithFlags | f, true
	case 7: // sar
		s := sext(v, size)
		cf = uint64(s>>(cnt-1)) & 1
		r = uint64(s>>cnt) & m
		return r, flags&^ArithFlags | szp(r, size) | cf, true
	case 0, 1: // rol, ror
		t := cnt % width
		if op == 0 {
			r = (v<<t | v>>(width-t)) & m
			cf = r & 1
			f = flags&^(CF|OF) | cf
			if cnt == 1 && (r&msb != 0) != (cf != 0) {
				f |= OF
			}
		} else {
			r = (v>>t | v<<(width-t)) & m
			if r&msb != 0 {
				cf = 1
			}
			f = flags&^(CF|OF) | cf
			if cnt == 1 && (r&msb != 0) != (r&(msb>>1) != 0) {
				f |= OF
			}
		}
		if t == 0 {
			r = v
		}
		return r, f, true
	default: // rcl, rcr
		t := cnt
		if size < 4 {
			t = cnt % (width + 1)
		}
		cf = flags & CF
		r = v
		of := false
		if op == 2 {
			for ; t > 0; t-- {
				out := r >> (width - 1) & 1
				r = (r<<1 | cf) & m
				cf = out
			}
			of = (r&msb != 0) != (cf != 0)
		} else {
			of = (v&msb != 0) != (cf != 0)
			for ; t > 0; t-- {
				out := r & 1
				r = r>>1 | cf<<(width-1)
				cf = out
			}
		}
		f = flags&^(CF|OF) | cf
		if cnt == 1 && of {
			f |= OF
		}
		return r, f, true
	}
}

func cond(cc uint8, f uint64) bool {
	var r bool
	switch cc >> 1 {
	case 0:
		r = f&OF != 0
	case 1:
		r = f&CF != 0
	case 2:
		r = f&ZF != 0
	case 3:
		r = f&(CF|ZF) != 0
	case 4:
		r = f&SF != 0
	case 5:
		r = f&PF != 0
	case 6:
		r = (f&SF != 0) != (f&OF != 0)
	default:
		r = f&ZF != 0 || (f&SF != 0) != (f&OF != 0)
	}
	return r != (cc&1 == 1)
}

func (c *CPU) getReg(id, size uint8) uint64 {
	switch size {
	case 1:
		if id&hiByte != 0 {
			return c.R[id&3] >> 8 & 0xff
		}
		return c.R[id] & 0xff
	case 2:
		return c.R[id] & 0xffff
	case 4:
		return c.R[id] & 0xffffffff
	}
	return c.R[id]
}

func (c *CPU) setReg(id, size uint8, v uint64) {
	switch size {
	case 1:
		if id&hiByte != 0 {
			r := id & 3
			c.R[r] = c.R[r]&^0xff00 | (v&0xff)<<8
			return
		}
		c.R[id] = c.R[id]&^0xff | v&0xff
	case 2:
		c.R[id] = c.R[id]&^0xffff | v&0xffff
	case 4:
		c.R[id] = v & 0xffffffff
	default:
		c.R[id] = v
	}
}

// ea computes the effective address of a memory operand (segment base
// included).
func (c *CPU) ea(in *inst) uint64 {
	a := c.lea(in)
	switch in.seg {
	case segFS:
		a += c.FSBase
	case segGS:
		a += c.GSBase
	}
	return a
}

// lea computes the offset of a memory operand, without segment base.
func (c *CPU) lea(in *inst) uint64 {
	a := uint64(in.disp)
	if in.base != noReg {
		a += c.R[in.base]
	}
	if in.index != noReg {
		a += c.R[in.index] << in.scale
	}
	if in.addr32 {
		a &= 0xffffffff
	}
	return a
}

func (c *CPU) store(m *mem.Memory, addr uint64, size uint8, v uint64) error {
	if c.Trace {
		old, _ := m.ReadBytes(addr, int(size))
		if err := m.Store(addr, int(size), v); err != nil {
			return err
		}
		nw := make([]byte, size)
		for i := range nw {
			nw[i] = byte(v >> (8 * i))
		}
		c.writes = append(c.writes, mem.WriteRecord{Addr: addr, Old: old, New: nw})
	} else if err := m.Store(addr, int(size), v); err != nil {
		return err
	}
	c.codeWritten(addr, int(size))
	return nil
}

// readRM reads the r/m operand.
func (c *CPU) readRM(m *mem.Memory, in *inst, size uint8) (uint64, error) {
	if !in.mem {
		return c.getReg(in.rm, size), nil
	}
	return m.Load(c.ea(in), int(size))
}

// writeRM writes the r/m operand.
func (c *CPU) writeRM(m *mem.Memory, in *inst, size uint8, v uint64) error {
	if !in.mem {
		c.setReg(in.rm, size, v)
		return nil
	}
	return c.store(m, c.ea(in), size, v)
}

// rmw reads the r/m operand for a read-modify-write; addr is its address
// when it is in memory.
func (c *CPU) rmw(m *mem.Memory, in *inst) (v, addr uint64, err error) {
	if !in.mem {
		return c.getReg(in.rm, in.size), 0, nil
	}
	addr = c.ea(in)
	v, err = m.Load(addr, int(in.size))
	return v, addr, err
}

// rmwBack completes a read-modify-write.
func (c *CPU) rmwBack(m *mem.Memory, in *inst, addr, v uint64) error {
	if !in.mem {
		c.setReg(in.rm, in.size, v)
		return nil
	}
	return c.store(m, addr, in.size, v)
}

func (c *CPU) push(m *mem.Memory, size uint8, v uint64) error {
	sp := c.R[RSP] - uint64(size)
	if err := c.store(m, sp, size, v); err != nil {
		return err
	}
	c.R[RSP] = sp
	return nil
}

func (c *CPU) checkIBT(m *mem.Memory, target uint64) error {
	if !c.IBT {
		return nil
	}
	in, err := c.lookup(m, target)
	if err != nil {
		return nil // the fetch fault is reported at the target
	}
	if !in.endbr {
		return fmt.Errorf("%w (target %#x)", ErrControlFlow, target)
	}
	return nil
}

func imulTrunc(a, b uint64, size uint8) (uint64, bool) {
	if size == 8 {
		hi, lo := bits.Mul64(a, b)
		if int64(a) < 0 {
			hi -= b
		}
		if int64(b) < 0 {
			hi -= a
		}
		return lo, int64(hi) != int64(lo)>>63
	}
	p := sext(a, size) * sext(b, size)
	r := uint64(p) & sizeMask[size]
	return r, p != sext(r, size)
}

func mulFlags(flags uint64, overflow bool) uint64 {
	flags &^= ArithFlags
	if overflow {
		flags |= CF | OF
	}
	return flags
}

func (c *CPU) divide(v uint64, size uint8, signed bool) error {
	m := sizeMask[size]
	v &= m
	if v == 0 {
		return fmt.Errorf("%w: division by zero", ErrDivide)
	}
	overflow := fmt.Errorf("%w: quotient too large", ErrDivide)
	var q, r uint64
	switch {
	case !signed && size == 8:
		if c.R[RDX] >= v {
			return overflow
		}
		q, r = bits.Div64(c.R[RDX], c.R[RAX], v)
	case !signed:
		var n uint64
		if size == 1 {
			n = c.R[RAX] & 0xffff
		} else {
			w := uint64(size) * 8
			n = (c.R[RDX]&m)<<w | c.R[RAX]&m
		}
		q, r = n/v, n%v
		if q > m {
			return overflow
		}
	case size == 8:
		hi, lo := c.R[RDX], c.R[RAX]
		neg := int64(hi) < 0
		if neg {
			lo, hi = -lo, ^hi
			if lo == 0 {
				hi++
			}
		}
		d := v
		dneg := int64(v) < 0
		if dneg {
			d = -v
		}
		if hi >= d {
			return overflow
		}
		q, r = bits.Div64(hi, lo, d)
		if neg != dneg {
			if q > 1<<63 {
				return overflow
			}
			q = -q
		} else if q > 1<<63-1 {
			return overflow
		}
		if neg {
			r = -r
		}
	default:
		var n int64
		switch size {
		case 1:
			n = int64(int16(c.R[RAX]))
		case 2:
			n = int64(int32(uint32(c.R[RDX]&0xffff)<<16 | uint32(c.R[RAX]&0xffff)))
		default:
			n = int64(c.R[RDX]<<32 | c.R[RAX]&0xffffffff)
		}
		d := sext(v, size)
		sq, sr := n/d, n%d
		if sq != sext(uint64(sq), size) || (n == -1<<63 && d == -1) {
			return overflow
		}
		q, r = uint64(sq)&m, uint64(sr)&m
	}
	if size == 1 {
		c.setReg(RAX, 1, q)
		c.setReg(hiByte|RAX, 1, r)
	} else {
		c.setReg(RAX, size, q)
		c.setReg(RDX, size, r)
	}
	c.Flags &^= ArithFlags
	return nil
}

func (c *CPU) multiply(v uint64, size uint8, signed bool) {
	m := sizeMask[size]
	v &= m
	a := c.R[RAX] & m
	var lo, hi uint64
	var overflow bool
	switch {
	case size == 8 && !signed:
		hi, lo = bits.Mul64(a, v)
		overflow = hi != 0
	case size == 8:
		hi, lo = bits.Mul64(a, v)
		if int64(a) < 0 {
			hi -= v
		}
		if int64(v) < 0 {
			hi -= a
		}
		overflow = int64(hi) != int64(lo)>>63
	case !signed:
		p := a * v
		w := uint64(size) * 8
		lo, hi = p&m, p>>w
		overflow = hi != 0
	default:
		p := sext(a, size) * sext(v, size)
		w := uint64(size) * 8
		lo, hi = uint64(p)&m, uint64(p>>w)&m
		overflow = p != sext(lo, size)
	}
	if size == 1 {
		c.setReg(RAX, 2, lo|hi<<8)
	} else {
		c.setReg(RAX, size, lo)
		c.setReg(RDX, size, hi)
	}
	c.Flags = mulFlags(c.Flags, overflow)
}

// Branch kinds as exec reports them (indices into kindNames).
const (
	brNone uint8 = iota
	brCall
	brCallInd
	brReturn
	brJump
	brIndirect
	brCondTaken
	brCondNotTaken
)

var kindNames = [...]string{"", KindCall, KindCall, KindReturn, KindJump, KindIndirect, KindCondTaken, KindCondNotTaken}

func branchInfo(kind uint8, target uint64) BranchInfo {
	return BranchInfo{Kind: kindNames[kind], Target: target, Indirect: kind == brCallInd || kind == brIndirect}
}

// execRegALU executes the register-only 32/64-bit ALU operations, shifts
// and rotates (in.fast), the bulk of JIT code, without exec's generality.
// The traced path runs the same instructions through exec.
func (c *CPU) execRegALU(in *inst) {
	dst := &c.R[in.rm]
	if in.op == opAluRegRm {
		dst = &c.R[in.reg]
	}
	var b uint64
	switch in.op {
	case opAluRmReg:
		b = c.R[in.reg]
	case opAluRegRm:
		b = c.R[in.rm]
	default:
		b = in.imm
		if in.cl {
			b = c.R[RCX] & 0xff
		}
	}
	var r, f uint64
	if in.op == opShift {
		r, f, _ = shift(in.sub, *dst, b, in.size, c.Flags)
	} else if in.size == 8 {
		r, f = aluT(in.sub, *dst, b, c.Flags)
	} else {
		r32, f32 := aluT(in.sub, uint32(*dst), uint32(b), c.Flags)
		r, f = uint64(r32), f32
	}
	if in.sub != 7 || in.op == opShift {
		*dst = r & sizeMask[in.size]
	}
	c.Flags = f
	c.RIP += uint64(in.len)
}

// exec executes in at c.RIP and reports how it branched. On error
// nothing has changed.
func (c *CPU) exec(m *mem.Memory, in *inst) (kind uint8, target uint64, err error) {
	next := c.RIP + uint64(in.len)
	size := in.size
	switch in.op {
	case opNop:

	case opAluRmReg, opAluRmImm:
		b := in.imm
		if in.op == opAluRmReg {
			b = c.getReg(in.reg, size)
		}
		if !in.mem {
			r, f := alu(in.sub, c.getReg(in.rm, size), b, size, c.Flags)
			if in.sub != 7 {
				c.setReg(in.rm, size, r)
			}
			c.Flags = f
			break
		}
		addr := c.ea(in)
		a, err := m.Load(addr, int(size))
		if err != nil {
			return 0, 0, err
		}
		r, f := alu(in.sub, a, b, size, c.Flags)
		if in.sub != 7 {
			if err := c.store(m, addr, size, r); err != nil {
				return 0, 0, err
			}
		}
		c.Flags = f

	case opAluRegRm:
		b, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		r, f := alu(in.sub, c.getReg(in.reg, size), b, size, c.Flags)
		if in.sub != 7 {
			c.setReg(in.reg, size, r)
		}
		c.Flags = f

	case opTestRmReg, opTestRmImm:
		a, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		b := in.imm
		if in.op == opTestRmReg {
			b = c.getReg(in.reg, size)
		}
		c.Flags = c.Flags&^ArithFlags | szp(a&b, size)

	case opMovRmReg:
		if err := c.writeRM(m, in, size, c.getReg(in.reg, size)); err != nil {
			return 0, 0, err
		}

	case opMovRegRm:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		c.setReg(in.reg, size, v)

	case opMovRmImm:
		if err := c.writeRM(m, in, size, in.imm); err != nil {
			return 0, 0, err
		}

	case opMovzx, opMovsx:
		v, err := c.readRM(m, in, in.size2)
		if err != nil {
			return 0, 0, err
		}
		if in.op == opMovsx {
			v = uint64(sext(v, in.size2))
		}
		c.setReg(in.reg, size, v)

	case opLea:
		c.setReg(in.reg, size, c.lea(in))

	case opXchg:
		a, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		b := c.getReg(in.reg, size)
		if err := c.rmwBack(m, in, addr, b); err != nil {
			return 0, 0, err
		}
		c.setReg(in.reg, size, a)

	case opXadd:
		dst, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		src := c.getReg(in.reg, size)
		sum, f := alu(0, dst, src, size, c.Flags)
		if in.mem {
			if err := c.store(m, addr, size, sum); err != nil {
				return 0, 0, err
			}
			c.setReg(in.reg, size, dst)
		} else {
			c.setReg(in.reg, size, dst)
			c.setReg(in.rm, size, sum)
		}
		c.Flags = f

	case opCmpxchg:
		dst, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		acc := c.getReg(RAX, size)
		_, f := alu(7, acc, dst, size, c.Flags)
		if acc == dst {
			if err := c.rmwBack(m, in, addr, c.getReg(in.reg, size)); err != nil {
				return 0, 0, err
			}
		} else {
			// The destination is written back with its own value.
			if err := c.rmwBack(m, in, addr, dst); err != nil {
				return 0, 0, err
			}
			c.setReg(RAX, size, dst)
		}
		c.Flags = f

	case opShift:
		v, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		count := in.imm
		if in.cl {
			count = c.R[RCX] & 0xff
		}
		r, f, ok := shift(in.sub, v, count, size, c.Flags)
		if ok || !in.mem {
			// A 32-bit register destination is zero-extended even for
			// a zero count.
			if err := c.rmwBack(m, in, addr, r); err != nil {
				return 0, 0, err
			}
		}
		c.Flags = f

	case opShiftX:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		cnt := c.R[in.vreg] & 0x1f
		if size == 8 {
			cnt = c.R[in.vreg] & 0x3f
		}
		v &= sizeMask[size]
		switch in.sub {
		case 1: // shlx
			v <<= cnt
		case 2: // sarx
			v = uint64(sext(v, size) >> cnt)
		default: // shrx
			v >>= cnt
		}
		c.setReg(in.reg, size, v)

	case opNot:
		v, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		if err := c.rmwBack(m, in, addr, ^v); err != nil {
			return 0, 0, err
		}

	case opNeg:
		v, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		r, f := alu(5, 0, v, size, c.Flags)
		if err := c.rmwBack(m, in, addr, r); err != nil {
			return 0, 0, err
		}
		c.Flags = f

	case opInc, opDec:
		v, addr, err := c.rmw(m, in)
		if err != nil {
			return 0, 0, err
		}
		op := uint8(0)
		if in.op == opDec {
			op = 5
		}
		r, f := alu(op, v, 1, size, c.Flags)
		if err := c.rmwBack(m, in, addr, r); err != nil {
			return 0, 0, err
		}
		c.Flags = f&^CF | c.Flags&CF

	case opMul, opImul1:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		c.multiply(v, size, in.op == opImul1)

	case opDiv, opIdiv:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		if err := c.divide(v, size, in.op == opIdiv); err != nil {
			return 0, 0, err
		}

	case opImul2, opImul3:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		a := in.imm
		if in.op == opImul2 {
			a = c.getReg(in.reg, size)
		}
		r, of := imulTrunc(a&sizeMask[size], v, size)
		c.setReg(in.reg, size, r)
		c.Flags = mulFlags(c.Flags, of)

	case opBswap:
		v := c.R[in.rm]
		switch size {
		case 8:
			v = bits.ReverseBytes64(v)
		case 4:
			v = uint64(bits.ReverseBytes32(uint32(v)))
		default:
			v = 0 // bswap r16 is undefined: real CPUs clear the word
		}
		c.setReg(in.rm, size, v)

	case opPush:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		if err := c.push(m, size, v); err != nil {
			return 0, 0, err
		}

	case opPushImm:
		if err := c.push(m, size, in.imm); err != nil {
			return 0, 0, err
		}

	case opPop:
		sp := c.R[RSP]
		v, err := m.Load(sp, int(size))
		if err != nil {
			return 0, 0, err
		}
		nsp := sp + uint64(size)
		if in.mem {
			// The address is computed with the incremented rsp.
			c.R[RSP] = nsp
			addr := c.ea(in)
			c.R[RSP] = sp
			if err := c.store(m, addr, size, v); err != nil {
				return 0, 0, err
			}
			c.R[RSP] = nsp
		} else {
			c.R[RSP] = nsp
			c.setReg(in.rm, size, v)
		}

	case opCall:
		if err := c.push(m, 8, next); err != nil {
			return 0, 0, err
		}
		c.RIP = in.imm
		return brCall, in.imm, nil

	case opCallInd:
		t, err := c.readRM(m, in, 8)
		if err != nil {
			return 0, 0, err
		}
		if err := c.checkIBT(m, t); err != nil {
			return 0, 0, err
		}
		if err := c.push(m, 8, next); err != nil {
			return 0, 0, err
		}
		c.RIP = t
		return brCallInd, t, nil

	case opJmp:
		c.RIP = in.imm
		return brJump, in.imm, nil

	case opJmpInd:
		t, err := c.readRM(m, in, 8)
		if err != nil {
			return 0, 0, err
		}
		if err := c.checkIBT(m, t); err != nil {
			return 0, 0, err
		}
		c.RIP = t
		return brIndirect, t, nil

	case opJcc:
		if cond(in.sub, c.Flags) {
			c.RIP = in.imm
			return brCondTaken, in.imm, nil
		}
		kind, target = brCondNotTaken, in.imm

	case opRet:
		sp := c.R[RSP]
		t, err := m.Load(sp, 8)
		if err != nil {
			return 0, 0, err
		}
		c.R[RSP] = sp + 8 + in.imm
		c.RIP = t
		return brReturn, t, nil

	case opLeave:
		bp := c.R[RBP]
		v, err := m.Load(bp, 8)
		if err != nil {
			return 0, 0, err
		}
		c.R[RSP] = bp + 8
		c.R[RBP] = v

	case opCwd:
		var v uint64
		if c.R[RAX]&signBit[size] != 0 {
			v = ^uint64(0)
		}
		c.setReg(RDX, size, v)

	case opCbw:
		half := size / 2
		c.setReg(RAX, size, uint64(sext(c.R[RAX], half)))

	case opCmov:
		v, err := c.readRM(m, in, size)
		if err != nil {
			return 0, 0, err
		}
		if !cond(in.sub, c.Flags) {
			v = c.getReg(in.reg, size) // a 32-bit destination is still zero-extended
		}
		c.setReg(in.reg, size, v)

	case opSetcc:
		var v uint64
		if cond(in.sub, c.Flags) {
			v = 1
		}
		if err := c.writeRM(m, in, 1, v); err != nil {
			return 0, 0, err
		}

	case opInt3:
		return 0, 0, ErrBreakpoint
	case opUd2:
		return 0, 0, fmt.Errorf("%w (ud%d)", ErrInvalidOpcode, in.sub)
	case opHlt:
		return 0, 0, ErrHalt
	default:
		return 0, 0, fmt.Errorf("%w: op %d", ErrUnimplemented, in.op)
	}
	c.RIP = next
	return kind, target, nil
}
