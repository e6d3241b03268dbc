// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"slices"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/session"
)

// Stepping: each pane has its own run of its listing (the target's first
// program on the emulator of the pane's architecture and profile) and a
// position in it. The step keys move the focused pane's position and its
// cursor follows the PC; with the lock on (L), the other pane goes to the
// same execution of the same BPF instruction.

// runMarks is what a pane's position draws on its listing.
type runMarks struct {
	on    bool
	pcRow int // row of the next instruction, -1 outside the listing
	// skipLo..skipHi are the rows of the prologue instructions a tail
	// call that just landed skipped; skipNote is said on the first.
	skipLo, skipHi int
	skipNote       string
	// taken is the arrow group (index + 1) of the edge just taken, 0 for
	// none; fromRow is the row it left.
	taken   uint32
	fromRow int
	view    session.StepView
}

// runMarks computes the marks of the pane's position.
func (p *Pane) runMarks() runMarks {
	mk := runMarks{pcRow: -1, fromRow: -1}
	if p.run == nil || !p.run.Ran || p.l.Err != nil {
		return mk
	}
	mk.on = true
	v := p.run.Step(p.pos)
	mk.view = v
	mk.pcRow = p.l.RowOfAddr(v.PC)
	if e := v.Landed; e != nil && mk.pcRow >= 0 {
		fi := int(p.l.Rows[mk.pcRow].Func)
		f := p.l.Funcs[fi]
		n := 0
		for n < f.Len() && f.Offset(n) < e.Landing {
			n++
		}
		if n > 0 {
			mk.skipLo = p.l.RowOfLine(fi, 0)
			mk.skipHi = p.l.RowOfLine(fi, n-1) + 1
			mk.skipNote = "skipped by tail call"
		}
	}
	if v.Jumped {
		mk.fromRow = p.l.RowOfAddr(v.From)
		if mk.fromRow >= 0 && mk.pcRow >= 0 {
			// The drawn groups ending on the PC's row (those in folded
			// lanes are not drawn, so not emphasized either).
			for _, c := range p.l.Cells(mk.pcRow) {
				if c&session.CellTarget == 0 {
					continue
				}
				g := &p.l.Groups[c>>2-1]
				if slices.Contains(g.Sources, mk.fromRow) {
					mk.taken = c >> 2
				}
			}
		}
	}
	return mk
}

// ensureRun gives pane p its run (computed once per architecture and
// profile by the session).
func (m *Model) ensureRun(p *Pane) *session.Run {
	if p.run == nil {
		p.run = m.sess.Run(p.l)
		p.pos = 0
	}
	return p.run
}

// listingChanged drops a pane's run when its listing runs other code, and
// keeps the position when it is the same code printed again.
func (m *Model) listingChanged(p *Pane) {
	if p.run == nil {
		return
	}
	if r := m.sess.Run(p.l); r != p.run {
		p.run, p.pos = r, 0
	}
}

type stepKind int

const (
	stepInto stepKind = iota
	stepOver
	stepTCC
	stepTail
	stepCall
	stepRestart
)

// step moves the focused pane's position: dir > 0 forward, < 0 back.
func (m *Model) step(k stepKind, dir int) {
	p := m.focused()
	r := m.ensureRun(p)
	if !r.Ran {
		m.fail("no run: %s", oneLine(r.Err.Error()))
		return
	}
	from, to := p.pos, p.pos
	switch k {
	case stepInto:
		to = p.pos + dir
	case stepOver:
		to = r.Over(p.pos, dir)
	case stepRestart:
		to = 0
	default:
		kinds, name := session.KindsTCC, "TCC change"
		switch k {
		case stepTail:
			kinds, name = session.KindsTailCall, "tail call"
		case stepCall:
			kinds, name = session.KindsCall, "call or return"
		}
		pos, _, ok := r.NextEvent(p.pos, dir, kinds)
		if !ok {
			if dir > 0 {
				m.say("no %s after step %d (R restarts the run)", name, p.pos)
			} else {
				m.say("no %s before step %d", name, p.pos)
			}
			return
		}
		to = pos
	}
	to = max(0, min(to, r.Len()))
	switch {
	case to == from && dir > 0 && k != stepRestart:
		m.say("%s (R restarts the run)", endText(r))
		return
	case to == from && dir < 0:
		m.say("at the start of the run")
		return
	}
	m.moveTo(p, to)
	what := m.stepText(p)
	if m.lock {
		o := m.other()
		or := m.ensureRun(o)
		if k == stepRestart && or.Ran {
			m.moveTo(o, 0)
		} else if q := r.Match(to, or); q >= 0 {
			m.moveTo(o, q)
		} else if or.Ran {
			what += fmt.Sprintf(" · %s: no matching step", o.l.Arch)
		}
	} else {
		m.sync()
	}
	m.say("%s", what)
}

// moveTo puts pane p at position pos, its cursor on the PC. A jump out
// of view scrolls to show both ends of the edge just taken when they fit
// (the tail call and, above its landing pad, the prologue it skipped),
// else centres the PC.
func (m *Model) moveTo(p *Pane, pos int) {
	p.pos = pos
	v := p.run.Step(pos)
	r := p.l.RowOfAddr(v.PC)
	if r < 0 && v.Done && pos > 0 {
		// Returned to the kernel: the cursor stays on the last
		// instruction run (the ret), as tour stops place it.
		r = p.l.RowOfAddr(p.run.Step(pos - 1).PC)
	}
	if r < 0 {
		return
	}
	if r < p.top || r >= p.top+p.h {
		lo, hi := r, r
		if f := p.l.RowOfAddr(v.From); v.Jumped && f >= 0 && f != r {
			if e := p.l.FuncRow[p.l.Rows[r].Func]; e < lo && r-e < p.h/2 {
				lo = e // the target's header and prologue
			}
			if span := max(hi, f) - min(lo, f) + 1; span <= p.h-2 {
				lo, hi = min(lo, f), max(hi, f)
			}
		}
		maxTop := max(0, len(p.l.Rows)-p.h)
		p.top = max(0, min(lo-(p.h-(hi-lo+1))/2, maxTop))
	}
	p.SetCursor(r)
}

// stepText is the status line after a step: where the run is, and what
// happened on the way there.
func (m *Model) stepText(p *Pane) string {
	r := p.run
	v := r.Step(p.pos)
	s := fmt.Sprintf("%s step %d/%d", p.l.Arch, p.pos, r.Len())
	if v.Done {
		return s + ": " + endText(r)
	}
	var evs []string
	for _, e := range v.Recent {
		if e.Step == p.pos && e.Kind != trace.Helper {
			evs = append(evs, session.EventText(e))
		}
	}
	for _, e := range evs {
		s += " · " + e
	}
	return s
}

// endText says how the run ended.
func endText(r *session.Run) string {
	if r.Err != nil {
		return "the run stopped: " + oneLine(r.Err.Error())
	}
	return fmt.Sprintf("end of the run: returned to the kernel, r0 = %d", int64(r.Retval))
}

// toggleLock locks or unlocks the panes' positions.
func (m *Model) toggleLock() {
	m.lock = !m.lock
	if !m.lock {
		m.say("panes step independently")
		return
	}
	p, o := m.focused(), m.other()
	r, or := m.ensureRun(p), m.ensureRun(o)
	if q := r.Match(p.pos, or); q >= 0 {
		m.moveTo(o, q)
	}
	m.say("panes locked: a step in one moves the other to the same BPF instruction")
}
