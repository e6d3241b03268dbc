// SPDX-License-Identifier: GPL-2.0-only

package kernel

import (
	"testing"
	"unsafe"
)

// TestInsnSize keeps Insn's fields packed: a loaded 1M-instruction program
// holds a million of them per architecture (104 bytes on 64-bit hosts;
// the order of the fields decides the padding).
func TestInsnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit hosts")
	}
	if got := unsafe.Sizeof(Insn{}); got > 104 {
		t.Errorf("kernel.Insn is %d bytes, want at most 104", got)
	}
	if got := unsafe.Sizeof(CompactInsn{}); got != 16 {
		t.Errorf("kernel.CompactInsn is %d bytes, want 16", got)
	}
}
