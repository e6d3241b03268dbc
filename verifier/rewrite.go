// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"fmt"

	"github.com/jitscope/jitscope/kernel"
)

// ctxField is one context field conversion: the uapi offset and size it
// applies to, whether it can be written, and the instructions it becomes.
type ctxField struct {
	name  string
	off   int16
	size  uint8 // access size the conversion is for (szW, szDW...)
	write bool
	conv  func(r *rewriter, in kernel.BPFInsn, write bool) ([]kernel.BPFInsn, error)
}

// simple converts to one load or store of size at the kernel struct
// offset key.
func simple(key string, size uint8) func(*rewriter, kernel.BPFInsn, bool) ([]kernel.BPFInsn, error) {
	return func(r *rewriter, in kernel.BPFInsn, write bool) ([]kernel.BPFInsn, error) {
		off, err := r.layout(key)
		if err != nil {
			return nil, err
		}
		if write {
			st := stx(size, in.Dst, in.Src, off)
			if in.Code&7 == clsST {
				st.Code = clsST | size | modeMEM
				st.Imm = in.Imm
			}
			return []kernel.BPFInsn{st}, nil
		}
		return []kernel.BPFInsn{ldx(size, in.Dst, in.Src, off)}, nil
	}
}

// offPlus is like simple at the sum of two struct offsets plus extra.
func offPlus(a, b string, extra int16, size uint8) func(*rewriter, kernel.BPFInsn, bool) ([]kernel.BPFInsn, error) {
	return func(r *rewriter, in kernel.BPFInsn, write bool) ([]kernel.BPFInsn, error) {
		x, err := r.layout(a)
		if err != nil {
			return nil, err
		}
		y, err := r.layout(b)
		if err != nil {
			return nil, err
		}
		if write {
			st := stx(size, in.Dst, in.Src, x+y+extra)
			if in.Code&7 == clsST {
				st.Code = clsST | size | modeMEM
				st.Imm = in.Imm
			}
			return []kernel.BPFInsn{st}, nil
		}
		return []kernel.BPFInsn{ldx(size, in.Dst, in.Src, x+y+extra)}, nil
	}
}

// chain loads through pointers: dst = *(u64 *)(src + a); dst = *(.. *)(dst + b) ...
func chain(size uint8, keys ...string) func(*rewriter, kernel.BPFInsn, bool) ([]kernel.BPFInsn, error) {
	return func(r *rewriter, in kernel.BPFInsn, write bool) ([]kernel.BPFInsn, error) {
		var out []kernel.BPFInsn
		src := in.Src
		for i, k := range keys {
			off, err := r.layout(k)
			if err != nil {
				return nil, err
			}
			sz := uint8(szDW)
			if i == len(keys)-1 {
				sz = size
			}
			out = append(out, ldx(sz, in.Dst, src, off))
			src = in.Dst
		}
		return out, nil
	}
}

