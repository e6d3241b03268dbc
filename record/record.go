// SPDX-License-Identifier: GPL-2.0-only

// Package record renders jitscope's terminal UI without a terminal and
// writes what it shows as an asciicast v2 file: the ui model is driven by
// synthetic messages (window size, key presses, the tour player's ticks)
// on a virtual clock, and every change of its View becomes an "o" event
// that redraws the changed lines. Nothing depends on wall time, so the
// same input gives the same file byte for byte (the header's timestamp
// aside, which Options.Timestamp fixes).
//
// The screen is drawn on the main screen, not the alternate one, so that
// `asciinema cat FILE` leaves the final screen in the terminal.
package record

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/ui"
	"github.com/jitscope/jitscope/walk"
)

// Options configure a recording.
type Options struct {
	Width, Height int     // default 120x36
	Speed         float64 // playback speed, default 1
	Theme         string  // a themes name; "" or auto is dark
	// IdleLimit caps the time between two events (default 30 s), and is
	// the header's idle_time_limit.
	IdleLimit time.Duration
	// Timestamp is the header's Unix time, the recording's one varying
	// field: callers pass the time now, or a fixed value for files that
	// compare equal.
	Timestamp int64
	Title     string
	// KeyGap is the time between two keys of one key or type action
	// (default 400 ms, divided by Speed).
	KeyGap time.Duration
}

func (o *Options) defaults() {
	if o.Width == 0 {
		o.Width = 120
	}
	if o.Height == 0 {
		o.Height = 36
	}
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.IdleLimit <= 0 {
		o.IdleLimit = 30 * time.Second
	}
	if o.KeyGap <= 0 {
		o.KeyGap = 400 * time.Millisecond
	}
}

// MinSize is the smallest recording: the UI's minimum.
const (
	MinWidth  = ui.MinWidth
	MinHeight = ui.MinHeight
)

// timer is a message the model asked for, due at a virtual time.
type timer struct {
	at  time.Duration
	seq int
	msg tea.Msg
}

// recorder drives one model and writes its frames.
type recorder struct {
	m    *ui.Model
	opt  Options
	cast *Writer
	now  time.Duration // virtual time
	out  time.Duration // time in the file: now with idle gaps capped
	// lastEv is the virtual time of the last event written.
	lastEv  time.Duration
	started bool
	timers  []timer
	seq     int
	screen  []string // the lines on the recorded terminal
	frames  int
}

// Tour records a scenario's guided tour, autoplayed from the first stop
// to the end.
func Tour(w io.Writer, target string, opt Options) error {
	sc, err := scenarios.LoadScenario(target)
	if err != nil {
		return err
	}
	if len(sc.Tour) == 0 {
		return fmt.Errorf("%s: no guided tour to record (jitscope show %s --tour)", target, target)
	}
	r, err := newRecorder(w, target, opt)
	if err != nil {
		return err
	}
	cmd, err := r.m.StartTour(ui.TourOptions{Autoplay: true, Speed: r.opt.Speed, Sched: r.schedule})
	if err != nil {
		return err
	}
	r.handle(cmd)
	r.frame()
	if err := r.runTimers(-1); err != nil {
		return err
	}
	return r.finish()
}

