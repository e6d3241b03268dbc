// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"testing"
	"unsafe"
)

// TestLineSize holds a Line to its size on 64-bit machines: the viewer
// keeps 2.5 million of them for a million-instruction program, and a
// field added in the wrong place (a one-byte field between eight-byte
// ones) costs 8 bytes a line.
func TestLineSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are checked on 64-bit machines")
	}
	if got := unsafe.Sizeof(Line{}); got != 136 {
		t.Errorf("disasm.Line is %d bytes, want 136", got)
	}
}
