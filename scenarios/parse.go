// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/bpfasm"
	"github.com/jitscope/jitscope/kernel"
)

// Parse reads a scenario file (see the package documentation for the
// format). file names the input in error messages. Every error is an *Error
// (or, for assembly, a *bpfasm.Error) and prints as one line
// "file:line: reason".
func Parse(file string, data []byte) (*kernel.Set, error) {
	sc, err := ParseScenario(file, data)
	if err != nil {
		return nil, err
	}
	return sc.Set, nil
}

// ParseScenario reads a scenario file like Parse and also returns what only
// a scenario carries: its packets, its tour and what the compatibility
// model needs to know about its programs (see Scenario).
func ParseScenario(file string, data []byte) (*Scenario, error) {
	raw, p, err := decode(file, data)
	if err != nil {
		return nil, err
	}
	p.sc = &Scenario{Progs: map[string]*ProgInfo{}}
	s, err := p.set(raw)
	if err != nil {
		return nil, err
	}
	p.sc.Set = s
	return p.sc, nil
}

// decode checks and decodes TOML text and prepares a parser for it.
func decode(file string, data []byte) (map[string]any, *parser, error) {
	if !utf8.Valid(data) {
		return nil, nil, notUTF8(file, data)
	}
	src := string(data)
	loc := locate(src)
	if loc.deepLine > 0 {
		// No scenario nests so deep; the TOML decoder would take seconds
		// and a gigabyte over a megabyte of "[[[[...".
		return nil, nil, &Error{File: file, Line: loc.deepLine, Msg: fmt.Sprintf("arrays or inline tables nested more than %d deep", maxLocateDepth)}
	}
	if raw, ok := decodeShort(src, loc); ok {
		return raw, &parser{file: file, src: src, loc: loc}, nil
	}
	var raw map[string]any
	if _, err := toml.Decode(src, &raw); err != nil {
		return nil, nil, tomlError(file, data, err)
	}
	return raw, &parser{file: file, src: src, loc: loc}, nil
}

// shortMin is the size from which decodeShort keeps a multi-line string
// away from the TOML decoder (the tests set it to 0).
var shortMin = 4096

// blockMark starts the text that stands for a string decodeShort set aside.
const blockMark = "jitscope-scn-block-"

// decodeShort decodes src as toml.Decode would, faster when src has large
// multi-line strings (a program's asm: 15 MB for a million instructions,
// which the TOML lexer reads rune by rune). Each such string whose text
// TOML takes as it is (no backslash in a """ string, no control character
// but tab and newline) is replaced in the text given to the decoder by a
// mark, and the mark's value in the result by the text. ok is false when nothing was set aside or when the decoder did not
// give back each mark exactly once as a whole string value, as it then may
// not have read it as the string loc found (loc is the locator's reading);
// the caller then decodes src itself, so that results and error messages
// are those of the TOML decoder on the whole text. src must be UTF-8.
//
// When each mark comes back once, unchanged, the decoder read a string
// from the opening delimiter loc found (the mark is written right after it
// and nowhere else) to the closing one (the value ends where the mark
// ends): everything before the string is the same in both texts, so the
// decoder reads the original string there too, and its value is the text
// (minus a newline after the opening delimiter, which TOML trims);
// everything after it is the same again. Only the lines differ (the text's
// newlines are not in the copy), and nothing of the copy's decoding but
// the values is kept: any error comes from decoding src itself.
func decodeShort(src string, loc *locator) (map[string]any, bool) {
	if strings.Contains(src, blockMark) {
		return nil, false
	}
	var b strings.Builder
	var texts []string // by mark number
	last := 0
	for _, sp := range loc.strs {
		body := src[sp.start:sp.end]
		if len(body) < shortMin || !plainString(body, sp.q) || sp.end+3 < len(src) && src[sp.end+3] == sp.q {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(src) / 8)
		}
		lead := ""
		if strings.HasPrefix(body, "\n") {
			lead = "\n"
		}
		text := body[len(lead):]
		b.WriteString(src[last:sp.start])
		b.WriteString(lead)
		b.WriteString(blockMark + strconv.Itoa(len(texts)) + "-")
		last = sp.end
		texts = append(texts, text)
	}
	if len(texts) == 0 {
		return nil, false
	}
	b.WriteString(src[last:])
	short := b.String()
	// An escape could spell a mark elsewhere.
	if strings.Contains(short, `\u`) || strings.Contains(short, `\U`) {
		return nil, false
	}
	var raw map[string]any
	if _, err := toml.Decode(short, &raw); err != nil {
		return nil, false
	}
	seen := make([]int, len(texts))
	bad := false
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			if !strings.Contains(v, blockMark) {
				return v
			}
			k, ok := markNumber(v, texts)
			if !ok {
				bad = true
				return v
			}
			seen[k]++
			return texts[k]
		case map[string]any:
			for key, e := range v {
				v[key] = walk(e)
			}
		case []map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for i, e := range v {
				v[i] = walk(e)
			}
		}
		return v
	}
	walk(raw)
	if bad || slices.ContainsFunc(seen, func(n int) bool { return n != 1 }) {
		return nil, false
	}
	return raw, true
}

