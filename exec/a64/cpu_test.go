package a64

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// Words used below (checked by the assembler in cases.txt where they also
// appear).
const (
	wNOP     = 0xd503201f
	wBTIC    = 0xd503245f
	wBTIJ    = 0xd503249f
	wBTIJC   = 0xd50324df
	wPACIASP = 0xd503233f
	wAUTIASP = 0xd50323bf
	wRET     = 0xd65f03c0
	wBRX1    = 0xd61f0020 // br x1
	wBRX10   = 0xd61f0140 // br x10
	wBRX16   = 0xd61f0200 // br x16
	wBLRX1   = 0xd63f0020 // blr x1
	wPUSH    = 0xa9bf7bfd // stp x29, x30, [sp, #-16]!
	wPOP     = 0xa8c17bfd // ldp x29, x30, [sp], #16
	wMOVX0   = 0xd2800540 // mov x0, #42
)

func TestBTI(t *testing.T) {
	type tc struct {
		name    string
		branch  uint32
		reg     int
		landing uint32
		ok      bool
	}
	cases := []tc{
		{"br to nop", wBRX1, 1, wNOP, false},
		{"br to bti c", wBRX1, 1, wBTIC, false},
		{"br to bti j", wBRX1, 1, wBTIJ, true},
		{"br to bti jc", wBRX1, 1, wBTIJC, true},
		{"br to paciasp", wBRX1, 1, wPACIASP, false},
		{"br x10 to bti j (the JIT's tail call)", wBRX10, 10, wBTIJ, true},
		{"br x10 to bti c", wBRX10, 10, wBTIC, false},
		{"br x16 to bti c", wBRX16, 16, wBTIC, true},
		{"br x16 to paciasp", wBRX16, 16, wPACIASP, true},
		{"br x16 to nop", wBRX16, 16, wNOP, false},
		{"blr to bti c", wBLRX1, 1, wBTIC, true},
		{"blr to bti j", wBLRX1, 1, wBTIJ, false},
		{"blr to bti jc", wBLRX1, 1, wBTIJC, true},
		{"blr to paciasp", wBLRX1, 1, wPACIASP, true},
		{"blr to mov", wBLRX1, 1, wMOVX0, false},
	}
	for _, c := range cases {
		for _, on := range []bool{true, false} {
			cpu, m := newMachine(t, []uint32{c.branch, wNOP, wNOP, wNOP, c.landing, wNOP})
			cpu.BTI = on
			cpu.X[c.reg] = textBase + 16
			if _, err := cpu.Step(m); err != nil {
				t.Fatalf("%s: branch: %v", c.name, err)
			}
			_, err := cpu.Step(m)
			want := c.ok || !on
			if (err == nil) != want {
				t.Errorf("%s (BTI %v): landing: err = %v, want ok = %v", c.name, on, err, want)
			}
			if err != nil {
				if !errors.Is(err, ErrBTI) || !strings.Contains(err.Error(), "BTI violation") {
					t.Errorf("%s: %v is not a BTI violation", c.name, err)
				}
				if cpu.PC != textBase+16 {
					t.Errorf("%s: pc moved to %#x on a fault", c.name, cpu.PC)
				}
				continue
			}
			if cpu.BType != 0 {
				t.Errorf("%s: BTYPE %d after the landing pad", c.name, cpu.BType)
			}
		}
	}
	// ret and direct branches need no landing pad.
	cpu, m := newMachine(t, []uint32{wRET, wNOP, wNOP, wNOP, wNOP})
	cpu.BTI = true
	cpu.X[30] = textBase + 16
	for range 2 {
		if _, err := cpu.Step(m); err != nil {
			t.Fatal(err)
		}
	}
}

