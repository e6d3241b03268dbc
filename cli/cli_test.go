package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/capture"
)

var update = flag.Bool("update", false, "rewrite golden files")

func runCLI(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var o, e bytes.Buffer
	status = Main(args, Env{Stdout: &o, Stderr: &e})
	return o.String(), e.String(), status
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update after checking):\n%s", path, got)
	}
}

// TestDumpSeed000Plain is issue 2's acceptance test: the built-in scenario
// prints exactly seed 000's instruction lines.
func TestDumpSeed000Plain(t *testing.T) {
	out, errOut, st := runCLI(t, "dump", "bpf2bpf-tailcall", "--arch", "arm64", "--profile", "bpf-next-2022-06", "--format", "text", "--plain")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	want, err := os.ReadFile("../testdata/seed000/listing.txt")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		gl, wl := strings.Split(out, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Fatalf("first difference at line %d:\n got  %q\n want %q", i+1, at(gl, i), at(wl, i))
			}
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<end>"
}

// TestDumpSeed000Arrows checks the annotated listing: the edges seed 000
// draws and the annotations it makes.
func TestDumpSeed000Arrows(t *testing.T) {
	out, errOut, st := runCLI(t, "dump", "bpf2bpf-tailcall", "--arch", "arm64", "--profile", "bpf-next-2022-06")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	golden(t, "seed000-arrows.txt", out)
	lines := strings.Split(out, "\n")
	find := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no line starting %q", prefix)
		return ""
	}
	checks := []struct{ prefix, want string }{
		{"0xffffffc00901521c: blr x10 -", "// bpf2bpf call"},                  // call leaves to the right
		{"0xffffffc00902d25c: paciasp <", ""},                                 // ...and lands on subprog_tail
		{"0xffffffc00902d2f4: br x10 -", "skip 9 prologue insns (+36 bytes)"}, // tail call
		{"0xffffffc008ff5898: bti j <", "landing pad"},                        // lands on bti j
		{"0xffffffc008ff58dc: ret -", ""},                                     // classifier_0 returns...
		{"0xffffffc009015220: add x7, x0, #0x0 <", ""},                        // ...into entry after blr
		{"0xffffffc00902d2bc: b.cs 0xffffffc00902d2f8 -", ""},                 // branches to out
		{"0xffffffc00902d2f8: mov x10, #0xfffffffffffffffc <", ""},
		{"0xffffffc0090151f4: mov x26, #0x0", "init TCC (main program only)"},
		{"0xffffffc00902d2c4: cmp x26, x10", "TCC >= MAX_TAIL_CALL_CNT (33)?"},
		{"0xffffffc00902d2cc: add x26, x26, #0x1", "TCC++"},
		{"0xffffffc00902d2f0: add sp, sp, #0x10", "destroy just the current BPF stack frame"},
		{"0xffffffc00902d280: sub sp, sp, #0x10", "TCC not touched, no tail call landing pad"},
	}
	for _, c := range checks {
		l := find(c.prefix)
		if !strings.Contains(l, c.want) {
			t.Errorf("line %q lacks %q", l, c.want)
		}
	}
	if strings.Contains(find("0xffffffc00902d25c: paciasp"), "init TCC") {
		t.Errorf("subprogram must not initialise the TCC")
	}
}

// TestCapturesIdentical compares jitscope's JSON output with every kernel
// capture (arm64 and x86-64), the way FORMAT.md's comparison does.
func TestCapturesIdentical(t *testing.T) {
	dirs, err := capture.Find("../testdata/captures")
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, dir := range dirs {
		c, err := capture.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		arch, prof := string(c.Kernel.Arch), c.ProfileName()
		n[arch]++
		out, errOut, st := runCLI(t, "dump", dir, "--arch", arch, "--profile", prof, "--format", "json")
		if st != 0 {
			t.Errorf("%s: status %d: %s", dir, st, errOut)
			continue
		}
		var d jsonDump
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(d.Programs) != 1 || len(d.Programs[0].Functions) != len(c.Funcs) {
			t.Errorf("%s: got %d programs / functions, want 1 / %d", dir, len(d.Programs), len(c.Funcs))
			continue
		}
		for i, f := range d.Programs[0].Functions {
			got, _ := hex.DecodeString(f.Bytes)
			if !bytes.Equal(got, c.Funcs[i].Bytes) {
				t.Errorf("%s: function %s differs from the kernel's image", dir, f.Name)
			}
		}
		out, _, st = runCLI(t, "dump", dir, "--arch", arch, "--compare")
		if st != 0 || !strings.HasSuffix(out, "identical\n") {
			t.Errorf("%s: --compare: status %d, output %q", dir, st, out)
		}
	}
	// 16 + 89 arm64 programs, 20 + 22 x86-64 programs.
	if n["arm64"] < 105 || n["x86_64"] < 42 {
		t.Errorf("compared %d arm64 and %d x86-64 captures, want at least 105 and 42", n["arm64"], n["x86_64"])
	}
}

