package disasm

import (
	"errors"
	"strconv"
	"strings"
)

// The x86-64 decoder follows the structure of GNU objdump's i386-dis.c
// (prefix scan, one- and two-byte opcode maps, ModRM/SIB operand
// decoding, per-template suffix rules) for the general-purpose integer
// instructions, the hint NOPs, fences, ENDBR and the BMI1/BMI2 VEX
// forms. Everything else is refused with ErrX86Decode rather than
// printed differently from objdump.

const x86MaxLen = 15

// REX bits.
const (
	rexB = 0x01
	rexX = 0x02
	rexR = 0x04
	rexW = 0x08
	rex0 = 0x40 // the prefix itself: consulted by byte registers
)

type x86ArgKind uint8

const (
	x86ArgReg x86ArgKind = iota + 1
	x86ArgMem
	x86ArgImm
	x86ArgRel
	x86ArgOne // the implicit count of d0-d3 shifts: Intel prints ",1", AT&T nothing
)

// x86Arg is one operand, independent of syntax.
type x86Arg struct {
	kind x86ArgKind
	reg  string // x86ArgReg
	imm  uint64 // x86ArgImm (masked to its size), x86ArgRel (the target)
	size int    // x86ArgMem: bytes for Intel's "... PTR", 0 for none (lea)
}

// x86Mem is the decoded ModRM/SIB memory operand.
type x86Mem struct {
	seg      string // "fs", "gs" or "" (objdump prints only these in 64-bit mode)
	base     string
	index    string // "" when the SIB has no index
	haveSIB  bool
	sibBase4 bool // SIB base field is 100 (rsp/r12)
	scale    int  // SIB scale field (0..3)
	disp     int64
	mod      byte
	baseIs5  bool // no SIB, or SIB base field 101
	haveBase bool
	rip      bool
	addr32   bool
	moffs    bool // a0-a3: a 64-bit absolute address
}

type x86Prefix struct {
	b    byte
	name string
	used bool
}

type x86Decoder struct {
	code []byte
	pc   uint64
	pos  int

	pfx     []x86Prefix
	rex     byte
	rexUsed byte
	vex     bool
	vexRex  byte // a REX prefix before VEX, printed as unused
	p66     int  // index in pfx of the last 0x66, or -1
	p67     int
	pF0     int
	pF2     int
	pF3     int
	pSeg    int

	haveModRM     bool
	mod, reg, rm  byte
	mem           x86Mem
	memArgPresent bool

	op, iop   string // AT&T and Intel mnemonic
	legacy    string // pre-2.36 AT&T mnemonic when it differs from op
	hint      string // AT&T branch hint: ",pt", ",pn"
	args      []x86Arg
	indirect  bool // AT&T "*" before the (only) operand
	noReverse bool // AT&T keeps Intel's operand order (enter)
	loneRex   bool // the instruction is only prefixes ending in an ignored REX
	hle       int  // objdump's HLE_Fixup1/2/3 applies (xacquire/xrelease)
	kind      BranchKind
	target    uint64
	rel       bool // target is a relative branch's
	rel32     bool
}

var (
	x86Reg64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	x86Reg32 = [16]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
		"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}
	x86Reg16 = [16]string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
		"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"}
	x86Reg8Rex = [16]string{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
		"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"}
	x86Reg8 = [8]string{"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"}

	// x86CC are the condition-code suffixes as objdump 2.40 prints them.
	x86CC = [16]string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}

	x86ALU   = [8]string{"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"}
	x86Shift = [8]string{"rol", "ror", "rcl", "rcr", "shl", "shr", "shl", "sar"}
)

var (
	errX86Truncated = errors.New("truncated instruction")
	errX86TooLong   = errors.New("longer than 15 bytes")
	errX86Invalid   = errors.New("invalid or unsupported encoding")
)

func (d *x86Decoder) next() (byte, error) {
	if d.pos >= x86MaxLen {
		return 0, errX86TooLong
	}
	if d.pos >= len(d.code) {
		return 0, errX86Truncated
	}
	b := d.code[d.pos]
	d.pos++
	return b, nil
}

func (d *x86Decoder) imm(n int) (uint64, error) {
	var v uint64
	for i := 0; i < n; i++ {
		b, err := d.next()
		if err != nil {
			return 0, err
		}
		v |= uint64(b) << (8 * i)
	}
	return v, nil
}

// simm reads an n-byte little-endian immediate and sign-extends it.
func (d *x86Decoder) simm(n int) (int64, error) {
	v, err := d.imm(n)
	if err != nil {
		return 0, err
	}
	shift := uint(64 - 8*n)
	return int64(v<<shift) >> shift, nil
}

func (d *x86Decoder) useRex(bit byte) {
	if d.rex&bit != 0 {
		d.rexUsed |= bit | rex0
	}
}

func (d *x86Decoder) rexBit(bit byte) int {
	d.useRex(bit)
	if d.rex&bit != 0 {
		return 8
	}
	return 0
}

func x86Mask(v uint64, size int) uint64 {
	if size >= 64 {
		return v
	}
	return v & (1<<uint(size) - 1)
}

// gpr names general register n (0..15) of the given bit size.
func (d *x86Decoder) gpr(n int, size int) string {
	switch size {
	case 8:
		if d.rex != 0 {
			if n&4 != 0 {
				// objdump consults the REX prefix only where it
				// changes the name (spl..dil instead of ah..bh).
				d.rexUsed |= rex0
			}
			return x86Reg8Rex[n]
		}
		return x86Reg8[n&7]
	case 16:
		return x86Reg16[n]
	case 32:
		return x86Reg32[n]
	}
	return x86Reg64[n]
}

// osize is the operand size of a v-mode operand: REX.W, else 0x66, else 32.
func (d *x86Decoder) osize() int {
	if d.rex&rexW != 0 {
		d.useRex(rexW)
		return 64
	}
	if d.p66 >= 0 {
		d.pfx[d.p66].used = true
		return 16
	}
	return 32
}

