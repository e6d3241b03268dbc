// Package amd64 is an x86-64 CPU emulator that runs the machine code the
// Linux kernel's x86-64 eBPF JIT emits (5.10, 6.1, 6.x up to 6.18): the
// prologues with the tail-call counter (and the 6.11+ counter pointer),
// bpf2bpf calls, indirect and text-poked direct tail calls, the ALU, the
// div/mod dance, shifts including BMI2 shlx/shrx/sarx, atomics, loads and
// stores of every width, and the nops, fences and endbr64 around them.
//
// Instructions are decoded once per address into a compact form kept in a
// cache keyed by RIP; a write by the CPU into decoded code, Undo of such a
// write, or InvalidateCode (after a text poke from outside) drops the
// affected entries.
//
// Flags: CF, PF, AF, ZF, SF and OF are kept at their RFLAGS bit positions
// and computed as the Intel SDM defines them. Where the SDM leaves a flag
// undefined (AF after logic ops and shifts, OF after multi-bit shifts and
// rotates, SF/ZF/AF/PF after mul/imul, all six after div/idiv) this CPU
// clears it, so runs are deterministic. A shift whose count reaches or
// passes the operand width takes CF from the last bit shifted out as if
// shifting one bit at a time (the SDM's pseudocode).
//
// Single CPU: lock-prefixed read-modify-write instructions are trivially
// atomic. Every instruction either completes or faults leaving registers,
// flags and memory unchanged. Where the SDM leaves a result undefined,
// bswap of a 16-bit register clears it (as CPUs do).
//
// Implemented: the integer instructions a 64-bit JIT uses, in all operand
// sizes and with every prefix and REX form: mov (incl. movabs, movzx,
// movsx, movsxd), lea, add/or/adc/sbb/and/sub/xor/cmp, test, inc, dec,
// neg, not, mul, imul (1, 2, 3 operands), div, idiv, cbw/cwde/cdqe,
// cwd/cdq/cqo, rol/ror/rcl/rcr/shl/shr/sar, BMI2 shlx/shrx/sarx, bswap,
// xchg, xadd, cmpxchg (lock where allowed, #UD elsewhere), cmovcc, setcc,
// push/pop (register, memory, immediate), call/jmp (rel8/rel32, register,
// memory), jcc, ret (and ret imm16), leave, the nop family (90, 66 90, 0f
// 1f /r, 0f 18-1e hints, endbr64, pause, lfence/mfence/sfence), fs/gs
// segment bases, rip-relative and 32-bit addressing, and the traps int3,
// ud0/ud1/ud2 and hlt as faults. Not implemented (an "unimplemented
// instruction" fault): x87, SSE and AVX (but for the BMI2 shifts), other
// BMI1/BMI2 instructions, string instructions, bt*/bsf/bsr/popcnt/lzcnt/
// tzcnt, shld/shrd, pushf/popf and other flag-register moves, moffs
// moves (a0-a3), enter, loop/jrcxz, far branches and segment moves, 16-bit
// near branches, and system instructions.
package amd64

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/exec/mem"
)

// Register numbers in x86 encoding order.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// RFLAGS bits the CPU computes.
const (
	CF uint64 = 1 << 0
	PF uint64 = 1 << 2
	AF uint64 = 1 << 4
	ZF uint64 = 1 << 6
	SF uint64 = 1 << 7
	OF uint64 = 1 << 11

	// ArithFlags are the six status flags arithmetic instructions write.
	ArithFlags = CF | PF | AF | ZF | SF | OF
)

// RegNames are the 64-bit register names in encoding order.
var RegNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// CPU is the architectural state of one x86-64 CPU in 64-bit mode, plus
// the decode cache.
type CPU struct {
	R     [16]uint64 // rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15
	RIP   uint64
	Flags uint64 // CF, PF, AF, ZF, SF, OF at their RFLAGS positions; other bits kept as set

	// FSBase and GSBase are added to addresses with an fs:/gs: prefix
	// (the JIT's per-CPU accesses: call depth accounting, this_cpu_off).
	FSBase, GSBase uint64

	// IBT makes an indirect jmp or call fault (#CP) unless its target is
	// an endbr64, as with CONFIG_X86_KERNEL_IBT. The fault is reported
	// at the branch, which is not executed.
	IBT bool

	// Trace makes Step fill Effect.Regs and Effect.Writes, which Undo
	// needs. Without it Step allocates nothing on the common path.
	Trace bool

	cache  *decodeCache
	writes []mem.WriteRecord
}

// RegChange is one register a step changed: "rax".."r15", "rip", "rflags".
type RegChange struct {
	Reg      string
	Old, New uint64
}

// BranchInfo says how a step changed the flow of control.
type BranchInfo struct {
	// Kind is "" for straight-line instructions, else "call", "return",
	// "jump" (direct), "cond-taken", "cond-not-taken" or "indirect" (jmp
	// through a register or memory). An indirect call has Kind "call"
	// and Indirect set.
	Kind     string
	Target   uint64 // the new RIP (for cond-not-taken: the taken target)
	Indirect bool
}