// TestErrors: bad input gives one line on stderr and status 1.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prog := func(asm string) string {
		return "name = \"t\"\ndescription = \"test\"\n\n[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = \"\"\"\n" + asm + "\n\"\"\"\n"
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad toml", []string{"dump", write("bad.scn", "name = \"x\"\n[[program]\n")}, "bad.scn:2"},
		{"asm error line", []string{"dump", write("asm.scn", prog("r0 = 0\nr0 = frob\nexit"))}, "asm.scn:9"},
		{"unknown opcode for the profile", []string{"dump", write("op.scn", prog("r0 = 1\nr0 = bswap16 r0\nexit")), "--profile", "v6.1"}, "unknown opcode d7"},
		{"jump out of range", []string{"dump", write("jmp.scn", prog("r0 = 0\ngoto +5\nexit"))}, "jump out of range"},
		{"unknown profile", []string{"dump", "bpf2bpf-tailcall", "--profile", "v4.19"}, `unknown arm64 profile "v4.19"`},
		{"unknown arch", []string{"dump", "bpf2bpf-tailcall", "--arch", "riscv"}, `unknown architecture "riscv"`},
		{"unknown target", []string{"dump", "no-such-scenario"}, "no-such-scenario: not a built-in scenario"},
		{"not a capture", []string{"dump", dir}, "not a kernel capture"},
		{"compare without capture", []string{"dump", "bpf2bpf-tailcall", "--compare"}, "--compare needs a kernel capture"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"dump", "bpf2bpf-tailcall", "--colour"}, "flag provided but not defined"},
		{"v5.10 refuses tail calls with bpf2bpf calls", []string{"dump", "bpf2bpf-tailcall", "--profile", "v5.10"},
			"tail_calls are not allowed in programs with bpf-to-bpf calls"},
	}
	for _, c := range cases {
		out, errOut, st := runCLI(t, c.args...)
		if st != 1 {
			t.Errorf("%s: status %d, want 1 (stdout %q)", c.name, st, out)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "jitscope: ") {
			t.Errorf("%s: stderr is not one line: %q", c.name, errOut)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%s: stderr %q lacks %q", c.name, errOut, c.want)
		}
	}
}

