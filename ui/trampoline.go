// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/themes"
	"github.com/jitscope/jitscope/tramp"
)

// TrampOptions open the trampoline view (jitscope open --trampoline).
type TrampOptions struct {
	Func    *abi.Func
	Arch    kernel.Arch
	Version string // "" for the newest
	Fentry  int
	Fexit   int
	FmodRet int
	Flags   jit.TrampFlags
	IPArg   bool
	Theme   string
}

// trampTabs are the trampoline view's pages.
var trampTabs = []string{"placement", "stack", "listing", "emulator"}

// TrampModel is the trampoline view: a C prototype's arguments under the
// architecture's ABI and every trampoline JIT version, one version's
// stack layout and listing, and an emulated call through each version.
// Keys: tab / 1-4 pages, ←/→ (h/l) version, a architecture, j/k/pgup/
// pgdn/g/G scroll, q quits.
type TrampModel struct {
	opt    TrampOptions
	th     *themes.Theme
	report *tramp.Report
	err    error
	tab    int
	scroll int
	width  int
	height int
	lines  []string // the current page, unstyled
	// Styles picked once from the theme.
	title, bar, dim, bad, head lipgloss.Style
}

// NewTrampModel builds the view.
func NewTrampModel(opt TrampOptions, dark bool) (*TrampModel, error) {
	th, err := themes.ByName(opt.Theme, dark)
	if err != nil {
		return nil, err
	}
	m := &TrampModel{opt: opt, th: th, width: 100, height: 30}
	m.setTheme(th)
	if err := m.rebuild(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *TrampModel) setTheme(th *themes.Theme) {
	m.th = th
	m.title, m.bar, m.dim, m.bad, m.head = th.Title, th.Status, th.Dim, th.Error, th.Header
}

// rebuild makes the report for the current options.
func (m *TrampModel) rebuild() error {
	r, err := tramp.Build(tramp.Options{Func: m.opt.Func, Arch: m.opt.Arch, Version: m.opt.Version,
		Fentry: m.opt.Fentry, Fexit: m.opt.Fexit, FmodRet: m.opt.FmodRet, Flags: m.opt.Flags, IPArg: m.opt.IPArg})
	if err != nil {
		return err
	}
	m.report = r
	m.opt.Version = r.Selected.Version.Name
	m.page()
	return nil
}

// page renders the current tab into lines.
func (m *TrampModel) page() {
	var b bytes.Buffer
	r := m.report
	switch trampTabs[m.tab] {
	case "placement":
		tramp.WriteModel(&b, r)
		fmt.Fprintln(&b)
		tramp.WritePlacement(&b, r)
	case "stack":
		if t := r.Selected.Tramp; t != nil {
			tramp.WriteFrame(&b, r)
		} else {
			fmt.Fprintf(&b, "%s\n", r.Selected.Err)
		}
	case "listing":
		if r.Selected.Tramp != nil {
			_ = tramp.WriteListing(&b, r)
		} else {
			fmt.Fprintf(&b, "%s\n", r.Selected.Err)
		}
	case "emulator":
		tramp.WriteEmulated(&b, r)
	}
	m.lines = strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	m.scroll = min(m.scroll, max(len(m.lines)-m.bodyHeight(), 0))
}

// Init asks for the background colour (auto theme).
func (m *TrampModel) Init() tea.Cmd { return tea.RequestBackgroundColor }

func (m *TrampModel) bodyHeight() int { return max(m.height-3, 1) }

// Update handles keys and resizes.
func (m *TrampModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.page()
	case tea.BackgroundColorMsg:
		if m.opt.Theme == "" || m.opt.Theme == "auto" {
			if th, err := themes.ByName("auto", msg.IsDark()); err == nil {
				m.setTheme(th)
			}
		}
	case tea.KeyPressMsg:
		return m, m.key(msg.String())
	}
	return m, nil
}

