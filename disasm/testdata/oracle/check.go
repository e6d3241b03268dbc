package main

import (
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/disasm"
)

// check compares DecodeA64 with objdump on random words and prints, per
// objdump mnemonic, how many words were wrong (a text differing from
// objdump's) and how many were refused (an error where objdump decodes).
func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	n := fs.Int("n", 200000, "number of random words")
	seed := fs.Int64("seed", 1, "random seed")
	class := fs.String("class", "0/0", "restrict to words w with w&mask == value (hex mask/value)")
	refused := fs.Bool("refused", false, "also list refused mnemonics")
	fs.Parse(args)

	ms, vs, _ := strings.Cut(*class, "/")
	mask, err1 := strconv.ParseUint(ms, 16, 32)
	value, err2 := strconv.ParseUint(vs, 16, 32)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad -class %q", *class)
	}
	r := rand.New(rand.NewSource(*seed))
	words := make([]uint32, *n)
	for i := range words {
		words[i] = uint32(value) | r.Uint32()&^uint32(mask)
	}
	want, err := objdump(words, base)
	if err != nil {
		return err
	}
	type stat struct {
		n, wrong, refused int
		ex                []string
	}
	stats := map[string]*stat{}
	for i, w := range words {
		pc := base + 4*uint64(i)
		key, _, _ := strings.Cut(want[i], " ")
		if undefined(want[i]) {
			if inst, err := disasm.DecodeA64(w, pc); err == nil {
				key = ".inst/" + inst.Op
			}
		}
		s := stats[key]
		if s == nil {
			s = &stat{}
			stats[key] = s
		}
		s.n++
		inst, err := disasm.DecodeA64(w, pc)
		switch {
		case err != nil && undefined(want[i]):
		case err != nil:
			s.refused++
			if *refused && len(s.ex) < 3 {
				s.ex = append(s.ex, fmt.Sprintf("%08x refused, want %q", w, want[i]))
			}
		case inst.Text != want[i]:
			s.wrong++
			if len(s.ex) < 3 {
				s.ex = append(s.ex, fmt.Sprintf("%08x %q want %q", w, inst.Text, want[i]))
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
			fmt.Printf("%-12s n=%-6d wrong=%-6d refused=%-6d %s\n", k, s.n, s.wrong, s.refused, strings.Join(s.ex, " | "))
		}
	}
	fmt.Printf("total %d words: %d wrong, %d refused\n", total, wrong, ref)
	return nil
}
