// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cilium/ebpf/asm"
)

// targetKind says how a label target is encoded into an instruction.
type targetKind int

const (
	targetNone   targetKind = iota
	targetOffset            // 16-bit Offset of a jump
	targetImm               // 32-bit Constant of gotol
	targetCall              // bpf-to-bpf call, resolved by cilium (Constant -1)
)

// item is one parsed instruction line.
type item struct {
	ins     asm.Instruction
	line    int
	col     int
	target  string // label to resolve, if kind != targetNone
	kind    targetKind
	rawSrc  int    // src_reg from raw bytes pasted by llvm-objdump, -1 if none
	section string // for calls relocated against a section symbol: the section
	secSlot int    // and the target's slot within it
}

// fixup is what resolve needs of an item with a label target or a section
// relocation; most instructions have neither, and the parser keeps only
// their instruction.
type fixup struct {
	index   int // instruction index
	line    int
	col     int
	target  string
	kind    targetKind
	section string
	secSlot int
}

type labelDef struct {
	index int // instruction index
	line  int
}

type parser struct {
	file   string
	insns  asm.Instructions // one per item, in order
	fixups []fixup          // by increasing index
	// names holds a copy of each label and reference name, shared by
	// every instruction that uses it: names sliced from src would keep
	// all of src (15 MB for a million instructions) alive as long as the
	// instructions.
	names map[string]string

	// The line, column and raw src_reg of the last instruction added.
	lastLine, lastCol, lastRawSrc int
	labels                        map[string]labelDef
	pending                       []pendingLabel
	sections                      map[string]int // llvm-objdump section name -> first instruction index

	// Reused by parseLine for every line.
	toks   []token
	inName []bool
}

// btfHeader matches bpftool's "int name(struct xdp_md * ctx):", returning
// reBTFHdr's submatch indices or nil.
func (p *parser) btfHeader(line string) []int {
	if !maybeBTFHdr(line) {
		return nil
	}
	return reBTFHdr.FindStringSubmatchIndex(line)
}

type pendingLabel struct {
	name string
	line int
	col  int
}

var (
	reSkip      = regexp.MustCompile(`^\s*(.*:\s+file format .*|\.\.\.)\s*$`)
	reSection   = regexp.MustCompile(`^\s*Disassembly of section (.*):\s*$`)
	reReloc     = regexp.MustCompile(`^\s*[0-9a-fA-F]+:\s+(R_BPF_\w+)\s+(\S+)\s*$`)
	reFuncHdr   = regexp.MustCompile(`^\s*(?:[0-9a-fA-F]+\s+)?<([^<>]+)>:\s*$`)
	reBTFHdr    = regexp.MustCompile(`^\s*[A-Za-z_][^;:()]*?\b([A-Za-z_][A-Za-z0-9_]*)\s*\([^()]*\)\s*:\s*$`)
	reBpftoolOp = regexp.MustCompile(`^\s*\(([0-9a-fA-F]{2})\)`)
)

// Parse parses BPF assembly. file is used in error messages
// ("file:line: reason"); firstLine is the line number of the first line of
// src within that file. Errors are of type *Error.
func Parse(file string, firstLine int, src string) (asm.Instructions, error) {
	return parse(file, firstLine, src, true)
}

