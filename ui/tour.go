// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"strings"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
)

// Tour is a guided tour as playback sees it: stops, each with a caption,
// and a way to put the model at one. ScenarioTour places the stops of a
// scenario's [[tour]] tables itself; a resolver that places stops
// elsewhere (session's, for instance) fits behind the same interface.
type Tour interface {
	Len() int
	// Caption is stop i's paragraph.
	Caption(i int) string
	// Where names stop i's source, "file:line".
	Where(i int) string
	// Place moves m to stop i: listing, profile, cursor, run position and
	// the panes the stop asks for. An error says why the stop could not be
	// shown; the model stays usable.
	Place(m *Model, i int) error
}

// ScenarioTour plays a scenario's tour stops.
type ScenarioTour struct {
	Stops []scenarios.Stop
}

// Len is the number of stops.
func (t ScenarioTour) Len() int { return len(t.Stops) }

// Caption is stop i's text.
func (t ScenarioTour) Caption(i int) string { return t.Stops[i].Text }

// Where is stop i's "file:line".
func (t ScenarioTour) Where(i int) string { return t.Stops[i].Where() }

// Detail says what stop i runs with besides the scenario as written:
// its packet, entry program and prog array slots.
func (t ScenarioTour) Detail(i int) string {
	st := &t.Stops[i]
	var parts []string
	if st.Packet != "" {
		parts = append(parts, "packet "+st.Packet)
	}
	if st.Entry != "" {
		parts = append(parts, "entry "+st.Entry)
	}
	for _, sl := range st.Slots {
		if strings.HasSuffix(sl, "=") {
			sl += "(empty)"
		}
		parts = append(parts, sl)
	}
	return strings.Join(parts, " · ")
}

// Place shows stop i (placeStop).
func (t ScenarioTour) Place(m *Model, i int) error {
	return m.placeStop(&t.Stops[i])
}

// placeStop shows a stop the way `jitscope show --tour` resolves it: the
// stop's slots filled before the JIT runs, its architecture's pane
// focused under its profile, the cursor on its function+offset, address,
// or the run's step or Nth event.
func (m *Model) placeStop(st *scenarios.Stop) error {
	if err := m.useRunConfig(st); err != nil {
		return err
	}
	i := -1
	for j, p := range m.panes {
		if p.l.Arch == st.Arch {
			i = j
			break
		}
	}
	if i < 0 {
		// Neither pane shows the architecture: the focused one switches.
		i = m.focus
		m.prof[i] = st.Profile
		m.recompile(i, st.Arch)
	} else if m.prof[i] != st.Profile {
		m.prof[i] = st.Profile
		m.recompile(i, st.Arch)
	}
	m.setFocus(i)
	p := m.panes[i]
	if p.l.Err != nil {
		return fmt.Errorf("%s: %s", st.Arch, oneLine(p.l.Err.Error()))
	}
	m.setStatePane(st)
	row := -1
	switch st.Position() {
	case "function":
		var err error
		if row, err = RowOfFuncOffset(p.l, st.Function, st.Offset); err != nil {
			return err
		}
	case "address":
		if row = p.l.RowOfAddr(st.Address); row < 0 {
			return fmt.Errorf("no instruction at %#x in the %s listing", st.Address, st.Arch)
		}
	default:
		r := m.ensureRun(p)
		if !r.Ran {
			return fmt.Errorf("no run: %s", oneLine(r.Err.Error()))
		}
		step := st.Step
		if st.Event != "" {
			n, found := 0, false
			for _, e := range r.Events() {
				if e.Kind != st.Event {
					continue
				}
				if n++; n == st.Nth {
					step, found = e.Step, true
					break
				}
			}
			if !found {
				return fmt.Errorf("the run has %d %s event(s), not %d", n, st.Event, st.Nth)
			}
		}
		if step > r.Len() {
			return fmt.Errorf("step %d is past the end of the run (%d steps)", step, r.Len())
		}
		m.moveTo(p, step)
		m.msg = m.stepText(p)
		row = p.cursor
		if step == r.Len() && step > 0 {
			// After the last step the PC is back in the kernel: the
			// cursor stays on the last instruction run, as show --tour
			// places it.
			if lr := p.l.RowOfAddr(r.Step(step - 1).PC); lr >= 0 {
				row = lr
			}
		}
	}
	// The stop's line a third of the way down, where the eye starts.
	p.cursor = row
	maxTop := max(0, len(p.l.Rows)-p.h)
	p.top = max(0, min(row-p.h/3, maxTop))
	m.sync()
	return nil
}

