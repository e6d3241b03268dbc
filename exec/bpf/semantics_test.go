package bpf

import (
	"testing"

	"github.com/cilium/ebpf/asm"
)

const (
	allOnes  = 0xffff_ffff_ffff_ffff
	llongMin = 0x8000_0000_0000_0000
)

type semCase struct {
	name  string
	insns asm.Instructions // leaves the result in r0; exit is appended
	want  uint64
}

func runSem(t *testing.T, cases []semCase) {
	t.Helper()
	for _, c := range cases {
		insns := append(append(asm.Instructions{}, c.insns...), asm.Return())
		res, _ := runOne(t, insns, Config{})
		if res.Retval != c.want {
			t.Errorf("%s: r0 = %#x, want %#x", c.name, res.Retval, c.want)
		}
	}
}

// Expected values follow kernel/bpf/core.c ___bpf_prog_run (6.12) and the
// verifier's division rewrites (verifier.c do_misc_fixups).
func TestALU64(t *testing.T) {
	runSem(t, []semCase{
		{"add wraps", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Add.Imm(asm.R0, 1)}, 0},
		{"add imm sign-extends", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Add.Imm(asm.R0, -1)}, allOnes},
		{"mov imm sign-extends", asm.Instructions{asm.Mov.Imm(asm.R0, -2)}, 0xffff_ffff_ffff_fffe},
		{"sub reg", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R1, 1), asm.Sub.Reg(asm.R0, asm.R1)}, allOnes},
		{"mul overflows", asm.Instructions{ld64(asm.R0, 1<<32), ld64(asm.R1, 1<<32), asm.Mul.Reg(asm.R0, asm.R1)}, 0},
		{"mul negative", asm.Instructions{asm.Mov.Imm(asm.R0, -2), asm.Mul.Imm(asm.R0, 3)}, 0xffff_ffff_ffff_fffa},
		{"div unsigned", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Div.Imm(asm.R0, 2)}, 0x7fff_ffff_ffff_ffff},
		{"div by zero reg is 0", asm.Instructions{asm.Mov.Imm(asm.R0, 7), asm.Mov.Imm(asm.R1, 0), asm.Div.Reg(asm.R0, asm.R1)}, 0},
		{"div by 1<<32 is not by zero", asm.Instructions{ld64(asm.R0, 6<<32), ld64(asm.R1, 1<<32), asm.Div.Reg(asm.R0, asm.R1)}, 6},
		{"mod by zero keeps dst", asm.Instructions{ld64(asm.R0, 0x1234_5678_9abc_def0), asm.Mov.Imm(asm.R1, 0), asm.Mod.Reg(asm.R0, asm.R1)}, 0x1234_5678_9abc_def0},
		{"mod unsigned", asm.Instructions{asm.Mov.Imm(asm.R0, -7), asm.Mod.Imm(asm.R0, 3)}, 0}, // (2^64-7) % 3
		{"mod", asm.Instructions{asm.Mov.Imm(asm.R0, 17), asm.Mod.Imm(asm.R0, 5)}, 2},
		{"sdiv truncates toward zero", asm.Instructions{asm.Mov.Imm(asm.R0, -7), asm.SDiv.Imm(asm.R0, 2)}, 0xffff_ffff_ffff_fffd},
		{"sdiv LLONG_MIN by -1", asm.Instructions{ld64(asm.R0, llongMin), asm.Mov.Imm(asm.R1, -1), asm.SDiv.Reg(asm.R0, asm.R1)}, llongMin},
		{"sdiv imm -1 negates", asm.Instructions{asm.Mov.Imm(asm.R0, 5), asm.SDiv.Imm(asm.R0, -1)}, 0xffff_ffff_ffff_fffb},
		{"sdiv by zero is 0", asm.Instructions{asm.Mov.Imm(asm.R0, -5), asm.Mov.Imm(asm.R1, 0), asm.SDiv.Reg(asm.R0, asm.R1)}, 0},
		{"smod sign of dividend", asm.Instructions{asm.Mov.Imm(asm.R0, -7), asm.SMod.Imm(asm.R0, 2)}, allOnes},
		{"smod negative divisor", asm.Instructions{asm.Mov.Imm(asm.R0, 7), asm.Mov.Imm(asm.R1, -2), asm.SMod.Reg(asm.R0, asm.R1)}, 1},
		{"smod LLONG_MIN by -1", asm.Instructions{ld64(asm.R0, llongMin), asm.Mov.Imm(asm.R1, -1), asm.SMod.Reg(asm.R0, asm.R1)}, 0},
		{"smod by zero keeps dst", asm.Instructions{asm.Mov.Imm(asm.R0, -9), asm.Mov.Imm(asm.R1, 0), asm.SMod.Reg(asm.R0, asm.R1)}, 0xffff_ffff_ffff_fff7},
		{"or", asm.Instructions{asm.Mov.Imm(asm.R0, 0xf0), asm.Or.Imm(asm.R0, 0x0f)}, 0xff},
		{"and imm sign-extends", asm.Instructions{ld64(asm.R0, 0x1234_5678_9abc_def0), asm.And.Imm(asm.R0, -16)}, 0x1234_5678_9abc_def0},
		{"xor -1", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Xor.Imm(asm.R0, -1)}, allOnes},
		{"lsh 63", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.LSh.Imm(asm.R0, 63)}, llongMin},
		{"lsh reg masks with 63", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Mov.Imm(asm.R1, 65), asm.LSh.Reg(asm.R0, asm.R1)}, 2},
		{"rsh logical", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.RSh.Imm(asm.R0, 60)}, 0xf},
		{"rsh reg 64 is 0", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Mov.Imm(asm.R1, 64), asm.RSh.Reg(asm.R0, asm.R1)}, allOnes},
		{"arsh", asm.Instructions{ld64(asm.R0, llongMin), asm.ArSh.Imm(asm.R0, 63)}, allOnes},
		{"arsh reg masks", asm.Instructions{ld64(asm.R0, llongMin), asm.Mov.Imm(asm.R1, 64+4), asm.ArSh.Reg(asm.R0, asm.R1)}, 0xf800_0000_0000_0000},
		{"neg", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Neg.Imm(asm.R0, 0)}, allOnes},
		{"neg LLONG_MIN", asm.Instructions{ld64(asm.R0, llongMin), asm.Neg.Imm(asm.R0, 0)}, llongMin},
		{"mov reg", asm.Instructions{ld64(asm.R1, 0xdead_beef_0000_0001), asm.Mov.Reg(asm.R0, asm.R1)}, 0xdead_beef_0000_0001},
		{"movsx8", asm.Instructions{asm.Mov.Imm(asm.R1, 0x80), asm.MovSX8.Reg(asm.R0, asm.R1)}, 0xffff_ffff_ffff_ff80},
		{"movsx8 positive", asm.Instructions{asm.Mov.Imm(asm.R1, 0x17f), asm.MovSX8.Reg(asm.R0, asm.R1)}, 0x7f},
		{"movsx16", asm.Instructions{asm.Mov.Imm(asm.R1, 0x8000), asm.MovSX16.Reg(asm.R0, asm.R1)}, 0xffff_ffff_ffff_8000},
		{"movsx32", asm.Instructions{ld64(asm.R1, 0x1_8000_0000), asm.MovSX32.Reg(asm.R0, asm.R1)}, 0xffff_ffff_8000_0000},
		{"ld_imm64", asm.Instructions{ld64(asm.R0, 0x0102_0304_0506_0708)}, 0x0102_0304_0506_0708},
	})
}

