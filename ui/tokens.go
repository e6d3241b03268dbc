// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/themes"
)

// isASCII reports whether s is plain ASCII, one column per byte.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return false
		}
	}
	return true
}

func width(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return ansi.StringWidth(s)
}

// truncate cuts s to w columns, ending in "…" when something was cut.
func truncate(s string, w int) (string, int) {
	if w <= 0 {
		return "", 0
	}
	if isASCII(s) {
		if len(s) <= w {
			return s, len(s)
		}
		return s[:w-1] + "…", w
	}
	if ansi.StringWidth(s) <= w {
		return s, ansi.StringWidth(s)
	}
	t := ansi.Truncate(s, w, "…")
	return t, ansi.StringWidth(t)
}

// segment is a piece of an instruction line in one token style.
type segment struct {
	text string
	tok  themes.Token
}

// tokenize splits objdump-syntax instruction text into styled tokens: the
// mnemonic, registers, immediates, branch targets, symbols and
// punctuation. The decoder already knows the instruction; this only colours
// its printed form, as objdump's disassembler_style does.
func tokenize(text string) []segment {
	var out []segment
	emit := func(s string, t themes.Token) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].tok == t {
			out[n-1].text += s
			return
		}
		out = append(out, segment{s, t})
	}
	mn, rest, _ := strings.Cut(text, " ")
	emit(mn, themes.TokMnemonic)
	if rest == "" {
		return out
	}
	emit(" ", themes.TokPlain)
	for i := 0; i < len(rest); {
		c := rest[i]
		switch {
		case c == '<':
			j := strings.IndexByte(rest[i:], '>')
			if j < 0 {
				j = len(rest) - i - 1
			}
			emit(rest[i:i+j+1], themes.TokSymbol)
			i += j + 1
		case c == '#' || c == '$':
			j := i + 1
			for j < len(rest) && (isWord(rest[j]) || rest[j] == '-') {
				j++
			}
			emit(rest[i:j], themes.TokImmediate)
			i = j
		case c == '%':
			j := i + 1
			for j < len(rest) && isWord(rest[j]) {
				j++
			}
			emit(rest[i:j], themes.TokRegister)
			i = j
		case isWord(c) || (c == '-' && i+1 < len(rest) && isDigit(rest[i+1])):
			j := i + 1
			for j < len(rest) && isWord(rest[j]) {
				j++
			}
			emit(rest[i:j], wordToken(rest[i:j]))
			i = j
		case c == ' ':
			emit(" ", themes.TokPlain)
			i++
		default:
			emit(rest[i:i+1], themes.TokPunct)
			i++
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWord(c byte) bool {
	return c == '_' || c == '.' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// wordToken classifies a bare operand word.
func wordToken(w string) themes.Token {
	s := strings.TrimPrefix(w, "-")
	if strings.HasPrefix(s, "0x") {
		if len(s) >= 10 { // a kernel address: a branch or call target
			return themes.TokAddress
		}
		return themes.TokImmediate
	}
	if s != "" && isDigit(s[0]) {
		return themes.TokImmediate
	}
	if isRegister(w) {
		return themes.TokRegister
	}
	return themes.TokPlain
}

// isRegister recognises arm64 and x86-64 (Intel syntax) register names.
func isRegister(w string) bool {
	switch w {
	case "sp", "wsp", "xzr", "wzr", "lr", "fp", "rip", "eip",
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
		"eax", "ebx", "ecx", "edx", "esi", "edi", "esp", "ebp",
		"ax", "bx", "cx", "dx", "si", "di", "bp",
		"al", "bl", "cl", "dl", "ah", "bh", "ch", "dh", "sil", "dil", "bpl", "spl":
		return true
	}
	if len(w) < 2 {
		return false
	}
	num := func(s string) bool {
		if s == "" || len(s) > 2 {
			return false
		}
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) {
				return false
			}
		}
		return true
	}
	switch w[0] {
	case 'x', 'w', 'v', 'q', 'd', 's', 'h', 'b':
		if num(w[1:]) {
			return true
		}
	case 'r': // r8..r15 and their d/w/b forms
		s := strings.TrimRight(w[1:], "dwb")
		return num(s) && len(w)-1-len(s) <= 1
	}
	return false
}
