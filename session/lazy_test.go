// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"reflect"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/scenarios"
)

// TestIndexedListingMatches lays every built-in scenario and a generated
// program out twice, listed whole and indexed (IndexAbove 1: lines
// decoded when asked for, texts printed by Fill), in every syntax, and
// holds the indexed session to the other: rows, BPF ids, arrows, groups,
// lanes, every row's line, BPF instruction, target and address, search
// results, and the text width once filled.
func TestIndexedListingMatches(t *testing.T) {
	targets := map[string]*Target{}
	for _, info := range scenarios.Builtins() {
		tg, err := LoadTarget(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		targets[info.Name] = tg
	}
	set, err := gen.Set(gen.Options{Insns: 3000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	targets["gen"] = &Target{Name: set.Name, Set: set}
	rows := 0
	defer func() { t.Logf("%d targets, %d rows", len(targets), rows) }()
	for name, tg := range targets {
		for _, syn := range []Syntax{SyntaxDefault, SyntaxIntel} {
			whole := FromTarget(tg, Options{Syntax: syn, IndexAbove: 1 << 40})
			ix := FromTarget(tg, Options{Syntax: syn, IndexAbove: 1})
			for li, a := range whole.Listings {
				b := ix.Listings[li]
				where := name + "/" + string(a.Arch) + "/" + string(syn)
				if (a.Err == nil) != (b.Err == nil) {
					t.Fatalf("%s: errors %v, %v", where, a.Err, b.Err)
				}
				if a.Err != nil {
					continue
				}
				if !b.Funcs[0].Indexed() || a.Funcs[0].Indexed() {
					t.Fatalf("%s: not the two forms", where)
				}
				if _, ok := b.TextWidth(); ok {
					t.Fatalf("%s: indexed listing filled before asked", where)
				}
				if !reflect.DeepEqual(a.Rows, b.Rows) || !reflect.DeepEqual(a.Groups, b.Groups) || a.Lanes != b.Lanes || !reflect.DeepEqual(a.FuncRow, b.FuncRow) {
					t.Fatalf("%s: layout differs", where)
				}
				for r := range a.Rows {
					la, lb := a.Line(r), b.Line(r)
					if (la == nil) != (lb == nil) || la != nil && !reflect.DeepEqual(*la, *lb) {
						t.Fatalf("%s: row %d: %+v, indexed %+v", where, r, la, lb)
					}
					ia, oka := a.BPFInsn(r)
					ib, okb := b.BPFInsn(r)
					if oka != okb || ia.Index != ib.Index || a.Target(r) != b.Target(r) {
						t.Fatalf("%s: row %d: BPF or target differs", where, r)
					}
					if la != nil && (a.RowOfAddr(la.Addr) != b.RowOfAddr(la.Addr) || a.RowOfAddr(la.Addr+1) != b.RowOfAddr(la.Addr+1)) {
						t.Fatalf("%s: row %d: RowOfAddr differs", where, r)
					}
				}
				for _, q := range []string{"mov", "ret", "call", "Tail", "nop", "0x1", "no such text"} {
					for _, from := range []int{0, len(a.Rows) / 2} {
						for _, dir := range []int{1, -1} {
							if ra, rb := a.Search(q, from, dir), b.Search(q, from, dir); ra != rb {
								t.Fatalf("%s: search %q from %d: %d, indexed %d", where, q, from, ra, rb)
							}
						}
					}
				}
				rows += len(a.Rows)
				// The runs (machine.NewRunnerListed reads the listing's
				// regions and tail-call branches) step alike.
				ra, rb := whole.Run(a), ix.Run(b)
				if ra.Ran != rb.Ran || ra.Retval != rb.Retval || ra.Len() != rb.Len() || ra.TailCalls != rb.TailCalls ||
					(ra.Err == nil) != (rb.Err == nil) || !reflect.DeepEqual(ra.Events(), rb.Events()) {
					t.Fatalf("%s: runs differ: %v %d %v, indexed %v %d %v", where, ra.Ran, ra.Len(), ra.Err, rb.Ran, rb.Len(), rb.Err)
				}
				for i := 0; i <= ra.Len(); i++ {
					if !reflect.DeepEqual(ra.Step(i), rb.Step(i)) || ra.ID(i) != rb.ID(i) {
						t.Fatalf("%s: step %d differs:\n%+v\n%+v", where, i, ra.Step(i), rb.Step(i))
					}
				}
				wa, oka := a.TextWidth()
				wb, okb := b.TextWidth()
				if !oka || !okb || wa != wb {
					t.Fatalf("%s: text width %d %v, indexed %d %v", where, wa, oka, wb, okb)
				}
			}
		}
	}
}

// TestIndexedConcurrent reads an indexed listing (lines, texts, single
// matches) while its texts are printed and its run is computed in the
// background, as the viewer does; run it with -race.
func TestIndexedConcurrent(t *testing.T) {
	set, err := gen.Set(gen.Options{Insns: 20_000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	tg := &Target{Name: set.Name, Set: set}
	whole := FromTarget(tg, Options{IndexAbove: 1 << 40})
	ix := FromTarget(tg, Options{IndexAbove: 1})
	for i, l := range ix.Listings {
		if l.Err != nil || !l.Indexed() {
			t.Fatalf("%s: %v", l.Arch, l.Err)
		}
		done := make(chan *Run)
		go func() { done <- ix.Run(l) }()
		filled := l.Filling()
		for r := 0; r < len(l.Rows); r += 7 {
			if ln := l.Line(r); ln != nil && ln.Text != l.Funcs[l.Rows[r].Func].Text(int(l.Rows[r].Line)) {
				t.Fatalf("%s row %d: %q", l.Arch, r, ln.Text)
			}
			l.Matches(r, "mov")
		}
		<-filled
		run := <-done
		if want := whole.Run(whole.Listings[i]); run.Len() != want.Len() || run.Retval != want.Retval {
			t.Fatalf("%s: run of %d steps, listed whole %d", l.Arch, run.Len(), want.Len())
		}
		if a, b := whole.Listings[i].Search("call", 0, 1), l.Search("call", 0, 1); a != b {
			t.Fatalf("%s: search %d, listed whole %d", l.Arch, b, a)
		}
	}
}
