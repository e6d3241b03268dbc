// SPDX-License-Identifier: GPL-2.0-only

package kernel

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// Program types and prog array ownership (seed 004).
//
// A BPF_MAP_TYPE_PROG_ARRAY has an owner: the first program that uses the
// map (bpf_check_tail_call at load, kernel/bpf/core.c) or is stored in it
// (prog_fd_array_get_ptr at update, kernel/bpf/arraymap.c) records its
// program type and whether it is JITed; every later program must match,
// because a tail call reuses the caller's context and stack frame. What
// "its program type" means changed:
//
//   - v5.15: bpf_prog_array_compatible compares fp->type. An extension
//     (freplace, BPF_PROG_TYPE_EXT) that uses the map makes EXT the owner
//     type, so only other extensions can be added.
//   - v6.5 (commit "bpf: Resolve fext program type when checking map
//     compatibility"), as quoted from v6.6 in seed 004:
//     bpf_prog_map_compatible compares resolve_prog_type(fp), which for an
//     extension is the type of the program it extends (aux->dst_prog), and
//     also xdp_has_frags (5.18) and refuses dev-bound programs (6.3).
//   - v6.12 (Leon Hwang's fix for the tail call loop freplace allowed):
//     prog_fd_array_get_ptr refuses BPF_PROG_TYPE_EXT outright with
//     -EINVAL, and a program that an extension is attached to
//     (aux->is_extended) with -EBUSY; attaching an extension to a program
//     that sits in a prog array fails with -EBUSY the other way round
//     (bpf_freplace_check_tgt_prog, kernel/bpf/trampoline.c).
//   - 2025 stable updates (read in Debian linux-source-6.12, 6.12.117, and
//     linux-source-6.1, 6.1.176): the owner also records
//     expected_attach_type (compared for prog arrays) and attach_func_proto
//     (compared for tracing, LSM, EXT and struct_ops owners), and the load
//     path (__bpf_prog_map_compatible) no longer refuses dev-bound programs.
//
// The labels are release tags; stable branches later received some of
// these changes (the 6.12 refusal of extensions is in 6.1.176), so a
// stable kernel may answer as a newer label does.

// CompatKernel is one kernel version's prog array compatibility rules.
type CompatKernel struct {
	Name    string // label: "5.15", "6.6", "6.12", "6.12.117"
	Release string // what the label means
	Check   string // the kernel function that compares a program with the owner
	// Sources cite where each rule was read.
	Sources []string
	// ResolveExt: the owner check compares resolve_prog_type(fp) (the
	// extended program's type for BPF_PROG_TYPE_EXT), not fp->type.
	ResolveExt bool
	// XDPHasFrags: owner.xdp_has_frags is recorded and compared.
	XDPHasFrags bool
	// DevBound: dev-bound (XDP hints) programs are refused by
	// bpf_prog_map_compatible; DevBoundAtLoad: also when they use a prog
	// array (bpf_check_tail_call), until the 2025 split into
	// __bpf_prog_map_compatible.
	DevBound, DevBoundAtLoad bool
	// RefuseExt: prog_fd_array_get_ptr refuses BPF_PROG_TYPE_EXT (-EINVAL).
	RefuseExt bool
	// Extended: is_extended / prog_array_member_cnt are tracked: an
	// extended program cannot be stored in a prog array (-EBUSY) and a
	// prog array member cannot be extended (-EBUSY).
	Extended bool
	// AttachType: owner.expected_attach_type is compared for prog arrays;
	// AttachFuncProto: owner.attach_func_proto for tracing, LSM, EXT and
	// struct_ops (resolved) types.
	AttachType, AttachFuncProto bool
}

