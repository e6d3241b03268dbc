// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/jitscope/jitscope/themes"
)

// `jitscope kernel`: the programs the running kernel holds, and for one
// of them the kernel's JIT image beside jitscope's JIT of the kernel's own
// xlated instructions, every differing instruction marked. The data comes
// through KernelSource (the cli implements it with the live package), so
// this file holds no kernel or JIT logic.

// KernelProgram is one loaded program as the list shows it.
type KernelProgram struct {
	ID                       uint32
	Type, Name, Tag, Loaded  string
	JitedLen, XlatedLen, Fns int
}

// KernelRow is one instruction row: the kernel's (left) and jitscope's
// (right) at the same offset, the BPF instruction (as the JIT sees it)
// whose code starts there, a note, and whether they differ.
type KernelRow struct {
	Kernel, Jitscope, BPF, Note string
	Differs                     bool
}

// KernelFunc is one function of a comparison.
type KernelFunc struct {
	Header, Summary string
	Rows            []KernelRow
}

// KernelView is the comparison of one program.
type KernelView struct {
	Title     string
	Info      []string // facts shown above the listing
	Funcs     []KernelFunc
	Identical bool
}

// KernelSource supplies the kernel's programs and comparisons.
type KernelSource interface {
	Programs() ([]KernelProgram, error)
	Compare(id uint32) (*KernelView, error)
}

// kernelLine is one rendered row of the detail view.
type kernelLine struct {
	text    string
	style   int // 0 text, 1 header, 2 differs, 3 dim
	differs bool
}

// KernelModel is the root model of `jitscope kernel`.
type KernelModel struct {
	src           KernelSource
	theme         *themes.Theme
	styles        [4]lipgloss.Style
	width, height int
	progs         []KernelProgram
	cursor        int
	err           string
	// detail
	view       *KernelView
	lines      []kernelLine
	top, at    int
	inDetail   bool
	detailProg uint32
}

// NewKernel builds the model and reads the program list.
func NewKernel(src KernelSource, th *themes.Theme) *KernelModel {
	m := &KernelModel{src: src, theme: th, width: 120, height: 40}
	m.styles = [4]lipgloss.Style{th.Text, th.Header, th.Error, th.Dim}
	m.refresh()
	return m
}

func (m *KernelModel) refresh() {
	ps, err := m.src.Programs()
	if err != nil {
		m.err = err.Error()
		return
	}
	m.err = ""
	m.progs = ps
	if m.cursor >= len(ps) {
		m.cursor = max(len(ps)-1, 0)
	}
}

// Init implements tea.Model.
func (m *KernelModel) Init() tea.Cmd { return nil }

// Update implements tea.Model: resize, then keys for the list or the
// comparison.
func (m *KernelModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.KeyPressMsg:
		k := msg.String()
		if k == "q" || k == "ctrl+c" {
			return m, tea.Quit
		}
		if m.inDetail {
			m.detailKey(k)
		} else {
			m.listKey(k)
		}
	}
	return m, nil
}

func (m *KernelModel) listKey(k string) {
	switch k {
	case "j", "down":
		if m.cursor+1 < len(m.progs) {
			m.cursor++
		}
	case "k", "up":
		if m.cursor > 0 {
			m.cursor--
		}
	case "g", "home":
		m.cursor = 0
	case "G", "end":
		m.cursor = max(len(m.progs)-1, 0)
	case "r":
		m.refresh()
	case "enter":
		if len(m.progs) == 0 {
			return
		}
		id := m.progs[m.cursor].ID
		v, err := m.src.Compare(id)
		if err != nil {
			m.err = fmt.Sprintf("program %d: %v", id, err)
			return
		}
		m.err = ""
		m.open(id, v)
	}
}

func (m *KernelModel) open(id uint32, v *KernelView) {
	m.view, m.detailProg, m.inDetail, m.top, m.at = v, id, true, 0, 0
	m.lines = m.lines[:0]
	for _, s := range v.Info {
		m.lines = append(m.lines, kernelLine{text: s, style: 3})
	}
	for _, f := range v.Funcs {
		m.lines = append(m.lines, kernelLine{}, kernelLine{text: f.Header, style: 1})
		w, wb, wj := 0, 0, 0
		for _, r := range f.Rows {
			w = max(w, len(r.Kernel))
			wb = max(wb, len(r.BPF))
			wj = max(wj, len(r.Jitscope))
		}
		for _, r := range f.Rows {
			mark, st := " ", 0
			if r.Differs {
				mark, st = "!", 2
			}
			// BPF as the JIT sees it | the kernel's code | jitscope's code
			t := fmt.Sprintf("%s %-*s | %-*s | %-*s", mark, wb, r.BPF, w, r.Kernel, wj, r.Jitscope)
			t = strings.TrimRight(t, " ")
			if r.Note != "" {
				t += "  // " + r.Note
			}
			m.lines = append(m.lines, kernelLine{text: t, style: st, differs: r.Differs})
		}
		m.lines = append(m.lines, kernelLine{text: f.Summary, style: 3})
	}
}

