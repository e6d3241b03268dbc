package amd64

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// undoPool is straight-line code for random programs (assembled with GNU
// as). Memory operands use rdi, rsi and rbp, which no entry writes, and
// rsp, which only push/pop move.
var undoPool = []string{
	"4801d8",               // add rax, rbx
	"4829d1",               // sub rcx, rdx
	"4531c8",               // xor r8d, r9d
	"4d21da",               // and r10, r11
	"09c3",                 // or ebx, eax
	"4839c8",               // cmp rax, rcx
	"4d85c8",               // test r8, r9
	"4811c2",               // adc rdx, rax
	"19d9",                 // sbb ecx, ebx
	"480578563412",         // add rax, 0x12345678
	"83c3fb",               // add ebx, -5
	"4983e97f",             // sub r9, 0x7f
	"345a",                 // xor al, 0x5a
	"6681e1f00f",           // and cx, 0x0ff0
	"4183fb21",             // cmp r11d, 0x21
	"48014708",             // add QWORD PTR [rdi+8], rax
	"294ef0",               // sub DWORD PTR [rsi-16], ecx
	"48035718",             // add rdx, QWORD PTR [rdi+0x18]
	"48833e21",             // cmp QWORD PTR [rsi], 0x21
	"48830701",             // add QWORD PTR [rdi], 1
	"f0015f04",             // lock add DWORD PTR [rdi+4], ebx
	"f0480fc14608",         // lock xadd QWORD PTR [rsi+8], rax
	"f0480fb15f10",         // lock cmpxchg QWORD PTR [rdi+16], rbx
	"f0440fb14604",         // lock cmpxchg DWORD PTR [rsi+4], r8d
	"f048874f20",           // lock xchg QWORD PTR [rdi+0x20], rcx
	"4991",                 // xchg rax, r9
	"4c895728",             // mov QWORD PTR [rdi+0x28], r10
	"44895e2c",             // mov DWORD PTR [rsi+0x2c], r11d
	"66c745ee3412",         // mov WORD PTR [rbp-0x12], 0x1234
	"885ddf",               // mov BYTE PTR [rbp-0x21], bl
	"488b4628",             // mov rax, QWORD PTR [rsi+0x28]
	"0fb65f03",             // movzx ebx, BYTE PTR [rdi+3]
	"480fbf4e06",           // movsx rcx, WORD PTR [rsi+6]
	"48635710",             // movsxd rdx, DWORD PTR [rdi+0x10]
	"450fb7c0",             // movzx r8d, r8w
	"4c8d4cc710",           // lea r9, [rdi+rax*8+0x10]
	"48c1e003",             // shl rax, 3
	"d1eb",                 // shr ebx, 1
	"48d3f9",               // sar rcx, cl
	"48c1c220",             // rol rdx, 32
	"66c1c808",             // ror ax, 8
	"41d3e2",               // shl r10d, cl
	"c442f1f7db",           // shlx r11, r11, rcx
	"c442faf7c0",           // sarx r8, r8, rax
	"c44263f7c9",           // shrx r9d, r9d, ebx
	"480fafc3",             // imul rax, rbx
	"6bc907",               // imul ecx, ecx, 7
	"4d69c045230100",       // imul r8, r8, 0x12345
	"48f7e3",               // mul rbx
	"48f7e9",               // imul rcx
	"0fc8",                 // bswap eax
	"490fca",               // bswap r10
	"48f7da",               // neg rdx
	"49f7d3",               // not r11
	"ffc1",                 // inc ecx
	"48ff4f30",             // dec QWORD PTR [rdi+0x30]
	"50",                   // push rax
	"5b",                   // pop rbx
	"4153",                 // push r11
	"415a",                 // pop r10
	"4899",                 // cqo
	"99",                   // cdq
	"480f44c3",             // cmove rax, rbx
	"0f4cca",               // cmovl ecx, edx
	"0f94c0",               // sete al
	"0f924738",             // setb BYTE PTR [rdi+0x38]
	"49bb8877665544332211", // movabs r11, 0x1122334455667788
	"b800000080",           // mov eax, 0x80000000
	"48c7c1ffffffff",       // mov rcx, -1
	"31d2",                 // xor edx, edx
	"48f7f3",               // div rbx
	"f7f9",                 // idiv ecx
	"0f1f0400",             // nop DWORD PTR [rax+rax*1+0x0]
	"0faee8",               // lfence
}

