// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNum
	tPunct
	tOther // a character that is not part of the syntax (allowed inside names)
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the source line
	end  int // byte offset just past the token
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of line"
	}
	return fmt.Sprintf("%q", t.text)
}

// Operators, longest first. Those starting with 's' are only recognised at the
// start of a token (identifiers are consumed greedily before).
var operators = []string{
	"s>>=", "<<=", ">>=",
	"s>=", "s<=", "s/=", "s%=",
	"==", "!=", ">=", "<=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
	"s>", "s<",
	"=", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^",
	"(", ")", "[", "]", ",", "#", ":",
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '.' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lex splits line[start:end] into tokens, appending them to toks.
func lex(toks []token, line string, start, end int) []token {
	i := start
	for i < end {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == 's' && i+1 < end && (line[i+1] == '<' || line[i+1] == '>' || line[i+1] == '/' || line[i+1] == '%'):
			// Signed operators: s>, s>=, s<, s<=, s>>=, s/=, s%=.
			if n := signedOpLen(line[i:end]); n > 0 {
				toks = append(toks, token{tPunct, line[i : i+n], i, i + n})
				i += n
				continue
			}
			// A lone identifier "s" followed by an operator.
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
			if n := opLen(line[i:end]); n > 0 {
				toks = append(toks, token{tPunct, line[i : i+n], i, i + n})
				i += n
				continue
			}
			_, n := utf8.DecodeRuneInString(line[i:end])
			toks = append(toks, token{tOther, line[i : i+n], i, i + n})
			i += n
		}
	}
	return append(toks, token{tEOF, "", end, end})
}

// signedOpLen is the length of the signed operator s starts with (the
// longest of those in operators that start with 's'), or 0.
func signedOpLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case '>':
		if strings.HasPrefix(s, "s>>=") {
			return 4
		}
		if strings.HasPrefix(s, "s>=") {
			return 3
		}
		return 2
	case '<':
		if strings.HasPrefix(s, "s<=") {
			return 3
		}
		return 2
	case '/', '%':
		if len(s) > 2 && s[2] == '=' {
			return 3
		}
	}
	return 0
}

// opLen is the length of the operator s starts with (the longest of those
// in operators that do not start with 's'), or 0.
func opLen(s string) int {
	eq := len(s) > 1 && s[1] == '='
	switch s[0] {
	case '<', '>':
		if len(s) > 2 && s[1] == s[0] && s[2] == '=' {
			return 3 // <<= >>=
		}
		if eq {
			return 2
		}
		return 1
	case '=', '+', '-', '*', '/', '%', '&', '|', '^':
		if eq {
			return 2
		}
		return 1
	case '!':
		if eq {
			return 2
		}
	case '(', ')', '[', ']', ',', '#', ':':
		return 1
	}
	return 0
}

// stripComment returns the length of line without its comment.
func stripComment(line string) int {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ';':
			return i
		case '/':
			if i+1 < len(line) && line[i+1] == '/' {
				return i
			}
		case '#':
			if i == 0 || line[i-1] == ' ' || line[i-1] == '\t' {
				return i
			}
		}
	}
	return len(line)
}
