// SPDX-License-Identifier: GPL-2.0-only

package x86

import "sync"

// scratch holds the arrays a function's compile needs only while it runs
// (per slot: the instruction index, class, addrs[], the first pass's ends
// and jumps; the items; the first pass's code), kept for the next compile.
// At a million instructions they come to about 35 MB, and making them anew
// every time costs their clearing, the page faults of fresh memory and the
// collections that much allocation brings.
type scratch struct {
	slots, memoEnd, lastItem, ends, endsPrev []int32
	cls                                      []uint8
	addrs                                    []int
	jumps                                    []jumpInfo
	items                                    []item
	code                                     []byte
}

// The arrays are reused as slices.Grow(s[:0], n)[:n]: their own memory
// when large enough, its contents as they were.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// takeScratch gives c the scratch arrays of a pooled set.
func (c *ctx) takeScratch() {
	c.sc = scratchPool.Get().(*scratch)
}

// releaseScratch returns the arrays for the next compile. The first pass's
// code goes back only when it is not the image (without memo, the passes
// write the image into it).
func (c *ctx) releaseScratch() {
	sc := c.sc
	sc.slots, sc.memoEnd, sc.lastItem, sc.ends, sc.endsPrev = c.slots, c.memoEnd, c.lastItem, c.ends, c.endsPrev
	sc.cls, sc.addrs, sc.jumps, sc.items = c.cls, c.addrs, c.jumps, c.items
	if c.memo != nil {
		sc.code = c.memo[:0]
	}
	c.slots, c.memoEnd, c.lastItem, c.ends, c.endsPrev = nil, nil, nil, nil, nil
	c.cls, c.addrs, c.jumps, c.items, c.memo, c.sc = nil, nil, nil, nil, nil, nil
	scratchPool.Put(sc)
}
