// SPDX-License-Identifier: GPL-2.0-only

package difftest

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/exec/bpf"
	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// Outcome is what one run did, in the terms the two kinds of runs share.
type Outcome struct {
	Retval    uint64
	TailCalls int
	// Events are the helper calls, tail calls and tail call misses, in
	// order, as "helper bpf_ktime_get_ns = 1000001000",
	// "tail_call entry/entry_sub0 -> tc1", "tail_call_miss tc0: limit".
	Events []string
	// Maps holds the value region of every array map.
	Maps map[string][]byte
	Err  error
	// Steps is the number of instructions executed (BPF instructions for
	// the interpreter, machine instructions for the emulators).
	Steps int
}

// Profile returns p with the configuration and struct offsets a set's
// placement pins for p's architecture applied: the JIT compiles against
// the placement's offsets (kernel.Load applies them), and the machine lays
// out struct bpf_array and bpf_prog with them (see TestPlacementLayout).
func Profile(set *kernel.Set, p *jit.Profile) *jit.Profile {
	pl := set.Placements[p.Arch]
	if pl == nil {
		return p
	}
	q := p.WithConfig(pl.Config)
	q.Layout = q.WithLayout(pl.Layout)
	return q
}

// Compile JITs every program of set with p. A refusal is returned as the
// backend's error (a *jit.Error when the kernel would refuse).
func Compile(set *kernel.Set, p *jit.Profile) (map[string]*jit.Image, error) {
	imgs := map[string]*jit.Image{}
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, p.Arch, p.LoadOptions())
		if err != nil {
			return nil, err
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			return nil, err
		}
		imgs[pr.Name] = img
	}
	return imgs, nil
}

// InterpConfig is the interpreter configuration that models p's JIT (its
// tail call counter design and limit).
func InterpConfig(p *jit.Profile) bpf.Config { return bpf.ConfigFor(p) }

// RunInterp runs set's entry program (Programs[0]) on the interpreter,
// laid out for p's architecture and struct layout.
func RunInterp(set *kernel.Set, p *jit.Profile, cfg bpf.Config) *Outcome {
	k, err := machine.New(set, p.Arch, p.Layout, nil, machine.Options{})
	if err != nil {
		return &Outcome{Err: err}
	}
	res, err := bpf.Run(k, set.Programs[0].Name, cfg)
	o := &Outcome{Retval: res.Retval, TailCalls: res.TailCalls, Steps: res.Steps, Err: err}
	o.Events = events(res.Events, p)
	o.Maps = arrayMaps(k)
	return o
}

// RunJIT runs set's entry program's machine code on p's emulator, for at
// most limit machine instructions (0: machine.Runner's default).
func RunJIT(set *kernel.Set, p *jit.Profile, imgs map[string]*jit.Image, limit int) *Outcome {
	k, err := machine.New(set, p.Arch, p.Layout, imgs, machine.Options{})
	if err != nil {
		return &Outcome{Err: err}
	}
	r, err := machine.NewRunner(k, p)
	if err != nil {
		return &Outcome{Err: err}
	}
	// Landing pads are enforced as the kernel's configuration has them:
	// BTI on arm64, IBT (endbr64) on x86-64.
	ibt := false
	if p.Arch == kernel.X86_64 {
		var cfg map[string]string
		if pl := set.Placements[p.Arch]; pl != nil {
			cfg = pl.Config
		}
		if c, err := x86.ConfigFor(p, cfg); err == nil {
			ibt = c.IBT
		}
	}
	cpu, err := machine.NewCPU(k, p.BTI, p.PAC, ibt)
	if err != nil {
		return &Outcome{Err: err}
	}
	var list []*jit.Image
	for _, img := range imgs {
		list = append(list, img)
	}
	run := r.Run(cpu, set.Programs[0].Name, machine.RunOptions{StepLimit: limit, Thunks: thunks(list)})
	o := &Outcome{Retval: run.Retval, TailCalls: run.TailCalls, Steps: len(run.Steps), Err: run.Err}
	o.Events = events(run.Events, nil)
	o.Maps = arrayMaps(k)
	return o
}

// inlined are the helpers arm64 6.12+ JITs inline
// (bpf_jit_inlines_helper_call): their calls leave no helper event in the
// machine code's run.
var inlined = map[string]bool{"bpf_get_smp_processor_id": true, "bpf_get_current_task": true, "bpf_get_current_task_btf": true}

