// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
)

// InternalError is what Run returns after the UI caught a panic: the UI
// showed it in its error pane, the terminal was restored, and the caller
// prints one line.
type InternalError struct {
	Value any
	Stack []byte
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("internal error in the terminal UI: %v", oneLine(fmt.Sprint(e.Value)))
}

// guard wraps the root model so that a bug cannot leave the terminal
// broken or print a goroutine dump over the screen: a panic in Update, View
// or a command the model returned becomes the error pane (what happened,
// how to leave), and Bubble Tea keeps running until the user quits, when
// it restores the terminal as on any exit. Without a UTF-8 locale the
// screen is transliterated to ASCII (asciiScreen).
type guard struct {
	inner tea.Model
	err   *InternalError
	w, h  int
	ascii bool
}

// panicMsg carries a panic out of a command's goroutine into Update.
type panicMsg struct{ err *InternalError }

func newGuard(m tea.Model, ascii bool) *guard { return &guard{inner: m, ascii: ascii} }

func (g *guard) catch(r any) {
	if g.err == nil {
		g.err = &InternalError{Value: r, Stack: debug.Stack()}
	}
}

func (g *guard) Init() (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			g.catch(r)
			cmd = nil
		}
	}()
	return guardCmd(g.inner.Init())
}

func (g *guard) Update(msg tea.Msg) (_ tea.Model, cmd tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		g.w, g.h = ws.Width, ws.Height
	}
	if pm, ok := msg.(panicMsg); ok {
		if g.err == nil {
			g.err = pm.err
		}
		return g, nil
	}
	if g.err != nil {
		// The error pane: only leaving is possible.
		if k, ok := msg.(tea.KeyPressMsg); ok {
			switch k.String() {
			case "q", "esc", "enter", "ctrl+c":
				return g, tea.Quit
			}
		}
		return g, nil
	}
	defer func() {
		if r := recover(); r != nil {
			g.catch(r)
			cmd = nil
		}
	}()
	m, c := g.inner.Update(msg)
	g.inner = m
	return g, guardCmd(c)
}

func (g *guard) View() (v tea.View) {
	if g.err == nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					g.catch(r)
				}
			}()
			v = g.inner.View()
		}()
	}
	if g.err != nil {
		v = tea.NewView(errorPane(g.err, g.w, g.h))
		v.AltScreen = true
	}
	if g.ascii {
		v.Content = asciiScreen(v.Content)
		v.WindowTitle = asciiScreen(v.WindowTitle)
	}
	return v
}

// errorPane is the screen after a panic: what happened and how to leave,
// wrapped to the terminal's width.
func errorPane(e *InternalError, w, h int) string {
	w = max(w, 10)
	msg := []string{
		"jitscope hit an internal error and stopped the view:",
		"",
		oneLine(fmt.Sprint(e.Value)),
		"",
		"The terminal will be restored. Press q to quit.",
		"Please report this with the steps that led here.",
	}
	var out []string
	for _, m := range msg {
		if m == "" {
			out = append(out, "")
			continue
		}
		out = append(out, wrap(m, w)...)
	}
	if h > 0 && len(out) > h {
		out = out[:h]
	}
	return strings.Join(out, "\n")
}

// guardCmd runs cmd so that a panic in it comes back as a panicMsg; batched
// commands are guarded one by one.
func guardCmd(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = panicMsg{&InternalError{Value: r, Stack: debug.Stack()}}
			}
		}()
		msg = cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for i := range b {
				b[i] = guardCmd(b[i])
			}
		}
		return msg
	}
}

// UTF8Locale reports whether the locale in env (LC_ALL, else LC_CTYPE,
// else LANG, as setlocale(3) picks them) has UTF-8 characters. With none
// set it says yes: terminals without any locale are today's UTF-8
// terminals in containers, and an explicit LANG=C is what asks for ASCII.
func UTF8Locale(getenv func(string) string) bool {
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(k); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return true
}

// asciiGlyphs are the ASCII stand-ins for the UI's box drawing, arrows and
// marks, each of the same width.
var asciiGlyphs = map[rune]string{
	'╭': ".", '╰': "'", '├': "+", '│': "|", '┊': ":", '─': "-",
	'┏': ".", '┗': "'", '┣': "+", '┃': "|", '┇': ":", '━': "=",
	'╔': ".", '╚': "'", '╠': "+", '║': "|", '═': "=",
	'╮': ".", '╯': "'", '┤': "+", '┬': "+", '┴': "+", '┼': "+",
	'▌': "|", '»': ">", '«': "<", '▶': ">", '×': "x", '·': "-", '—': "-", '…': "~",
	'↑': "^", '↓': "v", '←': "<", '→': ">", '⌫': "<",
}

// asciiScreen replaces every non-ASCII character of a rendered screen by an
// ASCII one of the same display width, so that a terminal in a non-UTF-8
// locale shows the same layout instead of mojibake. Escape sequences are
// ASCII and pass through.
func asciiScreen(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case asciiGlyphs[r] != "":
			b.WriteString(asciiGlyphs[r])
		default:
			b.WriteString(strings.Repeat("?", max(ansi.StringWidth(string(r)), 0)))
		}
	}
	return b.String()
}

// ttyInput is the terminal to read keys from: stdin when it is one, else
// (input piped in, as in `cat keys | jitscope open`) the controlling
// terminal, as less(1) does; without one, the pipe itself. done closes what
// it opened.
func ttyInput(in *os.File) (f *os.File, done func()) {
	if term.IsTerminal(in.Fd()) {
		return in, func() {}
	}
	tin, tout, err := tea.OpenTTY()
	if err != nil {
		return in, func() {}
	}
	return tin, func() {
		tin.Close()
		if tout != nil && tout != tin {
			tout.Close()
		}
	}
}
