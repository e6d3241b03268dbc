// SPDX-License-Identifier: GPL-2.0-only

package machine

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/jitscope/jitscope/exec/amd64"
	"github.com/jitscope/jitscope/jit"
)

// The kernel memory model: what a program the verifier rewrote (Options.
// Verified) reads and calls. Its context accesses were converted to loads
// and stores on the kernel's own structs (struct sk_buff, struct
// xdp_buff and what they point to), its map lookups inlined on struct
// bpf_array and struct htab_elem, bpf_get_smp_processor_id turned into a
// per-CPU load of cpu_number, bpf_jiffies64 into a load of jiffies,
// may_goto into a call of arch_bpf_timed_may_goto, and helper calls into
// calls of the kernel functions behind them. The structs are laid out
// with the facts' offsets and filled as BPF_PROG_TEST_RUN fills them
// (net/bpf/test_run.c, 6.18), with the loopback device of the test run.

// perCPUDelta is CPU 0's __per_cpu_offset: the per-CPU variable at
// address a has CPU 0's copy at a + perCPUDelta, and gs holds it
// (x86-64's per-CPU symbols are kernel addresses since 6.15, gs the
// offset of this CPU's area). Chosen so that the copies land in the
// direct map.
const perCPUDelta uint64 = 1<<64 + 0xffff888140000000 - 0xffffffff80000000

// perCPUMaps is where jitscope's per-CPU allocator hands out the
// __percpu addresses of per-CPU array values (pcpu_alloc's chunk).
const perCPUMaps = 0xffffffffa0000000

// emulatedStepNs is the kernel memory model's time per instruction: the
// emulator is taken for a 1 MHz machine, so that a loop only time ends
// (may_goto's 250 ms slice, bpf_check_timed_may_goto) ends after a
// quarter of a million instructions rather than the billion a real CPU
// runs in that time; jiffies (read once, at the start) are not advanced.
const emulatedStepNs = 1000

// Loopback device facts (drivers/net/loopback.c, net/core/dev.c): the
// device BPF_PROG_TEST_RUN uses when the context names no ifindex; it is
// the first device of init_net.
const loopbackIfindex = 1

// Packet types (include/uapi/linux/if_packet.h).
const (
	packetHost      = 0
	packetBroadcast = 1
	packetMulticast = 2
	packetOtherhost = 3
)

func (k *Kernel) field(key string) (uint64, error) {
	v, ok := k.Verified.Layout[key]
	if !ok {
		return 0, fmt.Errorf("kernel memory model: struct offset %s unknown", key)
	}
	return uint64(v), nil
}

// storeField writes size bytes of v at base + the offset of key.
func (k *Kernel) storeField(base uint64, key string, size int, v uint64) error {
	off, err := k.field(key)
	if err != nil {
		return err
	}
	return k.Mem.Store(base+off, size, v)
}