// ssize is the operand size of push/pop: 64 unless 0x66 says 16. REX.W
// overrides 0x66 but objdump counts neither as used then.
func (d *x86Decoder) ssize() int {
	if d.p66 >= 0 && d.rex&rexW == 0 {
		d.pfx[d.p66].used = true
		return 16
	}
	return 64
}

func x86SizeSuffix(size int) string {
	switch size {
	case 8:
		return "b"
	case 16:
		return "w"
	case 32:
		return "l"
	}
	return "q"
}

func (d *x86Decoder) decode() error {
	d.p66, d.p67, d.pF0, d.pF2, d.pF3, d.pSeg = -1, -1, -1, -1, -1, -1
	var b byte
	for {
		var err error
		if b, err = d.next(); err != nil {
			return err
		}
		name := ""
		idx := len(d.pfx)
		switch b {
		case 0x26:
			name = "es"
		case 0x2e:
			name = "cs"
		case 0x36:
			name = "ss"
		case 0x3e:
			name = "ds"
		case 0x64:
			name = "fs"
		case 0x65:
			name = "gs"
		case 0x66:
			name = "data16"
			d.p66 = idx
		case 0x67:
			name = "addr32"
			if d.p67 >= 0 {
				return errX86Invalid
			}
			d.p67 = idx
		case 0xf0:
			name = "lock"
			if d.pF0 >= 0 {
				return errX86Invalid
			}
			d.pF0 = idx
		case 0xf2:
			name = "repnz"
			if d.pF2 >= 0 || d.pF3 >= 0 {
				return errX86Invalid
			}
			d.pF2 = idx
		case 0xf3:
			name = "repz"
			if d.pF2 >= 0 || d.pF3 >= 0 {
				return errX86Invalid
			}
			d.pF3 = idx
		}
		if d.rex != 0 && (name != "" || b&0xf0 == 0x40) {
			// A REX prefix followed by another prefix is ignored:
			// objdump prints the prefixes up to it as an instruction
			// of their own.
			d.pos--
			d.loneRex = true
			return nil
		}
		if name != "" {
			if b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 {
				if d.pSeg >= 0 {
					// objdump drops some of several segment
					// prefixes without a trace.
					return errX86Invalid
				}
				d.pSeg = idx
			}
			d.pfx = append(d.pfx, x86Prefix{b: b, name: name})
			continue
		}
		if b&0xf0 == 0x40 {
			d.rex = b
			continue
		}
		break
	}
	var err error
	switch b {
	case 0x0f:
		var op byte
		if op, err = d.next(); err != nil {
			return err
		}
		err = d.twoByte(op)
	case 0xc4, 0xc5:
		err = d.vexInsn(b)
	default:
		err = d.oneByte(b)
	}
	if err == nil {
		d.applyHLE()
	}
	return err
}

// applyHLE renames F2/F3 to xacquire/xrelease where objdump's
// HLE_Fixup1 (lockable instructions with a lock prefix), HLE_Fixup2
// (xchg) and HLE_Fixup3 (mov to memory, xrelease only) do.
func (d *x86Decoder) applyHLE() {
	if d.hle == 0 || d.mod == 3 {
		return
	}
	if d.hle == 1 && d.pF0 < 0 {
		return
	}
	if d.pF3 >= 0 {
		d.pfx[d.pF3].name = "xrelease"
	}
	if d.pF2 >= 0 && d.hle != 3 {
		d.pfx[d.pF2].name = "xacquire"
	}
}

// modrm reads the ModRM byte and, for memory forms, the SIB byte and
// displacement.
func (d *x86Decoder) modrm() error {
	m, err := d.next()
	if err != nil {
		return err
	}
	d.haveModRM = true
	d.mod, d.reg, d.rm = m>>6, m>>3&7, m&7
	if d.mod == 3 {
		return nil
	}
	mm := &d.mem
	mm.mod = d.mod
	mm.addr32 = d.p67 >= 0
	regs := &x86Reg64
	if mm.addr32 {
		regs = &x86Reg32
		d.pfx[d.p67].used = true
	}
	addB := d.rexBit(rexB)
	base := d.rm
	if d.rm == 4 {
		sib, err := d.next()
		if err != nil {
			return err
		}
		mm.haveSIB = true
		mm.scale = int(sib >> 6)
		index := int(sib>>3&7) + d.rexBit(rexX)
		base = sib & 7
		mm.sibBase4 = base == 4
		if index != 4 {
			mm.index = regs[index]
		}
	}
	mm.baseIs5 = base == 5
	mm.haveBase = !(d.mod == 0 && base == 5)
	if mm.haveBase {
		mm.base = regs[int(base)+addB]
	}
	switch {
	case d.mod == 1:
		mm.disp, err = d.simm(1)
	case d.mod == 2 || base == 5:
		mm.disp, err = d.simm(4)
		mm.rip = d.mod == 0 && !mm.haveSIB
	}
	if err != nil {
		return err
	}
	if mm.addr32 && !mm.haveBase && !mm.rip {
		return errX86Invalid // objdump's 32-bit absolute and "(,%eiz,1)" forms
	}
	if d.pSeg >= 0 {
		switch s := d.pfx[d.pSeg]; s.b {
		case 0x64, 0x65:
			mm.seg = s.name
			d.pfx[d.pSeg].used = true
		}
	}
	return nil
}

// E returns the ModRM r/m operand: a register of size bits, or memory
// whose Intel "PTR" size is ptr bytes.
func (d *x86Decoder) E(size, ptr int) x86Arg {
	if d.mod == 3 {
		return x86Arg{kind: x86ArgReg, reg: d.gpr(int(d.rm)+d.rexBit(rexB), size)}
	}
	d.memArgPresent = true
	return x86Arg{kind: x86ArgMem, size: ptr}
}

// G returns the ModRM reg operand.
func (d *x86Decoder) G(size int) x86Arg {
	return x86Arg{kind: x86ArgReg, reg: d.gpr(int(d.reg)+d.rexBit(rexR), size)}
}

func (d *x86Decoder) regArg(name string) x86Arg { return x86Arg{kind: x86ArgReg, reg: name} }

func (d *x86Decoder) immArg(v uint64, size int) x86Arg {
	return x86Arg{kind: x86ArgImm, imm: x86Mask(v, size)}
}

