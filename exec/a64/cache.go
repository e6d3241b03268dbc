package a64

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jitscope/jitscope/exec/mem"
)

// The decode cache: one codePage of decoded instructions per 4 KiB page of
// code that has been executed.
const (
	pageShift = 12
	pageMask  = 1<<pageShift - 1
)

type codePage struct {
	ins [1 << (pageShift - 2)]dec
}

// FlushCode drops every cached decoded instruction.
func (c *CPU) FlushCode() {
	c.pages = map[uint64]*codePage{}
	c.lastPN, c.lastPage = ^uint64(0), nil
	c.codeLo, c.codeHi = ^uint64(0), 0
}

// InvalidateCode drops the cached decoding of every instruction that
// overlaps [addr, addr+n). The runtime calls it after writing code behind
// the CPU's back (mem.WriteBytes: loading images, text_poke); the CPU's own
// stores invalidate by themselves.
func (c *CPU) InvalidateCode(addr, n uint64) {
	if n == 0 || len(c.pages) == 0 {
		return
	}
	last := addr + (n - 1) // inclusive
	if last < addr {
		last = ^uint64(0)
	}
	invalidate := func(pn uint64, pg *codePage) {
		start := pn << pageShift
		lo, hi := uint64(0), uint64(pageMask)
		if addr > start {
			lo = addr - start
		}
		if last < start+pageMask {
			hi = last - start
		}
		for i := lo >> 2; i <= hi>>2; i++ {
			pg.ins[i].valid = false
		}
	}
	if (last>>pageShift)-(addr>>pageShift) >= uint64(len(c.pages)) {
		for pn, pg := range c.pages { // a range wider than the cache
			if pn >= addr>>pageShift && pn <= last>>pageShift {
				invalidate(pn, pg)
			}
		}
		return
	}
	for pn := addr >> pageShift; pn <= last>>pageShift; pn++ {
		if pg := c.pages[pn]; pg != nil {
			invalidate(pn, pg)
		}
	}
}

// noteWrite invalidates cached code a write may have changed.
func (c *CPU) noteWrite(addr, n uint64) {
	if n > 0 && addr <= c.codeHi && addr+(n-1) >= c.codeLo {
		c.InvalidateCode(addr, n)
	}
}

func (c *CPU) fetchSlow(m *mem.Memory, pc uint64) (*dec, error) {
	if m == nil {
		return nil, &Fault{PC: pc, NoWord: true, Err: errors.New("no memory")}
	}
	if c.mem != m || c.pages == nil {
		c.FlushCode()
		c.mem = m
	}
	if pc&3 != 0 {
		return nil, &Fault{PC: pc, NoWord: true, Err: fmt.Errorf("%w: pc is not a multiple of 4", ErrAlignment)}
	}
	b, err := m.Fetch(pc, 4)
	if err != nil {
		return nil, &Fault{PC: pc, NoWord: true, Err: err}
	}
	pn := pc >> pageShift
	pg := c.pages[pn]
	if pg == nil {
		pg = new(codePage)
		c.pages[pn] = pg
		c.codeLo = min(c.codeLo, pn<<pageShift)
		c.codeHi = max(c.codeHi, pn<<pageShift+pageMask) // inclusive end, never wraps
	}
	c.lastPN, c.lastPage = pn, pg
	d := &pg.ins[pc&pageMask>>2]
	*d, _ = decode(binary.LittleEndian.Uint32(b), pc)
	d.valid = true
	return d, nil
}

// Implemented returns nil when Step can execute word (at address pc), or
// the error a Step would fault with (wrapping ErrUnimplemented or
// ErrUnpredictable).
func Implemented(word uint32, pc uint64) error {
	_, err := decode(word, pc)
	return err
}
