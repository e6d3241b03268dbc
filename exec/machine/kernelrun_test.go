// SPDX-License-Identifier: GPL-2.0-only

package machine_test

// The real kernel agrees: every built-in scenario is loaded into the
// running kernel with cilium/ebpf, run with BPF_PROG_TEST_RUN, and its
// return value and global data (.bss) compared with the x86-64 v6.18
// emulator's run of the same scenario, first as the scenario fills its
// prog arrays and then after emptying each filled slot in turn (the
// selftests' bpf_map_delete_elem steps). Needs root and a BPF-capable
// kernel; skipped otherwise.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/rlimit"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// krPacket is the packet machine.New lays out by default (defaultPacket in
// exec/machine/kernel.go, unexported): a 64-byte Ethernet/IPv4/TCP frame,
// protocol byte 6 at offset 23, zeros after the first 24 bytes. Keep the
// two in step; TestKernelRunPacket checks that they are.
var krPacket = func() []byte {
	p := make([]byte, 64)
	copy(p, []byte{0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x32, 0, 0, 0, 0, 0x40, 0x06})
	return p
}()

// TestKernelRunPacket: the copy above is the emulator's packet.
func TestKernelRunPacket(t *testing.T) {
	m, err := stLoad(t, scenarios.Default, kernel.X86_64, krProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.k.Packet, krPacket) {
		t.Fatalf("machine's default packet\n% x\nis not the one the kernel test sends\n% x", m.k.Packet, krPacket)
	}
}

func krProfile(t *testing.T) *jit.Profile {
	t.Helper()
	p, err := jit.LookupProfile(kernel.X86_64, "v6.18")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// krNeedBPF skips unless the test can load and run BPF programs here.
func krNeedBPF(t *testing.T) {
	t.Helper()
	skip := func(reason string) {
		t.Helper()
		t.Skipf("needs root and a BPF-capable kernel: %s", reason)
	}
	if os.Geteuid() != 0 {
		skip(fmt.Sprintf("running as uid %d, not root", os.Geteuid()))
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		skip("cannot lift RLIMIT_MEMLOCK: " + err.Error())
	}
	if err := features.HaveProgramType(ebpf.SchedCLS); err != nil {
		skip("no BPF_PROG_TYPE_SCHED_CLS: " + err.Error())
	}
	if err := features.HaveMapType(ebpf.ProgramArray); err != nil {
		skip("no BPF_MAP_TYPE_PROG_ARRAY: " + err.Error())
	}
	if _, err := krLoadedIDs(); err != nil {
		skip("cannot list loaded programs: " + err.Error())
	}
}

// krLoadedIDs lists the IDs of every BPF program loaded in the kernel.
func krLoadedIDs() (map[ebpf.ProgramID]bool, error) {
	ids := map[ebpf.ProgramID]bool{}
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return ids, nil
		}
		if err != nil {
			return nil, err
		}
		ids[next] = true
		id = next
	}
}

// krProgTypes are the program types the comparison loads; extension
// (freplace) programs need an attach target and are left out.
var krProgTypes = map[string]ebpf.ProgramType{"sched_cls": ebpf.SchedCLS, "xdp": ebpf.XDP}

var errKRUnsupported = errors.New("not loadable by this comparison")

var krMapTypes = map[string]ebpf.MapType{
	"array":        ebpf.Array,
	"prog_array":   ebpf.ProgramArray,
	"hash":         ebpf.Hash,
	"percpu_array": ebpf.PerCPUArray,
}

// krFuncInfo is the BTF the verifier needs for tail calls in subprograms
// ("tail_call is not allowed in subprogs without BTF"): a btf.Func for
// every function, "int NAME(struct __sk_buff *skb, void *, ...)", global
// for the main function and static for subprograms, as clang emits them
// for the selftests' static __noinline functions.
func krFuncInfo(f kernel.Func, main bool) *btf.Func {
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	params := []btf.FuncParam{{Name: "skb", Type: &btf.Pointer{Target: &btf.Struct{Name: "__sk_buff"}}}}
	if _, args, ok := strings.Cut(f.Prototype, "("); ok {
		for i := 1; i < len(strings.Split(args, ",")); i++ {
			params = append(params, btf.FuncParam{Name: fmt.Sprintf("arg%d", i), Type: &btf.Pointer{Target: &btf.Void{}}})
		}
	}
	link := btf.StaticFunc
	if main {
		link = btf.GlobalFunc
	}
	return &btf.Func{Name: f.Name, Type: &btf.FuncProto{Return: intT, Params: params}, Linkage: link}
}

