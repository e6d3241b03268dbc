// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
)

// Guided tours: t goes to the next stop of the scenario's tour, ctrl+t
// back to the previous one, esc closes the caption. A stop chooses the
// architecture and profile of a pane, the run (entry, packet, slots), the
// cursor or run step, and which panes show; its text is the caption under
// the listings (caption.go). The stops come resolved from
// session.ResolveTour, as `jitscope show NAME --tour` prints them; this
// file only puts the model where a resolved stop says. Autoplay
// (autoplay.go) and recordings (package record) walk the same stops.

// tourState is the model's tour: resolved once per scenario.
type tourState struct {
	tour *session.Tour
	idx  int // the stop shown, -1 before the first
	open bool
	// err says why the stop shown could not be shown, "file:line: reason".
	err string
	// The caption's layout: made for a w×h terminal, height lines.
	w, h, height int
	// loading names the target whose tour is being resolved.
	loading string
}

// Tour returns the scenario's guided tour, resolved on first use (the
// stops a viewer, an autoplay or a recording walks).
func (m *Model) Tour() (*session.Tour, error) {
	if m.tour.tour == nil || m.tour.tour.Target != m.sess.Target.Name {
		t, err := session.ResolveTour(m.sess.Target.Name)
		if err != nil {
			return nil, err
		}
		m.tour = tourState{tour: t, idx: -1}
	}
	return m.tour.tour, nil
}

// GoToTourStop shows stop i (0-based) of the tour as t would: what
// autoplay, walkthrough scripts and recordings drive. When the tour is
// playing, the command schedules the next stop. An error says the stop
// does not exist or could not be shown (TourErr keeps the latter for
// the caption).
func (m *Model) GoToTourStop(i int) (tea.Cmd, error) {
	t, err := m.Tour()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(t.Stops) {
		return nil, fmt.Errorf("%s: no tour stop %d (the tour has %d)", t.Target, i+1, len(t.Stops))
	}
	cmd := m.showStop(i)
	if m.tour.err != "" {
		return cmd, fmt.Errorf("tour stop %d does not resolve: %s", i+1, m.tour.err)
	}
	return cmd, nil
}

// TourStop is the stop shown (from 0), -1 when the caption is closed or
// before the first stop.
func (m *Model) TourStop() int {
	if !m.tour.open {
		return -1
	}
	return m.tour.idx
}

// InTour reports whether the tour's caption is shown.
func (m *Model) InTour() bool { return m.tour.open }

// TourErr says why the stop shown could not be shown ("" when it was),
// as "file:line: reason".
func (m *Model) TourErr() string {
	if !m.tour.open {
		return ""
	}
	return m.tour.err
}

// tourMsg brings a tour resolved in the background (tourKey, RunTour).
type tourMsg struct {
	target string
	tour   *session.Tour
	err    error
	dir    int
	// play starts autoplay with these options once the tour is ready.
	play *TourOptions
}

// resolveTour resolves target's tour off the event loop.
func resolveTour(target string, dir int, play *TourOptions) tea.Cmd {
	return func() tea.Msg {
		t, err := session.ResolveTour(target)
		return tourMsg{target: target, tour: t, err: err, dir: dir, play: play}
	}
}

// tourKey handles t and ctrl+t. The first press resolves the tour in the
// background — compiling and running what every stop needs takes a few
// seconds for tours that run a kernel's tail call explosion to the step
// limit — and goes to the stop when it is ready.
func (m *Model) tourKey(dir int) tea.Cmd {
	if m.tour.tour != nil && m.tour.tour.Target == m.sess.Target.Name {
		return m.tourStep(dir)
	}
	target := m.sess.Target.Name
	if m.tour.loading == target {
		m.say("resolving the guided tour of %s…", target)
		return nil
	}
	m.tour.loading = target
	m.say("resolving the guided tour of %s…", target)
	return resolveTour(target, dir, nil)
}

