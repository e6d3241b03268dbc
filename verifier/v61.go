// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/kernel"
)

// Kernel versions whose verifier the rewrites model (Facts.Version).
const (
	Version618 = "6.18"
	Version61  = "6.1"
)

// version is the kernel version f describes; facts without one are the
// model's original subject, 6.18.
func (f Facts) version() string {
	if f.Version == "" {
		return Version618
	}
	return f.Version
}

// debian61Layout are the struct offsets of Debian bookworm's
// linux-image-6.1.0-50-arm64 and -amd64 (6.1.176-1), read from the BTF
// inside each vmlinuz (groundtruth tools/btf.py offsets); the two agree on
// every offset the rewrites use. These are the kernels of the captures
// arm64-6.1, arm64-6.1-src, arm64-6.1-a57 and x86_64-6.1. Linux 6.1's
// sk_buff has no vlan_all (it came with 6.2's "net: remove
// skb->vlan_present"), so __sk_buff.vlan_present is not modelled for 6.1.
func debian61Layout() map[string]int {
	return map[string]int{
		"bpf_array.value": 272, "bpf_array.pptrs": 272, "bpf_array.elem_size": 256, "bpf_array.index_mask": 260,
		"htab_elem.key": 48,
		"sk_buff.len":   112, "sk_buff.protocol": 180, "sk_buff.mark": 168, "sk_buff.priority": 140,
		"sk_buff.queue_mapping": 124, "sk_buff.tc_index": 134, "sk_buff.hash": 148, "sk_buff.dev": 16,
		"sk_buff.data": 208, "sk_buff.cb": 40, "sk_buff.__pkt_type_offset": 128, "sk_buff.skb_iif": 144,
		"sk_buff.napi_id": 156, "qdisc_skb_cb.data": 8, "bpf_skb_data_end.data_end": 40, "net_device.ifindex": 216,
		"xdp_buff.data": 0, "xdp_buff.data_end": 8, "xdp_buff.data_meta": 16, "xdp_buff.rxq": 32, "xdp_buff.txq": 40,
		"xdp_rxq_info.dev": 0, "xdp_rxq_info.queue_index": 8, "xdp_txq_info.dev": 0,
	}
}

// bti61Layout are the struct offsets of the clang-built tinyconfig 6.1.192
// arm64 kernel with CONFIG_ARM64_BTI_KERNEL=y (captures arm64-6.1-bti and
// arm64-6.1-bti-src). It has no BTF: the offsets were computed as the
// groundtruth's tools/offsets-from-build.sh does, offsetof() compiled with
// that build's own command line (kernel/bpf/.arraymap.o.cmd), extended to
// the sk_buff, qdisc_skb_cb, bpf_skb_data_end and net_device members.
// htab_elem is private to kernel/bpf/hashtab.c and its layout does not
// depend on the configuration on 64-bit kernels: key at 48 (hash_node 16,
// the 24-byte union of the freelist/htab pointers and the lru node, hash
// 4, key aligned to 8).
func bti61Layout() map[string]int {
	return map[string]int{
		"bpf_array.value": 272, "bpf_array.pptrs": 272, "bpf_array.elem_size": 256, "bpf_array.index_mask": 260,
		"htab_elem.key": 48,
		"sk_buff.len":   104, "sk_buff.data": 192, "sk_buff.cb": 40, "sk_buff.mark": 152, "sk_buff.protocol": 164,
		"sk_buff.priority": 128, "sk_buff.queue_mapping": 116, "sk_buff.hash": 136, "sk_buff.dev": 16,
		"sk_buff.skb_iif": 132, "sk_buff.__pkt_type_offset": 120, "bpf_skb_data_end.data_end": 40,
		"qdisc_skb_cb.data": 8, "net_device.ifindex": 216,
	}
}

// V61 are the facts of Linux 6.1 as Debian bookworm builds it
// (6.1.0-50-arm64 and -amd64 have the same struct offsets), for arch.
// Function addresses and map ids are not facts of a version: Offline
// gives stand-ins, FactsFromCapture the ones of a real load. CallBase is
// __bpf_call_base of those kernels booted with nokaslr (the captures'
// boots), so that the stand-ins lie in the architecture's kernel text.
func V61(arch kernel.Arch) Facts {
	f := Facts{Version: Version61, Arch: arch, Layout: debian61Layout(), CallBase: 0xffffffff811ffc30}
	if arch == kernel.ARM64 {
		f.CallBase = 0xffff800008222f40
	}
	return f
}

// layoutOf returns the built-in struct offsets of the kernel a capture
// was taken on, by its release, or nil.
func layoutOf(k capture.KernelInfo) map[string]int {
	switch {
	case k.Version == Version61 && strings.HasPrefix(k.Release, "6.1.0-50-"):
		return debian61Layout()
	case k.Version == Version61 && k.Release == "6.1.192":
		return bti61Layout()
	case k.Version == Version618 && strings.HasPrefix(k.Release, "6.18.44-fc-"):
		return V618().Layout
	}
	return nil
}