func TestALU32(t *testing.T) {
	runSem(t, []semCase{
		{"add wraps and zero-extends", asm.Instructions{ld64(asm.R0, 0xdead_beef_ffff_ffff), asm.Add.Imm32(asm.R0, 1)}, 0},
		{"add imm -1", asm.Instructions{ld64(asm.R0, 1<<32), asm.Add.Imm32(asm.R0, -1)}, 0xffff_ffff},
		{"sub", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Sub.Imm32(asm.R0, 1)}, 0xffff_ffff},
		{"mul", asm.Instructions{asm.Mov.Imm(asm.R0, 0x10000), asm.Mul.Imm32(asm.R0, 0x10000)}, 0},
		{"div ignores upper halves", asm.Instructions{ld64(asm.R0, 0xffff_ffff_0000_0010), asm.Div.Imm32(asm.R0, 3)}, 5},
		{"div by reg whose low half is 0", asm.Instructions{asm.Mov.Imm(asm.R0, 7), ld64(asm.R1, 1<<32), asm.Div.Reg32(asm.R0, asm.R1)}, 0},
		{"mod by zero zero-extends dst", asm.Instructions{ld64(asm.R0, 0xffff_ffff_0000_0007), asm.Mov.Imm(asm.R1, 0), asm.Mod.Reg32(asm.R0, asm.R1)}, 7},
		{"mod", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Mod.Imm32(asm.R0, 10)}, 5}, // 4294967295 % 10
		{"sdiv INT_MIN by -1", asm.Instructions{asm.Mov.Imm32(asm.R0, -0x8000_0000), asm.Mov.Imm(asm.R1, -1), asm.SDiv.Reg32(asm.R0, asm.R1)}, 0x8000_0000},
		{"sdiv", asm.Instructions{asm.Mov.Imm32(asm.R0, -7), asm.SDiv.Imm32(asm.R0, 2)}, 0xffff_fffd},
		{"sdiv imm -1", asm.Instructions{asm.Mov.Imm32(asm.R0, 5), asm.SDiv.Imm32(asm.R0, -1)}, 0xffff_fffb},
		{"sdiv by zero", asm.Instructions{asm.Mov.Imm32(asm.R0, 5), asm.Mov.Imm(asm.R1, 0), asm.SDiv.Reg32(asm.R0, asm.R1)}, 0},
		{"smod", asm.Instructions{asm.Mov.Imm32(asm.R0, -7), asm.SMod.Imm32(asm.R0, 2)}, 0xffff_ffff},
		{"smod by zero zero-extends", asm.Instructions{ld64(asm.R0, 0x1234_5678_ffff_fff9), asm.Mov.Imm(asm.R1, 0), asm.SMod.Reg32(asm.R0, asm.R1)}, 0xffff_fff9},
		{"smod by -1", asm.Instructions{asm.Mov.Imm32(asm.R0, -0x8000_0000), asm.SMod.Imm32(asm.R0, -1)}, 0},
		{"and", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.And.Imm32(asm.R0, 0xff)}, 0xff},
		{"xor", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Xor.Imm32(asm.R0, -1)}, 0xffff_ffff},
		{"or", asm.Instructions{ld64(asm.R0, 0xffff_ffff_0000_0000), asm.Or.Imm32(asm.R0, 1)}, 1},
		{"lsh reg masks with 31", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Mov.Imm(asm.R1, 33), asm.LSh.Reg32(asm.R0, asm.R1)}, 2},
		{"lsh drops the upper half", asm.Instructions{ld64(asm.R0, 0xffff_ffff_8000_0000), asm.LSh.Imm32(asm.R0, 1)}, 0},
		{"rsh low half only", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.RSh.Imm32(asm.R0, 28)}, 0xf},
		{"arsh", asm.Instructions{ld64(asm.R0, 0x8000_0000), asm.ArSh.Imm32(asm.R0, 31)}, 0xffff_ffff},
		{"arsh ignores the upper half", asm.Instructions{ld64(asm.R0, 0xffff_ffff_7fff_ffff), asm.ArSh.Imm32(asm.R0, 4)}, 0x07ff_ffff},
		{"neg", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Neg.Imm32(asm.R0, 0)}, 0xffff_ffff},
		{"mov zero-extends", asm.Instructions{asm.Mov.Imm(asm.R1, -1), asm.Mov.Reg32(asm.R0, asm.R1)}, 0xffff_ffff},
		{"mov imm -1", asm.Instructions{asm.Mov.Imm32(asm.R0, -1)}, 0xffff_ffff},
		{"movsx8", asm.Instructions{asm.Mov.Imm(asm.R1, 0x80), asm.MovSX8.Reg32(asm.R0, asm.R1)}, 0xffff_ff80},
		{"movsx16", asm.Instructions{asm.Mov.Imm(asm.R1, 0x8000), asm.MovSX16.Reg32(asm.R0, asm.R1)}, 0xffff_8000},
	})
}

