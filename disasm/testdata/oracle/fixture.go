package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A section is a run of consecutive words placed at addr.
type section struct {
	title string
	addr  uint64
	words []uint32
}

// writeFixture writes disasm/testdata/a64_objdump.txt: the words of the
// arm64 ground-truth captures at their kernel addresses, the words of the
// seed listing at theirs, the forms the eBPF JIT emits, and random words
// from every integer encoding class, each with objdump's text.
func writeFixture(args []string) error {
	fs := flag.NewFlagSet("fixture", flag.ExitOnError)
	captures := fs.String("captures", "/work/shared/groundtruth/captures", "ground-truth capture directory")
	seedFile := fs.String("seed", "/work/shared/seeds/000_58ae39643b58995c.txt", "seed listing")
	out := fs.String("o", "disasm/testdata", "output directory")
	perClass := fs.Int("n", 48, "random words per encoding class")
	fs.Parse(args)

	version, err := objdumpVersion()
	if err != nil {
		return err
	}
	var sections []section
	gt, err := groundTruth(*captures, filepath.Join(*out, "jited"))
	if err != nil {
		return err
	}
	sections = append(sections, gt...)
	seed, err := seedSections(*seedFile)
	if err != nil {
		return err
	}
	sections = append(sections, seed...)
	jit, err := assemble(jitForms())
	if err != nil {
		return err
	}
	sections = append(sections, section{"eBPF JIT instruction forms (assembled by " + asTool + ")", base, jit})
	sections = append(sections, section{"random words per encoding class (seed 1)", base + 0x10000, randomWords(*perClass)})

	f, err := os.Create(filepath.Join(*out, "a64_objdump.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# arm64 instruction words and their disassembly by %s\n", version)
	fmt.Fprintf(w, "# (%s -D -z -b binary -m aarch64 --adjust-vma=<address of the section>),\n", objdumpTool)
	fmt.Fprintf(w, "# written by \"go run ./disasm/testdata/oracle fixture\"; do not edit.\n")
	fmt.Fprintf(w, "# Format: word<TAB>pc<TAB>text, text being objdump's with one space after the\n")
	fmt.Fprintf(w, "# mnemonic and without its \"// ...\" comment. \".inst 0x... ; undefined\" marks\n")
	fmt.Fprintf(w, "# words objdump cannot decode.\n")
	lines := 0
	for _, s := range sections {
		texts, err := objdump(s.words, s.addr)
		if err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
		if s.title == seedTitle {
			if err := checkSeed(*seedFile, s, texts); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "\n# %s\n", s.title)
		for i, word := range s.words {
			fmt.Fprintf(w, "%08x\t%x\t%s\n", word, s.addr+4*uint64(i), texts[i])
			lines++
		}
	}
	fmt.Printf("%s: %d words in %d sections\n", f.Name(), lines, len(sections))
	return w.Flush()
}

// groundTruth reads the arm64 captures (capture.json + jited.bin), copies
// each jited.bin into dir and returns one section per JITed function.
func groundTruth(captures, dir string) ([]section, error) {
	bins, err := filepath.Glob(filepath.Join(captures, "arm64*", "*", "*", "jited.bin"))
	if err != nil {
		return nil, err
	}
	sort.Strings(bins)
	if len(bins) == 0 {
		return nil, fmt.Errorf("no arm64 jited.bin under %s", captures)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var sections []section
	for _, bin := range bins {
		img, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(captures, filepath.Dir(bin))
		name := strings.ReplaceAll(rel, string(filepath.Separator), "_") + ".bin"
		if err := os.WriteFile(filepath.Join(dir, name), img, 0o644); err != nil {
			return nil, err
		}
		var capture struct {
			Functions []struct {
				Name        string `json:"name"`
				Address     string `json:"address"`
				JitedOffset int    `json:"jited_offset"`
				JitedLen    int    `json:"jited_len"`
			} `json:"functions"`
		}
		js, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "capture.json"))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(js, &capture); err != nil {
			return nil, fmt.Errorf("%s: %w", bin, err)
		}
		for _, fn := range capture.Functions {
			addr, err := strconv.ParseUint(strings.TrimPrefix(fn.Address, "0x"), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", bin, fn.Name, err)
			}
			end := fn.JitedOffset + fn.JitedLen
			if fn.JitedOffset%4 != 0 || fn.JitedLen%4 != 0 || end > len(img) {
				return nil, fmt.Errorf("%s: %s: bad extent %d+%d", bin, fn.Name, fn.JitedOffset, fn.JitedLen)
			}
			var words []uint32
			for off := fn.JitedOffset; off < end; off += 4 {
				words = append(words, binary.LittleEndian.Uint32(img[off:]))
			}
			sections = append(sections, section{fmt.Sprintf("ground truth %s: %s", rel, fn.Name), addr, words})
		}
	}
	return sections, nil
}

const seedTitle = "seed 000_58ae39643b58995c.txt (kernel commit message listing, assembled by " + asTool + ")"

var seedLineRE = regexp.MustCompile(`^0x([0-9a-f]+): (.*)$`)

// seedLines returns the addresses and instruction texts of a seed
// listing, stripped of the arrows and comments drawn next to them.
func seedLines(file string) ([]uint64, []string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var addrs []uint64
	var texts []string
	for _, line := range strings.Split(string(data), "\n") {
		m := seedLineRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		text := m[2]
		for _, art := range []string{" //", " |", " -", " <"} {
			if i := strings.Index(text, art); i >= 0 {
				text = text[:i]
			}
		}
		addrs = append(addrs, addr)
		texts = append(texts, strings.TrimSpace(text))
	}
	return addrs, texts, nil
}