// FactsFromCapture returns the facts of the load a kernel capture
// recorded: its kernel's version and architecture, struct offsets (the
// capture's own layout over the built-in offsets of its kernel, by
// release), __bpf_call_base and the kernel functions in its symbols, its
// maps' ids and the verifier's stack depth of each function. A root
// loader (the captures' loaders run as root), so privileged.
func FactsFromCapture(c *capture.Capture) (Facts, error) {
	k := c.Kernel
	if k.Version != Version61 && k.Version != Version618 {
		return Facts{}, fmt.Errorf("%s: jitscope models the verifier of Linux 6.1 and 6.18, not %s", c.Dir, k.Version)
	}
	pl := c.Placement()
	if pl == nil {
		return Facts{}, fmt.Errorf("%s: the capture has no placement for %s", c.Dir, k.Arch)
	}
	f := Facts{Version: k.Version, Arch: k.Arch, Layout: map[string]int{}, MapIDs: map[string]int{}}
	for key, v := range layoutOf(k) {
		f.Layout[key] = v
	}
	for key, v := range pl.Layout {
		f.Layout[key] = v
	}
	// value, ptrs and pptrs share one union at the end of struct bpf_array.
	if v, ok := pl.Layout["bpf_array.value"]; ok {
		f.Layout["bpf_array.pptrs"] = v
	}
	base, ok := pl.Symbols["__bpf_call_base"]
	if !ok {
		return Facts{}, fmt.Errorf("%s: capture.json symbols has no __bpf_call_base", c.Dir)
	}
	f.CallBase = base
	syms := pl.Symbols
	f.Func = func(name string) (uint64, bool) { a, ok := syms[name]; return a, ok }
	f.Jiffies = syms["jiffies"]
	if k.Release == "6.18.44-fc-v669" {
		// &cpu_number is a per-CPU offset fixed by the build (V618's).
		f.CPUNumber = V618().CPUNumber
	}
	for _, m := range c.Maps {
		f.MapIDs[m.Name] = m.ID
	}
	for _, fn := range c.Funcs {
		f.StackDepths = append(f.StackDepths, fn.StackDepth)
	}
	return f, nil
}

// notIn61 names the instruction forms that came after Linux 6.1 (the
// cpu v4 forms of 6.6, may_goto of 6.9, load-acquire/store-release of
// 6.15), which 6.1's verifier rejects ("unknown opcode", "reserved
// fields"), or "" for one 6.1 knows.
func notIn61(in kernel.BPFInsn) string {
	cls, op := in.Code&7, in.Code&0xf0
	switch {
	case (cls == clsALU || cls == clsALU64) && (op == opDiv || op == opMod) && in.Off != 0:
		return "signed division or modulo (cpu v4 sdiv/smod)"
	case (cls == clsALU || cls == clsALU64) && op == opMov && in.Off != 0:
		return "sign-extending move (cpu v4 movsx)"
	case in.Code == clsALU64|0xd0:
		return "unconditional byte swap (cpu v4 bswap)"
	case cls == clsLDX && in.Code&0xe0 == 0x80:
		return "sign-extending load (cpu v4 ldsx)"
	case in.Code == clsJMP32|jmpJA:
		return "32-bit jump offset (cpu v4 gotol)"
	case in.Code == clsJMP|0xe0:
		return "may_goto"
	case cls == clsSTX && in.Code&0xe0 == 0xc0 && (in.Imm == 0x100 || in.Imm == 0x110):
		return "load-acquire or store-release"
	}
	return ""
}

// ldAbs61 is bpf_gen_ld_abs (net/core/filter.c, Linux 6.1), the
// do_misc_fixups rewrite of LD_ABS and LD_IND for socket filters and tc
// programs: the offset into r2 first, then the context (which the verifier
// guarantees is in r6) into r1, a call of the no-cache load helper of the
// size, and a hidden "return 0" when it fails. (Later kernels load r1
// first; 6.18's order is not checked against a kernel here, so its
// rewrite is not modelled.)
func (r *rewriter) ldAbs61(in kernel.BPFInsn) ([]kernel.BPFInsn, error) {
	var out []kernel.BPFInsn
	if in.Code&0xe0 == 0x20 { // BPF_ABS
		out = append(out, alu64i(opMov, 2, in.Imm))
	} else {
		out = append(out, alu64r(opMov, 2, in.Src))
		if in.Imm != 0 {
			out = append(out, alu64i(opAdd, 2, in.Imm))
		}
	}
	out = append(out, alu64r(opMov, 1, 6))
	helper := map[uint8]string{szB: "bpf_skb_load_helper_8_no_cache", szH: "bpf_skb_load_helper_16_no_cache",
		szW: "bpf_skb_load_helper_32_no_cache"}[in.Code&0x18]
	if helper == "" {
		return nil, fmt.Errorf("a 64-bit LD_ABS/LD_IND (the verifier rejects it)")
	}
	c, err := r.call(helper)
	if err != nil {
		return nil, err
	}
	const jsge = 0x70
	return append(out, c, jmpi(clsJMP, jsge, 0, 0, 2), alu32r(opXor, 0, 0),
		kernel.BPFInsn{Code: clsJMP | jmpExit}), nil
}