// krSpec builds the CollectionSpec of a scenario: its maps (prog arrays
// empty: filled after load with the programs' fds) and its programs, whose
// instructions keep the scenario's map references (resolved by name) and
// bpf2bpf call references (resolved by symbol).
func krSpec(set *kernel.Set) (*ebpf.CollectionSpec, error) {
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}}
	for _, m := range set.Maps {
		typ, ok := krMapTypes[m.Type]
		if !ok {
			return nil, fmt.Errorf("map %s: type %s not handled", m.Name, m.Type)
		}
		ms := &ebpf.MapSpec{Name: m.Name, Type: typ, KeySize: m.KeySize, ValueSize: m.ValueSize, MaxEntries: m.MaxEntries}
		if len(m.Data) > 0 && typ == ebpf.Array {
			for i := uint32(0); i < m.MaxEntries; i++ {
				v := m.Data[int(i*m.ValueSize):int((i+1)*m.ValueSize)]
				ms.Contents = append(ms.Contents, ebpf.MapKV{Key: i, Value: v})
			}
		}
		spec.Maps[m.Name] = ms
	}
	for _, p := range set.Programs {
		typ, ok := krProgTypes[p.Type]
		if !ok {
			return nil, fmt.Errorf("%w: program %s is of type %s", errKRUnsupported, p.Name, p.Type)
		}
		insns := slices.Clone(p.Insns)
		for i, f := range p.Funcs {
			insns[f.Start] = btf.WithFuncMetadata(insns[f.Start], krFuncInfo(f, i == 0))
		}
		spec.Programs[p.Name] = &ebpf.ProgramSpec{
			Name:         p.Name,
			Type:         typ,
			Instructions: asm.Instructions(insns),
			License:      "GPL",
		}
	}
	return spec, nil
}

// krSlot is one prog array slot the scenario fills.
type krSlot struct {
	m    string
	key  uint32
	prog string
}

func krSlots(set *kernel.Set) []krSlot {
	var out []krSlot
	for _, m := range set.Maps {
		if !m.IsProgArray() {
			continue
		}
		var keys []uint32
		for k := range m.Progs {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			out = append(out, krSlot{m.Name, k, m.Progs[k]})
		}
	}
	return out
}

// krResult is what one run leaves: the return value and every array
// map's values.
type krResult struct {
	retval uint32
	arrays map[string][]byte
}

func (r krResult) String() string {
	var names []string
	for n := range r.arrays {
		names = append(names, n)
	}
	sort.Strings(names)
	s := fmt.Sprintf("retval %d", r.retval)
	for _, n := range names {
		s += fmt.Sprintf(", %s = % x", n, r.arrays[n])
	}
	return s
}

// emulated reads the emulator's array maps from its memory.
func (m *stMachine) arrays() map[string][]byte {
	out := map[string][]byte{}
	for _, mp := range m.set.Maps {
		if mp.Type != "array" {
			continue
		}
		var b []byte
		for i := uint32(0); i < mp.MaxEntries; i++ {
			// machine lays array values out 8-byte aligned.
			stride := (uint64(mp.ValueSize) + 7) &^ 7
			v, err := m.k.Mem.ReadBytes(m.k.Maps[mp.Name].ValueAddr+uint64(i)*stride, int(mp.ValueSize))
			if err != nil {
				m.t.Fatal(err)
			}
			b = append(b, v...)
		}
		out[mp.Name] = b
	}
	return out
}

