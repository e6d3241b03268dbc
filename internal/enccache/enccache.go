// SPDX-License-Identifier: GPL-2.0-only

// Package enccache remembers where a JIT pass emitted the code of an
// instruction whose code depends only on its kernel encoding and the
// function's configuration, so that the same instruction met again in the
// function is copied instead of encoded again.
//
// The x86 backend uses it on its first do_jit pass, which encodes every
// instruction, for plain instructions: ALU, loads, stores and atomics that
// record nothing but their region. A generated 1M-instruction program has
// about 116 000 distinct ones among 818 000. (arm64's sizing pass was
// measured faster without it: its encoders cost less than the lookups.)
package enccache

import "github.com/jitscope/jitscope/kernel"

// Table is a direct-mapped table from Key to a position and length in the
// pass's code: an entry is replaced when another key hashes to it, so a
// miss only costs the encoding it would have cost anyway.
type Table struct {
	keys []uint64
	vals []uint32 // position << 8 | length
}

// New returns a table for a function of about n instructions (at most
// 64k entries, 768 KiB).
func New(n int) *Table {
	size := 64
	for size < n/2 && size < 1<<16 {
		size <<= 1
	}
	return &Table{keys: make([]uint64, size), vals: make([]uint32, size)}
}

// Key packs an instruction's code, registers, off and imm into 64 bits.
// It is never 0 for the classes cached (their code is not 0).
func Key(r kernel.BPFInsn) uint64 {
	return uint64(r.Code) | uint64(r.Dst&0xf)<<8 | uint64(r.Src&0xf)<<12 | uint64(uint16(r.Off))<<16 | uint64(uint32(r.Imm))<<32
}

func (t *Table) slot(key uint64) int {
	return int((key * 0x9E3779B97F4A7C15) >> 32 & uint64(len(t.keys)-1))
}

// Get returns where the code of key was put.
func (t *Table) Get(key uint64) (at, n int, ok bool) {
	h := t.slot(key)
	if t.keys[h] != key {
		return 0, 0, false
	}
	v := t.vals[h]
	return int(v >> 8), int(v & 0xff), true
}

// Put records that the code of key is n units at position at. Positions
// from 2^24 and lengths from 256 are not recorded.
func (t *Table) Put(key uint64, at, n int) {
	if key == 0 || at < 0 || at >= 1<<24 || n < 0 || n > 0xff {
		return
	}
	h := t.slot(key)
	t.keys[h] = key
	t.vals[h] = uint32(at)<<8 | uint32(n)
}
