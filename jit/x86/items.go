// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"slices"

	"github.com/jitscope/jitscope/kernel"
)

// Sizing passes over the instructions whose length can change.
//
// After the first pass, a sizing pass only has to find addrs[] for the
// next one, and most of the program is runs of instructions whose code is
// the same on every pass (planMemo): between two such runs sits a jump, a
// tail call or the epilogue. itemPass walks only those (the items, in slot
// order, packed with what sizing them needs), adding the runs between them
// as one length each: where slot j ends is the end of the last item at or
// before it plus the static bytes after that item, so one end per item
// stands for addrs[] of the whole program. The result is the same as
// doJIT's: the same lengths from the same addrs[], read before or after
// they change in the same order. Whatever the fast walk does not model
// (an error to report, a jump it cannot size) makes the pass start again
// the long way, in doJIT, from the same state.

// Kinds of item.
const (
	itemCond     = iota + 1 // jcc after a cmp or test (jumpCond)
	itemJA                  // goto, gotol (jumpJA)
	itemBack2               // goto -1 (jumpBack2)
	itemExit                // an exit after the first: jmp to cleanup_addr
	itemEpilogue            // the first exit: the epilogue, its length fixed
	itemCall                // a tail call: emitted at its position (it reads no addrs[])
	itemSlow                // anything else: the pass goes the long way
)

// item is one instruction of variable length, or one that sets something a
// later one reads (cleanup_addr).
type item struct {
	slot int32 // 1-based slot
	gap  int32 // static bytes between the previous item's end and this item
	// The target's addrs[] is ends[tItem] + tDelta (itemCond, itemJA);
	// itemEpilogue keeps its length in tDelta.
	tItem  int32
	tDelta int32
	kind   uint8
	pre    int8 // itemCond: bytes of the cmp or test
}

// buildItems lists the items after the first pass, from the first pass's
// lengths (memoEnd) and what it noted of each jump (jumps).
func (c *ctx) buildItems() {
	n := len(c.slots)
	count := 1
	for _, k := range c.cls[1 : n+1] {
		count += int(^k & clsStatic)
	}
	items := slices.Grow(c.sc.items[:0], count)[:1]
	// items[0] stands for the prologue: its end is addrs[0].
	items[0] = item{kind: itemSlow}
	// lastItem[j]: the last item at or before slot j (slot 0: the prologue).
	lastItem := slices.Grow(c.sc.lastItem[:0], n+1)[:n+1]
	lastItem[0] = 0
	c.lastItem = lastItem
	seenExit := false
	for i := 1; i <= n; i++ {
		if c.cls[i]&clsStatic != 0 {
			lastItem[i] = int32(len(items) - 1)
			continue
		}
		lastItem[i] = int32(len(items))
		prev := items[len(items)-1].slot
		it := item{slot: int32(i), gap: c.memoEnd[i-1] - c.memoEnd[prev], kind: itemSlow}
		if c.memoEnd[i-1] < 0 {
			it.gap = 0 // not reached: the slot after an ld_imm64's first half is its second
		}
		switch jd := c.jumps[i]; jd.kind {
		case jumpCond:
			it.kind, it.pre, it.tItem = itemCond, jd.pre, jd.target
		case jumpJA:
			it.kind, it.tItem = itemJA, jd.target
		case jumpBack2:
			it.kind = itemBack2
		case jumpExit:
			if seenExit {
				it.kind = itemExit
			} else {
				it.kind, it.tDelta = itemEpilogue, c.memoEnd[i]-c.memoEnd[i-1]
				seenExit = true
			}
		default:
			if in := c.slot(i - 1); in != nil && isTailCall(in) {
				it.kind = itemCall
			}
		}
		items = append(items, it)
	}
	// Targets: the last item at or before the target slot, and the static
	// bytes from its end to the target's.
	for k := range items {
		it := &items[k]
		if it.kind != itemCond && it.kind != itemJA {
			continue
		}
		t := int(it.tItem)
		if t < 0 || t > n || c.memoEnd[t] < 0 {
			it.kind = itemSlow // addrs[] of an ld_imm64's first half: the long way
			continue
		}
		ti := lastItem[t]
		it.tItem = ti
		it.tDelta = c.memoEnd[t] - c.memoEnd[items[ti].slot]
	}
	c.items = items
	c.tailGap = int(c.memoEnd[n]) - int(c.memoEnd[items[len(items)-1].slot])
	c.ends = slices.Grow(c.sc.ends[:0], len(items))[:len(items)]
	for k, it := range items {
		c.ends[k] = c.memoEnd[it.slot]
	}
	c.endsPrev = slices.Grow(c.sc.endsPrev[:0], len(items))[:len(items)]
}