// markNumber returns k when v is exactly the value of mark k.
func markNumber(v string, texts []string) (int, bool) {
	rest, ok := strings.CutPrefix(v, blockMark)
	if !ok {
		return 0, false
	}
	num, after, ok := strings.Cut(rest, "-")
	if !ok || after != "" {
		return 0, false
	}
	k, err := strconv.Atoi(num)
	if err != nil || k < 0 || k >= len(texts) || strconv.Itoa(k) != num {
		return 0, false
	}
	return k, true
}

// plainString reports whether TOML takes the text of a multi-line string
// quoted with q as it is: no escapes, no characters it refuses or changes.
func plainString(body string, q byte) bool {
	if q == '"' && strings.IndexByte(body, '\\') >= 0 {
		return false
	}
	i := 0
	for ; i+8 <= len(body); i += 8 {
		// Eight lookups and one branch: this reads megabytes.
		b := body[i : i+8]
		if notPlain[b[0]] || notPlain[b[1]] || notPlain[b[2]] || notPlain[b[3]] ||
			notPlain[b[4]] || notPlain[b[5]] || notPlain[b[6]] || notPlain[b[7]] {
			return false
		}
	}
	for ; i < len(body); i++ {
		if notPlain[body[i]] {
			return false
		}
	}
	return true
}

// notPlain marks the bytes TOML refuses in a multi-line string: control
// characters but tab and newline.
var notPlain = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t' && c != '\n'
	}
	t[0x7f] = true
	return t
}()

func notUTF8(file string, data []byte) error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("not UTF-8 text (byte 0x%02x at column %d); a scenario file is UTF-8 TOML", data[i], col)}
		}
		if r == '\n' {
			line, col = line+1, 0
		}
		i += n
		col++
	}
	return &Error{File: file, Msg: "not UTF-8 text"}
}

func tomlError(file string, data []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		line := pe.Position.Line
		// The lexer reports an unexpected end of line on the line after it;
		// the byte offset names the line the newline ends.
		if st := pe.Position.Start; st > 0 && st <= len(data) {
			line = 1 + strings.Count(string(data[:st]), "\n")
		}
		if strings.Contains(msg, "out of range") {
			msg += `; addresses above 0x7fffffffffffffff must be written as strings, e.g. "0xffffffc0090151d4"`
		}
		return &Error{File: file, Line: line, Msg: "invalid TOML: " + oneLine(msg)}
	}
	return &Error{File: file, Msg: "invalid TOML: " + oneLine(err.Error())}
}

type parser struct {
	file string
	src  string
	loc  *locator
	sc   *Scenario // what the file adds to the Set: packets, tour, program details
}

// node is one TOML table with its path, so that problems in it can be
// reported at the line of the offending key.
type node struct {
	p    *parser
	path []string
	what string // how messages name the table: "[[program]] entry"
	m    map[string]any
}

func (n node) sub(key string) []string {
	return append(append([]string(nil), n.path...), key)
}

func (n node) line(key string) int {
	if key == "" {
		return n.p.loc.line(n.path...)
	}
	return n.p.loc.line(n.sub(key)...)
}

func (p *parser) errAt(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Msg: oneLine(fmt.Sprintf(format, args...))}
}

// errf reports a problem with key (the table itself when key is "").
func (n node) errf(key, format string, args ...any) error {
	return n.p.errAt(n.line(key), format, args...)
}

