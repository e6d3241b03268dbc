// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"math"

	"github.com/cilium/ebpf/asm"
)

// fastInsn parses the line shapes FormatProgram prints for nearly every
// instruction (and that hand-written and pasted programs use most), straight
// from the bytes: no tokens, no line parser, no allocation except the
// metadata cilium keeps for a map or call reference. A million-line program
// spent most of its parse time lexing and in the general parser.
//
// ok is false for anything else: labels, comments, tool output, rarer
// instructions, label targets, annotations, and every line the general path
// rejects. The caller then parses the line the general way, so errors and
// everything fastInsn does not know are exactly as before. When ok is true
// the general path (parseLine) gives the same item for the line:
// fastInsn reads tokens at the same boundaries as lex (blanks are ' ' and
// '\t', names and numbers are maximal runs of isIdentChar, operators are
// opLen's and signedOpLen's), applies the same checks and builds the
// instruction with the same calls. An accepted line has no ':', no comment
// and no character outside the syntax, so parseLine would have sent it
// straight to the line parser. TestFastMatchesGeneral and FuzzFastLine hold
// it to that.
//
// Names that end up in the instruction go through p.intern (p may be nil).
func fastInsn(line string, p *parser) (it item, ok bool) {
	c := scan{s: line, p: p}
	c.blank()
	if c.i == len(line) {
		return it, false
	}
	col := c.i + 1
	switch ch := line[c.i]; {
	case ch == '*':
		ok = c.store(&it)
	case isIdentStart(ch):
		switch w := c.ident(); w {
		case "exit":
			it.ins, ok = asm.Return(), true
		case "goto":
			var off int16
			if off, ok = c.jumpOffset(); ok {
				it.ins = asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: off}
			}
		case "if":
			ok = c.cond(&it)
		case "call":
			ok = c.call(&it)
		case "lock":
			ok = c.lock(&it)
		default:
			dst, isReg := regOf(w)
			ok = isReg && c.regInsn(&it, dst)
		}
	}
	if !ok || !c.end() {
		return item{}, false
	}
	it.col = col
	return it, true
}

// scan reads one line from position i.
type scan struct {
	s string
	i int
	p *parser // for intern
}

// blank skips the white space lex skips.
func (c *scan) blank() {
	c.i = skipBlank(c.s, c.i)
}

// skipBlank returns the offset of the first byte at or after i in s that
// is not a blank. (The scanner's methods work on local copies of the
// offset: a loop on c.i reads and writes memory on every byte.)
func skipBlank(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func (c *scan) end() bool {
	c.blank()
	return c.i == len(c.s)
}

// at reports whether the next token starts with byte b (after blanks).
func (c *scan) at(b byte) bool {
	c.blank()
	return c.i < len(c.s) && c.s[c.i] == b
}

// ident returns the name token at i (lex's tIdent: a maximal run of
// isIdentChar from an isIdentStart byte), or "".
func (c *scan) ident() string {
	s := c.s
	i := skipBlank(s, c.i)
	if i >= len(s) || !isIdentStart(s[i]) {
		c.i = i
		return ""
	}
	j := i + 1
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	c.i = j
	return s[i:j]
}

// punct returns the operator token at i, as lex splits it, or "".
func (c *scan) punct() string {
	c.blank()
	if c.i >= len(c.s) {
		return ""
	}
	rest := c.s[c.i:]
	n := 0
	switch ch := rest[0]; {
	case ch == 's' && len(rest) > 1 && (rest[1] == '<' || rest[1] == '>' || rest[1] == '/' || rest[1] == '%'):
		n = signedOpLen(rest)
	case isIdentStart(ch) || isDigit(ch):
	default:
		n = opLen(rest)
	}
	if n == 0 {
		return ""
	}
	c.i += n
	return rest[:n]
}

// expect consumes the operator token op.
func (c *scan) expect(op string) bool {
	save := c.i
	if c.punct() == op {
		return true
	}
	c.i = save
	return false
}

// expectByte consumes the one-byte token b, one of ( ) [ ] (which opLen
// never makes part of a longer operator).
func (c *scan) expectByte(b byte) bool {
	c.blank()
	if c.i < len(c.s) && c.s[c.i] == b {
		c.i++
		return true
	}
	return false
}

// expectOp1 consumes the one-byte operator b, one of = * + - (which opLen
// reads as b= when an '=' follows).
func (c *scan) expectOp1(b byte) bool {
	c.blank()
	if c.i < len(c.s) && c.s[c.i] == b && (c.i+1 == len(c.s) || c.s[c.i+1] != '=') {
		c.i++
		return true
	}
	return false
}

// atSign reports whether a "+" or "-" token is next.
func (c *scan) atSign() bool {
	c.blank()
	return c.i < len(c.s) && (c.s[c.i] == '-' || c.s[c.i] == '+') && (c.i+1 == len(c.s) || c.s[c.i+1] != '=')
}

// sign consumes a "-" or "+" token, as lineParser.number accepts before a
// number; it reports whether there was a minus.
func (c *scan) sign() (neg bool) {
	if c.atSign() {
		neg = c.s[c.i] == '-'
		c.i++
	}
	return neg
}

// number reads an optionally signed number as lineParser.number does, for
// decimal numbers of up to 19 digits and hexadecimal ones of up to 16
// (longer ones go the general way).
func (c *scan) number() (mag uint64, neg, hex, ok bool) {
	neg = c.sign()
	s := c.s
	i := skipBlank(s, c.i)
	if i >= len(s) || !isDigit(s[i]) {
		c.i = i
		return 0, false, false, false
	}
	j := i + 1
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	t := s[i:j]
	c.i = j
	if len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") {
		t = t[2:]
		if len(t) > 16 {
			return 0, false, false, false
		}
		for k := 0; k < len(t); k++ {
			var d byte
			switch ch := t[k]; {
			case ch >= '0' && ch <= '9':
				d = ch - '0'
			case ch >= 'a' && ch <= 'f':
				d = ch - 'a' + 10
			case ch >= 'A' && ch <= 'F':
				d = ch - 'A' + 10
			default:
				return 0, false, false, false
			}
			mag = mag<<4 | uint64(d)
		}
		return mag, neg, true, true
	}
	if len(t) > 19 {
		return 0, false, false, false
	}
	for k := 0; k < len(t); k++ {
		if !isDigit(t[k]) {
			return 0, false, false, false
		}
		mag = mag*10 + uint64(t[k]-'0')
	}
	return mag, neg, false, true
}

