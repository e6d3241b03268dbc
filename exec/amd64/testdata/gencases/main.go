// Command gencases fills in the "bytes" lines of ../cases.txt by
// assembling each case's "asm" line with GNU as (--64, Intel syntax).
// The expected results in cases.txt are written by hand from the Intel
// SDM; this program only supplies the encodings. Run from exec/amd64:
//
//	go run ./testdata/gencases
//
// It is not needed by the tests.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	path := "testdata/cases.txt"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		fatal(err)
	}
	tmp, err := os.MkdirTemp("", "gencases")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)

	var out []string
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	n := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		key, val := split(line)
		if key == "bytes" {
			continue // regenerated after the asm line
		}
		out = append(out, line)
		if key != "asm" {
			continue
		}
		b, err := assemble(tmp, val)
		if err != nil {
			fatal(fmt.Errorf("line %d: %s: %v", i+1, val, err))
		}
		out = append(out, fmt.Sprintf("bytes  % x", b))
		n++
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		fatal(err)
	}
	fmt.Printf("%s: assembled %d cases\n", path, n)
}

func split(line string) (string, string) {
	line = strings.TrimSpace(line)
	k, v, _ := strings.Cut(line, " ")
	return k, strings.TrimSpace(v)
}

func assemble(tmp, src string) ([]byte, error) {
	var sb strings.Builder
	sb.WriteString(".intel_syntax noprefix\n.text\n")
	for _, ins := range strings.Split(src, ";") {
		sb.WriteString(strings.TrimSpace(ins) + "\n")
	}
	s := filepath.Join(tmp, "c.s")
	o := filepath.Join(tmp, "c.o")
	bin := filepath.Join(tmp, "c.bin")
	if err := os.WriteFile(s, []byte(sb.String()), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("as", "--64", "-o", o, s).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("as: %v: %s", err, out)
	}
	if out, err := exec.Command("objcopy", "-O", "binary", "-j", ".text", o, bin).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("objcopy: %v: %s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("no code")
	}
	return b, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gencases:", err)
	os.Exit(1)
}
