package a64

import (
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
)

var oracle = flag.Bool("oracle", false, "check cases.txt against real execution under qemu-aarch64 (needs binutils-aarch64-linux-gnu and qemu-user)")

// The oracle: every case of cases.txt that user-mode Linux can run (no
// faults, no EL1 system registers, no pointer authentication, no BTI, branch
// targets near the code) is assembled into one static aarch64 program that,
// per case, zeroes the data region, writes the initial memory, loads the
// registers, flags and sp, runs the words, and at the exit the code reached
// saves every register, the flags, sp, which exit it was and the expected
// memory locations. qemu-aarch64 runs it and the saved state is compared with
// the expectations of the fixture: an independent check of the hand-written
// expectations (and so of the emulator, which TestCases holds to them).

const (
	oracleSlot   = 48    // quads of output per case
	oracleWindow = 0x400 // exits must lie within ±oracleWindow of the case
)

type oracleCase struct {
	fc    *fixtureCase
	idx   int
	exits []int64 // byte offsets from the first word where execution may leave
	text  map[int64]string
}

func oracleEligible(fc *fixtureCase) (*oracleCase, string) {
	if fc.fault != "" {
		return nil, "faults"
	}
	for _, tok := range fc.init {
		k, _, _ := strings.Cut(tok, "=")
		switch k {
		case "bti", "btype", "sp_el0", "tpidr_el1", "tpidr_el2":
			return nil, "needs " + k
		}
	}
	if strings.Contains(fc.asm, "pacia") || strings.Contains(fc.asm, "autia") {
		return nil, "pointer authentication"
	}
	for _, tok := range fc.expect {
		if strings.HasPrefix(tok, "steps=") {
			return nil, "steps="
		}
		if strings.HasPrefix(tok, "pc=") && !strings.HasPrefix(tok, "pc=.") {
			return nil, "absolute pc"
		}
	}
	oc := &oracleCase{fc: fc, text: map[int64]string{}}
	n := int64(4 * len(fc.words))
	exits := map[int64]bool{n: true}
	for i, w := range fc.words {
		in, err := disasm.DecodeA64(w, textBase+uint64(4*i))
		if err != nil {
			return nil, "undecodable"
		}
		if in.HasTarget && in.Kind != disasm.None {
			exits[int64(in.Target-textBase)] = true
		}
	}
	for _, tok := range fc.expect {
		if v, ok := strings.CutPrefix(tok, "pc=."); ok {
			off, err := parseValue("." + v)
			if err != nil {
				return nil, "bad pc"
			}
			if o := int64(off - textBase); o >= 0 && o < n {
				return nil, "ends inside itself"
			}
			exits[int64(off-textBase)] = true
		}
	}
	for _, tok := range fc.init { // register-held branch targets
		k, v, _ := strings.Cut(tok, "=")
		if strings.HasPrefix(v, ".") && strings.HasPrefix(k, "x") {
			off, _ := parseValue(v)
			exits[int64(off-textBase)] = true
		}
	}
	for _, tok := range fc.init { // literals in the code
		k, v, _ := strings.Cut(tok, "=")
		if a, size, isMem, err := memToken(k); isMem && err == nil && strings.Contains(k, "@.") {
			val, err := parseValue(v)
			if err != nil {
				return nil, "bad literal"
			}
			off := int64(a - textBase)
			for b := 0; b < size; b++ {
				oc.text[off+int64(b)] = fmt.Sprintf(".byte %#x", byte(val>>(8*b)))
			}
		}
	}
	for e := range exits {
		if e < -oracleWindow || e > oracleWindow {
			return nil, "branch target too far"
		}
		if e >= 0 && e < n {
			continue // loops back into the case itself
		}
		for b := range int64(4) {
			if _, clash := oc.text[e+b]; clash {
				return nil, "exit overlaps a literal"
			}
		}
		oc.exits = append(oc.exits, e)
	}
	return oc, ""
}

