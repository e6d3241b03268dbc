// SPDX-License-Identifier: GPL-2.0-only

package abi

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The compiler is the oracle for argument placement: a C caller built by
// clang calls an assembly stub through a pointer of the prototype's type;
// the stub dumps the argument registers and the first 256 bytes of the
// stack it was called with. testdata/oracle/*.txt hold the dumps (made by
// `go test ./abi -run Oracle -oracle`, which needs clang, ld.lld,
// aarch64-linux-gnu-as/-ld and qemu-aarch64); TestOracle finds each
// argument's bytes in them and compares with Place.
var oracle = flag.Bool("oracle", false, "regenerate testdata/oracle with clang (and qemu-aarch64)")

var oracleProtos = []string{
	seed003,
	"struct i128 { __int128 v; }; int f(struct i128 a, struct i128 b, struct i128 c, int64_t d, struct i128 e, int64_t f, struct i128 g)",
	"long f(int a, char b, void *c)",
	"struct s16 { long a, b; }; int f(long a, long b, long c, long d, long e, long g, long h, struct s16 s, long i)",
	"int f(int a, __int128 b, int c)",
	"int f(long a, long b, long c, long d, long e, __int128 g, long h)",
	"struct p { char c; int i; } __packed; int f(struct p a, long b)",
	"struct __attribute__((aligned(16))) a16 { long x; }; int f(long a, struct a16 b)",
	"struct __attribute__((aligned(16))) a16 { long x; }; int f(long a, long b, long c, long d, long e, long f, long g, struct a16 h, long i, struct a16 j)",
	"int f(u8 a, u16 b, u32 c, u64 d, s8 e, s16 f, s32 g, s64 h, unsigned long long i, short j)",
	"struct s12 { int a, b, c; }; struct s4 { char c[3]; }; int f(long a0, int a1, void *a2, u8 a3, struct s12 a4, u16 a5, struct s12 a6, char *a7, u32 a8, struct s4 a9, s64 a10, short a11)",
	"struct pk { char c; long l; } __packed; struct s12 { int a, b, c; }; int f(long a, long b, long c, long d, long e, struct pk p, struct s12 s, char z)",
	"struct m { long l __attribute__((aligned(16))); }; int f(int a, struct m b, int c)",
	"struct m { long l __attribute__((aligned(16))); }; int f(long a, long b, long c, long d, long e, long f, long g, long h, long i, struct m j)",
	"struct p { char c; int i; } __packed; int f(long a, long b, long c, long d, long e, long f, long g, long h, char i, struct p j, struct p k)",
	"union u { int i; char c[12]; }; int f(long a, long b, long c, long d, long e, long f, long g, union u x, union u y)",
}

const oracleHeader = `typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32; typedef unsigned long u64;
typedef signed char s8; typedef short s16; typedef int s32; typedef long s64;
typedef u8 uint8_t; typedef u16 uint16_t; typedef u32 uint32_t; typedef u64 uint64_t;
typedef s8 int8_t; typedef s16 int16_t; typedef s32 int32_t; typedef s64 int64_t;
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
`

// argBytes is the pattern of argument i: byte k is 0x10*(i+1)+k.
func argBytes(i, n int) []byte {
	b := make([]byte, n)
	for k := range b {
		b[k] = byte(0x10*(i+1) + k)
	}
	return b
}

