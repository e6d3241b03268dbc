// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// TestEveryScenarioHasATour: every built-in scenario carries a one-line
// description and a guided tour, and every stop of every tour resolves on
// the architecture and profile it names: its cursor is the start of an
// instruction of the listing compiled as the stop says, its step a
// position of the run made as the stop says (entry, packet, slots), at
// the event it names.
func TestEveryScenarioHasATour(t *testing.T) {
	stops := 0
	for _, b := range scenarios.Builtins() {
		t.Run(b.Name, func(t *testing.T) {
			if strings.TrimSpace(b.Description) == "" || strings.Contains(b.Description, "\n") {
				t.Errorf("one-line description %q", b.Description)
			}
			tour, err := ResolveTour(b.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(tour.Stops) < 3 {
				t.Fatalf("%d tour stops, want a tour of at least 3", len(tour.Stops))
			}
			for _, st := range tour.Stops {
				stops++
				if st.Err != nil {
					t.Errorf("%s: stop %d does not resolve: %v", st.Where, st.N, st.Err)
					continue
				}
				if len(strings.Fields(st.Text)) < 10 || len(st.Panes) == 0 {
					t.Errorf("%s: stop %d: text %q, panes %v", st.Where, st.N, st.Text, st.Panes)
				}
				checkStop(t, b.Name, &st)
			}
		})
	}
	t.Logf("%d stops", stops)
}

// checkStop places the stop again, independently of the resolver: a
// fresh session with the stop's run configuration and profile.
func checkStop(t *testing.T, name string, st *TourStop) {
	t.Helper()
	s, err := Load(name, Options{Arches: []kernel.Arch{st.Arch}, Profiles: map[kernel.Arch]string{st.Arch: st.Profile}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRunConfig(st.Config); err != nil {
		t.Fatalf("%s: %v", st.Where, err)
	}
	l := s.Listings[0]
	if l.Err != nil || l.Profile.Name != st.Profile {
		t.Fatalf("%s: listing %v, profile %v", st.Where, l.Err, l.Profile)
	}
	r := l.RowOfAddr(st.Address)
	ln := l.Line(r)
	if ln == nil || ln.Addr != st.Address || ln.Text != st.Insn {
		t.Errorf("%s: no instruction %q at %#x (row %d: %+v)", st.Where, st.Insn, st.Address, r, ln)
	}
	if fi := l.lookupFunc(st.Function); fi < 0 || l.Funcs[fi].Image.Address+uint64(st.Offset) != st.Address {
		t.Errorf("%s: %s+%#x is not %#x", st.Where, st.Function, st.Offset, st.Address)
	}
	if !st.IsStep() {
		return
	}
	run := s.Run(l)
	if !run.Ran || st.Step > run.Len() {
		t.Fatalf("%s: step %d of a run of %d (%v)", st.Where, st.Step, run.Len(), run.Err)
	}
	if e := st.Event; e != nil {
		found := false
		for _, f := range run.Events() {
			found = found || (f.Step == st.Step && f.Kind == e.Kind && f.Detail == e.Detail)
		}
		if !found {
			t.Errorf("%s: no %s event at step %d", st.Where, e.Kind, st.Step)
		}
	}
	v := run.Step(st.Step)
	if v.PC != st.Address && !(v.Done && run.Steps[st.Step-1].PC == st.Address) {
		t.Errorf("%s: step %d is at %#x, the stop at %#x", st.Where, st.Step, v.PC, st.Address)
	}
}

// BenchmarkResolveTour: what the TUI's first t (in the background) and
// `jitscope show NAME --tour` cost for a typical tour and for seed 004's.
func BenchmarkResolveTour(b *testing.B) {
	for _, name := range []string{"packet-parser", "freplace-tailcall"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ResolveTour(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