func oracleProgram(cases []*oracleCase) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p(".text")
	p(".global _start")
	p("_start:")
	for i, oc := range cases {
		fc := oc.fc
		p("case_%d:", i)
		// zero the data region
		p("\tldr x0, =%#x", dataBase)
		p("\tldr x1, =%#x", dataBase+dataSize)
		p("0:\tstp xzr, xzr, [x0], #16")
		p("\tcmp x0, x1")
		p("\tb.ne 0b")
		regs := make([]string, 33) // x0..x30, sp, nzcv
		for r := range regs {
			regs[r] = "0"
		}
		regs[31] = fmt.Sprintf("%#x", spInit)
		for _, tok := range fc.init {
			k, v, _ := strings.Cut(tok, "=")
			if a, size, isMem, _ := memToken(k); isMem {
				if strings.Contains(k, "@.") {
					continue // literal, emitted in the code
				}
				val, _ := parseValue(v)
				p("\tldr x0, =%#x", a)
				p("\tldr x1, =%#x", val)
				p("\t%s, [x0]", map[int]string{1: "strb w1", 2: "strh w1", 4: "str w1", 8: "str x1"}[size])
				continue
			}
			var r int
			switch {
			case k == "sp":
				r = 31
			case k == "nzcv":
				f, _ := parseFlags(v)
				regs[32] = fmt.Sprintf("%#x", f)
				continue
			default:
				r, _ = strconv.Atoi(k[1:])
			}
			if strings.HasPrefix(v, ".") {
				off, _ := parseValue(v)
				regs[r] = fmt.Sprintf("start_%d + %d", i, int64(off-textBase))
			} else {
				val, _ := parseValue(v)
				regs[r] = fmt.Sprintf("%#x", val)
			}
		}
		p("\tldr x30, =init_%d", i)
		p("\tldr x0, [x30, #248]")
		p("\tmov sp, x0")
		p("\tldr x0, [x30, #256]")
		p("\tmsr nzcv, x0")
		for r := 0; r < 30; r += 2 {
			p("\tldp x%d, x%d, [x30, #%d]", r, r+1, 8*r)
		}
		p("\tldr x30, [x30, #240]")
		p("\tb start_%d", i)
		p("\t.ltorg")
		p("init_%d:", i)
		for _, r := range regs {
			p("\t.quad %s", r)
		}
		// the code, with exits and literals around it
		lo, hi := int64(0), int64(4*len(fc.words))
		for _, e := range oc.exits {
			lo, hi = min(lo, e), max(hi, e+4)
		}
		for off := range oc.text {
			lo, hi = min(lo, off&^3), max(hi, off&^3+4)
		}
		isExit := map[int64]bool{}
		for _, e := range oc.exits {
			isExit[e] = true
		}
		for off := lo; off < hi; off += 4 {
			if off == 0 {
				p("start_%d:", i)
			}
			switch {
			case off >= 0 && off < int64(4*len(fc.words)):
				p("\t.inst %#08x", fc.words[off/4])
			case isExit[off]:
				p("\tb exit_%d_%d", i, off-lo)
			case oc.text[off] != "" || oc.text[off+1] != "" || oc.text[off+2] != "" || oc.text[off+3] != "":
				for bb := range int64(4) {
					if s := oc.text[off+bb]; s != "" {
						p("\t%s", s)
					} else {
						p("\t.byte 0")
					}
				}
			default:
				p("\tudf #0x5e")
			}
		}
		cw, _ := parseExpect(fc, machineState{}, textBase)
		for _, e := range oc.exits {
			p("exit_%d_%d:", i, e-lo)
			p("\tmsr tpidr_el0, x0")
			p("\tldr x0, =out + %d", 8*oracleSlot*i)
			for r := 1; r < 29; r += 2 {
				p("\tstp x%d, x%d, [x0, #%d]", r, r+1, 8*r)
			}
			p("\tstr x29, [x0, #232]")
			p("\tstr x30, [x0, #240]")
			p("\tmrs x1, nzcv")
			p("\tstr x1, [x0, #256]")
			p("\tmrs x1, tpidr_el0")
			p("\tstr x1, [x0]")
			p("\tmov x1, sp")
			p("\tstr x1, [x0, #248]")
			p("\tldr x1, =%d", e)
			p("\tstr x1, [x0, #264]")
			p("\tmov x1, #1")
			p("\tstr x1, [x0, #272]") // ran
			for j, me := range cw.mems {
				p("\tldr x2, =%#x", me.addr)
				p("\t%s, [x2]", map[int]string{1: "ldrb w1", 2: "ldrh w1", 4: "ldr w1", 8: "ldr x1"}[me.size])
				p("\tstr x1, [x0, #%d]", 8*(35+j))
			}
			p("\tb case_%d", i+1)
			p("\t.ltorg")
		}
	}
	p("case_%d:", len(cases))
	p("\tmov x0, #1")
	p("\tldr x1, =out")
	p("\tldr x2, =%d", 8*oracleSlot*len(cases))
	p("\tmov x8, #64") // write
	p("\tsvc #0")
	p("\tmov x0, #0")
	p("\tmov x8, #93") // exit
	p("\tsvc #0")
	p(".bss")
	p(".balign 16")
	p("out:\t.space %d", 8*oracleSlot*len(cases))
	p(".section .d, \"aw\", @nobits")
	p("\t.space %#x", dataSize)
	return b.String()
}

func needOracleTools(t *testing.T) {
	t.Helper()
	if !*oracle {
		t.Skip("run with -oracle to check against qemu-aarch64")
	}
	for _, tool := range []string{"aarch64-linux-gnu-as", "aarch64-linux-gnu-ld", "qemu-aarch64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
	}
}

