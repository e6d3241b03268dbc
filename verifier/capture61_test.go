// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// captureObject is the committed object (testdata/captures-src/build.sh)
// compiled from the source a capture's program came from.
func captureObject(c *capture.Capture) (string, error) {
	dir, file := filepath.Split(c.Info.Source)
	prefix := map[string]string{"src-arm64/": "arm64-", "src-qemu/": "qemu-"}[dir]
	if prefix == "" {
		return "", fmt.Errorf("%s: no object for source %s", c.Dir, c.Info.Source)
	}
	return filepath.Join("../testdata/captures-src/obj", prefix+strings.TrimSuffix(file, ".c")+".bpf.o"), nil
}

// objectProgram finds the capture's program in the object: the kernel
// keeps the first 15 characters of a name.
func objectProgram(set *kernel.Set, name string) string {
	for _, p := range set.Programs {
		if p.Name == name {
			return name
		}
	}
	for _, p := range set.Programs {
		if len(name) == 15 && strings.HasPrefix(p.Name, name) {
			return p.Name
		}
	}
	return ""
}

func captures61(t testing.TB) []*capture.Capture {
	t.Helper()
	dirs, err := filepath.Glob("../testdata/captures/*-6.1/*/*/capture.json")
	more, err2 := filepath.Glob("../testdata/captures/*-6.1-*/*/*/capture.json")
	dirs = append(dirs, more...)
	if err != nil || err2 != nil || len(dirs) == 0 {
		t.Fatalf("6.1 captures: %v %v", dirs, err)
	}
	var out []*capture.Capture
	for _, d := range dirs {
		c, err := capture.Load(filepath.Dir(d))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func rewriteCapture(c *capture.Capture) (*Program, error) {
	obj, err := captureObject(c)
	if err != nil {
		return nil, err
	}
	set, err := scenarios.LoadELF(obj)
	if err != nil {
		return nil, err
	}
	name := objectProgram(set, c.Program)
	if name == "" {
		return nil, fmt.Errorf("%s: no program %s in %s", c.Dir, c.Program, obj)
	}
	f, err := FactsFromCapture(c)
	if err != nil {
		return nil, err
	}
	return Rewrite(set, name, f)
}

func TestDiag61(t *testing.T) {
	for _, c := range captures61(t) {
		rel, _ := filepath.Rel("../testdata/captures", c.Dir)
		p, err := rewriteCapture(c)
		if err != nil {
			t.Logf("%s: ERR %v", rel, err)
			continue
		}
		got, want := p.Bytes(), c.Xlated
		if string(got) == string(want) {
			t.Logf("%s: OK", rel)
			continue
		}
		for s := 0; s < min(len(got), len(want))/8; s++ {
			if string(got[8*s:8*s+8]) != string(want[8*s:8*s+8]) {
				t.Logf("%s: DIFF insn %d = %x, kernel %x (%d vs %d insns)", rel, s, got[8*s:8*s+8], want[8*s:8*s+8], len(got)/8, len(want)/8)
				break
			}
		}
		if len(got) != len(want) && string(got[:min(len(got), len(want))]) == string(want[:min(len(got), len(want))]) {
			t.Logf("%s: DIFF length %d vs %d", rel, len(got)/8, len(want)/8)
		}
	}
}