// isNumber reports whether a number starts at i (lineParser.isNumber).
func (c *scan) isNumber() bool {
	save := c.i
	c.sign()
	c.blank()
	ok := c.i < len(c.s) && isDigit(c.s[c.i])
	c.i = save
	return ok
}

// imm32 is lineParser.imm32.
func (c *scan) imm32(wrapHex bool) (int64, bool) {
	mag, neg, hex, ok := c.number()
	if !ok {
		return 0, false
	}
	return imm32Of(mag, neg, hex, wrapHex)
}

func imm32Of(mag uint64, neg, hex, wrapHex bool) (int64, bool) {
	switch {
	case neg && mag <= 1<<31:
		return -int64(mag), true
	case !neg && mag <= math.MaxInt32:
		return int64(mag), true
	case !neg && hex && wrapHex && mag <= math.MaxUint32:
		return int64(int32(uint32(mag))), true
	}
	return 0, false
}

// off16 is lineParser.off16.
func (c *scan) off16() (int16, bool) {
	mag, neg, _, ok := c.number()
	switch {
	case !ok:
		return 0, false
	case neg && mag <= 1<<15:
		return int16(-int64(mag)), true
	case !neg && mag <= math.MaxInt16:
		return int16(mag), true
	}
	return 0, false
}

// regOf reads a register name as lineParser.reg accepts it.
func regOf(w string) (reg, bool) {
	if !isRegName(w) || len(w) > 3 || (len(w) == 3 && w[1] == '0') {
		return reg{}, false
	}
	n := int(w[1] - '0')
	if len(w) == 3 {
		n = n*10 + int(w[2]-'0')
	}
	if n > 10 {
		return reg{}, false
	}
	return reg{r: asm.Register(n), w: w[0] == 'w'}, true
}

// reg reads a register token of any width: regOf(c.ident()) without
// taking the name apart twice.
func (c *scan) reg() (reg, bool) {
	c.blank()
	s, i := c.s, c.i
	if i+1 >= len(s) || (s[i] != 'r' && s[i] != 'w') || !isDigit(s[i+1]) {
		return reg{}, false
	}
	n := int(s[i+1] - '0')
	j := i + 2
	if j < len(s) && isDigit(s[j]) {
		// Two digits: only r10 (no leading zero, at most 10).
		if n != 1 || s[j] != '0' {
			return reg{}, false
		}
		n = 10
		j++
	}
	if j < len(s) && isIdentChar(s[j]) {
		return reg{}, false
	}
	c.i = j
	return reg{r: asm.Register(n), w: s[i] == 'w'}, true
}

