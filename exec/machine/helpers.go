package machine

import (
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/kernel"
)

// Helper return values the kernel uses.
const (
	errENOENT = ^uint64(2 - 1) // -2
	errE2BIG  = ^uint64(7 - 1) // -7
	errEINVAL = ^uint64(22 - 1)
	errEEXIST = ^uint64(17 - 1)
	// errENOTSUPP is the kernel-internal ENOTSUPP (524), which helpers
	// such as bpf_skb_change_proto return as is.
	errENOTSUPP = ^uint64(524 - 1)
)

// BPF_ANY, BPF_NOEXIST, BPF_EXIST for map updates.
const (
	bpfAny     = 0
	bpfNoExist = 1
	bpfExist   = 2
)

// helperImpls are the helpers jitscope models, by kernel name.
var helperImpls = map[string]func(k *Kernel, a [5]uint64) (uint64, error){
	"bpf_map_lookup_elem":       (*Kernel).mapLookup,
	"bpf_map_update_elem":       (*Kernel).mapUpdate,
	"bpf_map_delete_elem":       (*Kernel).mapDelete,
	"bpf_ktime_get_ns":          func(k *Kernel, _ [5]uint64) (uint64, error) { k.Clock += 1000; return k.Clock, nil },
	"bpf_ktime_get_boot_ns":     func(k *Kernel, _ [5]uint64) (uint64, error) { k.Clock += 1000; return k.Clock, nil },
	"bpf_get_prandom_u32":       (*Kernel).prandom,
	"bpf_get_smp_processor_id":  func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_trace_printk":          (*Kernel).tracePrintk,
	"bpf_redirect":              (*Kernel).redirect,
	"bpf_get_current_pid_tgid":  func(*Kernel, [5]uint64) (uint64, error) { return 0x0000_1000_0000_1000, nil },
	"bpf_get_current_task":      func(k *Kernel, _ [5]uint64) (uint64, error) { return k.currentTask(), nil },
	"bpf_get_current_task_btf":  func(k *Kernel, _ [5]uint64) (uint64, error) { return k.currentTask(), nil },
	"bpf_jiffies64":             func(k *Kernel, _ [5]uint64) (uint64, error) { return 4294967296 + k.Clock/4_000_000, nil },
	"bpf_get_numa_node_id":      func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_get_hash_recalc":       func(*Kernel, [5]uint64) (uint64, error) { return 0x5eed, nil },
	"bpf_skb_load_bytes":        (*Kernel).skbLoadBytes,
	"bpf_xdp_adjust_head":       func(*Kernel, [5]uint64) (uint64, error) { return errEINVAL, nil },
	"bpf_get_route_realm":       func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_get_cgroup_classid":    func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_get_socket_cookie":     func(*Kernel, [5]uint64) (uint64, error) { return 0x1000, nil },
	"bpf_ringbuf_output":        func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_perf_event_output":     func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_skb_change_type":       func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_skb_change_proto":      (*Kernel).skbChangeProto,
	"bpf_csum_diff":             func(*Kernel, [5]uint64) (uint64, error) { return 0, nil },
	"bpf_redirect_map":          func(*Kernel, [5]uint64) (uint64, error) { return 4, nil },
	"bpf_get_current_comm":      (*Kernel).currentComm,
	"bpf_probe_read_kernel":     (*Kernel).probeRead,
	"bpf_probe_read_kernel_str": (*Kernel).probeRead,
}

// redirect models bpf_redirect: TC_ACT_REDIRECT (7) for tc programs,
// XDP_REDIRECT (4) for XDP programs.
func (k *Kernel) redirect([5]uint64) (uint64, error) {
	if k.ProgType == "xdp" {
		return 4, nil
	}
	return 7, nil
}

// skbChangeProto is bpf_skb_change_proto(skb, proto, flags)
// (net/core/filter.c): flags must be 0, and bpf_skb_proto_xlat translates
// only between IPv4 and IPv6; any other protocol is -ENOTSUPP. The
// translation itself (rewriting the headers) is not modelled.
func (k *Kernel) skbChangeProto(args [5]uint64) (uint64, error) {
	if args[2] != 0 {
		return errEINVAL, nil
	}
	switch uint16(args[1]) {
	case 0x0008, 0xdd86: // htons(ETH_P_IP), htons(ETH_P_IPV6)
		return 0, fmt.Errorf("bpf_skb_change_proto: the IPv4/IPv6 header translation is not modelled")
	}
	return errENOTSUPP, nil
}

func (k *Kernel) currentTask() uint64 { return k.heapEnd - 0x1000 }

