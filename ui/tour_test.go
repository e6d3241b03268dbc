// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

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

func tourModel(t *testing.T, autoplay bool) (*Model, *fakeClock, []scenarios.Stop) {
	t.Helper()
	sc, err := scenarios.LoadScenario("bpf2bpf-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := session.Load("bpf2bpf-tailcall", session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewFromSession(Options{}, themes.Mono(), sess)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 36})
	c := &fakeClock{}
	m.StartTour(ScenarioTour{Stops: sc.Tour}, TourOptions{Autoplay: autoplay, Sched: c.sched})
	return m, c, sc.Tour
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
			m.GotoStop(i)
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
