// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/jitscope/jitscope/kernel"
)

// Loaded is a set of programs and maps jitscope loaded into the running
// kernel. Close unloads all of it; every path out of a command that loads
// must reach Close (defer it, and close on signals too).
type Loaded struct {
	Coll *ebpf.Collection
	// Order lists the programs in the set's order; IDs their kernel ids.
	Order []string
	IDs   map[string]uint32
	// StackDepths holds the verifier's per-function stack depths (from
	// its statistics), by program id.
	StackDepths map[uint32][]int
	closed      bool
}

// progTypes maps libbpf program type names to cilium's.
var progTypes = map[string]ebpf.ProgramType{}

func init() {
	for t, n := range libbpfTypeNames {
		progTypes[n] = t
	}
	progTypes["tc"] = ebpf.SchedCLS
	progTypes["classifier"] = ebpf.SchedCLS
}

// SpecFromSet builds what cilium/ebpf loads from a jitscope Set (a
// scenario): its maps with their contents and prog-array slots, its
// programs with symbolic map and function references.
func SpecFromSet(s *kernel.Set) (*ebpf.CollectionSpec, error) {
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}}
	for _, m := range s.Maps {
		ms := &ebpf.MapSpec{Name: m.Name, KeySize: m.KeySize, ValueSize: m.ValueSize, MaxEntries: m.MaxEntries}
		switch m.Type {
		case "prog_array":
			ms.Type = ebpf.ProgramArray
		case "array":
			ms.Type = ebpf.Array
			if len(m.Data) > 0 {
				if m.ValueSize == 0 || len(m.Data)%int(m.ValueSize) != 0 {
					return nil, fmt.Errorf("map %s: %d bytes of data for %d-byte values", m.Name, len(m.Data), m.ValueSize)
				}
				for k := 0; k*int(m.ValueSize) < len(m.Data); k++ {
					ms.Contents = append(ms.Contents, ebpf.MapKV{Key: uint32(k), Value: m.Data[k*int(m.ValueSize) : (k+1)*int(m.ValueSize)]})
				}
			}
		case "hash":
			ms.Type = ebpf.Hash
		case "percpu_array":
			ms.Type = ebpf.PerCPUArray
		default:
			return nil, fmt.Errorf("map %s: type %q cannot be loaded by jitscope yet", m.Name, m.Type)
		}
		spec.Maps[m.Name] = ms
	}
	for _, p := range s.Programs {
		t, ok := progTypes[p.Type]
		if !ok {
			return nil, fmt.Errorf("program %s: type %q cannot be loaded standalone", p.Name, p.Type)
		}
		spec.Programs[p.Name] = &ebpf.ProgramSpec{Name: p.Name, Type: t, Instructions: withFuncBTF(p), License: "GPL"}
	}
	return spec, nil
}

// withFuncBTF gives every function of p a BTF func record (what clang -g
// emits), without which the verifier refuses tail calls in subprograms
// ("tail_call is not allowed in subprogs without BTF"). The records say
// "int name(void *ctx)": static subprograms are verified with their
// caller's registers, so only the main program's linkage matters.
func withFuncBTF(p *kernel.Program) asm.Instructions {
	insns := make(asm.Instructions, len(p.Insns))
	copy(insns, p.Insns)
	// Functions are where the kernel finds subprograms: the program's
	// start and the targets of bpf-to-bpf calls and function pointers
	// (labels that nothing calls are not functions).
	starts := map[int]string{0: p.Name}
	for _, f := range p.Funcs {
		starts[f.Start] = f.Name
	}
	called := map[string]bool{}
	for _, ins := range insns {
		if ins.IsFunctionReference() && ins.Reference() != "" {
			called[ins.Reference()] = true
		}
	}
	for i, ins := range insns {
		if sym := ins.Symbol(); sym != "" && called[sym] {
			if _, ok := starts[i]; !ok {
				starts[i] = sym
			}
		}
	}
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	proto := &btf.FuncProto{Return: intT, Params: []btf.FuncParam{{Name: "ctx", Type: &btf.Pointer{Target: &btf.Void{}}}}}
	for i, name := range starts {
		link := btf.StaticFunc
		if i == 0 {
			link = btf.GlobalFunc
		}
		insns[i] = btf.WithFuncMetadata(insns[i], &btf.Func{Name: name, Type: proto, Linkage: link})
	}
	return insns
}

var stackDepthRE = regexp.MustCompile(`stack depth ([0-9+]+)`)

