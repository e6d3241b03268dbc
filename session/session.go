// SPDX-License-Identifier: GPL-2.0-only

// Package session is the one non-UI path from a TARGET to what jitscope
// shows: it loads a built-in scenario, a scenario file, a BPF ELF object or
// a kernel capture directory, picks a JIT profile per architecture, compiles
// every program and lists the machine code with its control-flow arrows.
//
// Errors that concern one architecture or profile (a profile that refuses
// the program, as arm64 before 6.0 refuses tail calls mixed with bpf2bpf
// calls) are kept as values in that architecture's Listing, so a viewer can
// show them in place of the listing; only a target that cannot be read at
// all makes Load fail.
package session

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/internal/par"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64" // register the arm64 backend
	_ "github.com/jitscope/jitscope/jit/x86"   // register the x86-64 backend
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// Syntax selects how x86 instructions are printed.
type Syntax string

// Syntaxes. The zero value is the profile's default: AT&T, in the spelling
// binutils used in the profile's era (jmpq/callq for 5.10, as seed 001).
const (
	SyntaxDefault   Syntax = ""
	SyntaxATT       Syntax = "att"
	SyntaxATTLegacy Syntax = "att-legacy"
	SyntaxIntel     Syntax = "intel"
)

// Options choose what Load compiles.
type Options struct {
	// Arches lists the architectures to compile, in display order
	// (default: arm64, x86_64).
	Arches []kernel.Arch
	// Profiles names the profile per architecture; a missing entry means
	// what the target pins for that architecture, else the newest profile.
	Profiles map[kernel.Arch]string
	// Syntax is the x86 printing syntax.
	Syntax Syntax
	// HideSource leaves the C source lines (BTF line info) out of the
	// listings' rows; they are laid out by default where known.
	HideSource bool
	// IndexAbove is the size of machine code (all programs of a listing)
	// above which a listing is indexed (disasm.Index: a line decoded when
	// shown, the texts printed in the background, Listing.Filling) rather
	// than listed whole; 0 means 512 KiB (about 130 000 instructions).
	IndexAbove int
}

// DefaultArches is the side-by-side pair jitscope shows.
var DefaultArches = []kernel.Arch{kernel.ARM64, kernel.X86_64}

// Target is a loaded TARGET argument.
type Target struct {
	Name    string
	Set     *kernel.Set
	Capture *capture.Capture // set for kernel capture directories
	// Scenario is what a scenario file says beyond the Set (packets,
	// tour, extension targets); nil for captures.
	Scenario *scenarios.Scenario
	// Object is set for BPF ELF objects: programs as a compiler wrote
	// them, which the verifier model can rewrite (SetVerifier).
	Object bool
	// slots0 is each prog array's slots as loaded, for SetRunConfig.
	slots0 map[string]map[uint32]string
}

// LoadTarget resolves TARGET: a kernel capture directory, or anything
// scenarios.Load understands (built-in name, scenario file, BPF object).
func LoadTarget(name string) (*Target, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		if !capture.IsCapture(name) {
			return nil, fmt.Errorf("%s: a directory, but not a kernel capture (no capture.json of format jitscope-capture/1)", name)
		}
		c, err := capture.Load(name)
		if err != nil {
			return nil, err
		}
		return &Target{Name: name, Set: c.Set, Capture: c}, nil
	}
	sc, err := scenarios.LoadScenario(name)
	if err != nil {
		return nil, err
	}
	return &Target{Name: name, Set: sc.Set, Scenario: sc, Object: isELF(name)}, nil
}

// isELF reports whether file name starts with the ELF magic.
func isELF(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n == 4 && string(b[:]) == "\x7fELF"
}

