// Command oracle builds the arm64 test fixtures of package disasm from GNU
// objdump, and compares the decoder with objdump on random words. It needs
// aarch64-linux-gnu-objdump and -as (binutils 2.40) and is not run by the
// tests; its outputs are checked in.
//
// Run from the repository root:
//
//	go run ./disasm/testdata/oracle fixture   # disasm/testdata/a64_objdump.txt, jited/*.bin
//	go run ./disasm/testdata/oracle sysregs   # disasm/a64_sysreg.go
//	go run ./disasm/testdata/oracle check [-n words] [-seed s] [-class mask/value]
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

const (
	objdumpTool = "aarch64-linux-gnu-objdump"
	asTool      = "aarch64-linux-gnu-as"
	// base is where the synthetic words are placed, a typical arm64 BPF
	// JIT address of the kind quoted in kernel commit messages.
	base = 0xffffffc009015000
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: oracle fixture|sysregs|check [flags]")
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "fixture":
		err = writeFixture(args)
	case "sysregs":
		err = writeSysRegs(args)
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

var commentRE = regexp.MustCompile(`\s+//.*$`)

// objdump disassembles words placed at addr and returns one normalised
// text per word: mnemonic, one space, operands, without the trailing
// "// ..." comment. Undefined words come back as ".inst 0x... ; undefined".
func objdump(words []uint32, addr uint64) ([]string, error) {
	f, err := os.CreateTemp("", "oracle-*.bin")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(buf[4*i:], w)
	}
	if _, err := f.Write(buf); err != nil {
		return nil, err
	}
	f.Close()
	out, err := exec.Command(objdumpTool, "-D", "-z", "-b", "binary", "-m", "aarch64",
		fmt.Sprintf("--adjust-vma=%#x", addr), f.Name()).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", objdumpTool, err)
	}
	texts := make([]string, len(words))
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "ffffffc009015000:\t54000002 \tb.cs\t0xffffffc009015000  // b.hs, b.nlast"
		p := strings.SplitN(sc.Text(), "\t", 4)
		if len(p) < 3 || !strings.HasSuffix(p[0], ":") {
			continue
		}
		a, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(p[0], ":")), 16, 64)
		if err != nil {
			continue
		}
		i := (a - addr) / 4
		if i >= uint64(len(words)) {
			return nil, fmt.Errorf("objdump: address %#x out of range", a)
		}
		text := p[2]
		if len(p) == 4 {
			ops := commentRE.ReplaceAllString(p[3], "")
			if ops = strings.TrimSpace(strings.ReplaceAll(ops, "\t", " ")); ops != "" {
				text += " " + ops
			}
		}
		texts[i] = text
	}
	for i, t := range texts {
		if t == "" {
			return nil, fmt.Errorf("objdump printed nothing for word %d (%#08x)", i, words[i])
		}
	}
	return texts, nil
}

// undefined reports whether objdump could not decode the word.
func undefined(text string) bool { return strings.HasPrefix(text, ".inst") }
