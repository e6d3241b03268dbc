// Package a64 is an arm64 (A64) CPU that executes the code the arm64 eBPF
// JIT emits, one instruction at a time, on the emulated address space of
// package mem, and can step backwards.
//
// The model is one core at EL1 with 48-bit virtual addresses and
//   - SCTLR_EL1.SA set: a load or store whose base is SP faults unless SP is
//     16-byte aligned; other accesses may be unaligned, except exclusives,
//     load-acquire/store-release and atomics, which must be naturally aligned;
//   - BTI (CPU.BTI): every page guarded, SCTLR_EL1.BT1 set as in a kernel
//     built with CONFIG_ARM64_BTI_KERNEL, so paciasp is a landing pad for
//     BTYPE 01 and 10 (br x16/x17, blr) but not 11 (br through another
//     register, the JIT's tail call), which needs bti j or bti jc;
//   - pointer authentication (CPU.PAC) without FEAT_FPAC: paciasp puts a
//     7-bit MAC of (x30, sp) into bits 54:48 of x30, autiasp checks and
//     strips it or leaves x30 non-canonical (error code 0b01 in bits 54:53),
//     and the br/blr/ret that uses such an address faults (ErrPAC);
//   - a local exclusive monitor: ldxr/ldaxr set it for an address and size,
//     stxr/stlxr succeed (status 0) only with the monitor set for the same
//     address and size, and clear it; clrex clears it; other stores do not;
//   - mrs of sp_el0, tpidr_el1, tpidr_el2 (the CPU fields) and nzcv.
//
// Every instruction form the JIT emits is implemented (see insn.go of
// jit/arm64), and close relatives: all shift types, extended-register
// add/sub, bic/orn/eon/bics, pre/post-index and unscaled loads and stores,
// ldar/stlr/ldapr, every LSE atomic operation and size, cas of every size,
// csel/csinc/csinv/csneg, tbz/tbnz, the multiply-long and multiply-high
// forms, rbit/clz/cls, prfm (a NOP), and the other hints and barriers as
// NOPs. Anything else (floating point and SIMD, system instructions, pair
// exclusives, casp, ldraa, pointer authentication other than paciasp and
// autiasp when PAC is on, ...), every unallocated encoding, and the
// CONSTRAINED UNPREDICTABLE register combinations of loads and stores
// (writeback into a transfer register, ldp into one register twice, an stxr
// status register equal to Rt or Rn, should-be-one fields that are not) stop
// with a *Fault rather than doing something plausible.
//
// Decoding happens once per address: decoded instructions are cached per
// 4 KiB page. Stores the CPU makes into cached code invalidate the cache;
// writes made behind its back (mem.WriteBytes: loading an image, text_poke)
// must be reported with InvalidateCode.
package a64

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/exec/mem"
)

// CPU is the architectural state of one core plus the decode cache.
type CPU struct {
	X      [31]uint64 // x0..x30
	SP, PC uint64
	// N, Z, C, V are PSTATE.{N,Z,C,V}.
	N, Z, C, V bool

	// BTI enforces branch target identification: after br/blr the next
	// instruction must be a compatible landing pad (bti c/j/jc, paciasp).
	BTI bool
	// PAC models pointer authentication: paciasp signs x30 with SP as the
	// modifier, autiasp checks and strips it. When false both are NOPs.
	PAC bool
	// Trace makes Step report every register, flag and memory change in
	// its Effect, which Undo needs. With Trace off Step does not allocate.
	Trace bool

	// BType is PSTATE.BTYPE: 0 none, 1 (br x16/x17), 2 (blr), 3 (br).
	BType uint8

	// System registers mrs can read.
	SPEL0, TPIDREL1, TPIDREL2 uint64

	mon monitor // the local exclusive monitor

	// decode cache
	mem      *mem.Memory
	pages    map[uint64]*codePage
	lastPN   uint64
	lastPage *codePage
	codeLo   uint64 // every cached page lies in [codeLo, codeHi)
	codeHi   uint64

	slab []RegChange // backing store for Effect.Regs
}

// monitor is the single-core local exclusive monitor.
type monitor struct {
	Valid bool
	Addr  uint64
	Size  uint8
}

// RegChange is one register or flags change: Reg is "x0".."x30", "sp",
// "pc" or "nzcv" (the NZCV register: N bit 31, Z 30, C 29, V 28).
type RegChange struct {
	Reg      string
	Old, New uint64
}

// Branch kinds of BranchInfo.
const (
	BranchCall         = "call"           // bl, blr
	BranchReturn       = "return"         // ret
	BranchJump         = "jump"           // b
	BranchCondTaken    = "cond-taken"     // b.cond, cbz, cbnz, tbz, tbnz taken
	BranchCondNotTaken = "cond-not-taken" // ... not taken
	BranchIndirect     = "indirect"       // br
)

// BranchInfo says how an instruction changed the flow of control; Kind is
// "" for instructions that are not branches.
type BranchInfo struct {
	Kind   string
	Target uint64 // destination (for cond-not-taken: where it would have gone)
}