// pacProgram: paciasp; stp x29, x30, [sp, #-16]!; ldp x29, x30, [sp], #16;
// autiasp; ret; and at +0x40 the caller's continuation.
func pacProgram(t *testing.T) (*CPU, *mem.Memory) {
	words := make([]uint32, 20)
	for i := range words {
		words[i] = wNOP
	}
	copy(words, []uint32{wPACIASP, wPUSH, wPOP, wAUTIASP, wRET})
	c, m := newMachine(t, words)
	c.PAC = true
	c.X[30] = textBase + 0x40
	return c, m
}

func TestPAC(t *testing.T) {
	c, m := pacProgram(t)
	c.Trace = true
	e, err := c.Step(m) // paciasp
	if err != nil {
		t.Fatal(err)
	}
	signed := c.X[30]
	if signed == textBase+0x40 || canonical(signed) || pacStrip(signed) != textBase+0x40 {
		t.Fatalf("paciasp: x30 = %#x, want a non-canonical signed %#x", signed, textBase+0x40)
	}
	if len(e.Regs) != 1 || e.Regs[0].Reg != "x30" {
		t.Errorf("paciasp effect %+v", e.Regs)
	}
	for range 4 {
		if _, err := c.Step(m); err != nil {
			t.Fatal(err)
		}
	}
	if c.PC != textBase+0x40 || c.X[30] != textBase+0x40 {
		t.Fatalf("round trip: pc %#x x30 %#x", c.PC, c.X[30])
	}

	// Kernel addresses sign and authenticate too.
	for _, lr := range []uint64{0xffff800008123454, 0x0000aaaa12345678, 0} {
		for _, sp := range []uint64{0xffff80000a0b3ff0, 0x10008000} {
			s := pacSign(lr, sp)
			if canonical(s) {
				t.Errorf("sign(%#x, %#x) = %#x is canonical", lr, sp, s)
			}
			if a, ok := pacAuth(s, sp); !ok || a != lr {
				t.Errorf("auth(sign(%#x)) = %#x, %v", lr, a, ok)
			}
			if a, ok := pacAuth(s, sp+16); ok || canonical(a) {
				t.Errorf("auth with another sp = %#x, %v; want a non-canonical failure", a, ok)
			}
			if a, ok := pacAuth(lr, sp); ok || canonical(a) {
				t.Errorf("auth of an unsigned pointer = %#x, %v", a, ok)
			}
		}
	}

	// Corrupting x30 between paciasp and autiasp makes ret fault.
	for _, cr := range []struct {
		name    string
		onStack bool // corrupt the saved copy before the pop, else x30 after it
		do      func(c *CPU, m *mem.Memory)
	}{
		{"another return address", false, func(c *CPU, m *mem.Memory) { c.X[30] ^= 4 }},
		{"PAC stripped", false, func(c *CPU, m *mem.Memory) { c.X[30] = pacStrip(c.X[30]) }},
		{"PAC bits changed", false, func(c *CPU, m *mem.Memory) { c.X[30] ^= 1 << 50 }},
		{"another SP", false, func(c *CPU, m *mem.Memory) { c.SP -= 16 }},
		{"overwritten on the stack", true, func(c *CPU, m *mem.Memory) { m.Store(c.SP+8, 8, textBase+0x80) }},
	} {
		c, m := pacProgram(t)
		for range 2 { // paciasp, push
			if _, err := c.Step(m); err != nil {
				t.Fatal(err)
			}
		}
		if cr.onStack {
			cr.do(c, m)
		}
		if _, err := c.Step(m); err != nil { // pop
			t.Fatal(err)
		}
		if !cr.onStack {
			cr.do(c, m)
		}
		if _, err := c.Step(m); err != nil { // autiasp never faults (no FEAT_FPAC)
			t.Fatal(err)
		}
		_, err := c.Step(m) // ret
		if err == nil {
			t.Errorf("%s: ret went to %#x", cr.name, c.PC)
			continue
		}
		var f *Fault
		if !errors.As(err, &f) || f.PC != textBase+16 || f.Word != wRET {
			t.Errorf("%s: fault %v does not name the ret", cr.name, err)
		}
		if !errors.Is(err, ErrPAC) || !errors.Is(err, ErrNonCanonical) {
			t.Errorf("%s: fault %v: want a pointer authentication failure", cr.name, err)
		}
	}

	// With PAC off, paciasp and autiasp are NOPs.
	c, m = pacProgram(t)
	c.PAC = false
	c.Step(m)
	if c.X[30] != textBase+0x40 {
		t.Errorf("paciasp with PAC off changed x30 to %#x", c.X[30])
	}
}