// parse is Parse; fast says whether lines go through canonInsn and
// fastInsn before the general path (the tests compare with the general
// path alone).
func parse(file string, firstLine int, src string, fast bool) (asm.Instructions, error) {
	p := &parser{file: file, labels: map[string]labelDef{}, sections: map[string]int{}}
	// One instruction per line, most of the time: size the slice once.
	n := strings.Count(src, "\n") + 1
	p.insns = make(asm.Instructions, 0, n)
	for lineNo := firstLine; ; lineNo++ {
		line := src
		end := strings.IndexByte(src, '\n')
		if end >= 0 {
			line = src[:end]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		var ins asm.Instruction
		var col int
		ok := false
		if fast {
			ins, col, ok = canonInsn(line)
		}
		if ok {
			// The common case, inline: see parser.line.
			if len(p.pending) > 0 {
				ins = ins.WithSymbol(p.pending[0].name)
				p.pending = p.pending[:0]
			}
			p.insns = append(p.insns, ins)
			p.lastLine, p.lastCol, p.lastRawSrc = lineNo, col, -1
		} else if err := p.line(line, lineNo, fast); err != nil {
			return nil, err
		}
		if end < 0 {
			break
		}
		src = src[end+1:]
	}
	if len(p.pending) > 0 {
		l := p.pending[0]
		return nil, p.errf(l.line, l.col, "label %q is not followed by an instruction", l.name)
	}
	return p.resolve()
}

// intern returns a copy of name shared by every use of it (name itself
// when p is nil).
func (p *parser) intern(name string) string {
	if p == nil {
		return name
	}
	if v, ok := p.names[name]; ok {
		return v
	}
	if p.names == nil {
		p.names = map[string]string{}
	}
	v := strings.Clone(name)
	p.names[v] = v
	return v
}

func (p *parser) errf(line, col int, format string, args ...any) *Error {
	return &Error{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// line parses one line canonInsn did not take, through fastInsn first when
// fast is set.
func (p *parser) line(line string, lineNo int, fast bool) error {
	if !fast {
		return p.parseLine(line, lineNo)
	}
	it, ok := fastInsn(line, p)
	if !ok {
		return p.parseLine(line, lineNo)
	}
	if it.kind != targetNone {
		it.line, it.rawSrc = lineNo, -1
		return p.add(it)
	}
	p.addPlain(it.ins, lineNo, it.col)
	return nil
}

// addPlain is add for an instruction from a line without a label target
// or raw bytes.
func (p *parser) addPlain(ins asm.Instruction, lineNo, col int) {
	if len(p.pending) > 0 {
		ins = ins.WithSymbol(p.pending[0].name)
		p.pending = p.pending[:0]
	}
	p.insns = append(p.insns, ins)
	p.lastLine, p.lastCol, p.lastRawSrc = lineNo, col, -1
}

func (p *parser) parseLine(full string, lineNo int) error {
	line := full[:stripComment(full)]
	if strings.TrimSpace(line) == "" {
		return nil
	}
	// Tool headers, sections, relocations and function headers all have a
	// ':' ("..." lines a '.'); instruction lines mostly have neither.
	if strings.IndexByte(line, ':') >= 0 || strings.IndexByte(line, '.') >= 0 {
		if done, err := p.toolLine(line, lineNo); done {
			return err
		}
	}
	return p.insnLine(line, lineNo)
}

// toolLine handles the lines of pasted tool output that are not
// instructions; done is false when line is none of them.
func (p *parser) toolLine(line string, lineNo int) (done bool, err error) {
	if maybeSkip(line) && reSkip.MatchString(line) {
		return true, nil
	}
	if maybeSection(line) {
		if m := reSection.FindStringSubmatch(line); m != nil {
			p.sections[m[1]] = len(p.insns)
			return true, nil
		}
	}
	if maybeReloc(line) {
		if m := reReloc.FindStringSubmatchIndex(line); m != nil {
			return true, p.relocation(line[m[2]:m[3]], line[m[4]:m[5]], lineNo, m[4]+1)
		}
	}
	if maybeFuncHdr(line) {
		if m := reFuncHdr.FindStringSubmatchIndex(line); m != nil {
			return true, p.label(line[m[2]:m[3]], lineNo, m[2]+1)
		}
	}
	return false, nil
}

// insnLine parses a line that may hold labels and an instruction.
func (p *parser) insnLine(line string, lineNo int) error {

	start := 0
	rawSrc := -1
	bpftoolOp := -1
	var raw []byte
	if end := matchIndex(line); end >= 0 {
		start = end
		if m := reBpftoolOp.FindStringSubmatchIndex(line[start:]); m != nil {
			op, _ := strconv.ParseUint(line[start+m[2]:start+m[3]], 16, 8)
			bpftoolOp = int(op)
			start += m[1]
		} else if n, b := rawBytes(line[start:]); n > 0 {
			start += n
			raw = b
			rawSrc = int(b[1] >> 4)
		}
	} else if m := p.btfHeader(line); m != nil {
		return p.label(line[m[2]:m[3]], lineNo, m[2]+1)
	} else if ns, ne, next, ok := matchLabel(line); ok {
		if err := p.label(line[ns:ne], lineNo, ns+1); err != nil {
			return err
		}
		start = next
	}
	if strings.TrimSpace(line[start:]) == "" {
		return nil
	}
	if raw != nil && strings.TrimSpace(line[start:]) == "<unknown>" {
		// llvm-objdump 14 cannot print some instructions (32-bit atomics,
		// cpuv4): decode the raw bytes instead.
		ins, err := decodeRaw(raw)
		if err != nil {
			return p.errf(lineNo, start+1, "cannot decode raw bytes of <unknown> instruction: %v", err)
		}
		return p.add(item{ins: ins, line: lineNo, col: start + 1, rawSrc: rawSrc})
	}

	// The token and flag buffers are reused from line to line.
	toks := lex(p.toks[:0], line, start, len(line))
	p.toks = toks
	inName := slices.Grow(p.inName[:0], len(toks))[:len(toks)]
	clear(inName)
	p.inName = inName
	lp := &lineParser{p: p, line: line, lineNo: lineNo, toks: toks, inName: inName}
	it, err := lp.instruction()
	if err != nil {
		// Prefer complaining about a stray character, unless the error
		// comes earlier in the line.
		col := len(line) + 1
		if e, ok := err.(*Error); ok {
			col = e.Col
		}
		for i, t := range toks {
			if t.kind == tOther && !lp.inName[i] && t.pos+1 <= col {
				r, _ := utf8.DecodeRuneInString(t.text)
				return p.errf(lineNo, t.pos+1, "unexpected character %q", r)
			}
		}
		return err
	}
	it.line = lineNo
	it.col = toks[0].pos + 1
	it.rawSrc = rawSrc
	if rawSrc >= 0 && it.ins.IsBuiltinCall() {
		// llvm-objdump prints every call as "call IMM"; the raw bytes tell
		// helper, bpf-to-bpf and kfunc calls apart.
		switch asm.Register(rawSrc) {
		case asm.PseudoCall, asm.PseudoKfuncCall:
			it.ins.Src = asm.Register(rawSrc)
		}
	}
	if bpftoolOp == 0x18 && it.ins.OpCode == asm.Mov.Op(asm.ImmSource) {
		// bpftool prints 64-bit immediates without "ll": "(18) r1 = 0x5".
		it.ins = asm.LoadImm(it.ins.Dst, it.ins.Constant, asm.DWord).WithMetadata(it.ins.Metadata)
	}
	return p.add(it)
}

// rawBytes recognises llvm-objdump's "b7 02 00 00 00 00 00 00" (8 or 16
// bytes) at the start of s, returning the length consumed and the bytes.
func rawBytes(s string) (int, []byte) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	var b []byte
	for i+2 <= len(s) && len(b) < 16 {
		v, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil || (i+2 < len(s) && s[i+2] != ' ' && s[i+2] != '\t') {
			break
		}
		b = append(b, byte(v))
		i += 2
		if i < len(s) && s[i] == ' ' {
			i++
		}
	}
	if len(b) != 8 && len(b) != 16 {
		return 0, nil
	}
	return i, b
}

// decodeRaw decodes the raw bytes of one instruction. It accepts only
// instructions that Format can print, so that the result round-trips.
func decodeRaw(raw []byte) (asm.Instruction, error) {
	var ins asm.Instruction
	if err := ins.Unmarshal(bytes.NewReader(raw), binary.LittleEndian, "linux"); err != nil {
		return ins, err
	}
	if int(ins.Width())*asm.InstructionSize != len(raw) {
		return ins, fmt.Errorf("%d bytes for a %d-slot instruction", len(raw), ins.Width())
	}
	if ins.OpCode.AtomicOp() != asm.InvalidAtomic {
		// cilium leaves the encoded operation in Constant; instructions
		// built with asm.AtomicOp.Mem have 0 there.
		ins.Constant = 0
	}
	s, ok := format(ins)
	if !ok {
		return ins, fmt.Errorf("unsupported instruction %v", ins)
	}
	p := &parser{labels: map[string]labelDef{}, sections: map[string]int{}}
	if err := p.parseLine(s, 1); err != nil || len(p.insns) != 1 || !sameFields(p.insns[0], ins) {
		return ins, fmt.Errorf("unsupported encoding of %q", s)
	}
	return ins, nil
}

func sameFields(a, b asm.Instruction) bool {
	return a.OpCode == b.OpCode && a.Dst == b.Dst && a.Src == b.Src && a.Offset == b.Offset && a.Constant == b.Constant
}

func (p *parser) label(name string, lineNo, col int) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return p.errf(lineNo, col, "empty label name")
	}
	if isRegName(name) {
		return p.errf(lineNo, col, "invalid label name %q", name)
	}
	if def, ok := p.labels[name]; ok {
		return p.errf(lineNo, col, "duplicate label %q (previous definition at line %d)", name, def.line)
	}
	name = p.intern(name)
	p.labels[name] = labelDef{index: len(p.insns), line: lineNo}
	p.pending = append(p.pending, pendingLabel{name, lineNo, col})
	return nil
}

