package a64

import (
	"bufio"
	"bytes"
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

	"github.com/jitscope/jitscope/exec/mem"
)

var genCases = flag.Bool("gen", false, "regenerate testdata/cases.txt from testdata/cases.in with aarch64-linux-gnu-as")

const (
	casesIn  = "testdata/cases.in"
	casesOut = "testdata/cases.txt"
	spInit   = dataBase + 0x8000
)

// A fixture case: words executed from textBase, the state before, and the
// state expected after.
type fixtureCase struct {
	name   string // for generated cases; else the line of cases.txt
	line   int
	words  []uint32
	asm    string
	init   []string
	expect []string
	fault  string // the text after fault=, which runs to the end of the field
}

func (fc *fixtureCase) String() string {
	if fc.name != "" {
		return fc.name
	}
	return fmt.Sprintf("%s:%d: %s", casesOut, fc.line, fc.asm)
}

func splitCaseLine(s string, n int) ([]string, bool) {
	f := strings.Split(s, "|")
	if len(f) != n {
		return nil, false
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f, true
}

// TestGenerateCases assembles cases.in into cases.txt (with -gen).
func TestGenerateCases(t *testing.T) {
	if !*genCases {
		t.Skip("run with -gen to regenerate " + casesOut)
	}
	src, err := os.ReadFile(casesIn)
	if err != nil {
		t.Fatal(err)
	}
	type srcCase struct {
		f    []string
		line int
	}
	var lines []string // output lines; cases are "\x00<index>"
	var cases []srcCase
	var asm bytes.Buffer
	asm.WriteString(".text\n")
	for i, l := range strings.Split(string(src), "\n") {
		switch t := strings.TrimSpace(l); {
		case t == "" || strings.HasPrefix(t, "#"):
			lines = append(lines, l)
			continue
		}
		f, ok := splitCaseLine(l, 3)
		if !ok {
			t.Fatalf("%s:%d: want asm | init | expect", casesIn, i+1)
		}
		fmt.Fprintf(&asm, "c%d: %s\n", len(cases), f[0])
		lines = append(lines, "\x00"+strconv.Itoa(len(cases)))
		cases = append(cases, srcCase{f, i + 1})
	}
	fmt.Fprintf(&asm, "c%d:\n", len(cases))
	dir := t.TempDir()
	s, o := filepath.Join(dir, "cases.s"), filepath.Join(dir, "cases.o")
	if err := os.WriteFile(s, asm.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("aarch64-linux-gnu-as", "-march=armv8.5-a", "-o", o, s).CombinedOutput()
	if err != nil {
		t.Fatalf("aarch64-linux-gnu-as: %v\n%s", err, out)
	}
	ef, err := elf.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	text := ef.Section(".text")
	if ef.Section(".rela.text") != nil {
		t.Fatal("the assembler left relocations")
	}
	code, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]uint64{}
	for _, sym := range syms {
		at[sym.Name] = sym.Value
	}
	var b strings.Builder
	b.WriteString("# GENERATED from cases.in by TestGenerateCases (go test ./exec/a64 -run TestGenerateCases -gen).\n")
	b.WriteString("# words | asm | initial state | expected state (see cases.in for the notation)\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "\x00") {
			if !strings.HasPrefix(l, "# Instruction cases") && !strings.HasPrefix(l, "#   asm |") {
				b.WriteString(l + "\n")
			}
			continue
		}
		i, _ := strconv.Atoi(l[1:])
		lo, hi := at[fmt.Sprintf("c%d", i)], at[fmt.Sprintf("c%d", i+1)]
		if hi <= lo || hi-lo > 64 {
			t.Fatalf("%s:%d: assembled to %d bytes", casesIn, cases[i].line, hi-lo)
		}
		var ws []string
		for off := lo; off < hi; off += 4 {
			ws = append(ws, fmt.Sprintf("%08x", binary.LittleEndian.Uint32(code[off:])))
		}
		f := cases[i].f
		fmt.Fprintf(&b, "%s | %s | %s | %s\n", strings.Join(ws, " "), f[0], f[1], f[2])
	}
	if err := os.WriteFile(casesOut, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d cases", casesOut, len(cases))
}

func loadCases(t *testing.T) []*fixtureCase {
	t.Helper()
	f, err := os.Open(casesOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []*fixtureCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		p, ok := splitCaseLine(l, 4)
		if !ok {
			t.Fatalf("%s:%d: want words | asm | init | expect", casesOut, n)
		}
		exp, fault, _ := strings.Cut(p[3], "fault=")
		fc := &fixtureCase{line: n, asm: p[1], init: strings.Fields(p[2]), expect: strings.Fields(exp), fault: strings.TrimSpace(fault)}
		for _, w := range strings.Fields(p[0]) {
			v, err := strconv.ParseUint(w, 16, 32)
			if err != nil {
				t.Fatalf("%s:%d: word %q: %v", casesOut, n, w, err)
			}
			fc.words = append(fc.words, uint32(v))
		}
		cs = append(cs, fc)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cs
}

// parseValue reads a value token: a number (0x.., decimal, -n), or D+n
// (data region) or .+n (first instruction) relative.
func parseValue(s string) (uint64, error) { return parseValueAt(s, textBase) }

// parseValueAt is parseValue with the first instruction at text.
func parseValueAt(s string, text uint64) (uint64, error) {
	var base uint64
	switch {
	case strings.HasPrefix(s, "D"):
		base, s = dataBase, s[1:]
	case strings.HasPrefix(s, "."):
		base, s = text, s[1:]
	}
	if s == "" {
		return base, nil
	}
	neg := false
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		neg, s = true, s[1:]
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		v = -v
	}
	return base + v, nil
}

func parseFlags(s string) (uint64, error) {
	if len(s) != 4 {
		return 0, fmt.Errorf("nzcv %q: want 4 letters", s)
	}
	var v uint64
	for i, ch := range s {
		switch ch {
		case 'N', 'Z', 'C', 'V':
			v |= 1 << (31 - i)
		case 'n', 'z', 'c', 'v':
		default:
			return 0, fmt.Errorf("nzcv %q: bad letter %q", s, ch)
		}
		if strings.ToUpper(string(ch)) != string("NZCV"[i]) {
			return 0, fmt.Errorf("nzcv %q: letters out of order", s)
		}
	}
	return v, nil
}

// memToken parses "m<size>@<addr>".
func memToken(k string) (addr uint64, size int, ok bool, err error) { return memTokenAt(k, textBase) }

func memTokenAt(k string, text uint64) (addr uint64, size int, ok bool, err error) {
	if len(k) < 4 || k[0] != 'm' || k[2] != '@' {
		return 0, 0, false, nil
	}
	size = int(k[1] - '0')
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return 0, 0, true, fmt.Errorf("memory size in %q", k)
	}
	addr, err = parseValueAt(k[3:], text)
	return addr, size, true, err
}

