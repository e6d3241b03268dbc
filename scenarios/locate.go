// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"strconv"
	"strings"
)

// The TOML library reports positions for syntax errors only. To point
// semantic errors (an unknown map, a bad address, an unknown key) at the
// line that causes them, a locator scans the raw text once more and records
// where every key is written. It runs only on text the TOML parser has
// accepted, so it can be forgiving; it must merely never loop or panic.

// keyPath components: table and key names, and array elements as idx(n).
func idx(n int) string { return "\x00" + strconv.Itoa(n) }

// maxLocateDepth bounds how deep the locator follows nested arrays and
// inline tables for line numbers.
const maxLocateDepth = 32

func joinPath(p []string) string { return strings.Join(p, "\x1f") }

// keyLoc is where one key is written.
type keyLoc struct {
	line    int // line of the key (or table header)
	strLine int // for a string value: line of its first content character
}

type locator struct {
	keys map[string]keyLoc
	// deepLine is the first line with a value nested deeper than
	// maxLocateDepth (0: none).
	deepLine int
	// strs are the multi-line strings ("""...""" and '''...'''), in file
	// order: decode keeps large ones away from the TOML decoder.
	strs []strSpan
}

// strSpan is where one multi-line string's text is: src[start:end], between
// the delimiters (a newline right after the opening one included).
type strSpan struct {
	start, end int
	q          byte // the quote: '"' or '\''
}

// line returns the line of path, or of its nearest recorded ancestor, or 0.
func (l *locator) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if k, ok := l.keys[joinPath(path[:n])]; ok {
			return k.line
		}
	}
	return 0
}

// strLine returns the line where the string value at path starts.
func (l *locator) strLine(path ...string) int {
	if k, ok := l.keys[joinPath(path)]; ok {
		if k.strLine > 0 {
			return k.strLine
		}
		return k.line
	}
	return l.line(path...)
}

type scanner struct {
	src    string
	i      int
	ln     int
	loc    *locator
	arrays map[string]int // array-of-tables path → elements seen
	cur    []string
}

func locate(src string) *locator {
	s := &scanner{src: src, ln: 1, loc: &locator{keys: map[string]keyLoc{}}, arrays: map[string]int{}}
	s.document()
	return s.loc
}

func (s *scanner) peek(off int) byte {
	if s.i+off < len(s.src) {
		return s.src[s.i+off]
	}
	return 0
}

func (s *scanner) record(path []string, line, strLine int) {
	for n := 1; n < len(path); n++ {
		k := joinPath(path[:n])
		if _, ok := s.loc.keys[k]; !ok {
			s.loc.keys[k] = keyLoc{line: line}
		}
	}
	k := joinPath(path)
	if _, ok := s.loc.keys[k]; !ok {
		s.loc.keys[k] = keyLoc{line: line, strLine: strLine}
	}
}

// skipSpace skips blanks, and also newlines and comments when nl is set.
func (s *scanner) skipSpace(nl bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '\n' && nl:
			s.ln++
			s.i++
		case c == '#' && nl:
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

func (s *scanner) skipLine() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		s.i++
	}
}

func (s *scanner) document() {
	for s.i < len(s.src) {
		s.skipSpace(true)
		if s.i >= len(s.src) {
			return
		}
		line := s.ln
		switch s.src[s.i] {
		case '[':
			array := s.peek(1) == '['
			if array {
				s.i += 2
			} else {
				s.i++
			}
			keys := s.keyPath()
			path := s.resolve(keys)
			if array {
				k := joinPath(path)
				n := s.arrays[k]
				s.arrays[k] = n + 1
				s.record(path, line, 0)
				path = append(path, idx(n))
			}
			s.record(path, line, 0)
			s.cur = path
			s.skipLine()
		default:
			start := s.i
			keys := s.keyPath()
			s.skipSpace(false)
			if s.peek(0) != '=' || len(keys) == 0 {
				if s.i == start {
					s.i++
				}
				s.skipLine()
				continue
			}
			s.i++
			path := append(append([]string(nil), s.cur...), keys...)
			s.value(path, line)
		}
	}
}

// resolve turns a header's key path into a full path, inserting the current
// element of every array of tables it passes through.
func (s *scanner) resolve(keys []string) []string {
	var out []string
	for j, k := range keys {
		out = append(out, k)
		if j < len(keys)-1 {
			if n, ok := s.arrays[joinPath(out)]; ok && n > 0 {
				out = append(out, idx(n-1))
			}
		}
	}
	return out
}

