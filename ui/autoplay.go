// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"io"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
)

// Tour playback: the stops of the scenario's tour (session.ResolveTour,
// the ones t and ctrl+t walk) shown one after the other at a reading
// pace, with the stop's paragraph in the caption (caption.go). While the
// player runs, space pauses, ←/→ (as ctrl+t/t) go to the previous/next
// stop, +/- change the speed, esc leaves the tour; other keys act as
// usual (and pause the playback: the viewer has taken over), shown a
// moment in a key overlay so a recording shows what was pressed.
//
// Time comes in as messages the player asked for through its scheduler:
// tea.Tick in a terminal, a virtual clock in the headless recorder
// (package record), which makes recordings deterministic.

// Scheduler delivers msg after d; it returns the command that does it
// (nil when the scheduler queues the message itself).
type Scheduler func(d time.Duration, msg tea.Msg) tea.Cmd

// TickScheduler is the terminal's: tea.Tick.
func TickScheduler(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}

// Speeds are the playback speeds +/- step through.
var Speeds = []float64{0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 8}

// KeyOverlayTime is how long a pressed key stays in the key overlay.
const KeyOverlayTime = 1500 * time.Millisecond

// Dwell is how long autoplay stays on a stop whose caption is text at
// speed 1: two seconds to look, and a quarter second per word (240 words
// a minute, an unhurried reading pace).
func Dwell(text string) time.Duration {
	return 2*time.Second + time.Duration(len(strings.Fields(text)))*250*time.Millisecond
}

// tourPlayer is autoplay's state on top of the model's tour (tourState:
// the stops from session.ResolveTour and the one shown).
type tourPlayer struct {
	playing bool
	speed   float64
	done    bool   // autoplay went past the last stop
	caption string // a caption set by a walkthrough script, shown instead of the stop's
	exit    bool   // quit when autoplay ends (recording with asciinema rec)
	gen     int    // ticks of older generations are stale
	sched   Scheduler

	keys    []string // the key overlay
	keysGen int
}

// Messages of the player.
type (
	tourTickMsg struct{ gen int }
	keyFadeMsg  struct{ gen int }
)

// TourOptions configure playback.
type TourOptions struct {
	Autoplay bool
	Speed    float64   // 1 when 0
	Exit     bool      // quit when autoplay has shown the last stop
	Sched    Scheduler // TickScheduler when nil
}

// StartTour resolves the scenario's tour (Tour), shows its first stop
// with the player's caption and returns the command that schedules the
// next one when o.Autoplay. A scenario without a tour shows an empty
// caption bar (a walkthrough's captions go there). The error is the
// tour's that does not resolve, or its first stop's.
func (m *Model) StartTour(o TourOptions) (tea.Cmd, error) {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Sched == nil {
		o.Sched = TickScheduler
	}
	t, err := m.Tour()
	if err != nil {
		return nil, err
	}
	m.tp = &tourPlayer{playing: o.Autoplay, speed: o.Speed, exit: o.Exit, sched: o.Sched}
	if len(t.Stops) == 0 {
		m.tp.playing, m.tp.done = false, true
		m.tour.open = true
		m.relayoutCaption()
		return nil, nil
	}
	return m.GoToTourStop(0)
}

// SetCaption shows s in the caption instead of the stop's paragraph
// ("" to return to it) while the player runs.
func (m *Model) SetCaption(s string) {
	if m.tp != nil {
		m.tp.caption = strings.Join(strings.Fields(s), " ")
		m.relayoutCaption()
	}
}

// SetPlaying starts or stops autoplay; starting schedules the next stop.
func (m *Model) SetPlaying(on bool) tea.Cmd {
	tp := m.tp
	if tp == nil || tp.playing == on {
		return nil
	}
	tp.playing = on
	tp.gen++
	if on {
		tp.done = false
		return m.scheduleNext()
	}
	return nil
}

// TourPlaying reports whether autoplay is on.
func (m *Model) TourPlaying() bool { return m.tp != nil && m.tp.playing }

// scheduleNext asks for the tick that moves autoplay on, after the
// shown stop's dwell at the player's speed.
func (m *Model) scheduleNext() tea.Cmd {
	tp := m.tp
	if tp == nil || !tp.playing || m.tour.idx < 0 || m.tour.tour == nil {
		return nil
	}
	d := time.Duration(float64(Dwell(m.tour.tour.Stops[m.tour.idx].Text)) / tp.speed)
	return tp.sched(d, tourTickMsg{tp.gen})
}