// Ib reads an unsigned byte immediate.
func (d *x86Decoder) Ib() (x86Arg, error) {
	v, err := d.imm(1)
	return x86Arg{kind: x86ArgImm, imm: v}, err
}

// sI reads an n-byte immediate sign-extended to size bits.
func (d *x86Decoder) sI(n, size int) (x86Arg, error) {
	v, err := d.simm(n)
	return d.immArg(uint64(v), size), err
}

// Iz reads the immediate of a v-size operation: 16 bits for 16, else
// 32 bits sign-extended to the operand size.
func (d *x86Decoder) Iz(size int) (x86Arg, error) {
	if size == 16 {
		return d.sI(2, 16)
	}
	return d.sI(4, size)
}

// J reads an n-byte relative branch displacement.
func (d *x86Decoder) J(n int) (x86Arg, error) {
	if d.p66 >= 0 && n != 1 {
		return x86Arg{}, errX86Invalid // 16-bit branch targets
	}
	v, err := d.simm(n)
	if err != nil {
		return x86Arg{}, err
	}
	d.rel = true
	d.rel32 = n == 4
	d.target = d.pc + uint64(d.pos) + uint64(v)
	return x86Arg{kind: x86ArgRel, imm: d.target}, nil
}

// set sets mnemonics (AT&T, Intel) and operands in Intel order.
func (d *x86Decoder) set(op, iop string, args ...x86Arg) {
	d.op, d.iop, d.args = op, iop, args
}

// suffixIfMem appends the AT&T size suffix when the r/m operand is memory
// (objdump's 'A'/'Q' template letters).
func (d *x86Decoder) suffixIfMem(op string, size int) string {
	if d.mod != 3 {
		return op + x86SizeSuffix(size)
	}
	return op
}

func (d *x86Decoder) noRep() error {
	if d.pF2 >= 0 || d.pF3 >= 0 {
		return errX86Invalid
	}
	return nil
}

