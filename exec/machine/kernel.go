// Package machine is the kernel the JITed code talks to, laid out in
// emulated memory: program images at their addresses, struct bpf_prog with
// bpf_func, prog arrays (struct bpf_array: map.max_entries, ptrs[]), array
// and hash map values, the context and packet, a kernel stack, and helpers
// implemented in Go that run when the code calls their address. The CPU
// emulators (exec/a64, exec/amd64) and the BPF interpreter (exec/bpf) run
// against the same Kernel, so their results can be compared.
package machine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// Kernel is the emulated kernel state.
type Kernel struct {
	Arch   kernel.Arch
	Mem    *mem.Memory
	Layout kernel.Layout
	Maps   map[string]*Map  // by name
	Progs  map[string]*Prog // by program name
	// Loaded programs as the JIT received them, by program name.
	Loaded map[string]*kernel.Loaded
	// Images of each program, by program name (nil for interpreter runs).
	Images map[string]*jit.Image

	helpers  map[uint64]*Helper // by address
	helperID map[int64]*Helper  // by helper id
	heap     uint64             // next free byte of the heap region
	heapEnd  uint64

	// Deterministic sources for helpers.
	Clock   uint64 // bpf_ktime_get_ns
	Prandom uint32 // bpf_get_prandom_u32 state
	Printk  []string
	Packet  []byte
	// ProgType is the type of the set's first program ("sched_cls", "xdp").
	ProgType string
	// CtxAddr and PacketAddr locate the context and the packet.
	CtxAddr, PacketAddr uint64
	StackTop            uint64 // initial stack pointer (16-byte aligned)
	// Replaced holds the attached extensions by patched address.
	Replaced map[uint64]*Replacement
	ExitAddr uint64 // return address of the outermost call: reaching it ends the run
	// Verified holds the verifier facts of programs the verifier model
	// rewrote (Options.Verified): the context is then the kernel's own
	// struct (kernelmodel.go).
	Verified *verifier.Facts
	// StepNs is how far the clock (bpf_ktime_get_ns, the timestamps of
	// may_goto's time slice) moves per executed instruction: the kernel's
	// clocks run while the program does. 0 keeps it still between reads.
	StepNs uint64
	// PerCPUOffset is CPU 0's per-CPU offset, the gs base of x86-64 code
	// (0 without the kernel memory model).
	PerCPUOffset uint64
}

// Map is a map at run time.
type Map struct {
	Spec      *kernel.Map
	Addr      uint64 // struct bpf_map * (struct bpf_array for arrays)
	ValueAddr uint64 // array maps: address of element 0
	hash      map[string]uint64
	hashOrder []string
}

// Prog is a program at run time: its struct bpf_prog and main image.
type Prog struct {
	Name    string
	Addr    uint64 // struct bpf_prog *
	BPFFunc uint64 // address of the main function's image
	Loaded  *kernel.Loaded
}

// Helper is a kernel helper implemented in Go. Args are r1..r5.
type Helper struct {
	Name string
	ID   int64
	Addr uint64
	Fn   func(k *Kernel, args [5]uint64) (uint64, error)
	// Raw, when set, runs instead of Fn for kernel functions with their
	// own calling convention (arch_bpf_timed_may_goto): it sets the
	// registers and returns to the caller itself, reporting the value it
	// returned.
	Raw func(k *Kernel, cpu CPU) (uint64, error)
}

// Options configure New.
type Options struct {
	MemoryLimit int    // bytes of emulated memory (default 256 MiB)
	Packet      []byte // packet data (default: 64 bytes of an IPv4/TCP frame)
	PrandomSeed uint32
	// Loaded holds programs already loaded, by name, with
	// kernel.Options{Layout: layout} (a viewer has them from the JIT): New
	// loads the others. Loading a 1M-instruction program again took half a
	// second and its memory.
	Loaded map[string]*kernel.Loaded
	// Verified says the programs are the verifier model's rewrites made
	// with these facts (verifier.Rewrite, verifier.ToSet): the kernel
	// memory model lays out what they read (struct sk_buff, struct
	// xdp_buff, per-CPU data, jiffies) and their calls reach kernel
	// functions by name.
	Verified *verifier.Facts
}