// TestUndoRandom runs random programs (words of cases.txt), undoing back to
// the start and checking every intermediate state on the way.
func TestUndoRandom(t *testing.T) {
	var pool []uint32
	for _, fc := range loadCases(t) {
		pool = append(pool, fc.words...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const progLen = 64
	for round := range 40 {
		words := make([]uint32, progLen)
		for i := range words {
			words[i] = pool[rng.IntN(len(pool))]
		}
		c, m := newMachine(t, words)
		c.Trace = true
		c.BTI = round%2 == 0
		c.PAC = round%3 != 0
		for i := range c.X {
			switch rng.IntN(4) {
			case 0:
				c.X[i] = dataBase + uint64(rng.IntN(0x1000/8))*8
			case 1:
				c.X[i] = uint64(rng.IntN(64))
			case 2:
				c.X[i] = textBase + uint64(rng.IntN(progLen))*4
			default:
				c.X[i] = rng.Uint64()
			}
		}
		c.SetNZCV(uint64(rng.IntN(16)) << 28)
		for a := uint64(dataBase); a < dataBase+0x1000; a += 8 {
			m.Store(a, 8, rng.Uint64())
		}
		type snap struct {
			st  machineState
			mem uint64
		}
		// Every step compares where the random bases point (the first 4 KiB
		// of data) and the stack; the whole region is compared at the end.
		hashMem := func() uint64 {
			h := fnv.New64a()
			for _, r := range [][2]uint64{{dataBase, 0x1100}, {dataBase + 0x7f00, 0x200}, {dataBase + dataSize - 0x100, 0x100}} {
				b, _ := m.ReadBytes(r[0], int(r[1]))
				h.Write(b)
			}
			return h.Sum64()
		}
		full, _ := m.ReadBytes(dataBase, dataSize)
		type event struct {
			e      Effect
			manual bool   // a pc change the test made after a fault
			oldPC  uint64 // for manual events
			oldBT  uint8
		}
		var snaps []snap
		var events []event
		for step := 0; step < 300; step++ {
			snaps = append(snaps, snap{stateOf(c), hashMem()})
			e, err := c.Step(m)
			if err != nil {
				var f *Fault
				if !errors.As(err, &f) {
					t.Fatalf("error %T is not a *Fault", err)
				}
				if stateOf(c) != snaps[len(snaps)-1].st || hashMem() != snaps[len(snaps)-1].mem {
					t.Fatalf("fault %v changed the state", err)
				}
				// Continue somewhere else in the program.
				events = append(events, event{manual: true, oldPC: c.PC, oldBT: c.BType})
				c.PC = textBase + uint64(rng.IntN(progLen))*4
				c.BType = 0
				continue
			}
			events = append(events, event{e: e})
		}
		for i := len(events) - 1; i >= 0; i-- {
			if ev := events[i]; ev.manual {
				c.PC, c.BType = ev.oldPC, ev.oldBT
			} else {
				c.Undo(m, ev.e)
			}
			if d := diffStates(stateOf(c), snaps[i].st); d != nil {
				t.Fatalf("round %d: undo of step %d (%#08x at %#x): %s", round, i, events[i].e.Word, events[i].e.PC, strings.Join(d, "; "))
			}
			if hashMem() != snaps[i].mem {
				t.Fatalf("round %d: undo of step %d (%#08x): memory differs", round, i, events[i].e.Word)
			}
		}
		if b, _ := m.ReadBytes(dataBase, dataSize); string(b) != string(full) {
			t.Fatalf("round %d: memory differs after undoing everything", round)
		}
	}
}

// TestCodeCache checks that stores into code and InvalidateCode drop stale
// decodings.
func TestCodeCache(t *testing.T) {
	m := mem.New(0)
	if err := m.Map("rwx", textBase, 0x2000, mem.Read|mem.Write|mem.Exec); err != nil {
		t.Fatal(err)
	}
	put := func(addr uint64, w uint32) {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], w)
		if err := m.WriteBytes(addr, b[:]); err != nil {
			t.Fatal(err)
		}
	}
	put(textBase, wMOVX0)        // mov x0, #42
	put(textBase+4, 0xd2800021)  // mov x1, #1
	put(textBase+8, 0xb9000043)  // str w3, [x2]
	put(textBase+12, 0x17fffffd) // b .-12
	c := &CPU{PC: textBase}
	c.X[2] = textBase + 0x100
	for range 4 {
		if _, err := c.Step(m); err != nil {
			t.Fatal(err)
		}
	}
	// text_poke behind the CPU's back: stale until InvalidateCode.
	put(textBase, 0xd2800060) // mov x0, #3
	c.Step(m)
	if c.X[0] != 42 {
		t.Fatalf("x0 = %d: the cache was not used", c.X[0])
	}
	c.InvalidateCode(textBase+2, 1)
	c.PC = textBase
	c.Step(m)
	if c.X[0] != 3 {
		t.Fatalf("x0 = %d after InvalidateCode, want 3", c.X[0])
	}
	// The CPU's own store into the code invalidates by itself.
	c.X[2], c.X[3] = textBase+4, 0xd28000e1 // mov x1, #7
	c.PC = textBase + 8
	c.Step(m) // str
	c.Step(m) // b
	c.Step(m) // mov x0, #3
	c.Step(m) // mov x1, #7
	if c.X[1] != 7 {
		t.Fatalf("x1 = %d after the CPU rewrote the instruction, want 7", c.X[1])
	}
	// Undo of a code store restores the old decoding too.
	c.Trace = true
	c.X[3] = 0xd2800101 // mov x1, #8
	c.PC = textBase + 8
	e, err := c.Step(m)
	if err != nil {
		t.Fatal(err)
	}
	c.Undo(m, e)
	c.PC = textBase + 4
	c.Step(m)
	if c.X[1] != 7 {
		t.Fatalf("x1 = %d after undoing the code store, want 7", c.X[1])
	}
	// A new memory flushes the cache.
	m2 := mem.New(0)
	m2.Map("rwx", textBase, 0x1000, mem.Read|mem.Exec)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], 0xd2800120) // mov x0, #9
	m2.WriteBytes(textBase, b[:])
	c.PC = textBase
	c.Step(m2)
	if c.X[0] != 9 {
		t.Fatalf("x0 = %d on a new memory, want 9", c.X[0])
	}
}

