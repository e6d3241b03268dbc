// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// seed000 holds the programs of seed 000 as the arm64 listing shows them.
var seed000 = map[string]asm.Instructions{
	"entry": {
		asm.Mov.Imm32(asm.R2, 0).WithSymbol("entry"),
		asm.StoreMem(asm.RFP, -1, asm.R2, asm.Byte),
		asm.Call.Label("subprog_tail"),
		asm.Return(),
		asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("subprog_tail"),
		asm.Mov.Imm32(asm.R1, 1),
		asm.StoreMem(asm.RFP, -4, asm.R1, asm.Word),
		asm.LoadMapPtr(asm.R7, 0).WithReference("jmp_table"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.LoadMem(asm.R0, asm.RFP, -4, asm.Word),
		asm.Return(),
	},
	"classifier_0": {
		asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss").WithSymbol("classifier_0"),
		asm.Mov.Imm32(asm.R2, 1),
		asm.StoreMem(asm.R1, 0, asm.R2, asm.Word),
		asm.Mov.Imm32(asm.R0, 0),
		asm.Return(),
	},
}

// sameInsns compares what the JIT sees of two instruction streams.
func sameInsns(t *testing.T, what string, got, want asm.Instructions) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d instructions, want %d:\n%v", what, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.OpCode != w.OpCode || g.Dst != w.Dst || g.Src != w.Src || g.Offset != w.Offset ||
			g.Constant != w.Constant || g.Symbol() != w.Symbol() || g.Reference() != w.Reference() {
			t.Errorf("%s: insn %d = %v (sym %q ref %q), want %v (sym %q ref %q)",
				what, i, g, g.Symbol(), g.Reference(), w, w.Symbol(), w.Reference())
		}
	}
}

func TestBuiltinSeed000(t *testing.T) {
	s, err := Builtin(Default)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "bpf2bpf-tailcall" || s.Source != "builtin:bpf2bpf-tailcall" {
		t.Errorf("name %q source %q", s.Name, s.Source)
	}
	if len(s.Programs) != 2 || s.Programs[0].Name != "entry" || s.Programs[1].Name != "classifier_0" {
		t.Fatalf("programs: %v", progNames(s))
	}
	for _, p := range s.Programs {
		sameInsns(t, p.Name, p.Insns, seed000[p.Name])
		if p.Type != "sched_cls" || p.Xlated {
			t.Errorf("%s: type %q xlated %v", p.Name, p.Type, p.Xlated)
		}
	}
	wantFuncs := map[string][]kernel.Func{
		"entry": {
			{Name: "entry", Start: 0, Prototype: "int entry(struct __sk_buff *skb)", StackDepth: -1},
			{Name: "subprog_tail", Start: 4, Prototype: "int subprog_tail(struct __sk_buff *skb)", StackDepth: -1},
		},
		"classifier_0": {
			{Name: "classifier_0", Start: 0, Prototype: "int classifier_0(struct __sk_buff *skb)", StackDepth: -1},
		},
	}
	for _, p := range s.Programs {
		if !reflect.DeepEqual(p.Funcs, wantFuncs[p.Name]) {
			t.Errorf("%s funcs = %+v\nwant %+v", p.Name, p.Funcs, wantFuncs[p.Name])
		}
	}
	jt, bss := s.Map("jmp_table"), s.Map(".bss")
	if jt == nil || bss == nil {
		t.Fatalf("maps: %s", mapNames(s))
	}
	if !jt.IsProgArray() || jt.KeySize != 4 || jt.ValueSize != 4 || jt.MaxEntries != 1 ||
		!reflect.DeepEqual(jt.Progs, map[uint32]string{0: "classifier_0"}) {
		t.Errorf("jmp_table = %+v", *jt)
	}
	if bss.Type != "array" || bss.ValueSize != 4 || bss.MaxEntries != 1 || !bytes.Equal(bss.Data, make([]byte, 4)) {
		t.Errorf(".bss = %+v", *bss)
	}
	if len(s.Placements) != 1 {
		t.Errorf("placements for %d arches, want arm64 only", len(s.Placements))
	}
	pl := s.Placements[kernel.ARM64]
	if pl == nil {
		t.Fatal("no arm64 placement")
	}
	want := &kernel.Placement{
		Funcs: map[string]uint64{
			"entry":        0xffffffc0090151d4,
			"subprog_tail": 0xffffffc00902d25c,
			"classifier_0": 0xffffffc008ff5874,
		},
		Maps:    map[string]uint64{"jmp_table": 0xffffff80c0334e00},
		Values:  map[string]uint64{".bss": 0xffffffc008fc6000},
		Layout:  map[string]int{"bpf_array.map.max_entries": 0x24, "bpf_array.ptrs": 0x110, "bpf_prog.bpf_func": 0x30},
		Config:  map[string]string{"CONFIG_ARM64_PTR_AUTH_KERNEL": "y", "CONFIG_ARM64_BTI_KERNEL": "y"},
		Kernel:  "bpf-next, June 2022 (commit d4609a5d8c70)",
		Profile: "bpf-next-2022-06",
	}
	if !reflect.DeepEqual(pl, want) {
		t.Errorf("arm64 placement = %+v\nwant %+v", *pl, *want)
	}
	if !strings.Contains(s.Description, "x26") || !strings.Contains(s.Description, "bti j") {
		t.Errorf("description does not tell the story: %q", s.Description)
	}
}

