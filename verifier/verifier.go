// SPDX-License-Identifier: GPL-2.0-only

// Package verifier rewrites a BPF program as written (a compiler's object,
// a scenario) into what the kernel's JIT receives: the instructions the
// verifier leaves after convert_ctx_accesses and do_misc_fixups
// (kernel/bpf/verifier.c, net/core/filter.c, Linux 6.18, and Linux 6.1
// where Facts.Version says so: see v61.go for what differs), in the form
// BPF_OBJ_GET_INFO_BY_FD dumps them (xlated: map ids in ld_imm64, helper
// calls as address − __bpf_call_base, tail calls as "call 12", bpf-to-bpf
// calls with the callee's index).
//
// Modelled rewrites:
//   - context field accesses of struct __sk_buff and struct xdp_md
//     (bpf_convert_ctx_access, xdp_convert_ctx_access) for the common
//     fields, with the struct offsets of the kernel in Facts.Layout;
//   - division and modulo by a register behind the guards (chk_and_div,
//     chk_and_mod, chk_and_sdiv, chk_and_smod), signed division by -1;
//   - map lookups inlined by map_gen_lookup (array, per-CPU array, hash),
//     other map helpers called through the map's ops;
//   - bpf_get_smp_processor_id and bpf_jiffies64 inlined (x86-64);
//   - helper calls resolved to the helper's kernel function;
//   - the zero-extension of a 32-bit cmpxchg's r0 when it is read as 64
//     bits;
//   - may_goto in its timed form (x86-64: a counter and a timestamp slot
//     below the function's stack, arch_bpf_timed_may_goto);
//   - dead code: branches every value decides one way, and tests of a map
//     value the verifier knows is not NULL (constant key below
//     max_entries of an array), lose their dead side
//     (opt_hard_wire_dead_code_branches, opt_remove_dead_code,
//     opt_remove_nops);
//   - branch offsets adjusted around every patch (bpf_adj_branches).
//
// Which register holds the context, a map pointer, a stack pointer or a
// constant is found by a forward data-flow pass over each function's
// control flow (register copies, stack spills as check_stack_write_fixed_off
// keeps them, arguments of bpf-to-bpf calls), standing in for the
// verifier's register state. What the verifier learns from value ranges
// beyond that (other dead branches), bpf_loop inlining, kfuncs, the
// unprivileged sanitations and other architectures' forms are not
// modelled: Rewrite then returns
// what it has, and the live comparison (jitscope kernel verify) shows
// where it differs from the kernel.
package verifier

//go:generate sh ../testdata/captures-src/build.sh

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// Facts are what the rewrites take from one kernel: struct offsets,
// function addresses, map ids and whether the loader is privileged.
type Facts struct {
	// Layout holds struct offsets keyed "struct.member" ("sk_buff.len",
	// "bpf_array.value", "htab_elem.key", ...): see Required.
	Layout map[string]int
	// CallBase is __bpf_call_base; Func finds the kernel functions helpers
	// resolve to (helper implementations, map ops) by name.
	CallBase uint64
	Func     func(name string) (uint64, bool)
	// CPUNumber is (u32)&cpu_number, the per-CPU variable the inlined
	// bpf_get_smp_processor_id reads (not in kallsyms without
	// CONFIG_KALLSYMS_ALL).
	CPUNumber uint32
	// StackDepths are the verifier's stack depths per function as it
	// reports them (after may_goto's counter slots); nil: estimated from
	// the deepest r10 access.
	StackDepths []int
	// Jiffies is &jiffies, which the inlined bpf_jiffies64 loads (a data
	// symbol, in no kallsyms without CONFIG_KALLSYMS_ALL either).
	Jiffies uint64
	// MapIDs are the kernel's ids of the set's maps, by name (map
	// ld_imm64 dump as ids); missing maps get 1, 2, ... in set order.
	MapIDs map[string]int
	// Unprivileged: map->bypass_spec_v1 is false (no CAP_PERFMON), so
	// array lookups mask the index.
	Unprivileged bool
	// Version is the kernel version whose verifier is modelled:
	// Version618 (also "") or Version61; Arch the architecture of its JIT.
	Version string
	Arch    kernel.Arch
}