func TestFaultFormat(t *testing.T) {
	c, m := newMachine(t, []uint32{0x00000000})
	_, err := c.Step(m) // udf #0
	if err == nil || err.Error() != "pc 0x400000: word 0x00000000: unimplemented or undefined instruction: encoding not implemented" {
		t.Errorf("udf: %v", err)
	}
	c.PC = 0x500000
	_, err = c.Step(m)
	var f *Fault
	if !errors.As(err, &f) || !f.NoWord || !strings.Contains(err.Error(), "pc 0x500000") {
		t.Errorf("fetch from unmapped memory: %v", err)
	}
	var mf *mem.Fault
	if !errors.As(err, &mf) || mf.Op != "fetch" {
		t.Errorf("fetch fault does not wrap the *mem.Fault: %v", err)
	}
	c.PC = textBase + 2
	if _, err = c.Step(m); !errors.Is(err, ErrAlignment) {
		t.Errorf("misaligned pc: %v", err)
	}
	c.PC = dataBase
	if _, err = c.Step(m); err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Errorf("fetch from data: %v", err)
	}
}

// TestEffect checks what Step reports.
func TestEffect(t *testing.T) {
	c, m := newMachine(t, []uint32{wPUSH, 0x94000010, wNOP}) // stp; bl .+0x40
	c.Trace = true
	c.X[29], c.X[30] = 1, 2
	e, err := c.Step(m)
	if err != nil {
		t.Fatal(err)
	}
	if e.PC != textBase || e.Word != wPUSH || len(e.Regs) != 1 || e.Regs[0] != (RegChange{"sp", dataBase + dataSize, dataBase + dataSize - 16}) {
		t.Errorf("stp effect: %+v", e)
	}
	if len(e.Writes) != 2 || e.Writes[0].Addr != dataBase+dataSize-16 || e.Writes[1].Addr != dataBase+dataSize-8 ||
		e.Writes[0].New[0] != 1 || e.Writes[1].New[0] != 2 || len(e.Writes[0].Old) != 8 {
		t.Errorf("stp writes: %+v", e.Writes)
	}
	e, _ = c.Step(m)
	if e.Branch != (BranchInfo{BranchCall, textBase + 4 + 0x40}) {
		t.Errorf("bl branch info %+v", e.Branch)
	}
	want := map[string]RegChange{"x30": {"x30", 2, textBase + 8}, "pc": {"pc", textBase + 4, textBase + 0x44}}
	if len(e.Regs) != 2 || want[e.Regs[0].Reg] != e.Regs[0] || want[e.Regs[1].Reg] != e.Regs[1] {
		t.Errorf("bl regs %+v", e.Regs)
	}
	// Without Trace: no Regs, no Writes, same Branch.
	c, m = newMachine(t, []uint32{wPUSH, 0x94000010})
	e, _ = c.Step(m)
	if e.Regs != nil || e.Writes != nil {
		t.Errorf("untraced effect %+v", e)
	}
	e, _ = c.Step(m)
	if e.Branch.Kind != BranchCall {
		t.Errorf("untraced branch %+v", e.Branch)
	}
}

