// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import "strings"

// Hand-written recognisers for the line shapes Parse looks for, in place
// of regular expressions run on every line (a million-line program spent
// most of its parse time in them). Each one matches exactly what the
// regular expression in its comment matches; reference_test.go holds them
// to those expressions. \s is RE2's: tab, newline, form feed, carriage
// return and space.

func isRESpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func skipRESpace(s string, i int) int {
	for i < len(s) && isRESpace(s[i]) {
		i++
	}
	return i
}

// isRegName reports whether s is a register name: ^[rw][0-9]+$.
func isRegName(s string) bool {
	if len(s) < 2 || (s[0] != 'r' && s[0] != 'w') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// matchIndex matches an instruction index "12:" at the start of line:
// ^\s*[0-9]+: . It returns the offset just past the colon, or -1.
func matchIndex(line string) int {
	i := skipRESpace(line, 0)
	j := i
	for j < len(line) && isDigit(line[j]) {
		j++
	}
	if j == i || j >= len(line) || line[j] != ':' {
		return -1
	}
	return j + 1
}

// matchLabel matches a label at the start of line:
// ^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*: . It returns the name's bounds and
// the offset just past the colon; ok is false when line is not a label.
func matchLabel(line string) (start, end, next int, ok bool) {
	i := skipRESpace(line, 0)
	if i >= len(line) || !isIdentStart(line[i]) {
		return 0, 0, 0, false
	}
	j := i + 1
	for j < len(line) && isIdentChar(line[j]) {
		j++
	}
	k := skipRESpace(line, j)
	if k >= len(line) || line[k] != ':' {
		return 0, 0, 0, false
	}
	return i, j, k + 1, true
}

// The rare line shapes (tool headers, relocations, bpftool's function
// headers) still go through their regular expressions, but only when line
// holds what each of them needs to match: these are necessary conditions,
// so the result is the same as running every expression on every line.

// maybeSkip: reSkip needs "file format " or "...".
func maybeSkip(line string) bool {
	return strings.Contains(line, "...") || strings.Contains(line, "file format ")
}

// maybeSection: reSection needs "Disassembly of section ".
func maybeSection(line string) bool {
	return strings.Contains(line, "Disassembly of section ")
}

// maybeReloc: reReloc needs "R_BPF_".
func maybeReloc(line string) bool { return strings.Contains(line, "R_BPF_") }

// maybeFuncHdr: reFuncHdr needs ">:".
func maybeFuncHdr(line string) bool { return strings.Contains(line, ">:") }

// maybeBTFHdr: reBTFHdr needs a ')' and a ':' as the last byte that is
// not \s.
func maybeBTFHdr(line string) bool {
	j := len(line)
	for j > 0 && isRESpace(line[j-1]) {
		j--
	}
	return j > 0 && line[j-1] == ':' && strings.IndexByte(line, ')') >= 0
}
