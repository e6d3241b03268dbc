// SPDX-License-Identifier: GPL-2.0-only

// Package ui is jitscope's terminal interface, a Bubble Tea v2 program:
// two listings of the same scenario side by side (arm64 | x86-64 by
// default), each with its arrow gutter and BPF column, linked so that the
// cursor on one BPF instruction highlights its machine code in the other;
// pickers for profiles, layouts and scenarios; search; a help overlay made
// from the keymap.
//
// The structure follows soft-serve: a Common (size, styles, keymap) shared
// by the components, one KeyMap, one Styles struct built from the theme;
// the root Update only routes (glow's order: resize, theme, mouse, modal
// input, then keys for the panes). No JIT logic lives here: everything
// comes from the session package.
package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// Minimum terminal size: below it the screen says what it needs.
const (
	MinWidth  = 60
	MinHeight = 15
)

// Options configure the program.
type Options struct {
	Target   string // built-in name, scenario file, BPF object or capture dir; "" for the default
	Theme    string // auto, dark, light, high-contrast, mono
	Profiles map[kernel.Arch]string
	Syntax   session.Syntax
	// Loaded is Target already read (session.LoadTarget), when the
	// caller has it: a scenario of a million instructions takes a
	// quarter of a second to read.
	Loaded *session.Target
}

// Common is shared by the components.
type Common struct {
	Styles        *Styles
	Keys          *KeyMap
	Width, Height int
}

type mode int

const (
	modeNormal mode = iota
	modeSearch
	modeGoto
	modePicker
	modeHelp
)

// layouts are the architecture pairs `a` cycles through; a pair of the
// same architecture compares two profiles (a version diff).
var layouts = [][2]kernel.Arch{
	{kernel.ARM64, kernel.X86_64},
	{kernel.X86_64, kernel.ARM64},
	{kernel.ARM64, kernel.ARM64},
	{kernel.X86_64, kernel.X86_64},
}

// Model is the root model.
type Model struct {
	c     *Common
	opt   Options
	sess  *session.Session
	panes [2]*Pane
	prof  [2]string // profile name per pane, "" for the target's default
	// filling holds the indexed listings whose texts are being printed
	// (waitFills).
	filling map[*session.Listing]bool
	// running holds the listings whose runs are computed in the
	// background (startRuns).
	running map[*session.Listing]bool
	focus   int
	zoom    bool
	layout  int
	syntax  session.Syntax

	themeName string
	mode      mode
	input     textinput.Model
	query     string
	picker    *picker
	help      help.Model
	msg       string
	msgErr    bool
	// stateOn asks for the state pane (r); it shows when the terminal is
	// tall enough. lock steps both panes together (L).
	stateOn   bool
	lock      bool
	shortHelp struct {
		key statusKey
		s   string
	}
	// diff is the version diff of the two panes' listings (diffOf), nil
	// unless they show one architecture under two profiles.
	diff   *session.Diff
	diffOf [2]*session.Listing
	// tour is the scenario's guided tour (t, ctrl+t), placed by
	// session.ResolveTour; tp plays it (autoplay.go), nil when no
	// player runs.
	tour tourState
	tp   *tourPlayer
}

// New loads opt.Target and builds the model. dark is the initial guess
// of the terminal's background (auto themes correct it when the terminal
// answers tea.RequestBackgroundColor).
func New(opt Options, dark bool) (*Model, error) {
	if opt.Target == "" {
		opt.Target = scenarios.Default
	}
	th, err := themes.ByName(opt.Theme, dark)
	if err != nil {
		return nil, err
	}
	t := opt.Loaded
	if t == nil {
		if t, err = session.LoadTarget(opt.Target); err != nil {
			return nil, err
		}
	}
	sess := session.FromTarget(t, session.Options{Profiles: opt.Profiles, Syntax: opt.Syntax})
	return newModel(opt, th, sess), nil
}

// NewFromSession builds the model on an already compiled session (tests,
// benchmarks).
func NewFromSession(opt Options, th *themes.Theme, sess *session.Session) *Model {
	if opt.Target == "" {
		opt.Target = sess.Target.Name
	}
	return newModel(opt, th, sess)
}

