package amd64

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/mem"
)

// Fixture memory layout (see testdata/cases.txt).
const (
	caseText  = 0x1000
	caseData  = 0x10000
	caseStack = 0x20000
)

type memCheck struct {
	addr uint64
	size int
	val  uint64
}

type fixtureCase struct {
	name    string
	line    int
	asm     string
	code    []byte
	init    map[string]uint64
	initMem []memCheck
	want    map[string]uint64
	wantMem []memCheck
	branch  string
	steps   int
	defined uint64
	fault   string
}

func parseFlags(s string) (uint64, error) {
	if s == "-" {
		return 0, nil
	}
	var f uint64
	for _, p := range strings.Split(s, "|") {
		switch p {
		case "CF":
			f |= CF
		case "PF":
			f |= PF
		case "AF":
			f |= AF
		case "ZF":
			f |= ZF
		case "SF":
			f |= SF
		case "OF":
			f |= OF
		default:
			return 0, fmt.Errorf("unknown flag %q", p)
		}
	}
	return f, nil
}

// parseState parses "k=v" items into regs (and flags, rip, gsbase, ibt),
// memory items and a branch kind.
func parseState(s string, regs map[string]uint64, mems *[]memCheck, branch *string) error {
	for _, item := range strings.Fields(s) {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return fmt.Errorf("bad item %q", item)
		}
		switch {
		case k == "flags":
			f, err := parseFlags(v)
			if err != nil {
				return err
			}
			regs[k] = f
		case k == "branch":
			*branch = v
		case strings.HasPrefix(k, "mem:"):
			parts := strings.Split(k, ":")
			if len(parts) != 3 {
				return fmt.Errorf("bad memory item %q", item)
			}
			a, err1 := strconv.ParseUint(parts[1], 0, 64)
			n, err2 := strconv.Atoi(parts[2])
			x, err3 := strconv.ParseUint(v, 0, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return fmt.Errorf("bad memory item %q", item)
			}
			*mems = append(*mems, memCheck{a, n, x})
		default:
			if RegIndex(k) < 0 && k != "rip" && k != "gsbase" && k != "ibt" {
				return fmt.Errorf("unknown register %q", k)
			}
			x, err := strconv.ParseUint(v, 0, 64)
			if err != nil {
				return fmt.Errorf("bad value in %q", item)
			}
			regs[k] = x
		}
	}
	return nil
}

