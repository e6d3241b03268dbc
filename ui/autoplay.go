// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/jitscope/jitscope/session"
)

// Tour playback: the stops of a tour shown one after the other at a
// reading pace, with the stop's paragraph in a caption bar. space pauses,
// ←/→ go to the previous/next stop, +/- change the speed, esc leaves the
// tour; other keys act as usual (and pause the playback, the viewer has
// taken over), shown a moment in a key overlay so a recording shows what
// was pressed.
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

type tourPlayer struct {
	tour    Tour
	cur     int // the stop shown, -1 before the first
	playing bool
	speed   float64
	done    bool   // autoplay went past the last stop
	err     string // why the current stop could not be placed
	caption string // a caption set by a walkthrough script, shown instead of the stop's
	exit    bool   // quit when autoplay ends (recording with asciinema rec)
	gen     int    // ticks of older generations are stale
	sched   Scheduler

	keys    []string // the key overlay
	keysGen int

	// The target as the stops run it (prog array slots, entry program,
	// packet): the configuration shown, and each one compiled once.
	config   string
	sessions map[string]*session.Session
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

// StartTour starts playing t at its first stop and returns the command
// that schedules the next one.
func (m *Model) StartTour(t Tour, o TourOptions) tea.Cmd {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Sched == nil {
		o.Sched = TickScheduler
	}
	// The first stop compiles the target as the tour wants it (its
	// packet, its slots), so config is none at first.
	m.tp = &tourPlayer{tour: t, cur: -1, playing: o.Autoplay, speed: o.Speed, exit: o.Exit, sched: o.Sched,
		config: "\x00", sessions: map[string]*session.Session{}}
	m.resize()
	if t.Len() == 0 {
		m.tp.done = true
		return nil
	}
	return m.gotoStop(0)
}

// InTour reports whether a tour is being shown.
func (m *Model) InTour() bool { return m.tp != nil }

// TourStop is the stop shown (from 0), -1 outside a tour.
func (m *Model) TourStop() int {
	if m.tp == nil {
		return -1
	}
	return m.tp.cur
}

// GotoStop shows stop i (from 0) and, when playing, schedules the next.
func (m *Model) GotoStop(i int) (tea.Cmd, error) {
	if m.tp == nil {
		return nil, fmt.Errorf("no tour is playing")
	}
	if i < 0 || i >= m.tp.tour.Len() {
		return nil, fmt.Errorf("stop %d: the tour has stops 1 to %d", i+1, m.tp.tour.Len())
	}
	return m.gotoStop(i), nil
}

// SetCaption shows s in the caption bar instead of the stop's paragraph
// ("" to return to it).
func (m *Model) SetCaption(s string) {
	if m.tp != nil {
		m.tp.caption = strings.Join(strings.Fields(s), " ")
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

func (m *Model) gotoStop(i int) tea.Cmd {
	tp := m.tp
	tp.cur, tp.done, tp.caption, tp.err = i, false, "", ""
	tp.gen++
	if err := tp.tour.Place(m, i); err != nil {
		tp.err = fmt.Sprintf("%s: %s", tp.tour.Where(i), oneLine(err.Error()))
	}
	return m.scheduleNext()
}

func (m *Model) scheduleNext() tea.Cmd {
	tp := m.tp
	if !tp.playing || tp.cur < 0 {
		return nil
	}
	d := time.Duration(float64(Dwell(tp.tour.Caption(tp.cur))) / tp.speed)
	return tp.sched(d, tourTickMsg{tp.gen})
}

// tourUpdate is the player's part of Update: its ticks, and its keys
// while a tour is shown. handled says the message is the player's.
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
		if tp.cur+1 < tp.tour.Len() {
			return m.gotoStop(tp.cur + 1), true
		}
		tp.playing, tp.done = false, true
		tp.gen++
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
		switch k := msg.String(); {
		case m.mode != modeNormal:
			// Typing in the search or go-to line: shown below, not the
			// player's.
		case k == "space":
			if tp.playing {
				return m.SetPlaying(false), true
			}
			if tp.done {
				// From the end, space plays the tour again.
				tp.playing = true
				return m.gotoStop(0), true
			}
			return m.SetPlaying(true), true
		case k == "right":
			if tp.cur+1 < tp.tour.Len() {
				return m.gotoStop(tp.cur + 1), true
			}
			tp.playing, tp.done = false, true
			tp.gen++
			return nil, true
		case k == "left":
			if tp.cur > 0 {
				return m.gotoStop(tp.cur - 1), true
			}
			return nil, true
		case k == "+" || k == "=":
			return m.changeSpeed(1), true
		case k == "-":
			return m.changeSpeed(-1), true
		case k == "esc":
			m.tp = nil
			m.resize()
			m.say("left the tour")
			return nil, true
		}
		if k := msg.String(); m.mode == modeNormal && (k == "q" || k == "ctrl+c") {
			return nil, false // quitting: nothing to show
		}
		// Any other key: the viewer takes over; show what was pressed.
		cmd := m.showKey(msg.String())
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

// RunTour is Run with a tour playing.
func RunTour(opt Options, t Tour, o TourOptions, in io.Reader, out io.Writer) error {
	m, err := New(opt, true)
	if err != nil {
		return err
	}
	// The first stop is placed before the program starts: at the
	// terminal's size, so it scrolls as it will be seen.
	if f, ok := out.(*os.File); ok {
		if w, h, err := term.GetSize(f.Fd()); err == nil && w > 0 && h > 0 {
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		}
	}
	start := m.StartTour(t, o)
	_, err = tea.NewProgram(tourProgram{m, start}, tea.WithInput(in), tea.WithOutput(out)).Run()
	return err
}

// TourPlaying reports whether autoplay is on.
func (m *Model) TourPlaying() bool { return m.tp != nil && m.tp.playing }

// TourErr says why the stop shown could not be placed ("" when it was),
// as "file:line: reason".
func (m *Model) TourErr() string {
	if m.tp == nil {
		return ""
	}
	return m.tp.err
}