func (m *KernelModel) detailKey(k string) {
	page := max(m.height-3, 1)
	switch k {
	case "esc", "backspace", "h", "left":
		m.inDetail = false
	case "j", "down":
		m.move(1)
	case "k", "up":
		m.move(-1)
	case "pgdown", " ", "f":
		m.move(page)
	case "pgup", "b":
		m.move(-page)
	case "g", "home":
		m.move(-len(m.lines))
	case "G", "end":
		m.move(len(m.lines))
	case "n", "d":
		// next differing instruction
		for i := m.at + 1; i < len(m.lines); i++ {
			if m.lines[i].differs {
				m.move(i - m.at)
				return
			}
		}
	case "N", "D":
		for i := m.at - 1; i >= 0; i-- {
			if m.lines[i].differs {
				m.move(i - m.at)
				return
			}
		}
	}
}

func (m *KernelModel) move(d int) {
	m.at = min(max(m.at+d, 0), max(len(m.lines)-1, 0))
	rows := max(m.height-2, 1)
	if m.at < m.top {
		m.top = m.at
	}
	if m.at >= m.top+rows {
		m.top = m.at - rows + 1
	}
}

func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) > w {
		return string(r[:w])
	}
	return s
}

// Render draws the screen as text.
func (m *KernelModel) Render() string {
	var b strings.Builder
	w, h := m.width, m.height
	title := m.theme.PaneTitle
	if !m.inDetail {
		b.WriteString(title.Render(clip(fmt.Sprintf(" jitscope kernel: %d programs loaded  (enter: compare, r: refresh, q: quit)", len(m.progs)), w)))
		b.WriteString("\n")
		hdr := fmt.Sprintf("  %-6s %-14s %-16s %-16s %7s %7s %5s  %s", "ID", "TYPE", "NAME", "TAG", "JITED", "XLATED", "FUNCS", "LOADED")
		b.WriteString(m.styles[1].Render(clip(hdr, w)))
		b.WriteString("\n")
		rows := max(h-3, 1)
		start := 0
		if m.cursor >= rows {
			start = m.cursor - rows + 1
		}
		for i := start; i < len(m.progs) && i < start+rows; i++ {
			p := m.progs[i]
			cur := "  "
			st := m.styles[0]
			if i == m.cursor {
				cur, st = "> ", m.styles[1]
			}
			line := fmt.Sprintf("%s%-6d %-14s %-16s %-16s %7d %7d %5d  %s", cur, p.ID, p.Type, p.Name, p.Tag, p.JitedLen, p.XlatedLen, p.Fns, p.Loaded)
			b.WriteString(st.Render(clip(line, w)))
			b.WriteString("\n")
		}
		if len(m.progs) == 0 {
			b.WriteString(m.styles[3].Render("  (no BPF programs are loaded)") + "\n")
		}
	} else {
		v := m.view
		state := "identical"
		if !v.Identical {
			state = "DIFFERS (n/N: next/previous difference)"
		}
		b.WriteString(title.Render(clip(fmt.Sprintf(" %s: %s   BPF (xlated) | kernel | jitscope   (esc: back, q: quit)", v.Title, state), w)))
		b.WriteString("\n")
		rows := max(h-2, 1)
		for i := m.top; i < len(m.lines) && i < m.top+rows; i++ {
			l := m.lines[i]
			cur := " "
			if i == m.at {
				cur = ">"
			}
			b.WriteString(m.styles[l.style].Render(clip(cur+l.text, w)))
			b.WriteString("\n")
		}
	}
	if m.err != "" {
		b.WriteString(m.styles[2].Render(clip(m.err, w)))
		b.WriteString("\n")
	}
	return b.String()
}

// View implements tea.Model.
func (m *KernelModel) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	return v
}

// RunKernel runs `jitscope kernel` in the terminal.
func RunKernel(src KernelSource, theme string, in io.Reader, out io.Writer) error {
	th, err := themes.ByName(theme, true)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(NewKernel(src, th), tea.WithInput(in), tea.WithOutput(out)).Run()
	return err
}
