// SPDX-License-Identifier: GPL-2.0-only

package tramp

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

const seed003 = "int func(__int128 a, __int128 b, __int128 c, int64_t d, __int128 e, int64_t f, __int128 g)"

// The reviewer's example with the __int128 arguments wrapped in a struct,
// as a BTF_FMODEL_STRUCT_ARG the v2 patch does count in 8-byte slots.
const seed003Struct = "struct i128 { __int128 v; }; int func(struct i128 a, struct i128 b, struct i128 c, int64_t d, struct i128 e, int64_t f, struct i128 g)"

func build(t *testing.T, proto string, arch kernel.Arch, o Options) *Report {
	t.Helper()
	f, err := abi.ParsePrototype(proto)
	if err != nil {
		t.Fatalf("%s: %v", proto, err)
	}
	o.Func, o.Arch = f, arch
	r, err := Build(o)
	if err != nil {
		t.Fatalf("%s: %v", proto, err)
	}
	return r
}

func column(r *Report, name string) *Column {
	for _, c := range r.Columns {
		if c.Version.Name == name {
			return c
		}
	}
	return nil
}

// emulate runs col's trampoline with distinct argument values and checks
// each argument the report says the version reads right against what the
// recorder saw, and each it reads wrong against a different value.
func emulate(t *testing.T, r *Report, col *Column) *RunResult {
	t.Helper()
	vals := ArgValues(r.Func)
	res, err := Run(col.Tramp, r.Call, vals)
	if err != nil {
		t.Fatalf("%s %s: run: %v", r.Func, col.Version.Name, err)
	}
	if len(res.Clobbered) > 0 && len(col.Tramp.Warnings) == 0 {
		t.Errorf("%s %s: callee-saved registers clobbered: %v", r.Func, col.Version.Name, res.Clobbered)
	}
	for i, ac := range col.Args {
		for j, rd := range ac.Reads {
			if rd.Want.Pad {
				continue // passed nowhere
			}
			got, want := res.Ctx[rd.Slot], vals[i][j]
			if rd.OK && got != want {
				t.Errorf("%s %s: %s part %d: the program read %#x, want %#x (the table says it reads %s)",
					r.Func.Name, col.Version.Name, r.Func.ArgName(i), j, got, want, rd.Source)
			}
			if !rd.OK && got == want {
				t.Errorf("%s %s: %s part %d: the table flags the read from %s as wrong, but the program read the right value %#x",
					r.Func.Name, col.Version.Name, r.Func.ArgName(i), j, rd.Source, got)
			}
		}
	}
	return res
}