// Effect describes one executed instruction.
type Effect struct {
	PC     uint64
	Len    int
	Bytes  []byte // the instruction's bytes (shared with the decode cache: do not modify)
	Regs   []RegChange
	Writes []mem.WriteRecord
	Branch BranchInfo
}

// Errors a Fault wraps.
var (
	ErrUnimplemented = errors.New("unimplemented instruction")
	ErrInvalidOpcode = errors.New("#UD invalid opcode")
	ErrDivide        = errors.New("#DE divide error")
	ErrBreakpoint    = errors.New("int3 breakpoint")
	ErrHalt          = errors.New("hlt")
	ErrControlFlow   = errors.New("#CP control protection: indirect branch target is not endbr64")
)

// Fault is an instruction that could not execute. State is unchanged.
type Fault struct {
	PC    uint64
	Bytes []byte
	Err   error
}

func (f *Fault) Error() string {
	b := "(none)"
	if len(f.Bytes) > 0 {
		b = fmt.Sprintf("% x", f.Bytes)
	}
	return fmt.Sprintf("rip %#x: bytes %s: %v", f.PC, b, f.Err)
}

func (f *Fault) Unwrap() error { return f.Err }

// Branch kinds.
const (
	KindCall         = "call"
	KindReturn       = "return"
	KindJump         = "jump"
	KindCondTaken    = "cond-taken"
	KindCondNotTaken = "cond-not-taken"
	KindIndirect     = "indirect"
)

const fastSize = 1 << 12

type fastEntry struct {
	pc uint64
	in *inst
}

type decodeCache struct {
	fast   [fastSize]fastEntry
	all    map[uint64]*inst
	lo, hi uint64 // bounds of all decoded bytes
}

func (c *CPU) getCache() *decodeCache {
	if c.cache == nil {
		c.cache = &decodeCache{all: map[uint64]*inst{}, lo: ^uint64(0)}
	}
	return c.cache
}

func fastSlot(pc uint64) uint64 { return (pc ^ pc>>12) & (fastSize - 1) }

// InvalidateCode drops decoded instructions that overlap [addr, addr+n),
// e.g. after the kernel's text_poke rewrote a direct tail-call jump.
func (c *CPU) InvalidateCode(addr, n uint64) {
	dc := c.cache
	if dc == nil || n == 0 {
		return
	}
	end := addr + n
	if end < addr {
		end = ^uint64(0)
	}
	if end <= dc.lo || addr >= dc.hi {
		return
	}
	drop := func(pc uint64) {
		delete(dc.all, pc)
		s := &dc.fast[fastSlot(pc)]
		if s.pc == pc {
			s.pc, s.in = 0, nil
		}
	}
	if n > 4096 || uint64(len(dc.all)) < n {
		for pc, in := range dc.all {
			if pc < end && pc+uint64(in.len) > addr {
				drop(pc)
			}
		}
		return
	}
	start := addr - 14
	if start > addr {
		start = 0
	}
	for pc := start; pc < end; pc++ {
		if in, ok := dc.all[pc]; ok && pc+uint64(in.len) > addr {
			drop(pc)
		}
	}
}

// FlushCode drops every decoded instruction.
func (c *CPU) FlushCode() { c.cache = nil }

func (c *CPU) codeWritten(addr uint64, n int) {
	if dc := c.cache; dc != nil && addr < dc.hi && addr+uint64(n) > dc.lo {
		c.InvalidateCode(addr, uint64(n))
	}
}

// lookup returns the decoded instruction at pc, decoding it on a miss.
func (c *CPU) lookup(m *mem.Memory, pc uint64) (*inst, error) {
	dc := c.cache
	if dc != nil {
		s := &dc.fast[fastSlot(pc)]
		if s.pc == pc && s.in != nil {
			return s.in, nil
		}
		if in := dc.all[pc]; in != nil {
			s.pc, s.in = pc, in
			return in, nil
		}
	}
	in, err := fetchDecode(m, pc)
	if err != nil {
		return nil, err
	}
	dc = c.getCache()
	dc.all[pc] = in
	s := &dc.fast[fastSlot(pc)]
	s.pc, s.in = pc, in
	if pc < dc.lo {
		dc.lo = pc
	}
	if e := pc + uint64(in.len); e > dc.hi {
		dc.hi = e
	}
	return in, nil
}