// regWidth reads a register token of width w.
func (c *scan) regWidth(w bool) (asm.Register, bool) {
	r, ok := c.reg()
	return r.r, ok && r.w == w
}

// atIdent reports whether a name token starts at i.
func (c *scan) atIdent() bool {
	c.blank()
	if c.i >= len(c.s) {
		return false
	}
	ch := c.s[c.i]
	if ch == 's' && c.i+1 < len(c.s) {
		// lex reads "s>", "s<=", ... as operators.
		switch c.s[c.i+1] {
		case '<', '>', '/', '%':
			if signedOpLen(c.s[c.i:]) > 0 {
				return false
			}
		}
	}
	return isIdentStart(ch)
}

// jumpOffset reads a numeric jump target, "+3", "-2" or "pc+3", with
// nothing after it (lineParser.target without labels or annotations).
func (c *scan) jumpOffset() (int16, bool) {
	save := c.i
	if c.ident() == "pc" {
		save2 := c.i
		if op := c.punct(); op != "+" && op != "-" {
			return 0, false
		}
		c.i = save2
	} else {
		c.i = save
	}
	if !c.isNumber() {
		return 0, false
	}
	return c.off16()
}

// size reads a "(u32 *)" cast; signed allows s8, s16 and s32.
func (c *scan) size(signed bool) (size asm.Size, sx, ok bool) {
	if !c.expectByte('(') {
		return 0, false, false
	}
	switch c.ident() {
	case "u8":
		size = asm.Byte
	case "u16":
		size = asm.Half
	case "u32":
		size = asm.Word
	case "u64":
		size = asm.DWord
	case "s8":
		size, sx = asm.Byte, true
	case "s16":
		size, sx = asm.Half, true
	case "s32":
		size, sx = asm.Word, true
	default:
		return 0, false, false
	}
	if sx && !signed {
		return 0, false, false
	}
	return size, sx, c.expectOp1('*') && c.expectByte(')')
}

// memRef reads "(r10 - 4)", "(r1 + 0x10)" or "(r1)".
func (c *scan) memRef() (asm.Register, int16, bool) {
	if !c.expectByte('(') {
		return 0, 0, false
	}
	r, ok := c.regWidth(false)
	if !ok {
		return 0, 0, false
	}
	var off int16
	if c.atSign() {
		if off, ok = c.off16(); !ok {
			return 0, 0, false
		}
	}
	return r, off, c.expectByte(')')
}

// memOperand reads "*(u32 *)(r1 + 4)" (unsigned sizes).
func (c *scan) memOperand() (asm.Size, asm.Register, int16, bool) {
	if !c.expectOp1('*') {
		return 0, 0, 0, false
	}
	size, _, ok := c.size(false)
	if !ok {
		return 0, 0, 0, false
	}
	r, off, ok := c.memRef()
	return size, r, off, ok
}

// store reads "*(u32 *)(r1 + 0) = r2" and "*(u32 *)(r1 + 0) = 5".
func (c *scan) store(it *item) bool {
	size, dst, off, ok := c.memOperand()
	if !ok || !c.expectOp1('=') {
		return false
	}
	if c.atIdent() {
		src, ok := c.reg()
		if !ok {
			return false
		}
		it.ins = asm.StoreMem(dst, off, src.r, size)
		return true
	}
	imm, ok := c.imm32(size != asm.DWord)
	if !ok {
		return false
	}
	it.ins = asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: imm}
	return true
}

// lock reads "lock *(u64 *)(r10 - 8) += r1".
func (c *scan) lock(it *item) bool {
	size, dst, off, ok := c.memOperand()
	if !ok {
		return false
	}
	var aop asm.AtomicOp
	switch c.punct() {
	case "+=":
		aop = asm.AddAtomic
	case "&=":
		aop = asm.AndAtomic
	case "|=":
		aop = asm.OrAtomic
	case "^=":
		aop = asm.XorAtomic
	default:
		return false
	}
	src, ok := c.reg()
	if !ok {
		return false
	}
	op := aop.OpCode(size)
	if op == asm.InvalidOpCode {
		return false
	}
	it.ins = asm.Instruction{OpCode: op, Dst: dst, Src: src.r, Offset: off}
	return true
}