func (p *parser) add(it item) error {
	// Pending labels were entered into p.labels with this index already.
	if len(p.pending) > 0 {
		it.ins = it.ins.WithSymbol(p.pending[0].name)
	}
	p.pending = p.pending[:0]
	p.insns = append(p.insns, it.ins)
	if it.kind != targetNone || it.section != "" {
		p.fixups = append(p.fixups, fixup{len(p.insns) - 1, it.line, it.col, it.target, it.kind, it.section, it.secSlot})
	}
	p.lastLine, p.lastCol, p.lastRawSrc = it.line, it.col, it.rawSrc
	return nil
}

// lastFixup returns the fixup of the last instruction, adding one.
func (p *parser) lastFixup() *fixup {
	i := len(p.insns) - 1
	if n := len(p.fixups); n == 0 || p.fixups[n-1].index != i {
		p.fixups = append(p.fixups, fixup{index: i, line: p.lastLine, col: p.lastCol})
	}
	return &p.fixups[len(p.fixups)-1]
}

// relocation applies an llvm-objdump relocation line ("R_BPF_64_64 jmp_table")
// to the preceding instruction.
func (p *parser) relocation(typ, sym string, lineNo, col int) error {
	if len(p.insns) == 0 || len(p.pending) > 0 {
		return p.errf(lineNo, col, "relocation %s %s does not follow an instruction", typ, sym)
	}
	if strings.ContainsAny(sym, "[]()<>") || strings.IndexFunc(sym, unicode.IsSpace) >= 0 {
		return p.errf(lineNo, col, "invalid relocation symbol %q", sym)
	}
	sym = p.intern(sym)
	ins := &p.insns[len(p.insns)-1]
	switch {
	case typ == "R_BPF_64_64" && ins.OpCode.IsDWordLoad() && ins.Src == asm.R0:
		meta := ins.Metadata
		if strings.HasPrefix(sym, ".") {
			// Section symbol (.bss, .data, .rodata): the immediate is the
			// offset of the variable inside the section's map.
			*ins = asm.LoadMapValue(ins.Dst, 0, uint32(ins.Constant))
		} else {
			*ins = asm.LoadMapPtr(ins.Dst, 0)
		}
		*ins = ins.WithMetadata(meta).WithReference(sym)
	case typ == "R_BPF_64_32" && ins.OpCode.JumpOp() == asm.Call && ins.Src == asm.PseudoKfuncCall:
		*ins = ins.WithReference(sym)
	case typ == "R_BPF_64_32" && ins.OpCode.JumpOp() == asm.Call &&
		(ins.Src == asm.PseudoCall || ins.Src == asm.R0 && p.lastRawSrc < 0):
		ins.Src = asm.PseudoCall
		f := p.lastFixup()
		if _, ok := p.sections[sym]; ok {
			// Calls to static functions are relocated against the
			// section symbol; the immediate locates the callee.
			f.section, f.secSlot = sym, int(ins.Constant)+1
		}
		ins.Constant = -1
		f.target, f.kind = sym, targetCall
	}
	return nil
}

// resolve turns label targets into offsets and references, in place, and
// returns the instructions.
func (p *parser) resolve() (asm.Instructions, error) {
	insns := slices.Clip(p.insns)
	if len(p.fixups) == 0 {
		return insns, nil
	}
	slots := make([]int, len(insns)+1)
	for i := range insns {
		slots[i+1] = slots[i] + int(insns[i].Width())
	}
	for _, f := range p.fixups {
		i := f.index
		ins := insns[i]
		if f.section != "" {
			slot := slots[p.sections[f.section]] + f.secSlot
			idx := sort.SearchInts(slots[:len(insns)], slot)
			if idx == len(insns) || slots[idx] != slot || insns[idx].Symbol() == "" {
				return nil, p.errf(f.line, f.col, "call target %s%+d has no label", f.section, f.secSlot*asm.InstructionSize)
			}
			f.target = insns[idx].Symbol()
		}
		if f.kind != targetNone {
			def, ok := p.labels[f.target]
			if !ok {
				return nil, p.errf(f.line, f.col, "unknown label %q", f.target)
			}
			// Resolving changes offsets and references, never symbols.
			sym := insns[def.index].Symbol()
			off := slots[def.index] - slots[i] - 1
			switch f.kind {
			case targetOffset:
				if off < math.MinInt16 || off > math.MaxInt16 {
					return nil, p.errf(f.line, f.col, "label %q is too far away (offset %d does not fit in 16 bits)", f.target, off)
				}
				ins.Offset = int16(off)
			case targetImm:
				ins.Constant = int64(off)
			case targetCall:
				ins.Constant = -1
			}
			ins = ins.WithReference(sym)
		}
		insns[i] = ins
	}
	return insns, nil
}

// lineParser parses the tokens of one instruction.
type lineParser struct {
	p      *parser
	line   string
	lineNo int
	toks   []token
	i      int
	inName []bool // tokens inside a name skipped by raw
}

func (lp *lineParser) peek() token       { return lp.toks[lp.i] }
func (lp *lineParser) peekN(n int) token { return lp.toks[min(lp.i+n, len(lp.toks)-1)] }

func (lp *lineParser) next() token {
	t := lp.toks[lp.i]
	if t.kind != tEOF {
		lp.i++
	}
	return t
}

func (lp *lineParser) errAt(t token, format string, args ...any) *Error {
	return lp.p.errf(lp.lineNo, t.pos+1, format, args...)
}

func (lp *lineParser) unexpected(t token) *Error {
	return lp.errAt(t, "unexpected %s", t)
}

func (lp *lineParser) is(text string) bool {
	t := lp.peek()
	return t.kind != tEOF && t.kind != tNum && t.text == text
}

