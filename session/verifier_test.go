// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"strings"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// In verifier mode the x86-64 v6.18 listing compiles the rewritten
// programs, and each row traces the instruction the JIT saw to the one
// as written: the inlined array lookup's first instruction to the call
// it replaced, an untouched instruction to itself.
func TestVerifierRewriteMap(t *testing.T) {
	s, err := Load("../live/testdata/maps.bpf.o", Options{Arches: []kernel.Arch{kernel.X86_64},
		Profiles: map[kernel.Arch]string{kernel.X86_64: "v6.18"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Listings[0].Rewrites != nil {
		t.Fatal("rewrites before SetVerifier")
	}
	if err := s.SetVerifier(true); err != nil {
		t.Fatalf("SetVerifier: %v", err)
	}
	l := s.Compile(kernel.X86_64, "v6.18", SyntaxDefault)
	if l.Err != nil || l.Rewrites == nil {
		t.Fatalf("Compile in verifier mode: err %v, rewrites %v", l.Err, l.Rewrites != nil)
	}
	var inlined, kept bool
	for r := range l.Rows {
		in, ok := l.BPFInsn(r)
		if !ok {
			continue
		}
		w, ok := l.Written(r)
		if !ok {
			t.Fatalf("row %d (%s): no instruction as written", r, disasm.BPFText(in))
		}
		switch {
		case disasm.BPFText(in) == "r1 += 312":
			// bpf_array.value (312 in 6.18): array_map_gen_lookup.
			if w.Index != 10 || w.Text != "call bpf_map_lookup_elem" || !w.Changed {
				t.Errorf("r1 += 312 came from %+v, want insn 10 call bpf_map_lookup_elem, changed", w)
			}
			inlined = true
		case w.Index == 1:
			// Slot 2 (insn 0 is an ld_imm64): indexes differ, text not.
			if w.Changed || w.Text != disasm.BPFText(in) {
				t.Errorf("insn 1 %q: written %+v, want itself unchanged", disasm.BPFText(in), w)
			}
			kept = true
		}
	}
	if !inlined || !kept {
		t.Errorf("inlined lookup found %v, unchanged insn 1 found %v", inlined, kept)
	}
	// The run executes the rewritten code (on the kernel memory model),
	// not the program as written: it returns what the kernel returned
	// (cli/testdata/kernel_runs.txt).
	if r := s.Run(l); r.Err != nil || r.Retval != 1312 {
		t.Errorf("Run in verifier mode: retval %d, %v", r.Retval, r.Err)
	}
	if err := s.SetVerifier(false); err != nil {
		t.Fatal(err)
	}
	if l := s.Compile(kernel.X86_64, "v6.18", SyntaxDefault); l.Rewrites != nil {
		t.Error("rewrites after SetVerifier(false)")
	}
}

// The mode says why it does not apply: no facts for the profile, or a
// target that is not an object.
func TestVerifierUnavailable(t *testing.T) {
	s, err := Load("../live/testdata/maps.bpf.o", Options{Arches: []kernel.Arch{kernel.ARM64}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetVerifier(true); err == nil || !strings.Contains(err.Error(), "no verifier facts for arm64") {
		t.Errorf("arm64: SetVerifier = %v, want no verifier facts", err)
	}
	if s.Verifier() {
		t.Error("a refused SetVerifier turned the mode on")
	}
	s, err = Load(scenarios.Default, Options{Arches: []kernel.Arch{kernel.X86_64}, Profiles: map[kernel.Arch]string{kernel.X86_64: "v6.18"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetVerifier(true); err == nil || !strings.Contains(err.Error(), "not a BPF object") {
		t.Errorf("scenario: SetVerifier = %v, want not a BPF object", err)
	}
}