// parseStackDepths reads "stack depth 8+0+16" from the verifier's
// statistics: one number per subprogram, in subprogram order.
func parseStackDepths(log string) []int {
	m := stackDepthRE.FindStringSubmatch(log)
	if m == nil {
		return nil
	}
	var out []int
	for _, f := range strings.Split(m[1], "+") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// Load loads spec into the kernel, fills the prog-array slots progs names
// (map → key → program) and the maps' contents, and reads back the
// programs' ids. On error everything loaded so far is unloaded.
func Load(spec *ebpf.CollectionSpec, order []string, slots map[string]map[uint32]string) (*Loaded, error) {
	// Prog-array contents are filled below, after every program exists.
	for _, ms := range spec.Maps {
		if ms.Type == ebpf.ProgramArray {
			ms.Contents = nil
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats},
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			// The statistics log does not say why: load again with the
			// full log for the reason.
			_, err2 := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelInstruction | ebpf.LogLevelBranch}})
			if errors.As(err2, &ve) {
				return nil, fmt.Errorf("the kernel's verifier refused it: %v: %s", ve.Cause, lastLines(strings.Join(ve.Log, "\n"), 3))
			}
			return nil, fmt.Errorf("the kernel's verifier refused it: %v", err)
		}
		return nil, err
	}
	l := &Loaded{Coll: coll, IDs: map[string]uint32{}, StackDepths: map[uint32][]int{}}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	if len(order) == 0 {
		for n := range coll.Programs {
			order = append(order, n)
		}
		sort.Strings(order)
	}
	for _, n := range order {
		p := coll.Programs[n]
		if p == nil {
			return nil, fmt.Errorf("program %s was not loaded", n)
		}
		info, err := p.Info()
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", n, err)
		}
		id, _ := info.ID()
		l.Order = append(l.Order, n)
		l.IDs[n] = uint32(id)
		l.StackDepths[uint32(id)] = parseStackDepths(p.VerifierLog)
	}
	for mn, sl := range slots {
		m := coll.Maps[mn]
		if m == nil {
			return nil, fmt.Errorf("prog array %s was not loaded", mn)
		}
		keys := make([]uint32, 0, len(sl))
		for k := range sl {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			p := coll.Programs[sl[k]]
			if p == nil {
				return nil, fmt.Errorf("prog array %s[%d]: no program %s", mn, k, sl[k])
			}
			if err := m.Update(k, p, ebpf.UpdateAny); err != nil {
				return nil, fmt.Errorf("prog array %s[%d] = %s: %w", mn, k, sl[k], err)
			}
		}
	}
	ok = true
	return l, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// Close unloads everything and waits (up to two seconds) until the kernel
// has let go of the programs: it frees them after an RCU grace period, so
// a program count taken right after close could still see them.
func (l *Loaded) Close() error {
	if l == nil || l.closed {
		return nil
	}
	l.closed = true
	l.Coll.Close()
	deadline := time.Now().Add(2 * time.Second)
	for _, id := range l.IDs {
		for {
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if err == nil {
				p.Close()
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("program %d still loaded 2s after it was closed", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// ResetData writes the array maps' initial contents (spec's Contents,
// zeros elsewhere) back, so that every test run starts from the state the
// emulator starts from. Frozen maps (.rodata) cannot have changed.
func (l *Loaded) ResetData(spec *ebpf.CollectionSpec) error {
	for name, ms := range spec.Maps {
		if ms.Type != ebpf.Array || ms.Flags&sysBPFFRdonlyProg != 0 {
			continue
		}
		m := l.Coll.Maps[name]
		if m == nil {
			continue
		}
		init := map[uint32][]byte{}
		for _, kv := range ms.Contents {
			k, ok := kv.Key.(uint32)
			v, vok := kv.Value.([]byte)
			if ok && vok {
				init[k] = v
			}
		}
		zero := make([]byte, m.ValueSize())
		for k := uint32(0); k < m.MaxEntries(); k++ {
			v := init[k]
			if v == nil {
				v = zero
			}
			if err := m.Update(k, v, ebpf.UpdateExist); err != nil {
				return fmt.Errorf("map %s[%d]: %w", name, k, err)
			}
		}
	}
	return nil
}

// sysBPFFRdonlyProg is BPF_F_RDONLY_PROG (include/uapi/linux/bpf.h).
const sysBPFFRdonlyProg = 1 << 7

// Run runs program name once with BPF_PROG_TEST_RUN on data and returns
// its return value.
func (l *Loaded) Run(name string, data []byte) (uint32, error) {
	p := l.Coll.Programs[name]
	if p == nil {
		return 0, fmt.Errorf("no program %s", name)
	}
	return p.Run(&ebpf.RunOptions{Data: data, Repeat: 1})
}
