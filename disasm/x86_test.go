package disasm

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// x86Case is one line of testdata/x86_objdump.txt.
type x86Case struct {
	bytes      []byte
	pc         uint64
	att, intel string // objdump's texts; "(bad)" where it cannot decode
	follow     []byte // the bytes from this instruction to the end of its section
}

func readX86Fixture(t testing.TB) (header string, cases []x86Case) {
	t.Helper()
	f, err := os.Open("testdata/x86_objdump.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	start := 0 // first case of the current section
	var code []byte
	flush := func() {
		off := 0
		for i := start; i < len(cases); i++ {
			cases[i].follow = code[off:]
			off += len(cases[i].bytes)
		}
		start, code = len(cases), nil
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			if n == 1 {
				header = line
			}
			flush()
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 4 {
			t.Fatalf("x86_objdump.txt:%d: want 4 fields, got %q", n, line)
		}
		b, err1 := hex.DecodeString(p[0])
		pc, err2 := strconv.ParseUint(p[1], 16, 64)
		if err1 != nil || err2 != nil || len(b) == 0 {
			t.Fatalf("x86_objdump.txt:%d: bad bytes or pc in %q", n, line)
		}
		if len(cases) > start {
			if prev := cases[len(cases)-1]; prev.pc+uint64(len(prev.bytes)) != pc {
				t.Fatalf("x86_objdump.txt:%d: pc %#x does not follow the previous instruction", n, pc)
			}
		}
		cases = append(cases, x86Case{bytes: b, pc: pc, att: p[2], intel: p[3]})
		code = append(code, b...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return header, cases
}

// x86RefusedOps are objdump mnemonics of instruction classes DecodeX86
// deliberately returns an error for. The eBPF JIT emits none of them.
var x86RefusedOps = map[string]string{
	"in": "port I/O", "out": "port I/O", "insb": "port I/O", "insl": "port I/O", "insw": "port I/O",
	"outsb": "port I/O", "outsl": "port I/O", "outsw": "port I/O",
	"movsb": "string", "movsw": "string", "movsl": "string", "movsq": "string", "cmpsb": "string", "cmpsw": "string",
	"cmpsl": "string", "cmpsq": "string", "scas": "string", "lods": "string", "stos": "string", "xlat": "string",
	"iret": "far return", "iretq": "far return", "lret": "far return", "lretq": "far return", "lretw": "far return",
	"lcall": "far branch", "ljmp": "far branch", "lfs": "far pointer", "lgs": "far pointer", "lss": "far pointer",
	"callw": "16-bit branch", "jmpw": "16-bit branch", "retw": "16-bit branch", "leavew": "16-bit branch", "enterw": "16-bit branch",
	"ud1": "ud0/ud1", "ud0": "ud0/ud1", "prefetch": "prefetch with reserved ModRM or prefix", "prefetchit0": "prefetchi",
	"prefetchit1": "prefetchi", "cldemote": "cldemote", "xbegin": "TSX", "xabort": "TSX", "xend": "TSX", "xtest": "TSX",
	"stmxcsr": "SSE", "ldmxcsr": "SSE", "xsave": "XSAVE", "xrstor": "XSAVE", "xsave64": "XSAVE", "xrstor64": "XSAVE",
	"xsaveopt": "XSAVE", "xsavec": "XSAVE", "vmptrld": "VMX", "vmptrst": "VMX", "vmclear": "VMX", "vmxon": "VMX",
	"crc32b": "SSE4.2", "crc32w": "SSE4.2", "crc32l": "SSE4.2", "crc32q": "SSE4.2",
}

// x86RefusedClass says why DecodeX86 may refuse the instruction objdump
// printed as c.att, or "" if it must not.
func x86RefusedClass(c x86Case) string {
	op := ""
	for _, w := range strings.Fields(c.att) {
		if !x86PrefixWords[w] {
			op = strings.TrimSuffix(strings.TrimSuffix(w, ",pt"), ",pn")
			break
		}
	}
	if class, ok := x86RefusedOps[op]; ok {
		return class
	}
	switch {
	case op == "":
	case op[0] == 'f':
		return "x87, FXSAVE"
	case op[0] == 'v' || strings.HasSuffix(op, "ps") || strings.HasSuffix(op, "pd") ||
		strings.HasPrefix(op, "cvt") || strings.HasPrefix(op, "movd") || op == "movq" || strings.HasPrefix(op, "movh") ||
		strings.HasPrefix(op, "movl") || strings.HasPrefix(op, "movnt") || strings.HasPrefix(op, "pavg") ||
		strings.HasPrefix(op, "padd") || strings.HasPrefix(op, "psub") || strings.HasPrefix(op, "pcmp") ||
		strings.HasPrefix(op, "pmax") || strings.HasPrefix(op, "pmin") || strings.HasPrefix(op, "psr") ||
		strings.HasPrefix(op, "psl") || op == "pxor" || op == "por" || op == "pand" || op == "pandn" || strings.HasPrefix(op, "pmul") ||
		strings.HasPrefix(op, "pack") || strings.HasPrefix(op, "punpck") || strings.HasPrefix(op, "pshuf") || op == "emms":
		return "MMX, SSE, AVX"
	}
	if strings.Contains(c.att, "%cs") || strings.Contains(c.att, "%ds") || strings.Contains(c.att, "%es") ||
		strings.Contains(c.att, "%ss") || strings.Contains(c.att, "%fs,") || strings.Contains(c.att, "%gs,") ||
		strings.HasSuffix(c.att, "%fs") || strings.HasSuffix(c.att, "%gs") || strings.Contains(c.att, "%?") ||
		strings.Contains(c.att, "%cr") || strings.Contains(c.att, "%db") || strings.Contains(c.att, "%tr") {
		return "segment, control and debug registers"
	}
	// Prefix combinations objdump treats inconsistently (several segment
	// prefixes, 0x66 with REX on prefix-selected opcodes, addr32 with an
	// absolute address, a rep prefix on opcodes it selects): the
	// instruction itself decodes without its legacy prefixes.
	i := 0
	odd := false
	segs := 0
	for i < len(c.bytes) {
		switch c.bytes[i] {
		case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65:
			segs++
		case 0x66, 0x67, 0xf2, 0xf3:
			odd = true
		case 0xf0:
		default:
			goto done
		}
		i++
	}
done:
	if segs > 1 || odd {
		if _, err := DecodeX86(c.follow[i:], c.pc); err == nil {
			return "prefix combination"
		}
	}
	return ""
}

// TestX86Objdump checks DecodeX86 against objdump's disassembly of every
// instruction in testdata/x86_objdump.txt, in both syntaxes.
func TestX86Objdump(t *testing.T) {
	header, cases := readX86Fixture(t)
	if !strings.Contains(header, "GNU objdump (GNU Binutils for Debian) 2.40") {
		t.Errorf("fixture header %q does not name the objdump that made it", header)
	}
	if len(cases) < 5000 {
		t.Fatalf("fixture has %d instructions, want well over 5000", len(cases))
	}
	var bad, refused int
	for _, c := range cases {
		inst, err := DecodeX86(c.follow, c.pc)
		switch {
		case strings.Contains(c.att, "(bad)"):
			bad++
			if err == nil {
				t.Errorf("DecodeX86(% x @%#x) = %q, want an error (objdump: (bad))", c.bytes, c.pc, inst.Text)
			}
		case err != nil:
			refused++
			if x86RefusedClass(c) == "" {
				t.Errorf("DecodeX86(% x @%#x): %v, want %q", c.bytes, c.pc, err, c.att)
			}
		case inst.Len != len(c.bytes) || inst.Text != c.att || inst.Intel != c.intel:
			t.Errorf("DecodeX86(% x @%#x) = %d bytes %q / %q, want %d bytes %q / %q", c.bytes, c.pc,
				inst.Len, inst.Text, inst.Intel, len(c.bytes), c.att, c.intel)
		case !bytesEqual(inst.Bytes, c.bytes) || inst.PC != c.pc:
			t.Errorf("DecodeX86(% x @%#x): Bytes % x PC %#x", c.bytes, c.pc, inst.Bytes, inst.PC)
		}
	}
	t.Logf("%d instructions: %d (bad), %d refused on purpose", len(cases), bad, refused)
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// x86Image is one x86-64 JIT image of the ground-truth captures.
type x86Image struct {
	name  string
	image []byte
	funcs []x86Func
	text  string // the capture's own listing of the image (jited*.txt)
}

type x86Func struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	JitedOffset int    `json:"jited_offset"`
	JitedLen    int    `json:"jited_len"`
	addr        uint64
}

// x86Images loads every x86-64 jited.bin and jited.empty.bin of
// ../testdata/captures with the functions capture.json places in it.
func x86Images(t testing.TB) []x86Image {
	t.Helper()
	var bins []string
	for _, pat := range []string{"jited.bin", "jited.empty.bin"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", "captures", "x86_64*", "*", "*", pat))
		if err != nil {
			t.Fatal(err)
		}
		bins = append(bins, m...)
	}
	if len(bins) < 20 {
		t.Fatalf("found %d x86-64 JIT images under ../testdata/captures, want at least 20", len(bins))
	}
	var images []x86Image
	for _, bin := range bins {
		img, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		js, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "capture.json"))
		if err != nil {
			t.Fatal(err)
		}
		var capture struct {
			Functions []x86Func `json:"functions"`
		}
		if err := json.Unmarshal(js, &capture); err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		txt, err := os.ReadFile(strings.TrimSuffix(bin, ".bin") + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		for i := range capture.Functions {
			fn := &capture.Functions[i]
			if fn.addr, err = strconv.ParseUint(strings.TrimPrefix(fn.Address, "0x"), 16, 64); err != nil {
				t.Fatalf("%s: %s: %v", bin, fn.Name, err)
			}
			if fn.JitedOffset < 0 || fn.JitedLen <= 0 || fn.JitedOffset+fn.JitedLen > len(img) {
				t.Fatalf("%s: %s: extent %d+%d outside %d bytes", bin, fn.Name, fn.JitedOffset, fn.JitedLen, len(img))
			}
		}
		images = append(images, x86Image{name: bin, image: img, funcs: capture.Functions, text: string(txt)})
	}
	return images
}

// x86ListingRE matches an instruction line of a capture's jited*.txt, in
// objdump's format ("addr:\tbytes\ttext") or the capture tools' one
// ("off  addr:  bytes  text  ; note").
var x86ListingRE = regexp.MustCompile(`^\s*(?:[0-9a-f]+\s+)?([0-9a-f]{16}):\s+((?:[0-9a-f]{2} )+)\s*([^;]*)`)

// TestX86Captures decodes every function of every x86-64 capture in
// sequence: no errors, lengths adding up to the function's, and each
// instruction's text equal to the one in the capture's own listing.
func TestX86Captures(t *testing.T) {
	var insns, compared int
	for _, im := range x86Images(t) {
		texts := map[uint64]string{}
		for _, line := range strings.Split(im.text, "\n") {
			if m := x86ListingRE.FindStringSubmatch(line); m != nil && strings.TrimSpace(m[3]) != "" {
				a, _ := strconv.ParseUint(m[1], 16, 64)
				texts[a] = strings.Join(strings.Fields(m[3]), " ")
			}
		}
		for _, fn := range im.funcs {
			code := im.image[fn.JitedOffset : fn.JitedOffset+fn.JitedLen]
			off := 0
			for off < len(code) {
				pc := fn.addr + uint64(off)
				inst, err := DecodeX86(code[off:], pc)
				if err != nil {
					t.Errorf("%s: %s+%#x: %v", im.name, fn.Name, off, err)
					break
				}
				insns++
				if want, ok := texts[pc]; ok {
					compared++
					if inst.Text != want {
						t.Errorf("%s: %s+%#x: % x = %q, capture listing says %q", im.name, fn.Name, off, inst.Bytes, inst.Text, want)
					}
				}
				off += inst.Len
			}
			if off != len(code) {
				t.Errorf("%s: %s: decoded %d bytes, function has %d", im.name, fn.Name, off, len(code))
			}
		}
	}
	if compared < insns*9/10 {
		t.Errorf("only %d of %d instructions found in the capture listings", compared, insns)
	}
	t.Logf("%d instructions decoded, %d compared with the capture listings", insns, compared)
}

// TestX86Seed001Legacy decodes the instruction lines of seed 001, a 2020
// kernel mail quoting pre-2.36 objdump, in the legacy dialect.
func TestX86Seed001Legacy(t *testing.T) {
	data, err := os.ReadFile("testdata/x86_seed001_lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 3 {
			t.Fatalf("bad line %q", line)
		}
		pc, err1 := strconv.ParseUint(p[0], 16, 64)
		code, err2 := hex.DecodeString(p[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		inst, err := DecodeX86Opts(code, pc, X86Opts{Legacy: true})
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if inst.Text != p[2] || inst.Len != len(code) {
			t.Errorf("DecodeX86Opts(% x @%#x, Legacy) = %q (%d bytes), seed says %q (%d bytes)", code, pc, inst.Text, inst.Len, p[2], len(code))
		}
		plain, _ := DecodeX86(code, pc)
		if plain.Legacy != p[2] {
			t.Errorf("DecodeX86(% x).Legacy = %q, seed says %q", code, plain.Legacy, p[2])
		}
		if got := X86LegacySuffix(plain.Text, code[0] == 0xe9); got != p[2] {
			t.Errorf("X86LegacySuffix(%q) = %q, seed says %q", plain.Text, got, p[2])
		}
		n++
	}
	if n < 14 {
		t.Errorf("seed 001 has %d instruction lines, want 14", n)
	}
}

func TestX86Legacy(t *testing.T) {
	tests := []struct {
		hex, text, legacy string
	}{
		{"e80e000000", "call 0x1013", "callq 0x1013"},
		{"e90e000000", "jmp 0x1013", "jmpq 0x1013"},
		{"eb0e", "jmp 0x1010", "jmp 0x1010"},
		{"740e", "je 0x1010", "je 0x1010"},
		{"0f840e000000", "je 0x1014", "je 0x1014"},
		{"ffd0", "call *%rax", "callq *%rax"},
		{"ffe1", "jmp *%rcx", "jmpq *%rcx"},
		{"3effe1", "notrack jmp *%rcx", "notrack jmpq *%rcx"},
		{"ff20", "jmp *(%rax)", "jmpq *(%rax)"},
		{"c3", "ret", "retq"},
		{"f3c3", "repz ret", "repz retq"},
		{"c20800", "ret $0x8", "retq $0x8"},
		{"c9", "leave", "leaveq"},
		{"c8100000", "enter $0x10,$0x0", "enterq $0x10,$0x0"},
		{"9c", "pushf", "pushfq"},
		{"9d", "popf", "popfq"},
		{"6a00", "push $0x0", "pushq $0x0"},
		{"ff30", "push (%rax)", "pushq (%rax)"},
		{"8f00", "pop (%rax)", "popq (%rax)"},
		{"55", "push %rbp", "push %rbp"},
		{"5d", "pop %rbp", "pop %rbp"},
		{"4883c001", "add $0x1,%rax", "add $0x1,%rax"},
	}
	for _, tt := range tests {
		code, _ := hex.DecodeString(tt.hex)
		inst, err := DecodeX86(code, 0x1000)
		if err != nil {
			t.Errorf("DecodeX86(%s): %v", tt.hex, err)
			continue
		}
		if inst.Text != tt.text || inst.Legacy != tt.legacy {
			t.Errorf("DecodeX86(%s) = %q / legacy %q, want %q / %q", tt.hex, inst.Text, inst.Legacy, tt.text, tt.legacy)
		}
		if got := X86LegacySuffix(inst.Text, code[0] == 0xe9); got != tt.legacy {
			t.Errorf("X86LegacySuffix(%q) = %q, want %q", inst.Text, got, tt.legacy)
		}
		li, _ := DecodeX86Opts(code, 0x1000, X86Opts{Legacy: true})
		if li.Text != tt.legacy || !strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(tt.legacy, "repz "), "notrack "), li.Op) {
			t.Errorf("DecodeX86Opts(%s, Legacy) = %q (op %q), want %q", tt.hex, li.Text, li.Op, tt.legacy)
		}
	}
}

func TestDecodeX86Fields(t *testing.T) {
	tests := []struct {
		hex       string
		pc        uint64
		text, op  string
		kind      BranchKind
		target    uint64
		hasTarget bool
		rip       bool
	}{
		{"0f1f440000", 0xffffffffc0025c1c, "nopl 0x0(%rax,%rax,1)", "nopl", None, 0, false, false},
		{"7706", 0xffffffffc0025c2c, "ja 0xffffffffc0025c34", "ja", CondJump, 0xffffffffc0025c34, true, false},
		{"eb01", 0xffffffffc0025c32, "jmp 0xffffffffc0025c35", "jmp", Jump, 0xffffffffc0025c35, true, false},
		{"e876000000", 0xffffffffc0025c3d, "call 0xffffffffc0025cb8", "call", Call, 0xffffffffc0025cb8, true, false},
		{"e9c3e40dc1", 0xffffffffc0025c43, "jmp 0xffffffff8110410b", "jmp", Jump, 0xffffffff8110410b, true, false},
		{"0f8310000000", 0x1000, "jae 0x1016", "jae", CondJump, 0x1016, true, false},
		{"ffe1", 0, "jmp *%rcx", "jmp", IndirectJump, 0, false, false},
		{"41ffd3", 0, "call *%r11", "call", Call, 0, false, false},
		{"c3", 0, "ret", "ret", Return, 0, false, false},
		{"c9", 0, "leave", "leave", None, 0, false, false},
		{"cc", 0, "int3", "int3", None, 0, false, false},
		{"f30f1efa", 0, "endbr64", "endbr64", None, 0, false, false},
		{"0faee8", 0, "lfence", "lfence", None, 0, false, false},
		{"f390", 0, "pause", "pause", None, 0, false, false},
		{"6690", 0, "xchg %ax,%ax", "xchg", None, 0, false, false},
		{"48be008e5d028188ffff", 0, "movabs $0xffff8881025d8e00,%rsi", "movabs", None, 0, false, false},
		{"488b85f0ffffff", 0, "mov -0x10(%rbp),%rax", "mov", None, 0, false, false},
		{"48833821", 0, "cmpq $0x21,(%rax)", "cmpq", None, 0, false, false},
		{"f0480fc107", 0, "lock xadd %rax,(%rdi)", "xadd", None, 0, false, false},
		{"c4e2f9f7c1", 0, "shlx %rax,%rcx,%rax", "shlx", None, 0, false, false},
		{"c4e2fbf7c7", 0, "shrx %rax,%rdi,%rax", "shrx", None, 0, false, false},
		{"c4e2faf7c7", 0, "sarx %rax,%rdi,%rax", "sarx", None, 0, false, false},
		{"480fb6470a", 0, "movzbq 0xa(%rdi),%rax", "movzbq", None, 0, false, false},
		{"488d0510000000", 0x1000, "lea 0x10(%rip),%rax", "lea", None, 0x1017, true, true},
		{"3e7405", 0x1000, "je,pt 0x1008", "je", CondJump, 0x1008, true, false},
	}
	for _, tt := range tests {
		code, _ := hex.DecodeString(tt.hex)
		inst, err := DecodeX86(code, tt.pc)
		if err != nil {
			t.Errorf("DecodeX86(%s @%#x): %v", tt.hex, tt.pc, err)
			continue
		}
		if inst.Text != tt.text || inst.Op != tt.op || inst.Kind != tt.kind || inst.Target != tt.target ||
			inst.HasTarget != tt.hasTarget || inst.RIPRelative != tt.rip || inst.Len != len(code) || inst.PC != tt.pc {
			t.Errorf("DecodeX86(%s @%#x) = {%q %q %v %#x %v %v len %d}, want {%q %q %v %#x %v %v len %d}", tt.hex, tt.pc,
				inst.Text, inst.Op, inst.Kind, inst.Target, inst.HasTarget, inst.RIPRelative, inst.Len,
				tt.text, tt.op, tt.kind, tt.target, tt.hasTarget, tt.rip, len(code))
		}
	}
}

func TestDecodeX86Error(t *testing.T) {
	for _, tt := range []struct {
		hex  string
		pc   uint64
		want []string
	}{
		{"0fff", 0xffffffffc0513aa1, []string{"0f ff", "0xffffffffc0513aa1"}}, // ud0
		{"d9c0", 0x1000, []string{"d9", "0x1000"}},                            // x87
		{"e80000", 0x2000, []string{"e8 00 00", "0x2000", "truncated"}},       // truncated rel32
		{"", 0x3000, []string{"0x3000", "truncated"}},
		{"666666666666666666666666666666", 0x4000, []string{"0x4000", "15 bytes"}},
	} {
		code, _ := hex.DecodeString(tt.hex)
		inst, err := DecodeX86(code, tt.pc)
		if !errors.Is(err, ErrX86Decode) {
			t.Errorf("DecodeX86(%s) = %q, %v; want an ErrX86Decode", tt.hex, inst.Text, err)
			continue
		}
		for _, s := range tt.want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("DecodeX86(%s) error %q does not mention %q", tt.hex, err, s)
			}
		}
	}
}