// TestSeed003 reproduces seed 003's review: e, f, g at sp+0, +16, +32
// under AAPCS64, the v2 patch reading them wrong, 6.16+ wrong for g only.
func TestSeed003(t *testing.T) {
	r := build(t, seed003, kernel.ARM64, Options{})
	var stack []string
	for _, pl := range r.Call.Args[4:] {
		stack = append(stack, pl.Where())
	}
	if got := strings.Join(stack, " "); got != "sp+0..+15 sp+16 sp+32..+47" {
		t.Errorf("e, f, g at %s; want sp+0..+15 sp+16 sp+32..+47", got)
	}
	if !strings.Contains(r.Call.Args[6].Note, "8 bytes of padding") {
		t.Errorf("g's note %q does not name the padding", r.Call.Args[6].Note)
	}
	// The v2 patch counts each __int128 (no struct flag) as one slot: it
	// saves x0-x6 and nothing from the stack, so e, f and g are misread.
	v2 := column(r, "seed003-v2")
	if v2.Tramp == nil {
		t.Fatalf("seed003-v2 refused: %v", v2.Err)
	}
	for i, want := range []bool{true, true, true, true, false, false, false} {
		if v2.Args[i].OK != want {
			t.Errorf("seed003-v2 %s: ok %v, want %v (%s)", r.Func.ArgName(i), v2.Args[i].OK, want, v2.Args[i].Text())
		}
	}
	// 6.16+ copies the stack slots in order: e and f are right, g is read
	// from sp+24 (the padding) and sp+32.
	v618 := column(r, "v6.18")
	for i, want := range []bool{true, true, true, true, true, true, false} {
		if v618.Args[i].OK != want {
			t.Errorf("v6.18 %s: ok %v, want %v (%s)", r.Func.ArgName(i), v618.Args[i].OK, want, v618.Args[i].Text())
		}
	}
	if g := v618.Args[6].Text(); g != "sp+24,sp+32 "+Mismatch {
		t.Errorf("v6.18 g read from %q, want sp+24,sp+32 flagged", g)
	}
	emulate(t, r, v2)
	emulate(t, r, v618)

	// With structs the v2 patch counts the slots, and the reviewer's
	// point shows alone: e and f right, g 8 bytes too low.
	rs := build(t, seed003Struct, kernel.ARM64, Options{})
	v2 = column(rs, "seed003-v2")
	for i, want := range []bool{true, true, true, true, true, true, false} {
		if v2.Args[i].OK != want {
			t.Errorf("struct variant, seed003-v2 %s: ok %v, want %v (%s)", rs.Func.ArgName(i), v2.Args[i].OK, want, v2.Args[i].Text())
		}
	}
	if g := v2.Args[6].Text(); g != "sp+24,sp+32 "+Mismatch {
		t.Errorf("struct variant, seed003-v2 g read from %q, want sp+24,sp+32 flagged", g)
	}
	emulate(t, rs, v2)
	// 6.16+ refuses structs passed on the stack.
	var te *jit.TrampError
	if c := column(rs, "v6.18"); !errors.As(c.Err, &te) || te.Errno != "ENOTSUPP" || !strings.Contains(te.Msg, "struct passed on the stack") {
		t.Errorf("struct variant, v6.18: %v, want -ENOTSUPP for a struct on the stack", c.Err)
	}

	// The view shows it.
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"g    sp+32..+47",
		"seed003-v2 g " + Mismatch + ": ctx[10] is never saved",
		"seed003-v2 saves 7 ctx slots, the prototype has 12",
		"v6.18 g " + Mismatch + ": ctx[10] comes from sp+24, the argument is at sp+32",
		"g: 8 bytes of padding before it (sp+24)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the text view lacks %q", want)
		}
	}
}

// protos are the table's prototypes: 1 to 12 arguments of integer,
// pointer and struct types.
func protos() []string {
	types := []string{"long", "int", "void *", "u8", "struct s12", "u16", "struct s16", "char *", "u32", "struct s4", "s64", "short"}
	defs := "struct s12 { int a, b, c; }; struct s16 { long a, b; }; struct s4 { char c[3]; }; "
	var out []string
	for n := 1; n <= 12; n++ {
		var longs, mixed, rot []string
		for i := 0; i < n; i++ {
			longs = append(longs, fmt.Sprintf("long a%d", i))
			mixed = append(mixed, fmt.Sprintf("%s a%d", types[i], i))
			rot = append(rot, fmt.Sprintf("%s a%d", types[(i+5)%len(types)], i))
		}
		out = append(out,
			fmt.Sprintf("long f%d(%s)", n, strings.Join(longs, ", ")),
			defs+fmt.Sprintf("int g%d(%s)", n, strings.Join(mixed, ", ")),
			defs+fmt.Sprintf("void *h%d(%s)", n, strings.Join(rot, ", ")))
	}
	return out
}

