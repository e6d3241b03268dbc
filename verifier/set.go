// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// V618 are the facts of Linux 6.18 x86-64 as this project's capture
// machine built it (6.18.44-fc-v669, gcc 15): struct offsets read from its
// BTF (/sys/kernel/btf/vmlinux) and &cpu_number from its xlated
// instructions (testdata/helpers.json). Function addresses are not facts
// of a version (every boot moves them): Offline gives stand-ins.
func V618() Facts {
	return Facts{
		Layout: map[string]int{
			"bpf_array.elem_size": 296, "bpf_array.index_mask": 300, "bpf_array.pptrs": 312, "bpf_array.value": 312,
			"bpf_skb_data_end.data_end": 40, "htab_elem.key": 48, "net_device.ifindex": 224, "qdisc_skb_cb.data": 8,
			"sk_buff.__pkt_type_offset": 128, "sk_buff.cb": 40, "sk_buff.data": 200, "sk_buff.dev": 16, "sk_buff.hash": 148,
			"sk_buff.len": 112, "sk_buff.mark": 164, "sk_buff.napi_id": 156, "sk_buff.priority": 140, "sk_buff.protocol": 176,
			"sk_buff.queue_mapping": 124, "sk_buff.skb_iif": 144, "sk_buff.tc_index": 132, "sk_buff.vlan_all": 152,
			"xdp_buff.data": 0, "xdp_buff.data_end": 8, "xdp_buff.data_meta": 16, "xdp_buff.rxq": 32, "xdp_buff.txq": 40,
			"xdp_rxq_info.dev": 0, "xdp_rxq_info.queue_index": 8, "xdp_txq_info.dev": 0,
		},
		CPUNumber: 0x83b0e034,
		Version:   Version618,
		Arch:      kernel.X86_64,
	}
}

// FactsFor returns the built-in facts of a JIT profile, if jitscope has
// them.
func FactsFor(arch kernel.Arch, profile string) (Facts, bool) {
	switch {
	case arch == kernel.X86_64 && profile == "v6.18":
		return V618(), true
	case (arch == kernel.X86_64 || arch == kernel.ARM64) && profile == "v6.1":
		return V61(arch), true
	}
	return Facts{}, false
}

// Offline completes f for use without a kernel: __bpf_call_base, &jiffies
// and every kernel function a rewrite calls get stand-in addresses (x86-64
// kernel text unless f has a CallBase, one 256-byte slot per name in the
// order asked, above __bpf_call_base), so that the
// listing names them. The image then equals the kernel's except in the
// fields that hold addresses (calls, map pointers), which dump's relocs
// list.
func Offline(f Facts) Facts {
	if f.CallBase == 0 {
		f.CallBase = 0xffffffff814ca4d0
	}
	if f.Jiffies == 0 {
		// &jiffies, a data symbol: a stand-in in kernel data, past the
		// functions' stand-ins.
		f.Jiffies = f.CallBase + 0x1000000
	}
	known := map[string]uint64{}
	next := f.CallBase + 0x10000
	prev := f.Func
	f.Func = func(name string) (uint64, bool) {
		if prev != nil {
			if a, ok := prev(name); ok {
				return a, true
			}
		}
		if a, ok := known[name]; ok {
			return a, true
		}
		known[name] = next
		next += 0x100
		return known[name], true
	}
	return f
}

// ToSet builds the kernel.Set the JITs compile from the rewritten
// programs: programs in xlated form (as a kernel capture holds them), the
// set's maps with the ids the rewrites used, and __bpf_call_base and the
// called kernel functions named in the x86-64 placement.
func ToSet(orig *kernel.Set, arch kernel.Arch, progs []*Program, f Facts) (*kernel.Set, error) {
	s := &kernel.Set{Name: orig.Name, Description: orig.Description + " (after jitscope's verifier model)", Source: orig.Source}
	ids := map[string]int{}
	for i, m := range orig.Maps {
		id := i + 1
		if v, ok := f.MapIDs[m.Name]; ok {
			id = v
		}
		ids[m.Name] = id
		mm := *m
		mm.ID = id
		s.Maps = append(s.Maps, &mm)
	}
	pl := s.Placement(arch)
	if op := orig.Placements[arch]; op != nil {
		*pl = *op
	}
	pl.Symbols = map[string]uint64{}
	if op := orig.Placements[arch]; op != nil {
		for k, v := range op.Symbols {
			pl.Symbols[k] = v
		}
	}
	pl.Symbols["__bpf_call_base"] = f.CallBase
	for _, p := range progs {
		insns, err := decode(p.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		kp := &kernel.Program{Name: p.Name, Type: p.Type, Insns: insns, Xlated: true}
		op := orig.Program(p.Name)
		for _, fn := range p.Funcs {
			idx, err := slotIndex(insns, fn.Start)
			if err != nil {
				return nil, fmt.Errorf("%s: function %s: %w", p.Name, fn.Name, err)
			}
			kf := kernel.Func{Name: fn.Name, Start: idx, StackDepth: -1}
			if op != nil {
				for _, of := range op.Funcs {
					if of.Name == fn.Name {
						kf.Prototype = of.Prototype
					}
				}
			}
			kp.Funcs = append(kp.Funcs, kf)
		}
		s.Programs = append(s.Programs, kp)
		for name, a := range p.Calls {
			pl.Symbols[name] = a
		}
	}
	return s, nil
}

func slotIndex(insns asm.Instructions, slot int) (int, error) {
	s := 0
	for i, in := range insns {
		if s == slot {
			return i, nil
		}
		s += int(in.Size() / asm.InstructionSize)
	}
	return 0, fmt.Errorf("slot %d is not an instruction start", slot)
}

// decode reads xlated bytes into instructions; helper calls are taken
// as they are (imm = address − __bpf_call_base, which cilium/ebpf would
// refuse as a helper id).
func decode(b []byte) (asm.Instructions, error) {
	var out asm.Instructions
	for s := 0; s < len(b)/8; {
		raw := b[8*s:]
		if raw[0] == 0x85 && raw[1] == 0 {
			out = append(out, asm.Instruction{OpCode: asm.OpCode(raw[0]), Offset: int16(binary.LittleEndian.Uint16(raw[2:])),
				Constant: int64(int32(binary.LittleEndian.Uint32(raw[4:])))})
			s++
			continue
		}
		var ins asm.Instruction
		r := bytes.NewReader(raw)
		if err := ins.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
			return nil, fmt.Errorf("insn %d: %v", s, err)
		}
		out = append(out, ins)
		s += (len(raw) - r.Len()) / 8
	}
	return out, nil
}

// CallNames lists the kernel functions the program calls, sorted.
func (p *Program) CallNames() []string {
	var n []string
	for k := range p.Calls {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