// TestImplemented covers the exported decoder check.
func TestImplemented(t *testing.T) {
	for _, w := range []uint32{wNOP, wPACIASP, wBTIJ, wRET, 0xd5033bbf /* dmb ish */, 0xc8dffc20 /* ldar */} {
		if err := Implemented(w, textBase); err != nil {
			t.Errorf("%#08x: %v", w, err)
		}
	}
	for _, w := range []uint32{0, 0x9e670020 /* fmov d0, x1 */, 0xd4000001 /* svc */} {
		if err := Implemented(w, textBase); !errors.Is(err, ErrUnimplemented) {
			t.Errorf("%#08x: %v, want ErrUnimplemented", w, err)
		}
	}
	if err := Implemented(0xf8408421, textBase); !errors.Is(err, ErrUnpredictable) { // ldr x1, [x1], #8
		t.Errorf("ldr x1, [x1], #8: %v", err)
	}
}

func FuzzStep(f *testing.F) {
	for _, w := range []uint32{wNOP, wPUSH, wPOP, wRET, wBRX1, 0xf8408421, 0x88027c20, 0xc8e0fc22, 0xb8200020, 0, 0xffffffff} {
		f.Add(w, uint64(dataBase), uint64(0x10), uint8(0))
	}
	f.Add(uint32(0x9ac00820), uint64(1), uint64(0), uint8(0xf)) // udiv x0, x1, x0
	f.Fuzz(func(t *testing.T, w uint32, a, b uint64, flags uint8) {
		c, m := newMachine(t, []uint32{w, wNOP})
		for i := range c.X {
			switch i % 3 {
			case 0:
				c.X[i] = a
			case 1:
				c.X[i] = b
			default:
				c.X[i] = dataBase + (a+b)%dataSize
			}
		}
		c.SetNZCV(uint64(flags&15) << 28)
		c.BTI, c.PAC, c.Trace = flags&16 != 0, flags&32 != 0, flags&64 != 0
		if flags&128 != 0 {
			c.SP = a
		}
		before := stateOf(c)
		memBefore, _ := m.ReadBytes(dataBase, dataSize)
		e, err := c.Step(m)
		if err != nil {
			var f *Fault
			if !errors.As(err, &f) || f.PC != textBase || f.Word != w {
				t.Fatalf("%#08x: error %v is not a *Fault naming the instruction", w, err)
			}
			if d := diffStates(stateOf(c), before); d != nil {
				t.Fatalf("%#08x: fault %v changed %v", w, err, d)
			}
			memAfter, _ := m.ReadBytes(dataBase, dataSize)
			if string(memAfter) != string(memBefore) {
				t.Fatalf("%#08x: fault %v changed memory", w, err)
			}
			return
		}
		if e.Word != w || e.PC != textBase {
			t.Fatalf("%#08x: effect %+v", w, e)
		}
		if err := Implemented(w, textBase); err != nil {
			t.Fatalf("%#08x: executed, yet Implemented says %v", w, err)
		}
		if c.Trace {
			c.Undo(m, e)
			if d := diffStates(stateOf(c), before); d != nil {
				t.Fatalf("%#08x: undo: %v", w, d)
			}
		}
	})
}

