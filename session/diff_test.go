// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// marked lists "mark text" of the lines of function fn of side i.
func marked(d *Diff, i int, l *Listing, fn string, region jit.RegionKind) []string {
	var out []string
	for r := range l.Rows {
		ln := l.Line(r)
		if ln == nil || l.Func(r).Image.Name != fn || (region != "" && ln.Region != region) {
			continue
		}
		out = append(out, string(" ~+"[d.Marks[i][r]])+" "+ln.Text)
	}
	return out
}

// The x86 prologue of bpf2bpf-tailcall under 5.10 and 6.18: the TCC
// initialisation changed (xor %eax,%eax → xor %rax,%rax), 6.11's tcc_ptr
// prologue (cmp/ja/push/mov/jmp/push) is only on the 6.18 side, and the
// legacy spelling of 5.10 (callq, leaveq) is no change.
func TestCompareX86Versions(t *testing.T) {
	s, err := Load(scenarios.Default, Options{Arches: []kernel.Arch{kernel.X86_64}})
	if err != nil {
		t.Fatal(err)
	}
	a := s.Compile(kernel.X86_64, "v5.10", "")
	b := s.Compile(kernel.X86_64, "v6.18", "")
	d := Compare(a, b)
	if d == nil {
		t.Fatal("no diff")
	}
	entryA := marked(d, 0, a, "entry", "")
	entryB := marked(d, 1, b, "entry", "")
	for _, want := range []string{"~ xor %eax,%eax", "  push %rbp", "  callq 0xffffffffc02025d4", "  leaveq", "~ mov -0x9(%rbp),%rax"} {
		if !slices.Contains(entryA, want) {
			t.Errorf("v5.10 entry lacks %q:\n%s", want, strings.Join(entryA, "\n"))
		}
	}
	for _, want := range []string{"~ xor %rax,%rax", "+ cmp $0x21,%rax", "+ mov %rsp,%rax", "  call 0xffffffffc02025d4", "  xor %esi,%esi"} {
		if !slices.Contains(entryB, want) {
			t.Errorf("v6.18 entry lacks %q:\n%s", want, strings.Join(entryB, "\n"))
		}
	}
	// The subprogram's nop2 became a nop3.
	if got := marked(d, 1, b, "subprog_tail", "")[1]; got != "~ nopl (%rax)" {
		t.Errorf("subprog_tail's second line %q", got)
	}
	// Changed rows are listed in order, and Next walks them with wrap.
	for i := range 2 {
		c := d.Changed[i]
		if len(c) == 0 || !slices.IsSorted(c) {
			t.Fatalf("side %d changed rows %v", i, c)
		}
		if r := d.Next(i, -1, 1); r != c[0] {
			t.Errorf("Next from the top: %d, want %d", r, c[0])
		}
		if r := d.Next(i, c[len(c)-1], 1); r != c[0] {
			t.Errorf("Next after the last does not wrap: %d", r)
		}
		if r := d.Next(i, c[0], -1); r != c[len(c)-1] {
			t.Errorf("Next back from the first does not wrap: %d", r)
		}
	}
	// A listing compared with itself has no change.
	if d := Compare(b, s.Compile(kernel.X86_64, "v6.18", "")); len(d.Changed[0])+len(d.Changed[1]) != 0 {
		t.Errorf("v6.18 vs v6.18: %d/%d changed", len(d.Changed[0]), len(d.Changed[1]))
	}
	// Other architectures do not compare.
	if Compare(a, s.Compile(kernel.ARM64, "", "")) != nil {
		t.Error("x86 compared with arm64")
	}
}