// skbFields are struct __sk_buff (uapi) → struct sk_buff, after
// bpf_convert_ctx_access (net/core/filter.c, 6.18).
var skbFields = []ctxField{
	{"len", 0, szW, false, simple("sk_buff.len", szW)},
	{"pkt_type", 4, szW, false, func(r *rewriter, in kernel.BPFInsn, _ bool) ([]kernel.BPFInsn, error) {
		off, err := r.layout("sk_buff.__pkt_type_offset")
		if err != nil {
			return nil, err
		}
		// PKT_TYPE_MAX = 7 (include/linux/skbuff.h), little endian.
		return []kernel.BPFInsn{ldx(szB, in.Dst, in.Src, off), alu32i(opAnd, in.Dst, 7)}, nil
	}},
	{"mark", 8, szW, true, simple("sk_buff.mark", szW)},
	{"queue_mapping", 12, szW, false, simple("sk_buff.queue_mapping", szH)},
	{"protocol", 16, szW, false, simple("sk_buff.protocol", szH)},
	{"vlan_present", 20, szW, false, func(r *rewriter, in kernel.BPFInsn, _ bool) ([]kernel.BPFInsn, error) {
		off, err := r.layout("sk_buff.vlan_all")
		if err != nil {
			return nil, err
		}
		return []kernel.BPFInsn{ldx(szW, in.Dst, in.Src, off), jmpi(clsJMP, jmpJEQ, in.Dst, 0, 1), alu32i(opMov, in.Dst, 1)}, nil
	}},
	{"priority", 32, szW, true, simple("sk_buff.priority", szW)},
	{"ingress_ifindex", 36, szW, false, simple("sk_buff.skb_iif", szW)},
	{"ifindex", 40, szW, false, chain(szW, "sk_buff.dev", "net_device.ifindex")},
	{"tc_index", 44, szW, true, simple("sk_buff.tc_index", szH)},
	{"hash", 68, szW, false, simple("sk_buff.hash", szW)},
	{"data", 76, szW, false, simple("sk_buff.data", szDW)},
	{"data_end", 80, szW, false, offPlus("sk_buff.cb", "bpf_skb_data_end.data_end", 0, szDW)},
	{"napi_id", 84, szW, false, simple("sk_buff.napi_id", szW)},
}

// xdpFields are struct xdp_md → struct xdp_buff (xdp_convert_ctx_access).
var xdpFields = []ctxField{
	{"data", 0, szW, false, simple("xdp_buff.data", szDW)},
	{"data_end", 4, szW, false, simple("xdp_buff.data_end", szDW)},
	{"data_meta", 8, szW, false, simple("xdp_buff.data_meta", szDW)},
	{"ingress_ifindex", 12, szW, false, chain(szW, "xdp_buff.rxq", "xdp_rxq_info.dev", "net_device.ifindex")},
	{"rx_queue_index", 16, szW, false, chain(szW, "xdp_buff.rxq", "xdp_rxq_info.queue_index")},
	{"egress_ifindex", 20, szW, false, chain(szW, "xdp_buff.txq", "xdp_txq_info.dev", "net_device.ifindex")},
}

func (r *rewriter) ctxFields() []ctxField {
	switch r.progType {
	case "sched_cls", "sched_act", "socket_filter", "cgroup_skb":
		return skbFields
	case "xdp":
		return xdpFields
	}
	return nil
}

// convertCtx rewrites every load and store through the context pointer
// (convert_ctx_accesses).
func (r *rewriter) convertCtx() error {
	fields := r.ctxFields()
	for orig := 0; orig < r.origLen; orig++ {
		k := r.itemOf(orig)
		if k < 0 {
			continue // removed
		}
		in := r.items[k].in
		st := r.types[orig]
		if !st.seen {
			continue // unreachable: the verifier removes it
		}
		cls := in.Code & 7
		var base uint8
		write := false
		switch {
		case cls == clsLDX && in.Code&0xe0 == modeMEM:
			base = in.Src
		case (cls == clsSTX || cls == clsST) && in.Code&0xe0 == modeMEM:
			base, write = in.Dst, true
		default:
			continue
		}
		switch st.regs[base].k {
		case kCtx:
		case kMixed:
			return fmt.Errorf("insn %d: the context or another pointer in r%d, depending on the path", orig, base)
		default:
			continue
		}
		size := in.Code & 0x18
		var f *ctxField
		for i := range fields {
			c := &fields[i]
			if c.name == "cb" {
				continue
			}
			if in.Off == c.off {
				f = c
			}
		}
		if f == nil && (r.progType == "sched_cls" || r.progType == "sched_act") && in.Off >= 48 && in.Off < 68 {
			// cb[0..4]: qdisc_skb_cb's data, any size.
			f = &ctxField{name: fmt.Sprintf("cb[%d]", (in.Off-48)/4), off: in.Off, size: size, write: true,
				conv: offPlus("sk_buff.cb", "qdisc_skb_cb.data", in.Off-48, size)}
		}
		if f == nil {
			return fmt.Errorf("insn %d: context field at offset %d of %s is not modelled", orig, in.Off, r.progType)
		}
		if r.f.version() == Version61 && (f.name == "vlan_present" || f.name == "napi_id") {
			return fmt.Errorf("insn %d: context field %s: its Linux 6.1 conversion is not modelled", orig, f.name)
		}
		if size != f.size {
			return fmt.Errorf("insn %d: %d-byte access to context field %s (narrow and wide context accesses are not modelled)", orig, sizeBytes(size), f.name)
		}
		if write && !f.write {
			return fmt.Errorf("insn %d: a write to context field %s (read-only, or a write the verifier rewrites specially)", orig, f.name)
		}
		out, err := f.conv(r, in, write)
		if err != nil {
			return fmt.Errorf("insn %d: context field %s: %w", orig, f.name, err)
		}
		what := "read"
		if write {
			what = "write"
		}
		r.patch(k, out, fmt.Sprintf("insn %d: %s of ctx->%s → %d instruction(s) on the kernel's struct", orig, what, f.name, len(out)))
	}
	return nil
}

