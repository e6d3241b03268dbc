// Command x86oracle builds the x86-64 test fixture of package disasm from
// GNU objdump, and compares the decoder with objdump on random
// instructions. It needs objdump and as (binutils 2.40, x86-64 host) and
// is not run by the tests; its output is checked in.
//
// Run from the repository root:
//
//	go run ./disasm/testdata/x86oracle fixture   # disasm/testdata/x86_objdump.txt
//	go run ./disasm/testdata/x86oracle check [-n insns] [-seed s] [-v]
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

const (
	objdumpTool = "objdump"
	asTool      = "as"
	// base is where synthetic code is placed: an x86-64 BPF JIT address
	// of the kind quoted in kernel commit messages.
	base = 0xffffffffc0513a00
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: x86oracle fixture|check [flags]")
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "fixture":
		err = writeFixture(args)
	case "check":
		err = check(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// objdumpVersion returns the first line of objdump --version.
func objdumpVersion() (string, error) {
	out, err := exec.Command(objdumpTool, "--version").Output()
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line, nil
}

// An insn is one line of objdump's output.
type insn struct {
	addr  uint64
	bytes []byte
	att   string
	intel string
}

var (
	spaceRE   = regexp.MustCompile(`\s+`)
	commentRE = regexp.MustCompile(` #.*$`)
)

// normalize collapses objdump's padding to single spaces and drops the
// "# 0x..." comment of RIP-relative operands.
func normalize(s string) string {
	s = strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
	return commentRE.ReplaceAllString(s, "")
}

// objdump disassembles code placed at addr in both syntaxes.
func objdump(code []byte, addr uint64) ([]insn, error) {
	f, err := os.CreateTemp("", "x86oracle-*.bin")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(code); err != nil {
		return nil, err
	}
	f.Close()
	run := func(extra ...string) ([]insn, error) {
		args := append([]string{"-D", "-w", "-z", "-b", "binary", "-m", "i386:x86-64",
			fmt.Sprintf("--adjust-vma=%#x", addr)}, extra...)
		out, err := exec.Command(objdumpTool, append(args, f.Name())...).Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", objdumpTool, err)
		}
		var insns []insn
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			// "ffffffffc0025c25:\t48 89 e5             \tmov    %rsp,%rbp"
			p := strings.SplitN(sc.Text(), "\t", 3)
			if len(p) < 3 || !strings.HasSuffix(p[0], ":") {
				continue
			}
			a, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(p[0], ":")), 16, 64)
			if err != nil {
				continue
			}
			b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(p[1]), " ", ""))
			if err != nil {
				return nil, fmt.Errorf("objdump line %q: %w", sc.Text(), err)
			}
			insns = append(insns, insn{addr: a, bytes: b, att: normalize(p[2])})
		}
		return insns, nil
	}
	att, err := run()
	if err != nil {
		return nil, err
	}
	intel, err := run("-M", "intel")
	if err != nil {
		return nil, err
	}
	if len(att) != len(intel) {
		return nil, fmt.Errorf("objdump: %d AT&T lines but %d Intel lines", len(att), len(intel))
	}
	var off uint64
	for i := range att {
		if att[i].addr != intel[i].addr || att[i].addr != addr+off {
			return nil, fmt.Errorf("objdump: line %d at %#x, want %#x", i, att[i].addr, addr+off)
		}
		att[i].intel = intel[i].att
		off += uint64(len(att[i].bytes))
	}
	if off != uint64(len(code)) {
		return nil, fmt.Errorf("objdump covered %d of %d bytes", off, len(code))
	}
	return att, nil
}

// assemble assembles x86-64 AT&T source lines with GNU as and returns
// the .text bytes. Lines as rejects are dropped (and reported).
func assemble(lines []string) ([]byte, []string, error) {
	dir, err := os.MkdirTemp("", "x86oracle-as")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	src, obj, bin := dir+"/a.s", dir+"/a.o", dir+"/a.bin"
	for attempt := 0; ; attempt++ {
		text := ".text\n" + strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
			return nil, nil, err
		}
		out, err := exec.Command(asTool, "--64", "-o", obj, src).CombinedOutput()
		if err == nil {
			break
		}
		bad := map[int]bool{}
		for _, m := range regexp.MustCompile(`a\.s:(\d+): Error`).FindAllStringSubmatch(string(out), -1) {
			n, _ := strconv.Atoi(m[1])
			bad[n-2] = true // line 1 is .text
		}
		if len(bad) == 0 || attempt > 3 {
			return nil, nil, fmt.Errorf("%s: %v\n%s", asTool, err, out)
		}
		var keep []string
		for i, l := range lines {
			if !bad[i] {
				keep = append(keep, l)
			}
		}
		lines = keep
	}
	if out, err := exec.Command("objcopy", "-O", "binary", "-j", ".text", obj, bin).CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("objcopy: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	return code, lines, err
}
