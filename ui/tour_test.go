// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strconv"
	"strings"
	"testing"
	"time"

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
	if _, err := m3.GoToTourStop(last); err != nil {
		t.Fatal(err)
	}
	checkAtStop(t, m3, "syscall-dispatch", &tour.Stops[last])
	if _, err := m3.GoToTourStop(last + 1); err == nil {
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

// fakeClock records what the player schedules.
type fakeClock struct {
	d   []time.Duration
	msg []tea.Msg
}

func (c *fakeClock) sched(d time.Duration, msg tea.Msg) tea.Cmd {
	c.d, c.msg = append(c.d, d), append(c.msg, msg)
	return nil
}

// last returns the last scheduled tour tick.
func (c *fakeClock) lastTick(t *testing.T) (time.Duration, tea.Msg) {
	t.Helper()
	for i := len(c.msg) - 1; i >= 0; i-- {
		if _, ok := c.msg[i].(tourTickMsg); ok {
			return c.d[i], c.msg[i]
		}
	}
	t.Fatal("no tick scheduled")
	return 0, nil
}

// tourModel plays bpf2bpf-tailcall's tour on a fake clock.
func tourModel(t *testing.T, autoplay bool) (*Model, *fakeClock, []session.TourStop) {
	t.Helper()
	sess, err := session.Load("bpf2bpf-tailcall", session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewFromSession(Options{}, themes.Mono(), sess)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 36})
	c := &fakeClock{}
	if _, err := m.StartTour(TourOptions{Autoplay: autoplay, Sched: c.sched}); err != nil {
		t.Fatal(err)
	}
	return m, c, m.tour.tour.Stops
}

