package bpf

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/internal/fuzzgen"
	"github.com/jitscope/jitscope/kernel"
)

// fuzzImm is a 32-bit immediate biased towards edge values.
func fuzzImm(s *fuzzgen.Source) int32 {
	edges := []int32{0, 1, -1, 2, 31, 32, 63, 64, -0x8000_0000, 0x7fff_ffff, 0xff, 0x8000}
	if c := s.U8(); c < 128 {
		return edges[int(c)%len(edges)]
	}
	return int32(s.U32())
}

func fuzzReg(s *fuzzgen.Source) asm.Register { return asm.Register(s.U8() % 10) }

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
func genFunc(s *fuzzgen.Source, sym string, hasSub bool) asm.Instructions {
	n := 1 + int(s.U8()%40)
	var insns asm.Instructions
	var jumps []fuzzgen.Jump
	stackOff := func() int16 { return -8 * int16(1+s.U8()%64) }
	for len(insns) < n {
		switch s.U8() % 20 {
		case 0:
			insns = append(insns, fuzzALU[int(s.U8())%len(fuzzALU)].Imm(fuzzReg(s), fuzzImm(s)))
		case 1:
			insns = append(insns, fuzzALU[int(s.U8())%len(fuzzALU)].Reg(fuzzReg(s), fuzzReg(s)))
		case 2:
			insns = append(insns, fuzzALU[int(s.U8())%len(fuzzALU)].Imm32(fuzzReg(s), fuzzImm(s)))
		case 3:
			insns = append(insns, fuzzALU[int(s.U8())%len(fuzzALU)].Reg32(fuzzReg(s), fuzzReg(s)))
		case 4:
			op := fuzzMovSX[int(s.U8())%len(fuzzMovSX)]
			if s.U8()%2 == 0 && op != asm.MovSX32 {
				insns = append(insns, op.Reg32(fuzzReg(s), fuzzReg(s)))
			} else {
				insns = append(insns, op.Reg(fuzzReg(s), fuzzReg(s)))
			}
		case 5:
			size := fuzzSizes[1+int(s.U8())%3]
			switch s.U8() % 3 {
			case 0:
				insns = append(insns, asm.HostTo(asm.LE, fuzzReg(s), size))
			case 1:
				insns = append(insns, asm.HostTo(asm.BE, fuzzReg(s), size))
			default:
				insns = append(insns, asm.BSwap(fuzzReg(s), size))
			}
		case 6:
			insns = append(insns, ld64(fuzzReg(s), s.U64()))
		case 7:
			src := asm.R10
			if s.U8()%4 == 0 {
				src = fuzzReg(s)
			}
			insns = append(insns, asm.LoadMem(fuzzReg(s), src, stackOff(), fuzzSizes[int(s.U8())%4]))
		case 8:
			insns = append(insns, asm.LoadMemSX(fuzzReg(s), asm.R10, stackOff(), fuzzSizes[int(s.U8())%3]))
		case 9:
			insns = append(insns, asm.StoreMem(asm.R10, stackOff(), fuzzReg(s), fuzzSizes[int(s.U8())%4]))
		case 10:
			size := fuzzSizes[int(s.U8())%4]
			if size == asm.DWord {
				insns = append(insns, stImm64(asm.R10, stackOff(), fuzzImm(s)))
			} else {
				insns = append(insns, asm.StoreImm(asm.R10, stackOff(), int64(fuzzImm(s)), size))
			}
		case 11:
			op := fuzzAtomics[int(s.U8())%len(fuzzAtomics)]
			insns = append(insns, atomic(op.Mem(asm.R10, fuzzReg(s), fuzzSizes[2+int(s.U8())%2], stackOff())))
		case 12:
			op := fuzzJump[int(s.U8())%len(fuzzJump)]
			var j asm.Instruction
			switch s.U8() % 4 {
			case 0:
				j = jmpImm(op, fuzzReg(s), fuzzImm(s), 0)
			case 1:
				j = jmpReg(op, fuzzReg(s), fuzzReg(s), 0)
			case 2:
				j = jmp32Imm(op, fuzzReg(s), fuzzImm(s), 0)
			default:
				j = jmp32Reg(op, fuzzReg(s), fuzzReg(s), 0)
			}
			jumps = append(jumps, fuzzgen.Jump{At: len(insns), To: int(s.U8()) % (n + 1)})
			insns = append(insns, j)
		case 13:
			if s.U8()%2 == 0 {
				jumps = append(jumps, fuzzgen.Jump{At: len(insns), To: int(s.U8()) % (n + 1)})
				insns = append(insns, asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)})
			} else {
				jumps = append(jumps, fuzzgen.Jump{At: len(insns), To: int(s.U8()) % (n + 1)})
				insns = append(insns, asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja)})
			}
		case 14:
			insns = append(insns, fuzzHelpers[int(s.U8())%len(fuzzHelpers)].Call())
		case 15:
			// bpf_map_lookup_elem(&arr or &h, r10 - 8)
			m := "arr"
			if s.U8()%2 == 0 {
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
				asm.Mov.Imm(asm.R3, int32(s.U8()%6)),
				asm.FnTailCall.Call())
		case 17:
			insns = append(insns, asm.LoadMapValue(fuzzReg(s), 0, uint32(s.U8()%8)).WithReference(".bss"))
		case 18:
			if hasSub {
				insns = append(insns, asm.Call.Label("sub"))
			} else {
				insns = append(insns, asm.Mov.Reg(fuzzReg(s), asm.R10))
			}
		default:
			insns = append(insns, asm.Return())
		}
	}
	insns = append(insns, asm.Return())
	fuzzgen.ResolveJumps(insns, jumps)
	insns[0] = insns[0].WithSymbol(sym)
	return insns
}

// fuzzKernel builds a set from data and lays it out; nil when the loader
// refuses the program (as the verifier would).
func fuzzKernel(s *fuzzgen.Source) *machine.Kernel {
	hasSub := s.U8()%3 == 0
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
		s := fuzzgen.NewSource(data)
		mode := s.U8()
		k := fuzzKernel(s)
		if k == nil {
			return
		}
		// Overwrite some instructions with raw encodings the verifier
		// would refuse: the interpreter must still fail cleanly.
		if mode&1 != 0 {
			fs := k.Loaded["fz"].Funcs
			for n := s.U8() % 4; n > 0; n-- {
				f := fs[int(s.U8())%len(fs)]
				in := &f.Insns[int(s.U8())%len(f.Insns)]
				in.Raw = kernel.BPFInsn{Code: s.U8(), Dst: s.U8() & 0xf, Src: s.U8() & 0xf, Off: int16(s.U16()), Imm: int32(s.U32()), Imm64: s.U64()}
				if s.U8()%2 == 0 {
					in.Kind = kernel.InsnKind(s.U8() % 7)
					in.Callee = int(int8(s.U8()))
				}
			}
		}
		cfg := Config{MaxTailCallCnt: 1 + int(s.U8()%40), CountGT: mode&2 != 0, TCCPtr: mode&4 != 0, StepLimit: 5000}
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