var compatKernels = []*CompatKernel{
	{
		Name: "5.15", Release: "v5.15 (mainline tag)", Check: "bpf_prog_array_compatible",
		Sources: []string{
			"kernel/bpf/core.c bpf_prog_array_compatible @ v5.15 (quoted in seed 004): owner.type == fp->type && owner.jited == fp->jited",
			"kernel/bpf/arraymap.c prog_fd_array_get_ptr @ v5.15: -EINVAL unless bpf_prog_array_compatible",
		},
	},
	{
		Name: "6.6", Release: "v6.6 (mainline tag)", Check: "bpf_prog_map_compatible",
		Sources: []string{
			"kernel/bpf/core.c bpf_prog_map_compatible @ v6.6 (quoted in seed 004): resolve_prog_type(fp), dev-bound refused, owner type/jited/xdp_has_frags",
			"include/linux/bpf_verifier.h resolve_prog_type @ v6.6: EXT resolves to aux->dst_prog->type",
		},
		ResolveExt: true, XDPHasFrags: true, DevBound: true, DevBoundAtLoad: true,
	},
	{
		Name: "6.12", Release: "v6.12 (mainline tag)", Check: "bpf_prog_map_compatible",
		Sources: []string{
			"kernel/bpf/arraymap.c prog_fd_array_get_ptr @ v6.12 (seed 004's bpf-next quote): prog->type == BPF_PROG_TYPE_EXT -> -EINVAL; aux->is_extended -> -EBUSY",
			"kernel/bpf/trampoline.c bpf_freplace_check_tgt_prog: prog_array_member_cnt -> -EBUSY",
			"include/linux/bpf_verifier.h resolve_prog_type @ 6.10+: EXT resolves to aux->saved_dst_prog_type",
		},
		ResolveExt: true, XDPHasFrags: true, DevBound: true, DevBoundAtLoad: true, RefuseExt: true, Extended: true,
	},
	{
		Name: "6.12.117", Release: "Debian linux-source-6.12 6.12.117 (2025 stable updates; 6.1.176 has the same checks)", Check: "bpf_prog_map_compatible",
		Sources: []string{
			"kernel/bpf/core.c __bpf_prog_map_compatible @ Debian linux-source-6.12: owner type/jited/xdp_has_frags, expected_attach_type for prog arrays, attach_func_proto for TRACING/LSM/EXT/STRUCT_OPS",
			"kernel/bpf/core.c bpf_check_tail_call @ Debian linux-source-6.12: __bpf_prog_map_compatible (dev-bound programs may load)",
			"kernel/bpf/arraymap.c prog_fd_array_get_ptr @ Debian linux-source-6.1 (6.1.176): EXT -> -EINVAL, is_extended -> -EBUSY",
		},
		ResolveExt: true, XDPHasFrags: true, DevBound: true, RefuseExt: true, Extended: true, AttachType: true, AttachFuncProto: true,
	},
}

// CompatKernels lists the modelled kernels, oldest first.
func CompatKernels() []*CompatKernel { return append([]*CompatKernel(nil), compatKernels...) }

