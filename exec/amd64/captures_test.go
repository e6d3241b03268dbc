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

// objdumpLine matches an instruction line of jited.txt in the 6.18
// format (offset in the function, address, bytes) and objdumpPlain the
// 6.1 format (address, tab, bytes, tab, mnemonic; a line with no mnemonic
// continues the bytes of the previous one).
var (
	objdumpLine  = regexp.MustCompile(`^\s+[0-9a-f]+\s+([0-9a-f]{16}):\s+(?:[0-9a-f]{2} )+`)
	objdumpPlain = regexp.MustCompile(`^([0-9a-f]{16}):\t(?:[0-9a-f]{2} )+\s*\t\S`)
)

// listingStarts reads jited.txt: the addresses where objdump found an
// instruction.
func listingStarts(path string) map[uint64]bool {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[uint64]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := objdumpLine.FindStringSubmatch(sc.Text())
		if m == nil {
			m = objdumpPlain.FindStringSubmatch(sc.Text())
		}
		if m == nil {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		out[addr] = true
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
			starts := listingStarts(filepath.Join(dir, strings.TrimSuffix(img, ".bin")+".txt"))
			if len(starts) == 0 {
				t.Errorf("%s/%s: no objdump listing", dir, img)
			}
			for _, fn := range c.Functions {
				addr, err := strconv.ParseUint(strings.TrimPrefix(fn.Address, "0x"), 16, 64)
				if err != nil {
					t.Fatalf("%s: %s: address %q", cj, fn.Name, fn.Address)
				}
				code := bin[fn.JitedOffset : fn.JitedOffset+fn.JitedLen]
				for off := 0; off < len(code); {
					pc := addr + uint64(off)
					n, err := Decode(code[off:], pc)
					if err != nil {
						t.Errorf("%s/%s %s+%#x: % x: %v", dir, img, fn.Name, off, code[off:min(off+15, len(code))], err)
						break
					}
					if !starts[pc] {
						t.Errorf("%s/%s %s+%#x: objdump has no instruction here", dir, img, fn.Name, off)
					}
					delete(starts, pc)
					total++
					off += n
				}
			}
			for pc := range starts {
				t.Errorf("%s/%s: objdump instruction at %#x not reached", dir, img, pc)
			}
		}
	}
	t.Logf("decoded %d instructions in %d captures", total, len(dirs))
}