func newModel(opt Options, th *themes.Theme, sess *session.Session) *Model {
	m := &Model{
		c:         &Common{Styles: NewStyles(th), Keys: DefaultKeyMap(), Width: 80, Height: 24},
		opt:       opt,
		sess:      sess,
		syntax:    opt.Syntax,
		themeName: opt.Theme,
		help:      help.New(),
		stateOn:   true,
	}
	m.input = textinput.New()
	m.applyTheme()
	for i := range m.panes {
		l := sess.Listings[min(i, len(sess.Listings)-1)]
		m.prof[i] = opt.Profiles[l.Arch]
		m.panes[i] = NewPane(m.c, l)
	}
	m.panes[0].focused = true
	m.resize()
	m.sync()
	return m
}

// Init asks the terminal for its background colour (for --theme auto).
func (m *Model) Init() tea.Cmd {
	return tea.RequestBackgroundColor
}

// Update routes a message: resize, background colour, mouse, modal input,
// then the keys.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if f, ok := msg.(filledMsg); ok {
		m.textsFilled(f.l)
		return m, nil
	}
	if r, ok := msg.(runMsg); ok {
		// The run as the session has it now: the run configuration may
		// have changed while it ran (then startRuns starts another).
		run := m.sess.CachedRun(r.l)
		for _, p := range m.panes {
			if p.l == r.l && p.run == nil {
				p.run, p.pos = run, 0
			}
		}
		delete(m.running, r.l)
		return m, m.startRuns()
	}
	mm, cmd := m.update(msg)
	return mm, tea.Batch(cmd, m.waitFills(), m.startRuns())
}

// backgroundRun reports whether pane p's run is computed in the
// background (startRuns) rather than before a frame: a large program's;
// not the verifier's nor a capture's, which read facts the session
// caches as it goes, on the caller's goroutine.
func (m *Model) backgroundRun(p *Pane) bool {
	l := p.l
	return l.Err == nil && l.Indexed() && l.Rewrites == nil && m.sess.Target.Capture == nil
}

// runMsg says a run was computed in the background (startRuns).
type runMsg struct{ l *session.Listing }

// startRuns computes in the background the runs the state pane shows of
// large (indexed) listings, which Render does not wait for: a run of a
// million-instruction program takes a quarter of a second. A key that
// needs the run before it arrives computes it (the session's runs are
// computed once, under its lock).
func (m *Model) startRuns() tea.Cmd {
	if !m.stateShown() {
		return nil
	}
	var cmds []tea.Cmd
	for _, p := range m.visible() {
		l := p.l
		if p.run != nil || !m.backgroundRun(p) || m.running[l] {
			continue
		}
		if m.running == nil {
			m.running = map[*session.Listing]bool{}
		}
		m.running[l] = true
		sess := m.sess
		cmds = append(cmds, func() tea.Msg {
			sess.Run(l)
			return runMsg{l}
		})
	}
	return tea.Batch(cmds...)
}

// filledMsg says every text of an indexed listing is printed.
type filledMsg struct{ l *session.Listing }

// waitFills starts printing the texts of the shown listings that are
// indexed (session.Listing.Filling) and waits for them, once per listing.
func (m *Model) waitFills() tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range m.panes {
		l := p.l
		if p.textFilled || l == nil || m.filling[l] {
			continue
		}
		if m.filling == nil {
			m.filling = map[*session.Listing]bool{}
		}
		m.filling[l] = true
		cmds = append(cmds, func() tea.Msg {
			<-l.Filling()
			return filledMsg{l}
		})
	}
	return tea.Batch(cmds...)
}

// textsFilled sizes the text column of the panes showing l, now that its
// texts are printed.
func (m *Model) textsFilled(l *session.Listing) {
	delete(m.filling, l)
	for _, p := range m.panes {
		if p.l == l {
			p.setTextWidth()
			p.cache = map[int]*rowCache{}
		}
	}
}

// update is Update for every other message.
func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd, handled := m.tourUpdate(msg)
	if handled {
		return m, cmd
	}
	if cmd != nil {
		// A key the tour player showed in its overlay, then handled below.
		_, next := m.route(msg)
		return m, tea.Batch(cmd, next)
	}
	return m.route(msg)
}

