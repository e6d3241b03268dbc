// SPDX-License-Identifier: GPL-2.0-only

package kernel_test

// The compatibility model against the kernel this test runs on: the
// freplace scenarios of seed 004 are loaded, acl is attached and
// acl_progs[1] = acl_algo is tried, and every step's outcome (its errno)
// must be what the model says for the kernel label that has the running
// kernel's rules. Needs root and a BPF-capable kernel; skipped otherwise.

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// runningLabel returns the model label whose rules the running kernel has:
// the 2025 changes (expected_attach_type in the owner, the split load
// check) are mainline from 6.17 and in the stable kernels the label names.
func runningLabel(t *testing.T) string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		t.Skip(err)
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	rel := string(b)
	f := strings.FieldsFunc(rel, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		t.Skipf("kernel release %q", rel)
	}
	major, _ := strconv.Atoi(f[0])
	minor, _ := strconv.Atoi(f[1])
	if major > 6 || major == 6 && minor >= 17 {
		return "6.12.117"
	}
	t.Skipf("kernel %s: no model label has exactly its rules (want 6.17 or later)", rel)
	return ""
}

func needBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root (uid %d)", os.Geteuid())
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skip(err)
	}
}

var progTypes = map[string]ebpf.ProgramType{"xdp": ebpf.XDP, "ext": ebpf.Extension, "sched_cls": ebpf.SchedCLS}

// funcBTF is the BTF of a function from its C prototype:
// "int name(struct xdp_md *xdp, int prog_id)".
func funcBTF(f kernel.Func, global bool) (*btf.Func, error) {
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	_, args, ok := strings.Cut(f.Prototype, "(")
	if !ok {
		return nil, fmt.Errorf("%s: no prototype", f.Name)
	}
	var params []btf.FuncParam
	for i, a := range strings.Split(strings.TrimSuffix(args, ")"), ",") {
		a = strings.TrimSpace(a)
		switch {
		case strings.HasPrefix(a, "struct ") && strings.Contains(a, "*"):
			name := strings.Fields(strings.TrimPrefix(a, "struct "))[0]
			params = append(params, btf.FuncParam{Name: fmt.Sprintf("a%d", i), Type: &btf.Pointer{Target: &btf.Struct{Name: name}}})
		case strings.HasPrefix(a, "int "):
			params = append(params, btf.FuncParam{Name: fmt.Sprintf("a%d", i), Type: intT})
		default:
			return nil, fmt.Errorf("%s: parameter %q not handled", f.Name, a)
		}
	}
	link := btf.StaticFunc
	if global {
		link = btf.GlobalFunc
	}
	return &btf.Func{Name: f.Name, Type: &btf.FuncProto{Return: intT, Params: params}, Linkage: link}, nil
}

func errnoName(err error) string {
	for _, e := range []struct {
		no   syscall.Errno
		name string
	}{{syscall.EINVAL, "-EINVAL"}, {syscall.EBUSY, "-EBUSY"}, {syscall.E2BIG, "-E2BIG"}, {syscall.EBADF, "-EBADF"}, {syscall.EPERM, "-EPERM"}} {
		if errors.Is(err, e.no) {
			return e.name
		}
	}
	return "error: " + err.Error()
}

