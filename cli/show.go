// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
)

// cmdShow prints what a scenario is: its source (built-ins), its packets,
// its guided tour with every stop resolved, or the prog array
// compatibility of its programs per kernel version.
func cmdShow(args []string, env Env) error {
	fs := newFlagSet("show", env)
	tour := fs.Bool("tour", false, "")
	compat := fs.Bool("compat", false, "")
	packets := fs.Bool("packets", false, "")
	kernelFlag := fs.String("kernel", "", "")
	format := fs.String("format", "text", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("show", err)
	}
	if len(pos) != 1 {
		return usagef("show takes one NAME, got %d", len(pos))
	}
	if *format != "text" && *format != "json" {
		return usagef("show: --format must be text or json, not %q", *format)
	}
	n := 0
	for _, b := range []bool{*tour, *compat, *packets} {
		if b {
			n++
		}
	}
	if n > 1 {
		return usagef("show: give one of --tour, --compat and --packets")
	}
	if *kernelFlag != "" && !*compat {
		return usagef("show: --kernel goes with --compat")
	}
	name := pos[0]
	if n == 0 {
		if *format != "text" {
			return usagef("show: --format applies to --tour and --compat")
		}
		src, err := scenarios.Show(name)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(src)
		return err
	}
	sc, err := scenarios.LoadScenario(name)
	if err != nil {
		return err
	}
	switch {
	case *packets:
		return showPackets(env, sc)
	case *tour:
		stops, err := resolveTour(name, sc)
		if err != nil {
			return err
		}
		if *format == "json" {
			if err := encodeJSON(env, stops); err != nil {
				return err
			}
		} else {
			writeTour(env, sc, stops)
		}
		for _, s := range stops {
			if s.Error != "" {
				return fmt.Errorf("%s: tour stop %d does not resolve: %s", s.Where, s.Stop, s.Error)
			}
		}
		return nil
	}
	kernels := kernel.CompatKernels()
	if *kernelFlag != "" {
		k, err := kernel.LookupCompatKernel(*kernelFlag)
		if err != nil {
			return usagef("show: %v", err)
		}
		kernels = []*kernel.CompatKernel{k}
	}
	reports := compatReports(sc, kernels)
	if *format == "json" {
		return encodeJSON(env, compatJSON(sc, reports))
	}
	writeCompat(env, sc, reports)
	return nil
}

func encodeJSON(env Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}

func showPackets(env Env, sc *scenarios.Scenario) error {
	if len(sc.Packets) == 0 {
		fmt.Fprintf(env.Stdout, "%s names no packets: runs use the emulator's default 64-byte Ethernet/IPv4/TCP frame\n", sc.Set.Name)
		return nil
	}
	for i, p := range sc.Packets {
		def := ""
		if i == 0 {
			def = " (default)"
		}
		fmt.Fprintf(env.Stdout, "%s%s: %d bytes\n", p.Name, def, len(p.Data))
		for off := 0; off < len(p.Data); off += 16 {
			end := min(off+16, len(p.Data))
			fmt.Fprintf(env.Stdout, "  %04x  % x\n", off, p.Data[off:end])
		}
	}
	return nil
}

// ----- tours -----

// tourStop is one resolved stop (`jitscope show NAME --tour`).
type tourStop struct {
	Stop     int      `json:"stop"` // 1-based
	Where    string   `json:"where"`
	Arch     string   `json:"arch"`
	Profile  string   `json:"profile"`
	Position string   `json:"position"` // function, address, step, event
	Entry    string   `json:"entry,omitempty"`
	Packet   string   `json:"packet,omitempty"`
	Slots    []string `json:"slots,omitempty"`
	// The cursor: function ("program/function"), byte offset, address and
	// the instruction there.
	Function string `json:"function,omitempty"`
	Offset   int    `json:"offset"`
	Address  string `json:"address,omitempty"`
	Insn     string `json:"insn,omitempty"`
	// Run stops: the step index (the instruction about to run) and, for
	// event stops, the event.
	Step  *int         `json:"step,omitempty"`
	Event *trace.Event `json:"event,omitempty"`
	Panes []string     `json:"panes,omitempty"`
	Text  string       `json:"text"`
	Error string       `json:"error,omitempty"`
}

// tourImage is a target compiled for one stop's arch, profile and slots.
type tourImage struct {
	set   *kernel.Set
	prof  *jit.Profile
	imgs  []*jit.Image
	funcs map[string]*disasm.Func // "program/function"
	order []string
	err   error
}