// machineState is everything a step may change.
type machineState struct {
	X      [31]uint64
	SP, PC uint64
	NZCV   uint64
	BType  uint8
	Mon    monitor
}

func stateOf(c *CPU) machineState {
	return machineState{X: c.X, SP: c.SP, PC: c.PC, NZCV: c.NZCV(), BType: c.BType, Mon: c.mon}
}

func diffStates(got, want machineState) []string {
	var d []string
	for i := range got.X {
		if got.X[i] != want.X[i] {
			d = append(d, fmt.Sprintf("x%d = %#x, want %#x", i, got.X[i], want.X[i]))
		}
	}
	if got.SP != want.SP {
		d = append(d, fmt.Sprintf("sp = %#x, want %#x", got.SP, want.SP))
	}
	if got.PC != want.PC {
		d = append(d, fmt.Sprintf("pc = %#x, want %#x", got.PC, want.PC))
	}
	if got.NZCV != want.NZCV {
		d = append(d, fmt.Sprintf("nzcv = %#x, want %#x", got.NZCV, want.NZCV))
	}
	if got.BType != want.BType {
		d = append(d, fmt.Sprintf("btype = %d, want %d", got.BType, want.BType))
	}
	if got.Mon != want.Mon {
		d = append(d, fmt.Sprintf("monitor = %+v, want %+v", got.Mon, want.Mon))
	}
	return d
}

// dump returns the bytes of every page the machine maps.
func dump(m *mem.Memory) map[uint64][]byte {
	out := map[uint64][]byte{}
	for _, r := range m.Regions() {
		for a := r.Start; a < r.End; a += mem.PageSize {
			b, err := m.ReadBytes(a, mem.PageSize)
			if err != nil { // execute-only or write-only: fetch instead
				b, _ = m.Fetch(a, mem.PageSize)
			}
			out[a] = b
		}
	}
	return out
}