// The built-in's instructions are what clang makes of the equivalent C.
func TestBuiltinMatchesCompiledC(t *testing.T) {
	s, err := Builtin(Default)
	if err != nil {
		t.Fatal(err)
	}
	o, err := LoadELF("testdata/elf/tailcall.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Programs {
		op := o.Program(p.Name)
		if op == nil {
			t.Fatalf("object has no program %s", p.Name)
		}
		sameInsns(t, p.Name, op.Insns, p.Insns)
		var names, onames []string
		for i := range p.Funcs {
			names = append(names, p.Funcs[i].Name+": "+p.Funcs[i].Prototype)
		}
		for i := range op.Funcs {
			onames = append(onames, op.Funcs[i].Name+": "+op.Funcs[i].Prototype)
		}
		if !reflect.DeepEqual(names, onames) {
			t.Errorf("%s: functions %q, object has %q", p.Name, names, onames)
		}
	}
}

// kernel.Load accepts the built-in and places it at the seed's addresses.
func TestBuiltinLoadsIntoKernel(t *testing.T) {
	s, err := Builtin(Default)
	if err != nil {
		t.Fatal(err)
	}
	l, err := kernel.Load(s, "entry", kernel.ARM64, kernel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range l.Funcs {
		got = append(got, fmt.Sprintf("%s@%#x", f.Name, f.Address))
	}
	want := []string{"entry@0xffffffc0090151d4", "subprog_tail@0xffffffc00902d25c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions %v, want %v", got, want)
	}
}

func TestBuiltins(t *testing.T) {
	infos := Builtins()
	if len(infos) == 0 {
		t.Fatal("no built-in scenarios")
	}
	found := false
	for _, in := range infos {
		s, err := Builtin(in.Name)
		if err != nil {
			t.Errorf("%s: %v", in.Name, err)
			continue
		}
		src, err := Show(in.Name)
		if err != nil {
			t.Fatal(err)
		}
		// The file's name key agrees with its file name.
		if s.Name != in.Name {
			t.Errorf("%s.scn says name = %q", in.Name, s.Name)
		}
		if in.Description == "" || strings.Contains(in.Description, "\n") || !strings.HasPrefix(s.Description, in.Description) {
			t.Errorf("%s: description line %q", in.Name, in.Description)
		}
		again, err := Parse("x.scn", src)
		if err != nil || again.Name != in.Name {
			t.Errorf("%s: Show's text does not parse back: %v", in.Name, err)
		}
		if in.Name == Default {
			found = true
			if !reflect.DeepEqual(in.Arches, []kernel.Arch{kernel.ARM64}) {
				t.Errorf("%s pins %v, want [arm64]", in.Name, in.Arches)
			}
		}
	}
	if !found {
		t.Errorf("default %q is not among the built-ins", Default)
	}
	if _, err := Show("nope"); err == nil || err.Error() != "nope: not a built-in scenario (see `jitscope list`)" {
		t.Errorf("Show(nope) = %v", err)
	}
}