func TestList(t *testing.T) {
	out, _, st := runCLI(t, "list")
	if st != 0 {
		t.Fatalf("status %d", st)
	}
	for _, want := range []string{"bpf2bpf-tailcall", "arm64", "bpf-next-2022-06", "v6.1", "v5.10"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

// TestDefaultWithoutTerminal: `jitscope` without a terminal prints the
// default scenario's listing.
func TestDefaultWithoutTerminal(t *testing.T) {
	out, errOut, st := runCLI(t)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	if !strings.Contains(out, "int subprog_tail(struct __sk_buff *skb):") || !strings.Contains(out, "bti j <") {
		t.Errorf("default output is not the seed 000 listing:\n%s", out)
	}
}

// TestRunSeed000JSON is issue 4's acceptance check on arm64: the run
// reports retval 0, one tail call from subprog_tail to classifier_0 landing
// 36 bytes (9 instructions) in, the TCC in x26 going 0 -> 1, a bpf2bpf call
// and the return into entry.
func TestRunSeed000JSON(t *testing.T) {
	out, errOut, st := runCLI(t, "run", "bpf2bpf-tailcall", "--arch", "arm64", "--profile", "bpf-next-2022-06", "--format", "json")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	var r struct {
		Arch, Profile, Entry string
		Retval               uint64
		Steps                int
		TailCalls            int `json:"tail_calls"`
		Events               []struct {
			Step                          int
			Kind, From, To, Detail, Where string
			Value                         *int64
			Landing, Skipped              int
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Arch != "arm64" || r.Profile != "bpf-next-2022-06" || r.Entry != "entry" || r.Retval != 0 || r.TailCalls != 1 || r.Steps == 0 {
		t.Errorf("header %+v", r)
	}
	var tcc []int64
	var sawCall, sawTail, sawReturn bool
	for _, e := range r.Events {
		switch e.Kind {
		case "tcc":
			if e.Where != "x26" {
				t.Errorf("tcc in %q", e.Where)
			}
			tcc = append(tcc, *e.Value)
		case "call":
			sawCall = e.From == "entry" && e.To == "entry/subprog_tail"
		case "tail_call":
			sawTail = e.From == "entry/subprog_tail" && e.To == "classifier_0" && e.Landing == 36 && e.Skipped == 9
		case "return":
			if e.From == "classifier_0" && e.To == "entry" {
				sawReturn = true
			}
		}
	}
	if !sawCall || !sawTail || !sawReturn || len(tcc) < 2 || tcc[0] != 0 || tcc[1] != 1 {
		t.Errorf("call %v, tail call %v, return into entry %v, tcc %v", sawCall, sawTail, sawReturn, tcc)
	}
}

func normalize(s string) string {
	return strings.Join(strings.Fields(strings.TrimPrefix(s, "0x")), " ")
}

// TestDumpSeed001 is issue 3's seed check: with the slot empty the listing
// shows seed 001's fragment exactly (profile bpf-next-2020-07, the patch as
// posted); after filling the slot the bypass is a nop5 and the target a jmp
// into "target" past its 11-byte prologue (X86_TAIL_CALL_OFFSET).
func TestDumpSeed001(t *testing.T) {
	want, err := os.ReadFile("../testdata/seed001/fragment.txt")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, st := runCLI(t, "dump", "direct-tailcall-poke", "--arch", "x86_64", "--profile", "bpf-next-2020-07", "--format", "text", "--plain")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	got := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "0xffffffffc0513a") {
			got[l[2:18]] = normalize(l)
		}
	}
	for _, w := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		if g := got[w[:16]]; g != w {
			t.Errorf("line %s:\n got  %q\n want %q", w[:16], g, w)
		}
	}
	out, _, st = runCLI(t, "dump", "direct-tailcall-poke", "--arch", "x86_64", "--profile", "bpf-next-2020-07", "--plain", "--slot", "jmp_table[0]=target")
	if st != 0 {
		t.Fatal(out)
	}
	for _, l := range strings.Split(out, "\n") {
		n := normalize(l)
		switch {
		case strings.HasPrefix(n, "ffffffffc0513aa1:") && n != "ffffffffc0513aa1: 0f 1f 44 00 00 nopl 0x0(%rax,%rax,1)":
			t.Errorf("bypass after install: %q, want a nop5", n)
		case strings.HasPrefix(n, "ffffffffc0513aaf:") && n != "ffffffffc0513aaf: e9 57 45 01 00 jmpq 0xffffffffc052800b":
			t.Errorf("target after install: %q, want jmpq target+0xb", n)
		}
	}
	// v5.10 as merged: no add for a zero stack, so the bypass jumps 7 bytes.
	out, _, _ = runCLI(t, "dump", "direct-tailcall-poke", "--arch", "x86_64", "--profile", "v5.10", "--plain")
	if !strings.Contains(out, "e9 07 00 00 00") || strings.Contains(out, "add $0x0,%rsp") {
		t.Errorf("v5.10 should skip the zero stack adjustment:\n%s", out)
	}
}

// TestRunPokeStates runs both states of seed 001's program on the x86
// emulator: empty slot -> the bypass is taken (a miss "empty"), filled ->
// the tail call lands 11 bytes into target and returns its 42.
func TestRunPokeStates(t *testing.T) {
	out, errOut, st := runCLI(t, "run", "direct-tailcall-poke", "--arch", "x86_64", "--format", "json")
	if st != 0 || !strings.Contains(out, `"detail": "empty"`) || !strings.Contains(out, `"retval": 1`) {
		t.Errorf("empty slot: status %d %s\n%s", st, errOut, out)
	}
	out, errOut, st = runCLI(t, "run", "direct-tailcall-poke", "--arch", "x86_64", "--format", "json", "--slot", "jmp_table[0]=target")
	if st != 0 || !strings.Contains(out, `"retval": 42`) || !strings.Contains(out, `"landing": 11`) {
		t.Errorf("filled slot: status %d %s\n%s", st, errOut, out)
	}
}

// TestRunThenPokes scripts map updates between runs (issue 3): installing,
// replacing and removing the slot's program makes the kernel's text pokes
// in order, and a self tail call runs 1 + 33 times on both a 5.10-style
// (MAX 32, ja) and a 6.18 (MAX 33, jae) JIT before the limit stops it.
func TestRunThenPokes(t *testing.T) {
	for _, prof := range []string{"bpf-next-2020-07", "v6.18"} {
		out, errOut, st := runCLI(t, "run", "direct-tailcall-poke", "--arch", "x86_64", "--profile", prof, "--format", "json",
			"--then", "jmp_table[0]=target", "--then", "jmp_table[0]=prog", "--then", "jmp_table[0]=")
		if st != 0 {
			t.Fatalf("%s: status %d: %s", prof, st, errOut)
		}
		var r struct {
			Then []struct {
				Retval    uint64
				TailCalls int `json:"tail_calls"`
				Events    []struct{ Kind, Detail string }
			}
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Then) != 3 {
			t.Fatalf("%s: %d runs after updates, want 3", prof, len(r.Then))
		}
		pokes := func(i int) (s []string) {
			for _, e := range r.Then[i].Events {
				if e.Kind == "poke" {
					s = append(s, e.Detail[:strings.Index(e.Detail, ":")+8])
				}
			}
			return s
		}
		if got := strings.Join(pokes(0), "|"); got != "prog/prog tailcall_target: C -> D|prog/prog tailcall_bypass: D -> B" {
			t.Errorf("%s: install pokes %q", prof, got)
		}
		if got := strings.Join(pokes(1), "|"); got != "prog/prog tailcall_target: B -> B" {
			t.Errorf("%s: update pokes %q", prof, got)
		}
		if got := strings.Join(pokes(2), "|"); got != "prog/prog tailcall_bypass: B -> D|prog/prog synchronize_rcu: D -> D|prog/prog tailcall_target: D -> C" {
			t.Errorf("%s: remove pokes %q", prof, got)
		}
		if r.Then[0].Retval != 42 || r.Then[1].TailCalls != 33 || r.Then[2].TailCalls != 0 {
			t.Errorf("%s: retval %d, self tail calls %d, after removal %d; want 42, 33, 0", prof, r.Then[0].Retval, r.Then[1].TailCalls, r.Then[2].TailCalls)
		}
		last := r.Then[1].Events[len(r.Then[1].Events)-1]
		var miss string
		for _, e := range r.Then[1].Events {
			if e.Kind == "tail_call_miss" {
				miss = e.Detail
			}
		}
		if miss != "limit" || last.Kind != "return" {
			t.Errorf("%s: self tail calls end with miss %q, last event %q", prof, miss, last.Kind)
		}
	}
}

// TestPushAfterNop5 shows seed 001's counter-example broken: with the
// layout the thread rejects, an empty slot rebuilds the frame from the
// caller's registers and the load through r6 (rbx) faults; the kernel's
// bypass layout returns skb->len.
func TestPushAfterNop5(t *testing.T) {
	out, errOut, st := runCLI(t, "run", "push-after-nop5", "--arch", "x86_64", "--profile", "bpf-next-2020-07")
	if st != 0 || !strings.Contains(out, "retval 64") {
		t.Errorf("kernel layout: status %d, %s%s", st, out, errOut)
	}
	out, errOut, st = runCLI(t, "run", "push-after-nop5", "--arch", "x86_64", "--profile", "counterexample-push-after-nop5")
	if st != 1 || !strings.Contains(errOut, "read of 4 bytes at 0x0") {
		t.Errorf("counter-example: status %d, want 1 with a fault reading through the clobbered rbx: %s%s", st, out, errOut)
	}
	out, _, _ = runCLI(t, "dump", "push-after-nop5", "--arch", "x86_64", "--plain")
	seq := []string{"pop %rbx", "pop %rax", "add $0x0,%rsp", "nopl 0x0(%rax,%rax,1)", "sub $0x0,%rsp", "push %rax", "push %rbx", "mov 0x0(%rbx),%eax"}
	i := 0
	for _, l := range strings.Split(out, "\n") {
		if i < len(seq) && strings.HasSuffix(l, seq[i]) {
			i++
		}
	}
	if i != len(seq) {
		t.Errorf("counter-example listing lacks the thread's sequence (matched %d of %d):\n%s", i, len(seq), out)
	}
}

// TestOpenErrors: open checks its target before taking the terminal and
// refuses to start the UI without one.
func TestOpenErrors(t *testing.T) {
	_, errOut, st := runCLI(t, "open", "no-such-scenario")
	if st != 1 || !strings.Contains(errOut, "no-such-scenario: not a built-in scenario") {
		t.Errorf("open of a bad target: status %d, %q", st, errOut)
	}
	_, errOut, st = runCLI(t, "open", "bpf2bpf-tailcall")
	if st != 1 || !strings.Contains(errOut, "not a terminal") {
		t.Errorf("open without a terminal: status %d, %q", st, errOut)
	}
	_, errOut, st = runCLI(t, "open", "--theme", "purple")
	if st != 1 || !strings.Contains(errOut, "--theme must be") {
		t.Errorf("open with a bad theme: status %d, %q", st, errOut)
	}
}