// What Linux 6.1's verifier does differently from 6.18's, as modelled
// (kernel/bpf/verifier.c, kernel/bpf/arraymap.c, net/core/filter.c at
// 6.1): the same divide-by-zero guards, map_gen_lookup of array and hash
// maps, inlined bpf_jiffies64 (any 64-bit JIT), zero-extension only after
// a 32-bit cmpxchg (neither arm64 nor x86-64 defines bpf_jit_needs_zext in
// 6.1), dead-code removal and tail calls left as "call 12"; but
//   - no cpu v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol), no
//     may_goto, no load-acquire/store-release: the program is refused;
//   - no NULL-test elision for constant-key array lookups
//     (can_elide_value_nullness is 6.13);
//   - per-CPU array lookups call percpu_array_map_lookup_elem (its
//     map_gen_lookup is 6.10);
//   - bpf_get_smp_processor_id is a call (inlined from 6.10 on x86-64);
//   - LD_ABS/LD_IND become bpf_gen_ld_abs's helper call sequence;
//   - callbacks (BPF_PSEUDO_FUNC ld_imm64) are modelled: bpf_loop is
//     inlined (inline_bpf_loop) when one callback and flags 0 reach it,
//     bpf_for_each_map_elem calls the map's map_for_each_callback.
// Not modelled for 6.1: __sk_buff.vlan_present and napi_id (their 6.1
// conversions differ from 6.18's and no capture shows them), the LRU hash
// lookup's map_gen_lookup, kfuncs, timers and storage helpers (which
// the verifier gives extra arguments), and an unprivileged loader's
// sanitations (pointer arithmetic masking, index masks, dead code kept
// as jumps).

// CaptureProgram returns the name of the program of set that a kernel
// capture recorded as name: the same, or the one name is the first 15
// characters of (the kernel keeps BPF_OBJ_NAME_LEN - 1 of them); "" for
// none.
func CaptureProgram(set *kernel.Set, name string) string {
	if set.Program(name) != nil {
		return name
	}
	for _, p := range set.Programs {
		if len(name) == 15 && strings.HasPrefix(p.Name, name) {
			return p.Name
		}
	}
	return ""
}

// BPF_MAX_LOOPS (include/linux/bpf.h) and E2BIG.
const (
	maxLoops = 8 * 1024 * 1024
	e2big    = 7
)

// bpfLoop rewrites a bpf_loop call: inlined as inline_bpf_loop does
// (optimize_bpf_loop, kernel/bpf/verifier.c, Linux 6.1) when every path
// passes the same callback and flags 0, else a call of bpf_loop. The loop
// keeps its bound, counter and context in r6-r8, spilled to three slots
// below the function's stack (which grows by them).
func (r *rewriter) bpfLoop(k, orig int) error {
	cb, fit := r.loopFit[orig]
	if r.f.version() != Version61 || !fit || cb < 0 {
		if r.f.version() != Version61 {
			return fmt.Errorf("bpf_loop: its inlining is modelled for Linux 6.1 only")
		}
		c, err := r.call("bpf_loop")
		if err != nil {
			return err
		}
		r.items[k].in = c
		return nil
	}
	fi := 0
	for i, fn := range r.funcs {
		if fn.Start <= orig {
			fi = i
		}
	}
	// The verifier's depth with the three slots (a capture's facts), or
	// the program's own rounded up to 8 and the slots added.
	depth := r.writtenDepth(fi) + 24
	if fi < len(r.f.StackDepths) && r.f.StackDepths[fi] >= 24 {
		depth = r.f.StackDepths[fi]
	}
	base := int16(-depth)
	const jle, jge = 0xb0, 0x30
	out := []kernel.BPFInsn{
		jmpi(clsJMP, jle, 1, maxLoops, 2), alu32i(opMov, 0, -e2big), ja(16),
		stx(szDW, 10, 6, base), stx(szDW, 10, 7, base+8), stx(szDW, 10, 8, base+16),
		alu64r(opMov, 6, 1), alu32i(opMov, 7, 0), alu64r(opMov, 8, 3),
		{Code: clsJMP | jge | srcX, Dst: 7, Src: 6, Off: 5},
		alu64r(opMov, 1, 7), alu64r(opMov, 2, 8),
		{Code: clsJMP | jmpCall, Src: 1}, // the callback, placed by finish
		alu64i(opAdd, 7, 1), jmpi(clsJMP, jmpJEQ, 0, 0, -6),
		alu64r(opMov, 0, 7),
		ldx(szDW, 6, 10, base), ldx(szDW, 7, 10, base+8), ldx(szDW, 8, 10, base+16),
	}
	r.patch(k, out, fmt.Sprintf("insn %d: bpf_loop inlined, callback %s, r6-r8 spilled at r10%+d", orig, r.funcs[cb].Name, base))
	r.items[k+12].callee = cb
	r.items[k+12].target = r.funcs[cb].Start
	return nil
}