// itemPass is one sizing pass (doJIT after the first, not the last) over
// the items. ok is false when the pass has to be made the long way; the
// state is then as it was before the pass.
func (c *ctx) itemPass() (proglen int, ok bool, err error) {
	cleanup := c.cleanupAddr
	copy(c.endsPrev, c.ends)
	fail := func() (int, bool, error) {
		copy(c.ends, c.endsPrev)
		c.cleanupAddr = cleanup
		return 0, false, nil
	}
	c.code = c.code[:0]
	c.skip = 0
	c.regions, c.notes, c.relocs, c.edges, c.pokes = nil, nil, nil, nil, nil
	c.entry = -1
	if err := c.prologue(); err != nil {
		return 0, false, err
	}
	pos := c.pos()
	ends, items := c.ends, c.items
	ends[0] = int32(pos)
	lim, padding := c.v.imm8Limit, c.padding
	seenExit := true
	for k := 1; k < len(items); k++ {
		it := &items[k]
		pos += int(it.gap)
		old := int(ends[k]) // addrs[i] of the previous pass
		var off, ilen int
		switch it.kind {
		case itemCond:
			off = int(ends[it.tItem]) + int(it.tDelta) - old
			pre := int(it.pre)
			switch {
			case off <= lim && off >= -128:
				ilen = pre + 2
				if padding {
					n := old - pos - pre - 2
					if n != 0 && n != 4 {
						return fail()
					}
					ilen += n
				}
			case isSimm32(int64(off)):
				ilen = pre + 6
			default:
				return fail()
			}
			pos += ilen
			ends[k] = int32(pos)
			continue
		case itemJA:
			off = int(ends[it.tItem]) + int(it.tDelta) - old
			if off == 0 {
				if padding {
					n := old - pos
					if n != 0 && n != 2 && n != 5 {
						return fail()
					}
					pos += n
				}
				ends[k] = int32(pos)
				continue
			}
		case itemBack2:
			off = -2
		case itemExit:
			off = c.cleanupAddr - old
		case itemEpilogue:
			c.cleanupAddr = pos
			pos += int(it.tDelta)
			ends[k] = int32(pos)
			continue
		case itemCall:
			c.skip = pos - len(c.code)
			in := c.slot(int(it.slot) - 1)
			if _, err := c.insn(in, int(it.slot), &seenExit); err != nil || c.err != nil {
				return fail()
			}
			if c.pos()-pos > bpfMaxInsnSize {
				return fail()
			}
			pos = c.pos()
			ends[k] = int32(pos)
			continue
		default:
			return fail()
		}
		// emit_jmp
		switch {
		case off <= lim && off >= -128:
			ilen = 2
			if padding {
				n := old - pos - 2
				if n != 0 && n != 3 {
					return fail()
				}
				ilen += n
			}
		case isSimm32(int64(off)):
			ilen = 5
		default:
			return fail()
		}
		pos += ilen
		ends[k] = int32(pos)
	}
	pos += c.tailGap
	if c.emitting {
		// do_jit's checks on the emitting pass: no instruction may end
		// past the previous pass's image (6.1+: nor anywhere else than it
		// did). Every slot ends where it did when every item does.
		if pos > c.oldproglen {
			return fail()
		}
		if c.v.labels {
			for k := range ends {
				if ends[k] != c.endsPrev[k] {
					return fail()
				}
			}
		}
	}
	return pos, true, nil
}

// itemsToAddrs writes addrs[] from the items' ends, for a pass made the
// long way.
func (c *ctx) itemsToAddrs() {
	items, ends := c.items, c.ends
	k := 0
	c.addrs[0] = int(ends[0])
	base := int(ends[0]) - int(c.memoEnd[0])
	for j := 1; j < len(c.addrs); j++ {
		if k+1 < len(items) && int(items[k+1].slot) == j {
			k++
			c.addrs[j] = int(ends[k])
			base = int(ends[k]) - int(c.memoEnd[j])
			continue
		}
		if m := c.memoEnd[j]; m >= 0 {
			c.addrs[j] = int(m) + base
		}
	}
}

// addrsToItems takes the items' ends from addrs[] after a pass made the
// long way.
func (c *ctx) addrsToItems() {
	for k, it := range c.items {
		c.ends[k] = int32(c.addrs[it.slot])
	}
}

func isTailCall(in *kernel.Insn) bool {
	return in.Kind == kernel.TailCall && in.Raw.Class() == kernel.ClassJMP && in.Raw.Op() == kernel.JmpCALL
}
