// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jitscope/jitscope/ui"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/live"
)

const kernelUsage = `  jitscope kernel [list|dump ID|verify TARGET] [flags]   the running kernel (root)
      (no subcommand)           in a terminal: browse the programs, enter shows one beside
                                jitscope's prediction (n/N: next/previous difference)
      list                      the loaded BPF programs: id, type, name, tag, JIT size, load time
      dump ID                   the kernel's image of program ID beside jitscope's JIT of the
                                kernel's xlated instructions for the host profile; '!' marks
                                every instruction that differs
      verify TARGET             load a scenario or BPF object, compare every function's image,
                                run it (BPF_PROG_TEST_RUN) against the emulator, unload it;
                                exit status 0 only when all are identical
      --profile P               JIT profile (default: v<major.minor> of the running kernel)
      --config KEY=VALUE        override a host fact (CONFIG_*, cpu:FLAG,
                                observed:return_thunk, observed:indirect_thunk) (repeatable)
      --config-file F           the kernel .config (default /proc/config.gz, /boot/config-<release>)
      --format text|json        (list, dump)
      --plain                   dump: no annotations
      --save DIR                dump: also write the program as a capture directory
`

// kernelChecks is how the kernel commands learn whether they may proceed;
// tests replace it to feed fake conditions.
var kernelChecks = func() error { return live.ReadConditions().Check() }

type kvFlags map[string]string

func (k kvFlags) String() string { return fmt.Sprint(map[string]string(k)) }
func (k kvFlags) Set(v string) error {
	key, val, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE, not %q", v)
	}
	k[key] = val
	return nil
}

type kernelFlags struct {
	profile, configFile, format, save string
	plain                             bool
	config                            kvFlags
}

func (kf *kernelFlags) hostOptions() live.HostOptions {
	return live.HostOptions{ConfigFile: kf.configFile, Overrides: kf.config}
}

func cmdKernel(args []string, env Env) error {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	} else if env.IsTerminal {
		// `jitscope kernel` in a terminal: the programs, then one beside
		// jitscope's prediction.
		sub = "tui"
	}
	fs := newFlagSet("kernel "+sub, env)
	kf := &kernelFlags{config: kvFlags{}}
	fs.StringVar(&kf.profile, "profile", "", "")
	fs.StringVar(&kf.configFile, "config-file", "", "")
	fs.StringVar(&kf.format, "format", "text", "")
	fs.StringVar(&kf.save, "save", "", "")
	fs.BoolVar(&kf.plain, "plain", false, "")
	fs.Var(kf.config, "config", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("kernel "+sub, err)
	}
	if kf.format != "text" && kf.format != "json" {
		return usagef("kernel %s: --format must be text or json, not %q", sub, kf.format)
	}
	switch sub {
	case "list":
		if len(pos) != 0 {
			return usagef("kernel list takes no arguments")
		}
		if kf.profile != "" || kf.configFile != "" || len(kf.config) > 0 || kf.save != "" || kf.plain {
			return usagef("kernel list: --profile, --config, --config-file, --save and --plain apply to dump and verify")
		}
		if err := kernelChecks(); err != nil {
			return err
		}
		return kernelList(env, kf)
	case "dump":
		if len(pos) != 1 {
			return usagef("kernel dump takes one program ID, got %d arguments", len(pos))
		}
		id, err := strconv.ParseUint(pos[0], 10, 32)
		if err != nil || id == 0 {
			return usagef("kernel dump: %q is not a program id (see `jitscope kernel list`)", pos[0])
		}
		if err := kernelChecks(); err != nil {
			return err
		}
		return kernelDump(env, kf, uint32(id))
	case "tui":
		if len(pos) != 0 {
			return usagef("kernel takes no arguments before a subcommand")
		}
		if err := kernelChecks(); err != nil {
			return err
		}
		src, err := newKernelSource(kf)
		if err != nil {
			return err
		}
		return ui.RunKernel(src, "auto", os.Stdin, env.Stdout)
	case "verify":
		if len(pos) != 1 {
			return usagef("kernel verify takes one TARGET, got %d arguments", len(pos))
		}
		if err := kernelChecks(); err != nil {
			return err
		}
		return kernelVerify(env, kf, pos[0])
	}
	return usagef("kernel: unknown subcommand %q (want list, dump or verify)", sub)
}

