package amd64

import (
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// aluLoop returns ~100 straight-line ALU instructions (add, sub, xor, shl
// in their register, imm8 and imm32 forms, 32- and 64-bit, with REX
// variants) followed by a jmp back to the start.
func aluLoop() []byte {
	forms := [][]byte{
		{0x48, 0x01, 0xd8},                         // add rax, rbx
		{0x48, 0x29, 0xc1},                         // sub rcx, rax
		{0x48, 0x31, 0xca},                         // xor rdx, rcx
		{0x48, 0xc1, 0xe2, 0x03},                   // shl rdx, 3
		{0x49, 0x83, 0xc0, 0x7f},                   // add r8, 0x7f
		{0x4d, 0x29, 0xc1},                         // sub r9, r8
		{0x01, 0xf7},                               // add edi, esi
		{0x48, 0x81, 0xf6, 0x78, 0x56, 0x34, 0x12}, // xor rsi, 0x12345678
		{0xd1, 0xe7},                               // shl edi, 1
		{0x45, 0x31, 0xd3},                         // xor r11d, r10d
	}
	var code []byte
	for i := 0; i < 10; i++ {
		for _, f := range forms {
			code = append(code, f...)
		}
	}
	rel := -(len(code) + 5)
	code = append(code, 0xe9, byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24))
	return code
}

func BenchmarkStep(b *testing.B) {
	m := mem.New(1 << 20)
	const base = 0x400000
	code := aluLoop()
	if err := m.Map("text", base, 0x1000, mem.Read|mem.Exec); err != nil {
		b.Fatal(err)
	}
	if err := m.WriteBytes(base, code); err != nil {
		b.Fatal(err)
	}
	c := &CPU{RIP: base}
	for i := range c.R {
		c.R[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Step(m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "insns/s")
	}
}

func BenchmarkStepTrace(b *testing.B) {
	m := mem.New(1 << 20)
	const base = 0x400000
	code := aluLoop()
	if err := m.Map("text", base, 0x1000, mem.Read|mem.Exec); err != nil {
		b.Fatal(err)
	}
	if err := m.WriteBytes(base, code); err != nil {
		b.Fatal(err)
	}
	c := &CPU{RIP: base, Trace: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Step(m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "insns/s")
	}
}