// events keeps the events both kinds of runs record the same way. With a
// profile (interpreter runs), calls of helpers that profile's JIT inlines
// are dropped.
func events(evs []trace.Event, p *jit.Profile) []string {
	var out []string
	for _, e := range evs {
		switch e.Kind {
		case trace.Helper:
			if p != nil && p.InlineHelpers && inlined[e.To] {
				continue
			}
			v := int64(0)
			if e.Value != nil {
				v = *e.Value
			}
			out = append(out, fmt.Sprintf("helper %s = %#x", e.To, uint64(v)))
		case trace.TailCall:
			out = append(out, fmt.Sprintf("tail_call %s -> %s", e.From, e.To))
		case trace.TailCallMiss:
			out = append(out, fmt.Sprintf("tail_call_miss %s: %s", e.From, e.Detail))
		}
	}
	return out
}

// arrayMaps reads the values of every array map, and of every hash map
// with 4-byte keys those of keys 0..HashKeys-1 (looked up with the
// kernel's bpf_map_lookup_elem model; "-" for a missing key).
func arrayMaps(k *machine.Kernel) map[string][]byte {
	out := map[string][]byte{}
	for name, m := range k.Maps {
		switch m.Spec.Type {
		case "array", "percpu_array":
		case "hash":
			if b, ok := hashContents(k, m); ok {
				out[name] = b
			}
			continue
		default:
			continue
		}
		n := int(m.Spec.MaxEntries) * int((m.Spec.ValueSize+7)&^7)
		b, err := k.Mem.ReadBytes(m.ValueAddr, n)
		if err != nil {
			b = []byte("unreadable: " + err.Error())
		}
		out[name] = b
	}
	return out
}

// thunks finds the kernel thunks x86 images jump to (as cli/run.go does):
// retpolines behave as "jmp *%reg", return thunks as "ret".
func thunks(imgs []*jit.Image) map[uint64]string {
	t := map[uint64]string{}
	for _, img := range imgs {
		for _, f := range img.Funcs {
			for _, r := range f.Relocs {
				switch {
				case strings.HasPrefix(r.Name, "__x86_indirect_thunk_"):
					t[r.Target] = strings.TrimPrefix(r.Name, "__x86_indirect_thunk_")
				case strings.HasPrefix(r.Name, "__x86_indirect_its_thunk_"):
					t[r.Target] = strings.TrimPrefix(r.Name, "__x86_indirect_its_thunk_")
				case strings.Contains(r.Name, "return_thunk"):
					t[r.Target] = "ret"
				}
			}
		}
	}
	return t
}

// Diff describes the first difference between the interpreter's outcome
// want and the machine code's got, or returns "".
//
// A run that fails differs, unless both stop on their step limit: they did
// not finish, the interpreter counting BPF instructions and the emulators
// machine instructions, so they stop at different points and only the
// events both recorded are compared.
func Diff(want, got *Outcome) string {
	var b strings.Builder
	unfinished := errors.Is(want.Err, machine.ErrStepLimit) && errors.Is(got.Err, machine.ErrStepLimit)
	if (want.Err != nil || got.Err != nil) && !unfinished {
		fmt.Fprintf(&b, "error: interpreter %v, machine code %v\n", want.Err, got.Err)
	}
	n := min(len(want.Events), len(got.Events))
	for i := 0; i < n; i++ {
		if want.Events[i] != got.Events[i] {
			fmt.Fprintf(&b, "event %d: interpreter %q, machine code %q\n", i, want.Events[i], got.Events[i])
			break
		}
	}
	if b.Len() == 0 && len(want.Events) != len(got.Events) && !unfinished {
		fmt.Fprintf(&b, "events: interpreter %d, machine code %d; first extra: %q\n", len(want.Events), len(got.Events),
			append(want.Events[n:], got.Events[n:]...)[0])
	}
	if want.Err != nil || got.Err != nil {
		return b.String()
	}
	if want.Retval != got.Retval {
		fmt.Fprintf(&b, "retval: interpreter %#x, machine code %#x\n", want.Retval, got.Retval)
	}
	if want.TailCalls != got.TailCalls {
		fmt.Fprintf(&b, "tail calls: interpreter %d, machine code %d\n", want.TailCalls, got.TailCalls)
	}
	var names []string
	for n := range want.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, g := want.Maps[n], got.Maps[n]
		for i := 0; i < len(w) && i < len(g); i++ {
			if w[i] != g[i] {
				lo := i &^ 7
				hi := min(lo+8, len(w), len(g))
				fmt.Fprintf(&b, "map %s: byte %d differs: interpreter % x, machine code % x (bytes %d..%d)\n", n, i, w[lo:hi], g[lo:hi], lo, hi-1)
				break
			}
		}
	}
	return b.String()
}

