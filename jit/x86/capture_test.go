// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

const capturesDir = "../../testdata/captures"

// x86Captures lists every x86-64 capture directory, whatever kernel
// directories appear (x86_64-6.1, x86_64-6.18, x86_64-6.18-src, ...).
func x86Captures(t *testing.T) []string {
	t.Helper()
	kernels, err := filepath.Glob(filepath.Join(capturesDir, "x86_64-*"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, k := range kernels {
		found, err := capture.Find(k)
		if err != nil {
			t.Fatalf("capture.Find(%s): %v", k, err)
		}
		dirs = append(dirs, found...)
	}
	if len(dirs) < 20 {
		t.Fatalf("found %d x86 captures under %s, want at least 20 (12 of 6.18, 8 of 6.1)", len(dirs), capturesDir)
	}
	return dirs
}

// compileCapture JITs a capture's program as its kernel did.
func compileCapture(t *testing.T, dir string) (*capture.Capture, *jit.Image) {
	t.Helper()
	c, err := capture.Load(dir)
	if err != nil {
		t.Fatalf("capture.Load: %v", err)
	}
	p, err := jit.LookupProfile(kernel.X86_64, c.ProfileName())
	if err != nil {
		t.Fatalf("LookupProfile(%s): %v", c.ProfileName(), err)
	}
	l, err := kernel.Load(c.Set, c.Program, kernel.X86_64, kernel.Options{})
	if err != nil {
		t.Fatalf("kernel.Load: %v", err)
	}
	// kernel.Load names only the functions, maps and helpers it resolved;
	// the kernel symbols the JIT itself jumps to (thunks, this_cpu_off)
	// are in the placement.
	for name, a := range c.Placement().Symbols {
		if _, ok := l.Symbols[a]; !ok {
			l.Symbols[a] = name
		}
	}
	img, err := jit.Compile(l, p)
	if err != nil {
		t.Fatalf("Compile(%s): %v", c.Program, err)
	}
	return c, img
}

// TestCaptures compiles every x86 capture with its kernel's profile and
// compares each function with the kernel's bytes: the image as dumped
// (prog arrays filled) and, where captured, the image before the slots
// were filled.
func TestCaptures(t *testing.T) {
	for _, dir := range x86Captures(t) {
		rel, _ := filepath.Rel(capturesDir, dir)
		t.Run(rel, func(t *testing.T) {
			c, img := compileCapture(t, dir)
			if len(img.Funcs) != len(c.Funcs) {
				t.Fatalf("Compile(%s) gave %d functions, the kernel %d", rel, len(img.Funcs), len(c.Funcs))
			}
			for i, fi := range img.Funcs {
				want := c.Funcs[i]
				if fi.Name != want.Name {
					t.Errorf("function %d is %s, want %s", i, fi.Name, want.Name)
				}
				if !bytes.Equal(fi.Code, want.Bytes) {
					t.Errorf("Compile(%s/%s) = %x, want %x\n%s", rel, fi.Name, fi.Code, want.Bytes, objdumpDiff(fi.Code, want.Bytes, fi.Address))
				}
				if want.EmptyBytes != nil {
					if got := x86.EmptyState(fi); !bytes.Equal(got, want.EmptyBytes) {
						t.Errorf("EmptyState(%s/%s) = %x, want %x\n%s", rel, fi.Name, got, want.EmptyBytes, objdumpDiff(got, want.EmptyBytes, fi.Address))
					}
				}
				checkImage(t, fi)
			}
		})
	}
}

// TestCaptureReferences holds every relocated field of the kernel's image
// (capture.json references) to a Reloc of ours, and the other way round.
func TestCaptureReferences(t *testing.T) {
	for _, dir := range x86Captures(t) {
		rel, _ := filepath.Rel(capturesDir, dir)
		t.Run(rel, func(t *testing.T) {
			c, img := compileCapture(t, dir)
			type key struct {
				fn                  string
				offset, field, size int
				kind                string
				target              uint64
			}
			want := map[key]bool{}
			for _, r := range c.References {
				want[key{r.Function, r.Offset, r.Field, r.Size, r.Kind, r.Target}] = true
			}
			got := map[key]bool{}
			for _, fi := range img.Funcs {
				for _, r := range fi.Relocs {
					if r.Kind == "disp32" {
						continue // gs:this_cpu_off: not a kind the capture format lists
					}
					if r.Target >= fi.Address && r.Target < fi.Address+uint64(len(fi.Code)) {
						continue // a tail call into this very function: the format omits branches inside a function
					}
					got[key{fi.Name, r.Offset, r.Field, r.Size, r.Kind, r.Target}] = true
				}
			}
			for k := range want {
				if !got[k] {
					t.Errorf("kernel reference %+v: no Reloc", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("Reloc %+v: not among the kernel's references", k)
				}
			}
		})
	}
}

// checkImage checks the bookkeeping of a function image: regions in order
// and inside the code, BPF offsets increasing, notes and relocations inside
// the code.
func checkImage(t *testing.T, fi *jit.FuncImage) {
	t.Helper()
	end := 0
	for _, r := range fi.Regions {
		if r.Start < end || r.End <= r.Start || r.End > len(fi.Code) {
			t.Errorf("%s: region %+v overlaps or leaves the code (previous end %d, %d bytes)", fi.Name, r, end, len(fi.Code))
		}
		end = r.End
	}
	for i := 1; i < len(fi.BPFOffsets); i++ {
		if fi.BPFOffsets[i] < fi.BPFOffsets[i-1] {
			t.Errorf("%s: BPFOffsets[%d] = %d < BPFOffsets[%d] = %d", fi.Name, i, fi.BPFOffsets[i], i-1, fi.BPFOffsets[i-1])
		}
	}
	if n := len(fi.BPFOffsets); n == 0 || fi.BPFOffsets[n-1] != len(fi.Code) {
		t.Errorf("%s: BPFOffsets end at %v, the code at %d", fi.Name, fi.BPFOffsets, len(fi.Code))
	}
	for _, n := range fi.Notes {
		if n.Offset < 0 || n.Offset >= len(fi.Code) {
			t.Errorf("%s: note %q at %d, outside %d bytes", fi.Name, n.Text, n.Offset, len(fi.Code))
		}
	}
	for _, r := range fi.Relocs {
		if r.Field < r.Offset || r.Field+r.Size > len(fi.Code) {
			t.Errorf("%s: reloc %+v outside %d bytes", fi.Name, r, len(fi.Code))
		}
	}
}

// objdumpDiff shows both sides with GNU objdump when it is installed, the
// way to find out where an image differs.
func objdumpDiff(got, want []byte, addr uint64) string {
	path, err := exec.LookPath("objdump")
	if err != nil {
		return "(objdump not installed)"
	}
	dump := func(b []byte) string {
		f, err := os.CreateTemp("", "jitscope-x86-*.bin")
		if err != nil {
			return err.Error()
		}
		defer os.Remove(f.Name())
		f.Write(b)
		f.Close()
		out, err := exec.Command(path, "-D", "-b", "binary", "-m", "i386:x86-64", fmt.Sprintf("--adjust-vma=%#x", addr), f.Name()).CombinedOutput()
		if err != nil {
			return err.Error()
		}
		lines := strings.Split(string(out), "\n")
		var keep []string
		for _, l := range lines {
			if strings.Contains(l, ":\t") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	return "--- got\n" + dump(got) + "\n--- want\n" + dump(want)
}