func (lp *lineParser) accept(text string) bool {
	if lp.is(text) {
		lp.i++
		return true
	}
	return false
}

func (lp *lineParser) expect(text string) error {
	t := lp.peek()
	if !lp.accept(text) {
		return lp.errAt(t, "expected %q, found %s", text, t)
	}
	return nil
}

func (lp *lineParser) end() error {
	if t := lp.peek(); t.kind != tEOF {
		return lp.unexpected(t)
	}
	return nil
}

// raw returns the source text between the current token (an opening bracket)
// and the next close byte, and skips the tokens in between.
func (lp *lineParser) raw(close byte) (string, token, error) {
	open := lp.next()
	j := strings.IndexByte(lp.line[open.end:], close)
	if j < 0 {
		return "", open, lp.errAt(open, "missing %q", string(close))
	}
	closePos := open.end + j
	for lp.peek().kind != tEOF && lp.peek().pos <= closePos {
		lp.inName[lp.i] = true
		lp.i++
	}
	if lp.i > 0 && lp.toks[lp.i-1].end > closePos+1 {
		// The closing byte was inside a longer operator ("s>", ">="):
		// nothing sensible follows.
		return "", open, lp.errAt(lp.toks[lp.i-1], "unexpected %s", lp.toks[lp.i-1])
	}
	name := strings.TrimSpace(lp.line[open.end:closePos])
	if name == "" {
		return "", open, lp.errAt(open, "empty name")
	}
	return name, open, nil
}

type reg struct {
	r   asm.Register
	w   bool // written as wN
	tok token
}

func (lp *lineParser) isReg() bool {
	t := lp.peek()
	return t.kind == tIdent && isRegName(t.text)
}

func (lp *lineParser) reg() (reg, error) {
	t := lp.next()
	if t.kind != tIdent || !isRegName(t.text) {
		return reg{}, lp.errAt(t, "expected register, found %s", t)
	}
	n, err := strconv.Atoi(t.text[1:])
	if err != nil || n > 10 || (len(t.text) > 2 && t.text[1] == '0') {
		return reg{}, lp.errAt(t, "invalid register %q", t.text)
	}
	return reg{asm.Register(n), t.text[0] == 'w', t}, nil
}

// reg64 parses a register that must be written rN.
func (lp *lineParser) reg64() (reg, error) {
	r, err := lp.reg()
	if err == nil && r.w {
		err = lp.errAt(r.tok, "expected r register, found %q", r.tok.text)
	}
	return r, err
}

// regWidth parses a register of the given width.
func (lp *lineParser) regWidth(w bool) (reg, error) {
	r, err := lp.reg()
	if err == nil && r.w != w {
		want := "r"
		if w {
			want = "w"
		}
		err = lp.errAt(r.tok, "expected %s register, found %q", want, r.tok.text)
	}
	return r, err
}

// number parses an optionally signed integer literal. It returns the
// magnitude, whether it was negative, whether it was hex, and the text for
// messages.
func (lp *lineParser) number() (mag uint64, neg, hex bool, text string, tok token, err error) {
	tok = lp.peek()
	if lp.accept("-") {
		neg = true
	} else {
		lp.accept("+")
	}
	t := lp.next()
	if t.kind != tNum {
		return 0, false, false, "", tok, lp.errAt(t, "expected number, found %s", t)
	}
	s := t.text
	base := 10
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s, base, hex = s[2:], 16, true
	}
	text = t.text
	if neg {
		text = "-" + text
	}
	mag, perr := strconv.ParseUint(s, base, 64)
	if perr != nil {
		if ne, ok := perr.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, false, false, text, tok, lp.errAt(tok, "immediate %s out of 64-bit range", text)
		}
		return 0, false, false, text, tok, lp.errAt(t, "invalid number %q", t.text)
	}
	return mag, neg, hex, text, tok, nil
}

func (lp *lineParser) isNumber() bool {
	t := lp.peek()
	if t.kind == tNum {
		return true
	}
	return (t.text == "-" || t.text == "+") && t.kind == tPunct && lp.peekN(1).kind == tNum
}

// imm32 parses a 32-bit immediate. If wrapHex is set, hexadecimal literals up
// to 0xffffffff are taken as 32-bit patterns (the kernel prints jump
// immediates that way).
func (lp *lineParser) imm32(wrapHex bool) (int64, error) {
	mag, neg, hex, text, tok, err := lp.number()
	if err != nil {
		return 0, err
	}
	switch {
	case neg && mag <= 1<<31:
		return -int64(mag), nil
	case !neg && mag <= math.MaxInt32:
		return int64(mag), nil
	case !neg && hex && wrapHex && mag <= math.MaxUint32:
		return int64(int32(uint32(mag))), nil
	}
	return 0, lp.errAt(tok, "immediate %s out of 32-bit range", text)
}

// imm64 parses a 64-bit immediate; values up to 2^64-1 wrap.
func (lp *lineParser) imm64() (int64, error) {
	mag, neg, _, text, tok, err := lp.number()
	if err != nil {
		return 0, err
	}
	if neg {
		if mag > 1<<63 {
			return 0, lp.errAt(tok, "immediate %s out of 64-bit range", text)
		}
		return int64(-mag), nil
	}
	return int64(mag), nil
}

// off16 parses a signed 16-bit offset.
func (lp *lineParser) off16() (int16, error) {
	mag, neg, _, text, tok, err := lp.number()
	if err != nil {
		return 0, err
	}
	switch {
	case neg && mag <= 1<<15:
		return int16(-int64(mag)), nil
	case !neg && mag <= math.MaxInt16:
		return int16(mag), nil
	}
	return 0, lp.errAt(tok, "offset %s out of 16-bit range", text)
}

var sizes = map[string]asm.Size{"u8": asm.Byte, "u16": asm.Half, "u32": asm.Word, "u64": asm.DWord}
var sxSizes = map[string]asm.Size{"s8": asm.Byte, "s16": asm.Half, "s32": asm.Word}

// sizeCast parses "(u32 *)" (or "(s8 *)" when signed is allowed).
func (lp *lineParser) sizeCast(signed bool) (asm.Size, bool, error) {
	if err := lp.expect("("); err != nil {
		return 0, false, err
	}
	t := lp.next()
	size, ok := sizes[t.text]
	sx := false
	if !ok && signed {
		size, ok = sxSizes[t.text]
		sx = ok
	}
	if t.kind != tIdent || !ok {
		return 0, false, lp.errAt(t, "expected size (u8, u16, u32, u64), found %s", t)
	}
	if err := lp.expect("*"); err != nil {
		return 0, false, err
	}
	if err := lp.expect(")"); err != nil {
		return 0, false, err
	}
	return size, sx, nil
}

