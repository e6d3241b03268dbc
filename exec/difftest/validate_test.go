// SPDX-License-Identifier: GPL-2.0-only

package difftest

import (
	"fmt"
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// helperArgs: how many arguments the helpers the generator calls read.
var helperArgs = map[string]int{
	"bpf_map_lookup_elem": 2, "bpf_map_update_elem": 4, "bpf_map_delete_elem": 2,
}

// uninitReads checks, independently of the generator's own bookkeeping,
// that no path reads a register before writing it (the verifier's
// "R%d !read_ok"): a forward must-analysis over each function's control
// flow graph. A program that did would make the interpreter (which zeroes
// dead registers) and the JITs (which leave what was there) differ.
func uninitReads(l *kernel.Loaded, args map[string]int) error {
	for _, f := range l.Funcs {
		n := len(f.Insns)
		at := map[int]int{}
		for i, in := range f.Insns {
			at[in.Index] = i
		}
		const all = uint16(1<<12 - 1)
		in := make([]uint16, n)
		seen := make([]bool, n)
		var entry uint16 = 1 << 10
		for r := 1; r <= args[l.Name+"/"+f.Name]; r++ {
			entry |= 1 << r
		}
		in[0], seen[0] = entry, true
		work := []int{0}
		for len(work) > 0 {
			i := work[len(work)-1]
			work = work[:len(work)-1]
			ins := f.Insns[i]
			r := ins.Raw
			s := in[i]
			need := func(regs ...uint8) error {
				for _, x := range regs {
					if s&(1<<x) == 0 {
						return fmt.Errorf("%s/%s insn %d (%v): r%d read before it is written", l.Name, f.Name, ins.Index, ins.Instruction, x)
					}
				}
				return nil
			}
			var err error
			var succ []int
			next := i + 1
			switch r.Class() {
			case kernel.ClassALU, kernel.ClassALU64:
				if r.Op() != kernel.OpMOV {
					err = need(r.Dst)
				}
				if err == nil && r.SrcX() && r.Op() != kernel.OpEND && r.Op() != kernel.OpNEG {
					err = need(r.Src)
				}
				s |= 1 << r.Dst
			case kernel.ClassLD:
				s |= 1 << r.Dst
			case kernel.ClassLDX:
				err = need(r.Src)
				s |= 1 << r.Dst
			case kernel.ClassST:
				if r.Code != kernel.CodeNOSPEC {
					err = need(r.Dst)
				}
			case kernel.ClassSTX:
				if r.Mode() == kernel.ModeAtomic && r.Imm == kernel.AtomicLoadAcq {
					err = need(r.Src)
					s |= 1 << r.Dst
					break
				}
				err = need(r.Dst, r.Src)
				if err == nil && r.Mode() == kernel.ModeAtomic {
					switch {
					case r.Imm == kernel.AtomicCmpXchg:
						err = need(0)
						s |= 1
					case r.Imm&kernel.AtomicFetch != 0:
						s |= 1 << r.Src
					}
				}
			case kernel.ClassJMP, kernel.ClassJMP32:
				switch op := r.Op(); {
				case op == kernel.JmpEXIT:
					err, next = need(0), -1
				case op == kernel.JmpCALL:
					switch ins.Kind {
					case kernel.TailCall:
						err = need(1, 2, 3)
					case kernel.FuncCall:
						for a := 1; a <= args[l.Name+"/"+ins.Ref]; a++ {
							if err == nil {
								err = need(uint8(a))
							}
						}
					default:
						for a := 1; a <= helperArgs[ins.Ref]; a++ {
							if err == nil {
								err = need(uint8(a))
							}
						}
					}
					s &^= 0x3f
					if ins.Kind != kernel.TailCall {
						s |= 1
					}
				case op == kernel.JmpJA:
					off := int(r.Off)
					if r.Class() == kernel.ClassJMP32 {
						off = int(r.Imm)
					}
					next = -1
					succ = append(succ, at[ins.Index+1+off])
				default:
					err = need(r.Dst)
					if err == nil && r.SrcX() {
						err = need(r.Src)
					}
					succ = append(succ, at[ins.Index+1+int(r.Off)])
				}
			}
			if err != nil {
				return err
			}
			if next >= 0 {
				succ = append(succ, next)
			}
			for _, j := range succ {
				if j >= n {
					return fmt.Errorf("%s/%s insn %d: falls off the function", l.Name, f.Name, ins.Index)
				}
				ns := s
				if seen[j] {
					ns &= in[j]
				}
				if !seen[j] || ns != in[j] {
					in[j], seen[j] = ns&all, true
					work = append(work, j)
				}
			}
		}
	}
	return nil
}

// TestGeneratorValid checks the corpus against uninitReads, the verifier's
// limits kernel.Load enforces, and runs it on the interpreter.
func TestGeneratorValid(t *testing.T) {
	p, err := jit.LookupProfile(kernel.X86_64, "v6.18")
	if err != nil {
		t.Fatal(err)
	}
	n := corpusSize()
	for i := 0; i < n; i++ {
		seed := *flagSeed + uint64(i)
		c := Generate(seed, Options{})
		for _, pr := range c.Set.Programs {
			l, err := kernel.Load(c.Set, pr.Name, p.Arch, p.LoadOptions())
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if err := uninitReads(l, c.Args); err != nil {
				t.Errorf("seed %d: %v", seed, err)
			}
		}
		// A valid program runs to its end: no faults (a clobbered
		// pointer), no step limit.
		if o := RunInterp(c.Set, p, InterpConfig(p)); o.Err != nil {
			t.Errorf("seed %d: the interpreter fails: %v", seed, o.Err)
		}
	}
}