// allow rejects keys other than the given ones, reporting the first in the
// file.
func (n node) allow(keys ...string) error {
	var bad []string
	for k := range n.m {
		if !slices.Contains(keys, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Slice(bad, func(i, j int) bool {
		li, lj := n.line(bad[i]), n.line(bad[j])
		if li != lj {
			return li < lj
		}
		return bad[i] < bad[j]
	})
	return n.errf(bad[0], "unknown key %q in %s (known keys: %s)", bad[0], n.what, strings.Join(keys, ", "))
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("a %T", v)
}

func (n node) str(key string) (string, bool, error) {
	v, ok := n.m[key]
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, n.errf(key, "%s: %s is %s, want a string", n.what, key, typeName(v))
	}
	return s, true, nil
}

func (n node) integer(key string) (int64, bool, error) {
	v, ok := n.m[key]
	if !ok {
		return 0, false, nil
	}
	i, isInt := v.(int64)
	if !isInt {
		return 0, false, n.errf(key, "%s: %s is %s, want an integer", n.what, key, typeName(v))
	}
	return i, true, nil
}

func (n node) u32(key string, def uint32) (uint32, bool, error) {
	i, ok, err := n.integer(key)
	if err != nil || !ok {
		return def, ok, err
	}
	if i < 0 || i > math.MaxUint32 {
		return 0, false, n.errf(key, "%s: %s %d out of range (0 to 4294967295)", n.what, key, i)
	}
	return uint32(i), true, nil
}

func (n node) table(key, what string) (node, bool, error) {
	v, ok := n.m[key]
	if !ok {
		return node{}, false, nil
	}
	m, isTable := v.(map[string]any)
	if !isTable {
		return node{}, false, n.errf(key, "%s: %s is %s, want a table", n.what, key, typeName(v))
	}
	return node{p: n.p, path: n.sub(key), what: what, m: m}, true, nil
}

// tables returns the elements of an array of tables ([[key]] or an inline
// array of inline tables).
func (n node) tables(key string) ([]node, error) {
	v, ok := n.m[key]
	if !ok {
		return nil, nil
	}
	var ms []map[string]any
	switch v := v.(type) {
	case []map[string]any:
		ms = v
	case []any:
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, n.p.errAt(n.p.loc.line(append(n.sub(key), idx(i))...), "%s[%d] is %s, want a table ([[%s]])", key, i, typeName(e), key)
			}
			ms = append(ms, m)
		}
	default:
		return nil, n.errf(key, "%s is %s, want tables written as [[%s]]", key, typeName(v), key)
	}
	out := make([]node, len(ms))
	for i, m := range ms {
		out[i] = node{p: n.p, path: append(n.sub(key), idx(i)), what: fmt.Sprintf("[[%s]] #%d", key, i+1), m: m}
	}
	return out, nil
}

// sortedKeys returns the keys of n in file order.
func (n node) sortedKeys() []string {
	keys := make([]string, 0, len(n.m))
	for k := range n.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := n.line(keys[i]), n.line(keys[j])
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	return keys
}

var nameRE = regexp.MustCompile(`^[A-Za-z_.][A-Za-z0-9_.]*$`)

// set builds the Set from the decoded document.
func (p *parser) set(raw map[string]any) (*kernel.Set, error) {
	top := node{p: p, what: "the top level", m: raw}
	if err := top.allow("name", "description", "entry", "program", "map", "arch", "packet", "packets", "tour"); err != nil {
		return nil, err
	}
	s := &kernel.Set{Source: p.file}
	p.sc.Set = s
	name, ok, err := top.str("name")
	if err != nil {
		return nil, err
	}
	if !ok {
		name = strings.TrimSuffix(filepath.Base(p.file), filepath.Ext(p.file))
	}
	s.Name = name
	desc, _, err := top.str("description")
	if err != nil {
		return nil, err
	}
	s.Description = strings.TrimSpace(desc)

	// Maps first: programs refer to them.
	mapNodes, err := top.tables("map")
	if err != nil {
		return nil, err
	}
	for _, mn := range mapNodes {
		m, err := p.mapSpec(mn, s)
		if err != nil {
			return nil, err
		}
		s.Maps = append(s.Maps, m)
	}
	progNodes, err := top.tables("program")
	if err != nil {
		return nil, err
	}
	if len(progNodes) == 0 {
		return nil, p.errAt(1, "no programs: a scenario needs at least one [[program]] table")
	}
	for _, pn := range progNodes {
		prog, err := p.program(pn, s)
		if err != nil {
			return nil, err
		}
		s.Programs = append(s.Programs, prog)
		p.sc.Order = append(p.sc.Order, prog.Name)
	}
	// Extension targets name programs loaded before them.
	for i, pn := range progNodes {
		if err := p.progInfo(pn, s, s.Programs[i]); err != nil {
			return nil, err
		}
	}
	// Prog array entries name programs, so check them once all are known.
	for i, mn := range mapNodes {
		if err := p.mapEntries(mn, s, s.Maps[i]); err != nil {
			return nil, err
		}
	}
	entry, ok, err := top.str("entry")
	if err != nil {
		return nil, err
	}
	if ok {
		i := slices.IndexFunc(s.Programs, func(pr *kernel.Program) bool { return pr.Name == entry })
		if i < 0 {
			return nil, top.errf("entry", "entry %q is not a program of this scenario (programs: %s)", entry, progNames(s))
		}
		// The entry program goes first: Programs[0] is what runs by default.
		pr := s.Programs[i]
		s.Programs = append(s.Programs[:i], s.Programs[i+1:]...)
		s.Programs = append([]*kernel.Program{pr}, s.Programs...)
	}
	arch, ok, err := top.table("arch", "[arch]")
	if err != nil {
		return nil, err
	}
	if ok {
		for _, a := range arch.sortedKeys() {
			if err := p.placement(arch, a, s); err != nil {
				return nil, err
			}
		}
	}
	if err := p.packets(top); err != nil {
		return nil, err
	}
	if p.sc.Tour, err = p.tour(top, s, p.sc); err != nil {
		return nil, err
	}
	return s, nil
}

