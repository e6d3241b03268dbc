// SPDX-License-Identifier: GPL-2.0-only

package bpfasm_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/bpfasm"
	"github.com/jitscope/jitscope/gen"
)

// generatedSources returns the text of generated programs of several
// shapes (FormatProgram's output, as scenario files hold it).
func generatedSources(tb testing.TB) []string {
	var out []string
	for _, o := range []gen.Options{
		{Insns: 30_000, Seed: 1},
		{Insns: 20_000, Seed: 7, NoTailCalls: true},
		{Insns: 20_000, Seed: 3, Funcs: 5},
	} {
		set, err := gen.Set(o)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range set.Programs {
			text := bpfasm.FormatProgram(p.Insns)
			if want := bpfasm.RefFormatProgram(p.Insns); text != want {
				tb.Fatalf("FormatProgram differs from the fmt-based reference on generated program %s", p.Name)
			}
			out = append(out, text)
		}
	}
	return out
}

// sameProgram compares two results of Parse: instructions field by field
// with their symbols and references, or the errors as the user sees them.
func sameProgram(t *testing.T, src string, got, want asm.Instructions, gotErr, wantErr error) {
	t.Helper()
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("Parse(%.200q): error %v, general path %v", src, gotErr, wantErr)
	}
	if gotErr != nil {
		var g, w *bpfasm.Error
		if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || *g != *w {
			t.Fatalf("Parse(%.200q): error %#v, general path %#v", src, gotErr, wantErr)
		}
		return
	}
	if len(got) != len(want) {
		t.Fatalf("Parse(%.200q): %d instructions, general path %d", src, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.OpCode != w.OpCode || g.Dst != w.Dst || g.Src != w.Src || g.Offset != w.Offset || g.Constant != w.Constant ||
			g.Reference() != w.Reference() || g.Symbol() != w.Symbol() {
			t.Fatalf("Parse(%.200q)[%d] = %v (sym %q ref %q), general path %v (sym %q ref %q)",
				src, i, g, g.Symbol(), g.Reference(), w, w.Symbol(), w.Reference())
		}
	}
}

// TestFastMatchesGeneral holds Parse (the fast path for common lines) to
// the general path alone on generated programs, whole and line by line,
// and checks that the fast path takes nearly all of their lines.
func TestFastMatchesGeneral(t *testing.T) {
	taken, total := 0, 0
	for _, src := range generatedSources(t) {
		got, gotErr := bpfasm.Parse("gen.scn", 10, src)
		want, wantErr := bpfasm.ParseGeneral("gen.scn", 10, src)
		if gotErr != nil {
			t.Fatal(gotErr)
		}
		sameProgram(t, src, got, want, gotErr, wantErr)
		lines := strings.Split(src, "\n")
		total += len(lines)
		for _, line := range lines {
			ok, err := bpfasm.CheckFastLine(line)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				taken++
			}
		}
	}
	// Labels (function starts) and blank lines go the general way.
	if taken < total*99/100 {
		t.Errorf("the fast path takes %d of %d generated lines", taken, total)
	}
}

// mutationBytes are what mutations insert: the syntax's characters and
// some that are not part of it.
const mutationBytes = " \t+-=<>!s*/%&|^()[],#:;.$_rwl0123456789xabfgu\r\v\xc3é"

// mutate changes one to three bytes of s.
func mutate(r *rand.Rand, s string) string {
	b := []byte(s)
	for n := 1 + r.IntN(3); n > 0; n-- {
		c := mutationBytes[r.IntN(len(mutationBytes))]
		switch k := r.IntN(3); {
		case k == 0 || len(b) == 0:
			i := r.IntN(len(b) + 1)
			b = append(b[:i], append([]byte{c}, b[i:]...)...)
		case k == 1:
			i := r.IntN(len(b))
			b = append(b[:i], b[i+1:]...)
		default:
			b[r.IntN(len(b))] = c
		}
	}
	return string(b)
}

