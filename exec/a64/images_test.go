package a64

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// checkImage requires every instruction word of a function image at address
// addr to be implemented. Words an ldr (literal) loads are data (the PLT's
// target address) and are skipped.
func checkImage(t *testing.T, name string, addr uint64, code []byte) int {
	t.Helper()
	if len(code)%4 != 0 {
		t.Errorf("%s: %d bytes is not a whole number of words", name, len(code))
		return 0
	}
	data := map[uint64]bool{}
	for off := 0; off < len(code); off += 4 {
		w := binary.LittleEndian.Uint32(code[off:])
		pc := addr + uint64(off)
		if d, err := decode(w, pc); err == nil && d.op == opLDlit {
			for b := uint64(0); b < uint64(d.size); b += 4 {
				data[d.imm+b] = true
			}
		}
	}
	n := 0
	for off := 0; off < len(code); off += 4 {
		w := binary.LittleEndian.Uint32(code[off:])
		pc := addr + uint64(off)
		if data[pc] {
			continue
		}
		n++
		if err := Implemented(w, pc); err != nil {
			t.Errorf("%s+%#x: word %#08x: %v", name, off, w, err)
		}
	}
	return n
}

// TestCapturedImagesDecode decodes every word of every arm64 kernel capture
// (the kernels' own JIT output).
func TestCapturedImagesDecode(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir("../../testdata/captures", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == capture.FileJited && strings.Contains(p, "/arm64") {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no arm64 captures found")
	}
	words := 0
	for _, dir := range dirs {
		c, err := capture.Load(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		for _, f := range c.Funcs {
			words += checkImage(t, dir+"/"+f.Name, f.Address, f.Bytes)
			if f.EmptyBytes != nil {
				words += checkImage(t, dir+"/"+f.Name+" (empty)", f.Address, f.EmptyBytes)
			}
		}
	}
	t.Logf("%d captures, %d instruction words, all implemented", len(dirs), words)
}

// TestJITOutputDecodes compiles every built-in scenario and every arm64
// capture's program with every arm64 profile of jitscope's own JIT and
// checks that each emitted word is implemented.
func TestJITOutputDecodes(t *testing.T) {
	var sets []*kernel.Set
	for _, info := range scenarios.Builtins() {
		s, err := scenarios.Builtin(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, s)
	}
	filepath.WalkDir("../../testdata/captures", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == capture.FileJited && strings.Contains(p, "/arm64") {
			if c, err := capture.Load(filepath.Dir(p)); err == nil {
				sets = append(sets, c.Set)
			}
		}
		return nil
	})
	words, images := 0, 0
	for _, prof := range jit.Profiles(kernel.ARM64) {
		for _, s := range sets {
			for _, p := range s.Programs {
				l, err := kernel.Load(s, p.Name, kernel.ARM64, kernel.Options{Layout: prof.Layout})
				if err != nil {
					continue // not loadable for arm64 (scenario for another arch)
				}
				img, err := jit.Compile(l, prof)
				if err != nil {
					var je *jit.Error
					if errors.As(err, &je) {
						continue // refused by this kernel (e.g. tail calls with bpf2bpf calls on 5.10)
					}
					t.Errorf("%s/%s with %s: %v", s.Name, p.Name, prof.Name, err)
					continue
				}
				for _, f := range img.Funcs {
					images++
					words += checkImage(t, prof.Name+":"+s.Name+"/"+p.Name+"/"+f.Name, f.Address, f.Code)
				}
			}
		}
	}
	if images == 0 {
		t.Fatal("compiled nothing")
	}
	t.Logf("%d function images, %d words, all implemented", images, words)
}
