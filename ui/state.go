// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/session"
)

// The state pane sits under the listings, one block under each: the run's
// position, the registers with their BPF names (changed ones marked * and
// highlighted), the tail call counter and where it lives, the BPF call
// stack and the last events.

// stateLines is the state pane's height; minStateRows the terminal height
// from which it is shown (the listings keep at least 10 rows).
const (
	stateLines   = 13
	minStateRows = 3 + stateLines + 11
)

// valueW is the width of a register's value: 0x and 16 digits.
const valueW = 18

// splitStateW is the narrowest pane that gets its own state block: three
// columns of registers with their BPF names.
const splitStateW = 98

// regLayout is how a block draws its registers: the widths of the
// machine name and of the BPF name (0 when the block is too narrow for
// it), and the columns.
type regLayout struct {
	nameW, bpfW, cols, rows int
}

// layoutRegs fits regs into w columns: as many columns as fit with the
// BPF names, else without them.
func layoutRegs(regs []session.RegView, w int) regLayout {
	var lay regLayout
	for _, r := range regs {
		lay.nameW = max(lay.nameW, len(r.Name)+1)
		lay.bpfW = max(lay.bpfW, len(r.BPF)+1)
	}
	fit := func(bpfW int) int {
		cw := 1 + lay.nameW + bpfW + valueW
		return (w - 1 + 2) / (cw + 2)
	}
	// With the BPF names when every register fits, else without.
	lay.cols = fit(lay.bpfW)
	if lay.cols < 1 || (len(regs)+lay.cols-1)/lay.cols > stateLines-3 {
		if fit(0) > lay.cols {
			lay.bpfW = 0
			lay.cols = fit(0)
		}
	}
	lay.cols = max(lay.cols, 1)
	lay.rows = (len(regs) + lay.cols - 1) / lay.cols
	return lay
}

// stateShown reports whether the state pane is on screen.
func (m *Model) stateShown() bool {
	return m.stateOn && m.c.Height >= minStateRows
}

// statePane draws the state blocks under the visible panes, stateLines
// lines of the terminal's width.
func (m *Model) statePane() []string {
	vis := m.visible()
	if len(vis) == 1 || m.panes[0].w < splitStateW {
		// One block, the focused pane's, when the halves are too narrow
		// for the registers with their BPF names.
		return m.stateBlock(m.focused(), m.c.Width)
	}
	left := m.stateBlock(m.panes[0], m.panes[0].w)
	right := m.stateBlock(m.panes[1], m.panes[1].w)
	rule := m.c.Styles.sgr[sDim][bgNone] + "│" + sgrReset
	out := make([]string, len(left))
	for i := range left {
		out[i] = left[i] + rule + right[i]
	}
	return out
}

// stateBlock draws pane p's run state in w columns.
func (m *Model) stateBlock(p *Pane, w int) []string {
	st := m.c.Styles
	out := make([]string, 0, stateLines)
	var ln line
	emit := func() {
		ln.pad(w, bgNone)
		out = append(out, ln.String())
		ln.reset(st, w)
	}
	ln.reset(st, w)
	ts := sTitle
	if p.focused {
		ts = sTitleFocus
	}
	if p.l.Err != nil {
		ln.text(" run: none, the listing did not compile", ts, bgNone)
		ln.pad(w, bgNone)
		out = append(out, ln.String())
		return m.fill(out, w)
	}
	r := p.run
	if r == nil {
		// A large program's run, being computed (startRuns).
		ln.text(" run: running the program…", ts, bgNone)
		ln.pad(w, bgNone)
		out = append(out, ln.String())
		return m.fill(out, w)
	}
	if !r.Ran {
		ln.text(" run: none", ts, bgNone)
		ln.pad(w, bgNone)
		out = append(out, ln.String())
		ln.reset(st, w)
		for _, s := range wrap(r.Err.Error(), w-4) {
			if len(out) >= stateLines {
				break
			}
			ln.text("  "+s, sError, bgNone)
			emit()
		}
		return m.fill(out, w)
	}
	v := r.Step(p.pos)
	// Title: where the run is.
	ln.text(" "+runTitle(p, v, m.lock), ts, bgNone)
	ln.pad(w, bgNone)
	out = append(out, ln.String())
	ln.reset(st, w)

	regs := r.Regs(p.pos)
	lay := layoutRegs(regs, w)
	rows := min(lay.rows, stateLines-3)
	for row := range rows {
		ln.put(" ", 1, sText, bgNone)
		for col := range lay.cols {
			i := col*lay.rows + row
			if i >= len(regs) {
				break
			}
			if col > 0 {
				ln.put("  ", 2, sText, bgNone)
			}
			if row == rows-1 && rows < lay.rows && col == lay.cols-1 {
				// Too many for the block: say how many are not shown.
				ln.text(fmt.Sprintf("+%d more", len(regs)-i), sDim, bgNone)
				break
			}
			regCell(&ln, regs[i], lay)
		}
		emit()
	}
	// The counter and the call stack.
	ln.put(" ", 1, sText, bgNone)
	if v.TCCKnown {
		ln.text("TCC ", sHeader, bgNone)
		ln.text(fmt.Sprint(v.TCC), sChanged, bgNone)
		where, how := tccWhere(v.TCCWhere)
		ln.text(where, sText, bgNone)
		if how != "" {
			ln.text(" ("+how+")", sDim, bgNone)
		}
	} else {
		ln.text("TCC not set yet", sDim, bgNone)
	}
	ln.text("  │  ", sDim, bgNone)
	ln.text("stack ", sHeader, bgNone)
	if len(v.Frames) == 0 {
		ln.text("(returned to the kernel)", sDim, bgNone)
	}
	for i, f := range v.Frames {
		if i > 0 {
			ln.text(" › ", sDim, bgNone)
		}
		s := sText
		if i == len(v.Frames)-1 {
			s = sBPF
		}
		ln.text(f, s, bgNone)
	}
	emit()
	// The last events, the ones that just happened highlighted.
	n := stateLines - len(out)
	evs := v.Recent
	end := v.Done
	if end {
		n--
	}
	if len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	if len(evs) == 0 && n > 0 {
		ln.text(" no events yet · c: next TCC change · x: next tail call · e: next call/return", sDim, bgNone)
		emit()
	}
	stepW := len(fmt.Sprintf("step %d", r.Len()))
	for _, e := range evs {
		now := e.Step == p.pos
		mark, s := "  ", sText
		if now {
			mark, s = "▸ ", sPC
		}
		ln.text(fmt.Sprintf(" %s%-*s ", mark, stepW, fmt.Sprintf("step %d", e.Step)), sDim, bgNone)
		ln.text(eventLine(e), s, bgNone)
		emit()
	}
	if end {
		if r.Err != nil {
			ln.text(" "+endText(r), sError, bgNone)
		} else {
			ln.text(" "+endText(r), sHeader, bgNone)
		}
		emit()
	}
	return m.fill(out, w)
}