func progNames(s *kernel.Set) string {
	var n []string
	for _, p := range s.Programs {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

func mapNames(s *kernel.Set) string {
	var n []string
	for _, m := range s.Maps {
		n = append(n, m.Name)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

// nameOf returns the table's name key, or "" (checked by node.name).
func nameOf(n node) string {
	v, _, _ := n.str("name")
	return v
}

// name reads and checks the name key of a program or map table; taken says
// whether the set already has one of that name.
func (n node) name(kind string, taken bool) (string, error) {
	name, ok, err := n.str("name")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", n.errf("", "%s: missing name", n.what)
	}
	if !nameRE.MatchString(name) {
		return "", n.errf("name", "bad %s name %q (letters, digits, '_' and '.')", kind, name)
	}
	if taken {
		return "", n.errf("name", "duplicate %s name %q", kind, name)
	}
	return name, nil
}

func (p *parser) mapSpec(n node, s *kernel.Set) (*kernel.Map, error) {
	if err := n.allow("name", "type", "key_size", "value_size", "max_entries", "entries", "data"); err != nil {
		return nil, err
	}
	name, err := n.name("map", s.Map(nameOf(n)) != nil)
	if err != nil {
		return nil, err
	}
	n.what = fmt.Sprintf("map %s", name)
	m := &kernel.Map{Name: name}
	typ, ok, err := n.str("type")
	if err != nil {
		return nil, err
	}
	switch {
	case !ok && isSectionMap(name):
		typ = "array"
	case !ok:
		return nil, n.errf("", "%s: missing type (one of %s)", n.what, strings.Join(sortedNames(mapTypes), ", "))
	case !knownName(mapTypes, typ):
		return nil, n.errf("type", "%s: unknown map type %q (one of %s)", n.what, typ, strings.Join(sortedNames(mapTypes), ", "))
	}
	m.Type = typ
	arrayLike := typ == "array" || typ == "prog_array" || typ == "percpu_array"

	var def uint32
	if arrayLike {
		def = 4
	}
	if m.KeySize, ok, err = n.u32("key_size", def); err != nil {
		return nil, err
	} else if !ok && !arrayLike {
		return nil, n.errf("", "%s: missing key_size", n.what)
	}
	if arrayLike && m.KeySize != 4 {
		return nil, n.errf("key_size", "%s: key_size of an array map must be 4, not %d", n.what, m.KeySize)
	}
	def = 0
	if typ == "prog_array" {
		def = 4
	}
	var data []byte
	if v, has := n.m["data"]; has {
		if typ != "array" && typ != "percpu_array" {
			return nil, n.errf("data", "%s: data is only for array maps (this one is %s)", n.what, typ)
		}
		if data, err = p.bytes(n, "data", v); err != nil {
			return nil, err
		}
	}
	if isSectionMap(name) {
		def = uint32(len(data))
	}
	valueSet := false
	if m.ValueSize, valueSet, err = n.u32("value_size", def); err != nil {
		return nil, err
	}
	if !valueSet && def == 0 {
		return nil, n.errf("", "%s: missing value_size", n.what)
	}
	if typ == "prog_array" && m.ValueSize != 4 {
		return nil, n.errf("value_size", "%s: value_size of a prog_array must be 4, not %d", n.what, m.ValueSize)
	}
	def = 0
	if isSectionMap(name) {
		def = 1
	}
	if m.MaxEntries, ok, err = n.u32("max_entries", def); err != nil {
		return nil, err
	} else if m.MaxEntries == 0 && !ok {
		return nil, n.errf("", "%s: missing max_entries", n.what)
	}
	if isSectionMap(name) && m.MaxEntries != 1 {
		return nil, n.errf("max_entries", "%s: a global data section has max_entries 1, not %d", n.what, m.MaxEntries)
	}
	if data != nil || isSectionMap(name) {
		size := uint64(m.ValueSize) * uint64(m.MaxEntries)
		if uint64(len(data)) > size {
			return nil, n.errf("data", "%s: data has %d bytes, more than value_size*max_entries = %d", n.what, len(data), size)
		}
		if size > 1<<24 {
			return nil, n.errf("data", "%s: initial data for %d bytes of values is too large", n.what, size)
		}
		m.Data = make([]byte, size)
		copy(m.Data, data)
	}
	if _, has := n.m["entries"]; has && typ != "prog_array" {
		return nil, n.errf("entries", "%s: entries are only for prog_array maps (use data for arrays)", n.what)
	}
	return m, nil
}

// bytes decodes a map's data: a hex string ("01 00 00 00", "0x01000000") or
// an array of byte values.
func (p *parser) bytes(n node, key string, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		h := strings.Join(strings.Fields(v), "")
		h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
		if len(h)%2 != 0 {
			return nil, n.errf(key, "%s: %s: odd number of hex digits", n.what, key)
		}
		out := make([]byte, len(h)/2)
		for i := range out {
			b, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
			if err != nil {
				return nil, n.errf(key, "%s: %s: %q is not a hex byte", n.what, key, h[2*i:2*i+2])
			}
			out[i] = byte(b)
		}
		return out, nil
	case []any:
		out := make([]byte, len(v))
		for i, e := range v {
			b, ok := e.(int64)
			if !ok || b < 0 || b > 255 {
				return nil, p.errAt(p.loc.line(append(n.sub(key), idx(i))...), "%s: %s[%d] = %v is not a byte value (0 to 255)", n.what, key, i, e)
			}
			out[i] = byte(b)
		}
		return out, nil
	}
	return nil, n.errf(key, "%s: %s is %s, want a hex string or an array of bytes", n.what, key, typeName(v))
}

func (p *parser) mapEntries(n node, s *kernel.Set, m *kernel.Map) error {
	if _, ok := n.m["entries"]; !ok {
		return nil
	}
	t, _, err := n.table("entries", fmt.Sprintf("map %s entries", m.Name))
	if err != nil {
		return err
	}
	m.Progs = map[uint32]string{}
	for _, k := range t.sortedKeys() {
		key, err := strconv.ParseUint(k, 10, 32)
		if err != nil {
			return t.errf(k, "%s: key %q is not a decimal index", t.what, k)
		}
		if key >= uint64(m.MaxEntries) {
			return t.errf(k, "%s: index %d out of range (max_entries %d)", t.what, key, m.MaxEntries)
		}
		prog, _, err := t.str(k)
		if err != nil {
			return err
		}
		if s.Program(prog) == nil {
			return t.errf(k, "%s: [%d] = %q is not a program of this scenario (programs: %s)", t.what, key, prog, progNames(s))
		}
		m.Progs[uint32(key)] = prog
	}
	return nil
}

func (p *parser) program(n node, s *kernel.Set) (*kernel.Program, error) {
	if err := n.allow("name", "type", "prototypes", "stack_depth", "asm",
		"target", "attach", "jited", "xdp_frags", "dev_bound", "expected_attach_type"); err != nil {
		return nil, err
	}
	name, err := n.name("program", s.Program(nameOf(n)) != nil)
	if err != nil {
		return nil, err
	}
	n.what = "program " + name
	prog := &kernel.Program{Name: name}
	typ, ok, err := n.str("type")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, n.errf("", "%s: missing type (e.g. sched_cls, xdp)", n.what)
	}
	if !knownName(progTypes, typ) {
		return nil, n.errf("type", "%s: unknown program type %q (one of %s)", n.what, typ, strings.Join(sortedNames(progTypes), ", "))
	}
	prog.Type = typ
	text, ok, err := n.str("asm")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, n.errf("", "%s: missing asm", n.what)
	}
	first := p.loc.strLine(n.sub("asm")...)
	insns, err := bpfasm.Parse(p.file, first, text)
	if err != nil {
		var ae *bpfasm.Error
		if errors.As(err, &ae) {
			return nil, &Error{File: p.file, Line: ae.Line, Msg: oneLine(n.what + ": " + ae.Msg)}
		}
		return nil, n.errf("asm", "%s: %s", n.what, err)
	}
	if len(insns) == 0 {
		return nil, n.errf("asm", "%s: asm has no instructions", n.what)
	}
	// asmLine finds the file line where word first appears in the assembly.
	asmLine := func(word string) int {
		for i, l := range strings.Split(text, "\n") {
			if containsWord(l, word) {
				return first + i
			}
		}
		return n.line("asm")
	}
	if sym := insns[0].Symbol(); sym != "" && sym != name {
		return nil, p.errAt(asmLine(sym), "%s: the first label %q must be the program's name (or be left out)", n.what, sym)
	}
	insns[0] = insns[0].WithSymbol(name)
	syms, err := insns.SymbolOffsets()
	if err != nil {
		return nil, n.errf("asm", "%s: %s", n.what, err)
	}
	starts := map[int]bool{0: true}
	for i, ins := range insns {
		ref := ins.Reference()
		switch {
		case ins.OpCode.IsDWordLoad() && (ins.Src == asm.PseudoMapFD || ins.Src == asm.PseudoMapValue):
			if ref == "" || strings.HasPrefix(ref, "id:") {
				return nil, n.errf("asm", "%s: instruction %d loads a map by number; a scenario names its maps: map[NAME]", n.what, i)
			}
			m := s.Map(ref)
			if m == nil {
				return nil, p.errAt(asmLine(ref), "%s: unknown map %q (maps: %s)", n.what, ref, mapNames(s))
			}
			if ins.Src == asm.PseudoMapValue {
				if m.Type != "array" {
					return nil, p.errAt(asmLine(ref), "%s: direct value access needs an array map; %s is a %s", n.what, ref, m.Type)
				}
				if off := uint32(uint64(ins.Constant) >> 32); off >= m.ValueSize {
					return nil, p.errAt(asmLine(ref), "%s: offset %d is outside the %d-byte value of map %s", n.what, off, m.ValueSize, ref)
				}
			}
		case ins.IsFunctionReference():
			if ref == "" {
				// A numeric call: pc-relative, in 8-byte slots.
				t, ok := slotTarget(insns, i)
				if !ok {
					return nil, n.errf("asm", "%s: instruction %d calls a slot that is not an instruction", n.what, i)
				}
				starts[t] = true
				continue
			}
			t, ok := syms[ref]
			if !ok {
				if _, isMap := mapByName(s, ref); isMap {
					return nil, p.errAt(asmLine(ref), "%s: %q is a map, not a function", n.what, ref)
				}
				return nil, p.errAt(asmLine(ref), "%s: call to unknown function %q (no such label in this program)", n.what, ref)
			}
			starts[t] = true
		case ref != "" && ins.OpCode.Class().IsJump() && ins.OpCode.JumpOp() != asm.Call:
			if _, ok := syms[ref]; !ok {
				return nil, p.errAt(asmLine(ref), "%s: jump to unknown label %q", n.what, ref)
			}
		}
	}
	var idxs []int
	for i := range starts {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	for k, i := range idxs {
		fname := insns[i].Symbol()
		if fname == "" {
			fname = fmt.Sprintf("%s_func%d", name, k)
			insns[i] = insns[i].WithSymbol(fname)
		}
		prog.Funcs = append(prog.Funcs, kernel.Func{Name: fname, Start: i, StackDepth: -1})
	}
	prog.Insns = insns

	funcIndex := func(t node, key string) (int, error) {
		i := slices.IndexFunc(prog.Funcs, func(f kernel.Func) bool { return f.Name == key })
		if i < 0 {
			var names []string
			for _, f := range prog.Funcs {
				names = append(names, f.Name)
			}
			return 0, t.errf(key, "%s: %q is not a function of program %s (functions: %s)", t.what, key, name, strings.Join(names, ", "))
		}
		return i, nil
	}
	if t, ok, err := n.table("prototypes", n.what+" prototypes"); err != nil {
		return nil, err
	} else if ok {
		for _, k := range t.sortedKeys() {
			fi, err := funcIndex(t, k)
			if err != nil {
				return nil, err
			}
			proto, _, err := t.str(k)
			if err != nil {
				return nil, err
			}
			proto = strings.TrimSpace(proto)
			if !declares(proto, k) {
				return nil, t.errf(k, "%s: %q does not declare %s (want e.g. \"int %s(struct __sk_buff *skb)\")", t.what, proto, k, k)
			}
			prog.Funcs[fi].Prototype = proto
		}
	}
	if t, ok, err := n.table("stack_depth", n.what+" stack_depth"); err != nil {
		return nil, err
	} else if ok {
		for _, k := range t.sortedKeys() {
			fi, err := funcIndex(t, k)
			if err != nil {
				return nil, err
			}
			d, _, err := t.integer(k)
			if err != nil {
				return nil, err
			}
			// MAX_BPF_STACK (include/linux/filter.h).
			if d < 0 || d > 512 {
				return nil, t.errf(k, "%s: stack depth %d of %s out of range (0 to 512)", t.what, d, k)
			}
			prog.Funcs[fi].StackDepth = int(d)
		}
	}
	return prog, nil
}

func mapByName(s *kernel.Set, name string) (*kernel.Map, bool) {
	m := s.Map(name)
	return m, m != nil
}

// slotTarget resolves the pc-relative target of instruction i to an index.
func slotTarget(insns asm.Instructions, i int) (int, bool) {
	slot := 0
	for j := 0; j < i; j++ {
		slot += int(insns[j].Size() / asm.InstructionSize)
	}
	target := slot + 1 + int(int32(insns[i].Constant))
	s := 0
	for j, ins := range insns {
		if s == target {
			return j, true
		}
		s += int(ins.Size() / asm.InstructionSize)
	}
	return 0, false
}

func isWordChar(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// containsWord reports whether w occurs in s delimited by non-name bytes.
func containsWord(s, w string) bool {
	if w == "" {
		return false
	}
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(w)
		if (i == 0 || !isWordChar(s[i-1])) && (end == len(s) || !isWordChar(s[end])) {
			return true
		}
		off = i + 1
	}
}

// declares reports whether a C prototype declares function name:
// "int name(...)".
func declares(proto, name string) bool {
	i := strings.Index(proto, "(")
	if i < 0 || !strings.HasSuffix(proto, ")") {
		return false
	}
	head := strings.TrimRight(proto[:i], " \t")
	return strings.HasSuffix(head, name) && len(head) > len(name) &&
		!isWordChar(head[len(head)-len(name)-1])
}

// placement reads [arch.NAME].
func (p *parser) placement(arch node, key string, s *kernel.Set) error {
	a, err := kernel.ParseArch(key)
	if err != nil {
		return arch.errf(key, "[arch.%s]: %s", key, err)
	}
	if _, dup := s.Placements[a]; dup {
		return arch.errf(key, "[arch.%s]: a second placement for %s", key, a)
	}
	n, _, err := arch.table(key, "[arch."+key+"]")
	if err != nil {
		return err
	}
	if err := n.allow("kernel", "profile", "funcs", "maps", "values", "symbols", "layout", "config"); err != nil {
		return err
	}
	pl := s.Placement(a)
	if pl.Kernel, _, err = n.str("kernel"); err != nil {
		return err
	}
	// The profile name is checked where the profiles live (jit.LookupProfile).
	if pl.Profile, _, err = n.str("profile"); err != nil {
		return err
	}
	addrs := func(sub string, check func(t node, k string) error) (map[string]uint64, error) {
		t, ok, err := n.table(sub, n.what[:len(n.what)-1]+"."+sub+"]")
		if err != nil || !ok {
			return nil, err
		}
		out := map[string]uint64{}
		for _, k := range t.sortedKeys() {
			if check != nil {
				if err := check(t, k); err != nil {
					return nil, err
				}
			}
			v, err := p.address(t, k)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	if pl.Funcs, err = addrs("funcs", func(t node, k string) error { return checkFunc(t, k, s) }); err != nil {
		return err
	}
	if pl.Maps, err = addrs("maps", func(t node, k string) error {
		if s.Map(k) == nil {
			return t.errf(k, "%s: unknown map %q (maps: %s)", t.what, k, mapNames(s))
		}
		return nil
	}); err != nil {
		return err
	}
	if pl.Values, err = addrs("values", func(t node, k string) error {
		m := s.Map(k)
		if m == nil {
			return t.errf(k, "%s: unknown map %q (maps: %s)", t.what, k, mapNames(s))
		}
		if m.Type != "array" {
			return t.errf(k, "%s: map %s is a %s; only array maps have a value address", t.what, k, m.Type)
		}
		return nil
	}); err != nil {
		return err
	}
	if pl.Symbols, err = addrs("symbols", nil); err != nil {
		return err
	}
	if t, ok, err := n.table("layout", n.what[:len(n.what)-1]+".layout]"); err != nil {
		return err
	} else if ok {
		pl.Layout = map[string]int{}
		for _, k := range t.sortedKeys() {
			if !slices.Contains(LayoutKeys, k) {
				return t.errf(k, "%s: unknown struct offset %q (known: %s)", t.what, k, strings.Join(LayoutKeys, ", "))
			}
			v, err := p.address(t, k)
			if err != nil {
				return err
			}
			if v > 1<<20 {
				return t.errf(k, "%s: offset %#x of %s is implausibly large", t.what, v, k)
			}
			pl.Layout[k] = int(v)
		}
	}
	if t, ok, err := n.table("config", n.what[:len(n.what)-1]+".config]"); err != nil {
		return err
	} else if ok {
		pl.Config = map[string]string{}
		for _, k := range t.sortedKeys() {
			if !strings.HasPrefix(k, "CONFIG_") && !strings.HasPrefix(k, "cpu:") {
				return t.errf(k, "%s: %q is neither a CONFIG_ option nor a \"cpu:\" feature", t.what, k)
			}
			switch v := t.m[k].(type) {
			case bool:
				pl.Config[k] = map[bool]string{true: "y", false: "n"}[v]
			case string:
				if v != "y" && v != "n" {
					return t.errf(k, "%s: %s = %q, want \"y\" or \"n\"", t.what, k, v)
				}
				pl.Config[k] = v
			default:
				return t.errf(k, "%s: %s is %s, want \"y\" or \"n\"", t.what, k, typeName(v))
			}
		}
	}
	return nil
}

// checkFunc accepts "function" (unique among all programs) or
// "program/function".
func checkFunc(t node, k string, s *kernel.Set) error {
	if msg := funcProblem(k, s); msg != "" {
		return t.errf(k, "%s: %s", t.what, msg)
	}
	return nil
}

// funcProblem says what is wrong with a function reference k, or "".
func funcProblem(k string, s *kernel.Set) string {
	if pn, fn, ok := strings.Cut(k, "/"); ok {
		pr := s.Program(pn)
		if pr == nil {
			return fmt.Sprintf("%q: no program %q (programs: %s)", k, pn, progNames(s))
		}
		if !slices.ContainsFunc(pr.Funcs, func(f kernel.Func) bool { return f.Name == fn }) {
			return fmt.Sprintf("%q: program %s has no function %q", k, pn, fn)
		}
		return ""
	}
	var in []string
	for _, pr := range s.Programs {
		if slices.ContainsFunc(pr.Funcs, func(f kernel.Func) bool { return f.Name == k }) {
			in = append(in, pr.Name)
		}
	}
	switch len(in) {
	case 0:
		return fmt.Sprintf("no function %q in any program", k)
	case 1:
		return ""
	}
	return fmt.Sprintf("function %q is in programs %s; write \"PROGRAM/%s\"", k, strings.Join(in, " and "), k)
}

// address reads an address: a non-negative TOML integer, or a string such
// as "0xffffffc0090151d4" for values above the int64 range.
func (p *parser) address(t node, k string) (uint64, error) {
	switch v := t.m[k].(type) {
	case int64:
		if v < 0 {
			return 0, t.errf(k, "%s: %s = %d is negative; write addresses above 0x7fffffffffffffff as strings, e.g. \"0xffffffc0090151d4\"", t.what, k, v)
		}
		return uint64(v), nil
	case string:
		u, err := strconv.ParseUint(strings.TrimSpace(v), 0, 64)
		if err != nil {
			return 0, t.errf(k, "%s: %s = %q is not a number (want e.g. \"0xffffffc0090151d4\")", t.what, k, v)
		}
		return u, nil
	default:
		return 0, t.errf(k, "%s: %s is %s, want an integer or a string such as \"0xffffffc0090151d4\"", t.what, k, typeName(v))
	}
}
