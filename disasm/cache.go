// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/jit"
)

// decodeCache remembers what decoding gave, per encoding: JITed code repeats
// the same instructions over and over, and printing one in objdump's syntax
// costs far more than looking it up. Instructions whose text does not
// depend on their address are kept as they are; direct branches and calls
// too, their text ending with the target, which is rewritten for the new
// address (the same encoding branches by the same distance). Other
// PC-relative instructions (adr, literal loads, RIP-relative operands) are
// decoded every time.
type decodeCache struct {
	// a64 instructions by word, direct-mapped: a collision replaces.
	a64w    []a64Entry
	a64bits uint32
	// x86 instructions by their bytes; x86lens has, per first two bytes
	// (one at the end of the code), the lengths of the instructions
	// cached that start with them, a bit per length.
	x86i    x86Table
	x86lens []uint16 // by cachePrefix
	x86last []uint8  // by cachePrefix: the length last found
	// texts keeps the texts printed for one line (branches, constants);
	// scratch is where they are printed.
	texts   textArena
	scratch []byte
}

// x86Bytes is an instruction's bytes (at most 15) as a map key.
type x86Bytes struct {
	lo, hi uint64
	n      uint8
}

type a64Entry struct {
	in    A64Inst
	valid bool
}

// a64CacheBits bounds the arm64 cache: at most 128k entries.
const a64CacheBits = 17

func (c *decodeCache) a64Slot(w uint32) uint32 { return (w * 0x9e3779b1) >> (32 - c.a64bits) }

// newDecodeCache returns a cache for listing about n bytes of code.
func newDecodeCache(n int) *decodeCache {
	bits := uint32(8)
	for bits < a64CacheBits && 1<<bits < n/16 { // about one entry per 4 instructions
		bits++
	}
	return &decodeCache{a64bits: bits}
}

// noDecodeCache turns the cache off (the tests compare with and without).
var noDecodeCache = false

// a64 is DecodeA64(w, pc). B, BL, B.cond and the move wide instructions
// are printed directly (appendA64Branch, appendA64MoveWide) and not kept:
// most of their encodings occur once (a distance, a constant), and the
// table is left to the rest, whose encodings repeat.
func (c *decodeCache) a64(w uint32, pc uint64) (A64Inst, error) {
	if noDecodeCache {
		return DecodeA64(w, pc)
	}
	var ok bool
	in := A64Inst{Word: w, PC: pc}
	if c.scratch, in.Op, in.Kind, in.Target, ok = appendA64Branch(c.scratch[:0], w, pc); ok {
		in.HasTarget = true
		in.Text = c.texts.str(c.scratch)
		return in, nil // as DecodeA64 (TestA64Branch)
	}
	if c.scratch, in.Op, ok = appendA64MoveWide(c.scratch[:0], w); ok {
		in.Text = c.texts.str(c.scratch)
		return in, nil // as DecodeA64 (TestA64MoveWide)
	}
	if c.a64w == nil {
		c.a64w = make([]a64Entry, 1<<c.a64bits)
	}
	e := &c.a64w[c.a64Slot(w)]
	if in := e.in; e.valid && in.Word == w {
		if in.HasTarget {
			// A branch: the same words branch by the same distance.
			in.Target, _ = a64Target(w, pc)
			c.scratch = append(append(c.scratch[:0], in.Text[:len(in.Text)-len(hexAddr(in.PC))]...), "0x"...)
			c.scratch = strconv.AppendUint(c.scratch, in.Target, 16)
			in.Text = c.texts.str(c.scratch)
		}
		in.PC = pc
		return in, nil
	}
	in, err := DecodeA64(w, pc)
	if err != nil {
		return in, err
	}
	switch {
	case !in.HasTarget:
		*e = a64Entry{in, true}
	case (in.Kind == Jump || in.Kind == CondJump || in.Kind == Call) && strings.HasSuffix(in.Text, hexAddr(in.Target)):
		// Kept with the text's address replaced by the target's when
		// found again (hexAddr(in.PC) is the length to cut).
		k := in
		k.PC = in.Target
		*e = a64Entry{k, true}
	}
	return in, nil
}

// hexAddr is how both printers write an address: "%#x".
func hexAddr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

func cachePrefix(code []byte) uint32 {
	switch len(code) {
	case 0:
		return 0
	case 1:
		return 1<<16 | uint32(code[0])
	}
	return 2<<16 | uint32(code[0]) | uint32(code[1])<<8
}

// x86Key is the key of the n-byte instruction code starts with (n <= 15).
func x86Key(code []byte, n int) x86Bytes {
	k := x86Bytes{n: uint8(n)}
	if len(code) >= 16 {
		lo, hi := binary.LittleEndian.Uint64(code), binary.LittleEndian.Uint64(code[8:])
		if n < 8 {
			return x86Bytes{lo: lo & (1<<(8*n) - 1), n: uint8(n)}
		}
		k.lo, k.hi = lo, hi&(1<<(8*(n-8))-1)
		return k
	}
	for i, b := range code[:n] {
		if i < 8 {
			k.lo |= uint64(b) << (8 * i)
		} else {
			k.hi |= uint64(b) << (8 * (i - 8))
		}
	}
	return k
}

// x86Table maps instruction bytes to what decoding them gave: open
// addressing with linear probing, at most half full (a Go map with a
// 24-byte key cost more than the decoding it saved on a 1M listing).
type x86Table struct {
	keys []x86Bytes // n == 0: empty
	vals []int32    // index into insts
	// insts in blocks of x86TableBlock, so that growing copies none
	insts [][]X86Inst
	n     int
	shift uint
}

