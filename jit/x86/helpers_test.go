// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// Addresses of the hand-built programs: the JIT region and the direct map
// of an x86-64 kernel, __bpf_call_base of the x86_64-6.18 capture.
const (
	testImage    = 0xffffffffc0513a67
	testTarget   = 0xffffffffc0400000
	testCallBase = 0xffffffff814ca4d0
	testMap      = 0xffff888104650800
)

// insn builds one instruction in the kernel's encoding.
func insn(code uint8, dst, src uint8, off int16, imm int32) kernel.Insn {
	return kernel.Insn{Raw: kernel.BPFInsn{Code: code, Dst: dst, Src: src, Off: off, Imm: imm}}
}

// ldMap is "dst = map" (ld_imm64 of a struct bpf_map *).
func ldMap(dst uint8, name string, addr uint64) kernel.Insn {
	in := insn(0x18, dst, 1, 0, int32(uint32(addr)))
	in.Raw.Imm64 = addr
	in.Kind = kernel.MapPtr
	in.Ref, in.Map = name, name
	return in
}

// tailCall is bpf_tail_call after the verifier; direct with a constant key.
func tailCall(direct bool, key uint32) kernel.Insn {
	in := insn(0x85, 0, 0, 0, 12)
	in.Kind = kernel.TailCall
	in.Ref = "bpf_tail_call"
	if direct {
		in.Direct, in.Map, in.Key = true, "jmp_table", key
	}
	return in
}

// loaded makes a one-function program of insns, as kernel.Load would hand
// it over: slots numbered, tail-call reachability and a prog array
// jmp_table of 4 slots, slot 0 filled with a program at testTarget when
// filled is set.
func loaded(stack int, filled bool, insns ...kernel.Insn) *kernel.Loaded {
	f := &kernel.LoadedFunc{Name: "prog", Index: 0, Address: testImage, StackDepth: stack}
	slot := 0
	for _, in := range insns {
		in.Index = slot
		slot++
		if in.Raw.Code == 0x18 {
			slot++
		}
		if in.Kind == kernel.TailCall {
			f.TailCallReachable = true
		}
		f.Insns = append(f.Insns, in)
	}
	pa := &kernel.LoadedProgArray{Name: "jmp_table", Address: testMap, MaxEntries: 4, Slots: map[uint32]kernel.ProgRef{}}
	if filled {
		pa.Slots[0] = kernel.ProgRef{Name: "target", Address: testTarget}
	}
	return &kernel.Loaded{
		Arch: kernel.X86_64, Name: "prog", Type: "sched_cls",
		Funcs:      []*kernel.LoadedFunc{f},
		CallBase:   testCallBase,
		Symbols:    map[uint64]string{},
		Config:     map[string]string{},
		ProgArrays: []*kernel.LoadedProgArray{pa},
	}
}

func compile(t *testing.T, profile string, l *kernel.Loaded) *jit.Image {
	t.Helper()
	p, err := jit.LookupProfile(kernel.X86_64, profile)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jit.Compile(l, p)
	if err != nil {
		t.Fatalf("Compile(%s) on %s: %v", l.Name, profile, err)
	}
	return img
}

// unhex reads hex bytes written with spaces, as objdump prints them.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// spaced prints bytes as objdump does.
func spaced(b []byte) string {
	var sb strings.Builder
	for i, x := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(hex.EncodeToString([]byte{x}))
	}
	return sb.String()
}
