// SPDX-License-Identifier: GPL-2.0-only

package abi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParseError is a syntax or type error in a prototype, with its column.
type ParseError struct {
	Col int // 1-based
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("prototype:%d: %s", e.Col, e.Msg) }

// ParsePrototype reads a C function prototype, optionally preceded by
// struct and union definitions ("struct s { u64 a, b; }; int f(struct s x)"):
// integer types under their C, kernel (u32, __s64) and stdint names,
// __int128, pointers, structs and unions by value (inline definitions too),
// arrays inside structs, enums, and the packed and aligned(N) attributes in
// GCC spelling or the kernel's __packed / __aligned(N).
func ParsePrototype(src string) (*Func, error) {
	p := &parser{src: src, structs: map[string]*Type{}}
	p.next()
	for {
		// Leading definitions: "struct NAME { ... } [attrs] ;"
		if p.tok != "struct" && p.tok != "union" {
			break
		}
		save := *p
		if _, err := p.parseType(); err == nil && p.tok == ";" {
			p.next()
			continue
		}
		*p = save
		break
	}
	ret, err := p.parseType()
	if err != nil {
		return nil, err
	}
	ret, err = p.parsePointers(ret)
	if err != nil {
		return nil, err
	}
	if p.kind != tokIdent {
		return nil, p.errorf("expected the function name, found %s", p.describe())
	}
	f := &Func{Name: p.tok, Ret: ret, Source: "prototype"}
	p.next()
	if err := p.expect("("); err != nil {
		return nil, err
	}
	if p.tok == "void" && p.peek() == ")" {
		p.next()
	}
	for p.tok != ")" {
		if p.kind == tokEOF {
			return nil, p.errorf("unterminated argument list")
		}
		t, err := p.parseType()
		if err != nil {
			return nil, err
		}
		t, err = p.parsePointers(t)
		if err != nil {
			return nil, err
		}
		a := Arg{Type: t}
		if p.kind == tokIdent {
			a.Name = p.tok
			p.next()
		}
		if p.tok == "[" {
			// An array parameter is a pointer.
			for p.tok != "]" && p.kind != tokEOF {
				p.next()
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			a.Type = pointerTo(a.Type)
		}
		if t.Kind == Void {
			return nil, p.errorf("argument %d has type void", len(f.Args)+1)
		}
		f.Args = append(f.Args, a)
		if p.tok == "," {
			p.next()
			if p.tok == "..." {
				return nil, p.errorf("variadic functions cannot be traced by a BPF trampoline")
			}
			continue
		}
		if p.tok != ")" {
			return nil, p.errorf("expected ',' or ')' after argument %d, found %s", len(f.Args), p.describe())
		}
	}
	p.next()
	if p.tok == ";" {
		p.next()
	}
	if p.kind != tokEOF {
		return nil, p.errorf("unexpected %s after the prototype", p.describe())
	}
	return f, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokNum
	tokPunct
)

type parser struct {
	src     string
	pos     int // next read position
	tok     string
	kind    tokKind
	col     int // column of tok (1-based)
	structs map[string]*Type
}

func (p *parser) errorf(format string, args ...any) error {
	return &ParseError{Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe() string {
	if p.kind == tokEOF {
		return "end of input"
	}
	return strconv.Quote(p.tok)
}

func (p *parser) next() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
	p.col = p.pos + 1
	if p.pos >= len(p.src) {
		p.tok, p.kind = "", tokEOF
		return
	}
	c := p.src[p.pos]
	start := p.pos
	switch {
	case c == '_' || unicode.IsLetter(rune(c)):
		for p.pos < len(p.src) && (p.src[p.pos] == '_' || unicode.IsLetter(rune(p.src[p.pos])) || unicode.IsDigit(rune(p.src[p.pos]))) {
			p.pos++
		}
		p.kind = tokIdent
	case unicode.IsDigit(rune(c)):
		for p.pos < len(p.src) && (unicode.IsDigit(rune(p.src[p.pos])) || unicode.IsLetter(rune(p.src[p.pos]))) {
			p.pos++
		}
		p.kind = tokNum
	case strings.HasPrefix(p.src[p.pos:], "..."):
		p.pos += 3
		p.kind = tokPunct
	default:
		p.pos++
		p.kind = tokPunct
	}
	p.tok = p.src[start:p.pos]
}

// peek returns the token after the current one.
func (p *parser) peek() string {
	q := *p
	q.next()
	return q.tok
}

func (p *parser) expect(tok string) error {
	if p.tok != tok {
		return p.errorf("expected %q, found %s", tok, p.describe())
	}
	p.next()
	return nil
}

// attrs are the attributes met around a type or member.
type attrs struct {
	packed bool
	align  int
}

// parseAttrs reads any number of __attribute__((...)), __packed, __aligned(N).
func (p *parser) parseAttrs(a *attrs) error {
	for {
		switch p.tok {
		case "__packed":
			a.packed = true
			p.next()
		case "__aligned":
			p.next()
			if err := p.expect("("); err != nil {
				return err
			}
			n, err := p.number()
			if err != nil {
				return err
			}
			if err := setAlign(p, a, n); err != nil {
				return err
			}
			if err := p.expect(")"); err != nil {
				return err
			}
		case "__attribute__", "__attribute":
			p.next()
			if err := p.expect("("); err != nil {
				return err
			}
			if err := p.expect("("); err != nil {
				return err
			}
			for p.tok != ")" {
				name := strings.Trim(p.tok, "_")
				if p.kind != tokIdent {
					return p.errorf("expected an attribute name, found %s", p.describe())
				}
				p.next()
				switch name {
				case "packed":
					a.packed = true
				case "aligned":
					n := 16 // aligned without a number: the target's largest alignment
					if p.tok == "(" {
						p.next()
						v, err := p.number()
						if err != nil {
							return err
						}
						n = v
						if err := p.expect(")"); err != nil {
							return err
						}
					}
					if err := setAlign(p, a, n); err != nil {
						return err
					}
				default:
					return p.errorf("attribute %q is not understood (packed and aligned are)", name)
				}
				if p.tok == "," {
					p.next()
				}
			}
			p.next()
			if err := p.expect(")"); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func setAlign(p *parser, a *attrs, n int) error {
	if n <= 0 || n&(n-1) != 0 {
		return p.errorf("aligned(%d): not a power of two", n)
	}
	if n > a.align {
		a.align = n
	}
	return nil
}

func (p *parser) number() (int, error) {
	if p.kind != tokNum {
		return 0, p.errorf("expected a number, found %s", p.describe())
	}
	s := strings.TrimRight(strings.ToLower(p.tok), "ul")
	v, err := strconv.ParseInt(s, 0, 32)
	if err != nil {
		return 0, p.errorf("bad number %q", p.tok)
	}
	p.next()
	return int(v), nil
}

// named integer types: size and signedness.
var namedInts = map[string]struct {
	size   int
	signed bool
}{
	"u8": {1, false}, "u16": {2, false}, "u32": {4, false}, "u64": {8, false},
	"s8": {1, true}, "s16": {2, true}, "s32": {4, true}, "s64": {8, true},
	"__u8": {1, false}, "__u16": {2, false}, "__u32": {4, false}, "__u64": {8, false},
	"__s8": {1, true}, "__s16": {2, true}, "__s32": {4, true}, "__s64": {8, true},
	"uint8_t": {1, false}, "uint16_t": {2, false}, "uint32_t": {4, false}, "uint64_t": {8, false},
	"int8_t": {1, true}, "int16_t": {2, true}, "int32_t": {4, true}, "int64_t": {8, true},
	"size_t": {8, false}, "ssize_t": {8, true}, "uintptr_t": {8, false}, "intptr_t": {8, true},
	"ptrdiff_t": {8, true}, "loff_t": {8, true}, "off_t": {8, true}, "pid_t": {4, true},
	"__be16": {2, false}, "__be32": {4, false}, "__be64": {8, false},
	"__le16": {2, false}, "__le32": {4, false}, "__le64": {8, false},
	"gfp_t": {4, false}, "bool": {1, false}, "_Bool": {1, false},
	"__int128_t": {16, true}, "__uint128_t": {16, false}, "s128": {16, true}, "u128": {16, false},
}

var qualifiers = map[string]bool{"const": true, "volatile": true, "restrict": true, "__restrict": true, "register": true}

// parseType reads a type specifier (no pointers).
func (p *parser) parseType() (*Type, error) {
	var a attrs
	if err := p.parseAttrs(&a); err != nil {
		return nil, err
	}
	for qualifiers[p.tok] {
		p.next()
	}
	start := p.col
	var t *Type
	switch p.tok {
	case "struct", "union":
		st, err := p.parseStruct()
		if err != nil {
			return nil, err
		}
		t = st
	case "enum":
		p.next()
		if p.kind != tokIdent {
			return nil, p.errorf("expected an enum name, found %s", p.describe())
		}
		t = &Type{Name: "enum " + p.tok, Kind: Int, Size: 4, Align: 4}
		p.next()
	case "void":
		p.next()
		t = &Type{Name: "void", Kind: Void}
	case "float", "double":
		size := 4
		if p.tok == "double" {
			size = 8
		}
		t = &Type{Name: p.tok, Kind: Float, Size: size, Align: size}
		p.next()
	default:
		if p.kind != tokIdent {
			return nil, p.errorf("expected a type, found %s", p.describe())
		}
		bt, err := p.parseBaseInt()
		if err != nil {
			return nil, err
		}
		t = bt
	}
	for qualifiers[p.tok] {
		p.next()
	}
	if err := p.parseAttrs(&a); err != nil {
		return nil, err
	}
	if a.packed || a.align != 0 {
		if t.Kind != Struct {
			if a.packed {
				return nil, &ParseError{Col: start, Msg: "packed applies to a struct or union"}
			}
			c := *t
			if a.align > c.Align {
				c.Align = a.align
			}
			c.Name = fmt.Sprintf("%s __aligned(%d)", c.Name, c.Align)
			t = &c
		}
	}
	return t, nil
}

// parseBaseInt reads the C integer specifiers ("unsigned long long",
// "__int128", "short int") or one of the named integer types.
func (p *parser) parseBaseInt() (*Type, error) {
	if n, ok := namedInts[p.tok]; ok {
		name := p.tok
		p.next()
		k := Int
		if n.size == 16 {
			k = Int128
		}
		return &Type{Name: name, Kind: k, Size: n.size, Align: n.size, Signed: n.signed}, nil
	}
	var words []string
	signed, unsigned, long, short, char, int128 := false, false, 0, false, false, false
	for p.kind == tokIdent {
		switch p.tok {
		case "signed", "__signed__":
			signed = true
		case "unsigned":
			unsigned = true
		case "long":
			long++
		case "short":
			short = true
		case "char":
			char = true
		case "int":
		case "__int128":
			int128 = true
		default:
			if qualifiers[p.tok] {
				p.next()
				continue
			}
			goto done
		}
		words = append(words, p.tok)
		p.next()
	}
done:
	if len(words) == 0 {
		return nil, p.errorf("unknown type %s", p.describe())
	}
	name := strings.Join(words, " ")
	mk := func(size int) *Type {
		return &Type{Name: name, Kind: Int, Size: size, Align: size, Signed: !unsigned}
	}
	switch {
	case signed && unsigned:
		return nil, p.errorf("%q is both signed and unsigned", name)
	case int128:
		if long > 0 || short || char {
			return nil, p.errorf("invalid type %q", name)
		}
		t := mk(16)
		t.Kind = Int128
		return t, nil
	case char:
		return mk(1), nil
	case short:
		return mk(2), nil
	case long > 2:
		return nil, p.errorf("invalid type %q", name)
	case long > 0:
		return mk(8), nil // LP64 on both architectures
	default:
		return mk(4), nil
	}
}

func pointerTo(t *Type) *Type {
	return &Type{Name: t.Name + " *", Kind: Pointer, Size: 8, Align: 8}
}

// parsePointers reads the '*'s (and qualifiers) after a type.
func (p *parser) parsePointers(t *Type) (*Type, error) {
	for p.tok == "*" || qualifiers[p.tok] {
		if p.tok == "*" {
			name := t.Name
			if !strings.HasSuffix(name, "*") {
				name += " "
			}
			t = &Type{Name: name + "*", Kind: Pointer, Size: 8, Align: 8}
		}
		p.next()
	}
	return t, nil
}

// parseStruct reads "struct [NAME] [{ members }] [attrs]" and lays it out.
func (p *parser) parseStruct() (*Type, error) {
	union := p.tok == "union"
	kw := p.tok
	p.next()
	var a attrs
	if err := p.parseAttrs(&a); err != nil {
		return nil, err
	}
	name := ""
	if p.kind == tokIdent {
		name = p.tok
		p.next()
	}
	if p.tok != "{" {
		if name == "" {
			return nil, p.errorf("expected a %s name or '{', found %s", kw, p.describe())
		}
		t, ok := p.structs[kw+" "+name]
		if !ok {
			return nil, p.errorf("%s %s is not defined: give its members (%s %s { ... })", kw, name, kw, name)
		}
		return t, nil
	}
	p.next()
	t := &Type{Kind: Struct, Union: union}
	if name != "" {
		t.Name = kw + " " + name
	} else {
		t.Name = kw + " {...}"
	}
	type field struct {
		name  string
		t     *Type
		align int // member alignment after member attributes
	}
	var fields []field
	for p.tok != "}" {
		if p.kind == tokEOF {
			return nil, p.errorf("unterminated %s", t.Name)
		}
		base, err := p.parseType()
		if err != nil {
			return nil, err
		}
		for {
			mt, err := p.parsePointers(base)
			if err != nil {
				return nil, err
			}
			if p.kind != tokIdent {
				return nil, p.errorf("expected a member name, found %s", p.describe())
			}
			fname := p.tok
			p.next()
			if p.tok == ":" {
				return nil, p.errorf("bit-fields are not modelled (%s)", fname)
			}
			for p.tok == "[" {
				p.next()
				n, err := p.number()
				if err != nil {
					return nil, err
				}
				if err := p.expect("]"); err != nil {
					return nil, err
				}
				el := mt
				mt = &Type{Name: fmt.Sprintf("%s[%d]", el.Name, n), Kind: Struct, Size: el.Size * n, Align: el.Align, MemberAlign: el.Align,
					Members: []Member{{Name: "[0]", Type: el}}}
				if n > 0 {
					// Keep the array's element type visible to
					// classification: an array is its element repeated.
					for i := 1; i < n; i++ {
						mt.Members = append(mt.Members, Member{Name: fmt.Sprintf("[%d]", i), Type: el, Offset: i * el.Size})
					}
				}
			}
			var ma attrs
			if err := p.parseAttrs(&ma); err != nil {
				return nil, err
			}
			if mt.Kind == Void {
				return nil, p.errorf("member %s has type void", fname)
			}
			al := mt.Align
			if ma.align > al {
				al = ma.align
			}
			if ma.packed {
				al = 1
				if ma.align > 0 {
					al = ma.align
				}
			}
			fields = append(fields, field{fname, mt, al})
			if p.tok == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(";"); err != nil {
			return nil, err
		}
	}
	p.next()
	if err := p.parseAttrs(&a); err != nil {
		return nil, err
	}
	// Layout: each member at its alignment (1 when the struct is packed,
	// unless the member has its own aligned attribute), the struct aligned
	// to its largest member, or to aligned(N) when larger.
	off, maxAlign, size := 0, 1, 0
	for _, f := range fields {
		al := f.align
		if a.packed && al == f.t.Align {
			al = 1
		}
		if al > maxAlign {
			maxAlign = al
		}
		if union {
			t.Members = append(t.Members, Member{Name: f.name, Type: f.t})
			if f.t.Size > size {
				size = f.t.Size
			}
			continue
		}
		off = (off + al - 1) / al * al
		if f.t.Align > 0 && off%f.t.Align != 0 {
			t.Unaligned = true
		}
		if f.t.Unaligned {
			t.Unaligned = true
		}
		t.Members = append(t.Members, Member{Name: f.name, Type: f.t, Offset: off})
		off += f.t.Size
	}
	if !union {
		size = off
	}
	t.MemberAlign = maxAlign
	if a.align > maxAlign {
		maxAlign = a.align
	}
	t.AlignAttr = a.align
	t.Packed = a.packed
	t.Align = maxAlign
	t.Size = (size + maxAlign - 1) / maxAlign * maxAlign
	if len(fields) == 0 {
		return nil, p.errorf("%s has no members", t.Name)
	}
	if name != "" {
		p.structs[kw+" "+name] = t
	}
	return t, nil
}
