// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// RunConfig chooses what a run executes beyond the code: the entry
// program, the packet, and prog array slots filled or emptied before the
// programs are JITed (`jitscope run --entry --packet --slot`).
type RunConfig struct {
	Entry  string   // "" for the target's entry program
	Packet string   // a packet of the scenario, "0x..." bytes, "" for the default
	Slots  []string // "MAP[KEY]=PROG", PROG empty to empty the slot
}

func (c RunConfig) key() string {
	return c.Entry + "|" + c.Packet + "|" + strings.Join(c.Slots, ",")
}

var slotRE = regexp.MustCompile(`^([A-Za-z_.][A-Za-z0-9_.]*)\[(\d+)\]=([A-Za-z0-9_.]*)$`)

// ParseSlot reads "MAP[KEY]=PROG".
func ParseSlot(s string) (m string, key uint32, prog string, err error) {
	g := slotRE.FindStringSubmatch(s)
	if g == nil {
		return "", 0, "", fmt.Errorf("%q: want MAP[KEY]=PROG (PROG empty to empty the slot)", s)
	}
	k, err := strconv.ParseUint(g[2], 10, 32)
	if err != nil {
		return "", 0, "", fmt.Errorf("%q: bad index %s", s, g[2])
	}
	return g[1], uint32(k), g[3], nil
}

// ApplySlots fills or empties prog array slots of set before it is
// compiled, as a bpf_map_update_elem/delete_elem would before the load.
func ApplySlots(set *kernel.Set, slots []string) error {
	for _, s := range slots {
		name, key, prog, err := ParseSlot(s)
		if err != nil {
			return fmt.Errorf("slot %w", err)
		}
		mp := set.Map(name)
		if mp == nil || !mp.IsProgArray() {
			return fmt.Errorf("slot %s: %s is not a prog array of this scenario", s, name)
		}
		if key >= mp.MaxEntries {
			return fmt.Errorf("slot %s: index %d out of range (max_entries %d)", s, key, mp.MaxEntries)
		}
		if prog == "" {
			delete(mp.Progs, key)
			continue
		}
		if set.Program(prog) == nil {
			return fmt.Errorf("slot %s: no program %q in this scenario", s, prog)
		}
		if mp.Progs == nil {
			mp.Progs = map[uint32]string{}
		}
		mp.Progs[key] = prog
	}
	return nil
}

// setSlots puts the target's prog arrays back as loaded and applies slots.
func (t *Target) setSlots(slots []string) error {
	if t.slots0 == nil {
		t.slots0 = map[string]map[uint32]string{}
		for _, m := range t.Set.Maps {
			if m.IsProgArray() {
				t.slots0[m.Name] = cloneSlots(m.Progs)
			}
		}
	}
	for _, m := range t.Set.Maps {
		if m.IsProgArray() {
			m.Progs = cloneSlots(t.slots0[m.Name])
		}
	}
	return ApplySlots(t.Set, slots)
}

