// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
)

// Run starts the interactive program on the terminal at in/out and
// returns when the user quits (or SIGINT/SIGTERM arrive: Bubble Tea turns
// them into a quit, which restores the terminal). The theme starts dark
// and follows the terminal's background as soon as it answers (--theme
// auto). A panic inside the UI shows the error pane and comes back as an
// *InternalError once the user has left it.
func Run(opt Options, in io.Reader, out io.Writer) error {
	m, err := New(opt, true)
	if err != nil {
		return err
	}
	if f, ok := in.(*os.File); ok {
		tin, done := ttyInput(f)
		defer done()
		in = tin
	}
	g := newGuard(m, !UTF8Locale(os.Getenv))
	_, err = tea.NewProgram(g, tea.WithInput(in), tea.WithOutput(out)).Run()
	if g.err != nil {
		return g.err
	}
	return err
}
