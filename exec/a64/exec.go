package a64

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/jitscope/jitscope/exec/mem"
)

func datamask(sf bool) uint64 {
	if sf {
		return math.MaxUint64
	}
	return math.MaxUint32
}

// addWithCarry is AddWithCarry of the Arm ARM: it sets NZCV and returns the
// result (zero-extended for 32-bit operations).
func (c *CPU) addWithCarry(a, b, carry uint64, sf bool) uint64 {
	if sf {
		r, co := bits.Add64(a, b, carry)
		c.N, c.Z, c.C, c.V = int64(r) < 0, r == 0, co != 0, int64((a^r)&(b^r)) < 0
		return r
	}
	x, y := uint32(a), uint32(b)
	r, co := bits.Add32(x, y, uint32(carry))
	c.N, c.Z, c.C, c.V = int32(r) < 0, r == 0, co != 0, int32((x^r)&(y^r)) < 0
	return uint64(r)
}

// logicFlags sets NZCV as ANDS/BICS do.
func (c *CPU) logicFlags(r uint64, sf bool) {
	if sf {
		c.N = int64(r) < 0
	} else {
		c.N = int32(r) < 0
	}
	c.Z, c.C, c.V = r == 0, false, false
}

// shifted applies a shift of type typ (LSL, LSR, ASR, ROR) to a register.
func shifted(v uint64, typ, amt uint8, sf bool) uint64 {
	if sf {
		switch typ {
		case 0:
			return v << amt
		case 1:
			return v >> amt
		case 2:
			return uint64(int64(v) >> amt)
		}
		return bits.RotateLeft64(v, -int(amt))
	}
	x := uint32(v)
	switch typ {
	case 0:
		return uint64(x << amt)
	case 1:
		return uint64(x >> amt)
	case 2:
		return uint64(uint32(int32(x) >> amt))
	}
	return uint64(bits.RotateLeft32(x, -int(amt)))
}

// extended is ExtendReg: option UXTB..SXTX, then a left shift.
func extended(v uint64, opt, amt uint8) uint64 {
	switch opt {
	case 0:
		v = uint64(uint8(v))
	case 1:
		v = uint64(uint16(v))
	case 2:
		v = uint64(uint32(v))
	case 4:
		v = uint64(int64(int8(v)))
	case 5:
		v = uint64(int64(int16(v)))
	case 6:
		v = uint64(int64(int32(v)))
	}
	return v << amt
}

func ror(v uint64, r uint8, sf bool) uint64 {
	if sf {
		return bits.RotateLeft64(v, -int(r))
	}
	return uint64(bits.RotateLeft32(uint32(v), -int(r)))
}

func (c *CPU) cond(cc uint8) bool {
	var r bool
	switch cc >> 1 {
	case 0:
		r = c.Z
	case 1:
		r = c.C
	case 2:
		r = c.N
	case 3:
		r = c.V
	case 4:
		r = c.C && !c.Z
	case 5:
		r = c.N == c.V
	case 6:
		r = c.N == c.V && !c.Z
	default:
		return true // AL, NV
	}
	if cc&1 != 0 {
		r = !r
	}
	return r
}

// signExtend sign-extends the low size bytes of v.
func signExtend(v uint64, size uint8) uint64 {
	s := 64 - 8*uint(size)
	return uint64(int64(v<<s) >> s)
}

func loadExtend(v uint64, size, sx uint8) uint64 {
	switch sx {
	case sx64:
		return signExtend(v, size)
	case sx32:
		return uint64(uint32(signExtend(v, size)))
	}
	return v
}

func sizeMask(size uint8) uint64 {
	if size == 8 {
		return math.MaxUint64
	}
	return 1<<(8*size) - 1
}

func (c *CPU) spCheck(d *dec) error {
	if d.rn == rSP && c.SP&15 != 0 {
		return fmt.Errorf("%w: sp %#x is not 16-byte aligned (SCTLR_EL1.SA)", ErrAlignment, c.SP)
	}
	return nil
}

func alignCheck(addr uint64, size uint8) error {
	if addr&uint64(size-1) != 0 {
		return fmt.Errorf("%w: %d-byte exclusive or atomic access at %#x is not aligned", ErrAlignment, size, addr)
	}
	return nil
}

// store writes memory, journaling into e when tracing and invalidating
// cached code it overwrites.
func (c *CPU) store(m *mem.Memory, e *Effect, addr uint64, size uint8, v uint64) error {
	var old []byte
	if c.Trace {
		old, _ = m.ReadBytes(addr, int(size)) // nil for write-only memory: Undo cannot restore it
	}
	if err := m.Store(addr, int(size), v); err != nil {
		return err
	}
	if c.Trace {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		e.Writes = append(e.Writes, mem.WriteRecord{Addr: addr, Old: old, New: append([]byte(nil), b[:size]...)})
	}
	c.noteWrite(addr, uint64(size))
	return nil
}

