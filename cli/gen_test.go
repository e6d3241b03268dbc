// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGen writes a generated scenario, refuses to overwrite it without
// --force, and dumps what it wrote.
func TestGen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.scn")
	if _, errOut, st := runCLI(t, "gen", "--insns", "2000", "-o", path); st != 0 {
		t.Fatalf("gen: status %d: %s", st, errOut)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, st := runCLI(t, "gen", "--insns", "3000", "-o", path); st == 0 || !strings.Contains(errOut, "--force") {
		t.Fatalf("overwrote without --force: status %d, %q", st, errOut)
	}
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Fatal("the refused gen changed the file")
	}
	if _, errOut, st := runCLI(t, "gen", "--insns", "3000", "--seed", "2", "-o", path, "--force"); st != 0 {
		t.Fatalf("gen --force: status %d: %s", st, errOut)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	for _, arch := range []string{"arm64", "x86_64"} {
		out, errOut, st := runCLI(t, "dump", path, "--arch", arch)
		if st != 0 {
			t.Fatalf("dump --arch %s: status %d: %s", arch, st, errOut)
		}
		if !strings.Contains(out, "bpf2bpf call") || !strings.Contains(out, "gen_tail") {
			t.Errorf("dump --arch %s: no bpf2bpf call or tail call target in the listing", arch)
		}
	}
	for _, args := range [][]string{{"gen", "-o", path}, {"gen", "--insns", "100"}, {"gen", "--insns", "10", "-o", path + "2"},
		{"gen", "--insns", "1000", "--funcs", "100", "-o", path + "3"}} {
		if _, errOut, st := runCLI(t, args...); st == 0 {
			t.Errorf("%v: status 0", args)
		} else if strings.Count(strings.TrimSpace(errOut), "\n") > 0 && !strings.Contains(errOut, "usage") {
			t.Errorf("%v: more than one error line: %q", args, errOut)
		}
	}
	// --funcs: that many functions, named in the header line.
	funcsPath := filepath.Join(dir, "funcs.scn")
	if _, errOut, st := runCLI(t, "gen", "--insns", "2000", "--funcs", "8", "-o", funcsPath); st != 0 {
		t.Fatalf("gen --funcs 8: status %d: %s", st, errOut)
	}
	data, _ := os.ReadFile(funcsPath)
	if !strings.Contains(string(data), "--funcs 8`") || !strings.Contains(string(data), "fn_7:") || strings.Contains(string(data), "fn_8:") {
		t.Errorf("gen --funcs 8: want functions gen, fn_1 .. fn_7 and the flag in the header")
	}
}