// TestEmulatedReads runs every accepted trampoline of every version on
// both architectures, fentry alone and fexit (which calls the original
// function), and checks the values the program reads against the ABI:
// the newest JITs read every argument right; where a version is flagged,
// the emulator agrees.
func TestEmulatedReads(t *testing.T) {
	ran := map[string]int{}
	for _, proto := range protos() {
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			for _, o := range []Options{{Fentry: 1}, {Fexit: 1}, {FmodRet: 1}, {Fentry: 2, Fexit: 1, IPArg: true}} {
				r := build(t, proto, arch, o)
				nrRegs := 0 // x86's count: a struct counts its registers
				for _, a := range r.Func.Args {
					if a.Type.Kind == abi.Struct {
						nrRegs += a.Type.Slots()
					} else {
						nrRegs++
					}
				}
				for _, col := range r.Columns {
					if col.Version.Name == "v6.18" {
						// The newest JITs refuse only what the kernel
						// documents: x86 past 12 registers' worth,
						// arm64 a struct on the stack.
						switch {
						case arch == kernel.X86_64 && (col.Err != nil) != (nrRegs > 12):
							t.Errorf("%s %s: nr_regs %d, error %v", arch, proto, nrRegs, col.Err)
						case arch == kernel.ARM64 && col.Err != nil && !strings.Contains(col.Err.Error(), "struct passed on the stack"):
							t.Errorf("%s %s: %v", arch, proto, col.Err)
						}
					}
					if col.Tramp == nil {
						continue
					}
					res := emulate(t, r, col)
					ran[string(arch)+" "+col.Version.Name]++
					if col.Version.Name == "v6.18" {
						for i, ac := range col.Args {
							if !ac.OK || !ac.OrigOK {
								t.Errorf("%s %s v6.18: %s misread: %s", arch, proto, r.Func.ArgName(i), ac.Text())
							}
						}
					}
					// The traced function returns its last stack
					// slot: the original call got its stack arguments.
					vals := ArgValues(r.Func)
					want := uint64(0x2a)
					for i, pl := range r.Call.Args {
						for j, p := range pl.Parts {
							if p.Reg == "" && !p.Pad && p.Stack == lastStackOf(r.Call) {
								want = vals[i][j]
							}
						}
					}
					origOK := true
					for _, ac := range col.Args {
						origOK = origOK && ac.OrigOK
					}
					if origOK && res.Ret != want {
						t.Errorf("%s %s %s (%s): the traced function returned %#x, want %#x", arch, col.Version.Name, proto, r.Flags, res.Ret, want)
					}
					for pi, kind := range col.Tramp.Request.ProgKinds() {
						got := res.Progs[pi]
						if kind == "fexit" && got[len(got)-1] != res.Ret {
							t.Errorf("%s %s %s: fexit read the return value %#x, the function returned %#x", arch, col.Version.Name, proto, got[len(got)-1], res.Ret)
						}
						// Every program sees the same arguments.
						for k := 0; k < r.nslots(); k++ {
							if got[k] != res.Ctx[k] {
								t.Errorf("%s %s %s: program %d (%s) read ctx[%d] %#x, the first read %#x", arch, col.Version.Name, proto, pi, kind, k, got[k], res.Ctx[k])
							}
						}
					}
				}
			}
		}
	}
	// Every version ran, the newest on all prototypes x86-64 accepts.
	for _, k := range []string{"arm64 v6.10", "arm64 seed003-v2", "arm64 v6.18", "x86_64 v6.5", "x86_64 v6.18"} {
		if ran[k] == 0 {
			t.Errorf("%s never ran", k)
		}
	}
	if n := ran["x86_64 v6.18"]; n < 120 {
		t.Errorf("x86_64 v6.18 ran %d trampolines of %d", n, 4*len(protos()))
	}
	t.Logf("trampolines run: %v", ran)
}

func lastStackOf(c *abi.Call) int {
	last := -1
	for _, a := range c.Args {
		for _, p := range a.Parts {
			if p.Reg == "" && !p.Pad && p.Stack > last {
				last = p.Stack
			}
		}
	}
	return last
}