func (k *Kernel) registerHelpers() error {
	add := func(name string, addr uint64) {
		fn := helperImpls[name]
		if k.Verified != nil {
			if f := kernelHelpers[name]; f != nil {
				fn = f
			} else if fn == nil {
				fn = kernelFuncs[name]
			}
		}
		if fn == nil {
			fn = func(*Kernel, [5]uint64) (uint64, error) {
				return 0, fmt.Errorf("helper %s is not modelled by jitscope", name)
			}
		}
		h := &Helper{Name: name, ID: kernel.HelperID(name), Addr: addr, Fn: fn}
		if name == "arch_bpf_timed_may_goto" && k.Verified != nil {
			h.Raw = (*Kernel).timedMayGoto
		}
		k.helpers[addr] = h
		if h.ID > 0 {
			k.helperID[h.ID] = h
		}
	}
	for _, l := range k.Loaded {
		for _, f := range l.Funcs {
			for _, in := range f.Insns {
				if in.Kind != kernel.HelperCall {
					continue
				}
				addr := l.CallBase + uint64(int64(in.Raw.Imm))
				if _, ok := k.helpers[addr]; ok {
					continue
				}
				name := in.Ref
				if name == "" {
					name = fmt.Sprintf("helper@%#x", addr)
				}
				add(name, addr)
				if _, ok := k.Mem.RegionAt(addr); !ok {
					// Helpers are kernel text: map a few bytes so that a
					// call lands somewhere executable; the run loop
					// intercepts the address before fetching.
					if err := k.Mem.Map("helper "+name, addr, 4, mem.Read|mem.Exec); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// HelperAt returns the helper at addr.
func (k *Kernel) HelperAt(addr uint64) *Helper { return k.helpers[addr] }

// HelperByID returns the helper with id (for the BPF interpreter, which
// sees helper ids in programs that were not resolved to addresses).
func (k *Kernel) HelperByID(id int64) *Helper { return k.helperID[id] }

// HelperByName returns a helper registered under name.
func (k *Kernel) HelperByName(name string) *Helper {
	for _, h := range k.helpers {
		if h.Name == name {
			return h
		}
	}
	return nil
}

func (k *Kernel) mapArg(a uint64) (*Map, error) {
	m := k.MapByAddr(a)
	if m == nil {
		return nil, fmt.Errorf("map argument %#x is not a map", a)
	}
	return m, nil
}

func (k *Kernel) readKey(m *Map, addr uint64) ([]byte, error) {
	return k.Mem.ReadBytes(addr, int(m.Spec.KeySize))
}

// mapLookup models bpf_map_lookup_elem: a pointer to the value or NULL.
func (k *Kernel) mapLookup(a [5]uint64) (uint64, error) {
	m, err := k.mapArg(a[0])
	if err != nil {
		return 0, err
	}
	key, err := k.readKey(m, a[1])
	if err != nil {
		return 0, err
	}
	if isArray(m.Spec) {
		idx := leUint(key)
		if idx >= uint64(m.Spec.MaxEntries) {
			return 0, nil
		}
		return m.ValueAddr + idx*roundUp8(uint64(m.Spec.ValueSize)), nil
	}
	if m.Spec.IsProgArray() {
		return 0, fmt.Errorf("bpf_map_lookup_elem on a prog array")
	}
	return m.hash[string(key)], nil
}

// mapUpdate models bpf_map_update_elem for arrays and hash maps.
func (k *Kernel) mapUpdate(a [5]uint64) (uint64, error) {
	m, err := k.mapArg(a[0])
	if err != nil {
		return 0, err
	}
	key, err := k.readKey(m, a[1])
	if err != nil {
		return 0, err
	}
	val, err := k.Mem.ReadBytes(a[2], int(m.Spec.ValueSize))
	if err != nil {
		return 0, err
	}
	flags := a[3]
	if flags > bpfExist {
		return errEINVAL, nil
	}
	if isArray(m.Spec) {
		idx := leUint(key)
		if idx >= uint64(m.Spec.MaxEntries) {
			return errE2BIG, nil
		}
		if flags == bpfNoExist {
			return errEEXIST, nil
		}
		return 0, k.Mem.WriteBytes(m.ValueAddr+idx*roundUp8(uint64(m.Spec.ValueSize)), val)
	}
	if m.Spec.IsProgArray() {
		return errEINVAL, nil // programs cannot update prog arrays
	}
	addr, ok := m.hash[string(key)]
	switch {
	case ok && flags == bpfNoExist:
		return errEEXIST, nil
	case !ok && flags == bpfExist:
		return errENOENT, nil
	case !ok:
		if len(m.hash) >= int(m.Spec.MaxEntries) {
			return errE2BIG, nil
		}
		if addr, err = k.allocElem(m, key); err != nil {
			return 0, err
		}
		m.hash[string(key)] = addr
		m.hashOrder = append(m.hashOrder, string(key))
	}
	return 0, k.Mem.WriteBytes(addr, val)
}

// allocElem allocates a hash map element and returns its value's
// address: the value alone, or with the kernel memory model a struct
// htab_elem with the key at its offset (what the inlined lookup reads).
func (k *Kernel) allocElem(m *Map, key []byte) (uint64, error) {
	vs := int(roundUp8(uint64(m.Spec.ValueSize)))
	if k.Verified == nil {
		return k.Alloc(vs)
	}
	off, err := k.htabValueOffset(m)
	if err != nil {
		return 0, err
	}
	elem, err := k.Alloc(int(off) + vs)
	if err != nil {
		return 0, err
	}
	ko, _ := k.field("htab_elem.key")
	if err := k.Mem.WriteBytes(elem+ko, key); err != nil {
		return 0, err
	}
	return elem + off, nil
}

// mapDelete models bpf_map_delete_elem.
func (k *Kernel) mapDelete(a [5]uint64) (uint64, error) {
	m, err := k.mapArg(a[0])
	if err != nil {
		return 0, err
	}
	key, err := k.readKey(m, a[1])
	if err != nil {
		return 0, err
	}
	if isArray(m.Spec) {
		return errEINVAL, nil
	}
	if _, ok := m.hash[string(key)]; !ok {
		return errENOENT, nil
	}
	delete(m.hash, string(key))
	return 0, nil
}

// prandom is a fixed-seed xorshift32, so runs are reproducible.
func (k *Kernel) prandom([5]uint64) (uint64, error) {
	x := k.Prandom
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	k.Prandom = x
	return uint64(x), nil
}

// tracePrintk records the format string with its arguments substituted
// for %d/%u/%x/%llx/%s-style conversions (best effort, like the kernel's
// bstr_printf on the three arguments).
func (k *Kernel) tracePrintk(a [5]uint64) (uint64, error) {
	n := int(a[1])
	if n <= 0 || n > 512 {
		return errEINVAL, nil
	}
	b, err := k.Mem.ReadBytes(a[0], n)
	if err != nil {
		return 0, err
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	out := formatPrintk(string(b), a[2:5])
	k.Printk = append(k.Printk, out)
	return uint64(len(out)), nil
}

func formatPrintk(f string, args []uint64) string {
	var sb strings.Builder
	ai := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			sb.WriteByte(f[i])
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("lhz", f[j]) >= 0 {
			j++
		}
		if j >= len(f) {
			sb.WriteString(f[i:])
			break
		}
		var v uint64
		if ai < len(args) {
			v = args[ai]
		}
		switch f[j] {
		case 'd', 'i':
			if j-i > 1 {
				fmt.Fprintf(&sb, "%d", int64(v))
			} else {
				fmt.Fprintf(&sb, "%d", int32(v))
			}
			ai++
		case 'u':
			fmt.Fprintf(&sb, "%d", v)
			ai++
		case 'x':
			fmt.Fprintf(&sb, "%x", v)
			ai++
		case 'p':
			fmt.Fprintf(&sb, "%#x", v)
			ai++
		case '%':
			sb.WriteByte('%')
		default:
			sb.WriteString(f[i : j+1])
			ai++
		}
		i = j
	}
	return sb.String()
}

func (k *Kernel) skbLoadBytes(a [5]uint64) (uint64, error) {
	off, to, n := a[1], a[2], a[3]
	if n == 0 || off > uint64(len(k.Packet)) || n > uint64(len(k.Packet))-off {
		return errEINVAL, nil
	}
	return 0, k.Mem.WriteBytes(to, k.Packet[off:off+n])
}

func (k *Kernel) currentComm(a [5]uint64) (uint64, error) {
	comm := []byte("jitscope\x00")
	if a[1] < uint64(len(comm)) {
		return errEINVAL, nil
	}
	return 0, k.Mem.WriteBytes(a[0], comm)
}

func (k *Kernel) probeRead(a [5]uint64) (uint64, error) {
	if a[1] > 1<<20 {
		return errEINVAL, nil
	}
	b, err := k.Mem.ReadBytes(a[2], int(a[1]))
	if err != nil {
		return errEINVAL, nil
	}
	return 0, k.Mem.WriteBytes(a[0], b)
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