// route is Update without the tour player.
func (m *Model) route(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case tea.BackgroundColorMsg:
		if m.themeName == "" || m.themeName == "auto" {
			if th, err := themes.ByName("auto", msg.IsDark()); err == nil {
				m.setTheme(th)
			}
		}
		return m, nil
	case tourMsg:
		return m, m.tourReady(msg)
	case tea.MouseWheelMsg:
		m.wheel(msg.Mouse())
		return m, nil
	case tea.MouseClickMsg:
		m.click(msg.Mouse())
		return m, nil
	case tea.KeyPressMsg:
		switch m.mode {
		case modeSearch, modeGoto:
			return m, m.updateInput(msg)
		case modePicker:
			cmd, done := m.picker.update(msg)
			if done {
				m.mode, m.picker = modeNormal, nil
			}
			return m, cmd
		case modeHelp:
			m.mode = modeNormal
			if msg.String() == "q" || msg.String() == "ctrl+c" {
				return m, nil
			}
			return m, nil
		}
		return m, m.handleKey(msg)
	}
	if m.mode == modeSearch || m.mode == modeGoto {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) focused() *Pane { return m.panes[m.focus] }
func (m *Model) other() *Pane   { return m.panes[1-m.focus] }

// visible lists the panes on screen.
func (m *Model) visible() []*Pane {
	if m.zoom {
		return []*Pane{m.focused()}
	}
	return m.panes[:]
}

// below is the number of lines under the listings, status line aside:
// the cursor line, then the state pane or the one-line run summary.
func (m *Model) below() int {
	n := 2
	if m.stateShown() {
		n = 1 + stateLines
	}
	return n + m.captionLines()
}

func (m *Model) resize() {
	w, h := m.c.Width, m.c.Height
	ph := max(h-2-m.below(), 2)
	if m.zoom {
		m.focused().SetSize(w, ph)
	} else {
		lw := (w - 1) / 2
		m.panes[0].SetSize(lw, ph)
		m.panes[1].SetSize(w-1-lw, ph)
	}
	m.help.SetWidth(w - 4)
	m.input.SetWidth(min(max(w-60, 10), 40))
}

func (m *Model) setTheme(th *themes.Theme) {
	m.c.Styles = NewStyles(th)
	m.applyTheme()
}

// applyTheme hands the theme to the bubbles components.
func (m *Model) applyTheme() {
	th := m.c.Styles.Theme
	m.help.Styles = help.Styles{
		ShortKey: th.StatusKey, ShortDesc: th.Status, ShortSeparator: th.Status,
		Ellipsis: th.Status, FullKey: th.HelpKey.Inherit(th.Overlay), FullDesc: th.HelpDesc.Inherit(th.Overlay),
		FullSeparator: th.Overlay,
	}
	ts := m.input.Styles()
	ts.Focused.Prompt = th.StatusKey
	ts.Focused.Text = th.Status
	ts.Blurred.Prompt = th.StatusKey
	ts.Blurred.Text = th.Status
	m.input.SetStyles(ts)
}

// sync carries the focused pane's BPF instruction over to the other pane:
// its cursor moves to the first line compiled from the same instruction
// (or the same region of the same function), Compiler Explorer style.
func (m *Model) sync() {
	f, o := m.focused(), m.other()
	if len(f.l.Rows) == 0 || len(o.l.Rows) == 0 {
		return
	}
	id := f.l.Rows[f.cursor].BPF
	if id < 0 {
		if r := o.l.RowOfFunc(f.l.Funcs[f.l.Rows[f.cursor].Func].Image.Name); r >= 0 && f.l.Rows[f.cursor].Kind == session.RowHeader {
			o.SetCursor(r)
		}
		return
	}
	if r := o.l.FirstRowOfBPF(id); r >= 0 {
		o.cursor = r
		o.reveal(r)
		o.scrollToCursor()
	}
}

func (m *Model) say(format string, args ...any) {
	m.msg, m.msgErr = fmt.Sprintf(format, args...), false
}

func (m *Model) fail(format string, args ...any) {
	m.msg, m.msgErr = fmt.Sprintf(format, args...), true
}