// Memory regions per architecture: where jitscope puts what the kernel
// would allocate (stack, heap, context) — addresses in each architecture's
// kernel ranges so listings and traces look real.
var regionBase = map[kernel.Arch]struct{ stack, heap, ctx, objs, exit uint64 }{
	kernel.ARM64:  {stack: 0xffff800008000000, heap: 0xffff000010000000, ctx: 0xffff000012000000, objs: 0xffff000014000000, exit: 0xffff8000080ffff0},
	kernel.X86_64: {stack: 0xffffc90000000000, heap: 0xffff888110000000, ctx: 0xffff888112000000, objs: 0xffff888114000000, exit: 0xffffffff81000000},
}

const stackSize = 16 << 10

// New lays out set for arch: every program is loaded (kernel.Load) and, if
// images is non-nil, its machine code mapped at the image addresses.
func New(set *kernel.Set, arch kernel.Arch, layout kernel.Layout, images map[string]*jit.Image, opt Options) (*Kernel, error) {
	base, ok := regionBase[arch]
	if !ok {
		return nil, fmt.Errorf("no machine model for %s", arch)
	}
	k := &Kernel{
		Arch: arch, Mem: mem.New(opt.MemoryLimit), Layout: layout,
		Maps: map[string]*Map{}, Progs: map[string]*Prog{}, Loaded: map[string]*kernel.Loaded{},
		Images: images, helpers: map[uint64]*Helper{}, helperID: map[int64]*Helper{},
		Clock: 1_000_000_000, Prandom: opt.PrandomSeed, Verified: opt.Verified,
	}
	if k.Prandom == 0 {
		k.Prandom = 0x2545f491
	}
	if err := k.Mem.Map("kernel stack", base.stack, stackSize, mem.Read|mem.Write); err != nil {
		return nil, err
	}
	k.StackTop = base.stack + stackSize
	if err := k.Mem.Map("heap", base.heap, 1<<20, mem.Read|mem.Write); err != nil {
		return nil, err
	}
	k.heap, k.heapEnd = base.heap, base.heap+1<<20
	k.ExitAddr = base.exit
	if err := k.Mem.Map("return to kernel", base.exit, 16, mem.Read|mem.Exec); err != nil {
		return nil, err
	}
	for _, p := range set.Programs {
		l := opt.Loaded[p.Name]
		if l == nil {
			var err error
			if l, err = kernel.Load(set, p.Name, arch, kernel.Options{Layout: layout}); err != nil {
				return nil, err
			}
		}
		k.Loaded[p.Name] = l
		// The loaded layout has the placement's overrides: the offsets the
		// code was compiled against.
		k.Layout = l.Layout
	}
	if err := k.layoutMaps(set, base.objs); err != nil {
		return nil, err
	}
	if err := k.layoutProgs(set, base.objs+0x800000); err != nil {
		return nil, err
	}
	if err := k.fillProgArrays(); err != nil {
		return nil, err
	}
	if err := k.registerHelpers(); err != nil {
		return nil, err
	}
	if err := k.layoutContext(set, base.ctx, opt.Packet); err != nil {
		return nil, err
	}
	if k.Verified != nil {
		k.StepNs = emulatedStepNs
		if err := k.layoutKernelState(images); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Alloc returns n bytes of zeroed heap, 8-byte aligned.
func (k *Kernel) Alloc(n int) (uint64, error) {
	a := (k.heap + 7) &^ 7
	if a+uint64(n) > k.heapEnd {
		return 0, errors.New("emulated kernel heap exhausted")
	}
	k.heap = a + uint64(n)
	return a, nil
}

func (k *Kernel) layoutMaps(set *kernel.Set, objs uint64) error {
	// Addresses come from kernel.Load's placement: the same the JIT
	// baked into the code.
	var l *kernel.Loaded
	for _, ll := range k.Loaded {
		l = ll
		break
	}
	for i, m := range set.Maps {
		rm := &Map{Spec: m, hash: map[string]uint64{}}
		if l != nil {
			rm.Addr, rm.ValueAddr = l.MapAddrs[m.Name], l.ValueAddrs[m.Name]
		}
		if rm.Addr == 0 {
			rm.Addr = objs + uint64(i)*0x10000
			rm.ValueAddr = rm.Addr + uint64(k.Layout.ArrayPtrs)
		}
		if err := k.mapRange("map "+m.Name, rm.Addr, uint64(k.Layout.ArrayPtrs)+8*uint64(m.MaxEntries)+8); err != nil {
			return err
		}
		if isArray(m) {
			// At most 2^32 entries of 2^32 bytes: the product fits in
			// 64 bits unless value_size rounds up past 2^32.
			n := uint64(m.MaxEntries) * roundUp8(uint64(m.ValueSize))
			if m.MaxEntries != 0 && n/uint64(m.MaxEntries) != roundUp8(uint64(m.ValueSize)) {
				return fmt.Errorf("map %s: %d entries of %d bytes overflow the address space", m.Name, m.MaxEntries, m.ValueSize)
			}
			if err := k.mapRange("values of "+m.Name, rm.ValueAddr, max(n, 8)); err != nil {
				return err
			}
			if len(m.Data) > 0 {
				if err := k.Mem.WriteBytes(rm.ValueAddr, m.Data); err != nil {
					return err
				}
			}
		}
		// struct bpf_map: max_entries at its offset.
		if err := k.Mem.Store(rm.Addr+uint64(k.Layout.ArrayMaxEntries), 4, uint64(m.MaxEntries)); err != nil {
			return fmt.Errorf("map %s: %w", m.Name, err)
		}
		k.Maps[m.Name] = rm
	}
	return nil
}

// mapRange maps [a, a+n) read-write unless already covered (objects of a
// capture can share pages). Each gap between mapped regions becomes one
// region, so a map of a million entries costs one mapping, and a range
// beyond the memory limit is refused before anything is walked.
func (k *Kernel) mapRange(name string, a, n uint64) error {
	start := a &^ (mem.PageSize - 1)
	end := (a + n + mem.PageSize - 1) &^ (mem.PageSize - 1)
	if a+n < a || end < start {
		return fmt.Errorf("map %s: %d bytes at %#x wrap around the address space", name, n, a)
	}
	for p := start; p < end; {
		if r, ok := k.Mem.RegionAt(p); ok {
			p = (r.End + mem.PageSize - 1) &^ (mem.PageSize - 1)
			if p == 0 {
				break // the region ends at the top of the address space
			}
			continue
		}
		gap := end // up to the next region (which may share its first page)
		for _, r := range k.Mem.Regions() {
			if r.Start > p && r.Start < gap {
				gap = r.Start
			}
		}
		if err := k.Mem.Map(name, p, gap-p, mem.Read|mem.Write); err != nil {
			return err
		}
		p = gap
	}
	return nil
}

func roundUp8(n uint64) uint64 { return (n + 7) &^ 7 }

func isArray(m *kernel.Map) bool {
	switch m.Type {
	case "array", "percpu_array", "prog_array":
		return m.Type != "prog_array"
	}
	return false
}

func (k *Kernel) layoutProgs(set *kernel.Set, objs uint64) error {
	for i, p := range set.Programs {
		l := k.Loaded[p.Name]
		rp := &Prog{Name: p.Name, Addr: objs + uint64(i)*0x1000, BPFFunc: l.Funcs[0].Address, Loaded: l}
		if err := k.mapRange("struct bpf_prog "+p.Name, rp.Addr, uint64(k.Layout.ProgBPFFunc)+8); err != nil {
			return err
		}
		if err := k.Mem.Store(rp.Addr+uint64(k.Layout.ProgBPFFunc), 8, rp.BPFFunc); err != nil {
			return err
		}
		k.Progs[p.Name] = rp
		if k.Images == nil {
			continue
		}
		img := k.Images[p.Name]
		if img == nil {
			return fmt.Errorf("program %s has no image", p.Name)
		}
		for _, f := range img.Funcs {
			// arm64 images are followed by the 8-byte PLT target.
			if err := k.Mem.Map("image "+f.Name, f.Address, uint64(len(f.Code))+8, mem.Read|mem.Exec); err != nil {
				return err
			}
			if err := k.Mem.WriteBytes(f.Address, f.Code); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillProgArrays writes each prog array's filled slots: ptrs[key] = struct
// bpf_prog *.
func (k *Kernel) fillProgArrays() error {
	for _, m := range k.Maps {
		if !m.Spec.IsProgArray() {
			continue
		}
		keys := make([]uint32, 0, len(m.Spec.Progs))
		for key := range m.Spec.Progs {
			keys = append(keys, key)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, key := range keys {
			if err := k.SetProgArray(m.Spec.Name, key, m.Spec.Progs[key]); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetProgArray writes slot key of prog array name ("" empties it). It does
// not run text pokes: Machine.UpdateProgArray does both.
func (k *Kernel) SetProgArray(name string, key uint32, prog string) error {
	m := k.Maps[name]
	if m == nil || !m.Spec.IsProgArray() {
		return fmt.Errorf("no prog array %q", name)
	}
	if key >= m.Spec.MaxEntries {
		return fmt.Errorf("%s[%d]: index out of range (max_entries %d)", name, key, m.Spec.MaxEntries)
	}
	var ptr uint64
	if prog != "" {
		p := k.Progs[prog]
		if p == nil {
			return fmt.Errorf("%s[%d]: no program %q", name, key, prog)
		}
		ptr = p.Addr
	}
	return k.Mem.Store(m.Addr+uint64(k.Layout.ArrayPtrs)+8*uint64(key), 8, ptr)
}

// ProgAt returns the program whose struct bpf_prog is at addr.
func (k *Kernel) ProgAt(addr uint64) *Prog {
	for _, p := range k.Progs {
		if p.Addr == addr {
			return p
		}
	}
	return nil
}

// ProgByFunc returns the program and function whose image contains pc.
func (k *Kernel) ProgByFunc(pc uint64) (*Prog, *jit.FuncImage) {
	for name, img := range k.Images {
		for _, f := range img.Funcs {
			if pc >= f.Address && pc < f.Address+uint64(len(f.Code)) {
				return k.Progs[name], f
			}
		}
	}
	return nil, nil
}

// MapByAddr returns the map whose struct bpf_map is at addr.
func (k *Kernel) MapByAddr(addr uint64) *Map {
	for _, m := range k.Maps {
		if m.Addr == addr {
			return m
		}
	}
	return nil
}

// defaultPacket is a 64-byte Ethernet/IPv4/TCP frame, as the ground-truth
// captures' test runs used (protocol byte 6 at offset 23).
var defaultPacket = func() []byte {
	p := make([]byte, 64)
	copy(p, []byte{0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x32, 0, 0, 0, 0, 0x40, 0x06})
	return p
}()

// layoutContext builds the program's context: struct __sk_buff (uapi) for
// sched_cls/socket programs, struct xdp_md for XDP, with the packet.
func (k *Kernel) layoutContext(set *kernel.Set, base uint64, packet []byte) error {
	if packet == nil {
		packet = defaultPacket
	}
	k.Packet = append([]byte(nil), packet...)
	if err := k.Mem.Map("context", base, 0x1000, mem.Read|mem.Write); err != nil {
		return err
	}
	if err := k.Mem.Map("packet", base+0x1000, 0x1000, mem.Read|mem.Write); err != nil {
		return err
	}
	k.CtxAddr, k.PacketAddr = base, base+0x1000+0x100 // headroom as XDP has
	if err := k.Mem.WriteBytes(k.PacketAddr, k.Packet); err != nil {
		return err
	}
	if len(set.Programs) > 0 {
		k.ProgType = set.Programs[0].Type
	}
	if k.Verified != nil {
		return k.layoutKernelContext(base)
	}
	ctx := make([]byte, 192)
	le := binary.LittleEndian
	switch k.ProgType {
	case "xdp":
		// struct xdp_md { u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; }
		le.PutUint32(ctx[0:], uint32(k.PacketAddr))
		le.PutUint32(ctx[4:], uint32(k.PacketAddr+uint64(len(k.Packet))))
		le.PutUint32(ctx[8:], uint32(k.PacketAddr))
		le.PutUint32(ctx[12:], 1)
	default:
		// struct __sk_buff: len at 0, protocol at 16 (network order), data
		// at 76 and data_end at 80 (u32 as the uapi has them).
		le.PutUint32(ctx[0:], uint32(len(k.Packet)))
		le.PutUint32(ctx[16:], 0x0008)
		le.PutUint32(ctx[76:], uint32(k.PacketAddr))
		le.PutUint32(ctx[80:], uint32(k.PacketAddr+uint64(len(k.Packet))))
	}
	return k.Mem.WriteBytes(k.CtxAddr, ctx)
}

// memText lets kernel.PokeSite patch the emulated text.
type memText struct{ k *Kernel }

func (t memText) ReadText(addr uint64, n int) ([]byte, error) { return t.k.Mem.ReadBytes(addr, n) }
func (t memText) WriteText(addr uint64, b []byte) error       { return t.k.Mem.WriteBytes(addr, b) }

// PokeRecord is one text poke the kernel made during a map update.
type PokeRecord struct {
	Prog, Func string
	Step       kernel.PokeStep
}

// UpdateProgArray models a bpf_map_update_elem (prog != "") or
// bpf_map_delete_elem (prog == "") on a prog array from user space: the
// slot is written, then prog_array_map_poke_run patches every direct tail
// call on that slot, in the kernel's order (install C->D->B, update B->B,
// remove B->D, RCU grace period, ->C). The returned pokes say what was
// written; CPUs must drop decoded code for those addresses.
func (k *Kernel) UpdateProgArray(name string, key uint32, prog string) ([]PokeRecord, error) {
	m := k.Maps[name]
	if m == nil || !m.Spec.IsProgArray() {
		return nil, fmt.Errorf("no prog array %q", name)
	}
	if key >= m.Spec.MaxEntries {
		return nil, fmt.Errorf("%s[%d]: index out of range (max_entries %d): -E2BIG", name, key, m.Spec.MaxEntries)
	}
	oldPtr, err := k.Mem.Load(m.Addr+uint64(k.Layout.ArrayPtrs)+8*uint64(key), 8)
	if err != nil {
		return nil, err
	}
	var oldFunc, newFunc uint64
	if p := k.ProgAt(oldPtr); p != nil {
		oldFunc = p.BPFFunc
	}
	if prog != "" {
		p := k.Progs[prog]
		if p == nil {
			return nil, fmt.Errorf("%s[%d]: no program %q", name, key, prog)
		}
		newFunc = p.BPFFunc
	}
	if err := k.SetProgArray(name, key, prog); err != nil {
		return nil, err
	}
	var out []PokeRecord
	names := make([]string, 0, len(k.Images))
	for n := range k.Images {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, pn := range names {
		for _, f := range k.Images[pn].Funcs {
			for _, pk := range f.Pokes {
				if pk.Map != name || pk.Key != key {
					continue
				}
				site := &kernel.PokeSite{Func: f.Name, TargetAddr: f.Address + uint64(pk.Target), BypassAddr: f.Address + uint64(pk.Bypass),
					Map: pk.Map, Key: pk.Key, AdjOff: pk.AdjOff}
				steps, err := site.Update(memText{k}, oldFunc, newFunc)
				for _, st := range steps {
					out = append(out, PokeRecord{Prog: pn, Func: f.Name, Step: st})
				}
				if err != nil {
					return out, fmt.Errorf("%s/%s: %w", pn, f.Name, err)
				}
			}
		}
	}
	return out, nil
}