// corpusLines returns distinct lines of the generated programs and of the
// hand-written test programs.
func corpusLines(t *testing.T) []string {
	seen := map[string]bool{}
	var out []string
	add := func(src string) {
		for _, l := range strings.Split(src, "\n") {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	for _, src := range generatedSources(t) {
		add(src)
	}
	for _, name := range []string{"testdata/prog.objdump.txt", "testdata/atomics32.objdump.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		add(string(b))
	}
	add(fastExtra)
	return out
}

// fastExtra has lines of every shape fastInsn reads, and near misses.
const fastExtra = `r1 = r2
w1 = w2
r1 = w2
r1 = 5
r1 = -5
r1 = +5
r1 = - 5
r1 = 2147483647
r1 = 2147483648
r1 = -2147483648
r1 = -2147483649
r1 = 0xffffffff
w1 = 0xffffffff
w1 = 0x100000000
w1 = 4294967295
r1 = 0x123456789 ll
r1 = 5 ll
w1 = 5 ll
r1 = 5 llx
r1 = 18446744073709551615
r1 = 18446744073709551616
r1 = -9223372036854775808
r1 = -9223372036854775809
r1 = 0xffffffffffffffff
r1 = 0x1ffffffffffffffff
r1 = 0x
r1 = 0x1g
r1 = 007
r1 = 5abc
r1 += r2
r1 += w2
w1 += w2
w1 += 0xffffffff
r1 += 0xffffffff
r1 s>>= r2
r1 s>>=r2
r1 s/= 3
r1 s%= 3
r1 <<= 3
r1 >>= 3
r1 >> 3
r1 == 3
r1 = -r1
r1 = -r2
w1 = -w1
w1 = -r1
r1 = - r1
r1 = (s8)r2
r1 = (s16) r2
r1 = (s32)r2
w1 = (s32)w2
w1 = (s8)w2
r1 = (u8)r2
r1 = *(u32 *)(r10 - 4)
r1 = *(u32 *)(r10 -4)
r1 = *(u32 *)(r10 +0x10)
r1 = *(u32 *)(r10)
r1 = *(u32 *)(r10 - 32768)
r1 = *(u32 *)(r10 - 32769)
r1 = *(u32 *)(r10 + 32767)
r1 = *(u32 *)(r10 + 32768)
r1 = *(u32 *)(r10 += 4)
r1 = *(u32 *)(w10 - 4)
r1 = *(s8 *)(r2 + 0)
r1 = *(s64 *)(r2 + 0)
r0 = *(u16 *)skb[12]
w1 = *(u32 *)(r10 - 4)
*(u8 *)(r10 - 1) = r2
*(u8 *)(r10 - 1) = w2
*(u8 *)(r10 - 1) = 0xff
*(u32 *)(r10 - 1) = 0xffffffff
*(u64 *)(r10 - 1) = 0xffffffff
*(s8 *)(r10 - 1) = r2
*=(u8 *)(r10 - 1) = r2
*(u8 *)(r10 - 1) == r2
lock *(u32 *)(r1 + 0) += r2
lock *(u64 *)(r1 + 0) &= w2
lock *(u8 *)(r1 + 0) += r2
lock *(u64 *)(r1 + 0) -= r2
if r1 == r2 goto +5
if r1 == w2 goto +5
if w1 == w2 goto +5
if w1 s>= 5 goto -5
if r1 s< 0xffffffff goto +5
if r1 & 1 goto +1
if r1 << 1 goto +1
if r1 == 1 goto pc+1
if r1 == 1 goto pc-1
if r1 == 1 goto pc
if r1 == 1 goto LBB0_1
if r1 == 1 goto +1 <LBB0_1>
if r1 == 1 goto +32768
if r1 == 1 goto -32768
goto +0
goto -1
goto pc+3
goto + 3
goto +3 <l>
goto l
gotol +70000
may_goto +5
call 12
call -1
call +1
call bpf_tail_call
call bpf_tail_call#12
call bpf_tail_call (foo)
call unknown#212
call subprog
call s
call pc
call pc+2
call kernel-function#1234
call r1
call 0x7fffffff
call 0x80000000
exit
exit 1
exitx
r1 = map[jmp_table]
r1 = map[ jmp_table ]
r1 = map[.bss][0]+4
r1 = map[.bss][1]+4
r1 = map[.bss] + 4
r1 = map[.bss] + -4
r1 = map[.bss] + 4294967295
r1 = map[.bss] + 4294967296
r1 = map[values] ll
r1 = map[fd:3]
w1 = map[m]
r1 = map[]
r1 = map[5]
r1 = map_value(m) + 4
r1 = le16 r1
r1 = le16 r2
w1 = be32 r1
r1 = bswap64 r1
r1 = xchg_64(r1 + 0, r1)
r11 = 1
r01 = 1
r00 = 1
w10 = 1
  	r1 = 1  	
r1 = 1 ; comment
r1 = 1 // comment
r1 = 1 # comment
r1=1
r1+=r2
if r1==r2 goto+5
*(u8*)(r10-1)=r2
`

// TestFastLineMutations checks the fast path against the general path on
// the corpus lines and on mutations of them.
func TestFastLineMutations(t *testing.T) {
	lines := corpusLines(t)
	r := rand.New(rand.NewPCG(1, 2))
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	accepted := 0
	check := func(l string) {
		ok, err := bpfasm.CheckFastLine(l)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			accepted++
		}
	}
	for _, l := range lines {
		check(l)
	}
	for i := 0; i < n; i++ {
		check(mutate(r, lines[r.IntN(len(lines))]))
	}
	t.Logf("%d lines, %d accepted by the fast path", len(lines)+n, accepted)
}

// TestFastProgramMutations compares whole programs, errors included, on
// mutated generated programs.
func TestFastProgramMutations(t *testing.T) {
	src := generatedSources(t)[0]
	lines := strings.Split(src, "\n")[:2000]
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		ls := append([]string(nil), lines...)
		for n := 1 + r.IntN(3); n > 0; n-- {
			k := r.IntN(len(ls))
			ls[k] = mutate(r, ls[k])
		}
		text := strings.Join(ls, "\n")
		got, gotErr := bpfasm.Parse("f.scn", 3, text)
		want, wantErr := bpfasm.ParseGeneral("f.scn", 3, text)
		sameProgram(t, text, got, want, gotErr, wantErr)
	}
}

// FuzzFastLine holds the fast path to the general path on fuzzed lines,
// and Parse to the general path on fuzzed programs.
func FuzzFastLine(f *testing.F) {
	for _, l := range strings.Split(fastExtra, "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, l := range strings.Split(src, "\n") {
			if _, err := bpfasm.CheckFastLine(strings.TrimSuffix(l, "\r")); err != nil {
				t.Fatal(err)
			}
		}
		got, gotErr := bpfasm.Parse("f", 1, src)
		want, wantErr := bpfasm.ParseGeneral("f", 1, src)
		sameProgram(t, src, got, want, gotErr, wantErr)
	})
}
