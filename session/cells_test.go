// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"slices"
	"testing"

	"github.com/jitscope/jitscope/gen"
)

// TestCellsMatchTable holds Cells (a lookup per lane) to the rows x lanes
// table it replaced, on every row of generated programs for both
// architectures: the same group in each lane, the same end flags.
func TestCellsMatchTable(t *testing.T) {
	for _, n := range []int{2_000, 30_000} {
		set, err := gen.Set(gen.Options{Insns: n, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		s := FromTarget(&Target{Name: set.Name, Set: set}, Options{})
		for _, l := range s.Listings {
			if l.Err != nil {
				t.Fatal(l.Err)
			}
			l.Cells(0)
			if l.laneGroups == nil {
				t.Fatalf("%s n=%d: lanes overlap, the table is in use", l.Arch, n)
			}
			table := &Listing{Rows: l.Rows, Groups: l.Groups, Lanes: l.Lanes}
			table.buildCellTable(l.DrawnLanes())
			table.cellLanes = l.DrawnLanes()
			sources, targets := 0, 0
			for r := range l.Rows {
				got := l.Cells(r)
				want := table.cells[r*table.cellLanes : (r+1)*table.cellLanes]
				if !slices.Equal(got, want) {
					t.Fatalf("%s n=%d: Cells(%d) = %v, want %v", l.Arch, n, r, got, want)
				}
				if app := l.AppendCells([]uint32{7}, r); app[0] != 7 || !slices.Equal(app[1:], want) {
					t.Fatalf("%s n=%d: AppendCells([7], %d) = %v, want [7] + %v", l.Arch, n, r, app, want)
				}
				for _, v := range got {
					if v&CellSource != 0 {
						sources++
					}
					if v&CellTarget != 0 {
						targets++
					}
				}
			}
			if sources == 0 || targets == 0 || l.DrawnLanes() < 2 {
				t.Errorf("%s n=%d: %d lanes, %d sources, %d targets: nothing checked", l.Arch, n, l.DrawnLanes(), sources, targets)
			}
		}
	}
}

// targetScan is Listing.Target as it was: a scan of every group.
func targetScan(l *Listing, r int) int {
	for gi := range l.Groups {
		g := &l.Groups[gi]
		if g.Target == r || r < g.Lo || r > g.Hi {
			continue
		}
		for _, s := range g.Sources {
			if s == r {
				return g.Target
			}
		}
	}
	if ln := l.Line(r); ln != nil && ln.HasTarget {
		return l.RowOfAddr(ln.Target)
	}
	return -1
}

// TestTargetMatchesScan holds Target (an index of source rows) to the scan
// of every group it replaced, on every row of generated programs.
func TestTargetMatchesScan(t *testing.T) {
	set, err := gen.Set(gen.Options{Insns: 20_000, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	s := FromTarget(&Target{Name: set.Name, Set: set}, Options{})
	for _, l := range s.Listings {
		if l.Err != nil {
			t.Fatal(l.Err)
		}
		found := 0
		for r := range l.Rows {
			got, want := l.Target(r), targetScan(l, r)
			if got != want {
				t.Fatalf("%s: Target(%d) = %d, want %d", l.Arch, r, got, want)
			}
			if got >= 0 {
				found++
			}
		}
		if found < 100 {
			t.Errorf("%s: %d rows with a target", l.Arch, found)
		}
	}
}
