package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jitscope/jitscope/session"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/verifier"
)

func cmdRun(args []string, env Env) error {
	fs := newFlagSet("run", env)
	archFlag := fs.String("arch", "arm64", "")
	profFlag := fs.String("profile", "", "")
	format := fs.String("format", "text", "")
	entry := fs.String("entry", "", "")
	limit := fs.Int("steps", DefaultMaxSteps, "")
	fs.IntVar(limit, "max-steps", DefaultMaxSteps, "")
	maxMem := sizeFlag(DefaultMaxMem)
	fs.Var(&maxMem, "max-mem", "")
	packet := fs.String("packet", "", "")
	verifierFrom := fs.String("verifier", "", "")
	var slots, then slotFlags
	fs.Var(&slots, "slot", "")
	fs.Var(&then, "then", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("run", err)
	}
	if len(pos) != 1 {
		return usagef("run takes one TARGET, got %d", len(pos))
	}
	if *format != "text" && *format != "json" {
		return usagef("run: --format must be text or json, not %q", *format)
	}
	if *limit < 1 || *limit > MaxMaxSteps {
		return usagef("run: --max-steps must be between 1 and %d, not %d", MaxMaxSteps, *limit)
	}
	arch, err := kernel.ParseArch(*archFlag)
	if err != nil {
		return usagef("run: %v", err)
	}
	t, err := session.LoadTarget(pos[0])
	if err != nil {
		return err
	}
	if t.Capture != nil && *verifierFrom != "" {
		return usagef("run: --verifier: %s is a kernel capture, already the verifier's output", t.Name)
	}
	if err := applySlots(t.Name, t.Set, slots); err != nil {
		return err
	}
	pkt, err := scenarios.PacketFor(pos[0], *packet)
	if err != nil {
		return err
	}
	p, err := t.PickProfile(arch, *profFlag)
	if err != nil {
		return err
	}
	if pl := t.Set.Placements[arch]; pl != nil {
		p = p.WithConfig(pl.Config)
	}
	var vf *verifier.Facts
	if t.Capture != nil {
		// The kernel's translated programs read the kernel's structs:
		// they run on the kernel memory model.
		f, err := t.CaptureFacts(arch, p)
		if err != nil {
			return err
		}
		vf = &f
	}
	if *verifierFrom != "" {
		// The image of the program the kernel's JIT receives, on the
		// kernel memory model.
		f, err := verifierFacts(t, arch, p, *verifierFrom, "run")
		if err != nil {
			return err
		}
		if t, err = t.Verified(arch, f, nil); err != nil {
			return err
		}
		vf = &f
	}
	res, err := runTarget(t, arch, p, *entry, runLimits{steps: *limit, mem: int(maxMem)}, then, pkt, vf)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", " ")
		return enc.Encode(res)
	}
	writeRunText(env, res)
	if res.Error != "" {
		return fmt.Errorf("%s: %s", t.Name, res.Error)
	}
	return nil
}

// runResult is the `jitscope run --format json` contract (DESIGN.md).
type runResult struct {
	Arch      string        `json:"arch"`
	Profile   string        `json:"profile"`
	Entry     string        `json:"entry"`
	Retval    uint64        `json:"retval"`
	Steps     int           `json:"steps"`
	TailCalls int           `json:"tail_calls"`
	Events    []trace.Event `json:"events"`
	Printk    []string      `json:"printk,omitempty"`
	Error     string        `json:"error,omitempty"`
	// Then holds the runs after each --then map update, each with the text
	// pokes the update made.
	Then []*runResult `json:"then,omitempty"`
	// Update names the map update that preceded this run (in Then).
	Update string `json:"update,omitempty"`
	// stepLimit: the run reached its step limit without returning.
	stepLimit bool
	// Note says that the profile is a compatibility model only; Compat
	// which prog array rules set the run up (scenarios with extensions).
	Note   string `json:"note,omitempty"`
	Compat string `json:"compat,omitempty"`
}

// Defaults and bounds of run's limits. A million instructions is far more
// than any scenario needs (the longest built-in run takes a few thousand)
// and takes about a second; the memory holds every built-in scenario and
// generated programs of a million instructions.
const (
	DefaultMaxSteps = 1_000_000
	MaxMaxSteps     = 1_000_000_000
	DefaultMaxMem   = 256 << 20
	MaxMaxMem       = 16 << 30
)

// runLimits bound one run: instructions executed, bytes of emulated memory.
type runLimits struct{ steps, mem int }