// fetchDecode reads up to 15 bytes at pc and decodes one instruction.
func fetchDecode(m *mem.Memory, pc uint64) (*inst, error) {
	var b []byte
	var ferr error
	n := maxInsnLen
	for ; n > 0; n-- {
		var err error
		b, err = m.Fetch(pc, n)
		if err == nil {
			break
		}
		if ferr == nil || n == 1 {
			ferr = err
		}
	}
	if n == 0 {
		return nil, &Fault{PC: pc, Err: ferr}
	}
	in := new(inst)
	if err := decode(b, pc, in); err != nil {
		if errors.Is(err, errTruncated) {
			if n < maxInsnLen {
				// The instruction runs past the executable bytes.
				_, ferr = m.Fetch(pc+uint64(n), 1)
				if ferr == nil {
					ferr = err
				}
				return nil, &Fault{PC: pc, Bytes: b, Err: ferr}
			}
			return nil, &Fault{PC: pc, Bytes: b, Err: fmt.Errorf("%w: instruction longer than 15 bytes", ErrInvalidOpcode)}
		}
		nb := len(b)
		if in.len > 0 && int(in.len) < nb {
			nb = int(in.len)
		}
		return nil, &Fault{PC: pc, Bytes: b[:nb], Err: err}
	}
	return in, nil
}

// Decode decodes the instruction at the start of b (at address pc) and
// returns its length; an error says why this CPU could not execute it.
func Decode(b []byte, pc uint64) (int, error) {
	var in inst
	if err := decode(b, pc, &in); err != nil {
		return int(in.len), err
	}
	return int(in.len), nil
}

// Step executes one instruction.
func (c *CPU) Step(m *mem.Memory) (Effect, error) {
	if c.Trace {
		return c.stepTrace(m)
	}
	pc := c.RIP
	var in *inst
	if dc := c.cache; dc != nil {
		if s := &dc.fast[fastSlot(pc)]; s.pc == pc {
			in = s.in
		}
	}
	if in == nil {
		var err error
		if in, err = c.lookup(m, pc); err != nil {
			return Effect{PC: pc}, err
		}
	}
	if in.fast {
		c.execRegALU(in)
		return Effect{PC: pc, Len: int(in.len), Bytes: in.raw[:in.len:in.len]}, nil
	}
	kind, target, err := c.exec(m, in)
	if err != nil {
		return Effect{PC: pc, Len: int(in.len), Bytes: in.raw[:in.len:in.len]}, &Fault{PC: pc, Bytes: in.raw[:in.len:in.len], Err: err}
	}
	return Effect{PC: pc, Len: int(in.len), Bytes: in.raw[:in.len:in.len], Branch: branchInfo(kind, target)}, nil
}

func (c *CPU) stepTrace(m *mem.Memory) (Effect, error) {
	pc := c.RIP
	in, err := c.lookup(m, pc)
	if err != nil {
		return Effect{PC: pc}, err
	}
	e := Effect{PC: pc, Len: int(in.len), Bytes: in.raw[:in.len:in.len]}
	oldR, oldRIP, oldFlags := c.R, c.RIP, c.Flags
	c.writes = c.writes[:0]
	kind, target, err := c.exec(m, in)
	if err != nil {
		c.R, c.RIP, c.Flags = oldR, oldRIP, oldFlags
		return e, &Fault{PC: pc, Bytes: e.Bytes, Err: err}
	}
	e.Branch = branchInfo(kind, target)
	for i := range c.R {
		if c.R[i] != oldR[i] {
			e.Regs = append(e.Regs, RegChange{Reg: RegNames[i], Old: oldR[i], New: c.R[i]})
		}
	}
	if c.Flags != oldFlags {
		e.Regs = append(e.Regs, RegChange{Reg: "rflags", Old: oldFlags, New: c.Flags})
	}
	e.Regs = append(e.Regs, RegChange{Reg: "rip", Old: oldRIP, New: c.RIP})
	if len(c.writes) > 0 {
		e.Writes = append([]mem.WriteRecord(nil), c.writes...)
	}
	return e, nil
}

// Undo reverts a step traced with Trace set: memory writes first, then
// registers, flags and RIP.
func (c *CPU) Undo(m *mem.Memory, e Effect) {
	m.Undo(e.Writes)
	for _, w := range e.Writes {
		c.codeWritten(w.Addr, len(w.Old))
	}
	for i := len(e.Regs) - 1; i >= 0; i-- {
		rc := e.Regs[i]
		switch rc.Reg {
		case "rip":
			c.RIP = rc.Old
		case "rflags":
			c.Flags = rc.Old
		default:
			if r := RegIndex(rc.Reg); r >= 0 {
				c.R[r] = rc.Old
			}
		}
	}
}

// RegIndex returns the encoding number of a 64-bit register name, or -1.
func RegIndex(name string) int {
	name = strings.ToLower(name)
	for i, n := range RegNames {
		if n == name {
			return i
		}
	}
	return -1
}

// FlagString renders the arithmetic flags, e.g. "CF|ZF" or "-".
func FlagString(f uint64) string {
	var parts []string
	for _, x := range []struct {
		bit  uint64
		name string
	}{{CF, "CF"}, {PF, "PF"}, {AF, "AF"}, {ZF, "ZF"}, {SF, "SF"}, {OF, "OF"}} {
		if f&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "|")
}
