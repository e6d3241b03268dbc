package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A section is a run of consecutive bytes placed at addr.
type section struct {
	title string
	addr  uint64
	code  []byte
}

// writeFixture writes disasm/testdata/x86_objdump.txt: every function of
// the x86-64 ground-truth captures at its kernel address, the seed 001
// listing's bytes at theirs, a broad set of instruction forms assembled
// by GNU as, and random instructions, each with objdump's two texts. It
// also writes disasm/testdata/x86_seed001_lines.txt.
func writeFixture(args []string) error {
	fs := flag.NewFlagSet("fixture", flag.ExitOnError)
	captures := fs.String("captures", "testdata/captures", "ground-truth capture directory")
	seedFile := fs.String("seed", "/work/shared/seeds/001_414b28a58c4e7a6b.txt", "seed listing")
	out := fs.String("o", "disasm/testdata", "output directory")
	nRandom := fs.Int("n", 1000, "random instructions")
	fs.Parse(args)

	version, err := objdumpVersion()
	if err != nil {
		return err
	}
	var sections []section
	gt, err := groundTruth(*captures)
	if err != nil {
		return err
	}
	sections = append(sections, gt...)
	seed, err := seedSections(*seedFile, filepath.Join(*out, "x86_seed001_lines.txt"))
	if err != nil {
		return err
	}
	sections = append(sections, seed...)
	code, kept, err := assemble(fixtureForms())
	if err != nil {
		return err
	}
	sections = append(sections, section{fmt.Sprintf("instruction forms (%d lines assembled by %s --64)", len(kept), asTool), base, code})
	sections = append(sections, section{"random instructions (seed 1)", base + 0x100000, randomCode(rand.New(rand.NewSource(1)), *nRandom)})

	f, err := os.Create(filepath.Join(*out, "x86_objdump.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# x86-64 instructions and their disassembly by %s\n", version)
	fmt.Fprintf(w, "# (%s -D -w -z -b binary -m i386:x86-64 --adjust-vma=<address of the section> [-M intel]),\n", objdumpTool)
	fmt.Fprintf(w, "# written by \"go run ./disasm/testdata/x86oracle fixture\"; do not edit.\n")
	fmt.Fprintf(w, "# Format: bytes<TAB>pc<TAB>AT&T text<TAB>Intel text, texts being objdump's with\n")
	fmt.Fprintf(w, "# blank runs collapsed to one space and without the \"# 0x...\" comment of\n")
	fmt.Fprintf(w, "# RIP-relative operands. \"(bad)\" marks bytes objdump cannot decode.\n")
	lines := 0
	for _, s := range sections {
		insns, err := objdump(s.code, s.addr)
		if err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
		fmt.Fprintf(w, "\n# %s\n", s.title)
		for _, in := range insns {
			fmt.Fprintf(w, "%x\t%x\t%s\t%s\n", in.bytes, in.addr, in.att, in.intel)
			lines++
		}
	}
	fmt.Printf("%s: %d instructions in %d sections\n", f.Name(), lines, len(sections))
	return w.Flush()
}

// groundTruth returns one section per JITed function of the x86-64
// captures (jited.bin and, where the prog arrays changed it, jited.empty.bin).
func groundTruth(captures string) ([]section, error) {
	var bins []string
	for _, pat := range []string{"jited.bin", "jited.empty.bin"} {
		m, err := filepath.Glob(filepath.Join(captures, "x86_64*", "*", "*", pat))
		if err != nil {
			return nil, err
		}
		bins = append(bins, m...)
	}
	sort.Strings(bins)
	if len(bins) == 0 {
		return nil, fmt.Errorf("no x86_64 jited.bin under %s", captures)
	}
	var sections []section
	for _, bin := range bins {
		img, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		fns, err := captureFunctions(filepath.Join(filepath.Dir(bin), "capture.json"))
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(captures, bin)
		for _, fn := range fns {
			end := fn.JitedOffset + fn.JitedLen
			if end > len(img) {
				return nil, fmt.Errorf("%s: %s: bad extent %d+%d", bin, fn.Name, fn.JitedOffset, fn.JitedLen)
			}
			sections = append(sections, section{fmt.Sprintf("ground truth %s: %s", rel, fn.Name), fn.addr, img[fn.JitedOffset:end]})
		}
	}
	return sections, nil
}

type captureFunc struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	JitedOffset int    `json:"jited_offset"`
	JitedLen    int    `json:"jited_len"`
	addr        uint64
}

func captureFunctions(file string) ([]captureFunc, error) {
	js, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var capture struct {
		Functions []captureFunc `json:"functions"`
	}
	if err := json.Unmarshal(js, &capture); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for i := range capture.Functions {
		fn := &capture.Functions[i]
		if fn.addr, err = strconv.ParseUint(strings.TrimPrefix(fn.Address, "0x"), 16, 64); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, fn.Name, err)
		}
	}
	return capture.Functions, nil
}

// seedLineRE matches "ffffffffc0513aa1: e9 0e 00 00 00 jmpq 0xffffffffc0513ab4"
// in the (quoted, single-line) seed 001 mail.
var seedLineRE = regexp.MustCompile(`([0-9a-f]{16}):((?: [0-9a-f]{2})+) ([a-z][a-z0-9]*)(?: ([^ >]+))?`)

// seedSections extracts the instruction lines of seed 001, writes them to
// linesFile as "pc<TAB>bytes<TAB>text" and returns their bytes, one
// section per run of consecutive addresses.
func seedSections(file, linesFile string) ([]section, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out, err := os.Create(linesFile)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	fmt.Fprintf(out, "# The x86-64 instruction lines of seed %s (a 2020 kernel\n", filepath.Base(file))
	fmt.Fprintf(out, "# commit discussion quoting objdump of binutils before 2.36), copied by\n")
	fmt.Fprintf(out, "# \"go run ./disasm/testdata/x86oracle fixture\". Format: pc<TAB>bytes<TAB>text.\n")
	var sections []section
	var last uint64
	for _, m := range seedLineRE.FindAllStringSubmatch(string(data), -1) {
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		code, err := hex.DecodeString(strings.ReplaceAll(m[2], " ", ""))
		if err != nil {
			return nil, err
		}
		text := m[3]
		if m[4] != "" {
			text += " " + m[4]
		}
		fmt.Fprintf(out, "%x\t%x\t%s\n", addr, code, text)
		if n := len(sections); n > 0 && addr == last {
			sections[n-1].code = append(sections[n-1].code, code...)
		} else {
			sections = append(sections, section{fmt.Sprintf("seed %s listing at %#x", filepath.Base(file), addr), addr, code})
		}
		last = addr + uint64(len(code))
	}
	if len(sections) == 0 {
		return nil, fmt.Errorf("%s: no instruction lines", file)
	}
	return sections, nil
}