// seedSections assembles the seed listing. Its runs of consecutive
// addresses become one section, placed where the listing says.
func seedSections(file string) ([]section, error) {
	addrs, texts, err := seedLines(file)
	if err != nil {
		return nil, err
	}
	var sections []section
	for i := 0; i < len(addrs); {
		j := i + 1
		for j < len(addrs) && addrs[j] == addrs[j-1]+4 {
			j++
		}
		var src []string
		for k := i; k < j; k++ {
			src = append(src, relativeBranch(texts[k], addrs[k]))
		}
		words, err := assemble(src)
		if err != nil {
			return nil, err
		}
		sections = append(sections, section{seedTitle, addrs[i], words})
		i = j
	}
	return sections, nil
}

// checkSeed verifies that objdump prints the seed listing verbatim.
func checkSeed(file string, s section, texts []string) error {
	addrs, want, err := seedLines(file)
	if err != nil {
		return err
	}
	for i, a := range addrs {
		if k := (a - s.addr) / 4; a >= s.addr && k < uint64(len(texts)) && texts[k] != want[i] {
			return fmt.Errorf("seed %#x: objdump prints %q, seed says %q", a, texts[k], want[i])
		}
	}
	return nil
}

var absTargetRE = regexp.MustCompile(`^(b|bl|b\.\w+|cbz|cbnz|tbz|tbnz|adr|ldr)( .*)?([ ,])0x([0-9a-f]+)$`)

// relativeBranch rewrites an absolute branch target as ".+offset" so the
// assembler, which does not know where the code will be, encodes it.
func relativeBranch(text string, addr uint64) string {
	m := absTargetRE.FindStringSubmatch(text)
	if m == nil {
		return text
	}
	target, _ := strconv.ParseUint(m[4], 16, 64)
	return fmt.Sprintf("%s%s%s.%+d", m[1], m[2], m[3], int64(target-addr))
}

// assemble assembles one instruction per line and returns the words.
func assemble(lines []string) ([]uint32, error) {
	dir, err := os.MkdirTemp("", "oracle-as-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "a.s")
	obj := filepath.Join(dir, "a.o")
	bin := filepath.Join(dir, "a.bin")
	if err := os.WriteFile(src, []byte(".text\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command(asTool, "-march=armv8.5-a+lse+rcpc+pauth+memtag", "-o", obj, src).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", asTool, err, out)
	}
	if out, err := exec.Command("aarch64-linux-gnu-objcopy", "-O", "binary", "-j", ".text", obj, bin).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("objcopy: %w\n%s", err, out)
	}
	img, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	if len(img) != 4*len(lines) {
		return nil, fmt.Errorf("assembled %d bytes for %d instructions", len(img), len(lines))
	}
	words := make([]uint32, len(lines))
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(img[4*i:])
	}
	return words, nil
}

// randomWords draws n words from each encoding class: fixed bits from the
// class, the others from a deterministic generator. Classes follow the
// Arm ARM, chapter C4; only the integer, branch, system and load/store
// classes the eBPF JIT draws from (and their neighbours) are sampled.
func randomWords(n int) []uint32 {
	classes := []struct{ mask, value uint32 }{
		{0x1f800000, 0x11000000}, // add/subtract (immediate)
		{0x1f800000, 0x12000000}, // logical (immediate)
		{0x1f800000, 0x12800000}, // move wide (immediate)
		{0x1f800000, 0x13000000}, // bitfield
		{0x1f800000, 0x13800000}, // extract
		{0x1f000000, 0x10000000}, // PC-rel. addressing
		{0x1f000000, 0x0a000000}, // logical (shifted register)
		{0x1f200000, 0x0b000000}, // add/subtract (shifted register)
		{0x1f200000, 0x0b200000}, // add/subtract (extended register)
		{0x1fe00000, 0x1a400000}, // conditional compare
		{0x1fe00000, 0x1a800000}, // conditional select
		{0x1f000000, 0x1b000000}, // data-processing (3 source)
		{0x7fe0f000, 0x1ac00000}, // data-processing (2 source): udiv, sdiv
		{0x7fe0f000, 0x1ac02000}, // data-processing (2 source): shifts
		{0x7fe0f000, 0x5ac00000}, // data-processing (1 source): rbit, rev, clz
		{0x3f000000, 0x39000000}, // load/store register (unsigned immediate)
		{0x3f200000, 0x38000000}, // load/store register (unscaled, pre/post-indexed)
		{0x3f200c00, 0x38200800}, // load/store register (register offset)
		{0x3e000000, 0x28000000}, // load/store register pair
		{0x3f000000, 0x18000000}, // load register (literal)
		{0x3f000000, 0x08000000}, // load/store exclusive and ordered, CAS
		{0x3f200c00, 0x38200000}, // atomic memory operations
		{0x7c000000, 0x14000000}, // unconditional branch (immediate)
		{0xff000010, 0x54000000}, // conditional branch (immediate)
		{0x7e000000, 0x34000000}, // compare and branch
		{0x7e000000, 0x36000000}, // test and branch
		{0xfe000000, 0xd6000000}, // unconditional branch (register)
		{0xffe0001c, 0xd4000000}, // exception generation
		{0xfff00000, 0xd5300000}, // MRS
		{0xfff00000, 0xd5100000}, // MSR (register)
		{0xfffff01f, 0xd503301f}, // barriers
		{0xffff0000, 0xdac10000}, // pointer authentication
		{0xffff0000, 0x00000000}, // UDF
	}
	r := rand.New(rand.NewSource(1))
	var words []uint32
	for _, c := range classes {
		for i := 0; i < n; i++ {
			words = append(words, c.value|r.Uint32()&^c.mask)
		}
	}
	return words
}