// Effect is what one Step did. Regs and Writes are filled only when
// CPU.Trace is on.
type Effect struct {
	PC   uint64 // address of the executed instruction
	Word uint32
	// Regs lists every register and flags change, in no particular order,
	// and the pc when the instruction branched (not when it fell through).
	Regs []RegChange
	// Writes lists the memory this step wrote, in order.
	Writes []mem.WriteRecord
	Branch BranchInfo

	// state Regs does not show, restored by Undo
	prevBType uint8
	prevMon   monitor
	traced    bool
}

// Fault is every error Step returns.
type Fault struct {
	PC   uint64
	Word uint32
	// NoWord is set when the instruction could not be fetched.
	NoWord bool
	Err    error
}

func (f *Fault) Error() string {
	if f.NoWord {
		return fmt.Sprintf("pc %#x: word not fetched: %v", f.PC, f.Err)
	}
	return fmt.Sprintf("pc %#x: word %#08x: %v", f.PC, f.Word, f.Err)
}

func (f *Fault) Unwrap() error { return f.Err }

// Reasons a Fault wraps (besides *mem.Fault for memory accesses).
var (
	// ErrUnimplemented: an unallocated encoding or one this CPU does not
	// implement.
	ErrUnimplemented = errors.New("unimplemented or undefined instruction")
	// ErrUnpredictable: an encoding the Arm ARM calls CONSTRAINED
	// UNPREDICTABLE (e.g. a load with writeback into its base register).
	ErrUnpredictable = errors.New("constrained unpredictable encoding")
	ErrBTI           = errors.New("BTI violation")
	ErrAlignment     = errors.New("alignment fault")
	ErrBreakpoint    = errors.New("breakpoint")
	// ErrNonCanonical: an indirect branch to an address whose bits 63:48
	// are neither all zeros nor all ones (e.g. x30 after a failed autiasp).
	ErrNonCanonical = errors.New("branch to a non-canonical address")
	// ErrPAC is wrapped together with ErrNonCanonical when the bad address
	// is what a failed autiasp left in x30.
	ErrPAC = errors.New("pointer authentication failure")
)

// NZCV returns the flags as the NZCV system register holds them.
func (c *CPU) NZCV() uint64 {
	var v uint64
	if c.N {
		v |= 1 << 31
	}
	if c.Z {
		v |= 1 << 30
	}
	if c.C {
		v |= 1 << 29
	}
	if c.V {
		v |= 1 << 28
	}
	return v
}

// SetNZCV sets the flags from an NZCV register value.
func (c *CPU) SetNZCV(v uint64) {
	c.N, c.Z, c.C, c.V = v>>31&1 != 0, v>>30&1 != 0, v>>29&1 != 0, v>>28&1 != 0
}

// Register indices of decoded operands: 0..30 are x0..x30, then the zero
// register and the stack pointer (the encoding's 31 means one or the other).
const (
	rZR = 31
	rSP = 32
)

func (c *CPU) get(n uint8) uint64 {
	if n < 31 {
		return c.X[n]
	}
	if n == rSP {
		return c.SP
	}
	return 0
}

func (c *CPU) set(n uint8, v uint64) {
	if n < 31 {
		c.X[n] = v
	} else if n == rSP {
		c.SP = v
	}
}

// Step executes the instruction at c.PC. On error (always a *Fault) the CPU
// and memory are unchanged.
func (c *CPU) Step(m *mem.Memory) (e Effect, err error) {
	pc := c.PC
	var d *dec
	if c.mem == m && pc&3 == 0 && pc>>pageShift == c.lastPN {
		d = &c.lastPage.ins[pc&pageMask>>2]
	}
	e.PC = pc
	if d == nil || !d.valid {
		if d, err = c.fetchSlow(m, pc); err != nil {
			return e, err
		}
	}
	e.Word = d.word
	e.prevBType = c.BType
	e.prevMon = c.mon
	if c.BType != 0 && c.BTI && !btiCompatible(d, c.BType) {
		return e, c.btiFault(pc, d)
	}
	if c.Trace {
		err = c.stepTraced(m, d, &e)
		return e, err
	}
	c.BType = 0 // br and blr set it again
	if err := c.exec(m, d, &e); err != nil {
		c.BType = e.prevBType
		return e, &Fault{PC: pc, Word: d.word, Err: err}
	}
	return e, nil
}

func (c *CPU) stepTraced(m *mem.Memory, d *dec, e *Effect) error {
	x, sp, flags := c.X, c.SP, c.NZCV()
	e.traced = true
	c.BType = 0
	if err := c.exec(m, d, e); err != nil {
		c.BType = e.prevBType
		e.Writes = nil
		return &Fault{PC: e.PC, Word: d.word, Err: err}
	}
	c.traceRegs(e, &x, sp, flags)
	return nil
}