// Script records a walkthrough script.
func Script(w io.Writer, s *walk.Script, opt Options) error {
	sc, err := scenarios.LoadScenario(s.Scenario)
	if err != nil {
		return fmt.Errorf("%s:1: %w", s.File, err)
	}
	// The script's goto lines are checked before anything is rendered.
	for i := range s.Actions {
		a := &s.Actions[i]
		if (a.Kind == walk.Goto || a.Kind == walk.Play || a.UntilEnd) && len(sc.Tour) == 0 {
			return fmt.Errorf("%s: %s: %s has no guided tour", s.Where(a), a.Kind, s.Scenario)
		}
		if a.Kind == walk.Goto && a.Stop >= len(sc.Tour) {
			return fmt.Errorf("%s: goto %d: the tour of %s has stops 1 to %d", s.Where(a), a.Stop+1, s.Scenario, len(sc.Tour))
		}
	}
	if opt.Title == "" {
		opt.Title = "jitscope walkthrough: " + s.File
	}
	r, err := newRecorder(w, s.Scenario, opt)
	if err != nil {
		return err
	}
	cmd, err := r.m.StartTour(ui.TourOptions{Autoplay: false, Speed: r.opt.Speed, Sched: r.schedule})
	if err != nil {
		return fmt.Errorf("%s:1: %w", s.File, err)
	}
	r.handle(cmd)
	r.frame()
	gap := time.Duration(float64(r.opt.KeyGap) / r.opt.Speed)
	for i := range s.Actions {
		a := &s.Actions[i]
		switch a.Kind {
		case walk.Caption:
			r.m.SetCaption(a.Text)
		case walk.Goto:
			stop := a.Stop
			if stop == walk.LastStop {
				stop = len(sc.Tour) - 1
			}
			cmd, err := r.m.GoToTourStop(stop)
			if e := r.m.TourErr(); e != "" {
				return fmt.Errorf("%s: goto %d: the stop does not resolve: %s", s.Where(a), stop+1, e)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", s.Where(a), err)
			}
			r.handle(cmd)
		case walk.Key, walk.Type:
			keys := a.Keys
			if a.Kind == walk.Type {
				keys = nil
				for _, c := range a.Text {
					keys = append(keys, string(c))
				}
			}
			for j, k := range keys {
				if j > 0 {
					if err := r.advance(gap); err != nil {
						return fmt.Errorf("%s: %w", s.Where(a), err)
					}
				}
				r.handle(r.send(KeyMsg(k)))
				r.frame()
			}
			continue
		case walk.Wait:
			if a.UntilEnd {
				if !r.m.TourPlaying() {
					return fmt.Errorf("%s: wait tour: the tour is not playing (play first)", s.Where(a))
				}
				if err := r.runTimers(-1); err != nil {
					return fmt.Errorf("%s: %w", s.Where(a), err)
				}
			} else if err := r.advance(time.Duration(float64(a.Dur) / r.opt.Speed)); err != nil {
				return fmt.Errorf("%s: %w", s.Where(a), err)
			}
			continue
		case walk.Play:
			r.handle(r.m.SetPlaying(true))
		case walk.Pause:
			r.handle(r.m.SetPlaying(false))
		}
		r.frame()
	}
	return r.finish()
}

func newRecorder(w io.Writer, target string, opt Options) (*recorder, error) {
	opt.defaults()
	if opt.Width < MinWidth || opt.Height < MinHeight || opt.Width > 1000 || opt.Height > 1000 {
		return nil, fmt.Errorf("size %dx%d: want at least %dx%d and at most 1000x1000", opt.Width, opt.Height, MinWidth, MinHeight)
	}
	th, err := themes.ByName(opt.Theme, true)
	if err != nil {
		return nil, err
	}
	// Listed whole, however large: a recording is drawn from what the
	// model has, and the indexed listing's background work (texts, runs)
	// comes as commands the recorder does not run.
	sess, err := session.Load(target, session.Options{IndexAbove: math.MaxInt})
	if err != nil {
		return nil, err
	}
	m := ui.NewFromSession(ui.Options{Target: target, Theme: opt.Theme}, th, sess)
	if opt.Title == "" {
		opt.Title = "jitscope tour " + target
	}
	cast, err := NewWriter(w, Header{Width: opt.Width, Height: opt.Height, Timestamp: opt.Timestamp,
		IdleTimeLimit: opt.IdleLimit.Seconds(), Title: opt.Title,
		Env: map[string]string{"TERM": "xterm-256color", "SHELL": "/bin/sh"}})
	if err != nil {
		return nil, err
	}
	r := &recorder{m: m, opt: opt, cast: cast}
	m.Update(tea.WindowSizeMsg{Width: opt.Width, Height: opt.Height})
	return r, nil
}