func kernelList(env Env, kf *kernelFlags) error {
	progs, err := live.List()
	if err != nil {
		return fmt.Errorf("kernel list: %w", err)
	}
	if kf.format == "json" {
		if progs == nil {
			progs = []live.ProgSummary{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", " ")
		return enc.Encode(progs)
	}
	boot := bootTime()
	tw := tabwriter.NewWriter(env.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tNAME\tTAG\tJITED\tXLATED\tFUNCS\tLOADED")
	for _, p := range progs {
		loaded := p.LoadTime.String()
		if !boot.IsZero() {
			loaded = boot.Add(p.LoadTime).UTC().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", p.ID, p.Type, p.Name, p.Tag, p.JitedLen, p.XlatedLen, p.Funcs, loaded)
	}
	return tw.Flush()
}

// bootTime is when the machine booted (load times count from there, in
// CLOCK_BOOTTIME, as bpftool converts them).
func bootTime() time.Time {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}
	}
	return time.Now().Add(-time.Duration(ts.Nano()))
}

func kernelDump(env Env, kf *kernelFlags, id uint32) error {
	r, p, err := kf.readerProfile()
	if err != nil {
		return err
	}
	snap, err := r.Snapshot(id)
	if err != nil {
		return err
	}
	if kf.save != "" {
		if err := snap.Save(kf.save); err != nil {
			return fmt.Errorf("--save: %w", err)
		}
	}
	lopt, err := listOptions(p, "")
	if err != nil {
		return err
	}
	cmp, err := live.Compare(snap, p.WithConfig(snap.Capture.Placement().Config), lopt)
	if err != nil {
		return err
	}
	if kf.format == "json" {
		return writeComparisonJSON(env, cmp)
	}
	writeComparison(env, cmp, kf.plain)
	return nil
}

// writeComparison prints the header, then per function the kernel's
// listing (left) beside jitscope's (right), '!' in the gutter of every
// row that differs.
func writeComparison(env Env, cmp *live.Comparison, plain bool) {
	s := cmp.Snapshot
	c := s.Capture
	fmt.Fprintf(env.Stdout, "program %d: %s %s, tag %s, %d xlated insns, %d bytes of image\n",
		s.ID, c.Info.Type, c.Program, c.Info.Tag, c.Info.XlatedInsns, c.Info.JitedLen)
	fmt.Fprintf(env.Stdout, "kernel %s (%s), jitscope profile %s %s\n", c.Kernel.Release, c.Kernel.Arch, cmp.Profile.Arch, cmp.Profile.Name)
	for _, f := range s.FromImage {
		fmt.Fprintf(env.Stdout, "read from the kernel's image: %s\n", f)
	}
	arch := c.Kernel.Arch
	for _, f := range cmp.Funcs {
		fmt.Fprintln(env.Stdout)
		fmt.Fprintln(env.Stdout, f.Kernel.Header())
		width := 0
		cols := 7
		if arch != kernel.X86_64 {
			cols = 0
		}
		texts := make([]string, len(f.Rows))
		for i, r := range f.Rows {
			if r.Kernel != nil {
				texts[i] = disasm.InstructionText(arch, r.Kernel, cols)
			}
			width = max(width, len(texts[i]))
		}
		for i, r := range f.Rows {
			mark := " "
			if r.Differs {
				mark = "!"
			}
			right := ""
			if r.Ours != nil {
				right = disasm.InstructionText(arch, r.Ours, cols)
				if i := strings.Index(right, ": "); i >= 0 {
					right = right[i+2:] // same address as the left column
				}
			}
			line := fmt.Sprintf("%s %-*s | %s", mark, width, texts[i], right)
			if !plain {
				var notes []string
				if r.Kernel != nil {
					notes = r.Kernel.Notes
				} else if r.Ours != nil {
					notes = r.Ours.Notes
				}
				if len(notes) > 0 {
					line = strings.TrimRight(line, " ") + "  // " + strings.Join(notes, "; ")
				}
			}
			fmt.Fprintln(env.Stdout, strings.TrimRight(line, " "))
		}
		fmt.Fprintln(env.Stdout, f.Describe())
	}
	fmt.Fprintln(env.Stdout)
	if cmp.Identical() {
		fmt.Fprintf(env.Stdout, "program %d: identical\n", s.ID)
	} else {
		n := 0
		for _, f := range cmp.Funcs {
			if !f.Identical {
				n++
			}
		}
		fmt.Fprintf(env.Stdout, "program %d: %d of %d functions differ\n", s.ID, n, len(cmp.Funcs))
	}
}

type jsonCmpRow struct {
	Offset   int    `json:"offset"`
	Kernel   string `json:"kernel,omitempty"`
	Jitscope string `json:"jitscope,omitempty"`
	Differs  bool   `json:"differs"`
	BPF      int    `json:"bpf"`
	Region   string `json:"region,omitempty"`
}

type jsonCmpFunc struct {
	Name          string       `json:"name"`
	Address       string       `json:"address"`
	Identical     bool         `json:"identical"`
	FirstDiff     int          `json:"first_diff"`
	KernelBytes   string       `json:"kernel_bytes"`
	JitscopeBytes string       `json:"jitscope_bytes"`
	Rows          []jsonCmpRow `json:"rows"`
}

func writeComparisonJSON(env Env, cmp *live.Comparison) error {
	c := cmp.Snapshot.Capture
	out := struct {
		ID        uint32        `json:"id"`
		Name      string        `json:"name"`
		Type      string        `json:"type"`
		Tag       string        `json:"tag"`
		Kernel    string        `json:"kernel"`
		Arch      string        `json:"arch"`
		Profile   string        `json:"profile"`
		Identical bool          `json:"identical"`
		FromImage []string      `json:"from_image"`
		Functions []jsonCmpFunc `json:"functions"`
	}{ID: cmp.Snapshot.ID, Name: c.Program, Type: c.Info.Type, Tag: c.Info.Tag, Kernel: c.Kernel.Release,
		Arch: string(c.Kernel.Arch), Profile: cmp.Profile.Name, Identical: cmp.Identical(),
		FromImage: append([]string{}, cmp.Snapshot.FromImage...), Functions: []jsonCmpFunc{}}
	for i, f := range cmp.Funcs {
		jf := jsonCmpFunc{Name: f.Name, Address: fmt.Sprintf("0x%016x", f.Address), Identical: f.Identical,
			FirstDiff: f.FirstDiff, KernelBytes: hex.EncodeToString(c.Funcs[i].Bytes),
			JitscopeBytes: hex.EncodeToString(cmp.Ours.Funcs[i].Code), Rows: []jsonCmpRow{}}
		for _, r := range f.Rows {
			jr := jsonCmpRow{Differs: r.Differs, BPF: -1}
			if r.Kernel != nil {
				jr.Offset, jr.Kernel, jr.Region = r.Kernel.Offset, r.Kernel.Text, string(r.Kernel.Region)
			}
			if r.Ours != nil {
				jr.Offset, jr.Jitscope = r.Ours.Offset, r.Ours.Text
				if r.Ours.BPF >= 0 {
					jr.BPF = cmp.Ours.Funcs[i].Insns[r.Ours.BPF].Index
				}
			}
			jf.Rows = append(jf.Rows, jr)
		}
		out.Functions = append(out.Functions, jf)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

// kernelSource feeds the TUI from the running kernel.
type kernelSource struct {
	r  *live.Reader
	kf *kernelFlags
}

// readerProfile opens the running kernel with the flags' host options and
// resolves the flags' profile against it.
func (kf *kernelFlags) readerProfile() (*live.Reader, *jit.Profile, error) {
	r, err := live.NewReader(kf.hostOptions())
	if err != nil {
		return nil, nil, err
	}
	r.ProfileName = kf.profile
	p, err := r.Profile(kf.profile)
	if err != nil {
		return nil, nil, err
	}
	return r, p, nil
}

func newKernelSource(kf *kernelFlags) (*kernelSource, error) {
	r, err := live.NewReader(kf.hostOptions())
	if err != nil {
		return nil, err
	}
	r.ProfileName = kf.profile
	return &kernelSource{r: r, kf: kf}, nil
}

func (k *kernelSource) Programs() ([]ui.KernelProgram, error) {
	ps, err := live.List()
	if err != nil {
		return nil, err
	}
	boot := bootTime()
	out := make([]ui.KernelProgram, 0, len(ps))
	for _, p := range ps {
		loaded := p.LoadTime.String()
		if !boot.IsZero() {
			loaded = boot.Add(p.LoadTime).UTC().Format("2006-01-02 15:04:05")
		}
		out = append(out, ui.KernelProgram{ID: p.ID, Type: p.Type, Name: p.Name, Tag: p.Tag, Loaded: loaded,
			JitedLen: p.JitedLen, XlatedLen: p.XlatedLen, Fns: p.Funcs})
	}
	return out, nil
}

func (k *kernelSource) Compare(id uint32) (*ui.KernelView, error) {
	p, err := k.r.Profile(k.kf.profile)
	if err != nil {
		return nil, err
	}
	snap, err := k.r.Snapshot(id)
	if err != nil {
		return nil, err
	}
	lopt, err := listOptions(p, "")
	if err != nil {
		return nil, err
	}
	cmp, err := live.Compare(snap, p.WithConfig(snap.Capture.Placement().Config), lopt)
	if err != nil {
		return nil, err
	}
	c := snap.Capture
	v := &ui.KernelView{
		Title:     fmt.Sprintf("program %d %s (%s)", id, c.Program, c.Info.Type),
		Identical: cmp.Identical(),
		Info:      []string{fmt.Sprintf("kernel %s, jitscope profile %s %s", c.Kernel.Release, p.Arch, p.Name)},
	}
	for _, f := range snap.FromImage {
		v.Info = append(v.Info, "read from the kernel's image: "+f)
	}
	arch := c.Kernel.Arch
	cols := 0
	if arch == kernel.X86_64 {
		cols = 7
	}
	for _, f := range cmp.Funcs {
		kf := ui.KernelFunc{Header: f.Kernel.Header(), Summary: f.Describe()}
		lastBPF := -1
		for _, r := range f.Rows {
			row := ui.KernelRow{Differs: r.Differs}
			if r.Kernel != nil {
				row.Kernel = disasm.InstructionText(arch, r.Kernel, cols)
				row.Note = strings.Join(r.Kernel.Notes, "; ")
			}
			if r.Ours != nil {
				t := disasm.InstructionText(arch, r.Ours, cols)
				if i := strings.Index(t, ": "); i >= 0 {
					t = t[i+2:]
				}
				row.Jitscope = t
				// The BPF instruction whose code starts here.
				if b := r.Ours.BPF; b >= 0 && b != lastBPF {
					row.BPF = disasm.BPFText(f.Ours.Image.Insns[b])
					lastBPF = b
				}
			}
			kf.Rows = append(kf.Rows, row)
		}
		v.Funcs = append(v.Funcs, kf)
	}
	return v, nil
}