// PickProfile chooses the profile for arch: name when given, else what the
// target pins for the architecture (a capture's kernel, a scenario's
// placement), else the newest profile of the architecture.
func (t *Target) PickProfile(arch kernel.Arch, name string) (*jit.Profile, error) {
	if name == "" && t.Capture != nil {
		if t.Capture.Kernel.Arch != arch {
			return nil, fmt.Errorf("%s: capture of an %s kernel, not %s", t.Name, t.Capture.Kernel.Arch, arch)
		}
		name = t.Capture.ProfileName()
	}
	if name == "" {
		if pl := t.Set.Placements[arch]; pl != nil && pl.Profile != "" {
			name = pl.Profile
		}
	}
	if name == "" {
		ps := jit.Profiles(arch) // the newest modelled kernel, never a compatibility profile
		if len(ps) == 0 {
			return nil, fmt.Errorf("no JIT backend for architecture %s yet", arch)
		}
		return ps[len(ps)-1], nil
	}
	return LookupProfile(arch, name)
}

// CompileAll JITs every program of the target's set with profile p, its
// prog array slots as p's kernel leaves them (effectiveSet).
func (t *Target) CompileAll(arch kernel.Arch, p *jit.Profile) ([]*jit.Image, error) {
	imgs, _, err := t.compileLoaded(arch, p)
	return imgs, err
}

// compileLoaded is CompileAll, also returning the programs as loaded
// (kernel.Load with p.LoadOptions()), what the images were compiled from.
func (t *Target) compileLoaded(arch kernel.Arch, p *jit.Profile) ([]*jit.Image, []*kernel.Loaded, error) {
	var imgs []*jit.Image
	var loaded []*kernel.Loaded
	// The slots as the profile's kernel leaves them (seed 004: a refused
	// update leaves its slot empty, and a direct tail call on it a nop).
	set := t.effectiveSet(p)
	for _, prog := range set.Programs {
		l, err := kernel.Load(set, prog.Name, arch, p.LoadOptions())
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		img, err := jit.Compile(l, jitProfile(p))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		imgs = append(imgs, img)
		loaded = append(loaded, l)
	}
	return imgs, loaded, nil
}

// ListOptions maps a syntax to disasm's printing options for profile p.
func ListOptions(p *jit.Profile, syntax Syntax) (disasm.Options, error) {
	switch syntax {
	case SyntaxDefault:
		// x86 listings of 5.x kernels use the spelling binutils had then
		// (jmpq, callq), as seed 001 shows it.
		return disasm.Options{Legacy: p.Arch == kernel.X86_64 && strings.HasPrefix(p.Kernel, "5.")}, nil
	case SyntaxATT:
		return disasm.Options{}, nil
	case SyntaxATTLegacy:
		return disasm.Options{Legacy: true}, nil
	case SyntaxIntel:
		if p.Arch != kernel.X86_64 {
			return disasm.Options{}, fmt.Errorf("intel syntax applies to x86_64 only")
		}
		return disasm.Options{Intel: true}, nil
	}
	return disasm.Options{}, fmt.Errorf("syntax must be att, att-legacy or intel, not %q", syntax)
}

// Session is a target compiled for a few architectures.
type Session struct {
	Target   *Target
	Listings []*Listing // one per Options.Arches entry, in order
	ids      *BPFIDs
	// hideSource: no RowSource rows in the listings made from now on.
	hideSource bool
	indexAbove int // Options.IndexAbove

	runMu sync.Mutex
	runs  map[runKey]*Run
	// cfg is what runs execute: entry, packet, slots (SetRunConfig).
	cfg RunConfig
	// verifier: listings compile the verifier model's rewrites where the
	// profile has facts (SetVerifier).
	verifier bool
}

// RunConfig returns what the session's runs execute.
func (s *Session) RunConfig() RunConfig { return s.cfg }