// keyPath reads a dotted key.
func (s *scanner) keyPath() []string {
	var keys []string
	for {
		s.skipSpace(false)
		k, ok := s.simpleKey()
		if !ok {
			return keys
		}
		keys = append(keys, k)
		s.skipSpace(false)
		if s.peek(0) != '.' {
			return keys
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (s *scanner) simpleKey() (string, bool) {
	switch c := s.peek(0); {
	case c == '"':
		start := s.i
		s.i++
		for s.i < len(s.src) && s.src[s.i] != '"' && s.src[s.i] != '\n' {
			if s.src[s.i] == '\\' {
				s.i++
			}
			s.i++
		}
		if s.i < len(s.src) && s.src[s.i] == '"' {
			s.i++
		}
		raw := s.src[start:min(s.i, len(s.src))]
		if u, err := strconv.Unquote(raw); err == nil {
			return u, true
		}
		return strings.Trim(raw, `"`), true
	case c == '\'':
		s.i++
		start := s.i
		for s.i < len(s.src) && s.src[s.i] != '\'' && s.src[s.i] != '\n' {
			s.i++
		}
		k := s.src[start:s.i]
		if s.i < len(s.src) && s.src[s.i] == '\'' {
			s.i++
		}
		return k, true
	case isBare(c):
		start := s.i
		for s.i < len(s.src) && isBare(s.src[s.i]) {
			s.i++
		}
		return s.src[start:s.i], true
	}
	return "", false
}

// value skips one value, recording the keys of inline tables and the
// elements of arrays.
func (s *scanner) value(path []string, line int) {
	if len(path) > maxLocateDepth {
		if s.loc.deepLine == 0 {
			s.loc.deepLine = line
		}
		// Deeper than any scenario goes, and decode refuses it: recording
		// every prefix of ever longer paths made "0=[[[[..." cubic (1,000
		// brackets took 8 s), and the TOML decoder needs seconds and a
		// gigabyte for a megabyte of them. Stop scanning here.
		s.i = len(s.src)
		return
	}
	s.skipSpace(false)
	switch {
	case strings.HasPrefix(s.src[s.i:], `"""`), strings.HasPrefix(s.src[s.i:], `'''`):
		q := s.src[s.i]
		s.i += 3
		// A newline right after the opening delimiter is trimmed.
		strLine := s.ln
		if s.peek(0) == '\n' || s.peek(0) == '\r' && s.peek(1) == '\n' {
			strLine++
		}
		s.record(path, line, strLine)
		start := s.i
		// Only the quote and, in a basic string, the backslash matter
		// here: jump to the next of them (a program's asm is megabytes
		// of text with neither), counting the newlines passed.
		bs := -1 // the next backslash at or after s.i, len(s.src) if none
		for s.i < len(s.src) {
			next := len(s.src)
			if j := strings.IndexByte(s.src[s.i:], q); j >= 0 {
				next = s.i + j
			}
			if q == '"' {
				if bs < s.i {
					bs = len(s.src)
					if j := strings.IndexByte(s.src[s.i:], '\\'); j >= 0 {
						bs = s.i + j
					}
				}
				next = min(next, bs)
			}
			s.ln += strings.Count(s.src[s.i:next], "\n")
			s.i = next
			if s.i == len(s.src) {
				break
			}
			c := s.src[s.i]
			if c == '\\' {
				s.i++
				if s.peek(0) == '\n' {
					s.ln++
				}
				s.i++
				continue
			}
			if c == q && s.peek(1) == q && s.peek(2) == q {
				s.loc.strs = append(s.loc.strs, strSpan{start, s.i, q})
				s.i += 3
				for k := 0; k < 2 && s.peek(0) == q; k++ {
					s.i++
				}
				return
			}
			s.i++
		}
	case s.peek(0) == '"' || s.peek(0) == '\'':
		s.record(path, line, s.ln)
		s.simpleKey()
	case s.peek(0) == '{':
		s.record(path, line, 0)
		s.i++
		for s.i < len(s.src) {
			s.skipSpace(true)
			switch s.peek(0) {
			case '}':
				s.i++
				return
			case ',':
				s.i++
				continue
			}
			kl := s.ln
			start := s.i
			keys := s.keyPath()
			s.skipSpace(false)
			if s.peek(0) != '=' || len(keys) == 0 {
				if s.i == start {
					s.i++
				}
				continue
			}
			s.i++
			sub := append(append([]string(nil), path...), keys...)
			s.record(sub, kl, 0)
			s.value(sub, kl)
		}
	case s.peek(0) == '[':
		s.record(path, line, 0)
		s.i++
		n := 0
		for s.i < len(s.src) {
			s.skipSpace(true)
			switch s.peek(0) {
			case ']':
				s.i++
				return
			case ',':
				s.i++
				n++
				continue
			case 0:
				return
			}
			el := append(append([]string(nil), path...), idx(n))
			s.record(el, s.ln, 0)
			start := s.i
			s.value(el, s.ln)
			if s.i == start {
				s.i++
			}
		}
	default:
		s.record(path, line, 0)
		for s.i < len(s.src) && !strings.ContainsRune(",]}\n#", rune(s.src[s.i])) {
			s.i++
		}
	}
}