// setStatePane shows the registers, stack and trace when the stop lists
// one of them, and hides them when it lists none, so the listing gets
// the room.
func (m *Model) setStatePane(st *scenarios.Stop) {
	want := false
	for _, p := range st.Panes {
		switch p {
		case "registers", "stack", "trace":
			want = true
		}
	}
	if len(st.Panes) == 0 {
		want = m.stateOn
	}
	if want != m.stateOn {
		m.stateOn = want
		m.resize()
	}
}

// useRunConfig switches to the target as the stop wants it: its prog
// array slots filled before the JIT runs, its entry program and packet
// for runs (as `jitscope show --tour` resolves stops). Each configuration
// is compiled once.
func (m *Model) useRunConfig(st *scenarios.Stop) error {
	tp := m.tp
	key := strings.Join(st.Slots, ",") + "|" + st.Entry + "|" + st.Packet
	if tp == nil || tp.config == key {
		return nil
	}
	sess := tp.sessions[key]
	if sess == nil {
		name := m.sess.Target.Name
		t, err := session.LoadTarget(name)
		if err != nil {
			return err
		}
		if err := session.ApplySlots(t.Set, st.Slots); err != nil {
			return err
		}
		pkt, err := scenarios.PacketFor(name, st.Packet)
		if err != nil {
			return err
		}
		sess = session.FromTarget(t, session.Options{Arches: []kernel.Arch{m.panes[0].l.Arch, m.panes[1].l.Arch},
			Syntax: m.syntax, HideSource: !m.sess.ShowSource(), Entry: st.Entry, Packet: pkt})
		tp.sessions[key] = sess
	}
	m.sess = sess
	for i := range m.panes {
		m.recompile(i, m.panes[i].l.Arch)
		m.panes[i].run = nil
	}
	tp.config = key
	return nil
}

// RowOfFuncOffset finds the row of the instruction at offset bytes into
// function fn ("function" or "program/function").
func RowOfFuncOffset(l *session.Listing, fn string, off int) (int, error) {
	prog, name, ok := strings.Cut(fn, "/")
	if !ok {
		prog, name = "", fn
	}
	for fi, f := range l.Funcs {
		if f.Image.Name != name && f.Image.Ksym != name {
			continue
		}
		if prog != "" && l.Programs[l.FuncProg[fi]].Image.Program != prog {
			continue
		}
		if off >= len(f.Image.Code) {
			return -1, fmt.Errorf("offset %#x is past the end of %s (%d bytes)", off, fn, len(f.Image.Code))
		}
		li := 0
		for li+1 < len(f.Lines) && f.Lines[li+1].Offset <= off {
			li++
		}
		if len(f.Lines) == 0 {
			return l.FuncRow[fi], nil
		}
		return l.RowOfLine(fi, li), nil
	}
	return -1, fmt.Errorf("no function %s in the %s listing", fn, l.Arch)
}

// CursorAddr is the architecture of the focused pane and the address of
// the instruction under its cursor (ok false on a header or blank row).
func (m *Model) CursorAddr() (kernel.Arch, uint64, bool) {
	p := m.focused()
	ln := p.l.Line(p.cursor)
	if ln == nil {
		return p.l.Arch, 0, false
	}
	return p.l.Arch, ln.Addr, true
}