// layoutKernelState lays out what the rewritten code reaches besides the
// context: the per-CPU area (this_cpu_off, cpu_number, per-CPU array
// values) and jiffies.
func (k *Kernel) layoutKernelState(images map[string]*jit.Image) error {
	f := k.Verified
	if v, ok := f.Layout["bpf_array.value"]; ok && v != k.Layout.ArrayPtrs {
		return fmt.Errorf("kernel memory model: bpf_array.value at %d in the verifier facts, bpf_array.ptrs at %d in the JIT profile", v, k.Layout.ArrayPtrs)
	}
	k.PerCPUOffset = perCPUDelta
	perCPU := func(name string, addr uint64, size int, v uint64) error {
		if err := k.mapRange("per-CPU "+name, addr+perCPUDelta, uint64(size)); err != nil {
			return err
		}
		return k.Mem.Store(addr+perCPUDelta, size, v)
	}
	// this_cpu_off, where the x86-64 JIT reads this CPU's offset from
	// (gs:this_cpu_off), at the address the images were compiled with.
	for _, img := range images {
		for _, fn := range img.Funcs {
			for _, r := range fn.Relocs {
				if r.Name == "this_cpu_off" {
					if err := perCPU("this_cpu_off", r.Target, 8, perCPUDelta); err != nil {
						return err
					}
				}
			}
		}
	}
	if f.CPUNumber != 0 {
		// The inlined bpf_get_smp_processor_id sign-extends the 32-bit
		// address (BPF_MOV64_IMM): CPU 0 runs the program.
		if err := perCPU("cpu_number", uint64(int64(int32(f.CPUNumber))), 4, 0); err != nil {
			return err
		}
	}
	if f.Jiffies != 0 {
		if err := k.mapRange("jiffies", f.Jiffies, 8); err != nil {
			return err
		}
		if err := k.Mem.Store(f.Jiffies, 8, k.jiffies()); err != nil {
			return err
		}
	}
	// Per-CPU arrays: bpf_array.pptrs[i] holds the __percpu address of
	// element i (bpf_array_alloc_percpu); CPU 0's copies follow each
	// other, so the helpers' ValueAddr + i*elem stays CPU 0's element i.
	next := uint64(perCPUMaps)
	for _, name := range sortedMapNames(k.Maps) {
		m := k.Maps[name]
		if m.Spec.Type != "percpu_array" {
			continue
		}
		elem := roundUp8(uint64(m.Spec.ValueSize))
		n := uint64(m.Spec.MaxEntries) * elem
		if err := k.mapRange("per-CPU values of "+name, next+perCPUDelta, max(n, 8)); err != nil {
			return err
		}
		if len(m.Spec.Data) > 0 {
			if err := k.Mem.WriteBytes(next+perCPUDelta, m.Spec.Data); err != nil {
				return err
			}
		}
		for i := uint64(0); i < uint64(m.Spec.MaxEntries); i++ {
			if err := k.Mem.Store(m.Addr+uint64(k.Layout.ArrayPtrs)+8*i, 8, next+i*elem); err != nil {
				return fmt.Errorf("map %s: %w", name, err)
			}
		}
		m.ValueAddr = next + perCPUDelta
		next = (next + n + 0xfff) &^ 0xfff
	}
	return nil
}

func sortedMapNames(m map[string]*Map) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// jiffies is the emulator's jiffies: 2^32 plus the clock in ticks of
// 4 ms (HZ=250), as bpf_jiffies64 returns it.
func (k *Kernel) jiffies() uint64 { return 4294967296 + k.Clock/4_000_000 }

// layoutKernelContext builds the context a rewritten program reads: a
// struct sk_buff for the skb program types, a struct xdp_buff for XDP,
// with the loopback net_device (and, for XDP, its rx queue's
// xdp_rxq_info) they point to.
func (k *Kernel) layoutKernelContext(base uint64) error {
	// The context page: the struct at +0, net_device at +0x400,
	// xdp_rxq_info at +0x800.
	dev, rxq := base+0x400, base+0x800
	if err := k.storeField(dev, "net_device.ifindex", 4, loopbackIfindex); err != nil {
		return err
	}
	pkt := k.PacketAddr
	n := uint64(len(k.Packet))
	if n < 14 && (k.ProgType == "xdp" || isSkbType(k.ProgType)) {
		// bpf_test_init: -EINVAL below ETH_HLEN.
		return fmt.Errorf("kernel memory model: a %d-byte packet is shorter than an Ethernet header (BPF_PROG_TEST_RUN refuses it)", n)
	}
	if k.ProgType == "xdp" {
		// bpf_prog_test_run_xdp: xdp_init_buff with the loopback
		// device's rx queue 0, xdp_prepare_buff(..., meta_valid true):
		// data_meta = data; txq stays NULL.
		for _, s := range []struct {
			key string
			v   uint64
		}{
			{"xdp_buff.data", pkt}, {"xdp_buff.data_end", pkt + n}, {"xdp_buff.data_meta", pkt},
			{"xdp_buff.rxq", rxq}, {"xdp_buff.txq", 0},
		} {
			if err := k.storeField(base, s.key, 8, s.v); err != nil {
				return err
			}
		}
		if err := k.storeField(rxq, "xdp_rxq_info.dev", 8, dev); err != nil {
			return err
		}
		return k.storeField(rxq, "xdp_rxq_info.queue_index", 4, 0)
	}
	if !isSkbType(k.ProgType) {
		// The verifier model converts no other context: such programs
		// read their context as written (a zeroed page here).
		return nil
	}
	// bpf_prog_test_run_skb: the frame is put in the skb, eth_type_trans
	// pulls the Ethernet header (protocol, pkt_type, dev = loopback);
	// tc programs (is_l2) see it pushed back, and bpf_compute_data_pointers
	// sets the cb's data_end to data + headlen.
	data, length := pkt, n
	if k.ProgType == "socket_filter" || k.ProgType == "cgroup_skb" {
		data, length = pkt+14, n-14
	}
	proto, ptype := ethTypeTrans(k.Packet)
	for _, s := range []struct {
		key  string
		size int
		v    uint64
	}{
		{"sk_buff.len", 4, length}, {"sk_buff.data", 8, data}, {"sk_buff.dev", 8, dev},
		{"sk_buff.protocol", 2, uint64(proto)}, {"sk_buff.__pkt_type_offset", 1, ptype},
	} {
		if err := k.storeField(base, s.key, s.size, s.v); err != nil {
			return err
		}
	}
	cb, err := k.field("sk_buff.cb")
	if err != nil {
		return err
	}
	return k.storeField(base+cb, "bpf_skb_data_end.data_end", 8, data+length)
}

