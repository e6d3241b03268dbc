// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
)

// Trace is a recorded run as a stepping view needs it: steps can be
// visited in any order (the run is deterministic, so stepping back is
// reading an earlier step, as pwndbg's contextprev does).
type Trace interface {
	// Len is the number of executed instructions.
	Len() int
	// Step describes step i.
	Step(i int) StepView
	// Events lists the run's events in order.
	Events() []trace.Event
	// Regs lists the registers after step i, changed ones marked.
	Regs(i int) []RegView
}

// StepView is one executed instruction.
type StepView struct {
	Arch kernel.Arch
	PC   uint64
	Func string // function the PC is in
	// TCC is the tail call counter after the step and where it lives
	// ("x26", "[x26]", "[rbp-0x4]"); TCCKnown is false before it exists.
	TCC      int64
	TCCWhere string
	TCCKnown bool
	// Frames is the call stack of BPF functions, outermost first.
	Frames []string
}

// RegView is one register: its machine name, the BPF register it holds
// ("r0", "TCC", "fp"), its value and whether the step changed it.
type RegView struct {
	Name, BPF string
	Value     uint64
	Changed   bool
}