// memRef parses "(r10 - 4)", "(r1 + 0x10)", "(r1 +0)" or "(r1)".
func (lp *lineParser) memRef() (asm.Register, int16, error) {
	if err := lp.expect("("); err != nil {
		return 0, 0, err
	}
	r, off, err := lp.addr()
	if err != nil {
		return 0, 0, err
	}
	if err := lp.expect(")"); err != nil {
		return 0, 0, err
	}
	return r, off, nil
}

// addr parses "r1 + 0" (without parentheses).
func (lp *lineParser) addr() (asm.Register, int16, error) {
	r, err := lp.reg64()
	if err != nil {
		return 0, 0, err
	}
	var off int16
	if lp.is("+") || lp.is("-") {
		if off, err = lp.off16(); err != nil {
			return 0, 0, err
		}
	}
	return r.r, off, nil
}

// memOperand parses "*(u32 *)(r1 + 4)".
func (lp *lineParser) memOperand(signed bool) (asm.Size, bool, asm.Register, int16, error) {
	if err := lp.expect("*"); err != nil {
		return 0, false, 0, 0, err
	}
	size, sx, err := lp.sizeCast(signed)
	if err != nil {
		return 0, false, 0, 0, err
	}
	r, off, err := lp.memRef()
	return size, sx, r, off, err
}

// castMemRef parses "(u64 *)(r1 + 0)" as used by atomic functions.
func (lp *lineParser) castMemRef() (asm.Size, asm.Register, int16, error) {
	size, _, err := lp.sizeCast(false)
	if err != nil {
		return 0, 0, 0, err
	}
	r, off, err := lp.memRef()
	return size, r, off, err
}

func (lp *lineParser) instruction() (item, error) {
	t := lp.peek()
	var it item
	var err error
	switch {
	case t.kind == tIdent && t.text == "exit":
		lp.next()
		it.ins = asm.Return()
	case t.kind == tIdent && (t.text == "goto" || t.text == "gotol" || t.text == "may_goto"):
		it, err = lp.gotoInsn()
	case t.kind == tIdent && t.text == "if":
		it, err = lp.ifInsn()
	case t.kind == tIdent && t.text == "call":
		it, err = lp.callInsn()
	case t.kind == tIdent && t.text == "lock":
		it, err = lp.lockInsn()
	case t.kind == tIdent && t.text == "store_release":
		it, err = lp.storeRelease()
	case t.kind == tPunct && t.text == "*":
		it, err = lp.storeInsn()
	case lp.isReg():
		it, err = lp.regInsn()
	case t.kind == tIdent:
		return it, lp.errAt(t, "unknown instruction %q", t.text)
	default:
		return it, lp.unexpected(t)
	}
	if err != nil {
		return it, err
	}
	return it, lp.end()
}

// target parses a jump target: "+3", "-2", "pc+3", "3", "LABEL", "<LABEL>",
// optionally followed by an annotation "<LABEL>" (as llvm-objdump prints)
// that becomes the instruction's reference.
func (lp *lineParser) target(wide bool) (off int64, label, ref string, err error) {
	t := lp.peek()
	switch {
	case t.kind == tIdent && t.text == "pc" && (lp.peekN(1).text == "+" || lp.peekN(1).text == "-"):
		lp.next()
		fallthrough
	case lp.isNumber():
		if wide {
			off, err = lp.imm32(false)
		} else {
			var o int16
			o, err = lp.off16()
			off = int64(o)
		}
		if err != nil {
			return
		}
		if lp.is("<") {
			ref, _, err = lp.raw('>')
		}
		return
	case t.kind == tIdent && !isRegName(t.text):
		lp.next()
		return 0, t.text, "", nil
	case t.kind == tPunct && t.text == "<":
		label, _, err = lp.raw('>')
		return
	}
	return 0, "", "", lp.errAt(t, "expected jump target, found %s", t)
}

func (lp *lineParser) gotoInsn() (item, error) {
	kw := lp.next().text
	var it item
	wide := kw == "gotol"
	off, label, ref, err := lp.target(wide)
	if err != nil {
		return it, err
	}
	switch kw {
	case "goto":
		it.ins = asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: int16(off)}
		it.kind = targetOffset
	case "may_goto":
		it.ins = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.JCOND), Src: asm.PseudoMayGoto, Offset: int16(off)}
		it.kind = targetOffset
	case "gotol":
		it.ins = asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja), Constant: off}
		it.kind = targetImm
	}
	if label != "" {
		it.target = label
	} else {
		it.kind = targetNone
		if ref != "" {
			it.ins = it.ins.WithReference(lp.p.intern(ref))
		}
	}
	return it, nil
}

var jumpOps = map[string]asm.JumpOp{
	"==": asm.JEq, "!=": asm.JNE, ">": asm.JGT, ">=": asm.JGE, "<": asm.JLT, "<=": asm.JLE,
	"s>": asm.JSGT, "s>=": asm.JSGE, "s<": asm.JSLT, "s<=": asm.JSLE, "&": asm.JSet,
}

func (lp *lineParser) ifInsn() (item, error) {
	lp.next()
	var it item
	dst, err := lp.reg()
	if err != nil {
		return it, err
	}
	cls := asm.JumpClass
	if dst.w {
		cls = asm.Jump32Class
	}
	opTok := lp.next()
	jop, ok := jumpOps[opTok.text]
	if opTok.kind != tPunct || !ok {
		return it, lp.errAt(opTok, "expected comparison operator, found %s", opTok)
	}
	ins := asm.Instruction{Dst: dst.r}
	if lp.isReg() {
		src, err := lp.regWidth(dst.w)
		if err != nil {
			return it, err
		}
		ins.OpCode = asm.OpCode(cls).SetJumpOp(jop).SetSource(asm.RegSource)
		ins.Src = src.r
	} else {
		if ins.Constant, err = lp.imm32(true); err != nil {
			return it, err
		}
		ins.OpCode = asm.OpCode(cls).SetJumpOp(jop).SetSource(asm.ImmSource)
	}
	if err := lp.expect("goto"); err != nil {
		return it, err
	}
	off, label, ref, err := lp.target(false)
	if err != nil {
		return it, err
	}
	ins.Offset = int16(off)
	it.ins = ins
	if label != "" {
		it.target, it.kind = label, targetOffset
	} else if ref != "" {
		it.ins = it.ins.WithReference(lp.p.intern(ref))
	}
	return it, nil
}

