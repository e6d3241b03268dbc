// SPDX-License-Identifier: GPL-2.0-only

// Package fuzzgen turns fuzz input into BPF programs the kernel's verifier
// would accept, for the fuzz targets of the JIT backends and the emulators:
// every byte string is a program, the bytes steer which instructions,
// registers, immediates and jump distances it has. Unlike gen (big,
// realistic programs from a seed), the program follows the fuzzer's bytes,
// so coverage guidance reaches the JITs' rare encodings: immediates at the
// edges of every encoding class, jumps just inside and outside a short
// branch's range, every ALU and jump operation in 32 and 64 bits.
//
// What makes a program valid here is what the JITs rely on: jumps land on
// instructions of their own function, no write to r10, stack accesses
// within 512 bytes combined, calls to known helpers, a bpf-to-bpf callee
// that exists and does not recurse, every function ending in exit.
package fuzzgen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// Source hands out fuzz input; once it runs out it returns zeros.
type Source struct{ b []byte }

// NewSource reads from data.
func NewSource(data []byte) *Source { return &Source{b: data} }

// U8 returns the next byte.
func (s *Source) U8() uint8 {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

// U16 returns the next two bytes, little-endian.
func (s *Source) U16() uint16 { return uint16(s.U8()) | uint16(s.U8())<<8 }

// U32 returns the next four bytes, little-endian.
func (s *Source) U32() uint32 { return uint32(s.U16()) | uint32(s.U16())<<16 }

// U64 returns the next eight bytes, little-endian.
func (s *Source) U64() uint64 { return uint64(s.U32()) | uint64(s.U32())<<32 }

// Features says which instructions the profile's kernel knows.
type Features struct {
	// CPUv4: sign-extending moves and loads, signed division, bswap,
	// gotol (6.6+).
	CPUv4 bool
	// AtomicFetch: BPF_FETCH atomics, xchg and cmpxchg (5.12+); without it
	// only the plain atomic add (BPF_XADD) is generated.
	AtomicFetch bool
	// SubprogTailCalls: tail calls may be mixed with bpf-to-bpf calls.
	SubprogTailCalls bool
}

// Names in the generated set.
const (
	Main     = "fz"        // the main program, tail-called by itself and other
	Sub      = "fz_sub"    // its bpf-to-bpf callee, when it has one
	Other    = "other"     // a second program, tail call target
	JmpTable = "jmp_table" // prog array: [0] = fz, [1] = other, [2], [3] empty
)

// imm32 is a 32-bit immediate biased to the values where encodings change:
// 0, ±1, the 12-bit and 16-bit limits of arm64's immediates, the 8-bit
// limit of x86's imm8, the sign bit.
func (s *Source) imm32() int32 {
	edges := []int32{0, 1, -1, 2, 31, 32, 63, 64, 127, 128, -128, -129, 0xfff, 0x1000, 0xffff, 0x10000,
		-0x10000, 0xff00, 0xff0000, -0x8000_0000, 0x7fff_ffff, 0x8000, 0x7fff, -0x8000}
	if c := s.U8(); c < 160 {
		return edges[int(c)%len(edges)]
	}
	return int32(s.U32())
}

// imm64 is a 64-bit immediate biased towards values arm64 builds in one
// to four moves and x86 in a 32-bit or 64-bit move.
func (s *Source) imm64() int64 {
	switch s.U8() % 6 {
	case 0:
		return int64(s.imm32())
	case 1:
		return int64(uint64(s.U16()) << (16 * (s.U8() % 4)))
	case 2:
		return ^int64(uint64(s.U16()) << (16 * (s.U8() % 4)))
	case 3:
		return int64(s.U32())
	default:
		return int64(s.U64())
	}
}

func (s *Source) dst() asm.Register { return asm.Register(s.U8() % 10) } // r0-r9: r10 is read-only
func (s *Source) src() asm.Register { return asm.Register(s.U8() % 11) } // r0-r10

var (
	aluOps   = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.Xor, asm.Mov, asm.ArSh}
	aluOpsV4 = []asm.ALUOp{asm.SDiv, asm.SMod}
	jumpOps  = []asm.JumpOp{asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE, asm.JLT, asm.JLE, asm.JSLT, asm.JSLE}
	sizes    = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}
	fetchOps = []asm.AtomicOp{asm.FetchAdd, asm.AndAtomic, asm.FetchAnd, asm.OrAtomic, asm.FetchOr, asm.XorAtomic, asm.FetchXor, asm.Xchg, asm.CmpXchg}
	helpers  = []asm.BuiltinFunc{asm.FnKtimeGetNs, asm.FnGetPrandomU32, asm.FnGetSmpProcessorId}
)