// recompile builds pane i's listing with its architecture and profile.
func (m *Model) recompile(i int, arch kernel.Arch) {
	l := m.sess.Compile(arch, m.prof[i], m.syntax)
	m.panes[i].SetListing(l)
	m.listingChanged(m.panes[i])
	if l.Err != nil {
		m.fail("%s: %s", arch, oneLine(l.Err.Error()))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

// profilePicker opens the profile list for pane i.
func (m *Model) profilePicker(i int) {
	p := m.panes[i]
	arch := p.l.Arch
	var items []item
	for _, pr := range p.l.Profiles {
		label := fmt.Sprintf("%-17s", pr.Name)
		if _, ok := session.CompatOnly(pr); ok {
			label = fmt.Sprintf("%-17s", pr.Name+" ≈")
		}
		items = append(items, item{value: pr.Name, label: label, desc: pr.Summary})
	}
	cur := ""
	if p.l.Profile != nil {
		cur = p.l.Profile.Name
	}
	m.picker = newPicker(m.c, fmt.Sprintf("%s profile (pane %d)", arch, i+1), items, cur, func(v string) tea.Cmd {
		m.prof[i] = v
		m.recompile(i, arch)
		if l := m.panes[i].l; l.Err == nil {
			if note, ok := session.CompatOnly(l.Profile); ok {
				m.say("%s", note)
			} else if l.NoRewrites != nil {
				m.say("%s: %s (BPF as written: %s)", arch, v, oneLine(l.NoRewrites.Error()))
			} else {
				m.say("%s: %s", arch, v)
			}
		}
		m.sync()
		return nil
	})
	m.mode = modePicker
}

// scenarioPicker lists the built-in scenarios and the command line's target.
func (m *Model) scenarioPicker() {
	var items []item
	for _, b := range scenarios.Builtins() {
		items = append(items, item{value: b.Name, label: b.Name, desc: b.Description})
	}
	if m.opt.Target != "" && !scenarios.IsBuiltin(m.opt.Target) {
		items = append(items, item{value: m.opt.Target, label: m.opt.Target, desc: "(command line)"})
	}
	m.picker = newPicker(m.c, "scenario", items, m.sess.Target.Name, func(v string) tea.Cmd {
		m.loadScenario(v)
		return nil
	})
	m.mode = modePicker
}

func (m *Model) loadScenario(name string) {
	arches := []kernel.Arch{m.panes[0].l.Arch, m.panes[1].l.Arch}
	t, err := session.LoadTarget(name)
	if err != nil {
		m.fail("%s", oneLine(err.Error()))
		return
	}
	m.sess = session.FromTarget(t, session.Options{Arches: arches, Syntax: m.syntax, HideSource: !m.sess.ShowSource()})
	m.prof = [2]string{}
	m.tour, m.tp = tourState{}, nil
	defer m.resize()
	m.msg = ""
	for i, l := range m.sess.Listings {
		m.panes[i].SetListing(l)
		m.panes[i].run = nil
		if l.Err != nil {
			m.fail("%s: %s", l.Arch, oneLine(l.Err.Error()))
		}
	}
	m.sync()
	if !m.msgErr {
		m.say("scenario %s", name)
	}
}

// cycleLayout switches to the next architecture pair.
func (m *Model) cycleLayout() {
	m.layout = (m.layout + 1) % len(layouts)
	pair := layouts[m.layout]
	m.prof = [2]string{}
	if pair[0] == pair[1] {
		// A version diff, older profile on the left: the target's
		// profile and the newest one, or when the target's is the newest,
		// the oldest one and it.
		names := session.ProfileNames(pair[1])
		def, _ := m.sess.Target.PickProfile(pair[0], "")
		if len(names) > 1 && def != nil {
			if newest := names[len(names)-1]; def.Name != newest {
				m.prof[1] = newest
			} else {
				m.prof[0] = names[0]
			}
		}
	}
	m.msg = ""
	for i := range m.panes {
		m.recompile(i, pair[i])
	}
	m.sync()
	if !m.msgErr {
		m.say("layout: %s | %s", pair[0], pair[1])
	}
}

func (m *Model) cycleTheme() {
	order := []string{"dark", "light", "high-contrast", "mono"}
	i := slices.Index(order, m.c.Styles.Theme.Name)
	m.themeName = order[(i+1)%len(order)]
	th, err := themes.ByName(m.themeName, m.c.Styles.Theme.Dark)
	if err != nil {
		m.fail("%v", err)
		return
	}
	m.setTheme(th)
	m.say("theme: %s", th.Name)
}

// ensureDiff compares the panes' listings when they changed since the
// last comparison: once per listing change, not per frame.
func (m *Model) ensureDiff() *session.Diff {
	a, b := m.panes[0].l, m.panes[1].l
	if m.diffOf == [2]*session.Listing{a, b} {
		return m.diff
	}
	m.diffOf = [2]*session.Listing{a, b}
	m.diff = nil
	if a.Arch == b.Arch && a.Err == nil && b.Err == nil && a.Profile != nil && b.Profile != nil && a.Profile.Name != b.Profile.Name {
		m.diff = session.Compare(a, b)
	}
	for i, p := range m.panes {
		p.diff, p.side = m.diff, i
	}
	return m.diff
}
