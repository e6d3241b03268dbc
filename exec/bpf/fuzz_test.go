package bpf

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/kernel"
)

// byteSource hands out fuzz input, zeros once it runs out.
type byteSource struct{ b []byte }

func (s *byteSource) u8() uint8 {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) u16() uint16 { return uint16(s.u8()) | uint16(s.u8())<<8 }
func (s *byteSource) u32() uint32 { return uint32(s.u16()) | uint32(s.u16())<<16 }
func (s *byteSource) u64() uint64 { return uint64(s.u32()) | uint64(s.u32())<<32 }

// imm is a 32-bit immediate biased towards edge values.
func (s *byteSource) imm() int32 {
	edges := []int32{0, 1, -1, 2, 31, 32, 63, 64, -0x8000_0000, 0x7fff_ffff, 0xff, 0x8000}
	if c := s.u8(); c < 128 {
		return edges[int(c)%len(edges)]
	}
	return int32(s.u32())
}

func (s *byteSource) reg() asm.Register { return asm.Register(s.u8() % 10) }

var (
	fuzzALU     = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.SDiv, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.SMod, asm.Xor, asm.Mov, asm.ArSh}
	fuzzMovSX   = []asm.ALUOp{asm.MovSX8, asm.MovSX16, asm.MovSX32}
	fuzzJump    = []asm.JumpOp{asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE, asm.JLT, asm.JLE, asm.JSLT, asm.JSLE}
	fuzzSizes   = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}
	fuzzAtomics = []asm.AtomicOp{asm.AddAtomic, asm.FetchAdd, asm.AndAtomic, asm.FetchAnd, asm.OrAtomic, asm.FetchOr, asm.XorAtomic, asm.FetchXor, asm.Xchg, asm.CmpXchg}
	fuzzHelpers = []asm.BuiltinFunc{asm.FnKtimeGetNs, asm.FnGetPrandomU32, asm.FnGetSmpProcessorId}
)

// genFunc generates one function: mostly valid instructions (the loader
// must accept the program for the interpreter to see it), jumps to
// instruction starts inside the function, an exit at the end.
func genFunc(s *byteSource, sym string, hasSub bool) asm.Instructions {
	n := 1 + int(s.u8()%40)
	var insns asm.Instructions
	type jump struct{ at, to int }
	var jumps []jump
	stackOff := func() int16 { return -8 * int16(1+s.u8()%64) }
	for len(insns) < n {
		switch s.u8() % 20 {
		case 0:
			insns = append(insns, fuzzALU[int(s.u8())%len(fuzzALU)].Imm(s.reg(), s.imm()))
		case 1:
			insns = append(insns, fuzzALU[int(s.u8())%len(fuzzALU)].Reg(s.reg(), s.reg()))
		case 2:
			insns = append(insns, fuzzALU[int(s.u8())%len(fuzzALU)].Imm32(s.reg(), s.imm()))
		case 3:
			insns = append(insns, fuzzALU[int(s.u8())%len(fuzzALU)].Reg32(s.reg(), s.reg()))
		case 4:
			op := fuzzMovSX[int(s.u8())%len(fuzzMovSX)]
			if s.u8()%2 == 0 && op != asm.MovSX32 {
				insns = append(insns, op.Reg32(s.reg(), s.reg()))
			} else {
				insns = append(insns, op.Reg(s.reg(), s.reg()))
			}
		case 5:
			size := fuzzSizes[1+int(s.u8())%3]
			switch s.u8() % 3 {
			case 0:
				insns = append(insns, asm.HostTo(asm.LE, s.reg(), size))
			case 1:
				insns = append(insns, asm.HostTo(asm.BE, s.reg(), size))
			default:
				insns = append(insns, asm.BSwap(s.reg(), size))
			}
		case 6:
			insns = append(insns, ld64(s.reg(), s.u64()))
		case 7:
			src := asm.R10
			if s.u8()%4 == 0 {
				src = s.reg()
			}
			insns = append(insns, asm.LoadMem(s.reg(), src, stackOff(), fuzzSizes[int(s.u8())%4]))
		case 8:
			insns = append(insns, asm.LoadMemSX(s.reg(), asm.R10, stackOff(), fuzzSizes[int(s.u8())%3]))
		case 9:
			insns = append(insns, asm.StoreMem(asm.R10, stackOff(), s.reg(), fuzzSizes[int(s.u8())%4]))
		case 10:
			size := fuzzSizes[int(s.u8())%4]
			if size == asm.DWord {
				insns = append(insns, stImm64(asm.R10, stackOff(), s.imm()))
			} else {
				insns = append(insns, asm.StoreImm(asm.R10, stackOff(), int64(s.imm()), size))
			}
		case 11:
			op := fuzzAtomics[int(s.u8())%len(fuzzAtomics)]
			insns = append(insns, atomic(op.Mem(asm.R10, s.reg(), fuzzSizes[2+int(s.u8())%2], stackOff())))
		case 12:
			op := fuzzJump[int(s.u8())%len(fuzzJump)]
			var j asm.Instruction
			switch s.u8() % 4 {
			case 0:
				j = jmpImm(op, s.reg(), s.imm(), 0)
			case 1:
				j = jmpReg(op, s.reg(), s.reg(), 0)
			case 2:
				j = jmp32Imm(op, s.reg(), s.imm(), 0)
			default:
				j = jmp32Reg(op, s.reg(), s.reg(), 0)
			}
			jumps = append(jumps, jump{len(insns), int(s.u8()) % (n + 1)})
			insns = append(insns, j)
		case 13:
			if s.u8()%2 == 0 {
				jumps = append(jumps, jump{len(insns), int(s.u8()) % (n + 1)})
				insns = append(insns, asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)})
			} else {
				jumps = append(jumps, jump{len(insns), int(s.u8()) % (n + 1)})
				insns = append(insns, asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja)})
			}
		case 14:
			insns = append(insns, fuzzHelpers[int(s.u8())%len(fuzzHelpers)].Call())
		case 15:
			// bpf_map_lookup_elem(&arr or &h, r10 - 8)
			m := "arr"
			if s.u8()%2 == 0 {
				m = "h"
			}
			insns = append(insns,
				asm.LoadMapPtr(asm.R1, 0).WithReference(m),
				asm.Mov.Reg(asm.R2, asm.R10),
				asm.Add.Imm(asm.R2, -8),
				asm.FnMapLookupElem.Call())
		case 16:
			insns = append(insns,
				asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
				asm.Mov.Imm(asm.R3, int32(s.u8()%6)),
				asm.FnTailCall.Call())
		case 17:
			insns = append(insns, asm.LoadMapValue(s.reg(), 0, uint32(s.u8()%8)).WithReference(".bss"))
		case 18:
			if hasSub {
				insns = append(insns, asm.Call.Label("sub"))
			} else {
				insns = append(insns, asm.Mov.Reg(s.reg(), asm.R10))
			}
		default:
			insns = append(insns, asm.Return())
		}
	}
	insns = append(insns, asm.Return())
	// Resolve jumps in slots.
	slot := make([]int, len(insns)+1)
	for i, ins := range insns {
		slot[i+1] = slot[i] + int(ins.Size()/asm.InstructionSize)
	}
	for _, j := range jumps {
		to := min(j.to, len(insns)-1)
		off := slot[to] - slot[j.at] - 1
		if insns[j.at].OpCode.Class() == asm.Jump32Class && insns[j.at].OpCode.JumpOp() == asm.Ja {
			insns[j.at].Constant = int64(off)
		} else {
			insns[j.at].Offset = int16(off)
		}
	}
	insns[0] = insns[0].WithSymbol(sym)
	return insns
}

