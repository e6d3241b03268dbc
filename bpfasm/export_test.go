// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// ParseGeneral is Parse with every line through the general path (lex and
// the line parser), the reference for the fast path.
func ParseGeneral(file string, firstLine int, src string) (asm.Instructions, error) {
	return parse(file, firstLine, src, false)
}

// CheckFastLine returns an error when fastInsn accepts line and the general
// path does not read it as the same instruction, column and label target.
// accepted says whether fastInsn took the line.
func CheckFastLine(line string) (accepted bool, err error) {
	ins, col, canon := canonInsn(line)
	it, ok := fastInsn(line, nil)
	if canon {
		// canonInsn reads a subset of fastInsn's lines.
		if !ok || !sameFields(ins, it.ins) || ins.Metadata != it.ins.Metadata || col != it.col || it.kind != targetNone {
			return true, fmt.Errorf("canonInsn(%q) = %v at column %d, fastInsn %v at column %d (accepted: %v)", line, ins, col, it.ins, it.col, ok)
		}
	}
	if !ok {
		return false, nil
	}
	p := &parser{labels: map[string]labelDef{}, sections: map[string]int{}}
	if err := p.parseLine(line, 1); err != nil {
		return true, fmt.Errorf("fastInsn(%q) accepts the line, the general path says: %v", line, err)
	}
	if len(p.insns) != 1 {
		return true, fmt.Errorf("fastInsn(%q) reads one instruction, the general path %d", line, len(p.insns))
	}
	want := p.insns[0]
	if !sameFields(it.ins, want) || it.ins.Reference() != want.Reference() || it.ins.Symbol() != want.Symbol() {
		return true, fmt.Errorf("fastInsn(%q) = %v (ref %q), general path %v (ref %q)", line, it.ins, it.ins.Reference(), want, want.Reference())
	}
	if it.col != p.lastCol {
		return true, fmt.Errorf("fastInsn(%q): column %d, general path %d", line, it.col, p.lastCol)
	}
	var target string
	kind := targetNone
	if len(p.fixups) > 0 {
		target, kind = p.fixups[0].target, p.fixups[0].kind
	}
	if it.target != target || it.kind != kind {
		return true, fmt.Errorf("fastInsn(%q): target %q kind %d, general path %q kind %d", line, it.target, it.kind, target, kind)
	}
	return true, nil
}

// RefFormatProgram is the fmt-based FormatProgram (formatref_test.go).
var RefFormatProgram = refFormatProgram