// play does in the kernel what the scenario's compatibility plan says and
// returns each step's outcome ("" for success) keyed like CompatStep.What.
func play(t *testing.T, sc *scenarios.Scenario) map[string]string {
	t.Helper()
	out := map[string]string{}
	set := sc.Set
	maps := map[string]*ebpf.Map{}
	for _, m := range set.Maps {
		if !m.IsProgArray() {
			t.Fatalf("map %s: only prog arrays are handled", m.Name)
		}
		mp, err := ebpf.NewMap(&ebpf.MapSpec{Name: m.Name, Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: m.MaxEntries})
		if err != nil {
			t.Fatal(err)
		}
		defer mp.Close()
		maps[m.Name] = mp
	}
	// Functions extensions replace are global (freplace cannot replace a
	// static function); other subprograms are static, as in seed 004's C.
	targets := map[string]bool{}
	for _, info := range sc.Progs {
		if info.Target != "" {
			targets[info.Target+"/"+info.TargetFunc] = true
		}
	}
	progs := map[string]*ebpf.Program{}
	for _, name := range sc.Order {
		p := set.Program(name)
		info := sc.Progs[name]
		insns := slices.Clone(p.Insns)
		for i := range insns {
			if ref := insns[i].Reference(); ref != "" && insns[i].IsLoadFromMap() {
				if err := insns[i].AssociateMap(maps[ref]); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, f := range p.Funcs {
			fn, err := funcBTF(f, i == 0 || targets[name+"/"+f.Name])
			if err != nil {
				t.Fatal(err)
			}
			insns[f.Start] = btf.WithFuncMetadata(insns[f.Start], fn)
		}
		spec := &ebpf.ProgramSpec{Name: name, Type: progTypes[p.Type], Instructions: asm.Instructions(insns), License: "GPL"}
		if info.AttachType == "xdp" {
			spec.AttachType = ebpf.AttachXDP
		}
		if info.Target != "" {
			spec.AttachTarget, spec.AttachTo = progs[info.Target], info.TargetFunc
			if spec.AttachTarget == nil {
				out["load "+name] = "-EBADF"
				continue
			}
		}
		prog, err := ebpf.NewProgram(spec)
		if err != nil {
			var ve *ebpf.VerifierError
			if errors.As(err, &ve) {
				t.Logf("load %s: %+v", name, ve)
			}
			t.Logf("load %s: %v", name, err)
			out["load "+name] = errnoName(err)
			continue
		}
		defer prog.Close()
		progs[name] = prog
		out["load "+name] = ""
	}
	for _, name := range sc.Order {
		info := sc.Progs[name]
		if !info.Attach {
			continue
		}
		if progs[name] == nil || progs[info.Target] == nil {
			out["attach "+name] = "-EBADF"
			continue
		}
		l, err := link.AttachFreplace(progs[info.Target], info.TargetFunc, progs[name])
		if err != nil {
			out["attach "+name] = errnoName(err)
			continue
		}
		defer l.Close()
		out["attach "+name] = ""
	}
	for _, u := range sc.CompatPlan().Updates {
		what := fmt.Sprintf("update %s[%d] = %s", u.Map, u.Key, u.Prog)
		if progs[u.Prog] == nil {
			out[what] = "-EBADF"
			continue
		}
		if err := maps[u.Map].Update(u.Key, uint32(progs[u.Prog].FD()), ebpf.UpdateAny); err != nil {
			out[what] = errnoName(err)
			continue
		}
		out[what] = ""
		defer maps[u.Map].Delete(u.Key)
	}
	return out
}

func TestCompatAgainstRunningKernel(t *testing.T) {
	needBPF(t)
	label := runningLabel(t)
	if err := features.HaveProgramType(ebpf.Extension); err != nil {
		// Sandboxes refuse the trampoline-based types (tracing, LSM,
		// extensions) with EPERM.
		t.Skipf("extension programs cannot be loaded here: %v", err)
	}
	k, err := kernel.LookupCompatKernel(label)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		scenario string
		edit     func(sc *scenarios.Scenario)
		what     string
	}{
		{"freplace-tailcall", nil, "acl_algo an extension"},
		{"freplace-tailcall-xdp", nil, "acl_algo XDP, expected_attach_type BPF_XDP (libbpf's SEC(\"xdp\"))"},
		{"freplace-tailcall-xdp", func(sc *scenarios.Scenario) { sc.Progs["acl_algo"].AttachType = "" }, "acl_algo XDP, expected_attach_type 0"},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			sc, err := scenarios.BuiltinScenario(c.scenario)
			if err != nil {
				t.Fatal(err)
			}
			if c.edit != nil {
				c.edit(sc)
			}
			got := play(t, sc)
			r := k.Run(sc.CompatPlan())
			for _, s := range r.Steps {
				want := s.Errno
				g, ok := got[s.What()]
				if !ok {
					t.Errorf("%s: not played", s.What())
					continue
				}
				if g != want {
					t.Errorf("%s: kernel says %q, model %s says %q (%s)", s.What(), g, label, want, s.Reason)
				} else {
					t.Logf("%s: %q on both (%s)", s.What(), g, s.Verdict)
				}
			}
		})
	}
}

