// SPDX-License-Identifier: GPL-2.0-only

package abi

import (
	"strconv"
	"strings"
	"testing"
)

const seed003 = "int func(__int128 a, __int128 b, __int128 c, int64_t d, __int128 e, int64_t f, __int128 g)"

func where(c *Call) string {
	var s []string
	for _, a := range c.Args {
		s = append(s, a.Where())
	}
	return strings.Join(s, " ")
}

// TestSeed003Placement is the reviewer's example in seed 003: a-d in
// x0-x6, e, f, g on the stack at sp+0, +16, +32 with 8 bytes of padding
// between f and g.
func TestSeed003Placement(t *testing.T) {
	f, err := ParsePrototype(seed003)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Place(f, AAPCS64)
	if err != nil {
		t.Fatal(err)
	}
	want := "x0:x1 x2:x3 x4:x5 x6 sp+0..+15 sp+16 sp+32..+47"
	if got := where(c); got != want {
		t.Errorf("AAPCS64 %s:\n got %s\nwant %s", seed003, got, want)
	}
	if !strings.Contains(c.Args[6].Note, "8 bytes of padding") {
		t.Errorf("g: note %q, want the padding named", c.Args[6].Note)
	}
	// SysV: a, b, c take all six registers; d, e, f, g on the stack, e
	// and g 16-byte aligned.
	c, _ = Place(f, SysV)
	want = "rdi:rsi rdx:rcx r8:r9 sp+0 sp+16..+31 sp+32 sp+48..+63"
	if got := where(c); got != want {
		t.Errorf("SysV %s:\n got %s\nwant %s", seed003, got, want)
	}
	m, err := f.Model()
	if err != nil {
		t.Fatal(err)
	}
	if m.NrArgs != 7 || m.ArgSize[0] != 16 || m.ArgFlags[0] != 0 || m.ArgSize[3] != 8 {
		t.Errorf("model %+v: want 7 args, __int128 16 bytes without the struct flag", m)
	}
}

func TestPlacement(t *testing.T) {
	cases := []struct {
		proto        string
		aapcs, sysv  string
		sizes, align string
	}{
		{"void f(void)", "", "", "", ""},
		{"long f(int a, char b, void *c)", "x0 x1 x2", "rdi rsi rdx", "4 1 8", "4 1 8"},
		// A 16-byte struct of two longs is 8-aligned: it goes in x7+stack? No:
		// never split; C.12 fails, C.13 sets NGRN to 8, it goes to sp+0.
		{"struct s16 { long a, b; }; int f(long a, long b, long c, long d, long e, long g, long h, struct s16 s, long i)",
			"x0 x1 x2 x3 x4 x5 x6 sp+0..+15 sp+16", "rdi rsi rdx rcx r8 r9 sp+0 sp+8..+23 sp+24", "8 8 8 8 8 8 8 16 8", "8 8 8 8 8 8 8 8 8"},
		// __int128 rounds the NGRN up to even, leaving x1 unused.
		{"int f(int a, __int128 b, int c)", "x0 x2:x3 x4", "rdi rsi:rdx rcx", "4 16 4", "4 16 4"},
		// SysV: a 16-byte argument that does not fit goes to the stack and
		// the next one still takes a register.
		{"int f(long a, long b, long c, long d, long e, __int128 g, long h)", "x0 x1 x2 x3 x4 x6:x7 sp+0", "rdi rsi rdx rcx r8 sp+0..+15 r9", "8 8 8 8 8 16 8", "8 8 8 8 8 16 8"},
		// A packed struct with an unaligned member is MEMORY under SysV.
		{"struct p { char c; int i; } __packed; int f(struct p a, long b)", "x0 x1", "sp+0 rdi", "5 8", "1 8"},
		// aligned(16) on the struct: AAPCS64 goes by the members' natural
		// alignment (8: no even register pair); SysV passes the padding
		// eightbyte nowhere.
		{"struct __attribute__((aligned(16))) a16 { long x; }; int f(long a, struct a16 b, int c)", "x0 x1:x2 x3", "rdi rsi:- rdx", "8 16 4", "8 16 4"},
		// aligned(16) on a member: natural alignment 16, an even pair.
		{"struct m { long l __attribute__((aligned(16))); }; int f(long a, struct m b, int c)", "x0 x2:x3 x4", "rdi rsi:- rdx", "8 16 4", "8 16 4"},
		{"int f(u8 a, u16 b, u32 c, u64 d, s8 e, s16 f, s32 g, s64 h, unsigned long long i, short j)",
			"x0 x1 x2 x3 x4 x5 x6 x7 sp+0 sp+8", "rdi rsi rdx rcx r8 r9 sp+0 sp+8 sp+16 sp+24", "1 2 4 8 1 2 4 8 8 2", "1 2 4 8 1 2 4 8 8 2"},
	}
	for _, tc := range cases {
		f, err := ParsePrototype(tc.proto)
		if err != nil {
			t.Errorf("ParsePrototype(%q): %v", tc.proto, err)
			continue
		}
		var sizes, aligns []string
		for _, a := range f.Args {
			sizes = append(sizes, itoa(a.Type.Size))
			aligns = append(aligns, itoa(a.Type.Align))
		}
		if got := strings.Join(sizes, " "); got != tc.sizes {
			t.Errorf("%s: sizes %s, want %s", tc.proto, got, tc.sizes)
		}
		if got := strings.Join(aligns, " "); got != tc.align {
			t.Errorf("%s: alignments %s, want %s", tc.proto, got, tc.align)
		}
		a, _ := Place(f, AAPCS64)
		if got := where(a); got != tc.aapcs {
			t.Errorf("AAPCS64 %s:\n got %s\nwant %s", tc.proto, got, tc.aapcs)
		}
		s, _ := Place(f, SysV)
		if got := where(s); got != tc.sysv {
			t.Errorf("SysV %s:\n got %s\nwant %s", tc.proto, got, tc.sysv)
		}
	}
}

func itoa(v int) string { return strconv.Itoa(v) }

func TestParseErrors(t *testing.T) {
	cases := []struct{ proto, want string }{
		{"int f(foo a)", "prototype:7: unknown type \"foo\""},
		{"int f(int a", "prototype:12: expected ',' or ')' after argument 1, found end of input"},
		{"int f(struct s a)", "struct s is not defined"},
		{"int f(int a, ...)", "variadic"},
		{"int f(struct { int x : 3; } a)", "bit-fields"},
		{"int f(struct { int x; } __attribute__((aligned(3))) a)", "not a power of two"},
		{"int f(unsigned signed a)", "both signed and unsigned"},
	}
	for _, tc := range cases {
		_, err := ParsePrototype(tc.proto)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePrototype(%q) = %v, want an error containing %q", tc.proto, err, tc.want)
		}
	}
}

func TestModelRefusals(t *testing.T) {
	for _, tc := range []struct{ proto, want string }{
		{"int f(struct { long a, b, c; } x)", "more than 16"},
		{"int f(double d)", "floating point"},
		{"int f(int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9, int a10, int a11, int a12, int a13)", "13 arguments"},
	} {
		f, err := ParsePrototype(tc.proto)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Model(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Model(%s) = %v, want %q", tc.proto, err, tc.want)
		}
	}
}
