package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64" // register the arm64 backend
	_ "github.com/jitscope/jitscope/jit/x86"   // register the x86-64 backend
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// target is a loaded TARGET argument.
type target struct {
	name    string
	set     *kernel.Set
	capture *capture.Capture // set for kernel capture directories
}

// loadTarget resolves TARGET: a kernel capture directory, or anything
// scenarios.Load understands (built-in name, scenario file, BPF object).
func loadTarget(name string) (*target, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		if !capture.IsCapture(name) {
			return nil, fmt.Errorf("%s: a directory, but not a kernel capture (no capture.json of format jitscope-capture/1)", name)
		}
		c, err := capture.Load(name)
		if err != nil {
			return nil, err
		}
		return &target{name: name, set: c.Set, capture: c}, nil
	}
	s, err := scenarios.Load(name)
	if err != nil {
		return nil, err
	}
	return &target{name: name, set: s}, nil
}

// pickProfile chooses the profile: the flag, else what the target pins for
// the architecture, else the newest profile of the architecture.
func pickProfile(t *target, arch kernel.Arch, name string) (*jit.Profile, error) {
	if name == "" && t.capture != nil {
		if t.capture.Kernel.Arch != arch {
			return nil, fmt.Errorf("%s: capture of an %s kernel, not %s", t.name, t.capture.Kernel.Arch, arch)
		}
		name = t.capture.ProfileName()
	}
	if name == "" {
		if pl := t.set.Placements[arch]; pl != nil && pl.Profile != "" {
			name = pl.Profile
		}
	}
	if name == "" {
		ps := jit.Profiles(arch)
		if len(ps) == 0 {
			return nil, fmt.Errorf("no JIT backend for architecture %s yet", arch)
		}
		return ps[len(ps)-1], nil
	}
	return jit.LookupProfile(arch, name)
}