func sizeBytes(sz uint8) int {
	switch sz {
	case szB:
		return 1
	case szH:
		return 2
	case szW:
		return 4
	}
	return 8
}

// Helper ids (include/uapi/linux/bpf.h).
const (
	fnMapLookup          = 1
	fnMapUpdate          = 2
	fnMapDelete          = 3
	fnGetSmpProcessorID  = 8
	fnTailCall           = 12
	fnGetPrandomU32      = 7
	fnGetCurrentPidTgid  = 14
	fnJiffies64          = 118
	fnMapLookupPercpuElm = 195
	fnForEachMapElem     = 164
	fnLoop               = 181
)

// helperFuncs are the kernel functions behind helpers whose
// implementation is not named bpf_<helper> (the proto's .func).
var helperFuncs = map[int32]string{
	fnGetPrandomU32:     "bpf_user_rnd_u32",
	fnGetSmpProcessorID: "bpf_get_raw_cpu_id",
}

// mapOps are the map_ops functions a map helper call becomes
// (do_misc_fixups: BPF_CALL_IMM(ops->map_update_elem) ...), by map type.
var mapOps = map[string]map[int32]string{
	"array":        {fnMapUpdate: "array_map_update_elem", fnMapDelete: "array_map_delete_elem", fnForEachMapElem: "bpf_for_each_array_elem"},
	"percpu_array": {fnMapUpdate: "array_map_update_elem", fnMapDelete: "array_map_delete_elem", fnForEachMapElem: "bpf_for_each_array_elem"},
	"hash":         {fnMapUpdate: "htab_map_update_elem", fnMapDelete: "htab_map_delete_elem", fnForEachMapElem: "bpf_for_each_hash_elem"},
	"percpu_hash":  {fnMapLookup: "htab_percpu_map_lookup_elem", fnMapUpdate: "htab_percpu_map_update_elem", fnMapDelete: "htab_map_delete_elem", fnForEachMapElem: "bpf_for_each_hash_elem"},
	"lru_hash":     {fnMapUpdate: "htab_lru_map_update_elem", fnMapDelete: "htab_lru_map_delete_elem", fnForEachMapElem: "bpf_for_each_hash_elem"},
}

func (r *rewriter) call(name string) (kernel.BPFInsn, error) {
	var a uint64
	ok := false
	if r.f.Func != nil {
		a, ok = r.f.Func(name)
	}
	if !ok {
		return kernel.BPFInsn{}, fmt.Errorf("kernel function %s has no address", name)
	}
	if r.calls == nil {
		r.calls = map[string]uint64{}
	}
	r.calls[name] = a
	rel := int64(a) - int64(r.f.CallBase)
	if rel != int64(int32(rel)) {
		return kernel.BPFInsn{}, fmt.Errorf("%s at %#x is out of reach of __bpf_call_base", name, a)
	}
	return kernel.BPFInsn{Code: clsJMP | jmpCall, Imm: int32(rel)}, nil
}