const undoStackTop = caseStack + 0x8000

type snapshot struct {
	r          [16]uint64
	rip, flags uint64
	data       []byte
	stack      []byte
}

func takeSnapshot(t *testing.T, c *CPU, m *mem.Memory) snapshot {
	// The programs only touch the first 4 KiB of data and the stack
	// within 4 KiB below its start.
	d, err := m.ReadBytes(caseData, 0x1000)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.ReadBytes(undoStackTop-0x1000, 0x1008)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{c.R, c.RIP, c.Flags, d, s}
}

func (s snapshot) equal(o snapshot) bool {
	return s.r == o.r && s.rip == o.rip && s.flags == o.flags && bytes.Equal(s.data, o.data) && bytes.Equal(s.stack, o.stack)
}

// randomProgram lays out n pool instructions, some preceded by a jcc over
// them, and a jmp back to the start.
func randomProgram(rng *rand.Rand, n int) []byte {
	var code []byte
	for i := 0; i < n; i++ {
		ins, _ := hex.DecodeString(undoPool[rng.IntN(len(undoPool))])
		if rng.IntN(6) == 0 {
			code = append(code, 0x70|byte(rng.IntN(16)), byte(len(ins)))
		}
		code = append(code, ins...)
	}
	rel := -(len(code) + 5)
	return append(code, 0xe9, byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24))
}

func randomState(rng *rand.Rand, c *CPU, m *mem.Memory, t *testing.T) {
	for i := range c.R {
		switch rng.IntN(4) {
		case 0:
			c.R[i] = rng.Uint64()
		case 1:
			c.R[i] = uint64(rng.IntN(64))
		case 2:
			c.R[i] = uint64(int64(rng.IntN(64)) - 32)
		default:
			c.R[i] = 1 << rng.IntN(64)
		}
	}
	c.R[RDI] = caseData + 0x100 + uint64(rng.IntN(0xc00))
	c.R[RSI] = caseData + 0x100 + uint64(rng.IntN(0xc00))
	c.R[RBP] = caseData + 0x100 + uint64(rng.IntN(0xc00))
	c.R[RSP] = undoStackTop
	c.Flags = rng.Uint64() & ArithFlags
	buf := make([]byte, 0x1000)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	if err := m.WriteBytes(caseData, buf); err != nil {
		t.Fatal(err)
	}
}

// TestUndoRandom runs random programs with Trace set, then undoes every
// step in reverse and checks that each intermediate state comes back
// exactly (registers, flags, rip and all of data and stack memory). A
// second CPU runs the same program without Trace and must agree.
func TestUndoRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	trials := 30
	if testing.Short() {
		trials = 8
	}
	for trial := 0; trial < trials; trial++ {
		m := caseMemory(t)
		m2 := caseMemory(t)
		code := randomProgram(rng, 150)
		for _, mm := range []*mem.Memory{m, m2} {
			if err := mm.WriteBytes(caseText, code); err != nil {
				t.Fatal(err)
			}
		}
		c := &CPU{RIP: caseText, Trace: true}
		randomState(rng, c, m, t)
		data, _ := m.ReadBytes(caseData, 0x1000)
		if err := m2.WriteBytes(caseData, data); err != nil {
			t.Fatal(err)
		}
		c2 := &CPU{R: c.R, RIP: c.RIP, Flags: c.Flags}

		snaps := []snapshot{takeSnapshot(t, c, m)}
		var effects []Effect
		for step := 0; step < 300; step++ {
			before := snaps[len(snaps)-1]
			e, err := c.Step(m)
			_, err2 := c2.Step(m2)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("trial %d step %d: trace %v, no trace %v", trial, step, err, err2)
			}
			if err != nil {
				var f *Fault
				if !errors.As(err, &f) || !errors.Is(err, ErrDivide) {
					t.Fatalf("trial %d step %d: %v", trial, step, err)
				}
				if !takeSnapshot(t, c, m).equal(before) {
					t.Fatalf("trial %d step %d: fault changed the state", trial, step)
				}
				// Skip the faulting division, recording it so Undo
				// can revert the skip too.
				in, _ := c.lookup(m, c.RIP)
				e = Effect{PC: c.RIP, Regs: []RegChange{{Reg: "rip", Old: c.RIP, New: c.RIP + uint64(in.len)}}}
				c.RIP += uint64(in.len)
				c2.RIP = c.RIP
			}
			if c.R != c2.R || c.RIP != c2.RIP || c.Flags != c2.Flags {
				t.Fatalf("trial %d step %d: traced and untraced CPUs differ after % x", trial, step, e.Bytes)
			}
			effects = append(effects, e)
			snaps = append(snaps, takeSnapshot(t, c, m))
		}
		for i := len(effects) - 1; i >= 0; i-- {
			c.Undo(m, effects[i])
			if got := takeSnapshot(t, c, m); !got.equal(snaps[i]) {
				t.Fatalf("trial %d: undo of step %d (% x at %#x) did not restore the state", trial, i, effects[i].Bytes, effects[i].PC)
			}
		}
	}
}