// schedule is the model's ui.Scheduler: the message joins the timers.
func (r *recorder) schedule(d time.Duration, msg tea.Msg) tea.Cmd {
	r.seq++
	t := timer{at: r.now + d, seq: r.seq, msg: msg}
	i, _ := slices.BinarySearchFunc(r.timers, t, func(a, b timer) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return a.seq - b.seq
	})
	r.timers = slices.Insert(r.timers, i, t)
	return nil
}

// send delivers msg to the model.
func (r *recorder) send(msg tea.Msg) tea.Cmd {
	_, cmd := r.m.Update(msg)
	return cmd
}

// handle drops the commands the model returns: the ones that matter
// (timers) went through schedule; the rest talk to a terminal there is
// not (background colour queries, cursor blinks) or quit.
func (r *recorder) handle(tea.Cmd) {}

// runTimers delivers the due timers in order, drawing after each; until
// < 0 runs them all. A tour stop that autoplay could not place stops the
// recording: a recording should not show an error in its caption.
func (r *recorder) runTimers(until time.Duration) error {
	for len(r.timers) > 0 && (until < 0 || r.timers[0].at <= until) {
		t := r.timers[0]
		r.timers = r.timers[1:]
		r.now = max(r.now, t.at)
		r.handle(r.send(t.msg))
		if e := r.m.TourErr(); e != "" {
			return fmt.Errorf("tour stop %d does not resolve: %s", r.m.TourStop()+1, e)
		}
		r.frame()
	}
	return nil
}

// advance lets d pass.
func (r *recorder) advance(d time.Duration) error {
	end := r.now + d
	err := r.runTimers(end)
	r.now = end
	return err
}

// frame writes what changed on the screen since the last frame.
func (r *recorder) frame() {
	lines := strings.Split(r.m.Render(), "\n")
	if len(lines) > r.opt.Height {
		lines = lines[:r.opt.Height]
	}
	var b strings.Builder
	if !r.started {
		// Hide the cursor, clear, home.
		b.WriteString("\x1b[?25l\x1b[H\x1b[2J")
		r.screen = make([]string, r.opt.Height)
	}
	for i := range r.opt.Height {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		if ansi.StringWidth(l) > r.opt.Width {
			// A line wider than the terminal would wrap and shift the
			// screen: cut it (the UI pads and cuts its lines itself).
			l = ansi.Truncate(l, r.opt.Width, "")
		}
		if r.started && l == r.screen[i] {
			continue
		}
		r.screen[i] = l
		fmt.Fprintf(&b, "\x1b[%d;1H", i+1)
		b.WriteString(l)
		if ansi.StringWidth(l) < r.opt.Width {
			// Erase the rest in the default colours. (Not after a full
			// line: at the last column EL would erase its last cell.)
			b.WriteString("\x1b[m\x1b[K")
		}
	}
	r.started = true
	if b.Len() == 0 {
		return
	}
	r.emit(b.String())
}

func (r *recorder) emit(s string) {
	gap := r.now - r.lastEv
	r.out += min(gap, r.opt.IdleLimit)
	r.lastEv = r.now
	r.frames++
	r.cast.Output(r.out, s)
}

// finish shows the cursor again, below the screen's last line, and
// flushes.
func (r *recorder) finish() error {
	r.emit(fmt.Sprintf("\x1b[%d;1H\x1b[?25h", r.opt.Height))
	return r.cast.Close()
}

// KeyMsg is the key press a walkthrough names (walk.ValidKey).
func KeyMsg(k string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "space": tea.KeySpace, "tab": tea.KeyTab, "esc": tea.KeyEscape,
		"backspace": tea.KeyBackspace, "up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft,
		"right": tea.KeyRight, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if k == "shift+tab" {
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if c, ok := special[k]; ok {
		if k == "space" {
			return tea.KeyPressMsg{Code: c, Text: " "}
		}
		return tea.KeyPressMsg{Code: c}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}