// Required lists the Layout keys the rewrites may use.
var Required = []string{
	"bpf_array.value", "bpf_array.pptrs", "bpf_array.elem_size", "bpf_array.index_mask", "htab_elem.key",
	"sk_buff.len", "sk_buff.protocol", "sk_buff.mark", "sk_buff.priority", "sk_buff.queue_mapping",
	"sk_buff.tc_index", "sk_buff.hash", "sk_buff.vlan_all", "sk_buff.dev", "sk_buff.data", "sk_buff.cb",
	"sk_buff.__pkt_type_offset", "sk_buff.skb_iif", "sk_buff.napi_id", "qdisc_skb_cb.data",
	"bpf_skb_data_end.data_end", "net_device.ifindex",
	"xdp_buff.data", "xdp_buff.data_end", "xdp_buff.data_meta", "xdp_buff.rxq", "xdp_buff.txq",
	"xdp_rxq_info.dev", "xdp_rxq_info.queue_index", "xdp_txq_info.dev",
}

// Program is a rewritten program.
type Program struct {
	Name, Type string
	// Insns are the xlated instructions, ld_imm64 as two slots.
	Insns []kernel.BPFInsn
	// Funcs are the functions' first slots and names, main first.
	Funcs []Func
	// Rewrites says what changed, one line per rewrite, in order.
	Rewrites []string
	// Calls are the kernel functions the program calls, by name.
	Calls map[string]uint64
	// Origin gives, per slot of Insns, the index of the instruction as
	// written (in the set's Program.Insns) it came from.
	Origin []int
}

// Func is one function of a rewritten program.
type Func struct {
	Name  string
	Start int // slot
}

