// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/jit"
)

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

// noDecodeCache turns the cache off (the tests compare with and without).
var noDecodeCache = false

// a64 is DecodeA64(w, pc).
func (c *decodeCache) a64(w uint32, pc uint64) (A64Inst, error) {
	if noDecodeCache {
		return DecodeA64(w, pc)
	}
	if in, ok := c.a64w[w]; ok {
		if in.HasTarget {
			// A branch: the same words branch by the same distance.
			in.Target, _ = a64Target(w, pc)
			in.Text = in.Text[:len(in.Text)-len(hexAddr(in.PC))] + hexAddr(in.Target)
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
		c.a64w[w] = in
	case (in.Kind == Jump || in.Kind == CondJump || in.Kind == Call) && strings.HasSuffix(in.Text, hexAddr(in.Target)):
		// Kept with the text's address replaced by the target's when
		// found again (hexAddr(in.PC) is the length to cut).
		k := in
		k.PC = in.Target
		c.a64w[w] = k
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
	if noDecodeCache {
		return DecodeX86Opts(code, pc, opts)
	}
	p := cachePrefix(code)
	if lens := c.x86lens[p]; lens != 0 {
		for n := 1; n <= 15 && n <= len(code); n++ {
			if lens&(1<<n) == 0 {
				continue
			}
			if in, ok := c.x86i[x86Key(code[:n])]; ok {
				if in.HasTarget {
					// A branch: the same bytes branch by the same
					// distance, and the texts end with the target.
					old, t := hexAddr(in.Target), in.Target-in.PC+pc
					now := hexAddr(t)
					in.Text = in.Text[:len(in.Text)-len(old)] + now
					in.Intel = in.Intel[:len(in.Intel)-len(old)] + now
					in.Legacy = in.Legacy[:len(in.Legacy)-len(old)] + now
					in.Target = t
				}
				in.PC = pc
				in.Bytes = code[:n:n]
				return in, nil
			}
		}
	}
	in, err := DecodeX86Opts(code, pc, opts)
	branch := in.HasTarget && !in.RIPRelative && (in.Kind == Jump || in.Kind == CondJump || in.Kind == Call)
	if branch {
		t := hexAddr(in.Target)
		branch = strings.HasSuffix(in.Text, t) && strings.HasSuffix(in.Intel, t) && strings.HasSuffix(in.Legacy, t)
	}
	if err == nil && (!in.HasTarget && !in.RIPRelative || branch) && in.Len <= 15 {
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