// tourReady takes a resolved tour and goes to its first (or last) stop,
// or starts playing it.
func (m *Model) tourReady(msg tourMsg) tea.Cmd {
	if msg.target != m.sess.Target.Name {
		return nil // another scenario was opened meanwhile
	}
	m.tour.loading = ""
	if msg.err != nil {
		m.fail("tour: %s", oneLine(msg.err.Error()))
		return nil
	}
	m.tour = tourState{tour: msg.tour, idx: -1}
	if msg.play != nil {
		cmd, _ := m.StartTour(*msg.play)
		return cmd
	}
	if msg.dir < 0 {
		m.tour.idx = len(msg.tour.Stops)
	}
	return m.tourStep(msg.dir)
}

// tourStep goes to the next (dir > 0) or previous stop.
func (m *Model) tourStep(dir int) tea.Cmd {
	if _, err := m.Tour(); err != nil {
		m.fail("tour: %s", oneLine(err.Error()))
		return nil
	}
	stops := m.tour.tour.Stops
	if len(stops) == 0 {
		m.say("%s has no guided tour", m.sess.Target.Name)
		return nil
	}
	i := m.tour.idx + dir
	switch {
	case i >= len(stops):
		if m.tp != nil {
			m.tourEnded()
		}
		m.say("end of the tour (%d stops): ctrl+t goes back, esc closes it", len(stops))
		return nil
	case i < 0:
		m.say("first stop of the tour: t goes on")
		return nil
	}
	return m.showStop(i)
}

// showStop shows stop i with its caption open and, when the tour is
// playing, schedules the next stop.
func (m *Model) showStop(i int) tea.Cmd {
	m.tour.idx, m.tour.open, m.tour.err = i, true, ""
	if tp := m.tp; tp != nil {
		tp.done, tp.caption = false, ""
		tp.gen++
	}
	st := &m.tour.tour.Stops[i]
	if err := m.applyStop(st); err != nil {
		m.tour.err = fmt.Sprintf("%s: %s", st.Where, oneLine(err.Error()))
		m.fail("tour stop %d/%d: %s", st.N, len(m.tour.tour.Stops), m.tour.err)
	}
	m.relayoutCaption()
	return m.scheduleNext()
}

// applyStop shows stop st: its run configuration, its architecture and
// profile in a pane, the panes it asks for, and the cursor or run step.
// An error says why it could not (the model stays usable).
func (m *Model) applyStop(st *session.TourStop) error {
	if st.Err != nil {
		return fmt.Errorf("does not resolve: %w", st.Err)
	}
	if err := m.setRunConfig(st.Config); err != nil {
		return err
	}
	// The pane: one showing the stop's architecture (the focused one
	// first), else the focused pane switches to it.
	i := m.focus
	if m.panes[i].l.Arch != st.Arch && m.panes[1-i].l.Arch == st.Arch {
		i = 1 - i
	}
	p := m.panes[i]
	if p.l.Arch != st.Arch || p.l.Profile == nil || p.l.Profile.Name != st.Profile {
		m.prof[i] = st.Profile
		m.recompile(i, st.Arch)
		p = m.panes[i]
	}
	if p.l.Err != nil {
		return fmt.Errorf("%s: %s", st.Arch, oneLine(p.l.Err.Error()))
	}
	if m.focus != i {
		m.setFocus(i)
	}
	if len(st.Panes) > 0 {
		m.zoom = !st.Has("other")
		m.stateOn = st.Has("registers") || st.Has("stack") || st.Has("trace")
	}
	m.tour.open = true
	m.relayoutCaption()
	if st.IsStep() {
		r := m.ensureRun(p)
		if !r.Ran {
			return fmt.Errorf("no run: %s", oneLine(r.Err.Error()))
		}
		m.moveTo(p, st.Step)
		m.say("%s", m.stepText(p))
	} else {
		if p.run != nil {
			p.pos = 0
		}
		m.say("tour stop %d/%d", st.N, len(m.tour.tour.Stops))
	}
	// The stop's instruction a third of the way down, where the eye
	// starts.
	if r := p.l.RowOfAddr(st.Address); r >= 0 {
		p.SetCursor(r)
		p.top = max(0, min(r-p.h/3, len(p.l.Rows)-p.h))
	}
	m.sync()
	return nil
}