func (m *TrampModel) key(k string) tea.Cmd {
	body := m.bodyHeight()
	switch k {
	case "q", "ctrl+c", "esc":
		return tea.Quit
	case "tab":
		m.setTab((m.tab + 1) % len(trampTabs))
	case "shift+tab":
		m.setTab((m.tab + len(trampTabs) - 1) % len(trampTabs))
	case "1", "2", "3", "4":
		m.setTab(int(k[0] - '1'))
	case "right", "l", "left", "h":
		vs := m.report.Columns
		i := 0
		for j, c := range vs {
			if c == m.report.Selected {
				i = j
			}
		}
		if k == "right" || k == "l" {
			i = (i + 1) % len(vs)
		} else {
			i = (i + len(vs) - 1) % len(vs)
		}
		m.opt.Version = vs[i].Version.Name
		m.err = m.rebuild()
	case "a":
		old := m.opt
		if m.opt.Arch == kernel.ARM64 {
			m.opt.Arch = kernel.X86_64
		} else {
			m.opt.Arch = kernel.ARM64
		}
		m.opt.Version = ""
		if m.err = m.rebuild(); m.err != nil {
			m.opt = old
		}
	case "j", "down":
		m.scroll++
	case "k", "up":
		m.scroll--
	case "pgdown", "space", "f":
		m.scroll += body
	case "pgup", "b":
		m.scroll -= body
	case "g", "home":
		m.scroll = 0
	case "G", "end":
		m.scroll = len(m.lines)
	}
	m.scroll = max(min(m.scroll, len(m.lines)-body), 0)
	return nil
}

func (m *TrampModel) setTab(i int) {
	m.tab, m.scroll = i, 0
	m.page()
}

// View is the screen.
func (m *TrampModel) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "jitscope — trampolines of " + m.report.Func.Name
	return v
}

// Render is the screen as one string: a title bar with the tabs, the
// page, a key help line.
func (m *TrampModel) Render() string {
	r := m.report
	var tabs []string
	for i, t := range trampTabs {
		if i == m.tab {
			tabs = append(tabs, "["+t+"]")
		} else {
			tabs = append(tabs, " "+t+" ")
		}
	}
	top := fmt.Sprintf(" %s · %s %s · %s", r.Func.Name, r.Selected.Version.Arch, r.Selected.Version.Name, strings.Join(tabs, " "))
	out := []string{m.bar.Render(trampPad(top, m.width))}
	body := m.bodyHeight()
	for i := 0; i < body; i++ {
		n := m.scroll + i
		if n >= len(m.lines) {
			out = append(out, "")
			continue
		}
		l := ansi.Truncate(m.lines[n], m.width, "…")
		switch {
		case strings.Contains(l, tramp.Mismatch) || strings.Contains(l, "-ENOTSUPP") || strings.Contains(l, "-EINVAL"):
			l = m.bad.Render(l)
		case strings.HasPrefix(l, "Placement") || strings.HasPrefix(l, "Function model") || strings.HasPrefix(l, "Stack layout") ||
			strings.HasPrefix(l, "bpf_trampoline_") || strings.HasPrefix(l, "  arg "):
			l = m.title.Render(l)
		case strings.HasPrefix(l, "  ; "):
			l = m.head.Render(l)
		}
		out = append(out, l)
	}
	status := fmt.Sprintf("%s", r.Call.Conv)
	if m.err != nil {
		status = m.err.Error()
	}
	out = append(out, m.dim.Render(trampPad(" "+status, m.width)))
	out = append(out, m.dim.Render(trampPad(" tab/1-4 page · ←/→ version · a arch · j/k/pgup/pgdn scroll · q quit", m.width)))
	return strings.Join(out, "\n")
}

func trampPad(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// RunTrampoline starts the trampoline view on the terminal at in/out.
func RunTrampoline(opt TrampOptions, in io.Reader, out io.Writer) error {
	m, err := NewTrampModel(opt, true)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out)).Run()
	return err
}
