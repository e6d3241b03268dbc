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

// lex splits line[start:end] into tokens.
func lex(line string, start, end int) []token {
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
			// Signed operators: s>, s>=, s<, s<=, s>>=, s/=, s%=.
			for _, op := range operators {
				if op[0] == 's' && strings.HasPrefix(line[i:end], op) {
					toks = append(toks, token{tPunct, op, i, i + len(op)})
					i += len(op)
					continue outer
				}
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
	toks = append(toks, token{tEOF, "", end, end})
	return toks
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
