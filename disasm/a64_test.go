package disasm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// a64Case is one line of testdata/a64_objdump.txt.
type a64Case struct {
	word uint32
	pc   uint64
	text string // objdump's text; ".inst ... ; undefined" if it cannot decode
}

func readA64Fixture(t testing.TB) (header string, cases []a64Case) {
	t.Helper()
	f, err := os.Open("testdata/a64_objdump.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			if n == 1 {
				header = line
			}
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 3 {
			t.Fatalf("a64_objdump.txt:%d: want 3 fields, got %q", n, line)
		}
		w, err1 := strconv.ParseUint(p[0], 16, 32)
		pc, err2 := strconv.ParseUint(p[1], 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("a64_objdump.txt:%d: bad word or pc in %q", n, line)
		}
		cases = append(cases, a64Case{uint32(w), pc, p[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return header, cases
}

// a64Refused lists the encoding classes DecodeA64 deliberately returns an
// error for although objdump prints them. The eBPF JIT emits none of them.
var a64Refused = []struct {
	mask, value uint32
	what        string
}{
	{0xffc00000, 0xd5000000, "system instructions with op0 = 0 or 1 beyond hints and barriers (SYS and its AT/DC/IC/TLBI aliases, generic MSR/MRS S0_..., MSR (immediate) forms x/arch lacks)"},
	{0x1e000000, 0x04000000, "SVE"},
	{0x9e000000, 0x80000000, "SME"},
	{0x0e000000, 0x0e000000, "scalar FP and Advanced SIMD forms x/arch lacks (FP16, dot products, BF16, SHA512, SM3/SM4, FCMLA...)"},
	{0xbfc00000, 0x91800000, "MTE ADDG, SUBG"},
	{0xdfe0fc00, 0x9ac00000, "MTE SUBP, SUBPS"},
	{0xffe0f800, 0x9ac01000, "MTE IRG, GMI"},
	{0xff200000, 0xd9200000, "MTE STG, STZG, ST2G, STZ2G, LDG"},
	{0xfe400000, 0x68000000, "MTE STGP"},
	{0x7fe0f000, 0x1ac06000, "FEAT_CSSC SMAX, SMIN, UMAX, UMIN (register)"},
	{0x7fc00000, 0x11c00000, "FEAT_CSSC SMAX, SMIN, UMAX, UMIN (immediate)"},
	{0x7ffff800, 0x5ac01800, "FEAT_CSSC CTZ, CNT"},
	{0x7ffffc00, 0x5ac02000, "FEAT_CSSC ABS"},
	{0xff000010, 0x54000010, "FEAT_HBC BC.cond"},
	{0xfffffc00, 0xf83f9000, "FEAT_LS64 ST64B"},
	{0xfffffc00, 0xf83fd000, "FEAT_LS64 LD64B"},
	{0xffe0fc00, 0xf820a000, "FEAT_LS64 ST64BV0"},
	{0xffe0fc00, 0xf820b000, "FEAT_LS64 ST64BV"},
	{0x3b200c00, 0x19000400, "FEAT_MOPS CPY*, SET*"},
	{0x3f200c00, 0x19000000, "FEAT_LRCPC2 LDAPUR*, STLUR*"},
	{0xff200400, 0xf8200400, "FEAT_PAuth LDRAA, LDRAB"},
	{0xffe07c10, 0xba000400, "FEAT_FlagM RMIF"},
	{0xffffbc1f, 0x3a00080d, "FEAT_FlagM SETF8, SETF16"},
}

func a64RefusedClass(w uint32) string {
	for _, r := range a64Refused {
		if w&r.mask == r.value {
			return r.what
		}
	}
	return ""
}

// TestA64Objdump checks DecodeA64 against objdump's disassembly of every
// word in testdata/a64_objdump.txt.
func TestA64Objdump(t *testing.T) {
	header, cases := readA64Fixture(t)
	if !strings.Contains(header, "GNU objdump (GNU Binutils for Debian) 2.40") {
		t.Errorf("fixture header %q does not name the objdump that made it", header)
	}
	if len(cases) < 500 {
		t.Fatalf("fixture has %d words, want well over 500", len(cases))
	}
	var undefined, refused int
	for _, c := range cases {
		inst, err := DecodeA64(c.word, c.pc)
		switch {
		case strings.HasPrefix(c.text, ".inst"):
			undefined++
			if err == nil {
				t.Errorf("DecodeA64(%08x @%#x) = %q, want an error (objdump: %q)", c.word, c.pc, inst.Text, c.text)
			}
		case err != nil:
			refused++
			if a64RefusedClass(c.word) == "" {
				t.Errorf("DecodeA64(%08x @%#x): %v, want %q", c.word, c.pc, err, c.text)
			}
		case inst.Text != c.text:
			t.Errorf("DecodeA64(%08x @%#x) = %q, want %q", c.word, c.pc, inst.Text, c.text)
		}
	}
	t.Logf("%d words: %d undefined, %d refused on purpose", len(cases), undefined, refused)
}

func TestDecodeA64Fields(t *testing.T) {
	tests := []struct {
		word      uint32
		pc        uint64
		text, op  string
		kind      BranchKind
		target    uint64
		hasTarget bool
	}{
		{0xd503233f, 0xffffffc0090151d4, "paciasp", "paciasp", None, 0, false},
		{0x540001e2, 0xffff80000a0ad8a8, "b.cs 0xffff80000a0ad8e4", "b.cs", CondJump, 0xffff80000a0ad8e4, true},
		{0xb40000cb, 0xffff80000a0ad8cc, "cbz x11, 0xffff80000a0ad8e4", "cbz", CondJump, 0xffff80000a0ad8e4, true},
		{0x5800004a, 0xffff80000a095d74, "ldr x10, 0xffff80000a095d7c", "ldr", None, 0xffff80000a095d7c, true},
		{0x9284f4ea, 0, "mov x10, #0xffffffffffffd858", "mov", None, 0, false},
		{0xf2a1414a, 0, "movk x10, #0xa0a, lsl #16", "movk", None, 0, false},
		{0xd63f0140, 0, "blr x10", "blr", Call, 0, false},
		{0xd61f0140, 0, "br x10", "br", IndirectJump, 0, false},
		{0xd65f03c0, 0, "ret", "ret", Return, 0, false},
		{0x17ffffff, 0x1000, "b 0xffc", "b", Jump, 0xffc, true},
		{0x94000002, 0x1000, "bl 0x1008", "bl", Call, 0x1008, true},
		{0x36180042, 0x1000, "tbz w2, #3, 0x1008", "tbz", CondJump, 0x1008, true},
		{0x10000020, 0x1000, "adr x0, 0x1004", "adr", None, 0x1004, true},
		{0xb0000001, 0x1234, "adrp x1, 0x2000", "adrp", None, 0x2000, true},
		{0xd50324df, 0, "bti jc", "bti", None, 0, false},
		{0xb820003f, 0, "stadd w0, [x1]", "stadd", None, 0, false},
		{0xd538410a, 0, "mrs x10, sp_el0", "mrs", None, 0, false},
		{0xd65f0bff, 0, "retaa", "retaa", Return, 0, false},
	}
	for _, tt := range tests {
		inst, err := DecodeA64(tt.word, tt.pc)
		if err != nil {
			t.Errorf("DecodeA64(%08x @%#x): %v", tt.word, tt.pc, err)
			continue
		}
		if inst.Text != tt.text || inst.Op != tt.op || inst.Kind != tt.kind ||
			inst.Target != tt.target || inst.HasTarget != tt.hasTarget || inst.Word != tt.word || inst.PC != tt.pc {
			t.Errorf("DecodeA64(%08x @%#x) = {%q %q %v %#x %v}, want {%q %q %v %#x %v}", tt.word, tt.pc,
				inst.Text, inst.Op, inst.Kind, inst.Target, inst.HasTarget,
				tt.text, tt.op, tt.kind, tt.target, tt.hasTarget)
		}
	}
}

func TestDecodeA64Error(t *testing.T) {
	_, err := DecodeA64(0xffffffff, 0xffffffc009015014)
	if !errors.Is(err, ErrA64Decode) {
		t.Fatalf("DecodeA64(ffffffff) error = %v, want ErrA64Decode", err)
	}
	for _, s := range []string{"0xffffffff", "0xffffffc009015014"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

// jitedWords returns the words of the real kernel JIT images in
// testdata/jited (copied from the ground-truth captures).
func jitedWords(t testing.TB) map[string][]uint32 {
	t.Helper()
	files, err := filepath.Glob("testdata/jited/arm64*.bin")
	if err != nil || len(files) == 0 {
		t.Fatalf("no arm64 images in testdata/jited (%v)", err)
	}
	images := map[string][]uint32{}
	for _, f := range files {
		img, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(img)%4 != 0 {
			t.Fatalf("%s: %d bytes is not a whole number of instructions", f, len(img))
		}
		for i := 0; i < len(img); i += 4 {
			images[f] = append(images[f], binary.LittleEndian.Uint32(img[i:]))
		}
	}
	return images
}

// TestA64JitedImages decodes every word of the kernel JIT images.
func TestA64JitedImages(t *testing.T) {
	for name, words := range jitedWords(t) {
		for i, w := range words {
			if _, err := DecodeA64(w, uint64(4*i)); err != nil {
				t.Errorf("%s+%#x: %v", name, 4*i, err)
			}
		}
	}
}

// checkA64Invariants holds for every word: no panic, an error wrapping
// ErrA64Decode or a well-formed instruction.
func checkA64Invariants(t *testing.T, w uint32, pc uint64) {
	inst, err := DecodeA64(w, pc)
	if err != nil {
		if !errors.Is(err, ErrA64Decode) {
			t.Fatalf("DecodeA64(%08x): error %v does not wrap ErrA64Decode", w, err)
		}
		return
	}
	if inst.Op == "" || !strings.HasPrefix(inst.Text, inst.Op) || strings.ContainsAny(inst.Text, "\t\n") ||
		strings.Contains(inst.Text, "  ") || strings.HasSuffix(inst.Text, " ") {
		t.Fatalf("DecodeA64(%08x) = {Text %q, Op %q}: malformed", w, inst.Text, inst.Op)
	}
	if strings.Contains(inst.Text, "(") || strings.Contains(inst.Text, "unimplemented") {
		t.Fatalf("DecodeA64(%08x) = %q: an x/arch placeholder leaked", w, inst.Text)
	}
}

// TestA64Sweep decodes every value of bits 31:12, which select all
// encoding classes, with the low bits varying too.
func TestA64Sweep(t *testing.T) {
	n := uint32(1 << 20)
	if testing.Short() {
		n = 1 << 16
	}
	step := (1 << 20) / n
	for i := uint32(0); i < 1<<20; i += step {
		w := i<<12 | (i*0x9e37)&0xfff
		checkA64Invariants(t, w, 0xffffffc009015000)
	}
}

func FuzzDecodeA64(f *testing.F) {
	_, cases := readA64Fixture(f)
	for i := 0; i < len(cases); i += 16 {
		f.Add(cases[i].word, cases[i].pc)
	}
	f.Fuzz(func(t *testing.T, w uint32, pc uint64) {
		checkA64Invariants(t, w, pc)
	})
}

func BenchmarkDecodeA64(b *testing.B) {
	var words []uint32
	for _, ws := range jitedWords(b) {
		words = append(words, ws...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, w := range words {
			if _, err := DecodeA64(w, uint64(4*j)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(words)), "ns/insn")
}

func ExampleDecodeA64() {
	for i, w := range []uint32{0xd503233f, 0xa9bf7bfd, 0x9284f4ea, 0x540001e2} {
		inst, err := DecodeA64(w, 0xffff80000a0ad8a8+uint64(4*i))
		if err != nil {
			panic(err)
		}
		fmt.Println(inst.Text)
	}
	// Output:
	// paciasp
	// stp x29, x30, [sp, #-16]!
	// mov x10, #0xffffffffffffd858
	// b.cs 0xffff80000a0ad8f0
}