// TestLimits: prototypes past a version's limit are refused with that
// version's error.
func TestLimits(t *testing.T) {
	nine := "long f(long a1, long a2, long a3, long a4, long a5, long a6, long a7, long a8, long a9)"
	twelveStruct := "struct s16 { long a, b; }; long f(struct s16 s, long a2, long a3, long a4, long a5, long a6, long a7, long a8, long a9, long a10, long a11, long a12)"
	thirteen := "long f(long a1, long a2, long a3, long a4, long a5, long a6, long a7, long a8, long a9, long a10, long a11, long a12, long a13)"
	cases := []struct {
		proto string
		arch  kernel.Arch
		want  map[string]string // version -> error substring ("" accepted)
	}{
		{nine, kernel.ARM64, map[string]string{"v6.10": "-ENOTSUPP (-524): 9 argument registers needed", "seed003-v2": "", "v6.18": ""}},
		{twelveStruct, kernel.ARM64, map[string]string{"v6.10": "-ENOTSUPP", "seed003-v2": "-ENOTSUPP (-524): nargs 13 > MAX_BPF_FUNC_ARGS (12)", "v6.18": ""}},
		{twelveStruct, kernel.X86_64, map[string]string{"v6.5": "nr_regs 13 > 6", "v6.18": "-ENOTSUPP (-524): nr_regs 13 > MAX_BPF_FUNC_ARGS (12)"}},
		{nine, kernel.X86_64, map[string]string{"v6.5": "-ENOTSUPP (-524): nr_regs 9 > 6: x86-64 supports up to 6 arguments", "v6.18": ""}},
		{thirteen, kernel.ARM64, map[string]string{"v6.10": "-EINVAL): 13 arguments", "seed003-v2": "-EINVAL): 13 arguments", "v6.18": "-EINVAL): 13 arguments"}},
		{thirteen, kernel.X86_64, map[string]string{"v6.18": "-EINVAL): 13 arguments"}},
	}
	for _, tc := range cases {
		r := build(t, tc.proto, tc.arch, Options{})
		for v, want := range tc.want {
			c := column(r, v)
			switch {
			case want == "" && c.Err != nil:
				t.Errorf("%s %s: refused (%v), want accepted", tc.arch, v, c.Err)
			case want != "" && (c.Err == nil || !strings.Contains(c.Err.Error(), want)):
				t.Errorf("%s %s %s: error %v, want %q", tc.arch, v, tc.proto, c.Err, want)
			}
		}
	}
}

// TestX86Int128Overflow: x86-64 counts an __int128 (no struct flag) as
// one register in nr_regs but saves two slots for it, so the saved
// arguments run past the frame it reserved.
func TestX86Int128Overflow(t *testing.T) {
	r := build(t, seed003, kernel.X86_64, Options{})
	c := column(r, "v6.18")
	if c.Tramp == nil {
		t.Fatal(c.Err)
	}
	if len(c.Tramp.Warnings) == 0 || !strings.Contains(strings.Join(c.Tramp.Warnings, "\n"), "overwrites the saved rbp") {
		t.Errorf("warnings %q: want the saved rbp overwritten", c.Tramp.Warnings)
	}
	// SysV puts e and g 16-byte aligned: the slot copy misreads g.
	if c.Args[6].OK {
		t.Errorf("x86 g read from %s: want flagged", c.Args[6].Text())
	}
}

// TestX86PaddingEightbyte: a 16-byte struct whose second eightbyte is
// padding (a member aligned(16)) takes one register under SysV (gcc, see
// abi/testdata/oracle.txt), but the kernel counts two: the next argument
// is read from the wrong register, and the emulator shows it.
func TestX86PaddingEightbyte(t *testing.T) {
	r := build(t, "struct m { long l __attribute__((aligned(16))); }; int f(long a, struct m b, int c)", kernel.X86_64, Options{})
	col := column(r, "v6.18")
	if col.Args[1].Text() != "rsi,rdx" || col.Args[2].OK || col.Args[2].Text() != "rcx "+Mismatch {
		t.Errorf("b read from %s, c from %s: want rsi,rdx and rcx flagged", col.Args[1].Text(), col.Args[2].Text())
	}
	emulate(t, r, col)
}

// TestV618Int128OnStack: on 6.16+ arm64 an __int128 on the stack after
// an 8-byte one leaves 8 bytes of padding the JIT does not know about:
// the plain long after it is misread too, not only the __int128 the
// verifier keeps programs from reading.
func TestV618Int128OnStack(t *testing.T) {
	r := build(t, "long f(long a0, long a1, long a2, long a3, long a4, long a5, long a6, long a7, long s, __int128 e, long h)", kernel.ARM64, Options{})
	col := column(r, "v6.18")
	if !col.Args[8].OK || col.Args[9].OK || col.Args[10].OK || col.Args[10].Text() != "sp+24 "+Mismatch {
		t.Errorf("s %s, e %s, h %s: want s right, e and h (from sp+24) flagged", col.Args[8].Text(), col.Args[9].Text(), col.Args[10].Text())
	}
	emulate(t, r, col)
}