func TestEndian(t *testing.T) {
	const v = 0x0102_0304_0506_0708
	runSem(t, []semCase{
		{"be16", asm.Instructions{ld64(asm.R0, v), asm.HostTo(asm.BE, asm.R0, asm.Half)}, 0x0807},
		{"be32", asm.Instructions{ld64(asm.R0, v), asm.HostTo(asm.BE, asm.R0, asm.Word)}, 0x0807_0605},
		{"be64", asm.Instructions{ld64(asm.R0, v), asm.HostTo(asm.BE, asm.R0, asm.DWord)}, 0x0807_0605_0403_0201},
		{"le16 truncates", asm.Instructions{ld64(asm.R0, v), asm.HostTo(asm.LE, asm.R0, asm.Half)}, 0x0708},
		{"le32 truncates", asm.Instructions{ld64(asm.R0, v), asm.HostTo(asm.LE, asm.R0, asm.Word)}, 0x0506_0708},
		{"le64 is a no-op", asm.Instructions{ld64(asm.R0, v), asm.HostTo(asm.LE, asm.R0, asm.DWord)}, v},
		{"bswap16", asm.Instructions{ld64(asm.R0, v), asm.BSwap(asm.R0, asm.Half)}, 0x0807},
		{"bswap32", asm.Instructions{ld64(asm.R0, v), asm.BSwap(asm.R0, asm.Word)}, 0x0807_0605},
		{"bswap64", asm.Instructions{ld64(asm.R0, v), asm.BSwap(asm.R0, asm.DWord)}, 0x0807_0605_0403_0201},
	})
}