// Listing is the BPF text of every program of set as the JIT receives it
// for arch (slot numbers as bpftool numbers xlated code).
func Listing(set *kernel.Set, p *jit.Profile) string {
	var b strings.Builder
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, p.Arch, p.LoadOptions())
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", pr.Name, err)
			continue
		}
		for _, f := range l.Funcs {
			fmt.Fprintf(&b, "%s/%s (stack %d):\n", pr.Name, f.Name, f.StackDepth)
			for _, in := range f.Insns {
				fmt.Fprintf(&b, "  %4d: %s\n", in.Index, disasm.BPFText(in))
			}
		}
	}
	for _, m := range set.Maps {
		if m.IsProgArray() {
			var keys []int
			for k := range m.Progs {
				keys = append(keys, int(k))
			}
			sort.Ints(keys)
			var slots []string
			for _, k := range keys {
				slots = append(slots, fmt.Sprintf("%d=%s", k, m.Progs[uint32(k)]))
			}
			fmt.Fprintf(&b, "prog array %s: max_entries %d, %s\n", m.Name, m.MaxEntries, strings.Join(slots, " "))
		}
	}
	return b.String()
}

// IsRefusal reports whether err is a JIT's refusal (*jit.Error).
func IsRefusal(err error) bool {
	var je *jit.Error
	return errors.As(err, &je)
}

// FeaturesOf reports the optional features a loaded program uses, from
// its instructions.
func FeaturesOf(l *kernel.Loaded) Feature {
	var f Feature
	for _, fn := range l.Funcs {
		for _, in := range fn.Insns {
			f |= InsnFeatures(l, in)
		}
	}
	return f
}

// InsnFeatures reports the optional features instruction in of l uses (a
// tail call uses SubprogTailCalls in a program with bpf-to-bpf calls).
func InsnFeatures(l *kernel.Loaded, in kernel.Insn) Feature {
	var f Feature
	r := in.Raw
	if in.Kind == kernel.TailCall && l.HasCalls() {
		f |= SubprogTailCalls
	}
	if r.Dst == 11 || r.Src == 11 {
		f |= AX
	}
	switch r.Class() {
	case kernel.ClassALU, kernel.ClassALU64:
		if r.Off != 0 || r.Code == kernel.ClassALU64|kernel.OpEND {
			f |= CPUv4
		}
	case kernel.ClassLDX:
		if r.Mode() == kernel.ModeMemSX {
			f |= CPUv4
		}
	case kernel.ClassSTX:
		switch {
		case r.Mode() != kernel.ModeAtomic || r.Imm == kernel.OpADD:
		case r.Imm == kernel.AtomicLoadAcq || r.Imm == kernel.AtomicStoreRel:
			f |= AcqRel
		default:
			f |= Atomics
		}
	case kernel.ClassST:
		if r.Code == kernel.CodeNOSPEC {
			f |= Nospec
		}
	case kernel.ClassJMP32:
		if r.Op() == kernel.JmpJA {
			f |= Gotol
		}
	}
	return f
}

// RefusedFor reports the features of the instruction a refusal names
// (*jit.Error Prog and Insn), and false when the refusal names none.
func RefusedFor(set *kernel.Set, p *jit.Profile, err error) (Feature, bool) {
	var je *jit.Error
	if !errors.As(err, &je) || je.Insn < 0 {
		return 0, false
	}
	l, lerr := kernel.Load(set, je.Prog, p.Arch, p.LoadOptions())
	if lerr != nil {
		return 0, false
	}
	for _, fn := range l.Funcs {
		for _, in := range fn.Insns {
			if in.Index == je.Insn {
				return InsnFeatures(l, in), true
			}
		}
	}
	return 0, false
}

// SetFeatures reports the features of every program of set for p's
// architecture.
func SetFeatures(set *kernel.Set, p *jit.Profile) (map[string]Feature, error) {
	out := map[string]Feature{}
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, p.Arch, p.LoadOptions())
		if err != nil {
			return nil, err
		}
		out[pr.Name] = FeaturesOf(l)
	}
	return out, nil
}

func hashContents(k *machine.Kernel, m *machine.Map) ([]byte, bool) {
	h := k.HelperByName("bpf_map_lookup_elem")
	if h == nil || m.Spec.KeySize != 4 {
		return nil, false
	}
	key, err := k.Alloc(4)
	if err != nil {
		return nil, false
	}
	var out []byte
	for i := uint64(0); i < HashKeys; i++ {
		if k.Mem.Store(key, 4, i) != nil {
			return nil, false
		}
		addr, err := h.Fn(k, [5]uint64{m.Addr, key})
		if err != nil {
			return nil, false
		}
		if addr == 0 {
			out = append(out, '-')
			continue
		}
		v, err := k.Mem.ReadBytes(addr, int(m.Spec.ValueSize))
		if err != nil {
			return nil, false
		}
		out = append(out, '+')
		out = append(out, v...)
	}
	return out, true
}
