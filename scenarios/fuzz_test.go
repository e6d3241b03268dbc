// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