// runOracle runs the eligible cases under qemu-aarch64 and returns how many
// it checked, why the others were not, and the disagreements. A case that
// kills the program (qemu finds it undefined, or it faults) is a
// disagreement too: the run is split until that case is alone.
func runOracle(t *testing.T, fcs []*fixtureCase) (checked int, skipped map[string]int, bad []string) {
	var cases []*oracleCase
	skipped = map[string]int{}
	for _, fc := range fcs {
		oc, why := oracleEligible(fc)
		if oc == nil {
			skipped[why]++
			continue
		}
		cases = append(cases, oc)
	}
	dir := t.TempDir()
	var run func(cases []*oracleCase)
	run = func(cases []*oracleCase) {
		if len(cases) == 0 {
			return
		}
		out, start, err := qemuRun(t, dir, cases)
		if err != nil {
			if len(cases) == 1 {
				bad = append(bad, fmt.Sprintf("%v: qemu: %v", cases[0].fc, err))
				return
			}
			run(cases[:len(cases)/2])
			run(cases[len(cases)/2:])
			return
		}
		checked += len(cases)
		bad = append(bad, compareOracle(cases, out, start)...)
	}
	run(cases)
	return checked, skipped, bad
}

func qemuRun(t *testing.T, dir string, cases []*oracleCase) ([]byte, map[string]uint64, error) {
	s, o, x := filepath.Join(dir, "o.s"), filepath.Join(dir, "o.o"), filepath.Join(dir, "o")
	if err := os.WriteFile(s, []byte(oracleProgram(cases)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("aarch64-linux-gnu-as", "-march=armv8.5-a", "-o", o, s).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	if out, err := exec.Command("aarch64-linux-gnu-ld", "-static", "--section-start=.d=0x10000000", "-o", x, o).CombinedOutput(); err != nil {
		t.Fatalf("ld: %v\n%s", err, out)
	}
	ef, err := elf.Open(x)
	if err != nil {
		t.Fatal(err)
	}
	syms, _ := ef.Symbols()
	ef.Close()
	start := map[string]uint64{}
	for _, sym := range syms {
		start[sym.Name] = sym.Value
	}
	out, err := exec.Command("qemu-aarch64", "-cpu", "max", x).Output()
	if err != nil {
		return nil, nil, err
	}
	if len(out) != 8*oracleSlot*len(cases) {
		return nil, nil, fmt.Errorf("%d bytes of output, want %d", len(out), 8*oracleSlot*len(cases))
	}
	return out, start, nil
}

func compareOracle(cases []*oracleCase, out []byte, start map[string]uint64) (bad []string) {
	q := func(i, j int) uint64 { return binary.LittleEndian.Uint64(out[8*(oracleSlot*i+j):]) }
	for i, oc := range cases {
		fc := oc.fc
		text := start[fmt.Sprintf("start_%d", i)]
		if q(i, 34) != 1 {
			bad = append(bad, fmt.Sprintf("%v: did not run", fc))
			continue
		}
		var init machineState
		init.SP = spInit
		for _, tok := range fc.init {
			k, v, _ := strings.Cut(tok, "=")
			if _, _, isMem, _ := memToken(k); isMem {
				continue
			}
			if k == "nzcv" {
				init.NZCV, _ = parseFlags(v)
				continue
			}
			val, _ := parseValueAt(v, text)
			if k == "sp" {
				init.SP = val
			} else {
				r, _ := strconv.Atoi(k[1:])
				init.X[r] = val
			}
		}
		cw, err := parseExpect(fc, init, text)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%v: %v", fc, err))
			continue
		}
		var got machineState
		for r := range 31 {
			got.X[r] = q(i, r)
		}
		got.SP, got.NZCV = q(i, 31), q(i, 32)
		got.PC = text + uint64(int64(q(i, 33)))
		want := cw.state
		want.BType, want.Mon = 0, monitor{}
		d := diffStates(got, want)
		for j, me := range cw.mems {
			if v := q(i, 35+j); v != me.val {
				d = append(d, fmt.Sprintf("m%d@%#x = %#x, want %#x", me.size, me.addr, v, me.val))
			}
		}
		if d != nil {
			bad = append(bad, fmt.Sprintf("%v: qemu: %s", fc, strings.Join(d, "; ")))
		}
	}
	return bad
}

// TestCasesOracle checks the hand-written expectations of cases.txt against
// qemu-aarch64.
func TestCasesOracle(t *testing.T) {
	needOracleTools(t)
	checked, skipped, bad := runOracle(t, loadCases(t))
	for _, b := range bad {
		t.Error(b)
	}
	t.Logf("%d cases checked against qemu-aarch64, %d disagree; not checkable: %v", checked, len(bad), skipped)
}