// TestOwnerChecksRunningKernel checks the owner rules that need no
// extension against the running kernel: an XDP owner loaded with
// expected_attach_type 0 and without frags, then updates with XDP programs
// that differ in expected_attach_type or xdp_has_frags, each as the model
// of the running kernel's label says.
func TestOwnerChecksRunningKernel(t *testing.T) {
	needBPF(t)
	label := runningLabel(t)
	k, err := kernel.LookupCompatKernel(label)
	if err != nil {
		t.Fatal(err)
	}
	jt, err := ebpf.NewMap(&ebpf.MapSpec{Name: "jt", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer jt.Close()
	plan := &kernel.CompatPlan{MaxEntries: map[string]uint32{"jt": 4}}
	progs := map[string]*ebpf.Program{}
	load := func(cp *kernel.CompatProg) {
		t.Helper()
		insns := asm.Instructions{asm.Mov.Imm(asm.R0, 2).WithSymbol(cp.Name)}
		if len(cp.UsedProgArrays) > 0 {
			insns = asm.Instructions{
				asm.LoadMapPtr(asm.R2, jt.FD()).WithSymbol(cp.Name),
				asm.Mov.Imm(asm.R3, 0),
				asm.FnTailCall.Call(),
				asm.Mov.Imm(asm.R0, 2),
			}
		}
		insns = append(insns, asm.Return())
		spec := &ebpf.ProgramSpec{Name: cp.Name, Type: ebpf.XDP, Instructions: insns, License: "GPL"}
		if cp.AttachType == "xdp" {
			spec.AttachType = ebpf.AttachXDP
		}
		if cp.XDPHasFrags {
			spec.Flags = 1 << 5 // BPF_F_XDP_HAS_FRAGS (include/uapi/linux/bpf.h)
		}
		p, err := ebpf.NewProgram(spec)
		if err != nil {
			t.Fatalf("load %s: %v", cp.Name, err)
		}
		progs[cp.Name] = p
		plan.Progs = append(plan.Progs, cp)
	}
	load(&kernel.CompatProg{Name: "owner", Type: "xdp", Jited: true, UsedProgArrays: []string{"jt"}})
	load(&kernel.CompatProg{Name: "same", Type: "xdp", Jited: true})
	load(&kernel.CompatProg{Name: "attach_xdp", Type: "xdp", Jited: true, AttachType: "xdp"})
	load(&kernel.CompatProg{Name: "frags", Type: "xdp", Jited: true, XDPHasFrags: true})
	defer func() {
		for _, p := range progs {
			p.Close()
		}
	}()
	for i, name := range []string{"same", "attach_xdp", "frags"} {
		plan.Updates = append(plan.Updates, kernel.SlotUpdate{Map: "jt", Key: uint32(i + 1), Prog: name})
	}
	r := k.Run(plan)
	for _, u := range plan.Updates {
		s := r.Update(u.Map, u.Key)
		got := ""
		if err := jt.Update(u.Key, uint32(progs[u.Prog].FD()), ebpf.UpdateAny); err != nil {
			got = errnoName(err)
		} else {
			defer jt.Delete(u.Key)
		}
		if got != s.Errno {
			t.Errorf("%s: kernel says %q, model %s says %q (%s)", s.What(), got, label, s.Errno, s.Reason)
		} else {
			t.Logf("%s: %q on both (%s)", s.What(), got, s.Verdict)
		}
	}
}