func cloneSlots(m map[uint32]string) map[uint32]string {
	out := make(map[uint32]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Packet returns the bytes of the named packet of the target ("" for its
// default; nil is the emulator's default frame).
func (t *Target) Packet(name string) ([]byte, error) {
	if h, ok := strings.CutPrefix(name, "0x"); ok {
		return scenarios.PacketFor(t.Name, "0x"+h)
	}
	if t.Scenario == nil {
		if name != "" {
			return nil, fmt.Errorf("%s: no named packets", t.Name)
		}
		return nil, nil
	}
	return t.Scenario.Packet(name)
}

// Setup is a machine ready to run, with what user space did to get there.
type Setup struct {
	Kernel *machine.Kernel
	// Events are the kernel's answers to the loads, freplace attachments
	// and slot updates the scenario makes (load, attach, map_update), all
	// at step 0.
	Events []trace.Event
	// Compat names the prog array rules played and why ("" when none).
	Compat string
}

// NewMachine lays the target's images out in an emulated kernel for a
// run with profile p and the packet. A scenario with extension programs
// is then set up as user space would: its plan (load, attach, fill the
// slots) is played on the prog array compatibility model of p's kernel
// (CompatKernelFor); an attachment the kernel allows patches the target's
// entry (machine.AttachExtension), a slot update it refuses leaves the
// slot empty. Each answer is an event with its rule, values and -errno.
func (t *Target) NewMachine(arch kernel.Arch, p *jit.Profile, imgs map[string]*jit.Image, packet []byte) (*Setup, error) {
	k, err := machine.New(t.effectiveSet(p), arch, p.Layout, imgs, machine.Options{Packet: packet})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	su := &Setup{Kernel: k}
	rep, ck, why := t.compatReport(p)
	su.Compat = why
	if rep == nil {
		return su, nil
	}
	info := t.Scenario.Progs
	for _, st := range rep.Steps {
		ev := trace.Event{Step: 0, Kind: trace.Kind(st.Action), From: st.Prog}
		verdict := "ok"
		if !st.OK {
			verdict = "REFUSED " + st.Errno
		}
		switch st.Action {
		case "load":
			if st.OK {
				continue
			}
			ev.Kind = trace.Load
		case "attach":
			ev.Kind = trace.Attach
			pi := info[st.Prog]
			if st.OK && pi != nil {
				ev.To = pi.Target + "/" + pi.TargetFunc
				rp, err := k.AttachExtension(p, st.Prog, pi.Target, pi.TargetFunc)
				switch {
				case errors.Is(err, machine.ErrNoTextPoke):
					verdict = "REFUSED -ENOTSUPP"
					st.Reason = fmt.Sprintf("%s (%s allows the link; %v)", st.Reason, ck.Name, err)
					st.Rule = "text-poke"
				case err != nil:
					return nil, fmt.Errorf("%s: %w", t.Name, err)
				default:
					st.Reason += fmt.Sprintf("; bpf_arch_text_poke at %#x: %s", rp.Site, rp.Insn)
				}
			}
		case "update":
			ev.Kind = trace.MapUpdate
			ev.To = fmt.Sprintf("%s[%d]", st.Map, st.Key)
			if !st.OK {
				// effectiveSet left it empty for the JIT and the layout.
				st.Reason += "; the slot stays empty"
			} else {
				verdict = "allowed"
			}
		}
		ev.Detail = fmt.Sprintf("%s %s: %s (rule %s): %s", ck.Name, st.What(), verdict, st.Rule, st.Reason)
		su.Events = append(su.Events, ev)
	}
	return su, nil
}

// compatReport plays the scenario's plan on p's kernel: nil when the
// target has no extensions or p is not a kernel.
func (t *Target) compatReport(p *jit.Profile) (*kernel.CompatReport, *kernel.CompatKernel, string) {
	if t.Scenario == nil || !hasExtension(t.Set) {
		return nil, nil, ""
	}
	ck, why := CompatKernelFor(p)
	if ck == nil {
		return nil, nil, fmt.Sprintf("%s is not a kernel: extensions stay unattached and the slots as loaded", p.Name)
	}
	plan := t.Scenario.CompatPlan()
	// The slots as this run has them (--slot may have changed them).
	plan.Updates = kernel.PlanFromSet(t.Set).Updates
	return ck.Run(plan), ck, why
}

// effectiveSet is the set as p's kernel leaves it after user space's
// plan: the slot updates the kernel refuses are not made, so those slots
// are empty when the programs are JITed (a direct tail call on them keeps
// its nop) and laid out. Without refusals it is t.Set itself.
func (t *Target) effectiveSet(p *jit.Profile) *kernel.Set {
	rep, _, _ := t.compatReport(p)
	if rep == nil {
		return t.Set
	}
	refused := map[string][]uint32{}
	for _, st := range rep.Steps {
		if st.Action == "update" && !st.OK {
			refused[st.Map] = append(refused[st.Map], st.Key)
		}
	}
	if len(refused) == 0 {
		return t.Set
	}
	s := *t.Set
	s.Maps = make([]*kernel.Map, len(t.Set.Maps))
	for i, m := range t.Set.Maps {
		s.Maps[i] = m
		if keys := refused[m.Name]; len(keys) > 0 {
			c := *m
			c.Progs = cloneSlots(m.Progs)
			for _, k := range keys {
				delete(c.Progs, k)
			}
			s.Maps[i] = &c
		}
	}
	return &s
}

func hasExtension(s *kernel.Set) bool {
	return slices.ContainsFunc(s.Programs, func(p *kernel.Program) bool { return p.Type == "ext" })
}

// CompatSummary says, per modelled kernel, what the kernel answers to
// each prog array slot the scenario fills (with the rule), and to the
// freplace attachments where they fail: one line per kernel. Empty for
// targets without extensions or prog arrays.
func (t *Target) CompatSummary() []string {
	if t.Scenario == nil || !hasExtension(t.Set) {
		return nil
	}
	plan := t.Scenario.CompatPlan()
	var out []string
	for _, k := range kernel.CompatKernels() {
		rep := k.Run(plan)
		var parts []string
		for _, st := range rep.Steps {
			switch {
			case st.Action == "update" && st.OK:
				parts = append(parts, fmt.Sprintf("%s[%d] = %s allowed (%s)", st.Map, st.Key, st.Prog, st.Rule))
			case st.Action == "update":
				parts = append(parts, fmt.Sprintf("%s[%d] = %s %s (%s)", st.Map, st.Key, st.Prog, st.Errno, st.Rule))
			case !st.OK:
				parts = append(parts, fmt.Sprintf("%s %s (%s)", st.What(), st.Errno, st.Rule))
			}
		}
		out = append(out, fmt.Sprintf("%s: %s", k.Name, strings.Join(parts, "; ")))
	}
	return out
}