// LookupCompatKernel returns the kernel labelled name ("6.6", "v6.6").
func LookupCompatKernel(name string) (*CompatKernel, error) {
	n := strings.TrimPrefix(name, "v")
	var names []string
	for _, k := range compatKernels {
		if k.Name == n {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return nil, fmt.Errorf("no compatibility model for kernel %q (have %s)", name, strings.Join(names, ", "))
}

// ProgTypeEnum spells a libbpf program type name ("xdp") as the kernel's
// enum bpf_prog_type (BPF_PROG_TYPE_XDP).
func ProgTypeEnum(t string) string {
	if t == "" {
		return "BPF_PROG_TYPE_UNSPEC"
	}
	return "BPF_PROG_TYPE_" + strings.ToUpper(t)
}

func attachTypeName(t string) string {
	if t == "" {
		return "0"
	}
	return "BPF_" + strings.ToUpper(t)
}

// DefaultExpectedAttachType is the expected_attach_type libbpf loads a
// program of type t with when its section is the plain one (SEC("xdp") ->
// BPF_XDP, tools/lib/bpf/libbpf.c section_defs); "" is 0.
func DefaultExpectedAttachType(t string) string {
	if t == "xdp" {
		return "xdp"
	}
	return ""
}

// CompatProg is what the compatibility checks read of one program
// (struct bpf_prog and its aux).
type CompatProg struct {
	Name string
	Type string // libbpf name: "xdp", "ext", "sched_cls"
	// Target and TargetFunc: for an extension, the program (aux->dst_prog,
	// from attach_prog_fd at load) and function it replaces.
	Target, TargetFunc string
	// Attach: an freplace link attaches the extension to its target after
	// all programs are loaded.
	Attach         bool
	Jited          bool
	XDPHasFrags    bool   // BPF_F_XDP_HAS_FRAGS (SEC("xdp.frags"))
	DevBound       bool   // BPF_F_XDP_DEV_BOUND_ONLY / offloaded
	KprobeOverride bool   // uses bpf_override_return
	AttachType     string // expected_attach_type ("" = 0, "xdp" = BPF_XDP)
	// UsedProgArrays are the prog arrays the program's code references
	// (aux->used_maps that contain programs).
	UsedProgArrays []string
}

// SlotUpdate is a bpf_map_update_elem on a prog array from user space.
type SlotUpdate struct {
	Map  string
	Key  uint32
	Prog string
}

// CompatPlan is what user space does: load the programs in order, attach
// the extensions marked Attach, then update prog array slots.
type CompatPlan struct {
	Progs   []*CompatProg
	Updates []SlotUpdate
	// MaxEntries of each prog array, for the index check (-E2BIG).
	MaxEntries map[string]uint32
}

// PlanFromSet is the plan a Set implies by itself: its programs in order,
// JITed, with libbpf's default expected_attach_type and the prog arrays
// each references, then every filled prog array slot (maps in order, keys
// ascending). Extension targets are not part of a Set; callers that know
// them (scenarios) fill Target, TargetFunc and Attach.
func PlanFromSet(set *Set) *CompatPlan {
	plan := &CompatPlan{MaxEntries: map[string]uint32{}}
	for _, p := range set.Programs {
		plan.Progs = append(plan.Progs, &CompatProg{
			Name: p.Name, Type: p.Type, Jited: true,
			AttachType:     DefaultExpectedAttachType(p.Type),
			UsedProgArrays: UsedProgArrays(set, p),
		})
	}
	for _, m := range set.Maps {
		if !m.IsProgArray() {
			continue
		}
		plan.MaxEntries[m.Name] = m.MaxEntries
		keys := make([]uint32, 0, len(m.Progs))
		for k := range m.Progs {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			plan.Updates = append(plan.Updates, SlotUpdate{Map: m.Name, Key: k, Prog: m.Progs[k]})
		}
	}
	return plan
}

// UsedProgArrays lists the prog arrays p's instructions load (symbolic map
// references), in order of first use.
func UsedProgArrays(set *Set, p *Program) []string {
	var out []string
	for _, ins := range p.Insns {
		if !ins.OpCode.IsDWordLoad() || ins.Src != asm.PseudoMapFD {
			continue
		}
		m := set.Map(ins.Reference())
		if m == nil || !m.IsProgArray() {
			continue
		}
		if !containsString(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Owner is a prog array's owner record (struct bpf_map_owner, or in 5.15
// bpf_array_aux.owner).
type Owner struct {
	Type        string // resolved (6.5+) or raw program type
	Jited       bool
	XDPHasFrags bool
	AttachType  string
	// FuncProto names the owner's attach_func_proto (its target function)
	// where one exists.
	FuncProto string
	By        string // the program whose load or update claimed it
}

// Verdict is the answer of one check.
type Verdict struct {
	OK bool
	// Errno is the error the syscall returns ("-EINVAL", "-EBUSY",
	// "-E2BIG"), empty when OK.
	Errno string
	// Rule names the rule that decided, e.g. "owner-type", "ext-refused".
	Rule string
	// Reason says it in one line with the values compared.
	Reason string
}

func (v Verdict) String() string {
	if v.OK {
		return "allowed: " + v.Reason
	}
	return v.Errno + ": " + v.Reason
}

// CompatStep is one action of a plan and its outcome.
type CompatStep struct {
	Action string // "load", "attach", "update"
	Prog   string
	Map    string // update: the prog array
	Key    uint32 // update: the slot
	Verdict
	// Claimed lists the prog arrays whose owner this step set.
	Claimed []string
}

// What names the step: "load acl", "attach acl -> dispatcher/subprog1",
// "update acl_progs[1] = acl_algo".
func (s CompatStep) What() string {
	switch s.Action {
	case "update":
		return fmt.Sprintf("update %s[%d] = %s", s.Map, s.Key, s.Prog)
	}
	return s.Action + " " + s.Prog
}

// CompatReport is a plan played on one kernel.
type CompatReport struct {
	Kernel *CompatKernel
	Steps  []CompatStep
	Owners map[string]*Owner // by prog array, after the plan

	progs   map[string]*CompatProg
	loaded  map[string]bool
	members map[string]int    // prog_array_member_cnt
	extd    map[string]bool   // aux->is_extended
	attachT map[string]string // expected_attach_type after the load
}

// Update returns the step that updated m[key], or nil.
func (r *CompatReport) Update(m string, key uint32) *CompatStep {
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Action == "update" && s.Map == m && s.Key == key {
			return s
		}
	}
	return nil
}

// Step returns the first step of action on prog, or nil.
func (r *CompatReport) Step(action, prog string) *CompatStep {
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Action == action && s.Prog == prog {
			return s
		}
	}
	return nil
}

// Run plays plan on kernel k: loads (bpf_check_tail_call claims or checks
// the owner of every prog array a program uses), then attachments, then
// slot updates (prog_fd_array_get_ptr). A failed load leaves the program
// unloaded; later steps naming it fail with -EBADF as a bad fd would.
func (k *CompatKernel) Run(plan *CompatPlan) *CompatReport {
	r := newReport(k)
	for _, p := range plan.Progs {
		r.progs[p.Name] = p
	}
	for _, p := range plan.Progs {
		r.Steps = append(r.Steps, r.load(p))
	}
	for _, p := range plan.Progs {
		if p.Attach {
			r.Steps = append(r.Steps, r.attach(p))
		}
	}
	for _, u := range plan.Updates {
		st := CompatStep{Action: "update", Prog: u.Prog, Map: u.Map, Key: u.Key}
		if max, ok := plan.MaxEntries[u.Map]; ok && u.Key >= max {
			st.Verdict = Verdict{Errno: "-E2BIG", Rule: "index", Reason: fmt.Sprintf("index %d >= max_entries %d (bpf_fd_array_map_update_elem)", u.Key, max)}
		} else {
			st.Verdict, st.Claimed = r.update(u)
		}
		r.Steps = append(r.Steps, st)
	}
	return r
}

func newReport(k *CompatKernel) *CompatReport {
	return &CompatReport{Kernel: k, Owners: map[string]*Owner{}, progs: map[string]*CompatProg{},
		loaded: map[string]bool{}, members: map[string]int{}, extd: map[string]bool{}, attachT: map[string]string{}}
}

// attachType is p's expected_attach_type as the kernel holds it: an
// extension inherits its target's at load ("to make freplace equivalent to
// their targets", check_attach_btf_id in kernel/bpf/verifier.c, 5.7 on).
func (r *CompatReport) attachType(p *CompatProg) string {
	if t, ok := r.attachT[p.Name]; ok {
		return t
	}
	return p.AttachType
}

func (r *CompatReport) notLoaded(name string) Verdict {
	return Verdict{Errno: "-EBADF", Rule: "not-loaded", Reason: fmt.Sprintf("%s is not loaded (its load failed)", name)}
}

// resolve is resolve_prog_type(p) on this kernel, with a note saying how
// the type was found.
func (r *CompatReport) resolve(p *CompatProg) (string, string) {
	if p.Type != "ext" {
		return p.Type, ""
	}
	if !r.Kernel.ResolveExt {
		return p.Type, fmt.Sprintf("%s compares fp->type: %s is not resolved to its target's type", r.Kernel.Check, p.Name)
	}
	t := r.progs[p.Target]
	if t == nil {
		return p.Type, ""
	}
	return t.Type, fmt.Sprintf("resolve_prog_type(%s) = %s (the type of its target %s)", p.Name, ProgTypeEnum(t.Type), p.Target)
}

func (r *CompatReport) funcProto(p *CompatProg) string {
	if p.Type == "ext" && p.Target != "" {
		return p.Target + "/" + p.TargetFunc
	}
	return ""
}

// compatible is the owner check: bpf_prog_array_compatible (5.15) or
// bpf_prog_map_compatible (6.x). load selects bpf_check_tail_call's
// variant. Claims the owner when the map has none.
func (r *CompatReport) compatible(m string, p *CompatProg, load bool) (Verdict, bool) {
	k := r.Kernel
	fn := k.Check
	if load && !k.DevBoundAtLoad && k.DevBound {
		fn = "__" + k.Check
	}
	if p.KprobeOverride {
		return Verdict{Errno: "-EINVAL", Rule: "kprobe-override", Reason: fmt.Sprintf("%s: %s uses bpf_override_return (fp->kprobe_override)", fn, p.Name)}, false
	}
	if p.DevBound && k.DevBound && (!load || k.DevBoundAtLoad) {
		return Verdict{Errno: "-EINVAL", Rule: "dev-bound", Reason: fmt.Sprintf("%s: %s is dev-bound (bpf_prog_is_dev_bound): XDP programs in program maps may run on any device", fn, p.Name)}, false
	}
	typ, note := r.resolve(p)
	o := r.Owners[m]
	if o == nil {
		o = &Owner{Type: typ, Jited: p.Jited, By: p.Name}
		if k.XDPHasFrags {
			o.XDPHasFrags = p.XDPHasFrags
		}
		if k.AttachType {
			o.AttachType = r.attachType(p)
		}
		if k.AttachFuncProto {
			o.FuncProto = r.funcProto(p)
		}
		r.Owners[m] = o
		why := fmt.Sprintf("%s has no owner yet: %s claims it with type %s, jited %d", m, p.Name, ProgTypeEnum(typ), b2i(p.Jited))
		if k.XDPHasFrags {
			why += fmt.Sprintf(", xdp_has_frags %d", b2i(o.XDPHasFrags))
		}
		if k.AttachType {
			why += ", expected_attach_type " + attachTypeName(o.AttachType)
			if p.Type == "ext" {
				why += " (inherited from " + p.Target + ")"
			}
		}
		if note != "" {
			why += " (" + note + ")"
		}
		return Verdict{OK: true, Rule: "owner-claimed", Reason: why}, true
	}
	by := fmt.Sprintf(" (owner claimed by %s)", o.By)
	switch {
	case o.Type != typ:
		why := fmt.Sprintf("%s: type %s != owner.type %s%s", fn, ProgTypeEnum(typ), ProgTypeEnum(o.Type), by)
		if note != "" {
			why += "; " + note
		}
		return Verdict{Errno: "-EINVAL", Rule: "owner-type", Reason: why}, false
	case o.Jited != p.Jited:
		return Verdict{Errno: "-EINVAL", Rule: "owner-jited", Reason: fmt.Sprintf("%s: jited %d != owner.jited %d%s", fn, b2i(p.Jited), b2i(o.Jited), by)}, false
	case k.XDPHasFrags && o.XDPHasFrags != p.XDPHasFrags:
		return Verdict{Errno: "-EINVAL", Rule: "owner-xdp-frags", Reason: fmt.Sprintf("%s: xdp_has_frags %d != owner.xdp_has_frags %d%s", fn, b2i(p.XDPHasFrags), b2i(o.XDPHasFrags), by)}, false
	case k.AttachType && o.AttachType != r.attachType(p):
		return Verdict{Errno: "-EINVAL", Rule: "owner-attach-type", Reason: fmt.Sprintf("%s: expected_attach_type %s != owner.expected_attach_type %s%s", fn, attachTypeName(r.attachType(p)), attachTypeName(o.AttachType), by)}, false
	case k.AttachFuncProto && o.FuncProto != r.funcProto(p) && protoChecked(typ):
		return Verdict{Errno: "-EINVAL", Rule: "owner-func-proto", Reason: fmt.Sprintf("%s: attach_func_proto of %s differs from the owner's (%s vs %s)%s", fn, p.Name, orNone(r.funcProto(p)), orNone(o.FuncProto), by)}, false
	}
	why := fmt.Sprintf("type %s == owner.type %s, jited %d == %d", ProgTypeEnum(typ), ProgTypeEnum(o.Type), b2i(p.Jited), b2i(o.Jited))
	if k.XDPHasFrags {
		why += fmt.Sprintf(", xdp_has_frags %d == %d", b2i(p.XDPHasFrags), b2i(o.XDPHasFrags))
	}
	if k.AttachType {
		why += fmt.Sprintf(", expected_attach_type %s == %s", attachTypeName(r.attachType(p)), attachTypeName(o.AttachType))
	}
	why += by
	if note != "" {
		why += "; " + note
	}
	return Verdict{OK: true, Rule: "owner-match", Reason: why}, false
}

// protoChecked: the resolved types whose attach_func_proto must match the
// owner's (__bpf_prog_map_compatible, 2025 stable).
func protoChecked(t string) bool {
	switch t {
	case "tracing", "lsm", "ext", "struct_ops":
		return true
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// load models BPF_PROG_LOAD's checks that concern extensions and prog
// arrays: the extension's target (bpf_check_attach_target, verifier.c) and
// bpf_check_tail_call in bpf_prog_select_runtime.
func (r *CompatReport) load(p *CompatProg) CompatStep {
	st := CompatStep{Action: "load", Prog: p.Name}
	if p.Type == "ext" {
		t := r.progs[p.Target]
		switch {
		case p.Target == "":
			st.Verdict = Verdict{Errno: "-EINVAL", Rule: "ext-target", Reason: fmt.Sprintf("%s is an extension without a target program (attach_prog_fd)", p.Name)}
			return st
		case t == nil || !r.loaded[p.Target]:
			st.Verdict = Verdict{Errno: "-EINVAL", Rule: "ext-target", Reason: fmt.Sprintf("%s's target %s is not loaded", p.Name, p.Target)}
			return st
		// bpf_check_attach_target (kernel/bpf/verifier.c), 5.6 onwards.
		case !p.Jited:
			st.Verdict = Verdict{Errno: "-EINVAL", Rule: "ext-not-jited", Reason: fmt.Sprintf("bpf_check_attach_target: extension programs should be JITed (%s is not)", p.Name)}
			return st
		case !t.Jited:
			st.Verdict = Verdict{Errno: "-EINVAL", Rule: "target-not-jited", Reason: fmt.Sprintf("bpf_check_attach_target: can attach to only JITed programs (%s is not)", p.Target)}
			return st
		case t.Type == "ext":
			st.Verdict = Verdict{Errno: "-EINVAL", Rule: "recursive-attach", Reason: fmt.Sprintf("bpf_check_attach_target: cannot recursively attach: %s and its target %s are both BPF_PROG_TYPE_EXT", p.Name, p.Target)}
			return st
		}
		r.attachT[p.Name] = r.attachType(t)
	}
	var claimed, notes []string
	for _, m := range p.UsedProgArrays {
		v, claim := r.compatible(m, p, true)
		if !v.OK {
			v.Reason = "bpf_check_tail_call: " + v.Reason
			st.Verdict = v
			return st
		}
		if claim {
			claimed = append(claimed, m)
		}
		notes = append(notes, v.Reason)
	}
	r.loaded[p.Name] = true
	st.Claimed = claimed
	why := "loaded"
	if p.Type == "ext" {
		why = fmt.Sprintf("loaded as an extension of %s/%s", p.Target, p.TargetFunc)
	}
	if len(notes) > 0 {
		why += "; " + strings.Join(notes, "; ")
	}
	st.Verdict = Verdict{OK: true, Rule: "loaded", Reason: why}
	return st
}

// attach models an freplace link (bpf_tracing_prog_attach ->
// bpf_trampoline_link_prog).
func (r *CompatReport) attach(p *CompatProg) CompatStep {
	st := CompatStep{Action: "attach", Prog: p.Name}
	if !r.loaded[p.Name] {
		st.Verdict = r.notLoaded(p.Name)
		return st
	}
	if r.Kernel.Extended {
		if n := r.members[p.Target]; n > 0 {
			st.Verdict = Verdict{Errno: "-EBUSY", Rule: "target-in-prog-array", Reason: fmt.Sprintf("bpf_freplace_check_tgt_prog: %s is in %d prog array slot(s) (prog_array_member_cnt): extending a tail callee could loop", p.Target, n)}
			return st
		}
		r.extd[p.Target] = true
	}
	why := fmt.Sprintf("%s replaces %s/%s", p.Name, p.Target, p.TargetFunc)
	if r.Kernel.Extended {
		why += fmt.Sprintf(" (%s is_extended = 1)", p.Target)
	}
	st.Verdict = Verdict{OK: true, Rule: "attached", Reason: why}
	return st
}

// update models prog_fd_array_get_ptr for bpf_fd_array_map_update_elem.
func (r *CompatReport) update(u SlotUpdate) (Verdict, []string) {
	p := r.progs[u.Prog]
	if p == nil || !r.loaded[u.Prog] {
		return r.notLoaded(u.Prog), nil
	}
	k := r.Kernel
	if k.RefuseExt && p.Type == "ext" {
		return Verdict{Errno: "-EINVAL", Rule: "ext-refused", Reason: fmt.Sprintf("prog_fd_array_get_ptr: %s is BPF_PROG_TYPE_EXT, which cannot be added to a prog array (6.12+)", p.Name)}, nil
	}
	v, claim := r.compatible(u.Map, p, false)
	if !v.OK {
		return v, nil
	}
	if k.Extended && r.extd[p.Name] {
		return Verdict{Errno: "-EBUSY", Rule: "extended", Reason: fmt.Sprintf("prog_fd_array_get_ptr: %s is extended by an freplace program (aux->is_extended): as a tail callee it could loop", p.Name)}, nil
	}
	r.members[p.Name]++
	var claimed []string
	if claim {
		claimed = []string{u.Map}
	}
	return v, claimed
}