// TestTextPoke checks that InvalidateCode makes a poked instruction
// visible, as the kernel's text_poke_bp of a direct tail call.
func TestTextPoke(t *testing.T) {
	m := caseMemory(t)
	nop5 := []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}
	if err := m.WriteBytes(caseText, append(nop5, 0xb8, 1, 0, 0, 0)); err != nil { // nop5; mov eax, 1
		t.Fatal(err)
	}
	c := &CPU{RIP: caseText}
	if _, err := c.Step(m); err != nil || c.RIP != caseText+5 {
		t.Fatalf("nop5: rip %#x, %v", c.RIP, err)
	}
	// jmp rel32 to 0x1100 over the nop.
	if err := m.WriteBytes(caseText, []byte{0xe9, 0xfb, 0x00, 0x00, 0x00}); err != nil {
		t.Fatal(err)
	}
	c.RIP = caseText
	if _, err := c.Step(m); err != nil || c.RIP != caseText+5 {
		t.Fatalf("stale decode expected before InvalidateCode: rip %#x, %v", c.RIP, err)
	}
	c.InvalidateCode(caseText+2, 1)
	c.RIP = caseText
	e, err := c.Step(m)
	if err != nil || c.RIP != 0x1100 || e.Branch.Kind != KindJump {
		t.Fatalf("after poke: rip %#x, branch %q, %v", c.RIP, e.Branch.Kind, err)
	}
	// And back to the nop.
	if err := m.WriteBytes(caseText, nop5); err != nil {
		t.Fatal(err)
	}
	c.InvalidateCode(caseText, 5)
	c.RIP = caseText
	if _, err := c.Step(m); err != nil || c.RIP != caseText+5 {
		t.Fatalf("after unpoke: rip %#x, %v", c.RIP, err)
	}
}

// TestSelfModifyingStore checks that a store by the CPU into decoded code
// (and the Undo of that store) drops the stale decode.
func TestSelfModifyingStore(t *testing.T) {
	m := mem.New(1 << 20)
	if err := m.Map("rwx", 0x1000, 0x1000, mem.Read|mem.Write|mem.Exec); err != nil {
		t.Fatal(err)
	}
	// 0x1000: mov byte ptr [rip+1], 0x02 ; 0x1007: mov eax, 1 (imm byte at 0x1008)
	code := []byte{0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x02, 0xb8, 0x01, 0x00, 0x00, 0x00}
	if err := m.WriteBytes(0x1000, code); err != nil {
		t.Fatal(err)
	}
	c := &CPU{RIP: 0x1007, Trace: true}
	if _, err := c.Step(m); err != nil || c.R[RAX] != 1 {
		t.Fatalf("mov eax, 1: rax %#x, %v", c.R[RAX], err)
	}
	c.RIP = 0x1000
	st, err := c.Step(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Step(m); err != nil || c.R[RAX] != 2 {
		t.Fatalf("after the store: rax %#x, want 2 (%v)", c.R[RAX], err)
	}
	c.Undo(m, st)
	c.RIP = 0x1007
	if _, err := c.Step(m); err != nil || c.R[RAX] != 1 {
		t.Fatalf("after undoing the store: rax %#x, want 1 (%v)", c.R[RAX], err)
	}
}