// resolveTour compiles and runs what the stops of sc need and places every
// stop. Stops that do not resolve carry an Error; the error result is for
// targets that cannot be loaded at all.
func resolveTour(target string, sc *scenarios.Scenario) ([]tourStop, error) {
	compiled := map[string]*tourImage{}
	runs := map[string]*machine.Run{}
	runErrs := map[string]error{}
	var out []tourStop
	for i := range sc.Tour {
		st := &sc.Tour[i]
		ts := tourStop{Stop: i + 1, Where: st.Where(), Arch: string(st.Arch), Profile: st.Profile, Position: st.Position(),
			Entry: st.Entry, Packet: st.Packet, Slots: st.Slots, Panes: st.Panes, Text: st.Text}
		key := fmt.Sprintf("%s|%s|%s", st.Arch, st.Profile, strings.Join(st.Slots, ","))
		ti := compiled[key]
		if ti == nil {
			ti = compileForTour(target, st)
			compiled[key] = ti
		}
		if ti.err != nil {
			ts.Error = ti.err.Error()
			out = append(out, ts)
			continue
		}
		ts.Profile = ti.prof.Name
		var pc uint64
		switch st.Position() {
		case "function":
			f := ti.lookupFunc(st.Function)
			if f == nil {
				ts.Error = fmt.Sprintf("no function %s in the %s image", st.Function, st.Arch)
				break
			}
			if st.Offset >= len(f.Image.Code) {
				ts.Error = fmt.Sprintf("offset %#x is past the end of %s (%d bytes)", st.Offset, st.Function, len(f.Image.Code))
				break
			}
			pc = f.Image.Address + uint64(st.Offset)
		case "address":
			pc = st.Address
		default:
			rkey := key + "|" + st.Entry + "|" + st.Packet
			run, ok := runs[rkey]
			if !ok {
				run, runErrs[rkey] = runForTour(target, ti, st)
				runs[rkey] = run
			}
			if err := runErrs[rkey]; err != nil {
				ts.Error = err.Error()
				break
			}
			step := st.Step
			if st.Event != "" {
				n := 0
				for j := range run.Events {
					if run.Events[j].Kind != st.Event {
						continue
					}
					if n++; n == st.Nth {
						ev := run.Events[j]
						ts.Event = &ev
						step = ev.Step
						break
					}
				}
				if ts.Event == nil {
					ts.Error = fmt.Sprintf("the run has %d %s event(s), not %d", n, st.Event, st.Nth)
					break
				}
			}
			if step > len(run.Steps) {
				ts.Error = fmt.Sprintf("step %d is past the end of the run (%d steps)", step, len(run.Steps))
				break
			}
			ts.Step = &step
			// The cursor is at the instruction about to run; after the
			// last step, at the last one run.
			pc = run.Steps[min(step, len(run.Steps)-1)].PC
		}
		if ts.Error == "" {
			ts.Address = fmt.Sprintf("%#x", pc)
			fn, off, line, err := ti.locate(pc)
			if err != nil {
				ts.Error = err.Error()
			} else {
				ts.Function, ts.Offset, ts.Insn = fn, off, line.Text
			}
		}
		out = append(out, ts)
	}
	return out, nil
}

func compileForTour(target string, st *scenarios.Stop) *tourImage {
	ti := &tourImage{funcs: map[string]*disasm.Func{}}
	t, err := session.LoadTarget(target)
	if err != nil {
		ti.err = err
		return ti
	}
	if err := applySlots(t.Name, t.Set, st.Slots); err != nil {
		ti.err = err
		return ti
	}
	p, err := t.PickProfile(st.Arch, st.Profile)
	if err != nil {
		ti.err = err
		return ti
	}
	if pl := t.Set.Placements[st.Arch]; pl != nil {
		p = p.WithConfig(pl.Config)
	}
	ti.set, ti.prof = t.Set, p
	if ti.imgs, err = t.CompileAll(st.Arch, p); err != nil {
		ti.err = err
		return ti
	}
	lopt, err := session.ListOptions(p, session.SyntaxDefault)
	if err != nil {
		ti.err = err
		return ti
	}
	for _, img := range ti.imgs {
		lp, err := disasm.ListOpts(img, lopt)
		if err != nil {
			ti.err = err
			return ti
		}
		for _, f := range lp.Funcs {
			k := img.Program + "/" + f.Image.Name
			ti.funcs[k] = f
			ti.order = append(ti.order, k)
		}
	}
	return ti
}

// lookupFunc finds "program/function" or a function name unique among the
// programs (the scenario parser has checked it is).
func (ti *tourImage) lookupFunc(name string) *disasm.Func {
	if f := ti.funcs[name]; f != nil {
		return f
	}
	for _, k := range ti.order {
		if _, fn, _ := strings.Cut(k, "/"); fn == name {
			return ti.funcs[k]
		}
	}
	return nil
}