// cSource is the caller for f: each argument filled with its pattern.
func cSource(proto string, f *Func) string {
	var b strings.Builder
	b.WriteString(oracleHeader)
	defs, sig, _ := strings.Cut(proto, "int f(")
	if sig == "" {
		defs, sig, _ = strings.Cut(proto, "long f(")
	}
	if sig == "" { // seed003: "int func("
		defs, sig, _ = strings.Cut(proto, "int func(")
	}
	b.WriteString(defs + "\n")
	fmt.Fprintf(&b, "typedef long fn_t(%s;\n", sig)
	b.WriteString(`unsigned long buf[8 + 32];
extern void stub(void);
static void out(const char *p, long n) {
#if defined(__aarch64__)
	register long x0 asm("x0") = 1; register const char *x1 asm("x1") = p; register long x2 asm("x2") = n; register long x8 asm("x8") = 64;
	asm volatile("svc 0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
#else
	long r; asm volatile("syscall" : "=a"(r) : "0"(1L), "D"(1L), "S"(p), "d"(n) : "rcx", "r11", "memory");
#endif
}
static void quit(void) {
#if defined(__aarch64__)
	register long x0 asm("x0") = 0; register long x8 asm("x8") = 93; asm volatile("svc 0" :: "r"(x0), "r"(x8));
#else
	asm volatile("syscall" :: "a"(60L), "D"(0L));
#endif
	for (;;) ;
}
void _start(void) {
`)
	var args []string
	for i, a := range f.Args {
		size := a.Type.Size
		if a.Type.Kind == Pointer {
			size = 8
		}
		var lit []string
		for _, x := range argBytes(i, size) {
			lit = append(lit, fmt.Sprintf("0x%02x", x))
		}
		fmt.Fprintf(&b, "\tstatic const unsigned char p%d[%d] = {%s};\n", i, size, strings.Join(lit, ", "))
		args = append(args, fmt.Sprintf("v%d", i))
	}
	// Declare the values with the parameter types: repeat the parameter
	// list as declarations.
	for i, a := range f.Args {
		decl := declOf(a.Type, fmt.Sprintf("v%d", i))
		fmt.Fprintf(&b, "\t%s; __builtin_memcpy(&v%d, p%d, sizeof(v%d));\n", decl, i, i, i)
	}
	fmt.Fprintf(&b, "\t((fn_t *)stub)(%s);\n", strings.Join(args, ", "))
	b.WriteString(`	static const char hex[] = "0123456789abcdef";
	static char line[17 * 40];
	int n = 0;
	for (int i = 0; i < 40; i++) {
		for (int s = 60; s >= 0; s -= 4) line[n++] = hex[(buf[i] >> s) & 15];
		line[n++] = '\n';
	}
	out(line, n);
	quit();
}
`)
	return b.String()
}

// declOf declares name with type t as C.
func declOf(t *Type, name string) string {
	n := t.Name
	if strings.HasSuffix(n, "{...}") {
		panic("anonymous struct in an oracle prototype")
	}
	if i := strings.Index(n, " __aligned("); i >= 0 {
		return n[:i] + " " + name + n[i:]
	}
	if strings.HasSuffix(n, "*") {
		return n + name
	}
	return n + " " + name
}

const stubA64 = `	.globl stub
stub:
	adrp x9, buf
	add x9, x9, :lo12:buf
	stp x0, x1, [x9]
	stp x2, x3, [x9, #16]
	stp x4, x5, [x9, #32]
	stp x6, x7, [x9, #48]
	mov x10, sp
	add x9, x9, #64
	mov x11, #16
1:	ldp x12, x13, [x10], #16
	stp x12, x13, [x9], #16
	subs x11, x11, #1
	b.ne 1b
	ret
`

