// SPDX-License-Identifier: GPL-2.0-only

package jit

import (
	"reflect"
	"testing"
)

// TestAppendRegion: body code continuing the body extends its region;
// anything else (another kind, a gap, body after another kind) starts one.
func TestAppendRegion(t *testing.T) {
	var rs []Region
	for _, r := range []Region{
		{0, 8, RegionPrologue},
		{8, 12, RegionBody},
		{12, 20, RegionBody}, // extends [8, 12)
		{20, 40, RegionTailCall},
		{40, 44, RegionTailCall}, // not body: kept apart
		{44, 48, RegionBody},
		{50, 52, RegionBody}, // a gap: kept apart
		{52, 60, RegionEpilogue},
	} {
		rs = AppendRegion(rs, r)
	}
	want := []Region{
		{0, 8, RegionPrologue}, {8, 20, RegionBody}, {20, 40, RegionTailCall}, {40, 44, RegionTailCall},
		{44, 48, RegionBody}, {50, 52, RegionBody}, {52, 60, RegionEpilogue},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("got %v\nwant %v", rs, want)
	}
	for off, kind := range map[int]RegionKind{9: RegionBody, 19: RegionBody, 20: RegionTailCall, 49: "", 51: RegionBody} {
		f := &FuncImage{Regions: rs}
		if got := f.RegionAt(off); got != kind {
			t.Errorf("RegionAt(%d) = %q, want %q", off, got, kind)
		}
	}
}

// TestNoteText: a note without arguments is its format as it is, with
// arguments the format applied.
func TestNoteText(t *testing.T) {
	if got := NoteText("epilogue (cleanup_addr)"); got != "epilogue (cleanup_addr)" {
		t.Errorf("no arguments: %q", got)
	}
	if got := NoteText("TCC > MAX_TAIL_CALL_CNT (%d)?", 33); got != "TCC > MAX_TAIL_CALL_CNT (33)?" {
		t.Errorf("with arguments: %q", got)
	}
}