func TestAlignLines(t *testing.T) {
	idx := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	str := func(m []DiffMark) string {
		var sb strings.Builder
		for _, x := range m {
			sb.WriteByte(" ~+"[x])
		}
		return sb.String()
	}
	for _, c := range []struct {
		a, b       []string
		wantA, wnB string
	}{
		{[]string{"a", "b", "c"}, []string{"a", "b", "c"}, "   ", "   "},
		{[]string{"a", "x", "c"}, []string{"a", "y", "c"}, " ~ ", " ~ "},
		{[]string{"a", "c"}, []string{"a", "b", "b2", "c"}, "  ", " ++ "},
		{[]string{"a", "x", "c"}, []string{"a", "y", "z", "c"}, " ~ ", " ~+ "},
		{[]string{"a"}, nil, "+", ""},
		{[]string{"p", "q"}, []string{"q", "p"}, "+ ", " +"},
	} {
		ma, mb := alignLines(idx(len(c.a)), idx(len(c.b)), c.a, c.b)
		if str(ma) != c.wantA || str(mb) != c.wnB {
			t.Errorf("%q vs %q: %q %q, want %q %q", c.a, c.b, str(ma), str(mb), c.wantA, c.wnB)
		}
	}
}

// NormText writes the image's own addresses as function+offset and keeps
// other numbers.
func TestNormText(t *testing.T) {
	s, err := Load(scenarios.Default, Options{Arches: []kernel.Arch{kernel.X86_64}})
	if err != nil {
		t.Fatal(err)
	}
	l := s.Listings[0]
	sub := l.Funcs[1].Image
	ln := &disasm.Line{Text: "call 0x" + strconv.FormatUint(sub.Address+4, 16)}
	if got := NormText(l, ln); got != "call <subprog_tail+0x4>" {
		t.Errorf("NormText: %q", got)
	}
	ln = &disasm.Line{Text: "movabs $0xffff888100100000,%r13"}
	if got := NormText(l, ln); got != ln.Text {
		t.Errorf("NormText changed a data address: %q", got)
	}
}

// tailcall.o carries BTF line info: the listing lays out a source row
// where a new source line starts, above the first machine instruction of
// its BPF instruction, and arrows and addresses still find their rows.
func TestSourceRows(t *testing.T) {
	s, err := Load("../scenarios/testdata/elf/tailcall.o", Options{Arches: []kernel.Arch{kernel.X86_64}})
	if err != nil {
		t.Fatal(err)
	}
	l := s.Listings[0]
	if l.Err != nil {
		t.Fatal(l.Err)
	}
	if l.SourceRows == 0 {
		t.Fatal("no source rows")
	}
	var texts []string
	for r := range l.Rows {
		li, ok := l.SourceLine(r)
		if !ok {
			continue
		}
		texts = append(texts, SourceText(li))
		next := l.Line(r + 1)
		if next == nil || next.BPF < 0 || l.Rows[r+1].Kind != RowInsn {
			t.Errorf("source row %d (%s) is not above an instruction", r, SourceText(li))
		}
	}
	if !slices.Contains(texts, "./tailcall.c:37: volatile char arr[1] = {};") {
		t.Errorf("source rows: %q", texts)
	}
	// Line 39 spans two BPF instructions: one row for it.
	n := 0
	for _, s := range texts {
		if strings.HasPrefix(s, "./tailcall.c:39:") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("line 39 shown %d times", n)
	}
	for fi, f := range l.Funcs {
		for li := range f.Lines {
			r := l.RowOfLine(fi, li)
			if l.Line(r) != &f.Lines[li] || l.RowOfAddr(f.Lines[li].Addr) != r {
				t.Fatalf("%s line %d: row %d does not map back", f.Image.Name, li, r)
			}
		}
	}
	for _, g := range l.Groups {
		if l.Line(g.Target) == nil {
			t.Errorf("arrow to row %d, not an instruction", g.Target)
		}
	}
	if r := l.Search("arr[1]", 0, 1); r < 0 || l.Rows[r].Kind != RowSource {
		t.Errorf("search for source text found row %d", r)
	}
	// Without source rows, the same listing has exactly those rows fewer.
	s.SetShowSource(false)
	n2 := s.Relayout(l)
	if len(n2.Rows) != len(l.Rows)-l.SourceRows || n2.SourceRows != 0 {
		t.Errorf("hidden: %d rows, shown %d with %d source rows", len(n2.Rows), len(l.Rows), l.SourceRows)
	}
}