func isSkbType(t string) bool {
	switch t {
	case "sched_cls", "sched_act", "socket_filter", "cgroup_skb":
		return true
	}
	return false
}

// ethTypeTrans is eth_type_trans (net/ethernet/eth.c) on frame for the
// loopback device (dev_addr all zero, broadcast ff:ff:ff:ff:ff:ff): the
// protocol as stored (network order, read little-endian) and pkt_type.
func ethTypeTrans(frame []byte) (uint16, uint64) {
	dest := frame[:6]
	ptype := uint64(packetHost)
	zero, bcast := true, true
	for _, b := range dest {
		zero = zero && b == 0
		bcast = bcast && b == 0xff
	}
	switch {
	case zero:
	case dest[0]&1 != 0 && bcast:
		ptype = packetBroadcast
	case dest[0]&1 != 0:
		ptype = packetMulticast
	default:
		ptype = packetOtherhost
	}
	proto := binary.LittleEndian.Uint16(frame[12:])
	if be := binary.BigEndian.Uint16(frame[12:]); be >= 0x600 { // eth_proto_is_802_3
		return proto, ptype
	}
	if len(frame) >= 16 && binary.BigEndian.Uint16(frame[14:]) == 0xffff {
		return 0x0100, ptype // htons(ETH_P_802_3)
	}
	return 0x0400, ptype // htons(ETH_P_802_2)
}

// timedMayGoto is arch_bpf_timed_may_goto (arch/x86/net/
// bpf_timed_may_goto.S, 6.15+): BPF_REG_AX (r10) holds the stack offset
// of the frame's struct bpf_timed_may_goto {count, timestamp}; it calls
// bpf_check_timed_may_goto (kernel/bpf/core.c) on rbp + r10 and returns
// its result in r10, every other register kept. The check: a first call
// stamps the time and refreshes the count; later calls refresh it unless
// a quarter second has passed since (then 0: the loop ends).
func (k *Kernel) timedMayGoto(cpu CPU) (uint64, error) {
	x, ok := cpu.(interface{ AMD64() *amd64.CPU })
	if !ok {
		return 0, fmt.Errorf("arch_bpf_timed_may_goto is modelled for x86-64 only")
	}
	c := x.AMD64()
	p := c.R[5] + c.R[10] // rbp + r10
	ts, err := k.Mem.Load(p+8, 8)
	if err != nil {
		return 0, err
	}
	k.Clock += 1000 // ktime_get_mono_fast_ns
	var ret uint64 = 0xffff
	switch {
	case ts == 0:
		if err := k.Mem.Store(p+8, 8, k.Clock); err != nil {
			return 0, err
		}
	case k.Clock-ts >= 250_000_000:
		ret = 0
	}
	c.R[10] = ret
	// RET: pop the return address the JIT's call pushed.
	v, err := k.Mem.Load(c.R[4], 8)
	if err != nil {
		return 0, err
	}
	c.R[4] += 8
	c.RIP = v
	return ret, nil
}