const stubX86 = `	.globl stub
stub:
	movq %rdi, buf(%rip)
	movq %rsi, buf+8(%rip)
	movq %rdx, buf+16(%rip)
	movq %rcx, buf+24(%rip)
	movq %r8, buf+32(%rip)
	movq %r9, buf+40(%rip)
	leaq buf+64(%rip), %rdi
	leaq 8(%rsp), %rsi
	movl $32, %ecx
	rep movsq
	ret
`

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestOracleGenerate(t *testing.T) {
	if !*oracle {
		t.Skip("regenerating the ABI oracle needs -oracle (clang, ld.lld, aarch64 binutils, qemu-aarch64)")
	}
	ver := strings.SplitN(run(t, ".", "clang", "--version"), "\n", 2)[0]
	gccVer := strings.SplitN(run(t, ".", "gcc", "--version"), "\n", 2)[0]
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "a64.s"), []byte(stubA64), 0o644)
	os.WriteFile(filepath.Join(tmp, "x86.s"), []byte(stubX86), 0o644)
	run(t, tmp, "aarch64-linux-gnu-as", "a64.s", "-o", "a64s.o")
	var out strings.Builder
	for n, proto := range oracleProtos {
		f, err := ParsePrototype(proto)
		if err != nil {
			t.Fatal(err)
		}
		src := cSource(proto, f)
		os.WriteFile(filepath.Join(tmp, "c.c"), []byte(src), 0o644)
		flags := []string{"-O1", "-ffreestanding", "-fno-stack-protector", "-fno-builtin", "-c", "c.c"}
		run(t, tmp, "clang", append([]string{"--target=aarch64-linux-gnu", "-mgeneral-regs-only", "-o", "a64.o"}, flags...)...)
		run(t, tmp, "aarch64-linux-gnu-ld", "-static", "-e", "_start", "a64.o", "a64s.o", "-o", "a64")
		a64 := run(t, tmp, "qemu-aarch64", "./a64")
		// clang 14 does not follow the psABI for __int128 on x86-64
		// (8-byte stack alignment, split between r9 and the stack; fixed
		// in LLVM 18): gcc is the x86-64 oracle.
		run(t, tmp, "gcc", "-O1", "-ffreestanding", "-fno-stack-protector", "-fno-builtin", "-mgeneral-regs-only", "-fno-pie", "-no-pie",
			"-nostdlib", "-static", "-o", "x86", "c.c", "x86.s")
		x86 := run(t, tmp, "./x86")
		fmt.Fprintf(&out, "proto %d %s\naarch64\n%sx86_64\n%s", n, proto, a64, x86)
	}
	hdr := fmt.Sprintf("# ABI oracle: argument registers and stack at the call, dumped by a stub called from a C caller\n# made by go test ./abi -run OracleGenerate -oracle: aarch64 with %s (-O1 -mgeneral-regs-only, run by qemu-aarch64), x86_64 with %s (-O1 -mgeneral-regs-only)\n# registers: aarch64 x0-x7, x86_64 rdi rsi rdx rcx r8 r9 (then two zero words); then 32 words of the stack from the stack pointer at the call\n", ver, gccVer)
	os.MkdirAll("testdata", 0o755)
	if err := os.WriteFile("testdata/oracle.txt", []byte(hdr+out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dataMask marks the bytes of t that hold data (members), not padding.
func dataMask(t *Type, mask []bool, off int) {
	if t.Kind != Struct || len(t.Members) == 0 {
		for k := 0; k < t.Size && off+k < len(mask); k++ {
			mask[off+k] = true
		}
		if t.Kind == Pointer {
			for k := 0; k < 8 && off+k < len(mask); k++ {
				mask[off+k] = true
			}
		}
		return
	}
	for _, m := range t.Members {
		dataMask(m.Type, mask, off+m.Offset)
	}
}

// TestOracle checks Place against the compiler's placement.
func TestOracle(t *testing.T) {
	fh, err := os.Open("testdata/oracle.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	type dump struct {
		proto string
		words map[string][]uint64
	}
	var dumps []*dump
	var cur *dump
	arch := ""
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "proto "):
			_, p, _ := strings.Cut(strings.TrimPrefix(l, "proto "), " ")
			cur = &dump{proto: p, words: map[string][]uint64{}}
			dumps = append(dumps, cur)
		case l == "aarch64" || l == "x86_64":
			arch = l
		default:
			v, err := strconv.ParseUint(l, 16, 64)
			if err != nil {
				t.Fatalf("bad line %q", l)
			}
			cur.words[arch] = append(cur.words[arch], v)
		}
	}
	if len(dumps) != len(oracleProtos) {
		t.Fatalf("%d dumps for %d prototypes: regenerate with -oracle", len(dumps), len(oracleProtos))
	}
	for _, d := range dumps {
		f, err := ParsePrototype(d.proto)
		if err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"aarch64", "x86_64"} {
			ws := d.words[arch]
			mem := make([]byte, 8*len(ws))
			for i, w := range ws {
				for k := 0; k < 8; k++ {
					mem[8*i+k] = byte(w >> (8 * k))
				}
			}
			conv := AAPCS64
			if arch == "x86_64" {
				conv = SysV
			}
			c, err := Place(f, conv)
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range f.Args {
				size := a.Type.Size
				if a.Type.Kind == Pointer {
					size = 8
				}
				mask := make([]bool, size)
				dataMask(a.Type, mask, 0)
				pat := argBytes(i, size)
				found := -1
				for o := 0; o+size <= len(mem); o += 8 {
					ok := true
					for k := 0; k < size; k++ {
						if mask[k] && mem[o+k] != pat[k] {
							ok = false
							break
						}
					}
					if ok {
						found = o
						break
					}
				}
				var got string
				switch {
				case found < 0:
					got = "not found"
				case found < 64:
					// Registers in order; an 8-byte part that holds no
					// data is "-" under SysV (it takes no register).
					var regs []string
					r := found / 8
					for j := 0; j < (size+7)/8; j++ {
						data := false
						for k := 8 * j; k < min(8*j+8, size); k++ {
							data = data || mask[k]
						}
						switch {
						case conv == SysV && !data:
							regs = append(regs, "-")
						case conv == SysV:
							regs = append(regs, sysvRegs[r])
							r++
						default:
							regs = append(regs, fmt.Sprintf("x%d", r))
							r++
						}
					}
					got = strings.Join(regs, ":")
				default:
					got = (Placement{Size: size, Parts: []Loc{{Stack: found - 64}}}).Where()
				}
				if want := c.Args[i].Where(); got != want {
					t.Errorf("%s %s: %s at %s by the compiler, %s by Place", arch, d.proto, f.ArgName(i), got, want)
				}
			}
		}
	}
}