// traceRegs fills e.Regs with the differences from the state before.
func (c *CPU) traceRegs(e *Effect, x *[31]uint64, sp, flags uint64) {
	if len(c.slab) < 34 {
		c.slab = make([]RegChange, 1024)
	}
	n := 0
	buf := c.slab
	for i := range x {
		if x[i] != c.X[i] {
			buf[n] = RegChange{Reg: xNames[i], Old: x[i], New: c.X[i]}
			n++
		}
	}
	if sp != c.SP {
		buf[n] = RegChange{Reg: "sp", Old: sp, New: c.SP}
		n++
	}
	if f := c.NZCV(); f != flags {
		buf[n] = RegChange{Reg: "nzcv", Old: flags, New: f}
		n++
	}
	if c.PC != e.PC+4 {
		buf[n] = RegChange{Reg: "pc", Old: e.PC, New: c.PC}
		n++
	}
	if n > 0 {
		e.Regs = buf[:n:n]
		c.slab = buf[n:]
	}
}

var xNames = func() (n [31]string) {
	for i := range n {
		n[i] = fmt.Sprintf("x%d", i)
	}
	return
}()

// Undoable reports whether Undo can revert e: whether it was made with
// Trace on (the only way Effect records the registers and memory).
func (e Effect) Undoable() bool { return e.traced }

// ExclusiveMonitor returns the address and size the local exclusive monitor
// holds, and whether it is set (by ldxr, until stxr/stlxr or clrex).
func (c *CPU) ExclusiveMonitor() (addr uint64, size int, ok bool) {
	return c.mon.Addr, int(c.mon.Size), c.mon.Valid
}

// Undo reverts the step that produced e (the most recent one not yet
// undone): registers, flags, BTYPE, the exclusive monitor and memory. e
// must come from a Step made with Trace on (see Effect.Undoable); of any
// other Effect only pc, BTYPE and the monitor can be restored.
func (c *CPU) Undo(m *mem.Memory, e Effect) {
	for i := len(e.Regs) - 1; i >= 0; i-- {
		r := e.Regs[i]
		switch r.Reg {
		case "sp":
			c.SP = r.Old
		case "pc":
		case "nzcv":
			c.SetNZCV(r.Old)
		default:
			if n, err := strconv.Atoi(strings.TrimPrefix(r.Reg, "x")); err == nil && n >= 0 && n < 31 {
				c.X[n] = r.Old
			}
		}
	}
	m.Undo(e.Writes)
	for _, w := range e.Writes {
		c.noteWrite(w.Addr, uint64(len(w.Old)))
	}
	c.PC = e.PC
	c.BType = e.prevBType
	c.mon = e.prevMon
}

// Pointer authentication model: the PAC lives in bits 54:48 (7 bits) of a
// signed pointer, XORed into the canonical extension bits; bit 55 keeps
// selecting the address half. pacHash never returns 0, so a signed pointer
// is never canonical and an unsigned one never authenticates.
const pacField = uint64(0x7f) << 48

func pacHash(ptr, mod uint64) uint64 {
	h := ptr*0x9e3779b97f4a7c15 ^ bits.RotateLeft64(mod, 29)*0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	h ^= h >> 29
	p := h & 0x7f
	if p == 0 {
		p = 1
	}
	return p
}

// pacStrip restores the extension bits 54:48 from bit 55.
func pacStrip(ptr uint64) uint64 {
	if ptr>>55&1 != 0 {
		return ptr | pacField
	}
	return ptr &^ pacField
}

func pacSign(ptr, mod uint64) uint64 {
	s := pacStrip(ptr)
	return s ^ pacHash(s, mod)<<48
}

// pacAuth returns the authenticated pointer, or on failure the stripped
// pointer with the error code 0b01 (key A) in bits 54:53, which makes it
// non-canonical.
func pacAuth(ptr, mod uint64) (uint64, bool) {
	s := pacStrip(ptr)
	if s^pacHash(s, mod)<<48 == ptr {
		return s, true
	}
	return s&^(3<<53) | 1<<53, false
}

func canonical(a uint64) bool { return a>>48 == 0 || a>>48 == 0xffff }

// pacFailed reports whether a looks like what a failed autiasp leaves.
func pacFailed(a uint64) bool {
	return a == pacStrip(a)&^(3<<53)|1<<53
}

func btiCompatible(d *dec, bt uint8) bool {
	switch d.op {
	case opBTI:
		// d.amt: bit 0 c (BTYPE 01, 10), bit 1 j (BTYPE 01, 11)
		switch bt {
		case 1:
			return d.amt != 0
		case 2:
			return d.amt&1 != 0
		case 3:
			return d.amt&2 != 0
		}
	case opPACIASP:
		return bt == 1 || bt == 2 // SCTLR_EL1.BT1 = 1
	}
	return false
}

func (c *CPU) btiFault(pc uint64, d *dec) error {
	want := [4]string{1: "bti c, bti j, bti jc or paciasp (br x16/x17, BTYPE 01)",
		2: "bti c, bti jc or paciasp (blr, BTYPE 10)", 3: "bti j or bti jc (br, BTYPE 11)"}[c.BType&3]
	return &Fault{PC: pc, Word: d.word, Err: fmt.Errorf("%w: indirect branch landed on a non-landing pad, needs %s", ErrBTI, want)}
}