// fuzzKernel builds a set from data and lays it out; nil when the loader
// refuses the program (as the verifier would).
func fuzzKernel(s *byteSource) *machine.Kernel {
	hasSub := s.u8()%3 == 0
	insns := genFunc(s, "fz", hasSub)
	if hasSub {
		insns = append(insns, genFunc(s, "sub", true)...)
	}
	other := asm.Instructions{
		asm.Mov.Imm(asm.R0, 1),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Return(),
	}
	set := &kernel.Set{
		Name: "fuzz",
		Programs: []*kernel.Program{
			{Name: "fz", Type: "sched_cls", Insns: insns},
			{Name: "other", Type: "sched_cls", Insns: other},
		},
		Maps: []*kernel.Map{
			progArray("jmp_table", 4, map[uint32]string{0: "fz", 1: "other"}),
			{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 64, MaxEntries: 1},
			{Name: "arr", Type: "array", KeySize: 4, ValueSize: 8, MaxEntries: 4},
			{Name: "h", Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 4},
		},
	}
	for _, p := range set.Programs {
		if _, err := kernel.Load(set, p.Name, kernel.X86_64, kernel.Options{Layout: testLayout}); err != nil {
			return nil
		}
	}
	k, err := machine.New(set, kernel.X86_64, testLayout, nil, machine.Options{})
	if err != nil {
		return nil
	}
	return k
}

func FuzzRun(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 16, 2, 12, 3, 0, 1, 2, 3, 20})
	f.Add([]byte{0, 20, 18, 11, 1, 3, 1, 0, 16, 1, 13, 0, 3, 11, 0, 0})
	seed := make([]byte, 256)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	raw := binary.LittleEndian.AppendUint64(nil, 0x0000_0000_0010_0a07)
	f.Add(append([]byte{1, 5, 0, 0, 1, 6, 0}, raw...))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &byteSource{b: data}
		mode := s.u8()
		k := fuzzKernel(s)
		if k == nil {
			return
		}
		// Overwrite some instructions with raw encodings the verifier
		// would refuse: the interpreter must still fail cleanly.
		if mode&1 != 0 {
			fs := k.Loaded["fz"].Funcs
			for n := s.u8() % 4; n > 0; n-- {
				f := fs[int(s.u8())%len(fs)]
				in := &f.Insns[int(s.u8())%len(f.Insns)]
				in.Raw = kernel.BPFInsn{Code: s.u8(), Dst: s.u8() & 0xf, Src: s.u8() & 0xf, Off: int16(s.u16()), Imm: int32(s.u32()), Imm64: s.u64()}
				if s.u8()%2 == 0 {
					in.Kind = kernel.InsnKind(s.u8() % 7)
					in.Callee = int(int8(s.u8()))
				}
			}
		}
		cfg := Config{MaxTailCallCnt: 1 + int(s.u8()%40), CountGT: mode&2 != 0, TCCPtr: mode&4 != 0, StepLimit: 5000}
		res, err := Run(k, "fz", cfg)
		if res == nil {
			t.Fatal("Run returned no result")
		}
		if res.Steps > cfg.StepLimit {
			t.Fatalf("%d steps past the limit of %d", res.Steps, cfg.StepLimit)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error without the instruction: %v", err)
			}
		}
	})
}