func TestInvalidateCodeRanges(t *testing.T) {
	c, m := newMachine(t, []uint32{wNOP, wNOP, wNOP})
	for range 3 {
		c.Step(m)
	}
	valid := func() (n int) {
		for _, pg := range c.pages {
			for _, d := range pg.ins {
				if d.valid {
					n++
				}
			}
		}
		return
	}
	if valid() != 3 {
		t.Fatalf("%d cached", valid())
	}
	c.InvalidateCode(textBase+5, 1) // inside the second instruction
	if valid() != 2 || c.pages[textBase>>pageShift].ins[1].valid {
		t.Fatal("InvalidateCode(+5, 1)")
	}
	c.InvalidateCode(textBase+8, 0)
	if valid() != 2 {
		t.Fatal("InvalidateCode of 0 bytes")
	}
	c.InvalidateCode(0, ^uint64(0)) // everything, without walking 2^52 pages
	if valid() != 0 {
		t.Fatal("InvalidateCode(0, max)")
	}
	c.PC = textBase
	c.Step(m)
	c.InvalidateCode(^uint64(0)-3, 100) // wraps
	if valid() != 1 {
		t.Fatal("wrapping range")
	}
}

// TestADR: adr computes pc + imm21 (the arm64 trampolines' "adr lr, #8").
// Words from clang 14 / llvm-objdump (aarch64-linux-gnu).
func TestADR(t *testing.T) {
	for _, tc := range []struct {
		word uint32
		rd   int
		off  int64
	}{
		{0x1000005e, 30, 8},      // adr x30, #8
		{0x10ffffe3, 3, -4},      // adr x3, #-4
		{0x707fffe0, 0, 1048575}, // adr x0, #1048575
	} {
		const pc = 0xffff800008000000
		m := mem.New(0)
		if err := m.Map("text", pc, 0x1000, mem.Read|mem.Exec); err != nil {
			t.Fatal(err)
		}
		m.WriteBytes(pc, binary.LittleEndian.AppendUint32(nil, tc.word))
		c := &CPU{PC: pc}
		if _, err := c.Step(m); err != nil {
			t.Fatalf("%#x: %v", tc.word, err)
		}
		if want := uint64(pc) + uint64(tc.off); c.X[tc.rd] != want || c.PC != pc+4 {
			t.Errorf("%#08x: x%d = %#x, pc %#x; want %#x, pc %#x", tc.word, tc.rd, c.X[tc.rd], c.PC, want, uint64(pc+4))
		}
	}
}
