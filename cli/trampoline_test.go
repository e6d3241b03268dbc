// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

const seed003Proto = "int func(__int128 a, __int128 b, __int128 c, int64_t d, __int128 e, int64_t f, __int128 g)"

// TestDumpTrampolineSeed003 pins the view of seed 003's example: the
// placement table with the v2 patch's and 6.16's misreads flagged, the
// stack layout and the listing.
func TestDumpTrampolineSeed003(t *testing.T) {
	for _, tc := range []struct{ golden, profile string }{
		{"trampoline-seed003-v2.txt", "seed003-v2"},
		{"trampoline-seed003-v6.18.txt", "v6.18"},
	} {
		out, errOut, st := runCLI(t, "dump", "--trampoline", seed003Proto, "--arch", "arm64", "--profile", tc.profile)
		if st != 0 {
			t.Fatalf("status %d: %s", st, errOut)
		}
		golden(t, tc.golden, out)
	}
}

func TestDumpTrampolineX86Fexit(t *testing.T) {
	out, errOut, st := runCLI(t, "dump", "--trampoline", "struct s12 { int a, b, c; }; long f(struct s12 s, void *p, int i, long l, u8 c, u16 h, s64 x, u32 y)",
		"--arch", "x86_64", "--fexit", "1", "--fentry", "1", "--ip-arg")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	golden(t, "trampoline-x86-fexit.txt", out)
}

func TestDumpTrampolineJSON(t *testing.T) {
	out, errOut, st := runCLI(t, "dump", "--trampoline", seed003Proto, "--arch", "arm64", "--profile", "seed003-v2", "--format", "json")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	var j struct {
		Arch, Profile string
		Args          []struct {
			Name  string
			ABI   []string `json:"abi"`
			Reads map[string]struct {
				From []string
				OK   bool
			}
		}
		Versions []struct{ Name, Errno string }
		Function struct{ Bytes string }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	g := j.Args[6]
	if g.Name != "g" || strings.Join(g.ABI, ",") != "sp+32,sp+40" {
		t.Errorf("g: %+v, want ABI sp+32,sp+40", g)
	}
	if r := g.Reads["v6.18"]; r.OK || strings.Join(r.From, ",") != "sp+24,sp+32" {
		t.Errorf("g read by v6.18: %+v, want sp+24,sp+32 not ok", r)
	}
	if r := g.Reads["seed003-v2"]; r.OK {
		t.Errorf("g read by seed003-v2: %+v, want not ok", r)
	}
	if j.Arch != "arm64" || j.Profile != "seed003-v2" || len(j.Versions) != 3 || j.Function.Bytes == "" {
		t.Errorf("arch %q profile %q versions %d bytes %d", j.Arch, j.Profile, len(j.Versions), len(j.Function.Bytes))
	}
}

// TestDumpTrampolineErrors: bad input is one line and status 1.
func TestDumpTrampolineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--trampoline", "int f(foo a)"}, `--trampoline "int f(foo a)": prototype:7: unknown type "foo"`},
		{[]string{"--trampoline", "int f(long a)", "--profile", "v9.9"}, `no arm64 trampoline JIT for profile "v9.9"`},
		{[]string{"--trampoline", "int f(long a)", "--flags", "BOGUS"}, `unknown trampoline flag "BOGUS"`},
		{[]string{"--trampoline", "int f(long a)", "--fentry", "0"}, "no program attached"},
		{[]string{"--trampoline", "int f(long a)", "extra"}, "takes no TARGET"},
		{[]string{"--trampoline", "f", "--btf", "/nonexistent"}, "/nonexistent: reading BTF"},
		{[]string{"--trampoline", "int f(double d)"}, "floating point"},
	} {
		out, errOut, st := runCLI(t, append([]string{"dump"}, tc.args...)...)
		if st != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("dump %q: status %d, stdout %q, stderr %q; want one line with %q", tc.args, st, out, errOut, tc.want)
		}
	}
	// The TUI needs a terminal.
	if out, errOut, st := runCLI(t, "open", "--trampoline", "int f(long a)"); st != 1 || out != "" || !strings.Contains(errOut, "not a terminal (use jitscope dump --trampoline)") {
		t.Errorf("open --trampoline without a terminal: status %d, stdout %q, stderr %q", st, out, errOut)
	}
	// A refusal is part of the table, not an error.
	out, _, st := runCLI(t, "dump", "--trampoline", "long f(long a1, long a2, long a3, long a4, long a5, long a6, long a7, long a8, long a9)", "--profile", "v6.10")
	if st != 0 || !strings.Contains(out, "v6.10: arch_prepare_bpf_trampoline returns -ENOTSUPP (-524)") {
		t.Errorf("9 arguments on v6.10: status %d:\n%s", st, out)
	}
}

// TestDumpTrampolineEmulate: --emulate shows the v2 patch's program
// reading g from the padding slot.
func TestDumpTrampolineEmulate(t *testing.T) {
	out, errOut, st := runCLI(t, "dump", "--trampoline",
		"struct i128 { __int128 v; }; int func(struct i128 a, struct i128 b, struct i128 c, int64_t d, struct i128 e, int64_t f, struct i128 g)",
		"--emulate")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	for _, want := range []string{
		"seed003-v2 (",
		"f    ctx[ 9] passed 0x8671605010607040  read 0x8671605010607040  ok",
		"g    ctx[10] passed 0x8771605020504070  read 0x0000000000000000  ✗",
		"v6.18: arch_prepare_bpf_trampoline returns -ENOTSUPP (-524): argument 5 (e) is a struct passed on the stack",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--emulate output lacks %q:\n%s", want, out)
		}
	}
}

func TestListTrampolines(t *testing.T) {
	out, _, st := runCLI(t, "list")
	if st != 0 {
		t.Fatalf("status %d", st)
	}
	for _, want := range []string{"TRAMPOLINE", "seed003-v2", "x86_64  v6.18"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}
