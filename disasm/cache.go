// SPDX-License-Identifier: GPL-2.0-only

package disasm

import "github.com/jitscope/jitscope/jit"

// decodeCache remembers what decoding gave for instructions whose text does
// not depend on where they are (no PC-relative operand): JITed code repeats
// the same few thousand instructions, and printing one in objdump's syntax
// costs far more than looking it up.
type decodeCache struct {
	a64w map[uint32]A64Inst
	// x86 instructions by their bytes; x86lens has, per first two bytes
	// (one at the end of the code), the lengths of the instructions
	// cached that start with them, a bit per length.
	x86i    map[x86Bytes]X86Inst
	x86lens map[uint32]uint16
}

// x86Bytes is an instruction's bytes (at most 15) as a map key.
type x86Bytes struct {
	lo, hi uint64
	n      uint8
}

func newDecodeCache() *decodeCache {
	return &decodeCache{a64w: map[uint32]A64Inst{}, x86i: map[x86Bytes]X86Inst{}, x86lens: map[uint32]uint16{}}
}

// a64 is DecodeA64(w, pc).
func (c *decodeCache) a64(w uint32, pc uint64) (A64Inst, error) {
	if in, ok := c.a64w[w]; ok {
		in.PC = pc
		return in, nil
	}
	in, err := DecodeA64(w, pc)
	if err == nil && !in.HasTarget {
		c.a64w[w] = in
	}
	return in, err
}

func cachePrefix(code []byte) uint32 {
	switch len(code) {
	case 0:
		return 0
	case 1:
		return 1<<16 | uint32(code[0])
	}
	return 2<<16 | uint32(code[0]) | uint32(code[1])<<8
}

func x86Key(code []byte) x86Bytes {
	k := x86Bytes{n: uint8(len(code))}
	for i, b := range code {
		if i < 8 {
			k.lo |= uint64(b) << (8 * i)
		} else {
			k.hi |= uint64(b) << (8 * (i - 8))
		}
	}
	return k
}

// x86 is DecodeX86Opts(code, pc, opts); opts must be the same on every
// call. An instruction is determined by its own bytes, so any cached
// instruction whose bytes start code is the one there.
func (c *decodeCache) x86(code []byte, pc uint64, opts X86Opts) (X86Inst, error) {
	p := cachePrefix(code)
	if lens := c.x86lens[p]; lens != 0 {
		for n := 1; n <= 15 && n <= len(code); n++ {
			if lens&(1<<n) == 0 {
				continue
			}
			if in, ok := c.x86i[x86Key(code[:n])]; ok {
				in.PC = pc
				in.Bytes = code[:n:n]
				return in, nil
			}
		}
	}
	in, err := DecodeX86Opts(code, pc, opts)
	if err == nil && !in.HasTarget && !in.RIPRelative && in.Len <= 15 {
		// (A one-byte instruction is filed under the byte that follows
		// it too.)
		c.x86i[x86Key(code[:in.Len])] = in
		c.x86lens[p] |= 1 << in.Len
	}
	return in, err
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
