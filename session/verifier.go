// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"

	"github.com/jitscope/jitscope/bpfasm"
	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// ProfileFacts are the verifier facts jitscope has for profile p of arch
// (`dump --verifier profile`), completed with stand-in addresses
// (verifier.Offline). The error says why there are none.
func (t *Target) ProfileFacts(arch kernel.Arch, p *jit.Profile) (verifier.Facts, error) {
	f, ok := verifier.FactsFor(arch, p.Name)
	if !ok {
		return f, fmt.Errorf("jitscope has no verifier facts for %s %s (it has them for x86_64 v6.18, arm64 v6.1 and x86_64 v6.1)", arch, p.Name)
	}
	return verifier.Offline(f), nil
}

// VerifiedSet runs every program of the target through jitscope's model
// of the verifier's rewrites with facts f: the set the JIT then compiles
// (programs in xlated form) and the rewritten programs, which trace each
// instruction to the one as written.
func (t *Target) VerifiedSet(arch kernel.Arch, f verifier.Facts) (*kernel.Set, []*verifier.Program, error) {
	if t.Capture != nil {
		return nil, nil, fmt.Errorf("%s: --verifier: a kernel capture is already the verifier's output", t.Name)
	}
	var progs []*verifier.Program
	for _, prog := range t.Set.Programs {
		vp, err := verifier.Rewrite(t.Set, prog.Name, f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: verifier: %w", t.Name, err)
		}
		progs = append(progs, vp)
	}
	set, err := verifier.ToSet(t.Set, arch, progs, f)
	return set, progs, err
}

// Rewrite is one program as the verifier model left it, traced back to
// the program as written.
type Rewrite struct {
	Program *verifier.Program
	// Written is the text of each instruction as written (by index in
	// the set's Program.Insns).
	Written []string
	// After is, per instruction as written, the text of the instructions
	// it became (by slot order); none when the verifier removed it.
	After [][]string
}

// Changed reports whether the verifier replaced, expanded or removed the
// instruction as written k.
func (rw *Rewrite) Changed(k int) bool {
	if k < 0 || k >= len(rw.After) {
		return false
	}
	a := rw.After[k]
	return len(a) != 1 || a[0] != rw.Written[k]
}

// TraceRewrite pairs program orig as written with vp, its rewritten
// form, and l, that form as loaded for the JIT (whose instructions'
// Index is the xlated slot).
func TraceRewrite(orig *kernel.Program, vp *verifier.Program, l *kernel.Loaded) *Rewrite {
	rw := &Rewrite{Program: vp, Written: make([]string, len(orig.Insns)), After: make([][]string, len(orig.Insns))}
	for k, in := range orig.Insns {
		rw.Written[k] = bpfasm.Format(in)
	}
	for _, f := range l.Funcs {
		for _, in := range f.Insns {
			if in.Index < 0 || in.Index >= len(vp.Origin) {
				continue
			}
			o := vp.Origin[in.Index]
			if o >= 0 && o < len(rw.After) {
				rw.After[o] = append(rw.After[o], disasm.BPFText(in))
			}
		}
	}
	return rw
}

// WrittenInsn is the instruction as written a rewritten one came from.
type WrittenInsn struct {
	Index   int    // in the set's Program.Insns
	Text    string // bpfasm syntax
	Changed bool   // the verifier rewrote it
}

// Written returns, for row r of a listing compiled from the verifier's
// rewrites (Listing.Rewrites), the instruction as written that the row's
// BPF instruction (as the JIT saw it) came from.
func (l *Listing) Written(r int) (WrittenInsn, bool) {
	if l.Rewrites == nil {
		return WrittenInsn{}, false
	}
	in, ok := l.BPFInsn(r)
	if !ok {
		return WrittenInsn{}, false
	}
	rw := l.Rewrites[l.Programs[l.FuncProg[l.Rows[r].Func]].Image.Program]
	if rw == nil || in.Index < 0 || in.Index >= len(rw.Program.Origin) {
		return WrittenInsn{}, false
	}
	o := rw.Program.Origin[in.Index]
	if o < 0 || o >= len(rw.Written) {
		return WrittenInsn{}, false
	}
	return WrittenInsn{Index: o, Text: rw.Written[o], Changed: rw.Changed(o)}, true
}

// Verifier reports whether listings are compiled from the verifier's
// rewrites (SetVerifier).
func (s *Session) Verifier() bool { return s.verifier }

// SetVerifier chooses whether listings made from now on compile the
// programs as the verifier model rewrites them (`dump --verifier
// profile`) where that applies. Turning it on fails, and changes
// nothing, when it applies to none of the listings shown (default: the
// session's Listings): the error says why (not a BPF object, no verifier
// facts for the profiles shown).
func (s *Session) SetVerifier(on bool, shown ...*Listing) error {
	if on {
		if len(shown) == 0 {
			shown = s.Listings
		}
		if err := s.verifierApplies(shown); err != nil {
			return err
		}
	}
	s.verifier = on
	return nil
}

func (s *Session) verifierApplies(shown []*Listing) error {
	t := s.Target
	if !t.Object {
		return fmt.Errorf("verifier rewrites: %s is not a BPF object (only objects hold BPF as written)", t.Name)
	}
	var first error
	for _, l := range shown {
		if l.Profile == nil {
			continue
		}
		if _, err := t.ProfileFacts(l.Arch, l.Profile); err == nil {
			return nil
		} else if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%s: no listing to rewrite", t.Name)
	}
	return fmt.Errorf("verifier rewrites: %w", first)
}

// compileVerified is compileLoaded on the verifier's rewritten set, with
// each program's trace back to the set as written.
func (t *Target) compileVerified(arch kernel.Arch, p *jit.Profile) ([]*jit.Image, []*kernel.Loaded, map[string]*Rewrite, error) {
	f, err := t.ProfileFacts(arch, p)
	if err != nil {
		return nil, nil, nil, err
	}
	set, progs, err := t.VerifiedSet(arch, f)
	if err != nil {
		return nil, nil, nil, err
	}
	vt := &Target{Name: t.Name, Set: set, Scenario: t.Scenario}
	imgs, loaded, err := vt.compileLoaded(arch, p)
	if err != nil {
		return nil, nil, nil, err
	}
	rws := map[string]*Rewrite{}
	for i, vp := range progs {
		if orig := t.Set.Program(vp.Name); orig != nil && i < len(loaded) {
			rws[vp.Name] = TraceRewrite(orig, vp, loaded[i])
		}
	}
	return imgs, loaded, rws, nil
}