// setRunConfig changes what the runs execute and brings the panes' runs
// (and, when the slots changed, their listings) up to date.
func (m *Model) setRunConfig(cfg session.RunConfig) error {
	recompiled, err := m.sess.SetRunConfig(cfg)
	if err != nil {
		return err
	}
	for i, p := range m.panes {
		if recompiled {
			m.recompile(i, p.l.Arch)
		} else {
			m.listingChanged(p)
		}
	}
	return nil
}

// closeTour hides the caption (the position in the tour is kept) and
// stops the player.
func (m *Model) closeTour() bool {
	if !m.tour.open {
		return false
	}
	m.tour.open, m.tp = false, nil
	m.resize()
	m.say("tour closed (t reopens it at the next stop)")
	return true
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

// slotsText lists the filled prog array slots: "jmp_table: [0]=target".
func slotsText(t *session.Target) string {
	var parts []string
	for _, mp := range t.Set.Maps {
		if !mp.IsProgArray() {
			continue
		}
		var keys []uint32
		for k := range mp.Progs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var s []string
		for _, k := range keys {
			s = append(s, fmt.Sprintf("[%d]=%s", k, mp.Progs[k]))
		}
		if len(s) == 0 {
			s = []string{"all slots empty"}
		}
		parts = append(parts, fmt.Sprintf("%s (max_entries %d): %s", mp.Name, mp.MaxEntries, strings.Join(s, " ")))
	}
	if len(parts) == 0 {
		return "no prog arrays"
	}
	return strings.Join(parts, " · ")
}

// packetText names the packet of the runs and shows its first bytes.
func packetText(t *session.Target, name string) string {
	data, err := t.Packet(name)
	if err != nil {
		return "packet: " + err.Error()
	}
	if name == "" {
		name = "default"
		if t.Scenario != nil && len(t.Scenario.Packets) > 0 {
			name = t.Scenario.Packets[0].Name + " (default)"
		}
	}
	if data == nil {
		return "packet: the emulator's 64-byte Ethernet/IPv4/TCP frame"
	}
	return fmt.Sprintf("packet %s, %d bytes: % x", name, len(data), data[:min(len(data), 32)])
}

// packetPicker lets the user choose the packet (the run's input) among
// those the scenario declares; the runs are made again with it.
func (m *Model) packetPicker() {
	t := m.sess.Target
	if t.Scenario == nil || len(t.Scenario.Packets) == 0 {
		m.say("%s declares no packets: runs use the emulator's 64-byte Ethernet/IPv4/TCP frame", t.Name)
		return
	}
	var items []item
	for i, pk := range t.Scenario.Packets {
		desc := fmt.Sprintf("%d bytes: % x", len(pk.Data), pk.Data[:min(len(pk.Data), 12)])
		if i == 0 {
			desc += " (default)"
		}
		items = append(items, item{value: pk.Name, label: pk.Name, desc: desc})
	}
	cur := m.sess.RunConfig().Packet
	if cur == "" {
		cur = t.Scenario.Packets[0].Name
	}
	m.picker = newPicker(m.c, "packet (the run's input)", items, cur, func(v string) tea.Cmd {
		m.choosePacket(v)
		return nil
	})
	m.mode = modePicker
}

// choosePacket reruns both panes with packet v and says how they end.
func (m *Model) choosePacket(v string) {
	cfg := m.sess.RunConfig()
	cfg.Packet = v
	if err := m.setRunConfig(cfg); err != nil {
		m.fail("%s", oneLine(err.Error()))
		return
	}
	var res []string
	for _, p := range m.visible() {
		if p.l.Err != nil {
			continue
		}
		r := m.ensureRun(p)
		if r.Ran {
			m.moveTo(p, 0)
		}
		res = append(res, fmt.Sprintf("%s: %s", p.l.Arch, runOutcome(r)))
	}
	m.relayoutCaption()
	m.say("packet %s · %s", v, strings.Join(res, " · "))
}

// runOutcome says in a few words how a run ended.
func runOutcome(r *session.Run) string {
	if !r.Ran || r.Err != nil {
		if r.Err == nil {
			return "no run"
		}
		return "stopped: " + oneLine(r.Err.Error())
	}
	return fmt.Sprintf("r0 = %d, %d tail calls", int64(r.Retval), r.TailCalls)
}