// cond reads "if r1 OP r2 goto +N" and "if r1 OP IMM goto +N".
func (c *scan) cond(it *item) bool {
	dst, ok := c.reg()
	if !ok {
		return false
	}
	cls := asm.JumpClass
	if dst.w {
		cls = asm.Jump32Class
	}
	jop, ok := jumpOpOf(c.punct())
	if !ok {
		return false
	}
	ins := asm.Instruction{Dst: dst.r}
	if c.atIdent() {
		src, ok := c.regWidth(dst.w)
		if !ok {
			return false
		}
		ins.OpCode = asm.OpCode(cls).SetJumpOp(jop).SetSource(asm.RegSource)
		ins.Src = src
	} else {
		imm, ok := c.imm32(true)
		if !ok {
			return false
		}
		ins.OpCode = asm.OpCode(cls).SetJumpOp(jop).SetSource(asm.ImmSource)
		ins.Constant = imm
	}
	if c.ident() != "goto" {
		return false
	}
	off, ok := c.jumpOffset()
	if !ok {
		return false
	}
	ins.Offset = off
	it.ins = ins
	return true
}

// call reads "call 12", "call bpf_map_lookup_elem" and "call LABEL".
func (c *scan) call(it *item) bool {
	callOp := asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call)
	if c.isNumber() {
		n, ok := c.imm32(false)
		it.ins = asm.Instruction{OpCode: callOp, Constant: n}
		return ok
	}
	if !c.atIdent() {
		return false
	}
	name := c.ident()
	if name == "pc" || name == "kernel" || isRegName(name) || !c.end() {
		return false
	}
	if fn, ok := helperByName[name]; ok {
		it.ins = fn.Call()
		return true
	}
	name = c.p.intern(name)
	it.ins = asm.Call.Label(name)
	it.target, it.kind = name, targetCall
	return true
}

// regInsn reads what follows a destination register: "op= src",
// "= src", "= IMM", "= IMM ll", "= -dst", "= (s8)src", "= *(u32 *)(...)",
// "= le16 dst" and "= map[NAME]", "= map[NAME][0]+OFF".
func (c *scan) regInsn(it *item, dst reg) bool {
	cls := aluClass(dst.w)
	op := c.punct()
	if op == "" {
		return false
	}
	if op != "=" {
		aop, ok := aluOpOf(op)
		if !ok {
			return false
		}
		ins := asm.Instruction{Dst: dst.r}
		if c.atIdent() {
			src, ok := c.regWidth(dst.w)
			if !ok {
				return false
			}
			ins.OpCode = asm.OpCode(cls).SetALUOp(aop).SetSource(asm.RegSource)
			ins.Src = src
		} else {
			imm, ok := c.imm32(dst.w)
			if !ok {
				return false
			}
			ins.OpCode = asm.OpCode(cls).SetALUOp(aop).SetSource(asm.ImmSource)
			ins.Constant = imm
		}
		it.ins = ins
		return true
	}

	save := c.i
	switch c.punct() {
	case "-":
		if c.atIdent() {
			// Negation: r1 = -r1.
			src, ok := c.regWidth(dst.w)
			if !ok || src != dst.r {
				return false
			}
			it.ins = asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(asm.Neg).SetSource(asm.ImmSource), Dst: dst.r}
			return true
		}
		c.i = save
		return c.movImm(it, dst)
	case "+":
		c.i = save
		return c.movImm(it, dst)
	case "(":
		// Sign-extending move: r1 = (s8)r2.
		var aop asm.ALUOp
		switch c.ident() {
		case "s8":
			aop = asm.MovSX8
		case "s16":
			aop = asm.MovSX16
		case "s32":
			if dst.w {
				return false
			}
			aop = asm.MovSX32
		default:
			return false
		}
		if !c.expect(")") {
			return false
		}
		src, ok := c.regWidth(dst.w)
		if !ok {
			return false
		}
		it.ins = asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(aop).SetSource(asm.RegSource), Dst: dst.r, Src: src}
		return true
	case "*":
		return c.load(it, dst)
	case "":
	default:
		return false
	}
	c.i = save
	if c.isNumber() {
		return c.movImm(it, dst)
	}
	if !c.atIdent() {
		return false
	}
	name := c.ident()
	if src, ok := regOf(name); ok {
		if src.w != dst.w {
			return false
		}
		it.ins = asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(asm.Mov).SetSource(asm.RegSource), Dst: dst.r, Src: src.r}
		return true
	}
	if isRegName(name) {
		return false
	}
	if e, ok := endianOps[name]; ok {
		src, ok := c.reg()
		if !ok || src.r != dst.r {
			return false
		}
		op := asm.OpCode(e.cls).SetALUOp(asm.Swap)
		if e.cls == asm.ALUClass {
			op = op.SetSource(asm.Source(e.endian))
		}
		it.ins = asm.Instruction{OpCode: op, Dst: dst.r, Constant: e.bits}
		return true
	}
	if name == "map" && !dst.w {
		return c.mapLoad(it, dst)
	}
	return false
}