func tpress(m *Model, k string) {
	msg := tea.KeyPressMsg{Code: rune(k[0]), Text: k}
	switch k {
	case "space":
		msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "left":
		msg = tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		msg = tea.KeyPressMsg{Code: tea.KeyRight}
	case "esc":
		msg = tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	m.Update(msg)
}

func TestAutoplay(t *testing.T) {
	m, c, stops := tourModel(t, true)
	d, tick := c.lastTick(t)
	if d != Dwell(stops[0].Text) {
		t.Errorf("first dwell %v, want %v", d, Dwell(stops[0].Text))
	}
	if m.TourStop() != 0 || !strings.Contains(m.Render(), "tour 1/9 · playing") {
		t.Fatalf("stop %d, screen:\n%s", m.TourStop(), m.Render())
	}
	m.Update(tick)
	if m.TourStop() != 1 {
		t.Fatalf("after the tick: stop %d, want 1", m.TourStop())
	}
	// Pausing makes the pending tick stale.
	_, tick = c.lastTick(t)
	tpress(m, "space")
	m.Update(tick)
	if m.TourStop() != 1 || !strings.Contains(m.Render(), "tour 2/9 · paused") {
		t.Errorf("a tick after pausing moved the tour to stop %d", m.TourStop())
	}
	tpress(m, "right")
	tpress(m, "right")
	tpress(m, "left")
	if m.TourStop() != 2 {
		t.Errorf("right right left from stop 1: stop %d, want 2", m.TourStop())
	}
	// Faster: the next dwell is shorter.
	tpress(m, "space")
	d1, _ := c.lastTick(t)
	tpress(m, "+")
	d2, _ := c.lastTick(t)
	if !(d2 < d1) || !strings.Contains(m.Render(), "1.5×") {
		t.Errorf("+ changed the dwell from %v to %v", d1, d2)
	}
	tpress(m, "-")
	tpress(m, "-")
	if d3, _ := c.lastTick(t); d3 <= d1 {
		t.Errorf("- - gave a dwell of %v, want more than %v", d3, d1)
	}
}

// A key that is not the player's acts as usual, pauses the playback and
// shows in the key overlay until it fades.
func TestKeyOverlay(t *testing.T) {
	m, c, _ := tourModel(t, true)
	before := m.focused().cursor
	tpress(m, "j")
	if m.focused().cursor != before+1 {
		t.Errorf("j did not move the cursor")
	}
	if s := m.Render(); !strings.Contains(s, "⌨ j") || !strings.Contains(s, "paused") {
		t.Errorf("after j: no key overlay or still playing:\n%s", s)
	}
	var fade tea.Msg
	for i, msg := range c.msg {
		if _, ok := msg.(keyFadeMsg); ok {
			fade = msg
			if c.d[i] != KeyOverlayTime {
				t.Errorf("fade after %v, want %v", c.d[i], KeyOverlayTime)
			}
		}
	}
	m.Update(fade)
	if strings.Contains(m.Render(), "⌨") {
		t.Error("the key overlay did not fade")
	}
}

func TestTourEndAndLeave(t *testing.T) {
	m, c, stops := tourModel(t, true)
	for range stops {
		_, tick := c.lastTick(t)
		m.Update(tick)
	}
	if s := m.Render(); m.TourStop() != len(stops)-1 || !strings.Contains(s, "end of the tour") {
		t.Fatalf("after every tick: stop %d\n%s", m.TourStop(), s)
	}
	tpress(m, "space") // again, from the start
	if m.TourStop() != 0 || !m.TourPlaying() {
		t.Errorf("space at the end: stop %d playing %v, want 0 true", m.TourStop(), m.TourPlaying())
	}
	tpress(m, "esc")
	if m.InTour() || strings.Contains(m.Render(), "tour 1/9") {
		t.Error("esc did not leave the tour")
	}
}

// The caption bar takes its lines from the listings: every frame is the
// terminal's height, at any size.
func TestCaptionFits(t *testing.T) {
	m, _, stops := tourModel(t, false)
	for _, sz := range [][2]int{{60, 15}, {80, 24}, {120, 36}, {200, 60}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for i := range stops {
			m.GoToTourStop(i)
			lines := strings.Split(m.Render(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%dx%d stop %d: %d lines", sz[0], sz[1], i+1, len(lines))
			}
		}
	}
}

// Keys typed into the search line show in the overlay too.
func TestKeyOverlaySearch(t *testing.T) {
	m, _, _ := tourModel(t, false)
	for _, k := range []string{"/", "x", "2"} {
		tpress(m, k)
	}
	if s := m.Render(); !strings.Contains(s, "⌨ / x 2") || m.mode != modeSearch {
		t.Errorf("after / x 2: mode %v, screen:\n%s", m.mode, s)
	}
}

// One tour, two ways to walk it: the player's keys only act while it
// runs (t/ctrl+t there too), and after esc the same stops are walked by
// hand with t, while space, ←/→ and - are the listing's keys again.
func TestTourKeysPlayerAndManual(t *testing.T) {
	m, c, stops := tourModel(t, true)
	tpress(m, "t")
	if m.TourStop() != 1 || !m.TourPlaying() {
		t.Fatalf("t while playing: stop %d playing %v, want 1 true", m.TourStop(), m.TourPlaying())
	}
	d, _ := c.lastTick(t)
	if d != Dwell(stops[1].Text) {
		t.Errorf("t while playing scheduled %v, want stop 2's dwell %v", d, Dwell(stops[1].Text))
	}
	ctrlT(m)
	if m.TourStop() != 0 {
		t.Errorf("ctrl+t while playing: stop %d, want 0", m.TourStop())
	}
	if s := ansi.Strip(m.Render()); !strings.Contains(s, "space pause · ←/→ stop · +/- speed · esc leave") {
		t.Errorf("the playing caption does not show its keys:\n%s", s)
	}
	tpress(m, "esc")
	if m.InTour() || m.tp != nil {
		t.Fatal("esc did not leave the tour")
	}
	press(m, "t")
	if m.TourStop() != 1 || m.TourPlaying() {
		t.Errorf("t after esc: stop %d playing %v, want 1 by hand", m.TourStop(), m.TourPlaying())
	}
	if s := ansi.Strip(m.Render()); !strings.Contains(s, "t next · ctrl+t back · esc close") || strings.Contains(s, "playing") {
		t.Errorf("the caption walked by hand:\n%s", s)
	}
	// Without the player, ←/→ move between functions and - goes back.
	p := m.focused()
	before := p.cursor
	tpress(m, "right")
	if m.TourStop() != 1 || p.cursor == before {
		t.Errorf("→ by hand: stop %d cursor %d (was %d), want stop 1 and the next function", m.TourStop(), p.cursor, before)
	}
	// Help lists both.
	press(m, "?")
	help := ansi.Strip(m.Render())
	for _, want := range []string{"ctrl+t", "close the tour", "tour playing: pause/play", "tour playing: prev/next stop", "tour playing: speed", "packet / context"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// jitscope tour: the tour resolved in the background starts playing
// from its first stop when it arrives.
func TestTourResolvedThenPlayed(t *testing.T) {
	m := newScenarioTest(t, "bpf2bpf-tailcall", 120, 36)
	c := &fakeClock{}
	msg := resolveTour("bpf2bpf-tailcall", 1, &TourOptions{Autoplay: true, Sched: c.sched})()
	m.Update(msg)
	if m.TourStop() != 0 || !m.TourPlaying() || len(c.msg) == 0 {
		t.Errorf("after the tour arrived: stop %d playing %v, %d timers", m.TourStop(), m.TourPlaying(), len(c.msg))
	}
}