func diffMem(got, want map[uint64][]byte) []string {
	var d []string
	for a, w := range want {
		g := got[a]
		for i := range w {
			if i < len(g) && g[i] != w[i] {
				d = append(d, fmt.Sprintf("byte at %#x = %#02x, want %#02x", a+uint64(i), g[i], w[i]))
				if len(d) > 8 {
					return d
				}
			}
		}
	}
	return d
}

type memExpect struct {
	addr uint64
	size int
	val  uint64
}

// setupCase builds the machine of a case in its initial state.
func setupCase(t *testing.T, fc *fixtureCase) (*CPU, *mem.Memory, bool) {
	t.Helper()
	c, m := newMachine(t, fc.words)
	c.SP = spInit
	for _, tok := range fc.init {
		if tok == "bti" {
			c.BTI = true
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			t.Errorf("%v: init token %q", fc, tok)
			return nil, nil, false
		}
		if a, size, isMem, err := memToken(k); isMem {
			val, err2 := parseValue(v)
			if err != nil || err2 != nil {
				t.Errorf("%v: init token %q", fc, tok)
				return nil, nil, false
			}
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], val)
			if err := m.WriteBytes(a, b[:size]); err != nil {
				t.Errorf("%v: %v", fc, err)
				return nil, nil, false
			}
			continue
		}
		if k == "nzcv" {
			f, err := parseFlags(v)
			if err != nil {
				t.Errorf("%v: %v", fc, err)
				return nil, nil, false
			}
			c.SetNZCV(f)
			continue
		}
		val, err := parseValue(v)
		if err != nil {
			t.Errorf("%v: init token %q: %v", fc, tok, err)
			return nil, nil, false
		}
		switch {
		case k == "sp":
			c.SP = val
		case k == "sp_el0":
			c.SPEL0 = val
		case k == "tpidr_el1":
			c.TPIDREL1 = val
		case k == "tpidr_el2":
			c.TPIDREL2 = val
		case k == "btype":
			c.BType = uint8(val)
		case strings.HasPrefix(k, "x"):
			n, err := strconv.Atoi(k[1:])
			if err != nil || n < 0 || n > 30 {
				t.Errorf("%v: register %q", fc, k)
				return nil, nil, false
			}
			c.X[n] = val
		default:
			t.Errorf("%v: init token %q", fc, tok)
			return nil, nil, false
		}
	}
	return c, m, true
}

// caseWant is what a case expects.
type caseWant struct {
	state  machineState // after the last step (pc: textBase-relative default)
	mems   []memExpect
	steps  int
	branch string
	pcSet  bool
}

// parseExpect computes the expected state of fc from its initial state,
// with the first instruction at address text.
func parseExpect(fc *fixtureCase, init machineState, text uint64) (*caseWant, error) {
	cw := &caseWant{state: init, steps: len(fc.words)}
	for _, tok := range fc.expect {
		if k, v, _ := strings.Cut(tok, "="); k == "steps" {
			cw.steps, _ = strconv.Atoi(v)
		}
	}
	cw.state.PC = text + 4*uint64(cw.steps)
	cw.state.BType = 0
	for _, tok := range fc.expect {
		k, v, _ := strings.Cut(tok, "=")
		if a, size, isMem, err := memTokenAt(k, text); isMem {
			val, err2 := parseValueAt(v, text)
			if err != nil || err2 != nil {
				return nil, fmt.Errorf("expect token %q", tok)
			}
			cw.mems = append(cw.mems, memExpect{a, size, val})
			continue
		}
		switch {
		case k == "steps":
		case k == "br":
			cw.branch = v
		case k == "nzcv":
			f, err := parseFlags(v)
			if err != nil {
				return nil, err
			}
			cw.state.NZCV = f
		default:
			val, err := parseValueAt(v, text)
			if err != nil {
				return nil, fmt.Errorf("expect token %q: %v", tok, err)
			}
			switch {
			case k == "pc":
				cw.state.PC, cw.pcSet = val, true
			case k == "sp":
				cw.state.SP = val
			case k == "btype":
				cw.state.BType = uint8(val)
			case strings.HasPrefix(k, "x"):
				n, err := strconv.Atoi(k[1:])
				if err != nil || n < 0 || n > 30 {
					return nil, fmt.Errorf("register %q", k)
				}
				cw.state.X[n] = val
			default:
				return nil, fmt.Errorf("expect token %q", tok)
			}
		}
	}
	return cw, nil
}