func (lp *lineParser) callInsn() (item, error) {
	lp.next()
	var it item
	callOp := asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call)
	t := lp.peek()
	switch {
	case lp.isNumber():
		n, err := lp.imm32(false)
		if err != nil {
			return it, err
		}
		it.ins = asm.Instruction{OpCode: callOp, Constant: n}
	case t.kind == tIdent && t.text == "pc" && (lp.peekN(1).text == "+" || lp.peekN(1).text == "-"):
		lp.next()
		n, err := lp.imm32(false)
		if err != nil {
			return it, err
		}
		it.ins = asm.Instruction{OpCode: callOp, Src: asm.PseudoCall, Constant: n}
		if lp.is("<") {
			ref, _, err := lp.raw('>')
			if err != nil {
				return it, err
			}
			it.ins = it.ins.WithReference(lp.p.intern(ref))
		}
		lp.skipTrailer()
	case t.kind == tIdent && t.text == "kernel" && lp.peekN(1).text == "-" && lp.peekN(2).text == "function":
		lp.i += 3
		if err := lp.expect("#"); err != nil {
			return it, err
		}
		n, err := lp.imm32(false)
		if err != nil {
			return it, err
		}
		it.ins = asm.Instruction{OpCode: callOp, Src: asm.PseudoKfuncCall, Constant: n}
		if lp.is("<") {
			ref, _, err := lp.raw('>')
			if err != nil {
				return it, err
			}
			it.ins = it.ins.WithReference(lp.p.intern(ref))
		}
	case t.kind == tIdent && !isRegName(t.text):
		lp.next()
		if lp.accept("#") {
			// bpftool: "call bpf_tail_call#12", "call unknown#212".
			n, err := lp.imm32(false)
			if err != nil {
				return it, err
			}
			it.ins = asm.Instruction{OpCode: callOp, Constant: n}
		} else if fn, ok := helperByName[t.text]; ok {
			it.ins = fn.Call()
		} else {
			name := lp.p.intern(t.text)
			it.ins = asm.Call.Label(name)
			it.target, it.kind = name, targetCall
		}
		if it.kind == targetNone {
			lp.skipTrailer()
		}
	default:
		return it, lp.errAt(t, "expected helper, function or offset, found %s", t)
	}
	return it, nil
}

// skipTrailer skips a trailing "(...)" or "#..." comment after a call.
func (lp *lineParser) skipTrailer() {
	if lp.is("(") || lp.is("#") {
		lp.i = len(lp.toks) - 1
	}
}

var aluOps = map[string]asm.ALUOp{
	"+=": asm.Add, "-=": asm.Sub, "*=": asm.Mul, "/=": asm.Div, "%=": asm.Mod,
	"&=": asm.And, "|=": asm.Or, "^=": asm.Xor, "<<=": asm.LSh, ">>=": asm.RSh,
	"s>>=": asm.ArSh, "s/=": asm.SDiv, "s%=": asm.SMod,
}

var atomicALU = map[string]asm.AtomicOp{
	"+=": asm.AddAtomic, "&=": asm.AndAtomic, "|=": asm.OrAtomic, "^=": asm.XorAtomic,
}

func (lp *lineParser) lockInsn() (item, error) {
	lp.next()
	var it item
	size, _, dst, off, err := lp.memOperand(false)
	if err != nil {
		return it, err
	}
	opTok := lp.next()
	aop, ok := atomicALU[opTok.text]
	if opTok.kind != tPunct || !ok {
		return it, lp.errAt(opTok, "expected +=, &=, |= or ^=, found %s", opTok)
	}
	src, err := lp.reg()
	if err != nil {
		return it, err
	}
	return lp.atomic(aop, size, dst, src.r, off, opTok)
}

func (lp *lineParser) atomic(aop asm.AtomicOp, size asm.Size, dst, src asm.Register, off int16, at token) (item, error) {
	op := aop.OpCode(size)
	if op == asm.InvalidOpCode {
		return item{}, lp.errAt(at, "atomic operation needs size u32 or u64")
	}
	return item{ins: asm.Instruction{OpCode: op, Dst: dst, Src: src, Offset: off}}, nil
}

func (lp *lineParser) storeRelease() (item, error) {
	at := lp.next()
	var it item
	if err := lp.expect("("); err != nil {
		return it, err
	}
	size, dst, off, err := lp.castMemRef()
	if err != nil {
		return it, err
	}
	if err := lp.expect(","); err != nil {
		return it, err
	}
	src, err := lp.reg()
	if err != nil {
		return it, err
	}
	if err := lp.expect(")"); err != nil {
		return it, err
	}
	return lp.atomic(atomicStoreRelease, size, dst, src.r, off, at)
}

// storeInsn parses "*(u32 *)(r1 + 0) = r2" and "*(u32 *)(r1 + 0) = 5".
func (lp *lineParser) storeInsn() (item, error) {
	var it item
	size, _, dst, off, err := lp.memOperand(false)
	if err != nil {
		return it, err
	}
	if err := lp.expect("="); err != nil {
		return it, err
	}
	if lp.isReg() {
		src, err := lp.reg()
		if err != nil {
			return it, err
		}
		it.ins = asm.StoreMem(dst, off, src.r, size)
		return it, nil
	}
	imm, err := lp.imm32(size != asm.DWord)
	if err != nil {
		return it, err
	}
	it.ins = asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: imm}
	return it, nil
}

func aluClass(w bool) asm.Class {
	if w {
		return asm.ALUClass
	}
	return asm.ALU64Class
}