const x86TableBlock = 4096

func (t *x86Table) inst(i int32) *X86Inst { return &t.insts[i/x86TableBlock][i%x86TableBlock] }

func (k x86Bytes) hash() uint64 {
	h := k.lo*0x9e3779b97f4a7c15 ^ k.hi*0xc2b2ae3d27d4eb4f ^ uint64(k.n)
	return h ^ h>>29
}

func (t *x86Table) get(k x86Bytes) (*X86Inst, bool) {
	if len(t.keys) == 0 {
		return nil, false
	}
	mask := uint64(len(t.keys) - 1)
	for i := (k.hash() * 0x9e3779b97f4a7c15) >> t.shift; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.inst(t.vals[i]), true
		case x86Bytes{}:
			return nil, false
		}
	}
}

func (t *x86Table) put(k x86Bytes, in X86Inst) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := uint64(len(t.keys) - 1)
	for i := (k.hash() * 0x9e3779b97f4a7c15) >> t.shift; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			*t.inst(t.vals[i]) = in
			return
		case x86Bytes{}:
			if t.n%x86TableBlock == 0 {
				t.insts = append(t.insts, make([]X86Inst, x86TableBlock))
			}
			t.keys[i], t.vals[i] = k, int32(t.n)
			*t.inst(int32(t.n)) = in
			t.n++
			return
		}
	}
}

func (t *x86Table) grow() {
	bits := uint(10)
	for 1<<bits < 4*(t.n+1) {
		bits++
	}
	old, oldVals := t.keys, t.vals
	t.keys, t.vals, t.shift = make([]x86Bytes, 1<<bits), make([]int32, 1<<bits), 64-bits
	mask := uint64(len(t.keys) - 1)
	for j, k := range old {
		if k.n == 0 {
			continue
		}
		i := (k.hash() * 0x9e3779b97f4a7c15) >> t.shift
		for t.keys[i].n != 0 {
			i = (i + 1) & mask
		}
		t.keys[i], t.vals[i] = k, oldVals[j]
	}
}

// x86 is decodeX86(code, pc, opts, want); opts and want must be the same
// on every call. An instruction is determined by its own bytes, so any
// cached instruction whose bytes start code is the one there.
func (c *decodeCache) x86(code []byte, pc uint64, opts X86Opts, want x86Syntax) (X86Inst, error) {
	if noDecodeCache {
		return decodeX86(code, pc, opts, want)
	}
	if c.x86lens == nil {
		c.x86lens = make([]uint16, 3<<16)
		c.x86last = make([]uint8, 3<<16)
	}
	p := cachePrefix(code)
	if lens := c.x86lens[p]; lens != 0 {
		// The length found last for these first bytes first: most
		// first bytes have one length that is by far the most common.
		last := int(c.x86last[p])
		for i := 0; i <= 15; i++ {
			n := i
			switch {
			case i == 0:
				n = last
			case i == last:
				continue
			}
			if n > len(code) || lens&(1<<n) == 0 {
				continue
			}
			if cached, ok := c.x86i.get(x86Key(code, n)); ok {
				c.x86last[p] = uint8(n)
				in := *cached
				if in.HasTarget {
					// A branch: the same bytes branch by the same
					// distance, and the texts end with the target.
					old, t := len(hexAddr(in.Target)), in.Target-in.PC+pc
					in.Text = c.retarget(in.Text, old, t)
					in.Intel = c.retarget(in.Intel, old, t)
					in.Legacy = c.retarget(in.Legacy, old, t)
					in.Target = t
				}
				in.PC = pc
				in.Bytes = code[:n:n]
				return in, nil
			}
		}
	}
	in, err := decodeX86(code, pc, opts, want)
	branch := in.HasTarget && !in.RIPRelative && (in.Kind == Jump || in.Kind == CondJump || in.Kind == Call)
	if branch {
		t := hexAddr(in.Target)
		ends := func(s string) bool { return s == "" || strings.HasSuffix(s, t) }
		// (want 0: shapes only, no texts to rewrite.)
		branch = (want == 0 || in.Text+in.Intel+in.Legacy != "") && ends(in.Text) && ends(in.Intel) && ends(in.Legacy)
	}
	if err == nil && (!in.HasTarget && !in.RIPRelative || branch) && in.Len <= 15 {
		// (A one-byte instruction is filed under the byte that follows
		// it too.)
		c.x86i.put(x86Key(code, in.Len), in)
		c.x86lens[p] |= 1 << in.Len
	}
	return in, err
}

// retarget replaces the address that text ends with, old bytes long, by
// "0x" and t in hex; texts not rendered (empty) stay empty.
func (c *decodeCache) retarget(text string, old int, t uint64) string {
	if text == "" {
		return ""
	}
	c.scratch = append(append(c.scratch[:0], text[:len(text)-old]...), "0x"...)
	c.scratch = strconv.AppendUint(c.scratch, t, 16)
	return c.texts.str(c.scratch)
}

// bpfSweep is FuncImage.BPFAt for offsets that only grow.
type bpfSweep struct {
	fi *jit.FuncImage
	j  int
}

func (s *bpfSweep) at(off int) int {
	fi := s.fi
	n := len(fi.Insns)
	if n == 0 || off < fi.BPFOffsets[0] || off >= fi.BPFOffsets[n] {
		return -1
	}
	for s.j+1 < n && fi.BPFOffsets[s.j+1] <= off {
		s.j++
	}
	if fi.BPFOffsets[s.j] > off {
		return fi.BPFAt(off) // not monotonic after all
	}
	return s.j
}