// Jump is a jump instruction's index in a function and its target's.
type Jump struct{ At, To int }

// function generates one function of at most max instructions: the body
// the bytes describe, then "r0 = 0; exit".
func function(s *Source, f Features, sym string, max int, callee string, tail bool) asm.Instructions {
	n := 1 + int(s.U16())%max
	var insns asm.Instructions
	var jumps []Jump
	// Each function uses at most 256 bytes of stack: two functions stay
	// within the kernel's 512 combined.
	stackOff := func() int16 { return -8 * int16(1+s.U8()%32) }
	target := func() int { return int(s.U16()) % (n + 2) }
	for len(insns) < n {
		switch op := s.U8() % 24; op {
		case 0, 1, 2, 3:
			ops := aluOps
			if f.CPUv4 && s.U8()%4 == 0 {
				ops = aluOpsV4
			}
			o := ops[int(s.U8())%len(ops)]
			var in asm.Instruction
			switch op {
			case 0:
				in = o.Imm(s.dst(), s.imm32())
			case 1:
				in = o.Reg(s.dst(), s.src())
			case 2:
				in = o.Imm32(s.dst(), s.imm32())
			default:
				in = o.Reg32(s.dst(), s.dst())
			}
			if o == asm.LSh || o == asm.RSh || o == asm.ArSh {
				// Shifts by an immediate beyond the width are refused by
				// the verifier.
				if in.OpCode.Source() == asm.ImmSource {
					w := int64(64)
					if in.OpCode.Class() == asm.ALUClass {
						w = 32
					}
					in.Constant = (in.Constant%w + w) % w
				}
			}
			insns = append(insns, in)
		case 4:
			d := s.dst()
			if s.U8()%2 == 0 {
				insns = append(insns, asm.Neg.Imm(d, 0))
			} else {
				insns = append(insns, asm.Neg.Imm32(d, 0))
			}
		case 5:
			size := sizes[1+int(s.U8())%3]
			switch s.U8() % 3 {
			case 0:
				insns = append(insns, asm.HostTo(asm.LE, s.dst(), size))
			case 1:
				insns = append(insns, asm.HostTo(asm.BE, s.dst(), size))
			default:
				if f.CPUv4 {
					insns = append(insns, asm.BSwap(s.dst(), size))
				}
			}
		case 6:
			if f.CPUv4 {
				o := []asm.ALUOp{asm.MovSX8, asm.MovSX16, asm.MovSX32}[s.U8()%3]
				if s.U8()%2 == 0 && o != asm.MovSX32 {
					insns = append(insns, o.Reg32(s.dst(), s.dst()))
				} else {
					insns = append(insns, o.Reg(s.dst(), s.dst()))
				}
			}
		case 7:
			insns = append(insns, asm.LoadImm(s.dst(), s.imm64(), asm.DWord))
		case 8:
			insns = append(insns, asm.LoadMem(s.dst(), asm.R10, stackOff(), sizes[s.U8()%4]))
		case 9:
			if f.CPUv4 {
				insns = append(insns, asm.LoadMemSX(s.dst(), asm.R10, stackOff(), sizes[s.U8()%3]))
			}
		case 10:
			insns = append(insns, asm.StoreMem(asm.R10, stackOff(), s.src(), sizes[s.U8()%4]))
		case 11:
			size := sizes[s.U8()%4]
			if size == asm.DWord {
				// cilium/ebpf's StoreImm refuses BPF_DW; the kernel
				// sign-extends the immediate.
				insns = append(insns, asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.R10, Offset: stackOff(), Constant: int64(s.imm32())})
			} else {
				insns = append(insns, asm.StoreImm(asm.R10, stackOff(), int64(s.imm32()), size))
			}
		case 12:
			o := asm.AddAtomic
			if f.AtomicFetch {
				o = fetchOps[int(s.U8())%len(fetchOps)]
			}
			in := o.Mem(asm.R10, s.dst(), sizes[2+s.U8()%2], stackOff())
			// cilium/ebpf v0.22 marshals the immediate before folding the
			// operation into it: keep the operation in Constant.
			in.Constant = int64(uint32(o) >> 8)
			if o == asm.CmpXchg && in.Src == asm.R0 {
				in.Src = asm.R1 // cmpxchg compares with r0 and stores src
			}
			insns = append(insns, in)
		case 13, 14, 15:
			o := jumpOps[int(s.U8())%len(jumpOps)]
			cls := asm.JumpClass
			if s.U8()%3 == 0 {
				cls = asm.Jump32Class
			}
			in := asm.Instruction{OpCode: asm.OpCode(cls).SetJumpOp(o).SetSource(asm.ImmSource), Dst: s.dst(), Constant: int64(s.imm32())}
			if op != 13 {
				in.OpCode = in.OpCode.SetSource(asm.RegSource)
				in.Src = s.src()
				in.Constant = 0
			}
			jumps = append(jumps, Jump{At: len(insns), To: target()})
			insns = append(insns, in)
		case 16:
			in := asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)}
			if f.CPUv4 && s.U8()%3 == 0 {
				in.OpCode = asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja) // gotol
			}
			jumps = append(jumps, Jump{At: len(insns), To: target()})
			insns = append(insns, in)
		case 17:
			insns = append(insns, helpers[int(s.U8())%len(helpers)].Call())
		case 18:
			if tail {
				insns = append(insns,
					asm.LoadMapPtr(asm.R2, 0).WithReference(JmpTable),
					asm.Mov.Imm(asm.R3, int32(s.U8()%6)-1),
					asm.FnTailCall.Call())
			}
		case 19:
			if callee != "" {
				insns = append(insns, asm.Call.Label(callee))
			}
		case 20:
			// A run of additions: puts jumps over it beyond the short
			// branch forms (x86 jcc rel8, arm64 tbz's 14 bits are not used,
			// but arm64 b.cond's 19 bits need a long program).
			d, k := s.dst(), s.imm32()
			for m := int(s.U8()) * 2; m > 0 && len(insns) < n; m-- {
				insns = append(insns, asm.Add.Imm(d, k))
			}
		case 21:
			insns = append(insns, asm.LoadMapValue(s.dst(), 0, uint32(s.U8()%56)).WithReference(".bss"))
		case 22:
			d := s.dst()
			insns = append(insns, asm.Mov.Reg(d, asm.R10), asm.Add.Imm(d, -int32(s.U8())))
		default:
			insns = append(insns, asm.Return())
		}
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return())
	ResolveJumps(insns, jumps)
	insns[0] = insns[0].WithSymbol(sym)
	return insns
}

