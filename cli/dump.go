// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64" // register the arm64 backend
	_ "github.com/jitscope/jitscope/jit/x86"   // register the x86-64 backend
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
)

// batchGCPercent is the collector's target for the batch commands (dump):
// they build one listing, print it and exit, so collecting less often is
// time saved and the heap's growth is bounded by the listing itself. For
// the 1M-instruction program it takes jitscope dump from 1.9 to 1.3-1.5 s
// of wall time for 10-20 % more peak memory (docs/PERFORMANCE.md, round 4).
// A GOGC in the environment is the user's and is kept.
const batchGCPercent = 400

// batchGC sets batchGCPercent unless GOGC is set; the returned function
// puts the previous setting back (Main also runs inside tests).
func batchGC() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(batchGCPercent)
	return func() { debug.SetGCPercent(old) }
}

func cmdDump(args []string, env Env) error {
	if isTrampolineDump(args) {
		return cmdDumpTrampoline(args, env)
	}
	defer batchGC()()
	fs := newFlagSet("dump", env)
	archFlag := fs.String("arch", "arm64", "")
	profFlag := fs.String("profile", "", "")
	format := fs.String("format", "text", "")
	plain := fs.Bool("plain", false, "")
	compare := fs.Bool("compare", false, "")
	syntax := fs.String("syntax", "", "")
	verifierFrom := fs.String("verifier", "", "")
	rewrites := fs.Bool("rewrites", false, "")
	object := fs.String("object", "", "")
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
	t, err := session.LoadTarget(pos[0])
	if err != nil {
		return err
	}
	if len(slots) > 0 {
		if t.Capture != nil {
			return fmt.Errorf("%s: --slot does not apply to a kernel capture (its slots are recorded)", t.Name)
		}
		if err := applySlots(t.Name, t.Set, slots); err != nil {
			return err
		}
	}
	if *compare && t.Capture == nil {
		return fmt.Errorf("%s: --compare needs a kernel capture directory", t.Name)
	}
	if v := *verifierFrom; v != "" && v != "profile" && v != "host" {
		// --verifier v6.1: the verifier facts and the JIT of that profile.
		if _, err := jit.LookupProfile(arch, v); err != nil {
			return usagef("dump: --verifier must be profile or host (or a kernel profile such as v6.1), not %q", v)
		}
		if *profFlag != "" && *profFlag != v {
			return usagef("dump: --verifier %s with --profile %s: the verifier and the JIT are one kernel's", v, *profFlag)
		}
		*profFlag, *verifierFrom = v, "profile"
	}
	p, err := t.PickProfile(arch, *profFlag)
	if err != nil {
		return err
	}
	if *rewrites && *verifierFrom == "" {
		return usagef("dump: --rewrites needs --verifier profile|host")
	}
	if *verifierFrom != "" {
		orig := t.Set
		set, progs, err := verifiedSet(t, arch, p, *verifierFrom)
		if err != nil {
			return err
		}
		if *rewrites {
			return writeRewrites(env, orig, set, arch, p, progs)
		}
		t.Set = set
	}
	var imgs []*jit.Image
	if *object != "" {
		// The capture's program from the object as written: the verifier
		// model with the capture's facts, the JIT at its addresses.
		if t.Capture == nil {
			return fmt.Errorf("%s: --object needs a kernel capture directory as TARGET", t.Name)
		}
		img, xlated, err := captureFromObject(t, *object, p)
		if err != nil {
			return err
		}
		imgs = []*jit.Image{img}
		if *compare {
			fmt.Fprintf(env.Stdout, "xlated from the object: %s\n", xlated)
			if xlated != "identical" {
				return fmt.Errorf("%s: the verifier rewrites of %s differ from the kernel's xlated instructions (%s)", t.Name, *object, xlated)
			}
		}
	} else if imgs, err = t.CompileAll(arch, p); err != nil {
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
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		progs = append(progs, lp)
	}
	if *format == "json" {
		return writeJSON(env, p, progs)
	}
	return disasm.WriteText(env.Stdout, progs, disasm.TextOptions{Plain: *plain})
}

// listOptions maps --syntax to printing options (session.ListOptions),
// reporting a bad value as a usage error.
func listOptions(p *jit.Profile, syntax string) (disasm.Options, error) {
	o, err := session.ListOptions(p, session.Syntax(syntax))
	if err != nil {
		return o, usagef("--%v", err)
	}
	return o, nil
}

// compareCapture checks every function against the kernel's bytes.
func compareCapture(env Env, t *session.Target, imgs []*jit.Image) error {
	c := t.Capture
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
		return fmt.Errorf("%s: %d of the functions differ from the kernel's image (first: %s)", t.Name, len(diffs), diffs[0])
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
