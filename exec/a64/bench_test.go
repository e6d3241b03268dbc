package a64

import (
	"encoding/binary"
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// Test encoders (A64 encodings of the Arm ARM, C4.1) for generated code.
func encAddReg(rd, rn, rm uint32) uint32 { return 0x8b000000 | rm<<16 | rn<<5 | rd }
func encSubReg(rd, rn, rm uint32) uint32 { return 0xcb000000 | rm<<16 | rn<<5 | rd }
func encEorReg(rd, rn, rm uint32) uint32 { return 0xca000000 | rm<<16 | rn<<5 | rd }
func encAddImm(rd, rn, imm uint32) uint32 {
	return 0x91000000 | imm<<10 | rn<<5 | rd
}
func encSubImm(rd, rn, imm uint32) uint32 {
	return 0xd1000000 | imm<<10 | rn<<5 | rd
}

// lsl xd, xn, #s = ubfm xd, xn, #(64-s)%64, #63-s
func encLslImm(rd, rn, s uint32) uint32 {
	return 0xd3400000 | ((64-s)%64)<<16 | (63-s)<<10 | rn<<5 | rd
}
func encB(from, to uint64) uint32 { return 0x14000000 | uint32((to-from)/4)&0x3ffffff }

const (
	textBase = 0x400000
	dataBase = 0x10000000
	dataSize = 0x10000
)

// newMachine maps text (r-x) holding words at textBase and a data region
// (rw-) at dataBase, and points the CPU at the code with SP at the top of
// the data region.
func newMachine(t testing.TB, words []uint32) (*CPU, *mem.Memory) {
	t.Helper()
	m := mem.New(0)
	if err := m.Map("text", textBase, 0x10000, mem.Read|mem.Exec); err != nil {
		t.Fatal(err)
	}
	if err := m.Map("data", dataBase, dataSize, mem.Read|mem.Write); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	if err := m.WriteBytes(textBase, b); err != nil {
		t.Fatal(err)
	}
	c := &CPU{PC: textBase, SP: dataBase + dataSize}
	return c, m
}

func aluLoop() []uint32 {
	var ws []uint32
	for i := 0; len(ws) < 99; i++ {
		r := uint32(i % 8)
		switch i % 6 {
		case 0:
			ws = append(ws, encAddReg(r, r, (r+1)%8))
		case 1:
			ws = append(ws, encSubImm(r, r, uint32(i)))
		case 2:
			ws = append(ws, encEorReg(r, (r+3)%8, r))
		case 3:
			ws = append(ws, encLslImm(r, (r+5)%8, uint32(i%64)))
		case 4:
			ws = append(ws, encAddImm(r, r, uint32(3*i)))
		case 5:
			ws = append(ws, encSubReg(r, (r+2)%8, r))
		}
	}
	ws = append(ws, encB(textBase+4*uint64(len(ws)), textBase))
	return ws
}

func BenchmarkStep(b *testing.B) {
	c, m := newMachine(b, aluLoop())
	for i := range 8 {
		c.X[i] = uint64(i) * 0x0123456789abcdef
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Step(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "insns/s")
}

func BenchmarkStepTrace(b *testing.B) {
	c, m := newMachine(b, aluLoop())
	c.Trace = true
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Step(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "insns/s")
}

func TestStepAllocFree(t *testing.T) {
	c, m := newMachine(t, aluLoop())
	for range 200 {
		c.Step(m)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := c.Step(m); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Step with Trace off allocates %v times per call", n)
	}
}