// miscFixups is do_misc_fixups for what it changes on x86-64 with a JIT.
func (r *rewriter) miscFixups() error {
	for orig := 0; orig < r.origLen; orig++ {
		k := r.itemOf(orig)
		if k < 0 {
			continue
		}
		it := r.items[k]
		in := it.in
		st := r.types[orig]
		cls, op := in.Code&7, in.Code&0xf0
		switch {
		case (cls == clsALU || cls == clsALU64) && (op == opDiv || op == opMod) && in.Code&srcX != 0:
			is64 := cls == clsALU64
			jc, ac := uint8(clsJMP32), uint8(clsALU)
			if is64 {
				jc, ac = clsJMP, clsALU64
			}
			var out []kernel.BPFInsn
			switch {
			case in.Off == 1 && op == opDiv:
				// chk_and_sdiv: [R,W]x sdiv 0 -> 0, LLONG_MIN sdiv -1 -> LLONG_MIN
				out = []kernel.BPFInsn{alu64r(opMov, regAX, in.Src),
					{Code: ac | opAdd | srcK, Dst: regAX, Imm: 1},
					jmpi(jc, jmpJGT, regAX, 1, 4), jmpi(jc, jmpJEQ, regAX, 0, 1),
					{Code: ac | opMov | srcK, Dst: in.Dst}, {Code: ac | opNeg | srcK, Dst: in.Dst}, ja(1), in}
			case in.Off == 1:
				// chk_and_smod: [R,W]x mod 0 -> [R,W]x, [R,W]x mod -1 -> 0
				more := int16(1)
				if is64 {
					more = 0
				}
				out = []kernel.BPFInsn{alu64r(opMov, regAX, in.Src),
					{Code: ac | opAdd | srcK, Dst: regAX, Imm: 1},
					jmpi(jc, jmpJGT, regAX, 1, 3), jmpi(jc, jmpJEQ, regAX, 1, 3+more),
					alu32i(opMov, in.Dst, 0), ja(1), in}
				if !is64 {
					out = append(out, ja(1), alu32r(opMov, in.Dst, in.Dst))
				}
			case op == opDiv:
				// chk_and_div: [R,W]x div 0 -> 0
				out = []kernel.BPFInsn{jmpi(jc, jmpJNE, in.Src, 0, 2), alu32r(opXor, in.Dst, in.Dst), ja(1), in}
			default:
				// chk_and_mod: [R,W]x mod 0 -> [R,W]x
				out = []kernel.BPFInsn{jmpi(jc, jmpJEQ, in.Src, 0, 1), in}
				if !is64 {
					out = []kernel.BPFInsn{jmpi(jc, jmpJEQ, in.Src, 0, 2), in, ja(1), alu32r(opMov, in.Dst, in.Dst)}
				}
			}
			r.patch(k, out, fmt.Sprintf("insn %d: division by a register behind the verifier's divide-by-zero guard", orig))
		case (cls == clsALU || cls == clsALU64) && (op == opDiv || op == opMod) && in.Code&srcX == 0 && in.Off == 1 && in.Imm == -1:
			// sdiv/smod by -1: NEG dst / dst = 0 (divide-by-minus-one
			// exceptions made impossible)
			if op == opDiv {
				r.patch(k, []kernel.BPFInsn{{Code: cls | opNeg | srcK, Dst: in.Dst}}, fmt.Sprintf("insn %d: signed division by -1 → negation", orig))
			} else {
				r.patch(k, []kernel.BPFInsn{alu32i(opMov, in.Dst, 0)}, fmt.Sprintf("insn %d: signed modulo by -1 → 0", orig))
			}
		case cls == clsLD && (in.Code&0xe0 == 0x20 || in.Code&0xe0 == 0x40):
			if r.f.version() != Version61 {
				return fmt.Errorf("insn %d: LD_ABS/LD_IND: its rewrite (bpf_gen_ld_abs) is modelled for Linux 6.1 only", orig)
			}
			out, err := r.ldAbs61(in)
			if err != nil {
				return fmt.Errorf("insn %d: %w", orig, err)
			}
			r.patch(k, out, fmt.Sprintf("insn %d: LD_ABS/LD_IND → call of a skb load helper (bpf_gen_ld_abs)", orig))
		case in.Code == clsSTX|szW|0xc0 && in.Imm == 0xf1 && r.zext[orig]:
			// A 32-bit BPF_CMPXCHG defines w0: opt_subreg_zext_lo32_rnd_hi32
			// zero-extends it even for JITs that need no zext
			// (BPF_ZEXT_REG: w0 = w0 with imm 1) when r0 is later read as
			// 64 bits (markZext).
			r.patch(k, []kernel.BPFInsn{in, {Code: clsALU | opMov | srcX, Dst: 0, Src: 0, Imm: 1}},
				fmt.Sprintf("insn %d: 32-bit cmpxchg: r0 zero-extended", orig))
		case in.Code == clsJMP|0xe0|srcK && in.Src == 0:
			// may_goto (BPF_JMP|BPF_JCOND): x86-64 has
			// bpf_jit_supports_timed_may_goto, so the timed form (6.18).
			if err := r.mayGoto(k, orig, it); err != nil {
				return fmt.Errorf("insn %d: %w", orig, err)
			}
		case cls == clsJMP && op == jmpCall && in.Src == 0:
			if err := r.fixCall(k, orig, in, st); err != nil {
				return fmt.Errorf("insn %d: %w", orig, err)
			}
		}
	}
	return nil
}