// TestJumps runs "r0 = 1; if r1 OP r2/imm goto +1; r0 = 0; exit": r0 says
// whether the jump was taken.
func TestJumps(t *testing.T) {
	cases := []struct {
		name   string
		a, b   uint64
		jmp    asm.Instruction
		taken  bool
		useImm bool
	}{
		{"jeq differs in the upper half", 1 << 32, 0, jmpReg(asm.JEq, asm.R1, asm.R2, 1), false, false},
		{"jeq32 compares low halves", 1 << 32, 0, jmp32Reg(asm.JEq, asm.R1, asm.R2, 1), true, false},
		{"jne", 1, 2, jmpReg(asm.JNE, asm.R1, asm.R2, 1), true, false},
		{"jne32", 1<<32 | 5, 5, jmp32Reg(asm.JNE, asm.R1, asm.R2, 1), false, false},
		{"jgt unsigned", allOnes, 1, jmpReg(asm.JGT, asm.R1, asm.R2, 1), true, false},
		{"jsgt signed", allOnes, 1, jmpReg(asm.JSGT, asm.R1, asm.R2, 1), false, false},
		{"jge equal", 7, 7, jmpReg(asm.JGE, asm.R1, asm.R2, 1), true, false},
		{"jlt", 1, allOnes, jmpReg(asm.JLT, asm.R1, asm.R2, 1), true, false},
		{"jslt", 1, allOnes, jmpReg(asm.JSLT, asm.R1, asm.R2, 1), false, false},
		{"jle", 8, 7, jmpReg(asm.JLE, asm.R1, asm.R2, 1), false, false},
		{"jsle", allOnes, 0, jmpReg(asm.JSLE, asm.R1, asm.R2, 1), true, false},
		{"jsge", 0, allOnes, jmpReg(asm.JSGE, asm.R1, asm.R2, 1), true, false},
		{"jset", 1 << 32, 1 << 32, jmpReg(asm.JSet, asm.R1, asm.R2, 1), true, false},
		{"jset32", 1 << 32, 1 << 32, jmp32Reg(asm.JSet, asm.R1, asm.R2, 1), false, false},
		{"jsgt32: 0x80000000 is negative", 0x8000_0000, 0, jmp32Reg(asm.JSGT, asm.R1, asm.R2, 1), false, false},
		{"jsgt: 0x80000000 is positive", 0x8000_0000, 0, jmpReg(asm.JSGT, asm.R1, asm.R2, 1), true, false},
		{"jsle32", 1<<32 | 0xffff_ffff, 0, jmp32Reg(asm.JSLE, asm.R1, asm.R2, 1), true, false},
		{"jslt32", 0, 0x8000_0000, jmp32Reg(asm.JSLT, asm.R1, asm.R2, 1), false, false},
		{"jgt32", 0x1_0000_0001, 0x2, jmp32Reg(asm.JGT, asm.R1, asm.R2, 1), false, false},
		{"jge32", 0x2_0000_0000, 0x1_0000_0000, jmp32Reg(asm.JGE, asm.R1, asm.R2, 1), true, false},
		{"jlt32", 0x1_0000_0000, 0x1, jmp32Reg(asm.JLT, asm.R1, asm.R2, 1), true, false},
		{"jle32", 0xffff_ffff, 0, jmp32Reg(asm.JLE, asm.R1, asm.R2, 1), false, false},
		{"jsge32", 0x7fff_ffff, 0x8000_0000, jmp32Reg(asm.JSGE, asm.R1, asm.R2, 1), true, false},
		// K operands: imm sign-extended to 64 bits (JMP) or used as u32/s32 (JMP32).
		{"jeq imm -1 is all ones", allOnes, 0, jmpImm(asm.JEq, asm.R1, -1, 1), true, true},
		{"jeq imm -1 is not 0xffffffff", 0xffff_ffff, 0, jmpImm(asm.JEq, asm.R1, -1, 1), false, true},
		{"jeq32 imm -1 is 0xffffffff", 0xffff_ffff, 0, jmp32Imm(asm.JEq, asm.R1, -1, 1), true, true},
		{"jlt imm -1 unsigned", 0xffff_ffff, 0, jmpImm(asm.JLT, asm.R1, -1, 1), true, true},
		{"jlt32 imm -1 unsigned", 0xffff_ffff, 0, jmp32Imm(asm.JLT, asm.R1, -1, 1), false, true},
		{"jsgt imm -1", 0, 0, jmpImm(asm.JSGT, asm.R1, -1, 1), true, true},
		{"jsgt32 imm", 0x1_ffff_ffff, 0, jmp32Imm(asm.JSGT, asm.R1, -2, 1), true, true},
		{"jset imm", 0x10, 0, jmpImm(asm.JSet, asm.R1, 0x11, 1), true, true},
		{"jne32 imm", 0x5_0000_0003, 0, jmp32Imm(asm.JNE, asm.R1, 3, 1), false, true},
		{"jge imm", 5, 0, jmpImm(asm.JGE, asm.R1, 6, 1), false, true},
		{"jsle imm", allOnes - 1, 0, jmpImm(asm.JSLE, asm.R1, -1, 1), true, true},
		{"ja", 0, 0, asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: 1}, true, true},
		{"gotol uses imm", 0, 0, asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja), Constant: 1}, true, true},
		{"gotol ignores off", 0, 0, asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja), Constant: 0, Offset: 1}, false, true},
	}
	for _, c := range cases {
		insns := asm.Instructions{
			asm.Mov.Imm(asm.R0, 1),
			ld64(asm.R1, c.a),
			ld64(asm.R2, c.b),
			c.jmp,
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		}
		res, _ := runOne(t, insns, Config{})
		if got := res.Retval == 1; got != c.taken {
			t.Errorf("%s: taken = %v, want %v", c.name, got, c.taken)
		}
	}
}