// tourEnded stops autoplay after the last stop.
func (m *Model) tourEnded() {
	tp := m.tp
	tp.playing, tp.done = false, true
	tp.gen++
	m.relayoutCaption()
}

// tourUpdate is the player's part of Update: its ticks, and its keys
// while it runs. handled says the message is the player's.
func (m *Model) tourUpdate(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	tp := m.tp
	if tp == nil {
		return nil, false
	}
	switch msg := msg.(type) {
	case tourTickMsg:
		if msg.gen != tp.gen || !tp.playing {
			return nil, true
		}
		if m.tour.idx+1 < len(m.tour.tour.Stops) {
			return m.showStop(m.tour.idx + 1), true
		}
		m.tourEnded()
		if tp.exit {
			return tea.Quit, true
		}
		return nil, true
	case keyFadeMsg:
		if msg.gen == tp.keysGen {
			tp.keys = nil
		}
		return nil, true
	case tea.KeyPressMsg:
		k := msg.String()
		n := 0
		if m.tour.tour != nil {
			n = len(m.tour.tour.Stops)
		}
		switch {
		case m.mode != modeNormal:
			// Typing in the search or go-to line, or a picker: shown
			// below, not the player's.
		case k == "space" && n > 0:
			if tp.playing {
				return m.SetPlaying(false), true
			}
			if tp.done {
				// From the end, space plays the tour again.
				tp.playing = true
				return m.showStop(0), true
			}
			return m.SetPlaying(true), true
		case (k == "right" || k == "t") && n > 0:
			if m.tour.idx+1 < n {
				return m.showStop(m.tour.idx + 1), true
			}
			m.tourEnded()
			return nil, true
		case (k == "left" || k == "ctrl+t") && n > 0:
			if m.tour.idx > 0 {
				return m.showStop(m.tour.idx - 1), true
			}
			return nil, true
		case (k == "+" || k == "=") && n > 0:
			return m.changeSpeed(1), true
		case k == "-" && n > 0:
			return m.changeSpeed(-1), true
		case k == "esc":
			m.closeTour()
			return nil, true
		}
		if m.mode == modeNormal && (k == "q" || k == "ctrl+c") {
			return nil, false // quitting: nothing to show
		}
		// Any other key: the viewer takes over; show what was pressed.
		cmd := m.showKey(k)
		if tp.playing {
			tp.playing = false
			tp.gen++
		}
		return cmd, false
	}
	return nil, false
}

// changeSpeed steps through Speeds and reschedules the current stop.
func (m *Model) changeSpeed(d int) tea.Cmd {
	tp := m.tp
	i := 0
	for i+1 < len(Speeds) && Speeds[i] < tp.speed {
		i++
	}
	i = max(0, min(i+d, len(Speeds)-1))
	tp.speed = Speeds[i]
	tp.gen++
	return m.scheduleNext()
}

// showKey adds k to the key overlay and schedules its fading.
func (m *Model) showKey(k string) tea.Cmd {
	tp := m.tp
	tp.keys = append(tp.keys, keyLabel(k))
	if len(tp.keys) > 6 {
		tp.keys = tp.keys[len(tp.keys)-6:]
	}
	tp.keysGen++
	return tp.sched(KeyOverlayTime, keyFadeMsg{tp.keysGen})
}

// keyLabel is how a key shows in the overlay.
func keyLabel(k string) string {
	switch k {
	case "left":
		return "←"
	case "right":
		return "→"
	case "up":
		return "↑"
	case "down":
		return "↓"
	case "enter":
		return "⏎"
	case "backspace":
		return "⌫"
	}
	return k
}

// tourProgram starts the tour when the program starts.
type tourProgram struct {
	*Model
	start tea.Cmd
}

func (p tourProgram) Init() tea.Cmd { return tea.Batch(p.Model.Init(), p.start) }

// RunTour is Run with the target's tour playing: resolved in the
// background (a few seconds for the longest tours), then shown from its
// first stop.
func RunTour(opt Options, o TourOptions, in io.Reader, out io.Writer) error {
	m, err := New(opt, true)
	if err != nil {
		return err
	}
	// At the terminal's size from the start, so the first stop scrolls
	// as it will be seen.
	if f, ok := out.(*os.File); ok {
		if w, h, err := term.GetSize(f.Fd()); err == nil && w > 0 && h > 0 {
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		}
	}
	target := m.sess.Target.Name
	m.tour.loading = target
	m.say("resolving the guided tour of %s…", target)
	start := resolveTour(target, 1, &o)
	_, err = tea.NewProgram(tourProgram{m, start}, tea.WithInput(in), tea.WithOutput(out)).Run()
	return err
}
