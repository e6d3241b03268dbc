// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/session"
)

// Guided tours: t goes to the next stop of the scenario's tour, ctrl+t
// back to the previous one, esc closes the caption. A stop chooses the
// architecture and profile of a pane, the run (entry, packet, slots), the
// cursor or run step, and which panes show; its text is the caption under
// the listings. The stops come resolved from session.ResolveTour, as
// `jitscope show NAME --tour` prints them.

// tourState is the model's tour: resolved once per scenario.
type tourState struct {
	tour *session.Tour
	idx  int // the stop shown, -1 before the first
	open bool
	// caption is the caption's text lines (unstyled), made for width w.
	caption []string
	w       int
	// loading names the target whose tour is being resolved.
	loading string
}

// maxCaption bounds the caption's height: the listings keep the rest.
func (m *Model) maxCaption() int { return max(3, m.c.Height/3) }

// captionLines is the number of lines the caption takes.
func (m *Model) captionLines() int {
	if !m.tour.open {
		return 0
	}
	m.layoutCaption()
	return len(m.tour.caption)
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
// autoplay and recordings drive.
func (m *Model) GoToTourStop(i int) error {
	t, err := m.Tour()
	if err != nil {
		return err
	}
	if i < 0 || i >= len(t.Stops) {
		return fmt.Errorf("%s: no tour stop %d (the tour has %d)", t.Target, i+1, len(t.Stops))
	}
	m.tour.idx, m.tour.open = i, true
	m.applyStop(&t.Stops[i])
	if t.Stops[i].Err != nil {
		return fmt.Errorf("%s: tour stop %d does not resolve: %w", t.Stops[i].Where, i+1, t.Stops[i].Err)
	}
	return nil
}

// tourMsg brings a tour resolved in the background (tourKey).
type tourMsg struct {
	target string
	tour   *session.Tour
	err    error
	dir    int
}

// tourKey handles t and ctrl+t. The first press resolves the tour in the
// background — compiling and running what every stop needs takes a few
// seconds for tours that run a kernel's tail call explosion to the step
// limit — and goes to the stop when it is ready.
func (m *Model) tourKey(dir int) tea.Cmd {
	if m.tour.tour != nil && m.tour.tour.Target == m.sess.Target.Name {
		m.tourStep(dir)
		return nil
	}
	target := m.sess.Target.Name
	if m.tour.loading == target {
		m.say("resolving the guided tour of %s…", target)
		return nil
	}
	m.tour.loading = target
	m.say("resolving the guided tour of %s…", target)
	return func() tea.Msg {
		t, err := session.ResolveTour(target)
		return tourMsg{target: target, tour: t, err: err, dir: dir}
	}
}

// tourReady takes a resolved tour and goes to its first (or last) stop.
func (m *Model) tourReady(msg tourMsg) {
	if msg.target != m.sess.Target.Name {
		return // another scenario was opened meanwhile
	}
	m.tour.loading = ""
	if msg.err != nil {
		m.fail("tour: %s", oneLine(msg.err.Error()))
		return
	}
	m.tour = tourState{tour: msg.tour, idx: -1}
	if msg.dir < 0 {
		m.tour.idx = len(msg.tour.Stops)
	}
	m.tourStep(msg.dir)
}

// tourStep goes to the next (dir > 0) or previous stop.
func (m *Model) tourStep(dir int) {
	if _, err := m.Tour(); err != nil {
		m.fail("tour: %s", oneLine(err.Error()))
		return
	}
	stops := m.tour.tour.Stops
	if len(stops) == 0 {
		m.say("%s has no guided tour", m.sess.Target.Name)
		return
	}
	i := m.tour.idx + dir
	switch {
	case i >= len(stops):
		m.say("end of the tour (%d stops): ctrl+t goes back, esc closes it", len(stops))
		return
	case i < 0:
		m.say("first stop of the tour: t goes on")
		return
	}
	m.tour.idx, m.tour.open = i, true
	m.applyStop(&stops[i])
}

// applyStop shows stop st: its run configuration, its architecture and
// profile in a pane, the panes it asks for, and the cursor or run step.
func (m *Model) applyStop(st *session.TourStop) {
	n := len(m.tour.tour.Stops)
	defer func() {
		m.tour.w = -1 // lay the caption out again
		m.resize()
	}()
	if st.Err != nil {
		m.fail("tour stop %d/%d does not resolve: %s", st.N, n, oneLine(st.Err.Error()))
		return
	}
	if err := m.setRunConfig(st.Config); err != nil {
		m.fail("tour stop %d/%d: %s", st.N, n, oneLine(err.Error()))
		return
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
	}
	if m.focus != i {
		m.setFocus(i)
	}
	if len(st.Panes) > 0 {
		m.zoom = !st.Has("other")
		m.stateOn = st.Has("registers") || st.Has("stack") || st.Has("trace")
	}
	m.resize()
	if st.IsStep() {
		r := m.ensureRun(p)
		if !r.Ran {
			m.fail("tour stop %d/%d: no run: %s", st.N, n, oneLine(r.Err.Error()))
			return
		}
		m.moveTo(p, st.Step)
	} else {
		if p.run != nil {
			p.pos = 0
		}
		if r := p.l.RowOfAddr(st.Address); r >= 0 {
			p.SetCursor(r)
			p.top = max(0, min(r-p.h/3, len(p.l.Rows)-p.h))
		}
	}
	m.sync()
	m.say("tour stop %d/%d · t: next · ctrl+t: back · esc: close", st.N, n)
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

// closeTour hides the caption (the position in the tour is kept).
func (m *Model) closeTour() bool {
	if !m.tour.open {
		return false
	}
	m.tour.open = false
	m.resize()
	m.say("tour closed (t reopens it at the next stop)")
	return true
}

// layoutCaption wraps the current stop's caption to the terminal width.
func (m *Model) layoutCaption() {
	w := m.c.Width
	if m.tour.w == w || m.tour.tour == nil || m.tour.idx < 0 {
		return
	}
	m.tour.w = w
	st := &m.tour.tour.Stops[m.tour.idx]
	head := fmt.Sprintf(" tour %d/%d · %s %s", st.N, len(m.tour.tour.Stops), st.Arch, st.Profile)
	if st.CompatOnly != "" {
		head += " (compatibility model only)"
	}
	if st.Config.Entry != "" {
		head += " · entry " + st.Config.Entry
	}
	if st.Config.Packet != "" {
		head += " · packet " + st.Config.Packet
	}
	if len(st.Config.Slots) > 0 {
		head += " · slots " + strings.Join(st.Config.Slots, " ")
	}
	if st.IsStep() {
		head += fmt.Sprintf(" · step %d", st.Step)
	}
	lines := []string{head}
	text := st.Text
	if st.Err != nil {
		text = "this stop does not resolve: " + st.Err.Error()
	}
	for _, l := range wrap(text, max(w-2, 10)) {
		lines = append(lines, " "+l)
	}
	var extra []string
	t := m.sess.Target
	if st.Has("maps") {
		extra = append(extra, "maps: "+slotsText(t))
	}
	if st.Has("packet") {
		extra = append(extra, packetText(t, st.Config.Packet))
	}
	if st.Has("compat") {
		extra = append(extra, t.CompatSummary()...)
	}
	for _, e := range extra {
		for _, l := range wrap(e, max(w-4, 10)) {
			lines = append(lines, "   "+l)
		}
	}
	if max := m.maxCaption(); len(lines) > max {
		lines = append(lines[:max-1], " … (the rest: jitscope show "+t.Name+" --tour)")
	}
	m.tour.caption = lines
}

// captionView renders the caption.
func (m *Model) captionView() []string {
	m.layoutCaption()
	th := m.c.Styles.Theme
	var out []string
	for i, l := range m.tour.caption {
		st := th.Text
		if i == 0 {
			st = th.OverlayTitle
		}
		out = append(out, st.Render(pad(l, m.c.Width)))
	}
	return out
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
	m.tour.w = -1
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