// runCase executes one fixture case and checks it, then undoes every step
// and checks that the machine is back where it started.
func runCase(t *testing.T, fc *fixtureCase) {
	c, m, ok := setupCase(t, fc)
	if !ok {
		return
	}
	c.Trace = true
	initState := stateOf(c)
	initMem := dump(m)
	cw, err := parseExpect(fc, initState, textBase)
	if err != nil {
		t.Errorf("%v: %v", fc, err)
		return
	}
	want, mems, steps, fault, branch, pcSet := cw.state, cw.mems, cw.steps, fc.fault, cw.branch, cw.pcSet
	var effects []Effect
	var last Effect
	for i := 0; i < steps; i++ {
		before, beforeMem := stateOf(c), dump(m)
		e, err := c.Step(m)
		last = e
		if err != nil {
			if fault == "" || i != steps-1 {
				t.Errorf("%v: step %d: unexpected fault %v", fc, i+1, err)
				return
			}
			if _, ok := err.(*Fault); !ok {
				t.Errorf("%v: error %T is not a *Fault", fc, err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(fault)) {
				t.Errorf("%v: fault %q does not mention %q", fc, err, fault)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("pc %#x: word %#08x: ", e.PC, fc.words[i])) {
				t.Errorf("%v: fault %q does not name the pc and word", fc, err)
			}
			if d := diffStates(stateOf(c), before); d != nil {
				t.Errorf("%v: the faulting step changed the state: %s", fc, strings.Join(d, "; "))
			}
			if d := diffMem(dump(m), beforeMem); d != nil {
				t.Errorf("%v: the faulting step changed memory: %s", fc, strings.Join(d, "; "))
			}
			want = before
			if pcSet {
				t.Errorf("%v: pc= with fault=", fc)
			}
			break
		}
		if fault != "" && i == steps-1 {
			t.Errorf("%v: no fault, want one mentioning %q", fc, fault)
			return
		}
		effects = append(effects, e)
	}
	if fault == "" {
		want.Mon = c.mon // the monitor is checked through stxr results
		if d := diffStates(stateOf(c), want); d != nil {
			t.Errorf("%v: %s", fc, strings.Join(d, "; "))
		}
		if branch != "" && last.Branch.Kind != branch {
			t.Errorf("%v: branch kind %q, want %q", fc, last.Branch.Kind, branch)
		}
		if branch == "" && last.Branch.Kind != "" {
			t.Errorf("%v: branch kind %q, want none", fc, last.Branch.Kind)
		}
	}
	covered := map[uint64]bool{}
	for _, me := range mems {
		got, err := m.ReadBytes(me.addr, me.size)
		if err != nil {
			got, err = m.Fetch(me.addr, me.size)
		}
		if err != nil {
			t.Errorf("%v: reading m%d@%#x: %v", fc, me.size, me.addr, err)
			continue
		}
		var b [8]byte
		copy(b[:], got)
		if v := binary.LittleEndian.Uint64(b[:]); v != me.val {
			t.Errorf("%v: m%d@%#x = %#x, want %#x", fc, me.size, me.addr, v, me.val)
		}
		for i := 0; i < me.size; i++ {
			covered[me.addr+uint64(i)] = true
		}
	}
	for _, e := range effects {
		for _, w := range e.Writes {
			for i := range w.New {
				if !covered[w.Addr+uint64(i)] {
					t.Errorf("%v: unexpected write of %#02x at %#x", fc, w.New[i], w.Addr+uint64(i))
				}
			}
		}
	}
	// Undo everything.
	for i := len(effects) - 1; i >= 0; i-- {
		c.Undo(m, effects[i])
	}
	if d := diffStates(stateOf(c), initState); d != nil {
		t.Errorf("%v: after undo: %s", fc, strings.Join(d, "; "))
	}
	if d := diffMem(dump(m), initMem); d != nil {
		t.Errorf("%v: after undo: %s", fc, strings.Join(d, "; "))
	}
}

func TestCases(t *testing.T) {
	cs := loadCases(t)
	if len(cs) < 150 {
		t.Errorf("only %d cases in %s", len(cs), casesOut)
	}
	for _, fc := range cs {
		runCase(t, fc)
	}
	t.Logf("%d cases", len(cs))
}
