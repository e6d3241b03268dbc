// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"io"

	tea "charm.land/bubbletea/v2"
)

// Run starts the interactive program on the terminal at in/out and
// returns when the user quits. The theme starts dark and follows the
// terminal's background as soon as it answers (--theme auto).
func Run(opt Options, in io.Reader, out io.Writer) error {
	m, err := New(opt, true)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out)).Run()
	return err
}
