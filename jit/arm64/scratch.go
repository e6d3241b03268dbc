// SPDX-License-Identifier: GPL-2.0-only

package arm64

import "sync"

// scratch holds the arrays a function's compile needs only while it runs
// (per slot: ctx->offset[]; per instruction: its slot and whether the real
// pass copies it; the sizing pass's code), kept for the next compile. At a
// million instructions they come to about 20 MB, and making them anew
// every time costs their clearing, the page faults of fresh memory and the
// collections that much allocation brings.
type scratch struct {
	offset []int
	slotOf []int32
	plain  []bool
	code   []uint32
}

// The arrays are reused as slices.Grow(s[:0], n)[:n]: their own memory
// when large enough, its contents as they were.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}