func (r *rewriter) fixCall(k, orig int, in kernel.BPFInsn, st regState) error {
	id := in.Imm
	if id == fnTailCall {
		return nil // the dump shows tail calls as "call 12"
	}
	if id == fnLoop {
		return r.bpfLoop(k, orig)
	}
	if id == fnMapLookup || id == fnMapUpdate || id == fnMapDelete || id == fnForEachMapElem {
		mv := st.regs[1]
		if mv.k == kMap {
			m := r.set.Map(mv.m)
			if id == fnMapLookup {
				if out, err := r.genLookup(m); err != nil {
					return err
				} else if out != nil {
					r.patch(k, out, fmt.Sprintf("insn %d: lookup in %s %s inlined (map_gen_lookup)", orig, m.Type, m.Name))
					return nil
				}
			}
			name, ok := mapOps[m.Type][id]
			if id == fnMapLookup && m.Type == "percpu_array" && r.f.version() == Version61 {
				name, ok = "percpu_array_map_lookup_elem", true
			}
			if ok {
				c, err := r.call(name)
				if err != nil {
					return err
				}
				r.patch(k, []kernel.BPFInsn{c}, fmt.Sprintf("insn %d: map helper on %s → %s", orig, m.Name, name))
				return nil
			}
			return fmt.Errorf("map helper %d on a %s map: its ops are not modelled", id, m.Type)
		}
	}
	if id == fnGetSmpProcessorID && r.f.version() == Version61 {
		// Not inlined before 6.10. tc and XDP programs get
		// bpf_get_smp_processor_id_proto (tc_cls_act_func_proto,
		// xdp_func_proto, net/core/filter.c), the others the base proto's
		// bpf_get_raw_cpu_id (bpf_base_func_proto, kernel/bpf/helpers.c).
		name := "bpf_get_raw_cpu_id"
		switch r.progType {
		case "sched_cls", "sched_act", "xdp":
			name = "bpf_get_smp_processor_id"
		}
		c, err := r.call(name)
		if err != nil {
			return err
		}
		r.items[k].in = c
		return nil
	}
	if id == fnGetSmpProcessorID {
		if r.f.CPUNumber == 0 {
			return fmt.Errorf("bpf_get_smp_processor_id is inlined with &cpu_number, which is not known")
		}
		// BPF_MOV64_IMM(r0, (u32)&cpu_number); BPF_MOV64_PERCPU_REG(r0, r0);
		// BPF_LDX_MEM(BPF_W, r0, r0, 0)
		r.patch(k, []kernel.BPFInsn{alu64i(opMov, 0, int32(r.f.CPUNumber)),
			{Code: clsALU64 | opMov | srcX, Dst: 0, Src: 0, Off: -1}, ldx(szW, 0, 0, 0)},
			fmt.Sprintf("insn %d: bpf_get_smp_processor_id inlined (per-CPU load of cpu_number)", orig))
		return nil
	}
	if id == fnJiffies64 {
		if r.f.Jiffies == 0 {
			return fmt.Errorf("bpf_jiffies64 is inlined with &jiffies, which is not known")
		}
		// BPF_LD_IMM64(r0, &jiffies); BPF_LDX_MEM(BPF_DW, r0, r0, 0)
		r.patch(k, []kernel.BPFInsn{{Code: clsLD | szDW, Dst: 0, Imm: int32(uint32(r.f.Jiffies))}, ldx(szDW, 0, 0, 0)},
			fmt.Sprintf("insn %d: bpf_jiffies64 inlined (load of jiffies)", orig))
		r.items[k].ld64 = true
		r.items[k].hi = int32(uint32(r.f.Jiffies >> 32))
		return nil
	}
	name := helperFuncs[id]
	if name == "" {
		name = kernel.HelperName(int64(id))
	}
	if name == "" {
		return fmt.Errorf("unknown helper %d", id)
	}
	c, err := r.call(name)
	if err != nil {
		return err
	}
	r.items[k].in = c
	return nil
}