func loadCases(t *testing.T) []*fixtureCase {
	raw, err := os.ReadFile("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cases []*fixtureCase
	var c *fixtureCase
	names := map[string]bool{}
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		val = strings.TrimSpace(val)
		if key == "case" {
			if names[val] {
				t.Fatalf("line %d: duplicate case %s", i+1, val)
			}
			names[val] = true
			c = &fixtureCase{name: val, line: i + 1, init: map[string]uint64{}, want: map[string]uint64{}, steps: 1, defined: ArithFlags}
			cases = append(cases, c)
			continue
		}
		if c == nil {
			t.Fatalf("line %d: %s before the first case", i+1, key)
		}
		var err error
		switch key {
		case "asm":
			c.asm = val
		case "bytes":
			c.code, err = hex.DecodeString(strings.ReplaceAll(val, " ", ""))
		case "init":
			err = parseState(val, c.init, &c.initMem, new(string))
		case "want":
			err = parseState(val, c.want, &c.wantMem, &c.branch)
		case "steps":
			c.steps, err = strconv.Atoi(val)
		case "defined":
			c.defined, err = parseFlags(val)
		case "fault":
			c.fault = val
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	return cases
}

func caseMemory(t *testing.T) *mem.Memory {
	m := mem.New(1 << 20)
	for _, r := range []struct {
		name        string
		start, size uint64
		perm        mem.Perm
	}{
		{"text", caseText, 0x2000, mem.Read | mem.Exec},
		{"data", caseData, 0x10000, mem.Read | mem.Write},
		{"stack", caseStack, 0x10000, mem.Read | mem.Write},
	} {
		if err := m.Map(r.name, r.start, r.size, r.perm); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func putMem(t *testing.T, m *mem.Memory, mc memCheck) {
	b := make([]byte, mc.size)
	for i := range b {
		b[i] = byte(mc.val >> (8 * i))
	}
	if err := m.WriteBytes(mc.addr, b); err != nil {
		t.Fatal(err)
	}
}

// TestCases runs the hand-checked instruction fixture.
func TestCases(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 150 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		for _, trace := range []bool{false, true} {
			name := tc.name
			if trace {
				name += "/trace"
			}
			t.Run(name, func(t *testing.T) { runCase(t, tc, trace) })
		}
	}
}

func runCase(t *testing.T, tc *fixtureCase, trace bool) {
	if len(tc.code) == 0 {
		t.Fatalf("line %d: no bytes (run go run ./testdata/gencases)", tc.line)
	}
	m := caseMemory(t)
	if err := m.WriteBytes(caseText, tc.code); err != nil {
		t.Fatal(err)
	}
	for _, mc := range tc.initMem {
		putMem(t, m, mc)
	}
	c := &CPU{RIP: caseText, Trace: trace}
	for k, v := range tc.init {
		switch k {
		case "flags":
			c.Flags = v
		case "gsbase":
			c.GSBase = v
		case "ibt":
			c.IBT = v != 0
		case "rip":
			c.RIP = v
		default:
			c.R[RegIndex(k)] = v
		}
	}
	ctx := fmt.Sprintf("%s (line %d, %s, % x)", tc.name, tc.line, tc.asm, tc.code)
	var last Effect
	for i := 0; i < tc.steps; i++ {
		before := *c
		e, err := c.Step(m)
		if tc.fault != "" && i == tc.steps-1 {
			if err == nil {
				t.Fatalf("%s: step %d: no fault, want %q", ctx, i+1, tc.fault)
			}
			if !strings.Contains(err.Error(), tc.fault) {
				t.Fatalf("%s: step %d: fault %q, want %q", ctx, i+1, err, tc.fault)
			}
			if _, ok := err.(*Fault); !ok {
				t.Fatalf("%s: error %T is not a *Fault", ctx, err)
			}
			if c.R != before.R || c.RIP != before.RIP || c.Flags != before.Flags {
				t.Fatalf("%s: faulting step changed the state", ctx)
			}
			break
		}
		if err != nil {
			t.Fatalf("%s: step %d: %v", ctx, i+1, err)
		}
		if e.Len < 1 || e.Len > 15 || e.PC != before.RIP {
			t.Fatalf("%s: step %d: effect PC %#x Len %d", ctx, i+1, e.PC, e.Len)
		}
		last = e
	}

	// Registers: want overrides init; everything else must be unchanged.
	for r := 0; r < 16; r++ {
		want, ok := tc.want[RegNames[r]]
		if !ok {
			want = tc.init[RegNames[r]]
		}
		if c.R[r] != want {
			t.Errorf("%s: %s = %#x, want %#x", ctx, RegNames[r], c.R[r], want)
		}
	}
	wantRIP, ok := tc.want["rip"]
	if !ok {
		wantRIP = caseText + uint64(len(tc.code))
		if tc.fault != "" {
			wantRIP = caseText
		}
	}
	if c.RIP != wantRIP {
		t.Errorf("%s: rip = %#x, want %#x", ctx, c.RIP, wantRIP)
	}
	wantFlags, ok := tc.want["flags"]
	if !ok {
		wantFlags = tc.init["flags"]
	}
	if got := c.Flags & tc.defined; got != wantFlags&tc.defined {
		t.Errorf("%s: flags = %s, want %s (comparing %s)", ctx, FlagString(got), FlagString(wantFlags&tc.defined), FlagString(tc.defined))
	}
	for _, mc := range tc.wantMem {
		got, err := m.Load(mc.addr, mc.size)
		if err != nil {
			t.Errorf("%s: mem %#x: %v", ctx, mc.addr, err)
		} else if got != mc.val {
			t.Errorf("%s: mem %#x:%d = %#x, want %#x", ctx, mc.addr, mc.size, got, mc.val)
		}
	}
	if tc.branch != "" && last.Branch.Kind != tc.branch {
		t.Errorf("%s: branch %q, want %q", ctx, last.Branch.Kind, tc.branch)
	}
	if tc.branch == "" && tc.fault == "" && tc.steps == 1 && last.Branch.Kind != "" {
		t.Errorf("%s: unexpected branch %q", ctx, last.Branch.Kind)
	}
}
