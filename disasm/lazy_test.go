// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// lazyImages are images to hold the compact listing to the full one: the
// built-in scenarios (notes, line info, trampolines' regions, tail calls)
// and generated programs with every profile of both architectures, and
// the real kernels' images of testdata/jited as they are.
func lazyImages(t *testing.T) []*jit.Image {
	t.Helper()
	var out []*jit.Image
	sets := map[string]*kernel.Set{}
	for _, info := range scenarios.Builtins() {
		s, err := scenarios.Builtin(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		sets[info.Name] = s
	}
	g, err := gen.Set(gen.Options{Insns: 4000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	sets["gen"] = g
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		set := sets[name]
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			for _, p := range jit.Profiles(arch) {
				for _, prog := range set.Programs {
					l, err := kernel.Load(set, prog.Name, arch, p.LoadOptions())
					if err != nil {
						continue // a program this arch or profile refuses
					}
					img, err := jit.Compile(l, p)
					if err != nil {
						continue
					}
					out = append(out, img)
				}
			}
		}
	}
	files, _ := filepath.Glob("testdata/jited/*.bin")
	for _, f := range files {
		code, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		arch := kernel.X86_64
		if strings.HasPrefix(filepath.Base(f), "arm64") {
			arch = kernel.ARM64
		}
		out = append(out, &jit.Image{Arch: arch, Program: filepath.Base(f), Funcs: []*jit.FuncImage{{
			Name: "f", Address: 0xffffffffc0000000, Code: code, TailCallEntry: -1,
		}}})
	}
	if len(out) < 50 {
		t.Fatalf("only %d images", len(out))
	}
	return out
}

// TestIndexMatchesList holds the compact listing to List: every line
// decoded on demand, every text before and after Fill, the flow lines,
// the offsets and the lookups, in every syntax.
func TestIndexMatchesList(t *testing.T) {
	imgs := lazyImages(t)
	lines := 0
	defer func() { t.Logf("%d images, %d lines", len(imgs), lines) }()
	for _, opt := range []Options{{}, {Legacy: true}, {Intel: true}} {
		for k, img := range imgs {
			if opt != (Options{}) && img.Arch != kernel.X86_64 {
				continue
			}
			name := fmt.Sprintf("%d:%s/%s/%+v", k, img.Arch, img.Program, opt)
			full, ferr := ListOpts(img, opt)
			lazy, lerr := Index(img, opt)
			if img.Arch == kernel.X86_64 && (ferr == nil) != (lerr == nil) {
				t.Fatalf("%s: List: %v, Index: %v", name, ferr, lerr)
			}
			if ferr != nil {
				if lerr == nil {
					// arm64: the undecodable word is Fill's error.
					if err := lazy.Fill(); err == nil {
						t.Fatalf("%s: List: %v, Fill: nil", name, ferr)
					}
				}
				continue
			}
			if lerr != nil {
				t.Fatalf("%s: Index: %v", name, lerr)
			}
			for fi, f := range full.Funcs {
				lines += f.Len()
				g := lazy.Funcs[fi]
				if !g.Indexed() || f.Indexed() {
					t.Fatalf("%s: Indexed %v %v", name, f.Indexed(), g.Indexed())
				}
				compareFuncs(t, name+"/"+f.Image.Name, f, g, false)
				if h := g.Full(); h.Indexed() || !reflect.DeepEqual(h.Lines, f.Lines) {
					t.Fatalf("%s: Full differs", name)
				}
			}
			if err := lazy.Fill(); err != nil {
				t.Fatalf("%s: Fill: %v", name, err)
			}
			for fi, f := range full.Funcs {
				compareFuncs(t, name+"/"+f.Image.Name+"/filled", f, lazy.Funcs[fi], true)
			}
			// The arrows are the same from either form.
			if a, b := Flow(full.Funcs), Flow(lazy.Funcs); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: Flow differs: %d arrows against %d", name, len(a), len(b))
			}
		}
	}
}

func compareFuncs(t *testing.T, name string, f, g *Func, filled bool) {
	t.Helper()
	if f.Len() != g.Len() || f.Len() != len(f.Lines) {
		t.Fatalf("%s: %d lines, Index %d", name, f.Len(), g.Len())
	}
	if g.Filled() != filled {
		t.Fatalf("%s: Filled %v", name, g.Filled())
	}
	for i := range f.Lines {
		want := f.Lines[i]
		if got := g.Line(i); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s line %d:\n got %+v\nwant %+v", name, i, got, want)
		}
		if g.Text(i) != want.Text || g.Offset(i) != want.Offset || g.Addr(i) != want.Addr ||
			g.BPF(i) != want.BPF || g.Region(i) != want.Region || !slices.Equal(g.Bytes(i), want.Bytes) ||
			!slices.Equal(g.Notes(i), want.Notes) {
			t.Fatalf("%s line %d: accessors differ from %+v", name, i, want)
		}
		if g.LineAt(want.Offset) != i || g.LineOfAddr(want.Addr) != i || f.LineOfAddr(want.Addr) != i {
			t.Fatalf("%s line %d: LineAt %d, LineOfAddr %d", name, i, g.LineAt(want.Offset), g.LineOfAddr(want.Addr))
		}
		if n := len(want.Bytes); n > 1 && (g.LineAt(want.Offset+1) != -1 || g.LineContaining(want.Offset+n-1) != i) {
			t.Fatalf("%s line %d: inside the instruction", name, i)
		}
	}
	var a, b []FlowLine
	for fl := range f.Flow() {
		a = append(a, fl)
	}
	for fl := range g.Flow() {
		b = append(b, fl)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%s: flow lines differ:\n%v\n%v", name, a, b)
	}
	if filled && f.MaxText() != g.MaxText() {
		t.Fatalf("%s: MaxText %d, Index %d", name, g.MaxText(), f.MaxText())
	}
}

// TestIndexManyRegionKinds: an image with more kinds of region than a
// line's byte holds is an error of Index (List still lists it).
func TestIndexManyRegionKinds(t *testing.T) {
	fi := &jit.FuncImage{Name: "f", Address: 0xffff800008000000, Code: make([]byte, 4*300), TailCallEntry: -1}
	for i := range 300 {
		fi.Regions = append(fi.Regions, jit.Region{Start: 4 * i, End: 4*i + 4, Kind: jit.RegionKind(fmt.Sprintf("k%d", i))})
	}
	img := &jit.Image{Arch: kernel.ARM64, Program: "p", Funcs: []*jit.FuncImage{fi}}
	if _, err := Index(img, Options{}); err == nil || !strings.Contains(err.Error(), "256 kinds of code region") {
		t.Fatalf("Index: %v", err)
	}
	fi.Regions = fi.Regions[:255]
	p, err := Index(img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Funcs[0].Region(254); got != "k254" {
		t.Fatalf("line 254's region %q", got)
	}
}
