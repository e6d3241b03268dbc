// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64" // the arm64 backend
	_ "github.com/jitscope/jitscope/jit/x86"   // the x86-64 backend
	"github.com/jitscope/jitscope/kernel"
)

// FuzzLoadELF feeds corrupted BPF objects through the ELF loader path the
// CLI takes (cilium/ebpf's reader, then ours), then loads and JITs what it
// accepts with the newest profile of each architecture. Nothing may panic;
// a refusal is one line naming the file; a program the loader accepts either
// loads and compiles or is refused by kernel.Load or the JIT with an error.
func FuzzLoadELF(f *testing.F) {
	objs, _ := filepath.Glob("testdata/elf/*.o")
	more, _ := filepath.Glob("../cli/testdata/bad/*.o")
	for _, p := range append(objs, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := loadELF("f.o", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.o: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(s.Programs) == 0 {
			t.Fatal("an object without programs loaded")
		}
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			ps := jit.Profiles(arch)
			p := ps[len(ps)-1]
			for _, prog := range s.Programs {
				l, err := kernel.Load(s, prog.Name, arch, p.LoadOptions())
				if err != nil {
					continue
				}
				if len(l.Funcs) > 64 || len(prog.Insns) > 1<<16 {
					continue // the JIT is linear; bound the time one input takes
				}
				if _, err := jit.Compile(l, p); err != nil && err.Error() == "" {
					t.Fatalf("%s: empty JIT error", prog.Name)
				}
			}
		}
	})
}

// FuzzScenario drives scenario files the parser accepts through the rest of
// the CLI's path: kernel.Load, the JIT of both architectures (newest
// profile, or the scenario's pinned one), the machine and a short run.
// Refusals are errors; nothing may panic, and a run stays within its step
// limit.
func FuzzScenario(f *testing.F) {
	for _, n := range builtinNames() {
		src, err := Show(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.scn", data)
		if err != nil {
			return
		}
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			ps := jit.Profiles(arch)
			p := ps[len(ps)-1]
			if pl := s.Placements[arch]; pl != nil {
				if pp, err := jit.LookupProfile(arch, pl.Profile); err == nil {
					p = pp.WithConfig(pl.Config)
				}
			}
			images := map[string]*jit.Image{}
			for _, prog := range s.Programs {
				l, err := kernel.Load(s, prog.Name, arch, p.LoadOptions())
				if err != nil {
					return
				}
				img, err := jit.Compile(l, p)
				if err != nil {
					return
				}
				images[prog.Name] = img
			}
			k, err := machine.New(s, arch, p.Layout, images, machine.Options{MemoryLimit: 32 << 20})
			if err != nil {
				continue
			}
			r, err := machine.NewRunner(k, p)
			if err != nil {
				continue
			}
			cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
			if err != nil {
				continue
			}
			const limit = 3000
			if run := r.Run(cpu, s.Programs[0].Name, machine.RunOptions{StepLimit: limit, DiscardSteps: true}); run.N > limit {
				t.Fatalf("%s: %d steps, limit %d", arch, run.N, limit)
			}
		}
	})
}

// FuzzParseTour feeds sidecar tour files (the built-in scenarios' guided
// tours, mutated) to ParseTour against their scenario: no panic, one-line
// errors naming the file.
func FuzzParseTour(f *testing.F) {
	for _, n := range []string{"bpf2bpf-tailcall", "direct-tailcall-poke"} {
		side, err := builtinFS.ReadFile(builtinTourFile(n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(len(n)), side)
	}
	var scs []*Scenario
	for _, n := range builtinNames() {
		src, err := builtinFS.ReadFile(builtinFile(n))
		if err != nil {
			f.Fatal(err)
		}
		sc, err := ParseScenario("s.scn", src)
		if err != nil {
			f.Fatal(err)
		}
		scs = append(scs, sc)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		sc := scs[int(which)%len(scs)]
		if _, err := ParseTour("t.tour.toml", data, sc); err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "t.tour.toml") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
		}
	})
}