// genLookup is the map type's map_gen_lookup (kernel/bpf/arraymap.c,
// hashtab.c, 6.18), nil when the type has none modelled.
func (r *rewriter) genLookup(m *kernel.Map) ([]kernel.BPFInsn, error) {
	switch m.Type {
	case "array":
		val, err := r.layout("bpf_array.value")
		if err != nil {
			return nil, err
		}
		elem := int32((m.ValueSize + 7) &^ 7)
		out := []kernel.BPFInsn{alu64i(opAdd, 1, int32(val)), ldx(szW, 0, 2, 0)}
		if r.f.Unprivileged {
			mask := int32(roundPow2(m.MaxEntries) - 1)
			out = append(out, jmpi(clsJMP, jmpJGE, 0, int32(m.MaxEntries), 4), alu32i(opAnd, 0, mask))
		} else {
			out = append(out, jmpi(clsJMP, jmpJGE, 0, int32(m.MaxEntries), 3))
		}
		if elem&(elem-1) == 0 {
			out = append(out, alu64i(opLsh, 0, int32(log2(uint32(elem)))))
		} else {
			out = append(out, alu64i(opMul, 0, elem))
		}
		return append(out, alu64r(opAdd, 0, 1), ja(1), alu64i(opMov, 0, 0)), nil
	case "percpu_array":
		if r.f.version() == Version61 {
			// percpu_array_map_gen_lookup came with 6.10: 6.1 calls
			// percpu_array_map_lookup_elem through the map's ops.
			return nil, nil
		}
		pp, err := r.layout("bpf_array.pptrs")
		if err != nil {
			return nil, err
		}
		out := []kernel.BPFInsn{alu64i(opAdd, 1, int32(pp)), ldx(szW, 0, 2, 0)}
		if r.f.Unprivileged {
			mask := int32(roundPow2(m.MaxEntries) - 1)
			out = append(out, jmpi(clsJMP, jmpJGE, 0, int32(m.MaxEntries), 6), alu32i(opAnd, 0, mask))
		} else {
			out = append(out, jmpi(clsJMP, jmpJGE, 0, int32(m.MaxEntries), 5))
		}
		return append(out, alu64i(opLsh, 0, 3), alu64r(opAdd, 0, 1), ldx(szDW, 0, 0, 0),
			kernel.BPFInsn{Code: clsALU64 | opMov | srcX, Off: -1}, ja(1), alu64i(opMov, 0, 0)), nil
	case "hash":
		key, err := r.layout("htab_elem.key")
		if err != nil {
			return nil, err
		}
		c, err := r.call("__htab_map_lookup_elem")
		if err != nil {
			return nil, err
		}
		return []kernel.BPFInsn{c, jmpi(clsJMP, jmpJEQ, 0, 0, 1), alu64i(opAdd, 0, int32(key)+int32((m.KeySize+7)&^7))}, nil
	}
	return nil, nil
}