// regInsn parses instructions starting with a register: ALU operations,
// loads, 64-bit immediates and atomic fetch operations.
func (lp *lineParser) regInsn() (item, error) {
	var it item
	dst, err := lp.reg()
	if err != nil {
		return it, err
	}
	cls := aluClass(dst.w)
	opTok := lp.next()
	if opTok.kind == tPunct && opTok.text != "=" {
		aop, ok := aluOps[opTok.text]
		if !ok {
			return it, lp.errAt(opTok, "expected assignment operator, found %s", opTok)
		}
		it.ins, err = lp.aluSource(asm.OpCode(cls).SetALUOp(aop), dst)
		return it, err
	}
	if opTok.kind != tPunct {
		return it, lp.errAt(opTok, "expected assignment operator, found %s", opTok)
	}

	// dst = ...
	t := lp.peek()
	switch {
	case t.text == "-" && t.kind == tPunct && lp.peekN(1).kind == tIdent:
		// Negation: r1 = -r1.
		lp.next()
		src, err := lp.regWidth(dst.w)
		if err != nil {
			return it, err
		}
		if src.r != dst.r {
			return it, lp.errAt(src.tok, "negation source %q must be the destination register", src.tok.text)
		}
		it.ins = asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(asm.Neg).SetSource(asm.ImmSource), Dst: dst.r}
	case lp.isNumber():
		return lp.movImm(dst)
	case lp.isReg():
		src, err := lp.regWidth(dst.w)
		if err != nil {
			return it, err
		}
		it.ins = asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(asm.Mov).SetSource(asm.RegSource), Dst: dst.r, Src: src.r}
	case t.text == "(" && t.kind == tPunct:
		// Sign-extending move: r1 = (s8)r2.
		lp.next()
		st := lp.next()
		var aop asm.ALUOp
		switch st.text {
		case "s8":
			aop = asm.MovSX8
		case "s16":
			aop = asm.MovSX16
		case "s32":
			aop = asm.MovSX32
			if dst.w {
				return it, lp.errAt(st, "(s32) sign extension needs r registers")
			}
		default:
			return it, lp.errAt(st, "expected s8, s16 or s32, found %s", st)
		}
		if err := lp.expect(")"); err != nil {
			return it, err
		}
		src, err := lp.regWidth(dst.w)
		if err != nil {
			return it, err
		}
		it.ins = asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(aop).SetSource(asm.RegSource), Dst: dst.r, Src: src.r}
	case t.text == "*" && t.kind == tPunct:
		return lp.load(dst)
	case t.kind == tIdent:
		return lp.namedRHS(dst)
	default:
		return it, lp.unexpected(t)
	}
	return it, nil
}

// aluSource parses the source operand of "dst op= src".
func (lp *lineParser) aluSource(op asm.OpCode, dst reg) (asm.Instruction, error) {
	ins := asm.Instruction{Dst: dst.r}
	if lp.isReg() {
		src, err := lp.regWidth(dst.w)
		if err != nil {
			return ins, err
		}
		ins.OpCode = op.SetSource(asm.RegSource)
		ins.Src = src.r
		return ins, nil
	}
	imm, err := lp.imm32(dst.w)
	if err != nil {
		return ins, err
	}
	ins.OpCode = op.SetSource(asm.ImmSource)
	ins.Constant = imm
	return ins, nil
}

// movImm parses "r1 = 5", "w1 = 5" and "r1 = 0x123456789 ll".
func (lp *lineParser) movImm(dst reg) (item, error) {
	var it item
	save := lp.i
	v, err := lp.imm64()
	if err != nil {
		return it, err
	}
	if lp.accept("ll") {
		if dst.w {
			return it, lp.errAt(dst.tok, "64-bit immediate load needs an r register")
		}
		it.ins = asm.LoadImm(dst.r, v, asm.DWord)
		return it, nil
	}
	if !dst.w {
		// Without "ll" (bpftool prints none), values that do not survive
		// sign extension from 32 bits need a 64-bit load.
		lp.i = save
		mag, neg, _, _, _, _ := lp.number()
		if (neg && mag <= 1<<31) || (!neg && mag <= math.MaxInt32) {
			it.ins = asm.Mov.Imm(dst.r, int32(v))
		} else {
			it.ins = asm.LoadImm(dst.r, v, asm.DWord)
		}
		return it, nil
	}
	lp.i = save
	imm, err := lp.imm32(true)
	if err != nil {
		return it, err
	}
	it.ins = asm.Mov.Imm32(dst.r, int32(imm))
	return it, nil
}

// load parses "r0 = *(u32 *)(r10 - 4)", "r1 = *(s8 *)(r2 + 0)" and
// "r0 = *(u8 *)skb[12]" / "r0 = *(u8 *)skb[r1 + 4]".
func (lp *lineParser) load(dst reg) (item, error) {
	var it item
	lp.next() // *
	size, sx, err := lp.sizeCast(true)
	if err != nil {
		return it, err
	}
	if t := lp.peek(); t.kind == tIdent && t.text == "skb" {
		if sx {
			return it, lp.errAt(t, "packet loads cannot sign-extend")
		}
		lp.next()
		if err := lp.expect("["); err != nil {
			return it, err
		}
		if lp.isReg() {
			src, err := lp.reg64()
			if err != nil {
				return it, err
			}
			var imm int64
			if lp.is("+") || lp.is("-") {
				if imm, err = lp.imm32(false); err != nil {
					return it, err
				}
			}
			it.ins = asm.Instruction{OpCode: asm.LoadIndOp(size), Dst: dst.r, Src: src.r, Constant: imm}
		} else {
			imm, err := lp.imm32(false)
			if err != nil {
				return it, err
			}
			it.ins = asm.Instruction{OpCode: asm.LoadAbsOp(size), Dst: dst.r, Constant: imm}
		}
		return it, lp.expect("]")
	}
	src, off, err := lp.memRef()
	if err != nil {
		return it, err
	}
	if sx {
		it.ins = asm.LoadMemSX(dst.r, src, off, size)
	} else {
		it.ins = asm.LoadMem(dst.r, src, off, size)
	}
	return it, nil
}

var fetchOps = map[string]asm.AtomicOp{
	"add": asm.FetchAdd, "and": asm.FetchAnd, "or": asm.FetchOr, "xor": asm.FetchXor,
}

var endianOps = map[string]struct {
	cls    asm.Class
	endian asm.Endianness
	bits   int64
}{
	"le16": {asm.ALUClass, asm.LE, 16}, "le32": {asm.ALUClass, asm.LE, 32}, "le64": {asm.ALUClass, asm.LE, 64},
	"be16": {asm.ALUClass, asm.BE, 16}, "be32": {asm.ALUClass, asm.BE, 32}, "be64": {asm.ALUClass, asm.BE, 64},
	"bswap16": {asm.ALU64Class, asm.LE, 16}, "bswap32": {asm.ALU64Class, asm.LE, 32}, "bswap64": {asm.ALU64Class, asm.LE, 64},
}