const minimal = `name = "m"
[[program]]
name = "p"
type = "xdp"
asm = """
	w0 = 0
	exit
"""
`

func TestAddresses(t *testing.T) {
	src := minimal + `
[[map]]
name = "arr"
type = "array"
value_size = 8
max_entries = 2
data = [1, 2, 3]

[arch.arm64]
funcs.p = "0xffffffc0090151d4"
maps = { arr = 0x7fffffffffffffff }
symbols = { __bpf_call_base = 0xffff0000, "bpf_map_lookup_elem" = "18446744073709551615", small = 4096 }
layout = { "bpf_array.ptrs" = "0x110", "bpf_prog.bpf_func" = 48 }
config = { CONFIG_ARM64_BTI_KERNEL = false, "cpu:atomics" = "y" }

[arch.x86-64]
values.arr = "0xffff888100100110"
`
	s, err := Parse("a.scn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Placements[kernel.ARM64]
	x := s.Placements[kernel.X86_64]
	if a == nil || x == nil {
		t.Fatalf("placements %v", s.Placements)
	}
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"funcs.p (string above int64)", a.Funcs["p"], 0xffffffc0090151d4},
		{"maps.arr (int64 max)", a.Maps["arr"], 0x7fffffffffffffff},
		{"symbols hex int", a.Symbols["__bpf_call_base"], 0xffff0000},
		{"symbols decimal string", a.Symbols["bpf_map_lookup_elem"], 0xffffffffffffffff},
		{"symbols decimal int", a.Symbols["small"], 4096},
		{"x86 values", x.Values["arr"], 0xffff888100100110},
		{"layout string", uint64(a.Layout["bpf_array.ptrs"]), 0x110},
		{"layout int", uint64(a.Layout["bpf_prog.bpf_func"]), 48},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if !reflect.DeepEqual(a.Config, map[string]string{"CONFIG_ARM64_BTI_KERNEL": "n", "cpu:atomics": "y"}) {
		t.Errorf("config %v", a.Config)
	}
	m := s.Map("arr")
	if !bytes.Equal(m.Data, []byte{1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("data %v", m.Data)
	}
	if s.Programs[0].Funcs[0].Name != "p" || s.Programs[0].Insns[0].Symbol() != "p" {
		t.Errorf("main function not named after the program: %+v", s.Programs[0].Funcs)
	}
}

func TestDefaults(t *testing.T) {
	src := minimal + `
[[map]]
name = ".data"
data = "01 02 03 04 05"

[[map]]
name = "pa"
type = "prog_array"
max_entries = 4
entries = { 3 = "p" }
`
	s, err := Parse("dir/d.scn", []byte(strings.Replace(src, `name = "m"`, "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "d" {
		t.Errorf("name %q, want the file's base name", s.Name)
	}
	d := s.Map(".data")
	if d.Type != "array" || d.KeySize != 4 || d.ValueSize != 5 || d.MaxEntries != 1 || !bytes.Equal(d.Data, []byte{1, 2, 3, 4, 5}) {
		t.Errorf(".data = %+v", *d)
	}
	pa := s.Map("pa")
	if pa.KeySize != 4 || pa.ValueSize != 4 || !reflect.DeepEqual(pa.Progs, map[uint32]string{3: "p"}) {
		t.Errorf("pa = %+v", *pa)
	}
}

func TestEntryAndFunctions(t *testing.T) {
	src := `
entry = "second"
[[program]]
name = "first"
type = "xdp"
asm = "w0 = 0\nexit"

[[program]]
name = "second"
type = "socket_filter"
stack_depth = { helper = 16 }
asm = '''
	call helper
	call pc+1
	exit
helper:
	w0 = 1
	exit
	w0 = 2
	exit
'''
`
	s, err := Parse("e.scn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Programs[0].Name != "second" || s.Programs[1].Name != "first" {
		t.Fatalf("entry not first: %s", progNames(s))
	}
	var got []string
	for _, f := range s.Programs[0].Funcs {
		got = append(got, fmt.Sprintf("%s@%d/%d", f.Name, f.Start, f.StackDepth))
	}
	// "call pc+1" at slot 1 lands on slot 3: helper again.
	want := []string{"second@0/-1", "helper@3/16"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions %v, want %v", got, want)
	}
}

func TestNumericCallNamesFunction(t *testing.T) {
	src := `
[[program]]
name = "p"
type = "xdp"
asm = '''
	call pc+3
	exit
	w0 = 1
	exit
	w0 = 2
	exit
'''
`
	s, err := Parse("n.scn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	fs := s.Programs[0].Funcs
	if len(fs) != 2 || fs[1].Start != 4 || fs[1].Name != "p_func1" || s.Programs[0].Insns[4].Symbol() != "p_func1" {
		t.Errorf("functions %+v", fs)
	}
}

func TestParseErrors(t *testing.T) {
	prog := func(asmText string) string {
		return "[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = \"\"\"\n" + asmText + "\"\"\"\n"
	}
	maps := `
[[map]]
name = "jt"
type = "prog_array"
max_entries = 2
`
	cases := []struct {
		name string
		src  string
		want string // the whole error line
	}{
		{"toml syntax", "name = \"x\nfoo", "t.scn:1: invalid TOML: "},
		{"toml duplicate key", "name = \"a\"\nname = \"b\"\n", "t.scn:2: invalid TOML: "},
		{"hex integer too large", minimal + "[arch.arm64]\nfuncs = { p = 0xffffffc0090151d4 }\n",
			"t.scn:10: invalid TOML: "},
		{"asm error in block", prog("\tw0 = 0\n\tw0 = frob\n\texit\n"), `t.scn:6: program p: unknown operand "frob"`},
		{"asm error on delimiter line", "[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = \"\"\"w0 = 0\nbogus insn\nexit\"\"\"\n", `t.scn:5: program p: unknown instruction "bogus"`},
		{"asm error in literal block", "\n\n[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = '''\n\texit\n\tr0 = r11\n'''\n", `t.scn:8: program p: invalid register "r11"`},
		{"unknown map reference", maps + prog("\tr1 = map[jmp]\n\tr0 = 0\n\texit\n"),
			`t.scn:10: program p: unknown map "jmp" (maps: jt)`},
		{"map value of prog array", maps + prog("\tr0 = 0\n\tr1 = map[jt] + 0\n\texit\n"),
			"t.scn:11: program p: direct value access needs an array map; jt is a prog_array"},
		{"unknown function", prog("\tcall nowhere\n\texit\n"), `t.scn:5: program p: unknown label "nowhere"`},
		{"prog array entry program", minimal + maps + "entries = { 0 = \"p\", 1 = \"q\" }\n",
			`t.scn:14: map jt entries: [1] = "q" is not a program of this scenario (programs: p)`},
		{"prog array index", minimal + maps + "entries = { 2 = \"p\" }\n",
			"t.scn:14: map jt entries: index 2 out of range (max_entries 2)"},
		{"bad address", minimal + "[arch.arm64]\n[arch.arm64.funcs]\np = \"0xffffffc0zz\"\n",
			`t.scn:11: [arch.arm64.funcs]: p = "0xffffffc0zz" is not a number (want e.g. "0xffffffc0090151d4")`},
		{"negative address", minimal + "[arch.arm64.maps]\njt = -5\n" + maps,
			`t.scn:10: [arch.arm64.maps]: jt = -5 is negative; write addresses above 0x7fffffffffffffff as strings, e.g. "0xffffffc0090151d4"`},
		{"address wrong type", minimal + "[arch.arm64]\nsymbols = { x = true }\n",
			`t.scn:10: [arch.arm64.symbols]: x is a boolean, want an integer or a string such as "0xffffffc0090151d4"`},
		{"unknown top-level key", "nmae = 1\n" + minimal,
			`t.scn:1: unknown key "nmae" in the top level (known keys: name, description, entry, program, map, arch, packet, packets, tour)`},
		{"unknown key in second program", minimal + "[[program]]\nname = \"q\"\ntype = \"xdp\"\nprototype = {}\nasm = \"exit\"\n",
			`t.scn:12: unknown key "prototype" in [[program]] #2 (known keys: name, type, prototypes, stack_depth, asm, target, attach, jited, xdp_frags, dev_bound, expected_attach_type)`},
		{"unknown key in arch", minimal + "[arch.arm64]\nkernal = \"x\"\n",
			`t.scn:10: unknown key "kernal" in [arch.arm64] (known keys: kernel, profile, funcs, maps, values, symbols, layout, config)`},
		{"non-UTF-8", "name = \"a\"\n# caf\xe9\n", "t.scn:2: not UTF-8 text (byte 0xe9 at column 6); a scenario file is UTF-8 TOML"},
		{"no programs", "name = \"a\"\n", "t.scn:1: no programs: a scenario needs at least one [[program]] table"},
		{"duplicate program", minimal + "[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = \"exit\"\n",
			`t.scn:10: duplicate program name "p"`},
		{"duplicate map", minimal + maps + maps, `t.scn:16: duplicate map name "jt"`},
		{"unknown entry", "entry = \"q\"\n" + minimal, `t.scn:1: entry "q" is not a program of this scenario (programs: p)`},
		{"unknown program type", strings.Replace(minimal, `"xdp"`, `"xpd"`, 1), `t.scn:4: program p: unknown program type "xpd"`},
		{"unknown map type", minimal + "[[map]]\nname = \"h\"\ntype = \"hsah\"\n", `t.scn:11: map h: unknown map type "hsah"`},
		{"missing asm", "[[program]]\nname = \"p\"\ntype = \"xdp\"\n", "t.scn:1: program p: missing asm"},
		{"empty asm", "[[program]]\nname = \"p\"\ntype = \"xdp\"\nasm = \"\"\"\n; nothing\n\"\"\"\n", "t.scn:4: program p: asm has no instructions"},
		{"prototype of unknown function", minimal + "[[program]]\nname = \"q\"\ntype = \"xdp\"\nasm = \"exit\"\nprototypes = { r = \"int r(void)\" }\n",
			`t.scn:13: program q prototypes: "r" is not a function of program q (functions: q)`},
		{"prototype of another function", strings.Replace(minimal, "asm =", "prototypes = { p = \"int q(void)\" }\nasm =", 1),
			`t.scn:5: program p prototypes: "int q(void)" does not declare p`},
		{"stack depth range", strings.Replace(minimal, "asm =", "stack_depth.p = 520\nasm =", 1),
			"t.scn:5: program p stack_depth: stack depth 520 of p out of range (0 to 512)"},
		{"first label", prog("start:\n\texit\n"), `t.scn:5: program p: the first label "start" must be the program's name (or be left out)`},
		{"unknown arch", minimal + "[arch.mips]\n", `t.scn:9: [arch.mips]: unknown architecture "mips"`},
		{"unknown layout", minimal + "[arch.arm64.layout]\n\"bpf_array.map.max_entires\" = 0x24\n",
			`t.scn:10: [arch.arm64.layout]: unknown struct offset "bpf_array.map.max_entires"`},
		{"config value", minimal + "[arch.arm64.config]\nCONFIG_X = \"yes\"\n", `t.scn:10: [arch.arm64.config]: CONFIG_X = "yes", want "y" or "n"`},
		{"funcs unknown", minimal + "[arch.arm64.funcs]\nq = 1\n", `t.scn:10: [arch.arm64.funcs]: no function "q" in any program`},
		{"values of prog array", minimal + maps + "[arch.arm64.values]\njt = 1\n",
			`t.scn:15: [arch.arm64.values]: map jt is a prog_array; only array maps have a value address`},
		{"data too long", minimal + "[[map]]\nname = \"a\"\ntype = \"array\"\nvalue_size = 2\nmax_entries = 1\ndata = [1, 2, 3]\n",
			"t.scn:14: map a: data has 3 bytes, more than value_size*max_entries = 2"},
		{"data not a byte", minimal + "[[map]]\nname = \"a\"\ntype = \"array\"\nvalue_size = 2\nmax_entries = 1\ndata = [\n  1,\n  256,\n]\n",
			"t.scn:16: map a: data[1] = 256 is not a byte value (0 to 255)"},
		{"entries on an array", minimal + "[[map]]\nname = \"a\"\ntype = \"array\"\nvalue_size = 2\nmax_entries = 1\nentries = {}\n",
			"t.scn:14: map a: entries are only for prog_array maps (use data for arrays)"},
		{"wrong value type", "description = 5\n" + minimal, "t.scn:1: the top level: description is an integer, want a string"},
		{"program not a table", "program = 3\n", "t.scn:1: program is an integer, want tables written as [[program]]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("t.scn", []byte(c.src))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") {
				t.Errorf("error has several lines: %q", msg)
			}
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", msg, c.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "t.scn" {
				t.Errorf("error %T %v is not a *Error for t.scn", err, err)
			}
		})
	}
}

func TestHexIntegerHint(t *testing.T) {
	_, err := Parse("t.scn", []byte(minimal+"[arch.arm64]\nfuncs = { p = 0xffffffc0090151d4 }\n"))
	if err == nil || !strings.Contains(err.Error(), `must be written as strings, e.g. "0xffffffc0090151d4"`) {
		t.Errorf("error %v lacks the hint to quote large addresses", err)
	}
}

func TestLocator(t *testing.T) {
	src := `a = 1
[[t]]
x = """
one
two"""
y = { p = 1, q.r = [
  "s",
  { u = 2 },
] }

[[t]]
x = 'z' # c
[t.sub]
k.l = 3
"quoted key" = 4
`
	l := locate(src)
	cases := []struct {
		path []string
		line int
	}{
		{[]string{"a"}, 1},
		{[]string{"t"}, 2},
		{[]string{"t", idx(0), "x"}, 3},
		{[]string{"t", idx(0), "y"}, 6},
		{[]string{"t", idx(0), "y", "q", "r", idx(1), "u"}, 8},
		{[]string{"t", idx(1), "x"}, 12},
		{[]string{"t", idx(1), "sub", "k", "l"}, 14},
		{[]string{"t", idx(1), "sub", "quoted key"}, 15},
		{[]string{"t", idx(1), "sub", "nope"}, 13},
	}
	for _, c := range cases {
		if got := l.line(c.path...); got != c.line {
			t.Errorf("line(%q) = %d, want %d", c.path, got, c.line)
		}
	}
	if got := l.strLine("t", idx(0), "x"); got != 4 {
		t.Errorf("x's text starts on line %d, want 4", got)
	}
}

func TestLoadELF(t *testing.T) {
	type fn struct{ name, proto string }
	cases := []struct {
		file  string
		progs map[string][]fn
		types map[string]string
		maps  map[string]string // name → type
	}{
		{
			file: "testdata/elf/tailcall.o",
			progs: map[string][]fn{
				"classifier_0": {{"classifier_0", "int classifier_0(struct __sk_buff *skb)"}},
				"entry": {
					{"entry", "int entry(struct __sk_buff *skb)"},
					{"subprog_tail", "int subprog_tail(struct __sk_buff *skb)"},
				},
			},
			types: map[string]string{"classifier_0": "sched_cls", "entry": "sched_cls"},
			maps:  map[string]string{"jmp_table": "prog_array", ".bss": "array"},
		},
		{
			file: "testdata/elf/globals.o",
			progs: map[string][]fn{
				"prog_xdp": {
					{"prog_xdp", "int prog_xdp(struct xdp_md *ctx)"},
					{"bump", "void bump(void)"},
					{"middle", "unsigned int middle(struct pair *pr, int n)"},
					{"leaf", "__u64 leaf(__u64 x, const __u32 *p)"},
				},
			},
			types: map[string]string{"prog_xdp": "xdp"},
			maps:  map[string]string{".bss": "array", ".data": "array", ".rodata": "array"},
		},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			s, err := LoadELF(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Programs) != len(c.progs) {
				t.Errorf("programs %s", progNames(s))
			}
			for name, want := range c.progs {
				p := s.Program(name)
				if p == nil {
					t.Fatalf("no program %s (have %s)", name, progNames(s))
				}
				if p.Type != c.types[name] || p.Xlated {
					t.Errorf("%s: type %q xlated %v", name, p.Type, p.Xlated)
				}
				var got []fn
				for i, f := range p.Funcs {
					got = append(got, fn{f.Name, f.Prototype})
					if p.Insns[f.Start].Symbol() != f.Name || f.StackDepth != -1 {
						t.Errorf("%s: function %s: start %d has symbol %q, stack depth %d", name, f.Name, f.Start, p.Insns[f.Start].Symbol(), f.StackDepth)
					}
					if i > 0 && f.Start <= p.Funcs[i-1].Start {
						t.Errorf("%s: functions out of order", name)
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: functions %q, want %q", name, got, want)
				}
			}
			if len(s.Maps) != len(c.maps) {
				t.Errorf("maps %s", mapNames(s))
			}
			for name, typ := range c.maps {
				if m := s.Map(name); m == nil || m.Type != typ {
					t.Errorf("map %s: %+v, want type %s", name, m, typ)
				}
			}
		})
	}

	s, err := LoadELF("testdata/elf/globals.o")
	if err != nil {
		t.Fatal(err)
	}
	// Global data keeps its initial values: counter = 3, limit = 7.
	if d := s.Map(".data"); !bytes.Equal(d.Data, []byte{3, 0, 0, 0, 0, 0, 0, 0}) || d.ValueSize != 8 || d.MaxEntries != 1 {
		t.Errorf(".data = %+v", *d)
	}
	if d := s.Map(".rodata"); !bytes.Equal(d.Data, []byte{7, 0, 0, 0}) {
		t.Errorf(".rodata = %+v", *d)
	}
	if d := s.Map(".bss"); !bytes.Equal(d.Data, []byte{0, 0, 0, 0}) {
		t.Errorf(".bss = %+v", *d)
	}
	// Map value loads carry the section name and the offset.
	var refs []string
	for _, ins := range s.Program("prog_xdp").Insns {
		if ins.IsLoadFromMap() {
			refs = append(refs, fmt.Sprintf("%s+%d", ins.Reference(), uint64(ins.Constant)>>32))
		}
	}
	if want := []string{".data+0", ".bss+0", ".bss+0", ".rodata+0"}; !reflect.DeepEqual(refs, want) {
		t.Errorf("map value loads %v, want %v", refs, want)
	}
	// Line info: the leaf function's lines come from its source.
	leaf := s.Program("prog_xdp").Funcs[3]
	if len(leaf.Lines) == 0 {
		t.Fatal("no line info for leaf")
	}
	li := leaf.Lines[0]
	if li.Insn != leaf.Start || li.File != "./globals.c" || li.Line != 18 || !strings.Contains(li.Text, "return x * *p + limit;") {
		t.Errorf("leaf line info %+v", li)
	}

	tc, err := LoadELF("testdata/elf/tailcall.o")
	if err != nil {
		t.Fatal(err)
	}
	if jt := tc.Map("jmp_table"); !reflect.DeepEqual(jt.Progs, map[uint32]string{0: "classifier_0"}) || jt.MaxEntries != 1 {
		t.Errorf("jmp_table = %+v", *jt)
	}
	// Programs come in the object's order.
	if progNames(tc) != "classifier_0, entry" {
		t.Errorf("program order %s", progNames(tc))
	}
}

func TestLoadELFErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.o")
	if err := os.WriteFile(bad, []byte("\x7fELF garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadELF(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+": ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("LoadELF(garbage) = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	scn := filepath.Join(dir, "mine.scn")
	txt := filepath.Join(dir, "mine.txt")
	badScn := filepath.Join(dir, "bad.scn")
	for f, src := range map[string]string{scn: minimal, txt: minimal, badScn: minimal + "bogus = 1\n"} {
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		target  string
		name    string // Set.Name on success
		err     string // error text on failure
		capture bool
	}{
		{target: Default, name: Default},
		{target: scn, name: "m"},
		{target: txt, name: "m"},
		{target: "testdata/elf/tailcall.o", name: "tailcall"},
		{target: badScn, err: badScn + `:9: unknown key "bogus" in [[program]] #1`},
		{target: dir, capture: true, err: dir + ": a directory (kernel capture)"},
		{target: "no-such-thing", err: "no-such-thing: not a built-in scenario (see `jitscope list`), and no such file"},
		{target: filepath.Join(dir, "missing.scn"), err: filepath.Join(dir, "missing.scn") + ": not a built-in scenario (see `jitscope list`), and no such file"},
	}
	for _, c := range cases {
		s, err := Load(c.target)
		if c.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.err) {
				t.Errorf("Load(%s) = %v, want error %q", c.target, err, c.err)
			}
			var nc *NeedCapture
			if got := errors.As(err, &nc); got != c.capture || (got && nc.Dir != c.target) {
				t.Errorf("Load(%s): NeedCapture %v (%v)", c.target, got, nc)
			}
			continue
		}
		if err != nil {
			t.Errorf("Load(%s): %v", c.target, err)
			continue
		}
		if s.Name != c.name {
			t.Errorf("Load(%s).Name = %q, want %q", c.target, s.Name, c.name)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range builtinNames() {
		src, err := Show(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "[arch.arm64]\nfuncs = { p = \"0x1\" }\nmaps = {}\n"))
	f.Add([]byte("[[map]]\nname = \".bss\"\ndata = [1,2]\n[[program]]\nname=\"x\"\ntype=\"xdp\"\nasm='''\nr1 = map[.bss] + 1\nexit\n'''\n"))
	f.Add([]byte("a = { b = [ { c = \"\"\"\nx\"\"\" } ] }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.scn", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if len(s.Programs) == 0 {
			t.Error("a set without programs parsed")
		}
		locate(string(data))
	})
}

// Windows line endings change nothing, including the lines errors name.
func TestCRLF(t *testing.T) {
	src, err := Show(Default)
	if err != nil {
		t.Fatal(err)
	}
	crlf := strings.ReplaceAll(string(src), "\n", "\r\n")
	s, err := Parse("c.scn", []byte(crlf))
	if err != nil {
		t.Fatal(err)
	}
	sameInsns(t, "entry", s.Programs[0].Insns, seed000["entry"])
	line := 1 + strings.Count(string(src[:strings.Index(string(src), "map[jmp_table]")]), "\n")
	bad := strings.Replace(crlf, "map[jmp_table]", "map[jmp_tabel]", 1)
	_, err = Parse("c.scn", []byte(bad))
	want := fmt.Sprintf(`c.scn:%d: program entry: unknown map "jmp_tabel" (maps: jmp_table, .bss)`, line)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
