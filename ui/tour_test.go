// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

func newScenarioTest(t *testing.T, name string, w, h int) *Model {
	t.Helper()
	sess, err := session.Load(name, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	th, _ := themes.ByName("dark", true)
	m := NewFromSession(Options{Theme: "dark"}, th, sess)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func ctrlT(m *Model) { m.Update(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl}) }

// checkAtStop checks the focused pane shows stop st: its architecture and
// profile, the cursor on the stop's instruction, the run at its step, and
// the stop's text in the caption.
func checkAtStop(t *testing.T, m *Model, name string, st *session.TourStop) {
	t.Helper()
	what := name + " stop " + st.Where
	if st.Err != nil {
		t.Errorf("%s does not resolve: %v", what, st.Err)
		return
	}
	p := m.focused()
	if p.l.Arch != st.Arch || p.l.Profile == nil || p.l.Profile.Name != st.Profile {
		t.Errorf("%s: focused pane %s %v, want %s %s", what, p.l.Arch, p.l.Profile.Name, st.Arch, st.Profile)
		return
	}
	if ln := p.l.Line(p.cursor); ln == nil || ln.Addr != st.Address {
		t.Errorf("%s: cursor on %+v, want the instruction at %#x (%s)", what, ln, st.Address, st.Insn)
	}
	if st.IsStep() {
		if p.run == nil || p.pos != st.Step {
			t.Errorf("%s: run position %d, want step %d", what, p.pos, st.Step)
		}
		if p.run != nil && p.run.Entry != st.Config.Entry && st.Config.Entry != "" {
			t.Errorf("%s: run of %s, want %s", what, p.run.Entry, st.Config.Entry)
		}
	}
	if m.zoom == st.Has("other") && len(st.Panes) > 0 {
		t.Errorf("%s: zoom %v with panes %v", what, m.zoom, st.Panes)
	}
	screen := ansi.Strip(m.Render())
	words := strings.Fields(st.Text)
	if !strings.Contains(screen, strings.Join(words[:min(4, len(words))], " ")) {
		t.Errorf("%s: the caption does not show the stop's text %q", what, st.Text)
	}
	if st.CompatOnly != "" && !strings.Contains(screen, "compatibility model only") {
		t.Errorf("%s: a compatibility profile without its note", what)
	}
}

// TestTourWalkAllScenarios walks every built-in scenario's tour with t to
// the end, then back with ctrl+t: every stop puts the TUI where the
// session's resolution says, with its text on screen.
func TestTourWalkAllScenarios(t *testing.T) {
	for _, b := range scenarios.Builtins() {
		t.Run(b.Name, func(t *testing.T) {
			m := newScenarioTest(t, b.Name, 200, 60)
			tour, err := session.ResolveTour(b.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(tour.Stops) == 0 {
				t.Fatalf("%s has no tour", b.Name)
			}
			// The first t resolves the tour in the background: run the
			// command as the program would.
			_, cmd := m.Update(tea.KeyPressMsg{Code: 't', Text: "t"})
			if cmd == nil || !strings.Contains(m.msg, "resolving the guided tour") {
				t.Fatalf("the first t started no resolution (%q)", m.msg)
			}
			m.Update(cmd())
			checkAtStop(t, m, b.Name, &tour.Stops[0])
			for i := 1; i < len(tour.Stops); i++ {
				press(m, "t")
				checkAtStop(t, m, b.Name, &tour.Stops[i])
				requireShape(t, m)
			}
			press(m, "t")
			if !strings.Contains(m.msg, "end of the tour") {
				t.Errorf("after the last stop: %q", m.msg)
			}
			for i := len(tour.Stops) - 2; i >= 0; i-- {
				ctrlT(m)
				checkAtStop(t, m, b.Name, &tour.Stops[i])
			}
			press(m, "esc")
			if m.tour.open || strings.Contains(ansi.Strip(m.Render()), " tour 1/") {
				t.Error("esc left the caption open")
			}
		})
	}
}

// TestPacketChooser chooses the packet-parser's packets in the TUI: each
// rerun ends as the scenario says (tcp 80, udp 53, icmp and arp 0).
func TestPacketChooser(t *testing.T) {
	m := newScenarioTest(t, "packet-parser", 160, 50)
	want := map[string]int64{"tcp": 80, "udp": 53, "icmp": 0, "arp": 0}
	names := []string{}
	for _, pk := range m.sess.Target.Scenario.Packets {
		names = append(names, pk.Name)
	}
	if len(names) < 3 {
		t.Fatalf("packets %v", names)
	}
	for i, name := range names {
		press(m, "w")
		if m.mode != modePicker {
			t.Fatal("w did not open the packet picker")
		}
		press(m, "g")
		for range i {
			press(m, "j")
		}
		press(m, "enter")
		if m.sess.RunConfig().Packet != name {
			t.Fatalf("packet %q chosen, want %q", m.sess.RunConfig().Packet, name)
		}
		for _, p := range m.panes {
			r := m.ensureRun(p)
			if r.Err != nil || !r.Ran {
				t.Fatalf("%s run with %s: %v", p.l.Arch, name, r.Err)
			}
			if w, ok := want[name]; ok && int64(r.Retval) != w {
				t.Errorf("%s run with packet %s: r0 = %d, want %d", p.l.Arch, name, int64(r.Retval), w)
			}
			if r.Packet != name {
				t.Errorf("%s run says packet %q, want %q", p.l.Arch, r.Packet, name)
			}
		}
		if w, ok := want[name]; ok && !strings.Contains(m.msg, "r0 = "+strconv.FormatInt(w, 10)) {
			t.Errorf("message after choosing %s: %q", name, m.msg)
		}
	}
	// syscall-dispatch's context (struct seccomp_data) is its packet.
	m3 := newScenarioTest(t, "syscall-dispatch", 160, 50)
	for i, want := range []int64{13, 4096, 0, 0} { // write, read, getpid, bogus
		press(m3, "w", "g")
		for range i {
			press(m3, "j")
		}
		press(m3, "enter")
		if r := m3.ensureRun(m3.focused()); int64(r.Retval) != want {
			t.Errorf("syscall-dispatch packet %q: r0 = %d, want %d", m3.sess.RunConfig().Packet, int64(r.Retval), want)
		}
	}
	// GoToTourStop, what autoplay drives, lands where t does.
	tour, err := m3.Tour()
	if err != nil || len(tour.Stops) == 0 {
		t.Fatalf("tour %v %v", tour, err)
	}
	last := len(tour.Stops) - 1
	if err := m3.GoToTourStop(last); err != nil {
		t.Fatal(err)
	}
	checkAtStop(t, m3, "syscall-dispatch", &tour.Stops[last])
	if err := m3.GoToTourStop(last + 1); err == nil {
		t.Error("a stop past the end")
	}
	// A scenario without packets says so.
	m2 := newScenarioTest(t, "selftest-tailcall1", 160, 50)
	press(m2, "w")
	if m2.mode == modePicker || !strings.Contains(m2.msg, "declares no packets") {
		t.Errorf("w on a scenario without packets: mode %d, %q", m2.mode, m2.msg)
	}
}

// TestCompatProfileLabelled: v5.15 and v6.6 are offered and shown as
// compatibility models only.
func TestCompatProfileLabelled(t *testing.T) {
	m := newScenarioTest(t, "freplace-tailcall", 200, 50)
	press(m, "p")
	if m.mode != modePicker {
		t.Fatal("p did not open the profile picker")
	}
	box := ansi.Strip(strings.Join(m.picker.view(200), "\n"))
	for _, name := range []string{"v5.15", "v6.6"} {
		i := strings.Index(box, name+" ≈")
		if i < 0 {
			t.Fatalf("picker has no %s ≈:\n%s", name, box)
		}
		line := box[i:]
		line, _, _ = strings.Cut(line, "\n")
		if !strings.Contains(line, "compatibility model only") {
			t.Errorf("picker line for %s: %q", name, line)
		}
	}
	// Choose v6.6: the pane title and the message say so.
	for i, it := range m.picker.items {
		if it.value == "v6.6" {
			m.picker.cursor = i
		}
	}
	press(m, "enter")
	if m.focused().l.Profile.Name != "v6.6" {
		t.Fatalf("profile %s", m.focused().l.Profile.Name)
	}
	if !strings.Contains(m.focused().Title(), "v6.6 (compatibility model only)") || !strings.Contains(m.msg, "compatibility model only") {
		t.Errorf("title %q, message %q", m.focused().Title(), m.msg)
	}
}

// TestTourCaptionShapes: with the caption open the screen keeps its
// exact size, from the minimum terminal up, and the caption never takes
// more than a third of it.
func TestTourCaptionShapes(t *testing.T) {
	for _, sz := range [][2]int{{MinWidth, MinHeight}, {80, 24}, {100, 30}, {160, 50}} {
		m := newScenarioTest(t, "freplace-tailcall", sz[0], sz[1])
		if _, err := m.Tour(); err != nil {
			t.Fatal(err)
		}
		for range 4 { // stop 4 has the compat lines
			press(m, "t")
		}
		requireShape(t, m)
		if n := m.captionLines(); n < 3 || n > max(3, sz[1]/3) {
			t.Errorf("%dx%d: caption of %d lines", sz[0], sz[1], n)
		}
		if !strings.Contains(ansi.Strip(m.Render()), " tour 4/") {
			t.Errorf("%dx%d: no caption header", sz[0], sz[1])
		}
	}
}