// SetRunConfig chooses the entry program, packet and prog array slots of
// the runs made from now on. Slots change the code the JIT emits (direct
// tail calls): when they change, the session's Listings are compiled again
// (with the same profiles and syntax) and recompiled reports true, and
// listings held elsewhere must be replaced (Compile). Nothing changes when
// the configuration is invalid.
func (s *Session) SetRunConfig(cfg RunConfig) (recompiled bool, err error) {
	// A run may be under way in the background (a viewer's): it reads
	// the configuration and the target's prog arrays under runMu.
	s.runMu.Lock()
	defer s.runMu.Unlock()
	t := s.Target
	if cfg.Entry != "" && t.Set.Program(cfg.Entry) == nil {
		return false, fmt.Errorf("%s: no program %q (programs: %s)", t.Name, cfg.Entry, programNames(t.Set))
	}
	if _, err := t.Packet(cfg.Packet); err != nil {
		return false, err
	}
	if strings.Join(cfg.Slots, ",") != strings.Join(s.cfg.Slots, ",") {
		if err := t.setSlots(cfg.Slots); err != nil {
			t.setSlots(s.cfg.Slots) // back as it was; it applied before
			return false, err
		}
		recompiled = true
	}
	s.cfg = RunConfig{Entry: cfg.Entry, Packet: cfg.Packet, Slots: slices.Clone(cfg.Slots)}
	if recompiled {
		for i, l := range s.Listings {
			prof := ""
			if l.Profile != nil {
				prof = l.Profile.Name
			}
			s.Listings[i] = s.Compile(l.Arch, prof, l.Syntax)
		}
	}
	return recompiled, nil
}