// writeFault returns the fault m.Store(addr, n, ...) would return, or nil:
// the check of package mem, which does not export it.
func writeFault(m *mem.Memory, addr uint64, n int) *mem.Fault {
	r, ok := m.RegionAt(addr)
	if !ok {
		return &mem.Fault{Addr: addr, Size: n, Op: "write", Why: "unmapped"}
	}
	end := addr + uint64(n)
	if end > r.End || end < addr {
		next, ok := m.RegionAt(r.End)
		if !ok || next.Start != r.End || end > next.End || next.Perm&mem.Write == 0 {
			return &mem.Fault{Addr: addr, Size: n, Op: "write", Why: "crosses the end of " + r.Name}
		}
	}
	if r.Perm&mem.Write == 0 {
		return &mem.Fault{Addr: addr, Size: n, Op: "write", Why: "not permitted in " + r.Name}
	}
	return nil
}

// exec executes d. On error nothing has changed.
func (c *CPU) exec(m *mem.Memory, d *dec, e *Effect) error {
	pc := e.PC
	switch d.op {
	// ---- data processing, immediate
	case opADDi:
		c.set(d.rd, (c.get(d.rn)+d.imm)&datamask(d.sf))
	case opSUBi:
		c.set(d.rd, (c.get(d.rn)-d.imm)&datamask(d.sf))
	case opADDSi:
		c.set(d.rd, c.addWithCarry(c.get(d.rn), d.imm, 0, d.sf))
	case opSUBSi:
		c.set(d.rd, c.addWithCarry(c.get(d.rn), ^d.imm, 1, d.sf))
	case opANDi:
		c.set(d.rd, c.get(d.rn)&d.imm)
	case opORRi:
		c.set(d.rd, (c.get(d.rn)|d.imm)&datamask(d.sf))
	case opEORi:
		c.set(d.rd, (c.get(d.rn)^d.imm)&datamask(d.sf))
	case opANDSi:
		r := c.get(d.rn) & d.imm
		c.logicFlags(r, d.sf)
		c.set(d.rd, r)
	case opMOVN:
		c.set(d.rd, ^d.imm&datamask(d.sf))
	case opMOVZ, opADR:
		c.set(d.rd, d.imm)
	case opMOVK:
		c.set(d.rd, (c.get(d.rd)&^d.imm2|d.imm)&datamask(d.sf))
	case opUBFM:
		c.set(d.rd, ror(c.get(d.rn), d.amt, d.sf)&d.imm)
	case opSBFM:
		src := c.get(d.rn)
		var top uint64
		if src>>d.shift&1 != 0 {
			top = datamask(d.sf)
		}
		bot := ror(src, d.amt, d.sf) & d.imm
		c.set(d.rd, top&^d.imm2|bot&d.imm2)
	case opBFM:
		dst := c.get(d.rd) & datamask(d.sf)
		bot := dst&^d.imm | ror(c.get(d.rn), d.amt, d.sf)&d.imm
		c.set(d.rd, dst&^d.imm2|bot&d.imm2)

	// ---- data processing, register
	case opADDr:
		c.set(d.rd, (c.get(d.rn)+shifted(c.get(d.rm), d.shift, d.amt, d.sf))&datamask(d.sf))
	case opSUBr:
		c.set(d.rd, (c.get(d.rn)-shifted(c.get(d.rm), d.shift, d.amt, d.sf))&datamask(d.sf))
	case opADDSr:
		c.set(d.rd, c.addWithCarry(c.get(d.rn), shifted(c.get(d.rm), d.shift, d.amt, d.sf), 0, d.sf))
	case opSUBSr:
		c.set(d.rd, c.addWithCarry(c.get(d.rn), ^shifted(c.get(d.rm), d.shift, d.amt, d.sf), 1, d.sf))
	case opADDx:
		c.set(d.rd, (c.get(d.rn)+extended(c.get(d.rm), d.shift, d.amt))&datamask(d.sf))
	case opSUBx:
		c.set(d.rd, (c.get(d.rn)-extended(c.get(d.rm), d.shift, d.amt))&datamask(d.sf))
	case opADDSx:
		c.set(d.rd, c.addWithCarry(c.get(d.rn), extended(c.get(d.rm), d.shift, d.amt), 0, d.sf))
	case opSUBSx:
		c.set(d.rd, c.addWithCarry(c.get(d.rn), ^extended(c.get(d.rm), d.shift, d.amt), 1, d.sf))
	case opANDr, opORRr, opEORr, opANDSr:
		b := shifted(c.get(d.rm), d.shift, d.amt, d.sf)
		if d.sx != 0 {
			b = ^b
		}
		a := c.get(d.rn)
		var r uint64
		switch d.op {
		case opANDr:
			r = a & b
		case opORRr:
			r = a | b
		case opEORr:
			r = a ^ b
		default:
			r = a & b & datamask(d.sf)
			c.logicFlags(r, d.sf)
		}
		c.set(d.rd, r&datamask(d.sf))
	case opUDIV:
		a, b := c.get(d.rn)&datamask(d.sf), c.get(d.rm)&datamask(d.sf)
		var r uint64
		if b != 0 {
			r = a / b
		}
		c.set(d.rd, r)
	case opSDIV:
		var r uint64
		if d.sf {
			a, b := int64(c.get(d.rn)), int64(c.get(d.rm))
			switch {
			case b == 0:
			case a == math.MinInt64 && b == -1:
				r = uint64(a)
			default:
				r = uint64(a / b)
			}
		} else {
			a, b := int32(c.get(d.rn)), int32(c.get(d.rm))
			switch {
			case b == 0:
			case a == math.MinInt32 && b == -1:
				r = uint64(uint32(a))
			default:
				r = uint64(uint32(a / b))
			}
		}
		c.set(d.rd, r)
	case opLSLV, opLSRV, opASRV, opRORV:
		n := uint8(c.get(d.rm) & 63)
		if !d.sf {
			n &= 31
		}
		c.set(d.rd, shifted(c.get(d.rn), uint8(d.op-opLSLV), n, d.sf))
	case opRBIT:
		if d.sf {
			c.set(d.rd, bits.Reverse64(c.get(d.rn)))
		} else {
			c.set(d.rd, uint64(bits.Reverse32(uint32(c.get(d.rn)))))
		}
	case opREV16:
		v := c.get(d.rn) & datamask(d.sf)
		c.set(d.rd, v&0x00ff00ff00ff00ff<<8|v>>8&0x00ff00ff00ff00ff)
	case opREV32:
		c.set(d.rd, bits.RotateLeft64(bits.ReverseBytes64(c.get(d.rn)), 32))
	case opREV:
		if d.sf {
			c.set(d.rd, bits.ReverseBytes64(c.get(d.rn)))
		} else {
			c.set(d.rd, uint64(bits.ReverseBytes32(uint32(c.get(d.rn)))))
		}
	case opCLZ:
		if d.sf {
			c.set(d.rd, uint64(bits.LeadingZeros64(c.get(d.rn))))
		} else {
			c.set(d.rd, uint64(bits.LeadingZeros32(uint32(c.get(d.rn)))))
		}
	case opCLS:
		v := c.get(d.rn)
		if d.sf {
			c.set(d.rd, uint64(bits.LeadingZeros64((v^v>>1)&(1<<63-1))-1))
		} else {
			x := uint32(v)
			c.set(d.rd, uint64(bits.LeadingZeros32((x^x>>1)&(1<<31-1))-1))
		}
	case opMADD:
		c.set(d.rd, (c.get(d.ra)+c.get(d.rn)*c.get(d.rm))&datamask(d.sf))
	case opMSUB:
		c.set(d.rd, (c.get(d.ra)-c.get(d.rn)*c.get(d.rm))&datamask(d.sf))
	case opSMADDL, opSMSUBL:
		p := uint64(int64(int32(c.get(d.rn))) * int64(int32(c.get(d.rm))))
		if d.op == opSMADDL {
			c.set(d.rd, c.get(d.ra)+p)
		} else {
			c.set(d.rd, c.get(d.ra)-p)
		}
	case opUMADDL, opUMSUBL:
		p := uint64(uint32(c.get(d.rn))) * uint64(uint32(c.get(d.rm)))
		if d.op == opUMADDL {
			c.set(d.rd, c.get(d.ra)+p)
		} else {
			c.set(d.rd, c.get(d.ra)-p)
		}
	case opUMULH:
		hi, _ := bits.Mul64(c.get(d.rn), c.get(d.rm))
		c.set(d.rd, hi)
	case opSMULH:
		a, b := c.get(d.rn), c.get(d.rm)
		hi, _ := bits.Mul64(a, b)
		if int64(a) < 0 {
			hi -= b
		}
		if int64(b) < 0 {
			hi -= a
		}
		c.set(d.rd, hi)
	case opCSEL, opCSINC, opCSINV, opCSNEG:
		var r uint64
		if c.cond(d.shift) {
			r = c.get(d.rn)
		} else {
			r = c.get(d.rm)
			switch d.op {
			case opCSINC:
				r++
			case opCSINV:
				r = ^r
			case opCSNEG:
				r = -r
			}
		}
		c.set(d.rd, r&datamask(d.sf))

	// ---- loads and stores
	case opLDimm, opSTimm, opLDreg, opSTreg:
		if err := c.spCheck(d); err != nil {
			return err
		}
		base := c.get(d.rn)
		addr := base
		switch {
		case d.op >= opLDreg:
			addr += extended(c.get(d.rm), d.shift, d.amt)
		case d.wb != wbPost:
			addr += d.imm
		}
		if d.op == opLDimm || d.op == opLDreg {
			v, err := m.Load(addr, int(d.size))
			if err != nil {
				return err
			}
			if d.wb != wbNone {
				c.set(d.rn, base+d.imm)
			}
			c.set(d.rd, loadExtend(v, d.size, d.sx))
		} else {
			if err := c.store(m, e, addr, d.size, c.get(d.rd)); err != nil {
				return err
			}
			if d.wb != wbNone {
				c.set(d.rn, base+d.imm)
			}
		}
	case opLDlit:
		v, err := m.Load(d.imm, int(d.size))
		if err != nil {
			return err
		}
		c.set(d.rd, loadExtend(v, d.size, d.sx))
	case opPRFM, opNOP:
	case opLDP, opSTP:
		if err := c.spCheck(d); err != nil {
			return err
		}
		base := c.get(d.rn)
		addr := base
		if d.wb != wbPost {
			addr += d.imm
		}
		sz := uint64(d.size)
		if d.op == opLDP {
			v1, err := m.Load(addr, int(sz))
			if err != nil {
				return err
			}
			v2, err := m.Load(addr+sz, int(sz))
			if err != nil {
				return err
			}
			if d.wb != wbNone {
				c.set(d.rn, base+d.imm)
			}
			c.set(d.rd, loadExtend(v1, d.size, d.sx))
			c.set(d.ra, loadExtend(v2, d.size, d.sx))
		} else {
			// Check both halves first so that a fault changes nothing.
			if f := writeFault(m, addr, int(sz)); f != nil {
				return f
			}
			if f := writeFault(m, addr+sz, int(sz)); f != nil {
				return f
			}
			if err := c.store(m, e, addr, d.size, c.get(d.rd)); err != nil {
				return err
			}
			if err := c.store(m, e, addr+sz, d.size, c.get(d.ra)); err != nil {
				return err // unreachable: checked above
			}
			if d.wb != wbNone {
				c.set(d.rn, base+d.imm)
			}
		}
	case opLDXR, opLDAR:
		if err := c.spCheck(d); err != nil {
			return err
		}
		addr := c.get(d.rn)
		if err := alignCheck(addr, d.size); err != nil {
			return err
		}
		v, err := m.Load(addr, int(d.size))
		if err != nil {
			return err
		}
		c.set(d.rd, v)
		if d.op == opLDXR {
			c.mon = monitor{Valid: true, Addr: addr, Size: d.size}
		}
	case opSTLR:
		if err := c.spCheck(d); err != nil {
			return err
		}
		addr := c.get(d.rn)
		if err := alignCheck(addr, d.size); err != nil {
			return err
		}
		if err := c.store(m, e, addr, d.size, c.get(d.rd)); err != nil {
			return err
		}
	case opSTXR:
		if err := c.spCheck(d); err != nil {
			return err
		}
		addr := c.get(d.rn)
		if err := alignCheck(addr, d.size); err != nil {
			return err
		}
		status := uint64(1)
		if c.mon.Valid && c.mon.Addr == addr && c.mon.Size == d.size {
			if err := c.store(m, e, addr, d.size, c.get(d.rd)); err != nil {
				return err
			}
			status = 0
		}
		c.mon = monitor{}
		c.set(d.rm, status)
	case opCAS, opLSE, opSWP:
		if err := c.spCheck(d); err != nil {
			return err
		}
		addr := c.get(d.rn)
		if err := alignCheck(addr, d.size); err != nil {
			return err
		}
		old, err := m.Load(addr, int(d.size))
		if err != nil {
			return err
		}
		s := c.get(d.rm) & sizeMask(d.size)
		switch d.op {
		case opCAS:
			if old == s {
				if err := c.store(m, e, addr, d.size, c.get(d.rd)); err != nil {
					return err
				}
			}
			c.set(d.rm, old)
			c.PC = pc + 4
			return nil
		case opSWP:
			if err := c.store(m, e, addr, d.size, s); err != nil {
				return err
			}
		default:
			if err := c.store(m, e, addr, d.size, lseOp(d.shift, old, s, d.size)); err != nil {
				return err
			}
		}
		c.set(d.rd, old)

	// ---- branches
	case opB:
		c.PC = d.imm
		e.Branch = BranchInfo{Kind: BranchJump, Target: d.imm}
		return nil
	case opBL:
		c.X[30] = pc + 4
		c.PC = d.imm
		e.Branch = BranchInfo{Kind: BranchCall, Target: d.imm}
		return nil
	case opBcond, opCBZ, opCBNZ, opTBZ, opTBNZ:
		var taken bool
		switch d.op {
		case opBcond:
			taken = c.cond(d.shift)
		case opCBZ, opCBNZ:
			v := c.get(d.rd) & datamask(d.sf)
			taken = (v == 0) == (d.op == opCBZ)
		default:
			bit := c.get(d.rd) >> d.amt & 1
			taken = (bit == 0) == (d.op == opTBZ)
		}
		if taken {
			c.PC = d.imm
			e.Branch = BranchInfo{Kind: BranchCondTaken, Target: d.imm}
		} else {
			c.PC = pc + 4
			e.Branch = BranchInfo{Kind: BranchCondNotTaken, Target: d.imm}
		}
		return nil
	case opBR, opBLR, opRET:
		t := c.get(d.rn)
		if err := c.checkTarget(t, d.rn); err != nil {
			return err
		}
		switch d.op {
		case opBR:
			c.BType = 3 // BTypeNext of BR in a guarded page
			if d.rn == 16 || d.rn == 17 || !c.BTI {
				c.BType = 1
			}
			e.Branch = BranchInfo{Kind: BranchIndirect, Target: t}
		case opBLR:
			c.X[30] = pc + 4
			c.BType = 2
			e.Branch = BranchInfo{Kind: BranchCall, Target: t}
		default:
			e.Branch = BranchInfo{Kind: BranchReturn, Target: t}
		}
		c.PC = t
		return nil

	// ---- system
	case opPACIASP:
		if c.PAC {
			c.X[30] = pacSign(c.X[30], c.SP)
		}
	case opAUTIASP:
		if c.PAC {
			c.X[30], _ = pacAuth(c.X[30], c.SP)
		}
	case opPACOther:
		if c.PAC {
			return fmt.Errorf("%w: pointer authentication other than paciasp/autiasp", ErrUnimplemented)
		}
	case opBTI:
	case opCLREX:
		c.mon = monitor{}
	case opMRS:
		var v uint64
		switch d.shift {
		case sysSPEL0:
			v = c.SPEL0
		case sysTPIDREL1:
			v = c.TPIDREL1
		case sysTPIDREL2:
			v = c.TPIDREL2
		case sysNZCV:
			v = c.NZCV()
		}
		c.set(d.rd, v)
	case opBRK:
		if d.imm == 0x100 {
			return fmt.Errorf("%w: brk #0x100 (AARCH64_BREAK_FAULT: the JIT could not encode an instruction)", ErrBreakpoint)
		}
		return fmt.Errorf("%w: brk #%#x", ErrBreakpoint, d.imm)
	default:
		_, err := decode(d.word, pc)
		if err == nil {
			err = fmt.Errorf("%w: no execution routine", ErrUnimplemented)
		}
		return err
	}
	c.PC = pc + 4
	return nil
}

// lseOp computes the value an LSE atomic stores: old <op> s, in size bytes.
func lseOp(op uint8, old, s uint64, size uint8) uint64 {
	switch op {
	case 0: // add
		return (old + s) & sizeMask(size)
	case 1: // clr
		return old &^ s
	case 2: // eor
		return old ^ s
	case 3: // set
		return old | s
	case 4: // smax
		if int64(signExtend(old, size)) >= int64(signExtend(s, size)) {
			return old
		}
		return s
	case 5: // smin
		if int64(signExtend(old, size)) <= int64(signExtend(s, size)) {
			return old
		}
		return s
	case 6: // umax
		return max(old, s)
	}
	return min(old, s) // umin
}

func (c *CPU) checkTarget(t uint64, rn uint8) error {
	if canonical(t) {
		return nil
	}
	if c.PAC && rn == 30 && pacFailed(t) {
		return fmt.Errorf("%w %#x: %w: x30 did not authenticate (autiasp with a different SP, or x30 was overwritten after paciasp)", ErrNonCanonical, t, ErrPAC)
	}
	return fmt.Errorf("%w %#x", ErrNonCanonical, t)
}