// checkX86Invariants holds for all input: no panic; an error wrapping
// ErrX86Decode, or a well-formed instruction of 1..15 bytes.
func checkX86Invariants(t *testing.T, code []byte, pc uint64) {
	inst, err := DecodeX86(code, pc)
	if err != nil {
		if !errors.Is(err, ErrX86Decode) {
			t.Fatalf("DecodeX86(% x): error %v does not wrap ErrX86Decode", code, err)
		}
		return
	}
	if inst.Len < 1 || inst.Len > 15 || inst.Len > len(code) || len(inst.Bytes) != inst.Len {
		t.Fatalf("DecodeX86(% x): Len %d, %d bytes", code, inst.Len, len(inst.Bytes))
	}
	for _, s := range []string{inst.Text, inst.Intel, inst.Legacy} {
		if s == "" || strings.ContainsAny(s, "\t\n") || strings.Contains(s, "  ") || strings.HasSuffix(s, " ") {
			t.Fatalf("DecodeX86(% x) = %q / %q / %q: malformed", code, inst.Text, inst.Intel, inst.Legacy)
		}
	}
	if inst.Op == "" || !strings.Contains(inst.Text, inst.Op) {
		t.Fatalf("DecodeX86(% x) = {Text %q, Op %q}: malformed", code, inst.Text, inst.Op)
	}
	legacy, err := DecodeX86Opts(code, pc, X86Opts{Legacy: true})
	if err != nil || legacy.Text != inst.Legacy || legacy.Len != inst.Len {
		t.Fatalf("DecodeX86Opts(% x, Legacy) = %q, %v; want %q", code, legacy.Text, err, inst.Legacy)
	}
}

