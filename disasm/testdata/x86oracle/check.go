package main

import (
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/disasm"
)

// check compares DecodeX86 with objdump on random instructions and
// prints, per objdump mnemonic, how many were wrong (a text or length
// differing from objdump's) and how many refused (an error where objdump
// decodes). With -forms it uses the assembled instruction forms instead.
func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	n := fs.Int("n", 100000, "number of random instructions")
	seed := fs.Int64("seed", 1, "random seed")
	refused := fs.Bool("refused", false, "also list refused mnemonics")
	useForms := fs.Bool("forms", false, "check the assembled forms, not random bytes")
	fs.Parse(args)

	var code []byte
	if *useForms {
		var err error
		if code, _, err = assemble(forms()); err != nil {
			return err
		}
	} else {
		code = randomCode(rand.New(rand.NewSource(*seed)), *n)
	}
	want, err := objdump(code, base)
	if err != nil {
		return err
	}
	type stat struct {
		n, wrong, refused int
		ex                []string
	}
	stats := map[string]*stat{}
	for _, w := range want {
		off := w.addr - base
		key := mnemonic(w.att)
		s := stats[key]
		if s == nil {
			s = &stat{}
			stats[key] = s
		}
		s.n++
		inst, err := disasm.DecodeX86(code[off:], w.addr)
		switch {
		case err != nil && key == "(bad)":
		case err != nil:
			s.refused++
			if *refused && len(s.ex) < 3 {
				s.ex = append(s.ex, fmt.Sprintf("%x refused, want %q", w.bytes, w.att))
			}
		case key == "(bad)" || inst.Len != len(w.bytes) || inst.Text != w.att || inst.Intel != w.intel:
			s.wrong++
			if len(s.ex) < 3 {
				s.ex = append(s.ex, fmt.Sprintf("%x: %d %q %q, want %d %q %q", w.bytes, inst.Len, inst.Text, inst.Intel, len(w.bytes), w.att, w.intel))
			}
		}
	}
	keys := make([]string, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var total, wrong, ref int
	for _, k := range keys {
		s := stats[k]
		total += s.n
		wrong += s.wrong
		ref += s.refused
		if s.wrong > 0 || (*refused && s.refused > 0) {
			fmt.Printf("%-12s n=%-6d wrong=%-6d refused=%-6d\n\t%s\n", k, s.n, s.wrong, s.refused, strings.Join(s.ex, "\n\t"))
		}
	}
	fmt.Printf("total %d instructions: %d wrong, %d refused\n", total, wrong, ref)
	return nil
}

// mnemonic is the first word of an objdump text that is not a prefix.
func mnemonic(text string) string {
	for _, w := range strings.Fields(text) {
		switch w {
		case "lock", "rep", "repz", "repnz", "bnd", "notrack", "data16", "addr32", "cs", "ds", "es", "ss", "fs", "gs":
			continue
		}
		if strings.HasPrefix(w, "rex") {
			continue
		}
		return w
	}
	return text
}
