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
				for _, tc := range []struct {
					plain bool
					chunk int
				}{{false, 4096}, {true, 4096}, {false, 7}, {true, 1}, {false, 1}} {
					plain := tc.plain
					var got, want bytes.Buffer
					textChunkRows = tc.chunk
					err := WriteText(&got, progs, TextOptions{Plain: plain})
					textChunkRows = 4096
					if err != nil {
						t.Fatal(err)
					}
					if err := writeTextReference(&want, refs, TextOptions{Plain: plain}); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						g, w := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want.Bytes(), []byte("\n"))
						for i := range min(len(g), len(w)) {
							if !bytes.Equal(g[i], w[i]) {
								t.Fatalf("%s plain=%v chunk=%d: line %d:\n got  %q\n want %q", name, plain, tc.chunk, i+1, g[i], w[i])
							}
						}
						t.Fatalf("%s plain=%v chunk=%d: %d lines, want %d", name, plain, tc.chunk, len(g), len(w))
					}
				}
			}
		}
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errWriteFailed
	}
	w.n -= len(p)
	return len(p), nil
}

var errWriteFailed = fmt.Errorf("write failed")

// TestWriteTextWriteError: WriteText returns the writer's error, whichever
// chunk meets it, and stops (the formatting goroutines end: the test would
// hang or the race detector complain otherwise).
func TestWriteTextWriteError(t *testing.T) {
	set, err := gen.Set(gen.Options{Insns: 3000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ps := jit.Profiles(kernel.X86_64)
	p := ps[len(ps)-1]
	l, err := kernel.Load(set, set.Programs[0].Name, kernel.X86_64, kernel.Options{Layout: p.Layout})
	if err != nil {
		t.Fatal(err)
	}
	img, err := jit.Compile(l, p)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := List(img)
	if err != nil {
		t.Fatal(err)
	}
	textChunkRows = 16
	defer func() { textChunkRows = 4096 }()
	for _, plain := range []bool{false, true} {
		for _, n := range []int{0, 100, 5000, 40000} {
			err := WriteText(&failWriter{n: n}, []*Program{lp}, TextOptions{Plain: plain})
			if err != errWriteFailed {
				t.Errorf("plain=%v, failing after %d bytes: WriteText = %v, want %v", plain, n, err, errWriteFailed)
			}
		}
	}
}