func (d *x86Decoder) oneByte(b byte) error {
	var err error
	switch {
	case b < 0x40 && b&7 < 6:
		// ALU: add, or, adc, sbb, and, sub, xor, cmp.
		name := x86ALU[b>>3]
		switch b & 7 {
		case 0, 1, 2, 3:
			if err = d.modrm(); err != nil {
				return err
			}
			size := 8
			if b&1 == 1 {
				size = d.osize()
			}
			e, g := d.E(size, size/8), d.G(size)
			if b&2 == 0 {
				if name != "cmp" {
					d.hle = 1
				}
				d.set(name, name, e, g)
			} else {
				d.set(name, name, g, e)
			}
		case 4:
			i, err := d.Ib()
			if err != nil {
				return err
			}
			d.set(name, name, d.regArg("al"), i)
		case 5:
			size := d.osize()
			i, err := d.Iz(size)
			if err != nil {
				return err
			}
			d.set(name, name, d.regArg(d.gpr(0, size)), i)
		}
	case b >= 0x50 && b <= 0x5f:
		name := "push"
		if b >= 0x58 {
			name = "pop"
		}
		size := d.ssize()
		d.set(name, name, d.regArg(d.gpr(int(b&7)+d.rexBit(rexB), size)))
	case b == 0x63:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.p66 >= 0 && d.rex&rexW != 0 {
			return errX86Invalid // objdump's AT&T and Intel disagree on data16
		}
		size := d.osize()
		e := d.E(32, 4)
		g := d.G(size)
		op := "movsxd"
		if size == 64 {
			op = "movslq"
		}
		d.set(op, "movsxd", g, e)
	case b == 0x68 || b == 0x6a:
		size := d.ssize()
		var i x86Arg
		n := 1
		if b == 0x68 {
			n = 4
			if size == 16 {
				n = 2
			}
		}
		if i, err = d.sI(n, size); err != nil {
			return err
		}
		if size == 16 {
			d.set("pushw", "pushw", i)
		} else {
			d.set("push", "push", i)
			d.legacy = "pushq"
		}
	case b == 0x69 || b == 0x6b:
		if err = d.modrm(); err != nil {
			return err
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		var i x86Arg
		if b == 0x6b {
			i, err = d.sI(1, size)
		} else {
			i, err = d.Iz(size)
		}
		if err != nil {
			return err
		}
		d.set("imul", "imul", g, e, i)
	case b >= 0x70 && b <= 0x7f:
		return d.jcc(b&0xf, 1)
	case b >= 0x80 && b <= 0x83:
		if b == 0x82 {
			return errX86Invalid
		}
		if err = d.modrm(); err != nil {
			return err
		}
		size := 8
		if b != 0x80 {
			size = d.osize()
		}
		e := d.E(size, size/8)
		var i x86Arg
		switch b {
		case 0x80:
			i, err = d.Ib()
		case 0x81:
			i, err = d.Iz(size)
		case 0x83:
			i, err = d.sI(1, size)
		}
		if err != nil {
			return err
		}
		name := x86ALU[d.reg]
		if d.reg != 7 {
			d.hle = 1
		}
		d.set(d.suffixIfMem(name, size), name, e, i)
	case b >= 0x84 && b <= 0x8b:
		if err = d.modrm(); err != nil {
			return err
		}
		size := 8
		if b&1 == 1 {
			size = d.osize()
		}
		e, g := d.E(size, size/8), d.G(size)
		name := [...]string{"test", "test", "xchg", "xchg", "mov", "mov", "mov", "mov"}[b-0x84]
		d.hle = [...]int{0, 0, 2, 2, 3, 3, 0, 0}[b-0x84]
		if b == 0x8a || b == 0x8b {
			d.set(name, name, g, e)
		} else {
			d.set(name, name, e, g)
		}
	case b == 0x8d:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.mod == 3 {
			return errX86Invalid
		}
		size := d.osize()
		e, g := d.E(size, 0), d.G(size)
		d.set("lea", "lea", g, e)
	case b == 0x8f:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.reg != 0 {
			return errX86Invalid // XOP
		}
		size := d.ssize()
		e := d.E(size, size/8)
		if d.mod != 3 {
			if size == 16 {
				d.set("popw", "pop", e)
			} else {
				d.set("pop", "pop", e)
				d.legacy = "popq"
			}
		} else {
			d.set("pop", "pop", e)
		}
	case b == 0x90:
		switch {
		case d.pF3 >= 0:
			d.pfx[d.pF3].used = true
			d.set("pause", "pause")
		case d.rex&rexB != 0:
			if d.p66 >= 0 {
				return errX86Invalid
			}
			size := d.osize()
			d.set("xchg", "xchg", d.regArg(d.gpr(d.rexBit(rexB), size)), d.regArg(d.gpr(0, size)))
		case d.p66 >= 0:
			d.pfx[d.p66].used = true
			d.set("xchg", "xchg", d.regArg("ax"), d.regArg("ax"))
		default:
			d.set("nop", "nop")
		}
	case b >= 0x91 && b <= 0x97:
		size := d.osize()
		d.set("xchg", "xchg", d.regArg(d.gpr(int(b&7)+d.rexBit(rexB), size)), d.regArg(d.gpr(0, size)))
	case b == 0x98:
		switch d.osize() {
		case 16:
			d.set("cbtw", "cbw")
		case 32:
			d.set("cwtl", "cwde")
		default:
			d.set("cltq", "cdqe")
		}
	case b == 0x99:
		switch d.osize() {
		case 16:
			d.set("cwtd", "cwd")
		case 32:
			d.set("cltd", "cdq")
		default:
			d.set("cqto", "cqo")
		}
	case b == 0x9c || b == 0x9d:
		name := "pushf"
		if b == 0x9d {
			name = "popf"
		}
		if d.ssize() == 16 {
			d.set(name+"w", name+"w")
		} else {
			d.set(name, name)
			d.legacy = name + "q"
		}
	case b == 0x9e:
		d.set("sahf", "sahf")
	case b == 0x9f:
		d.set("lahf", "lahf")
	case b >= 0xa0 && b <= 0xa3:
		if d.p67 >= 0 {
			return errX86Invalid
		}
		size := 8
		if b&1 == 1 {
			size = d.osize()
		}
		v, err := d.imm(8)
		if err != nil {
			return err
		}
		d.mem = x86Mem{disp: int64(v), moffs: true}
		if d.pSeg >= 0 {
			switch s := d.pfx[d.pSeg]; s.b {
			case 0x64, 0x65:
				d.mem.seg = s.name
				d.pfx[d.pSeg].used = true
			}
		}
		d.memArgPresent = true
		m := x86Arg{kind: x86ArgMem}
		r := d.regArg(d.gpr(0, size))
		if b < 0xa2 {
			d.set("movabs", "movabs", r, m)
		} else {
			d.set("movabs", "movabs", m, r)
		}
	case b == 0xa8:
		i, err := d.Ib()
		if err != nil {
			return err
		}
		d.set("test", "test", d.regArg("al"), i)
	case b == 0xa9:
		size := d.osize()
		i, err := d.Iz(size)
		if err != nil {
			return err
		}
		d.set("test", "test", d.regArg(d.gpr(0, size)), i)
	case b >= 0xb0 && b <= 0xb7:
		r := d.gpr(int(b&7)+d.rexBit(rexB), 8)
		i, err := d.Ib()
		if err != nil {
			return err
		}
		d.set("mov", "mov", d.regArg(r), i)
	case b >= 0xb8 && b <= 0xbf:
		size := d.osize()
		r := d.gpr(int(b&7)+d.rexBit(rexB), size)
		var i x86Arg
		switch size {
		case 64:
			v, err := d.imm(8)
			if err != nil {
				return err
			}
			d.set("movabs", "movabs", d.regArg(r), d.immArg(v, 64))
			return nil
		case 16:
			i, err = d.sI(2, 16)
		default:
			i, err = d.sI(4, 32)
		}
		if err != nil {
			return err
		}
		d.set("mov", "mov", d.regArg(r), i)
	case b == 0xc0 || b == 0xc1 || (b >= 0xd0 && b <= 0xd3):
		if err = d.modrm(); err != nil {
			return err
		}
		size := 8
		if b&1 == 1 {
			size = d.osize()
		}
		e := d.E(size, size/8)
		var cnt x86Arg
		switch b {
		case 0xc0, 0xc1:
			if cnt, err = d.Ib(); err != nil {
				return err
			}
		case 0xd0, 0xd1:
			cnt = x86Arg{kind: x86ArgOne}
		default:
			cnt = d.regArg("cl")
		}
		name := x86Shift[d.reg]
		d.set(d.suffixIfMem(name, size), name, e, cnt)
	case b == 0xc2:
		i, err := d.imm(2)
		if err != nil {
			return err
		}
		if err := d.retPrefixes(); err != nil {
			return err
		}
		d.set("ret", "ret", x86Arg{kind: x86ArgImm, imm: i})
		d.legacy, d.kind = "retq", Return
	case b == 0xc3:
		if err := d.retPrefixes(); err != nil {
			return err
		}
		d.set("ret", "ret")
		d.legacy, d.kind = "retq", Return
	case b == 0xc6 || b == 0xc7:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.reg != 0 {
			return errX86Invalid // xabort, xbegin
		}
		size := 8
		if b == 0xc7 {
			size = d.osize()
		}
		e := d.E(size, size/8)
		var i x86Arg
		if b == 0xc6 {
			i, err = d.Ib()
		} else {
			i, err = d.Iz(size)
		}
		if err != nil {
			return err
		}
		d.hle = 3
		d.set(d.suffixIfMem("mov", size), "mov", e, i)
	case b == 0xc8:
		w, err := d.imm(2)
		if err != nil {
			return err
		}
		l, err := d.Ib()
		if err != nil {
			return err
		}
		if d.p66 >= 0 {
			return errX86Invalid
		}
		d.set("enter", "enter", x86Arg{kind: x86ArgImm, imm: w}, l)
		d.noReverse = true
		d.legacy = "enterq"
	case b == 0xc9:
		if d.p66 >= 0 {
			return errX86Invalid
		}
		d.set("leave", "leave")
		d.legacy = "leaveq"
	case b == 0xcc:
		d.set("int3", "int3")
	case b == 0xcd:
		i, err := d.Ib()
		if err != nil {
			return err
		}
		d.set("int", "int", i)
	case b == 0xe0 || b == 0xe1 || b == 0xe2 || b == 0xe3:
		name := [...]string{"loopne", "loope", "loop", "jrcxz"}[b-0xe0]
		if d.p67 >= 0 {
			if b != 0xe3 {
				return errX86Invalid
			}
			d.pfx[d.p67].used = true
			name = "jecxz"
		}
		j, err := d.J(1)
		if err != nil {
			return err
		}
		d.set(name, name, j)
		d.kind = CondJump
		d.branchHint()
	case b == 0xe8 || b == 0xe9:
		j, err := d.J(4)
		if err != nil {
			return err
		}
		d.branchPrefixes()
		if b == 0xe8 {
			d.set("call", "call", j)
			d.legacy, d.kind = "callq", Call
		} else {
			d.set("jmp", "jmp", j)
			d.legacy, d.kind = "jmpq", Jump
		}
	case b == 0xeb:
		j, err := d.J(1)
		if err != nil {
			return err
		}
		d.branchPrefixes()
		d.set("jmp", "jmp", j)
		d.kind = Jump
	case b == 0xf1:
		d.set("int1", "int1")
	case b == 0xf4:
		d.set("hlt", "hlt")
	case b == 0xf5:
		d.set("cmc", "cmc")
	case b >= 0xf8 && b <= 0xfd:
		n := [...]string{"clc", "stc", "cli", "sti", "cld", "std"}[b-0xf8]
		d.set(n, n)
	case b == 0xf6 || b == 0xf7:
		if err = d.modrm(); err != nil {
			return err
		}
		size := 8
		if b == 0xf7 {
			size = d.osize()
		}
		e := d.E(size, size/8)
		if d.reg < 2 {
			var i x86Arg
			if b == 0xf6 {
				i, err = d.Ib()
			} else {
				i, err = d.Iz(size)
			}
			if err != nil {
				return err
			}
			d.set(d.suffixIfMem("test", size), "test", e, i)
			break
		}
		name := [...]string{"", "", "not", "neg", "mul", "imul", "div", "idiv"}[d.reg]
		if d.reg < 4 {
			d.hle = 1
		}
		d.set(d.suffixIfMem(name, size), name, e)
	case b == 0xfe:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.reg > 1 {
			return errX86Invalid
		}
		name := [...]string{"inc", "dec"}[d.reg]
		d.hle = 1
		e := d.E(8, 1)
		d.set(d.suffixIfMem(name, 8), name, e)
	case b == 0xff:
		if err = d.modrm(); err != nil {
			return err
		}
		switch d.reg {
		case 0, 1:
			name := [...]string{"inc", "dec"}[d.reg]
			d.hle = 1
			size := d.osize()
			e := d.E(size, size/8)
			d.set(d.suffixIfMem(name, size), name, e)
		case 2, 4:
			if d.p66 >= 0 {
				return errX86Invalid
			}
			e := d.E(64, 8)
			d.branchPrefixes()
			d.indirect = true
			if d.reg == 2 {
				d.set("call", "call", e)
				d.legacy, d.kind = "callq", Call
			} else {
				d.set("jmp", "jmp", e)
				d.legacy, d.kind = "jmpq", IndirectJump
			}
			if d.pSeg >= 0 && d.pfx[d.pSeg].b == 0x3e {
				d.pfx[d.pSeg].name = "notrack"
			}
		case 6:
			size := d.ssize()
			e := d.E(size, size/8)
			switch {
			case d.mod == 3:
				d.set("push", "push", e)
			case size == 16:
				d.set("pushw", "push", e)
			default:
				d.set("push", "push", e)
				d.legacy = "pushq"
			}
		default:
			return errX86Invalid
		}
	default:
		return errX86Invalid
	}
	return nil
}

// branchPrefixes renames an F2 prefix on a near branch to "bnd" (MPX).
func (d *x86Decoder) branchPrefixes() {
	if d.pF2 >= 0 {
		d.pfx[d.pF2].name = "bnd"
	}
}

func (d *x86Decoder) retPrefixes() error {
	if d.p66 >= 0 {
		return errX86Invalid
	}
	d.branchPrefixes()
	return nil
}

func (d *x86Decoder) jcc(cc byte, n int) error {
	j, err := d.J(n)
	if err != nil {
		return err
	}
	d.branchPrefixes()
	name := "j" + x86CC[cc]
	d.set(name, name, j)
	d.kind = CondJump
	d.branchHint()
	return nil
}

// branchHint: objdump prints cs/ds on a conditional branch as a static
// prediction hint in AT&T syntax and as the plain prefix in Intel syntax.
func (d *x86Decoder) branchHint() {
	if d.pSeg >= 0 {
		switch d.pfx[d.pSeg].b {
		case 0x2e:
			d.hint = ",pn"
		case 0x3e:
			d.hint = ",pt"
		}
	}
}

func (d *x86Decoder) twoByte(b byte) error {
	var err error
	switch {
	case b == 0x05 || b == 0x0b || b == 0x31 || b == 0xa2:
		if err := d.noRep(); err != nil {
			return err
		}
		n := map[byte]string{0x05: "syscall", 0x0b: "ud2", 0x31: "rdtsc", 0xa2: "cpuid"}[b]
		d.set(n, n)
	case b == 0x01:
		m, err := d.next()
		if err != nil {
			return err
		}
		if err := d.noRep(); err != nil {
			return err
		}
		n := map[byte]string{0xca: "clac", 0xcb: "stac", 0xf9: "rdtscp"}[m]
		if n == "" {
			return errX86Invalid
		}
		d.set(n, n)
	case b == 0x0d || b == 0x18:
		if err = d.modrm(); err != nil {
			return err
		}
		var n string
		if b == 0x0d {
			n = [...]string{"prefetch", "prefetchw", "prefetchwt1", "prefetch", "prefetch", "prefetch", "prefetch", "prefetch"}[d.reg]
		} else if d.reg < 4 {
			n = [...]string{"prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"}[d.reg]
		}
		if b == 0x0d && d.mod == 3 || d.p66 >= 0 || d.pF2 >= 0 || d.pF3 >= 0 {
			return errX86Invalid
		}
		if b == 0x18 && d.reg >= 6 && d.mem.rip {
			return errX86Invalid // prefetchit0, prefetchit1
		}
		if n == "" || d.mod == 3 {
			return d.hintNop()
		}
		d.set(n, n, d.E(0, 1))
	case b == 0x1e && d.pF3 >= 0:
		m, err := d.next()
		if err != nil {
			return err
		}
		switch m {
		case 0xfa:
			d.set("endbr64", "endbr64")
		case 0xfb:
			d.set("endbr32", "endbr32")
		default:
			return errX86Invalid
		}
		d.pfx[d.pF3].used = true
	case b == 0x1f || b == 0x19 || b == 0x1d || b == 0x1e || b == 0x1c:
		if err = d.modrm(); err != nil {
			return err
		}
		if b == 0x1c && d.mod != 3 && d.reg == 0 {
			return errX86Invalid // cldemote
		}
		if b == 0x1e && (d.p66 >= 0 || d.pF2 >= 0) {
			return errX86Invalid
		}
		return d.hintNop()
	case b >= 0x40 && b <= 0x4f:
		if err = d.modrm(); err != nil {
			return err
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		n := "cmov" + x86CC[b&0xf]
		d.set(n, n, g, e)
	case b >= 0x80 && b <= 0x8f:
		return d.jcc(b&0xf, 4)
	case b >= 0x90 && b <= 0x9f:
		if err = d.modrm(); err != nil {
			return err
		}
		n := "set" + x86CC[b&0xf]
		d.set(n, n, d.E(8, 1))
	case b == 0xa3 || b == 0xab || b == 0xb3 || b == 0xbb:
		if err = d.modrm(); err != nil {
			return err
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		n := map[byte]string{0xa3: "bt", 0xab: "bts", 0xb3: "btr", 0xbb: "btc"}[b]
		if b != 0xa3 {
			d.hle = 1
		}
		d.set(n, n, e, g)
	case b == 0xba:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.reg < 4 {
			return errX86Invalid
		}
		size := d.osize()
		e := d.E(size, size/8)
		i, err := d.Ib()
		if err != nil {
			return err
		}
		n := [...]string{"bt", "bts", "btr", "btc"}[d.reg-4]
		if d.reg > 4 {
			d.hle = 1
		}
		d.set(d.suffixIfMem(n, size), n, e, i)
	case b == 0xa4 || b == 0xa5 || b == 0xac || b == 0xad:
		if err = d.modrm(); err != nil {
			return err
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		n := "shld"
		if b >= 0xac {
			n = "shrd"
		}
		var c x86Arg
		if b&1 == 0 {
			if c, err = d.Ib(); err != nil {
				return err
			}
		} else {
			c = d.regArg("cl")
		}
		d.set(n, n, e, g, c)
	case b == 0xaf:
		if err = d.modrm(); err != nil {
			return err
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		d.set("imul", "imul", g, e)
	case b == 0xae:
		if err = d.modrm(); err != nil {
			return err
		}
		if err := d.noRep(); err != nil {
			return err
		}
		if d.p66 >= 0 {
			return errX86Invalid
		}
		switch {
		case d.mod == 3 && (d.reg == 5 || d.reg > 5 && d.rm == 0):
			n := [...]string{"lfence", "mfence", "sfence"}[d.reg-5]
			d.set(n, n)
		case d.mod != 3 && d.reg == 7:
			d.set("clflush", "clflush", d.E(0, 1))
		default:
			return errX86Invalid
		}
	case b == 0xb0 || b == 0xb1 || b == 0xc0 || b == 0xc1:
		if err = d.modrm(); err != nil {
			return err
		}
		size := 8
		if b&1 == 1 {
			size = d.osize()
		}
		e, g := d.E(size, size/8), d.G(size)
		n := "cmpxchg"
		if b >= 0xc0 {
			n = "xadd"
		}
		d.hle = 1
		d.set(n, n, e, g)
	case b == 0xb6 || b == 0xb7 || b == 0xbe || b == 0xbf:
		if err = d.modrm(); err != nil {
			return err
		}
		size := d.osize()
		src := 8
		if b&1 == 1 {
			src = 16
		}
		e, g := d.E(src, src/8), d.G(size)
		at, in := "movz", "movzx"
		if b >= 0xbe {
			at, in = "movs", "movsx"
		}
		d.set(at+x86SizeSuffix(src)+x86SizeSuffix(size), in, g, e)
	case b == 0xb8 || b == 0xbc || b == 0xbd:
		if err = d.modrm(); err != nil {
			return err
		}
		if d.pF2 >= 0 || d.p66 >= 0 && d.rex&rexW != 0 {
			return errX86Invalid
		}
		var n string
		if d.pF3 >= 0 {
			d.pfx[d.pF3].used = true
			n = map[byte]string{0xb8: "popcnt", 0xbc: "tzcnt", 0xbd: "lzcnt"}[b]
		} else {
			n = map[byte]string{0xbc: "bsf", 0xbd: "bsr"}[b]
		}
		if n == "" {
			return errX86Invalid
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		d.set(n, n, g, e)
	case b == 0xc7:
		if err = d.modrm(); err != nil {
			return err
		}
		if err := d.noRep(); err != nil {
			return err
		}
		if d.mod == 3 || d.reg != 1 || d.p66 >= 0 {
			return errX86Invalid
		}
		if d.rex&rexW != 0 {
			d.useRex(rexW)
			d.set("cmpxchg16b", "cmpxchg16b", d.E(0, 16))
		} else {
			d.set("cmpxchg8b", "cmpxchg8b", d.E(0, 8))
		}
	case b == 0x38:
		m, err := d.next()
		if err != nil {
			return err
		}
		if m != 0xf0 && m != 0xf1 {
			return errX86Invalid
		}
		if err = d.modrm(); err != nil {
			return err
		}
		if err := d.noRep(); err != nil {
			return err
		}
		if d.mod == 3 {
			return errX86Invalid
		}
		size := d.osize()
		e, g := d.E(size, size/8), d.G(size)
		if m == 0xf0 {
			d.set("movbe", "movbe", g, e)
		} else {
			d.set("movbe", "movbe", e, g)
		}
	case b >= 0xc8 && b <= 0xcf:
		size := d.osize()
		d.set("bswap", "bswap", d.regArg(d.gpr(int(b&7)+d.rexBit(rexB), size)))
	default:
		return errX86Invalid
	}
	return nil
}

// vexInsn decodes the VEX-encoded BMI1/BMI2 general-purpose instructions.
func (d *x86Decoder) vexInsn(b byte) error {
	// Prefixes before VEX are printed by name, REX included.
	d.vexRex = d.rex
	d.vex = true
	p1, err := d.next()
	if err != nil {
		return err
	}
	var rex byte = rex0
	mmmmm, w := byte(1), byte(0)
	var p2 byte
	if b == 0xc5 {
		p2 = p1
		if p1&0x80 == 0 {
			rex |= rexR
		}
	} else {
		if p2, err = d.next(); err != nil {
			return err
		}
		if p1&0x80 == 0 {
			rex |= rexR
		}
		if p1&0x40 == 0 {
			rex |= rexX
		}
		if p1&0x20 == 0 {
			rex |= rexB
		}
		mmmmm = p1 & 0x1f
		w = p2 >> 7
	}
	if w == 1 {
		rex |= rexW
	}
	d.rex = rex
	vvvv := int(^p2>>3) & 0xf
	l := p2 >> 2 & 1
	pp := p2 & 3
	op, err := d.next()
	if err != nil {
		return err
	}
	size := 32
	if w == 1 {
		size = 64
	}
	if l != 0 {
		return errX86Invalid
	}
	vreg := d.regArg(x86Reg64[vvvv])
	if size == 32 {
		vreg = d.regArg(x86Reg32[vvvv])
	}
	var name string
	var form int // 0: reg, r/m, vvvv; 1: reg, vvvv, r/m; 2: vvvv, r/m; 3: reg, r/m, imm8
	switch {
	case mmmmm == 2 && op == 0xf2 && pp == 0:
		name, form = "andn", 1
	case mmmmm == 2 && op == 0xf3 && pp == 0:
		form = 2
	case mmmmm == 2 && op == 0xf5:
		name, form = [...]string{"bzhi", "", "pext", "pdep"}[pp], 0
		if pp != 0 {
			form = 1
		}
	case mmmmm == 2 && op == 0xf6 && pp == 3:
		name, form = "mulx", 1
	case mmmmm == 2 && op == 0xf7:
		name, form = [...]string{"bextr", "shlx", "sarx", "shrx"}[pp], 0
	case mmmmm == 3 && op == 0xf0 && pp == 3 && vvvv == 0:
		name, form = "rorx", 3
	default:
		return errX86Invalid
	}
	if err = d.modrm(); err != nil {
		return err
	}
	if form == 2 {
		name = [...]string{"", "blsr", "blsmsk", "blsi", "", "", "", ""}[d.reg]
	}
	if name == "" {
		return errX86Invalid
	}
	e := d.E(size, size/8)
	switch form {
	case 0:
		d.set(name, name, d.G(size), e, vreg)
	case 1:
		d.set(name, name, d.G(size), vreg, e)
	case 2:
		d.set(name, name, vreg, e)
	case 3:
		i, err := d.Ib()
		if err != nil {
			return err
		}
		d.set(name, name, d.G(size), e, i)
	}
	return nil
}

// hintNop decodes the reserved-NOP forms 0f 18..0f 1f /r as nop Ev
// (nopw/nopl/nopq for memory).
func (d *x86Decoder) hintNop() error {
	if d.p66 >= 0 && d.rex&rexW != 0 {
		return errX86Invalid // objdump's use of 0x66 varies by opcode here
	}
	size := d.osize()
	e := d.E(size, size/8)
	d.set(d.suffixIfMem("nop", size), "nop", e)
	return nil
}

// legacyOp is the AT&T mnemonic in the pre-2.36 spelling.
func (d *x86Decoder) legacyOp() string {
	if d.legacy != "" {
		return d.legacy
	}
	return d.op
}

func x86Hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func x86SignedHex(v int64) string {
	if v < 0 {
		return "-" + x86Hex(uint64(-v))
	}
	return x86Hex(uint64(v))
}

// memATT renders the memory operand as objdump's AT&T printer does.
func (d *x86Decoder) memATT() string {
	m := &d.mem
	var sb strings.Builder
	if m.seg != "" {
		sb.WriteString("%" + m.seg + ":")
	}
	if m.moffs {
		sb.WriteString(x86Hex(uint64(m.disp)))
		return sb.String()
	}
	haveIndex := m.index != ""
	haveDisp := m.haveBase || (m.haveSIB && (haveIndex || m.scale != 0))
	if m.mod != 0 || m.baseIs5 {
		if haveDisp || m.rip {
			sb.WriteString(x86SignedHex(m.disp))
		} else {
			sb.WriteString(x86Hex(uint64(m.disp)))
		}
		if m.rip {
			if m.addr32 {
				sb.WriteString("(%eip)")
			} else {
				sb.WriteString("(%rip)")
			}
		}
	}
	if haveDisp {
		sb.WriteString("(")
		if m.haveBase {
			sb.WriteString("%" + m.base)
		}
		if m.haveSIB && (m.scale != 0 || haveIndex || (m.haveBase && !m.sibBase4)) {
			sb.WriteString(",%" + d.indexName())
			sb.WriteString("," + strconv.Itoa(1<<m.scale))
		}
		sb.WriteString(")")
	}
	return sb.String()
}

func (d *x86Decoder) indexName() string {
	if d.mem.index != "" {
		return d.mem.index
	}
	if d.mem.addr32 {
		return "eiz"
	}
	return "riz"
}

// memIntel renders the memory operand as objdump -M intel does.
func (d *x86Decoder) memIntel(size int) string {
	m := &d.mem
	var sb strings.Builder
	if p := x86PtrName(size); p != "" {
		sb.WriteString(p + " PTR ")
	}
	if m.seg != "" {
		sb.WriteString(m.seg + ":")
	}
	haveIndex := m.index != ""
	haveDisp := m.haveBase || (m.haveSIB && (haveIndex || m.scale != 0))
	if !haveDisp && !m.rip || m.moffs {
		if m.seg == "" {
			sb.WriteString("ds:")
		}
		sb.WriteString(x86Hex(uint64(m.disp)))
		return sb.String()
	}
	sb.WriteString("[")
	if m.rip {
		if m.addr32 {
			sb.WriteString("eip")
		} else {
			sb.WriteString("rip")
		}
	}
	if m.haveBase {
		sb.WriteString(m.base)
	}
	if m.haveSIB && (m.scale != 0 || haveIndex || (m.haveBase && !m.sibBase4)) {
		if m.haveBase {
			sb.WriteString("+")
		}
		sb.WriteString(d.indexName() + "*" + strconv.Itoa(1<<m.scale))
	}
	if m.disp != 0 || m.mod != 0 || m.baseIs5 {
		switch {
		case !haveDisp:
			sb.WriteString("+" + x86Hex(uint64(m.disp)))
		case m.disp >= 0:
			sb.WriteString("+" + x86SignedHex(m.disp))
		default:
			sb.WriteString(x86SignedHex(m.disp))
		}
	}
	sb.WriteString("]")
	return sb.String()
}

// x86RexName is objdump's name for a REX prefix byte: "rex", "rex.W", "rex.WRXB".
func x86RexName(rex byte) string {
	n := "rex"
	if rex&0xf != 0 {
		n += "."
		for i, c := range "WRXB" {
			if rex&(rexW>>uint(i)) != 0 {
				n += string(c)
			}
		}
	}
	return n
}

func x86PtrName(size int) string {
	switch size {
	case 1:
		return "BYTE"
	case 2:
		return "WORD"
	case 4:
		return "DWORD"
	case 8:
		return "QWORD"
	case 16:
		return "OWORD"
	}
	return ""
}

func (d *x86Decoder) argATT(a x86Arg) string {
	switch a.kind {
	case x86ArgReg:
		if d.indirect {
			return "*%" + a.reg
		}
		return "%" + a.reg
	case x86ArgMem:
		if d.indirect {
			return "*" + d.memATT()
		}
		return d.memATT()
	case x86ArgImm:
		return "$" + x86Hex(a.imm)
	case x86ArgRel:
		return x86Hex(a.imm)
	}
	return ""
}

func (d *x86Decoder) argIntel(a x86Arg) string {
	switch a.kind {
	case x86ArgReg:
		return a.reg
	case x86ArgMem:
		return d.memIntel(a.size)
	case x86ArgImm, x86ArgRel:
		return x86Hex(a.imm)
	case x86ArgOne:
		return "1"
	}
	return ""
}

// x86Syntax is a set of the texts render builds.
type x86Syntax uint8

const (
	x86ATT x86Syntax = 1 << iota
	x86Legacy
	x86Intel
	x86All = x86ATT | x86Legacy | x86Intel
)

// render builds the instruction's texts once decoding succeeded: those in
// want (Text for x86ATT, Legacy, Intel); the others are left empty.
func (d *x86Decoder) render(want x86Syntax) X86Inst {
	inst := X86Inst{
		PC:    d.pc,
		Len:   d.pos,
		Bytes: d.code[:d.pos:d.pos],
		Op:    d.op,
		Kind:  d.kind,
	}
	if d.rel {
		inst.Target, inst.HasTarget = d.target, true
	}
	if d.memArgPresent && d.mem.rip {
		inst.Target = d.pc + uint64(d.pos) + uint64(d.mem.disp)
		if d.mem.addr32 {
			inst.Target &= 0xffffffff
		}
		inst.HasTarget, inst.RIPRelative = true, true
	}
	// Prefixes objdump did not fold into the instruction are printed
	// by name, in the order they appear.
	var att, intel []string
	for i, p := range d.pfx {
		if p.used {
			continue
		}
		if d.hint != "" && i == d.pSeg {
			intel = append(intel, p.name)
			continue
		}
		att = append(att, p.name)
		intel = append(intel, p.name)
	}
	if d.rex != 0 && !d.vex && d.rex != d.rexUsed {
		att = append(att, x86RexName(d.rex))
		intel = append(intel, x86RexName(d.rex))
	}
	if d.vexRex != 0 {
		att = append(att, x86RexName(d.vexRex))
		intel = append(intel, x86RexName(d.vexRex))
	}
	pre := strings.Join(att, " ")
	ipre := strings.Join(intel, " ")
	if d.loneRex {
		names := make([]string, 0, len(d.pfx)+1)
		for _, p := range d.pfx {
			names = append(names, p.name)
		}
		inst.Op = x86RexName(d.rex)
		inst.Text = strings.Join(append(names, inst.Op), " ")
		inst.Intel, inst.Legacy = inst.Text, inst.Text
		return inst
	}
	var aargs, iargs []string
	if want&(x86ATT|x86Legacy) != 0 {
		for i := range d.args {
			a := d.args[len(d.args)-1-i]
			if d.noReverse {
				a = d.args[i]
			}
			if s := d.argATT(a); s != "" {
				aargs = append(aargs, s)
			}
		}
	}
	if want&x86Intel != 0 {
		for _, a := range d.args {
			iargs = append(iargs, d.argIntel(a))
		}
	}
	join := func(pre, op string, args []string) string {
		s := op
		if len(args) > 0 {
			s += " " + strings.Join(args, ",")
		}
		if pre != "" {
			s = pre + " " + s
		}
		return s
	}
	if want&x86ATT != 0 {
		inst.Text = join(pre, d.op+d.hint, aargs)
	}
	if want&x86Legacy != 0 {
		inst.Legacy = join(pre, d.legacyOp()+d.hint, aargs)
	}
	if want&x86Intel != 0 {
		inst.Intel = join(ipre, d.iop, iargs)
	}
	return inst
}