// fill pads a block to stateLines lines.
func (m *Model) fill(out []string, w int) []string {
	for len(out) < stateLines {
		out = append(out, spaces(w))
	}
	return out[:stateLines]
}

// tccWhere words where the tail call counter lives: " in x26", " at
// [x26]" and how to read the location.
func tccWhere(w string) (string, string) {
	switch {
	case strings.HasPrefix(w, "[[") && strings.HasSuffix(w, "]]"):
		return " at " + w, w[2:len(w)-2] + " holds a pointer to it"
	case strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]"):
		in := w[1 : len(w)-1]
		if strings.ContainsAny(in, "+-") {
			return " at " + w, "on the stack"
		}
		return " at " + w, in + " points at it"
	}
	return " in " + w, ""
}

// runTitle is a state block's first line.
func runTitle(p *Pane, v session.StepView, lock bool) string {
	r := p.run
	s := fmt.Sprintf("%s run · step %d of %d", p.l.Arch, v.Pos, r.Len())
	if r.Entry != "" && r.Packet != "" {
		s = fmt.Sprintf("%s run of %s, packet %s · step %d of %d", p.l.Arch, r.Entry, r.Packet, v.Pos, r.Len())
	}
	switch {
	case v.Done && r.Err != nil:
		s += " · stopped"
	case v.Done:
		s += " · returned to the kernel"
	case v.Func != "":
		s += fmt.Sprintf(" · ▶ %s+%#x", v.Func, v.Offset)
		if v.BPF != "" {
			s += " · bpf " + v.BPF
		} else if v.Region != "" && v.Region != jit.RegionBody {
			s += " · " + regionName(v.Region)
		}
	default:
		s += fmt.Sprintf(" · ▶ %#x (outside the listing)", v.PC)
	}
	if lock {
		s += " · locked"
	}
	return s
}

// eventLine words an event for the state pane.
func eventLine(e trace.Event) string {
	return session.EventText(e)
}

// regCell draws one register: the change mark, the machine name, the BPF
// name (or the machine role, dimmed) and the value.
func regCell(ln *line, r session.RegView, lay regLayout) {
	mark, ns, vs := " ", sText, sText
	if r.Changed {
		mark, ns, vs = "*", sChanged, sChanged
	} else if r.Value == 0 {
		vs = sDim
	}
	ln.put(mark, 1, sChanged, bgNone)
	ln.text(fmt.Sprintf("%-*s", lay.nameW, r.Name), ns, bgNone)
	if lay.bpfW > 0 {
		bs := sBPF
		if r.Role {
			bs = sDim
		}
		ln.text(fmt.Sprintf("%-*s", lay.bpfW, r.BPF), bs, bgNone)
	}
	var val string
	switch r.Name {
	case "nzcv":
		val = flagLetters(r.Value, "NZCV", []uint{31, 30, 29, 28})
	case "rflags":
		val = flagLetters(r.Value, "OSZAPC", []uint{11, 7, 6, 4, 2, 0})
	default:
		val = fmt.Sprintf("%#x", r.Value)
	}
	ln.text(fmt.Sprintf("%*s", valueW, val), vs, bgNone)
}

// flagLetters spells flags: upper case set, lower case clear ("nZCv").
func flagLetters(v uint64, names string, bits []uint) string {
	b := []byte(strings.ToLower(names))
	for i, bit := range bits {
		if v>>bit&1 != 0 {
			b[i] = names[i]
		}
	}
	return string(b)
}

// runLine is the one-line summary of the focused pane's run when the state
// pane is off.
func (m *Model) runLine() string {
	p := m.focused()
	if p.l.Err != nil {
		return " run: none"
	}
	if p.run == nil {
		return " run: not started · s steps, r shows registers"
	}
	r := p.run
	if !r.Ran {
		return " run: none: " + oneLine(r.Err.Error())
	}
	v := r.Step(p.pos)
	s := " " + runTitle(p, v, m.lock)
	if v.TCCKnown {
		s += fmt.Sprintf(" · TCC %d in %s", v.TCC, v.TCCWhere)
	}
	if len(v.Frames) > 0 {
		s += " · " + strings.Join(v.Frames, " › ")
	}
	if m.stateOn {
		s += fmt.Sprintf(" · registers need %d rows", minStateRows)
	} else {
		s += " · r: registers"
	}
	return s
}
