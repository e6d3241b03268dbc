package arm64

import (
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
)

func must(w uint32, err error) uint32 {
	if err != nil {
		panic(err)
	}
	return w
}

// encodeCases pairs each kernel macro with the instruction it must produce,
// written as GNU objdump (binutils 2.40) prints it. The texts were checked
// against aarch64-linux-gnu-objdump; TestEncodeObjdump re-checks them where
// that tool is installed.
var encodeCases = []struct {
	name string
	word func() uint32
	want string
}{
	{"A64_ADD_I(1, x0, x7, 0)", func() uint32 { return must(a64ADDI(true, 0, 7, 0)) }, "add x0, x7, #0x0"},
	{"A64_ADD_I(0, w2, w2, 0xfff)", func() uint32 { return must(a64ADDI(false, 2, 2, 0xfff)) }, "add w2, w2, #0xfff"},
	{"A64_ADD_I(1, x1, x1, 0x1000)", func() uint32 { return must(a64ADDI(true, 1, 1, 0x1000)) }, "add x1, x1, #0x1, lsl #12"},
	{"A64_SUB_I(1, sp, sp, 0x10)", func() uint32 { return must(a64SUBI(true, SP, SP, 0x10)) }, "sub sp, sp, #0x10"},
	{"A64_CMP_I(1, x3, 7)", func() uint32 { return must(a64CMPI(true, 3, 7)) }, "cmp x3, #0x7"},
	{"A64_CMN_I(0, w3, 7)", func() uint32 { return must(a64CMNI(false, 3, 7)) }, "cmn w3, #0x7"},
	{"A64_MOV(1, x29, sp)", func() uint32 { return a64MOV(true, FP, SP) }, "mov x29, sp"},
	{"A64_MOV(1, sp, sp)", func() uint32 { return a64MOV(true, SP, SP) }, "mov sp, sp"},
	{"A64_ADD(1, x0, x0, x1)", func() uint32 { return a64ADD(true, 0, 0, 1) }, "add x0, x0, x1"},
	{"A64_SUB(0, w0, w0, w1)", func() uint32 { return a64SUB(false, 0, 0, 1) }, "sub w0, w0, w1"},
	{"A64_CMP(1, x26, x10)", func() uint32 { return a64CMP(true, tcc, tmp1) }, "cmp x26, x10"},
	{"A64_NEG(1, x0, x0)", func() uint32 { return a64NEG(true, 0, 0) }, "neg x0, x0"},
	{"A64_AND(1, x0, x0, x1)", func() uint32 { return a64AND(true, 0, 0, 1) }, "and x0, x0, x1"},
	{"A64_ORR(0, w0, w0, w1)", func() uint32 { return a64ORR(false, 0, 0, 1) }, "orr w0, w0, w1"},
	{"A64_EOR(1, x0, x0, x1)", func() uint32 { return a64EOR(true, 0, 0, 1) }, "eor x0, x0, x1"},
	{"A64_TST(1, x0, x1)", func() uint32 { return a64TST(true, 0, 1) }, "tst x0, x1"},
	{"A64_MVN(1, x11, x1)", func() uint32 { return a64MVN(true, tmp2, 1) }, "mvn x11, x1"},
	{"A64_AND_I(1, x0, x0, 0xff)", func() uint32 { return must(a64ANDI(true, 0, 0, 0xff)) }, "and x0, x0, #0xff"},
	{"A64_AND_I(0, w0, w0, 0xffff0000)", func() uint32 { return must(a64ANDI(false, 0, 0, -65536)) }, "and w0, w0, #0xffff0000"},
	{"A64_ORR_I(1, x0, x0, -2)", func() uint32 { return must(a64ORRI(true, 0, 0, -2)) }, "orr x0, x0, #0xfffffffffffffffe"},
	{"A64_EOR_I(0, w0, w0, 0x55555555)", func() uint32 { return must(a64EORI(false, 0, 0, 0x55555555)) }, "eor w0, w0, #0x55555555"},
	{"A64_EOR_I(1, x0, x0, -256)", func() uint32 { return must(a64EORI(true, 0, 0, -256)) }, "eor x0, x0, #0xffffffffffffff00"},
	{"A64_TST_I(0, w1, 4)", func() uint32 { return must(a64TSTI(false, 1, 4)) }, "tst w1, #0x4"},
	{"A64_MOVZ(1, x26, 0, 0)", func() uint32 { return must(a64MOVZ(true, tcc, 0, 0)) }, "mov x26, #0x0"},
	{"A64_MOVN(1, x10, 0, 0)", func() uint32 { return must(a64MOVN(true, tmp1, 0, 0)) }, "mov x10, #0xffffffffffffffff"},
	{"A64_MOVN(0, w1, 0x1234, 16)", func() uint32 { return must(a64MOVN(false, 1, 0x1234, 16)) }, "mov w1, #0xedcbffff"},
	{"A64_MOVK(1, x10, 0x902, 16)", func() uint32 { return must(a64MOVK(true, tmp1, 0x902, 16)) }, "movk x10, #0x902, lsl #16"},
	{"A64_MOVK(1, x20, 0x4e00, 0)", func() uint32 { return must(a64MOVK(true, 20, 0x4e00, 0)) }, "movk x20, #0x4e00"},
	{"A64_LSL(1, x11, x2, 3)", func() uint32 { return must(a64LSL(true, tmp2, 2, 3)) }, "lsl x11, x2, #3"},
	{"A64_LSR(0, w0, w0, 5)", func() uint32 { return must(a64LSR(false, 0, 0, 5)) }, "lsr w0, w0, #5"},
	{"A64_ASR(1, x0, x0, 63)", func() uint32 { return must(a64ASR(true, 0, 0, 63)) }, "asr x0, x0, #63"},
	{"A64_UXTH(1, x0, x0)", func() uint32 { return a64UXTH(true, 0, 0) }, "ubfx x0, x0, #0, #16"},
	{"A64_UXTH(0, w0, w0)", func() uint32 { return a64UXTH(false, 0, 0) }, "uxth w0, w0"},
	{"A64_UXTW(1, x0, x0)", func() uint32 { return a64UXTW(true, 0, 0) }, "ubfx x0, x0, #0, #32"},
	{"A64_REV16(1, x0, x0)", func() uint32 { return a64REV16(true, 0, 0) }, "rev16 x0, x0"},
	{"A64_REV32(0, w0, w0)", func() uint32 { return a64REV32(false, 0, 0) }, "rev w0, w0"},
	{"A64_REV32(1, x0, x0)", func() uint32 { return a64REV32(true, 0, 0) }, "rev32 x0, x0"},
	{"A64_REV64(x0, x0)", func() uint32 { return a64REV64(0, 0) }, "rev x0, x0"},
	{"A64_UDIV(1, x0, x0, x1)", func() uint32 { return a64UDIV(true, 0, 0, 1) }, "udiv x0, x0, x1"},
	{"A64_LSLV(0, w0, w0, w1)", func() uint32 { return a64LSLV(false, 0, 0, 1) }, "lsl w0, w0, w1"},
	{"A64_LSRV(1, x0, x0, x1)", func() uint32 { return a64LSRV(true, 0, 0, 1) }, "lsr x0, x0, x1"},
	{"A64_ASRV(1, x0, x0, x1)", func() uint32 { return a64ASRV(true, 0, 0, 1) }, "asr x0, x0, x1"},
	{"A64_MUL(1, x0, x0, x10)", func() uint32 { return a64MUL(true, 0, 0, tmp1) }, "mul x0, x0, x10"},
	{"A64_MSUB(1, x0, x0, x10, x1)", func() uint32 { return a64MSUB(true, 0, 0, tmp1, 1) }, "msub x0, x10, x1, x0"},
	{"A64_STRB(w1, x25, x10)", func() uint32 { return a64STR(size8, 1, 25, tmp1) }, "strb w1, [x25, x10]"},
	{"A64_LDRH(w0, x1, x10)", func() uint32 { return a64LDR(size16, 0, 1, tmp1) }, "ldrh w0, [x1, x10]"},
	{"A64_LDR32(w10, x1, x10)", func() uint32 { return a64LDR(size32, tmp1, 1, tmp1) }, "ldr w10, [x1, x10]"},
	{"A64_LDR64(x11, x10, x11)", func() uint32 { return a64LDR(size64, tmp2, tmp1, tmp2) }, "ldr x11, [x10, x11]"},
	{"A64_STR32I(w1, x0, 0)", func() uint32 { return must(a64STRI(size32, 1, 0, 0)) }, "str w1, [x0]"},
	{"A64_LDR64I(x0, x27, 8)", func() uint32 { return must(a64LDRI(size64, 0, fpb, 8)) }, "ldr x0, [x27, #8]"},
	{"A64_STRHI(w0, x1, 4094)", func() uint32 { return must(a64STRI(size16, 0, 1, 4094)) }, "strh w0, [x1, #4094]"},
	{"A64_LDR64LIT(x10, 8)", func() uint32 { return must(a64LDR64LIT(tmp1, 8)) }, "ldr x10, 0x8"},
	{"A64_PUSH(x29, x30, sp)", func() uint32 { return a64PUSH(FP, LR, SP) }, "stp x29, x30, [sp, #-16]!"},
	{"A64_POP(x27, x28, sp)", func() uint32 { return a64POP(fpb, 28, SP) }, "ldp x27, x28, [sp], #16"},
	{"A64_LDXR(1, x11, x0)", func() uint32 { return a64LDXR(true, tmp2, 0) }, "ldxr x11, [x0]"},
	{"A64_STXR(0, w11, x0, w12)", func() uint32 { return a64STXR(false, tmp2, 0, tmp3) }, "stxr w12, w11, [x0]"},
	{"A64_STLXR(1, x11, x0, w12)", func() uint32 { return a64STLXR(true, tmp2, 0, tmp3) }, "stlxr w12, x11, [x0]"},
	{"A64_STADD(1, x0, x1)", func() uint32 { return a64STOP(true, atomicADD, 0, 1) }, "stadd x1, [x0]"},
	{"A64_STCLR(0, x0, w11)", func() uint32 { return a64STOP(false, atomicCLR, 0, tmp2) }, "stclr w11, [x0]"},
	{"A64_LDADDAL(1, x1, x0, x1)", func() uint32 { return a64LDOPAL(true, atomicADD, 1, 0, 1) }, "ldaddal x1, x1, [x0]"},
	{"A64_SWPAL(0, w1, x10, w1)", func() uint32 { return a64LDOPAL(false, atomicSWP, 1, tmp1, 1) }, "swpal w1, w1, [x10]"},
	{"A64_CASAL(1, x1, x0, x7)", func() uint32 { return a64CASAL(true, 1, 0, 7) }, "casal x7, x1, [x0]"},
	{"A64_B(3)", func() uint32 { return must(a64B(3)) }, "b 0xc"},
	{"A64_B_(CS, 15)", func() uint32 { return must(a64BCond(CondCS, 15)) }, "b.cs 0x3c"},
	{"A64_CBZ(1, x11, 6)", func() uint32 { return must(a64CBZ(true, tmp2, 6)) }, "cbz x11, 0x18"},
	{"A64_CBNZ(0, w12, -3)", func() uint32 { return must(a64CBNZ(false, tmp3, -3)) }, "cbnz w12, 0xfffffffffffffff4"},
	{"A64_BR(x10)", func() uint32 { return a64BR(tmp1) }, "br x10"},
	{"A64_BLR(x10)", func() uint32 { return a64BLR(tmp1) }, "blr x10"},
	{"A64_RET(lr)", func() uint32 { return a64RET(LR) }, "ret"},
	{"A64_NOP", func() uint32 { return a64NOP }, "nop"},
	{"A64_PACIASP", func() uint32 { return a64PACIASP }, "paciasp"},
	{"A64_AUTIASP", func() uint32 { return a64AUTIASP }, "autiasp"},
	{"A64_BTI_C", func() uint32 { return a64BTIC }, "bti c"},
	{"A64_BTI_J", func() uint32 { return a64BTIJ }, "bti j"},
	{"A64_BTI_JC", func() uint32 { return a64BTIJC }, "bti jc"},
	{"A64_DMB_ISH", func() uint32 { return dmbISH }, "dmb ish"},
}