func roundPow2(n uint32) uint32 {
	p := uint32(1)
	for p < n {
		p <<= 1
	}
	return p
}

func log2(n uint32) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}

// BPF_MAX_TIMED_LOOPS (kernel/bpf/verifier.c, 6.18).
const maxTimedLoops = 0xffff

// mayGoto rewrites a may_goto into the timed counter sequence and, once
// per function, initialises the counter and timestamp slots at the
// function's start (do_misc_fixups, 6.18).
func (r *rewriter) mayGoto(k, orig int, it item) error {
	fi := 0
	for i, fn := range r.funcs {
		if fn.Start <= orig {
			fi = i
		}
	}
	depth := r.funcDepth(fi)
	off := int16(-depth - 16)
	call, err := r.call("arch_bpf_timed_may_goto")
	if err != nil {
		return err
	}
	out := []kernel.BPFInsn{ldx(szDW, regAX, 10, off), jmpi(clsJMP, jmpJEQ, regAX, 0, 0),
		alu64i(opSub, regAX, 1), jmpi(clsJMP, jmpJNE, regAX, 0, 2), alu64i(opMov, regAX, int32(off)),
		call, stx(szDW, 10, regAX, off)}
	r.patch(k, out, fmt.Sprintf("insn %d: may_goto → timed loop counter at r10%+d", orig, off))
	// The JEQ leaves the patch for the may_goto's own target.
	r.items[k+1].target = it.target
	if r.mayGotoInit == nil {
		r.mayGotoInit = map[int]bool{}
	}
	if !r.mayGotoInit[fi] {
		r.mayGotoInit[fi] = true
		at := r.itemOf(r.funcs[fi].Start)
		if at < 0 {
			return fmt.Errorf("function %s start removed", r.funcs[fi].Name)
		}
		r.insertBefore(at, []kernel.BPFInsn{
			{Code: clsST | szDW | modeMEM, Dst: 10, Off: off, Imm: maxTimedLoops},
			{Code: clsST | szDW | modeMEM, Dst: 10, Off: off + 8, Imm: 0}},
			fmt.Sprintf("function %s: may_goto counter and timestamp initialised", r.funcs[fi].Name))
	}
	return nil
}

// funcDepth is function fi's stack depth before may_goto's slots: the
// verifier's (reported with the 16 bytes added) or the deepest r10-based
// access in the program as written, rounded to 8.
func (r *rewriter) funcDepth(fi int) int {
	if fi < len(r.f.StackDepths) && r.f.StackDepths[fi] >= 16 {
		return r.f.StackDepths[fi] - 16
	}
	return r.writtenDepth(fi)
}

// writtenDepth is the deepest r10-based access of function fi as
// written, rounded up to 8.
func (r *rewriter) writtenDepth(fi int) int {
	end := r.origLen
	if fi+1 < len(r.funcs) {
		end = r.funcs[fi+1].Start
	}
	deepest := 0
	for o := r.funcs[fi].Start; o < end; o++ {
		if !r.types[o].seen {
			continue
		}
		in := r.items[0].in
		for _, it := range r.items {
			if it.orig == o {
				in = it.in
			}
		}
		st := r.types[o]
		var base uint8
		switch in.Code & 7 {
		case clsLDX:
			base = in.Src
		case clsST, clsSTX:
			base = in.Dst
		default:
			continue
		}
		if base <= 10 {
			if b := st.regs[base]; b.k == kFP {
				if d := -(b.off + int(in.Off)); d > deepest {
					deepest = d
				}
			}
		}
	}
	return (deepest + 7) &^ 7
}