// TestFmodRetSkipsOriginal: an fmod_ret program returning nonzero makes
// the trampoline skip the traced function (the patched cbnz / jne) and
// return that value.
func TestFmodRetSkipsOriginal(t *testing.T) {
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		r := build(t, "long f(long a, long b, long c, long d, long e, long f, long g, long h, long i)", arch, Options{FmodRet: 1, Fexit: 1})
		for _, col := range r.Columns {
			if col.Tramp == nil {
				continue
			}
			vals := ArgValues(r.Func)
			res, err := RunWith(col.Tramp, r.Call, vals, RunOptions{FmodRet: 7})
			if err != nil {
				t.Fatalf("%s %s: %v", arch, col.Version.Name, err)
			}
			// The function body would return its last stack slot.
			if res.Ret != 7 {
				t.Errorf("%s %s: returned %#x, want fmod_ret's 7", arch, col.Version.Name, res.Ret)
			}
			if fx := res.Progs[1]; fx[len(fx)-1] != 7 {
				t.Errorf("%s %s: fexit saw return value %#x, want 7", arch, col.Version.Name, fx[len(fx)-1])
			}
			res, err = RunWith(col.Tramp, r.Call, vals, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := vals[8][0]; col.Args[8].OrigOK && res.Ret != want {
				t.Errorf("%s %s: fmod_ret 0: returned %#x, want the body's %#x", arch, col.Version.Name, res.Ret, want)
			}
		}
	}
}

// TestX86Int128Clobbers: on x86-64 6.18, five longs then an __int128
// (on the stack under SysV): the JIT reserves 6 ctx slots but stores 7,
// the seventh over the saved rbp; the emulator shows the caller's rbp
// changed after the call. Before 6.6 the __int128 is read from r9.
func TestX86Int128Clobbers(t *testing.T) {
	r := build(t, "long f(long a, long b, long c, long d, long e, __int128 g)", kernel.X86_64, Options{})
	col := column(r, "v6.18")
	if !col.Args[5].OK || len(col.Tramp.Warnings) != 1 {
		t.Fatalf("g %s, warnings %q: want g read right and one warning", col.Args[5].Text(), col.Tramp.Warnings)
	}
	res, err := Run(col.Tramp, r.Call, ArgValues(r.Func))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("rbp = %#x", ArgValues(r.Func)[5][1]); len(res.Clobbered) != 1 || res.Clobbered[0] != want {
		t.Errorf("clobbered %q, want [%s]", res.Clobbered, want)
	}
	if c := column(r, "v6.5"); c.Args[5].OK || c.Args[5].Reads[0].Source.Reg != "r9" {
		t.Errorf("v6.5 g from %s: want r9, flagged", c.Args[5].Text())
	}
}

// TestA64EvenPair: AAPCS64 rounds the register number up to even for a
// 16-byte-aligned argument (C.10: x1 is skipped); no arm64 trampoline
// JIT version does, so the __int128 and the argument after it are read
// from the wrong places.
func TestA64EvenPair(t *testing.T) {
	r := build(t, "int f(int a, __int128 b, int c)", kernel.ARM64, Options{})
	if got := r.Call.Args[1].Where() + " " + r.Call.Args[2].Where(); got != "x2:x3 x4" {
		t.Fatalf("ABI: b, c at %s, want x2:x3 x4", got)
	}
	for _, col := range r.Columns {
		if col.Tramp == nil {
			t.Fatalf("%s refused: %v", col.Version.Name, col.Err)
		}
		// 6.16+ counts the __int128's two slots and reads c from x3;
		// before, nregs counts it once and c is never saved.
		wantC := "unsaved " + Mismatch
		if col.Version.Name == "v6.18" {
			wantC = "x3 " + Mismatch
		}
		if !col.Args[0].OK || col.Args[1].Text() != "x1,x2 "+Mismatch || col.Args[2].Text() != wantC {
			t.Errorf("%s: a %s, b %s, c %s; want b from x1,x2 and c %s", col.Version.Name, col.Args[0].Text(), col.Args[1].Text(), col.Args[2].Text(), wantC)
		}
		emulate(t, r, col)
	}
}