// TestEncode checks every encoder through jitscope's disassembler (itself
// checked against objdump in package disasm).
func TestEncode(t *testing.T) {
	for _, c := range encodeCases {
		w := c.word()
		in, err := disasm.DecodeA64(w, 0)
		if err != nil {
			t.Errorf("%s = %08x: %v", c.name, w, err)
			continue
		}
		if in.Text != c.want {
			t.Errorf("%s = %08x = %q, want %q", c.name, w, in.Text, c.want)
		}
	}
}

// TestEncodeRefuses checks that operands an encoding cannot hold are
// refused, as the kernel's generators return AARCH64_BREAK_FAULT.
func TestEncodeRefuses(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"logical imm 64-bit 0x55555555 (not a repeating pattern)", func() error { _, e := a64EORI(true, 0, 0, 0x55555555); return e }()},
		{"logical imm all ones", func() error { _, e := a64ANDI(true, 0, 0, -1); return e }()},
		{"logical imm zero", func() error { _, e := a64ORRI(false, 0, 0, 0); return e }()},
		{"add imm 0x1001", func() error { _, e := a64ADDI(true, 0, 0, 0x1001); return e }()},
		{"add imm 1<<24", func() error { _, e := a64ADDI(true, 0, 0, 1<<24); return e }()},
		{"b.cond beyond 19 bits", func() error { _, e := a64BCond(CondEQ, 1<<18); return e }()},
		{"b beyond 26 bits", func() error { _, e := a64B(-(1 << 25) - 1); return e }()},
		{"ldr unscaled offset", func() error { _, e := a64LDRI(size64, 0, 1, 4); return e }()},
		{"str negative offset", func() error { _, e := a64STRI(size8, 0, 1, -1); return e }()},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: encoded, want an error", c.name)
		}
	}
}