// Bytes encodes the program as xlated.bin.
func (p *Program) Bytes() []byte {
	b := make([]byte, 0, 8*len(p.Insns))
	for _, in := range p.Insns {
		var s [8]byte
		s[0] = in.Code
		s[1] = in.Dst&0xf | in.Src<<4
		binary.LittleEndian.PutUint16(s[2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(s[4:], uint32(in.Imm))
		b = append(b, s[:]...)
	}
	return b
}

// item is one instruction of the program being rewritten.
type item struct {
	in kernel.BPFInsn
	// ld64 marks an ld_imm64 (two slots); hi is its second slot's imm.
	ld64 bool
	hi   int32
	// orig is the index of the original instruction this item stands
	// for (the first item of a patch), -1 inside a patch.
	orig int
	// target is the original index an original branch jumps to, -1 for
	// none (patch-internal branches keep their offsets).
	target int
	// callee is the function index of a bpf-to-bpf call, -1 otherwise.
	callee int
	// mapName is the map an ld_imm64 refers to.
	mapName string
}

func (it item) slots() int {
	if it.ld64 {
		return 2
	}
	return 1
}

// Opcode pieces (include/uapi/linux/bpf.h).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsJMP32, clsALU64 = 0, 1, 2, 3, 4, 5, 6, 7

	szW, szH, szB, szDW = 0x00, 0x08, 0x10, 0x18
	modeMEM             = 0x60

	opAdd, opSub, opMul, opDiv, opOr, opAnd, opLsh, opRsh, opNeg, opMod, opXor, opMov, opArsh = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0
	srcK, srcX                                                                                = 0x00, 0x08

	jmpJA, jmpJEQ, jmpJGT, jmpJGE, jmpJNE, jmpCall, jmpExit = 0x00, 0x10, 0x20, 0x30, 0x50, 0x80, 0x90

	regAX = 11
)

func ldx(size uint8, dst, src uint8, off int16) kernel.BPFInsn {
	return kernel.BPFInsn{Code: clsLDX | size | modeMEM, Dst: dst, Src: src, Off: off}
}
func stx(size uint8, dst, src uint8, off int16) kernel.BPFInsn {
	return kernel.BPFInsn{Code: clsSTX | size | modeMEM, Dst: dst, Src: src, Off: off}
}
func alu64i(op uint8, dst uint8, imm int32) kernel.BPFInsn {
	return kernel.BPFInsn{Code: clsALU64 | op | srcK, Dst: dst, Imm: imm}
}
func alu64r(op uint8, dst, src uint8) kernel.BPFInsn {
	return kernel.BPFInsn{Code: clsALU64 | op | srcX, Dst: dst, Src: src}
}
func alu32i(op uint8, dst uint8, imm int32) kernel.BPFInsn {
	return kernel.BPFInsn{Code: clsALU | op | srcK, Dst: dst, Imm: imm}
}
func alu32r(op uint8, dst, src uint8) kernel.BPFInsn {
	return kernel.BPFInsn{Code: clsALU | op | srcX, Dst: dst, Src: src}
}
func jmpi(class, op uint8, dst uint8, imm int32, off int16) kernel.BPFInsn {
	return kernel.BPFInsn{Code: class | op | srcK, Dst: dst, Imm: imm, Off: off}
}
func ja(off int16) kernel.BPFInsn { return kernel.BPFInsn{Code: clsJMP | jmpJA, Off: off} }

// Rewrite turns program name of set into the kernel's xlated form.
func Rewrite(set *kernel.Set, name string, f Facts) (*Program, error) {
	prog := set.Program(name)
	if prog == nil {
		return nil, fmt.Errorf("%s: no program %q", set.Name, name)
	}
	if prog.Xlated {
		return nil, fmt.Errorf("%s: program %s is already the kernel's translated form", set.Name, name)
	}
	if v := f.version(); v != Version61 && v != Version618 {
		return nil, fmt.Errorf("%s: jitscope models the verifier of Linux 6.1 and 6.18, not %s", set.Name, v)
	}
	r := &rewriter{set: set, prog: prog, f: f, mapIDs: map[string]int{}, known: map[int]bool{}}
	for i, m := range set.Maps {
		if id, ok := f.MapIDs[m.Name]; ok {
			r.mapIDs[m.Name] = id
		} else {
			r.mapIDs[m.Name] = i + 1
		}
	}
	if err := r.load(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := r.analyse(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.removeDead()
	if err := r.convertCtx(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := r.miscFixups(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r.finish()
}

type rewriter struct {
	set    *kernel.Set
	prog   *kernel.Program
	f      Facts
	mapIDs map[string]int
	items  []item
	// per original instruction: its item holds a map reference or a
	// helper id that the finish step encodes.
	mapRef      map[int]string // orig → map name (ld_imm64)
	funcs       []Func         // Start is an original index until finish
	origLen     int
	types       []regState // state before each original instruction
	notes       []string
	progType    string
	known       map[int]bool // conditional branches with one outcome: taken?
	zext        map[int]bool // 32-bit cmpxchgs whose r0 the verifier zero-extends
	mayGotoInit map[int]bool // functions whose may_goto slots are initialised
	// loopFit is, per bpf_loop call (original index), the callback it
	// always calls with flags 0 (fit_for_bpf_loop_inline), -1 if none.
	loopFit map[int]int
	calls   map[string]uint64
}

func (r *rewriter) layout(key string) (int16, error) {
	v, ok := r.f.Layout[key]
	if !ok {
		return 0, fmt.Errorf("struct offset %s unknown (kernel BTF needed)", key)
	}
	return int16(v), nil
}

// load converts the program's instructions into items, resolving
// bpf-to-bpf call targets and map references to original indexes.
func (r *rewriter) load() error {
	insns := r.prog.Insns
	r.progType = r.prog.Type
	r.mapRef = map[int]string{}
	syms, err := insns.SymbolOffsets()
	if err != nil {
		return err
	}
	slotOf := make([]int, len(insns)+1)
	idxOfSlot := map[int]int{}
	s := 0
	for i, ins := range insns {
		slotOf[i] = s
		idxOfSlot[s] = i
		s += int(ins.Size() / asm.InstructionSize)
	}
	slotOf[len(insns)] = s
	idxOfSlot[s] = len(insns)
	// Functions: the start, and every called or referenced symbol.
	starts := map[int]string{0: r.prog.Name}
	if sym := insns[0].Symbol(); sym != "" {
		starts[0] = sym
	}
	for _, ins := range insns {
		if ins.IsFunctionReference() && ins.Reference() != "" {
			off, ok := syms[ins.Reference()]
			if !ok {
				return fmt.Errorf("call to unknown function %q", ins.Reference())
			}
			starts[off] = ins.Reference()
		}
	}
	for i := 0; i <= len(insns); i++ {
		if n, ok := starts[i]; ok {
			r.funcs = append(r.funcs, Func{Name: n, Start: i})
		}
	}
	funcIdx := map[string]int{}
	for i, fn := range r.funcs {
		funcIdx[fn.Name] = i
	}
	for i, ins := range insns {
		raw, err := kernel.RawOf(ins)
		if err != nil {
			return fmt.Errorf("insn %d: %w", slotOf[i], err)
		}
		if r.f.version() == Version61 {
			if what := notIn61(raw); what != "" {
				return fmt.Errorf("insn %d: %s is not in Linux 6.1's instruction set: its verifier rejects the program", slotOf[i], what)
			}
		}
		it := item{in: raw, orig: i, target: -1, callee: -1}
		op := ins.OpCode
		switch {
		case op.IsDWordLoad():
			it.ld64 = true
			it.in.Imm = int32(uint32(raw.Imm64))
			it.hi = int32(uint32(raw.Imm64 >> 32))
			switch ins.Src {
			case asm.PseudoMapFD, asm.PseudoMapValue:
				ref := ins.Reference()
				if r.set.Map(ref) == nil {
					return fmt.Errorf("insn %d: reference to unknown map %q", slotOf[i], ref)
				}
				r.mapRef[i] = ref
				it.mapName = ref
			case asm.PseudoFunc:
				if r.f.version() != Version61 {
					return fmt.Errorf("insn %d: function pointers (bpf_loop callbacks) are not modelled", slotOf[i])
				}
				fi, ok := funcIdx[ins.Reference()]
				if !ok {
					return fmt.Errorf("insn %d: pointer to unknown function %q", slotOf[i], ins.Reference())
				}
				it.callee = fi
				it.target = r.funcs[fi].Start
			}
		case op.Class().IsJump() && op.JumpOp() == asm.Call && ins.Src == asm.PseudoCall:
			fi, ok := funcIdx[ins.Reference()]
			if !ok {
				return fmt.Errorf("insn %d: call to unknown function %q", slotOf[i], ins.Reference())
			}
			it.callee = fi
			it.target = r.funcs[fi].Start
		case op.Class().IsJump() && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit:
			off := int(ins.Offset)
			if op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja {
				off = int(ins.Constant)
			}
			t, ok := idxOfSlot[slotOf[i]+1+off]
			if !ok {
				return fmt.Errorf("insn %d: jump into the middle of an ld_imm64", slotOf[i])
			}
			it.target = t
		}
		r.items = append(r.items, it)
	}
	r.origLen = len(insns)
	return nil
}

// patch replaces the item of original instruction orig by the given
// instructions; the first keeps the original's identity (branches to it
// land on the patch's start).
func (r *rewriter) patch(at int, with []kernel.BPFInsn, note string) {
	old := r.items[at]
	var repl []item
	for k, in := range with {
		it := item{in: in, orig: -1, target: -1, callee: -1}
		if k == 0 {
			it.orig = old.orig
		}
		repl = append(repl, it)
	}
	r.items = append(r.items[:at], append(repl, r.items[at+1:]...)...)
	r.notes = append(r.notes, note)
}

// insertBefore puts instructions in front of the item at position at:
// the first of them takes over the original's identity (branches and
// calls to it land on the insertion), the original keeps its own branch.
func (r *rewriter) insertBefore(at int, with []kernel.BPFInsn, note string) {
	old := r.items[at]
	var ins []item
	for k, in := range with {
		it := item{in: in, orig: -1, target: -1, callee: -1}
		if k == 0 {
			it.orig = old.orig
		}
		ins = append(ins, it)
	}
	old.orig = -1
	r.items[at] = old
	r.items = append(r.items[:at], append(ins, r.items[at:]...)...)
	r.notes = append(r.notes, note)
}

// itemOf returns the position of original instruction orig.
func (r *rewriter) itemOf(orig int) int {
	for k, it := range r.items {
		if it.orig == orig {
			return k
		}
	}
	return -1
}

// finish lays the items out in slots, fixes branch offsets and encodes
// map references and calls as the xlated dump shows them.
func (r *rewriter) finish() (*Program, error) {
	pos := make([]int, len(r.items)+1)
	origPos := map[int]int{}
	s := 0
	for k, it := range r.items {
		pos[k] = s
		if it.orig >= 0 {
			origPos[it.orig] = s
		}
		s += it.slots()
	}
	origPos[r.origLen] = s
	// A removed instruction's place is the next one kept (branches to a
	// removed nop land there).
	for o := r.origLen - 1; o >= 0; o-- {
		if _, ok := origPos[o]; !ok {
			origPos[o] = origPos[o+1]
		}
	}
	p := &Program{Name: r.prog.Name, Type: r.prog.Type, Rewrites: r.notes, Calls: r.calls}
	for _, fn := range r.funcs {
		p.Funcs = append(p.Funcs, Func{Name: fn.Name, Start: origPos[fn.Start]})
	}
	cur := 0
	for k, it := range r.items {
		in := it.in
		if it.orig >= 0 {
			cur = it.orig
		}
		p.Origin = append(p.Origin, cur)
		if it.ld64 {
			p.Origin = append(p.Origin, cur)
		}
		if it.target >= 0 {
			t, ok := origPos[it.target]
			if !ok {
				return nil, fmt.Errorf("branch to a removed instruction")
			}
			off := t - (pos[k] + 1)
			if it.ld64 {
				// BPF_PSEUDO_FUNC after jit_subprogs: the relative offset
				// of the callback in imm, its index in the second slot.
				in.Imm, it.hi = int32(off), int32(it.callee)
				p.Insns = append(p.Insns, in, kernel.BPFInsn{Imm: it.hi})
				continue
			}
			if in.Code == clsJMP32|jmpJA {
				in.Imm = int32(off)
			} else {
				if off != int(int16(off)) {
					return nil, fmt.Errorf("branch offset %d out of range after rewriting", off)
				}
				in.Off = int16(off)
			}
			if it.callee >= 0 {
				// jit_subprogs: the dump shows the callee's index.
				in.Imm = int32(it.callee)
			}
		}
		if it.ld64 {
			hi := it.hi
			if name := it.mapName; name != "" && (in.Src == 1 || in.Src == 2) {
				// bpf_insn_prepare_dump: the map's id, and for a value
				// the offset in the second slot.
				in.Imm = int32(r.mapIDs[name])
				if in.Src == 1 {
					hi = 0
				}
			}
			p.Insns = append(p.Insns, in, kernel.BPFInsn{Imm: hi})
			continue
		}
		p.Insns = append(p.Insns, in)
	}
	return p, nil
}