func TestLoop(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Imm(asm.R1, 10),
		asm.Add.Imm(asm.R0, 2).WithSymbol("loop"),
		asm.Sub.Imm(asm.R1, 1),
		asm.JNE.Imm(asm.R1, 0, "loop"),
		asm.Return(),
	}
	res, _ := runOne(t, insns, Config{})
	if res.Retval != 20 {
		t.Errorf("r0 = %d, want 20", res.Retval)
	}
	if want := 2 + 3*10 + 1; res.Steps != want {
		t.Errorf("steps = %d, want %d", res.Steps, want)
	}
}

func TestMemory(t *testing.T) {
	const v = 0x1122_3344_5566_7788
	store := asm.Instructions{ld64(asm.R1, v), asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord)}
	with := func(more ...asm.Instruction) asm.Instructions {
		return append(append(asm.Instructions{}, store...), more...)
	}
	runSem(t, []semCase{
		{"ldx dw", with(asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord)), v},
		{"ldx w low half", with(asm.LoadMem(asm.R0, asm.R10, -8, asm.Word)), 0x5566_7788},
		{"ldx h", with(asm.LoadMem(asm.R0, asm.R10, -4, asm.Half)), 0x3344},
		{"ldx h unaligned", with(asm.LoadMem(asm.R0, asm.R10, -5, asm.Half)), 0x4455},
		{"ldx b", with(asm.LoadMem(asm.R0, asm.R10, -1, asm.Byte)), 0x11},
		{"ldx zero-extends", asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.StoreMem(asm.R10, -8, asm.R0, asm.DWord), asm.LoadMem(asm.R0, asm.R10, -8, asm.Byte)}, 0xff},
		{"ldsx b", asm.Instructions{asm.StoreImm(asm.R10, -8, 0x80, asm.Byte), asm.LoadMemSX(asm.R0, asm.R10, -8, asm.Byte)}, 0xffff_ffff_ffff_ff80},
		{"ldsx b positive", asm.Instructions{asm.StoreImm(asm.R10, -8, 0x7f, asm.Byte), asm.LoadMemSX(asm.R0, asm.R10, -8, asm.Byte)}, 0x7f},
		{"ldsx h", asm.Instructions{asm.StoreImm(asm.R10, -8, 0x8000, asm.Half), asm.LoadMemSX(asm.R0, asm.R10, -8, asm.Half)}, 0xffff_ffff_ffff_8000},
		{"ldsx w", asm.Instructions{asm.StoreImm(asm.R10, -8, -0x8000_0000, asm.Word), asm.LoadMemSX(asm.R0, asm.R10, -8, asm.Word)}, 0xffff_ffff_8000_0000},
		{"st dw imm sign-extends", asm.Instructions{stImm64(asm.R10, -8, -1), asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord)}, allOnes},
		{"st w writes 4 bytes", asm.Instructions{stImm64(asm.R10, -8, 0), asm.StoreImm(asm.R10, -8, -1, asm.Word), asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord)}, 0xffff_ffff},
		{"st b truncates", asm.Instructions{stImm64(asm.R10, -8, 0), asm.StoreImm(asm.R10, -7, 0x1ff, asm.Byte), asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord)}, 0xff00},
		{"stx h", with(asm.Mov.Imm(asm.R2, 0xabcd), asm.StoreMem(asm.R10, -8, asm.R2, asm.Half), asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord)), 0x1122_3344_5566_abcd},
		{"pointer arithmetic", with(asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, -16), asm.LoadMem(asm.R0, asm.R1, 12, asm.Word)), 0x1122_3344},
	})
}