// runTarget runs entry of t on the emulator; vf, when set, are the
// verifier facts t's programs were rewritten with (session.Target.
// Verified), and the machine is the kernel memory model.
func runTarget(t *session.Target, arch kernel.Arch, p *jit.Profile, entry string, limit runLimits, then []string, packet []byte, vf *verifier.Facts) (*runResult, error) {
	imgs, err := t.CompileAll(arch, p)
	if err != nil {
		return nil, err
	}
	byName := map[string]*jit.Image{}
	for _, img := range imgs {
		byName[img.Program] = img
	}
	if entry == "" {
		entry = t.Set.Programs[0].Name
	}
	if byName[entry] == nil {
		return nil, fmt.Errorf("%s: no program %q (have %s)", t.Name, entry, programNames(t.Set))
	}
	su, err := t.NewMachine(arch, p, byName, machine.Options{Packet: packet, MemoryLimit: limit.mem, Verified: vf})
	if err != nil {
		if errors.Is(err, mem.ErrLimit) {
			return nil, fmt.Errorf("%s: %w; raise it with --max-mem", t.Name, err)
		}
		return nil, err
	}
	k := su.Kernel
	r, err := machine.NewRunner(k, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	once := func() (*runResult, error) {
		cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
		if err != nil {
			return nil, err
		}
		k.Printk = nil
		// Only the count of steps is printed: not keeping them bounds the
		// memory a run takes by its events, whatever --max-steps says.
		run := r.Run(cpu, entry, machine.RunOptions{StepLimit: limit.steps, Thunks: thunks(imgs), DiscardSteps: true})
		res := &runResult{Arch: string(arch), Profile: p.Name, Entry: entry, Retval: run.Retval, Steps: run.N,
			TailCalls: run.TailCalls, Events: run.Events, Printk: k.Printk}
		if res.Events == nil {
			res.Events = []trace.Event{}
		}
		if run.Err != nil {
			res.Error = run.Err.Error()
			if errors.Is(run.Err, machine.ErrStepLimit) {
				res.stepLimit = true
				res.Error += " (an endless loop? --max-steps raises the limit)"
			}
		}
		return res, nil
	}
	first, err := once()
	if err != nil {
		return nil, err
	}
	first.Events = append(append([]trace.Event(nil), su.Events...), first.Events...)
	first.Compat = su.Compat
	if note, ok := session.CompatOnly(p); ok {
		first.Note = note
	}
	for _, u := range then {
		m := slotRE.FindStringSubmatch(u)
		if m == nil {
			return nil, usagef("--then %q: want MAP[KEY]=PROG (PROG empty to delete)", u)
		}
		key, _ := strconv.ParseUint(m[2], 10, 32)
		pokes, err := k.UpdateProgArray(m[1], uint32(key), m[3])
		if err != nil {
			return nil, fmt.Errorf("%s: --then %s: %w", t.Name, u, err)
		}
		res, err := once()
		if err != nil {
			return nil, err
		}
		res.Update = u
		var pe []trace.Event
		for _, pk := range pokes {
			d := fmt.Sprintf("%s/%s %s: %c -> %c", pk.Prog, pk.Func, pk.Step.Site, pk.Step.From, pk.Step.To)
			if pk.Step.Site != "synchronize_rcu" {
				d += fmt.Sprintf(" (% x -> % x at %#x)", pk.Step.Old, pk.Step.New, pk.Step.Addr)
			}
			pe = append(pe, trace.Event{Step: 0, Kind: trace.Poke, From: pk.Prog, Detail: d + ": " + pk.Step.Detail})
		}
		res.Events = append(pe, res.Events...)
		first.Then = append(first.Then, res)
	}
	return first, nil
}

// thunks finds the kernel thunks the x86 images jump to: retpolines
// (__x86_indirect_thunk_<reg>: "jmp *%reg") and return thunks ("ret").
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

func programNames(s *kernel.Set) string {
	var n []string
	for _, p := range s.Programs {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

func writeRunText(env Env, r *runResult) {
	fmt.Fprintf(env.Stdout, "%s %s, entry %s\n", r.Arch, r.Profile, r.Entry)
	if r.Note != "" {
		fmt.Fprintf(env.Stdout, "note: %s\n", r.Note)
	}
	if r.Compat != "" {
		fmt.Fprintf(env.Stdout, "setup: %s\n", r.Compat)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, e := range r.Events {
		var what string
		switch e.Kind {
		case trace.TCC:
			what = fmt.Sprintf("TCC = %d in %s (%s)", *e.Value, e.Where, e.From)
		case trace.Call:
			what = fmt.Sprintf("%s -> %s", e.From, e.To)
		case trace.Return:
			what = fmt.Sprintf("%s -> %s", e.From, e.To)
			if e.Value != nil {
				what += fmt.Sprintf(" (r0 = %d)", *e.Value)
			}
		case trace.TailCall:
			what = e.Detail
		case trace.TailCallMiss:
			what = fmt.Sprintf("%s: %s", e.From, e.Detail)
		case trace.Helper:
			what = fmt.Sprintf("%s() = %d", e.To, *e.Value)
		case trace.Poke, trace.Load, trace.Attach, trace.MapUpdate, trace.Freplace:
			what = e.Detail
		default:
			what = e.Detail
		}
		fmt.Fprintf(tw, "step %d\t%s\t%s\n", e.Step, e.Kind, what)
	}
	tw.Flush()
	for _, l := range r.Printk {
		fmt.Fprintf(env.Stdout, "trace_printk: %s\n", l)
	}
	fmt.Fprintf(env.Stdout, "retval %d, %d instructions, %d tail calls\n", r.Retval, r.Steps, r.TailCalls)
	for _, t := range r.Then {
		fmt.Fprintf(env.Stdout, "\nafter update %s:\n", t.Update)
		writeRunText(env, t)
	}
}

// sizeFlag is a byte count: 268435456, 256M, 64K, 1G (binary units).
type sizeFlag int

func (s *sizeFlag) String() string { return strconv.Itoa(int(*s)) }

func (s *sizeFlag) Set(v string) error {
	mult := 1
	num := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(v), "B"), "I")
	switch {
	case strings.HasSuffix(num, "K"):
		mult, num = 1<<10, num[:len(num)-1]
	case strings.HasSuffix(num, "M"):
		mult, num = 1<<20, num[:len(num)-1]
	case strings.HasSuffix(num, "G"):
		mult, num = 1<<30, num[:len(num)-1]
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 || n > MaxMaxMem/uint64(mult) {
		return fmt.Errorf("want a size from 64K to %dG (bytes, or with K, M, G), not %q", MaxMaxMem>>30, v)
	}
	if int(n)*mult < 64<<10 {
		return fmt.Errorf("want a size from 64K to %dG (bytes, or with K, M, G), not %q", MaxMaxMem>>30, v)
	}
	*s = sizeFlag(int(n) * mult)
	return nil
}