// htabLookup is __htab_map_lookup_elem (kernel/bpf/hashtab.c): the
// struct htab_elem of key or NULL; the inlined lookup adds the key's
// offset and rounded size to reach the value.
func (k *Kernel) htabLookup(a [5]uint64) (uint64, error) {
	m, err := k.mapArg(a[0])
	if err != nil {
		return 0, err
	}
	key, err := k.readKey(m, a[1])
	if err != nil {
		return 0, err
	}
	v, ok := m.hash[string(key)]
	if !ok {
		return 0, nil
	}
	off, err := k.htabValueOffset(m)
	if err != nil {
		return 0, err
	}
	return v - off, nil
}

// htabValueOffset is where a value sits in its struct htab_elem:
// offsetof(key) + round_up(key_size, 8).
func (k *Kernel) htabValueOffset(m *Map) (uint64, error) {
	ko, err := k.field("htab_elem.key")
	if err != nil {
		return 0, err
	}
	return ko + roundUp8(uint64(m.Spec.KeySize)), nil
}

// xdpFrameSize is sizeof(struct xdp_frame) (include/net/xdp.h, 6.18):
// the head of the headroom bpf_xdp_adjust_head must leave alone.
const xdpFrameSize = 40

// xdpAdjustHead is bpf_xdp_adjust_head(xdp, offset) on the struct
// xdp_buff (net/core/filter.c, 6.18): data moves by offset within
// [data_hard_start + sizeof(struct xdp_frame) + metalen, data_end -
// ETH_HLEN], the metadata with it; -EINVAL otherwise. data_hard_start is
// the packet's address less the 256 bytes of XDP_PACKET_HEADROOM that
// BPF_PROG_TEST_RUN leaves (and layoutContext too).
func (k *Kernel) xdpAdjustHead(a [5]uint64) (uint64, error) {
	xdp, off := a[0], int64(int32(a[1]))
	load := func(key string) (uint64, uint64, error) {
		o, err := k.field(key)
		if err != nil {
			return 0, 0, err
		}
		v, err := k.Mem.Load(xdp+o, 8)
		return v, xdp + o, err
	}
	data, dataAt, err := load("xdp_buff.data")
	if err != nil {
		return 0, err
	}
	end, _, err := load("xdp_buff.data_end")
	if err != nil {
		return 0, err
	}
	meta, metaAt, err := load("xdp_buff.data_meta")
	if err != nil {
		return 0, err
	}
	metalen := uint64(0)
	if meta < data { // xdp_get_metalen: 0 when data_meta is invalid (> data)
		metalen = data - meta
	}
	start := k.PacketAddr - 256 + xdpFrameSize + metalen
	nd := uint64(int64(data) + off)
	if nd < start || nd > end-14 {
		return errEINVAL, nil
	}
	if metalen > 0 {
		b, err := k.Mem.ReadBytes(meta, int(metalen))
		if err != nil {
			return 0, err
		}
		if err := k.Mem.WriteBytes(uint64(int64(meta)+off), b); err != nil {
			return 0, err
		}
	}
	if err := k.Mem.Store(metaAt, 8, uint64(int64(meta)+off)); err != nil {
		return 0, err
	}
	return 0, k.Mem.Store(dataAt, 8, nd)
}

// kernelHelpers replace helperImpls on the kernel memory model, where
// these helpers work on the kernel's structs rather than the uapi ones.
var kernelHelpers = map[string]func(k *Kernel, a [5]uint64) (uint64, error){
	"bpf_xdp_adjust_head": (*Kernel).xdpAdjustHead,
}