func FuzzDecodeX86(f *testing.F) {
	_, cases := readX86Fixture(f)
	for i := 0; i < len(cases); i += 97 {
		f.Add(cases[i].follow[:min(len(cases[i].follow), 16)], cases[i].pc)
	}
	f.Fuzz(func(t *testing.T, code []byte, pc uint64) {
		checkX86Invariants(t, code, pc)
	})
}

// TestX86Sweep decodes every one- and two-byte opcode with a spread of
// prefixes and following bytes.
func TestX86Sweep(t *testing.T) {
	tails := [][]byte{{0x00}, {0x44, 0x24, 0x08, 0x11, 0x22, 0x33, 0x44}, {0x84, 0xd6, 0x38, 0x01, 0x00, 0x00, 0x7f, 0x80},
		{0xc0, 0x01}, {0x05, 0xf0, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	prefixes := [][]byte{nil, {0x48}, {0x66}, {0xf0}, {0xf3}, {0xf2, 0x41}, {0x65, 0x4f}, {0x67}, {0x2e}, {0x3e, 0x66, 0x49}}
	for _, p := range prefixes {
		for op := 0; op < 256; op++ {
			for _, two := range []bool{false, true} {
				for _, tail := range tails {
					code := append(append([]byte{}, p...), byte(op))
					if two {
						code = append(append(append([]byte{}, p...), 0x0f), byte(op))
					}
					checkX86Invariants(t, append(code, tail...), 0xffffffffc0000000)
				}
			}
		}
	}
}

func BenchmarkDecodeX86(b *testing.B) {
	var code [][]byte
	var pcs []uint64
	n := 0
	for _, im := range x86Images(b) {
		for _, fn := range im.funcs {
			code = append(code, im.image[fn.JitedOffset:fn.JitedOffset+fn.JitedLen])
			pcs = append(pcs, fn.addr)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n = 0
		for j, c := range code {
			for off := 0; off < len(c); {
				inst, err := DecodeX86(c[off:], pcs[j]+uint64(off))
				if err != nil {
					b.Fatal(err)
				}
				off += inst.Len
				n++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/insn")
}

func ExampleDecodeX86() {
	code := []byte{
		0x0f, 0x1f, 0x44, 0x00, 0x00, // nop5
		0x55,             // push rbp
		0x48, 0x89, 0xe5, // mov rbp, rsp
		0x48, 0x8b, 0x85, 0xf0, 0xff, 0xff, 0xff, // mov rax, [rbp-0x10]
		0xe9, 0x0e, 0x00, 0x00, 0x00, // jmp
	}
	pc := uint64(0xffffffffc0513a91)
	for off := 0; off < len(code); {
		inst, err := DecodeX86(code[off:], pc+uint64(off))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-34s %-32s %s\n", inst.Text, inst.Intel, inst.Legacy)
		off += inst.Len
	}
	// Output:
	// nopl 0x0(%rax,%rax,1)              nop DWORD PTR [rax+rax*1+0x0]    nopl 0x0(%rax,%rax,1)
	// push %rbp                          push rbp                         push %rbp
	// mov %rsp,%rbp                      mov rbp,rsp                      mov %rsp,%rbp
	// mov -0x10(%rbp),%rax               mov rax,QWORD PTR [rbp-0x10]     mov -0x10(%rbp),%rax
	// jmp 0xffffffffc0513ab4             jmp 0xffffffffc0513ab4           jmpq 0xffffffffc0513ab4
}
