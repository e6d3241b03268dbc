// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// The regular expressions the hand-written recognisers in match.go and lex
// replace, and the gates in front of those still used.
var (
	refLabel    = regexp.MustCompile(`^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*:`)
	refIndex    = regexp.MustCompile(`^\s*[0-9]+:`)
	refRegister = regexp.MustCompile(`^[rw][0-9]+$`)
)

// matchCorpus returns lines of every shape Parse sees: the test sources,
// tool output and random strings over the characters that matter.
func matchCorpus() []string {
	lines := []string{
		"", " ", "\t", "r1", "w10", "r", "w", "rx", "r1a", "R1", "r01", "w0x1",
		"1:", "  12:", "\t7 :", "12", ":", "a:", " a :", "a b:", "_x.y$z: r0 = 0",
		".L1:", "$x:", "0a:", "a0:", "x\f:", "x\r:", "\v1:", "r0 = 0",
		"0000000000000000 <entry>:", "<entry>:", "  12: R_BPF_64_64 jmp_table",
		"prog.o:\tfile format elf64-bpf", "...", "Disassembly of section .text:",
		"int entry(struct __sk_buff * skb):", "int entry(void):  ", "x():",
		"   0: (b7) r0 = 0", "   3:\tb7 02 00 00 00 00 00 00\tr2 = 0",
		"if r1 s>= r2 goto +3", "r1 s>>= 3", "r1 s/= r2", "r1 s%= 5", "s<", "s<=s>",
		"*(u8 *)(r10 - 1) = r2", "r1 <<= 1", "r1 >>= 1", "a != b", "!", "x ! y",
		"r1 = map[.data][0]+4", "goto <LBB0_4>", "call bpf_tail_call#12", "é:", "r1 = é",
	}
	lines = append(lines, strings.Split(seed000, "\n")...)
	const alphabet = " \t\f\r:.$_aAzrwsx019<>=!()[],#+-*/%&|^;é"
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := rnd.IntN(12)
		var b strings.Builder
		for range n {
			r, _ := utf8.DecodeRuneInString(alphabet[rnd.IntN(len(alphabet)):])
			if r == utf8.RuneError {
				r = 'é'
			}
			b.WriteRune(r)
		}
		lines = append(lines, b.String())
	}
	return lines
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, line := range matchCorpus() {
		if got, want := isRegName(line), refRegister.MatchString(line); got != want {
			t.Errorf("isRegName(%q) = %v, want %v", line, got, want)
		}
		want := -1
		if m := refIndex.FindStringIndex(line); m != nil {
			want = m[1]
		}
		if got := matchIndex(line); got != want {
			t.Errorf("matchIndex(%q) = %d, want %d", line, got, want)
		}
		s, e, next, ok := matchLabel(line)
		if m := refLabel.FindStringSubmatchIndex(line); m != nil {
			if !ok || s != m[2] || e != m[3] || next != m[1] {
				t.Errorf("matchLabel(%q) = %d, %d, %d, %v; want %d, %d, %d, true", line, s, e, next, ok, m[2], m[3], m[1])
			}
		} else if ok {
			t.Errorf("matchLabel(%q) = %d, %d, %d, true; want no match", line, s, e, next)
		}
		// The gates are necessary conditions of their expressions.
		hasColonOrDot := strings.ContainsAny(line, ":.")
		for _, g := range []struct {
			re   *regexp.Regexp
			gate func(string) bool
		}{{reSkip, maybeSkip}, {reSection, maybeSection}, {reReloc, maybeReloc}, {reFuncHdr, maybeFuncHdr}, {reBTFHdr, maybeBTFHdr}} {
			if g.re.MatchString(line) && (!g.gate(line) || !hasColonOrDot) {
				t.Errorf("%q matches %s but its gate refuses it", line, g.re)
			}
		}
	}
}

// lexReference is lex as it was, trying every operator in turn.
func lexReference(line string, start, end int) []token {
	var toks []token
	i := start
outer:
	for i < end {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == 's' && i+1 < end && strings.IndexByte("<>/%", line[i+1]) >= 0:
			for _, op := range operators {
				if op[0] == 's' && strings.HasPrefix(line[i:end], op) {
					toks = append(toks, token{tPunct, op, i, i + len(op)})
					i += len(op)
					continue outer
				}
			}
			toks = append(toks, token{tIdent, "s", i, i + 1})
			i++
		case isIdentStart(c):
			j := i + 1
			for j < end && isIdentChar(line[j]) {
				j++
			}
			toks = append(toks, token{tIdent, line[i:j], i, j})
			i = j
		case isDigit(c):
			j := i + 1
			for j < end && isIdentChar(line[j]) {
				j++
			}
			toks = append(toks, token{tNum, line[i:j], i, j})
			i = j
		default:
			for _, op := range operators {
				if op[0] != 's' && strings.HasPrefix(line[i:end], op) {
					toks = append(toks, token{tPunct, op, i, i + len(op)})
					i += len(op)
					continue outer
				}
			}
			_, n := utf8.DecodeRuneInString(line[i:end])
			toks = append(toks, token{tOther, line[i : i+n], i, i + n})
			i += n
		}
	}
	return append(toks, token{tEOF, "", end, end})
}

func TestLexAgreesWithReference(t *testing.T) {
	var buf []token
	for _, line := range matchCorpus() {
		for _, start := range []int{0, min(1, len(line))} {
			buf = lex(buf[:0], line, start, len(line))
			want := lexReference(line, start, len(line))
			if len(buf) != len(want) {
				t.Fatalf("lex(%q, %d) = %v, want %v", line, start, buf, want)
			}
			for i := range want {
				if buf[i] != want[i] {
					t.Fatalf("lex(%q, %d) token %d = %+v, want %+v", line, start, i, buf[i], want[i])
				}
			}
		}
	}
}

// TestOpSwitches holds the fast paths' operator switches to the general
// path's tables.
func TestOpSwitches(t *testing.T) {
	for op, want := range aluOps {
		if got, ok := aluOpOf(op); !ok || got != want {
			t.Errorf("aluOpOf(%q) = %v, %v, want %v", op, got, ok, want)
		}
	}
	for op, want := range jumpOps {
		if got, ok := jumpOpOf(op); !ok || got != want {
			t.Errorf("jumpOpOf(%q) = %v, %v, want %v", op, got, ok, want)
		}
	}
	for _, op := range append(operators, "", "s", "s>>", "===", "lock") {
		if _, in := aluOps[op]; !in {
			if _, ok := aluOpOf(op); ok {
				t.Errorf("aluOpOf(%q) accepts an operator aluOps does not have", op)
			}
		}
		if _, in := jumpOps[op]; !in {
			if _, ok := jumpOpOf(op); ok {
				t.Errorf("jumpOpOf(%q) accepts an operator jumpOps does not have", op)
			}
		}
	}
}