// compileAll JITs every program of the target's set.
func compileAll(t *target, arch kernel.Arch, p *jit.Profile) ([]*jit.Image, error) {
	var imgs []*jit.Image
	for _, prog := range t.set.Programs {
		l, err := kernel.Load(t.set, prog.Name, arch, kernel.Options{Layout: p.Layout})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

func cmdDump(args []string, env Env) error {
	fs := newFlagSet("dump", env)
	archFlag := fs.String("arch", "arm64", "")
	profFlag := fs.String("profile", "", "")
	format := fs.String("format", "text", "")
	plain := fs.Bool("plain", false, "")
	compare := fs.Bool("compare", false, "")
	syntax := fs.String("syntax", "", "")
	var slots slotFlags
	fs.Var(&slots, "slot", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagError("dump", err)
	}
	if len(pos) != 1 {
		return usagef("dump takes one TARGET, got %d", len(pos))
	}
	if *format != "text" && *format != "json" {
		return usagef("dump: --format must be text or json, not %q", *format)
	}
	arch, err := kernel.ParseArch(*archFlag)
	if err != nil {
		return usagef("dump: %v", err)
	}
	t, err := loadTarget(pos[0])
	if err != nil {
		return err
	}
	if len(slots) > 0 {
		if t.capture != nil {
			return fmt.Errorf("%s: --slot does not apply to a kernel capture (its slots are recorded)", t.name)
		}
		if err := applySlots(t.set, slots); err != nil {
			return err
		}
	}
	if *compare && t.capture == nil {
		return fmt.Errorf("%s: --compare needs a kernel capture directory", t.name)
	}
	p, err := pickProfile(t, arch, *profFlag)
	if err != nil {
		return err
	}
	imgs, err := compileAll(t, arch, p)
	if err != nil {
		return err
	}
	if *compare {
		return compareCapture(env, t, imgs)
	}
	lopt, err := listOptions(p, *syntax)
	if err != nil {
		return err
	}
	var progs []*disasm.Program
	for _, img := range imgs {
		lp, err := disasm.ListOpts(img, lopt)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		progs = append(progs, lp)
	}
	if *format == "json" {
		return writeJSON(env, p, progs)
	}
	return disasm.WriteText(env.Stdout, progs, disasm.TextOptions{Plain: *plain})
}

// listOptions maps --syntax to printing options. x86 listings of 5.10-era
// kernels default to the spelling binutils used then (jmpq, callq), as
// seed 001 shows it.
func listOptions(p *jit.Profile, syntax string) (disasm.Options, error) {
	switch syntax {
	case "":
		return disasm.Options{Legacy: p.Arch == kernel.X86_64 && strings.HasPrefix(p.Kernel, "5.")}, nil
	case "att":
		return disasm.Options{}, nil
	case "att-legacy":
		return disasm.Options{Legacy: true}, nil
	case "intel":
		if p.Arch != kernel.X86_64 {
			return disasm.Options{}, usagef("--syntax intel applies to x86_64 only")
		}
		return disasm.Options{Intel: true}, nil
	}
	return disasm.Options{}, usagef("--syntax must be att, att-legacy or intel, not %q", syntax)
}

// compareCapture checks every function against the kernel's bytes.
func compareCapture(env Env, t *target, imgs []*jit.Image) error {
	c := t.capture
	var diffs []string
	for _, img := range imgs {
		for i, f := range img.Funcs {
			want := c.Func(f.Name)
			if want == nil && i < len(c.Funcs) {
				want = &c.Funcs[i]
			}
			if want == nil {
				diffs = append(diffs, fmt.Sprintf("%s: not in the capture", f.Name))
				continue
			}
			if d := firstDiff(f.Code, want.Bytes); d != "" {
				diffs = append(diffs, fmt.Sprintf("%s: %s", f.Name, d))
				fmt.Fprintf(env.Stdout, "%s: differs: %s\n", f.Name, d)
			} else {
				fmt.Fprintf(env.Stdout, "%s: identical (%d bytes)\n", f.Name, len(f.Code))
			}
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%s: %d of the functions differ from the kernel's image (first: %s)", t.name, len(diffs), diffs[0])
	}
	fmt.Fprintln(env.Stdout, "identical")
	return nil
}

func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			s, e := i&^3, min(i&^3+4, n)
			return fmt.Sprintf("first difference at +%#x: jitscope %x, kernel %x", i, got[s:e], want[s:e])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, kernel %d", len(got), len(want))
	}
	return ""
}

type jsonDump struct {
	Arch     string        `json:"arch"`
	Profile  string        `json:"profile"`
	Programs []jsonProgram `json:"programs"`
}

type jsonProgram struct {
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Functions []jsonFunc `json:"functions"`
}

type jsonFunc struct {
	Name          string      `json:"name"`
	Address       string      `json:"address"`
	Bytes         string      `json:"bytes"`
	Prototype     string      `json:"prototype,omitempty"`
	TailCallEntry int         `json:"tail_call_entry"`
	Relocs        []jsonReloc `json:"relocs"`
	Insns         []jsonInsn  `json:"insns"`
}

type jsonReloc struct {
	Offset int    `json:"offset"`
	Field  int    `json:"field"`
	Size   int    `json:"size"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	What   string `json:"what"`
	Name   string `json:"name,omitempty"`
}

type jsonInsn struct {
	Offset  int      `json:"offset"`
	Size    int      `json:"size"`
	Text    string   `json:"text"`
	BPF     int      `json:"bpf"`
	BPFText string   `json:"bpf_text,omitempty"`
	Region  string   `json:"region"`
	Notes   []string `json:"notes,omitempty"`
}

func writeJSON(env Env, p *jit.Profile, progs []*disasm.Program) error {
	out := jsonDump{Arch: string(p.Arch), Profile: p.Name, Programs: []jsonProgram{}}
	for _, lp := range progs {
		jp := jsonProgram{Name: lp.Image.Program, Type: lp.Image.Type, Functions: []jsonFunc{}}
		for _, f := range lp.Funcs {
			fi := f.Image
			jf := jsonFunc{
				Name: fi.Name, Address: fmt.Sprintf("0x%016x", fi.Address), Bytes: hex.EncodeToString(fi.Code),
				Prototype: fi.Prototype, TailCallEntry: fi.TailCallEntry, Relocs: []jsonReloc{}, Insns: []jsonInsn{},
			}
			for _, r := range fi.Relocs {
				jf.Relocs = append(jf.Relocs, jsonReloc{Offset: r.Offset, Field: r.Field, Size: r.Size, Kind: r.Kind,
					Target: fmt.Sprintf("0x%016x", r.Target), What: r.What, Name: r.Name})
			}
			for _, l := range f.Lines {
				ji := jsonInsn{Offset: l.Offset, Size: len(l.Bytes), Text: l.Text, BPF: -1, Region: string(l.Region), Notes: l.Notes}
				if l.BPF >= 0 {
					ji.BPF = fi.Insns[l.BPF].Index
					ji.BPFText = disasm.BPFText(fi.Insns[l.BPF])
				}
				jf.Insns = append(jf.Insns, ji)
			}
			jp.Functions = append(jp.Functions, jf)
		}
		out.Programs = append(out.Programs, jp)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := env.Stdout.Write(buf.Bytes())
	return err
}