// namedRHS parses right-hand sides that start with a name: endianness
// conversions, map loads and atomic functions.
func (lp *lineParser) namedRHS(dst reg) (item, error) {
	var it item
	t := lp.next()
	name := t.text

	if e, ok := endianOps[name]; ok {
		src, err := lp.reg()
		if err != nil {
			return it, err
		}
		if src.r != dst.r {
			return it, lp.errAt(src.tok, "%s source %q must be the destination register", name, src.tok.text)
		}
		op := asm.OpCode(e.cls).SetALUOp(asm.Swap)
		if e.cls == asm.ALUClass {
			op = op.SetSource(asm.Source(e.endian))
		}
		it.ins = asm.Instruction{OpCode: op, Dst: dst.r, Constant: e.bits}
		return it, nil
	}

	switch {
	case name == "map" && lp.is("["):
		return lp.mapLoad(dst, false)
	case name == "map_value" && lp.is("("):
		return lp.mapLoad(dst, true)
	case name == "load_acquire":
		if err := lp.expect("("); err != nil {
			return it, err
		}
		if err := lp.expect("("); err != nil {
			return it, err
		}
		lp.i-- // castMemRef starts at "("
		size, src, off, err := lp.castMemRef()
		if err != nil {
			return it, err
		}
		if err := lp.expect(")"); err != nil {
			return it, err
		}
		return lp.atomic(atomicLoadAcquire, size, dst.r, src, off, t)
	}

	// Atomic functions. Kernel: atomic[64]_fetch_OP((uN *)(rX +off), rY),
	// atomic[64]_xchg(...), atomic[64]_cmpxchg((uN *)(rX +off), r0, rY).
	// llvm: atomic_fetch_OP((uN *)(rX + off), rY), xchg_64(rX + off, rY),
	// xchg32_32(...), cmpxchg_64(rX + off, r0, rY), cmpxchg32_32(...).
	var aop asm.AtomicOp
	cmpxchg := false
	llvmSize := asm.InvalidSize
	fn := strings.TrimPrefix(strings.TrimPrefix(name, "atomic64_"), "atomic_")
	switch {
	case name == "xchg_64" || name == "cmpxchg_64":
		llvmSize = asm.DWord
	case name == "xchg32_32" || name == "cmpxchg32_32":
		llvmSize = asm.Word
	case fn != name:
	default:
		return it, lp.errAt(t, "unknown operand %q", name)
	}
	switch {
	case strings.HasPrefix(fn, "fetch_") && llvmSize == asm.InvalidSize:
		var ok bool
		if aop, ok = fetchOps[strings.TrimPrefix(fn, "fetch_")]; !ok {
			return it, lp.errAt(t, "unknown operand %q", name)
		}
	case fn == "xchg" || fn == "xchg_64" || fn == "xchg32_32":
		aop = asm.Xchg
	case fn == "cmpxchg" || fn == "cmpxchg_64" || fn == "cmpxchg32_32":
		aop, cmpxchg = asm.CmpXchg, true
	default:
		return it, lp.errAt(t, "unknown operand %q", name)
	}
	if err := lp.expect("("); err != nil {
		return it, err
	}
	var (
		size asm.Size
		base asm.Register
		off  int16
		err  error
	)
	if llvmSize != asm.InvalidSize {
		size = llvmSize
		base, off, err = lp.addr()
	} else {
		size, base, off, err = lp.castMemRef()
	}
	if err != nil {
		return it, err
	}
	if err := lp.expect(","); err != nil {
		return it, err
	}
	if cmpxchg {
		r0, err := lp.reg()
		if err != nil {
			return it, err
		}
		if r0.r != asm.R0 || dst.r != asm.R0 {
			return it, lp.errAt(r0.tok, "cmpxchg compares and returns r0")
		}
		if err := lp.expect(","); err != nil {
			return it, err
		}
	}
	src, err := lp.reg()
	if err != nil {
		return it, err
	}
	if !cmpxchg && src.r != dst.r {
		return it, lp.errAt(src.tok, "%s result %q must be the source register", name, dst.tok.text)
	}
	if err := lp.expect(")"); err != nil {
		return it, err
	}
	return lp.atomic(aop, size, base, src.r, off, t)
}

// mapLoad parses "map[NAME]", "map[NAME] + OFF", "map[NAME][0]+OFF",
// "map_value(NAME) + OFF", "map[fd:N]" and "map[id:N][0]+OFF", each optionally
// followed by "ll".
func (lp *lineParser) mapLoad(dst reg, value bool) (item, error) {
	var it item
	if dst.w {
		return it, lp.errAt(dst.tok, "64-bit immediate load needs an r register")
	}
	close := byte(']')
	if value {
		close = ')'
	}
	name, open, err := lp.raw(close)
	if err != nil {
		return it, err
	}
	if !value && lp.is("[") {
		// bpftool's key index "[0]".
		lp.next()
		k, err := lp.imm32(false)
		if err != nil {
			return it, err
		}
		if k != 0 {
			return it, lp.errAt(lp.toks[lp.i-1], "map value key must be 0")
		}
		if err := lp.expect("]"); err != nil {
			return it, err
		}
		value = true
	}
	var off uint64
	if lp.is("+") {
		lp.next()
		mag, neg, _, text, tok, err := lp.number()
		if err != nil {
			return it, err
		}
		if neg || mag > math.MaxUint32 {
			return it, lp.errAt(tok, "map value offset %s out of range", text)
		}
		off = mag
		value = true
	}
	lp.accept("ll")

	if strings.ContainsAny(name, "[]") {
		return it, lp.errAt(open, "invalid map name %q", name)
	}
	fd := 0
	ref := name
	if s, ok := strings.CutPrefix(name, "fd:"); ok {
		n, err := strconv.ParseUint(s, 10, 31)
		if err != nil {
			return it, lp.errAt(open, "invalid map fd %q", s)
		}
		fd, ref = int(n), ""
	}
	if value {
		it.ins = asm.LoadMapValue(dst.r, fd, uint32(off))
	} else {
		it.ins = asm.LoadMapPtr(dst.r, fd)
	}
	if ref != "" {
		it.ins = it.ins.WithReference(lp.p.intern(ref))
	}
	return it, nil
}
