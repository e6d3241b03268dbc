// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// badCase is one hostile input: the command, and what its one line of
// stderr must say (a regular expression: the file, the place, the reason).
type badCase struct {
	name string
	args []string
	want string
}

// TestBadInput is the catalogue of bad inputs (issue 11): each gives one
// line on stderr naming the input, the place and the reason, status 1, and
// no panic (Main turns a panic into "internal error", which fails here too).
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, body []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scn := func(name, asm string) string {
		return write(name, []byte("name = \"t\"\ndescription = \"test\"\n\n[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = \"\"\"\n"+asm+"\n\"\"\"\n"))
	}
	obj := func(name string) string { return filepath.Join("testdata", "bad", name) }
	ok, err := os.ReadFile(obj("ok.o"))
	if err != nil {
		t.Fatal(err)
	}
	// Corruptions of a valid object (ELF64 little-endian header fields).
	corrupt := func(name string, edit func(b []byte)) string {
		b := append([]byte(nil), ok...)
		edit(b)
		return write(name, b)
	}
	shoff := binary.LittleEndian.Uint64(ok[0x28:])
	// The program's first instruction, to corrupt: "w0 = 2" (b4 00 ...).
	ef, err := elf.NewFile(bytes.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	insn := int(ef.Section("xdp").Offset)
	if ok[insn] != 0xb4 {
		t.Fatalf("ok.o's first instruction is %#x, not w0 = imm (b4): rebuilt?", ok[insn])
	}
	// A tail-call scenario for the prog array cases.
	tail := write("tail.scn", []byte(`name = "tail"
description = "a prog array of two slots"

[[map]]
name = "jt"
type = "prog_array"
max_entries = 2

[[program]]
name = "entry"
type = "xdp"
asm = """
r2 = map[jt]
r3 = 5
call bpf_tail_call
r0 = 0
exit
"""

[[program]]
name = "target"
type = "xdp"
asm = """
r0 = 1
exit
"""
`))
	entries := write("entries.scn", []byte(`name = "entries"
description = "a slot beyond max_entries"

[[map]]
name = "jt"
type = "prog_array"
max_entries = 2
entries = { 7 = "p" }

[[program]]
name = "p"
type = "xdp"
asm = """
r0 = 0
exit
"""
`))

	cases := []badCase{
		// ELF objects.
		{"truncated ELF header", []string{"dump", write("trunc-hdr.o", ok[:20])}, `trunc-hdr\.o: .*(EOF|short|truncated)`},
		{"ELF truncated before its section headers", []string{"dump", write("trunc-sh.o", ok[:shoff+10])}, `trunc-sh\.o: .*(EOF|short|truncated)`},
		{"ELF truncated in the middle", []string{"dump", write("trunc-mid.o", ok[:len(ok)/2])}, `trunc-mid\.o: `},
		{"ELF magic only", []string{"dump", write("magic.o", []byte("\x7fELF"))}, `magic\.o: .*EOF`},
		{"ELF with section headers past the end", []string{"dump", corrupt("shoff.o", func(b []byte) { binary.LittleEndian.PutUint64(b[0x28:], 1<<40) })}, `shoff\.o: `},
		{"ELF with 65535 section headers", []string{"dump", corrupt("shnum.o", func(b []byte) { binary.LittleEndian.PutUint16(b[0x3c:], 0xffff) })}, `shnum\.o: `},
		{"ELF with a bad string table index", []string{"dump", corrupt("shstrndx.o", func(b []byte) { binary.LittleEndian.PutUint16(b[0x3e:], 0x7fff) })}, `shstrndx\.o: `},
		{"ELF of class 32", []string{"dump", corrupt("class.o", func(b []byte) { b[4] = 1 })}, `class\.o: `},
		{"big-endian ELF", []string{"dump", corrupt("endian.o", func(b []byte) { b[5] = 2 })}, `endian\.o: `},
		{"ELF with an invalid opcode", []string{"dump", corrupt("opcode.o", func(b []byte) { b[insn] = 0xff })}, `opcode\.o: pass: insn 0: unknown opcode ff`},
		{"ELF with an invalid register", []string{"dump", corrupt("register.o", func(b []byte) { b[insn+1] = 0x0c })}, `register\.o: pass: insn 0: invalid register r12`},
		{"ELF for EM_X86_64", []string{"dump", obj("x86.o")}, `x86\.o: .*EM_X86_64`},
		{"ELF without programs", []string{"dump", obj("noprogs.o")}, `noprogs\.o: no BPF programs in the object`},
		{"ELF program in an unknown section", []string{"dump", obj("unknownsec.o")}, `unknownsec\.o: program prog: section "jitscope/unknown" names no BPF program type`},
		{"ELF map of an unknown type", []string{"dump", obj("badmap.o")}, `badmap\.o: map odd: unsupported map type`},
		{"ELF call of an unknown function", []string{"dump", obj("extern.o")}, `extern\.o: prog: insn 1: call to unknown function "elsewhere"`},
		{"ELF call of a kfunc", []string{"dump", obj("kfunc.o")}, `kfunc\.o: prog: insn 0: kfunc call "bpf_rcu_read_lock"`},
		{"ELF call of an unknown helper", []string{"dump", obj("badhelper.o")}, `badhelper\.o: prog: insn 0: call of unknown helper 9999`},
		{"ELF helper not modelled, at run time", []string{"run", obj("helper.o")}, `helper\.o: prog: step \d+: call of bpf_skb_store_bytes: .*not modelled`},
		{"ELF endless loop, at run time", []string{"run", obj("loop.o"), "--max-steps", "5000"}, `loop\.o: prog: step limit reached after 5000 instructions`},
		{"ELF endless loop on x86-64", []string{"run", obj("loop.o"), "--arch", "x86_64", "--max-steps", "5000"}, `loop\.o: prog: step limit reached after 5000 instructions`},

		// Scenario files.
		{"scenario not UTF-8", []string{"dump", write("latin1.scn", []byte("name = \"caf\xe9\"\n"))}, `latin1\.scn:1: not UTF-8 text \(byte 0xe9 at column 12\)`},
		{"scenario not UTF-8 inside the asm", []string{"dump", scn("latin1-asm.scn", "r0 = 0 ; \xff\nexit")}, `latin1-asm\.scn:8: not UTF-8 text`},
		{"scenario without programs", []string{"dump", write("empty.scn", []byte("name = \"t\"\ndescription = \"x\"\n"))}, `empty\.scn:1: no programs`},
		{"scenario not TOML", []string{"dump", write("toml.scn", []byte("name = \"x\"\n[[program]\n"))}, `toml\.scn:2: `},
		{"invalid register", []string{"dump", scn("reg.scn", "r11 = 0\nexit")}, `reg\.scn:8: program p: invalid register "r11"`},
		{"invalid opcode", []string{"dump", scn("op.scn", "r0 = 0\nr0 @= 1\nexit")}, `op\.scn:9: program p: `},
		{"opcode the profile's kernel lacks", []string{"dump", scn("v4.scn", "r1 = 1\nr0 = (s8)r1\nexit"), "--profile", "v5.10"}, `v4\.scn: p: .*unknown opcode`},
		{"write to r10", []string{"dump", scn("r10.scn", "r10 = 0\nexit")}, `r10\.scn: p: insn 0: frame pointer r10 is read only`},
		{"no exit at the end", []string{"dump", scn("noexit.scn", "r0 = 0")}, `noexit\.scn: p: insn 0: last insn of function p is not an exit or jmp`},
		{"jump out of range forwards", []string{"dump", scn("jfwd.scn", "r0 = 0\ngoto +5\nexit")}, `jfwd\.scn: p: insn 1: jump out of range`},
		{"jump out of range backwards", []string{"dump", scn("jback.scn", "goto -3\nr0 = 0\nexit")}, `jback\.scn: p: insn 0: jump out of range`},
		{"jump into an ld_imm64", []string{"dump", scn("jmid.scn", "goto +1\nr1 = 0x1122334455667788 ll\nr0 = 0\nexit")}, `jmid\.scn: p: insn 0: jump into the middle of an ld_imm64 at 2`},
		{"call out of range", []string{"dump", scn("cfar.scn", "call pc+10\nr0 = 0\nexit")}, `cfar\.scn:7: program p: instruction 0 calls a slot that is not an instruction`},
		{"call into an ld_imm64", []string{"dump", scn("cmid.scn", "call pc+1\nr1 = 0x1122334455667788 ll\nr0 = 0\nexit")}, `cmid\.scn:7: program p: instruction 0 calls a slot that is not an instruction`},
		{"stack beyond 512 bytes", []string{"dump", scn("stack.scn", "r1 = 0\n*(u64 *)(r10 - 520) = r1\nr0 = 0\nexit")}, `stack\.scn: p: function p: combined stack size 520 exceeds the kernel's 512 bytes`},
		{"unknown map", []string{"dump", scn("map.scn", "r1 = map[nomap]\nr0 = 0\nexit")}, `map\.scn:8: program p: unknown map "nomap"`},
		{"unknown function", []string{"dump", scn("fn.scn", "call nofunc\nexit")}, `fn\.scn:8: program p: unknown label "nofunc"`},
		{"unknown helper", []string{"dump", scn("helper.scn", "call 9999\nexit")}, `helper\.scn: p: insn 0: call of unknown helper 9999`},
		{"helper not modelled", []string{"run", scn("sysbpf.scn", "call bpf_sys_bpf\nr0 = 0\nexit")}, `sysbpf\.scn: p: step \d+: call of bpf_sys_bpf`},
		{"endless loop", []string{"run", scn("loop.scn", "p: r0 = 0\ngoto -1"), "--max-steps", "10000"}, `loop\.scn: p: step limit reached after 10000 instructions \(an endless loop\?`},
		{"prog array slot beyond max_entries", []string{"dump", entries}, `entries\.scn:\d+: .*7.*max_entries`},
		{"--slot beyond max_entries", []string{"run", tail, "--slot", "jt[2]=target"}, `tail\.scn: .*jt\[2\].*max_entries 2`},
		{"--then beyond max_entries", []string{"run", tail, "--then", "jt[9]=target"}, `tail\.scn: --then jt\[9\]=target: .*max_entries`},
		{"--slot of an unknown program", []string{"run", tail, "--slot", "jt[0]=nobody"}, `tail\.scn: .*nobody`},
		{"--slot of an unknown map", []string{"run", tail, "--slot", "nomap[0]=target"}, `tail\.scn: .*nomap`},
		{"memory limit", []string{"run", scn("mem.scn", "r0 = 0\nexit"), "--max-mem", "128K"}, `mem\.scn: mapping .*emulated memory limit reached .*--max-mem`},
		{"--max-mem not a size", []string{"run", "bpf2bpf-tailcall", "--max-mem", "lots"}, `-max-mem: want a size`},
		{"--max-steps 0", []string{"run", "bpf2bpf-tailcall", "--max-steps", "0"}, `--max-steps must be between 1 and`},
		{"missing file", []string{"dump", filepath.Join(dir, "nope.o")}, `nope\.o: not a built-in scenario .*no such file`},
		{"a device instead of a file", []string{"run", "/dev/zero"}, `/dev/zero: not a regular file \(a character device\)`},
		{"a named pipe instead of a file", []string{"dump", fifo(t, dir)}, `fifo: not a regular file \(a named pipe\)`},
		{"a huge --packet", []string{"run", "packet-parser", "--packet", "0x" + strings.Repeat("00", 5000)}, `--packet 0x0{30}\.\.\. \(10002 characters\): want an even number of hex digits, at most \d+ bytes$`},

		// Writing files: only where asked, never over a file without --force.
		{"gen over an existing file", []string{"gen", "--insns", "100", "-o", write("mine.scn", []byte("keep me"))}, `mine\.scn: exists \(use --force to overwrite it\)`},
		{"gen onto a directory", []string{"gen", "--insns", "100", "-o", dir, "--force"}, `: is a directory`},
		{"gen into a missing directory", []string{"gen", "--insns", "100", "-o", filepath.Join(dir, "no", "x.scn")}, `no/x\.scn: no such file or directory`},
	}
	if !testing.Short() {
		// Over BPF_COMPLEXITY_LIMIT_INSNS: a generated scenario of
		// 1,000,001 instructions (seconds to parse, so not with -short).
		big := filepath.Join(dir, "big.scn")
		if _, errOut, st := runCLI(t, "gen", "--insns", "1000001", "--no-calls", "-o", big); st != 0 {
			t.Fatalf("gen: %s", errOut)
		}
		cases = append(cases, badCase{"over the kernel's 1M instructions", []string{"dump", big},
			`big\.scn: gen: 1000001 instructions: the kernel loads at most 1000000 \(BPF_COMPLEXITY_LIMIT_INSNS`})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkBad(t, c) })
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "mine.scn")); string(got) != "keep me" {
		t.Errorf("gen without --force changed an existing file: %q", got)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmps) > 0 {
		t.Errorf("temporary files left behind: %v", tmps)
	}
	if len(cases) < 30 {
		t.Errorf("%d cases: the catalogue has at least 30", len(cases))
	}
}

// fifo makes a named pipe no one writes to: reading it would block for ever.
func fifo(t *testing.T, dir string) string {
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

func checkBad(t *testing.T, c badCase) {
	t.Helper()
	out, errOut, st := runCLI(t, c.args...)
	if st != 1 {
		t.Errorf("status %d, want 1 (stdout %.200q)", st, out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "jitscope: ") {
		t.Errorf("stderr is not one line: %q", errOut)
	}
	if strings.Contains(errOut, "internal error") || strings.Contains(errOut, "goroutine") {
		t.Errorf("a panic: %q", errOut)
	}
	if !regexp.MustCompile(c.want).MatchString(strings.TrimSuffix(errOut, "\n")) {
		t.Errorf("stderr %q does not match %q", errOut, c.want)
	}
}