func programNames(set *kernel.Set) string {
	var n []string
	for _, p := range set.Programs {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// Load reads target and compiles it for each architecture of opt. The
// error is about the target itself; per-architecture failures are in the
// listings' Err.
func Load(target string, opt Options) (*Session, error) {
	t, err := LoadTarget(target)
	if err != nil {
		return nil, err
	}
	return FromTarget(t, opt), nil
}

// FromTarget compiles an already loaded target.
func FromTarget(t *Target, opt Options) *Session {
	arches := opt.Arches
	if len(arches) == 0 {
		arches = DefaultArches
	}
	s := &Session{Target: t, ids: NewBPFIDs(), hideSource: opt.HideSource, indexAbove: opt.IndexAbove}
	// The architectures are compiled and listed at the same time; their
	// rows are laid out in order, as BPF ids are given in order of first
	// sight, then their arrows at the same time again.
	s.Listings = make([]*Listing, len(arches))
	par.ForEach(len(arches), func(i int) error {
		s.Listings[i] = s.compileListed(arches[i], opt.Profiles[arches[i]], opt.Syntax)
		return nil
	})
	for _, l := range s.Listings {
		if l.Err == nil {
			l.layoutRows()
		}
	}
	par.ForEach(len(arches), func(i int) error {
		if l := s.Listings[i]; l.Err == nil {
			l.layoutArrows()
		}
		return nil
	})
	return s
}

// Compile builds one architecture's listing with the named profile ("" for
// the default). It never fails: errors are in the listing's Err.
//
// The syntax applies to x86 only; other architectures print their one
// syntax whatever it says, so one setting can serve every pane.
func (s *Session) Compile(arch kernel.Arch, profile string, syntax Syntax) *Listing {
	l := s.compileListed(arch, profile, syntax)
	if l.Err == nil {
		l.layout()
	}
	return l
}

// compileListed is Compile without the layout: the programs compiled and
// listed, or the error. It does not touch the session's BPF ids, so
// several run at once.
func (s *Session) compileListed(arch kernel.Arch, profile string, syntax Syntax) *Listing {
	if arch != kernel.X86_64 {
		syntax = SyntaxDefault
	}
	l := &Listing{Arch: arch, Syntax: syntax, Profiles: Profiles(arch), ids: s.ids, Source: !s.hideSource}
	p, err := s.Target.PickProfile(arch, profile)
	if err != nil {
		l.Err = err
		return l
	}
	l.Profile = p
	var imgs []*jit.Image
	var loaded []*kernel.Loaded
	if s.verifier {
		if _, ferr := s.Target.ProfileFacts(arch, p); ferr != nil || !s.Target.Object {
			l.NoRewrites = ferr
			if !s.Target.Object {
				l.NoRewrites = fmt.Errorf("%s is not a BPF object", s.Target.Name)
			}
		} else {
			imgs, loaded, l.Rewrites, err = s.Target.compileVerified(arch, p)
		}
	}
	if l.Rewrites == nil && err == nil {
		imgs, loaded, err = s.Target.compileLoaded(arch, p)
	}
	if err != nil {
		l.Err = err
		return l
	}
	l.loaded, l.loadOpts = map[string]*kernel.Loaded{}, p.LoadOptions()
	for _, ld := range loaded {
		l.loaded[ld.Name] = ld
	}
	opt, err := ListOptions(p, syntax)
	if err != nil {
		l.Err = err
		return l
	}
	if l.Programs, err = s.listPrograms(imgs, opt); err != nil {
		l.Err = fmt.Errorf("%s: %w", s.Target.Name, err)
	}
	return l
}

// listPrograms lists the images: whole (disasm.ListOpts) up to
// Options.IndexAbove bytes of machine code, indexed beyond (disasm.Index),
// where a line is decoded when it is shown and the texts are printed in
// the background (Listing.Filling).
func (s *Session) listPrograms(imgs []*jit.Image, opt disasm.Options) ([]*disasm.Program, error) {
	size := 0
	for _, img := range imgs {
		for _, f := range img.Funcs {
			size += len(f.Code)
		}
	}
	above := s.indexAbove
	if above == 0 {
		above = defaultIndexAbove
	}
	list := disasm.ListOpts
	if size > above {
		list = disasm.Index
	}
	out := make([]*disasm.Program, 0, len(imgs))
	for _, img := range imgs {
		lp, err := list(img, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, lp)
	}
	return out, nil
}

// Relist prints an existing listing again with another syntax, without
// compiling again.
func (s *Session) Relist(l *Listing, syntax Syntax) *Listing {
	if l.Arch != kernel.X86_64 {
		syntax = SyntaxDefault
	}
	if l.Err != nil || l.Profile == nil {
		return s.Compile(l.Arch, "", syntax)
	}
	opt, err := ListOptions(l.Profile, syntax)
	if err != nil {
		return &Listing{Arch: l.Arch, Syntax: syntax, Profile: l.Profile, Profiles: l.Profiles, ids: s.ids, Err: err}
	}
	n := &Listing{Arch: l.Arch, Syntax: syntax, Profile: l.Profile, Profiles: l.Profiles, ids: s.ids, Source: !s.hideSource,
		loaded: l.loaded, loadOpts: l.loadOpts, Rewrites: l.Rewrites, NoRewrites: l.NoRewrites}
	imgs := make([]*jit.Image, len(l.Programs))
	for i, lp := range l.Programs {
		imgs[i] = lp.Image
	}
	if n.Programs, err = s.listPrograms(imgs, opt); err != nil {
		n.Err = fmt.Errorf("%s: %w", s.Target.Name, err)
		return n
	}
	n.layout()
	return n
}

// ShowSource reports whether new listings lay out source rows.
func (s *Session) ShowSource() bool { return !s.hideSource }

// SetShowSource chooses whether listings made from now on lay out the C
// source lines (RowSource rows) where the images carry line info.
func (s *Session) SetShowSource(on bool) { s.hideSource = !on }

// Relayout lays an existing listing out again with the session's source
// setting, without compiling or disassembling again.
func (s *Session) Relayout(l *Listing) *Listing {
	if l.Err != nil {
		return l
	}
	n := &Listing{Arch: l.Arch, Syntax: l.Syntax, Profile: l.Profile, Profiles: l.Profiles, ids: s.ids,
		Source: !s.hideSource, Programs: l.Programs, loaded: l.loaded, loadOpts: l.loadOpts,
		Rewrites: l.Rewrites, NoRewrites: l.NoRewrites}
	n.layout()
	return n
}

// ProfileNames lists the profile names of arch.
func ProfileNames(arch kernel.Arch) []string {
	var out []string
	for _, p := range Profiles(arch) {
		out = append(out, p.Name)
	}
	return out
}

// Arches lists the architectures with a JIT backend.
func Arches() []kernel.Arch { return slices.Clone(jit.Arches()) }
