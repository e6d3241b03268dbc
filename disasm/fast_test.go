// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// TestFastMatchesReference lists generated programs with and without the
// decode cache and prints them with WriteText and with the reference
// implementation (reference_test.go): lines, arrows, lanes and text must
// be identical, in every syntax.
func TestFastMatchesReference(t *testing.T) {
	sizes := []int{300, 5000, 30_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		set, err := gen.Set(gen.Options{Insns: n, Seed: uint64(n) + 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			ps := jit.Profiles(arch)
			p := ps[len(ps)-1]
			var imgs []*jit.Image
			for _, prog := range set.Programs {
				l, err := kernel.Load(set, prog.Name, arch, kernel.Options{Layout: p.Layout})
				if err != nil {
					t.Fatal(err)
				}
				img, err := jit.Compile(l, p)
				if err != nil {
					t.Fatal(err)
				}
				imgs = append(imgs, img)
			}
			for _, opt := range []Options{{}, {Legacy: true}, {Intel: true}} {
				name := fmt.Sprintf("n=%d/%s/%+v", n, arch, opt)
				var progs, refs []*Program
				for _, img := range imgs {
					lp, err := ListOpts(img, opt)
					if err != nil {
						t.Fatal(err)
					}
					noDecodeCache = true
					ref, err := ListOpts(img, opt)
					noDecodeCache = false
					if err != nil {
						t.Fatal(err)
					}
					for i := range ref.Funcs {
						if !reflect.DeepEqual(lp.Funcs[i].Lines, ref.Funcs[i].Lines) {
							t.Fatalf("%s: %s: the cached decode differs", name, ref.Funcs[i].Image.Name)
						}
					}
					progs, refs = append(progs, lp), append(refs, ref)
				}
				funcs := Flatten(progs)
				got, want := Flow(funcs), flowReference(funcs)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: Flow differs", name)
				}
				rowOf := func(p Pos) int { return 3*p.Func + p.Line }
				if AssignLanes(got, rowOf) != assignLanesReference(want, rowOf) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: AssignLanes differs", name)
				}
				for _, plain := range []bool{false, true} {
					var got, want bytes.Buffer
					if err := WriteText(&got, progs, TextOptions{Plain: plain}); err != nil {
						t.Fatal(err)
					}
					if err := writeTextReference(&want, refs, TextOptions{Plain: plain}); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						g, w := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want.Bytes(), []byte("\n"))
						for i := range min(len(g), len(w)) {
							if !bytes.Equal(g[i], w[i]) {
								t.Fatalf("%s plain=%v: line %d:\n got  %q\n want %q", name, plain, i+1, g[i], w[i])
							}
						}
						t.Fatalf("%s plain=%v: %d lines, want %d", name, plain, len(g), len(w))
					}
				}
			}
		}
	}
}