// ResolveJumps sets the offsets of the jumps in insns: each jumps to the
// instruction with index To (the last one if To is past it). Offsets count
// 8-byte slots: an ld_imm64 takes two.
func ResolveJumps(insns asm.Instructions, jumps []Jump) {
	slot := make([]int, len(insns)+1)
	for i, in := range insns {
		slot[i+1] = slot[i] + int(in.Size()/asm.InstructionSize)
	}
	for _, j := range jumps {
		to := min(j.To, len(insns)-1)
		off := slot[to] - slot[j.At] - 1
		if insns[j.At].OpCode.Class() == asm.Jump32Class && insns[j.At].OpCode.JumpOp() == asm.Ja {
			insns[j.At].Constant = int64(off)
		} else {
			insns[j.At].Offset = int16(off)
		}
	}
}

// Set builds a program set from data: Main (with Sub when the bytes ask for
// a bpf-to-bpf call), Other, the prog array both are in, and a .bss map.
// Programs have at most maxInsns instructions per function.
func Set(data []byte, f Features, maxInsns int) *kernel.Set {
	s := NewSource(data)
	flags := s.U8()
	hasSub := flags&1 != 0
	tail := flags&2 != 0 && (f.SubprogTailCalls || !hasSub)
	callee := ""
	if hasSub {
		callee = Sub
	}
	insns := function(s, f, Main, maxInsns, callee, tail)
	if hasSub {
		insns = append(insns, function(s, f, Sub, maxInsns, "", tail)...)
	}
	other := function(s, f, Other, 16, "", true)
	return &kernel.Set{
		Name: "fuzz",
		Programs: []*kernel.Program{
			{Name: Main, Type: "sched_cls", Insns: insns},
			{Name: Other, Type: "sched_cls", Insns: other},
		},
		Maps: []*kernel.Map{
			{Name: JmpTable, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 4, Progs: map[uint32]string{0: Main, 1: Other}},
			{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 64, MaxEntries: 1},
		},
	}
}