// locate finds the instruction at pc: its function, offset and line. pc
// must be the start of an instruction.
func (ti *tourImage) locate(pc uint64) (string, int, *disasm.Line, error) {
	for _, k := range ti.order {
		f := ti.funcs[k]
		start := f.Image.Address
		if pc < start || pc >= start+uint64(len(f.Image.Code)) {
			continue
		}
		for i := range f.Lines {
			if f.Lines[i].Addr == pc {
				return k, int(pc - start), &f.Lines[i], nil
			}
		}
		return "", 0, nil, fmt.Errorf("%#x (%s+%#x) is inside an instruction, not at its start", pc, k, pc-start)
	}
	return "", 0, nil, fmt.Errorf("%#x is not in any function's image", pc)
}

// runForTour runs the stop's entry program with its packet, as `jitscope
// run` does, keeping the steps.
func runForTour(target string, ti *tourImage, st *scenarios.Stop) (*machine.Run, error) {
	pkt, err := scenarios.PacketFor(target, st.Packet)
	if err != nil {
		return nil, err
	}
	byName := map[string]*jit.Image{}
	for _, img := range ti.imgs {
		byName[img.Program] = img
	}
	entry := st.Entry
	if entry == "" {
		entry = ti.set.Programs[0].Name
	}
	k, err := machine.New(ti.set, st.Arch, ti.prof.Layout, byName, machine.Options{Packet: pkt})
	if err != nil {
		return nil, err
	}
	r, err := machine.NewRunner(k, ti.prof)
	if err != nil {
		return nil, err
	}
	cpu, err := machine.NewCPU(k, ti.prof.BTI, ti.prof.PAC, false)
	if err != nil {
		return nil, err
	}
	run := r.Run(cpu, entry, machine.RunOptions{Thunks: thunks(ti.imgs)})
	if run.Err != nil {
		return nil, fmt.Errorf("run of %s: %w", entry, run.Err)
	}
	if len(run.Steps) == 0 {
		return nil, fmt.Errorf("run of %s executed nothing", entry)
	}
	return run, nil
}

func writeTour(env Env, sc *scenarios.Scenario, stops []tourStop) {
	if len(stops) == 0 {
		fmt.Fprintf(env.Stdout, "%s has no guided tour\n", sc.Set.Name)
		return
	}
	fmt.Fprintf(env.Stdout, "%s: guided tour, %d stops\n", sc.Set.Name, len(stops))
	for _, s := range stops {
		fmt.Fprintf(env.Stdout, "\nstop %d/%d (%s) %s %s", s.Stop, len(stops), s.Where, s.Arch, s.Profile)
		if s.Entry != "" {
			fmt.Fprintf(env.Stdout, ", entry %s", s.Entry)
		}
		if s.Packet != "" {
			fmt.Fprintf(env.Stdout, ", packet %s", s.Packet)
		}
		if len(s.Slots) > 0 {
			fmt.Fprintf(env.Stdout, ", slots %s", strings.Join(s.Slots, " "))
		}
		if len(s.Panes) > 0 {
			fmt.Fprintf(env.Stdout, "; panes %s", strings.Join(s.Panes, ", "))
		}
		fmt.Fprintln(env.Stdout)
		if s.Error != "" {
			fmt.Fprintf(env.Stdout, "  DOES NOT RESOLVE: %s\n", s.Error)
		} else {
			if s.Step != nil {
				fmt.Fprintf(env.Stdout, "  step %d", *s.Step)
				if s.Event != nil {
					fmt.Fprintf(env.Stdout, ", %s event", s.Event.Kind)
					if s.Event.Detail != "" {
						fmt.Fprintf(env.Stdout, " (%s)", s.Event.Detail)
					}
				}
				fmt.Fprintln(env.Stdout)
			}
			fmt.Fprintf(env.Stdout, "  %s+%#x  %s:  %s\n", s.Function, s.Offset, s.Address, s.Insn)
		}
		fmt.Fprintf(env.Stdout, "  %s\n", s.Text)
	}
}

// ----- prog array compatibility -----

func compatReports(sc *scenarios.Scenario, kernels []*kernel.CompatKernel) []*kernel.CompatReport {
	var out []*kernel.CompatReport
	for _, k := range kernels {
		out = append(out, k.Run(sc.CompatPlan()))
	}
	return out
}