// kernelFuncs are the kernel functions a rewritten program calls by
// address that are not named like the helper they implement
// (kernel/bpf/helpers.c, arraymap.c, hashtab.c; 6.18).
var kernelFuncs = map[string]func(k *Kernel, a [5]uint64) (uint64, error){
	"bpf_user_rnd_u32":         (*Kernel).prandom,
	"bpf_get_raw_cpu_id":       func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"array_map_update_elem":    (*Kernel).mapUpdate,
	"array_map_delete_elem":    (*Kernel).mapDelete,
	"htab_map_update_elem":     (*Kernel).mapUpdate,
	"htab_map_delete_elem":     (*Kernel).mapDelete,
	"htab_lru_map_update_elem": (*Kernel).mapUpdate,
	"htab_lru_map_delete_elem": (*Kernel).mapDelete,
	"__htab_map_lookup_elem":   (*Kernel).htabLookup,
	// Linux 6.1 calls it where 6.18 inlines the lookup.
	"percpu_array_map_lookup_elem": (*Kernel).percpuArrayLookup,
	// Linux 6.1's LD_ABS/LD_IND (net/core/filter.c).
	"bpf_skb_load_helper_8_no_cache":  func(k *Kernel, a [5]uint64) (uint64, error) { return k.skbLoad(a, 1) },
	"bpf_skb_load_helper_16_no_cache": func(k *Kernel, a [5]uint64) (uint64, error) { return k.skbLoad(a, 2) },
	"bpf_skb_load_helper_32_no_cache": func(k *Kernel, a [5]uint64) (uint64, error) { return k.skbLoad(a, 4) },
}

// skbLoad is bpf_skb_load_helper_{8,16,32}_no_cache (net/core/filter.c,
// 6.1): size bytes at offset a[1] of the packet of the struct sk_buff at
// a[0], big-endian, or -EFAULT past the linear data (the model's skbs
// have no fragments, data_len 0). Negative offsets (SKF_NET_OFF,
// SKF_LL_OFF: bpf_internal_load_pointer_neg_helper) are not modelled.
func (k *Kernel) skbLoad(a [5]uint64, size int) (uint64, error) {
	dataOff, err := k.field("sk_buff.data")
	if err != nil {
		return 0, err
	}
	lenOff, err := k.field("sk_buff.len")
	if err != nil {
		return 0, err
	}
	data, err := k.Mem.Load(a[0]+dataOff, 8)
	if err != nil {
		return 0, err
	}
	headlen, err := k.Mem.Load(a[0]+lenOff, 4)
	if err != nil {
		return 0, err
	}
	off := int64(int32(a[1]))
	if off < 0 {
		return 0, fmt.Errorf("LD_ABS/LD_IND at a negative offset (%d: SKF_NET_OFF/SKF_LL_OFF) is not modelled", off)
	}
	if int64(headlen)-off < int64(size) {
		efault := int64(-14)
		return uint64(efault), nil // -EFAULT, as the u64 BPF_CALL returns it
	}
	b, err := k.Mem.ReadBytes(data+uint64(off), size)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// percpuArrayLookup is percpu_array_map_lookup_elem (kernel/bpf/arraymap.c,
// 6.1): this_cpu_ptr(array->pptrs[index]), CPU 0's copy of element *key,
// or NULL past max_entries.
func (k *Kernel) percpuArrayLookup(a [5]uint64) (uint64, error) {
	m, err := k.mapArg(a[0])
	if err != nil {
		return 0, err
	}
	if m.Spec.Type != "percpu_array" {
		return 0, fmt.Errorf("percpu_array_map_lookup_elem on %s, a %s", m.Spec.Name, m.Spec.Type)
	}
	key, err := k.readKey(m, a[1])
	if err != nil {
		return 0, err
	}
	idx := leUint(key)
	if idx >= uint64(m.Spec.MaxEntries) {
		return 0, nil
	}
	return m.ValueAddr + idx*roundUp8(uint64(m.Spec.ValueSize)), nil
}