// TestAtomics checks core.c STX_ATOMIC_W/DW: the memory result and what
// the fetch forms leave in src (r1) or, for cmpxchg, r0. Each program
// returns (register << 32) | memory when both matter.
func TestAtomics(t *testing.T) {
	mem := func(init uint64, op asm.Instruction, r0, r1 uint64, ret asm.Register) asm.Instructions {
		return asm.Instructions{
			ld64(asm.R2, init),
			asm.StoreMem(asm.R10, -8, asm.R2, asm.DWord),
			ld64(asm.R0, r0),
			ld64(asm.R1, r1),
			op,
			asm.LoadMem(asm.R3, asm.R10, -8, asm.DWord),
			asm.Mov.Reg(asm.R0, ret),
			asm.LSh.Imm(asm.R0, 32),
			asm.Or.Reg(asm.R0, asm.R3),
		}
	}
	memOnly := func(init uint64, op asm.Instruction, r1 uint64) asm.Instructions {
		return asm.Instructions{
			ld64(asm.R2, init),
			asm.StoreMem(asm.R10, -8, asm.R2, asm.DWord),
			ld64(asm.R1, r1),
			op,
			asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord),
		}
	}
	a := func(op asm.AtomicOp, size asm.Size) asm.Instruction { return atomic(op.Mem(asm.R10, asm.R1, size, -8)) }
	runSem(t, []semCase{
		{"add dw", memOnly(5, a(asm.AddAtomic, asm.DWord), 3), 8},
		{"add dw wraps", memOnly(allOnes, a(asm.AddAtomic, asm.DWord), 2), 1},
		{"add w leaves the upper word", memOnly(0x1_ffff_ffff, a(asm.AddAtomic, asm.Word), 1), 0x1_0000_0000},
		{"and", memOnly(0b1100, a(asm.AndAtomic, asm.DWord), 0b1010), 0b1000},
		{"or", memOnly(0b1100, a(asm.OrAtomic, asm.DWord), 0b1010), 0b1110},
		{"xor", memOnly(0b1100, a(asm.XorAtomic, asm.DWord), 0b1010), 0b0110},
		{"xor w", memOnly(0xffff_ffff_0000_000f, a(asm.XorAtomic, asm.Word), 0xff), 0xffff_ffff_0000_00f0},
		{"fetch_add", mem(5, a(asm.FetchAdd, asm.DWord), 0, 3, asm.R1), 5<<32 | 8},
		{"fetch_add w zero-extends src", mem(7, a(asm.FetchAdd, asm.Word), 0, 0xffff_ffff_0000_0001, asm.R1), 7<<32 | 8},
		{"fetch_and", mem(0b1100, a(asm.FetchAnd, asm.DWord), 0, 0b1010, asm.R1), 0b1100<<32 | 0b1000},
		{"fetch_or", mem(0b1100, a(asm.FetchOr, asm.DWord), 0, 0b1010, asm.R1), 0b1100<<32 | 0b1110},
		{"fetch_xor w", mem(0b1100, a(asm.FetchXor, asm.Word), 0, 0b1010, asm.R1), 0b1100<<32 | 0b0110},
		{"xchg", mem(5, a(asm.Xchg, asm.DWord), 0, 9, asm.R1), 5<<32 | 9},
		{"xchg w", mem(0x7_0000_0005, a(asm.Xchg, asm.Word), 0, 0xffff_ffff_0000_0009, asm.R1), 5<<32 | 0x7_0000_0009},
		{"cmpxchg equal", mem(5, a(asm.CmpXchg, asm.DWord), 5, 9, asm.R0), 5<<32 | 9},
		{"cmpxchg differs", mem(5, a(asm.CmpXchg, asm.DWord), 4, 9, asm.R0), 5<<32 | 5},
		{"cmpxchg w compares the low half of r0", mem(5, a(asm.CmpXchg, asm.Word), 0xffff_ffff_0000_0005, 9, asm.R0), 5<<32 | 9},
		{"cmpxchg w r0 zero-extended on failure", mem(0x3_0000_0006, a(asm.CmpXchg, asm.Word), 0xffff_ffff_0000_0005, 9, asm.R0), 6<<32 | 0x3_0000_0006},
		{"load_acquire w", append(memOnly(0x1122_3344_5566_7788, atomic(asm.LoadAcquire(asm.R1, asm.R10, asm.Word, -8)), 0), asm.Mov.Reg(asm.R0, asm.R1)), 0x5566_7788},
		{"load_acquire b", append(memOnly(0x1122_3344_5566_7788, atomic(asm.LoadAcquire(asm.R1, asm.R10, asm.Byte, -1)), 0), asm.Mov.Reg(asm.R0, asm.R1)), 0x11},
		{"store_release h", memOnly(0, atomic(asm.StoreRelease(asm.R10, asm.R1, asm.Half, -8)), 0x12345), 0x2345},
	})
}