// jitNote says which JIT profiles model a compatibility kernel's machine
// code: the compatibility model has its own kernel labels.
func jitNote(k *kernel.CompatKernel) string {
	re := regexp.MustCompile(`(^|[^0-9.])` + regexp.QuoteMeta(k.Name) + `($|[^0-9.])`)
	var have []string
	for _, a := range jit.Arches() {
		for _, p := range jit.Profiles(a) {
			if re.MatchString(p.Kernel) {
				have = append(have, fmt.Sprintf("%s %s (%s)", a, p.Name, p.Kernel))
			}
		}
	}
	if len(have) == 0 {
		return "no JIT profile models this kernel's machine code: compatibility model only"
	}
	return "JIT profiles: " + strings.Join(have, ", ")
}

func writeCompat(env Env, sc *scenarios.Scenario, reports []*kernel.CompatReport) {
	plan := sc.CompatPlan()
	fmt.Fprintf(env.Stdout, "%s: prog array compatibility per kernel (model: kernel/compat.go)\n", sc.Set.Name)
	fmt.Fprintf(env.Stdout, "user space loads the programs in file order, attaches the extensions, then fills the slots:\n")
	for _, p := range plan.Progs {
		fmt.Fprintf(env.Stdout, "  %s (%s", p.Name, kernel.ProgTypeEnum(p.Type))
		if p.Target != "" {
			fmt.Fprintf(env.Stdout, ", extends %s/%s", p.Target, p.TargetFunc)
			if p.Attach {
				fmt.Fprint(env.Stdout, ", attached")
			}
		}
		if len(p.UsedProgArrays) > 0 {
			fmt.Fprintf(env.Stdout, "; uses %s", strings.Join(p.UsedProgArrays, ", "))
		}
		fmt.Fprintln(env.Stdout, ")")
	}
	for _, r := range reports {
		k := r.Kernel
		fmt.Fprintf(env.Stdout, "\n%s: %s, %s\n  (%s)\n", k.Name, k.Release, k.Check, jitNote(k))
		for _, s := range r.Steps {
			verdict := "ok"
			switch {
			case !s.OK:
				verdict = "REFUSED " + s.Errno
			case s.Action == "update":
				verdict = "allowed"
			}
			fmt.Fprintf(env.Stdout, "  %s: %s: %s\n", s.What(), verdict, s.Reason)
		}
	}
	// The slot updates side by side.
	if len(plan.Updates) == 0 || len(reports) == 0 {
		return
	}
	fmt.Fprintln(env.Stdout)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "slot update")
	for _, r := range reports {
		fmt.Fprintf(tw, "\t%s", r.Kernel.Name)
	}
	fmt.Fprintln(tw)
	for _, u := range plan.Updates {
		fmt.Fprintf(tw, "%s[%d] = %s", u.Map, u.Key, u.Prog)
		for _, r := range reports {
			s := r.Update(u.Map, u.Key)
			switch {
			case s == nil:
				fmt.Fprint(tw, "\t-")
			case s.OK:
				fmt.Fprint(tw, "\tallowed")
			default:
				fmt.Fprintf(tw, "\t%s", s.Errno)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

type compatStepJSON struct {
	Action  string   `json:"action"`
	Prog    string   `json:"prog"`
	Map     string   `json:"map,omitempty"`
	Key     *uint32  `json:"key,omitempty"`
	OK      bool     `json:"ok"`
	Errno   string   `json:"errno,omitempty"`
	Rule    string   `json:"rule"`
	Reason  string   `json:"reason"`
	Claimed []string `json:"claimed,omitempty"`
}

type compatKernelJSON struct {
	Kernel  string           `json:"kernel"`
	Release string           `json:"release"`
	Check   string           `json:"check"`
	JIT     string           `json:"jit"`
	Sources []string         `json:"sources"`
	Steps   []compatStepJSON `json:"steps"`
}

type compatResultJSON struct {
	Scenario string             `json:"scenario"`
	Kernels  []compatKernelJSON `json:"kernels"`
}

func compatJSON(sc *scenarios.Scenario, reports []*kernel.CompatReport) compatResultJSON {
	out := compatResultJSON{Scenario: sc.Set.Name}
	for _, r := range reports {
		kj := compatKernelJSON{Kernel: r.Kernel.Name, Release: r.Kernel.Release, Check: r.Kernel.Check, JIT: jitNote(r.Kernel), Sources: r.Kernel.Sources}
		for _, s := range r.Steps {
			sj := compatStepJSON{Action: s.Action, Prog: s.Prog, OK: s.OK, Errno: s.Errno, Rule: s.Rule, Reason: s.Reason, Claimed: s.Claimed}
			if s.Action == "update" {
				key := s.Key
				sj.Map, sj.Key = s.Map, &key
			}
			kj.Steps = append(kj.Steps, sj)
		}
		out.Kernels = append(out.Kernels, kj)
	}
	return out
}
