package amd64

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

type captureFunc struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	JitedOffset int    `json:"jited_offset"`
	JitedLen    int    `json:"jited_len"`
}

// objdumpLine matches an instruction line of jited.txt: offset in the
// function, address, bytes.
var objdumpLine = regexp.MustCompile(`^\s+([0-9a-f]+)\s+([0-9a-f]{16}):\s+((?:[0-9a-f]{2} )+)`)

// listingStarts reads jited.txt: for each function start address, the set
// of instruction offsets objdump found.
func listingStarts(t *testing.T, path string) map[uint64]map[int]bool {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[uint64]map[int]bool{}
	var cur map[int]bool
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := objdumpLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		off, _ := strconv.ParseUint(m[1], 16, 64)
		addr, _ := strconv.ParseUint(m[2], 16, 64)
		if off == 0 {
			cur = map[int]bool{}
			out[addr] = cur
		}
		if cur != nil {
			cur[int(off)] = true
		}
	}
	return out
}

// TestCaptures decodes every instruction of every x86-64 JIT image in the
// captures, walking each function from its start, and checks that the
// instruction boundaries agree with objdump's listing.
func TestCaptures(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/captures/x86_64-*/*/*/capture.json")
	if len(dirs) == 0 {
		t.Skip("no x86-64 captures")
	}
	total := 0
	for _, cj := range dirs {
		dir := filepath.Dir(cj)
		raw, err := os.ReadFile(cj)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Functions []captureFunc `json:"functions"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", cj, err)
		}
		for _, img := range []string{"jited.bin", "jited.empty.bin"} {
			bin, err := os.ReadFile(filepath.Join(dir, img))
			if err != nil {
				continue
			}
			starts := listingStarts(t, filepath.Join(dir, strings.TrimSuffix(img, ".bin")+".txt"))
			for _, fn := range c.Functions {
				addr, err := strconv.ParseUint(strings.TrimPrefix(fn.Address, "0x"), 16, 64)
				if err != nil {
					t.Fatalf("%s: %s: address %q", cj, fn.Name, fn.Address)
				}
				code := bin[fn.JitedOffset : fn.JitedOffset+fn.JitedLen]
				want := starts[addr]
				for off := 0; off < len(code); {
					n, err := Decode(code[off:], addr+uint64(off))
					if err != nil {
						t.Errorf("%s/%s %s+%#x: % x: %v", dir, img, fn.Name, off, code[off:min(off+15, len(code))], err)
						break
					}
					if want != nil && !want[off] {
						t.Errorf("%s/%s %s+%#x: objdump has no instruction here", dir, img, fn.Name, off)
					}
					delete(want, off)
					total++
					off += n
				}
				for off := range want {
					t.Errorf("%s/%s %s+%#x: objdump instruction not reached", dir, img, fn.Name, off)
				}
			}
		}
	}
	t.Logf("decoded %d instructions in %d captures", total, len(dirs))
}
