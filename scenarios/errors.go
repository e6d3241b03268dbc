// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"fmt"
	"strings"
)

// Error is a problem in a scenario file. It prints as one line,
// "file:line: reason" (or "file: reason" when no line applies).
type Error struct {
	File string
	Line int // 1-based; 0 if unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// oneLine folds a message onto a single line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// NeedCapture is returned by Load for a directory: a kernel capture, which
// the capture package (not this one) loads.
type NeedCapture struct {
	Dir string
}

func (e *NeedCapture) Error() string {
	return fmt.Sprintf("%s: a directory (kernel capture), not a scenario file or BPF object", e.Dir)
}
