// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/verifier"
)

// The whole path from an object to the machine code, on Linux 6.1: each
// 6.1 capture's program, compiled from its source
// (testdata/captures-src/obj), rewritten by jitscope's verifier model with
// the facts of that capture and JITed at the capture's addresses, is the
// kernel's jited.bin byte for byte (arm64 with PAC and LSE, cortex-a57
// without LSE, the BTI kernel; x86-64 with its direct tail calls).
func TestCaptureImage61(t *testing.T) {
	var dirs []string
	for _, g := range []string{"*-6.1", "*-6.1-*"} {
		d, err := filepath.Glob("../testdata/captures/" + g + "/*/*/capture.json")
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d...)
	}
	identical := map[string]int{}
	for _, d := range dirs {
		c, err := capture.Load(filepath.Dir(d))
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel("../testdata/captures", c.Dir)
		dir, file := filepath.Split(c.Info.Source)
		prefix := map[string]string{"src-arm64/": "arm64-", "src-qemu/": "qemu-"}[dir]
		set, err := scenarios.LoadELF(filepath.Join("../testdata/captures-src/obj", prefix+strings.TrimSuffix(file, ".c")+".bpf.o"))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		f, err := verifier.FactsFromCapture(c)
		if err != nil {
			t.Fatal(err)
		}
		vp, err := verifier.Rewrite(set, verifier.CaptureProgram(set, c.Program), f)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		p, err := jit.LookupProfile(c.Kernel.Arch, c.ProfileName())
		if err != nil {
			t.Fatal(err)
		}
		_, diff, err := CaptureImage(set, vp, f, c, p)
		if err != nil || diff != "" {
			t.Errorf("%s: image from the object: %v %s", rel, err, diff)
			continue
		}
		identical[c.Kernel.Name]++
	}
	want := map[string]int{"arm64-6.1": 8, "arm64-6.1-bti": 8, "x86_64-6.1": 8,
		"arm64-6.1-src": 30, "arm64-6.1-a57": 30, "arm64-6.1-bti-src": 29}
	for k, n := range want {
		if identical[k] != n {
			t.Errorf("%s: %d images from the object identical, want %d", k, identical[k], n)
		}
	}
}