// movImm reads "r1 = 5", "w1 = 5" and "r1 = 0x123456789 ll"
// (lineParser.movImm).
func (c *scan) movImm(it *item, dst reg) bool {
	mag, neg, hex, ok := c.number()
	if !ok || neg && mag > 1<<63 {
		return false
	}
	v := int64(mag)
	if neg {
		v = int64(-mag)
	}
	save := c.i
	if c.ident() == "ll" {
		if dst.w {
			return false
		}
		it.ins = asm.LoadImm(dst.r, v, asm.DWord)
		return true
	}
	c.i = save
	if !dst.w {
		if (neg && mag <= 1<<31) || (!neg && mag <= math.MaxInt32) {
			it.ins = asm.Mov.Imm(dst.r, int32(v))
		} else {
			it.ins = asm.LoadImm(dst.r, v, asm.DWord)
		}
		return true
	}
	imm, ok := imm32Of(mag, neg, hex, true)
	if !ok {
		return false
	}
	it.ins = asm.Mov.Imm32(dst.r, int32(imm))
	return true
}

// load reads "(u32 *)(r10 - 4)" after "r0 = *" (not packet loads).
func (c *scan) load(it *item, dst reg) bool {
	size, sx, ok := c.size(true)
	if !ok {
		return false
	}
	save := c.i
	if c.ident() == "skb" {
		return false
	}
	c.i = save
	src, off, ok := c.memRef()
	if !ok {
		return false
	}
	if sx {
		it.ins = asm.LoadMemSX(dst.r, src, off, size)
	} else {
		it.ins = asm.LoadMem(dst.r, src, off, size)
	}
	return true
}

// mapLoad reads "[NAME]", "[NAME][0]+OFF" and "[NAME] + OFF" after
// "r1 = map", with an optional "ll", for names made of name characters
// (lineParser.mapLoad).
func (c *scan) mapLoad(it *item, dst reg) bool {
	if !c.expect("[") {
		return false
	}
	c.blank()
	j := c.i
	for j < len(c.s) && isIdentChar(c.s[j]) {
		j++
	}
	name := c.s[c.i:j]
	c.i = j
	if name == "" || !c.expect("]") {
		return false
	}
	value := false
	if c.at('[') {
		c.expect("[")
		k, ok := c.imm32(false)
		if !ok || k != 0 || !c.expect("]") {
			return false
		}
		value = true
	}
	var off uint64
	save := c.i
	if c.punct() == "+" {
		c.blank()
		if c.i >= len(c.s) || !isDigit(c.s[c.i]) {
			return false
		}
		mag, _, _, ok := c.number()
		if !ok || mag > math.MaxUint32 {
			return false
		}
		off = mag
		value = true
	} else {
		c.i = save
	}
	save = c.i
	if c.ident() != "ll" {
		c.i = save
	}
	if value {
		it.ins = asm.LoadMapValue(dst.r, 0, uint32(off))
	} else {
		it.ins = asm.LoadMapPtr(dst.r, 0)
	}
	it.ins = it.ins.WithReference(c.p.intern(name))
	return true
}

// aluOpOf is aluOps[op] without hashing.
func aluOpOf(op string) (asm.ALUOp, bool) {
	switch op {
	case "+=":
		return asm.Add, true
	case "-=":
		return asm.Sub, true
	case "*=":
		return asm.Mul, true
	case "/=":
		return asm.Div, true
	case "%=":
		return asm.Mod, true
	case "&=":
		return asm.And, true
	case "|=":
		return asm.Or, true
	case "^=":
		return asm.Xor, true
	case "<<=":
		return asm.LSh, true
	case ">>=":
		return asm.RSh, true
	case "s>>=":
		return asm.ArSh, true
	case "s/=":
		return asm.SDiv, true
	case "s%=":
		return asm.SMod, true
	}
	return 0, false
}

// jumpOpOf is jumpOps[op] without hashing.
func jumpOpOf(op string) (asm.JumpOp, bool) {
	switch op {
	case "==":
		return asm.JEq, true
	case "!=":
		return asm.JNE, true
	case ">":
		return asm.JGT, true
	case ">=":
		return asm.JGE, true
	case "<":
		return asm.JLT, true
	case "<=":
		return asm.JLE, true
	case "s>":
		return asm.JSGT, true
	case "s>=":
		return asm.JSGE, true
	case "s<":
		return asm.JSLT, true
	case "s<=":
		return asm.JSLE, true
	case "&":
		return asm.JSet, true
	}
	return 0, false
}