// TestEncodeObjdump checks the same words with GNU objdump when it is
// installed (apt-get install binutils-aarch64-linux-gnu).
func TestEncodeObjdump(t *testing.T) {
	objdump, err := exec.LookPath("aarch64-linux-gnu-objdump")
	if err != nil {
		t.Skip("aarch64-linux-gnu-objdump not installed: oracle check skipped (TestEncode covers it through disasm)")
	}
	f, err := os.CreateTemp(t.TempDir(), "words*.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range encodeCases {
		binary.Write(f, binary.LittleEndian, c.word())
	}
	f.Close()
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "aarch64", f.Name()).Output()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, line := range strings.Split(string(out), "\n") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) < 3 || !strings.HasSuffix(strings.TrimSpace(parts[0]), ":") {
			continue
		}
		text := parts[2]
		if i := strings.Index(text, "//"); i >= 0 {
			text = text[:i]
		}
		text = strings.Join(strings.Fields(strings.Replace(text, "\t", " ", 1)), " ")
		texts = append(texts, text)
	}
	if len(texts) != len(encodeCases) {
		t.Fatalf("objdump printed %d instructions, want %d", len(texts), len(encodeCases))
	}
	for i, c := range encodeCases {
		// objdump prints PC-relative targets relative to the word's own
		// offset in the file; our table uses PC 0 for each.
		if strings.HasPrefix(c.want, "b") || strings.HasPrefix(c.want, "cb") || strings.HasPrefix(c.want, "ldr x10, 0x") {
			continue
		}
		if texts[i] != c.want {
			t.Errorf("objdump(%s) = %q, want %q", c.name, texts[i], c.want)
		}
	}
}