// TestKernelRunAgrees loads each built-in scenario into this machine's
// kernel and checks that it computes what the x86-64 v6.18 emulator
// computes.
func TestKernelRunAgrees(t *testing.T) {
	krNeedBPF(t)
	before, err := krLoadedIDs()
	if err != nil {
		t.Fatal(err)
	}
	var ours []ebpf.ProgramID
	for _, info := range scenarios.Builtins() {
		t.Run(info.Name, func(t *testing.T) {
			ours = append(ours, krScenario(t, info.Name)...)
		})
	}
	// Everything this test loaded is gone again. Closing a prog array's
	// last fd clears it from a workqueue (prog_array_map_clear), so a
	// program that sat in a prog array (or in its own: selftest-hierarchy1)
	// goes away shortly after the close: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	var left []ebpf.ProgramID
	var after map[ebpf.ProgramID]bool
	for {
		after, err = krLoadedIDs()
		if err != nil {
			t.Fatal(err)
		}
		left = left[:0]
		for _, id := range ours {
			if after[id] {
				left = append(left, id)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("programs still loaded after the collections were closed: IDs %v", left)
	}
	foreign := 0
	for id := range after {
		if !before[id] {
			foreign++
		}
	}
	t.Logf("%d programs loaded before, %d after (%d of ours loaded and unloaded, %d new ones not ours)", len(before), len(after), len(ours), foreign)
	if len(ours) == 0 && !t.Failed() {
		t.Error("no program was loaded")
	}
}

// krScenario loads one scenario, compares runs with the emulator and
// returns the IDs of the programs it loaded (all closed on return).
func krScenario(t *testing.T, name string) []ebpf.ProgramID {
	set, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := krSpec(set)
	if errors.Is(err, errKRUnsupported) {
		t.Skipf("%s: %v", name, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	emu, err := stLoad(t, name, kernel.X86_64, krProfile(t))
	if err != nil {
		t.Fatalf("x86_64 v6.18 JIT: %v", err)
	}

	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			t.Fatalf("the kernel refuses %s: %+v", name, ve)
		}
		t.Fatalf("loading %s: %v", name, err)
	}
	defer coll.Close()
	var ids []ebpf.ProgramID
	for pn, p := range coll.Programs {
		info, err := p.Info()
		if err != nil {
			t.Fatalf("%s: %v", pn, err)
		}
		id, ok := info.ID()
		if !ok {
			t.Fatalf("%s: the kernel reports no program ID", pn)
		}
		ids = append(ids, id)
	}
	slots := krSlots(set)
	for _, s := range slots {
		if err := coll.Maps[s.m].Update(s.key, uint32(coll.Programs[s.prog].FD()), ebpf.UpdateAny); err != nil {
			t.Fatalf("%s[%d] = %s: %v", s.m, s.key, s.prog, err)
		}
	}
	entry := set.Programs[0].Name

	compare := func(what string) {
		t.Helper()
		ret, err := coll.Programs[entry].Run(&ebpf.RunOptions{Data: krPacket})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := krResult{retval: ret, arrays: map[string][]byte{}}
		for _, m := range set.Maps {
			if m.Type != "array" {
				continue
			}
			var b []byte
			for i := uint32(0); i < m.MaxEntries; i++ {
				v := make([]byte, m.ValueSize)
				if err := coll.Maps[m.Name].Lookup(i, v); err != nil {
					t.Fatalf("%s: %s[%d]: %v", what, m.Name, i, err)
				}
				b = append(b, v...)
			}
			got.arrays[m.Name] = b
		}
		run := emu.run(0)
		if run.Err != nil {
			t.Fatalf("%s: emulator: %v", what, run.Err)
		}
		want := krResult{retval: uint32(run.Retval), arrays: emu.arrays()}
		if got.String() != want.String() {
			t.Errorf("%s:\nkernel   %s\nemulator %s", what, got, want)
		} else {
			t.Logf("%s: %s (kernel and emulator)", what, got)
		}
	}
	compare("as loaded")
	for _, s := range slots {
		if err := coll.Maps[s.m].Delete(s.key); err != nil {
			t.Fatalf("delete %s[%d]: %v", s.m, s.key, err)
		}
		emu.update(s.m, s.key, "")
		compare(fmt.Sprintf("%s[%d] deleted", s.m, s.key))
	}
	return ids
}
